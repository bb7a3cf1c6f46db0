import { randomBytes } from "node:crypto";
// Inbound trace context from the environment (SPEC §3.3, otel-conventions.md §4–§5) and the
// outbound context handed to `exec` commands through `resolve_exec_env` (openclaw-plugin-sdk.md §10).
import { SpanKind, TraceFlags } from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan, type SpanProcessor } from "@opentelemetry/sdk-trace";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memoryTree } from "./memory-tree.ts";
import { loadConfig } from "../../src/config.ts";
import { createTracing, type Tracing } from "../../src/trace/export.ts";
import * as hooks from "../../src/trace/hooks.ts";
import type { HookCtx } from "../../src/trace/hooks.ts";
import { childProcessEnv, childProcessEnvFactory, readInboundContext, type InboundContext } from "../../src/trace/inbound.ts";
import { SpanTree, type SpanTreeOptions } from "../../src/trace/span-tree.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";
const VALID = `00-${TRACE}-${PARENT}-01`;
const LEAD_KEY = "agent:main:main";
const SESSION = "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e";
const CARRIER = ["TRACEPARENT", "TRACESTATE", "BAGGAGE"] as const;

type Ctx = HookCtx & Record<string, unknown>;

// The environment carrier reads process.env live: save and restore exactly these three variables.
let saved: Record<string, string | undefined>;
beforeEach(() => {
  saved = Object.fromEntries(CARRIER.map((name) => [name, process.env[name]]));
  for (const name of CARRIER) delete process.env[name];
});
afterEach(() => {
  for (const name of CARRIER) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

function setEnv(values: Partial<Record<(typeof CARRIER)[number], string>>): void {
  for (const [name, value] of Object.entries(values)) process.env[name] = value;
}

function readValid(): InboundContext {
  const result = readInboundContext();
  if (result.kind !== "valid") throw new Error(`expected a valid inbound context, got ${JSON.stringify(result)}`);
  return result.inbound;
}

let provider: TracerProvider | undefined;
let tracing: Tracing | undefined;
afterEach(async () => {
  await provider?.shutdown();
  await tracing?.shutdown(500);
  provider = undefined;
  tracing = undefined;
});

function setup(pluginConfig: Record<string, unknown> = {}, options: Partial<SpanTreeOptions> = {}) {
  const { config } = loadConfig(pluginConfig, {});
  const memory = memoryTree(config, options);
  provider = memory.provider;
  return { tree: memory.tree, spans: memory.spans };
}

function agentCtx(runId: string, sessionKey = LEAD_KEY): Ctx {
  // Like OpenClaw's later run-start hooks, which carry OpenClaw's trace context.
  return { runId, agentId: "main", sessionKey, sessionId: SESSION, modelProviderId: "dynamo", modelId: "mock-model", trigger: "user", trace: { traceId: randomBytes(16).toString("hex") } };
}

function startRun(tree: SpanTree, runId: string, sessionKey = LEAD_KEY) {
  for (const name of hooks.RUN_START_HOOKS) hooks.onRunStart(tree, { prompt: "hi" }, agentCtx(runId, sessionKey));
}

function endRun(tree: SpanTree, runId: string, sessionKey = LEAD_KEY) {
  hooks.onAgentEnd(tree, { runId, messages: [], success: true }, agentCtx(runId, sessionKey));
}

/** `resolve_exec_env` as OpenClaw fires it: event `{sessionKey, toolName, host}`, ctx without runId/toolCallId. */
function resolveExecEnv(tree: SpanTree, sessionKey = LEAD_KEY) {
  return hooks.onResolveExecEnv(tree, { sessionKey, toolName: "exec", host: "gateway" }, { agentId: "main", sessionKey, sessionId: SESSION });
}

function execTool(tree: SpanTree, runId: string, toolCallId: string, phase: "before" | "after", sessionKey = LEAD_KEY) {
  const ctx: Ctx = { agentId: "main", sessionKey, sessionId: SESSION, runId, toolName: "exec", toolCallId };
  const params = { command: "openclaw agent --local -m hi" };
  if (phase === "before") hooks.onBeforeToolCall(tree, { toolName: "exec", params, runId, toolCallId }, ctx);
  else hooks.onAfterToolCall(tree, { toolName: "exec", params, runId, toolCallId, result: { content: [{ type: "text", text: "ok" }] } }, ctx);
}

function parseTraceparent(value: string | undefined) {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value ?? "");
  if (!match) throw new Error(`not a traceparent: ${value}`);
  return { traceId: match[1]!, spanId: match[2]!, flags: match[3]! };
}

const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const trajectoryOf = (span: ReadableSpan) => `${span.spanContext().traceId}-${span.spanContext().spanId}`;

describe("readInboundContext", () => {
  it("is none without TRACEPARENT (or with an empty one)", () => {
    expect(readInboundContext()).toEqual({ kind: "none" });
    setEnv({ TRACEPARENT: "  " });
    expect(readInboundContext()).toEqual({ kind: "none" });
  });

  it("reads a valid TRACEPARENT + TRACESTATE + BAGGAGE", () => {
    setEnv({ TRACEPARENT: VALID, TRACESTATE: "vendor=abc,other=1", BAGGAGE: "user=alice,tenant=acme" });
    const inbound = readValid();
    expect(inbound.spanContext).toMatchObject({ traceId: TRACE, spanId: PARENT, traceFlags: 1, isRemote: true });
    expect(inbound.spanContext.traceState?.serialize()).toBe("vendor=abc,other=1");
    expect(inbound.parentTrajectoryId).toBeUndefined();
  });

  it("accepts a future version with extra fields and a flags byte with other bits set", () => {
    setEnv({ TRACEPARENT: `01-${TRACE}-${PARENT}-03-future-field` });
    expect(readValid().spanContext).toMatchObject({ traceId: TRACE, spanId: PARENT, traceFlags: 3 });
  });

  it.each([
    ["version ff", `ff-${TRACE}-${PARENT}-01`],
    ["all-zero trace id", `00-${"0".repeat(32)}-${PARENT}-01`],
    ["all-zero parent id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["uppercase hex", `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ["uppercase parent id", `00-${TRACE}-${PARENT.toUpperCase()}-01`],
    ["short trace id", `00-${TRACE.slice(1)}-${PARENT}-01`],
    ["long parent id", `00-${TRACE}-${PARENT}0-01`],
    ["one-digit flags", `00-${TRACE}-${PARENT}-1`],
    ["extra field on version 00", `${VALID}-extra`],
    ["garbage", "not-a-traceparent"],
    ["non-hex", `00-${"g".repeat(32)}-${PARENT}-01`],
  ])("rejects %s with a warning", (_, value) => {
    setEnv({ TRACEPARENT: value, TRACESTATE: "vendor=abc" });
    const result = readInboundContext();
    expect(result.kind).toBe("invalid");
    expect(result.kind === "invalid" && result.warning).toMatch(/^ignoring TRACEPARENT: not a valid W3C traceparent/);
  });

  it("takes a handed-down dynamo=<trajectory> tracestate member as the parent trajectory", () => {
    const outer = `${TRACE}-1122334455667788`;
    setEnv({ TRACEPARENT: VALID, TRACESTATE: `dynamo=${outer},vendor=abc` });
    expect(readValid().parentTrajectoryId).toBe(outer);
  });

  it("ignores a dynamo tracestate member that is not a derived trajectory id", () => {
    setEnv({ TRACEPARENT: VALID, TRACESTATE: "dynamo=something-else" });
    expect(readValid().parentTrajectoryId).toBeUndefined();
  });
});

describe("inbound context on the span tree", () => {
  it("parent mode: the root agent span continues the inbound trace under the inbound span", () => {
    setEnv({ TRACEPARENT: VALID, TRACESTATE: "vendor=abc" });
    const { tree, spans } = setup({ inboundContext: "parent" }, { inbound: readValid() });
    startRun(tree, "R1");
    tree.startChat("R1:model:1", { sessionId: SESSION, model: "mock-model" });
    tree.endChat("R1:model:1", { stopReason: "stop" });
    endRun(tree, "R1");
    const [chat, agent] = spans();
    expect(agent!.name).toBe("invoke_agent main");
    expect(agent!.spanContext().traceId).toBe(TRACE);
    expect(agent!.parentSpanContext).toMatchObject({ traceId: TRACE, spanId: PARENT, isRemote: true });
    expect(agent!.spanContext().traceState?.get("vendor")).toBe("abc");
    expect(agent!.links).toEqual([]);
    expect(agent!.attributes["dynamo.session_id"]).toBe(TRACE);
    // No handed-down trajectory: the lead has no parent trajectory.
    expect(agent!.attributes["dynamo.parent_trajectory_id"]).toBeUndefined();
    expect(chat!.spanContext().traceId).toBe(TRACE);
    expect(chat!.parentSpanContext?.spanId).toBe(idOf(agent!));
  });

  it("parent mode applies to every root run of the process, not to subagents", () => {
    setEnv({ TRACEPARENT: VALID });
    const { tree, spans } = setup({}, { inbound: readValid() });
    startRun(tree, "R1");
    endRun(tree, "R1");
    startRun(tree, "R2");
    endRun(tree, "R2");
    expect(spans().map((span) => span.parentSpanContext?.spanId)).toEqual([PARENT, PARENT]);
  });

  it("link mode: the root agent span starts a new trace and links to the inbound context", () => {
    setEnv({ TRACEPARENT: VALID });
    const { tree, spans } = setup({ inboundContext: "link" }, { inbound: readValid() });
    startRun(tree, "R1");
    endRun(tree, "R1");
    const [agent] = spans();
    expect(agent!.parentSpanContext).toBeUndefined();
    expect(agent!.spanContext().traceId).not.toBe(TRACE);
    expect(agent!.links).toHaveLength(1);
    expect(agent!.links[0]!.context).toMatchObject({ traceId: TRACE, spanId: PARENT, isRemote: true });
    expect(agent!.links[0]!.attributes).toEqual({ "link.kind": "inbound_traceparent" });
    expect(agent!.attributes["dynamo.session_id"]).toBe(agent!.spanContext().traceId);
  });

  it("a handed-down trajectory becomes the lead's parent trajectory (in both modes)", () => {
    const outer = `${TRACE}-1122334455667788`;
    for (const mode of ["parent", "link"]) {
      setEnv({ TRACEPARENT: VALID, TRACESTATE: `dynamo=${outer}` });
      const { tree, spans } = setup({ inboundContext: mode }, { inbound: readValid() });
      startRun(tree, "R1");
      endRun(tree, "R1");
      expect(spans()[0]!.attributes["dynamo.parent_trajectory_id"], mode).toBe(outer);
    }
  });

  it("DYN_AGENT_PARENT_TRAJECTORY_ID (process identity) wins over the handed-down trajectory", () => {
    setEnv({ TRACEPARENT: VALID, TRACESTATE: `dynamo=${TRACE}-1122334455667788` });
    const { tree, spans } = setup({}, { inbound: readValid(), identity: { processIsSubagent: false, leadParentTrajectoryId: "from-env" } });
    startRun(tree, "R1");
    endRun(tree, "R1");
    expect(spans()[0]!.attributes["dynamo.parent_trajectory_id"]).toBe("from-env");
  });

  it("honours sampled=00: spans are recorded but a parent-respecting sampler exports none", async () => {
    setEnv({ TRACEPARENT: `00-${TRACE}-${PARENT}-00` });
    const { config } = loadConfig({}, {}); // default sampler parentbased_always_on
    const exporter = new InMemorySpanExporter();
    const recorded: ReadableSpan[] = [];
    const recorder: SpanProcessor = {
      onStart: () => {},
      onEnd: (span) => recorded.push(span),
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    tracing = createTracing(config, { warn: () => {}, info: () => {} }, [recorder, new SimpleSpanProcessor({ exporter })]);
    const tree = new SpanTree({ tracer: tracing.tracer, idGenerator: tracing.idGenerator, config, inbound: readValid() });
    startRun(tree, "R1");
    tree.startChat("R1:model:1", { sessionId: SESSION, model: "mock-model" });
    tree.endChat("R1:model:1", { stopReason: "stop" });
    execTool(tree, "R1", "call_1", "before");
    execTool(tree, "R1", "call_1", "after");
    endRun(tree, "R1");
    await tracing.flush(500);
    expect(recorded.map((span) => span.name).sort()).toEqual(["chat mock-model", "execute_tool exec", "invoke_agent main"]);
    for (const span of recorded) {
      expect(span.spanContext().traceId, span.name).toBe(TRACE);
      expect(span.spanContext().traceFlags & TraceFlags.SAMPLED, span.name).toBe(0);
    }
    expect(exporter.getFinishedSpans()).toEqual([]);
    // Dynamo identity still derives from the (unexported) spans.
    const agent = recorded.find((span) => span.kind === SpanKind.INTERNAL && span.name.startsWith("invoke_agent"))!;
    expect(agent.attributes["dynamo.trajectory_id"]).toBe(trajectoryOf(agent));
  });

  it("exports a sampled=01 inbound trace", async () => {
    setEnv({ TRACEPARENT: VALID });
    const { config } = loadConfig({}, {});
    const exporter = new InMemorySpanExporter();
    tracing = createTracing(config, { warn: () => {}, info: () => {} }, [new SimpleSpanProcessor({ exporter })]);
    const tree = new SpanTree({ tracer: tracing.tracer, idGenerator: tracing.idGenerator, config, inbound: readValid() });
    startRun(tree, "R1");
    endRun(tree, "R1");
    await tracing.flush(500);
    expect(exporter.getFinishedSpans().map((span) => [span.spanContext().traceId, span.parentSpanContext?.spanId])).toEqual([[TRACE, PARENT]]);
  });
});

describe("exec environment (resolve_exec_env → before_tool_call(exec))", () => {
  it("names exactly the exec tool span in TRACEPARENT and hands down the trajectory in TRACESTATE", () => {
    const { tree, spans } = setup();
    startRun(tree, "R1");
    const env = resolveExecEnv(tree);
    execTool(tree, "R1", "call_exec_1", "before");
    execTool(tree, "R1", "call_exec_1", "after");
    endRun(tree, "R1");
    const exec = spans().find((span) => span.name === "execute_tool exec")!;
    const agent = spans().find((span) => span.name === "invoke_agent main")!;
    // A nested OpenClaw becomes a child chain of this run (docs/identity.md).
    expect(Object.keys(env!).sort()).toEqual(["DYN_AGENT_PARENT_TRAJECTORY_ID", "TRACEPARENT", "TRACESTATE"]);
    expect(env!.DYN_AGENT_PARENT_TRAJECTORY_ID).toBe(trajectoryOf(agent));
    expect(parseTraceparent(env!.TRACEPARENT)).toEqual({ traceId: exec.spanContext().traceId, spanId: exec.spanContext().spanId, flags: "01" });
    expect(exec.parentSpanContext?.spanId).toBe(idOf(agent));
    expect(env!.TRACESTATE).toBe(`dynamo=${trajectoryOf(agent)}`);
    expect(exec.attributes["gen_ai.tool.call.id"]).toBe("call_exec_1");
  });

  it("matches two queued exec calls first-in first-out", () => {
    const { tree, spans } = setup();
    startRun(tree, "R1");
    const first = resolveExecEnv(tree);
    const second = resolveExecEnv(tree);
    expect(parseTraceparent(first!.TRACEPARENT).spanId).not.toBe(parseTraceparent(second!.TRACEPARENT).spanId);
    execTool(tree, "R1", "call_a", "before");
    // A tool that is not exec in between consumes no reservation.
    hooks.onBeforeToolCall(tree, { toolName: "read", params: {}, runId: "R1", toolCallId: "call_r" }, { runId: "R1", sessionKey: LEAD_KEY });
    execTool(tree, "R1", "call_b", "before");
    execTool(tree, "R1", "call_b", "after");
    execTool(tree, "R1", "call_a", "after");
    hooks.onAfterToolCall(tree, { toolName: "read", runId: "R1", toolCallId: "call_r", result: "x" }, { runId: "R1", sessionKey: LEAD_KEY });
    const byCall = (id: string) => spans().find((span) => span.attributes["gen_ai.tool.call.id"] === id)!;
    expect(idOf(byCall("call_a"))).toBe(parseTraceparent(first!.TRACEPARENT).spanId);
    expect(idOf(byCall("call_b"))).toBe(parseTraceparent(second!.TRACEPARENT).spanId);
    expect([first!.TRACEPARENT, second!.TRACEPARENT]).not.toContain(`00-${byCall("call_r").spanContext().traceId}-${idOf(byCall("call_r"))}-01`);
    // Without a reservation an exec span gets a fresh id.
    execTool(tree, "R1", "call_c", "before");
    execTool(tree, "R1", "call_c", "after");
    expect([idOf(byCall("call_a")), idOf(byCall("call_b"))]).not.toContain(idOf(byCall("call_c")));
  });

  it("keeps reservations per session", () => {
    const { tree, spans } = setup();
    startRun(tree, "R-main", LEAD_KEY);
    startRun(tree, "R-ops", "agent:ops:main");
    const opsEnv = resolveExecEnv(tree, "agent:ops:main");
    execTool(tree, "R-main", "call_main", "before", LEAD_KEY);
    execTool(tree, "R-ops", "call_ops", "before", "agent:ops:main");
    tree.closeAll();
    const ops = spans().find((span) => span.attributes["gen_ai.tool.call.id"] === "call_ops")!;
    const main = spans().find((span) => span.attributes["gen_ai.tool.call.id"] === "call_main")!;
    expect(idOf(ops)).toBe(parseTraceparent(opsEnv!.TRACEPARENT).spanId);
    expect(idOf(main)).not.toBe(idOf(ops));
  });

  it("carries the inbound tracestate and baggage, replacing a handed-down dynamo member", () => {
    setEnv({ TRACEPARENT: VALID, TRACESTATE: `dynamo=${TRACE}-1122334455667788,vendor=abc`, BAGGAGE: "user=alice,tenant=acme" });
    const { tree, spans } = setup({}, { inbound: readValid() });
    startRun(tree, "R1");
    const env = resolveExecEnv(tree);
    execTool(tree, "R1", "call_1", "before");
    execTool(tree, "R1", "call_1", "after");
    endRun(tree, "R1");
    const agent = spans().find((span) => span.name === "invoke_agent main")!;
    const exec = spans().find((span) => span.name === "execute_tool exec")!;
    expect(parseTraceparent(env!.TRACEPARENT)).toEqual({ traceId: TRACE, spanId: idOf(exec), flags: "01" });
    expect(env!.TRACESTATE).toBe(`dynamo=${trajectoryOf(agent)},vendor=abc`);
    expect(env!.BAGGAGE!.split(",").sort()).toEqual(["tenant=acme", "user=alice"]);
  });

  it("gives nothing for an unknown session or an ended run", () => {
    const { tree } = setup();
    expect(resolveExecEnv(tree, "agent:main:unknown")).toBeUndefined();
    startRun(tree, "R1");
    endRun(tree, "R1");
    expect(resolveExecEnv(tree)).toBeUndefined();
  });

  it("builds the same env per span id as the propagators do (the run's tracestate and baggage built once)", () => {
    setEnv({ TRACEPARENT: VALID, TRACESTATE: `vendor=abc,dynamo=${TRACE}-1122334455667788`, BAGGAGE: "user=alice" });
    const inbound = readValid();
    const cases = [
      { baggage: inbound.context, traceState: inbound.spanContext.traceState },
      { baggage: undefined, traceState: undefined }, // no inbound context: the propagator-free path
      { baggage: undefined, traceState: new TraceState("vendor=abc") },
    ];
    for (const { baggage, traceState } of cases) {
      for (const traceFlags of [TraceFlags.SAMPLED, TraceFlags.NONE]) {
        for (const trajectory of [`${TRACE}-aaaaaaaaaaaaaaaa`, undefined, "not-derived"]) {
          const run = { traceId: randomBytes(16).toString("hex"), spanId: randomBytes(8).toString("hex"), traceFlags, isRemote: false, ...(traceState ? { traceState } : {}) };
          const factory = childProcessEnvFactory(run, trajectory, baggage);
          for (let i = 0; i < 3; i++) {
            const spanId = randomBytes(8).toString("hex");
            const env = factory(spanId);
            expect(env).toEqual(childProcessEnv({ ...run, spanId }, trajectory, baggage));
            env.TRACEPARENT = "mutated by a caller";
            expect(factory(spanId).TRACEPARENT).not.toBe("mutated by a caller");
          }
        }
      }
    }
  });

  it("round-trips: a child process reading the exec env continues the trace under the exec span", () => {
    const { tree, spans } = setup();
    startRun(tree, "R1");
    const env = resolveExecEnv(tree)!;
    execTool(tree, "R1", "call_1", "before");
    setEnv(env);
    const child = readValid();
    execTool(tree, "R1", "call_1", "after");
    endRun(tree, "R1");
    const agent = spans().find((span) => span.name === "invoke_agent main")!;
    const exec = spans().find((span) => span.name === "execute_tool exec")!;
    expect(child.spanContext).toMatchObject({ traceId: exec.spanContext().traceId, spanId: idOf(exec) });
    expect(child.parentTrajectoryId).toBe(trajectoryOf(agent));
  });
});
