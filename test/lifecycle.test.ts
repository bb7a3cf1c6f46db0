// The signal rule (docs/lifecycle.md), with the real plugin and a stand-in for `process` whose
// listeners, pid and kill() the test controls (a real SIGTERM would end the test runner; the
// child-process version is in test/faults/lifecycle.test.ts):
//  - another SIGINT/SIGTERM listener exists (a Gateway draining its runs, OpenClaw's TUI clearing
//    its input on the first Ctrl+C): flush only, services stay open, and the next signal is handled
//    the same way; SIGTERM outside a Gateway (OpenClaw's one-shot CLI, which aborts the run and
//    exits without waiting for agent_end's flush) also ends the open spans before that flush;
//  - the plugin is the only listener: shut down (open spans ended and exported, relay flushed,
//    services closed), then re-raise the signal with the plugin's handler removed.
import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { installProcessHandlers, type SignalTarget } from "../src/lifecycle.ts";
import { peekPluginRuntime } from "../src/runtime.ts";
import { getServices } from "../src/services.ts";
import { startSimulator, type Simulator } from "./sim/index.ts";
import { loadPlugin, startRun, toolCall, type LoadedPlugin } from "./faults/harness.ts";

const RUN = { runId: "tui-run", sessionId: "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e" };

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

class FakeProcess extends EventEmitter implements SignalTarget {
  readonly pid = 4242;
  readonly kills: Array<{ pid: number; signal: string; listeners: number; closedBefore: boolean }> = [];
  private readonly closed: () => boolean;
  constructor(closed: () => boolean) {
    super();
    this.closed = closed;
  }
  override listeners(event: string | symbol): Function[] {
    return super.listeners(event);
  }
  kill(pid: number, signal: "SIGTERM" | "SIGINT"): boolean {
    this.kills.push({ pid, signal, listeners: this.listenerCount(signal), closedBefore: this.closed() });
    return true;
  }
}

async function setup(): Promise<{ s: Simulator; p: LoadedPlugin; target: FakeProcess }> {
  const s = await startSimulator({ generation: "headers" });
  cleanup.push(() => s.close());
  const p = await loadPlugin({
    pluginConfig: { baseUrl: s.baseUrl, agentTrace: true, protocol: "headers", otlpEndpoint: s.otlpUrl, toolEventsEndpoint: s.zmqEndpoint },
  });
  cleanup.push(() => p.dispose());
  const runtime = peekPluginRuntime()!;
  const target = new FakeProcess(() => getServices(runtime).closed);
  installProcessHandlers(runtime, target);
  // Mid-run: a tool call is open, and a finished one's records are waiting in the relay queue.
  await startRun(p, RUN);
  await toolCall(p, RUN, { toolName: "read", toolCallId: "call_done", result: "ok" });
  await toolCall(p, RUN, { toolName: "exec", toolCallId: "call_open", params: { command: "sleep 9" } }, "before");
  return { s, p, target };
}

const records = (s: Simulator) =>
  s.relay.accepted.map((m) => [m.record.event_type, (m.record.tool as { tool_call_id?: string }).tool_call_id, (m.record.tool as { status?: string }).status]);

describe("SIGINT / SIGTERM while another listener exists", () => {
  it("only flushes: the services stay open, the open run goes on, and a second signal is handled the same way", async () => {
    const { s, p, target } = await setup();
    const hostSeen: string[] = [];
    target.on("SIGINT", () => hostSeen.push("SIGINT")); // e.g. the TUI clearing its input

    target.emit("SIGINT");
    await s.waitFor(() => records(s).length === 3, 5_000, "queued relay records flushed");
    expect(records(s)).toEqual([
      ["tool_start", "call_done", "running"],
      ["tool_end", "call_done", "succeeded"],
      ["tool_start", "call_open", "running"],
    ]);
    expect(p.services.closed).toBe(false);
    expect(target.kills).toEqual([]);

    // The run goes on with the same services, and a second Ctrl+C still only flushes.
    await toolCall(p, RUN, { toolName: "exec", toolCallId: "call_open", params: { command: "sleep 9" }, result: "done" }, "after");
    target.emit("SIGINT");
    await s.waitFor(() => records(s).length === 4, 5_000, "the finished tool call relayed");
    expect(records(s)[3]).toEqual(["tool_end", "call_open", "succeeded"]);
    expect(p.services.closed).toBe(false);
    expect(target.kills).toEqual([]);
    expect(hostSeen).toEqual(["SIGINT", "SIGINT"]);
    expect(p.status().payload!.relay).toMatchObject({ dropped: 0, pending: 0 });
  }, 30_000);
});

describe("SIGTERM while another listener exists", () => {
  it("outside a Gateway (a one-shot CLI about to exit): ends the open spans as cancelled and exports them with this flush; services stay open", async () => {
    const { s, p, target } = await setup();
    target.on("SIGTERM", () => {}); // OpenClaw's one-shot CLI: aborts the run, exits with 143
    target.emit("SIGTERM");
    const spans = await s.waitFor(() => (s.otlp.spans.some((span) => span.name === "invoke_agent main") ? s.otlp.spans : undefined), 5_000, "spans exported");
    expect(spans.find((span) => span.name === "execute_tool exec")?.attributes["dynamo.tool.status"]).toBe("cancelled");
    await s.waitFor(() => records(s).length === 4, 5_000, "the cancelled tool call relayed");
    expect(records(s)[3]).toEqual(["tool_error", "call_open", "cancelled"]);
    expect(p.services.closed).toBe(false);
    expect(target.kills).toEqual([]);
    // OpenClaw's abort reaches the plugin afterwards: nothing is ended twice, nothing fails.
    await toolCall(p, RUN, { toolName: "exec", toolCallId: "call_open", error: "This operation was aborted" }, "after");
    await p.fire("agent_end", { runId: RUN.runId, messages: [], success: false, error: "This operation was aborted" }, { runId: RUN.runId, sessionId: RUN.sessionId });
    expect(records(s)).toHaveLength(4);
    expect(p.logs.filter((line) => line.level !== "info")).toEqual([]);
  }, 30_000);

  it("in a Gateway: only flushes, the open run goes on (the Gateway drains it, then gateway_stop)", async () => {
    const { s, p, target } = await setup();
    await p.fire("gateway_start", { port: 1 }, { port: 1 });
    target.on("SIGTERM", () => {}); // the Gateway's drain
    target.emit("SIGTERM");
    await s.waitFor(() => records(s).length === 3, 5_000, "queued relay records flushed");
    expect(records(s)[2]).toEqual(["tool_start", "call_open", "running"]);
    await toolCall(p, RUN, { toolName: "exec", toolCallId: "call_open", params: { command: "sleep 9" }, result: "done" }, "after");
    target.emit("SIGTERM");
    await s.waitFor(() => records(s).length === 4, 5_000, "the finished tool call relayed");
    expect(records(s)[3]).toEqual(["tool_end", "call_open", "succeeded"]);
    expect(p.services.closed).toBe(false);
  }, 30_000);
});

describe("SIGINT / SIGTERM with the plugin as the only listener", () => {
  it("shuts down (open spans ended and exported, relay flushed, services closed), then re-raises the signal with its handler removed", async () => {
    const { s, p, target } = await setup();
    target.emit("SIGTERM");
    await s.waitFor(() => target.kills.length === 1, 5_000, "the signal re-raised");
    expect(target.kills).toEqual([{ pid: 4242, signal: "SIGTERM", listeners: 0, closedBefore: true }]);
    expect(p.services.closed).toBe(true);

    expect(records(s)).toEqual([
      ["tool_start", "call_done", "running"],
      ["tool_end", "call_done", "succeeded"],
      ["tool_start", "call_open", "running"],
      ["tool_error", "call_open", "cancelled"],
    ]);
    const spans = await s.waitFor(() => (s.otlp.spans.length >= 3 ? s.otlp.spans : undefined), 5_000, "spans exported");
    expect(spans.find((span) => span.name === "execute_tool exec")?.attributes["dynamo.tool.status"]).toBe("cancelled");
    expect(spans.find((span) => span.name === "invoke_agent main")?.attributes["openclaw.run.end_observed"]).toBe(false);
    // The other signal's handler is still there (it was not the one raised).
    expect(target.listenerCount("SIGINT")).toBe(1);
  }, 30_000);
});
