// OTLP/HTTP receiver (traces and metrics) on its own port (so collector faults are independent of the frontend).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Faults } from "./faults.ts";
import { answer, listenLocal, readBody } from "./http-util.ts";
import type { Listening } from "./http-util.ts";
import { decodeJsonMetrics, decodeProtobufMetrics, type OtlpMetricPoint } from "./otlp-metrics.ts";
import { decodeJsonSpans, decodeProtobufSpans } from "./otlp-normalize.ts";
import type { OtlpExport, OtlpSpan } from "./types.ts";

export interface OtlpDeps {
  faults: Faults;
  spans: OtlpSpan[];
  exports: OtlpExport[];
  /** Metric data points and the POSTs to /v1/metrics (`spanCount` = data points there). */
  metrics: OtlpMetricPoint[];
  metricExports: OtlpExport[];
  log: (line: string) => void;
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: OtlpDeps): Promise<void> {
  const path = new URL(req.url ?? "/", "http://sim").pathname;
  const signal = path === "/v1/traces" ? "traces" : path === "/v1/metrics" ? "metrics" : undefined;
  if (req.method !== "POST" || !signal) {
    req.resume();
    return answer(res, 404, "text/plain", "not found");
  }
  const contentType = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const encoding = req.headers["content-encoding"];
  const record: OtlpExport = { contentType, spanCount: 0, status: 0, receivedAt: Date.now(), ...(encoding ? { contentEncoding: encoding } : {}) };
  (signal === "traces" ? deps.exports : deps.metricExports).push(record);
  const mode = deps.faults.otlp;

  if (mode.mode === "drop") {
    record.status = -1;
    req.socket.destroy();
    deps.log("[sim] otlp export dropped (fault)");
    return;
  }
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (err) {
    record.error = `body: ${String(err)}`;
    record.status = 400;
    return answer(res, 400, "text/plain", "bad body");
  }
  if (mode.mode === "hang") {
    // Never answer; close() destroys the socket.
    deps.log("[sim] otlp export hanging (fault)");
    return;
  }
  if (mode.mode === "status") {
    record.status = mode.status;
    deps.log(`[sim] otlp export answered ${mode.status} (fault)`);
    return answer(res, mode.status, "text/plain", mode.body ?? `simulated ${mode.status}`, mode.headers);
  }

  let spans: OtlpSpan[] = [];
  let points: OtlpMetricPoint[] = [];
  try {
    if (contentType === "application/x-protobuf") {
      if (signal === "traces") spans = decodeProtobufSpans(body);
      else points = decodeProtobufMetrics(body);
    } else if (contentType === "application/json") {
      if (signal === "traces") spans = decodeJsonSpans(body);
      else points = decodeJsonMetrics(body);
    } else {
      record.status = 415;
      record.error = `unsupported content-type ${contentType}`;
      return answer(res, 415, "text/plain", record.error);
    }
  } catch (err) {
    record.status = 400;
    record.error = `decode: ${String(err)}`;
    deps.log(`[sim] otlp ${record.error}`);
    return answer(res, 400, "text/plain", record.error);
  }
  deps.spans.push(...spans);
  deps.metrics.push(...points);
  record.spanCount = signal === "traces" ? spans.length : points.length;
  record.status = 200;
  deps.log(`[sim] otlp export ${contentType} ${signal === "traces" ? `${spans.length} spans` : `${points.length} metric points`}`);
  // An empty protobuf body is a valid empty ExportTraceServiceResponse.
  if (contentType === "application/x-protobuf") answer(res, 200, "application/x-protobuf", Buffer.alloc(0));
  else answer(res, 200, "application/json", "{}");
}

export function startOtlpReceiver(deps: OtlpDeps): Promise<Listening> {
  return listenLocal((req, res) => {
    handle(req, res, deps).catch((err: unknown) => {
      deps.log(`[sim] otlp handler error: ${String(err)}`);
      if (!res.headersSent) answer(res, 500, "text/plain", "internal error");
    });
  });
}
