// Strict validation of decoded tool records (docs/dynamo-wire.md §9), per generation:
//   headers → G3 `RequestTraceToolEventIngress` (schema `dynamo.request.trace.v1`, top-level session_id)
//   nvext   → G1 `AgentTraceRecord` (schema `dynamo.agent.trace.v1`, event_source + agent_context)
// Stricter than Dynamo where SPEC asks for the exact shape: unknown keys and nil optionals are errors.
import type { DynamoGeneration } from "./types.ts";

export const G3_SCHEMA = "dynamo.request.trace.v1";
export const G1_SCHEMA = "dynamo.agent.trace.v1";
const EVENT_TYPES = ["tool_start", "tool_end", "tool_error"];
const TOOL_STATUSES = ["running", "succeeded", "ok", "success", "error", "failed", "cancelled", "canceled", "timeout"];

const G3_KEYS = ["schema", "event_type", "event_time_unix_ms", "session_id", "parent_session_id", "tool"];
const G1_KEYS = ["schema", "event_type", "event_time_unix_ms", "event_source", "agent_context", "tool"];
const G1_CONTEXT_KEYS = ["session_type_id", "session_id", "trajectory_id", "parent_trajectory_id"];

type Check = (value: unknown) => string | undefined;

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

const nonEmptyString: Check = (v) => (typeof v === "string" && v !== "" ? undefined : "must be a non-empty string");
const anyString: Check = (v) => (typeof v === "string" ? undefined : "must be a string");
const unsignedInt: Check = (v) =>
  (typeof v === "number" && Number.isInteger(v) && v >= 0) || (typeof v === "bigint" && v >= 0n)
    ? undefined
    : `must be an unsigned integer (got ${describe(v)})`;
const finiteNumber: Check = (v) =>
  typeof v === "number" && Number.isFinite(v) ? undefined : `must be a finite number (got ${describe(v)})`;
const oneOf = (values: string[]): Check => (v) =>
  typeof v === "string" && values.includes(v) ? undefined : `must be one of ${values.join("|")} (got ${describe(v)})`;

function describe(v: unknown): string {
  if (v === null) return "nil";
  if (typeof v === "number" && !Number.isInteger(v)) return `float ${v}`;
  if (typeof v === "string") return JSON.stringify(v);
  return typeof v === "object" ? (Array.isArray(v) ? "array" : "map") : `${typeof v} ${String(v)}`;
}

const TOOL_FIELDS: Record<string, { check: Check; required: boolean }> = {
  tool_call_id: { check: nonEmptyString, required: true },
  tool_class: { check: nonEmptyString, required: true },
  started_at_unix_ms: { check: unsignedInt, required: false },
  ended_at_unix_ms: { check: unsignedInt, required: false },
  duration_ms: { check: finiteNumber, required: false },
  status: { check: oneOf(TOOL_STATUSES), required: false },
  output_tokens: { check: unsignedInt, required: false },
  output_bytes: { check: unsignedInt, required: false },
  error_type: { check: anyString, required: false },
  tool_name_hash: { check: anyString, required: false },
};

function checkFields(
  where: string,
  map: Record<string, unknown>,
  fields: Record<string, { check: Check; required: boolean }>,
  errors: string[],
): void {
  for (const key of Object.keys(map)) {
    if (!(key in fields)) errors.push(`${where}${key}: unknown key`);
  }
  for (const [key, { check, required }] of Object.entries(fields)) {
    if (!(key in map)) {
      if (required) errors.push(`${where}${key}: missing`);
      continue;
    }
    const value = map[key];
    // SPEC §5: optional keys are omitted, never nil.
    if (value === null || value === undefined) {
      errors.push(`${where}${key}: nil (omit optional keys instead)`);
      continue;
    }
    const problem = check(value);
    if (problem) errors.push(`${where}${key}: ${problem}`);
  }
}

function checkTool(tool: unknown, errors: string[]): void {
  if (!isMap(tool)) {
    errors.push(tool === undefined ? "tool: missing" : `tool: must be a map (got ${describe(tool)})`);
    return;
  }
  checkFields("tool.", tool, TOOL_FIELDS, errors);
}

function checkCommon(record: Record<string, unknown>, schema: string, errors: string[]): void {
  if (record.schema !== schema) errors.push(`schema: must be exactly ${schema} (got ${describe(record.schema)})`);
  const et = oneOf(EVENT_TYPES)(record.event_type);
  if (et) errors.push(`event_type: ${et}`);
  if (!("event_time_unix_ms" in record)) errors.push("event_time_unix_ms: missing");
  else {
    const t = unsignedInt(record.event_time_unix_ms);
    if (t) errors.push(`event_time_unix_ms: ${t}`);
  }
  checkTool(record.tool, errors);
}

function checkG3(record: Record<string, unknown>, errors: string[]): void {
  // The G3 ingress carries identity at the top level; Dynamo adds event_source/agent_context itself.
  if ("event_source" in record) errors.push("event_source: not part of RequestTraceToolEventIngress (send the exact shape)");
  if ("agent_context" in record) errors.push("agent_context: not part of RequestTraceToolEventIngress (use top-level session_id)");
  for (const key of Object.keys(record)) {
    if (!G3_KEYS.includes(key) && key !== "event_source" && key !== "agent_context") errors.push(`${key}: unknown key`);
  }
  checkCommon(record, G3_SCHEMA, errors);
  const sid = nonEmptyString(record.session_id);
  if (sid) errors.push(`session_id: ${record.session_id === undefined ? "missing" : sid}`);
  if ("parent_session_id" in record) {
    const p = record.parent_session_id;
    if (p === null || p === undefined) errors.push("parent_session_id: nil (omit optional keys instead)");
    else {
      const problem = nonEmptyString(p);
      if (problem) errors.push(`parent_session_id: ${problem}`);
    }
  }
}

function checkG1(record: Record<string, unknown>, errors: string[]): void {
  if ("request" in record) errors.push("request: must be absent on a harness record");
  for (const key of Object.keys(record)) {
    if (!G1_KEYS.includes(key) && key !== "request") errors.push(`${key}: unknown key`);
  }
  checkCommon(record, G1_SCHEMA, errors);
  if (record.event_source !== "harness") errors.push(`event_source: must be "harness" (got ${describe(record.event_source)})`);
  const ac = record.agent_context;
  if (!isMap(ac)) {
    errors.push(ac === undefined ? "agent_context: missing" : `agent_context: must be a map (got ${describe(ac)})`);
    return;
  }
  checkFields(
    "agent_context.",
    ac,
    Object.fromEntries(G1_CONTEXT_KEYS.map((k) => [k, { check: nonEmptyString, required: k !== "parent_trajectory_id" }])),
    errors,
  );
}

/** All problems with a decoded record for the given generation; empty when it is accepted. */
export function validateToolRecord(generation: DynamoGeneration, record: unknown): string[] {
  if (!isMap(record)) return [`record: must be a map (got ${describe(record)})`];
  const errors: string[] = [];
  if (generation === "headers") checkG3(record, errors);
  else checkG1(record, errors);
  return errors;
}
