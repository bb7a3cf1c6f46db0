// OTLP metrics wiring (src/trace/metrics.ts): when they are on, where they go, and what arrives at
// the simulator's OTLP receiver (decoded with the real protobuf / JSON decoders).
import { SpanKind } from "@opentelemetry/api";
import { SimpleSpanProcessor, InMemorySpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { DYNAMO, GEN_AI } from "../../src/trace/attributes.ts";
import { ChatTiming, recordServing } from "../../src/trace/chat-timing.ts";
import { METRIC, createMetrics, metricsEnabled, metricsUrl } from "../../src/trace/metrics.ts";
import { startSimulator, type Simulator } from "../sim/index.ts";

const log = { warn: () => {}, info: () => {} };
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("when metrics are exported", () => {
  const withEndpoint = loadConfig({ otlpEndpoint: "http://127.0.0.1:4318/v1/traces" }, {}).config;
  it("only with an OTLP endpoint, unless OTEL_METRICS_EXPORTER=none or the SDK is disabled", () => {
    expect(metricsEnabled(loadConfig({}, {}).config, {})).toBe(false);
    expect(metricsEnabled(withEndpoint, {})).toBe(true);
    expect(metricsEnabled(withEndpoint, { OTEL_METRICS_EXPORTER: "none" })).toBe(false);
    expect(metricsEnabled(withEndpoint, { OTEL_METRICS_EXPORTER: "otlp" })).toBe(true);
    const disabled = loadConfig({ otlpEndpoint: "http://127.0.0.1:4318/v1/traces" }, { OTEL_SDK_DISABLED: "true" }).config;
    expect(metricsEnabled(disabled, {})).toBe(false);
    const off = createMetrics(loadConfig({}, {}).config, log, { env: {} });
    expect(off.enabled).toBe(false);
    expect(off.processor).toBeUndefined();
  });

  it("to the metrics endpoint beside the traces one, or the one OTEL_* names", () => {
    expect(metricsUrl("http://c:4318/v1/traces", {})).toBe("http://c:4318/v1/metrics");
    expect(metricsUrl("http://c:6006/custom/path", {})).toBe("http://c:6006/v1/metrics");
    expect(metricsUrl("http://c:4318/v1/traces", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://o:4318/" })).toBe("http://o:4318/v1/metrics");
    expect(metricsUrl("http://c:4318/v1/traces", { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://m:9/x" })).toBe("http://m:9/x");
    // Junk in the environment is ignored, never thrown (found by test/faults/parsers.property.test.ts).
    expect(metricsUrl("http://c:4318/v1/traces", { OTEL_EXPORTER_OTLP_ENDPOINT: "/", OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "x" })).toBe("http://c:4318/v1/metrics");
    const config = loadConfig({ otlpEndpoint: "http://127.0.0.1:4318/v1/traces" }, {}).config;
    const metrics = createMetrics(config, log, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: "/", OTEL_METRIC_EXPORT_INTERVAL: "0.001" } });
    expect(metrics.enabled).toBe(true);
    void metrics.shutdown(100);
  });
});

describe("metrics at the OTLP receiver", () => {
  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it(`GenAI client metrics, tool calls and relay counters, low cardinality (${protocol})`, async () => {
      sim = await startSimulator();
      const config = loadConfig({ otlpEndpoint: sim.otlpUrl, otlpProtocol: protocol, serviceName: "metrics-test" }, {}).config;
      const metrics = createMetrics(config, log, { env: {}, relayCounters: () => ({ sent: 7, dropped: 2 }) });
      expect(metrics.enabled).toBe(true);
      const provider = new TracerProvider({
        spanProcessors: [metrics.processor!, new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })],
      });
      const tracer = provider.getTracer("t");
      const chatAttributes = {
        [GEN_AI.OPERATION_NAME]: "chat",
        [GEN_AI.PROVIDER_NAME]: "dynamo",
        [GEN_AI.REQUEST_MODEL]: "mock-model",
        [GEN_AI.SERVER_ADDRESS]: "127.0.0.1",
        [GEN_AI.SERVER_PORT]: 8000,
        [GEN_AI.CONVERSATION_ID]: "session-id-must-not-be-a-metric-attribute",
        [DYNAMO.X_REQUEST_ID]: "request-id-must-not-be-a-metric-attribute",
      };
      // One streamed call: first chunk after 120 ms, then 3 gaps of 30 ms (fake clock).
      let now = 0;
      const timing = new ChatTiming(() => now);
      now = 120;
      timing.observe("text_delta");
      for (let i = 0; i < 3; i++) {
        now += 30;
        timing.observe("text_delta");
      }
      const chat = tracer.startSpan("chat mock-model", { kind: SpanKind.CLIENT, attributes: chatAttributes });
      chat.setAttribute(GEN_AI.USAGE_INPUT_TOKENS, 100);
      chat.setAttribute(GEN_AI.USAGE_OUTPUT_TOKENS, 4);
      recordServing(chat, timing.summary(), { input: 100, output: 4, cacheRead: 60 });
      chat.end();
      // A failed call: duration with error.type, no latency histograms.
      const failed = tracer.startSpan("chat mock-model", { kind: SpanKind.CLIENT, attributes: chatAttributes });
      failed.setAttribute(GEN_AI.ERROR_TYPE, "500");
      failed.end();
      for (const status of ["succeeded", "succeeded", "error"]) {
        const tool = tracer.startSpan("execute_tool read", {
          attributes: { [GEN_AI.OPERATION_NAME]: "execute_tool", [GEN_AI.TOOL_NAME]: "read", [GEN_AI.TOOL_CALL_ID]: `call_${status}`, [DYNAMO.TOOL_STATUS]: status },
        });
        tool.end();
      }
      expect(await metrics.flush(5_000)).toBe("flushed");
      await sim.waitFor(() => sim!.otlp.metrics.length > 0, 5_000, "metric points");
      const exp = sim.otlp.metricExports[0]!;
      expect(exp.status).toBe(200);
      expect(exp.contentType).toBe(protocol === "http/json" ? "application/json" : "application/x-protobuf");
      const points = sim.otlp.metrics;
      const named = (name: string) => points.filter((p) => p.name === name);

      const duration = named(METRIC.OPERATION_DURATION);
      expect(duration.map((p) => [p.unit, p.kind, p.count, p.attributes[GEN_AI.ERROR_TYPE] ?? "none"]).sort()).toEqual([
        ["s", "histogram", 1, "500"],
        ["s", "histogram", 1, "none"],
      ]);
      const tokens = named(METRIC.TOKEN_USAGE);
      expect(tokens.map((p) => [p.unit, p.attributes["gen_ai.token.type"], p.sum]).sort()).toEqual([
        ["{token}", "input", 100],
        ["{token}", "output", 4],
      ]);
      const [ttfc] = named(METRIC.TIME_TO_FIRST_CHUNK);
      expect(ttfc).toMatchObject({ unit: "s", kind: "histogram", count: 1 });
      expect(ttfc!.sum).toBeCloseTo(0.12, 6);
      const [perChunk] = named(METRIC.TIME_PER_OUTPUT_CHUNK);
      expect(perChunk).toMatchObject({ unit: "s", kind: "histogram", count: 3 });
      expect(perChunk!.sum).toBeCloseTo(0.09, 6);
      for (const p of [...duration, ...tokens, ttfc!, perChunk!]) {
        expect(p.attributes).toMatchObject({
          [GEN_AI.OPERATION_NAME]: "chat",
          [GEN_AI.PROVIDER_NAME]: "dynamo",
          [GEN_AI.REQUEST_MODEL]: "mock-model",
          [GEN_AI.SERVER_ADDRESS]: "127.0.0.1",
          [GEN_AI.SERVER_PORT]: 8000,
        });
      }
      const tools = named(METRIC.TOOL_CALLS);
      expect(tools.map((p) => [p.unit, p.kind, p.monotonic, p.attributes[GEN_AI.TOOL_NAME], p.attributes[DYNAMO.TOOL_STATUS], p.value]).sort()).toEqual([
        ["{call}", "sum", true, "read", "error", 1],
        ["{call}", "sum", true, "read", "succeeded", 2],
      ]);
      const relay = named(METRIC.RELAY_EVENTS);
      expect(relay.map((p) => [p.attributes["dynamo.relay.outcome"], p.value]).sort()).toEqual([
        ["dropped", 2],
        ["sent", 7],
      ]);
      // No ids anywhere in the metric attributes.
      const keys = new Set(points.flatMap((p) => Object.keys(p.attributes)));
      for (const key of keys) expect(key).not.toMatch(/\.id$|conversation|x_request_id|call\.id/);
      expect(points[0]!.resource["service.name"]).toBe("metrics-test");
      // Nothing new since the flush: shutdown exports nothing more (a second export of the same
      // cumulative values would keep a one-shot CLI alive for the retries of an unreachable collector).
      const exports = sim.otlp.metricExports.length;
      await metrics.shutdown(2_000);
      expect(sim.otlp.metricExports.length).toBe(exports);
      await provider.shutdown();
    });
  }
});
