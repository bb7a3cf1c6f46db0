/**
 * The plugin's own start-up and exit cost, split by phase (bench/lib/startup-probe.ts): bundle
 * import, each `register()` call with the fresh import of the bundle OpenClaw makes for each of its
 * loads, model discovery, first-request setup, exit flush. Each sample is
 * a fresh Node process against one simulator (HTTP + ZeroMQ PULL + OTLP receiver) running here.
 * Target: import + all registrations ≤ 50 ms CPU.
 *
 * Standalone: `node bench/startup.ts [--quick] [--print]`.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startSimulator } from "../test/sim/index.ts";
import { emitResult, fmt, spread, type Spread } from "./lib/stats.ts";

const quick = process.argv.includes("--quick");
const SAMPLES = quick ? 3 : 11;
const PROBE = fileURLToPath(new URL("./lib/startup-probe.ts", import.meta.url));

interface Phase {
  cpuUs: number;
  wallMs: number;
}
interface Sample {
  import: Phase;
  registrations: Phase[];
  register: Phase;
  reimports: Phase[];
  discovery: Phase;
  firstRequestSetup: Phase;
  exitFlush: Phase;
  importAndRegisterCpuUs: number;
}

function probe(args: string[]): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PROBE, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      if (code !== 0) return reject(new Error(`startup probe exited ${code}: ${out.slice(-2000)}`));
      resolve(JSON.parse(line) as Sample);
    });
  });
}

const sim = await startSimulator({ generation: "headers" });
const samples: Sample[] = [];
try {
  for (let i = 0; i < SAMPLES; i++) samples.push(await probe([sim.baseUrl, sim.otlpUrl, sim.zmqEndpoint]));
} finally {
  await sim.close();
}

const ms = (values: number[]): Spread => spread(values.map((us) => us / 1000));
const phase = (pick: (s: Sample) => Phase) => ({ cpuMs: ms(samples.map((s) => pick(s).cpuUs)), wallMs: spread(samples.map((s) => pick(s).wallMs)) });
const result = {
  config: { samples: SAMPLES },
  import: phase((s) => s.import),
  registrations: [0, 1, 2].map((i) => phase((s) => s.registrations[i]!)),
  reimports: [0, 1].map((i) => phase((s) => s.reimports[i]!)),
  discovery: phase((s) => s.discovery),
  firstRequestSetup: phase((s) => s.firstRequestSetup),
  exitFlush: phase((s) => s.exitFlush),
  importAndRegisterCpuMs: ms(samples.map((s) => s.importAndRegisterCpuUs)),
};
if (process.stdout.isTTY || process.argv.includes("--print")) {
  const line = (name: string, p: { cpuMs: Spread; wallMs: Spread }) => console.log(`${name.padEnd(22)} CPU ${fmt(p.cpuMs, 2)} ms, wall ${fmt(p.wallMs, 2)} ms`);
  line("import", result.import);
  result.registrations.forEach((p, i) => {
    if (i > 0) line(`re-import #${i} (fresh copy)`, result.reimports[i - 1]!);
    line(`register #${i + 1} (${i === 0 ? "full" : "discovery"})`, p);
  });
  line("discovery", result.discovery);
  line("first-request setup", result.firstRequestSetup);
  line("exit flush", result.exitFlush);
  console.log(`import + re-imports + registrations CPU ${fmt(result.importAndRegisterCpuMs, 2)} ms (target ≤ 50)`);
}
emitResult(result);
process.exit(0);
