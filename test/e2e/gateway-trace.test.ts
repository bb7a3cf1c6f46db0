/**
 * A Gateway whose lead agent spawns an in-process subagent, with the whole plugin on. One Gateway,
 * two user turns of ONE OpenClaw session (`--session-id`), so one lead chain across both turns and
 * their announce runs, and one chain per subagent (docs/identity.md):
 *   1. simulator speaking Dynamo 1.2 (`nvext`): span nesting, subagent KV session open → bare → close,
 *      parent trajectory, relay records (G1) for the lead's spawn and the child's read;
 *   2. simulator switched to Dynamo 1.3+ (`headers`), protocol auto: one rejected request, headers from
 *      then on, a session-final request for the subagent; stopping the Gateway (session end) sends the
 *      session-final requests for the lead's chains.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messageText, type OtlpSpan, type RecordedRequest, type Simulator } from "../sim/index.ts";
import {
  keepOnFailure,
  Resources,
  startGateway,
  tail,
  Timings,
  type AgentTurnResult,
  type GatewayStopResult,
  type OpenClawWorld,
  type RunningGateway,
} from "./harness/index.ts";
import {
  agentOf,
  byId,
  childrenOf,
  isTerminal,
  nvext,
  SERVING_NVEXT,
  parseTraceparent,
  spansNamed,
  toolRecords,
  trajectoryOf,
} from "./trace-helpers.ts";

/** Both turns go to this OpenClaw session: one conversation, one lead chain. */
const SESSION_ID = "5e55a0b1-c4a1-4d2e-9f00-00000000c4a1";
const SPAWN_MESSAGE = "Delegate this. [[sim:spawn Read the file {{sim:read hello.txt}} {{sim:text Child done.}}]] [[sim:text Lead done.]]";
const timings = new Timings();
const resources = new Resources();

let sim: Simulator;
let world: OpenClawWorld;
let gateway: RunningGateway;
let turn1: AgentTurnResult;
let turn2: AgentTurnResult;
let stop: GatewayStopResult;
let turn1Requests: RecordedRequest[] = [];
let turn1Spans: OtlpSpan[] = [];

/** The chain's first agent span: the span itself, or the one its chain link names. */
function chainStartOf(agent: OtlpSpan): OtlpSpan {
  const link = agent.links.find((l) => l.attributes["link.kind"] === "dynamo_chain_start");
  return (link && sim.otlp.spans.find((s) => s.traceId === link.traceId && s.spanId === link.spanId)) || agent;
}

/** One line per request: what kind, and the ids it carried (for the report). */
function requestSequence(requests: RecordedRequest[]): string {
  return requests
    .filter((r) => r.kind === "chat")
    .map((r) => {
      const what = isTerminal(r) ? (r.sessionFinal ? "final" : "close") : isChild(r) ? "child" : isAnnounce(r) ? "announce" : "lead";
      const ctx = nvext(r)?.agent_context as Record<string, string> | undefined;
      const control = nvext(r)?.session_control as { action?: string; session_id?: string } | undefined;
      const ids = !ctx && control
        ? `nvext session_control=${control.action ?? "bare"} ${control.session_id}`
        : ctx
        ? `nvext traj=${ctx.trajectory_id} parent=${ctx.parent_trajectory_id ?? "-"}${nvext(r)?.session_control ? ` control=${control?.action ?? "bare"}` : ""}`
        : `hdr session=${r.headers["x-dynamo-session-id"] ?? "-"} parent=${r.headers["x-dynamo-parent-session-id"] ?? "-"}${r.sessionFinal ? " final" : ""}`;
      return `#${r.index} ${r.status} ${what.padEnd(8)} ${ids} x-request-id=${r.xRequestId ?? "-"}`;
    })
    .join("\n");
}

function userTexts(request: RecordedRequest): string[] {
  const messages = (request.body as { messages?: Array<{ role?: string; content?: unknown }> } | undefined)?.messages ?? [];
  return messages.filter((m) => m.role === "user").map((m) => messageText(m.content));
}
const isChild = (r: RecordedRequest) => /\[Subagent Context\]/.test(userTexts(r)[0] ?? "");
const isAnnounce = (r: RecordedRequest) => r.policy === "announce";

async function waitForSubagentRound(fromIndex: number, what: string): Promise<void> {
  const t0 = Date.now();
  await sim
    .waitFor(
      () => {
        const requests = sim.requests.slice(fromIndex).filter((r) => r.kind === "chat");
        const childDone = requests.some((r) => isChild(r) && r.status === 200 && !isTerminal(r) && r.toolCalls.length === 0);
        const terminal = requests.some((r) => isTerminal(r));
        const announced = requests.some((r) => isAnnounce(r) && r.finishedAt !== undefined);
        return childDone && terminal && announced;
      },
      120_000,
      what,
    )
    .catch((error: unknown) => {
      throw new Error(`${String(error)}\n${sim.summary()}\ngateway log:\n${tail(gateway.logs(), 40)}`);
    });
  await sim.waitFor(() => sim.requests.every((r) => r.finishedAt !== undefined), 15_000, "in-flight requests");
  // Spans are flushed at run end; give the last export a moment.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  timings.add(what, Date.now() - t0);
}

beforeAll(async () => {
  sim = await resources.newSim({ generation: "nvext" });
  world = await resources.newWorld({
    name: "gateway-trace",
    gateway: true,
    pluginConfig: { baseUrl: sim.baseUrl, otlpEndpoint: sim.otlpUrl, sessionTimeoutSeconds: 120 },
    env: { DYN_AGENT_TRACE: "1", DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: sim.zmqEndpoint },
  });
  gateway = await timings.timed("gateway start", () => startGateway(world));

  turn1 = await timings.timed("turn 1 lead run", () => gateway.runAgent({ message: SPAWN_MESSAGE, sessionId: SESSION_ID }));
  await waitForSubagentRound(0, "turn 1 child + close + announce");
  turn1Requests = sim.requests.slice();
  turn1Spans = sim.otlp.spans.slice();

  sim.setGeneration("headers");
  const from = sim.requests.length;
  turn2 = await timings.timed("turn 2 lead run", () => gateway.runAgent({ message: SPAWN_MESSAGE, sessionId: SESSION_ID }));
  await waitForSubagentRound(from, "turn 2 child + final + announce");

  stop = await timings.timed("gateway stop", () => gateway.stop({ graceMs: 15_000 }));
}, 420_000);

afterAll(async () => {
  console.log(timings.table("gateway trace e2e timings:", 40));
  await resources.dispose();
});

describe("turn 1 (Dynamo 1.2): span tree", () => {
  it("both turns completed", () => {
    keepOnFailure(world);
    expect(turn1.exitCode, turn1.stderr).toBe(0);
    expect(turn2.exitCode, turn2.stderr).toBe(0);
  });

  it("the subagent's agent span sits under the lead's sessions_spawn tool span, in the same trace", () => {
    keepOnFailure(world);
    const spans = turn1Spans;
    const leadAgent = spans.find((s) => s.name === "invoke_agent main" && s.attributes["openclaw.run.kind"] === "lead");
    expect(leadAgent, spans.map((s) => `${s.name} ${s.attributes["openclaw.run.kind"] ?? ""}`).join("\n")).toBeDefined();
    // Spans exported later (the announce run ends after the snapshot) belong to the same trace.
    const trace = sim.otlp.spans.filter((s) => s.traceId === leadAgent!.traceId);
    const [spawn] = spansNamed(trace, "execute_tool sessions_spawn");
    expect(spawn!.parentSpanId).toBe(leadAgent!.spanId);
    expect(spawn!.attributes["openclaw.tool.bridge"]).toBe("tool_call");
    const child = childrenOf(trace, spawn!).find((s) => s.name === "invoke_agent main");
    expect(child, trace.map((s) => s.name).join(", ")).toBeDefined();
    expect(child!.attributes["openclaw.run.kind"]).toBe("subagent");
    expect(child!.attributes["dynamo.parent_trajectory_id"]).toBe(trajectoryOf(leadAgent!));
    const childSpans = childrenOf(trace, child!).map((s) => s.name).sort();
    expect(childSpans).toEqual(["chat mock-model", "chat mock-model", "execute_tool read"]);
    const announce = trace.find((s) => s.attributes["openclaw.run.kind"] === "announce");
    expect(announce?.parentSpanId, trace.map((s) => `${s.name} ${s.attributes["openclaw.run.kind"] ?? ""} ${s.attributes["openclaw.run.id"] ?? ""}`).join("\n")).toBe(leadAgent!.spanId);
    for (const span of trace) expect(span.attributes["session.id"], span.name).toMatch(/\S/);
    expect(String(child!.attributes["session.id"])).not.toBe(String(leadAgent!.attributes["session.id"]));
  });
});

describe("turn 1 (Dynamo 1.2): identity and subagent KV session", () => {
  it("every request's agent_context has exactly the allowed keys and its chain's ids (the chain's first agent span)", () => {
    keepOnFailure(world);
    const chats = turn1Requests.filter((r) => r.kind === "chat" && !isTerminal(r));
    // lead ×2, child ×2, announce ×1
    expect(chats.length).toBeGreaterThanOrEqual(5);
    for (const request of chats) {
      expect(request.status, request.rejection).toBe(200);
      const context = nvext(request)!.agent_context as Record<string, string>;
      const keys = Object.keys(context).sort();
      expect(["parent_trajectory_id", "session_id", "session_type_id", "trajectory_id"]).toEqual(expect.arrayContaining(keys));
      const chat = byId(sim.otlp.spans, parseTraceparent(request.traceparent)!.spanId)!;
      const first = chainStartOf(agentOf(sim.otlp.spans, chat)!);
      expect(context.session_id).toBe(first.traceId);
      expect(context.trajectory_id).toBe(trajectoryOf(first));
      expect(context.parent_trajectory_id).toBe(first.attributes["dynamo.parent_trajectory_id"]);
      expect(request.xRequestId).toBe(`${chat.traceId}-${chat.spanId}`);
    }
  });

  it("the announce run's requests carry the lead's chain ids and no parent; its agent span links to the lead's", () => {
    keepOnFailure(world);
    const lead = turn1Requests.find((r) => r.kind === "chat" && !isChild(r) && !isAnnounce(r))!;
    const leadContext = nvext(lead)!.agent_context as Record<string, string>;
    const announce = turn1Requests.filter((r) => r.kind === "chat" && isAnnounce(r));
    expect(announce.length).toBeGreaterThanOrEqual(1);
    for (const request of announce) {
      expect(nvext(request)!.agent_context).toEqual({ ...leadContext });
      expect((nvext(request)!.agent_context as Record<string, string>).parent_trajectory_id).toBeUndefined();
    }
    const announceAgent = sim.otlp.spans.find((s) => s.attributes["openclaw.run.kind"] === "announce")!;
    expect(announceAgent.links.map((l) => `${l.traceId}-${l.spanId}`)).toEqual([leadContext.trajectory_id]);
  });

  it("the child goes open → bare → close (after its last real request); the lead never carries session_control", () => {
    keepOnFailure(world);
    const child = turn1Requests.filter((r) => r.kind === "chat" && isChild(r));
    expect(child.length).toBeGreaterThanOrEqual(2);
    const trajectory = (nvext(child[0]!)!.agent_context as Record<string, string>).trajectory_id;
    expect(nvext(child[0]!)!.session_control).toEqual({ session_id: trajectory, action: "open", timeout: 120 });
    for (const request of child.slice(1)) expect(nvext(request)!.session_control).toEqual({ session_id: trajectory });
    const closes = turn1Requests.filter((r) => isTerminal(r));
    expect(closes).toHaveLength(1);
    // One open and one close for the subagent's chain, none for the lead's (turn 1 and its announce).
    expect(turn1Requests.filter((r) => (nvext(r)?.session_control as { action?: string } | undefined)?.action === "open")).toHaveLength(1);
    expect(closes[0]!.body).toMatchObject({
      messages: [{ role: "user", content: "." }],
      max_tokens: 1,
      stream: false,
      nvext: { session_control: { session_id: trajectory, action: "close" } },
    });
    expect(closes[0]!.index).toBeGreaterThan(child.at(-1)!.index);
    const leadAndAnnounce = turn1Requests.filter((r) => r.kind === "chat" && !isChild(r) && !isTerminal(r));
    for (const request of leadAndAnnounce) expect(nvext(request)!.session_control).toBeUndefined();
    expect(sim.sessions.violations).toEqual([]);
    const leadTrajectory = (nvext(leadAndAnnounce[0]!)!.agent_context as Record<string, string>).trajectory_id;
    expect((nvext(child[0]!)!.agent_context as Record<string, string>).parent_trajectory_id).toBe(leadTrajectory);
  });

  it("relays start and end records for the lead's spawn and the child's read, with each chain's ids", () => {
    keepOnFailure(world);
    const accepted = sim.relay.accepted.filter((m) => m.generation === "nvext");
    expect(sim.relay.rejected, JSON.stringify(sim.relay.rejected)).toEqual([]);
    for (const name of ["execute_tool sessions_spawn", "execute_tool read"]) {
      const [tool] = spansNamed(turn1Spans, name);
      const records = toolRecords(accepted, String(tool!.attributes["gen_ai.tool.call.id"]));
      expect(records.map((r) => r.event_type), name).toEqual(["tool_start", "tool_end"]);
      for (const record of records) {
        expect((record.agent_context as Record<string, string>).trajectory_id).toBe(tool!.attributes["dynamo.trajectory_id"]);
        expect((record.agent_context as Record<string, string>).session_id).toBe(tool!.traceId);
      }
    }
  });
});

describe("turn 2 (Dynamo 1.3+, protocol auto) and Gateway stop", () => {
  const turn2Chats = () => sim.requests.slice(turn1Requests.length).filter((r) => r.kind === "chat");

  it("exactly one request was rejected; every later request carries identity in headers only", () => {
    keepOnFailure(world);
    const chats = turn2Chats();
    const rejected = chats.filter((r) => r.status === 400);
    expect(rejected, sim.summary()).toHaveLength(1);
    expect(rejected[0]!.index).toBe(chats[0]!.index);
    for (const request of chats.slice(1)) {
      expect(request.status).toBe(200);
      // Model requests ask for Dynamo's serving fields; the plugin's session-final requests carry no nvext.
      expect(nvext(request)).toEqual(isTerminal(request) ? undefined : SERVING_NVEXT);
      expect(request.headers["x-dynamo-session-id"]).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
    }
  });

  it("turn 2 of the same OpenClaw session continues the lead's chain; its agent span links to turn 1's", () => {
    keepOnFailure(world);
    const turn1Lead = nvext(turn1Requests.find((r) => r.kind === "chat" && !isChild(r) && !isAnnounce(r))!)!.agent_context as Record<string, string>;
    const chats = turn2Chats().filter((r) => r.status === 200 && !isTerminal(r));
    const leadAndAnnounce = chats.filter((r) => !isChild(r));
    expect(leadAndAnnounce.length).toBeGreaterThanOrEqual(3);
    for (const request of leadAndAnnounce) {
      expect(request.headers["x-dynamo-session-id"]).toBe(turn1Lead.trajectory_id);
      expect(request.headers["x-dynamo-parent-session-id"]).toBeUndefined();
    }
    const child = chats.filter((r) => isChild(r));
    expect(child[0]!.headers["x-dynamo-session-id"]).not.toBe(turn1Lead.trajectory_id);
    expect(child[0]!.headers["x-dynamo-parent-session-id"]).toBe(turn1Lead.trajectory_id);
    const leads = sim.otlp.spans.filter((s) => s.name === "invoke_agent main" && s.attributes["openclaw.run.kind"] === "lead");
    expect(leads).toHaveLength(2);
    expect(leads[1]!.traceId).not.toBe(leads[0]!.traceId);
    expect(leads[1]!.links.map((l) => `${l.traceId}-${l.spanId}`)).toEqual([trajectoryOf(leads[0]!)]);
    expect(leads[1]!.attributes["dynamo.trajectory_id"]).toBe(turn1Lead.trajectory_id);
  });

  it("exactly one session-final per chain: the subagent's after its last request, the lead's at session end, none for announce", () => {
    keepOnFailure(world);
    const finals = turn2Chats().filter((r) => r.sessionFinal);
    const turn1Lead = nvext(turn1Requests.find((r) => r.kind === "chat" && !isChild(r) && !isAnnounce(r))!)!.agent_context as Record<string, string>;
    const child = turn2Chats().filter((r) => isChild(r) && !isTerminal(r) && r.status === 200);
    expect(finals.map((r) => r.headers["x-dynamo-session-id"]).sort()).toEqual([child[0]!.headers["x-dynamo-session-id"], turn1Lead.trajectory_id].sort());
    console.log(`request sequence (both generations):\n${requestSequence(sim.requests)}`);
  });

  it("session-final arrives for the subagent after its last request, and for the lead's chains at session end", () => {
    keepOnFailure(world);
    const chats = turn2Chats();
    const child = chats.filter((r) => isChild(r) && !isTerminal(r) && r.status === 200);
    const childSession = child[0]!.headers["x-dynamo-session-id"];
    const leadSession = chats.find((r) => !isChild(r) && r.status === 200)!.headers["x-dynamo-session-id"];
    expect(child[0]!.headers["x-dynamo-parent-session-id"]).toBe(leadSession);
    const finals = chats.filter((r) => r.sessionFinal);
    const childFinal = finals.find((r) => r.headers["x-dynamo-session-id"] === childSession);
    expect(childFinal, finals.map((r) => r.headers["x-dynamo-session-id"]).join(", ")).toBeDefined();
    expect(childFinal!.index).toBeGreaterThan(child.at(-1)!.index);
    expect(childFinal!.headers["x-dynamo-parent-session-id"]).toBe(leadSession);
    expect(childFinal!.body).toEqual({ model: "mock-model", messages: [{ role: "user", content: "." }], max_tokens: 1, stream: false });
    expect(finals.some((r) => r.headers["x-dynamo-session-id"] === leadSession)).toBe(true);
    for (const final of finals) expect(final.status).toBe(200);
    expect(new Set(finals.map((r) => r.headers["x-dynamo-session-id"])).size).toBe(finals.length);
  });

  it("relay records switched to the Dynamo 1.3+ schema and none were rejected", () => {
    keepOnFailure(world);
    const g3 = sim.relay.accepted.filter((m) => m.generation === "headers");
    expect(g3.length).toBeGreaterThanOrEqual(4);
    for (const message of g3) expect((message.record as { schema: string }).schema).toBe("dynamo.request.trace.v1");
    expect(sim.relay.rejected).toEqual([]);
  });

  it("the Gateway stops cleanly", () => {
    keepOnFailure(world);
    expect(stop.graceful, tail(gateway.logs(), 40)).toBe(true);
    expect(stop.exitCode).toBe(0);
  });
});
