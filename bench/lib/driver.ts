/**
 * Drives the plugin the way OpenClaw does, in process: `registerDynamoPlugin` with a fake `api`
 * that records the hook handlers and the provider, then a loop of agent runs whose hooks carry
 * OpenClaw's payloads (openclaw-plugin-sdk.md §8.3, order §9) and whose model requests go through
 * the provider's real `wrapStreamFn` around a fake inner StreamFn that behaves like OpenClaw's
 * transport (applies `onPayload`, returns an event stream with `result()`), already finished.
 *
 * The baseline is the same loop with every handler a no-op and the inner StreamFn unwrapped:
 * what OpenClaw would pay to call a plugin that does nothing.
 *
 * The plugin is imported from `dist/index.js`, the entry OpenClaw loads (it loads `dist/core.cjs`)
 * (`openclaw.runtimeExtensions`), and registered through its default export's `register`;
 * `npm run bench` builds it first.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import type { OpenClawPluginApi, ProviderWrapStreamFnContext } from "openclaw/plugin-sdk/plugin-entry";
import type { Services } from "../../dist/services.js";

/** `BENCH_PLUGIN_DIR=<dir>` benchmarks another build (e.g. a baseline checkout's dist/) for A/B runs. */
export const PLUGIN_DIR = process.env.BENCH_PLUGIN_DIR ? resolve(process.env.BENCH_PLUGIN_DIR) : fileURLToPath(new URL("../../dist/", import.meta.url));
/** The plugin entry OpenClaw loads (`openclaw.runtimeExtensions`: dist/index.js, which loads dist/core.cjs). */
const entry = ((await import(pathToFileURL(join(PLUGIN_DIR, "index.js")).href)) as { default: { register(api: OpenClawPluginApi): void } }).default;
/** The plugin's process-wide state lives at this global symbol (src/runtime.ts). */
const RUNTIME_KEY = Symbol.for("openclaw-dynamo.runtime");
type GlobalWithRuntime = typeof globalThis & { [RUNTIME_KEY]?: { services: Map<string, unknown> } };

type StreamFn = NonNullable<ProviderWrapStreamFnContext["streamFn"]>;
type Model = Parameters<StreamFn>[0];
type StreamContext = Parameters<StreamFn>[1];
type StreamOptions = NonNullable<Parameters<StreamFn>[2]>;
type Handler = (event: Record<string, unknown>, ctx: Record<string, unknown>) => unknown;
type WrapStreamFn = (ctx: ProviderWrapStreamFnContext) => StreamFn | undefined;

/** Variables the plugin reads (config.ts ENV) or that would change a run; the bench sets config explicitly. */
export function scrubPluginEnv(): void {
  for (const key of Object.keys(process.env)) {
    if (/^(DYN_|DYNAMO_|OTEL_|OPENINFERENCE_|TRACEPARENT$|TRACESTATE$|OPENAI_BASE_URL$)/.test(key)) delete process.env[key];
  }
  // The plugin keeps chain ids under OpenClaw's state dir: a private one, never ~/.openclaw.
  const stateDir = mkdtempSync(join(tmpdir(), "openclaw-dynamo-bench-"));
  process.env.OPENCLAW_STATE_DIR = stateDir;
  process.once("exit", () => rmSync(stateDir, { recursive: true, force: true }));
}

export interface Harness {
  readonly kind: "plugin" | "noop";
  readonly hooks: ReadonlyMap<string, Handler>;
  /** The provider's `wrapStreamFn` (identity for the no-op harness). */
  readonly wrapStreamFn: WrapStreamFn;
  /** The plugin's services (undefined for the no-op harness). */
  readonly services: Services | undefined;
  hook(name: string): Handler;
}

export const quietLogger = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * One `register()` call the way OpenClaw makes it (it registers a plugin several times per process:
 * one `full` and two `discovery` registrations in a CLI run), recording the hook handlers and the
 * provider. Does not reset the plugin's process-wide state. `plugin`: another module instance of
 * the bundle (OpenClaw imports a fresh copy for each load, see bench/startup.ts).
 */
export function registerOnce(
  pluginConfig: Record<string, unknown>,
  registrationMode = "full",
  plugin: { register(api: OpenClawPluginApi): void } = entry,
): { hooks: Map<string, Handler>; provider: RegisteredProvider | undefined } {
  const hooks = new Map<string, Handler>();
  let provider: RegisteredProvider | undefined;
  const api = {
    id: "dynamo",
    name: "dynamo",
    registrationMode,
    pluginConfig,
    config: { plugins: { entries: { dynamo: { hooks: { allowConversationAccess: true } } } } },
    logger: quietLogger,
    on: (name: string, handler: Handler) => hooks.set(name, handler),
    registerProvider: (p: RegisteredProvider) => {
      provider = p;
    },
    registerGatewayMethod: () => {},
  } as unknown as OpenClawPluginApi;
  plugin.register(api);
  return { hooks, provider };
}

export interface RegisteredProvider {
  wrapStreamFn?: WrapStreamFn;
  catalog?: { run(ctx: unknown): Promise<{ provider: { models: unknown[] } }> };
}

/** The plugin's current services generation at its process-wide symbol (undefined before one was built; src/generations.ts). */
export function pluginServices(): Services | undefined {
  const services = (globalThis as GlobalWithRuntime)[RUNTIME_KEY]?.services;
  const generations = services?.get("generations") as { current?: Services } | undefined;
  // Builds before generations (A/B runs with BENCH_PLUGIN_DIR) kept one "services" entry.
  return generations?.current ?? (services?.get("services") as Services | undefined);
}

export function pluginHarness(pluginConfig: Record<string, unknown>): Harness {
  delete (globalThis as GlobalWithRuntime)[RUNTIME_KEY];
  const { hooks, provider } = registerOnce(pluginConfig);
  const wrap = provider?.wrapStreamFn;
  if (!wrap) throw new Error("plugin registered no provider with wrapStreamFn");
  const services = pluginServices();
  if (!services) throw new Error("plugin registered but its services are not at the runtime symbol");
  return {
    kind: "plugin",
    hooks,
    wrapStreamFn: wrap,
    services,
    hook: (name) => hooks.get(name) ?? noop,
  };
}

const noop: Handler = () => undefined;
const asyncNoop: Handler = async () => undefined;

export function noopHarness(names: Iterable<string>): Harness {
  const hooks = new Map<string, Handler>();
  for (const name of names) hooks.set(name, name === "agent_end" || name === "session_end" ? asyncNoop : noop);
  return {
    kind: "noop",
    hooks,
    wrapStreamFn: (ctx) => ctx.streamFn,
    services: undefined,
    hook: (name) => hooks.get(name) ?? noop,
  };
}

// ---------------------------------------------------------------------------------------------
// OpenClaw-shaped payloads

export const MODEL_ID = "mock-model";
const BASE_URL = "http://127.0.0.1:8000/v1";
export const MODEL = {
  id: MODEL_ID,
  name: MODEL_ID,
  api: "openai-completions",
  provider: "dynamo",
  baseUrl: BASE_URL,
  reasoning: false,
  input: ["text"],
  cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
  contextWindow: 131072,
  maxTokens: 4096,
} as unknown as Model;

const CONTEXT = {
  systemPrompt: "You are a coding agent.",
  messages: [{ role: "user", content: "Please read hello.txt", timestamp: 1 }],
} as unknown as StreamContext;

const TOOLS = ["read", "exec", "write", "edit", "ls"] as const;
const TOOL_RESULT_TEXT = "x".repeat(480);

function assistantMessage(toolCall: boolean) {
  return {
    role: "assistant",
    content: toolCall ? [{ type: "toolCall", id: "call_1", name: "read", arguments: { path: "hello.txt" } }] : [{ type: "text", text: "Done." }],
    api: "openai-completions",
    provider: "dynamo",
    model: MODEL_ID,
    responseId: "chatcmpl-42",
    usage: { input: 1200, output: 30, cacheRead: 0, cacheWrite: 0, totalTokens: 1230, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 } },
    stopReason: toolCall ? "toolUse" : "stop",
    timestamp: 1_700_000_000_000,
  };
}
const TOOL_MESSAGE = assistantMessage(true);
const TEXT_MESSAGE = assistantMessage(false);

/** The fake transport answers the next request with text (the run's final answer) instead of a tool call. */
let answerWithText = false;

/**
 * OpenClaw's transport, already finished: builds the body, applies `onPayload` (as pi-ai does), and
 * returns the event stream (`start`, one delta, `done`) with `result()`.
 */
export const fakeInner: StreamFn = ((model: Model, _context: StreamContext, options?: StreamOptions) => {
  const body = { model: model.id, stream: true, stream_options: { include_usage: true }, messages: [], tools: [] };
  const patched = options?.onPayload ? Promise.resolve(options.onPayload(body, model)) : Promise.resolve(undefined);
  const message = answerWithText ? TEXT_MESSAGE : TOOL_MESSAGE;
  return {
    async *[Symbol.asyncIterator]() {
      await patched;
      yield { type: "start", partial: message };
      yield { type: "text_delta", contentIndex: 0, delta: "…", partial: message };
      yield { type: "done", reason: message.stopReason, message };
    },
    result: () => patched.then(() => message),
  };
}) as unknown as StreamFn;

// ---------------------------------------------------------------------------------------------
// The run loop

export interface RunShape {
  /** Tool calls per run (each = 2 tool events: before_tool_call + after_tool_call). */
  toolCalls: number;
  /** A model request before every `modelEvery`-th tool call, plus one final answer request. */
  modelEvery: number;
  /** Distinct session keys the runs cycle through (a Gateway serves several sessions). */
  sessions: number;
}

export interface Timings {
  /** µs per tool event (before_tool_call incl. resolve_exec_env for exec / after_tool_call). */
  tool: Float64Array;
  toolCount: number;
  /** µs per model request (model_call_started + stream fn + consume + result + model_call_ended). */
  model: Float64Array;
  modelCount: number;
  /** µs per run start (all run-start hooks, llm_input, wrapStreamFn setup). */
  runStart: Float64Array;
  /** µs per awaited agent_end (includes the plugin's bounded flush). */
  runEnd: Float64Array;
  runCount: number;
}

export function allocTimings(runs: number, shape: RunShape, record: boolean): Timings {
  const models = runs * (Math.ceil(shape.toolCalls / shape.modelEvery) + 1);
  return {
    tool: new Float64Array(record ? runs * shape.toolCalls * 2 : 0),
    toolCount: 0,
    model: new Float64Array(record ? models : 0),
    modelCount: 0,
    runStart: new Float64Array(record ? runs : 0),
    runEnd: new Float64Array(record ? runs : 0),
    runCount: 0,
  };
}

const RUN_START_HOOKS = ["before_agent_reply", "before_model_resolve", "agent_turn_prepare", "before_prompt_build", "before_agent_run"];
export const HOOK_NAMES = [...RUN_START_HOOKS, "llm_input", "model_call_started", "model_call_ended", "before_tool_call", "after_tool_call", "resolve_exec_env", "agent_end"];

const now = () => performance.now();

let runSerial = 0;
/** Deterministic per-session id, so the driver itself keeps no per-session state. */
const sessionIdOf = (index: number) => `00000000-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;

/**
 * One agent run. `record` = write per-event µs into `t` (when `t` has room). Tool events and model
 * requests are timed from just before the first handler call to just after the last one (the
 * stream is consumed inside the window, so the plugin's stream wrapper and its `result()` observer
 * are counted; a few microtask turns are drained in both harnesses so the chat span's end is too).
 */
export async function runOnce(h: Harness, shape: RunShape, t: Timings, detachEnd?: Promise<unknown>[]): Promise<void> {
  const serial = ++runSerial;
  const runId = randomUUID();
  const sessionIndex = serial % shape.sessions;
  const sessionKey = sessionIndex === 0 ? "agent:main:main" : `agent:main:s${sessionIndex}`;
  const sessionId = sessionIdOf(sessionIndex);
  const trace = { traceId: randomUUID().replaceAll("-", ""), spanId: "0123456789abcdef", traceFlags: 1 };
  const agentCtx = { runId, trace, agentId: "main", sessionKey, sessionId, workspaceDir: "/tmp/ws", modelProviderId: "dynamo", modelId: MODEL_ID, trigger: "user" };
  const record = t.tool.length > 0;

  // Run start: before_agent_reply → before_model_resolve → [wrapStreamFn setup] → agent_turn_prepare → before_prompt_build → before_agent_run → llm_input
  let t0 = now();
  const prompt = "Please read hello.txt";
  // OpenClaw 2026.9.6 passes no `trace` in the ctx of the first two run-start hooks.
  const { trace: _noTrace, ...earlyCtx } = agentCtx;
  h.hook("before_agent_reply")({ prompt }, earlyCtx);
  h.hook("before_model_resolve")({ prompt }, earlyCtx);
  const streamFn = h.wrapStreamFn({ provider: "dynamo", modelId: MODEL_ID, model: MODEL, streamFn: fakeInner, agentId: "main" } as ProviderWrapStreamFnContext) ?? fakeInner;
  h.hook("agent_turn_prepare")({ prompt }, agentCtx);
  h.hook("before_prompt_build")({ prompt, messages: [] }, agentCtx);
  h.hook("before_agent_run")({ prompt, messages: [] }, agentCtx);
  h.hook("llm_input")({ runId, sessionId, provider: "dynamo", model: MODEL_ID, prompt, historyMessages: [], imagesCount: 0 }, agentCtx);
  if (record) t.runStart[t.runCount] = (now() - t0) * 1000;

  let modelCalls = 0;
  const modelRequest = async (final: boolean) => {
    const n = ++modelCalls;
    const callId = `${runId}:model:${n}`;
    const event = { runId, callId, sessionKey, sessionId, provider: "dynamo", model: MODEL_ID, api: "openai-completions", transport: "stream" };
    const ctx = { runId, trace, sessionKey, sessionId, modelProviderId: "dynamo", modelId: MODEL_ID };
    const options = {
      requestId: callId,
      sessionId,
      headers: { traceparent: `00-${trace.traceId}-${trace.spanId}-01` },
    } as unknown as StreamOptions;
    answerWithText = final;
    const t1 = now();
    h.hook("model_call_started")(event, ctx);
    const stream = await streamFn(MODEL, CONTEXT, options);
    for await (const _ of stream as AsyncIterable<unknown>) {
      // consume like OpenClaw
    }
    await stream.result();
    for (let i = 0; i < 6; i++) await null;
    h.hook("model_call_ended")({ ...event, durationMs: 120, outcome: "completed", requestPayloadBytes: 60_000, responseStreamBytes: 2_000, timeToFirstByteMs: 100 }, ctx);
    if (record && t.modelCount < t.model.length) t.model[t.modelCount++] = (now() - t1) * 1000;
  };

  for (let i = 0; i < shape.toolCalls; i++) {
    if (i % shape.modelEvery === 0) await modelRequest(false);
    const toolName = TOOLS[i % TOOLS.length] as string;
    const toolCallId = `call_${serial}_${i}`;
    const params = toolName === "exec" ? { command: "ls -la" } : { path: "hello.txt" };
    const ctx = { runId, trace, agentId: "main", sessionKey, sessionId, toolName, toolCallId };
    let t2 = now();
    if (toolName === "exec") h.hook("resolve_exec_env")({ sessionKey, toolName: "exec", host: "gateway" }, { agentId: "main", sessionKey, sessionId });
    h.hook("before_tool_call")({ toolName, params, runId, toolCallId }, ctx);
    if (record) t.tool[t.toolCount++] = (now() - t2) * 1000;
    t2 = now();
    h.hook("after_tool_call")({ toolName, params, runId, toolCallId, result: { content: [{ type: "text", text: TOOL_RESULT_TEXT }], details: {} }, durationMs: 3 }, ctx);
    if (record) t.tool[t.toolCount++] = (now() - t2) * 1000;
  }
  await modelRequest(true);

  // agent_end is awaited by OpenClaw (30 s budget); the plugin flushes (bounded) there.
  const endEvent = { runId, messages: [{ role: "assistant", content: [{ type: "text", text: "Done." }] }], success: true, durationMs: 500 };
  if (detachEnd) {
    // Filling state only: many runs end while earlier flushes are still in flight (a busy Gateway).
    detachEnd.push(Promise.resolve(h.hook("agent_end")(endEvent, agentCtx)));
    return;
  }
  t0 = now();
  await h.hook("agent_end")(endEvent, agentCtx);
  if (record) t.runEnd[t.runCount] = (now() - t0) * 1000;
  if (record) t.runCount++;
}

export function toolEventsPerRun(shape: RunShape): number {
  return shape.toolCalls * 2;
}
export function modelRequestsPerRun(shape: RunShape): number {
  return Math.ceil(shape.toolCalls / shape.modelEvery) + 1;
}

/**
 * Brings the plugin's bounded state to where a long-running Gateway has it: 10,000 runs, so the
 * span tree's memory of ended runs is at its cap (1,000) and every run that ends evicts the oldest,
 * then long runs with many tool calls and model requests (ended ones are forgotten at once).
 */
export async function fillToSteadyState(h: Harness, runs = 10_000): Promise<void> {
  const none = allocTimings(0, { toolCalls: 0, modelEvery: 1, sessions: 1 }, false);
  const pending: Promise<unknown>[] = [];
  const tiny: RunShape = { toolCalls: 1, modelEvery: 1, sessions: 64 };
  for (let i = 0; i < runs; i++) {
    await runOnce(h, tiny, none, pending);
    if (pending.length >= 256) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending.splice(0));
  const big: RunShape = { toolCalls: 500, modelEvery: 5, sessions: 8 };
  for (let i = 0; i < 105; i++) await runOnce(h, big, none);
}

/**
 * Process CPU per tool event, robust to the measuring process being descheduled (wall-clock
 * per-event timings are not, on a loaded machine): tool calls in synchronous chunks of 50 inside
 * one run, `process.cpuUsage()` around each chunk (all threads of the process, so it also counts
 * GC helpers and the ZeroMQ I/O thread while they overlap the chunk), background work between
 * chunks. Returns µs per tool event.
 */
export async function toolEventCpuUs(h: Harness, toolCalls: number): Promise<number> {
  const runId = randomUUID();
  const sessionKey = "agent:main:cpu";
  const sessionId = sessionIdOf(999_999);
  const trace = { traceId: randomUUID().replaceAll("-", ""), spanId: "0123456789abcdef", traceFlags: 1 };
  const agentCtx = { runId, trace, agentId: "main", sessionKey, sessionId, modelProviderId: "dynamo", modelId: MODEL_ID };
  h.hook("before_agent_run")({ prompt: "cpu", messages: [] }, agentCtx);
  const result = { content: [{ type: "text", text: TOOL_RESULT_TEXT }], details: {} };
  const before = h.hook("before_tool_call");
  const after = h.hook("after_tool_call");
  const execEnv = h.hook("resolve_exec_env");
  let cpu = 0;
  const CHUNK = 50;
  for (let done = 0; done < toolCalls; ) {
    const c0 = process.cpuUsage();
    for (const end = Math.min(toolCalls, done + CHUNK); done < end; done++) {
      const toolName = TOOLS[done % TOOLS.length] as string;
      const toolCallId = `cpu_${done}`;
      const params = toolName === "exec" ? { command: "ls -la" } : { path: "hello.txt" };
      const ctx = { runId, trace, agentId: "main", sessionKey, sessionId, toolName, toolCallId };
      if (toolName === "exec") execEnv({ sessionKey, toolName: "exec", host: "gateway" }, { agentId: "main", sessionKey, sessionId });
      before({ toolName, params, runId, toolCallId }, ctx);
      after({ toolName, params, runId, toolCallId, result, durationMs: 3 }, ctx);
    }
    const d = process.cpuUsage(c0);
    cpu += d.user + d.system;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await h.hook("agent_end")({ runId, messages: [], success: true }, agentCtx);
  return cpu / (toolCalls * 2);
}
