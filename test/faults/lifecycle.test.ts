// Fault matrix, lifecycle rows (SPEC §4.2, §7, §8) at unit level:
//  - gateway stop in the middle of a subagent run: the open Dynamo session is closed (or, when
//    Dynamo does not answer within the bound, reported), open spans end and are exported, the
//    running tool's relay record says `cancelled`, and the stop fits OpenClaw's 5 s gateway_stop
//    budget even when Dynamo, the collector and the relay all hang at once;
//  - SIGTERM to a one-shot process mid-tool-call (a child process, so the signal is real): spans and
//    relay records are flushed and the process ends within the bound.
// The same two rows with the real OpenClaw CLI are in test/e2e/faults.test.ts.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../e2e/harness/ports.ts";
import { startSimulator, type OtlpSpan, type Simulator } from "../sim/index.ts";
import { agentCtx, consume, endRun, loadPlugin, startRun, toolCall, type LoadedPlugin, type StreamContext, type StreamOptions } from "./harness.ts";

const LEAD = { runId: "lead-run", sessionId: "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e" };
const CHILD_KEY = "agent:main:subagent:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const CHILD = { runId: "child-run", sessionKey: CHILD_KEY, sessionId: "11111111-2222-4333-8444-555555555555" };
/** OpenClaw's gateway_stop handler budget (SDK notes §8.2). */
const GATEWAY_STOP_BUDGET_MS = 5_000;

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function sim(generation: "nvext" | "headers"): Promise<Simulator> {
  const s = await startSimulator({ generation });
  cleanup.push(() => s.close());
  return s;
}

async function plugin(pluginConfig: Record<string, unknown>): Promise<LoadedPlugin> {
  const p = await loadPlugin({ pluginConfig });
  cleanup.push(() => p.dispose());
  return p;
}

/** Lead spawns a subagent through the tool bridge; the child sends one request and starts `exec`. */
async function subagentMidToolCall(p: LoadedPlugin, s: Simulator): Promise<string> {
  await startRun(p, LEAD);
  await toolCall(p, LEAD, { toolName: "tool_call", toolCallId: "call_spawn", params: { id: "sessions_spawn", args: { task: "t" } } }, "before");
  await toolCall(p, LEAD, { toolName: "sessions_spawn", toolCallId: "tool_search_code:call_spawn:sessions_spawn:1", params: { task: "t" } }, "before");
  await p.fire(
    "subagent_spawned",
    { runId: CHILD.runId, childSessionKey: CHILD_KEY, agentId: "main", mode: "run", label: "reader" },
    { runId: CHILD.runId, childSessionKey: CHILD_KEY, requesterSessionKey: "agent:main:main" },
  );
  await startRun(p, CHILD, "[Subagent Context] You are running as a subagent.");
  const context = { systemPrompt: "x", messages: [{ role: "user", content: "[[sim:text ok]]", timestamp: 1 }] } as unknown as StreamContext;
  const answer = await consume(p.wrap(), p.model("mock-model", s.baseUrl), context, {
    requestId: `${CHILD.runId}:model:1`,
    sessionId: CHILD.sessionId,
    headers: {},
  } as unknown as StreamOptions);
  expect(answer.message.stopReason).toBe("stop");
  await toolCall(p, CHILD, { toolName: "exec", toolCallId: "call_exec", params: { command: "sleep 30" } }, "before");
  const trajectory = p.services.tree.getRun(CHILD.runId)!.ids.trajectoryId;
  return trajectory;
}

async function timed<T>(step: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await step();
  return { value, ms: performance.now() - t0 };
}

describe("gateway stop in the middle of a subagent run", () => {
  it("closes the open Dynamo session, ends and exports the open spans, relays the running tool as cancelled", async () => {
    const s = await sim("nvext");
    const p = await plugin({ baseUrl: s.baseUrl, agentTrace: true, protocol: "nvext", otlpEndpoint: s.otlpUrl, toolEventsEndpoint: s.zmqEndpoint });
    const trajectory = await subagentMidToolCall(p, s);
    expect(p.status().payload!.openSessions).toEqual([{ trajectoryId: trajectory, protocol: "nvext", runKind: "subagent" }]);
    expect([...s.sessions.open.keys()]).toEqual([trajectory]);

    const stop = await timed(() => p.fire("gateway_stop", { reason: "gateway stopping" }, { port: 1 }));
    expect(stop.ms).toBeLessThan(GATEWAY_STOP_BUDGET_MS);

    expect(s.sessions.open.size, "Dynamo's KV session was released").toBe(0);
    expect(s.sessions.events.filter((e) => e.action === "close").map((e) => e.sessionId)).toEqual([trajectory]);
    expect(s.sessions.violations).toEqual([]);
    const status = p.status().payload!;
    expect(status.openSessions).toEqual([]);
    expect(status.sessionRequests).toMatchObject({ opened: 1, closed: 1, failed: 0 });

    const spans = await s.waitFor(() => (s.otlp.spans.length >= 5 ? s.otlp.spans : undefined), 5_000, "every span exported");
    const named = (name: string, kind?: string) => spans.filter((span) => span.name === name && (!kind || span.attributes["openclaw.run.kind"] === kind));
    const [childAgent] = named("invoke_agent main", "subagent");
    expect(childAgent?.attributes["openclaw.run.end_observed"]).toBe(false);
    const [exec] = named("execute_tool exec");
    expect(exec).toMatchObject({ status: { code: 2 }, attributes: { "dynamo.tool.status": "cancelled", "error.type": "cancelled" } });
    expect(exec!.parentSpanId).toBe(childAgent!.spanId);
    const execRecords = s.relay.accepted.filter((m) => (m.record.tool as { tool_call_id?: string }).tool_call_id === "call_exec");
    expect(execRecords.map((m) => m.record.event_type)).toEqual(["tool_start", "tool_error"]);
    expect((execRecords[1]!.record.tool as { status?: string }).status).toBe("cancelled");
    expect(s.relay.rejected).toEqual([]);
  }, 60_000);

  it("when Dynamo, the collector and the relay all hang, the stop still fits the budget and the unclosed session is reported", async () => {
    const s = await sim("nvext");
    const relayPort = await freePort();
    // Default flush bound (2 s): what a user gets.
    const p = await plugin({
      baseUrl: s.baseUrl,
      agentTrace: true,
      protocol: "nvext",
      otlpEndpoint: s.otlpUrl,
      toolEventsEndpoint: `tcp://127.0.0.1:${relayPort}`,
    });
    const trajectory = await subagentMidToolCall(p, s);
    s.faults.otlp({ mode: "hang" });
    s.faults.chat({ type: "delay", ms: 8_000 }); // the close request: no answer within its 5 s

    const stop = await timed(() => p.fire("gateway_stop", { reason: "gateway stopping" }, { port: 1 }));
    expect(stop.ms).toBeLessThan(GATEWAY_STOP_BUDGET_MS);
    const lines = p.lines();
    const sessionLines = lines.filter((line) => line.includes(trajectory));
    expect(sessionLines, lines.join("\n")).toHaveLength(1);
    expect(sessionLines[0]).toMatch(/session close/);
    expect(lines.some((line) => /not delivered at shutdown/.test(line)), lines.join("\n")).toBe(true);
    expect(lines.some((line) => /undelivered/.test(line) && line.includes(String(relayPort))), lines.join("\n")).toBe(true);
    // Nothing about this run was silently lost: spans and relay events are all accounted for.
    const status = p.status().payload!;
    expect(status.exporter.ended).toBeGreaterThanOrEqual(5);
    expect(status.relay!.enqueued).toBe(status.relay!.undelivered + status.relay!.sent + status.relay!.errors + status.relay!.pending);
    expect(status.relay!.undelivered).toBeGreaterThan(0);
  }, 60_000);

  it("a session end in the headers protocol sends the session-final for each open chain, once", async () => {
    const s = await sim("headers");
    const p = await plugin({ baseUrl: s.baseUrl, agentTrace: true, protocol: "headers" });
    const trajectory = await subagentMidToolCall(p, s);
    await p.fire("session_end", { sessionId: CHILD.sessionId, sessionKey: CHILD_KEY, messageCount: 2, reason: "shutdown" }, agentCtx(CHILD));
    await p.fire("gateway_stop", { reason: "gateway stopping" }, { port: 1 });
    expect(s.sessions.finals.map((f) => f.sessionId)).toEqual([trajectory]);
    expect(p.status().payload!.openSessions).toEqual([]);
  }, 60_000);
});

describe("SIGTERM to a one-shot process mid-tool-call", () => {
  const fixture = fileURLToPath(new URL("./fixtures/sigterm-run.ts", import.meta.url));

  /** Starts the fixture (SIGKILLed after 30 s at the latest); `terminate` sends SIGTERM once it is mid-tool-call. */
  function runFixture(env: Record<string, string>, mode = "one-shot") {
    const stateDir = mkdtempSync(join(tmpdir(), "dynamo-state-"));
    cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const child = spawn(process.execPath, [fixture, mode], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "", OPENCLAW_STATE_DIR: stateDir, ...env } });
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    cleanup.push(() => clearTimeout(killer));
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fixture not ready: ${err}`)), 15_000);
      child.stdout.on("data", () => {
        if (out.includes("READY")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on("exit", () => reject(new Error(`fixture exited early: ${out}\n${err}`)));
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal, at: performance.now() })),
    );
    /** How the fixture ended, and `ms` from the signal to its exit. */
    const terminate = async (signal: NodeJS.Signals = "SIGTERM") => {
      await ready;
      const sentAt = performance.now();
      child.kill(signal);
      const exit = await exited;
      return { ...exit, ms: exit.at - sentAt };
    };
    return { terminate, output: () => `${out}\n${err}` };
  }

  it("flushes spans and relay records, then ends by the signal within the bound", async () => {
    const s = await sim("headers");
    const run = runFixture({ SIM_BASE_URL: s.baseUrl, SIM_OTLP: s.otlpUrl, SIM_ZMQ: s.zmqEndpoint });
    const exit = await run.terminate();
    expect(exit.signal, run.output()).toBe("SIGTERM");
    expect(exit.ms).toBeLessThan(GATEWAY_STOP_BUDGET_MS);

    const spans = await s.waitFor(() => (s.otlp.spans.length >= 3 ? s.otlp.spans : undefined), 2_000, "the run's spans");
    const byName = (name: string): OtlpSpan | undefined => spans.find((span) => span.name === name);
    expect(byName("invoke_agent main")?.attributes["openclaw.run.end_observed"]).toBe(false);
    expect(byName("chat mock-model")?.status.code).toBe(0);
    expect(byName("execute_tool exec")?.attributes["dynamo.tool.status"]).toBe("cancelled");
    const records = s.relay.accepted.map((m) => m.record as { event_type: string; tool: { tool_call_id: string; status: string } });
    expect(records.map((r) => [r.event_type, r.tool.tool_call_id, r.tool.status])).toEqual([
      ["tool_start", "call_exec", "running"],
      ["tool_error", "call_exec", "cancelled"],
    ]);
  }, 60_000);

  it("with a collector that never answers and nothing listening on the relay, still ends within the bound", async () => {
    const s = await sim("headers");
    s.faults.otlp({ mode: "hang" });
    const run = runFixture({ SIM_BASE_URL: s.baseUrl, SIM_OTLP: s.otlpUrl, SIM_ZMQ: `tcp://127.0.0.1:${await freePort()}` });
    const exit = await run.terminate();
    expect(exit.signal, run.output()).toBe("SIGTERM");
    expect(exit.ms).toBeLessThan(GATEWAY_STOP_BUDGET_MS);
    const out = run.output();
    expect(out).toMatch(/spans exported, 0 failed, \d+ not delivered at shutdown/);
    expect(out).toMatch(/2 undelivered/);
  }, 60_000);

  /** The signal only flushed: the run finished afterwards, its spans and relay records delivered as usual. */
  async function expectRunWentOn(s: Simulator, output: () => string): Promise<void> {
    const spans = await s.waitFor(() => (s.otlp.spans.length >= 3 ? s.otlp.spans : undefined), 5_000, "the run's spans");
    expect(spans.find((span) => span.name === "execute_tool exec")?.attributes["dynamo.tool.status"], output()).toBe("succeeded");
    expect(spans.find((span) => span.name === "invoke_agent main")?.attributes["openclaw.run.end_observed"]).toBeUndefined();
    const records = s.relay.accepted.map((m) => m.record as { event_type: string; tool: { status: string } });
    expect(records.map((r) => [r.event_type, r.tool.status])).toEqual([
      ["tool_start", "running"],
      ["tool_end", "succeeded"],
    ]);
  }

  it("in a Gateway, SIGTERM only flushes: the runs OpenClaw drains afterwards are still traced and relayed, then gateway_stop shuts down", async () => {
    const s = await sim("headers");
    const run = runFixture({ SIM_BASE_URL: s.baseUrl, SIM_OTLP: s.otlpUrl, SIM_ZMQ: s.zmqEndpoint }, "gateway");
    const exit = await run.terminate();
    expect(exit.code, run.output()).toBe(0);
    await expectRunWentOn(s, run.output);
  }, 60_000);

  it("with another SIGINT listener and no Gateway (OpenClaw's TUI clearing its input), Ctrl+C only flushes: the run goes on, traced and relayed", async () => {
    const s = await sim("headers");
    const run = runFixture({ SIM_BASE_URL: s.baseUrl, SIM_OTLP: s.otlpUrl, SIM_ZMQ: s.zmqEndpoint }, "tui");
    const exit = await run.terminate("SIGINT");
    expect(exit.code, run.output()).toBe(0);
    expect(run.output()).toContain("INPUT CLEARED");
    await expectRunWentOn(s, run.output);
  }, 60_000);
});
