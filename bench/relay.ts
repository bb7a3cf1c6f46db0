/**
 * Figure 2 — relay throughput. Tool spans handed to the plugin's relay span processor
 * (`DynamoToolRelayProcessor.onStart/onEnd`: record building, bounded queue, msgpack encoded straight
 * into batched ZMTP 3.1 frames, one `socket.write` per 64 KiB, on `node:net`) in bursts below the
 * queue capacity, delivered to a ZeroMQ PULL in another process that only counts.
 * events/s = burst size / (last message counted − first event handed to the processor).
 * Loss = events handed over − events counted (must be 0 below capacity).
 *
 * Baseline, same run, same PULL: a bare zeromq.js PUSH loop (the socket options the relay used
 * before it spoke ZMTP itself) that msgpack-encodes the same records with a reused encoder and sends
 * them one by one — the floor any sender of this wire format pays with zeromq.js (one native send
 * per message).
 *
 * Standalone: `node bench/relay.ts [--quick] [--print] [--zeromq-js-pull]` (after `npm run build`).
 */
import { Buffer } from "node:buffer";
import { Encoder } from "@msgpack/msgpack";
import { Push } from "zeromq";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { DynamoToolRelayProcessor as Processor } from "../dist/relay/processor.js";
import type { ToolEventRecord } from "../dist/relay/types.js";
import { PLUGIN_DIR, quietLogger } from "./lib/driver.ts";
import { startReceivers, type Receivers } from "./lib/receiver-client.ts";
import type { ReceiverStats } from "./lib/receivers.ts";
import { alternating, emitResult, fmt, spread, wallNow } from "./lib/stats.ts";

const relayModule = (await import(pathToFileURL(join(PLUGIN_DIR, "relay/index.js")).href)) as typeof import("../dist/relay/index.js");
const { DynamoToolRelayProcessor, toolEndRecord, toolStartRecord } = relayModule;
type DynamoToolRelayProcessor = Processor;

const quick = process.argv.includes("--quick");
/** `--zeromq-js-pull`: count with the zeromq.js PULL instead of the ZMTP counter (see lib/receivers.ts). */
const endpointOf = (r: Receivers) => (process.argv.includes("--zeromq-js-pull") ? r.zmqEndpoint : r.fastZmqEndpoint);
const CAPACITY = 100_000; // the plugin's default toolEventsQueueCapacity
const BURST = quick ? 20_000 : 50_000;
const ROUNDS = quick ? 3 : 7;
const TOPIC = "agent-tool-events";
const DISTINCT = 1_000;

type FakeSpan = Parameters<DynamoToolRelayProcessor["onEnd"]>[0];

/** `execute_tool` spans as the SDK hands them to processors (only the fields the relay reads). */
function toolSpans(): FakeSpan[] {
  const now = Date.now();
  const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const spans: FakeSpan[] = [];
  for (let i = 0; i < DISTINCT; i++) {
    const startMs = now + i;
    const start: [number, number] = [Math.floor(startMs / 1000), (startMs % 1000) * 1e6];
    spans.push({
      attributes: {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": ["read", "exec", "write", "edit", "mcp/search"][i % 5],
        "gen_ai.tool.call.id": `call_${i}_${"x".repeat(12)}`,
        "dynamo.session_id": trace,
        "dynamo.trajectory_id": `${trace}-00f067aa0ba902b7`,
        "dynamo.tool.status": "succeeded",
        "dynamo.tool.output_bytes": 480,
      },
      startTime: start,
      endTime: [start[0], start[1] + 3_000_000],
      duration: [0, 3_000_000],
      status: { code: 0 },
    } as unknown as FakeSpan);
  }
  return spans;
}

interface Round {
  eventsPerSec: number;
  /** Sender process CPU (all threads) per event, µs, until every event was written (plugin: flushed). */
  senderCpuUs: number;
  received: number;
  lost: number;
}

/** A round's figures, once the PULL counted the burst: `t0` = first event handed over, `cpu` = sender CPU until all were written. */
function roundOf(stats: ReceiverStats, t0: number, cpu: NodeJS.CpuUsage): Round {
  return {
    eventsPerSec: stats.relayMessages / ((stats.relayLastAt - t0) / 1000),
    senderCpuUs: (cpu.user + cpu.system) / BURST,
    received: stats.relayMessages,
    lost: BURST - stats.relayMessages,
  };
}

/**
 * Each round starts from a collected heap, so neither side pays for the garbage the previous
 * round (of the other side) left behind. bench/run.ts passes --expose-gc; without it, no-op.
 */
async function quiesce(receivers: Receivers): Promise<void> {
  await receivers.reset();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function pluginRound(processor: DynamoToolRelayProcessor, spans: FakeSpan[], receivers: Receivers): Promise<Round> {
  await quiesce(receivers);
  const cpu0 = process.cpuUsage();
  const t0 = wallNow();
  for (let i = 0; i < BURST; i++) {
    const span = spans[(i >> 1) % spans.length] as FakeSpan;
    if ((i & 1) === 0) processor.onStart(span as never, undefined as never);
    else processor.onEnd(span);
  }
  await processor.forceFlush();
  const cpu = process.cpuUsage(cpu0);
  const { stats } = await receivers.waitRelay(BURST, 30_000);
  return roundOf(stats, t0, cpu);
}

async function bareRound(push: Push, records: ToolEventRecord[], receivers: Receivers): Promise<Round> {
  await quiesce(receivers);
  const encoder = new Encoder({ ignoreUndefined: true });
  const topic = Buffer.from(TOPIC, "utf8");
  const cpu0 = process.cpuUsage();
  const t0 = wallNow();
  for (let i = 0; i < BURST; i++) {
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(BigInt(i));
    for (;;) {
      try {
        await push.send([topic, seq, encoder.encode(records[i % records.length])]);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 1)); // EAGAIN: peer not keeping up
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const { stats } = await receivers.waitRelay(BURST, 30_000);
  return roundOf(stats, t0, cpu);
}

async function main(): Promise<void> {
  const receivers = await startReceivers();
  const spans = toolSpans();
  const ctx = { protocol: "headers" as const, sessionTypeId: "openclaw_coding_agent" };
  const records = spans.flatMap((span) => [toolStartRecord(span, ctx), toolEndRecord(span, ctx)]).filter((r): r is ToolEventRecord => r !== undefined);

  const processor = new DynamoToolRelayProcessor({
    endpoint: endpointOf(receivers),
    topic: TOPIC,
    capacity: CAPACITY,
    log: quietLogger,
    protocol: () => "headers",
    sessionTypeId: "openclaw_coding_agent",
    flushTimeoutMs: 30_000,
  });
  const push = new Push({ linger: 0, sendHighWaterMark: CAPACITY, immediate: true, sendTimeout: 0 });
  push.connect(endpointOf(receivers));

  // Warm-up: connect both, JIT.
  await pluginRound(processor, spans, receivers).catch(() => undefined);
  await bareRound(push, records, receivers);

  const { baseline: bare, plugin } = await alternating(
    ROUNDS,
    () => bareRound(push, records, receivers),
    () => pluginRound(processor, spans, receivers),
  );
  const status = processor.status();
  await processor.shutdown();
  push.close();
  await receivers.close();

  const result = {
    config: { burst: BURST, rounds: ROUNDS, capacity: CAPACITY, protocol: "headers", pull: process.argv.includes("--zeromq-js-pull") ? "zeromq.js" : "zmtp-counter" },
    plugin: {
      eventsPerSec: spread(plugin.map((r) => r.eventsPerSec)),
      senderCpuUs: spread(plugin.map((r) => r.senderCpuUs)),
      lostTotal: plugin.reduce((sum, r) => sum + r.lost, 0),
      sentTotal: ROUNDS * BURST,
    },
    baseline: {
      eventsPerSec: spread(bare.map((r) => r.eventsPerSec)),
      senderCpuUs: spread(bare.map((r) => r.senderCpuUs)),
      lostTotal: bare.reduce((sum, r) => sum + r.lost, 0),
    },
    ratio: spread(plugin.map((p, i) => p.eventsPerSec / (bare[i]?.eventsPerSec ?? NaN))),
    status: { sent: status.sent, dropped: status.dropped, errors: status.errors, skipped: status.skipped, undelivered: status.undelivered },
  };
  if (process.stdout.isTTY || process.argv.includes("--print")) {
    console.log(`plugin   ${fmt(result.plugin.eventsPerSec, 0)} events/s, sender CPU ${fmt(result.plugin.senderCpuUs)} µs/event, lost ${result.plugin.lostTotal}`);
    console.log(`bare     ${fmt(result.baseline.eventsPerSec, 0)} events/s, sender CPU ${fmt(result.baseline.senderCpuUs)} µs/event, lost ${result.baseline.lostTotal}`);
    console.log(`ratio    ${fmt(result.ratio)}; status ${JSON.stringify(result.status)}`);
  }
  emitResult(result);
}

await main();
process.exit(0);
