/**
 * `register()` wiring. OpenClaw calls it several times per process and in several modes; every
 * call registers the provider and the hooks (hook dispatch may use any of the registries, see
 * openclaw-plugin-sdk.md §14 pitfall 1), while all state lives in the process-wide runtime. Each
 * call brings its registration's settings: the same settings keep the services running, new ones
 * (a Gateway's plugin replacement) build a new generation (src/generations.ts, docs/lifecycle.md).
 * Every handler looks the current generation up when it runs, so the handlers of an older
 * registration that still fire never reach closed services.
 */
import type { OpenClawPluginApi } from "openclaw/plugin-sdk/plugin-entry";
import { adoptSettings, getServices, releaseForReplacement, REPLACEMENT_REASON, shutdownServices, statusOf } from "./generations.ts";
import { installProcessHandlers } from "./lifecycle.ts";
import { API_KEY_ENV, createDynamoProvider } from "./provider/provider.ts";
import { getPluginRuntime, STATE_DIR_SERVICE, type PluginRuntime } from "./runtime.ts";
import type { Services } from "./services.ts";
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
  // Chains are kept under OpenClaw's state dir (docs/identity.md): resolved by OpenClaw itself (profiles, OPENCLAW_HOME, …).
  const resolveStateDir = (api as { runtime?: { state?: { resolveStateDir?: () => string } } }).runtime?.state?.resolveStateDir;
  if (typeof resolveStateDir === "function") runtime.services.set(STATE_DIR_SERVICE, resolveStateDir);
  adoptSettings(runtime);
  const current = () => getServices(runtime);
  api.registerProvider(createDynamoProvider(() => current().providerDeps));
  registerHooks(api, runtime, current);
  registerStatusMethod(api, runtime);
  installProcessHandlers(runtime);
  warnWithoutConversationAccess(api, runtime);
}

function registerHooks(api: OpenClawPluginApi, runtime: PluginRuntime, current: () => Services): void {
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
  const tree = () => current().tree;

  for (const name of traceHooks.RUN_START_HOOKS) on(name, (event, ctx) => traceHooks.onRunStart(tree(), event, ctx));
  on("llm_input", (event, ctx) => traceHooks.onLlmInput(tree(), event, ctx));
  on("model_call_started", (event, ctx) => traceHooks.onModelCallStarted(tree(), event, ctx, OWN_PROVIDER));
  on("model_call_ended", (event, ctx) => traceHooks.onModelCallEnded(tree(), event, ctx, OWN_PROVIDER));
  on("before_tool_call", (event, ctx) => {
    traceHooks.onBeforeToolCall(tree(), event, ctx);
    return undefined; // never block or rewrite a tool call
  });
  on("after_tool_call", (event, ctx) => traceHooks.onAfterToolCall(tree(), event, ctx));
  on("subagent_spawned", (event, ctx) => traceHooks.onSubagentSpawned(tree(), event, ctx));
  on("subagent_progress", (event, ctx) => {
    if (event.phase === "started") traceHooks.onSubagentSpawned(tree(), event, ctx);
  });
  on("resolve_exec_env", (event, ctx) => traceHooks.onResolveExecEnv(tree(), event, ctx));
  // agent_end is awaited (30 s budget): the end of a run is where a one-shot CLI must flush.
  on("agent_end", async (event, ctx) => {
    const services = current();
    traceHooks.onAgentEnd(services.tree, event, ctx);
    await services.flush();
  });
  on("session_end", async (event, ctx) => {
    const services = current();
    // Compaction is not an end: the conversation and its Dynamo chain go on (no close / final).
    if (!traceHooks.onSessionEnd(services.tree, event, ctx)) return;
    services.sessions?.sessionEnded(
      typeof event.sessionKey === "string" ? event.sessionKey : ctx.sessionKey,
      typeof event.sessionId === "string" ? event.sessionId : ctx.sessionId,
    );
    await Promise.all([services.flush(), services.sessions?.settled()]);
  });
  // A subagent's session ended (a `mode: "session"` subagent's end; idempotent for one-shot ones).
  on("subagent_ended", (event) => {
    if (typeof event.targetSessionKey === "string") current().sessions?.sessionEnded(event.targetSessionKey);
  });
  on("gateway_start", () => {
    runtime.services.set("gateway", true);
  });
  // A replacement is followed by register() with the (possibly new) settings, which builds the next generation.
  on("gateway_stop", (event) =>
    event.reason === REPLACEMENT_REASON ? releaseForReplacement(runtime) : shutdownServices(runtime, "gateway stop"),
  );
}

/** `openclaw gateway call dynamo.status`: protocol, open Dynamo sessions, relay and exporter health. */
function registerStatusMethod(api: OpenClawPluginApi, runtime: PluginRuntime): void {
  api.registerGatewayMethod(
    "dynamo.status",
    ({ respond }) => {
      try {
        respond(true, statusOf(runtime));
      } catch (error) {
        respond(false, undefined, { code: "UNAVAILABLE", message: `dynamo status failed: ${String(error)}` } as never);
      }
    },
    { scope: "operator.read" as never },
  );
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
