/**
 * Unit-level plugin harness for the fault suite: the real `registerDynamoPlugin` driven through a
 * fake OpenClaw `api` that records hook handlers, the provider and the `dynamo.status` method, and
 * OpenClaw's real `openai-completions` transport (`openclaw/plugin-sdk/llm`) as the inner stream
 * function. Nothing here starts an OpenClaw process; faults that cross a process boundary live in
 * test/e2e/faults*.test.ts.
 *
 * The plugin reads its configuration and `TRACEPARENT` from `process.env` at registration, and its
 * state lives in one process-wide runtime, so `loadPlugin` swaps the environment in, and `dispose`
 * shuts the services down, forgets the runtime, removes the signal handlers the plugin installed and
 * restores the environment.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stream as openclawStream } from "openclaw/plugin-sdk/llm";
import type { ProviderPlugin, ProviderWrapStreamFnContext } from "openclaw/plugin-sdk/plugin-entry";
import { ENV_NAMES } from "../../src/config.ts";
import { registerDynamoPlugin } from "../../src/plugin.ts";
import { peekPluginRuntime, resetPluginRuntimeForTests } from "../../src/runtime.ts";
import { getServices, type PluginStatus, type Services } from "../../src/services.ts";
import type { ExporterStatus } from "../../src/trace/export.ts";

export type StreamFn = NonNullable<ProviderWrapStreamFnContext["streamFn"]>;
export type Model = Parameters<StreamFn>[0];
export type StreamContext = Parameters<StreamFn>[1];
export type StreamOptions = NonNullable<Parameters<StreamFn>[2]>;
export type Handler = (event: unknown, ctx: unknown) => unknown;

export interface LogLine {
  level: "info" | "warn" | "error" | "debug";
  message: string;
}

/** Every environment variable the plugin (or its child-process detection) reads. */
export const PLUGIN_ENV = [
  ...ENV_NAMES,
  "TRACEPARENT",
  "TRACESTATE",
  "BAGGAGE",
  "PI_SUBAGENT_CHILD",
  "PI_SUBAGENT_RUN_ID",
  "PI_SUBAGENT_CHILD_AGENT",
  "PI_SUBAGENT_CHILD_INDEX",
  "OPENCLAW_AGENT_CHILD",
  "OPENCLAW_AGENT_RUN_ID",
  "OPENCLAW_AGENT_CHILD_AGENT",
  "OPENCLAW_AGENT_CHILD_INDEX",
  // The OTel exporters read these themselves when no explicit option is given.
  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  "OTEL_EXPORTER_OTLP_HEADERS",
  // Where the plugin keeps Dynamo chains across processes: a fresh directory per load unless given.
  "OPENCLAW_STATE_DIR",
] as const;

const SIGNALS: ReadonlyArray<NodeJS.Signals | "beforeExit"> = ["SIGTERM", "SIGINT", "beforeExit"];

export interface PluginOptions {
  /** `plugins.entries.dynamo.config`. */
  pluginConfig?: unknown;
  /** Environment for the registration (every other plugin variable is unset). */
  env?: Record<string, string | undefined>;
  /** `plugins.entries.dynamo.hooks.allowConversationAccess` (default true). */
  allowConversationAccess?: boolean;
  /** Also write every log line to stdout (child-process fixtures). */
  echo?: boolean;
  /** OpenClaw's state dir, kept at dispose (a child fixture killed by a signal never disposes); default a private one, removed at dispose. */
  stateDir?: string;
}

export interface LoadedPlugin {
  readonly logs: LogLine[];
  readonly hooks: Map<string, Handler[]>;
  readonly provider: ProviderPlugin;
  readonly services: Services;
  /** Log lines at info level and above, as OpenClaw would print them (`[dynamo] …`). */
  lines(): string[];
  /** Calls every handler registered for `name` as OpenClaw would (awaiting async ones). */
  fire(name: string, event?: unknown, ctx?: unknown): Promise<unknown[]>;
  /** `dynamo.status` through the registered gateway method. */
  status(): { ok: boolean; payload: PluginStatus | undefined; error: unknown };
  /** The provider's stream wrapper around `inner` (default: OpenClaw's real transport). */
  wrap(inner?: StreamFn): StreamFn;
  /** The provider's model for `modelId` at `baseUrl` (what OpenClaw passes to the stream function). */
  model(modelId: string, baseUrl: string): Model;
  dispose(): Promise<void>;
}

/** OpenClaw's own `openai-completions` transport, with the key OpenClaw would resolve from the env. */
export const realTransport: StreamFn = ((model: Model, context: StreamContext, options?: StreamOptions) =>
  openclawStream(model as never, context as never, {
    apiKey: process.env.DYNAMO_API_KEY ?? "dynamo-local",
    ...(options as object),
  } as never)) as unknown as StreamFn;

let active: LoadedPlugin | undefined;

export async function loadPlugin(options: PluginOptions = {}): Promise<LoadedPlugin> {
  if (active) await active.dispose();
  const savedEnv = new Map<string, string | undefined>();
  for (const name of new Set<string>([...PLUGIN_ENV, ...Object.keys(options.env ?? {})])) {
    savedEnv.set(name, process.env[name]);
    delete process.env[name];
  }
  // Chains are kept under OpenClaw's state dir: a private one per plugin load, removed at dispose.
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "dynamo-state-"));
  savedEnv.set("OPENCLAW_STATE_DIR", process.env.OPENCLAW_STATE_DIR);
  process.env.OPENCLAW_STATE_DIR = stateDir;
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value !== undefined) process.env[name] = value;
  }
  const listenersOf = (signal: NodeJS.Signals | "beforeExit"): Function[] => process.listeners(signal as NodeJS.Signals);
  const listenersBefore = new Map(SIGNALS.map((signal) => [signal, new Set(listenersOf(signal))]));

  resetPluginRuntimeForTests();
  const logs: LogLine[] = [];
  const hooks = new Map<string, Handler[]>();
  const methods = new Map<string, (request: { respond: (ok: boolean, payload?: unknown, error?: unknown) => void }) => void>();
  let provider: ProviderPlugin | undefined;
  const record = (level: LogLine["level"]) => (message: string) => {
    logs.push({ level, message });
    if (options.echo) process.stdout.write(`${level} ${message}\n`);
  };
  const api = {
    id: "dynamo",
    pluginConfig: options.pluginConfig,
    config: {
      plugins: {
        entries: { dynamo: { enabled: true, ...(options.allowConversationAccess === false ? {} : { hooks: { allowConversationAccess: true } }) } },
      },
    },
    logger: { info: record("info"), warn: record("warn"), error: record("error"), debug: record("debug") },
    on(name: string, handler: Handler) {
      const list = hooks.get(name) ?? [];
      list.push(handler);
      hooks.set(name, list);
    },
    registerProvider(p: ProviderPlugin) {
      provider = p;
    },
    registerGatewayMethod(name: string, handler: never) {
      methods.set(name, handler);
    },
  };
  registerDynamoPlugin(api as never);
  const runtime = peekPluginRuntime();
  if (!runtime || !provider) throw new Error("registerDynamoPlugin did not register a runtime and a provider");
  const services = getServices(runtime);
  const installed = SIGNALS.flatMap((signal) =>
    listenersOf(signal).filter((fn) => !listenersBefore.get(signal)!.has(fn)).map((fn) => [signal, fn] as const),
  );
  const theProvider = provider;

  let disposed: Promise<void> | undefined;
  const plugin: LoadedPlugin = {
    logs,
    hooks,
    provider: theProvider,
    services,
    lines: () => logs.filter((line) => line.level !== "debug").map((line) => line.message),
    async fire(name, event = {}, ctx = {}) {
      const results: unknown[] = [];
      for (const handler of hooks.get(name) ?? []) results.push(await handler(event, ctx));
      return results;
    },
    status() {
      let answer: { ok: boolean; payload: PluginStatus | undefined; error: unknown } | undefined;
      const method = methods.get("dynamo.status");
      if (!method) throw new Error("dynamo.status is not registered");
      method({ respond: (ok, payload, error) => (answer = { ok, payload: payload as PluginStatus | undefined, error }) });
      if (!answer) throw new Error("dynamo.status did not respond");
      // What a Gateway client receives: the JSON form.
      return JSON.parse(JSON.stringify(answer)) as typeof answer;
    },
    wrap(inner = realTransport) {
      const wrapped = theProvider.wrapStreamFn?.({ provider: "dynamo", modelId: "mock-model", streamFn: inner } as never);
      if (!wrapped) throw new Error("wrapStreamFn returned nothing");
      return wrapped as StreamFn;
    },
    model(modelId, baseUrl) {
      return theProvider.resolveDynamicModel?.({ modelId, providerConfig: { baseUrl } } as never) as Model;
    },
    dispose() {
      disposed ??= (async () => {
        try {
          await services.shutdown("test dispose");
        } finally {
          for (const [signal, fn] of installed) process.removeListener(signal as NodeJS.Signals, fn as never);
          resetPluginRuntimeForTests();
          for (const [name, value] of savedEnv) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
          }
          if (!options.stateDir) rmSync(stateDir, { recursive: true, force: true });
          if (active === plugin) active = undefined;
        }
      })();
      return disposed;
    },
  };
  active = plugin;
  return plugin;
}

/** The OTLP exporter's counters from `dynamo.status` (where `PluginStatus` types them as a plain record). */
export function exporterStatus(plugin: LoadedPlugin): ExporterStatus {
  return plugin.status().payload!.exporter as unknown as ExporterStatus;
}

// ---------------------------------------------------------------------------------------------
// OpenClaw-shaped hook traffic (payloads of openclaw-plugin-sdk.md §8.3, order of §9).

export const LEAD_KEY = "agent:main:main";
export const RUN_START_HOOKS = ["before_agent_reply", "before_model_resolve", "agent_turn_prepare", "before_prompt_build", "before_agent_run"];

export interface RunIds {
  runId: string;
  sessionKey?: string;
  sessionId: string;
}

export function agentCtx(run: RunIds): Record<string, unknown> {
  return {
    runId: run.runId,
    agentId: "main",
    sessionKey: run.sessionKey ?? LEAD_KEY,
    sessionId: run.sessionId,
    modelProviderId: "dynamo",
    modelId: "mock-model",
    trigger: "user",
  };
}

export async function startRun(plugin: LoadedPlugin, run: RunIds, prompt = "hi"): Promise<void> {
  for (const name of RUN_START_HOOKS) await plugin.fire(name, { prompt, messages: [] }, agentCtx(run));
  await plugin.fire(
    "llm_input",
    { runId: run.runId, sessionId: run.sessionId, provider: "dynamo", model: "mock-model", prompt, historyMessages: [], imagesCount: 0 },
    agentCtx(run),
  );
}

export async function toolCall(
  plugin: LoadedPlugin,
  run: RunIds,
  call: { toolName: string; toolCallId: string; params?: unknown; result?: unknown; error?: unknown },
  phase: "before" | "after" | "both" = "both",
): Promise<unknown[]> {
  const ctx = { ...agentCtx(run), toolName: call.toolName, toolCallId: call.toolCallId };
  const event = { toolName: call.toolName, params: call.params ?? {}, runId: run.runId, toolCallId: call.toolCallId };
  const results: unknown[] = [];
  if (phase !== "after") results.push(...(await plugin.fire("before_tool_call", event, ctx)));
  if (phase !== "before") {
    results.push(
      ...(await plugin.fire(
        "after_tool_call",
        { ...event, ...(call.result === undefined ? {} : { result: call.result }), ...(call.error === undefined ? {} : { error: call.error }), durationMs: 1 },
        ctx,
      )),
    );
  }
  return results;
}

export async function endRun(plugin: LoadedPlugin, run: RunIds, finalText = "done", success = true): Promise<void> {
  await plugin.fire(
    "agent_end",
    { runId: run.runId, success, messages: [{ role: "assistant", content: [{ type: "text", text: finalText }] }], durationMs: 5 },
    agentCtx(run),
  );
}

/** Drives one wrapped model request to completion like OpenClaw's agent loop does. */
export async function consume(fn: StreamFn, model: Model, context: StreamContext, options: StreamOptions) {
  const result = await fn(model, context, options);
  const events: Array<{ type: string } & Record<string, unknown>> = [];
  for await (const event of result as AsyncIterable<{ type: string } & Record<string, unknown>>) events.push(event);
  const message = (await result.result()) as unknown as Record<string, unknown>;
  return { events, message };
}

/** What OpenClaw would see of a request: event types and the final message's outcome fields. */
export function outcome(r: Awaited<ReturnType<typeof consume>>) {
  const content = Array.isArray(r.message.content) ? (r.message.content as Array<{ type?: string; text?: string; name?: string }>) : [];
  return {
    events: r.events.map((event) => event.type),
    stopReason: r.message.stopReason,
    errorMessage: r.message.errorMessage,
    errorCode: r.message.errorCode,
    text: content.filter((part) => part.type === "text").map((part) => part.text).join(""),
    toolCalls: content.filter((part) => part.type === "toolCall").map((part) => part.name),
  };
}
