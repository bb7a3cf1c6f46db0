/**
 * What identifying or content-bearing text a span may carry (docs/privacy.md). With content capture
 * off (the default) a failure shows only its category, a subagent label is left out and a session
 * key keeps only its non-identifying parts; each capture class brings back its own text, truncated.
 * Secret redaction (./redact.ts) runs after this in both modes.
 */
import { createHmac, randomBytes } from "node:crypto";
import { SpanStatusCode, type SpanStatus } from "@opentelemetry/api";
import type { CaptureConfig } from "../types.ts";
import { truncate } from "./content.ts";

/** `error.type` values the plugin writes (besides a model server's own error code, see chatErrorType). */
export const ERROR_TYPE = {
  /** A tool call that failed (the value Dynamo's OpenClaw relay has always sent as `error_type`). */
  TOOL: "openclaw_tool_error",
  CANCELLED: "cancelled",
  ABORTED: "aborted",
  TIMEOUT: "timeout",
  CONTEXT_OVERFLOW: "context_overflow",
  AGENT: "agent_error",
  LLM: "llm_error",
} as const;

/** A captured error text is also bounded by this, whatever `capture.maxChars` says. */
const STATUS_MAX_CHARS = 500;

/**
 * The ERROR status of a span: with `captured` (the capture class the text belongs to is on) the
 * error text, truncated; otherwise only the category, which is also the span's `error.type`.
 */
export function errorStatus(category: string, text: string | undefined, captured: boolean, capture: Pick<CaptureConfig, "maxChars">): SpanStatus {
  const message = captured && text ? truncate(text, Math.min(STATUS_MAX_CHARS, capture.maxChars)) : category;
  return { code: SpanStatusCode.ERROR, message };
}

// Context-overflow wordings of OpenAI-compatible servers (vLLM, SGLang, TRT-LLM, Dynamo, OpenAI),
// a subset of what OpenClaw itself matches. Only the resulting category leaves the process.
const CONTEXT_OVERFLOW =
  /context[_ ](length|window|size)[_ ]?(exceeded|overflow)|maximum context length|context (window|length|size)[^.]{0,40}exceed|exceeds? (the )?(model'?s )?(context|maximum context)|prompt is too long|prompt too long|too many tokens|request_too_large|context[_ ]overflow|input (is )?too long/i;
const TIMEOUT = /\btime(d)?[ _-]?out\b|\btimeout\b/i;
const CANCELLATION = /\b(abort(ed)?|cancel(l)?ed)\b/i;
/** A model server's error code/type (`400`, `rate_limit`, `invalid_request_error`): a token, never free text. */
const ERROR_CODE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** `error.type` of a failed tool call. OpenClaw passes only text (the result's first line), so the category is coarse. */
export function toolErrorType(errorText: string | undefined): string {
  return CANCELLATION.test(errorText ?? "") ? ERROR_TYPE.CANCELLED : ERROR_TYPE.TOOL;
}

/** `error.type` of a failed agent run (`agent_end.error` is free text: only its category is kept). */
export function agentErrorType(errorText: string | undefined): string {
  const text = errorText ?? "";
  if (CONTEXT_OVERFLOW.test(text)) return ERROR_TYPE.CONTEXT_OVERFLOW;
  if (TIMEOUT.test(text)) return ERROR_TYPE.TIMEOUT;
  if (CANCELLATION.test(text)) return ERROR_TYPE.CANCELLED;
  return ERROR_TYPE.AGENT;
}

/**
 * `error.type` of a failed model request: `aborted`, `context_overflow`, else the server's (or
 * OpenClaw's `errorCategory`) code when it is a plain token, else `llm_error`.
 */
export function chatErrorType(result: { stopReason?: string | undefined; errorType?: string | undefined; errorMessage?: string | undefined }): string {
  if (result.stopReason === "aborted") return ERROR_TYPE.ABORTED;
  if (CONTEXT_OVERFLOW.test(result.errorMessage ?? "") || CONTEXT_OVERFLOW.test(result.errorType ?? "")) return ERROR_TYPE.CONTEXT_OVERFLOW;
  if (result.errorType && ERROR_CODE.test(result.errorType)) return result.errorType;
  return ERROR_TYPE.LLM;
}

/** `openclaw.subagent.label`: the model wrote it as a `sessions_spawn` argument, so only with tool-argument capture. */
export function labelAttribute(label: string | undefined, capture: CaptureConfig): string | undefined {
  return label && capture.toolArguments ? truncate(label, capture.maxChars) : undefined;
}

// Parts of an OpenClaw session key (`agent:<agentId>:<rest>`) that name a kind, never a person.
const KIND_WORDS = new Set(["main", "subagent", "cron", "hook", "acp", "global", "explicit", "run", "direct", "dm", "group", "channel", "slash", "thread", "topic"]);
/** After `<channel>:`, these are followed by a peer, group or chat id. */
const PEER_KINDS = new Set(["direct", "dm", "group", "channel", "slash"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Per process: a hash of a phone number without a secret key could be reversed by trying them all. */
const HASH_KEY = randomBytes(32);
const HASH_HEX_CHARS = 12;

/**
 * `openclaw.session.key`. With prompt capture on (a session key names who sent the prompt) the key
 * as OpenClaw has it. Otherwise its non-identifying parts — agent id, the channel and its kind
 * (`telegram:direct`), fixed words like `main`, `subagent`, `thread`, a subagent's UUID — and, when
 * anything was left out, `#` and a hash of the whole key (HMAC-SHA256 with a per-process key, 12 hex
 * digits) that groups one conversation's runs for the life of the process:
 * `agent:main:telegram:direct:+15551234567` → `agent:main:telegram:direct:#3f2a9c1b7e4d`.
 */
export function sessionKeyAttribute(sessionKey: string, capture: Pick<CaptureConfig, "prompts" | "maxChars">): string {
  if (capture.prompts) return truncate(sessionKey, capture.maxChars);
  // Every run of a session asks again; an HMAC costs ~25 µs of key setup, a lookup nothing.
  const cached = reducedKeys.get(sessionKey);
  if (cached !== undefined) return cached;
  const reduced = reduceSessionKey(sessionKey);
  if (reducedKeys.size >= REDUCED_KEYS_CACHED) reducedKeys.clear();
  reducedKeys.set(sessionKey, reduced);
  return reduced;
}

/** Reduced session keys of recent sessions (cleared when full: a cache, not state). */
const reducedKeys = new Map<string, string>();
const REDUCED_KEYS_CACHED = 1_000;

function reduceSessionKey(sessionKey: string): string {
  const parts = sessionKey.split(":");
  const hasAgent = parts[0] === "agent" && parts.length >= 2 && parts[1] !== "";
  const rest = hasAgent ? parts.slice(2) : parts;
  const isChannelKey = rest.slice(1).some((part) => PEER_KINDS.has(part.toLowerCase()));
  const kept: string[] = hasAgent ? ["agent", parts[1] as string] : [];
  let omitted = false;
  rest.forEach((part, i) => {
    const keep =
      KIND_WORDS.has(part.toLowerCase()) ||
      // The channel (`telegram`, `slack`, a plugin channel id) of `<channel>:<kind>:<peer>`.
      (i === 0 && isChannelKey) ||
      // OpenClaw's own random id of a subagent session.
      (i > 0 && rest[i - 1] === "subagent" && UUID.test(part));
    if (keep) kept.push(part);
    else omitted = true;
  });
  if (!omitted) return sessionKey;
  kept.push(`#${createHmac("sha256", HASH_KEY).update(sessionKey).digest("hex").slice(0, HASH_HEX_CHARS)}`);
  return kept.join(":");
}
