/**
 * The demo's OTLP/HTTP receiver. The plugin exports to it exactly as it would to Jaeger or Phoenix
 * (protobuf by default); it keeps every span for the waterfall and the output files, and, when the
 * user named a collector, forwards each request body unchanged to it — so Phoenix, which accepts
 * only protobuf, gets exactly what the plugin sent.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
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

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function answer(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
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
    const raw = await readBody(req);
    const contentType = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
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

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`collector: ${String(error)}`);
      if (!res.headersSent) answer(res, 500, "text/plain", "internal error");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    requests,
    forwarded,
    async forwardsSettled() {
      await Promise.allSettled([...pending]);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
