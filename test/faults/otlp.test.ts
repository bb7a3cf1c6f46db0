// Fault matrix, OTLP collector rows (SPEC §7, §8), through the whole plugin: connection refused,
// 429 with retry-after (persistent, and transient), and a collector that drops the connection
// mid-export. The run is never affected, each cause is one log line, and at every moment
// `ended = exported + failed + (queued or in flight)`; what is still queued at shutdown is reported.
//
// Already covered elsewhere (not repeated here): a 500-answering collector counts failed spans and
// logs the cause once, and a collector that accepts and never answers bounds flush and shutdown and
// reports the undelivered spans (test/trace/export.test.ts); the same hang under a gateway stop
// (test/faults/lifecycle.test.ts) and with the real CLI (test/e2e/local-trace.test.ts "D").
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../e2e/harness/ports.ts";
import { startSimulator, waitFor, type Simulator } from "../sim/index.ts";
import { endRun, exporterStatus as exporter, loadPlugin, startRun, toolCall, type LoadedPlugin } from "./harness.ts";

const SESSION = "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e";
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/**
 * A plugin exporting to `otlpEndpoint`, in a long-lived Gateway process by default (there the
 * exporter's own failure line is the report); `oneShot` models `agent --local`, where the flush at
 * the end of the run is the last chance to report spans that were not confirmed.
 */
async function setup(otlpEndpoint: string, extra: Record<string, unknown> = {}, oneShot = false): Promise<LoadedPlugin> {
  const p = await loadPlugin({ pluginConfig: { otlpEndpoint, flushTimeoutMs: 500, otlpTimeoutMs: 2_500, ...extra } });
  cleanup.push(() => p.dispose());
  if (!oneShot) await p.fire("gateway_start", { port: 1 }, { port: 1 });
  return p;
}

async function sim(): Promise<Simulator> {
  const s = await startSimulator({ generation: "headers" });
  cleanup.push(() => s.close());
  return s;
}

let runCounter = 0;
/** One run with one tool call: two spans (agent, tool). Returns what the hooks returned. */
async function run(p: LoadedPlugin): Promise<unknown[]> {
  const ids = { runId: `run-${++runCounter}`, sessionId: SESSION };
  await startRun(p, ids);
  const returned = await toolCall(p, ids, { toolName: "read", toolCallId: `call_${runCounter}`, params: { path: "a" }, result: "ok" });
  await endRun(p, ids); // awaits the bounded flush, as OpenClaw awaits agent_end
  return returned;
}

const exportLines = (p: LoadedPlugin) => p.lines().filter((line) => line.includes("OTLP export"));

describe("OTLP collector faults", () => {
  it("accepts and never answers (one-shot CLI): runs unaffected, flushes bounded, one line when a flush cannot confirm, spans counted", async () => {
    const s = await sim();
    s.faults.otlp({ mode: "hang" });
    const p = await setup(s.otlpUrl, { otlpTimeoutMs: 60_000 }, true);
    const t0 = performance.now();
    for (let i = 0; i < 2; i++) expect((await run(p)).every((value) => value === undefined)).toBe(true);
    // Two runs, each ending with a flush bounded at 500 ms (generous slack for a loaded machine).
    expect(performance.now() - t0).toBeLessThan(5_000);
    const lines = exportLines(p);
    expect(lines, p.lines().join("\n")).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[dynamo\] OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces: 2 span\(s\) not confirmed within 500 ms \(is the collector answering\?\)/);
    expect(exporter(p)).toMatchObject({ ended: 4, exported: 0, failed: 0 });
    await p.services.shutdown("test");
    expect(exportLines(p).at(-1)).toMatch(/: 0 spans exported, 0 failed, 4 not delivered at shutdown\.$/);
  }, 30_000);

  it("connection refused: runs unaffected, every span counted as failed, one line for the cause", async () => {
    const p = await setup(`http://127.0.0.1:${await freePort()}/v1/traces`);

    for (let i = 0; i < 3; i++) expect((await run(p)).every((value) => value === undefined)).toBe(true);
    const counters = await waitFor(() => {
      const c = exporter(p);
      return c.failed === c.ended && c.ended > 0 ? c : undefined;
    }, 10_000, "every span to fail");
    expect(counters).toMatchObject({ enabled: true, ended: 6, exported: 0, failed: 6 });
    expect(counters.lastError).toMatch(/ECONNREFUSED|connect/i);
    const lines = exportLines(p);
    expect(lines, p.lines().join("\n")).toHaveLength(1);
    expect(lines[0]).toMatch(/OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed: .+ \(spans are counted, the run is unaffected\)\.$/);
    await p.services.shutdown("test");
    // The shutdown summary adds the totals; still nothing unaccounted.
    expect(exportLines(p).at(-1)).toMatch(/: 0 spans exported, 6 failed, 0 not delivered at shutdown\.$/);
  }, 30_000);

  it("429 with retry-after that persists: retried within the export timeout, then counted as failed, one line", async () => {
    const s = await sim();
    s.faults.otlp({ mode: "status", status: 429, headers: { "retry-after": "1" } });
    const p = await setup(s.otlpUrl);
    expect((await run(p)).every((value) => value === undefined)).toBe(true);
    const counters = await waitFor(() => (exporter(p).failed > 0 ? exporter(p) : undefined), 10_000, "the export to give up");
    expect(counters).toMatchObject({ ended: 2, exported: 0, failed: 2 });
    expect(s.otlp.exports.length, "the exporter honours 429 by retrying").toBeGreaterThan(1);
    expect(s.otlp.exports.every((e) => e.status === 429)).toBe(true);
    expect(exportLines(p)).toHaveLength(1);

    // The collector recovers: later spans are exported, earlier ones stay counted as failed.
    s.faults.otlp({ mode: "ok" });
    await run(p);
    const after = await waitFor(() => (exporter(p).exported === 2 ? exporter(p) : undefined), 10_000, "the next export");
    expect(after).toMatchObject({ ended: 4, exported: 2, failed: 2 });
    expect(s.otlp.spans.map((span) => span.name).sort()).toEqual(["execute_tool read", "invoke_agent main"]);
  }, 30_000);

  it("a transient 429 loses nothing: the retry delivers the spans and nothing is logged", async () => {
    const s = await sim();
    s.faults.otlp({ mode: "status", status: 429, headers: { "retry-after": "1" } });
    const p = await setup(s.otlpUrl, { otlpTimeoutMs: 8_000 });
    await run(p);
    await waitFor(() => s.otlp.exports.length >= 1, 5_000, "the first export attempt");
    s.faults.otlp({ mode: "ok" });
    const counters = await waitFor(() => (exporter(p).exported === 2 ? exporter(p) : undefined), 10_000, "the retried export");
    expect(counters).toMatchObject({ ended: 2, exported: 2, failed: 0 });
    expect(s.otlp.exports.map((e) => e.status)).toEqual([429, 200]);
    expect(exportLines(p)).toEqual([]);
  }, 30_000);

  it("collector drops the connection mid-export: counted, one line, runs unaffected", async () => {
    const s = await sim();
    s.faults.otlp({ mode: "drop" });
    const p = await setup(s.otlpUrl);
    for (let i = 0; i < 2; i++) expect((await run(p)).every((value) => value === undefined)).toBe(true);
    const counters = await waitFor(() => {
      const c = exporter(p);
      return c.ended === 4 && c.exported + c.failed === 4 ? c : undefined;
    }, 15_000, "every span to be settled");
    expect(counters).toMatchObject({ exported: 0, failed: 4 });
    expect(s.otlp.exports.length).toBeGreaterThan(0);
    expect(s.otlp.exports.every((e) => e.status === -1)).toBe(true);
    expect(exportLines(p), p.lines().join("\n")).toHaveLength(1);
  }, 30_000);
});
