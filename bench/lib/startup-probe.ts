/**
 * One sample of the plugin's start-up cost, in a fresh Node process (module cache, JIT and heap
 * cold, as in a one-shot `openclaw agent --local`). Prints one JSON line: CPU µs and wall ms of
 * each phase OpenClaw goes through —
 *   import        loading the entry OpenClaw imports (dist/index.js), and with it the plugin's core
 *                 (dist/core.cjs, loaded once per process: docs/performance.md)
 *   register[i]   each `register()` call, in the modes OpenClaw uses (one `full`, two `discovery`)
 *   reimport[i]   the fresh module instance each `discovery` load imports first: OpenClaw 2026.9.6
 *                 captures the package into a new directory for every load, so each load compiles
 *                 and evaluates the entry again (and Node's compile cache, keyed by path, misses)
 *   discovery     the provider catalog (`GET /models` against the simulator)
 *   firstRequest  the first model request through the provider's stream wrapper, minus the second
 *   exitFlush     `shutdown("process exit")` after one run (spans to the OTLP receiver, relay closed)
 * Driven by bench/startup.ts, which runs the simulator in its own process and passes its addresses.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

const [baseUrl, otlpUrl, zmqEndpoint] = process.argv.slice(2);
if (!baseUrl || !otlpUrl || !zmqEndpoint) throw new Error("usage: startup-probe.ts <baseUrl> <otlpUrl> <zmqEndpoint>");

interface Phase {
  cpuUs: number;
  wallMs: number;
}
async function measure<T>(fn: () => T | Promise<T>): Promise<[T, Phase]> {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return [value, { cpuUs: c.user + c.system, wallMs: performance.now() - w0 }];
}

// What the host has loaded before it imports a plugin: OpenClaw's plugin SDK and Node's fetch
// (undici). Warmed here so their first-use cost is not charged to the plugin.
await import("openclaw/plugin-sdk/plugin-entry");
await (await fetch(`${baseUrl}/models`)).arrayBuffer();

const pluginDir = process.env.BENCH_PLUGIN_DIR ?? new URL("../../dist/", import.meta.url).pathname;
const [, importPhase] = await measure(() => import(pathToFileURL(join(pluginDir, "index.js")).href));
// The driver imports the same bundle (now cached) and provides OpenClaw-shaped payloads.
const driver = await import("./driver.ts");
driver.scrubPluginEnv();
const pluginConfig = { baseUrl, agentTrace: true, otlpEndpoint: otlpUrl, toolEventsEndpoint: zmqEndpoint };

/** A fresh copy of the bundle, as OpenClaw captures one per load (the package's node_modules linked). */
const captures: string[] = [];
function freshCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "openclaw-dynamo-capture-"));
  captures.push(dir);
  for (const file of ["index.js", "core.cjs"]) if (existsSync(join(pluginDir, file))) copyFileSync(join(pluginDir, file), join(dir, file));
  symlinkSync(fileURLToPath(new URL("../../node_modules", import.meta.url)), join(dir, "node_modules"), "dir");
  return pathToFileURL(join(dir, "index.js")).href;
}
type Entry = { default: { register(api: never): void } };

const registrations: Phase[] = [];
const reimports: Phase[] = [];
let registered: ReturnType<typeof driver.registerOnce> | undefined;
for (const mode of ["full", "discovery", "discovery"]) {
  let instance: Entry["default"] | undefined;
  if (mode === "discovery") {
    const url = freshCopy();
    const [mod, phase] = await measure(() => import(url) as Promise<Entry>);
    instance = mod.default;
    reimports.push(phase);
  }
  const [r, phase] = await measure(() => driver.registerOnce(pluginConfig, mode, instance as never));
  registered ??= r;
  registrations.push(phase);
}
for (const dir of captures) rmSync(dir, { recursive: true, force: true });
const provider = registered?.provider;
if (!provider?.wrapStreamFn || !provider.catalog) throw new Error("plugin registered no provider with wrapStreamFn and catalog");

const [catalog, discovery] = await measure(() => provider.catalog!.run({ config: {}, env: process.env }));
if (catalog.provider.models.length === 0) throw new Error("discovery returned no models from the simulator");

const hooks = registered!.hooks;
const harness = {
  kind: "plugin" as const,
  hooks,
  wrapStreamFn: provider.wrapStreamFn,
  services: undefined,
  hook: (name: string) => hooks.get(name) ?? (() => undefined),
};
// A run with one tool call: one model request before it, one after. Timed twice: the first run
// carries the lazy first-use setup (exporter, relay connection, span processors), the second not.
const shape = { toolCalls: 1, modelEvery: 1, sessions: 1 };
const [, firstRun] = await measure(() => driver.runOnce(harness, shape, driver.allocTimings(0, shape, false)));
const [, secondRun] = await measure(() => driver.runOnce(harness, shape, driver.allocTimings(0, shape, false)));
const services = driver.pluginServices();
if (!services) throw new Error("plugin services not built after two runs");
const [, exitFlush] = await measure(() => services.shutdown("process exit"));

const sum = (phases: Phase[]) => phases.reduce((a, b) => ({ cpuUs: a.cpuUs + b.cpuUs, wallMs: a.wallMs + b.wallMs }));
const register = sum(registrations);
const reimport = sum(reimports);
console.log(
  JSON.stringify({
    import: importPhase,
    registrations,
    register,
    reimports,
    reimport,
    discovery,
    firstRun,
    secondRun,
    firstRequestSetup: { cpuUs: firstRun.cpuUs - secondRun.cpuUs, wallMs: firstRun.wallMs - secondRun.wallMs },
    exitFlush,
    importAndRegisterCpuUs: importPhase.cpuUs + reimport.cpuUs + register.cpuUs,
  }),
);
process.exit(0);
