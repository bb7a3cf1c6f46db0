// One ZMTP 3.1 connection at the byte level (rfc.zeromq.org/spec/37), against scripted raw peers:
// what we send, what we accept, what makes us close, and the caps that hold against a broken or
// hostile peer (docs/relay.md). Interop with a real libzmq PULL is in transport.test.ts.
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CLOSED_IN_GREETING, type ConnectionLimits, ZmtpPushConnection, type ZmtpEvents } from "../../src/relay/connection.ts";
import { parseEndpoint } from "../../src/relay/endpoint.ts";
import { MAX_INBOUND_FRAME_BYTES, writeFrameHeader, ZmtpError } from "../../src/relay/zmtp.ts";
import {
  behavesAsPull,
  command,
  drip,
  floodPings,
  greeting,
  longCommand,
  ping,
  rawPeer,
  ready,
  waitFor,
  type ClientStream,
  type RawPeer,
} from "./zmtp-peer.ts";

const cleanup: Array<() => unknown> = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "zmtp-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function peer(onClient: (client: ClientStream) => void, ipcPath?: string): Promise<RawPeer> {
  const p = await rawPeer(onClient, ipcPath);
  cleanup.push(() => p.close());
  return p;
}

/** Connects and records what the connection reports. */
function open(endpoint: string, limits: Partial<ConnectionLimits> = {}) {
  const seen = { ready: 0, drain: 0, closed: [] as (Error | undefined)[] };
  const events: ZmtpEvents = {
    ready: () => seen.ready++,
    drain: () => seen.drain++,
    close: (error) => seen.closed.push(error),
  };
  const connection = new ZmtpPushConnection(parseEndpoint(endpoint), events, limits);
  cleanup.push(() => connection.destroy());
  return { connection, seen };
}

describe("ZmtpPushConnection", () => {
  it("greets as ZMTP 3.1 NULL, sends READY Socket-Type=PUSH after the peer's greeting, and is ready on the peer's READY", async () => {
    const p = await peer((client) => behavesAsPull(client));
    const { connection, seen } = open(p.endpoint);
    await waitFor(() => seen.ready === 1, 5_000, "ready");
    expect(connection.ready).toBe(true);
    const client = p.clients[0]!;
    // signature %xFF 8×padding %x7F, version 3.1, "NULL" padded to 20, as-server 0, 31 zero bytes.
    expect(client.greeting!.toString("hex")).toBe(greeting().toString("hex"));
    expect(client.frames[0]).toEqual({ flags: 0x04, body: ready("PUSH").subarray(2) });
    expect(seen.closed).toEqual([]);
  });

  it("answers PING with PONG echoing the context, and keeps parsing in step after frames it ignores", async () => {
    let pongs = 0;
    const p = await peer((client) => {
      behavesAsPull(client);
      const script = async () => {
        await waitFor(() => client.commands("READY").length === 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
        // Things a PULL may send that we ignore: an unknown command, a SUBSCRIBE, a READY again,
        // and a 3-frame message whose 100 kB body arrives in pieces.
        client.socket.write(command("HELLO", Buffer.from("x")));
        client.socket.write(command("SUBSCRIBE", Buffer.from("topic")));
        client.socket.write(ready("PULL"));
        const big = Buffer.alloc(100_000, 0x61);
        const header = Buffer.alloc(9);
        writeFrameHeader(header, 0, 0x00, big.length);
        client.socket.write(Buffer.concat([Buffer.from([0x01, 1, 0x61, 0x01, 0])])); // two small MORE frames
        client.socket.write(header);
        for (let at = 0; at < big.length; at += 30_000) client.socket.write(big.subarray(at, at + 30_000));
        client.socket.write(ping(0, "ctx-1"));
        await waitFor(() => client.commands("PONG").length === 1);
        pongs++;
        // A PING split across reads, with the longest context allowed (16 bytes).
        const second = ping(0, "0123456789abcdef");
        client.socket.write(second.subarray(0, 5));
        await new Promise((resolve) => setTimeout(resolve, 20));
        client.socket.write(second.subarray(5));
        await waitFor(() => client.commands("PONG").length === 2);
        pongs++;
      };
      void script();
    });
    const { connection, seen } = open(p.endpoint);
    await waitFor(() => pongs === 2, 5_000, "two PONGs");
    const client = p.clients[0]!;
    expect(client.commands("PONG").map((data) => data.toString("latin1"))).toEqual(["ctx-1", "0123456789abcdef"]);
    // PONG = command-size %d4 "PONG" ping-context
    expect(client.frames.filter((f) => f.flags === 0x04).at(-1)!.body.toString("latin1")).toBe("\x04PONG0123456789abcdef");
    expect(connection.ready).toBe(true);
    expect(seen.closed).toEqual([]);
  });

  it("honours a PING's TTL: no traffic from the peer for that long closes the connection", async () => {
    const p = await peer((client) => {
      behavesAsPull(client);
      void waitFor(() => client.commands("READY").length === 1).then(() => client.socket.write(ping(2, ""))); // 200 ms
    });
    const { seen } = open(p.endpoint);
    await waitFor(() => seen.ready === 1);
    const readyAt = Date.now();
    await waitFor(() => seen.closed.length === 1, 3_000, "close after TTL");
    expect(Date.now() - readyAt).toBeGreaterThanOrEqual(150);
    expect(seen.closed[0]!.message).toMatch(/heartbeat TTL \(200 ms\)/);
    expect(seen.closed[0]).not.toBeInstanceOf(ZmtpError);
  });

  const refusals: [string, (client: ClientStream) => void, RegExp][] = [
    ["garbage instead of a greeting", (c) => c.socket.write("HTTP/1.1 400 Bad Request\r\n\r\n"), /not a ZeroMQ socket/],
    ["a ZMTP 1.0 greeting", (c) => c.socket.write(Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7e])), /ZMTP 1\.0/],
    ["a ZMTP 2.0 greeting", (c) => c.socket.write(Buffer.concat([greeting().subarray(0, 10), Buffer.from([1, 7])])), /ZMTP 2\.0 or older/],
    ["another security mechanism", (c) => c.socket.write(greeting({ mechanism: "CURVE" })), /mechanism mismatch: peer uses CURVE/],
    ["an ERROR command", (c) => c.socket.write(Buffer.concat([greeting(), command("ERROR", Buffer.from("\x07go away"))])), /ERROR: go away/],
    ["a PUB socket", (c) => behavesAsPull(c, "PUB"), /peer is a PUB socket/],
    ["a message before READY", (c) => c.socket.write(Buffer.concat([greeting(), Buffer.from([0x00, 1, 0x61])])), /message frame during the ZMTP handshake/],
    ["malformed READY metadata", (c) => c.socket.write(Buffer.concat([greeting(), command("READY", Buffer.from([11, 0x41]))])), /malformed READY/],
    // libzmq requiring CURVE or PLAIN: its 10-byte signature, then it hangs up (transport.test.ts has the real one).
    ["a close in the middle of the greeting", (c) => c.socket.end(greeting().subarray(0, 10)), /^peer closed during the ZMTP greeting — security mechanism\? /],
    ["a frame over the inbound limit", (c) => c.socket.write(Buffer.concat([greeting(), longCommand("HUGE", Buffer.alloc(MAX_INBOUND_FRAME_BYTES))])), /over the relay's 1 MiB limit/],
  ];
  it.each(refusals)("closes with a ZmtpError on %s", async (_, script, message) => {
    const p = await peer(script);
    const { connection, seen } = open(p.endpoint);
    await waitFor(() => seen.closed.length === 1, 5_000, "close");
    expect(seen.closed[0]).toBeInstanceOf(ZmtpError);
    expect(seen.closed[0]!.message).toMatch(message);
    expect(seen.ready).toBe(0);
    expect(connection.ready).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.closed).toHaveLength(1);
  });

  it("gives up on a peer that accepts but never completes the handshake", async () => {
    const p = await peer(() => {});
    const { seen } = open(p.endpoint, { handshakeTimeoutMs: 200 });
    await waitFor(() => seen.closed.length === 1, 3_000);
    expect(seen.closed[0]).toBeInstanceOf(ZmtpError);
    expect(seen.closed[0]!.message).toMatch(/no ZMTP 3 handshake from the peer within 200 ms/);
  });

  it("reports a refused connection as a plain error (nobody listening is not a protocol failure)", async () => {
    const p = await peer(() => {});
    const endpoint = p.endpoint;
    await p.close();
    cleanup.pop();
    const { seen } = open(endpoint);
    await waitFor(() => seen.closed.length === 1);
    expect(seen.closed[0]).not.toBeInstanceOf(ZmtpError);
    expect((seen.closed[0] as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it("reports the peer going away, and never reports after destroy()", async () => {
    const p = await peer((client) => behavesAsPull(client));
    const first = open(p.endpoint);
    await waitFor(() => first.seen.ready === 1);
    p.clients[0]!.socket.end();
    await waitFor(() => first.seen.closed.length === 1);
    expect(first.seen.closed[0]!.message).toMatch(/closed by peer/);

    const second = open(p.endpoint);
    await waitFor(() => second.seen.ready === 1);
    second.connection.destroy();
    p.clients[1]!.socket.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(second.seen.closed).toEqual([]);
    expect(second.connection.ready).toBe(false);
  });

  it("answers a PING flood from a peer that never reads with one PONG at a time: nothing piles up in the write buffer", async () => {
    // A Unix socket: small kernel buffers, so PONGs the peer never reads would back up into ours.
    let flooded = false;
    const p = await peer((client) => floodPings(client, 100_000, () => (flooded = true)), join(tempDir(), "flood.sock"));
    const { connection, seen } = open(p.endpoint);
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, connection.unsentBytes)), 1);
    cleanup.push(() => clearInterval(sample));
    await waitFor(() => flooded, 15_000, "100,000 PINGs (2.5 MB) in the kernel");
    await new Promise((resolve) => setTimeout(resolve, 200)); // we read the rest
    most = Math.max(most, connection.unsentBytes);
    expect(seen.ready).toBe(1);
    expect(seen.closed).toEqual([]);
    // At most one PONG (23 bytes) waits; one PONG per PING would be 2.3 MB here.
    expect(most).toBeLessThanOrEqual(23);
  }, 30_000);

  it("drops the connection when a write would go on top of more unsent bytes than the cap (a peer that stopped reading)", async () => {
    const cap = 256 * 1024;
    const p = await peer((client) => {
      behavesAsPull(client);
      void waitFor(() => client.commands("READY").length > 0).then(() => setTimeout(() => client.socket.pause(), 20));
    }, join(tempDir(), "stalled.sock"));
    const { connection, seen } = open(p.endpoint, { maxUnsentBytes: cap });
    await waitFor(() => seen.ready === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A caller that ignores `false` from write (the relay's pump waits for drain; this one does not).
    const batch = Buffer.alloc(64 * 1024);
    const results: unknown[] = [];
    let writes = 0;
    let most = 0;
    for (; writes < 200 && seen.closed.length === 0; writes++) {
      connection.write(batch, (error) => results.push(error ?? "ok"));
      most = Math.max(most, connection.unsentBytes);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => seen.closed.length === 1, 5_000, "the drop");
    expect(seen.closed[0]).toBeInstanceOf(ZmtpError);
    expect(seen.closed[0]!.message).toBe(`peer is not reading: over ${cap} bytes unsent, connection dropped`);
    expect(writes).toBeLessThan(200);
    expect(most).toBeLessThanOrEqual(cap + batch.length);
    // Every write completes, those still unsent with the connection's error.
    await waitFor(() => results.length === writes, 5_000, "write callbacks");
    expect(results.filter((r) => r !== "ok").length).toBeGreaterThan(0);
    expect(connection.ready).toBe(false);
  });

  it("parses a 64 KiB command dripped in 1 KiB writes, copying its bytes a constant number of times", async () => {
    const data = Buffer.alloc(64 * 1024 - 5, 0x2e); // PING: TTL 0, context "0123456789abcdef", then filler
    data.writeUInt16BE(0, 0);
    data.write("0123456789abcdef", 2, "latin1");
    const frame = longCommand("PING", data);
    const p = await peer((client) => drip(client, frame, 1024));
    const concat = vi.spyOn(Buffer, "concat");
    cleanup.push(() => concat.mockRestore());
    const { seen } = open(p.endpoint);
    await waitFor(() => p.clients[0]?.commands("PONG").length === 1, 10_000, "the PONG");
    expect(p.clients[0]!.commands("PONG")[0]!.toString("latin1")).toBe("0123456789abcdef");
    expect(seen.closed).toEqual([]);
    // Re-concatenating per read would copy ~64 reads × 32 KiB on average = 2 MiB; once is 64 KiB.
    // (The count includes the test peer's own small concatenations of what we send it.)
    const copied = concat.mock.results.reduce((sum, r) => sum + (r.value as Buffer).length, 0);
    expect(copied).toBeLessThan(2 * frame.length);
  });
});

