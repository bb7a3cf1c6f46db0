/**
 * OTLP metrics beside the traces (SPEC §3.2 "Metrics"; docs/serving-metrics.md): the GenAI client
 * metrics for `chat` calls, tool calls by tool and status, relay events sent/dropped. Only with an
 * OTLP endpoint and unless `OTEL_METRICS_EXPORTER=none` (or `OTEL_SDK_DISABLED`); same protocol,
 * headers and timeout as the traces. The plugin's own MeterProvider, never the global one.
 *
 * Metrics are derived from ended spans by a span processor (after the sampler: every recorded span
 * counts, sampled or not), so the request path pays nothing; the per-chunk gaps come from the
 * chat-timing buffer of the span. No ids are metric attributes: model, provider, server, tool name,
 * status and error class only.
 */
import type { Attributes, AttributeValue, Histogram } from "@opentelemetry/api";
import { OTLPMetricExporter as OTLPJsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as OTLPProtoMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics";
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace";
import type { DynamoPluginConfig } from "../types.ts";
import { DYNAMO, GEN_AI, OPERATION } from "./attributes.ts";
import { SERVING, chunkGapsOf } from "./chat-timing.ts";
import { ToolCallCounts } from "./tool-call-counts.ts";
import { PLUGIN_VERSION, TRACER_NAME, withTimeout, type Log } from "./export.ts";
import { displayUrl, otlpExporterOptions } from "./otlp-exporter.ts";
import { parseHttpUrl } from "../config/parse.ts";

/** Instrument names and units (otel-conventions: GenAI client metrics, semconv 1.41). */
export const METRIC = {
  TOKEN_USAGE: "gen_ai.client.token.usage",
  OPERATION_DURATION: "gen_ai.client.operation.duration",
  TIME_TO_FIRST_CHUNK: "gen_ai.client.operation.time_to_first_chunk",
  TIME_PER_OUTPUT_CHUNK: "gen_ai.client.operation.time_per_output_chunk",
  TOOL_CALLS: "dynamo.client.tool.calls",
  RELAY_EVENTS: "dynamo.relay.events",
} as const;

const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const SECONDS_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** Chunk gaps are far below the operation buckets: 1 ms … 2.56 s. */
const GAP_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56];

/** Copied from the span to the metric points (low cardinality only). */
const CHAT_KEYS = [GEN_AI.OPERATION_NAME, GEN_AI.PROVIDER_NAME, GEN_AI.REQUEST_MODEL, GEN_AI.RESPONSE_MODEL, GEN_AI.SERVER_ADDRESS, GEN_AI.SERVER_PORT];

export interface Metrics {
  readonly enabled: boolean;
  /** Joins the tracer provider's processors (src/services.ts); undefined when metrics are off. */
  readonly processor: SpanProcessor | undefined;
  /** Exports what was recorded so far, waiting at most `timeoutMs`; never rejects. */
  flush(timeoutMs: number): Promise<"flushed" | "timeout">;
  shutdown(timeoutMs: number): Promise<void>;
}

export interface MetricsOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Relay counters, read at each collection (absent without a relay). */
  readonly relayCounters?: () => { sent: number; dropped: number } | undefined;
  /** Tests: export here instead of OTLP. */
  readonly exporter?: PushMetricExporter;
}

const DISABLED: Metrics = {
  enabled: false,
  processor: undefined,
  flush: async () => "flushed",
  shutdown: async () => {},
};

export function metricsEnabled(config: DynamoPluginConfig, env: NodeJS.ProcessEnv = process.env): boolean {
  const selected = (env.OTEL_METRICS_EXPORTER ?? "otlp").split(",").map((v) => v.trim().toLowerCase());
  return Boolean(config.otlpEndpoint) && !config.sdkDisabled && !selected.includes("none");
}

/** `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics`, else beside the traces URL. */
export function metricsUrl(tracesUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  // Environment values that are not http(s) URLs are ignored (the traces URL was validated by the config).
  const own = env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?.trim();
  if (own && parseHttpUrl(own)) return own;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base && parseHttpUrl(base) && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()) return `${base.replace(/\/+$/, "")}/v1/metrics`;
  if (/\/v1\/traces\/?$/.test(tracesUrl)) return tracesUrl.replace(/\/v1\/traces\/?$/, "/v1/metrics");
  try {
    return new URL("/v1/metrics", tracesUrl).toString();
  } catch {
    return tracesUrl;
  }
}

/** Metrics never stop the plugin: a setup failure leaves them off, with one warning. */
export function createMetrics(config: DynamoPluginConfig, log: Log, options: MetricsOptions = {}): Metrics {
  try {
    return setUpMetrics(config, log, options);
  } catch (error) {
    log.warn(`OTLP metrics are off: ${error instanceof Error ? error.message : String(error)} (traces are unaffected).`);
    return DISABLED;
  }
}

function setUpMetrics(config: DynamoPluginConfig, log: Log, options: MetricsOptions): Metrics {
  const env = options.env ?? process.env;
  if (!options.exporter && !metricsEnabled(config, env)) return DISABLED;
  const exporter = options.exporter ?? createOtlpMetricExporter(config, env, log);
  const configured = Number(env.OTEL_METRIC_EXPORT_INTERVAL);
  const interval = Number.isFinite(configured) && configured >= 100 ? Math.min(configured, 2 ** 31 - 1) : 60_000;
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: interval,
    exportTimeoutMillis: Math.min(interval, config.otlpTimeoutMs),
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      "service.name": config.serviceName,
      "service.version": PLUGIN_VERSION,
    }),
    readers: [reader],
  });
  const meter = provider.getMeter(TRACER_NAME, PLUGIN_VERSION);
  const instruments: Instruments = {
    tokens: meter.createHistogram(METRIC.TOKEN_USAGE, {
      unit: "{token}",
      description: "Input and output tokens per model call",
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    }),
    duration: meter.createHistogram(METRIC.OPERATION_DURATION, {
      unit: "s",
      description: "Duration of model calls",
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    firstChunk: meter.createHistogram(METRIC.TIME_TO_FIRST_CHUNK, {
      unit: "s",
      description: "Time from request to the first output chunk of a streamed model call",
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    perChunk: meter.createHistogram(METRIC.TIME_PER_OUTPUT_CHUNK, {
      unit: "s",
      description: "Time between successive output chunks of a streamed model call",
      advice: { explicitBucketBoundaries: GAP_BUCKETS },
    }),
    tools: new ToolCallCounts({ tool: GEN_AI.TOOL_NAME, status: DYNAMO.TOOL_STATUS, errorType: GEN_AI.ERROR_TYPE }),
  };
  meter
    .createObservableCounter(METRIC.TOOL_CALLS, { unit: "{call}", description: "Tool calls by tool and status" })
    .addCallback((result) => instruments.tools.observe(result));
  const relayCounters = options.relayCounters;
  if (relayCounters) {
    meter
      .createObservableCounter(METRIC.RELAY_EVENTS, { unit: "{event}", description: "Tool events relayed to Dynamo, by outcome" })
      .addCallback((result) => {
        const counters = relayCounters();
        if (!counters) return;
        result.observe(counters.sent, { "dynamo.relay.outcome": "sent" });
        result.observe(counters.dropped, { "dynamo.relay.outcome": "dropped" });
      });
  }
  const processor = new MetricsSpanProcessor(instruments);
  let shutdownPromise: Promise<void> | undefined;
  // Export only when a span recorded something since the last export: a one-shot CLI flushes at
  // agent_end and shuts down at exit, and a second export of the same cumulative values would keep
  // the process alive for the exporter's retries when the collector is unreachable.
  return {
    enabled: true,
    processor,
    flush: async (timeoutMs) => (processor.takeDirty() ? withTimeout(provider.forceFlush(), timeoutMs) : "flushed"),
    shutdown(timeoutMs) {
      shutdownPromise ??= processor.takeDirty() ? withTimeout(provider.shutdown(), timeoutMs).then(() => undefined) : Promise.resolve();
      return shutdownPromise;
    },
  };
}

interface Instruments {
  tokens: Histogram;
  duration: Histogram;
  firstChunk: Histogram;
  perChunk: Histogram;
  tools: ToolCallCounts;
}

/** Records the metrics of each ended `chat` and `execute_tool` span. */
export class MetricsSpanProcessor implements SpanProcessor {
  private readonly instruments: Instruments;
  private dirty = false;

  constructor(instruments: Instruments) {
    this.instruments = instruments;
  }

  /** Whether anything was recorded since the last call. */
  takeDirty(): boolean {
    const dirty = this.dirty;
    this.dirty = false;
    return dirty;
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const a = span.attributes;
    const operation = a[GEN_AI.OPERATION_NAME];
    if (operation === OPERATION.CHAT) this.chat(span, a);
    else if (operation === OPERATION.EXECUTE_TOOL) {
      this.instruments.tools.add(a);
    } else return;
    this.dirty = true;
  }

  private chat(span: ReadableSpan, a: Attributes): void {
    const { tokens, duration, firstChunk, perChunk } = this.instruments;
    const base = pick(a, CHAT_KEYS);
    const [seconds, nanos] = span.duration;
    duration.record(seconds + nanos / 1e9, a[GEN_AI.ERROR_TYPE] === undefined ? base : { ...base, [GEN_AI.ERROR_TYPE]: a[GEN_AI.ERROR_TYPE] });
    const input = a[GEN_AI.USAGE_INPUT_TOKENS];
    const output = a[GEN_AI.USAGE_OUTPUT_TOKENS];
    if (typeof input === "number") tokens.record(input, { ...base, "gen_ai.token.type": "input" });
    if (typeof output === "number") tokens.record(output, { ...base, "gen_ai.token.type": "output" });
    // Latency histograms describe successful calls only (semconv).
    if (a[GEN_AI.ERROR_TYPE] !== undefined) return;
    const ttfc = a[SERVING.TIME_TO_FIRST_CHUNK];
    if (typeof ttfc === "number") firstChunk.record(ttfc, base);
    const gaps = chunkGapsOf(span);
    if (gaps) for (const gap of gaps) perChunk.record(gap / 1000, base);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function pick(a: Attributes, keys: readonly string[]): Attributes {
  const out: Record<string, AttributeValue> = {};
  for (const key of keys) {
    const value = a[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function createOtlpMetricExporter(config: DynamoPluginConfig, env: NodeJS.ProcessEnv, log: Log): PushMetricExporter {
  const url = metricsUrl(config.otlpEndpoint!, env);
  const protocol = (env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL?.trim() || config.otlpProtocol) === "http/json" ? "http/json" : "http/protobuf";
  // As for traces (./export.ts): the exporter reads OTEL_EXPORTER_OTLP_(METRICS_)HEADERS/TIMEOUT itself;
  // only what plugin config set is passed. The URL is explicit: metrics go beside the traces.
  const { url: _tracesUrl, ...shared } = otlpExporterOptions(config);
  const options = { ...shared, url };
  const inner = protocol === "http/json" ? new OTLPJsonMetricExporter(options) : new OTLPProtoMetricExporter(options);
  return new LoggingMetricExporter(inner, log, displayUrl(url));
}

/** One log line per distinct export failure cause; metrics never fail a run. */
class LoggingMetricExporter implements PushMetricExporter {
  private readonly seen = new Set<string>();
  private readonly inner: PushMetricExporter;
  private readonly log: Log;
  private readonly where: string;
  readonly selectAggregationTemporality: PushMetricExporter["selectAggregationTemporality"];
  readonly selectAggregation: PushMetricExporter["selectAggregation"];

  constructor(inner: PushMetricExporter, log: Log, where: string) {
    this.inner = inner;
    this.log = log;
    this.where = where;
    this.selectAggregationTemporality = inner.selectAggregationTemporality?.bind(inner);
    this.selectAggregation = inner.selectAggregation?.bind(inner);
  }

  export(...[metrics, done]: Parameters<PushMetricExporter["export"]>): void {
    this.inner.export(metrics, (result) => {
      if (result.code !== 0) {
        const cause = result.error?.message?.slice(0, 200) ?? "unknown error";
        if (!this.seen.has(cause) && this.seen.size < 20) {
          this.seen.add(cause);
          this.log.warn(`OTLP metrics export to ${this.where} failed: ${cause} (set OTEL_METRICS_EXPORTER=none to turn metrics off).`);
        }
      }
      done(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
