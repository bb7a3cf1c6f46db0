import { decode } from "@msgpack/msgpack";
import { SpanKind, SpanStatusCode, type Attributes } from "@opentelemetry/api";
import { AlwaysOffSampler, TracerProvider } from "@opentelemetry/sdk-trace";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Pull } from "zeromq";
import { DynamoToolRelayProcessor } from "../../src/relay/index.ts";
import type { DynamoToolRelayOptions, ToolEventRecord } from "../../src/relay/types.ts";
import type { DynamoProtocol } from "../../src/types.ts";
import { DYNAMO, GEN_AI, OPERATION } from "../../src/trace/attributes.ts";

const TOPIC = "agent-tool-events";
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const LEAD = `${TRACE}-7a1c2e9d0b3f4a55`;
const CHILD = `${TRACE}-c0ffee0012345678`;

let pull: Pull;
let endpoint: string;
let protocol: DynamoProtocol;
let processor: DynamoToolRelayProcessor;
let provider: TracerProvider;
let warnings: string[];

function setup(options: Partial<DynamoToolRelayOptions> = {}): void {
  warnings = [];
  processor = new DynamoToolRelayProcessor({
    endpoint,
    topic: TOPIC,
    capacity: 100_000,
    protocol: () => protocol,
    sessionTypeId: "openclaw_coding_agent",
    flushTimeoutMs: 5000,
    log: { warn: (m) => warnings.push(m), info: () => {} },
    ...options,
  });
  provider = new TracerProvider({ spanProcessors: [processor] });
}

beforeEach(async () => {
  pull = new Pull({ receiveTimeout: 5000 });
  await pull.bind("tcp://127.0.0.1:0");
  endpoint = pull.lastEndpoint as string;
  protocol = "headers";
  setup();
});

afterEach(async () => {
  await provider.shutdown();
  pull.close();
});

/** What the span tree puts on an `execute_tool` span when `before_tool_call` fires. */
function startToolSpan(tool: string, callId: string, extra: Attributes = {}) {
  return provider.getTracer("test").startSpan(`execute_tool ${tool}`, {
    kind: SpanKind.INTERNAL,
    attributes: {
      [GEN_AI.OPERATION_NAME]: OPERATION.EXECUTE_TOOL,
      [GEN_AI.TOOL_NAME]: tool,
      [GEN_AI.TOOL_CALL_ID]: callId,
      [DYNAMO.SESSION_ID]: TRACE,
      [DYNAMO.TRAJECTORY_ID]: LEAD,
      ...extra,
    },
  });
}

async function receive(count: number): Promise<Buffer[][]> {
  const messages: Buffer[][] = [];
  for (let i = 0; i < count; i++) messages.push(await pull.receive());
  return messages;
}

const payload = (message: Buffer[]) => decode(message[2]!) as ToolEventRecord & Record<string, any>;

describe("DynamoToolRelayProcessor", () => {
  it("relays a tool span as tool_start and tool_end: 3 frames, topic, big-endian seq, msgpack map", async () => {
    const span = startToolSpan("read", "call_7f3a");
    span.setAttributes({ [DYNAMO.TOOL_STATUS]: "succeeded", [DYNAMO.TOOL_OUTPUT_BYTES]: 1532 });
    span.end();
    await processor.forceFlush();

    const messages = await receive(2);
    for (const [i, message] of messages.entries()) {
      expect(message).toHaveLength(3);
      expect(message[0]!.toString("utf8")).toBe(TOPIC);
      expect(message[1]!.length).toBe(8);
      expect(message[1]!.readBigUInt64BE()).toBe(BigInt(i));
    }
    const [start, end] = messages.map(payload);
    expect(start).toEqual({
      schema: "dynamo.request.trace.v1",
      event_type: "tool_start",
      event_time_unix_ms: start!.tool.started_at_unix_ms,
      session_id: LEAD,
      tool: { tool_call_id: "call_7f3a", tool_class: "read", started_at_unix_ms: start!.tool.started_at_unix_ms, status: "running" },
    });
    expect(Math.abs(start!.event_time_unix_ms - Date.now())).toBeLessThan(5000);
    expect(end).toMatchObject({
      schema: "dynamo.request.trace.v1",
      event_type: "tool_end",
      session_id: LEAD,
      tool: {
        tool_call_id: "call_7f3a",
        tool_class: "read",
        started_at_unix_ms: start!.tool.started_at_unix_ms,
        status: "succeeded",
        output_bytes: 1532,
      },
    });
    expect(end!.event_time_unix_ms).toBe(end!.tool.ended_at_unix_ms);
    expect(end!.tool.ended_at_unix_ms).toBeGreaterThanOrEqual(start!.tool.started_at_unix_ms);
    expect(Number.isFinite(end!.tool.duration_ms)).toBe(true);
    expect(processor.status()).toMatchObject({ endpoint, topic: TOPIC, connected: true, enqueued: 2, sent: 2, pending: 0, skipped: 0, peerFaults: 0 });
  });

  it("follows a protocol switch at run time and relays failures as tool_error", async () => {
    const lead = startToolSpan("exec", "call_1");
    protocol = "nvext"; // e.g. `auto` fell back... the other way round is just as possible
    const child = startToolSpan("agent_tools---search", "call_2", {
      [DYNAMO.TRAJECTORY_ID]: CHILD,
      [DYNAMO.PARENT_TRAJECTORY_ID]: LEAD,
    });
    child.setAttributes({ [DYNAMO.TOOL_STATUS]: "error", [GEN_AI.ERROR_TYPE]: "TimeoutError", [DYNAMO.TOOL_OUTPUT_BYTES]: 0 });
    child.setStatus({ code: SpanStatusCode.ERROR, message: "timed out" });
    child.end();
    protocol = "headers";
    lead.setAttribute(DYNAMO.TOOL_STATUS, "cancelled");
    lead.end();
    await processor.forceFlush();

    const [leadStart, childStart, childEnd, leadEnd] = (await receive(4)).map(payload);
    expect(leadStart).toMatchObject({ schema: "dynamo.request.trace.v1", event_type: "tool_start", session_id: LEAD });
    expect(childStart).toMatchObject({
      schema: "dynamo.agent.trace.v1",
      event_type: "tool_start",
      event_source: "harness",
      agent_context: { session_type_id: "openclaw_coding_agent", session_id: TRACE, trajectory_id: CHILD, parent_trajectory_id: LEAD },
      tool: { tool_call_id: "call_2", tool_class: "agent_tools", status: "running" },
    });
    expect(childEnd).toMatchObject({
      schema: "dynamo.agent.trace.v1",
      event_type: "tool_error",
      tool: { tool_call_id: "call_2", status: "error", error_type: "TimeoutError", output_bytes: 0 },
    });
    expect(leadEnd).toMatchObject({ schema: "dynamo.request.trace.v1", event_type: "tool_end", tool: { status: "cancelled" } });
    expect(leadEnd!.tool).not.toHaveProperty("error_type");
    expect(leadEnd!.tool).not.toHaveProperty("output_bytes");
  });

  it("ignores other spans and counts tool spans without ids as skipped", async () => {
    const tracer = provider.getTracer("test");
    tracer.startSpan("invoke_agent main", { attributes: { [GEN_AI.OPERATION_NAME]: OPERATION.INVOKE_AGENT } }).end();
    tracer.startSpan("chat m", { kind: SpanKind.CLIENT, attributes: { [GEN_AI.OPERATION_NAME]: OPERATION.CHAT } }).end();
    startToolSpan("read", "", {}).end();
    startToolSpan("read", "call_x", { [DYNAMO.TRAJECTORY_ID]: undefined }).end();
    await processor.forceFlush();
    expect(processor.status()).toMatchObject({ enqueued: 0, dropped: 0, skipped: 4 });
  });

  it("never lets a failure escape into the agent run", () => {
    setup({
      protocol: () => {
        throw new Error("protocol not negotiated");
      },
    });
    expect(() => startToolSpan("read", "call_1").end()).not.toThrow();
    expect(processor.status().skipped).toBe(2);
  });

  it("delivers 10,000 events below capacity without loss, in order", async () => {
    const spans = 5000;
    const started = performance.now();
    for (let i = 0; i < spans; i++) {
      const span = startToolSpan("read", `call_${i}`);
      span.setAttribute(DYNAMO.TOOL_OUTPUT_BYTES, i);
      span.end();
    }
    const enqueueMs = performance.now() - started;
    await processor.forceFlush();

    const messages = await receive(2 * spans);
    const seqs = messages.map((m) => m[1]!.readBigUInt64BE());
    expect(seqs.every((seq, i) => seq === BigInt(i))).toBe(true);
    const records = messages.map(payload);
    expect(records.filter((r) => r.event_type === "tool_start")).toHaveLength(spans);
    expect(records.filter((r) => r.event_type === "tool_end").map((r) => r.tool.tool_call_id)).toEqual(
      Array.from({ length: spans }, (_, i) => `call_${i}`),
    );
    expect(processor.status()).toMatchObject({ enqueued: 10_000, sent: 10_000, dropped: 0, errors: 0, pending: 0 });
    expect(enqueueMs).toBeLessThan(2000);
  });

  it("drops and counts once the queue is full", async () => {
    await provider.shutdown();
    setup({ capacity: 4, endpoint: "tcp://127.0.0.1:1", flushTimeoutMs: 50 });
    for (let i = 0; i < 3; i++) startToolSpan("read", `call_${i}`).end();
    expect(processor.status()).toMatchObject({ enqueued: 4, dropped: 2, pending: 4, connected: false });
    expect(warnings.filter((w) => w.includes("queue is full"))).toHaveLength(1);
  });

  it("shuts down within the flush bound, counts what was never delivered, and drops later events", async () => {
    await provider.shutdown();
    setup({ endpoint: "tcp://127.0.0.1:1", flushTimeoutMs: 100 });
    startToolSpan("read", "call_1").end();
    const started = performance.now();
    await processor.shutdown();
    await processor.shutdown();
    expect(performance.now() - started).toBeLessThan(1000);
    startToolSpan("read", "call_2").end();
    expect(processor.status()).toMatchObject({ enqueued: 2, sent: 0, undelivered: 2, dropped: 2, pending: 0, connected: false });
    expect(warnings.at(-1)).toContain("2 undelivered");
  });

  it("sees nothing of spans the sampler does not record", async () => {
    await provider.shutdown();
    setup();
    provider = new TracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [processor] });
    startToolSpan("read", "call_1").end();
    expect(processor.status()).toMatchObject({ enqueued: 0, skipped: 0 });
  });
});
