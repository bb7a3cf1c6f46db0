import { gzipSync } from "node:zlib";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator } from "./index.ts";
import type { Simulator } from "./index.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.clear();
  sim.faults.reset();
});

/** Export a small tree (agent → chat with an event, link and error status) through `exporter`. */
async function exportTree(exporter: SpanExporter): Promise<{ traceId: string; rootId: string; childId: string; linkSpanId: string }> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "sim-test", "openinference.project.name": "p1" }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer("openclaw-dynamo", "0.1.0");
  const root = tracer.startSpan("invoke_agent main", {
    kind: SpanKind.INTERNAL,
    attributes: { "openinference.span.kind": "AGENT", "gen_ai.usage.input_tokens": 12, ratio: 0.5, ok: true, tags: ["a", "b"] },
  });
  const linkSpanId = "00f067aa0ba902b7";
  const child = tracer.startSpan(
    "chat mock-model",
    {
      kind: SpanKind.CLIENT,
      links: [{ context: { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: linkSpanId, traceFlags: 1 }, attributes: { why: "inbound" } }],
    },
    trace.setSpan(context.active(), root),
  );
  child.addEvent("first_token", { n: 1 });
  child.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
  child.end();
  root.end();
  await provider.forceFlush();
  await provider.shutdown();
  return { traceId: root.spanContext().traceId, rootId: root.spanContext().spanId, childId: child.spanContext().spanId, linkSpanId };
}

function checkTree(ids: Awaited<ReturnType<typeof exportTree>>): void {
  const root = sim.otlp.spans.find((s) => s.name === "invoke_agent main")!;
  const child = sim.otlp.spans.find((s) => s.name === "chat mock-model")!;
  expect(root).toMatchObject({
    traceId: ids.traceId,
    spanId: ids.rootId,
    kind: 1,
    attributes: { "openinference.span.kind": "AGENT", "gen_ai.usage.input_tokens": 12, ratio: 0.5, ok: true, tags: ["a", "b"] },
    resource: { "service.name": "sim-test", "openinference.project.name": "p1" },
    scope: { name: "openclaw-dynamo", version: "0.1.0" },
    status: { code: 0 },
  });
  expect(root.parentSpanId).toBeUndefined();
  expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(child).toMatchObject({
    traceId: ids.traceId,
    parentSpanId: ids.rootId,
    spanId: ids.childId,
    kind: 3,
    status: { code: 2, message: "boom" },
    events: [{ name: "first_token", attributes: { n: 1 } }],
    links: [{ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: ids.linkSpanId, attributes: { why: "inbound" } }],
  });
  expect(BigInt(child.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(child.startTimeUnixNano));
}

describe("OTLP receiver", () => {
  it("decodes protobuf exports from exporter-trace-otlp-proto", async () => {
    const ids = await exportTree(new ProtoExporter({ url: sim.otlpUrl }));
    await sim.waitFor(() => sim.otlp.spans.length >= 2, 3000, "2 spans");
    checkTree(ids);
    expect(sim.otlp.exports.every((e) => e.contentType === "application/x-protobuf" && e.status === 200)).toBe(true);
  });

  it("decodes JSON exports from exporter-trace-otlp-http", async () => {
    const ids = await exportTree(new JsonExporter({ url: sim.otlpUrl }));
    await sim.waitFor(() => sim.otlp.spans.length >= 2, 3000, "2 spans");
    checkTree(ids);
    expect(sim.otlp.exports.every((e) => e.contentType === "application/json" && e.status === 200)).toBe(true);
  });

  it("handles gzip bodies and answers with the matching content type", async () => {
    const payload = {
      resourceSpans: [{
        resource: { attributes: [{ key: "service.name", value: { stringValue: "gz" } }] },
        scopeSpans: [{
          scope: { name: "s" },
          spans: [{
            traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
            spanId: "00f067aa0ba902b7",
            parentSpanId: "",
            name: "gzipped",
            kind: 1,
            startTimeUnixNano: "1",
            endTimeUnixNano: "2",
            attributes: [{ key: "n", value: { intValue: "7" } }, { key: "kv", value: { kvlistValue: { values: [{ key: "a", value: { boolValue: false } }] } } }],
          }],
        }],
      }],
    };
    const res = await fetch(sim.otlpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: gzipSync(JSON.stringify(payload)),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.text()).toBe("{}");
    expect(sim.otlp.spans[0]).toMatchObject({ name: "gzipped", attributes: { n: 7, kv: { a: false } }, resource: { "service.name": "gz" } });
    expect(sim.otlp.spans[0]!.parentSpanId).toBeUndefined();
    expect(sim.otlp.exports[0]).toMatchObject({ contentEncoding: "gzip", spanCount: 1, status: 200 });
  });
});
