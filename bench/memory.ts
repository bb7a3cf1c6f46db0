/**
 * Figure 3 — memory. Heap after full GC before and after 1 M tool events over 10 k runs (quick:
 * 100 k over 1 k), with the whole plugin on (span tree, relay to a counting PULL, OTLP to a local
 * receiver), against the same loop with no-op handlers. Bounded state means the growth stays a
 * few MB whatever the number of events; checkpoints at every quarter show whether it plateaus.
 *
 * Needs `--expose-gc` (bench/run.ts passes it). Standalone: `node --expose-gc bench/memory.ts [--quick]`.
 */
import { writeHeapSnapshot } from "node:v8";
import { allocTimings, HOOK_NAMES, noopHarness, pluginHarness, runOnce, scrubPluginEnv, toolEventsPerRun, type Harness, type RunShape } from "./lib/driver.ts";
import { startReceivers } from "./lib/receiver-client.ts";
import { emitResult, round } from "./lib/stats.ts";

const quick = process.argv.includes("--quick");
const snapshot = process.argv.includes("--snapshot");
const RUNS = quick ? 1_000 : 10_000;
/** 100 tool events (50 tool calls) per run; a model request before every 5th tool call, plus the answer. */
const SHAPE: RunShape = { toolCalls: 50, modelEvery: 5, sessions: 1_000_000 };
const WARMUP_RUNS = 200;
const CHECKPOINTS = 4;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

async function heapMB(): Promise<number> {
  // Several full GCs with turns in between (finalizers, weak callbacks, zeromq's trash).
  for (let i = 0; i < 4; i++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function measure(h: Harness): Promise<{ beforeMB: number; afterMB: number; checkpointsMB: number[]; seconds: number; rssMB: number }> {
  const t = allocTimings(0, SHAPE, false);
  for (let i = 0; i < WARMUP_RUNS; i++) await runOnce(h, SHAPE, t);
  if (h.services) await h.services.flush();
  const beforeMB = await heapMB();
  const checkpointsMB: number[] = [];
  const started = Date.now();
  const per = Math.ceil(RUNS / CHECKPOINTS);
  for (let done = 0; done < RUNS; ) {
    const end = Math.min(RUNS, done + per);
    for (; done < end; done++) await runOnce(h, SHAPE, t);
    if (h.services) await h.services.flush();
    checkpointsMB.push(await heapMB());
  }
  const seconds = (Date.now() - started) / 1000;
  const afterMB = checkpointsMB[checkpointsMB.length - 1] ?? NaN;
  return { beforeMB, afterMB, checkpointsMB, seconds, rssMB: process.memoryUsage().rss / 1024 / 1024 };
}

async function main(): Promise<void> {
  scrubPluginEnv();
  const receivers = await startReceivers();
  const baseline = await measure(noopHarness(HOOK_NAMES));
  const plugin = pluginHarness({
    baseUrl: "http://127.0.0.1:9/v1",
    agentTrace: true,
    otlpEndpoint: receivers.otlpUrl,
    toolEventsEndpoint: receivers.zmqEndpoint,
  });
  const on = await measure(plugin);
  if (snapshot) console.error(`heap snapshot: ${writeHeapSnapshot()}`);
  const status = plugin.services?.status();
  await plugin.services?.shutdown("bench");
  await receivers.close();
  const toolEvents = RUNS * toolEventsPerRun(SHAPE);
  const result = {
    config: { runs: RUNS, toolEvents, warmupRuns: WARMUP_RUNS, shape: SHAPE },
    plugin: { ...on, growthMB: on.afterMB - on.beforeMB },
    baseline: { ...baseline, growthMB: baseline.afterMB - baseline.beforeMB },
    spanTree: status?.spanTree,
    relay: status?.relay ? { sent: status.relay.sent, dropped: status.relay.dropped, errors: status.relay.errors } : undefined,
    exporter: status ? { exported: status.exporter.exported, failed: status.exporter.failed } : undefined,
  };
  if (process.stdout.isTTY || process.argv.includes("--print")) {
    console.log(
      `plugin: ${round(on.beforeMB, 1)} MB → ${on.checkpointsMB.map((v) => round(v, 1)).join(" → ")} MB (growth ${round(result.plugin.growthMB, 2)} MB, ${round(on.seconds, 1)} s); ` +
        `baseline growth ${round(result.baseline.growthMB, 2)} MB; tree ${JSON.stringify(result.spanTree)}`,
    );
  }
  emitResult(result);
}

await main();
process.exit(0);
