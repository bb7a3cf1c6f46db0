/**
 * SPEC §3.3: a Gateway run whose request carried an upstream `traceparent` continues that trace.
 *
 * One Gateway with the plugin (Dynamo 1.3+ sim), one authenticated WebSocket connection
 * (`ws-client.ts`), two `agent` requests on it:
 *   1. with `traceparent: 00-<upstream trace>-<upstream span>-01` on the request frame → every span
 *      of the run and every model request's `traceparent` are in the upstream trace;
 *   2. without one → the run gets a fresh trace of its own.
 * The upstream span id is not visible to plugins, so the run's `invoke_agent` span is a root within
 * the upstream trace (no parent span id); the test pins that down.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OtlpSpan, RecordedRequest, Simulator } from "../sim/index.ts";
import {
  keepOnFailure,
  Resources,
  startGateway,
  tail,
  Timings,
  type GatewayStopResult,
  type OpenClawWorld,
  type RunningGateway,
} from "./harness/index.ts";
import { agentOf, byId, parseTraceparent, spansNamed, traceIds } from "./trace-helpers.ts";
import { connectGateway, newTraceparent, type AgentFinalPayload, type GatewayConnection, type GatewayResponse } from "./ws-client.ts";

const MESSAGE_1 = "Please read hello.txt. [[sim:read hello.txt]] [[sim:text Upstream run done.]]";
const MESSAGE_2 = "Please read hello.txt again. [[sim:read hello.txt]] [[sim:text Fresh run done.]]";
const upstream = newTraceparent();
const timings = new Timings();
const resources = new Resources();

interface RunCapture {
  response: GatewayResponse<AgentFinalPayload>;
  runId: string;
  chats: RecordedRequest[];
  spans: OtlpSpan[];
  agent: OtlpSpan;
}

let sim: Simulator;
let world: OpenClawWorld;
let gateway: RunningGateway;
let connection: GatewayConnection;
let run1: RunCapture;
let run2: RunCapture;
let stop: GatewayStopResult;

const isFinalAnswer = (r: RecordedRequest) => r.kind === "chat" && r.status === 200 && r.toolCalls.length === 0 && r.finishedAt !== undefined;

/** Send one `agent` request and wait for its final answer, the sim's final chat answer, and its spans. */
async function runAgent(label: string, message: string, traceparent?: string): Promise<RunCapture> {
  const fromRequest = sim.requests.length;
  const fromSpan = sim.otlp.spans.length;
  const t0 = Date.now();
  const response = await connection.agent({ message, agentId: "main" }, { ...(traceparent ? { traceparent } : {}), timeoutMs: 60_000 });
  timings.add(`${label}: agent request → accepted`, (response.acceptedAtMs ?? Number.NaN) - t0);
  timings.add(`${label}: agent request → final`, response.finishedAtMs - t0);
  const runId = String(response.payload.runId ?? (response.accepted as { runId?: unknown } | undefined)?.runId ?? "");
  const t1 = Date.now();
  const failure = (error: unknown) => {
    throw new Error(`${String(error)}\n${sim.summary()}\ngateway log:\n${tail(gateway.logs(), 40)}`);
  };
  await sim.waitFor(() => sim.requests.slice(fromRequest).some(isFinalAnswer), 30_000, `${label}: final chat answer`).catch(failure);
  const agent = await sim
    .waitFor(
      () => sim.otlp.spans.slice(fromSpan).find((s) => s.name === "invoke_agent main" && s.attributes["openclaw.run.id"] === runId),
      30_000,
      `${label}: invoke_agent span of run ${runId}`,
    )
    .catch(failure);
  // The run's spans are flushed together at run end; give a straggling export a moment.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  timings.add(`${label}: final → spans exported`, Date.now() - t1);
  return {
    response,
    runId,
    chats: sim.requests.slice(fromRequest).filter((r) => r.kind === "chat"),
    spans: sim.otlp.spans.slice(fromSpan),
    agent,
  };
}

beforeAll(async () => {
  await timings.timed("sim + world + gateway start", async () => {
    sim = await resources.newSim({ generation: "headers" });
    world = await resources.newWorld({
      name: "gateway-upstream",
      gateway: true,
      pluginConfig: { baseUrl: sim.baseUrl, otlpEndpoint: sim.otlpUrl },
    });
    gateway = await startGateway(world);
  });

  connection = await timings.timed("ws connect + hello-ok", () => connectGateway({ port: gateway.port, token: gateway.token }));

  run1 = await runAgent("run 1 (upstream traceparent)", MESSAGE_1, upstream.traceparent);
  run2 = await runAgent("run 2 (no traceparent)", MESSAGE_2);

  await timings.timed("ws close + gateway stop", async () => {
    await connection.close();
    stop = await gateway.stop({ graceMs: 15_000 });
  });
}, 150_000);

afterAll(async () => {
  const describeSpan = (s: OtlpSpan) => `    ${s.traceId} ${s.spanId} parent=${s.parentSpanId ?? "-"} ${s.name}`;
  console.log(
    [
      "gateway upstream traceparent e2e:",
      `  upstream traceparent ${upstream.traceparent}`,
      `  hello-ok auth ${JSON.stringify(connection?.hello.auth)} protocol ${connection?.hello.protocol}`,
      ...(run1 ? [`  run 1 ${run1.runId} agent parent=${run1.agent.parentSpanId ?? "(none)"}`, ...run1.spans.map(describeSpan)] : []),
      ...(run2 ? [`  run 2 ${run2.runId} agent parent=${run2.agent.parentSpanId ?? "(none)"}`, ...run2.spans.map(describeSpan)] : []),
      "  timings:",
      ...timings.rows(44, { indent: "    " }),
    ].join("\n"),
  );
  await connection?.close().catch(() => {});
  await resources.dispose();
});

describe("handshake and both runs", () => {
  it("connects as a local operator and both agent requests answer accepted, then ok", () => {
    keepOnFailure(world);
    expect(connection.hello.type).toBe("hello-ok");
    expect(connection.hello.protocol).toBe(4);
    expect(connection.hello.auth.scopes).toContain("operator.admin");
    for (const run of [run1, run2]) {
      expect(run.response.accepted).toMatchObject({ status: "accepted" });
      expect(run.response.payload.status, JSON.stringify(run.response.payload)).toBe("ok");
      expect(run.runId).toMatch(/\S/);
    }
    expect(run1.runId).not.toBe(run2.runId);
    const text = (run: RunCapture) => (run.response.payload.result?.payloads ?? []).map((p) => p.text ?? "").join("\n");
    expect(text(run1)).toContain("Upstream run done.");
    expect(text(run2)).toContain("Fresh run done.");
  });

  it("the Gateway stops cleanly", () => {
    keepOnFailure(world);
    expect(stop.graceful, tail(gateway.logs(), 30)).toBe(true);
  });
});

describe("run 1: request frame carried an upstream traceparent", () => {
  it("exports the run's agent, chat and tool spans", () => {
    keepOnFailure(world);
    const names = run1.spans.map((s) => s.name).sort();
    expect(names).toEqual(["chat mock-model", "chat mock-model", "execute_tool read", "invoke_agent main"]);
  });

  it("every exported span of the run is in the upstream trace", () => {
    keepOnFailure(world);
    expect(traceIds(run1.spans)).toEqual([upstream.traceId]);
    for (const span of run1.spans) expect(agentOf(run1.spans, span) ?? span, span.name).toBe(run1.agent);
  });

  it("nothing else lands in the upstream trace", () => {
    keepOnFailure(world);
    expect(sim.otlp.spans.filter((s) => s.traceId === upstream.traceId)).toHaveLength(run1.spans.length);
  });

  it("the root invoke_agent span has no parent span: a root within the upstream trace", () => {
    keepOnFailure(world);
    expect(run1.agent.traceId).toBe(upstream.traceId);
    expect(run1.agent.attributes["openclaw.run.kind"]).toBe("lead");
    expect(run1.agent.parentSpanId).toBeUndefined();
    expect(run1.agent.spanId).not.toBe(upstream.spanId);
    expect(run1.agent.links).toEqual([]);
  });

  it("each model request's traceparent carries the upstream trace id and names its chat span", () => {
    keepOnFailure(world);
    const answered = run1.chats.filter((r) => r.status === 200);
    expect(answered).toHaveLength(2);
    for (const request of answered) {
      const parent = parseTraceparent(request.traceparent);
      expect(parent?.traceId, request.traceparent).toBe(upstream.traceId);
      expect(parent!.spanId).not.toBe(upstream.spanId);
      const chat = byId(run1.spans, parent!.spanId);
      expect(chat?.name).toBe("chat mock-model");
      expect(chat!.parentSpanId).toBe(run1.agent.spanId);
    }
  });
});

describe("run 2: same connection, no traceparent", () => {
  it("gets a fresh trace of its own", () => {
    keepOnFailure(world);
    const [traceId] = traceIds(run2.spans);
    expect(traceIds(run2.spans)).toHaveLength(1);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceId).not.toBe(upstream.traceId);
    expect(run2.agent.traceId).toBe(traceId);
    expect(run2.agent.parentSpanId).toBeUndefined();
    expect(traceId).not.toBe(run1.agent.traceId);
    expect(spansNamed(run2.spans, "chat mock-model")).toHaveLength(2);
    for (const request of run2.chats.filter((r) => r.status === 200)) {
      expect(parseTraceparent(request.traceparent)?.traceId, request.traceparent).toBe(traceId);
    }
  });
});
