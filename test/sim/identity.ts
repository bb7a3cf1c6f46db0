// Per-generation validation of request identity, faithful to Dynamo (docs/dynamo-wire.md §2–§4).
//   nvext   (1.2, G1): body `nvext.agent_context` / `nvext.session_control`, strict keys
//                      (like the intermediate `deny_unknown_fields` build); headers ignored.
//   headers (1.3+, G3): `NvExt` is `deny_unknown_fields` without agent_context/session_control
//                      → 400; identity from `x-dynamo-session-*` headers.
import type { DynamoGeneration } from "./types.ts";

export interface IdentityDecision {
  /** Set when the request must be answered 400 with `message`. */
  error?: { message: string; rejection: string };
  agentContext?: Record<string, string | boolean>;
  sessionControl?: { session_id: string; action?: "open" | "close"; timeout?: number };
  sessionFinal: boolean;
}

// `NvExt` fields on Dynamo main (lib/llm/src/protocols/common/extensions.rs), in declaration order,
// so the 400 text reads like serde's "unknown field `x`, expected one of …".
const G3_NVEXT_FIELDS = [
  "greed_sampling", "use_raw_prompt", "annotations", "backend_instance_id", "token_data",
  "max_thinking_tokens", "cache_salt", "extra_fields", "metadata_upload", "prefill_worker_id",
  "decode_worker_id", "dp_rank", "prefill_dp_rank", "agent_hints", "request_timestamp_ms",
  "routing_constraints", "router",
];
// Dynamo 1.2's `NvExt` (also `deny_unknown_fields`): main's list minus the later additions, plus the
// G1 identity fields. Both generations accept `extra_fields` (dynamo-wire.md §12.3).
const G1_NVEXT_FIELDS = [
  "greed_sampling", "use_raw_prompt", "annotations", "backend_instance_id", "token_data",
  "max_thinking_tokens", "extra_fields", "prefill_worker_id", "decode_worker_id", "agent_context",
  "session_control",
];
const G1_AGENT_CONTEXT_FIELDS = ["session_type_id", "session_id", "trajectory_id", "parent_trajectory_id"];
const G1_REQUIRED = ["session_type_id", "session_id", "trajectory_id"];
const G1_SESSION_CONTROL_FIELDS = ["session_id", "action", "timeout"];

const expectedOneOf = (fields: string[]): string => fields.map((f) => `\`${f}\``).join(", ");
const unknownField = (key: string, fields: string[]): string =>
  `invalid nvext: unknown field \`${key}\`, expected one of ${expectedOneOf(fields)}`;

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a sequence";
  if (typeof v === "object") return "a map";
  if (typeof v === "string") return `string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function fail(message: string, rejection: string): IdentityDecision {
  return { error: { message, rejection }, sessionFinal: false };
}

/** Dynamo's header bool parse (case-insensitive, trimmed); undefined when absent or unparsable. */
export function parseHeaderBool(value: string | undefined): boolean | undefined {
  const v = value?.trim().toLowerCase();
  if (v === undefined || v === "") return undefined;
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  return undefined;
}

function checkHeaders(nvext: unknown, headers: Record<string, string>): IdentityDecision {
  if (nvext !== undefined && nvext !== null) {
    if (!isPlainObject(nvext)) return fail(`invalid nvext: invalid type: ${jsonType(nvext)}, expected struct NvExt`, "nvext: not an object");
    for (const key of Object.keys(nvext)) {
      if (!G3_NVEXT_FIELDS.includes(key)) return fail(unknownField(key, G3_NVEXT_FIELDS), `nvext.${key} rejected by Dynamo 1.3+`);
    }
    const extra = checkExtraFields(nvext.extra_fields);
    if (extra) return extra;
  }
  const sessionId = headers["x-dynamo-session-id"]?.trim();
  if (!sessionId) return { sessionFinal: false };
  const ctx: Record<string, string | boolean> = { session_id: sessionId };
  const parent = headers["x-dynamo-parent-session-id"]?.trim();
  // Dynamo ignores a parent equal to the session itself.
  if (parent && parent !== sessionId) ctx.parent_session_id = parent;
  const final = parseHeaderBool(headers["x-dynamo-session-final"]);
  if (final !== undefined) ctx.session_final = final;
  return { agentContext: ctx, sessionFinal: final === true };
}

function checkAgentContext(ac: unknown): IdentityDecision | Record<string, string> {
  if (!isPlainObject(ac)) return fail(`invalid nvext: invalid type: ${jsonType(ac)}, expected struct AgentContext`, "agent_context: not an object");
  for (const key of Object.keys(ac)) {
    if (!G1_AGENT_CONTEXT_FIELDS.includes(key)) return fail(unknownField(key, G1_AGENT_CONTEXT_FIELDS), `agent_context: unknown field ${key}`);
  }
  for (const key of G1_REQUIRED) {
    if (!(key in ac)) return fail(`invalid nvext: missing field \`${key}\``, `agent_context: missing ${key}`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(ac)) {
    if (typeof value !== "string") return fail(`invalid nvext: invalid type: ${jsonType(value)}, expected a string`, `agent_context.${key}: not a string`);
    if (value.trim() === "") return fail(`invalid nvext: agent_context.${key} must not be empty`, `agent_context.${key}: empty`);
    out[key] = value;
  }
  return out;
}

function checkSessionControl(sc: unknown): IdentityDecision | NonNullable<IdentityDecision["sessionControl"]> {
  if (!isPlainObject(sc)) return fail(`invalid nvext: invalid type: ${jsonType(sc)}, expected struct SessionControl`, "session_control: not an object");
  for (const key of Object.keys(sc)) {
    if (!G1_SESSION_CONTROL_FIELDS.includes(key)) return fail(unknownField(key, G1_SESSION_CONTROL_FIELDS), `session_control: unknown field ${key}`);
  }
  const { session_id: id, action, timeout } = sc;
  if (id === undefined) return fail("invalid nvext: missing field `session_id`", "session_control: missing session_id");
  if (typeof id !== "string" || id.trim() === "") return fail("invalid nvext: session_control.session_id must be a non-empty string", "session_control.session_id: invalid");
  const out: NonNullable<IdentityDecision["sessionControl"]> = { session_id: id };
  if (action !== undefined) {
    if (action !== "open" && action !== "close") {
      return fail(`invalid nvext: unknown variant ${JSON.stringify(action)}, expected \`open\` or \`close\``, "session_control.action: invalid");
    }
    out.action = action;
  }
  if (timeout !== undefined) {
    if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout <= 0) {
      return fail(`invalid nvext: session_control.timeout must be a positive integer, got ${jsonType(timeout)}`, "session_control.timeout: invalid");
    }
    out.timeout = timeout;
  }
  return out;
}

/** `extra_fields`: a list of strings; unknown values are ignored (Dynamo's `from_nvext`). */
function checkExtraFields(value: unknown): IdentityDecision | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    return fail(`invalid nvext: invalid type: ${jsonType(value)}, expected a sequence of strings`, "nvext.extra_fields: invalid");
  }
  return undefined;
}

function checkNvext(nvext: unknown): IdentityDecision {
  if (nvext === undefined || nvext === null) return { sessionFinal: false };
  if (!isPlainObject(nvext)) return fail(`invalid nvext: invalid type: ${jsonType(nvext)}, expected struct NvExt`, "nvext: not an object");
  for (const key of Object.keys(nvext)) {
    if (!G1_NVEXT_FIELDS.includes(key)) return fail(unknownField(key, G1_NVEXT_FIELDS), `nvext.${key} rejected by Dynamo 1.2`);
  }
  const extra = checkExtraFields(nvext.extra_fields);
  if (extra) return extra;
  const decision: IdentityDecision = { sessionFinal: false };
  if (nvext.agent_context !== undefined) {
    const ac = checkAgentContext(nvext.agent_context);
    if ("error" in ac && ac.error) return ac as IdentityDecision;
    decision.agentContext = ac as Record<string, string>;
  }
  if (nvext.session_control !== undefined) {
    const sc = checkSessionControl(nvext.session_control);
    if ("error" in sc && sc.error) return sc as IdentityDecision;
    decision.sessionControl = sc as NonNullable<IdentityDecision["sessionControl"]>;
  }
  return decision;
}

export function checkIdentity(generation: DynamoGeneration, body: unknown, headers: Record<string, string>): IdentityDecision {
  const nvext = isPlainObject(body) ? body.nvext : undefined;
  return generation === "headers" ? checkHeaders(nvext, headers) : checkNvext(nvext);
}
