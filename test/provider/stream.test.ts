import { randomBytes } from "node:crypto";
// The provider's request path: createStreamWrapper around a fake inner StreamFn that behaves like
// OpenClaw's transport (openclaw-plugin-sdk.md §7): it applies `onPayload` to build the body and
// returns an async-iterable event stream with `result()`; a non-2xx answer is a single `error` event.
import { SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import type { ProviderWrapStreamFnContext } from "openclaw/plugin-sdk/plugin-entry";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import type { ProviderDeps } from "../../src/provider/deps.ts";
import { ProtocolState } from "../../src/provider/protocol.ts";
import { DynamoSessions } from "../../src/provider/session.ts";
import { createStreamWrapper } from "../../src/provider/stream.ts";
import * as hooks from "../../src/trace/hooks.ts";
import { ReservableIdGenerator } from "../../src/trace/id-generator.ts";
import { SpanTree } from "../../src/trace/span-tree.ts";

type StreamFn = NonNullable<ProviderWrapStreamFnContext["streamFn"]>;
type Model = Parameters<StreamFn>[0];
type Context = Parameters<StreamFn>[1];
type Options = NonNullable<Parameters<StreamFn>[2]>;
type Event = { type: string } & Record<string, unknown>;
type Body = Record<string, unknown> & { nvext?: Record<string, unknown> };

const MODEL_ID = "mock-model";
const BASE_URL = "http://127.0.0.1:8000/v1";
const MODEL = { id: MODEL_ID, name: MODEL_ID, api: "openai-completions", provider: "dynamo", baseUrl: BASE_URL } as unknown as Model;
const CONTEXT = { systemPrompt: "You are helpful.", messages: [{ role: "user", content: "hi", timestamp: 1 }] } as unknown as Context;
const LEAD_KEY = "agent:main:main";
const LEAD_SESSION = "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e";
const CHILD_KEY = "agent:main:subagent:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const CHILD_SESSION = "11111111-2222-4333-8444-555555555555";
const CHILD_RUN = "c0ffee00-1111-4222-8333-444455556666";
/** The traceparent OpenClaw's diagnostic wrapper puts on every request (§7.3). */
const OPENCLAW_TRACEPARENT = "00-aaaabbbbccccddddeeeeffff00001111-1234567890abcdef-01";
const REJECT_AGENT_CONTEXT =
  "400 invalid nvext: unknown field `agent_context`, expected one of `greed_sampling`, `use_raw_prompt`, `annotations`";
const REJECT_SESSION_CONTROL = "400 Failed to deserialize the JSON body: nvext: unknown field `session_control`";
/** What every traced request asks Dynamo for (SPEC §3.2, dynamo-wire.md §12.3). */
const EXTRA_FIELDS = ["worker_id", "timing"];
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

function assistantMessage(text: string, usage = { input: 12, output: 3 }) {
  return {
    role: "assistant",
    content: [{ type: "text", text }],
    api: "openai-completions",
    provider: "dynamo",
    model: MODEL_ID,
    responseId: "chatcmpl-42",
    usage: { ...usage, cacheRead: 0, cacheWrite: 0, totalTokens: usage.input + usage.output, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 } },
    stopReason: "stop",
    timestamp: 1_700_000_000_000,
  };
}

function okEvents(text = "Hello"): Event[] {
  const message = assistantMessage(text);
  return [
    { type: "start", partial: { ...message, content: [] } },
    { type: "text_start", contentIndex: 0, partial: message },
    { type: "text_delta", contentIndex: 0, delta: text, partial: message },
    { type: "text_end", contentIndex: 0, content: text, partial: message },
    { type: "done", reason: "stop", message },
  ];
}

/** A non-2xx answer as OpenClaw surfaces it: one `error` event, no `start` (§7.5). */
function errorEvents(errorMessage: string, errorCode: number | string = 400): Event[] {
  return [
    {
      type: "error",
      reason: "error",
      error: {
        role: "assistant",
        content: [],
        api: "openai-completions",
        provider: "dynamo",
        model: MODEL_ID,
        usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, totalTokens: 0 },
        stopReason: "error",
        errorMessage,
        errorCode,
        errorType: "invalid_request_error",
        timestamp: 1_700_000_000_000,
      },
    },
  ];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

interface InnerCall {
  readonly options: Options;
  /** The headers the transport would send. */
  readonly headers: Record<string, string>;
  /** The body after `onPayload` (what goes on the wire). */
  body?: Body;
  /** The payload the transport built before `onPayload` (frozen). */
  payload?: Body;
}

/** The inner transport: records every call; `answer` decides the events of call n (0-based). */
function fakeTransport(answer: (call: InnerCall, index: number) => Event[]) {
  const calls: InnerCall[] = [];
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const fn = (model: Model, _context: Context, options?: Options) => {
    const call: InnerCall = { options: options!, headers: { ...((options?.headers ?? {}) as Record<string, string>) } };
    calls.push(call);
    const index = calls.length - 1;
    const events = (async () => {
      await gate;
      const payload = deepFreeze({ model: model.id, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] }) as Body;
      call.payload = payload;
      const replaced = options?.onPayload ? await options.onPayload(payload, model) : undefined;
      call.body = (replaced ?? payload) as Body;
      return answer(call, index);
    })();
    return {
      async *[Symbol.asyncIterator]() {
        for (const event of await events) yield event;
      },
      async result() {
        const list = await events;
        const last = list.at(-1)!;
        return last.type === "done" ? last.message : last.error;
      },
    };
  };
  return {
    calls,
    fn: fn as unknown as StreamFn,
    /** Hold every call until `open()`. */
    hold() {
      gate = new Promise<void>((resolve) => (release = resolve));
    },
    open: () => release(),
  };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

let provider: TracerProvider | undefined;
afterEach(async () => {
  await provider?.shutdown();
  provider = undefined;
});

function setup(pluginConfig: Record<string, unknown> = {}, answer: (call: InnerCall, index: number) => Event[] = () => okEvents()) {
  const { config, warnings: configWarnings } = loadConfig({ agentTrace: true, ...pluginConfig }, {});
  expect(configWarnings).toEqual([]);
  const idGenerator = new ReservableIdGenerator();
  const exporter = new InMemorySpanExporter();
  provider = new TracerProvider({ idGenerator, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const fetches: Array<{ url: string; headers: Record<string, string>; body: Body }> = [];
  const sessions = config.agentTrace
    ? new DynamoSessions({
        baseUrl: config.baseUrl,
        apiKey: () => config.apiKey,
        timeoutSeconds: config.sessionTimeoutSeconds,
        traceparentOf: (run) => `00-${run.spanContext.traceId}-${run.spanContext.spanId}-01`,
        log: { warn: () => {}, debug: () => {} },
        fetchImpl: (async (url: string, init: RequestInit) => {
          fetches.push({ url, headers: init.headers as Record<string, string>, body: JSON.parse(String(init.body)) as Body });
          return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
        }) as typeof fetch,
      })
    : undefined;
  const switches: string[] = [];
  const protocols = config.agentTrace ? new ProtocolState(config.protocol, (from, to) => switches.push(`${from}->${to}`)) : undefined;
  const tree = new SpanTree({ tracer: provider.getTracer("test"), idGenerator, config, onRunEnded: (run) => sessions?.runEnded(run) });
  const warnings: string[] = [];
  const deps: ProviderDeps = { config, tree, sessions, protocols, warnOnce: (_key, message) => warnings.push(message) };
  const transport = fakeTransport(answer);
  const wrapped = createStreamWrapper(deps)({ provider: "dynamo", modelId: MODEL_ID, streamFn: transport.fn } as unknown as ProviderWrapStreamFnContext)!;
  const spans = () => exporter.getFinishedSpans();
  const chatSpans = () => spans().filter((span) => span.name === `chat ${MODEL_ID}`);
  // The tree forgets a request once it ends: note which span each call id got.
  const chatSpanIds = new Map<string, string>();
  const startChat = tree.startChat.bind(tree);
  tree.startChat = (callId, ref) => {
    const chat = startChat(callId, ref);
    if (chat) chatSpanIds.set(callId, chat.spanContext.spanId);
    return chat;
  };
  return { config, tree, sessions, protocols, switches, fetches, warnings, transport, wrapped, spans, chatSpans, chatSpanIds, deps };
}

type Setup = ReturnType<typeof setup>;

function startRun(tree: SpanTree, runId: string, sessionKey = LEAD_KEY, sessionId = LEAD_SESSION) {
  // Like OpenClaw's later run-start hooks: the ctx carries OpenClaw's trace context.
  const ctx = { runId, agentId: "main", sessionKey, sessionId, modelProviderId: "dynamo", modelId: MODEL_ID, trace: { traceId: randomBytes(16).toString("hex") } };
  for (const name of hooks.RUN_START_HOOKS) hooks.onRunStart(tree, { prompt: "hi" }, ctx);
}

function endRun(tree: SpanTree, runId: string, sessionKey = LEAD_KEY, sessionId = LEAD_SESSION) {
  hooks.onAgentEnd(tree, { runId, success: true, messages: [] }, { runId, agentId: "main", sessionKey, sessionId });
}

/** Lead run R1 spawning a subagent through the bridge, then the child's run. */
function startLeadAndChild(tree: SpanTree) {
  startRun(tree, "R1");
  const tool = (toolName: string, toolCallId: string, params: unknown) =>
    hooks.onBeforeToolCall(tree, { toolName, params, runId: "R1", toolCallId }, { runId: "R1", sessionKey: LEAD_KEY, sessionId: LEAD_SESSION });
  tool("tool_call", "call_1", { id: "sessions_spawn", args: { task: "read" } });
  tool("sessions_spawn", "tool_search_code:call_1:sessions_spawn:1", { task: "read" });
  hooks.onSubagentSpawned(tree, { runId: CHILD_RUN, childSessionKey: CHILD_KEY, agentId: "main", mode: "run" }, { runId: CHILD_RUN, childSessionKey: CHILD_KEY, requesterSessionKey: LEAD_KEY });
  startRun(tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
  const lead = tree.getRun("R1")!;
  const child = tree.getRun(CHILD_RUN)!;
  return { lead, child };
}

function optionsFor(runId: string, n: number, extra: Partial<Options> & Record<string, unknown> = {}, sessionId = LEAD_SESSION): Options {
  return {
    requestId: `${runId}:model:${n}`,
    sessionId,
    headers: { traceparent: OPENCLAW_TRACEPARENT, "user-agent": "OpenAI/JS 7.15.0" },
    maxTokens: 4096,
    ...extra,
  } as Options;
}

async function send(s: Setup, options: Options) {
  const stream = await s.wrapped(MODEL, CONTEXT, options);
  const events: Event[] = [];
  for await (const event of stream as AsyncIterable<Event>) events.push(event);
  const message = (await stream.result()) as unknown as Record<string, unknown>;
  await settle();
  return { events, message };
}

const chatOf = (s: Setup, runId: string, n: number): ReadableSpan => {
  const found = s.chatSpans().filter((span) => span.attributes["dynamo.x_request_id"] !== undefined && s.chatSpanIds.get(`${runId}:model:${n}`) === span.spanContext().spanId);
  expect(found).toHaveLength(1);
  return found[0]!;
};

const headerKeys = (headers: Record<string, string>, name: string) => Object.keys(headers).filter((key) => key.toLowerCase() === name);

// -------------------------------------------------------------------------------------------------

describe("stream wrapper: trace headers and x-request-id", () => {
  it("replaces OpenClaw's traceparent (every casing) with one naming the chat span", async () => {
    const s = setup({ agentTrace: false });
    startRun(s.tree, "R1");
    const headers = { traceparent: OPENCLAW_TRACEPARENT, Traceparent: OPENCLAW_TRACEPARENT, TRACEPARENT: OPENCLAW_TRACEPARENT, TraceState: "vendor=x" };
    await send(s, optionsFor("R1", 1, { headers }));
    const [call] = s.transport.calls;
    const chat = chatOf(s, "R1", 1);
    expect(headerKeys(call!.headers, "traceparent")).toEqual(["traceparent"]);
    expect(call!.headers.traceparent).toBe(`00-${chat.spanContext().traceId}-${chat.spanContext().spanId}-01`);
    expect(headerKeys(call!.headers, "tracestate")).toEqual([]);
    const agent = s.spans().find((span) => span.name === "invoke_agent main");
    expect(agent).toBeUndefined(); // still open
    expect(chat.parentSpanContext?.spanId).toBe(s.tree.getRun("R1")!.spanContext.spanId);
  });

  it("mints x-request-id as <trace>-<chat span> and records it on the span", async () => {
    const s = setup({ agentTrace: false });
    startRun(s.tree, "R1");
    await send(s, optionsFor("R1", 1));
    const chat = chatOf(s, "R1", 1);
    const expected = `${chat.spanContext().traceId}-${chat.spanContext().spanId}`;
    expect(headerKeys(s.transport.calls[0]!.headers, "x-request-id")).toEqual(["x-request-id"]);
    expect(s.transport.calls[0]!.headers["x-request-id"]).toBe(expected);
    expect(chat.attributes["dynamo.x_request_id"]).toBe(expected);
  });

  it("keeps a caller's X-Request-ID (one header, lowercase key)", async () => {
    const s = setup({ agentTrace: false });
    startRun(s.tree, "R1");
    await send(s, optionsFor("R1", 1, { headers: { "X-Request-ID": "req-from-caller", traceparent: OPENCLAW_TRACEPARENT } }));
    const headers = s.transport.calls[0]!.headers;
    expect(headerKeys(headers, "x-request-id")).toEqual(["x-request-id"]);
    expect(headers["x-request-id"]).toBe("req-from-caller");
    expect(chatOf(s, "R1", 1).attributes["dynamo.x_request_id"]).toBe("req-from-caller");
  });

  it("sends a key from plugin config as the bearer token (OpenClaw ignores options.apiKey); a caller's own Authorization header wins", async () => {
    const keyed = setup({ agentTrace: false, apiKey: "sk-config-key-123" });
    startRun(keyed.tree, "R1");
    await send(keyed, optionsFor("R1", 1));
    const headers = keyed.transport.calls[0]!.headers;
    expect(headerKeys(headers, "authorization")).toEqual(["authorization"]);
    expect(headers.authorization).toBe("Bearer sk-config-key-123");
    startRun(keyed.tree, "R3");
    await send(keyed, optionsFor("R3", 1, { headers: { Authorization: "Bearer caller-set" } }));
    expect(keyed.transport.calls[1]!.headers.Authorization).toBe("Bearer caller-set");
    expect(headerKeys(keyed.transport.calls[1]!.headers, "authorization")).toEqual(["Authorization"]);

    const plain = setup({ agentTrace: false });
    startRun(plain.tree, "R2");
    await send(plain, optionsFor("R2", 1, { headers: { Authorization: "Bearer from-env" } }));
    expect(plain.transport.calls[0]!.headers.Authorization).toBe("Bearer from-env");
  });

  it("keeps the caller's other headers and options", async () => {
    const s = setup({ agentTrace: false });
    startRun(s.tree, "R1");
    const signal = new AbortController().signal;
    await send(s, optionsFor("R1", 1, { signal, temperature: 0.2 }));
    const call = s.transport.calls[0]!;
    expect(call.headers["user-agent"]).toBe("OpenAI/JS 7.15.0");
    expect(call.options.signal).toBe(signal);
    expect(call.options.temperature).toBe(0.2);
    expect(call.options.requestId).toBe("R1:model:1");
    expect(call.options.sessionId).toBe(LEAD_SESSION);
  });

  it("never mutates the caller's options, headers or payload", async () => {
    for (const protocol of ["nvext", "headers"]) {
      const s = setup({ protocol });
      const { child } = startLeadAndChild(s.tree);
      const seen: unknown[] = [];
      const callerOnPayload = (payload: unknown) => {
        seen.push(payload);
        return undefined;
      };
      const headers = { traceparent: OPENCLAW_TRACEPARENT, "X-Request-ID": "rid", "x-dynamo-session-id": "spoofed" };
      const options = deepFreeze(optionsFor(CHILD_RUN, 1, { headers, onPayload: callerOnPayload }, CHILD_SESSION));
      const before = JSON.stringify(options);
      await send(s, options);
      expect(JSON.stringify(options), protocol).toBe(before);
      expect(options.onPayload).toBe(callerOnPayload);
      const call = s.transport.calls[0]!;
      expect(call.options, protocol).not.toBe(options);
      expect(call.options.headers, protocol).not.toBe(options.headers);
      // The transport's own payload object is untouched (it is frozen; a mutation would have thrown).
      expect(call.payload!.nvext, protocol).toBeUndefined();
      expect(seen, protocol).toHaveLength(1);
      expect(child.ended).toBe(false);
    }
  });

  it("falls back to the plain request when tracing fails, with one warning", async () => {
    const s = setup({ agentTrace: false });
    const broken = {
      ...s.deps,
      tree: {
        startChat: () => {
          throw new Error("boom");
        },
      } as unknown as SpanTree,
    };
    const transport = fakeTransport(() => okEvents());
    const wrapped = createStreamWrapper(broken)({ provider: "dynamo", modelId: MODEL_ID, streamFn: transport.fn } as unknown as ProviderWrapStreamFnContext)!;
    const options = optionsFor("R1", 1);
    const stream = await wrapped(MODEL, CONTEXT, options);
    expect(await stream.result()).toMatchObject({ stopReason: "stop" });
    expect(transport.calls[0]!.options).toBe(options);
    expect(s.warnings).toEqual(["could not add tracing/identity to a model request: Error: boom"]);
  });

  it("returns undefined without an inner stream function", () => {
    const s = setup();
    expect(createStreamWrapper(s.deps)({ provider: "dynamo", modelId: MODEL_ID } as unknown as ProviderWrapStreamFnContext)).toBeUndefined();
  });

  it("ends the chat span from the stream's result with usage, response id and finish reason", async () => {
    const s = setup({ agentTrace: false });
    startRun(s.tree, "R1");
    const { events, message } = await send(s, optionsFor("R1", 1));
    expect(events.map((event) => event.type)).toEqual(["start", "text_start", "text_delta", "text_end", "done"]);
    expect(message).toMatchObject({ stopReason: "stop" });
    const chat = chatOf(s, "R1", 1);
    expect(chat.attributes).toMatchObject({
      "gen_ai.request.model": MODEL_ID,
      "gen_ai.provider.name": "dynamo",
      "server.address": "127.0.0.1",
      "server.port": 8000,
      "gen_ai.usage.input_tokens": 12,
      "gen_ai.usage.output_tokens": 3,
      "llm.token_count.total": 15,
      "gen_ai.response.id": "chatcmpl-42",
      "gen_ai.response.finish_reasons": ["stop"],
      "session.id": LEAD_SESSION,
    });
    expect(chat.status.code).toBe(SpanStatusCode.UNSET);
    expect(chat.attributes["dynamo.protocol"]).toBeUndefined();
  });

  it("ends the chat span with an error when the inner stream function rejects", async () => {
    const s = setup({ agentTrace: false });
    startRun(s.tree, "R1");
    const failing = (() => Promise.reject(new Error("socket hang up"))) as unknown as StreamFn;
    const wrapped = createStreamWrapper(s.deps)({ provider: "dynamo", modelId: MODEL_ID, streamFn: failing } as unknown as ProviderWrapStreamFnContext)!;
    await expect(wrapped(MODEL, CONTEXT, optionsFor("R1", 1))).rejects.toThrow("socket hang up");
    await settle();
    const [chat] = s.chatSpans();
    // Content capture off: the category only (docs/privacy.md); the text is in test/trace/privacy.test.ts.
    expect(chat!.status).toEqual({ code: SpanStatusCode.ERROR, message: "llm_error" });
  });
});

describe("stream wrapper: Dynamo identity, nvext protocol", () => {
  it("adds nvext.agent_context with exactly three keys for the lead (no parent, no session_control)", async () => {
    const s = setup({ protocol: "nvext" });
    startRun(s.tree, "R1");
    await send(s, optionsFor("R1", 1));
    const run = s.tree.getRun("R1")!;
    const body = s.transport.calls[0]!.body!;
    expect(body.nvext).toEqual({
      agent_context: {
        session_type_id: "openclaw_coding_agent",
        session_id: run.spanContext.traceId,
        trajectory_id: `${run.spanContext.traceId}-${run.spanContext.spanId}`,
      },
      extra_fields: EXTRA_FIELDS,
    });
    expect(body).toMatchObject({ model: MODEL_ID, stream: true, messages: [{ role: "user", content: "hi" }] });
    expect(Object.keys(s.transport.calls[0]!.headers).filter((key) => key.startsWith("x-dynamo-"))).toEqual([]);
    expect(chatOf(s, "R1", 1).attributes["dynamo.protocol"]).toBe("nvext");
  });

  it("adds exactly the four agent_context keys for a subagent, and applies the caller's onPayload to the patched body", async () => {
    const s = setup({ protocol: "nvext", sessionTypeId: "my_agents" });
    const { lead, child } = startLeadAndChild(s.tree);
    const received: Body[] = [];
    const onPayload = (payload: unknown) => {
      received.push(payload as Body);
      return { ...(payload as Body), caller_mark: true };
    };
    await send(s, optionsFor(CHILD_RUN, 1, { onPayload }, CHILD_SESSION));
    const body = s.transport.calls[0]!.body!;
    expect(body.caller_mark).toBe(true);
    expect(received[0]!.nvext).toEqual(body.nvext);
    expect(Object.keys((body.nvext as { agent_context: object }).agent_context)).toEqual([
      "session_type_id",
      "session_id",
      "trajectory_id",
      "parent_trajectory_id",
    ]);
    expect(body.nvext!.agent_context).toEqual({
      session_type_id: "my_agents",
      session_id: lead.spanContext.traceId,
      trajectory_id: child.ids.trajectoryId,
      parent_trajectory_id: lead.ids.trajectoryId,
    });
    expect(child.ids.trajectoryId).toBe(`${child.spanContext.traceId}-${child.spanContext.spanId}`);
  });

  it("keeps other nvext fields the payload already had", async () => {
    const s = setup({ protocol: "nvext" });
    startRun(s.tree, "R1");
    const onPayload = (payload: unknown) => ({ ...(payload as Body), nvext: { ...((payload as Body).nvext ?? {}), agent_hints: { priority: 1 } } });
    await send(s, optionsFor("R1", 1, { onPayload }));
    expect(Object.keys(s.transport.calls[0]!.body!.nvext!).sort()).toEqual(["agent_context", "agent_hints", "extra_fields"]);
  });

  it("gives a subagent session_control open → bare, and a close request when its run ends; the lead none", async () => {
    const s = setup({ protocol: "nvext", sessionTimeoutSeconds: 120 });
    const { child } = startLeadAndChild(s.tree);
    await send(s, optionsFor("R1", 1));
    await send(s, optionsFor(CHILD_RUN, 1, {}, CHILD_SESSION));
    await send(s, optionsFor(CHILD_RUN, 2, {}, CHILD_SESSION));
    const [lead1, child1, child2] = s.transport.calls.map((call) => call.body!.nvext!);
    expect(lead1!.session_control).toBeUndefined();
    expect(child1!.session_control).toEqual({ session_id: child.ids.trajectoryId, action: "open", timeout: 120 });
    expect(child2!.session_control).toEqual({ session_id: child.ids.trajectoryId });
    expect(s.fetches).toEqual([]);
    endRun(s.tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
    await s.sessions!.settled();
    expect(s.fetches).toHaveLength(1);
    expect(s.fetches[0]!.url).toBe("http://127.0.0.1:8000/v1/chat/completions");
    expect(s.fetches[0]!.body).toEqual({
      model: MODEL_ID,
      messages: [{ role: "user", content: "." }],
      max_tokens: 1,
      stream: false,
      nvext: { session_control: { session_id: child.ids.trajectoryId, action: "close" } },
    });
    // The lead's end closes nothing.
    endRun(s.tree, "R1");
    await s.sessions!.settled();
    expect(s.fetches).toHaveLength(1);
  });
});

describe("stream wrapper: Dynamo identity, headers protocol", () => {
  it("adds x-dynamo-session-id / x-dynamo-parent-session-id, no nvext, and drops caller identity headers", async () => {
    const s = setup({ protocol: "headers" });
    const { lead, child } = startLeadAndChild(s.tree);
    const headers = { traceparent: OPENCLAW_TRACEPARENT, "X-Dynamo-Session-Id": "spoofed", "x-dynamo-session-final": "true" };
    await send(s, optionsFor("R1", 1, { headers }));
    await send(s, optionsFor(CHILD_RUN, 1, { headers }, CHILD_SESSION));
    const [leadCall, childCall] = s.transport.calls;
    const dynamoHeaders = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([key]) => key.toLowerCase().startsWith("x-dynamo-")));
    expect(dynamoHeaders(leadCall!.headers)).toEqual({ "x-dynamo-session-id": lead.ids.trajectoryId });
    expect(dynamoHeaders(childCall!.headers)).toEqual({
      "x-dynamo-session-id": child.ids.trajectoryId,
      "x-dynamo-parent-session-id": lead.ids.trajectoryId,
    });
    // No identity in the body: only the serving fields every traced request asks for.
    for (const call of [leadCall!, childCall!]) expect(call.body!.nvext).toEqual({ extra_fields: EXTRA_FIELDS });
    expect(chatOf(s, CHILD_RUN, 1).attributes["dynamo.protocol"]).toBe("headers");
  });

  it("still runs the caller's onPayload, on the body with the serving fields, and sends what it returns", async () => {
    const s = setup({ protocol: "headers" });
    startRun(s.tree, "R1");
    const seen: unknown[] = [];
    const onPayload = (payload: unknown) => {
      seen.push(payload);
      return { ...(payload as Body), caller_mark: 1 };
    };
    await send(s, optionsFor("R1", 1, { onPayload }));
    expect(seen).toHaveLength(1);
    expect((seen[0] as Body).nvext).toEqual({ extra_fields: EXTRA_FIELDS });
    expect(s.transport.calls[0]!.body).toMatchObject({ caller_mark: 1, nvext: { extra_fields: EXTRA_FIELDS } });
  });

  it("sends a session-final when a subagent run ends", async () => {
    const s = setup({ protocol: "headers" });
    const { lead, child } = startLeadAndChild(s.tree);
    await send(s, optionsFor(CHILD_RUN, 1, {}, CHILD_SESSION));
    endRun(s.tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
    await s.sessions!.settled();
    expect(s.fetches).toHaveLength(1);
    expect(s.fetches[0]!.headers).toMatchObject({
      "x-dynamo-session-id": child.ids.trajectoryId,
      "x-dynamo-parent-session-id": lead.ids.trajectoryId,
      "x-dynamo-session-final": "true",
    });
    expect(s.fetches[0]!.body).toEqual({ model: MODEL_ID, messages: [{ role: "user", content: "." }], max_tokens: 1, stream: false });
  });
});

describe("stream wrapper: DYN_AGENT_TRACE off", () => {
  it("adds no identity but still traces", async () => {
    const s = setup({ agentTrace: false });
    startLeadAndChild(s.tree);
    const onPayload = (payload: unknown) => payload;
    await send(s, optionsFor(CHILD_RUN, 1, { onPayload }, CHILD_SESSION));
    const call = s.transport.calls[0]!;
    expect(call.body!.nvext).toEqual({ extra_fields: EXTRA_FIELDS });
    expect(Object.keys(call.headers).filter((key) => key.startsWith("x-dynamo-"))).toEqual([]);
    expect(call.headers.traceparent).toMatch(TRACEPARENT);
    expect(call.headers.traceparent).not.toBe(OPENCLAW_TRACEPARENT);
    expect(call.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
  });
});

describe("stream wrapper: auto fallback from nvext to headers (SPEC §4.4)", () => {
  const rejectFirst = (message: string, code: number | string = 400) => (_call: InnerCall, index: number) =>
    index === 0 ? errorEvents(message, code) : okEvents("after fallback");

  it("hides the 400, resends the same request with headers and switches the process once", async () => {
    const s = setup({ protocol: "auto" }, rejectFirst(REJECT_AGENT_CONTEXT));
    startRun(s.tree, "R1");
    const { events, message } = await send(s, optionsFor("R1", 1));
    expect(events.map((event) => event.type)).toEqual(["start", "text_start", "text_delta", "text_end", "done"]);
    expect(events.some((event) => event.type === "error")).toBe(false);
    expect(message).toMatchObject({ stopReason: "stop", content: [{ type: "text", text: "after fallback" }] });

    const [first, second] = s.transport.calls;
    expect(s.transport.calls).toHaveLength(2);
    const run = s.tree.getRun("R1")!;
    expect(first!.body!.nvext).toMatchObject({ agent_context: { trajectory_id: run.ids.trajectoryId } });
    expect(first!.headers["x-dynamo-session-id"]).toBeUndefined();
    expect(second!.body!.nvext).toEqual({ extra_fields: EXTRA_FIELDS });
    expect(second!.headers["x-dynamo-session-id"]).toBe(run.ids.trajectoryId);
    // Same request: same x-request-id, traceparent and OpenClaw request id.
    expect(second!.headers["x-request-id"]).toBe(first!.headers["x-request-id"]);
    expect(second!.headers.traceparent).toBe(first!.headers.traceparent);
    expect(second!.options.requestId).toBe("R1:model:1");

    expect(s.protocols!.current).toBe("headers");
    expect(s.protocols!.fallbacks).toBe(1);
    expect(s.switches).toEqual(["nvext->headers"]);

    expect(s.chatSpans()).toHaveLength(1);
    const chat = s.chatSpans()[0]!;
    expect(chat.status.code).toBe(SpanStatusCode.UNSET);
    expect(chat.attributes["dynamo.protocol"]).toBe("headers");
    const fallbackEvents = chat.events.filter((event) => event.name !== "dynamo.first_token");
    expect(fallbackEvents.map((event) => [event.name, event.attributes])).toEqual([["dynamo.protocol_fallback", { from: "nvext", to: "headers" }]]);
    expect(chat.attributes["gen_ai.usage.output_tokens"]).toBe(3);

    // Later requests start on headers.
    await send(s, optionsFor("R1", 2));
    expect(s.transport.calls).toHaveLength(3);
    expect(s.transport.calls[2]!.body!.nvext).toEqual({ extra_fields: EXTRA_FIELDS });
    expect(s.transport.calls[2]!.headers["x-dynamo-session-id"]).toBe(run.ids.trajectoryId);
    expect(s.switches).toHaveLength(1);
  });

  it("also falls back on the session_control wording (string error code), for a subagent", async () => {
    const s = setup({ protocol: "auto" }, rejectFirst(REJECT_SESSION_CONTROL, "400"));
    const { lead, child } = startLeadAndChild(s.tree);
    const { events } = await send(s, optionsFor(CHILD_RUN, 1, {}, CHILD_SESSION));
    expect(events.at(-1)!.type).toBe("done");
    const [first, second] = s.transport.calls;
    expect(first!.body!.nvext!.session_control).toEqual({ session_id: child.ids.trajectoryId, action: "open" });
    expect(second!.headers).toMatchObject({
      "x-dynamo-session-id": child.ids.trajectoryId,
      "x-dynamo-parent-session-id": lead.ids.trajectoryId,
    });
    expect(s.protocols!.current).toBe("headers");
    // The chain is now a headers chain: its end sends a session-final, not a close.
    endRun(s.tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
    await s.sessions!.settled();
    expect(s.fetches).toHaveLength(1);
    expect(s.fetches[0]!.headers["x-dynamo-session-final"]).toBe("true");
    expect(s.fetches[0]!.body.nvext).toBeUndefined();
  });

  it("resends each of several concurrent first requests at most once; later requests start on headers", async () => {
    const s = setup({ protocol: "auto" }, (call) => (call.body!.nvext?.agent_context ? errorEvents(REJECT_AGENT_CONTEXT) : okEvents()));
    startRun(s.tree, "R1");
    startRun(s.tree, "R2", "agent:ops:main", "session-ops");
    s.transport.hold();
    const pending = [
      send(s, optionsFor("R1", 1)),
      send(s, optionsFor("R1", 2)),
      send(s, optionsFor("R2", 1, {}, "session-ops")),
    ];
    await settle();
    expect(s.transport.calls).toHaveLength(3);
    expect(s.transport.calls.every((call) => call.headers["x-dynamo-session-id"] === undefined)).toBe(true); // all started on nvext
    s.transport.open();
    const results = await Promise.all(pending);
    for (const { events } of results) expect(events.map((event) => event.type)).not.toContain("error");
    expect(s.transport.calls).toHaveLength(6);
    const byRequest = new Map<string, InnerCall[]>();
    for (const call of s.transport.calls) byRequest.set(String(call.options.requestId), [...(byRequest.get(String(call.options.requestId)) ?? []), call]);
    expect([...byRequest.keys()].sort()).toEqual(["R1:model:1", "R1:model:2", "R2:model:1"]);
    for (const [requestId, calls] of byRequest) {
      expect(calls.map((call) => (call.body!.nvext?.agent_context ? "nvext" : "headers")), requestId).toEqual(["nvext", "headers"]);
    }
    expect(s.switches).toEqual(["nvext->headers"]);
    expect(s.protocols!.fallbacks).toBe(3);
    await send(s, optionsFor("R1", 3));
    expect(s.transport.calls).toHaveLength(7);
    expect(s.transport.calls[6]!.body!.nvext).toEqual({ extra_fields: EXTRA_FIELDS });
    expect(s.chatSpans()).toHaveLength(4);
  });

  it("does not fall back on a 400 about an unknown field inside agent_context (`phase`)", async () => {
    const phase = "400 invalid nvext: unknown field `phase`, expected one of `session_type_id`, `session_id`, `trajectory_id`, `parent_trajectory_id`";
    const s = setup({ protocol: "auto" }, () => errorEvents(phase));
    startRun(s.tree, "R1");
    const { events, message } = await send(s, optionsFor("R1", 1));
    expect(events.map((event) => event.type)).toEqual(["error"]);
    expect(message).toMatchObject({ stopReason: "error", errorMessage: phase });
    expect(s.transport.calls).toHaveLength(1);
    expect(s.protocols!.current).toBe("nvext");
    expect(s.protocols!.fallbacks).toBe(0);
    expect(s.switches).toEqual([]);
    const chat = s.chatSpans()[0]!;
    expect(chat.status).toEqual({ code: SpanStatusCode.ERROR, message: "400" });
    expect(chat.attributes["error.type"]).toBe("400");
  });

  it("does not fall back when the protocol is forced to nvext", async () => {
    const s = setup({ protocol: "nvext" }, () => errorEvents(REJECT_AGENT_CONTEXT));
    startRun(s.tree, "R1");
    const { events } = await send(s, optionsFor("R1", 1));
    expect(events.map((event) => event.type)).toEqual(["error"]);
    expect(s.transport.calls).toHaveLength(1);
    expect(s.protocols!.current).toBe("nvext");
  });

  it("does not fall back on a rejection of other status (e.g. 422)", async () => {
    const s = setup({ protocol: "auto" }, () => errorEvents(REJECT_AGENT_CONTEXT.replace(/^400/, "422"), 422));
    startRun(s.tree, "R1");
    const { events } = await send(s, optionsFor("R1", 1));
    expect(events.map((event) => event.type)).toEqual(["error"]);
    expect(s.transport.calls).toHaveLength(1);
  });

  it("forwards the resent request's own error", async () => {
    const s = setup({ protocol: "auto" }, (_call, index) => (index === 0 ? errorEvents(REJECT_AGENT_CONTEXT) : errorEvents("503 overloaded", 503)));
    startRun(s.tree, "R1");
    const { events, message } = await send(s, optionsFor("R1", 1));
    expect(events).toHaveLength(1);
    expect(message).toMatchObject({ stopReason: "error", errorMessage: "503 overloaded" });
    const chat = s.chatSpans()[0]!;
    expect(chat.status).toEqual({ code: SpanStatusCode.ERROR, message: "503" });
  });
});

describe("stream wrapper: chain lifecycle (docs/identity.md)", () => {
  it("an open whose request failed (5xx) opened nothing: the retry carries open again, counted once it succeeded", async () => {
    const s = setup({ protocol: "nvext" }, (_call, index) => (index === 0 ? errorEvents("500 Internal Server Error", 500) : okEvents()));
    const { child } = startLeadAndChild(s.tree);
    await send(s, optionsFor(CHILD_RUN, 1, {}, CHILD_SESSION));
    expect(s.sessions!.counters.opened).toBe(0);
    expect(s.sessions!.openChains()).toEqual([]);
    // OpenClaw's same-model retry, then the next request.
    await send(s, optionsFor(CHILD_RUN, 1, {}, CHILD_SESSION));
    await send(s, optionsFor(CHILD_RUN, 2, {}, CHILD_SESSION));
    const controls = s.transport.calls.map((call) => call.body!.nvext!.session_control);
    expect(controls).toEqual([
      { session_id: child.ids.trajectoryId, action: "open" },
      { session_id: child.ids.trajectoryId, action: "open" },
      { session_id: child.ids.trajectoryId },
    ]);
    expect(s.sessions!.counters.opened).toBe(1);
    endRun(s.tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
    await s.sessions!.settled();
    expect(s.sessions!.counters).toMatchObject({ opened: 1, closed: 1 });
  });

  it("close and session-final go to OpenClaw's resolved base URL with the key of the model requests", async () => {
    for (const protocol of ["nvext", "headers"] as const) {
      const s = setup({ protocol });
      startLeadAndChild(s.tree);
      // e.g. after onboarding: models.providers.dynamo.baseUrl and an auth-profile key.
      const model = { ...(MODEL as object), baseUrl: "http://dynamo.internal:9000/v1/" } as unknown as Model;
      const stream = await s.wrapped(model, CONTEXT, optionsFor(CHILD_RUN, 1, { apiKey: "sk-profile" }, CHILD_SESSION));
      for await (const _ of stream as AsyncIterable<Event>) void _;
      await stream.result();
      await settle();
      endRun(s.tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
      await s.sessions!.settled();
      expect(s.fetches.map((f) => f.url)).toEqual(["http://dynamo.internal:9000/v1/chat/completions"]);
      expect(s.fetches[0]!.headers.authorization).toBe("Bearer sk-profile");
    }
  });

  it("the announce run and the lead's next turn carry the lead's chain ids, no parent", async () => {
    const s = setup({ protocol: "headers" });
    const { lead, child } = startLeadAndChild(s.tree);
    await send(s, optionsFor("R1", 1));
    endRun(s.tree, "R1");
    await send(s, optionsFor(CHILD_RUN, 1, {}, CHILD_SESSION));
    endRun(s.tree, CHILD_RUN, CHILD_KEY, CHILD_SESSION);
    const announce = `announce:v1:${CHILD_KEY}:${CHILD_RUN}`;
    startRun(s.tree, announce);
    await send(s, optionsFor(announce, 1));
    endRun(s.tree, announce);
    startRun(s.tree, "R2");
    await send(s, optionsFor("R2", 1));
    endRun(s.tree, "R2");
    await s.sessions!.settled();
    const sessionHeaders = s.transport.calls.map((call) => [call.headers["x-dynamo-session-id"], call.headers["x-dynamo-parent-session-id"]]);
    expect(sessionHeaders).toEqual([
      [lead.ids.trajectoryId, undefined],
      [child.ids.trajectoryId, lead.ids.trajectoryId],
      [lead.ids.trajectoryId, undefined],
      [lead.ids.trajectoryId, undefined],
    ]);
    // One session-final: the subagent's; the lead's waits for its session to end.
    expect(s.fetches.map((f) => f.headers["x-dynamo-session-id"])).toEqual([child.ids.trajectoryId]);
    s.sessions!.sessionEnded(LEAD_KEY, LEAD_SESSION);
    await s.sessions!.settled();
    expect(s.fetches.map((f) => f.headers["x-dynamo-session-id"])).toEqual([child.ids.trajectoryId, lead.ids.trajectoryId]);
  });
});
