// Error bodies as Dynamo's HTTP frontend renders them.
//
// Dynamo (lib/llm/src/http/service/openai.rs `ErrorMessage`) answers a FLAT object
//   {"message": "...", "type": "Bad Request", "code": 400}
// (type = the status' canonical reason), not OpenAI's `{"error": {...}}` envelope. The OpenAI JS SDK
// 7.x wraps a body without `error` itself, so both shapes surface as "400 <message>" (checked).
// Style "openai" renders `{"error": {"message", "type": "invalid_request_error", "code"}}` instead.
import { STATUS_CODES } from "node:http";
import type { ErrorBodyStyle } from "./types.ts";

export function errorBody(style: ErrorBodyStyle, status: number, message: string): Record<string, unknown> {
  if (style === "openai") {
    const type = status === 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error";
    return { error: { message, type, param: null, code: status } };
  }
  return { message, type: STATUS_CODES[status] ?? "UnknownError", code: status };
}

/** Dynamo's sanitized public messages for server-side statuses. */
export function defaultStatusMessage(status: number): string {
  if (status === 503) return "Service temporarily unavailable";
  if (status === 529 || status === 429) return "Service temporarily overloaded";
  if (status >= 500) return "Internal server error";
  return STATUS_CODES[status] ?? "Error";
}
