/**
 * The demo's OTLP/HTTP receiver. The plugin exports to it exactly as it would to Jaeger or Phoenix
 * (protobuf by default); it keeps every span for the waterfall and the output files, and, when the
 * user named a collector, forwards each request body unchanged to it — so Phoenix, which accepts
 * only protobuf, gets exactly what the plugin sent.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { answer, decodeBody, listenLocal, readRawBody } from "../test/sim/http-util.ts";
import { decodeJsonSpans, decodeProtobufSpans, type OtlpSpan } from "../test/sim/index.ts";
import { exportRequestToJson, type OtlpJsonRequest } from "./otlp-json.ts";

export interface ForwardResult {
  status: number;
  error?: string;
}

export interface Collector {
  /** `http://127.0.0.1:<port>/v1/traces` */
  readonly url: string;
  /** Normalized spans, in arrival order. */
  readonly spans: OtlpSpan[];
  /** Each export request as OTLP/JSON (ids in hex), for `trace.otlp.json`. */
  readonly requests: OtlpJsonRequest[];
  /** Outcome of each forwarded export (empty when no collector was named). */
  readonly forwarded: ForwardResult[];
  /** Resolves once every forward started so far has finished. */
  forwardsSettled(): Promise<void>;
  close(): Promise<void>;
}

export interface CollectorOptions {
  forwardTo?: string;
  forwardHeaders?: Record<string, string>;
  log?: (line: string) => void;
}

export async function startCollector(options: CollectorOptions = {}): Promise<Collector> {
  const spans: OtlpSpan[] = [];
  const requests: OtlpJsonRequest[] = [];
  const forwarded: ForwardResult[] = [];
  const pending = new Set<Promise<void>>();
  const log = options.log ?? (() => {});

  const forward = (raw: Buffer, req: IncomingMessage): void => {
    if (!options.forwardTo) return;
    const headers: Record<string, string> = { ...options.forwardHeaders };
    for (const name of ["content-type", "content-encoding"]) {
      const value = req.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    const done = fetch(options.forwardTo, { method: "POST", headers, body: raw, signal: AbortSignal.timeout(10_000) }).then(
      async (response) => {
        await response.arrayBuffer().catch(() => undefined);
        forwarded.push({ status: response.status, ...(response.ok ? {} : { error: `HTTP ${response.status}` }) });
      },
      (error: unknown) => {
        forwarded.push({ status: 0, error: error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error) });
      },
    );
    pending.add(done);
    void done.finally(() => pending.delete(done));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://collector").pathname;
    if (req.method !== "POST" || path !== "/v1/traces") {
      req.resume();
      return answer(res, 404, "text/plain", "not found");
    }
    // The raw body is what gets forwarded, with its content-encoding header.
    const raw = await readRawBody(req);
    const contentType = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const body = decodeBody(raw, req.headers["content-encoding"]);
    try {
      if (contentType === "application/x-protobuf") {
        spans.push(...decodeProtobufSpans(body));
        requests.push(exportRequestToJson(body, "protobuf"));
      } else if (contentType === "application/json") {
        spans.push(...decodeJsonSpans(body));
        requests.push(exportRequestToJson(body, "json"));
      } else {
        return answer(res, 415, "text/plain", `unsupported content-type ${contentType}`);
      }
    } catch (error) {
      log(`collector: could not decode an export (${String(error)})`);
      return answer(res, 400, "text/plain", "bad request");
    }
    forward(raw, req);
    if (contentType === "application/x-protobuf") answer(res, 200, "application/x-protobuf", Buffer.alloc(0));
    else answer(res, 200, "application/json", "{}");
  };

  const server = await listenLocal((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`collector: ${String(error)}`);
      if (!res.headersSent) answer(res, 500, "text/plain", "internal error");
    });
  });

  return {
    url: `http://127.0.0.1:${server.port}/v1/traces`,
    spans,
    requests,
    forwarded,
    async forwardsSettled() {
      await Promise.allSettled([...pending]);
    },
    close: () => server.close(),
  };
}
