/**
 * One-shot `openclaw agent --local` runs with the whole plugin on, asserted on what crossed the
 * wire: decoded OTLP spans, HTTP requests to the Dynamo simulator, relay messages on its PULL socket.
 *
 *   A  Dynamo 1.3+ sim, protocol auto, read tool       → span tree, traceparent/x-request-id, fallback, relay (G3),
 *      paced stream with cache hits → serving attributes on chat spans, Dynamo's nvext answer, OTLP metrics
 *   B  Dynamo 1.2 sim, inbound TRACEPARENT, failing read + exec → parenting, nvext identity, exec env, tool_error (G1),
 *      OTEL_METRICS_EXPORTER=none → traces only
 *   C  malformed TRACEPARENT, collector refusing connections → fresh root, one warning, bounded exit
 *   D  collector that never answers, protocol forced to headers → zero rejected requests, bounded exit
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OtlpMetricPoint, ServingProfile, Simulator } from "../sim/index.ts";
import {
  explain,
  freePort,
  keepOnFailure,
  pluginLines,
  readTextFile,
  Resources,
  runAgentLocal,
  Timings,
  WORKSPACE_FILE_CONTENT,
  type AgentTurnResult,
  type OpenClawWorld,
} from "./harness/index.ts";
import {
  SPAN_KIND_CLIENT,
  SPAN_KIND_INTERNAL,
  agentOf,
  answeredChats,
  byId,
  nvext,
  SERVING_NVEXT,
  parseTraceparent,
  settle,
  spansNamed,
  toolRecords,
  traceIds,
  trajectoryOf,
} from "./trace-helpers.ts";

const timings = new Timings();
afterAll(() => {
  console.log(timings.table("local trace e2e timings:", 48));
});

function dynamoLines(world: OpenClawWorld, turn: AgentTurnResult): string[] {
  const fromLog = pluginLines(readTextFile(world.logFile));
  const fromStderr = turn.stderr.split("\n").filter((line) => line.includes("[dynamo]"));
  return fromLog.length > 0 ? fromLog : fromStderr;
}

/** Time from the simulator's last answer to the CLI's exit. */
function exitLag(turn: AgentTurnResult, sim: Simulator): number {
  const last = Math.max(...sim.chatRequests().map((r) => r.finishedAt ?? 0));
  return turn.exitedAtMs - last;
}

function relayEnv(sim: Simulator): Record<string, string> {
  return {
    DYN_AGENT_TRACE: "1",
    DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: sim.zmqEndpoint,
  };
}

/** A's stream: first content 300 ms after the role chunk, then 60 ms between chunks; 6 cached tokens. */
const SERVING: Required<Pick<ServingProfile, "firstTokenDelayMs" | "chunkGapMs" | "textChunks" | "cachedTokens">> = {
  firstTokenDelayMs: 300,
  chunkGapMs: 60,
  textChunks: 6,
  cachedTokens: 6,
};

/** The newest point of each series (cumulative exports repeat every series). */
function latestSeries(points: OtlpMetricPoint[], name: string): OtlpMetricPoint[] {
  const series = new Map<string, OtlpMetricPoint>();
  for (const point of points) if (point.name === name) series.set(JSON.stringify(point.attributes), point);
  return [...series.values()];
}

describe("A: Dynamo 1.3+ simulator, protocol auto, one read tool call", () => {
  let sim: Simulator;
  let world: OpenClawWorld;
  let turn: AgentTurnResult;
  const resources = new Resources();

  beforeAll(async () => {
    sim = await resources.newSim({ generation: "headers", serving: SERVING });
    world = await resources.newWorld({
      name: "trace-a",
      pluginConfig: { baseUrl: sim.baseUrl },
      // The generic endpoint variable: the plugin appends /v1/traces.
      env: { ...relayEnv(sim), OTEL_EXPORTER_OTLP_ENDPOINT: sim.otlpUrl.replace(/\/v1\/traces$/, "") },
    });
    turn = await timings.timed("A agent --local", () => runAgentLocal(world, { message: "Please read hello.txt. [[sim:read hello.txt]]" }));
    timings.add("A exit lag after last answer", exitLag(turn, sim));
    await settle(sim);
  });

  afterAll(() => resources.dispose());

  it("completes the turn", () => {
    keepOnFailure(world);
    expect(turn.exitCode, explain(turn, world, sim)).toBe(0);
    expect(turn.stdout).toContain(WORKSPACE_FILE_CONTENT);
  });

  it("exports one trace: invoke_agent → chat ×2 + execute_tool read, with kinds and both vocabularies", () => {
    keepOnFailure(world);
    const spans = sim.otlp.spans;
    expect(traceIds(spans), sim.summary()).toHaveLength(1);
    const [agent] = spansNamed(spans, "invoke_agent main");
    expect(agent, spans.map((s) => s.name).join(", ")).toBeDefined();
    expect(agent!.parentSpanId).toBeUndefined();
    expect(agent!.kind).toBe(SPAN_KIND_INTERNAL);
    expect(agent!.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "main",
      "openinference.span.kind": "AGENT",
    });
    const chats = spansNamed(spans, "chat mock-model");
    expect(chats).toHaveLength(2);
    const [tool] = spansNamed(spans, "execute_tool read");
    expect(tool).toBeDefined();
    expect(spans).toHaveLength(4);
    for (const chat of chats) {
      expect(chat.parentSpanId).toBe(agent!.spanId);
      expect(chat.kind).toBe(SPAN_KIND_CLIENT);
      expect(chat.attributes).toMatchObject({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "dynamo",
        "gen_ai.request.model": "mock-model",
        "openinference.span.kind": "LLM",
        "llm.model_name": "mock-model",
        "llm.provider": "dynamo",
        "llm.system": "openai",
      });
      expect(chat.attributes["gen_ai.usage.input_tokens"]).toBeGreaterThan(0);
      expect(chat.attributes["llm.token_count.prompt"]).toBe(chat.attributes["gen_ai.usage.input_tokens"]);
      expect(chat.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0);
    }
    expect(tool!.parentSpanId).toBe(agent!.spanId);
    expect(tool!.kind).toBe(SPAN_KIND_INTERNAL);
    const modelToolCallId = sim.chatRequests().flatMap((r) => r.toolCalls)[0]?.id;
    expect(tool!.attributes).toMatchObject({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "read",
      "gen_ai.tool.call.id": modelToolCallId,
      "openinference.span.kind": "TOOL",
      "tool.name": "read",
      "tool_call.id": modelToolCallId,
      "dynamo.tool.status": "succeeded",
    });
    for (const span of spans) {
      expect(span.attributes["session.id"], span.name).toMatch(/^[0-9a-f-]{36}$/);
      expect(span.attributes["gen_ai.conversation.id"], span.name).toBe(span.attributes["session.id"]);
      expect(span.resource["service.name"]).toBe("openclaw");
      expect(span.resource["service.version"]).toMatch(/^\d+\.\d+\.\d+/);
      expect(span.scope.name).toBe("openclaw-dynamo");
    }
  });

  it("each model request's traceparent names its chat span and x-request-id is recorded on it", () => {
    keepOnFailure(world);
    const spans = sim.otlp.spans;
    const chats = answeredChats(sim);
    expect(chats).toHaveLength(2);
    const named = chats.map((request) => {
      const parent = parseTraceparent(request.traceparent);
      expect(parent, request.traceparent).toBeDefined();
      const span = byId(spans, parent!.spanId);
      expect(span?.name).toBe("chat mock-model");
      expect(span?.traceId).toBe(parent!.traceId);
      expect(request.xRequestId).toBe(`${parent!.traceId}-${parent!.spanId}`);
      expect(span?.attributes["dynamo.x_request_id"]).toBe(request.xRequestId);
      return span!.spanId;
    });
    expect(new Set(named).size).toBe(2);
  });

  it("auto: exactly one request was rejected for nvext, every later request used headers only", () => {
    keepOnFailure(world);
    const all = sim.chatRequests();
    const rejected = all.filter((r) => r.status === 400);
    expect(rejected, sim.summary()).toHaveLength(1);
    expect(rejected[0]!.index).toBe(all[0]!.index);
    expect(rejected[0]!.rejection).toMatch(/agent_context/);
    const spans = sim.otlp.spans;
    for (const request of all.slice(1)) {
      expect(request.status).toBe(200);
      expect(nvext(request)).toEqual(SERVING_NVEXT);
      const chat = byId(spans, parseTraceparent(request.traceparent)!.spanId)!;
      const agent = agentOf(spans, chat)!;
      expect(request.headers["x-dynamo-session-id"]).toBe(trajectoryOf(agent));
      expect(request.headers["x-dynamo-parent-session-id"]).toBeUndefined();
      expect(chat.attributes["dynamo.trajectory_id"]).toBe(trajectoryOf(agent));
      expect(chat.attributes["dynamo.session_id"]).toBe(agent.traceId);
    }
    const switched = dynamoLines(world, turn).filter((line) => /using headers for the rest of this process/.test(line));
    expect(switched).toHaveLength(1);
  });

  it("chat spans carry their stream's serving performance, cache hits and Dynamo's worker ids and timing", () => {
    keepOnFailure(world);
    const spans = sim.otlp.spans;
    const chats = answeredChats(sim).map((request) => byId(spans, parseTraceparent(request.traceparent)!.spanId)!);
    expect(chats).toHaveLength(2);
    const delay = SERVING.firstTokenDelayMs / 1000;
    for (const chat of chats) {
      const a = chat.attributes;
      expect(a["gen_ai.request.stream"], chat.name).toBe(true);
      const ttfc = a["gen_ai.response.time_to_first_chunk"] as number;
      // Measured from the span's start (before the request is sent): never below the simulated
      // delay; the upper bound leaves room for a loaded machine.
      expect(ttfc).toBeGreaterThanOrEqual(delay - 0.005);
      expect(ttfc).toBeLessThan(delay + 3);
      const input = a["gen_ai.usage.input_tokens"] as number;
      expect(a["gen_ai.usage.cache_read.input_tokens"]).toBe(SERVING.cachedTokens);
      expect(a["llm.token_count.prompt_details.cache_read"]).toBe(SERVING.cachedTokens);
      expect(a["dynamo.usage.prompt_cache_hit_ratio"]).toBeCloseTo(SERVING.cachedTokens / input, 4);
      // Dynamo's own view, read from the response's nvext (asked for with extra_fields).
      expect(a["dynamo.worker.prefill_worker_id"]).toBe(7);
      expect(a["dynamo.worker.decode_worker_id"]).toBe(7);
      expect(a["dynamo.timing.ttft_ms"]).toBeGreaterThanOrEqual(SERVING.firstTokenDelayMs - 5);
      expect(a["dynamo.timing.kv_hit_rate"]).toBeGreaterThan(0);
      const [event] = chat.events.filter((e) => e.name === "dynamo.first_token");
      expect(event, JSON.stringify(chat.events)).toBeDefined();
      const eventOffset = Number(BigInt(event!.timeUnixNano) - BigInt(chat.startTimeUnixNano)) / 1e9;
      expect(eventOffset).toBeCloseTo(a["dynamo.response.time_to_first_token"] as number, 2);
    }
    const [toolChat, textChat] = chats;
    expect(toolChat!.attributes["gen_ai.response.finish_reasons"]).toEqual(["toolUse"]);
    const t = textChat!.attributes;
    expect(t["gen_ai.response.finish_reasons"]).toEqual(["stop"]);
    expect(t["dynamo.response.chunks"]).toBe(SERVING.textChunks);
    expect(t["dynamo.response.time_to_first_token"]).toBe(t["gen_ai.response.time_to_first_chunk"]);
    const gap = SERVING.chunkGapMs / 1000;
    expect(t["dynamo.response.chunk_gap.mean"]).toBeGreaterThanOrEqual(gap * 0.75);
    expect(t["dynamo.response.chunk_gap.mean"]).toBeLessThan(gap * 5);
    expect(t["dynamo.response.chunk_gap.max"]).toBeGreaterThanOrEqual(gap * 0.9);
    const output = t["gen_ai.usage.output_tokens"] as number;
    const rate = t["dynamo.response.output_tokens_per_second"] as number;
    // (output − 1) tokens over (chunks − 1) gaps of the mean size.
    expect(rate).toBeCloseTo((output - 1) / ((SERVING.textChunks - 1) * (t["dynamo.response.chunk_gap.mean"] as number)), 0);
  });

  it("exports the GenAI client metrics, tool calls and relay counters beside the traces (OTLP protobuf)", async () => {
    keepOnFailure(world);
    await sim.waitFor(() => sim.otlp.metrics.some((p) => p.name === "gen_ai.client.operation.duration"), 10_000, "metric export");
    expect(sim.otlp.metricExports.every((e) => e.status === 200 && e.contentType === "application/x-protobuf")).toBe(true);
    const points = sim.otlp.metrics;
    const chats = spansNamed(sim.otlp.spans, "chat mock-model");
    const port = Number(new URL(sim.baseUrl).port);
    const chatAttributes = {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "dynamo",
      "gen_ai.request.model": "mock-model",
      "server.address": "127.0.0.1",
      "server.port": port,
    };
    const [duration] = latestSeries(points, "gen_ai.client.operation.duration");
    expect(duration).toMatchObject({ unit: "s", kind: "histogram", count: 2, attributes: chatAttributes });
    const tokens = latestSeries(points, "gen_ai.client.token.usage");
    const sumOf = (key: string) => chats.reduce((sum, chat) => sum + (chat.attributes[key] as number), 0);
    expect(tokens.map((p) => [p.unit, p.attributes["gen_ai.token.type"], p.count, p.sum]).sort()).toEqual([
      ["{token}", "input", 2, sumOf("gen_ai.usage.input_tokens")],
      ["{token}", "output", 2, sumOf("gen_ai.usage.output_tokens")],
    ]);
    const [ttfc] = latestSeries(points, "gen_ai.client.operation.time_to_first_chunk");
    expect(ttfc).toMatchObject({ unit: "s", kind: "histogram", count: 2, attributes: chatAttributes });
    expect(ttfc!.sum).toBeCloseTo(sumOf("gen_ai.response.time_to_first_chunk"), 5);
    const [perChunk] = latestSeries(points, "gen_ai.client.operation.time_per_output_chunk");
    expect(perChunk).toMatchObject({ unit: "s", kind: "histogram", count: sumOf("dynamo.response.chunks") - 2, attributes: chatAttributes });
    const tools = latestSeries(points, "dynamo.client.tool.calls");
    expect(tools.map((p) => [p.unit, p.monotonic, p.attributes, p.value])).toEqual([
      ["{call}", true, { "gen_ai.tool.name": "read", "dynamo.tool.status": "succeeded" }, 1],
    ]);
    const relay = latestSeries(points, "dynamo.relay.events");
    expect(relay.map((p) => p.attributes["dynamo.relay.outcome"]).sort()).toEqual(["dropped", "sent"]);
    for (const key of new Set(points.flatMap((p) => Object.keys(p.attributes)))) expect(key).not.toMatch(/id$|conversation|session/);
    expect(points[0]!.resource["service.name"]).toBe("openclaw");
  });

  it("relays tool_start and tool_end (Dynamo 1.3+ schema) for the read call, joined to the span", () => {
    keepOnFailure(world);
    expect(sim.relay.rejected, JSON.stringify(sim.relay.rejected)).toEqual([]);
    const [tool] = spansNamed(sim.otlp.spans, "execute_tool read");
    const callId = String(tool!.attributes["gen_ai.tool.call.id"]);
    const records = toolRecords(sim.relay.accepted, callId);
    expect(records.map((r) => r.event_type)).toEqual(["tool_start", "tool_end"]);
    for (const record of records) {
      expect(record.schema).toBe("dynamo.request.trace.v1");
      expect(record.session_id).toBe(tool!.attributes["dynamo.trajectory_id"]);
      expect(record).not.toHaveProperty("parent_session_id");
      expect(record).not.toHaveProperty("agent_context");
    }
    expect(records[1]!.tool).toMatchObject({
      tool_call_id: callId,
      tool_class: "read",
      status: "succeeded",
      output_bytes: Buffer.byteLength(`${WORKSPACE_FILE_CONTENT}\n`),
    });
  });
});

describe("B: Dynamo 1.2 simulator, inbound TRACEPARENT, a failing tool and an exec command", () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parentSpanId = "00f067aa0ba902b7";
  const outerTrajectory = `${traceId}-7a1c2e9d0b3f4a55`;
  let sim: Simulator;
  let world: OpenClawWorld;
  let turn: AgentTurnResult;
  const resources = new Resources();

  beforeAll(async () => {
    sim = await resources.newSim({ generation: "nvext" });
    world = await resources.newWorld({
      name: "trace-b",
      pluginConfig: { baseUrl: sim.baseUrl, otlpEndpoint: sim.otlpUrl },
      env: {
        ...relayEnv(sim),
        TRACEPARENT: `00-${traceId}-${parentSpanId}-01`,
        // An outer agent run of this plugin hands its trajectory down in tracestate.
        TRACESTATE: `dynamo=${outerTrajectory},vendor=abc`,
        BAGGAGE: "ci.job=1234",
        OTEL_METRICS_EXPORTER: "none",
      },
    });
    turn = await timings.timed("B agent --local", () =>
      runAgentLocal(world, {
        message:
          "Check two things. [[sim:read missing-file.txt]] [[sim:exec echo TP=$TRACEPARENT TS=$TRACESTATE BG=$BAGGAGE]] [[sim:text All done.]]",
      }),
    );
    await settle(sim);
  });

  afterAll(() => resources.dispose());

  it("completes the turn despite the failing tool", () => {
    keepOnFailure(world);
    expect(turn.exitCode, explain(turn, world, sim)).toBe(0);
    expect(turn.stdout).toContain("All done.");
  });

  it("the root agent span continues the inbound trace", () => {
    keepOnFailure(world);
    const spans = sim.otlp.spans;
    expect(traceIds(spans), sim.summary()).toEqual([traceId]);
    const [agent] = spansNamed(spans, "invoke_agent main");
    expect(agent!.parentSpanId).toBe(parentSpanId);
    for (const request of answeredChats(sim)) {
      expect(parseTraceparent(request.traceparent)?.traceId).toBe(traceId);
      expect(request.tracestate).toContain("vendor=abc");
    }
  });

  it("nvext identity: exactly the four agent_context keys, ids derived from the span tree, no session_control on the lead", () => {
    keepOnFailure(world);
    const spans = sim.otlp.spans;
    const chats = answeredChats(sim);
    expect(chats.length).toBe(3);
    for (const request of chats) {
      const ext = nvext(request)!;
      expect(Object.keys(ext)).toEqual(["agent_context", "extra_fields"]);
      expect(ext.extra_fields).toEqual(SERVING_NVEXT.extra_fields);
      const context = ext.agent_context as Record<string, string>;
      expect(Object.keys(context).sort()).toEqual(["parent_trajectory_id", "session_id", "session_type_id", "trajectory_id"]);
      const chat = byId(spans, parseTraceparent(request.traceparent)!.spanId)!;
      const agent = agentOf(spans, chat)!;
      expect(context).toEqual({
        session_type_id: "openclaw_coding_agent",
        session_id: traceId,
        trajectory_id: trajectoryOf(agent),
        parent_trajectory_id: outerTrajectory,
      });
      expect(request.dynamoHeaders).toEqual({});
    }
    expect(sim.chatRequests().every((r) => r.status === 200)).toBe(true);
  });

  it("OTEL_METRICS_EXPORTER=none: the spans arrive, no metric export is made", () => {
    keepOnFailure(world);
    expect(sim.otlp.spans.length).toBeGreaterThan(0);
    expect(sim.otlp.metricExports).toEqual([]);
  });

  it("the failing read is an error span and a tool_error record (Dynamo 1.2 schema)", () => {
    keepOnFailure(world);
    const [tool] = spansNamed(sim.otlp.spans, "execute_tool read");
    expect(tool!.status.code).toBe(2);
    expect(tool!.attributes["error.type"]).toBe("openclaw_tool_error");
    expect(tool!.attributes["dynamo.tool.status"]).toBe("error");
    const records = toolRecords(sim.relay.accepted, String(tool!.attributes["gen_ai.tool.call.id"]));
    expect(records.map((r) => r.event_type)).toEqual(["tool_start", "tool_error"]);
    expect(records[1]).toMatchObject({
      schema: "dynamo.agent.trace.v1",
      event_source: "harness",
      agent_context: {
        session_type_id: "openclaw_coding_agent",
        session_id: traceId,
        trajectory_id: tool!.attributes["dynamo.trajectory_id"],
        parent_trajectory_id: outerTrajectory,
      },
      tool: { status: "error", error_type: "openclaw_tool_error", tool_class: "read" },
    });
    expect(sim.relay.rejected).toEqual([]);
  });

  it("the exec command saw TRACEPARENT naming its tool span, the trajectory in TRACESTATE, and the baggage", () => {
    keepOnFailure(world);
    const [tool] = spansNamed(sim.otlp.spans, "execute_tool exec");
    expect(tool, sim.otlp.spans.map((s) => s.name).join(", ")).toBeDefined();
    const lastRequest = answeredChats(sim).at(-1)!;
    const messages = (lastRequest.body as { messages: Array<{ role: string; content: unknown }> }).messages;
    const output = messages
      .filter((m) => m.role === "tool")
      .map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content)))
      .find((text) => text.includes("TP="));
    expect(output, JSON.stringify(messages.slice(-3))).toBeDefined();
    expect(output).toContain(`TP=00-${traceId}-${tool!.spanId}-01`);
    expect(output).toContain(`dynamo=${tool!.attributes["dynamo.trajectory_id"]}`);
    expect(output).toContain("BG=ci.job=1234");
  });
});

describe("C: malformed TRACEPARENT and a collector refusing connections", () => {
  let sim: Simulator;
  let world: OpenClawWorld;
  let turn: AgentTurnResult;
  const resources = new Resources();
  const malformed = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01";

  beforeAll(async () => {
    sim = await resources.newSim({ generation: "headers" });
    const closedPort = await freePort();
    world = await resources.newWorld({
      name: "trace-c",
      pluginConfig: { baseUrl: sim.baseUrl, otlpEndpoint: `http://127.0.0.1:${closedPort}/v1/traces` },
      env: { TRACEPARENT: malformed },
    });
    turn = await timings.timed("C agent --local", () => runAgentLocal(world, { message: "Say hi. [[sim:text hi]]" }));
    timings.add("C exit lag, collector refusing", exitLag(turn, sim));
  });

  afterAll(() => resources.dispose());

  it("completes, starts a fresh trace, and warns once", () => {
    keepOnFailure(world);
    expect(turn.exitCode, explain(turn, world, sim)).toBe(0);
    const request = answeredChats(sim)[0]!;
    const parent = parseTraceparent(request.traceparent)!;
    expect(parent.traceId).not.toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    const warnings = dynamoLines(world, turn).filter((line) => line.includes("ignoring TRACEPARENT"));
    expect(warnings, dynamoLines(world, turn).join("\n")).toHaveLength(1);
  });

  it("exits within a bounded time of the answer", () => {
    keepOnFailure(world);
    // OpenClaw itself takes ~2.5 s from the last answer to exit here; the plugin adds at most its
    // 2 s flush bound. Generous bound for a loaded 2-core machine.
    expect(exitLag(turn, sim)).toBeLessThan(12_000);
  });
});

describe("D: collector that never answers, protocol forced to headers", () => {
  let sim: Simulator;
  let world: OpenClawWorld;
  let turn: AgentTurnResult;
  const resources = new Resources();

  beforeAll(async () => {
    sim = await resources.newSim({ generation: "headers" });
    sim.faults.otlp({ mode: "hang" });
    world = await resources.newWorld({
      name: "trace-d",
      pluginConfig: { baseUrl: sim.baseUrl, protocol: "headers", agentTrace: true },
      env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: sim.otlpUrl },
    });
    turn = await timings.timed("D agent --local", () => runAgentLocal(world, { message: "Please read hello.txt. [[sim:read hello.txt]]" }));
    timings.add("D exit lag, collector hanging", exitLag(turn, sim));
  });

  afterAll(() => resources.dispose());

  it("completes with zero rejected requests, identity in headers only", () => {
    keepOnFailure(world);
    expect(turn.exitCode, explain(turn, world, sim)).toBe(0);
    const chats = sim.chatRequests();
    expect(chats.length).toBe(2);
    for (const request of chats) {
      expect(request.status).toBe(200);
      expect(nvext(request)).toEqual(SERVING_NVEXT);
      expect(request.headers["x-dynamo-session-id"]).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
    }
  });

  it("exits within a bounded time of the answer although the export hangs", () => {
    keepOnFailure(world);
    expect(sim.otlp.exports.length).toBeGreaterThan(0);
    expect(exitLag(turn, sim)).toBeLessThan(12_000);
  });
});

describe("E: two `agent --local --session-id X` processes: one conversation, one Dynamo chain (1.2, then 1.3+)", () => {
  let sim: Simulator;
  let world: OpenClawWorld;
  let first: AgentTurnResult;
  let second: AgentTurnResult;
  let firstCount = 0;
  const SESSION_ID = "5e55a0b1-c4a1-4d2e-9f00-0000000010ca";
  const resources = new Resources();

  beforeAll(async () => {
    sim = await resources.newSim({ generation: "nvext" });
    world = await resources.newWorld({ name: "trace-e", pluginConfig: { baseUrl: sim.baseUrl, otlpEndpoint: sim.otlpUrl }, env: relayEnv(sim) });
    first = await timings.timed("E first process", () => runAgentLocal(world, { message: "Hi. [[sim:text First turn.]]", sessionId: SESSION_ID }));
    await settle(sim);
    firstCount = sim.requests.length;
    // The same conversation continues in a new process, now against Dynamo 1.3+ (protocol auto).
    sim.setGeneration("headers");
    second = await timings.timed("E second process", () => runAgentLocal(world, { message: "Again. [[sim:text Second turn.]]", sessionId: SESSION_ID }));
    await settle(sim);
  });

  afterAll(() => resources.dispose());

  it("both turns' requests carry the same chain ids; the second turn's agent span links to the first's", () => {
    keepOnFailure(world);
    expect(first.exitCode, explain(first, world, sim)).toBe(0);
    expect(second.exitCode, explain(second, world, sim)).toBe(0);
    const firstChats = sim.requests.slice(0, firstCount).filter((r) => r.kind === "chat" && r.status === 200);
    const secondChats = sim.requests.slice(firstCount).filter((r) => r.kind === "chat" && r.status === 200);
    expect(firstChats.length).toBeGreaterThanOrEqual(1);
    expect(secondChats.length).toBeGreaterThanOrEqual(1);
    const agents = spansNamed(sim.otlp.spans, "invoke_agent main");
    expect(agents, sim.summary()).toHaveLength(2);
    const [one, two] = BigInt(agents[0]!.startTimeUnixNano) < BigInt(agents[1]!.startTimeUnixNano) ? [agents[0]!, agents[1]!] : [agents[1]!, agents[0]!];
    expect(two.traceId).not.toBe(one.traceId);
    const chain = trajectoryOf(one);
    for (const request of firstChats) {
      expect(nvext(request)!.agent_context).toEqual({ session_type_id: "openclaw_coding_agent", session_id: one.traceId, trajectory_id: chain });
    }
    for (const request of secondChats) {
      expect(request.headers["x-dynamo-session-id"]).toBe(chain);
      expect(request.headers["x-dynamo-parent-session-id"]).toBeUndefined();
      // x-request-id still names the exact chat span of the second process's own trace.
      expect(request.xRequestId).toMatch(new RegExp(`^${two.traceId}-[0-9a-f]{16}$`));
    }
    expect(two.attributes["dynamo.trajectory_id"]).toBe(chain);
    expect(two.links.map((l) => [`${l.traceId}-${l.spanId}`, l.attributes["link.kind"]])).toEqual([[chain, "dynamo_chain_start"]]);
    // A one-shot CLI's exit does not end the lead's conversation: no session-final for it.
    expect(sim.requests.filter((r) => r.sessionFinal)).toEqual([]);
    console.log(
      `local request sequence:\n${sim.requests
        .filter((r) => r.kind === "chat")
        .map((r) => {
          const ctx = nvext(r)?.agent_context as Record<string, string> | undefined;
          const ids = ctx ? `nvext session_id=${ctx.session_id} traj=${ctx.trajectory_id}` : `hdr session=${r.headers["x-dynamo-session-id"]}`;
          return `#${r.index} ${r.status} ${ids} x-request-id=${r.xRequestId}`;
        })
        .join("\n")}`,
    );
  });
});
