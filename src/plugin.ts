/**
 * `register()` wiring. OpenClaw calls it several times per process and in several modes; every
 * call registers the provider and the hooks (hook dispatch may use any of the registries, see
 * openclaw-plugin-sdk.md §14 pitfall 1), while all state lives in the process-wide runtime, so
 * repeated registration costs nothing and never opens a second socket or exporter.
 */
import type { OpenClawPluginApi } from "openclaw/plugin-sdk/plugin-entry";
import { API_KEY_ENV, createDynamoProvider } from "./provider/provider.ts";
import { getPluginRuntime, type PluginRuntime } from "./runtime.ts";
import { getServices, type Services } from "./services.ts";
import * as traceHooks from "./trace/hooks.ts";
import type { HookCtx, HookEvent } from "./trace/hooks.ts";

const OWN_PROVIDER = "dynamo";
type Handler = (event: HookEvent, ctx: HookCtx) => unknown;

export function registerDynamoPlugin(api: OpenClawPluginApi): void {
  const runtime = getPluginRuntime({ pluginConfig: api.pluginConfig, env: process.env, log: api.logger as never });
  // OpenClaw 2026.9.6 resolves request credentials from the env vars named in the manifest and
  // ignores `resolveSyntheticAuth` on that path (openclaw-plugin-sdk.md §13). Seed the documented
  // non-secret default so a keyless local Dynamo works with only the plugin installed.
  if (!process.env[API_KEY_ENV]) process.env[API_KEY_ENV] = "dynamo-local";
  const services = getServices(runtime);
  api.registerProvider(createDynamoProvider(services.providerDeps));
  registerHooks(api, runtime, services);
  registerStatusMethod(api, services);
  registerLifecycle(runtime, services);
  warnWithoutConversationAccess(api, runtime);
}

function registerHooks(api: OpenClawPluginApi, runtime: PluginRuntime, services: Services): void {
  const { tree, sessions } = services;
  const on = (name: string, handler: Handler) => {
    // A telemetry failure is logged once per hook and never reaches the agent run (SPEC §8).
    const guarded: Handler = (event, ctx) => {
      try {
        const result = handler(event ?? {}, ctx ?? {});
        if (result && typeof (result as Promise<unknown>).then === "function") {
          return (result as Promise<unknown>).catch((error: unknown) => {
            runtime.warnOnce(`hook:${name}`, `${name} handler failed: ${String(error)}`);
            return undefined;
          });
        }
        return result;
      } catch (error) {
        runtime.warnOnce(`hook:${name}`, `${name} handler failed: ${String(error)}`);
        return undefined;
      }
    };
    (api.on as unknown as (hook: string, fn: Handler) => void)(name, guarded);
  };

  for (const name of traceHooks.RUN_START_HOOKS) on(name, (event, ctx) => traceHooks.onRunStart(tree, event, ctx));
  on("llm_input", (event, ctx) => traceHooks.onLlmInput(tree, event, ctx));
  on("model_call_started", (event, ctx) => traceHooks.onModelCallStarted(tree, event, ctx, OWN_PROVIDER));
  on("model_call_ended", (event, ctx) => traceHooks.onModelCallEnded(tree, event, ctx, OWN_PROVIDER));
  on("before_tool_call", (event, ctx) => {
    traceHooks.onBeforeToolCall(tree, event, ctx);
    return undefined; // never block or rewrite a tool call
  });
  on("after_tool_call", (event, ctx) => traceHooks.onAfterToolCall(tree, event, ctx));
  on("subagent_spawned", (event, ctx) => traceHooks.onSubagentSpawned(tree, event, ctx));
  on("subagent_progress", (event, ctx) => {
    if (event.phase === "started") traceHooks.onSubagentSpawned(tree, event, ctx);
  });
  on("resolve_exec_env", (event, ctx) => traceHooks.onResolveExecEnv(tree, event, ctx));
  // agent_end is awaited (30 s budget): the end of a run is where a one-shot CLI must flush.
  on("agent_end", async (event, ctx) => {
    traceHooks.onAgentEnd(tree, event, ctx);
    await services.flush();
  });
  on("session_end", async (event, ctx) => {
    // Compaction is not an end: the conversation and its Dynamo chain go on (no close / final).
    if (!traceHooks.onSessionEnd(tree, event, ctx)) return;
    sessions?.sessionEnded(
      typeof event.sessionKey === "string" ? event.sessionKey : ctx.sessionKey,
      typeof event.sessionId === "string" ? event.sessionId : ctx.sessionId,
    );
    await Promise.all([services.flush(), sessions?.settled()]);
  });
  // A subagent's session ended (a `mode: "session"` subagent's end; idempotent for one-shot ones).
  on("subagent_ended", (event) => {
    if (typeof event.targetSessionKey === "string") sessions?.sessionEnded(event.targetSessionKey);
  });
  on("gateway_start", () => {
    runtime.services.set("gateway", true);
  });
  on("gateway_stop", () => services.shutdown("gateway stop"));
}

/** `openclaw gateway call dynamo.status`: protocol, open Dynamo sessions, relay and exporter health. */
function registerStatusMethod(api: OpenClawPluginApi, services: Services): void {
  api.registerGatewayMethod(
    "dynamo.status",
    ({ respond }) => {
      try {
        respond(true, services.status());
      } catch (error) {
        respond(false, undefined, { code: "UNAVAILABLE", message: `dynamo status failed: ${String(error)}` } as never);
      }
    },
    { scope: "operator.read" as never },
  );
}

/**
 * Process end: end open spans, terminate Dynamo sessions, flush (each step bounded). Installed once.
 * A one-shot CLI interrupted with SIGTERM/SIGINT mid-run still exports what it has; the signal is
 * then re-raised so OpenClaw's own handling (or Node's default) decides how the process ends.
 * A Gateway is different: on SIGTERM it drains its active runs (minutes, if need be) and then fires
 * `gateway_stop`, where the plugin shuts down. Shutting down at the signal would close the relay,
 * the exporter and the Dynamo sessions under the runs still draining, so there it only flushes.
 */
function registerLifecycle(runtime: PluginRuntime, services: Services): void {
  if (runtime.services.has("lifecycle")) return;
  runtime.services.set("lifecycle", true);
  process.once("beforeExit", () => {
    void services.shutdown("process exit");
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const onSignal = () => {
      const othersListening = process.listenerCount(signal) > 0;
      if (othersListening && runtime.services.get("gateway") === true) {
        void services.flush();
        return;
      }
      void services.shutdown(signal).finally(() => {
        // With no other handler Node would have exited at once: do that now, after the flush.
        if (!othersListening) process.kill(process.pid, signal);
      });
    };
    process.once(signal, onSignal);
  }
}

function warnWithoutConversationAccess(api: OpenClawPluginApi, runtime: PluginRuntime): void {
  const entry = (api.config as { plugins?: { entries?: Record<string, { hooks?: { allowConversationAccess?: unknown } }> } })
    ?.plugins?.entries?.dynamo;
  if (entry?.hooks?.allowConversationAccess === true) return;
  runtime.warnOnce(
    "conversation-access",
    "run-level hooks are blocked for this plugin, so agent spans end late (at exit) and carry no prompt/answer, " +
      "and one-shot runs flush only at exit. Add `plugins.entries.dynamo.hooks.allowConversationAccess: true` " +
      "to the OpenClaw config (e.g. `openclaw config set plugins.entries.dynamo.hooks.allowConversationAccess true`).",
  );
}
