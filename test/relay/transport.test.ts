import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decode } from "@msgpack/msgpack";
import { afterEach, describe, expect, it } from "vitest";
import { Pull } from "zeromq";
import { ToolEventTransport } from "../../src/relay/transport.ts";
import type { RelayCounters, ToolEventRecord, ToolEventTransportOptions } from "../../src/relay/types.ts";

const TOPIC = "agent-tool-events";

function record(callId: string): ToolEventRecord {
  return {
    schema: "dynamo.request.trace.v1",
    event_type: "tool_start",
    event_time_unix_ms: 1783000000000,
    session_id: "4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d0b3f4a55",
    tool: { tool_call_id: callId, tool_class: "read", started_at_unix_ms: 1783000000000, status: "running" },
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

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

function transport(options: Partial<ToolEventTransportOptions> & Pick<ToolEventTransportOptions, "endpoint">) {
  const t = new ToolEventTransport({ topic: TOPIC, capacity: 100, log: recordingLog().log, ...options });
  cleanup.push(() => t.close());
  return t;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("ToolEventTransport", () => {
  it("keeps events in its bounded queue while Dynamo is absent, then delivers them FIFO", async () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const endpoint = `ipc://${join(dir, "tool-events.sock")}`;
    const { lines, log } = recordingLog();
    const relay = transport({ endpoint, capacity: 3, log });

    const accepted = ["c0", "c1", "c2", "c3", "c4"].map((id) => relay.send(record(id)));
    expect(accepted).toEqual([true, true, true, false, false]);
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
    expect(lines[0]!.message).toContain("queue is full (3 events");

    // ZMQ_IMMEDIATE: with no peer nothing vanishes into a ZeroMQ pipe; it waits in our queue.
    expect(await relay.flush(100)).toBe(false);
    expect(relay.counters()).toEqual<RelayCounters>({ enqueued: 3, sent: 0, dropped: 2, errors: 0, pending: 3, undelivered: 0 });
    expect(relay.connected).toBe(false);

    const pull = new Pull({ receiveTimeout: 5000 });
    cleanup.push(() => pull.close());
    await pull.bind(endpoint);
    expect(await relay.flush(5000)).toBe(true);
    const received = [];
    for (let i = 0; i < 3; i++) received.push(await pull.receive());
    expect(received.map((frames) => frames.length)).toEqual([3, 3, 3]);
    expect(received.map(([topic]) => topic!.toString("utf8"))).toEqual([TOPIC, TOPIC, TOPIC]);
    expect(received.map(([, seq]) => seq!.readBigUInt64BE())).toEqual([0n, 1n, 2n]);
    expect(received.map(([, , payload]) => (decode(payload!) as ToolEventRecord).tool.tool_call_id)).toEqual(["c0", "c1", "c2"]);
    expect(relay.counters()).toMatchObject({ enqueued: 3, sent: 3, dropped: 2, pending: 0 });
    expect(relay.connected).toBe(true);
  });

  it("turns a bad endpoint into one warning and a counting no-op", async () => {
    const { lines, log } = recordingLog();
    const relay = transport({ endpoint: "not-an-endpoint", log });
    // The socket is made off the caller's path, so the first events are queued, then lost as errors.
    expect(relay.send(record("a"))).toBe(true);
    expect(relay.send(record("b"))).toBe(true);
    expect(await relay.flush(1000)).toBe(true);
    expect(relay.send(record("c"))).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn" });
    expect(lines[0]!.message).toContain('"not-an-endpoint"');
    expect(relay.lastError).toMatch(/Invalid argument/);
    expect(relay.counters()).toEqual<RelayCounters>({ enqueued: 2, sent: 0, dropped: 1, errors: 2, pending: 0, undelivered: 0 });
    relay.close();
    expect(lines.at(-1)?.message).toContain("1 dropped, 2 errors");
  });

  it("rejects a transport ZeroMQ PUSH cannot use without throwing", async () => {
    const relay = transport({ endpoint: "udp://127.0.0.1:5555" });
    expect(() => relay.send(record("a"))).not.toThrow();
    await relay.flush(1000);
    expect(relay.counters()).toMatchObject({ enqueued: 1, errors: 1 });
    expect(relay.lastError).toMatch(/not compatible/);
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
    expect(lines.at(-1)!.message).toContain("10 undelivered");
  });

  it("never blocks, flushes within its bound and lets the process exit (dead endpoint, child process)", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/dead-endpoint.ts", import.meta.url));
    const run = (endpoint: string, mode: string) =>
      new Promise<{ report: any; code: number | null; exitAfterReportMs: number }>((resolve, reject) => {
        const child = spawn(process.execPath, [fixture, endpoint, mode], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        let reportedAt = 0;
        const killer = setTimeout(() => child.kill("SIGKILL"), 8000);
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          if (reportedAt === 0 && out.includes("\n")) reportedAt = performance.now();
        });
        child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
        child.on("error", reject);
        child.on("exit", (code, signal) => {
          clearTimeout(killer);
          if (reportedAt === 0) return reject(new Error(`no report (code ${code}, signal ${signal}): ${err}`));
          resolve({ report: JSON.parse(out), code, exitAfterReportMs: performance.now() - reportedAt });
        });
      });

    const refused = `tcp://127.0.0.1:${await freePort()}`;
    const [closed, leftOpen] = await Promise.all([run(refused, "close"), run(refused, "leave-open")]);

    for (const { report, code, exitAfterReportMs } of [closed, leftOpen]) {
      expect(code).toBe(0);
      expect(exitAfterReportMs).toBeLessThan(1500);
      expect(report.sendMs).toBeLessThan(250); // 1000 sends, including loading zeromq
      expect(report.drained).toBe(false);
      expect(report.flushMs).toBeGreaterThanOrEqual(290);
      expect(report.flushMs).toBeLessThan(1500);
    }
    expect(closed.report.counters).toEqual({ enqueued: 500, sent: 0, dropped: 500, errors: 0, pending: 0, undelivered: 500 });
    expect(leftOpen.report.counters).toMatchObject({ enqueued: 500, sent: 0, dropped: 500, pending: 500 });
  });
});
