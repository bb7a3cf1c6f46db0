// The span tree driven through the hook mapping functions (src/trace/hooks.ts) with payloads shaped
// like OpenClaw 2026.9.6's (openclaw-plugin-sdk.md §8.3) in the observed hook order (§9).
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import * as hooks from "../../src/trace/hooks.ts";
import type { HookCtx, HookEvent } from "../../src/trace/hooks.ts";
import { ReservableIdGenerator } from "../../src/trace/id-generator.ts";
import { SpanTree, type AgentRun, type SpanTreeOptions } from "../../src/trace/span-tree.ts";

const OWN = "dynamo";
const MODEL = "mock-model";
const LEAD_KEY = "agent:main:main";
const LEAD_SESSION = "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e";
const CHILD_UUID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const CHILD_KEY = `agent:main:subagent:${CHILD_UUID}`;
const CHILD_SESSION = "11111111-2222-4333-8444-555555555555";
/** OpenClaw's own diagnostic trace context, present on every agent/tool ctx; a root run adopts its trace id. */
const OPENCLAW_TRACE = { traceId: "aaaabbbbccccddddeeeeffff00001111", spanId: "1234567890abcdef", traceFlags: "01" };

type Ctx = HookCtx & Record<string, unknown>;

let provider: TracerProvider | undefined;
afterEach(async () => {
  await provider?.shutdown();
  provider = undefined;
});

function setup(pluginConfig: Record<string, unknown> = {}, options: Partial<SpanTreeOptions> = {}) {
  const { config } = loadConfig(pluginConfig, {});
  const idGenerator = new ReservableIdGenerator();
  const exporter = new InMemorySpanExporter();
  provider = new TracerProvider({ idGenerator, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const ended: AgentRun[] = [];
  const tree = new SpanTree({
    tracer: provider.getTracer("test"),
    idGenerator,
    config,
    onRunEnded: (run) => ended.push(run),
    ...options,
  });
  const spans = () => exporter.getFinishedSpans();
  const byName = (name: string) => spans().filter((span) => span.name === name);
  const one = (name: string) => {
    const found = byName(name);
    expect(found, `spans named ${name}`).toHaveLength(1);
    return found[0]!;
  };
  return { tree, spans, byName, one, ended, idGenerator };
}

// ---- OpenClaw-shaped hook payloads --------------------------------------------------------------

function agentCtx(runId: string, sessionKey = LEAD_KEY, sessionId = LEAD_SESSION): Ctx {
  return {
    runId,
    trace: OPENCLAW_TRACE,
    agentId: "main",
    sessionKey,
    sessionId,
    workspaceDir: "/tmp/ws",
    modelProviderId: OWN,
    modelId: MODEL,
    trigger: "user",
  };
}

function toolCtx(runId: string, toolName: string, toolCallId: string, sessionKey = LEAD_KEY, sessionId = LEAD_SESSION): Ctx {
  return { agentId: "main", sessionKey, sessionId, runId, trace: OPENCLAW_TRACE, toolName, toolCallId };
}

/** The run-start hooks the plugin registers (before_agent_reply → before_model_resolve → agent_turn_prepare), then llm_input. */
function runStart(tree: SpanTree, runId: string, sessionKey = LEAD_KEY, sessionId = LEAD_SESSION, prompt = "read README.md") {
  const ctx = agentCtx(runId, sessionKey, sessionId);
  const events: Record<(typeof hooks.RUN_START_HOOKS)[number], HookEvent> = {
    before_agent_reply: { cleanedBody: prompt },
    before_model_resolve: { prompt },
    agent_turn_prepare: { prompt, messages: [] },
  };
  for (const name of hooks.RUN_START_HOOKS) hooks.onRunStart(tree, events[name], ctx);
  hooks.onLlmInput(
    tree,
    { runId, sessionId, provider: OWN, model: MODEL, systemPrompt: "You are a helpful agent.", prompt, historyMessages: [], imagesCount: 0 },
    ctx,
  );
}

/**
 * One model request to the plugin's own provider: model_call_started, then what the stream wrapper
 * does (startChat / endChat), then model_call_ended.
 */
function modelCall(
  tree: SpanTree,
  runId: string,
  n: number,
  result: Parameters<SpanTree["endChat"]>[1] = { stopReason: "stop", usage: { input: 100, output: 20 } },
  sessionKey = LEAD_KEY,
  sessionId = LEAD_SESSION,
) {
  const callId = `${runId}:model:${n}`;
  const event = { runId, callId, sessionKey, sessionId, provider: OWN, model: MODEL, api: "openai-completions", transport: "stream" };
  const ctx: Ctx = { runId, trace: OPENCLAW_TRACE, sessionKey, sessionId, modelProviderId: OWN, modelId: MODEL };
  hooks.onModelCallStarted(tree, event, ctx, OWN);
  const chat = tree.startChat(callId, { sessionId, model: MODEL, provider: OWN, serverAddress: "127.0.0.1", serverPort: 8000 });
  tree.endChat(callId, result);
  hooks.onModelCallEnded(tree, { ...event, durationMs: 127, outcome: result.stopReason === "error" ? "error" : "completed" }, ctx, OWN);
  return chat;
}

function tool(
  tree: SpanTree,
  runId: string,
  toolName: string,
  toolCallId: string,
  outcome: { params?: unknown; result?: unknown; error?: unknown } = {},
  sessionKey = LEAD_KEY,
  sessionId = LEAD_SESSION,
) {
  const params = outcome.params ?? { path: "README.md" };
  const ctx = toolCtx(runId, toolName, toolCallId, sessionKey, sessionId);
  hooks.onBeforeToolCall(tree, { toolName, params, runId, toolCallId }, ctx);
  hooks.onAfterToolCall(
    tree,
    {
      toolName,
      params,
      runId,
      toolCallId,
      durationMs: 27,
      ...(outcome.error !== undefined ? { error: outcome.error } : { result: outcome.result ?? { content: [{ type: "text", text: "hello" }] } }),
    },
    ctx,
  );
}

function agentEnd(tree: SpanTree, runId: string, sessionKey = LEAD_KEY, sessionId = LEAD_SESSION, extra: HookEvent = {}) {
  return hooks.onAgentEnd(
    tree,
    { runId, messages: [{ role: "assistant", content: [{ type: "text", text: "done" }] }], success: true, durationMs: 812, ...extra },
    agentCtx(runId, sessionKey, sessionId),
  );
}

/** The bridge: the model calls `tool_call {id, args}`, OpenClaw runs the deferred tool as an inner call. */
function bridgeStart(tree: SpanTree, runId: string, outerId: string, target: string, args: Record<string, unknown>) {
  const innerId = `tool_search_code:${outerId}:${target}:1`;
  hooks.onBeforeToolCall(
    tree,
    { toolName: "tool_call", params: { id: target, args }, runId, toolCallId: outerId },
    toolCtx(runId, "tool_call", outerId),
  );
  hooks.onBeforeToolCall(tree, { toolName: target, params: args, runId, toolCallId: innerId }, toolCtx(runId, target, innerId));
  return innerId;
}

function bridgeEnd(
  tree: SpanTree,
  runId: string,
  outerId: string,
  target: string,
  args: Record<string, unknown>,
  inner: { result?: unknown; error?: unknown } = {},
  outer: { result?: unknown; error?: unknown } = {},
) {
  const innerId = `tool_search_code:${outerId}:${target}:1`;
  hooks.onAfterToolCall(tree, { toolName: target, params: args, runId, toolCallId: innerId, durationMs: 5, ...inner }, toolCtx(runId, target, innerId));
  hooks.onAfterToolCall(
    tree,
    { toolName: "tool_call", params: { id: target, args }, runId, toolCallId: outerId, durationMs: 6, ...outer },
    toolCtx(runId, "tool_call", outerId),
  );
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const traceOf = (span: ReadableSpan) => span.spanContext().traceId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const trajectoryOf = (span: ReadableSpan) => `${traceOf(span)}-${idOf(span)}`;

// -------------------------------------------------------------------------------------------------

describe("span tree: a local turn (hook order of openclaw-plugin-sdk.md §9)", () => {
  function localTurn() {
    const t = setup();
    const runId = "run-local-1";
    runStart(t.tree, runId);
    modelCall(t.tree, runId, 1, { stopReason: "toolUse", usage: { input: 812, output: 31, cacheRead: 256, cacheWrite: 64 }, responseId: "chatcmpl-1", responseModel: MODEL });
    tool(t.tree, runId, "read", "call_mock_1");
    modelCall(t.tree, runId, 2, { stopReason: "stop", usage: { input: 900, output: 12 } });
    agentEnd(t.tree, runId);
    return { ...t, runId };
  }

  it("builds invoke_agent main → chat mock-model ×2 + execute_tool read with kinds and parents", () => {
    const { spans, one, byName } = localTurn();
    expect(spans().map((span) => span.name).sort()).toEqual(["chat mock-model", "chat mock-model", "execute_tool read", "invoke_agent main"]);
    const agent = one("invoke_agent main");
    const chats = byName("chat mock-model");
    const read = one("execute_tool read");

    expect(agent.kind).toBe(SpanKind.INTERNAL);
    expect(agent.parentSpanContext).toBeUndefined();
    for (const chat of chats) {
      expect(chat.kind).toBe(SpanKind.CLIENT);
      expect(parentOf(chat)).toBe(idOf(agent));
      expect(traceOf(chat)).toBe(traceOf(agent));
    }
    expect(read.kind).toBe(SpanKind.INTERNAL);
    expect(parentOf(read)).toBe(idOf(agent));
    expect(traceOf(read)).toBe(traceOf(agent));
    expect(new Set(spans().map((span) => span.status.code))).toEqual(new Set([SpanStatusCode.UNSET]));
  });

  it("writes both vocabularies on the agent span", () => {
    const { one, runId } = localTurn();
    const agent = one("invoke_agent main");
    expect(agent.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "main",
      "gen_ai.provider.name": "dynamo",
      "gen_ai.conversation.id": LEAD_SESSION,
      "openinference.span.kind": "AGENT",
      "agent.name": "main",
      "session.id": LEAD_SESSION,
      "openclaw.run.id": runId,
      "openclaw.run.kind": "lead",
      "openclaw.session.key": LEAD_KEY,
      "dynamo.session_id": traceOf(agent),
      "dynamo.trajectory_id": trajectoryOf(agent),
    });
    expect(agent.attributes["dynamo.parent_trajectory_id"]).toBeUndefined();
    expect(agent.attributes["openclaw.run.end_observed"]).toBeUndefined();
  });

  it("writes both vocabularies and usage on chat spans", () => {
    const { one, byName } = localTurn();
    const agent = one("invoke_agent main");
    const [first, second] = byName("chat mock-model");
    const common = {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "dynamo",
      "gen_ai.request.model": MODEL,
      "openinference.span.kind": "LLM",
      "llm.model_name": MODEL,
      "llm.provider": "dynamo",
      "llm.system": "openai",
      "session.id": LEAD_SESSION,
      "gen_ai.conversation.id": LEAD_SESSION,
      "server.address": "127.0.0.1",
      "server.port": 8000,
      "dynamo.session_id": traceOf(agent),
      "dynamo.trajectory_id": trajectoryOf(agent),
    };
    expect(first!.attributes).toMatchObject({
      ...common,
      "gen_ai.usage.input_tokens": 812,
      "gen_ai.usage.output_tokens": 31,
      "gen_ai.usage.cache_read.input_tokens": 256,
      "gen_ai.usage.cache_creation.input_tokens": 64,
      "llm.token_count.prompt": 812,
      "llm.token_count.completion": 31,
      "llm.token_count.total": 843,
      "llm.token_count.prompt_details.cache_read": 256,
      "llm.token_count.prompt_details.cache_write": 64,
      "gen_ai.response.id": "chatcmpl-1",
      "gen_ai.response.model": MODEL,
      "gen_ai.response.finish_reasons": ["toolUse"],
      "llm.finish_reason": "toolUse",
    });
    expect(second!.attributes).toMatchObject({
      ...common,
      "gen_ai.usage.input_tokens": 900,
      "gen_ai.usage.output_tokens": 12,
      "llm.token_count.total": 912,
      "gen_ai.response.finish_reasons": ["stop"],
    });
    // No cache tokens reported → no cache attributes.
    expect(second!.attributes["gen_ai.usage.cache_read.input_tokens"]).toBeUndefined();
    expect(second!.attributes["llm.token_count.prompt_details.cache_write"]).toBeUndefined();
  });

  it("writes both vocabularies, the model's tool-call id and the relay keys on tool spans", () => {
    const { one } = localTurn();
    const agent = one("invoke_agent main");
    const read = one("execute_tool read");
    expect(read.attributes).toMatchObject({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "read",
      "gen_ai.tool.call.id": "call_mock_1",
      "gen_ai.tool.type": "function",
      "openinference.span.kind": "TOOL",
      "tool.name": "read",
      "tool_call.id": "call_mock_1",
      "session.id": LEAD_SESSION,
      "dynamo.session_id": traceOf(agent),
      "dynamo.trajectory_id": trajectoryOf(agent),
      "dynamo.tool.status": "succeeded",
      "dynamo.tool.output_bytes": 5,
    });
    expect(read.attributes["openclaw.tool.bridge"]).toBeUndefined();
  });

  it("puts session.id on every span and derives dynamo ids from the agent span", () => {
    const { spans, one } = localTurn();
    const agent = one("invoke_agent main");
    expect(agent.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(trajectoryOf(agent)).toHaveLength(49);
    for (const span of spans()) {
      expect(span.attributes["session.id"], span.name).toBe(LEAD_SESSION);
      expect(span.attributes["dynamo.session_id"], span.name).toBe(traceOf(agent));
      expect(span.attributes["dynamo.trajectory_id"], span.name).toBe(trajectoryOf(agent));
    }
  });

  it("ends the run once and reports it through onRunEnded", () => {
    const { ended, runId, tree, spans } = localTurn();
    expect(ended.map((run) => run.runId)).toEqual([runId]);
    expect(tree.getRun(runId)?.ended).toBe(true);
    // A duplicate agent_end and late hooks for the ended run change nothing.
    agentEnd(tree, runId);
    expect(ended).toHaveLength(1);
    expect(spans()).toHaveLength(4);
    expect(tree.openRuns()).toEqual([]);
  });

  it("creates no chat span from model_call hooks for the plugin's own provider (the stream wrapper owns it)", () => {
    const { tree, spans } = setup();
    runStart(tree, "run-own");
    const event = { runId: "run-own", callId: "run-own:model:1", sessionKey: LEAD_KEY, sessionId: LEAD_SESSION, provider: OWN, model: MODEL };
    hooks.onModelCallStarted(tree, event, agentCtx("run-own"), OWN);
    hooks.onModelCallEnded(tree, { ...event, outcome: "completed", durationMs: 3 }, agentCtx("run-own"), OWN);
    expect(tree.getChat("run-own:model:1")).toBeUndefined();
    agentEnd(tree, "run-own");
    expect(spans().map((span) => span.name)).toEqual(["invoke_agent main"]);
  });

  it("traces other providers' model calls from model_call_started/ended, errors included", () => {
    const { tree, byName, one } = setup();
    runStart(tree, "run-foreign");
    const base = { runId: "run-foreign", sessionKey: LEAD_KEY, sessionId: LEAD_SESSION, provider: "openai", model: "gpt-5" };
    const ctx: Ctx = { runId: "run-foreign", sessionKey: LEAD_KEY, sessionId: LEAD_SESSION, modelProviderId: "openai", modelId: "gpt-5" };
    hooks.onModelCallStarted(tree, { ...base, callId: "run-foreign:model:1" }, ctx, OWN);
    hooks.onModelCallEnded(tree, { ...base, callId: "run-foreign:model:1", outcome: "completed", durationMs: 10 }, ctx, OWN);
    hooks.onModelCallStarted(tree, { ...base, callId: "run-foreign:model:2" }, ctx, OWN);
    hooks.onModelCallEnded(
      tree,
      { ...base, callId: "run-foreign:model:2", outcome: "error", errorCategory: "rate_limit", failureKind: "http_429", durationMs: 10 },
      ctx,
      OWN,
    );
    agentEnd(tree, "run-foreign");
    const agent = one("invoke_agent main");
    const [ok, failed] = byName("chat gpt-5");
    expect(ok!.attributes).toMatchObject({ "gen_ai.provider.name": "openai", "llm.provider": "openai", "gen_ai.request.model": "gpt-5" });
    expect(ok!.status.code).toBe(SpanStatusCode.UNSET);
    expect(parentOf(ok!)).toBe(idOf(agent));
    expect(failed!.status).toEqual({ code: SpanStatusCode.ERROR, message: "rate_limit" });
    expect(failed!.attributes["error.type"]).toBe("rate_limit");
  });

  it("marks a failed tool call: status ERROR, error.type, dynamo.tool.status error", () => {
    const { tree, one } = setup();
    runStart(tree, "run-err");
    tool(tree, "run-err", "read", "call_bad", { error: "ENOENT: no such file or directory, open 'missing.md'" });
    tool(tree, "run-err", "exec", "call_soft", { result: { content: [{ type: "text", text: "exit 2" }], details: { status: "error", error: "exit code 2" } } });
    tool(tree, "run-err", "process", "call_abort", { error: "Aborted: the run was cancelled" });
    agentEnd(tree, "run-err");
    const read = one("execute_tool read");
    // Content capture off: the category, never OpenClaw's error text (docs/privacy.md).
    expect(read.status).toEqual({ code: SpanStatusCode.ERROR, message: "openclaw_tool_error" });
    expect(read.attributes).toMatchObject({ "error.type": "openclaw_tool_error", "dynamo.tool.status": "error" });
    const soft = one("execute_tool exec");
    expect(soft.status).toEqual({ code: SpanStatusCode.ERROR, message: "openclaw_tool_error" });
    expect(soft.attributes).toMatchObject({ "error.type": "openclaw_tool_error", "dynamo.tool.status": "error" });
    const cancelled = one("execute_tool process");
    expect(cancelled.status.code).toBe(SpanStatusCode.ERROR);
    expect(cancelled.attributes).toMatchObject({ "error.type": "cancelled", "dynamo.tool.status": "cancelled" });
    expect(one("invoke_agent main").status.code).toBe(SpanStatusCode.UNSET);
  });

  it("marks a failed chat request and a failed run", () => {
    const { tree, one } = setup();
    runStart(tree, "run-chat-err");
    modelCall(tree, "run-chat-err", 1, { stopReason: "error", errorMessage: "400 Bad Request: context too long", errorType: "400" });
    agentEnd(tree, "run-chat-err", LEAD_KEY, LEAD_SESSION, { success: false, error: "LLM request failed: provider rejected the request" });
    const chat = one("chat mock-model");
    expect(chat.status).toEqual({ code: SpanStatusCode.ERROR, message: "400" });
    expect(chat.attributes["error.type"]).toBe("400");
    expect(chat.attributes["gen_ai.response.finish_reasons"]).toEqual(["error"]);
    const agent = one("invoke_agent main");
    expect(agent.status).toEqual({ code: SpanStatusCode.ERROR, message: "agent_error" });
    expect(agent.attributes["error.type"]).toBe("agent_error");
  });

  it("marks an aborted chat request with error.type aborted", () => {
    const { tree, one } = setup();
    runStart(tree, "run-abort");
    modelCall(tree, "run-abort", 1, { stopReason: "aborted" });
    agentEnd(tree, "run-abort");
    const chat = one("chat mock-model");
    expect(chat.status).toEqual({ code: SpanStatusCode.ERROR, message: "aborted" });
    expect(chat.attributes["error.type"]).toBe("aborted");
  });

  it("keeps concurrent runs of different sessions apart", () => {
    const { tree, byName } = setup();
    runStart(tree, "run-a", "agent:main:main", "session-a");
    runStart(tree, "run-b", "agent:ops:main", "session-b");
    tool(tree, "run-a", "read", "call_1", {}, "agent:main:main", "session-a");
    tool(tree, "run-b", "read", "call_1", {}, "agent:ops:main", "session-b");
    agentEnd(tree, "run-a", "agent:main:main", "session-a");
    agentEnd(tree, "run-b", "agent:ops:main", "session-b");
    const agents = byName("invoke_agent main");
    const agentA = agents.find((span) => span.attributes["openclaw.run.id"] === "run-a");
    const agentB = agents.find((span) => span.attributes["openclaw.run.id"] === "run-b");
    expect(traceOf(agentA!)).not.toBe(traceOf(agentB!));
    const reads = byName("execute_tool read");
    expect(reads).toHaveLength(2);
    expect(reads.map((span) => [span.attributes["session.id"], parentOf(span)]).sort()).toEqual(
      [
        ["session-a", idOf(agentA!)],
        ["session-b", idOf(agentB!)],
      ].sort(),
    );
  });

  it("ends every open span on closeAll (gateway stop)", () => {
    const { tree, spans, one } = setup();
    runStart(tree, "run-stop");
    tree.startChat("run-stop:model:1", { sessionId: LEAD_SESSION, model: MODEL, provider: OWN });
    hooks.onBeforeToolCall(tree, { toolName: "exec", params: { command: "sleep 100" }, runId: "run-stop", toolCallId: "call_x" }, toolCtx("run-stop", "exec", "call_x"));
    expect(spans()).toEqual([]);
    tree.closeAll();
    expect(spans().map((span) => span.name).sort()).toEqual(["chat mock-model", "execute_tool exec", "invoke_agent main"]);
    expect(one("execute_tool exec").attributes).toMatchObject({ "dynamo.tool.status": "cancelled", "error.type": "cancelled" });
    expect(one("chat mock-model").attributes["error.type"]).toBe("aborted");
    expect(one("invoke_agent main").attributes["openclaw.run.end_observed"]).toBe(false);
    tree.closeAll();
    expect(spans()).toHaveLength(3);
  });
});

describe("span tree: the deferred-tool bridge (tool_call → sessions_spawn)", () => {
  const ARGS = { task: "Read README.md and summarize it", label: "reader" };

  it("makes exactly one execute_tool sessions_spawn span carrying the model's call id", () => {
    const { tree, spans, one } = setup();
    runStart(tree, "run-bridge");
    bridgeStart(tree, "run-bridge", "call_1", "sessions_spawn", ARGS);
    bridgeEnd(tree, "run-bridge", "call_1", "sessions_spawn", ARGS, { result: { status: "accepted", childSessionKey: CHILD_KEY } }, { result: { status: "accepted" } });
    agentEnd(tree, "run-bridge");
    expect(spans().map((span) => span.name).sort()).toEqual(["execute_tool sessions_spawn", "invoke_agent main"]);
    const spawn = one("execute_tool sessions_spawn");
    const agent = one("invoke_agent main");
    expect(parentOf(spawn)).toBe(idOf(agent));
    expect(spawn.attributes).toMatchObject({
      "gen_ai.tool.name": "sessions_spawn",
      "tool.name": "sessions_spawn",
      "gen_ai.tool.call.id": "call_1",
      "tool_call.id": "call_1",
      "openclaw.tool.bridge": "tool_call",
      "openclaw.tool.inner_call_id": "tool_search_code:call_1:sessions_spawn:1",
      "dynamo.tool.status": "succeeded",
    });
    expect(spawn.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("propagates the inner call's error to the span status", () => {
    const { tree, one } = setup();
    runStart(tree, "run-bridge-err");
    bridgeStart(tree, "run-bridge-err", "call_1", "sessions_spawn", ARGS);
    bridgeEnd(tree, "run-bridge-err", "call_1", "sessions_spawn", ARGS, { error: "published reply runtime missing for main" }, { result: { status: "error" } });
    agentEnd(tree, "run-bridge-err");
    const spawn = one("execute_tool sessions_spawn");
    expect(spawn.status).toEqual({ code: SpanStatusCode.ERROR, message: "openclaw_tool_error" });
    expect(spawn.attributes).toMatchObject({ "error.type": "openclaw_tool_error", "dynamo.tool.status": "error", "gen_ai.tool.call.id": "call_1" });
  });

  it("keeps the span open until the outer tool_call ends", () => {
    const { tree, spans } = setup();
    runStart(tree, "run-bridge-open");
    bridgeStart(tree, "run-bridge-open", "call_9", "sessions_spawn", ARGS);
    const innerId = "tool_search_code:call_9:sessions_spawn:1";
    hooks.onAfterToolCall(tree, { toolName: "sessions_spawn", runId: "run-bridge-open", toolCallId: innerId, result: {} }, toolCtx("run-bridge-open", "sessions_spawn", innerId));
    expect(spans()).toEqual([]);
    hooks.onAfterToolCall(tree, { toolName: "tool_call", runId: "run-bridge-open", toolCallId: "call_9", result: {} }, toolCtx("run-bridge-open", "tool_call", "call_9"));
    expect(spans().map((span) => span.name)).toEqual(["execute_tool sessions_spawn"]);
  });

  it("gives an inner call whose outer span is unknown its own span", () => {
    const { tree, one } = setup();
    runStart(tree, "run-orphan-inner");
    tool(tree, "run-orphan-inner", "sessions_spawn", "tool_search_code:call_7:sessions_spawn:1", { params: ARGS, result: {} });
    agentEnd(tree, "run-orphan-inner");
    expect(one("execute_tool sessions_spawn").attributes["gen_ai.tool.call.id"]).toBe("tool_search_code:call_7:sessions_spawn:1");
  });
});

describe("span tree: subagents", () => {
  const ARGS = { task: "Read README.md", label: "reader" };
  const CHILD_RUN = "c0ffee00-1111-4222-8333-444455556666";

  function spawnedEvent() {
    return {
      event: { runId: CHILD_RUN, childSessionKey: CHILD_KEY, agentId: "main", label: "reader", mode: "run", threadRequested: false },
      ctx: { runId: CHILD_RUN, childSessionKey: CHILD_KEY, requesterSessionKey: LEAD_KEY } as Ctx,
    };
  }

  function childRun(tree: SpanTree) {
    runStart(tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION, "[Subagent Context] You are running as a subagent (depth 1/5).");
    modelCall(tree, CHILD_RUN, 1, { stopReason: "toolUse", usage: { input: 10, output: 2 } }, CHILD_KEY, CHILD_SESSION);
    tool(tree, CHILD_RUN, "read", "call_child_1", {}, CHILD_KEY, CHILD_SESSION);
    modelCall(tree, CHILD_RUN, 2, { stopReason: "stop", usage: { input: 12, output: 3 } }, CHILD_KEY, CHILD_SESSION);
    agentEnd(tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
  }

  it("nests the child run under the spawning tool span in the same trace, then the announce run under the lead", () => {
    const { tree, spans, byName, one } = setup();
    // Lead run R1 (gateway order of §9).
    runStart(tree, "R1");
    modelCall(tree, "R1", 1, { stopReason: "toolUse" });
    bridgeStart(tree, "R1", "call_mock_1", "sessions_spawn", ARGS);
    const progress = spawnedEvent();
    hooks.onSubagentSpawned(tree, { phase: "started", runId: CHILD_RUN, childSessionKey: CHILD_KEY }, progress.ctx);
    hooks.onSubagentSpawned(tree, progress.event, progress.ctx);
    bridgeEnd(tree, "R1", "call_mock_1", "sessions_spawn", ARGS, { result: { status: "accepted" } }, { result: { status: "accepted" } });
    modelCall(tree, "R1", 2);
    agentEnd(tree, "R1");
    // The child starts after the lead ended (sessions_spawn mode "run" returns at once).
    childRun(tree);
    // Announce run in the lead's session.
    const announce = `announce:v1:${CHILD_KEY}:${CHILD_RUN}`;
    runStart(tree, announce);
    modelCall(tree, announce, 1);
    agentEnd(tree, announce);

    const agents = byName("invoke_agent main");
    expect(agents).toHaveLength(3);
    const lead = agents.find((span) => span.attributes["openclaw.run.id"] === "R1")!;
    const child = agents.find((span) => span.attributes["openclaw.run.id"] === CHILD_RUN)!;
    const announceSpan = agents.find((span) => span.attributes["openclaw.run.id"] === announce)!;
    const spawn = one("execute_tool sessions_spawn");
    const leadTrajectory = trajectoryOf(lead);

    expect(spans().every((span) => traceOf(span) === traceOf(lead))).toBe(true);
    // A model-written tool argument: only with tool-argument capture (test/trace/privacy.test.ts).
    expect(spawn.attributes["openclaw.subagent.label"]).toBeUndefined();

    expect(parentOf(child)).toBe(idOf(spawn));
    expect(child.attributes).toMatchObject({
      "openclaw.run.kind": "subagent",
      "openclaw.session.key": CHILD_KEY,
      "session.id": CHILD_SESSION,
      "dynamo.session_id": traceOf(lead),
      "dynamo.trajectory_id": trajectoryOf(child),
      "dynamo.parent_trajectory_id": leadTrajectory,
    });
    const childSpans = spans().filter((span) => span.attributes["dynamo.trajectory_id"] === trajectoryOf(child));
    expect(childSpans.map((span) => span.name).sort()).toEqual(["chat mock-model", "chat mock-model", "execute_tool read", "invoke_agent main"]);
    for (const span of childSpans) {
      expect(span.attributes["dynamo.parent_trajectory_id"], span.name).toBe(leadTrajectory);
      expect(span.attributes["session.id"], span.name).toBe(CHILD_SESSION);
      if (span !== child) expect(parentOf(span), span.name).toBe(idOf(child));
    }

    // The announce run is a turn of the lead's conversation: the lead's chain, no parent, and a
    // link to the chain's first agent span (docs/identity.md).
    expect(parentOf(announceSpan)).toBe(idOf(lead));
    expect(announceSpan.attributes).toMatchObject({
      "openclaw.run.kind": "announce",
      "dynamo.session_id": traceOf(lead),
      "dynamo.trajectory_id": leadTrajectory,
      "session.id": LEAD_SESSION,
    });
    expect(announceSpan.attributes["dynamo.parent_trajectory_id"]).toBeUndefined();
    expect(announceSpan.links.map((link) => [link.context.spanId, link.attributes?.["link.kind"]])).toEqual([[idOf(lead), "dynamo_chain_start"]]);
    expect(tree.getRun(CHILD_RUN)?.isSubagent).toBe(true);
    expect(tree.getRun("R1")?.isSubagent).toBe(false);
    expect(tree.getRun(announce)?.isSubagent).toBe(false);
  });

  it("parents the child on the open spawn tool when its run starts before subagent_spawned arrives", () => {
    const { tree, byName, one } = setup();
    runStart(tree, "R1");
    bridgeStart(tree, "R1", "call_mock_1", "sessions_spawn", ARGS);
    runStart(tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION); // child first …
    const late = spawnedEvent();
    hooks.onSubagentSpawned(tree, late.event, late.ctx); // … then subagent_spawned
    bridgeEnd(tree, "R1", "call_mock_1", "sessions_spawn", ARGS);
    agentEnd(tree, "R1");
    modelCall(tree, CHILD_RUN, 1, undefined, CHILD_KEY, CHILD_SESSION);
    agentEnd(tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
    const spawn = one("execute_tool sessions_spawn");
    const lead = byName("invoke_agent main").find((span) => span.attributes["openclaw.run.id"] === "R1")!;
    const child = byName("invoke_agent main").find((span) => span.attributes["openclaw.run.id"] === CHILD_RUN)!;
    expect(parentOf(child)).toBe(idOf(spawn));
    expect(traceOf(child)).toBe(traceOf(lead));
    expect(child.attributes["dynamo.parent_trajectory_id"]).toBe(trajectoryOf(lead));
    expect(one("chat mock-model").attributes["dynamo.parent_trajectory_id"]).toBe(trajectoryOf(lead));
  });

  it("uses the requester's spawn tool, not another session's newer one", () => {
    const { tree, byName } = setup();
    runStart(tree, "R-main", LEAD_KEY, LEAD_SESSION);
    bridgeStart(tree, "R-main", "call_a", "sessions_spawn", ARGS);
    runStart(tree, "R-ops", "agent:ops:main", "session-ops");
    hooks.onBeforeToolCall(
      tree,
      { toolName: "tool_call", params: { id: "sessions_spawn", args: ARGS }, runId: "R-ops", toolCallId: "call_b" },
      toolCtx("R-ops", "tool_call", "call_b", "agent:ops:main", "session-ops"),
    );
    const spawned = spawnedEvent(); // requester = LEAD_KEY
    hooks.onSubagentSpawned(tree, spawned.event, spawned.ctx);
    runStart(tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
    agentEnd(tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
    tree.closeAll();
    const spawns = byName("execute_tool sessions_spawn");
    const mainSpawn = spawns.find((span) => span.attributes["gen_ai.tool.call.id"] === "call_a")!;
    const child = byName("invoke_agent main").find((span) => span.attributes["openclaw.run.id"] === CHILD_RUN)!;
    expect(parentOf(child)).toBe(idOf(mainSpawn));
  });

  it("starts a child whose spawn is unknown as a fresh root (still a subagent)", () => {
    const { tree, one } = setup();
    runStart(tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
    agentEnd(tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
    const child = one("invoke_agent main");
    expect(child.parentSpanContext).toBeUndefined();
    expect(child.attributes["openclaw.run.kind"]).toBe("subagent");
    expect(child.attributes["dynamo.parent_trajectory_id"]).toBeUndefined();
    expect(tree.getRun(CHILD_RUN)?.isSubagent).toBe(true);
  });
});

describe("span tree: process identity", () => {
  it("applies the trajectory / parent overrides to the lead only and marks child processes' runs as subagents", () => {
    const { tree, byName } = setup(
      {},
      { identity: { processIsSubagent: true, sessionIdOverride: "outer-session", leadTrajectoryIdOverride: "lead-traj", leadParentTrajectoryId: "outer-traj" } },
    );
    runStart(tree, "R1");
    agentEnd(tree, "R1");
    const lead = byName("invoke_agent main")[0]!;
    expect(lead.attributes).toMatchObject({
      "dynamo.session_id": "outer-session",
      "dynamo.trajectory_id": "lead-traj",
      "dynamo.parent_trajectory_id": "outer-traj",
    });
    expect(tree.getRun("R1")?.isSubagent).toBe(true);
  });
});

describe("span tree: what is remembered after the end", () => {
  it("forgets an ended tool call: a late after_tool_call changes nothing, a reused id starts a new span", () => {
    const { tree, spans } = setup();
    runStart(tree, "run-forget");
    tool(tree, "run-forget", "read", "call_1");
    expect(tree.sizes.tools).toBe(0);
    // A duplicate end for the ended call: no second span, no change to the first.
    hooks.onAfterToolCall(tree, { toolName: "read", runId: "run-forget", toolCallId: "call_1", error: "late" }, toolCtx("run-forget", "read", "call_1"));
    const reads = () => spans().filter((span) => span.name === "execute_tool read");
    expect(reads()).toHaveLength(1);
    expect(reads()[0]!.status.code).toBe(SpanStatusCode.UNSET);
    tool(tree, "run-forget", "read", "call_1");
    expect(reads()).toHaveLength(2);
    expect(idOf(reads()[0]!)).not.toBe(idOf(reads()[1]!));
  });

  it("forgets both keys of a bridged call when it ends", () => {
    const { tree } = setup();
    runStart(tree, "run-bridge-forget");
    bridgeStart(tree, "run-bridge-forget", "call_1", "sessions_spawn", { task: "x" });
    expect(tree.sizes.tools).toBe(1); // one open call, known by both ids
    bridgeEnd(tree, "run-bridge-forget", "call_1", "sessions_spawn", { task: "x" }, { result: {} }, { result: {} });
    expect(tree.sizes.tools).toBe(0);
  });

  it("forgets an ended request: a late endChat changes nothing", () => {
    const { tree, spans } = setup();
    runStart(tree, "run-chat-forget");
    modelCall(tree, "run-chat-forget", 1, { stopReason: "stop" });
    expect(tree.sizes.chats).toBe(0);
    tree.endChat("run-chat-forget:model:1", { stopReason: "error", errorMessage: "late" });
    const chats = spans().filter((span) => span.name.startsWith("chat "));
    expect(chats).toHaveLength(1);
    expect(chats[0]!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("keeps an ended run for late hooks: a tool call that outlives agent_end still ends under it", () => {
    const { tree, one } = setup();
    runStart(tree, "run-late");
    hooks.onBeforeToolCall(tree, { toolName: "read", params: {}, runId: "run-late", toolCallId: "call_late" }, toolCtx("run-late", "read", "call_late"));
    agentEnd(tree, "run-late");
    expect(tree.sizes).toMatchObject({ runs: 0, endedRuns: 1, tools: 1 });
    hooks.onAfterToolCall(tree, { toolName: "read", runId: "run-late", toolCallId: "call_late", result: "ok" }, toolCtx("run-late", "read", "call_late"));
    const read = one("execute_tool read");
    expect(read.attributes["dynamo.tool.status"]).toBe("succeeded");
    expect(parentOf(read)).toBe(idOf(one("invoke_agent main")));
    expect(tree.sizes.tools).toBe(0);
  });

  it("forgets the oldest ended runs beyond 1,000: their sessions and open tool calls go with them", () => {
    const { tree, spans } = setup();
    runStart(tree, "run-first", "agent:main:first", "session-first");
    hooks.onBeforeToolCall(tree, { toolName: "read", params: {}, runId: "run-first", toolCallId: "call_open" }, toolCtx("run-first", "read", "call_open", "agent:main:first", "session-first"));
    agentEnd(tree, "run-first", "agent:main:first", "session-first");
    expect(tree.latestRunIdOfSession("session-first")).toBeUndefined(); // ended
    for (let i = 0; i < 1_000; i++) {
      runStart(tree, `run-${i}`, `agent:main:s${i}`, `session-${i}`);
      agentEnd(tree, `run-${i}`, `agent:main:s${i}`, `session-${i}`);
    }
    expect(tree.getRun("run-first")).toBeUndefined();
    expect(tree.getRun("run-999")?.ended).toBe(true);
    expect(tree.sizes).toMatchObject({ runs: 0, endedRuns: 1_000, tools: 0 });
    const read = spans().find((span) => span.name === "execute_tool read")!;
    expect(read.attributes["dynamo.tool.status"]).toBe("cancelled");
    expect(read.status.message).toBe("no after_tool_call was observed");
    // A hook naming the forgotten run's session finds nothing left of it.
    expect(tree.ensureRun({ sessionKey: "agent:main:first" })).toBeUndefined();
  });
});
