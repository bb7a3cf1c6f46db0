import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator } from "./index.ts";
import type { Simulator } from "./index.ts";
import { postChat, streamChat } from "./sse-client.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ generation: "headers" });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.clear();
  sim.faults.reset();
});

const AC = {
  session_type_id: "openclaw_coding_agent",
  session_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  trajectory_id: "4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d0b3f4a55",
};
const user = (content: string) => [{ role: "user", content }];

describe("frontend: OpenAI-compatible surface", () => {
  it("lists models", async () => {
    const res = await fetch(`${sim.baseUrl}/models`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ object: "list", data: [{ id: "mock-model", object: "model", owned_by: "dynamo" }] });
    expect(sim.requests[0]).toMatchObject({ kind: "models", method: "GET", path: "/v1/models", status: 200 });
  });

  it("streams a scripted turn: tool call, then text with the tool result", async () => {
    const headers = { "x-request-id": "rid-1", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };
    const first = await streamChat(sim.baseUrl, user("Hi [[sim:read notes.md]]"), {}, headers);
    expect(first.status).toBe(200);
    const s1 = first.stream!;
    expect(s1.sawDone).toBe(true);
    expect(s1.finishReason).toBe("tool_calls");
    expect(s1.toolCalls).toHaveLength(1);
    expect(s1.toolCalls[0]).toMatchObject({ name: "read", arguments: '{"path":"notes.md"}' });
    expect(s1.toolCalls[0]!.id).toMatch(/^call_\d+_[0-9a-f]{8}$/);
    expect(s1.usage?.total_tokens).toBeGreaterThan(0);
    expect((s1.chunks[0] as { choices: { delta: { role: string } }[] }).choices[0]!.delta.role).toBe("assistant");

    const callId = s1.toolCalls[0]!.id;
    const second = await streamChat(sim.baseUrl, [
      ...user("Hi [[sim:read notes.md]]"),
      { role: "assistant", content: null, tool_calls: [{ id: callId, type: "function", function: { name: "read", arguments: '{"path":"notes.md"}' } }] },
      { role: "tool", tool_call_id: callId, content: "the notes" },
    ]);
    expect(second.stream).toMatchObject({ finishReason: "stop", text: "Done. Last tool result: the notes", toolCalls: [] });

    const [r1, r2] = sim.chatRequests();
    expect(r1).toMatchObject({ status: 200, stream: true, xRequestId: "rid-1", traceparent: headers.traceparent, toolCalls: [{ id: callId, name: "read" }] });
    expect(r2).toMatchObject({ status: 200, toolCalls: [], responseText: "Done. Last tool result: the notes" });
    expect(r2!.receivedAt).toBeGreaterThanOrEqual(r1!.receivedAt);
  });

  it("gives every tool call a unique id and omits usage unless asked", async () => {
    const res = await postChat(sim.baseUrl, { model: "m", stream: true, messages: user("x") });
    const body = await res.text();
    expect(body).not.toContain('"usage"');
    await postChat(sim.baseUrl, { model: "m", stream: true, messages: user("x") }).then((r) => r.text());
    const ids = sim.chatRequests().map((r) => r.toolCalls[0]?.id);
    expect(new Set(ids).size).toBe(2);
  });

  it("answers a non-streaming minimal request with one chat.completion", async () => {
    const res = await postChat(sim.baseUrl, { model: "mock-model", messages: user("."), max_tokens: 1, stream: false });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { object: string; choices: { message: { content: string } }[]; usage: unknown };
    expect(json.object).toBe("chat.completion");
    expect(json.choices[0]!.message.content).toBe(".");
    expect(json.usage).toBeDefined();
  });
});

describe("frontend: nvext generation (Dynamo 1.2)", () => {
  beforeEach(() => sim.setGeneration("nvext"));

  it("accepts an exact agent_context and records it; ignores x-dynamo headers", async () => {
    const r = await streamChat(sim.baseUrl, user("[[sim:text hi]]"), { nvext: { agent_context: AC } }, { "x-dynamo-session-id": "ignored" });
    expect(r.status).toBe(200);
    expect(sim.requests[0]).toMatchObject({ generation: "nvext", agentContext: AC, dynamoHeaders: { "x-dynamo-session-id": "ignored" }, sessionFinal: false });
  });

  it("rejects unknown keys like `phase` with 400 (not a protocol-switch error)", async () => {
    const r = await streamChat(sim.baseUrl, user("x"), { nvext: { agent_context: { ...AC, phase: "reasoning" } } });
    expect(r.status).toBe(400);
    expect(r.errorText).toContain("unknown field `phase`");
    expect(r.errorText).not.toContain("unknown field `agent_context`");
    expect(sim.requests[0]!.rejection).toMatch(/phase/);
  });

  it("rejects missing or empty required ids", async () => {
    const { trajectory_id: _t, ...missing } = AC;
    expect((await streamChat(sim.baseUrl, user("x"), { nvext: { agent_context: missing } })).errorText).toContain("missing field `trajectory_id`");
    expect((await streamChat(sim.baseUrl, user("x"), { nvext: { agent_context: { ...AC, session_id: "" } } })).status).toBe(400);
    expect((await streamChat(sim.baseUrl, user("x"), { nvext: { session_control: { session_id: "s", action: "open", ttl: 1 } } })).errorText).toContain("unknown field `ttl`");
    expect((await streamChat(sim.baseUrl, user("x"), { nvext: { session_control: { session_id: "s", timeout: 0 } } })).status).toBe(400);
  });

  it("records the session_control lifecycle and protocol violations", async () => {
    const send = (sc: unknown) => streamChat(sim.baseUrl, user("[[sim:text ok]]"), { nvext: { agent_context: AC, session_control: sc } });
    await send({ session_id: "child-1", action: "open", timeout: 60 });
    await send({ session_id: "child-1" });
    const close = await postChat(sim.baseUrl, {
      model: "mock-model",
      messages: user("."),
      max_tokens: 1,
      stream: false,
      nvext: { session_control: { session_id: "child-1", action: "close" } },
    });
    expect(close.status).toBe(200);
    await send({ session_id: "never-opened" });
    await send({ session_id: "child-1", action: "close" });

    expect(sim.sessions.events).toEqual([
      { sessionId: "child-1", action: "open", requestIndex: 0, timeout: 60 },
      { sessionId: "child-1", action: "use", requestIndex: 1 },
      { sessionId: "child-1", action: "close", requestIndex: 2 },
      { sessionId: "never-opened", action: "use", requestIndex: 3 },
      { sessionId: "child-1", action: "close", requestIndex: 4 },
    ]);
    expect(sim.sessions.violations.map((v) => [v.sessionId, v.requestIndex])).toEqual([
      ["never-opened", 3],
      ["child-1", 4],
    ]);
    expect(sim.sessions.open.size).toBe(0);
    expect(sim.requests.every((r) => r.status === 200)).toBe(true);
  });
});

describe("frontend: headers generation (Dynamo 1.3+)", () => {
  beforeEach(() => sim.setGeneration("headers"));

  it("answers 400 naming `agent_context` / `session_control` in Dynamo's error body", async () => {
    const a = await streamChat(sim.baseUrl, user("x"), { nvext: { agent_context: AC } });
    expect(a.status).toBe(400);
    expect(a.errorText).toContain("unknown field `agent_context`");
    expect(JSON.parse(a.errorText!)).toMatchObject({ type: "Bad Request", code: 400, message: expect.stringMatching(/^invalid nvext: /) });

    const s = await streamChat(sim.baseUrl, user("x"), { nvext: { session_control: { session_id: "s", action: "open" } } });
    expect(s.status).toBe(400);
    expect(s.errorText).toContain("unknown field `session_control`");

    // Known NvExt fields stay fine.
    expect((await streamChat(sim.baseUrl, user("[[sim:text ok]]"), { nvext: { agent_hints: { priority: 1 } } })).status).toBe(200);
    expect(sim.chatRequests().map((r) => r.status)).toEqual([400, 400, 200]);
  });

  it("reads x-dynamo-session-* headers (case-insensitive, trimmed) and records session-final", async () => {
    await streamChat(sim.baseUrl, user("[[sim:text ok]]"), {}, { "X-Dynamo-Session-Id": "  traj-child ", "x-dynamo-parent-session-id": "traj-lead" });
    const fin = await postChat(
      sim.baseUrl,
      { model: "mock-model", messages: user("."), max_tokens: 1, stream: false },
      { "x-dynamo-session-id": "traj-child", "x-dynamo-parent-session-id": "traj-lead", "x-dynamo-session-final": " TRUE " },
    );
    expect(fin.status).toBe(200);
    // Parent equal to the session itself is ignored, as Dynamo does.
    await streamChat(sim.baseUrl, user("[[sim:text ok]]"), {}, { "x-dynamo-session-id": "same", "x-dynamo-parent-session-id": "same" });

    const [r0, r1, r2] = sim.requests;
    expect(r0!.agentContext).toEqual({ session_id: "traj-child", parent_session_id: "traj-lead" });
    expect(r0!.sessionFinal).toBe(false);
    expect(r1!.agentContext).toEqual({ session_id: "traj-child", parent_session_id: "traj-lead", session_final: true });
    expect(r1!.sessionFinal).toBe(true);
    expect(r2!.agentContext).toEqual({ session_id: "same" });
    expect(sim.sessions.finals).toEqual([{ sessionId: "traj-child", parentSessionId: "traj-lead", requestIndex: 1 }]);
  });

  it("can render OpenAI-style error bodies instead", async () => {
    const other = await startSimulator({ generation: "headers", errorBodyStyle: "openai" });
    try {
      const r = await streamChat(other.baseUrl, user("x"), { nvext: { agent_context: AC } });
      expect(JSON.parse(r.errorText!)).toMatchObject({ error: { type: "invalid_request_error", code: 400, message: expect.stringContaining("unknown field `agent_context`") } });
    } finally {
      await other.close();
    }
  });
});
