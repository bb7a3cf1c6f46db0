import { randomBytes } from "node:crypto";
// Bounded correlation state: BoundedMap itself, and the span tree's maps under runs whose end hook
// never arrives (a long-lived Gateway must not leak memory or lose spans).
import { trace } from "@opentelemetry/api";
import { SamplingDecision, TracerProvider, type ReadableSpan, type Sampler, type SpanProcessor } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { BoundedMap } from "../../src/trace/bounded-map.ts";
import * as hooks from "../../src/trace/hooks.ts";
import { ReservableIdGenerator } from "../../src/trace/id-generator.ts";
import { SpanTree } from "../../src/trace/span-tree.ts";

describe("BoundedMap", () => {
  it("evicts the oldest-touched entry beyond capacity and reports it", () => {
    const evicted: Array<[string, number]> = [];
    const map = new BoundedMap<string, number>({ capacity: 3, ttlMs: 60_000, onEvict: (key, value) => evicted.push([key, value]) });
    map.set("a", 1, 0);
    map.set("b", 2, 1);
    map.set("c", 3, 2);
    expect(map.size).toBe(3);
    map.set("d", 4, 3);
    expect(evicted).toEqual([["a", 1]]);
    expect([...map.values()]).toEqual([2, 3, 4]);
    // Setting again touches: "b" is now the newest, so "c" goes next.
    map.set("b", 22, 4);
    map.set("e", 5, 5);
    expect(evicted).toEqual([
      ["a", 1],
      ["c", 3],
    ]);
    expect([...map.values()]).toEqual([4, 22, 5]);
    expect(map.size).toBe(3);
    expect(map.evicted).toBe(2);
    expect(map.has("c")).toBe(false);
    expect(map.get("b")).toBe(22);
  });

  it("sweeps entries older than the TTL, keeping those exactly at the cutoff", () => {
    const evicted: string[] = [];
    const map = new BoundedMap<string, string>({ capacity: 100, ttlMs: 1_000, onEvict: (key) => evicted.push(key) });
    map.set("a", "A", 0);
    map.set("b", "B", 500);
    map.sweep(1_000);
    expect(evicted).toEqual([]);
    map.sweep(1_001);
    expect(evicted).toEqual(["a"]);
    expect(map.get("a")).toBeUndefined();
    map.sweep(1_501);
    expect(evicted).toEqual(["a", "b"]);
    expect(map.size).toBe(0);
    expect(map.evicted).toBe(2);
  });

  it("sweeps by itself every 256 writes", () => {
    const evicted: string[] = [];
    const map = new BoundedMap<string, number>({ capacity: 10_000, ttlMs: 1_000, onEvict: (key) => evicted.push(key) });
    map.set("old", 0, 0);
    for (let i = 1; i < 255; i++) map.set(`k${i}`, i, 5_000);
    expect(evicted).toEqual([]); // 255 writes so far
    map.set("k255", 255, 5_000); // the 256th write sweeps
    expect(evicted).toEqual(["old"]);
    expect(map.size).toBe(255);
  });

  it("deletes without calling onEvict", () => {
    const evicted: string[] = [];
    const map = new BoundedMap<string, number>({ capacity: 2, ttlMs: 1_000, onEvict: (key) => evicted.push(key) });
    map.set("a", 1);
    expect(map.delete("a")).toBe(true);
    expect(map.delete("a")).toBe(false);
    expect(evicted).toEqual([]);
    expect(map.evicted).toBe(0);
  });
});

describe("span tree state stays bounded", () => {
  let provider: TracerProvider | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await provider?.shutdown();
    provider = undefined;
  });

  function setup(options: { recordOnly?: string } = {}) {
    const { config } = loadConfig({}, {});
    const idGenerator = new ReservableIdGenerator();
    const ended: ReadableSpan[] = [];
    const collector: SpanProcessor = {
      onStart: () => {},
      onEnd: (span) => ended.push(span),
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    const prefix = options.recordOnly;
    const sampler: Sampler = {
      shouldSample: (_context, _traceId, name) => ({
        decision: prefix === undefined || name.startsWith(prefix) ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD,
      }),
      toString: () => "test",
    };
    provider = new TracerProvider({ idGenerator, sampler, spanProcessors: [collector] });
    const endedRuns: string[] = [];
    const tree = new SpanTree({ tracer: provider.getTracer("test"), idGenerator, config, onRunEnded: (run) => endedRuns.push(run.runId) });
    return { tree, ended, endedRuns };
  }

  const ctx = (runId: string, n = 0) => ({ runId, agentId: "main", sessionKey: `agent:main:s${n}`, sessionId: `session-${n}`, trace: { traceId: randomBytes(16).toString("hex") } });
  const start = (tree: SpanTree, runId: string, n = 0) => hooks.onRunStart(tree, { prompt: "hi" }, ctx(runId, n));
  const agentEnded = (ended: ReadableSpan[], runId: string) =>
    ended.filter((span) => span.name === "invoke_agent main" && span.attributes["openclaw.run.id"] === runId);

  it("ends a run evicted by the TTL without agent_end, marking end_observed=false", () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-11-01T00:00:00Z") });
    const { tree, ended, endedRuns } = setup();
    start(tree, "lost-run");
    expect(agentEnded(ended, "lost-run")).toHaveLength(0);
    vi.setSystemTime(new Date("2026-11-01T00:31:00Z"));
    // Activity of other runs drives the periodic sweep.
    for (let i = 0; i < 256; i++) start(tree, `busy-${i}`, i + 1);
    const [lost] = agentEnded(ended, "lost-run");
    expect(lost?.attributes["openclaw.run.end_observed"]).toBe(false);
    expect(endedRuns).toEqual(["lost-run"]);
    // Remembered as ended (for late hooks), no longer open.
    expect(tree.getRun("lost-run")?.ended).toBe(true);
    expect(tree.openRuns().map((run) => run.runId)).not.toContain("lost-run");
  });

  it("does not evict a long run that is still active (hooks keep it alive)", () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-11-01T00:00:00Z") });
    const { tree, ended } = setup();
    start(tree, "long-run");
    for (let minute = 20; minute <= 80; minute += 20) {
      vi.setSystemTime(new Date(Date.parse("2026-11-01T00:00:00Z") + minute * 60_000));
      const id = `call_${minute}`;
      hooks.onBeforeToolCall(tree, { toolName: "read", runId: "long-run", toolCallId: id, params: {} }, ctx("long-run"));
      hooks.onAfterToolCall(tree, { toolName: "read", runId: "long-run", toolCallId: id, result: "ok" }, ctx("long-run"));
      for (let i = 0; i < 256; i++) start(tree, `busy-${minute}-${i}`, i + 1);
    }
    hooks.onAgentEnd(tree, { runId: "long-run", success: true, messages: [] }, ctx("long-run"));
    const runs = agentEnded(ended, "long-run");
    expect(runs).toHaveLength(1);
    expect(runs[0]!.attributes["openclaw.run.end_observed"]).toBeUndefined();
    const tools = ended.filter((span) => span.name === "execute_tool read");
    expect(tools).toHaveLength(4);
    expect(new Set(tools.map((span) => span.parentSpanContext?.spanId))).toEqual(new Set([runs[0]!.spanContext().spanId]));
  });

  it("ends an open chat evicted by the TTL instead of losing it", () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-11-01T00:00:00Z") });
    const { tree, ended } = setup();
    start(tree, "lost-run");
    tree.startChat("lost-run:model:1", { sessionId: "session-0", model: "mock-model" });
    vi.setSystemTime(new Date("2026-11-01T00:31:00Z"));
    for (let i = 0; i < 256; i++) {
      start(tree, `busy-${i}`, i + 1);
      tree.startChat(`busy-${i}:model:1`, { sessionId: `session-${i + 1}`, model: "mock-model" });
      hooks.onBeforeToolCall(tree, { toolName: "read", runId: `busy-${i}`, toolCallId: "call_1", params: {} }, ctx(`busy-${i}`, i + 1));
    }
    const chat = ended.find((span) => span.attributes["openclaw.run.id"] === undefined && span.name === "chat mock-model");
    expect(chat?.attributes["error.type"]).toBe("aborted");
    expect(chat?.status.message).toBe("no end of the request was observed");
    expect(ended.find((span) => span.name === "invoke_agent main" && span.attributes["openclaw.run.id"] === "lost-run")?.attributes["openclaw.run.end_observed"]).toBe(false);
    // The late end hook changes nothing.
    tree.endChat("lost-run:model:1", { stopReason: "stop" });
    expect(ended.filter((span) => span.name === "chat mock-model")).toHaveLength(1);
  });

  it("never expires a run with an open tool call as idle (a 40-minute build); one with nothing open expires", () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-11-01T00:00:00Z") });
    const { tree, ended } = setup();
    start(tree, "building");
    hooks.onBeforeToolCall(tree, { toolName: "exec", runId: "building", toolCallId: "call_build", params: {} }, ctx("building"));
    start(tree, "idle", 1);
    vi.setSystemTime(new Date("2026-11-01T00:40:00Z"));
    for (let i = 0; i < 256; i++) start(tree, `busy-${i}`, i + 2);
    const agent = (runId: string) => ended.find((span) => span.name === "invoke_agent main" && span.attributes["openclaw.run.id"] === runId);
    expect(agent("idle")?.attributes["openclaw.run.end_observed"]).toBe(false);
    expect(agent("building")).toBeUndefined();
    expect(ended.find((span) => span.name === "execute_tool exec")).toBeUndefined();
    // The build finishes 40 minutes in: the tool and the run end normally.
    hooks.onAfterToolCall(tree, { toolName: "exec", runId: "building", toolCallId: "call_build", result: "ok" }, ctx("building"));
    hooks.onAgentEnd(tree, { runId: "building", success: true, messages: [] }, ctx("building"));
    expect(ended.find((span) => span.name === "execute_tool exec")?.attributes["dynamo.tool.status"]).toBe("succeeded");
    expect(agent("building")?.attributes["openclaw.run.end_observed"]).toBeUndefined();
  });

  it("keeps a run waiting on a tool call findable by its session too: a nested exec's env and a request without run id still reach it", () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-11-01T00:00:00Z") });
    const { tree } = setup();
    start(tree, "building");
    hooks.onBeforeToolCall(tree, { toolName: "exec", runId: "building", toolCallId: "call_build", params: {} }, ctx("building"));
    vi.setSystemTime(new Date("2026-11-01T00:40:00Z"));
    for (let i = 0; i < 256; i++) start(tree, `busy-${i}`, i + 2);
    expect(tree.latestRunIdOfSession("session-0")).toBe("building");
    expect(hooks.onResolveExecEnv(tree, { sessionKey: "agent:main:s0" }, {})?.TRACEPARENT).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("keeps open runs within their cap (10,000), remembers the newest 1,000 ended runs and forgets ended requests", () => {
    // Only agent spans are recorded here (chat spans are non-recording), to keep this fast.
    const { tree, ended, endedRuns } = setup({ recordOnly: "invoke_agent" });
    const RUNS = 12_000;
    const neverEnded: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const runId = `run-${i}`;
      start(tree, runId, i);
      tree.startChat(`${runId}:model:1`, { sessionId: `session-${i}`, model: "mock-model" });
      tree.endChat(`${runId}:model:1`, { stopReason: "stop" });
      // Only every 12th run sees agent_end: 11,000 runs stay open, 1,000 over the cap.
      if (i % 12 === 0) hooks.onAgentEnd(tree, { runId, success: true, messages: [] }, ctx(runId, i));
      else neverEnded.push(runId);
    }
    expect(tree.sizes).toEqual({ runs: 10_000, endedRuns: 1_000, chats: 0, tools: 0, subagents: 0 });
    // The 1,000 oldest open runs were evicted, and ended then.
    const abandoned = ended.filter((span) => span.attributes["openclaw.run.end_observed"] === false);
    expect(abandoned.map((span) => span.attributes["openclaw.run.id"])).toEqual(neverEnded.slice(0, 1_000));
    expect(endedRuns).toHaveLength(2_000);
    expect(tree.openRuns()).toHaveLength(10_000);
    // An ended run still answers late hooks while remembered; the oldest ended ones are forgotten.
    expect(tree.getRun(`run-${RUNS - 12}`)?.ended).toBe(true);
    expect(tree.getRun("run-0")).toBeUndefined();
    expect(ended.filter((span) => span.status.code !== 0)).toEqual([]);
    tree.closeAll();
    expect(ended.filter((span) => span.name === "invoke_agent main")).toHaveLength(RUNS);
    expect(ended.filter((span) => span.attributes["openclaw.run.end_observed"] === false)).toHaveLength(11_000);
  });

  it("keeps a run's open tool calls within their cap (1,000), ending the oldest when calls never end", () => {
    const { tree, ended } = setup();
    start(tree, "run-busy");
    for (let t = 0; t < 1_005; t++) hooks.onBeforeToolCall(tree, { toolName: "read", runId: "run-busy", toolCallId: `call_${t}`, params: {} }, ctx("run-busy"));
    expect(tree.sizes).toMatchObject({ runs: 1, tools: 1_000 });
    const cancelled = ended.filter((span) => span.name === "execute_tool read");
    expect(cancelled.map((span) => span.attributes["gen_ai.tool.call.id"])).toEqual(["call_0", "call_1", "call_2", "call_3", "call_4"]);
    expect(new Set(cancelled.map((span) => span.status.message))).toEqual(new Set(["no after_tool_call was observed"]));
    // An evicted call's late end changes nothing; a live one still ends normally.
    hooks.onAfterToolCall(tree, { toolName: "read", runId: "run-busy", toolCallId: "call_0", result: "x" }, ctx("run-busy"));
    hooks.onAfterToolCall(tree, { toolName: "read", runId: "run-busy", toolCallId: "call_1004", result: "x" }, ctx("run-busy"));
    const reads = ended.filter((span) => span.name === "execute_tool read");
    expect(reads).toHaveLength(6);
    expect(reads.at(-1)?.attributes).toMatchObject({ "gen_ai.tool.call.id": "call_1004", "dynamo.tool.status": "succeeded" });
    expect(tree.sizes.tools).toBe(999);
  });
});
