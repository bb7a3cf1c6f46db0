/**
 * Figure 1 — hook-path cost. The plugin's real hook handlers, provider stream wrapper and span
 * processors (span tree → tracer → relay processor + OTLP batch exporter), with the relay connected
 * to a counting PULL and OTLP exporting to a local receiver (both in another process), against the
 * same loop calling no-op handlers. Rounds alternate baseline / plugin; each figure is the median
 * over rounds with min–max.
 *
 * Run by bench/run.ts; standalone: `node bench/hook-path.ts [--quick]` (after `npm run build`).
 */
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { allocTimings, fillToSteadyState, HOOK_NAMES, toolEventCpuUs, modelRequestsPerRun, noopHarness, pluginHarness, runOnce, scrubPluginEnv, toolEventsPerRun, type Harness, type RunShape, type Timings } from "./lib/driver.ts";
import { startReceivers } from "./lib/receiver-client.ts";
import { alternating, emitResult, fmt, mean, percentile, spread, type Spread } from "./lib/stats.ts";

const quick = process.argv.includes("--quick");
const RUNS = quick ? 150 : 400;
const ROUNDS = quick ? 3 : 7;
const SHAPE: RunShape = { toolCalls: 20, modelEvery: 1, sessions: 8 };
const TOOL_CPU_CALLS = quick ? 2_000 : 5_000;
const HANGING_RUNS = quick ? 2 : 3;

interface RoundFigures {
  toolMeanUs: number;
  toolP99Us: number;
  modelMeanUs: number;
  modelP99Us: number;
  runStartMeanUs: number;
  runEndMeanUs: number;
  runEndP99Us: number;
  /** Process CPU (all threads) per run, µs: includes the exporter's and relay's background work. */
  cpuPerRunUs: number;
  wallPerRunUs: number;
  /** Process CPU per tool event in synchronous chunks (see driver.toolEventCpuUs). */
  toolCpuUs: number;
}

async function round_(h: Harness, runs: number, record: boolean): Promise<RoundFigures> {
  const t: Timings = allocTimings(runs, SHAPE, record);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < runs; i++) await runOnce(h, SHAPE, t);
  // Let the background work this round caused finish inside the round (export timer, relay pump).
  if (h.services) await h.services.flush();
  const wall = (performance.now() - wall0) * 1000;
  const cpu = process.cpuUsage(cpu0);
  const toolCpuUs = record ? await toolEventCpuUs(h, TOOL_CPU_CALLS) : NaN;
  return {
    toolMeanUs: mean(t.tool, t.toolCount),
    toolP99Us: percentile(t.tool, 99, t.toolCount),
    modelMeanUs: mean(t.model, t.modelCount),
    modelP99Us: percentile(t.model, 99, t.modelCount),
    runStartMeanUs: mean(t.runStart, t.runCount),
    runEndMeanUs: mean(t.runEnd, t.runCount),
    runEndP99Us: percentile(t.runEnd, 99, t.runCount),
    cpuPerRunUs: (cpu.user + cpu.system) / runs,
    wallPerRunUs: wall / runs,
    toolCpuUs,
  };
}

function summarize(rounds: RoundFigures[]): Record<keyof RoundFigures, Spread> {
  const keys = Object.keys(rounds[0] ?? {}) as (keyof RoundFigures)[];
  return Object.fromEntries(keys.map((k) => [k, spread(rounds.map((r) => r[k]))])) as Record<keyof RoundFigures, Spread>;
}

async function main(): Promise<void> {
  scrubPluginEnv();
  const receivers = await startReceivers();
  const plugin = pluginHarness({
    baseUrl: "http://127.0.0.1:9/v1",
    agentTrace: true,
    otlpEndpoint: receivers.otlpUrl,
    toolEventsEndpoint: receivers.zmqEndpoint,
  });
  const noop = noopHarness(HOOK_NAMES);
  // Measure a long-running Gateway's steady state: every bounded map full, every insert evicting.
  const fill0 = performance.now();
  await fillToSteadyState(plugin);
  const fillSeconds = (performance.now() - fill0) / 1000;
  const steadySizes = plugin.services?.tree.sizes;

  // Warm-up (JIT, lazy zeromq load and connect, first export), not recorded.
  for (const h of [noop, plugin, noop, plugin]) await round_(h, Math.max(50, RUNS >> 2), false);
  // Count only the measured rounds: let the warm-up's last records land before resetting.
  await plugin.services?.flush();
  await new Promise((resolve) => setTimeout(resolve, 250));
  await receivers.reset();
  const relayBefore = plugin.services?.relay?.status();

  const { baseline: base, plugin: on } = await alternating(
    ROUNDS,
    () => round_(noop, RUNS, true),
    () => round_(plugin, RUNS, true),
  );

  // Delivery check: every tool event of the measured rounds reached the PULL.
  const toolEvents = ROUNDS * (RUNS * toolEventsPerRun(SHAPE) + TOOL_CPU_CALLS * 2);
  await plugin.services?.flush();
  const delivered = await receivers.waitRelay(toolEvents, 10_000);
  const relayAfter = plugin.services?.relay?.status();
  // Let exports still in flight settle before reading the exporter's counters (not part of any figure).
  const live = plugin.services?.tracing.exporter;
  for (let i = 0; i < 50 && live && live.ended > live.exported + live.failed; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  const exporter = { ...live };

  // The exit path in process: OpenClaw awaits agent_end before a one-shot CLI exits, and that is
  // where the plugin flushes. With a live receiver it is `runEndMeanUs` above; with a receiver
  // that accepts the export but never answers, the flush is cut at flushTimeoutMs (2 s).
  await receivers.otlpMode("hang");
  const hanging = allocTimings(HANGING_RUNS, SHAPE, true);
  for (let i = 0; i < HANGING_RUNS; i++) await runOnce(plugin, SHAPE, hanging);
  await receivers.otlpMode("ok");
  await plugin.services?.shutdown("bench");
  await receivers.close();

  const b = summarize(base);
  const p = summarize(on);
  const ratio = (k: keyof RoundFigures) => spread(on.map((o, i) => o[k] / (base[i]?.[k] ?? NaN)));
  const added = (k: keyof RoundFigures) => spread(on.map((o, i) => o[k] - (base[i]?.[k] ?? NaN)));
  const result = {
    config: { runs: RUNS, rounds: ROUNDS, shape: SHAPE, fillSeconds, steadySizes, toolEventsPerRound: RUNS * toolEventsPerRun(SHAPE), modelRequestsPerRound: RUNS * modelRequestsPerRun(SHAPE) },
    plugin: p,
    baseline: b,
    addedCpuPerRunUs: added("cpuPerRunUs"),
    addedModelMeanUs: added("modelMeanUs"),
    addedToolMeanUs: added("toolMeanUs"),
    loadAverage1m: loadavg()[0],
    cpuRatio: ratio("cpuPerRunUs"),
    relay: {
      expected: toolEvents,
      received: delivered.stats.relayMessages,
      sent: (relayAfter?.sent ?? 0) - (relayBefore?.sent ?? 0),
      dropped: (relayAfter?.dropped ?? 0) - (relayBefore?.dropped ?? 0),
      errors: (relayAfter?.errors ?? 0) - (relayBefore?.errors ?? 0),
    },
    otlp: { exported: exporter.exported ?? 0, failed: exporter.failed ?? 0, ended: exporter.ended ?? 0 },
    agentEndHangingReceiverMs: spread(Array.from(hanging.runEnd.subarray(0, hanging.runCount), (us) => us / 1000)),
  };
  if (process.stdout.isTTY || process.argv.includes("--print")) {
    console.log(`tool event   plugin mean ${fmt(p.toolMeanUs)} µs p99 ${fmt(p.toolP99Us)} µs cpu ${fmt(p.toolCpuUs)} | baseline mean ${fmt(b.toolMeanUs)} p99 ${fmt(b.toolP99Us)} cpu ${fmt(b.toolCpuUs)}`);
    console.log(`model req    plugin mean ${fmt(p.modelMeanUs)} µs p99 ${fmt(p.modelP99Us)} µs | baseline mean ${fmt(b.modelMeanUs)} p99 ${fmt(b.modelP99Us)}`);
    console.log(`run start    plugin mean ${fmt(p.runStartMeanUs)} µs | baseline ${fmt(b.runStartMeanUs)}`);
    console.log(`agent_end    plugin mean ${fmt(p.runEndMeanUs)} µs p99 ${fmt(p.runEndP99Us)} | baseline ${fmt(b.runEndMeanUs)}`);
    console.log(`cpu/run      plugin ${fmt(p.cpuPerRunUs, 0)} µs | baseline ${fmt(b.cpuPerRunUs, 0)} | added ${fmt(result.addedCpuPerRunUs, 0)}`);
    console.log(`relay        ${JSON.stringify(result.relay)} otlp ${JSON.stringify(result.otlp)}`);
    console.log(`agent_end with a hanging receiver: ${fmt(result.agentEndHangingReceiverMs, 0)} ms`);
  }
  emitResult(result);
}


await main();
process.exit(0);
