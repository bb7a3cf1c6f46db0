// Plugin replacement in a running Gateway (docs/lifecycle.md), at unit level: the real
// `registerDynamoPlugin` registered twice in one process, as OpenClaw does it —
// `gateway_stop {reason: "plugin replacement"}` on the first registration, then `register()` with
// the new settings, then `gateway_start` — against the simulator's OTLP receiver and relay PULL
// socket. The end-to-end version with a real Gateway is test/e2e/gateway-reload.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { registerDynamoPlugin } from "../src/plugin.ts";
import { getServices } from "../src/generations.ts";
import { peekPluginRuntime, resetPluginRuntimeForTests, type PluginRuntime } from "../src/runtime.ts";
import type { PluginStatus } from "../src/services.ts";
import { startSimulator, type OtlpSpan, type Simulator } from "./sim/index.ts";
import { endRun, startRun, toolCall, PLUGIN_ENV, type Handler, type LoadedPlugin, type RunIds } from "./faults/harness.ts";

const REPLACEMENT = { reason: "plugin replacement" };
const SIGNALS = ["SIGTERM", "SIGINT", "beforeExit"] as const;

/** One `register()` call: the handlers and status method that registration gave OpenClaw. */
interface Registration {
  fire(name: string, event?: unknown, ctx?: unknown): Promise<unknown[]>;
  status(): PluginStatus;
  lines: string[];
}

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Isolates the process-wide runtime, the plugin's env and the signal handlers it installs. */
function isolate(): void {
  const saved = new Map(PLUGIN_ENV.map((name) => [name, process.env[name]] as const));
  for (const name of PLUGIN_ENV) delete process.env[name];
  // Chains are kept under OpenClaw's state dir: a private one per test, never ~/.openclaw.
  const savedStateDir = process.env.OPENCLAW_STATE_DIR;
  const stateDir = mkdtempSync(join(tmpdir(), "dynamo-state-"));
  process.env.OPENCLAW_STATE_DIR = stateDir;
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s as NodeJS.Signals))]));
  resetPluginRuntimeForTests();
  cleanup.push(async () => {
    const runtime = peekPluginRuntime();
    if (runtime) await getServices(runtime).shutdown("test end");
    for (const s of SIGNALS) {
      for (const fn of process.listeners(s as NodeJS.Signals)) if (!before.get(s)!.has(fn)) process.removeListener(s, fn);
    }
    resetPluginRuntimeForTests();
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    if (savedStateDir === undefined) delete process.env.OPENCLAW_STATE_DIR;
    else process.env.OPENCLAW_STATE_DIR = savedStateDir;
    rmSync(stateDir, { recursive: true, force: true });
  });
}

function register(pluginConfig: Record<string, unknown>): Registration {
  const hooks = new Map<string, Handler[]>();
  let statusMethod: ((request: { respond: (ok: boolean, payload?: unknown) => void }) => void) | undefined;
  const lines: string[] = [];
  const api = {
    id: "dynamo",
    pluginConfig,
    config: { plugins: { entries: { dynamo: { enabled: true, hooks: { allowConversationAccess: true } } } } },
    logger: { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m), debug: () => {} },
    on: (name: string, handler: Handler) => hooks.set(name, [...(hooks.get(name) ?? []), handler]),
    registerProvider: () => {},
    registerGatewayMethod: (name: string, handler: never) => {
      if (name === "dynamo.status") statusMethod = handler;
    },
  };
  registerDynamoPlugin(api as never);
  return {
    lines,
    async fire(name, event = {}, ctx = {}) {
      const results: unknown[] = [];
      for (const handler of hooks.get(name) ?? []) results.push(await handler(event, ctx));
      return results;
    },
    status() {
      let payload: unknown;
      statusMethod!({ respond: (_ok, p) => (payload = p) });
      return JSON.parse(JSON.stringify(payload)) as PluginStatus;
    },
  };
}

const asPlugin = (registration: Registration) => registration as unknown as LoadedPlugin;
const runtime = (): PluginRuntime => peekPluginRuntime()!;

async function sim(): Promise<Simulator> {
  const s = await startSimulator({ generation: "headers" });
  cleanup.push(() => s.close());
  return s;
}

const RUN_1: RunIds = { runId: "run-before", sessionId: "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e" };
const RUN_2: RunIds = { runId: "run-after", sessionId: "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6f" };
const settings = (s: Simulator, extra: Record<string, unknown> = {}) => ({
  baseUrl: s.baseUrl,
  agentTrace: true,
  protocol: "headers",
  otlpEndpoint: s.otlpUrl,
  toolEventsEndpoint: s.zmqEndpoint,
  ...extra,
});
const toolRecordsOf = (s: Simulator, callId: string) =>
  s.relay.accepted
    .filter((m) => (m.record.tool as { tool_call_id?: string }).tool_call_id === callId)
    .map((m) => [m.record.event_type, (m.record.tool as { status?: string }).status]);
/** The span `name` of run `runId` (tool spans are found through their agent span's trace). */
const spanOf = (spans: OtlpSpan[], name: string, runId: string) => {
  const agent = spans.find((span) => span.name === "invoke_agent main" && span.attributes["openclaw.run.id"] === runId);
  return agent && spans.find((span) => span.name === name && span.traceId === agent.traceId);
};

describe("plugin replacement with new settings", () => {
  it("rebuilds exporter, relay and sessions with the new settings; the old generation ends its open spans into its own exporter and relay, flushed and closed; nothing is dropped", async () => {
    isolate();
    const s = await sim();
    const first = register(settings(s));
    await first.fire("gateway_start", { port: 1 }, { port: 1 });
    const old = getServices(runtime());
    // A run is mid-tool-call when the config changes.
    await startRun(asPlugin(first), RUN_1, "first prompt");
    await toolCall(asPlugin(first), RUN_1, { toolName: "exec", toolCallId: "call_open", params: { command: "sleep 5" } }, "before");

    await first.fire("gateway_stop", REPLACEMENT, { port: 1 });
    // OpenClaw disposes the old instance right after this stop: the generation is closed by now.
    expect(old.closed).toBe(true);
    const second = register(settings(s, { capture: { prompts: true } }));
    await second.fire("gateway_start", { port: 1 }, { port: 1 });

    const current = getServices(runtime());
    expect(current).not.toBe(old);
    expect(current.generation).toBe(2);
    expect(current.fingerprint).not.toBe(old.fingerprint);
    expect(old.closed).toBe(true);
    expect(runtime().config.capture.prompts).toBe(true);
    expect(first.lines.concat(second.lines).some((line) => /generation 2 of the exporter, relay and Dynamo sessions runs with the new settings/.test(line))).toBe(true);

    // The old generation's open tool call ended as cancelled, exported and relayed before it closed.
    const oldSpans = await s.waitFor(() => (spanOf(s.otlp.spans, "execute_tool exec", RUN_1.runId) ? s.otlp.spans : undefined), 5_000, "old spans");
    expect(spanOf(oldSpans, "execute_tool exec", RUN_1.runId)?.attributes["dynamo.tool.status"]).toBe("cancelled");
    expect(spanOf(oldSpans, "invoke_agent main", RUN_1.runId)?.attributes["input.value"]).toBeUndefined();
    await s.waitFor(() => toolRecordsOf(s, "call_open").length === 2, 5_000, "old relay records");
    expect(toolRecordsOf(s, "call_open")).toEqual([
      ["tool_start", "running"],
      ["tool_error", "cancelled"],
    ]);

    // Hooks of the *old* registration that still fire reach the new generation (and its settings).
    await startRun(asPlugin(first), RUN_2, "second prompt");
    await toolCall(asPlugin(first), RUN_2, { toolName: "read", toolCallId: "call_after", params: { path: "a" }, result: "ok" });
    await endRun(asPlugin(second), RUN_2);
    const agent = await s.waitFor(() => spanOf(s.otlp.spans, "invoke_agent main", RUN_2.runId), 5_000, "new run's agent span");
    expect(String(agent.attributes["input.value"])).toContain("second prompt");
    await s.waitFor(() => toolRecordsOf(s, "call_after").length === 2, 5_000, "new relay records");
    expect(toolRecordsOf(s, "call_after")).toEqual([
      ["tool_start", "running"],
      ["tool_end", "succeeded"],
    ]);
    expect(s.relay.rejected).toEqual([]);

    // Both registrations' status methods answer for generation 2, with generation 1's final counters.
    for (const status of [first.status(), second.status()]) {
      expect(status.generation).toBe(2);
      expect(status.relay).toMatchObject({ dropped: 0, undelivered: 0, errors: 0, pending: 0, sent: 2 });
      expect(status.exporter.failed).toBe(0);
      const [replaced] = status.replacedGenerations ?? [];
      expect(replaced).toMatchObject({ generation: 1, reason: "plugin replacement" });
      expect(replaced!.relay).toMatchObject({ dropped: 0, undelivered: 0, errors: 0, pending: 0, sent: 2 });
      expect(replaced!.exporter.failed).toBe(0);
      expect(replaced!.exporter.exported).toBe(replaced!.exporter.ended);
    }
  }, 30_000);
});

describe("registrations without a stop", () => {
  it("the same settings keep the services (OpenClaw registers several times per process); other settings retire them, run and all, and rebuild", async () => {
    isolate();
    const s = await sim();
    const first = register(settings(s));
    const old = getServices(runtime());
    await startRun(asPlugin(first), RUN_1);
    await toolCall(asPlugin(first), RUN_1, { toolName: "exec", toolCallId: "call_kept", params: { command: "true" } }, "before");

    register(settings(s));
    register(settings(s));
    expect(getServices(runtime())).toBe(old);
    expect(old.closed).toBe(false);
    await toolCall(asPlugin(first), RUN_1, { toolName: "exec", toolCallId: "call_kept", params: { command: "true" }, result: "ok" }, "after");
    await endRun(asPlugin(first), RUN_1);
    await s.waitFor(() => toolRecordsOf(s, "call_kept").length === 2, 5_000, "relay records");
    expect(toolRecordsOf(s, "call_kept")).toEqual([
      ["tool_start", "running"],
      ["tool_end", "succeeded"],
    ]);

    await startRun(asPlugin(first), RUN_2);
    await toolCall(asPlugin(first), RUN_2, { toolName: "exec", toolCallId: "call_cut", params: { command: "sleep 5" } }, "before");
    const other = register(settings(s, { capture: { toolArguments: true } }));
    const current = getServices(runtime());
    expect(current.generation).toBe(2);
    expect(old.closed).toBe(true);
    await s.waitFor(() => toolRecordsOf(s, "call_cut").length === 2, 5_000, "the cut tool call relayed by the old generation");
    expect(toolRecordsOf(s, "call_cut")).toEqual([
      ["tool_start", "running"],
      ["tool_error", "cancelled"],
    ]);
    // The rest of that run is traced by the new generation, with its settings.
    await toolCall(asPlugin(first), RUN_2, { toolName: "read", toolCallId: "call_next", params: { path: "visible" }, result: "ok" });
    await endRun(asPlugin(other), RUN_2);
    const read = await s.waitFor(() => s.otlp.spans.find((span) => span.name === "execute_tool read"), 5_000, "the next tool span");
    expect(String(read.attributes["input.value"])).toContain("visible");
    await s.waitFor(() => other.status().replacedGenerations !== undefined, 5_000, "the old generation's final counters");
    expect(other.status().replacedGenerations![0]).toMatchObject({ generation: 1, reason: "settings changed", relay: { dropped: 0, pending: 0, sent: 4 } });
  }, 30_000);
});

describe("a final stop followed by a new registration (in-process Gateway restart)", () => {
  it("builds a new generation instead of handing back the closed one", async () => {
    isolate();
    const s = await sim();
    const first = register(settings(s));
    const old = getServices(runtime());
    await first.fire("gateway_stop", { reason: "gateway stopping" }, { port: 1 });
    expect(old.closed).toBe(true);
    // Hooks still firing after the final stop (session_end follows gateway_stop) do not reopen anything.
    await first.fire("session_end", { sessionId: RUN_1.sessionId, reason: "shutdown" }, {});
    expect(getServices(runtime())).toBe(old);

    const second = register(settings(s));
    const current = getServices(runtime());
    expect(current.generation).toBe(2);
    expect(current.closed).toBe(false);
    await startRun(asPlugin(second), RUN_2);
    await toolCall(asPlugin(second), RUN_2, { toolName: "read", toolCallId: "call_restart", result: "ok" });
    await endRun(asPlugin(second), RUN_2);
    await s.waitFor(() => toolRecordsOf(s, "call_restart").length === 2, 5_000, "relay records");
    expect(second.status().relay).toMatchObject({ dropped: 0, sent: 2 });
  }, 30_000);
});
