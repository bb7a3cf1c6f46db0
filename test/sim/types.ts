// Shared types of the Dynamo simulator. Pure types: safe to import anywhere.

/** `nvext` = Dynamo 1.2 (G1, body identity); `headers` = Dynamo 1.3+ (G3, `x-dynamo-session-*`). */
export type DynamoGeneration = "nvext" | "headers";

export type RequestKind = "chat" | "models" | "other";

export interface SimToolCall {
  id: string;
  name: string;
  /** JSON text exactly as streamed to the client. */
  arguments: string;
}

export interface RecordedRequest {
  /** Position in `Simulator.requests`. */
  index: number;
  kind: RequestKind;
  method: string;
  path: string;
  /** Lowercase header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON body (undefined when there was none or it was not JSON). */
  body: unknown;
  rawBody: string;
  /** Generation in effect when the request arrived. */
  generation: DynamoGeneration;
  stream: boolean;
  /** HTTP status answered; 0 when the connection was dropped before a status line. */
  status: number;
  /** Why the sim answered 4xx (validation), if it did. */
  rejection?: string;
  /** Description of the injected fault, if one was consumed by this request. */
  fault?: string;
  /** `x-request-id` / `traceparent` / `tracestate` as received. */
  xRequestId?: string;
  traceparent?: string;
  tracestate?: string;
  /** Every `x-dynamo-*` header as received (also on `nvext`, where Dynamo 1.2 ignores them). */
  dynamoHeaders: Record<string, string>;
  /**
   * Identity as this generation's Dynamo understands it:
   * `nvext` → the body's `nvext.agent_context` (G1 field names);
   * `headers` → `{session_id, parent_session_id?, session_final?}` parsed from the headers.
   */
  agentContext?: Record<string, string | boolean>;
  /** `nvext.session_control` as received (nvext generation only). */
  sessionControl?: Record<string, unknown>;
  /** True for a G3 request with `x-dynamo-session-final: true` (and a session id). */
  sessionFinal: boolean;
  /** Tool calls the sim answered with (empty for text answers and errors). */
  toolCalls: SimToolCall[];
  /** Text the sim answered with, if any. */
  responseText?: string;
  /** Which branch of the turn policy answered (e.g. "directive 2/3", "announce", "minimal"). */
  policy?: string;
  receivedAt: number;
  finishedAt?: number;
}

export interface SessionEvent {
  sessionId: string;
  action: "open" | "use" | "close";
  requestIndex: number;
  timeout?: number;
}

export interface SessionViolation {
  sessionId: string;
  requestIndex: number;
  reason: string;
}

export interface SessionFinal {
  sessionId: string;
  parentSessionId?: string;
  requestIndex: number;
}

export interface RelayMessage {
  topic: string;
  seq: bigint;
  record: Record<string, unknown>;
  generation: DynamoGeneration;
  receivedAt: number;
}

export interface RelayRejection {
  /** First failing check: "frames", "topic", "seq", "msgpack", or a field-level message. */
  reason: string;
  /** All failing checks (record validation can fail in several places). */
  errors: string[];
  frames: number;
  topic?: string;
  record?: unknown;
  generation: DynamoGeneration;
  receivedAt: number;
}

/** Flattened OTLP AnyValue: intValue → number, kvlist → object, empty → null. */
export type OtlpValue = string | number | boolean | null | OtlpValue[] | { [key: string]: OtlpValue };

export type OtlpAttributes = Record<string, OtlpValue>;

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  /** OTLP SpanKind number: 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttributes;
  /** OTLP status code: 0 UNSET, 1 OK, 2 ERROR. */
  status: { code: number; message?: string };
  links: { traceId: string; spanId: string; attributes: OtlpAttributes }[];
  events: { name: string; timeUnixNano: string; attributes: OtlpAttributes }[];
  resource: OtlpAttributes;
  scope: { name: string; version?: string };
}

export interface OtlpExport {
  contentType: string;
  contentEncoding?: string;
  spanCount: number;
  /** Status answered; 0 = never answered (hang), -1 = socket destroyed (drop). */
  status: number;
  error?: string;
  receivedAt: number;
}

/** One-shot fault for the next chat request (FIFO). */
export type ChatFault =
  | { type: "status"; status: number; body?: string | Record<string, unknown>; headers?: Record<string, string> }
  /** Send headers and the first SSE chunk, then destroy the socket. */
  | { type: "reset-after-first-chunk" }
  /** Send the first SSE chunk, then a `data:` line that is not JSON, then `[DONE]`. */
  | { type: "malformed-sse" }
  /** Wait before the first byte, then answer normally. */
  | { type: "delay"; ms: number };

export type ModelsMode = "ok" | "down" | "garbage";

export type OtlpMode =
  | { mode: "ok" }
  /** Read the body, never answer (until `close()`). */
  | { mode: "hang" }
  | { mode: "status"; status: number; headers?: Record<string, string>; body?: string }
  /** Destroy the socket mid-request. */
  | { mode: "drop" };

/** How 4xx validation errors are rendered. */
export type ErrorBodyStyle = "dynamo" | "openai";
