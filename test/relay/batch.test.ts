// The relay's wire bytes: each record one ZMTP message of exactly 3 frames [topic, 8-byte big-endian
// sequence, MessagePack map] (dynamo-wire §8), many messages per chunk.
import { Buffer } from "node:buffer";
import { Encoder } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { CHUNK_BYTES, MessageBatcher } from "../../src/relay/batch.ts";

const msgpack = new Encoder({ ignoreUndefined: true });

/** Splits ZMTP traffic into messages of frame bodies, checking flags along the way. */
function parse(bytes: Buffer): Buffer[][] {
  const messages: Buffer[][] = [];
  let frames: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const flags = bytes[at]!;
    expect(flags & ~0x03, "no COMMAND or reserved bits on message frames").toBe(0);
    const long = (flags & 0x02) !== 0;
    const size = long ? Number(bytes.readBigUInt64BE(at + 1)) : bytes[at + 1]!;
    if (long) expect(size, "LONG only from 256 bytes").toBeGreaterThan(255);
    const body = at + (long ? 9 : 2);
    frames.push(bytes.subarray(body, body + size));
    at = body + size;
    if ((flags & 0x01) === 0) {
      messages.push(frames);
      frames = [];
    }
  }
  expect(at).toBe(bytes.length);
  expect(frames).toEqual([]);
  return messages;
}

const record = (callId: string, extra: Record<string, unknown> = {}) => ({
  schema: "dynamo.request.trace.v1",
  event_type: "tool_start",
  event_time_unix_ms: 1_783_000_000_000,
  session_id: "4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d0b3f4a55",
  tool: { tool_call_id: callId, tool_class: "read", started_at_unix_ms: 1_783_000_000_000, status: "running", ...extra },
});

describe("MessageBatcher", () => {
  it("writes [topic, big-endian sequence, msgpack] messages, short and long payload frames alike", () => {
    const batcher = new MessageBatcher("agent-tool-events");
    const records = [record("c0"), record("c1", { error_type: "x".repeat(200) }), record("é-non-ascii")];
    const sequences = [0, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER];
    records.forEach((r, i) => expect(batcher.append(r, sequences[i]!)).toBe(true));
    const batch = batcher.take()!;
    expect(batch.count).toBe(3);
    expect(batcher.take()).toBeUndefined();
    const messages = parse(batch.bytes);
    expect(messages.map((m) => m.length)).toEqual([3, 3, 3]);
    messages.forEach(([topic, seq, payload], i) => {
      expect(topic!.toString("utf8")).toBe("agent-tool-events");
      const expected = Buffer.alloc(8);
      expected.writeBigUInt64BE(BigInt(sequences[i]!));
      expect(seq!.toString("hex")).toBe(expected.toString("hex"));
      expect(payload!.toString("hex")).toBe(Buffer.from(msgpack.encode(records[i])).toString("hex"));
    });
    expect(messages[0]![2]!.length).toBeLessThan(256); // a short payload frame…
    expect(messages[1]![2]!.length).toBeGreaterThan(255); // …and a long one
  });

  it("frames a topic longer than 255 bytes with the 8-byte size", () => {
    const topic = "t".repeat(300);
    const batcher = new MessageBatcher(topic);
    batcher.append(record("c0"), 1);
    const [[frame0]] = parse(batcher.take()!.bytes) as [[Buffer]];
    expect(frame0.toString()).toBe(topic);
  });

  it("fills a chunk, then refuses until taken; a message larger than a chunk gets its own buffer", () => {
    const batcher = new MessageBatcher("agent-tool-events");
    let n = 0;
    while (batcher.append(record(`call_${n}`), n)) n++;
    const full = batcher.take()!;
    expect(full.count).toBe(n);
    expect(full.bytes.length).toBeLessThanOrEqual(CHUNK_BYTES);
    expect(full.bytes.length).toBeGreaterThan(CHUNK_BYTES - 400);
    expect(parse(full.bytes).map(([, , p]) => (p!.length > 0 ? 1 : 0)).length).toBe(n);

    const huge = record("big", { error_type: "y".repeat(100_000) });
    expect(batcher.append(huge, 7)).toBe(true);
    expect(batcher.append(record("after"), 8)).toBe(false);
    const alone = batcher.take()!;
    expect(alone.count).toBe(1);
    const [[, , payload]] = parse(alone.bytes) as [[Buffer, Buffer, Buffer]];
    expect(payload.toString("hex")).toBe(Buffer.from(msgpack.encode(huge)).toString("hex"));
    batcher.recycle(alone);
    expect(batcher.append(record("after"), 8)).toBe(true);
  });

  it("appends nothing when a record cannot be encoded", () => {
    const batcher = new MessageBatcher("agent-tool-events");
    batcher.append(record("c0"), 0);
    expect(() => batcher.append({ n: 10n }, 1)).toThrow();
    batcher.append(record("c2"), 2);
    const messages = parse(batcher.take()!.bytes);
    expect(messages.map(([, seq]) => seq!.readBigUInt64BE())).toEqual([0n, 2n]);
  });

  it("reuses written chunks", () => {
    const batcher = new MessageBatcher("agent-tool-events");
    batcher.append(record("c0"), 0);
    const first = batcher.take()!;
    batcher.recycle(first);
    batcher.append(record("c1"), 1);
    expect(batcher.take()!.chunk).toBe(first.chunk);
    batcher.recycle(first);
    batcher.trim(0);
    batcher.append(record("c2"), 2);
    expect(batcher.take()!.chunk).not.toBe(first.chunk);
  });
});
