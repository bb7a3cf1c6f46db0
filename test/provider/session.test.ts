import { randomBytes } from "node:crypto";
// Dynamo session lifecycle against the simulated Dynamo (both generations): the nvext close
// request (dynamo-wire.md §2.3), the headers session-final request (§3.2), idempotence, failures
// and counters.
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { TracerProvider } from "@opentelemetry/sdk-trace";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { agentContext } from "../../src/provider/identity.ts";
import { DynamoSessions, TERMINAL_REQUEST_TIMEOUT_MS, type DynamoSessionsOptions } from "../../src/provider/session.ts";
import * as hooks from "../../src/trace/hooks.ts";
import { ReservableIdGenerator } from "../../src/trace/id-generator.ts";
import { SpanTree, type AgentRun } from "../../src/trace/span-tree.ts";
import { startSimulator, type Simulator } from "../sim/index.ts";

const LEAD_KEY = "agent:main:main";
const LEAD_SESSION = "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e";
const CHILD_KEY = "agent:main:subagent:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const CHILD_SESSION = "11111111-2222-4333-8444-555555555555";
const CHILD_RUN = "c0ffee00-1111-4222-8333-444455556666";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MINIMAL_BODY = { model: "mock-model", messages: [{ role: "user", content: "." }], max_tokens: 1, stream: false };

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ generation: "nvext" });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.clear();
  sim.faults.reset();
  sim.setGeneration("nvext");
});

let provider: TracerProvider | undefined;
afterEach(async () => {
  await provider?.shutdown();
  provider = undefined;
});

/** A lead run R1 and its subagent (spawned through the bridge), as the span tree builds them. */
function runs(): { tree: SpanTree; lead: AgentRun; child: AgentRun } {
  const { config } = loadConfig({ agentTrace: true }, {});
  const idGenerator = new ReservableIdGenerator();
  provider = new TracerProvider({ idGenerator });
  const tree = new SpanTree({ tracer: provider.getTracer("test"), idGenerator, config });
  // Like OpenClaw's before_prompt_build: the ctx carries OpenClaw's trace context.
  const ctx = (runId: string, sessionKey: string, sessionId: string) => ({ runId, agentId: "main", sessionKey, sessionId, modelProviderId: "dynamo", modelId: "mock-model", trace: { traceId: randomBytes(16).toString("hex") } });
  hooks.onRunStart(tree, {}, ctx("R1", LEAD_KEY, LEAD_SESSION));
  hooks.onBeforeToolCall(tree, { toolName: "tool_call", params: { id: "sessions_spawn", args: {} }, runId: "R1", toolCallId: "call_1" }, ctx("R1", LEAD_KEY, LEAD_SESSION));
  hooks.onSubagentSpawned(tree, { runId: CHILD_RUN, childSessionKey: CHILD_KEY }, { runId: CHILD_RUN, childSessionKey: CHILD_KEY, requesterSessionKey: LEAD_KEY });
  hooks.onRunStart(tree, {}, ctx(CHILD_RUN, CHILD_KEY, CHILD_SESSION));
  const lead = tree.getRun("R1")!;
  const child = tree.getRun(CHILD_RUN)!;
  expect(child.isSubagent).toBe(true);
  expect(child.ids.parentTrajectoryId).toBe(lead.ids.trajectoryId);
  return { tree, lead, child };
}

const traceparentOf = (run: AgentRun) => `00-${run.spanContext.traceId}-${run.spanContext.spanId}-01`;

function sessions(options: Partial<DynamoSessionsOptions> = {}) {
  const warnings: string[] = [];
  const debug: string[] = [];
  const s = new DynamoSessions({
    baseUrl: sim.baseUrl,
    apiKey: () => "sk-test-key",
    traceparentOf,
    log: { warn: (m) => warnings.push(m), debug: (m) => debug.push(m) },
    ...options,
  });
  return { s, warnings, debug };
}

/** The request the stream wrapper would send for the run's next model call (nvext), answered by the sim. */
async function modelRequest(s: DynamoSessions, run: AgentRun) {
  const control = s.controlFor(run);
  const response = await fetch(`${sim.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "mock-model",
      messages: [{ role: "user", content: "hi" }],
      stream: false,
      nvext: { agent_context: agentContext("openclaw_coding_agent", run.ids), ...(control ? { session_control: control } : {}) },
    }),
  });
  expect(response.status).toBe(200);
  await response.text();
  // As the stream wrapper does: an `open` counts once Dynamo answered it.
  if (control?.action === "open") s.openSettled(run, response.ok);
  return control;
}

describe("DynamoSessions, nvext (Dynamo 1.2)", () => {
  it("opens a subagent session, uses it, and closes it with the minimal close request of §2.3", async () => {
    const { child, lead } = runs();
    const { s, warnings } = sessions({ timeoutSeconds: 90 });
    expect(await modelRequest(s, lead)).toBeUndefined();
    expect(await modelRequest(s, child)).toEqual({ session_id: child.ids.trajectoryId, action: "open", timeout: 90 });
    expect(await modelRequest(s, child)).toEqual({ session_id: child.ids.trajectoryId });
    expect(s.openChains()).toEqual([{ trajectoryId: child.ids.trajectoryId, protocol: "nvext", runKind: "subagent" }]);
    expect(sim.sessions.open.get(child.ids.trajectoryId)).toBe(90);

    s.runEnded(child);
    await s.settled();
    const close = sim.chatRequests().at(-1)!;
    expect(close).toMatchObject({ method: "POST", path: "/v1/chat/completions", status: 200, stream: false });
    expect(close.body).toEqual({ ...MINIMAL_BODY, nvext: { session_control: { session_id: child.ids.trajectoryId, action: "close" } } });
    expect(close.headers["content-type"]).toBe("application/json");
    expect(close.headers.authorization).toBe("Bearer sk-test-key");
    expect(close.xRequestId).toMatch(UUID);
    expect(close.traceparent).toBe(traceparentOf(child));
    expect(close.dynamoHeaders).toEqual({});
    expect(sim.sessions.events.map((event) => event.action)).toEqual(["open", "use", "close"]);
    expect(sim.sessions.violations).toEqual([]);
    expect(sim.sessions.open.size).toBe(0);
    expect(s.counters).toEqual({ opened: 1, closed: 1, finals: 0, failed: 0 });
    expect(s.openChains()).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("never gives the lead session_control and never closes it", async () => {
    const { lead } = runs();
    const { s } = sessions();
    expect(s.controlFor(lead)).toBeUndefined();
    s.runEnded(lead);
    s.sessionEnded(LEAD_KEY, LEAD_SESSION);
    await s.terminateAll();
    expect(sim.requests).toEqual([]);
    expect(s.counters).toEqual({ opened: 0, closed: 0, finals: 0, failed: 0 });
  });

  it("omits timeout when none is configured", () => {
    const { child } = runs();
    const { s } = sessions();
    expect(s.controlFor(child)).toEqual({ session_id: child.ids.trajectoryId, action: "open" });
  });

  it("closes at most once: run end, session end, gateway stop", async () => {
    const { child } = runs();
    const { s } = sessions();
    await modelRequest(s, child);
    s.runEnded(child);
    s.runEnded(child);
    s.sessionEnded(CHILD_KEY, CHILD_SESSION);
    await s.terminateAll();
    expect(sim.chatRequests().map((request) => (request.body as { nvext: { session_control: { action?: string } } }).nvext.session_control.action)).toEqual(["open", "close"]);
    expect(s.counters.closed).toBe(1);
  });

  it("re-opens a closed session on the next request", async () => {
    const { child } = runs();
    const { s } = sessions();
    await modelRequest(s, child);
    s.runEnded(child);
    await s.settled();
    expect(await modelRequest(s, child)).toEqual({ session_id: child.ids.trajectoryId, action: "open" });
    expect(s.counters.opened).toBe(2);
    expect(sim.sessions.violations).toEqual([]);
  });

  it("closes nothing that was never opened", async () => {
    const { child } = runs();
    const { s } = sessions();
    s.runEnded(child);
    await s.terminateAll();
    expect(sim.requests).toEqual([]);
  });

  it("closes a subagent chain still open when its session ends, or at gateway stop", async () => {
    const { child } = runs();
    const first = sessions();
    await modelRequest(first.s, child);
    first.s.sessionEnded(undefined, CHILD_SESSION); // matched by session id
    await first.s.settled();
    expect(first.s.counters.closed).toBe(1);

    sim.clear();
    const second = sessions();
    await modelRequest(second.s, child);
    await second.s.terminateAll();
    expect(second.s.counters.closed).toBe(1);
    expect(sim.sessions.events.map((event) => event.action)).toEqual(["open", "close"]);
  });

  it("counts and logs a failed close (HTTP 500) without throwing", async () => {
    const { child } = runs();
    const { s, warnings } = sessions();
    await modelRequest(s, child);
    sim.faults.chat({ type: "status", status: 500 });
    s.runEnded(child);
    await s.settled();
    expect(s.counters).toEqual({ opened: 1, closed: 0, finals: 0, failed: 1 });
    expect(warnings).toEqual([
      `Dynamo session close request for ${child.ids.trajectoryId} failed (HTTP 500); Dynamo's idle timeout will free it.`,
    ]);
    // Still closed at most once.
    s.runEnded(child);
    await s.terminateAll();
    expect(sim.chatRequests()).toHaveLength(2);
  });
});

describe("DynamoSessions, headers (Dynamo 1.3+)", () => {
  beforeEach(() => sim.setGeneration("headers"));

  it("sends the session-final of §3.2 when a subagent run ends, and for the lead when its session ends", async () => {
    const { lead, child } = runs();
    const { s, warnings } = sessions();
    s.noteHeadersRequest(lead);
    s.noteHeadersRequest(child);
    expect(s.openChains().map((chain) => [chain.runKind, chain.protocol])).toEqual([
      ["lead", "headers"],
      ["subagent", "headers"],
    ]);

    s.runEnded(child);
    s.runEnded(lead); // the lead waits for its session to end
    await s.settled();
    expect(sim.chatRequests()).toHaveLength(1);
    const childFinal = sim.chatRequests()[0]!;
    expect(childFinal).toMatchObject({ status: 200, stream: false, sessionFinal: true });
    expect(childFinal.body).toEqual(MINIMAL_BODY);
    expect(childFinal.dynamoHeaders).toEqual({
      "x-dynamo-session-id": child.ids.trajectoryId,
      "x-dynamo-parent-session-id": lead.ids.trajectoryId,
      "x-dynamo-session-final": "true",
    });
    expect(childFinal.headers.authorization).toBe("Bearer sk-test-key");
    expect(childFinal.headers["content-type"]).toBe("application/json");
    expect(childFinal.xRequestId).toMatch(UUID);
    expect(childFinal.traceparent).toBe(traceparentOf(child));

    s.sessionEnded(LEAD_KEY, LEAD_SESSION);
    s.sessionEnded(LEAD_KEY, LEAD_SESSION);
    await s.terminateAll();
    expect(sim.chatRequests()).toHaveLength(2);
    const leadFinal = sim.chatRequests()[1]!;
    expect(leadFinal.body).toEqual(MINIMAL_BODY);
    expect(leadFinal.dynamoHeaders).toEqual({ "x-dynamo-session-id": lead.ids.trajectoryId, "x-dynamo-session-final": "true" });
    expect(sim.sessions.finals).toEqual([
      { sessionId: child.ids.trajectoryId, parentSessionId: lead.ids.trajectoryId, requestIndex: 0 },
      { sessionId: lead.ids.trajectoryId, requestIndex: 1 },
    ]);
    expect(s.counters).toEqual({ opened: 0, closed: 0, finals: 2, failed: 0 });
    expect(s.openChains()).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("sends nothing for a chain that never sent a request", async () => {
    const { lead, child } = runs();
    const { s } = sessions();
    s.runEnded(child);
    s.sessionEnded(LEAD_KEY);
    await s.terminateAll();
    expect(sim.requests).toEqual([]);
    expect(lead.ended).toBe(false);
  });
});

describe("DynamoSessions: failures never throw", () => {
  it("logs a refused connection", async () => {
    const { child } = runs();
    const closed = await new Promise<number>((resolve) => {
      const server: Server = createServer();
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const { s, warnings } = sessions({ baseUrl: `http://127.0.0.1:${closed}/v1` });
    s.controlFor(child);
    s.openSettled(child, true);
    s.runEnded(child);
    await s.settled();
    expect(s.counters).toEqual({ opened: 1, closed: 0, finals: 0, failed: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^Dynamo session close request for ${child.ids.trajectoryId} failed \\(.+\\); Dynamo's idle timeout will free it\\.$`));
  });

  // The 5 s bound is AbortSignal.timeout(TERMINAL_REQUEST_TIMEOUT_MS), which fake timers cannot
  // advance; a real 5 s wait is too slow for a unit test. Instead the injected fetch sees the signal
  // and answers the way fetch does when that signal fires.
  it("reports a request that times out as 'no answer within 5 s'", async () => {
    expect(TERMINAL_REQUEST_TIMEOUT_MS).toBe(5_000);
    const { child } = runs();
    const signals: AbortSignal[] = [];
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      signals.push(init.signal!);
      throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
    }) as unknown as typeof fetch;
    const { s, warnings } = sessions({ fetchImpl });
    s.noteHeadersRequest(child);
    s.runEnded(child);
    await s.settled();
    expect(signals).toHaveLength(1);
    expect(signals[0]).toBeInstanceOf(AbortSignal);
    expect(signals[0]!.aborted).toBe(false);
    expect(s.counters.failed).toBe(1);
    expect(warnings).toEqual([
      `Dynamo session-final request for ${child.ids.trajectoryId} failed (no answer within 5 s); Dynamo's idle timeout will free it.`,
    ]);
  });

  it("terminateAll waits for the requests in flight", async () => {
    const { child } = runs();
    let answer: (response: Response) => void = () => {};
    const fetchImpl = (() => new Promise<Response>((resolve) => (answer = resolve))) as unknown as typeof fetch;
    const { s } = sessions({ fetchImpl });
    s.controlFor(child);
    s.openSettled(child, true);
    let done = false;
    const all = s.terminateAll().then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    answer(new Response("{}", { status: 200 }));
    await all;
    expect(s.counters.closed).toBe(1);
  });
});

describe("DynamoSessions: bounded", () => {
  it("keeps at most 10,000 chains: finished ones are forgotten first, then the oldest open ones are ended", async () => {
    const sent: string[] = [];
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      sent.push(new Headers(init.headers).get("x-dynamo-session-id") ?? "");
      return new Response("{}", { status: 200 });
    }) as unknown as typeof fetch;
    const { s } = sessions({ fetchImpl });
    const lead = (i: number) =>
      ({ ids: { sessionId: "s", trajectoryId: `t-${i}` }, isSubagent: false, kind: "lead", spanContext: { traceId: "0".repeat(31) + "1", spanId: "0".repeat(15) + "1", traceFlags: 1 } }) as unknown as AgentRun;
    // Lead chains under the headers protocol stay open until their OpenClaw session ends; these never do.
    for (let i = 0; i < 10_005; i++) s.noteHeadersRequest(lead(i));
    await s.settled();
    expect(s.openChains()).toHaveLength(10_000);
    // The 5 oldest were ended (session-final sent) to make room, the newest kept.
    expect(sent).toEqual(["t-0", "t-1", "t-2", "t-3", "t-4"]);
    expect(s.openChains().at(-1)?.trajectoryId).toBe("t-10004");
    expect(s.counters.finals).toBe(5);
  });
});
