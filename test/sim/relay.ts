// ZeroMQ PULL receiver standing in for Dynamo's tool-event ingress (docs/dynamo-wire.md §8):
// Dynamo binds PULL, harnesses connect PUSH; each message is [topic, 8-byte BE seq, msgpack map].
import { decode } from "@msgpack/msgpack";
import { Pull } from "zeromq";
import { validateToolRecord } from "./relay-validate.ts";
import type { DynamoGeneration, RelayMessage, RelayRejection } from "./types.ts";

export const DEFAULT_TOPIC = "agent-tool-events";

export interface RelayDeps {
  generation: () => DynamoGeneration;
  /** Explicit topic filter; undefined = G3 filters on the default, G1 accepts any topic. */
  topic?: string;
  accepted: RelayMessage[];
  rejected: RelayRejection[];
  log: (line: string) => void;
}

export interface RelayReceiver {
  endpoint: string;
  close(): Promise<void>;
}

/** Apply Dynamo's checks to one multipart message and record the outcome. */
export function ingest(frames: Buffer[], deps: RelayDeps): void {
  const generation = deps.generation();
  const receivedAt = Date.now();
  const reject = (reason: string, extra: Partial<RelayRejection> = {}): void => {
    deps.rejected.push({ reason, errors: [reason], frames: frames.length, generation, receivedAt, ...extra });
    deps.log(`[sim] relay rejected (${reason})`);
  };
  if (frames.length !== 3) return reject("frames");
  const [topicFrame, seqFrame, payload] = frames as [Buffer, Buffer, Buffer];
  const topic = topicFrame.toString("utf8");
  const filter = deps.topic ?? (generation === "headers" ? DEFAULT_TOPIC : undefined);
  // Dynamo drops mismatching topics silently; the sim records them so tests can see why.
  if (filter !== undefined && topic !== filter) return reject("topic", { topic });
  if (seqFrame.length !== 8) return reject("seq", { topic });
  const seq = seqFrame.readBigUInt64BE(0);
  let record: unknown;
  try {
    record = decode(payload);
  } catch (err) {
    return reject("msgpack", { topic, errors: ["msgpack", String(err)] });
  }
  const errors = validateToolRecord(generation, record);
  if (errors.length > 0) {
    deps.rejected.push({ reason: errors[0] ?? "invalid", errors, frames: 3, topic, record, generation, receivedAt });
    deps.log(`[sim] relay rejected record: ${errors.join("; ")}`);
    return;
  }
  deps.accepted.push({ topic, seq, record: record as Record<string, unknown>, generation, receivedAt });
  const r = record as { event_type?: unknown; tool?: { tool_call_id?: unknown } };
  deps.log(`[sim] relay accepted ${String(r.event_type)} ${String(r.tool?.tool_call_id)} seq=${seq}`);
}

export async function startRelay(deps: RelayDeps): Promise<RelayReceiver> {
  const pull = new Pull({ linger: 0 });
  await pull.bind("tcp://127.0.0.1:0");
  const endpoint = pull.lastEndpoint;
  if (!endpoint) throw new Error("zeromq did not report the bound endpoint");
  // The iterator ends cleanly when the socket is closed.
  const loop = (async () => {
    try {
      for await (const frames of pull) ingest(frames, deps);
    } catch (err) {
      if (!pull.closed) deps.log(`[sim] relay receive error: ${String(err)}`);
    }
  })();
  return {
    endpoint,
    async close() {
      if (!pull.closed) pull.close();
      await loop;
    },
  };
}
