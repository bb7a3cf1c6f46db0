/**
 * Process end and signals (docs/lifecycle.md). Installed once per process; always acts on the
 * current services generation (src/generations.ts).
 *  - SIGINT/SIGTERM while another listener exists: only flush, the services stay open. The host
 *    owns that signal: a Gateway drains its active runs (minutes, if need be) and then fires
 *    `gateway_stop`, where the plugin shuts down; OpenClaw's TUI clears its input on the first
 *    Ctrl+C and keeps running. Shutting down there would close the relay, the exporter and the
 *    Dynamo sessions under runs that go on.
 *    One exception: SIGTERM outside a Gateway also ends the open spans (cancelled) before that
 *    flush. OpenClaw's one-shot CLI (`agent --local`) answers SIGTERM by aborting the run and
 *    exiting with 143 as soon as the run returns, without waiting for the flush `agent_end` starts,
 *    so the run's and its open tool call's spans would otherwise be lost.
 *  - The plugin is the only listener (a one-shot CLI): shut down, bounded, then re-raise the signal
 *    with the plugin's handler removed, so the process ends exactly as it would have without the
 *    plugin (killed by that signal) and the exit code stays the host's.
 *  - `beforeExit`: shut down.
 */
import { endOpenSpans, flushServices, shutdownServices } from "./generations.ts";
import { service, type PluginRuntime } from "./runtime.ts";

export const SHUTDOWN_SIGNALS = ["SIGTERM", "SIGINT"] as const;
type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];
type Listener = (...args: unknown[]) => void;

/** The part of `process` the handlers use (a stand-in in unit tests). */
export interface SignalTarget {
  readonly pid: number;
  on(event: ShutdownSignal | "beforeExit", listener: Listener): unknown;
  once(event: "beforeExit", listener: Listener): unknown;
  removeListener(event: ShutdownSignal, listener: Listener): unknown;
  listeners(event: ShutdownSignal): Function[];
  kill(pid: number, signal: ShutdownSignal): unknown;
}

export function installProcessHandlers(runtime: PluginRuntime, target: SignalTarget = process as unknown as SignalTarget): void {
  const installed = service(runtime, "process-handlers", () => new WeakSet<object>());
  if (installed.has(target)) return;
  installed.add(target);
  target.once("beforeExit", () => {
    void shutdownServices(runtime, "process exit");
  });
  for (const signal of SHUTDOWN_SIGNALS) {
    const onSignal: Listener = () => {
      if (target.listeners(signal).some((listener) => listener !== onSignal)) {
        if (signal === "SIGTERM" && runtime.services.get("gateway") !== true) endOpenSpans(runtime);
        void flushServices(runtime);
        return;
      }
      // Without the plugin Node would have ended the process at once: do that now, after the flush.
      target.removeListener(signal, onSignal);
      void shutdownServices(runtime, signal).finally(() => target.kill(target.pid, signal));
    };
    target.on(signal, onSignal);
  }
}
