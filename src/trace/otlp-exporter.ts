/**
 * The OTLP span exporter and the options every OTLP exporter of the plugin (traces, ./metrics.ts)
 * is given: only what plugin config set, so `OTEL_EXPORTER_OTLP_*` stays the exporters' own to read
 * (docs/settings.md).
 */
import { OTLPTraceExporter as OTLPJsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OTLPProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { DynamoPluginConfig } from "../types.ts";

export function createOtlpExporter(config: DynamoPluginConfig): SpanExporter {
  const options = otlpExporterOptions(config);
  // `exporter-trace-otlp-http` only speaks OTLP/JSON; protobuf (the default, and all Phoenix
  // accepts) needs the proto exporter (otel-conventions.md §6).
  return config.otlpProtocol === "http/json" ? new OTLPJsonTraceExporter(options) : new OTLPProtoTraceExporter(options);
}

/**
 * The OTLP exporter reads `OTEL_EXPORTER_OTLP_*` itself (endpoint, headers, timeout, compression,
 * certificates); it is given only what the plugin config set, and the Phoenix project header
 * (docs/settings.md).
 */
export function otlpExporterOptions(config: DynamoPluginConfig): { url?: string; headers?: Record<string, string>; timeoutMillis?: number } {
  const set = new Set<string>(config.fromPluginConfig);
  const headers: Record<string, string> = set.has("otlpHeaders") ? { ...config.otlpHeaders } : {};
  // Phoenix (>= 15.5) routes spans by this header before the resource attribute; `otlpHeaders` holds the env ones too.
  if (config.phoenixProject && !Object.keys(config.otlpHeaders).some((key) => key.toLowerCase() === "x-project-name")) {
    headers["x-project-name"] = config.phoenixProject;
  }
  return {
    ...(set.has("otlpEndpoint") ? { url: config.otlpEndpoint } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(set.has("otlpTimeoutMs") ? { timeoutMillis: config.otlpTimeoutMs } : {}),
  };
}

/** `url` without userinfo, and with any query replaced by `?…`. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search ? "?…" : ""}`;
  } catch {
    return "the configured OTLP endpoint";
  }
}
