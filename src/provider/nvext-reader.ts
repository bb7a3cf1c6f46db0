/**
 * Reads what Dynamo answers under `nvext` (worker ids, timing; docs/serving-metrics.md) from the raw
 * response of a model call. OpenClaw's transport parses the SSE stream itself and drops unknown chunk
 * fields, and its `onResponse` sees only status and headers; so the plugin listens on undici's
 * diagnostics channels (the official observation hooks of Node's HTTP client, shared by every undici
 * copy in the process): `undici:request:create` picks out the plugin's own requests by their
 * `x-request-id`, `undici:request:bodyChunkReceived` hands over their body bytes. Only a chunk holding
 * `"nvext"` is decoded; every other chunk costs one `Buffer.indexOf`. Best effort: a compressed body,
 * a client other than undici or a missing channel simply leaves the fields absent.
 */
import diagnostics from "node:diagnostics_channel";

export interface NvextSink {
  nvext: Record<string, unknown> | undefined;
}

interface RequestState {
  readonly sink: NvextSink;
  /** Bytes after the last newline of the previous chunk (start of a line that may hold `"nvext"`). */
  tail: Buffer | undefined;
  /** A line holding `"nvext"` whose end has not arrived yet. */
  pending: Buffer | undefined;
}

const NVEXT = Buffer.from('"nvext"');
const NEWLINE = 0x0a;
/** Longest SSE line kept while waiting for its end. */
const MAX_LINE_BYTES = 256 * 1024;
/** Calls waiting for their request to appear (bounded; entries leave at chat end). */
const MAX_EXPECTED = 4096;

const expected = new Map<string, NvextSink>();
const states = new WeakMap<object, RequestState>();
let subscribed = false;

/** Registers a call by its `x-request-id`; returns the function that forgets it (call at chat end). */
export function expectNvext(xRequestId: string, sink: NvextSink): () => void {
  subscribe();
  if (expected.size >= MAX_EXPECTED) {
    const oldest = expected.keys().next().value;
    if (oldest !== undefined) expected.delete(oldest);
  }
  expected.set(xRequestId, sink);
  return () => {
    if (expected.get(xRequestId) === sink) expected.delete(xRequestId);
  };
}

function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  diagnostics.subscribe("undici:request:create", onCreate);
  diagnostics.subscribe("undici:request:bodyChunkReceived", onChunk);
}

function onCreate(message: unknown): void {
  try {
    if (expected.size === 0) return;
    const request = (message as { request?: { method?: string; path?: string; headers?: unknown } }).request;
    if (!request || request.method !== "POST") return;
    const id = headerValue(request.headers, "x-request-id");
    const sink = id === undefined ? undefined : expected.get(id);
    if (sink) states.set(request, { sink, tail: undefined, pending: undefined });
  } catch {
    // Observation only: never disturb the request.
  }
}

function onChunk(message: unknown): void {
  try {
    const { request, chunk } = message as { request?: object; chunk?: unknown };
    const state = request ? states.get(request) : undefined;
    if (!state || !Buffer.isBuffer(chunk)) return;
    readChunk(state, chunk);
  } catch {
    // Observation only.
  }
}

/** Exported for tests: feeds one body chunk to a request state. */
export function readChunk(state: { sink: NvextSink; tail: Buffer | undefined; pending: Buffer | undefined }, chunk: Buffer): void {
  let buf = chunk;
  /** Whether `state.tail` is already in `buf` or stale (a newline was consumed since). */
  let withTail = false;
  if (state.pending) {
    buf = Buffer.concat([state.pending, chunk]);
    state.pending = undefined;
    if (buf.length > MAX_LINE_BYTES) return;
    const end = buf.indexOf(NEWLINE);
    if (end < 0) {
      state.pending = buf;
      return;
    }
    parseLine(state.sink, buf.subarray(0, end));
    buf = buf.subarray(end + 1);
    withTail = true;
  }
  let at = buf.indexOf(NVEXT);
  if (at < 0 && !withTail && state.tail && straddles(state.tail, buf)) {
    // `"nvext"` cut in two by the chunk boundary (rare: chunks usually end with an SSE event).
    buf = Buffer.concat([state.tail, buf]);
    withTail = true;
    at = buf.indexOf(NVEXT);
  }
  if (at >= 0) {
    let lineStart = buf.lastIndexOf(NEWLINE, at) + 1;
    if (lineStart === 0 && state.tail && !withTail) {
      buf = Buffer.concat([state.tail, buf]);
      withTail = true;
      at += state.tail.length;
      lineStart = buf.lastIndexOf(NEWLINE, at) + 1;
    }
    const end = buf.indexOf(NEWLINE, at);
    if (end < 0) {
      if (buf.length - lineStart <= MAX_LINE_BYTES) state.pending = buf.subarray(lineStart);
      return;
    }
    parseLine(state.sink, buf.subarray(lineStart, end));
    buf = buf.subarray(end + 1);
    withTail = true;
  }
  // The start of the line the next chunk continues (across chunks that carry no newline).
  const lastNewline = buf.lastIndexOf(NEWLINE);
  const tail = lastNewline >= 0 || withTail || !state.tail ? buf.subarray(lastNewline + 1) : Buffer.concat([state.tail, buf]);
  state.tail = tail.length > 0 && tail.length <= MAX_LINE_BYTES ? tail : undefined;
}

function straddles(tail: Buffer, next: Buffer): boolean {
  const k = NVEXT.length - 1;
  return Buffer.concat([tail.subarray(Math.max(0, tail.length - k)), next.subarray(0, k)]).indexOf(NVEXT) >= 0;
}

function parseLine(sink: NvextSink, line: Buffer): void {
  const text = line.toString("utf8").trim();
  if (!text.startsWith("data:")) return;
  try {
    const nvext = (JSON.parse(text.slice(5)) as { nvext?: unknown }).nvext;
    if (nvext && typeof nvext === "object" && !Array.isArray(nvext)) sink.nvext = { ...sink.nvext, ...(nvext as Record<string, unknown>) };
  } catch {
    // Not JSON (or not ours): nothing to record.
  }
}

/** undici keeps request headers as `[name, value, …]` (v6+) or as raw `name: value\r\n` text (v5). */
function headerValue(headers: unknown, name: string): string | undefined {
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]).trim();
    }
    return undefined;
  }
  if (typeof headers === "string") {
    const match = new RegExp(`(?:^|\\r\\n)${name}:\\s*([^\\r\\n]*)`, "i").exec(headers);
    return match?.[1]?.trim();
  }
  return undefined;
}

/** What the plugin asks Dynamo to report (dynamo-wire §12.3: accepted by 1.2 and 1.3+). */
export const EXTRA_FIELDS = ["worker_id", "timing"] as const;

/** `nvext.extra_fields` for a request body: the caller's values plus EXTRA_FIELDS. */
export function extraFieldsFor(payload: unknown): { extra_fields: string[] } {
  const existing = (payload as { nvext?: { extra_fields?: unknown } } | undefined)?.nvext?.extra_fields;
  const list = Array.isArray(existing) ? existing.filter((v): v is string => typeof v === "string") : [];
  return { extra_fields: [...new Set([...list, ...EXTRA_FIELDS])] };
}
