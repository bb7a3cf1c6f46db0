/**
 * Which generation of the process-wide services is current, and when it is replaced
 * (docs/lifecycle.md). A Gateway replaces the plugin when `plugins.entries.dynamo.*` changes:
 * `gateway_stop {reason: "plugin replacement"}` → `register()` with the new settings →
 * `gateway_start`. So:
 *  - a replacement stop only flushes and leaves the services waiting to be claimed;
 *  - the next `register()` claims them: same settings → the same services carry on (open spans,
 *    Dynamo sessions and relay queue included); other settings → the old generation is retired
 *    (open spans ended, Dynamo sessions closed, exporter and relay flushed and closed, all bounded)
 *    and a new one is built from the new settings;
 *  - services nobody claims within `REPLACEMENT_CLAIM_MS` (the plugin was disabled or removed) are
 *    shut down;
 *  - any other stop, the sole-listener signal and process exit shut everything down; a later
 *    `register()` (an in-process Gateway restart) builds a new generation.
 * Every hook, provider call and the status method reach services through `getServices`, so
 * handlers of an older registration that still fire land in the current generation.
 */
import type { PluginRuntime } from "./runtime.ts";
import { service } from "./runtime.ts";
import { createServices, type PluginStatus, type ReplacedGeneration, type Services } from "./services.ts";

/** How long services released by a replacement stop wait for the next registration or `gateway_start`. */
export const REPLACEMENT_CLAIM_MS = 10_000;
/** Replaced generations whose final counters `dynamo.status` keeps. */
const REPLACED_KEPT = 3;

interface Generations {
  current: Services | undefined;
  count: number;
  /** A final stop happened and nothing registered since: late hooks must not open sockets again. */
  stopped: boolean;
  /** Pending between a replacement stop and the registration (or `gateway_start`) that claims the services. */
  unclaimed: NodeJS.Timeout | undefined;
  /** Shutdowns of replaced generations still running (a final stop waits for them). */
  retiring: Set<Promise<void>>;
  /** Final counters of the last replaced generations, newest first. */
  replaced: ReplacedGeneration[];
}

function generations(runtime: PluginRuntime): Generations {
  return service<Generations>(runtime, "generations", () => ({
    current: undefined,
    count: 0,
    stopped: false,
    unclaimed: undefined,
    retiring: new Set(),
    replaced: [],
  }));
}

/** The current services; built on first use (and after a stop that no final stop follows). */
export function getServices(runtime: PluginRuntime): Services {
  const state = generations(runtime);
  const current = state.current;
  if (current && (!current.closed || state.stopped)) return current;
  return build(runtime, state);
}

/**
 * A registration's settings take effect: the current services when they were built from the same
 * settings, else a new generation (the old one is retired in the background, bounded).
 */
export function adoptSettings(runtime: PluginRuntime): Services {
  const state = generations(runtime);
  claimServices(runtime);
  const current = state.current;
  if (current && !current.closed && current.fingerprint === runtime.fingerprint) return current;
  if (!current || current.closed) return build(runtime, state);
  void retire(state, current, "settings changed");
  const next = build(runtime, state);
  runtime.log.info(
    `settings changed: generation ${next.generation} of the exporter, relay and Dynamo sessions uses them; ` +
      `generation ${current.generation} ends its open spans, closes its Dynamo sessions, flushes and closes (docs/lifecycle.md).`,
  );
  return next;
}

/** `gateway_start`: whatever a replacement stop released is in use again. */
export function claimServices(runtime: PluginRuntime): void {
  const state = generations(runtime);
  clearTimeout(state.unclaimed);
  state.unclaimed = undefined;
  state.stopped = false;
}

/** `gateway_stop {reason: "plugin replacement"}`: flush, and wait for the next registration to claim the services. */
export async function releaseForReplacement(runtime: PluginRuntime): Promise<void> {
  const state = generations(runtime);
  const current = state.current;
  if (!current || current.closed) return;
  clearTimeout(state.unclaimed);
  state.unclaimed = setTimeout(() => {
    state.unclaimed = undefined;
    if (state.current !== current || current.closed) return;
    state.stopped = true;
    void retire(state, current, "plugin unloaded");
  }, REPLACEMENT_CLAIM_MS);
  state.unclaimed.unref();
  await current.flush();
}

/** Gateway stop, sole-listener signal, process exit: every generation shuts down (bounded, idempotent). */
export async function shutdownServices(runtime: PluginRuntime, reason: string): Promise<void> {
  const state = generations(runtime);
  clearTimeout(state.unclaimed);
  state.unclaimed = undefined;
  state.stopped = true;
  await Promise.all([state.current?.shutdown(reason), ...state.retiring]);
}

/** Flushes the current services (a signal another handler owns, a run's end); never rejects. */
export async function flushServices(runtime: PluginRuntime): Promise<void> {
  await generations(runtime).current?.flush();
}

/** `dynamo.status`: the current generation, plus the final counters of the ones it replaced. */
export function statusOf(runtime: PluginRuntime): PluginStatus {
  const status = getServices(runtime).status();
  const { replaced } = generations(runtime);
  return replaced.length === 0 ? status : { ...status, replacedGenerations: replaced.slice() };
}

function build(runtime: PluginRuntime, state: Generations): Services {
  const services = createServices(runtime, ++state.count);
  state.current = services;
  state.stopped = false;
  // The bench driver (bench/lib/driver.ts) reads the current services here.
  runtime.services.set("services", services);
  return services;
}

function retire(state: Generations, old: Services, reason: string): Promise<void> {
  const done: Promise<void> = old
    .shutdown(reason)
    .catch(() => undefined)
    .then(() => {
      const { relay, exporter } = old.status();
      state.replaced.unshift({ generation: old.generation, reason, relay, exporter });
      state.replaced.length = Math.min(state.replaced.length, REPLACED_KEPT);
    })
    .finally(() => state.retiring.delete(done));
  state.retiring.add(done);
  return done;
}
