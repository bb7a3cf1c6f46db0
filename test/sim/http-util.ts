// Small HTTP helpers shared by the frontend and the OTLP receiver (and the demo's collector).
import { createServer } from "node:http";
import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync, inflateSync } from "node:zlib";

/** Read the whole request body as sent (still content-encoded). */
export async function readRawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Undo a request body's `content-encoding: gzip|deflate`. */
export function decodeBody(raw: Buffer, contentEncoding: string | undefined): Buffer {
  const encoding = (contentEncoding ?? "").toLowerCase().trim();
  if (encoding === "gzip") return gunzipSync(raw);
  if (encoding === "deflate") return inflateSync(raw);
  return raw;
}

/** Read the whole request body, undoing `content-encoding: gzip|deflate`. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  return decodeBody(await readRawBody(req), req.headers["content-encoding"]);
}

/** Answer with `body` and its length. */
export function answer(res: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function lowercaseHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

export interface Listening {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1 with an OS-chosen port. `close()` also kills keep-alive and hanging sockets. */
export async function listenLocal(handler: RequestListener): Promise<Listening> {
  const server = createServer(handler);
  // Clients such as undici keep connections alive; never let an idle socket hold close() up.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
