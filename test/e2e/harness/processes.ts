/**
 * Spawning OpenClaw processes in their own process groups, and making sure none outlives the tests.
 *
 * Every child is started with `detached: true`, so it leads a new process group that also holds
 * anything it spawns (OpenClaw may re-exec itself, and `exec` tool commands run beneath it). We only
 * ever signal groups we started, tracked in `live`; a process `exit` hook SIGKILLs whatever is
 * still tracked, so a crashed or aborted test run does not leave a Gateway behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import type { ChildEnv } from "./child-env.ts";
import { OPENCLAW_ENTRY } from "./paths.ts";

/** Process-group ids (= leader pids) of children we started that may still be alive. */
const live = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const pgid of live) signalGroup(pgid, "SIGKILL");
  };
  // Synchronous only: `exit` handlers cannot await.
  process.on("exit", killAll);
  // A signal's default action ends the process without an `exit` event; kill our groups first,
  // then re-raise with the default action (unless someone else handles the signal).
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    const onSignal = () => {
      killAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.once(signal, onSignal);
  }
}

/** Signal a whole process group we started; false when it no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export interface SpawnedOpenClaw {
  child: ChildProcess;
  pid: number;
  startedAtMs: number;
  /** Combined so far; use the getters, the strings grow while the process runs. */
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved in arrival order. */
  output(): string;
  /** Resolves once the process has exited and its pipes are drained. */
  exited: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; exitedAtMs: number }>;
  /** Observe stdout chunks as they arrive (e.g. to timestamp the answer). */
  onStdout(listener: (chunk: string) => void): void;
  /** Observe combined output as it arrives (e.g. to wait for a ready line). */
  onOutput(listener: (chunk: string) => void): void;
}

export interface SpawnOptions {
  cwd: string;
  env: ChildEnv;
  /** Output is also appended to these files, so a kept world holds every process's output. */
  stdoutFile?: string;
  stderrFile?: string;
}

/** Start `openclaw <args>` on the running Node binary, in a new process group. */
export function spawnOpenClaw(args: string[], options: SpawnOptions): SpawnedOpenClaw {
  installExitHook();
  const child = spawn(process.execPath, [OPENCLAW_ENTRY, ...args], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const startedAtMs = Date.now();
  if (child.pid === undefined) throw new Error(`failed to spawn openclaw ${args.join(" ")}`);
  const pid = child.pid;
  live.add(pid);

  let stdout = "";
  let stderr = "";
  let output = "";
  const stdoutListeners: Array<(chunk: string) => void> = [];
  const outputListeners: Array<(chunk: string) => void> = [];
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    stdout += chunk;
    output += chunk;
    if (options.stdoutFile) appendFileSync(options.stdoutFile, chunk);
    for (const listener of stdoutListeners) listener(chunk);
    for (const listener of outputListeners) listener(chunk);
  });
  child.stderr?.on("data", (chunk: string) => {
    stderr += chunk;
    output += chunk;
    if (options.stderrFile) appendFileSync(options.stderrFile, chunk);
    for (const listener of outputListeners) listener(chunk);
  });

  const exited = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; exitedAtMs: number }>(
    (resolveExit) => {
      // "close" (not "exit"): fires after the stdio pipes are drained, so stdout is complete.
      child.once("close", (exitCode, signal) => {
        const exitedAtMs = Date.now();
        // Reap anything the leader left behind in its group (e.g. a re-exec'd runtime child), then forget it.
        signalGroup(pid, "SIGKILL");
        live.delete(pid);
        resolveExit({ exitCode, signal, exitedAtMs });
      });
      child.once("error", () => {
        live.delete(pid);
        resolveExit({ exitCode: null, signal: null, exitedAtMs: Date.now() });
      });
    },
  );

  return {
    child,
    pid,
    startedAtMs,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => output,
    exited,
    onStdout: (listener) => stdoutListeners.push(listener),
    onOutput: (listener) => outputListeners.push(listener),
  };
}

/** Whether the group we started is still tracked as alive. */
export function isLive(pid: number): boolean {
  return live.has(pid);
}

/**
 * Stop a process we started: `signal` to the leader, wait up to `graceMs` for it to exit, then
 * SIGKILL the whole group. Returns whether it exited within the grace period.
 */
export async function stopProcess(
  proc: SpawnedOpenClaw,
  options: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<{ graceful: boolean; exitCode: number | null; signal: NodeJS.Signals | null; exitedAtMs: number }> {
  const { signal = "SIGTERM", graceMs = 10_000 } = options;
  if (isLive(proc.pid)) {
    try {
      process.kill(proc.pid, signal);
    } catch {
      // already gone
    }
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout("timeout"), graceMs);
  });
  const first = await Promise.race([proc.exited, timedOut]);
  clearTimeout(timer);
  if (first === "timeout") {
    signalGroup(proc.pid, "SIGKILL");
    return { graceful: false, ...(await proc.exited) };
  }
  return { graceful: true, ...first };
}
