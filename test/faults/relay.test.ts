// Fault matrix, relay rows (SPEC §5, §8): nothing listening, a listener that stalls until its
// high-water mark and the socket buffers are full, and malformed or unusable endpoints. The run is
// never affected, each cause is one log line, and `enqueued + dropped` = events offered,
// `sent + errors + undelivered + pending` = events enqueued at every moment.
//
// Already covered elsewhere (not repeated here): bounded queue and FIFO delivery once Dynamo appears,
// reconnect backoff, Dynamo's PULL stopping and restarting mid-stream, heartbeats across idle time,
// a peer that is not a ZMTP 3 PULL, a bad endpoint at the transport level, close accounting, a dead
// endpoint not holding the process open, and nothing lost when a process exits right after a flush
// (test/relay/transport.test.ts, against a real libzmq PULL, also one requiring CURVE); the ZMTP
// handshake and framing byte by byte, and broken or hostile peers: PING flood, a peer that stops
// reading, dripped or oversized frames, a close during the greeting (test/relay/connection.test.ts,
// zmtp.test.ts, batch.test.ts); 10,000 events below capacity and queue-full drops
// through the span processor (test/relay/processor.test.ts); every invalid endpoint form in the
// config table (test/config.test.ts "invalid values").
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode } from "@msgpack/msgpack";
import { afterEach, describe, expect, it } from "vitest";
import { Pull } from "zeromq";
import { ToolEventTransport } from "../../src/relay/transport.ts";
import type { RelayCounters, ToolEventRecord } from "../../src/relay/types.ts";
import { endRun, loadPlugin, startRun, toolCall, type LoadedPlugin } from "./harness.ts";

const SESSION = "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e";
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "fault-relay-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function plugin(env: Record<string, string>, pluginConfig: Record<string, unknown> = {}): Promise<LoadedPlugin> {
  const loaded = await loadPlugin({ env, pluginConfig: { flushTimeoutMs: 300, ...pluginConfig } });
  cleanup.push(() => loaded.dispose());
  return loaded;
}

/** One run with `n` successful tool calls, through the hooks; returns what the hooks returned. */
let runCounter = 0;
async function runWithTools(p: LoadedPlugin, n: number): Promise<unknown[]> {
  const run = { runId: `R${++runCounter}`, sessionId: SESSION };
  await startRun(p, run);
  const returned: unknown[] = [];
  for (let i = 0; i < n; i++) {
    returned.push(...(await toolCall(p, run, { toolName: "read", toolCallId: `call_${i}`, params: { path: "a.txt" }, result: "ok" })));
  }
  await endRun(p, run);
  return returned;
}

function balanced(c: RelayCounters, offered: number): void {
  expect(c.enqueued + c.dropped, "every event offered is enqueued or dropped").toBe(offered);
  expect(c.sent + c.errors + c.undelivered + c.pending, "every event enqueued is sent, failed, undelivered or pending").toBe(c.enqueued);
}

describe("relay endpoint with nothing listening", () => {
  it("the run is unaffected; events wait in the bounded queue; one line when a flush cannot deliver, the final count at shutdown; nothing unaccounted", async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const p = await plugin({ DYN_AGENT_TRACE: "1", DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: endpoint });
    const returned = await runWithTools(p, 5);
    expect(returned.every((value) => value === undefined), "hooks never block or rewrite a tool call").toBe(true);
    // agent_end flushed (bounded): nothing could be delivered.
    const status = p.status();
    expect(status.ok).toBe(true);
    expect(status.payload!.relay).toMatchObject({ endpoint, connected: false, enqueued: 10, sent: 0, dropped: 0, errors: 0, pending: 10 });
    balanced(status.payload!.relay!, 10);
    // One line for the cause, at the first flush that could not deliver (a one-shot CLI may exit
    // without ever reaching shutdown).
    expect(p.lines()).toHaveLength(1);
    expect(p.lines()[0]).toContain(`10 event(s) not delivered to ${endpoint} within 300 ms (is Dynamo listening there?)`);
    await runWithTools(p, 1); // another run, another flush (2 more events): no second line for the same cause
    expect(p.lines()).toHaveLength(1);

    await p.services.shutdown("gateway stop");
    const after = p.services.relay!.status();
    expect(after).toMatchObject({ sent: 0, pending: 0, undelivered: 12 });
    balanced(after, 12);
    // Shutdown adds the final count, once.
    const finals = p.lines().slice(1);
    expect(finals, p.lines().join("\n")).toHaveLength(1);
    expect(finals[0]).toMatch(new RegExp(`0 sent, 0 dropped, 0 errors, 12 undelivered \\(${endpoint.replace(/[.]/g, "\\.")}\\)$`));
  }, 30_000);
});

describe("relay listener that stalls (its high-water mark and the socket buffers reached)", () => {
  it("never blocks the caller, drops and counts beyond its capacity with one warning, and delivers everything it counted as sent once the listener reads again", async () => {
    const endpoint = `ipc://${join(tempDir(), "stalled.sock")}`;
    // Dynamo bound, but not reading: its receive pipe and the socket buffers fill up, the relay's
    // writes stop until 'drain', and its bounded queue fills.
    const pull = new Pull({ receiveHighWaterMark: 10 });
    cleanup.push(() => pull.close());
    await pull.bind(endpoint);
    const warnings: string[] = [];
    const transport = new ToolEventTransport({
      endpoint,
      topic: "agent-tool-events",
      capacity: 200,
      log: { warn: (message) => warnings.push(message), info: () => {} },
    });
    cleanup.push(() => transport.close());

    const offered = 30_000;
    const t0 = performance.now();
    for (let i = 0; i < offered; i++) {
      // ~1 KB records, so the stall does not depend on how much the socket buffers absorb.
      transport.send(record(`call_${i}_${PADDING}`));
      if (i % 2_000 === 1_999) await new Promise((resolve) => setImmediate(resolve)); // let the pump run
    }
    const sendMs = performance.now() - t0;
    await transport.flush(300);
    const stalled = transport.counters();
    balanced(stalled, offered);
    expect(stalled.dropped, JSON.stringify(stalled)).toBeGreaterThan(0);
    expect(warnings.filter((line) => line.includes("queue is full"))).toHaveLength(1);
    expect(warnings).toHaveLength(1);
    // Generous bound: the point is that a stalled Dynamo never makes `send` wait.
    expect(sendMs).toBeLessThan(5_000);

    // Dynamo resumes reading: everything enqueued arrives, in order.
    const received: string[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const frames = await pull.receive().catch(() => undefined);
        if (!frames) return;
        received.push((decode(frames[2]!) as ToolEventRecord).tool.tool_call_id.split("_")[1]!);
      }
    })();
    expect(await transport.flush(10_000)).toBe(true);
    const drained = transport.counters();
    await waitUntil(() => received.length >= drained.sent, 10_000);
    reading = false;
    balanced(drained, offered);
    expect(drained).toMatchObject({ pending: 0, errors: 0, undelivered: 0 });
    expect(received).toHaveLength(drained.sent);
    expect(drained.sent).toBe(drained.enqueued);
    const order = received.map(Number);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    pull.close();
    await reader;
  }, 30_000);
});

describe("relay endpoint string malformed or unusable", () => {
  it("a malformed endpoint: one warning naming the variable and the accepted form; relay off; the run is unaffected", async () => {
    const p = await plugin({ DYN_AGENT_TRACE: "1", DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: "tcp//127.0.0.1:5555" });
    const returned = await runWithTools(p, 2);
    expect(returned.every((value) => value === undefined)).toBe(true);
    const lines = p.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[dynamo\] DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: .* is not valid; expected tcp:\/\/<host>:<port> .*ipc:\/\/<path>.*Using the default \(unset: tool-event relay off\)\.$/);
    expect(p.status().payload!.relay).toBeUndefined();
  }, 30_000);

  // Config validates with the relay's own parser (src/relay/endpoint.ts), so an endpoint the relay
  // could not use is refused at config time, with the parser's reason, instead of failing every send.
  it("an endpoint the relay cannot use (ipc path too long): one config warning with the reason; relay off; the run is unaffected", async () => {
    const endpoint = `ipc:///tmp/${"x".repeat(200)}.sock`;
    const p = await plugin({ DYN_AGENT_TRACE: "1", DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: endpoint });
    const returned = await runWithTools(p, 3);
    expect(returned.every((value) => value === undefined)).toBe(true);
    const lines = p.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[dynamo\] DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: .*ipc path too long.*Using the default \(unset: tool-event relay off\)\.$/);
    expect(p.status().payload!.relay).toBeUndefined();
  }, 30_000);
});

const PADDING = "x".repeat(1_000);

function record(callId: string): ToolEventRecord {
  return {
    schema: "dynamo.request.trace.v1",
    event_type: "tool_start",
    event_time_unix_ms: 1783000000000,
    session_id: "4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d0b3f4a55",
    tool: { tool_call_id: callId, tool_class: "read", started_at_unix_ms: 1783000000000, status: "running" },
  };
}

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
