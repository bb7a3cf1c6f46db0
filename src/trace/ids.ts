/**
 * Dynamo agent identity derived from the span tree (SPEC §4.1), so any Dynamo record maps to the
 * exact trace and agent span and back:
 *   session_id    = trace id of the run (32 hex)           — overridable for the process
 *   trajectory id = `<trace-id>-<invoke_agent span id>`    — the lead's is overridable
 *   parent        = trajectory id of the parent agent run
 */
import type { SpanContext } from "@opentelemetry/api";

export interface DynamoIds {
  readonly sessionId: string;
  readonly trajectoryId: string;
  readonly parentTrajectoryId?: string;
}

export function trajectoryIdOf(agentSpan: Pick<SpanContext, "traceId" | "spanId">): string {
  return `${agentSpan.traceId}-${agentSpan.spanId}`;
}

/** `<32 hex>-<16 hex>`: the shape of a derived trajectory id. */
export const DERIVED_TRAJECTORY_ID = /^([0-9a-f]{32})-([0-9a-f]{16})$/;

export function deriveIds(params: {
  agentSpan: SpanContext;
  parentTrajectoryId?: string | undefined;
  /** Process-wide `DYN_AGENT_SESSION_ID`. */
  sessionIdOverride?: string | undefined;
  /** `DYN_AGENT_TRAJECTORY_ID`; applied only to lead (top-level) runs by the caller. */
  trajectoryIdOverride?: string | undefined;
}): DynamoIds {
  const trajectoryId = params.trajectoryIdOverride ?? trajectoryIdOf(params.agentSpan);
  const parent = params.parentTrajectoryId;
  return {
    sessionId: params.sessionIdOverride ?? params.agentSpan.traceId,
    trajectoryId,
    // A chain is never its own parent (dynamo-wire.md §12.1, Pi child contract).
    ...(parent && parent !== trajectoryId ? { parentTrajectoryId: parent } : {}),
  };
}
