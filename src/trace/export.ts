/**
 * The plugin's own tracer provider and OTLP export (SPEC §7). Never registered as the global
 * provider: a host that registered one keeps it. Span processors are the extension seam: the
 * relay joins as one, so the relay and the exporter see the same spans.
 */
import type { Tracer } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  createAlwaysRecordSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import type { DynamoPluginConfig } from "../types.ts";
import { OPENINFERENCE } from "./attributes.ts";
import { ReservableIdGenerator } from "./id-generator.ts";
import { createOtlpExporter, displayUrl } from "./otlp-exporter.ts";
import { SecretRedactingProcessor, secretsOf } from "./redact.ts";
import { PLUGIN_VERSION } from "../version.ts";

export const TRACER_NAME = "openclaw-dynamo";
export { PLUGIN_VERSION };

export interface ExporterStatus {
  enabled: boolean;
  endpoint?: string;
  protocol?: string;
  /** Spans handed to the exporter that it confirmed. */
  exported: number;
  /** Spans in exports that failed (collector down, 5xx, timeout). */
  failed: number;
  /** Sampled spans that ended; `ended - exported - failed` are queued, in flight, or were dropped. */
  ended: number;
  lastError?: string;
  lastSuccessAt?: number;
}

export interface Tracing {
  readonly tracer: Tracer;
  readonly provider: TracerProvider;
  readonly idGenerator: ReservableIdGenerator;
  readonly exporter: ExporterStatus;
  /** Flushes every processor, waiting at most `timeoutMs`; never rejects. */
  flush(timeoutMs: number): Promise<"flushed" | "timeout">;
  /** Flushes and shuts the provider down within `timeoutMs`; idempotent; never rejects. */
  shutdown(timeoutMs: number): Promise<void>;
}

export interface Log {
  warn(message: string): void;
  info(message: string): void;
}

export function createTracing(config: DynamoPluginConfig, log: Log, extraProcessors: SpanProcessor[] = []): Tracing {
  const idGenerator = new ReservableIdGenerator();
  const status: ExporterStatus = { enabled: false, exported: 0, failed: 0, ended: 0 };
  // First: every later processor (the relay, the exporter) sees spans with the known secrets replaced.
  const secrets = secretsOf(config);
  const processors: SpanProcessor[] = [...(secrets.length > 0 ? [new SecretRedactingProcessor(secrets)] : []), ...extraProcessors];
  if (config.otlpEndpoint && !config.sdkDisabled) {
    status.enabled = true;
    // Shown in status and log lines: without credentials a URL may carry (user:password@, ?token=).
    status.endpoint = displayUrl(config.otlpEndpoint);
    status.protocol = config.otlpProtocol;
    const exporter = new CountingExporter(createOtlpExporter(config), status, log);
    processors.push(new EndCountingProcessor(status));
    processors.push(
      new DeferredEndProcessor(
        new BatchSpanProcessor({
          exporter,
          maxQueueSize: 4096,
          maxExportBatchSize: 512,
          scheduledDelayMillis: 1000,
          exportTimeoutMillis: config.otlpTimeoutMs,
        }),
      ),
    );
  } else if (config.sdkDisabled && config.otlpEndpoint) {
    log.info("OTEL_SDK_DISABLED is set: no spans are exported (Dynamo identity and the relay still work).");
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes(resourceAttributes(config)),
    sampler: createSampler(config),
    idGenerator,
    // Content attributes are truncated by the plugin itself; keep every attribute it writes.
    spanLimits: { attributeCountLimit: 1024 },
    spanProcessors: processors,
  });
  let shutdownPromise: Promise<void> | undefined;
  // One forceFlush at a time, later callers sharing the next one: each forceFlush exports every
  // queued batch at once, so concurrent ones (every run's agent_end flushes; 64 runs ending together)
  // exceed the OTLP exporter's concurrent-export limit, which fails those spans outright
  // ("Concurrent export limit reached") although the collector is fine.
  let flushing: Promise<void> | undefined;
  let nextFlush: Promise<void> | undefined;
  const forceFlush = (): Promise<void> => {
    if (flushing === undefined) {
      flushing = provider.forceFlush().then(
        () => {
          flushing = undefined;
        },
        () => {
          flushing = undefined;
        },
      );
      return flushing;
    }
    nextFlush ??= flushing.then(() => {
      nextFlush = undefined;
      return forceFlush();
    });
    return nextFlush;
  };
  const flush = (timeoutMs: number) => withTimeout(forceFlush(), timeoutMs);
  return {
    tracer: provider.getTracer(TRACER_NAME, PLUGIN_VERSION),
    provider,
    idGenerator,
    exporter: status,
    flush,
    shutdown(timeoutMs) {
      shutdownPromise ??= (async () => {
        await flush(timeoutMs);
        await withTimeout(provider.shutdown(), Math.max(100, timeoutMs / 4));
        const unaccounted = status.ended - status.exported - status.failed;
        if (status.enabled && (unaccounted > 0 || status.failed > 0)) {
          log.warn(
            `OTLP export to ${status.endpoint}: ${status.exported} spans exported, ${status.failed} failed, ` +
              `${Math.max(0, unaccounted)} not delivered at shutdown.`,
          );
        }
      })();
      return shutdownPromise;
    },
  };
}

function resourceAttributes(config: DynamoPluginConfig): Record<string, string> {
  return {
    ...config.resourceAttributes,
    "service.name": config.serviceName,
    "service.version": PLUGIN_VERSION,
    ...(config.phoenixProject ? { [OPENINFERENCE.PROJECT_NAME]: config.phoenixProject } : {}),
  };
}

/**
 * The configured sampler decides what is exported; spans it drops are still recorded (not
 * sampled) so that Dynamo identity and the relay, which read spans, work whatever the sampling.
 */
function createSampler(config: DynamoPluginConfig): Sampler {
  const ratio = config.samplerArg ?? 1;
  const base: Record<string, () => Sampler> = {
    always_on: () => new AlwaysOnSampler(),
    always_off: () => new AlwaysOffSampler(),
    traceidratio: () => new TraceIdRatioBasedSampler(ratio),
    parentbased_always_on: () => new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    parentbased_always_off: () => new ParentBasedSampler({ root: new AlwaysOffSampler() }),
    parentbased_traceidratio: () => new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
  };
  const make = base[config.sampler] ?? base.parentbased_always_on!;
  return createAlwaysRecordSampler(make());
}

/** Counts sampled spans as they end, so undelivered spans can be reported. */
class EndCountingProcessor implements SpanProcessor {
  private readonly status: ExporterStatus;
  constructor(status: ExporterStatus) {
    this.status = status;
  }
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    if (span.spanContext().traceFlags & 1) this.status.ended++;
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/**
 * Hands ended spans to the batch processor on the next turn of the event loop instead of inside
 * `span.end()`. The BatchSpanProcessor exports as soon as its batch is full, synchronously: the
 * 512th span to end paid for serializing all 512 (milliseconds) inside whichever OpenClaw hook
 * ended it. Flush and shutdown hand over what is pending first, so what is exported is unchanged.
 */
class DeferredEndProcessor implements SpanProcessor {
  private readonly inner: SpanProcessor;
  private pending: ReadableSpan[] = [];
  private scheduled = false;
  constructor(inner: SpanProcessor) {
    this.inner = inner;
  }
  onStart(span: Parameters<SpanProcessor["onStart"]>[0], parentContext: Parameters<SpanProcessor["onStart"]>[1]): void {
    this.inner.onStart(span, parentContext);
  }
  onEnd(span: ReadableSpan): void {
    this.pending.push(span);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.handOver());
  }
  forceFlush(): Promise<void> {
    this.handOver();
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    this.handOver();
    return this.inner.shutdown();
  }
  private handOver(): void {
    this.scheduled = false;
    const spans = this.pending;
    if (spans.length === 0) return;
    this.pending = [];
    for (const span of spans) this.inner.onEnd(span);
  }
}

/** Wraps an OTLP exporter to count outcomes and log one line per distinct failure cause. */
class CountingExporter implements SpanExporter {
  private readonly loggedCauses = new Set<string>();
  private readonly inner: SpanExporter;
  private readonly status: ExporterStatus;
  private readonly log: Log;
  constructor(inner: SpanExporter, status: ExporterStatus, log: Log) {
    this.inner = inner;
    this.status = status;
    this.log = log;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        this.status.exported += spans.length;
        this.status.lastSuccessAt = Date.now();
      } else {
        this.status.failed += spans.length;
        const cause = result.error?.message ?? "unknown error";
        this.status.lastError = cause;
        if (!this.loggedCauses.has(cause) && this.loggedCauses.size < 20) {
          this.loggedCauses.add(cause);
          this.log.warn(`OTLP export to ${this.status.endpoint} failed: ${cause} (spans are counted, the run is unaffected).`);
        }
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

export async function withTimeout(promise: Promise<unknown>, timeoutMs: number): Promise<"flushed" | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => "flushed" as const, () => "flushed" as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
