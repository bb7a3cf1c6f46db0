// A top-level run's trace takes OpenClaw's own trace id (`ctx.trace.traceId`), so a Gateway request
// that carried an upstream traceparent (which OpenClaw runs in that trace) continues it; a trace id
// OpenClaw reuses for a second top-level run is not adopted twice.
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { afterEach, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import * as hooks from "../../src/trace/hooks.ts";
import { ReservableIdGenerator } from "../../src/trace/id-generator.ts";
import { SpanTree } from "../../src/trace/span-tree.ts";

const UPSTREAM = "0af7651916cd43dd8448eb211c80319c";
let provider: TracerProvider | undefined;
afterEach(async () => provider?.shutdown());

function setup() {
  const idGenerator = new ReservableIdGenerator();
  const exporter = new InMemorySpanExporter();
  provider = new TracerProvider({ idGenerator, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tree = new SpanTree({ tracer: provider.getTracer("t"), idGenerator, config: loadConfig({}, {}).config });
  return { tree, exporter };
}

const ctx = (runId: string, traceId: string, sessionKey = "agent:main:main") => ({
  runId,
  sessionKey,
  sessionId: `s-${runId}`,
  agentId: "main",
  trace: { traceId, spanId: "1234567890abcdef" },
});

it("the root agent span continues OpenClaw's trace id, and its Dynamo session id is that trace id", () => {
  const { tree } = setup();
  hooks.onRunStart(tree, {}, ctx("r1", UPSTREAM));
  const run = tree.getRun("r1")!;
  expect(run.spanContext.traceId).toBe(UPSTREAM);
  expect(run.ids.sessionId).toBe(UPSTREAM);
  expect(run.ids.trajectoryId).toBe(`${UPSTREAM}-${run.spanContext.spanId}`);
});

it("a second top-level run under the same OpenClaw trace id gets a fresh trace", () => {
  const { tree } = setup();
  hooks.onRunStart(tree, {}, ctx("r1", UPSTREAM));
  hooks.onRunStart(tree, {}, ctx("r2", UPSTREAM, "agent:main:other"));
  expect(tree.getRun("r1")!.spanContext.traceId).toBe(UPSTREAM);
  expect(tree.getRun("r2")!.spanContext.traceId).not.toBe(UPSTREAM);
});

it("invalid or all-zero OpenClaw trace ids are not adopted", () => {
  const { tree } = setup();
  hooks.onRunStart(tree, {}, ctx("r1", "0".repeat(32)));
  hooks.onRunStart(tree, {}, ctx("r2", "XYZ"));
  expect(tree.getRun("r1")!.spanContext.traceId).not.toBe("0".repeat(32));
  expect(tree.getRun("r2")!.spanContext.traceId).toMatch(/^[0-9a-f]{32}$/);
});

it("a run whose first hooks carry no ctx.trace starts at the first hook, in the trace a later hook names", () => {
  const { tree, exporter } = setup();
  const { trace: _omit, ...noTrace } = ctx("r1", UPSTREAM);
  hooks.onRunStart(tree, {}, noTrace); // before_agent_reply: no ctx.trace in OpenClaw 2026.9.6
  const firstSeen = Date.now();
  expect(tree.getRun("r1")).toBeUndefined();
  hooks.onRunStart(tree, {}, ctx("r1", UPSTREAM)); // before_prompt_build: ctx.trace present
  const run = tree.getRun("r1")!;
  expect(run.spanContext.traceId).toBe(UPSTREAM);
  expect(run.sessionKey).toBe("agent:main:main");
  tree.endRun("r1", { success: true });
  const [span] = exporter.getFinishedSpans();
  const startMs = span!.startTime[0] * 1000 + span!.startTime[1] / 1e6;
  expect(startMs).toBeLessThanOrEqual(firstSeen);
});

it("a run that ends before any hook named its trace still gets its span", () => {
  const { tree, exporter } = setup();
  const { trace: _omit, ...noTrace } = ctx("r1", UPSTREAM);
  hooks.onRunStart(tree, {}, noTrace);
  hooks.onAgentEnd(tree, { success: true }, noTrace);
  expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(["invoke_agent main"]);
});
