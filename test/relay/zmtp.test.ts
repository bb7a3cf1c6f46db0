// ZMTP 3.1 without sockets (rfc.zeromq.org/spec/37): the frame header we write, and the reader of
// what a PULL sends, fed chunk by chunk. The connection over real sockets is connection.test.ts.
import { Buffer } from "node:buffer";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_INBOUND_FRAME_BYTES, writeFrameHeader, ZmtpError, ZmtpReader } from "../../src/relay/zmtp.ts";
import { command, greeting, longCommand, ping, ready } from "./zmtp-peer.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("writeFrameHeader", () => {
  it("uses the 1-byte size up to 255 and LONG with an 8-byte big-endian size from 256", () => {
    const buf = Buffer.alloc(9);
    expect(writeFrameHeader(buf, 0, 0x01, 255)).toBe(2);
    expect([...buf.subarray(0, 2)]).toEqual([0x01, 255]);
    expect(writeFrameHeader(buf, 0, 0x00, 256)).toBe(9);
    expect(buf.toString("hex")).toBe("020000000000000100");
    expect(writeFrameHeader(buf, 0, 0x04, 2 ** 40 + 5)).toBe(9);
    expect(buf.toString("hex")).toBe("060000010000000005");
  });
});

/** A reader that records what it reports. */
function reader() {
  const seen = { greeted: 0, ready: 0, pings: [] as { ttlMs: number; context: string }[] };
  const r = new ZmtpReader({
    greeted: () => seen.greeted++,
    ready: () => seen.ready++,
    ping: (ttlMs, context) => seen.pings.push({ ttlMs, context: context.toString("latin1") }),
  });
  return { r, seen };
}

describe("ZmtpReader", () => {
  it("reads a greeting, READY and a 64 KiB PING arriving one byte per read with linear copying", () => {
    const data = Buffer.alloc(64 * 1024 - 5, 0x2e);
    data.writeUInt16BE(30, 0);
    data.write("0123456789abcdef", 2, "latin1");
    const big = longCommand("PING", data);
    const stream = Buffer.concat([greeting(), ready("PULL"), big, ping(0, "after")]);
    const { r, seen } = reader();
    const concat = vi.spyOn(Buffer, "concat");
    for (let at = 0; at < stream.length; at++) r.push(stream.subarray(at, at + 1));
    expect(seen).toEqual({ greeted: 1, ready: 1, pings: [{ ttlMs: 3000, context: "0123456789abcdef" }, { ttlMs: 0, context: "after" }] });
    // One concatenation per step that completes (greeting checkpoints, frame headers, frames), not per byte:
    // the 64 KiB frame is copied once, not 65,544 times with everything before it.
    const copied = concat.mock.results.reduce((sum, result) => sum + (result.value as Buffer).length, 0);
    expect(concat.mock.calls.length).toBeLessThanOrEqual(12);
    expect(copied).toBeLessThan(big.length + 1024);
  });

  it("skips message frames (streamed, not kept) once ready, and keeps parsing in step", () => {
    const { r, seen } = reader();
    r.push(Buffer.concat([greeting(), ready("PULL")]));
    const body = Buffer.alloc(500_000, 0x61);
    const header = Buffer.alloc(9);
    writeFrameHeader(header, 0, 0x00, body.length);
    const after = [command("SUBSCRIBE", Buffer.from("x")), ping(0, "ctx")];
    const concat = vi.spyOn(Buffer, "concat");
    r.push(header);
    for (let at = 0; at < body.length; at += 1000) r.push(body.subarray(at, at + 1000));
    for (const frame of after) r.push(frame);
    expect(seen.pings).toEqual([{ ttlMs: 0, context: "ctx" }]);
    expect(concat).not.toHaveBeenCalled();
  });

  it.each([
    ["a command", 0x06, MAX_INBOUND_FRAME_BYTES + 1],
    ["a message", 0x02, MAX_INBOUND_FRAME_BYTES + 1],
    ["a 2^40-byte frame", 0x02, 2 ** 40],
  ])("refuses %s over the inbound frame limit from its header alone", (_, flags, size) => {
    const { r } = reader();
    r.push(Buffer.concat([greeting(), ready("PULL")]));
    const header = Buffer.alloc(9);
    writeFrameHeader(header, 0, flags & ~0x02, size);
    expect(() => r.push(header)).toThrow(ZmtpError);
    expect(() => reader().r.push(Buffer.concat([greeting(), ready("PULL"), header]))).toThrow(/over the relay's 1 MiB limit for inbound frames/);
  });

  it("accepts a command of exactly the limit", () => {
    const { r, seen } = reader();
    const data = Buffer.alloc(MAX_INBOUND_FRAME_BYTES - 5);
    r.push(Buffer.concat([greeting(), ready("PULL"), longCommand("PING", data)]));
    expect(seen.pings).toEqual([{ ttlMs: 0, context: "\0".repeat(16) }]);
  });

  it("reports the greeting as started once its first byte arrived, until it is complete", () => {
    const { r } = reader();
    expect(r.inGreeting).toBe(false);
    r.push(greeting().subarray(0, 10));
    expect(r.inGreeting).toBe(true);
    r.push(greeting().subarray(10));
    expect(r.inGreeting).toBe(false);
  });
});
