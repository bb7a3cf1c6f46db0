// Fault matrix, load row (SPEC §5, §8): 64 concurrent runs × 1 000 tool calls each through the hook
// path, with the relay and the OTLP exporter delivering to the Dynamo simulator. Below capacity,
// every relay record and every span is delivered (delivered = produced, nothing dropped or failed),
// and no id is mixed up between runs: each record and each tool span carries its own run's trace,
// agent span and trajectory. The producer backs off while the exporter's batch queue is deep (it
// holds 4 096 spans), which keeps the load below capacity the way real tool latency does.
// Accounting above capacity is in test/faults/relay.test.ts (stalled listener) and
// test/relay/processor.test.ts (queue full).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type OtlpSpan, type Simulator } from "../sim/index.ts";
import { endRun, exporterStatus, loadPlugin, startRun, toolCall, type LoadedPlugin } from "./harness.ts";

const RUNS = 64;
const CALLS = 1_000;
const runIds = (r: number) => ({ runId: `load-run-${r}`, sessionKey: `agent:main:load-${r}`, sessionId: `00000000-0000-4000-8000-${String(r).padStart(12, "0")}` });

describe("64 concurrent runs × 1 000 tool calls through the hook path", () => {
  let sim: Simulator;
  let plugin: LoadedPlugin;
  let producedMs = 0;

  beforeAll(async () => {
    sim = await startSimulator({ generation: "headers" });
    plugin = await loadPlugin({
      pluginConfig: { agentTrace: true, protocol: "headers", toolEventsEndpoint: sim.zmqEndpoint, otlpEndpoint: sim.otlpUrl, flushTimeoutMs: 30_000 },
    });
  });

  afterAll(async () => {
    await plugin?.dispose();
    await sim?.close();
  });

  it("delivers every relay record and span, with each record's ids matching its own run", async () => {
    const exporter = () => exporterStatus(plugin);
    const backlog = () => {
      const c = exporter();
      return c.ended - c.exported - c.failed;
    };
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: RUNS }, async (_, r) => {
        const run = runIds(r);
        await startRun(plugin, run, `load ${r}`);
        for (let i = 0; i < CALLS; i++) {
          const returned = await toolCall(plugin, run, {
            toolName: i % 10 === 0 ? "exec" : "read",
            toolCallId: `call-${r}-${i}`,
            params: { path: `f${i}` },
            ...(i % 97 === 0 ? { error: "boom" } : { result: { content: [{ type: "text", text: "x".repeat(i % 50) }] } }),
          });
          if (returned.some((value) => value !== undefined)) throw new Error("a hook returned something");
          // Let the relay pump and the exporter run; back off while the batch queue is deep.
          await new Promise((resolve) => setImmediate(resolve));
          while (backlog() > 2_048) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await endRun(plugin, run, `done ${r}`);
      }),
    );
    producedMs = performance.now() - t0;
    await plugin.services.flush();

    const producedRecords = RUNS * CALLS * 2;
    const producedSpans = RUNS * (CALLS + 1);
    await sim.waitFor(() => sim.relay.accepted.length + sim.relay.rejected.length >= producedRecords, 60_000, "every relay record");
    await sim.waitFor(() => sim.otlp.spans.length >= producedSpans, 60_000, "every span").catch((error: unknown) => {
      throw new Error(`${String(error)}; exporter ${JSON.stringify(exporter())}; plugin lines ${JSON.stringify(plugin.lines())}`);
    });

    // Counters: delivered = produced, nothing dropped, failed or pending.
    const relay = plugin.status().payload!.relay!;
    expect(relay).toMatchObject({ enqueued: producedRecords, sent: producedRecords, dropped: 0, errors: 0, pending: 0, undelivered: 0, skipped: 0 });
    expect(exporter()).toEqual(expect.objectContaining({ ended: producedSpans, exported: producedSpans, failed: 0 }));
    expect(sim.relay.rejected).toEqual([]);
    expect(sim.relay.accepted).toHaveLength(producedRecords);
    expect(sim.otlp.spans).toHaveLength(producedSpans);
    expect(plugin.lines()).toEqual([]);

    // Ids: every record and every tool span belongs to its own run.
    const agents = new Map<string, OtlpSpan>();
    for (const span of sim.otlp.spans) if (span.name === "invoke_agent main") agents.set(String(span.attributes["openclaw.run.id"]), span);
    expect(agents.size).toBe(RUNS);
    const trajectories = new Set<string>();
    for (const [, agent] of agents) trajectories.add(`${agent.traceId}-${agent.spanId}`);
    expect(trajectories.size).toBe(RUNS);
    const agentOfRun = (r: number) => agents.get(runIds(r).runId)!;

    const seen = new Map<string, string[]>();
    for (const message of sim.relay.accepted) {
      const record = message.record as { event_type: string; session_id: string; tool: { tool_call_id: string; status: string } };
      const [, r] = /^call-(\d+)-\d+$/.exec(record.tool.tool_call_id) ?? [];
      const agent = agentOfRun(Number(r));
      expect(record.session_id, record.tool.tool_call_id).toBe(`${agent.traceId}-${agent.spanId}`);
      const events = seen.get(record.tool.tool_call_id) ?? [];
      events.push(record.event_type);
      seen.set(record.tool.tool_call_id, events);
    }
    expect(seen.size).toBe(RUNS * CALLS);
    for (const [callId, events] of seen) {
      const i = Number(callId.split("-")[2]);
      expect(events, callId).toEqual(["tool_start", i % 97 === 0 ? "tool_error" : "tool_end"]);
    }

    let toolSpans = 0;
    for (const span of sim.otlp.spans) {
      if (span.attributes["gen_ai.operation.name"] !== "execute_tool") continue;
      toolSpans++;
      const callId = String(span.attributes["gen_ai.tool.call.id"]);
      const agent = agentOfRun(Number(callId.split("-")[1]));
      expect(span.traceId, callId).toBe(agent.traceId);
      expect(span.parentSpanId, callId).toBe(agent.spanId);
      expect(span.attributes["dynamo.trajectory_id"], callId).toBe(`${agent.traceId}-${agent.spanId}`);
      expect(span.attributes["session.id"], callId).toBe(agent.attributes["session.id"]);
    }
    expect(toolSpans).toBe(RUNS * CALLS);
    console.log(`load: ${producedRecords} relay records and ${producedSpans} spans produced in ${Math.round(producedMs)} ms`);
  }, 300_000);
});
