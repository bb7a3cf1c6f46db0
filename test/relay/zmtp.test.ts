// The ZMTP 3.1 connection at the byte level (rfc.zeromq.org/spec/37), against scripted raw peers:
// what we send, what we accept, and what makes us close. Interop with a real libzmq PULL is in
// transport.test.ts.
import { Buffer } from "node:buffer";
import { afterEach, describe, expect, it } from "vitest";
import { parseEndpoint } from "../../src/relay/endpoint.ts";
import { ZmtpPushConnection, type ZmtpEvents } from "../../src/relay/connection.ts";
import { writeFrameHeader, ZmtpError } from "../../src/relay/zmtp.ts";
import { behavesAsPull, command, greeting, ping, rawPeer, ready, waitFor, type ClientStream, type RawPeer } from "./zmtp-peer.ts";

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function peer(onClient: (client: ClientStream) => void): Promise<RawPeer> {
  const p = await rawPeer(onClient);
  cleanup.push(() => p.close());
  return p;
}

/** Connects and records what the connection reports. */
function open(endpoint: string, handshakeTimeoutMs?: number) {
  const seen = { ready: 0, drain: 0, closed: [] as (Error | undefined)[] };
  const events: ZmtpEvents = {
    ready: () => seen.ready++,
    drain: () => seen.drain++,
    close: (error) => seen.closed.push(error),
  };
  const connection = new ZmtpPushConnection(parseEndpoint(endpoint), events, { handshakeTimeoutMs });
  cleanup.push(() => connection.destroy());
  return { connection, seen };
}

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
    const { seen } = open(p.endpoint, 200);
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
});
