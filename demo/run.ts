/**
 * `npm run demo`: the whole product in one command.
 *
 * 1. Starts the bundled Dynamo simulator (OpenAI-compatible HTTP frontend + ZeroMQ tool-event PULL)
 *    and a local OTLP receiver (which can forward to the user's Jaeger / Phoenix).
 * 2. Runs the real `openclaw` CLI with this plugin in a throwaway state dir: a Gateway (subagents need
 *    one) and `openclaw agent` through it, with a scripted task (demo/scenario.ts).
 * 3. Asks the plugin for its status (`openclaw gateway call dynamo.status`), stops the Gateway.
 * 4. Prints the correlated trace as a waterfall, writes trace.otlp.json and trace.perfetto.json.
 * Everything it started is stopped and removed, also on Ctrl-C.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { OPENCLAW_ENTRY, REPO_ROOT } from "../test/e2e/harness/paths.ts";
import { startSimulator, type Simulator } from "../test/sim/index.ts";
import { parseDemoArgs, USAGE, UsageError, type DemoOptions } from "./args.ts";
import { startCollector, type Collector } from "./collector.ts";
import { printNextSteps } from "./hints.ts";
import { createOpenClawHome, tail, type OpenClawHome } from "./openclaw.ts";
import { mergeRequests } from "./otlp-json.ts";
import { toPerfetto } from "./perfetto.ts";
import { createProgress, type Progress } from "./progress.ts";
import { REAL_MODEL_TASK, SIMULATED_TASK, WORKSPACE_FILES } from "./scenario.ts";
import { formatStatus, type StatusPayload } from "./status.ts";
import { buildTraceModel, scenarioProblems, type TraceModel } from "./trace-model.ts";
import { createStyle, renderWaterfall } from "./waterfall.ts";

interface Started {
  sim?: Simulator;
  collector?: Collector;
  home?: OpenClawHome;
}

async function discoverModel(baseUrl: string, apiKey: string | undefined): Promise<string> {
  const url = `${baseUrl.replace(/\/+$/, "").replace(/(\/v1)?$/, "")}/v1/models`;
  const response = await fetch(url, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { data?: Array<{ id?: unknown }> };
  const id = body.data?.find((m) => typeof m.id === "string")?.id;
  if (typeof id !== "string") throw new Error(`${url} listed no models; pass --model <id>`);
  return id;
}

function counters(sim: Simulator | undefined, collector: Collector): string {
  const spans = collector.spans;
  const parts: string[] = [];
  // The simulator sees model calls as they happen; spans arrive when a run ends (its flush).
  if (sim) parts.push(`${sim.chatRequests().filter((r) => r.status === 200).length} model calls`, `${sim.relay.accepted.length} relay records`);
  else parts.push(`${spans.filter((s) => s.name.startsWith("chat ")).length} model calls`);
  parts.push(`${spans.length} spans exported`);
  return parts.join(" · ");
}

/** Lead, and when it spawned a subagent, the subagent and the announce run, all exported. */
function scenarioSettled(collector: Collector): boolean {
  const kinds = new Set(collector.spans.filter((s) => s.name.startsWith("invoke_agent")).map((s) => s.attributes["openclaw.run.kind"]));
  if (!kinds.has("lead")) return false;
  const spawned = collector.spans.some((s) => s.name === "execute_tool sessions_spawn");
  return !spawned || (kinds.has("subagent") && kinds.has("announce"));
}

async function main(argv: string[]): Promise<number> {
  let options: DemoOptions;
  try {
    options = parseDemoArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < 24 || (major === 24 && minor < 16)) {
    process.stderr.write(`The demo runs OpenClaw, which needs Node >= 24.16 (this is ${process.version}). Run it with: npm run demo\n`);
    return 2;
  }
  const color = options.color ?? process.stdout.isTTY === true;
  const progress = createProgress(process.stderr, options.color ?? process.stderr.isTTY === true);
  const started: Started = {};
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress.done(true);
    process.stderr.write(`\n${signal}: stopping everything the demo started…\n`);
    void cleanup(started, options, false).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  let ok = false;
  try {
    ok = await runDemo(options, started, progress, color);
  } catch (error) {
    progress.done(true);
    process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  } finally {
    if (!interrupted) await cleanup(started, options, ok);
  }
  return ok ? 0 : 1;
}

async function runDemo(options: DemoOptions, started: Started, progress: Progress, color: boolean): Promise<boolean> {
  const real = options.baseUrl !== undefined;
  progress.step(real ? "Starting the local tool-event receiver and OTLP receiver" : `Starting the Dynamo ${options.dynamoVersion} simulator and an OTLP receiver`);
  // The simulator always runs: with a real Dynamo only its ZeroMQ PULL is used (unless --zmq-endpoint).
  // A visible first-token delay and prompt-cache hits, so the waterfall's TTFT and cache columns say something.
  const sim = (started.sim = await startSimulator({
    generation: options.generation,
    serving: { firstTokenDelayMs: 150, chunkGapMs: 20, textChunks: 4, cachedTokens: 64 },
  }));
  const collector = (started.collector = await startCollector({
    ...(options.otlpEndpoint ? { forwardTo: options.otlpEndpoint, forwardHeaders: options.otlpHeaders } : {}),
    log: (line) => progress.note(line),
  }));
  const apiKey = process.env.DYNAMO_API_KEY;
  const model = options.model ?? (real ? await discoverModel(options.baseUrl!, apiKey) : "mock-model");
  const pluginConfig = {
    baseUrl: options.baseUrl ?? sim.baseUrl,
    agentTrace: true,
    protocol: options.protocol,
    toolEventsEndpoint: options.zmqEndpoint ?? sim.zmqEndpoint,
    otlpEndpoint: collector.url,
  };
  const home = (started.home = createOpenClawHome({
    pluginDir: options.pluginDir ?? REPO_ROOT,
    pluginConfig,
    model,
    workspaceFiles: WORKSPACE_FILES,
    openclawEntry: OPENCLAW_ENTRY,
    // The demo's receiver takes traces only (OTLP metrics: README "Metrics").
    env: { OTEL_METRICS_EXPORTER: "none", ...(real && apiKey ? { DYNAMO_API_KEY: apiKey } : {}) },
  }));
  progress.setCounters(() => counters(real ? undefined : sim, collector));

  progress.step("Starting an OpenClaw Gateway with the plugin (openclaw gateway run)");
  const gateway = await home.startGateway({ readyTimeoutMs: 120_000 });

  progress.step("Lead agent: read hello.txt, read missing.txt, spawn a subagent (openclaw agent)");
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const turn = await gateway.agent(real ? REAL_MODEL_TASK : SIMULATED_TASK, options.timeoutSeconds * 1000);
  if (turn.exitCode !== 0) {
    progress.done(true);
    throw new Error(`openclaw agent exited with ${turn.exitCode ?? turn.signal}:\n${tail(`${turn.stdout}\n${turn.stderr}`)}`);
  }

  progress.step("Subagent and announce run (the lead's turn has returned; OpenClaw continues in the background)");
  while (!scenarioSettled(collector) && Date.now() < deadline) await sleep(250);
  const settled = scenarioSettled(collector);
  if (!settled) progress.note(`  (gave up waiting after ${options.timeoutSeconds} s; showing what arrived)`);

  progress.step("Plugin status (openclaw gateway call dynamo.status)");
  const statusCall = await gateway.call("dynamo.status");
  const status = statusCall.exitCode === 0 ? (statusCall.json as StatusPayload) : undefined;
  if (!status) progress.note(`  dynamo.status failed:\n${tail(`${statusCall.stdout}\n${statusCall.stderr}`, 10)}`);

  progress.step("Stopping the Gateway (session end: Dynamo session-final / close, last flush)");
  const stop = await gateway.stop(20_000);
  // The shutdown flush is on its way; session-final requests go out during shutdown as well.
  await sleep(1_000);
  await collector.forwardsSettled();
  progress.done(!stop.graceful);

  const trace = buildTraceModel({ spans: collector.spans, sim: real ? undefined : sim, relay: sim.relay.accepted });
  const style = createStyle(color);
  process.stdout.write(`\n${renderWaterfall(trace, { style, width: process.stdout.columns ?? 120, generation: options.generation, simulated: !real })}\n`);
  if (status) process.stdout.write(`\n${formatStatus(status, style)}\n`);

  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const otlpFile = join(outDir, "trace.otlp.json");
  const perfettoFile = join(outDir, "trace.perfetto.json");
  writeFileSync(otlpFile, `${JSON.stringify(mergeRequests(collector.requests), null, 1)}\n`);
  writeFileSync(perfettoFile, `${JSON.stringify(toPerfetto(trace))}\n`);
  printNextSteps({ style, otlpFile: display(otlpFile), perfettoFile: display(perfettoFile), model: trace, collector, options });

  const problems = real ? [] : scenarioProblems(trace);
  if (!settled) problems.push("the scenario did not finish within --timeout");
  if (!stop.graceful) problems.push("the Gateway did not stop within 20 s and was killed");
  for (const problem of problems) process.stderr.write(`${style.red("✗")} ${problem}\n`);
  return problems.length === 0;
}

function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") ? path : `./${rel}`;
}

async function cleanup(started: Started, options: DemoOptions, ok: boolean): Promise<void> {
  await started.home?.stopAll(5_000).catch(() => undefined);
  await started.sim?.close().catch(() => undefined);
  await started.collector?.close().catch(() => undefined);
  if (!started.home) return;
  if (options.keep || !ok) {
    process.stderr.write(`OpenClaw config, state and logs kept in ${started.home.dir} (remove it with rm -rf when done)\n`);
  } else {
    started.home.remove();
  }
}

process.exitCode = await main(process.argv.slice(2));
