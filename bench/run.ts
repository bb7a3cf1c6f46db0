/**
 * `npm run bench [-- --quick]`: runs each benchmark in its own Node process (own heap, own flags),
 * prints one table, and writes bench/results.json (the headline figures, numbers only, plus
 * `machine`) and bench/results.detail.json (everything each benchmark reported, with min–max).
 *
 * Every figure is measured side by side with its baseline in the same process and time window,
 * and reported as the median over repeated rounds with (min–max): this machine is shared.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { fmt, RESULT_MARKER, round, type Spread } from "./lib/stats.ts";

const quick = process.argv.includes("--quick");
const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
const HERE = fileURLToPath(new URL(".", import.meta.url));

interface Child {
  name: string;
  file: string;
  flags?: string[];
}

const BENCHES: Child[] = [
  { name: "hook-path", file: "hook-path.ts" },
  { name: "relay", file: "relay.ts", flags: ["--expose-gc"] },
  { name: "memory", file: "memory.ts", flags: ["--expose-gc"] },
  { name: "startup", file: "startup.ts" },
  { name: "e2e", file: "e2e.ts" },
  { name: "chunk", file: "chunk.ts" },
];

function runChild(child: Child): Promise<{ result: unknown; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const args = [...(child.flags ?? []), `${HERE}${child.file}`, ...(quick ? ["--quick"] : [])];
    const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], env: process.env });
    let out = "";
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (chunk: string) => {
      out += chunk;
    });
    proc.on("error", reject);
    proc.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || !line) {
        reject(new Error(`${child.name} failed (exit ${code}):\n${out.slice(-4000)}`));
        return;
      }
      resolve({ result: JSON.parse(line.slice(RESULT_MARKER.length)), seconds: (Date.now() - started) / 1000 });
    });
  });
}

function machine(): string {
  const cpu = cpus();
  const model = (cpu[0]?.model ?? "unknown cpu").replace(/\s+/g, " ").replace(/\(R\)|\(TM\)| CPU| Processor/g, "").trim();
  return `${model} ×${cpu.length}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release().split("-")[0]}, Node ${process.version}`;
}

type Any = Record<string, any>;

async function main(): Promise<void> {
  const load0 = loadavg()[0] ?? NaN;
  const detail: Any = { quick, machine: machine(), startedAt: new Date().toISOString(), loadAverage1mAtStart: round(load0, 2), benches: {} };
  console.error(`[bench] ${quick ? "quick" : "full"} run on ${detail.machine}; 1-min load average ${load0.toFixed(2)}`);
  for (const bench of BENCHES) {
    if (only && !only.includes(bench.name)) continue;
    console.error(`[bench] ${bench.name} …`);
    const { result, seconds } = await runChild(bench);
    detail.benches[bench.name] = { ...(result as Any), seconds: round(seconds, 1), loadAverage1mAfter: round(loadavg()[0] ?? NaN, 2) };
    console.error(`[bench] ${bench.name} done in ${seconds.toFixed(0)} s (load ${(loadavg()[0] ?? NaN).toFixed(2)})`);
  }
  detail.finishedAt = new Date().toISOString();

  const h: Any | undefined = detail.benches["hook-path"];
  const r: Any | undefined = detail.benches.relay;
  const m: Any | undefined = detail.benches.memory;
  const e: Any | undefined = detail.benches.e2e;
  const st: Any | undefined = detail.benches.startup;
  const c: Any | undefined = detail.benches.chunk;

  const results = {
    toolEventMeanUs: round(h?.plugin.toolMeanUs.median, 2),
    toolEventP99Us: round(h?.plugin.toolP99Us.median, 2),
    modelRequestMeanUs: round(h?.addedModelMeanUs.median, 2),
    relayEventsPerSec: Math.round(r?.plugin.eventsPerSec.median),
    relayLost: r?.plugin.lostTotal,
    heapGrowthMB: round(m?.plugin.growthMB, 2),
    e2eRatio: round(e?.ratio.median, 3),
    e2eOnVsNoneRatio: round(e?.onVsNone.wall.median, 3),
    e2eOnVsNoneCpuRatio: round(e?.onVsNone.cpu.median, 3),
    e2eOffVsNoneRatio: round(e?.offVsNone.wall.median, 3),
    e2eOffVsNoneCpuRatio: round(e?.offVsNone.cpu.median, 3),
    e2eEmptyVsNoneCpuRatio: round(e?.emptyVsNone?.cpu.median, 3),
    e2eOnVsEmptyCpuRatio: round(e?.onVsEmpty?.cpu.median, 3),
    startupCpuMs: round(st?.importAndRegisterCpuMs.median, 2),
    exitFlushLiveMs: Math.round(e?.addedExitLagMs.live),
    exitFlushHangingMs: Math.round(e?.addedExitLagMs.hanging),
    chunkOverheadUs: round(c?.addedUsPerChunk.median, 3),
    machine: detail.machine as string,
  };
  if (!only) {
    writeFileSync(`${HERE}results.json`, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(`${HERE}results.detail.json`, `${JSON.stringify(detail, null, 2)}\n`);
  }
  printTable(results, detail);
}

function printTable(results: Record<string, number | string>, d: Any): void {
  const h = d.benches["hook-path"];
  const r = d.benches.relay;
  const m = d.benches.memory;
  const e = d.benches.e2e;
  const st = d.benches.startup;
  const c = d.benches.chunk;
  const s = (x: Spread | undefined, digits = 2, unit = "") => (x ? fmt(x, digits, unit) : "—");
  const met = (ok: boolean | undefined) => (ok === undefined ? "" : ok ? "yes" : "NO");
  const rows: string[][] = [["Figure", "Plugin (median, min–max)", "Baseline, same run", "Target", "Met"]];
  if (h) {
    rows.push(["1. tool event, mean µs", s(h.plugin.toolMeanUs), `no-op ${s(h.baseline.toolMeanUs)}`, "≤ 5", met(h.plugin.toolMeanUs.median <= 5)]);
    rows.push(["   tool event, p99 µs", s(h.plugin.toolP99Us), `no-op ${s(h.baseline.toolP99Us)}`, "≤ 25", met(h.plugin.toolP99Us.median <= 25)]);
    rows.push(["   tool event, CPU µs (chunked)", s(h.plugin.toolCpuUs), `no-op ${s(h.baseline.toolCpuUs)}`, "", ""]);
    rows.push(["   model request, mean µs (added)", s(h.addedModelMeanUs), `fake transport ${s(h.baseline.modelMeanUs)}`, "≤ 50", met(h.addedModelMeanUs.median <= 50)]);
    rows.push(["   model request, p99 µs", s(h.plugin.modelP99Us), `${s(h.baseline.modelP99Us)}`, "", ""]);
    rows.push(["   run start / agent_end+flush µs", `${s(h.plugin.runStartMeanUs, 0)} / ${s(h.plugin.runEndMeanUs, 0)}`, `${s(h.baseline.runStartMeanUs)} / ${s(h.baseline.runEndMeanUs)}`, "", ""]);
    rows.push(["   process CPU per run µs (all-in)", s(h.plugin.cpuPerRunUs, 0), `no-op ${s(h.baseline.cpuPerRunUs, 0)}`, "", ""]);
  }
  if (r) {
    rows.push(["2. relay events/s to local PULL", s(r.plugin.eventsPerSec, 0), `bare zeromq.js PUSH ${s(r.baseline.eventsPerSec, 0)}`, "≥ 500000", met(r.plugin.eventsPerSec.median >= 500_000)]);
    rows.push(["   relay lost (below capacity)", `${r.plugin.lostTotal} of ${r.plugin.sentTotal}`, `${r.baseline.lostTotal}`, "0", met(r.plugin.lostTotal === 0)]);
    rows.push(["   relay sender CPU µs/event", s(r.plugin.senderCpuUs), s(r.baseline.senderCpuUs), "", ""]);
  }
  if (m) {
    rows.push([`3. heap growth MB (${m.config.toolEvents / 1e6} M events / ${m.config.runs / 1e3} k runs)`, `${m.plugin.growthMB.toFixed(2)} (${m.plugin.beforeMB.toFixed(1)} → ${m.plugin.checkpointsMB.map((v: number) => v.toFixed(1)).join(" → ")})`, `no-op ${m.baseline.growthMB.toFixed(2)}`, "≤ 5", met(m.plugin.growthMB <= 5)]);
  }
  if (st) {
    rows.push(["   start-up CPU ms: import + registrations", s(st.importAndRegisterCpuMs), `import ${s(st.import.cpuMs)}, register ${st.registrations.map((r: Any) => s(r.cpuMs)).join(" / ")}`, "≤ 50", met(st.importAndRegisterCpuMs.median <= 50)]);
    rows.push(["   discovery / first request / exit flush CPU ms", `${s(st.discovery.cpuMs)} / ${s(st.firstRequestSetup.cpuMs)} / ${s(st.exitFlush.cpuMs)}`, "", "", ""]);
  }
  if (e) {
    const n = e.config.rounds;
    rows.push([`4. e2e on/none wall (${n} rounds, K=${e.config.reads})`, s(e.onVsNone.wall, 3), `none ${s(e.wallMs.none, 0)} ms, on ${s(e.wallMs.on, 0)} ms`, "≤ 1.02", met(e.onVsNone.wall.median <= 1.02)]);
    rows.push(["   e2e on/none CPU", s(e.onVsNone.cpu, 3), `none ${s(e.cpuMs.none, 0)} ms, on ${s(e.cpuMs.on, 0)} ms`, "≤ 1.03", met(e.onVsNone.cpu.median <= 1.03)]);
    rows.push(["   e2e off/none wall / CPU", `${s(e.offVsNone.wall, 3)} / ${s(e.offVsNone.cpu, 3)}`, `off ${s(e.wallMs.off, 0)} ms, ${s(e.cpuMs.off, 0)} ms CPU`, "≤ 1.01", met(e.offVsNone.wall.median <= 1.01)]);
    rows.push(["   e2e on/off wall", s(e.ratio, 3), "", "", ""]);
    if (e.emptyVsNone) {
      rows.push(["   e2e empty plugin/none wall / CPU", `${s(e.emptyVsNone.wall, 3)} / ${s(e.emptyVsNone.cpu, 3)}`, `OpenClaw's cost of any plugin; empty ${s(e.cpuMs.empty, 0)} ms CPU`, "", ""]);
      rows.push(["   e2e on/empty plugin wall / CPU", `${s(e.onVsEmpty.wall, 3)} / ${s(e.onVsEmpty.cpu, 3)}`, "this plugin over an empty one", "", ""]);
    }
    rows.push(["5. exit lag added, live receiver ms", `${results.exitFlushLiveMs} (on ${s(e.exitLagMs.on, 0)})`, `none ${s(e.exitLagMs.none, 0)}`, "≤ 100", met(e.addedExitLagMs.live <= 100)]);
    rows.push(["   exit lag added, hanging receiver ms", `${results.exitFlushHangingMs} (hanging ${s(e.exitLagMs.hanging, 0)})`, `none ${s(e.exitLagMs.none, 0)}`, "≤ 2500", met(e.addedExitLagMs.hanging <= 2500)]);
  }
  if (c) {
    rows.push(["6. stream chunk overhead, mean µs", s(c.addedUsPerChunk, 3), `plain read ${s(c.baselineUsPerChunk, 3)}`, "≤ 0.5", met(c.addedUsPerChunk.median <= 0.5)]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  console.log(`\nopenclaw-dynamo bench (${d.quick ? "quick" : "full"}) — ${d.machine}; load ${d.loadAverage1mAtStart} at start`);
  console.log(line(rows[0]!));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows.slice(1)) console.log(line(row));
  console.log(`\nresults: ${JSON.stringify(results)}`);
}

await main();
