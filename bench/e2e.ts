/**
 * Figures 4 and 5 — a real `openclaw agent --local` turn (five `read` tool calls, then the answer)
 * against the Dynamo simulator, through the e2e harness (isolated worlds; the plugin is loaded in the
 * layout of an `npm pack` install — the entry and core bundles, see test/e2e/harness/plugin-source.ts). Arms:
 *
 *  none:    no plugin at all — what a user would otherwise run: a plain `models.providers.dynamo`
 *           entry (`openai-completions`) pointing at the same simulator
 *  empty:   like none, plus a plugin that registers nothing (bench/lib/empty-plugin.ts): OpenClaw's
 *           own cost of loading one external plugin, which no plugin can go below
 *  off:     the plugin as the `dynamo` provider only (DYN_AGENT_TRACE off, no OTLP endpoint)
 *  on:      everything: identity (DYN_AGENT_TRACE), OTLP to the simulator's receiver, relay to its PULL
 *  hanging: like `on`, with an OTLP receiver that accepts connections and bodies but never answers
 *
 * Figure 4: wall time (spawn → the CLI process's exit) and CPU time (every Node process of the run,
 * bench/lib/cpu-probe.mjs) of none/off/on, interleaved: each round runs the three arms in a rotated
 * order so drift in machine load hits all alike; ratios are per round, reported as median (min–max).
 * Figure 5: exit lag = CLI exit − the simulator's `finishedAt` of the last chat request; the plugin's
 * share is on-lag − none-lag (medians).
 *
 * Standalone: `node bench/e2e.ts [--quick] [--print]`; `BENCH_E2E_ROUNDS=<n>` sets the rounds. `BENCH_CPU_PROF=<dir>` also writes a V8 CPU
 * profile of every OpenClaw process (`--cpu-prof`) per arm, to see where the plugin's CPU goes.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startSimulator, type Simulator } from "../test/sim/index.ts";
import { createOpenClawEnv, type CliResult, type OpenClawWorld } from "../test/e2e/harness/index.ts";
import { isTerminal } from "../test/e2e/trace-helpers.ts";
import { EMPTY_PLUGIN_ID, writeEmptyPlugin } from "./lib/empty-plugin.ts";
import { emitResult, fmt, spread } from "./lib/stats.ts";

const quick = process.argv.includes("--quick");
const ROUNDS = Number(process.env.BENCH_E2E_ROUNDS) || (quick ? 1 : 7);
const HANGING = quick ? 1 : 3;
const READS = 5;
const MESSAGE = `Please read hello.txt ${READS} times. ${"[[sim:read hello.txt]] ".repeat(READS)}[[sim:text Done reading.]]`;
const CPU_PROBE = pathToFileURL(fileURLToPath(new URL("./lib/cpu-probe.mjs", import.meta.url))).href;
const PROFILE_DIR = process.env.BENCH_CPU_PROF;

type Mode = "none" | "empty" | "off" | "on" | "hanging";
const ARMS: Mode[] = ["none", "empty", "off", "on"];

interface Turn {
  mode: Mode;
  wallMs: number;
  /** CPU of every Node process of the run (the CLI and any Node helper it started). */
  cpuMs: number;
  processes: number;
  /** CLI process exit − the simulator's finish of the last answered model request. */
  exitLagMs: number;
  answerMs: number;
  ok: boolean;
  spans: number;
  relay: number;
}

async function turn(mode: Mode, world: OpenClawWorld, sim: Simulator): Promise<Turn> {
  sim.clear();
  if (mode === "hanging") sim.faults.otlp({ mode: "hang" });
  const cpuDir = mkdtempSync(join(tmpdir(), "bench-cpu-"));
  const profile = PROFILE_DIR ? ` --cpu-prof --cpu-prof-dir=${join(PROFILE_DIR, mode)}` : "";
  if (PROFILE_DIR) mkdirSync(join(PROFILE_DIR, mode), { recursive: true });
  let result: CliResult;
  // The harness's exit time is when the stdio pipes close, which waits for every process that
  // inherited them (OpenClaw's short-lived helpers sometimes hold them for seconds after the CLI
  // itself exited, with and without the plugin); the CLI process's own `exit` is what a plugin delays.
  let mainExitAt: number | undefined;
  let watching = false;
  try {
    result = await world.cli(["agent", "--local", "--agent", "main", "--message", MESSAGE, "--model", `dynamo/${world.model}`, "--json"], {
      timeoutMs: 180_000,
      label: `agent-${mode}`,
      env: { NODE_OPTIONS: `--import=${CPU_PROBE}${profile}`, BENCH_CPU_DIR: cpuDir },
      onStdout(_chunk, proc) {
        if (watching) return;
        watching = true;
        proc.child.once("exit", () => {
          mainExitAt = Date.now();
        });
      },
    });
  } finally {
    sim.faults.reset();
  }
  const records = readdirSync(cpuDir).map((f) => JSON.parse(readFileSync(join(cpuDir, f), "utf8")) as { cpuUs: number });
  rmSync(cpuDir, { recursive: true, force: true });
  // Model requests only: not the plugin's minimal session close / session-final requests.
  const chats = sim.chatRequests().filter((r) => !isTerminal(r));
  const answered = chats.filter((r) => r.status === 200);
  const lastAnswer = Math.max(...answered.map((r) => r.finishedAt ?? 0));
  if (mode === "on") await sim.waitFor(() => sim.otlp.spans.length >= 4 && sim.relay.accepted.length >= 2, 5_000, "spans and relay records").catch(() => undefined);
  // With protocol `auto` the first request goes out as Dynamo 1.2 `nvext` and the 1.3+ simulator
  // rejects it once (SPEC §4.4); the turn is fine when the tool calls and the answer were served.
  const ok = result.exitCode === 0 && answered.length >= 2 && records.length > 0;
  if (!ok) console.error(`[bench e2e] ${mode} turn failed: exit ${result.exitCode}, cpu records ${records.length}, ${sim.summary()}\n${result.stderr.slice(-2000)}`);
  const exitedAt = mainExitAt ?? result.exitedAtMs;
  return {
    mode,
    wallMs: exitedAt - result.startedAtMs,
    cpuMs: records.reduce((sum, r) => sum + r.cpuUs, 0) / 1000,
    processes: records.length,
    exitLagMs: exitedAt - lastAnswer,
    answerMs: lastAnswer - result.startedAtMs,
    ok,
    spans: sim.otlp.spans.length,
    relay: sim.relay.accepted.length,
  };
}

/**
 * The `none` arm: no plugin loaded, the model served through a plain `models.providers.dynamo` entry;
 * with `emptyPlugin`, the `empty` arm: the same plus a plugin that registers nothing.
 */
async function noPluginWorld(sim: Simulator, emptyPlugin?: string): Promise<OpenClawWorld> {
  const world = await createOpenClawEnv({
    name: emptyPlugin ? "bench-empty" : "bench-none",
    models: {
      providers: {
        dynamo: {
          baseUrl: sim.baseUrl,
          api: "openai-completions",
          apiKey: "dynamo-local",
          models: [{ id: "mock-model", name: "mock-model", contextWindow: 131072, maxTokens: 4096, input: ["text"], reasoning: false, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 } }],
        },
      },
    },
  });
  world.updateConfig((config) => {
    delete config.plugins;
    if (emptyPlugin) config.plugins = { load: { paths: [emptyPlugin] }, entries: { [EMPTY_PLUGIN_ID]: { enabled: true } } };
  });
  return world;
}

async function main(): Promise<void> {
  const sim = await startSimulator({ generation: "headers" });
  const worlds = new Map<Mode, OpenClawWorld>();
  try {
    worlds.set("none", await noPluginWorld(sim));
    worlds.set("empty", await noPluginWorld(sim, writeEmptyPlugin()));
    worlds.set("off", await createOpenClawEnv({ name: "bench-off", pluginSource: "packed", pluginConfig: { baseUrl: sim.baseUrl } }));
    worlds.set(
      "on",
      await createOpenClawEnv({
        name: "bench-on",
        pluginSource: "packed",
        pluginConfig: { baseUrl: sim.baseUrl, agentTrace: true, otlpEndpoint: sim.otlpUrl, toolEventsEndpoint: sim.zmqEndpoint },
      }),
    );
    const worldOf = (mode: Mode) => worlds.get(mode === "hanging" ? "on" : mode)!;

    // One unrecorded turn each: first-run costs (compile caches, state dir creation) are several
    // seconds per world and would swamp the ratios, so even --quick pays for them.
    for (const mode of ARMS) await turn(mode, worldOf(mode), sim);

    const rounds: Array<Record<Mode, Turn>> = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = ARMS.map((_, i) => ARMS[(i + r) % ARMS.length]!);
      const round = {} as Record<Mode, Turn>;
      for (const mode of order) round[mode] = await turn(mode, worldOf(mode), sim);
      rounds.push(round);
    }
    const hanging: Turn[] = [];
    for (let h = 0; h < HANGING; h++) hanging.push(await turn("hanging", worldOf("hanging"), sim));

    const of = (mode: Mode) => rounds.map((round) => round[mode]);
    const ratio = (a: Mode, b: Mode, key: "wallMs" | "cpuMs") => spread(rounds.map((round) => round[a][key] / round[b][key]));
    const lag = (ts: Turn[]) => spread(ts.map((t) => t.exitLagMs));
    const noneLag = lag(of("none"));
    const all = [...rounds.flatMap((round) => ARMS.map((m) => round[m])), ...hanging];
    const result = {
      config: { rounds: ROUNDS, hanging: HANGING, reads: READS, message: MESSAGE },
      wallMs: Object.fromEntries(ARMS.map((m) => [m, spread(of(m).map((t) => t.wallMs))])),
      cpuMs: Object.fromEntries(ARMS.map((m) => [m, spread(of(m).map((t) => t.cpuMs))])),
      onVsNone: { wall: ratio("on", "none", "wallMs"), cpu: ratio("on", "none", "cpuMs") },
      offVsNone: { wall: ratio("off", "none", "wallMs"), cpu: ratio("off", "none", "cpuMs") },
      /** OpenClaw's price for any external plugin, and ours over it. */
      emptyVsNone: { wall: ratio("empty", "none", "wallMs"), cpu: ratio("empty", "none", "cpuMs") },
      onVsEmpty: { wall: ratio("on", "empty", "wallMs"), cpu: ratio("on", "empty", "cpuMs") },
      /** The earlier figure (plugin on vs plugin loaded as provider only), kept for continuity. */
      ratio: ratio("on", "off", "wallMs"),
      exitLagMs: { none: noneLag, off: lag(of("off")), on: lag(of("on")), hanging: lag(hanging) },
      addedExitLagMs: { live: lag(of("on")).median - noneLag.median, hanging: lag(hanging).median - noneLag.median },
      failures: all.filter((t) => !t.ok).length,
      delivered: { spans: of("on").map((t) => t.spans), relay: of("on").map((t) => t.relay) },
      rounds,
      hanging,
    };
    if (process.stdout.isTTY || process.argv.includes("--print")) {
      for (const m of ARMS) console.log(`${m.padEnd(5)} wall ${fmt(result.wallMs[m]!, 0)} ms, CPU ${fmt(result.cpuMs[m]!, 0)} ms`);
      console.log(`empty/none wall ${fmt(result.emptyVsNone.wall, 3)}, CPU ${fmt(result.emptyVsNone.cpu, 3)}; on/empty wall ${fmt(result.onVsEmpty.wall, 3)}, CPU ${fmt(result.onVsEmpty.cpu, 3)}`);
      console.log(`on/none wall ${fmt(result.onVsNone.wall, 3)}, CPU ${fmt(result.onVsNone.cpu, 3)}; off/none wall ${fmt(result.offVsNone.wall, 3)}, CPU ${fmt(result.offVsNone.cpu, 3)}`);
      console.log(`exit lag added: live ${result.addedExitLagMs.live.toFixed(0)} ms, hanging ${result.addedExitLagMs.hanging.toFixed(0)} ms; failures ${result.failures}`);
    }
    emitResult(result);
  } finally {
    for (const world of worlds.values()) await world.dispose();
    await sim.close();
  }
}

await main();
process.exit(0);
