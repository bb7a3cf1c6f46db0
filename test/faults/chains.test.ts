// Dynamo chains through the whole plugin (docs/identity.md): OpenClaw-shaped hook traffic and model
// requests through the provider's wrapper around OpenClaw's own transport, against the simulated
// Dynamo in both generations. Compaction is driven with the `session_end` payloads OpenClaw sends
// (openclaw-plugin-sdk.md §8.3: reason "compaction", `nextSessionId` when a context engine rotates the
// id) because the CLI cannot trigger a real compaction in a one-turn test.
import { afterEach, describe, expect, it } from "vitest";
import { startSimulator, type RecordedRequest, type Simulator } from "../sim/index.ts";
import { agentCtx, consume, endRun, LEAD_KEY, loadPlugin, realTransport, startRun, toolCall, type LoadedPlugin, type RunIds, type StreamContext, type StreamOptions } from "./harness.ts";

const LEAD_SESSION = "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e";
const ROTATED_SESSION = "33333333-4444-4555-8666-777777777777";
const CHILD_KEY = "agent:main:subagent:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const CHILD: RunIds = { runId: "c0ffee00-1111-4222-8333-444455556666", sessionKey: CHILD_KEY, sessionId: "11111111-2222-4333-8444-555555555555" };
const CONTEXT = { systemPrompt: "s", messages: [{ role: "user", content: "hi [[sim:text ok]]", timestamp: 1 }] } as unknown as StreamContext;

let sim: Simulator | undefined;
let plugin: LoadedPlugin | undefined;
afterEach(async () => {
  await plugin?.dispose();
  await sim?.close();
  plugin = undefined;
  sim = undefined;
});

async function send(p: LoadedPlugin, s: Simulator, run: RunIds, n: number): Promise<RecordedRequest> {
  const before = s.requests.length;
  const options = { requestId: `${run.runId}:model:${n}`, sessionId: run.sessionId } as unknown as StreamOptions;
  const result = await consume(p.wrap(realTransport), p.model("mock-model", s.baseUrl), CONTEXT, options);
  expect(result.message.stopReason).toBe("stop");
  return s.requests.slice(before).find((r) => r.kind === "chat")!;
}

/** The chain a request names: 1.2 `agent_context.trajectory_id` / 1.3+ `x-dynamo-session-id`, and its parent. */
function chainOf(request: RecordedRequest): [string | undefined, string | undefined] {
  const context = (request.body as { nvext?: { agent_context?: Record<string, string> } }).nvext?.agent_context;
  if (context) return [context.trajectory_id, context.parent_trajectory_id];
  return [request.headers["x-dynamo-session-id"], request.headers["x-dynamo-parent-session-id"]];
}

const terminal = (s: Simulator) =>
  s.chatRequests().filter((r) => (r.body as { max_tokens?: number }).max_tokens === 1 && (r.body as { stream?: boolean }).stream === false);

describe.each(["nvext", "headers"] as const)("chains through the plugin, Dynamo %s", (generation) => {
  it("compaction mid-conversation (lead and subagent) sends no close/final and keeps the chain; a reset ends it", async () => {
    sim = await startSimulator({ generation });
    const s = sim;
    plugin = await loadPlugin({ env: { DYNAMO_BASE_URL: s.baseUrl, DYN_AGENT_TRACE: "1", DYN_AGENT_TRACE_PROTOCOL: generation } });
    const p = plugin;
    const lead: RunIds = { runId: "R1", sessionId: LEAD_SESSION };
    await startRun(p, lead);
    const [leadChain] = chainOf(await send(p, s, lead, 1));
    await toolCall(p, lead, { toolName: "sessions_spawn", toolCallId: "call_spawn", params: {} }, "before");
    await p.fire("subagent_spawned", { runId: CHILD.runId, childSessionKey: CHILD_KEY }, { requesterSessionKey: LEAD_KEY });
    await startRun(p, CHILD);
    const child1 = await send(p, s, CHILD, 1);
    // The subagent's context is compacted mid-run (the built-in compactor keeps the id).
    await p.fire("session_end", { sessionId: CHILD.sessionId, sessionKey: CHILD_KEY, messageCount: 30, reason: "compaction" }, agentCtx(CHILD));
    const child2 = await send(p, s, CHILD, 2);
    expect(chainOf(child2)).toEqual(chainOf(child1));
    expect(chainOf(child1)[1]).toBe(leadChain);
    expect(terminal(s)).toEqual([]);
    await toolCall(p, lead, { toolName: "sessions_spawn", toolCallId: "call_spawn", result: "accepted" }, "after");
    await endRun(p, lead);
    await endRun(p, CHILD);
    await p.services.sessions!.settled();
    expect(terminal(s).map((r) => chainOf(r)[0] ?? (r.body as { nvext: { session_control: { session_id: string } } }).nvext.session_control.session_id)).toEqual([chainOf(child1)[0]]);

    // The lead's session is compacted by a context engine that rotates the id.
    await p.fire("session_end", { sessionId: LEAD_SESSION, sessionKey: LEAD_KEY, messageCount: 40, reason: "compaction", nextSessionId: ROTATED_SESSION }, agentCtx(lead));
    await p.fire("session_start", { sessionId: ROTATED_SESSION, sessionKey: LEAD_KEY, resumedFrom: LEAD_SESSION }, {});
    const next: RunIds = { runId: "R2", sessionId: ROTATED_SESSION };
    await startRun(p, next);
    expect(chainOf(await send(p, s, next, 1))).toEqual([leadChain, undefined]);
    await endRun(p, next);
    await p.services.sessions!.settled();
    expect(terminal(s)).toHaveLength(1);
    expect(p.services.sessions!.counters).toMatchObject({ opened: generation === "nvext" ? 1 : 0 });

    // A reset really ends the conversation: the lead's session-final (1.3+; 1.2 never closes the lead).
    await p.fire("session_end", { sessionId: ROTATED_SESSION, sessionKey: LEAD_KEY, messageCount: 2, reason: "reset" }, agentCtx(next));
    await p.services.sessions!.settled();
    const finals = terminal(s).slice(1);
    if (generation === "headers") expect(finals.map((r) => [r.headers["x-dynamo-session-id"], r.sessionFinal])).toEqual([[leadChain, true]]);
    else expect(finals).toEqual([]);
    const after: RunIds = { runId: "R3", sessionId: ROTATED_SESSION };
    await startRun(p, after);
    expect(chainOf(await send(p, s, after, 1))[0]).not.toBe(leadChain);
  });
  it("a mode:session subagent: open once, bare on its follow-up run (sessions_send), one close/final when its session ends", async () => {
    sim = await startSimulator({ generation });
    const s = sim;
    plugin = await loadPlugin({ env: { DYNAMO_BASE_URL: s.baseUrl, DYN_AGENT_TRACE: "1", DYN_AGENT_TRACE_PROTOCOL: generation } });
    const p = plugin;
    const lead: RunIds = { runId: "R1", sessionId: LEAD_SESSION };
    await startRun(p, lead);
    await toolCall(p, lead, { toolName: "sessions_spawn", toolCallId: "call_spawn", params: {} }, "before");
    await p.fire("subagent_spawned", { runId: CHILD.runId, childSessionKey: CHILD_KEY, mode: "session" }, { requesterSessionKey: LEAD_KEY });
    await startRun(p, CHILD);
    const first = await send(p, s, CHILD, 1);
    await endRun(p, CHILD);
    await p.services.sessions!.settled();
    expect(terminal(s)).toEqual([]);
    const followUp: RunIds = { ...CHILD, runId: "c0ffee00-2222-4333-8444-555566667777" };
    await startRun(p, followUp);
    const again = await send(p, s, followUp, 1);
    expect(chainOf(again)).toEqual(chainOf(first));
    const controls = [first, again].map((r) => (r.body as { nvext?: { session_control?: { action?: string } } }).nvext?.session_control?.action ?? "none");
    expect(controls).toEqual(generation === "nvext" ? ["open", "none"] : ["none", "none"]);
    await endRun(p, followUp);
    await p.fire("session_end", { sessionId: CHILD.sessionId, sessionKey: CHILD_KEY, messageCount: 6, reason: "deleted" }, agentCtx(followUp));
    await p.services.sessions!.settled();
    expect(terminal(s)).toHaveLength(1);
    if (generation === "nvext") expect(s.sessions.violations).toEqual([]);
  });
});
