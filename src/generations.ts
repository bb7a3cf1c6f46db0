/**
 * Which generation of the process-wide services is current, and when it is replaced
 * (docs/lifecycle.md). A Gateway replaces the plugin when `plugins.entries.dynamo.*` changes:
 * `gateway_stop {reason: "plugin replacement"}` → `register()` with the new settings →
 * `gateway_start`. OpenClaw disposes the old plugin instance right after that stop and gives it
 * 5 s, so the stop hands over nothing:
 *  - a replacement stop retires the current generation: open spans end (marked as not observed to
 *    end) into its own exporter and relay, open Dynamo sessions are closed, exporter and relay are
 *    flushed and closed, all within `flushTimeoutMs`;
 *  - the next `register()` builds a new generation from its settings (new or unchanged);
 *  - a `register()` with other settings while the current generation is open (no stop before it)
 *    retires it the same way; one with the same settings keeps it (OpenClaw registers several
 *    times per process);
 *  - any other stop, the sole-listener signal and process exit shut everything down; a later
 *    `register()` (an in-process Gateway restart) builds a new generation.
 * Every hook, provider call and the status method reach services through `getServices`, so
 * handlers of an older registration that still fire land in the current generation.
 */
import type { PluginRuntime } from "./runtime.ts";
import { service } from "./runtime.ts";
import { createServices, type PluginStatus, type ReplacedGeneration, type Services } from "./services.ts";

/** Replaced generations whose final counters `dynamo.status` keeps. */
const REPLACED_KEPT = 3;

interface Generations {
  current: Services | undefined;
  count: number;
  /** A final stop happened and nothing registered since: late hooks must not open sockets again. */
  stopped: boolean;
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
    retiring: new Set(),
    replaced: [],
  }));
}

/** `gateway_stop` reason when OpenClaw replaces the plugin in a running Gateway (config edit, `plugins reload`). */
export const REPLACEMENT_REASON = "plugin replacement";

/** The current services; built on first use and after a replacement stop (not after a final stop). */
export function getServices(runtime: PluginRuntime): Services {
  const state = generations(runtime);
  const current = state.current;
  if (current && (!current.closed || state.stopped)) return current;
  return build(runtime, state);
}

/**
 * A registration's settings take effect: the current services when they were built from the same
 * settings, else a new generation (an open old one is retired in the background, bounded).
 */
export function adoptSettings(runtime: PluginRuntime): Services {
  const state = generations(runtime);
  const current = state.current;
  if (current && !current.closed && current.fingerprint === runtime.fingerprint) return current;
  if (current && !current.closed) void retire(state, current, "settings changed");
  const next = build(runtime, state);
  if (current) {
    const settings = current.fingerprint === next.fingerprint ? "unchanged" : "new";
    runtime.log.info(
      `generation ${next.generation} of the exporter, relay and Dynamo sessions runs with the ${settings} settings; ` +
        `generation ${current.generation} ends its open spans, closes its Dynamo sessions, flushes and closes (docs/lifecycle.md).`,
    );
  }
  return next;
}

/** `gateway_stop {reason: "plugin replacement"}`: retire the current generation; the next registration builds one. */
export async function releaseForReplacement(runtime: PluginRuntime): Promise<void> {
  const state = generations(runtime);
  const current = state.current;
  if (current && !current.closed) await retire(state, current, REPLACEMENT_REASON);
}

/** Gateway stop, sole-listener signal, process exit: every generation shuts down (bounded, idempotent). */
export async function shutdownServices(runtime: PluginRuntime, reason: string): Promise<void> {
  const state = generations(runtime);
  state.stopped = true;
  await Promise.all([state.current?.shutdown(reason), ...state.retiring]);
}

/** Ends every open span of the current services (a one-shot process the host is about to end). */
export function endOpenSpans(runtime: PluginRuntime): void {
  generations(runtime).current?.tree.closeAll();
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
