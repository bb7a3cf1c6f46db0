/**
 * Dynamo agent identity on the wire, per generation (SPEC §4.2, §4.3; dynamo-wire.md §2, §3).
 * Note the renaming trap: the value sent as 1.2's `trajectory_id` is the value 1.3+ calls the
 * session (`x-dynamo-session-id`).
 */
import type { DynamoIds } from "../trace/ids.ts";

export const SESSION_ID_HEADER = "x-dynamo-session-id";
export const PARENT_SESSION_ID_HEADER = "x-dynamo-parent-session-id";
export const SESSION_FINAL_HEADER = "x-dynamo-session-final";
export const IDENTITY_HEADERS = [SESSION_ID_HEADER, PARENT_SESSION_ID_HEADER, SESSION_FINAL_HEADER] as const;

export interface AgentContext {
  session_type_id: string;
  session_id: string;
  trajectory_id: string;
  parent_trajectory_id?: string;
}

export interface SessionControl {
  session_id: string;
  action?: "open" | "close";
  timeout?: number;
}

/** `nvext.agent_context`: exactly these keys; some Dynamo builds reject any other (§2.1). */
export function agentContext(sessionTypeId: string, ids: DynamoIds): AgentContext {
  return {
    session_type_id: sessionTypeId,
    session_id: ids.sessionId,
    trajectory_id: ids.trajectoryId,
    ...(ids.parentTrajectoryId ? { parent_trajectory_id: ids.parentTrajectoryId } : {}),
  };
}

export function sessionHeaders(ids: DynamoIds): Record<string, string> {
  return {
    [SESSION_ID_HEADER]: ids.trajectoryId,
    ...(ids.parentTrajectoryId ? { [PARENT_SESSION_ID_HEADER]: ids.parentTrajectoryId } : {}),
  };
}

/** A body with `nvext` fields merged in, without touching the caller's objects. */
export function withNvext(payload: unknown, fields: Record<string, unknown>): unknown {
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) return payload;
  const body = payload as Record<string, unknown>;
  const existing = body.nvext && typeof body.nvext === "object" ? (body.nvext as Record<string, unknown>) : {};
  return { ...body, nvext: { ...existing, ...fields } };
}
