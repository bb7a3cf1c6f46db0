import type { DynamoProtocol } from "../types.ts";

/** Where the relay's one line per failure cause goes (the plugin's logger). */
export interface RelayLogger {
  warn(message: string): void;
  info(message: string): void;
}

export interface ToolEventTransportOptions {
  /** Dynamo's bound PULL endpoint (`tcp://host:port`, `ipc:///path`); connected on the first event. Other forms disable the relay with one warning. */
  endpoint: string;
  /** Frame 0 of every message; Dynamo 1.3+ silently drops other topics (default there `agent-tool-events`). */
  topic: string;
  /** Most events held in the relay's own queue while Dynamo is unreachable or slow; the rest are dropped and counted. */
  capacity: number;
  /** Receives one line per failure cause and a summary on close. */
  log: RelayLogger;
}

export interface DynamoToolRelayOptions extends ToolEventTransportOptions {
  /** Protocol in use, asked per event (`auto` may switch to `headers` at run time): picks the record schema. */
  protocol: () => DynamoProtocol;
  /** `agent_context.session_type_id` of `nvext` (Dynamo 1.2) records. */
  sessionTypeId: string;
  /** Upper bound for `forceFlush()` and for the flush inside `shutdown()`, ms. */
  flushTimeoutMs: number;
}

/** Event counters of the relay. Every event offered is either `enqueued` or `dropped`. */
export interface RelayCounters {
  /** Events accepted into the queue. */
  enqueued: number;
  /** Events written to a connected Dynamo (the write completed into the kernel; only after the ZMTP handshake). */
  sent: number;
  /** Events refused: queue full, relay disabled after a failed connect, or already closed. */
  dropped: number;
  /** Queued events lost to an unusable endpoint, an encode error, or a connection that broke while they were being written. */
  errors: number;
  /** Events queued right now, waiting for Dynamo (including those being written). */
  pending: number;
  /** Events still queued when the relay was closed (never delivered). */
  undelivered: number;
}

/** Snapshot for the plugin's status call. */
export interface ToolRelayStatus extends RelayCounters {
  endpoint: string;
  topic: string;
  /** True while a connection to Dynamo's PULL is established (ZMTP handshake completed); false before the first event and while Dynamo is unreachable. */
  connected: boolean;
  /** Tool spans that produced no record (no tool-call id or session/trajectory ids). */
  skipped: number;
  /** Connections closed because of the peer: not a usable ZMTP 3 PULL (e.g. closed during the greeting: CURVE/PLAIN), an inbound frame over 1 MiB, more than 4 MiB unsent to a peer that stopped reading (docs/relay.md). */
  peerFaults: number;
  /** Last failure worth a log line (unusable endpoint, peer that is not a ZMTP 3 PULL, encode or write error), if any. */
  lastError?: string;
}

export type ToolEventType = "tool_start" | "tool_end" | "tool_error";
export type ToolStatus = "running" | "succeeded" | "error" | "cancelled";

/** The `tool` map of both schemas (dynamo-wire §9.3); optional keys are omitted, never nil. */
export interface ToolRecordTool {
  tool_call_id: string;
  tool_class: string;
  started_at_unix_ms: number;
  ended_at_unix_ms?: number;
  duration_ms?: number;
  status: ToolStatus;
  output_bytes?: number;
  error_type?: string;
}

/** Dynamo 1.2 (`nvext` protocol) `AgentTraceRecord`. */
export interface AgentTraceToolRecord {
  schema: "dynamo.agent.trace.v1";
  event_type: ToolEventType;
  event_time_unix_ms: number;
  event_source: "harness";
  agent_context: {
    session_type_id: string;
    session_id: string;
    trajectory_id: string;
    parent_trajectory_id?: string;
  };
  tool: ToolRecordTool;
}

/** Dynamo 1.3+ (`headers` protocol) `RequestTraceToolEventIngress`: the chain id is top-level `session_id`. */
export interface RequestTraceToolRecord {
  schema: "dynamo.request.trace.v1";
  event_type: ToolEventType;
  event_time_unix_ms: number;
  session_id: string;
  parent_session_id?: string;
  tool: ToolRecordTool;
}

export type ToolEventRecord = AgentTraceToolRecord | RequestTraceToolRecord;
