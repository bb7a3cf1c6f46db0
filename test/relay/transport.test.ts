// The relay transport against a REAL libzmq PULL (zeromq.js binds it, as Dynamo does), plus
// scripted raw peers for what libzmq will not do on request (refuse, misbehave, count attempts).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decode, Encoder } from "@msgpack/msgpack";
import { afterEach, describe, expect, it } from "vitest";
import { curveKeyPair, Pull } from "zeromq";
import { CLOSED_IN_GREETING } from "../../src/relay/connection.ts";
import { ToolEventTransport } from "../../src/relay/transport.ts";
import type { RelayCounters, RequestTraceToolRecord, ToolEventRecord, ToolEventTransportOptions } from "../../src/relay/types.ts";
import { behavesAsPull, rawPeer, waitFor } from "./zmtp-peer.ts";

const TOPIC = "agent-tool-events";
const msgpack = new Encoder({ ignoreUndefined: true });

function record(callId: string, extra: Partial<ToolEventRecord["tool"]> = {}): RequestTraceToolRecord {
  return {
    schema: "dynamo.request.trace.v1",
    event_type: "tool_start",
    event_time_unix_ms: 1783000000000,
    session_id: "4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d0b3f4a55",
    tool: { tool_call_id: callId, tool_class: "read", started_at_unix_ms: 1783000000000, status: "running", ...extra },
  };
}

function recordingLog() {
  const lines: { level: "warn" | "info"; message: string }[] = [];
  return {
    lines,
    log: {
      warn: (message: string) => lines.push({ level: "warn", message }),
      info: (message: string) => lines.push({ level: "info", message }),
    },
  };
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function transport(options: Partial<ToolEventTransportOptions> & Pick<ToolEventTransportOptions, "endpoint">) {
  const t = new ToolEventTransport({ topic: TOPIC, capacity: 100, log: recordingLog().log, ...options });
  cleanup.push(() => t.close());
  return t;
}

async function pullOn(endpoint: string, options: ConstructorParameters<typeof Pull>[0] = {}): Promise<Pull> {
  const pull = new Pull({ receiveTimeout: 5000, linger: 0, ...options });
  cleanup.push(() => pull.close());
  await pull.bind(endpoint);
  return pull;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "relay-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function receive(pull: Pull, count: number): Promise<Buffer[][]> {
  const messages: Buffer[][] = [];
  for (let i = 0; i < count; i++) messages.push(await pull.receive());
  return messages;
}

const callId = (message: Buffer[]) => (decode(message[2]!) as ToolEventRecord).tool.tool_call_id;

/** Every event offered is enqueued or dropped; every event enqueued is sent, failed, undelivered or pending. */
function balanced(c: RelayCounters, offered: number): void {
  expect(c.enqueued + c.dropped).toBe(offered);
  expect(c.sent + c.errors + c.undelivered + c.pending).toBe(c.enqueued);
}

describe("ToolEventTransport", () => {
  it("keeps events in its bounded queue while Dynamo is absent, then delivers them FIFO", async () => {
    const endpoint = `ipc://${join(tempDir(), "tool-events.sock")}`;
    const { lines, log } = recordingLog();
    const relay = transport({ endpoint, capacity: 3, log });

    const accepted = ["c0", "c1", "c2", "c3", "c4"].map((id) => relay.send(record(id)));
    expect(accepted).toEqual([true, true, true, false, false]);
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
    expect(lines[0]!.message).toContain("queue is full (3 events");

    // ZMQ_IMMEDIATE: with no peer nothing leaves the queue; a flush times out.
    expect(await relay.flush(100)).toBe(false);
    expect(relay.counters()).toEqual<RelayCounters>({ enqueued: 3, sent: 0, dropped: 2, errors: 0, pending: 3, undelivered: 0 });
    expect(relay.connected).toBe(false);

    const pull = await pullOn(endpoint);
    expect(await relay.flush(5000)).toBe(true);
    const received = await receive(pull, 3);
    expect(received.map((frames) => frames.length)).toEqual([3, 3, 3]);
    expect(received.map(([topic]) => topic!.toString("utf8"))).toEqual([TOPIC, TOPIC, TOPIC]);
    expect(received.map(([, seq]) => seq!.readBigUInt64BE())).toEqual([0n, 1n, 2n]);
    expect(received.map(callId)).toEqual(["c0", "c1", "c2"]);
    expect(relay.counters()).toMatchObject({ enqueued: 3, sent: 3, dropped: 2, pending: 0 });
    expect(relay.connected).toBe(true);
    expect(relay.connections).toBe(1);
  });

  it.each(["tcp", "ipc"] as const)("puts exactly [topic, 8-byte big-endian seq, @msgpack/msgpack bytes] on the wire to a libzmq PULL over %s", async (kind) => {
    const pull = await pullOn(kind === "tcp" ? "tcp://127.0.0.1:0" : `ipc://${join(tempDir(), "exact.sock")}`);
    const endpoint = pull.lastEndpoint!;
    const relay = transport({ endpoint });
    const records: ToolEventRecord[] = [
      record("c0"), // short payload frame (< 256 bytes)
      record("c1", { ended_at_unix_ms: 1783000000420, duration_ms: 419.873, status: "succeeded", output_bytes: 1532, error_type: "x".repeat(100) }), // long frame
      record("工具-c2"), // non-ASCII: encoded by the library fallback
      record("c3", { error_type: "e".repeat(100_000) }), // larger than one 64 KiB batch
      { ...record("c4"), parent_session_id: "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7" },
    ];
    for (const r of records) relay.send(r);
    expect(await relay.flush(5000)).toBe(true);
    const received = await receive(pull, records.length);
    received.forEach((frames, i) => {
      expect(frames).toHaveLength(3);
      expect(frames[0]!.equals(Buffer.from(TOPIC))).toBe(true);
      const seq = Buffer.alloc(8);
      seq.writeBigUInt64BE(BigInt(i));
      expect(frames[1]!.toString("hex")).toBe(seq.toString("hex"));
      expect(frames[2]!.toString("hex")).toBe(Buffer.from(msgpack.encode(records[i])).toString("hex"));
    });
    expect(relay.counters()).toEqual<RelayCounters>({ enqueued: 5, sent: 5, dropped: 0, errors: 0, pending: 0, undelivered: 0 });
  });

  it("resolves a DNS name in a tcp:// endpoint", async () => {
    const pull = await pullOn("tcp://127.0.0.1:0");
    const port = new URL(pull.lastEndpoint!.replace("tcp://", "http://")).port;
    const relay = transport({ endpoint: `tcp://localhost:${port}` });
    relay.send(record("by-name"));
    expect(await relay.flush(5000)).toBe(true);
    expect((await receive(pull, 1)).map(callId)).toEqual(["by-name"]);
  });

  it("stays connected across idle time by answering the PULL's heartbeat PINGs", async () => {
    // libzmq drops a peer it has not heard from within heartbeatTimeout of a PING (Dynamo: 5 s / 15 s).
    const pull = await pullOn("tcp://127.0.0.1:0", { heartbeatInterval: 100, heartbeatTimeout: 300, heartbeatTimeToLive: 500 });
    const relay = transport({ endpoint: pull.lastEndpoint! });
    relay.send(record("before"));
    expect(await relay.flush(5000)).toBe(true);
    expect((await receive(pull, 1)).map(callId)).toEqual(["before"]);

    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(relay.connected).toBe(true);
    relay.send(record("after-1"));
    relay.send(record("after-2"));
    expect(await relay.flush(5000)).toBe(true);
    expect((await receive(pull, 2)).map(callId)).toEqual(["after-1", "after-2"]);
    expect(relay.connections).toBe(1); // never reconnected
    expect(relay.counters()).toMatchObject({ sent: 3, errors: 0 });
  });

  it("retries with a 10 → 250 ms backoff while Dynamo is unreachable, then delivers once its PULL is up", async () => {
    // A listener that accepts and hangs up at once: each connection attempt is visible, none completes.
    const peer = await rawPeer((client) => client.socket.destroy());
    const { lines, log } = recordingLog();
    const relay = transport({ endpoint: peer.endpoint, log });
    for (let i = 0; i < 5; i++) relay.send(record(`c${i}`));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const attempts = peer.clients.length;
    await peer.close();
    // 10+20+40+80+160+250+250… ms: about 7 attempts in a second; hammering would make hundreds.
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(12);
    expect(relay.counters()).toMatchObject({ enqueued: 5, sent: 0, pending: 5, errors: 0 });
    expect(lines).toEqual([]); // "not running" is reported by the caller's flush, not per attempt

    const pull = await pullOn(peer.endpoint);
    expect(await relay.flush(5000)).toBe(true);
    expect((await receive(pull, 5)).map(callId)).toEqual(["c0", "c1", "c2", "c3", "c4"]);
    expect(relay.connections).toBe(1);
  });

  it("survives Dynamo's PULL stopping mid-stream: no crash, counters stay balanced, later events reach the restarted PULL", async () => {
    const port = await freePort();
    const endpoint = `tcp://127.0.0.1:${port}`;
    let pull = await pullOn(endpoint);
    const { lines, log } = recordingLog();
    const relay = transport({ endpoint, capacity: 50_000, log });
    let offered = 0;
    const offer = (id: string) => {
      offered++;
      return relay.send(record(id));
    };

    for (let i = 0; i < 1000; i++) offer(`a${i}`);
    expect(await relay.flush(5000)).toBe(true);
    expect((await receive(pull, 1000)).map(callId)).toEqual(Array.from({ length: 1000 }, (_, i) => `a${i}`));

    // Dynamo goes away while a burst is being written: what was in flight is lost (as with libzmq).
    for (let i = 0; i < 20_000; i++) offer(`b${i}`);
    pull.close();
    await waitFor(() => !relay.connected, 5000, "disconnect");
    balanced(relay.counters(), offered);

    // While it is down, new events wait in the queue.
    for (let i = 0; i < 100; i++) offer(`c${i}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const down = relay.counters();
    balanced(down, offered);
    expect(down.pending).toBeGreaterThanOrEqual(100);

    pull = await pullOn(endpoint, { receiveHighWaterMark: 0 });
    const restarted: string[] = [];
    const reading = (async () => {
      for (;;) {
        const message = await pull.receive().catch(() => undefined);
        if (message === undefined) return;
        restarted.push(callId(message));
      }
    })();
    expect(await relay.flush(10_000)).toBe(true);
    const after = relay.counters();
    balanced(after, offered);
    expect(after).toMatchObject({ pending: 0, dropped: 0, undelivered: 0 });
    await waitFor(() => restarted.length >= down.pending, 10_000, "delivery to the restarted PULL");
    // Everything that waited reached the new PULL, in order, ending with the events queued while it was down.
    expect(restarted.slice(-100)).toEqual(Array.from({ length: 100 }, (_, i) => `c${i}`));
    const bs = restarted.filter((id) => id.startsWith("b")).map((id) => Number(id.slice(1)));
    expect(bs).toEqual([...bs].sort((x, y) => x - y));
    expect(relay.connections).toBeGreaterThanOrEqual(2);
    // Nothing is written while disconnected, so what was counted as sent since is exactly what arrived.
    expect(after.sent - down.sent).toBe(restarted.length);
    // Writes lost with the connection are counted as errors and noted once; nothing else is logged.
    expect(lines).toEqual(
      after.errors > 0
        ? [{ level: "warn", message: `Dynamo tool-event relay to ${endpoint}: connection to Dynamo lost while events were being written; they are counted as errors` }]
        : [],
    );
    pull.close();
    await reading;
  }, 30_000);

  it("delivers a 200,000-event burst in order with nothing lost", async () => {
    const pull = await pullOn("tcp://127.0.0.1:0");
    const relay = transport({ endpoint: pull.lastEndpoint!, capacity: 200_000 });
    const total = 200_000;
    for (let i = 0; i < total; i++) relay.send(record(`call_${i}`));
    expect(relay.counters()).toMatchObject({ enqueued: total, dropped: 0 });
    const flushed = relay.flush(60_000);
    let next = 0;
    let outOfOrder = 0;
    for (; next < total; next++) {
      const [topic, seq, payload] = await pull.receive();
      if (seq!.readBigUInt64BE() !== BigInt(next) || topic!.length !== TOPIC.length) outOfOrder++;
      if (next % 40_000 === 0 && callId([topic!, seq!, payload!]) !== `call_${next}`) outOfOrder++;
    }
    expect(await flushed).toBe(true);
    expect(outOfOrder).toBe(0);
    expect(relay.counters()).toEqual<RelayCounters>({ enqueued: total, sent: total, dropped: 0, errors: 0, pending: 0, undelivered: 0 });
  }, 60_000);

  it("notes a peer that is not a ZMTP 3 PULL once, keeps retrying, keeps its events queued and never throws", async () => {
    const peer = await rawPeer((client) => client.socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    cleanup.push(() => peer.close());
    const { lines, log } = recordingLog();
    const relay = transport({ endpoint: peer.endpoint, log });
    for (let i = 0; i < 5; i++) expect(relay.send(record(`c${i}`))).toBe(true);
    await waitFor(() => peer.clients.length >= 3, 5000, "reconnect attempts");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn" });
    expect(lines[0]!.message).toBe(`Dynamo tool-event relay to ${peer.endpoint}: peer is not a ZeroMQ socket (invalid ZMTP greeting)`);
    expect(relay.lastError).toBe("peer is not a ZeroMQ socket (invalid ZMTP greeting)");
    expect(await relay.flush(100)).toBe(false);
    expect(relay.counters()).toEqual<RelayCounters>({ enqueued: 5, sent: 0, dropped: 0, errors: 0, pending: 5, undelivered: 0 });
    expect(relay.connected).toBe(false);
    relay.close();
    expect(relay.counters()).toMatchObject({ pending: 0, undelivered: 5 });
  });

  it("names a libzmq PULL that requires CURVE in one log line, however many reconnects it refuses", async () => {
    // libzmq sends its signature, reads our NULL greeting and hangs up before naming its mechanism.
    const pull = await pullOn("tcp://127.0.0.1:0", { curveServer: true, curveSecretKey: curveKeyPair().secretKey });
    let accepted = 0;
    pull.events.on("accept", () => accepted++);
    const { lines, log } = recordingLog();
    const relay = transport({ endpoint: pull.lastEndpoint!, log });
    for (let i = 0; i < 3; i++) relay.send(record(`c${i}`));
    await waitFor(() => accepted >= 4 && relay.peerFaults >= 4, 5000, "reconnect attempts");
    expect(lines).toEqual([{ level: "warn", message: `Dynamo tool-event relay to ${pull.lastEndpoint}: ${CLOSED_IN_GREETING}` }]);
    expect(CLOSED_IN_GREETING).toMatch(/^peer closed during the ZMTP greeting — security mechanism\?/);
    expect(relay.lastError).toBe(CLOSED_IN_GREETING);
    expect(relay.connected).toBe(false);
    expect(relay.connections).toBe(0);
    expect(relay.counters()).toEqual<RelayCounters>({ enqueued: 3, sent: 0, dropped: 0, errors: 0, pending: 3, undelivered: 0 });
  });

  it("turns a bad endpoint into one warning and a counting no-op", async () => {
    const { lines, log } = recordingLog();
    const relay = transport({ endpoint: "not-an-endpoint", log });
    // The endpoint is parsed off the caller's path, so the first events are queued, then lost as errors.
    expect(relay.send(record("a"))).toBe(true);
    expect(relay.send(record("b"))).toBe(true);
    expect(await relay.flush(1000)).toBe(true);
    expect(relay.send(record("c"))).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn" });
    expect(lines[0]!.message).toBe(
      'Dynamo tool-event relay disabled: cannot connect to "not-an-endpoint" (not a ZeroMQ endpoint; endpoints look like tcp://host:port or ipc:///path). Tool events are dropped and counted.',
    );
    expect(relay.lastError).toBe("not a ZeroMQ endpoint");
    expect(relay.counters()).toEqual<RelayCounters>({ enqueued: 2, sent: 0, dropped: 1, errors: 2, pending: 0, undelivered: 0 });
    relay.close();
    expect(lines.at(-1)?.message).toContain("1 dropped, 2 errors");
  });

  it.each([
    ["udp://127.0.0.1:5555", /udp:\/\/ is not supported by the relay/],
    ["inproc://tool-events", /inproc:\/\/ endpoints exist only inside one libzmq process/],
    [`ipc:///tmp/${"x".repeat(200)}.sock`, /ipc path too long/],
  ])("rejects %s without throwing", async (endpoint, message) => {
    const relay = transport({ endpoint });
    expect(() => relay.send(record("a"))).not.toThrow();
    expect(await relay.flush(1000)).toBe(true);
    expect(relay.counters()).toMatchObject({ enqueued: 1, errors: 1 });
    expect(relay.lastError).toMatch(message);
  });

  it("counts what is still queued on close, settles waiting flushes, and closes once", async () => {
    const { lines, log } = recordingLog();
    const relay = transport({ endpoint: `tcp://127.0.0.1:${await freePort()}`, log });
    for (let i = 0; i < 10; i++) relay.send(record(`c${i}`));
    const flushing = relay.flush(10_000);
    relay.close();
    expect(await flushing).toBe(false);
    relay.close();
    expect(relay.send(record("late"))).toBe(false);
    expect(relay.counters()).toEqual<RelayCounters>({ enqueued: 10, sent: 0, dropped: 1, errors: 0, pending: 0, undelivered: 10 });
    expect(lines.filter((l) => l.message.includes("closed"))).toHaveLength(1);
    expect(lines.at(-1)).toMatchObject({ level: "warn" });
    expect(lines.at(-1)!.message).toBe(`Dynamo tool-event relay closed: 0 sent, 0 dropped, 0 errors, 10 undelivered (${relay.endpoint})`);
  });

  const child = (fixture: string, args: string[]) =>
    new Promise<{ report: any; code: number | null; exitAfterReportMs: number }>((resolve, reject) => {
      const proc = spawn(process.execPath, [fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url)), ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      let reportedAt = 0;
      const killer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      proc.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (reportedAt === 0 && out.includes("\n")) reportedAt = performance.now();
      });
      proc.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      proc.on("error", reject);
      proc.on("exit", (code, signal) => {
        clearTimeout(killer);
        if (reportedAt === 0) return reject(new Error(`no report (code ${code}, signal ${signal}): ${err}`));
        resolve({ report: JSON.parse(out), code, exitAfterReportMs: performance.now() - reportedAt });
      });
    });

  it("never blocks, flushes within its bound and lets the process exit (dead endpoint, child process)", async () => {
    const refused = `tcp://127.0.0.1:${await freePort()}`;
    const [closed, leftOpen] = await Promise.all([child("dead-endpoint.ts", [refused, "close"]), child("dead-endpoint.ts", [refused, "leave-open"])]);

    for (const { report, code, exitAfterReportMs } of [closed, leftOpen]) {
      expect(code).toBe(0);
      expect(exitAfterReportMs).toBeLessThan(1500);
      expect(report.sendMs).toBeLessThan(250); // 1000 sends, encoding included
      expect(report.drained).toBe(false);
      expect(report.flushMs).toBeGreaterThanOrEqual(290);
      expect(report.flushMs).toBeLessThan(1500);
    }
    expect(closed.report.counters).toEqual({ enqueued: 500, sent: 0, dropped: 500, errors: 0, pending: 0, undelivered: 500 });
    expect(leftOpen.report.counters).toMatchObject({ enqueued: 500, sent: 0, dropped: 500, pending: 500 });
  });

  it("a process that exits right after a successful flush loses nothing (everything was in the kernel)", async () => {
    // A PULL that reads slowly, on a Unix socket (small kernel buffers), so the sender's socket
    // buffers are full when its flush resolves: only events whose write completed count as flushed.
    const peer = await rawPeer((client) => {
      behavesAsPull(client);
      // At most one read (64 KiB) per 10 ms: about 6 MB/s.
      client.socket.on("data", () => {
        client.socket.pause();
        setTimeout(() => client.socket.resume(), 10);
      });
    }, join(tempDir(), "slow.sock"));
    cleanup.push(() => peer.close());
    const count = 20_000;
    const { report, code } = await child("flush-exit.ts", [peer.endpoint, String(count)]);
    expect(code).toBe(0);
    expect(report).toEqual({ drained: true, counters: { enqueued: count, sent: count, dropped: 0, errors: 0, pending: 0, undelivered: 0 } });
    const client = peer.clients[0]!;
    client.socket.resume();
    await waitFor(() => client.messages().length === count || client.socket.readableEnded, 15_000, "every event at the PULL");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const messages = client.messages();
    expect(messages).toHaveLength(count);
    expect(callId(messages[count - 1]!)).toBe(`call_${count - 1}`);
  }, 30_000);
});
