// The plugin's own tracer provider and OTLP export (SPEC §7): samplers, resource, bounded flush,
// exporter counters, protocol choice.
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { ROOT_CONTEXT, SamplingDecision, SpanKind, TraceFlags, trace } from "@opentelemetry/api";
import { TraceIdRatioBasedSampler, type ReadableSpan, type SpanProcessor } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { PLUGIN_VERSION, TRACER_NAME, createTracing, withTimeout, type Tracing } from "../../src/trace/export.ts";

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

let tracing: Tracing | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await tracing?.shutdown(300);
  tracing = undefined;
  while (closers.length > 0) await closers.pop()!();
});

/** A collector answering every export with `status`. */
async function collector(status: number): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server: HttpServer = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(status === 200 ? "{}" : '{"error":"boom"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, received };
}

/** A TCP server that accepts connections and never answers. */
async function blackHole(): Promise<{ url: string; connections: () => number }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: NetServer = createNetServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("data", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, connections: () => accepted };
}

function recorder() {
  const ended: ReadableSpan[] = [];
  const processor: SpanProcessor = {
    onStart: () => {},
    onEnd: (span) => ended.push(span),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  return { ended, processor };
}

function logger() {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, log: { warn: (m: string) => warnings.push(m), info: (m: string) => infos.push(m) } };
}

function makeSpans(t: Tracing, count: number): void {
  for (let i = 0; i < count; i++) t.tracer.startSpan(`span-${i}`, { kind: SpanKind.INTERNAL }, ROOT_CONTEXT).end();
}

describe("createTracing: provider, resource, samplers", () => {
  it("keeps its provider private and names the tracer", () => {
    const { log } = logger();
    const rec = recorder();
    tracing = createTracing(loadConfig({}, {}).config, log, [rec.processor]);
    expect(trace.getTracerProvider()).not.toBe(tracing.provider);
    makeSpans(tracing, 1);
    expect(rec.ended[0]!.instrumentationScope).toMatchObject({ name: TRACER_NAME, version: PACKAGE_VERSION });
    expect(tracing.exporter).toEqual({ enabled: false, exported: 0, failed: 0, ended: 0 });
  });

  it("sets service.name, service.version and openinference.project.name on the resource", () => {
    const { log } = logger();
    const rec = recorder();
    const { config } = loadConfig(
      { serviceName: "my-openclaw", phoenixProject: "agents", resourceAttributes: { "deployment.environment": "test", "service.name": "ignored" } },
      {},
    );
    tracing = createTracing(config, log, [rec.processor]);
    makeSpans(tracing, 1);
    expect(PLUGIN_VERSION).toBe(PACKAGE_VERSION);
    expect(rec.ended[0]!.resource.attributes).toMatchObject({
      "service.name": "my-openclaw",
      "service.version": PACKAGE_VERSION,
      "openinference.project.name": "agents",
      "deployment.environment": "test",
    });
  });

  it("defaults: service.name openclaw, no project", () => {
    const { log } = logger();
    const rec = recorder();
    tracing = createTracing(loadConfig({}, {}).config, log, [rec.processor]);
    makeSpans(tracing, 1);
    expect(rec.ended[0]!.resource.attributes["service.name"]).toBe("openclaw");
    expect(rec.ended[0]!.resource.attributes["openinference.project.name"]).toBeUndefined();
  });

  it("always_off still records every span for other processors but exports none", async () => {
    const sink = await collector(200);
    const { log } = logger();
    const rec = recorder();
    tracing = createTracing(loadConfig({ sampler: "always_off", otlpEndpoint: sink.url }, {}).config, log, [rec.processor]);
    makeSpans(tracing, 3);
    expect(await tracing.flush(1_000)).toBe("flushed");
    expect(rec.ended).toHaveLength(3);
    for (const span of rec.ended) expect(span.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(0);
    expect(sink.received).toEqual([]);
    expect(tracing.exporter).toMatchObject({ enabled: true, ended: 0, exported: 0, failed: 0 });
  });

  it("traceidratio 0 samples nothing, 1 samples everything", () => {
    for (const [ratio, sampled] of [
      [0, 0],
      [1, 1],
    ] as const) {
      const { log } = logger();
      const rec = recorder();
      const t = createTracing(loadConfig({ sampler: "traceidratio", samplerArg: ratio }, {}).config, log, [rec.processor]);
      makeSpans(t, 20);
      expect(rec.ended.map((span) => span.spanContext().traceFlags & TraceFlags.SAMPLED)).toEqual(new Array(20).fill(sampled));
      void t.shutdown(100);
    }
  });

  it("traceidratio 0.5 decides per trace id exactly like TraceIdRatioBasedSampler", () => {
    const { log } = logger();
    const rec = recorder();
    tracing = createTracing(loadConfig({ sampler: "traceidratio", samplerArg: 0.5 }, {}).config, log, [rec.processor]);
    makeSpans(tracing, 200);
    const reference = new TraceIdRatioBasedSampler(0.5);
    const expected = rec.ended.map((span) =>
      reference.shouldSample(ROOT_CONTEXT, span.spanContext().traceId).decision === SamplingDecision.RECORD_AND_SAMPLED ? 1 : 0,
    );
    const actual = rec.ended.map((span) => span.spanContext().traceFlags & TraceFlags.SAMPLED);
    expect(actual).toEqual(expected);
    expect(rec.ended).toHaveLength(200); // recorded whatever the decision
    expect(actual).toContain(0);
    expect(actual).toContain(1);
  });

  it("OTEL_SDK_DISABLED: no exporter, one info line", () => {
    const { log, infos } = logger();
    tracing = createTracing(loadConfig({ sdkDisabled: true, otlpEndpoint: "http://127.0.0.1:9/v1/traces" }, {}).config, log);
    expect(tracing.exporter.enabled).toBe(false);
    expect(infos).toEqual(["OTEL_SDK_DISABLED is set: no spans are exported (Dynamo identity and the relay still work)."]);
  });
});

describe("createTracing: OTLP export", () => {
  it("exports protobuf by default, with x-project-name, and counts exported spans", async () => {
    const sink = await collector(200);
    const { log, warnings } = logger();
    tracing = createTracing(loadConfig({ otlpEndpoint: sink.url, phoenixProject: "agents", otlpHeaders: { "x-team": "infra" } }, {}).config, log);
    makeSpans(tracing, 3);
    expect(await tracing.flush(2_000)).toBe("flushed");
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]!.path).toBe("/v1/traces");
    expect(sink.received[0]!.headers["content-type"]).toBe("application/x-protobuf");
    expect(sink.received[0]!.headers["x-project-name"]).toBe("agents");
    expect(sink.received[0]!.headers["x-team"]).toBe("infra");
    expect(tracing.exporter).toMatchObject({ enabled: true, endpoint: sink.url, protocol: "http/protobuf", ended: 3, exported: 3, failed: 0 });
    expect(tracing.exporter.lastSuccessAt).toBeTypeOf("number");
    expect(warnings).toEqual([]);
  });

  it("exports OTLP/JSON for http/json, with the resource on the wire; an explicit x-project-name header wins", async () => {
    const sink = await collector(200);
    const { log } = logger();
    const { config } = loadConfig({ otlpEndpoint: sink.url, otlpProtocol: "http/json", phoenixProject: "agents", otlpHeaders: { "X-Project-Name": "other" } }, {});
    tracing = createTracing(config, log);
    makeSpans(tracing, 2);
    expect(await tracing.flush(2_000)).toBe("flushed");
    const request = sink.received[0]!;
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["x-project-name"]).toBe("other");
    const body = JSON.parse(request.body.toString("utf8")) as {
      resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: unknown[] }> }>;
    };
    const resource = Object.fromEntries(body.resourceSpans[0]!.resource.attributes.map((a) => [a.key, a.value.stringValue]));
    expect(resource).toMatchObject({ "service.name": "openclaw", "service.version": PACKAGE_VERSION, "openinference.project.name": "agents" });
    expect(body.resourceSpans[0]!.scopeSpans[0]!.spans).toHaveLength(2);
    expect(tracing.exporter).toMatchObject({ protocol: "http/json", exported: 2, ended: 2 });
  });

  it("counts spans of a 500-answering collector as failed and logs the cause once", async () => {
    const sink = await collector(500);
    const { log, warnings } = logger();
    tracing = createTracing(loadConfig({ otlpEndpoint: sink.url }, {}).config, log);
    makeSpans(tracing, 3);
    expect(await tracing.flush(2_000)).toBe("flushed");
    makeSpans(tracing, 2);
    expect(await tracing.flush(2_000)).toBe("flushed");
    expect(sink.received).toHaveLength(2); // 500 is not retryable
    expect(tracing.exporter).toMatchObject({ ended: 5, exported: 0, failed: 5 });
    expect(tracing.exporter.lastError).toBeTypeOf("string");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^OTLP export to ${sink.url.replace(/[.?]/g, "\\$&")} failed: .+ \\(spans are counted, the run is unaffected\\)\\.$`));
  });

  it("flush resolves 'timeout' within its bound when the collector accepts and never answers", async () => {
    const hole = await blackHole();
    const { log, warnings } = logger();
    // The exporter's own timeout (10 s) is far beyond the flush bound, so only the bound can end the wait.
    tracing = createTracing(loadConfig({ otlpEndpoint: hole.url, otlpTimeoutMs: 10_000 }, {}).config, log);
    makeSpans(tracing, 2);
    expect(await tracing.flush(150)).toBe("timeout");
    expect(hole.connections()).toBe(1);
    expect(tracing.exporter).toMatchObject({ ended: 2, exported: 0, failed: 0 });
    // Shutdown is bounded too and reports the undelivered spans.
    await tracing.shutdown(200);
    expect(warnings.at(-1)).toMatch(/: 0 spans exported, 0 failed, 2 not delivered at shutdown\.$/);
    tracing = undefined;
  });

  it("shutdown is idempotent", async () => {
    const { log } = logger();
    const t = createTracing(loadConfig({}, {}).config, log);
    const first = t.shutdown(100);
    expect(t.shutdown(100)).toBe(first);
    await first;
  });
});

describe("withTimeout", () => {
  it("resolves flushed, flushed on rejection, or timeout", async () => {
    expect(await withTimeout(Promise.resolve(), 1_000)).toBe("flushed");
    expect(await withTimeout(Promise.reject(new Error("x")), 1_000)).toBe("flushed");
    expect(await withTimeout(new Promise(() => {}), 10)).toBe("timeout");
  });
});
