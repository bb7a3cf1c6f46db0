/**
 * Per-file e2e bookkeeping: step timings printed as a table in afterAll, the simulators and worlds
 * a file started (stopped together), and failure context. The only harness module that imports vitest.
 */
import { onTestFailed } from "vitest";
import { startSimulator, type Simulator, type SimulatorOptions } from "../../sim/index.ts";
import { pluginLines, pluginLogEntries, readTextFile, tail } from "./logs.ts";
import { createOpenClawEnv, type OpenClawEnvOptions, type OpenClawWorld } from "./world.ts";

/** Labelled step durations of one test file, in the order recorded. */
export class Timings {
  /** When this was created (module load, for a file-level instance): the start of "file wall time". */
  readonly startedAt = Date.now();
  readonly #entries: Array<[string, number]> = [];

  /** Record `ms` under `label`. */
  add(label: string, ms: number): void {
    this.#entries.push([label, ms]);
  }

  /** Run `step` and record how long it took under `label`, also when it throws. */
  async timed<T>(label: string, step: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await step();
    } finally {
      this.add(label, Date.now() - t0);
    }
  }

  /** One line per entry: `indent`, the label padded to `pad`, the time in ms (or seconds to 0.1). */
  rows(pad: number, { unit = "ms", indent = "  " }: { unit?: "ms" | "s"; indent?: string } = {}): string[] {
    return this.#entries.map(([label, ms]) => `${indent}${label.padEnd(pad)} ${unit === "s" ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`}`);
  }

  /** `title`, a newline, then `rows(pad, options)` one per line (what afterAll prints). */
  table(title: string, pad: number, options?: { unit?: "ms" | "s"; indent?: string }): string {
    return `${title}\n${this.rows(pad, options).join("\n")}`;
  }
}

/** The simulators and worlds a test file (or describe block) started; `dispose()` stops them. */
export class Resources {
  #worlds: OpenClawWorld[] = [];
  #sims: Simulator[] = [];

  /** Start a Dynamo simulator that dispose() closes. */
  async newSim(options: SimulatorOptions): Promise<Simulator> {
    const sim = await startSimulator(options);
    this.#sims.push(sim);
    return sim;
  }

  /** Create an isolated OpenClaw world that dispose() disposes. */
  async newWorld(options: OpenClawEnvOptions): Promise<OpenClawWorld> {
    const world = await createOpenClawEnv(options);
    this.#worlds.push(world);
    return world;
  }

  /** Dispose every world, then close every simulator; one failing does not stop the rest (the first error is rethrown). */
  async dispose(): Promise<void> {
    const [worlds, sims] = [this.#worlds, this.#sims];
    this.#worlds = [];
    this.#sims = [];
    const results = [
      ...(await Promise.allSettled(worlds.map((world) => world.dispose()))),
      ...(await Promise.allSettled(sims.map((sim) => sim.close()))),
    ];
    const failed = results.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  }
}

/** Keep the world's directory (config, OpenClaw log, every process's output) when the current test fails. */
export function keepOnFailure(world: OpenClawWorld | undefined): void {
  onTestFailed(() => world?.keep());
}

/** What an assertion message needs of a finished CLI / agent process. */
export interface ProcessOutcome {
  exitCode: number | null;
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs?: number;
}

/** Failure context for a CLI/agent result: exit status, sim summary, stdout, stderr tail, plugin log lines. */
export function explain(result: ProcessOutcome, world: OpenClawWorld, sim?: Pick<Simulator, "summary">): string {
  const fromLog = pluginLogEntries(readTextFile(world.logFile)).map((entry) => entry.text);
  const dynamoLines = fromLog.length > 0 ? fromLog : pluginLines(result.stderr);
  const duration = result.durationMs === undefined ? "" : ` after ${result.durationMs} ms`;
  return [
    `exit ${result.exitCode} signal ${result.signal ?? null}${duration} (world: ${world.dir})`,
    sim ? `sim: ${sim.summary()}` : "",
    `stdout: ${result.stdout.slice(0, 2000)}`,
    `stderr tail:\n${tail(result.stderr, 30)}`,
    `[dynamo] log lines:\n${dynamoLines.slice(-40).join("\n")}`,
  ].join("\n");
}
