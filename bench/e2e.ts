/**
 * Figures 4 and 5 — a real `openclaw agent --local` turn (one `read` tool call, then the answer)
 * against the Dynamo simulator, through the e2e harness (isolated worlds; the plugin is loaded from
 * a private snapshot compiled from src/, see test/e2e/harness/plugin-source.ts).
 *
 *  on:      DYN_AGENT_TRACE on, OTLP to the simulator's receiver, relay to its PULL
 *  off:     DYN_AGENT_TRACE off, no OTLP endpoint (the plugin is still the `dynamo` provider)
 *  hanging: like `on`, with an OTLP receiver that accepts connections and bodies but never answers
 *
 * Figure 4: wall time of the CLI (spawn → exit) on/off, pairs run alternately (ABBA) so load drift
 * hits both; the ratio is per pair, reported as median (min–max).
 * Figure 5: exit lag = CLI exit − the simulator's `finishedAt` of the last chat request. OpenClaw
 * itself takes 1–2.5 s here from the answer to exit, so the plugin's share is on-lag − off-lag
 * (medians); both raw lags are reported too.
 *
 * Standalone: `node bench/e2e.ts [--quick]`.
 */
import { startSimulator, type Simulator } from "../test/sim/index.ts";
import { createOpenClawEnv, type CliResult, type OpenClawWorld } from "../test/e2e/harness/index.ts";
import { isTerminal } from "../test/e2e/trace-helpers.ts";
import { emitResult, fmt, spread } from "./lib/stats.ts";

const quick = process.argv.includes("--quick");
const PAIRS = quick ? 1 : 5;
const HANGING = quick ? 1 : 3;
const MESSAGE = "Please read hello.txt. [[sim:read hello.txt]]";

type Mode = "on" | "off" | "hanging";

interface Turn {
  mode: Mode;
  wallMs: number;
  /** CLI process exit − the simulator's finish of the last answered model request. */
  exitLagMs: number;
  /** Same, up to the close of the CLI's stdio pipes (what the e2e harness reports). */
  pipesClosedLagMs: number;
  answerMs: number;
  ok: boolean;
  spans: number;
  relay: number;
}

async function turn(mode: Mode, world: OpenClawWorld, sim: Simulator): Promise<Turn> {
  sim.clear();
  if (mode === "hanging") sim.faults.otlp({ mode: "hang" });
  let result: CliResult;
  // The harness's exit time is when the stdio pipes close, which waits for every process that
  // inherited them: OpenClaw's short-lived SQLite helper processes sometimes hold them for ~8 s
  // after the CLI itself has exited (seen with and without the plugin). The CLI process's own
  // `exit` event is what the plugin can delay; both are recorded.
  let mainExitAt: number | undefined;
  let watching = false;
  try {
    result = await world.cli(["agent", "--local", "--agent", "main", "--message", MESSAGE, "--model", `dynamo/${world.model}`, "--json"], {
      timeoutMs: 180_000,
      label: "agent-local",
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
  // Model requests only: not the plugin's minimal session close / session-final requests.
  const chats = sim.chatRequests().filter((r) => !isTerminal(r));
  const answered = chats.filter((r) => r.status === 200);
  const lastAnswer = Math.max(...answered.map((r) => r.finishedAt ?? 0));
  // Exports and relay records of an `on` turn were sent before exit; give the simulator a moment to decode them.
  if (mode === "on") await sim.waitFor(() => sim.otlp.spans.length >= 4 && sim.relay.accepted.length >= 2, 5_000, "spans and relay records").catch(() => undefined);
  // With protocol `auto` the first request goes out as Dynamo 1.2 `nvext` and the 1.3+ simulator
  // rejects it once (SPEC §4.4); the turn is fine when the tool call and the answer were served.
  const ok = result.exitCode === 0 && answered.length >= 2;
  if (!ok) console.error(`[bench e2e] ${mode} turn failed: exit ${result.exitCode}, ${sim.summary()}\n${result.stderr.slice(-2000)}`);
  return {
    mode,
    wallMs: (mainExitAt ?? result.exitedAtMs) - result.startedAtMs,
    exitLagMs: (mainExitAt ?? result.exitedAtMs) - lastAnswer,
    pipesClosedLagMs: result.exitedAtMs - lastAnswer,
    answerMs: lastAnswer - result.startedAtMs,
    ok,
    spans: sim.otlp.spans.length,
    relay: sim.relay.accepted.length,
  };
}

async function main(): Promise<void> {
  const sim = await startSimulator({ generation: "headers" });
  const worlds: OpenClawWorld[] = [];
  try {
    const on = await createOpenClawEnv({
      name: "bench-on",
      pluginConfig: { baseUrl: sim.baseUrl, agentTrace: true, otlpEndpoint: sim.otlpUrl, toolEventsEndpoint: sim.zmqEndpoint },
    });
    worlds.push(on);
    const off = await createOpenClawEnv({ name: "bench-off", pluginConfig: { baseUrl: sim.baseUrl } });
    worlds.push(off);

    // One unrecorded turn each: first-run costs (compile caches, state dir creation). Not in --quick.
    if (!quick) {
      await turn("off", off, sim);
      await turn("on", on, sim);
    }

    const turns: Turn[] = [];
    for (let p = 0; p < PAIRS; p++) {
      const order: Mode[] = p % 2 === 0 ? ["on", "off"] : ["off", "on"];
      for (const mode of order) turns.push(await turn(mode, mode === "on" ? on : off, sim));
    }
    for (let h = 0; h < HANGING; h++) turns.push(await turn("hanging", on, sim));

    const of = (mode: Mode) => turns.filter((t) => t.mode === mode);
    const onT = of("on");
    const offT = of("off");
    const hangT = of("hanging");
    const pairRatios = onT.map((t, i) => t.wallMs / (offT[i]?.wallMs ?? NaN));
    const lag = (ts: Turn[]) => spread(ts.map((t) => t.exitLagMs));
    const offLag = lag(offT);
    const result = {
      config: { pairs: PAIRS, hanging: HANGING, message: MESSAGE },
      wallMs: { on: spread(onT.map((t) => t.wallMs)), off: spread(offT.map((t) => t.wallMs)) },
      answerMs: { on: spread(onT.map((t) => t.answerMs)), off: spread(offT.map((t) => t.answerMs)) },
      ratio: spread(pairRatios),
      exitLagMs: { on: lag(onT), off: offLag, hanging: lag(hangT) },
      pipesClosedLagMs: {
        on: spread(onT.map((t) => t.pipesClosedLagMs)),
        off: spread(offT.map((t) => t.pipesClosedLagMs)),
        hanging: spread(hangT.map((t) => t.pipesClosedLagMs)),
      },
      addedExitLagMs: {
        live: lag(onT).median - offLag.median,
        hanging: lag(hangT).median - offLag.median,
      },
      failures: turns.filter((t) => !t.ok).length,
      delivered: { spans: onT.map((t) => t.spans), relay: onT.map((t) => t.relay) },
      turns,
    };
    if (process.stdout.isTTY || process.argv.includes("--print")) {
      console.log(`wall on ${fmt(result.wallMs.on, 0)} ms, off ${fmt(result.wallMs.off, 0)} ms, ratio ${fmt(result.ratio, 3)}`);
      console.log(`exit lag on ${fmt(result.exitLagMs.on, 0)}, off ${fmt(result.exitLagMs.off, 0)}, hanging ${fmt(result.exitLagMs.hanging, 0)} ms; added live ${result.addedExitLagMs.live.toFixed(0)}, hanging ${result.addedExitLagMs.hanging.toFixed(0)}`);
      console.log(`failures ${result.failures}; spans ${result.delivered.spans.join(",")}; relay ${result.delivered.relay.join(",")}`);
    }
    emitResult(result);
  } finally {
    for (const world of worlds) await world.dispose();
    await sim.close();
  }
}

await main();
process.exit(0);
