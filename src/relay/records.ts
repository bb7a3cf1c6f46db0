/**
 * Pure builders of Dynamo tool records from `execute_tool` spans (dynamo-wire §9, §10).
 * Only ids, a coarse class, times, status and sizes leave the process: never arguments or results.
 */
import { SpanStatusCode, type Attributes, type HrTime } from "@opentelemetry/api";
import { hrTimeToMilliseconds } from "@opentelemetry/core";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { DYNAMO, GEN_AI } from "../trace/attributes.ts";
import type { DynamoProtocol } from "../types.ts";
import { toolClass } from "./tool-class.ts";
import type { ToolEventRecord, ToolEventType, ToolRecordTool, ToolStatus } from "./types.ts";

/** What a `tool_start` needs: the span as `onStart` sees it. */
export type ToolSpanStart = Pick<ReadableSpan, "attributes" | "startTime">;
/** What a `tool_end`/`tool_error` needs: the ended span. */
export type ToolSpanEnd = Pick<ReadableSpan, "attributes" | "startTime" | "endTime" | "duration" | "status">;

export interface RecordContext {
  protocol: DynamoProtocol;
  sessionTypeId: string;
}

/** `error_type` when the span names none (the value davilu's OpenClaw relay sent). */
export const DEFAULT_TOOL_ERROR_TYPE = "openclaw_tool_error";

/** `tool_start` record, or `undefined` when the span lacks the tool-call id or the chain ids. */
export function toolStartRecord(span: ToolSpanStart, ctx: RecordContext): ToolEventRecord | undefined {
  const attrs = span.attributes;
  const callId = nonEmpty(attrs[GEN_AI.TOOL_CALL_ID]);
  const startedAt = unixMs(span.startTime);
  if (callId === undefined || startedAt === undefined) return undefined;
  const tool: ToolRecordTool = {
    tool_call_id: callId,
    tool_class: toolClass(nonEmpty(attrs[GEN_AI.TOOL_NAME])),
    started_at_unix_ms: startedAt,
    status: "running",
  };
  return envelope(attrs, ctx, "tool_start", startedAt, tool);
}

/**
 * `tool_end`, or `tool_error` when the span status is ERROR or `dynamo.tool.status` is `error`.
 * Self-contained (carries `started_at_unix_ms`), so it stands even when its `tool_start` was dropped.
 */
export function toolEndRecord(span: ToolSpanEnd, ctx: RecordContext): ToolEventRecord | undefined {
  const attrs = span.attributes;
  const callId = nonEmpty(attrs[GEN_AI.TOOL_CALL_ID]);
  const startedAt = unixMs(span.startTime);
  const endedAt = unixMs(span.endTime);
  if (callId === undefined || startedAt === undefined || endedAt === undefined) return undefined;
  const declared = attrs[DYNAMO.TOOL_STATUS];
  const failed = span.status.code === SpanStatusCode.ERROR || declared === "error";
  const status: ToolStatus = declared === "cancelled" ? "cancelled" : failed ? "error" : "succeeded";
  const outputBytes = attrs[DYNAMO.TOOL_OUTPUT_BYTES];
  const tool: ToolRecordTool = {
    tool_call_id: callId,
    tool_class: toolClass(nonEmpty(attrs[GEN_AI.TOOL_NAME])),
    started_at_unix_ms: startedAt,
    ended_at_unix_ms: endedAt,
    duration_ms: durationMs(span.duration),
    status,
  };
  if (failed) tool.error_type = nonEmpty(attrs[GEN_AI.ERROR_TYPE]) ?? DEFAULT_TOOL_ERROR_TYPE;
  if (typeof outputBytes === "number" && Number.isFinite(outputBytes) && outputBytes >= 0) {
    tool.output_bytes = Math.floor(outputBytes);
  }
  return envelope(attrs, ctx, failed ? "tool_error" : "tool_end", endedAt, tool);
}

function envelope(
  attrs: Attributes,
  ctx: RecordContext,
  eventType: ToolEventType,
  eventTime: number,
  tool: ToolRecordTool,
): ToolEventRecord | undefined {
  const trajectoryId = nonEmpty(attrs[DYNAMO.TRAJECTORY_ID]);
  if (trajectoryId === undefined) return undefined;
  const parent = nonEmpty(attrs[DYNAMO.PARENT_TRAJECTORY_ID]);
  // Literal objects, one per shape, rather than spreads: the key order is the wire order and this
  // runs inside a tool hook.
  if (ctx.protocol === "headers") {
    // Dynamo 1.3+ renamed the chain id to `session_id` and adds event_source/agent_context itself.
    return parent === undefined
      ? { schema: "dynamo.request.trace.v1", event_type: eventType, event_time_unix_ms: eventTime, session_id: trajectoryId, tool }
      : {
          schema: "dynamo.request.trace.v1",
          event_type: eventType,
          event_time_unix_ms: eventTime,
          session_id: trajectoryId,
          parent_session_id: parent,
          tool,
        };
  }
  // Dynamo 1.2 rejects a missing or empty id (dynamo `lib/llm/src/agents/context.rs`).
  const sessionId = nonEmpty(attrs[DYNAMO.SESSION_ID]);
  if (sessionId === undefined || ctx.sessionTypeId === "") return undefined;
  return {
    schema: "dynamo.agent.trace.v1",
    event_type: eventType,
    event_time_unix_ms: eventTime,
    event_source: "harness",
    agent_context:
      parent === undefined
        ? { session_type_id: ctx.sessionTypeId, session_id: sessionId, trajectory_id: trajectoryId }
        : { session_type_id: ctx.sessionTypeId, session_id: sessionId, trajectory_id: trajectoryId, parent_trajectory_id: parent },
    tool,
  };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Integer Unix ms: Dynamo decodes `*_unix_ms` as u64, so a float would fail the record. */
function unixMs(time: HrTime): number | undefined {
  const ms = hrTimeToMilliseconds(time);
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms) : undefined;
}

/** Finite, non-negative, 3 decimals (Dynamo rejects a non-finite `duration_ms`). */
function durationMs(duration: HrTime): number {
  const ms = hrTimeToMilliseconds(duration);
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms * 1000) / 1000 : 0;
}
