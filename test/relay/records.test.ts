import { decode, encode } from "@msgpack/msgpack";
import { SpanStatusCode, type Attributes, type HrTime } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { DEFAULT_TOOL_ERROR_TYPE, toolEndRecord, toolStartRecord, type ToolSpanEnd } from "../../src/relay/records.ts";
import type { ToolEventRecord } from "../../src/relay/types.ts";
import { DYNAMO, GEN_AI, OPERATION } from "../../src/trace/attributes.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const LEAD = `${TRACE}-7a1c2e9d0b3f4a55`;
const CHILD = `${TRACE}-c0ffee0012345678`;
const G1 = { protocol: "nvext", sessionTypeId: "openclaw_coding_agent" } as const;
const G3 = { protocol: "headers", sessionTypeId: "openclaw_coding_agent" } as const;

function toolSpan(
  attributes: Attributes = {},
  overrides: Partial<ToolSpanEnd> = {},
): ToolSpanEnd {
  return {
    attributes: {
      [GEN_AI.OPERATION_NAME]: OPERATION.EXECUTE_TOOL,
      [GEN_AI.TOOL_NAME]: "exec",
      [GEN_AI.TOOL_CALL_ID]: "call_7f3a",
      [DYNAMO.SESSION_ID]: TRACE,
      [DYNAMO.TRAJECTORY_ID]: LEAD,
      ...attributes,
    },
    startTime: [1783000000, 0] as HrTime,
    endTime: [1783000000, 420_000_000] as HrTime,
    duration: [0, 419_873_456] as HrTime,
    status: { code: SpanStatusCode.UNSET },
    ...overrides,
  };
}

function ended(attributes: Attributes = {}, overrides: Partial<ToolSpanEnd> = {}): ToolSpanEnd {
  return toolSpan({ [DYNAMO.TOOL_STATUS]: "succeeded", [DYNAMO.TOOL_OUTPUT_BYTES]: 1532, ...attributes }, overrides);
}

/** Every value, recursively, after a msgpack round trip: what Dynamo decodes. */
function wireValues(record: ToolEventRecord): unknown[] {
  const values: unknown[] = [];
  const walk = (value: unknown): void => {
    values.push(value);
    if (value !== null && typeof value === "object") for (const v of Object.values(value)) walk(v);
  };
  walk(decode(encode(record)));
  return values;
}

describe("G3 records (protocol headers, dynamo.request.trace.v1)", () => {
  it("tool_start matches dynamo-wire §9.4", () => {
    const record = toolStartRecord(toolSpan(), G3);
    expect(record).toEqual({
      schema: "dynamo.request.trace.v1",
      event_type: "tool_start",
      event_time_unix_ms: 1783000000000,
      session_id: LEAD,
      tool: { tool_call_id: "call_7f3a", tool_class: "exec", started_at_unix_ms: 1783000000000, status: "running" },
    });
    expect(Object.keys(record!)).toEqual(["schema", "event_type", "event_time_unix_ms", "session_id", "tool"]);
    expect(Object.keys(record!.tool)).toEqual(["tool_call_id", "tool_class", "started_at_unix_ms", "status"]);
  });

  it("tool_end is self-contained", () => {
    const record = toolEndRecord(ended(), G3);
    expect(record).toEqual({
      schema: "dynamo.request.trace.v1",
      event_type: "tool_end",
      event_time_unix_ms: 1783000000420,
      session_id: LEAD,
      tool: {
        tool_call_id: "call_7f3a",
        tool_class: "exec",
        started_at_unix_ms: 1783000000000,
        ended_at_unix_ms: 1783000000420,
        duration_ms: 419.873,
        status: "succeeded",
        output_bytes: 1532,
      },
    });
    expect(Object.keys(record!.tool)).toEqual([
      "tool_call_id",
      "tool_class",
      "started_at_unix_ms",
      "ended_at_unix_ms",
      "duration_ms",
      "status",
      "output_bytes",
    ]);
  });

  it("tool_error of a subagent chain carries parent_session_id and the default error_type", () => {
    const span = ended(
      {
        [GEN_AI.TOOL_NAME]: "read",
        [GEN_AI.TOOL_CALL_ID]: "call_9b21",
        [DYNAMO.TRAJECTORY_ID]: CHILD,
        [DYNAMO.PARENT_TRAJECTORY_ID]: LEAD,
        [DYNAMO.TOOL_STATUS]: "error",
        [DYNAMO.TOOL_OUTPUT_BYTES]: 57,
      },
      { status: { code: SpanStatusCode.ERROR, message: "ENOENT" } },
    );
    const record = toolEndRecord(span, G3);
    expect(record).toMatchObject({
      event_type: "tool_error",
      session_id: CHILD,
      parent_session_id: LEAD,
      tool: { tool_call_id: "call_9b21", tool_class: "read", status: "error", error_type: DEFAULT_TOOL_ERROR_TYPE, output_bytes: 57 },
    });
    expect(Object.keys(record!)).toEqual(["schema", "event_type", "event_time_unix_ms", "session_id", "parent_session_id", "tool"]);
    expect(DEFAULT_TOOL_ERROR_TYPE).toBe("openclaw_tool_error");
  });

  it("has no agent_context or event_source (Dynamo adds them)", () => {
    const record = toolEndRecord(ended(), G3);
    expect(record).not.toHaveProperty("agent_context");
    expect(record).not.toHaveProperty("event_source");
    expect(record).not.toHaveProperty("trajectory_id");
  });
});

describe("G1 records (protocol nvext, dynamo.agent.trace.v1)", () => {
  it("tool_end matches dynamo-wire §9.4", () => {
    const record = toolEndRecord(ended(), G1);
    expect(record).toEqual({
      schema: "dynamo.agent.trace.v1",
      event_type: "tool_end",
      event_time_unix_ms: 1783000000420,
      event_source: "harness",
      agent_context: { session_type_id: "openclaw_coding_agent", session_id: TRACE, trajectory_id: LEAD },
      tool: {
        tool_call_id: "call_7f3a",
        tool_class: "exec",
        started_at_unix_ms: 1783000000000,
        ended_at_unix_ms: 1783000000420,
        duration_ms: 419.873,
        status: "succeeded",
        output_bytes: 1532,
      },
    });
    expect(Object.keys(record!)).toEqual(["schema", "event_type", "event_time_unix_ms", "event_source", "agent_context", "tool"]);
    expect(Object.keys((record as { agent_context: object }).agent_context)).toEqual(["session_type_id", "session_id", "trajectory_id"]);
  });

  it("tool_start of a subagent carries parent_trajectory_id", () => {
    const record = toolStartRecord(toolSpan({ [DYNAMO.TRAJECTORY_ID]: CHILD, [DYNAMO.PARENT_TRAJECTORY_ID]: LEAD }), G1);
    expect(record).toEqual({
      schema: "dynamo.agent.trace.v1",
      event_type: "tool_start",
      event_time_unix_ms: 1783000000000,
      event_source: "harness",
      agent_context: {
        session_type_id: "openclaw_coding_agent",
        session_id: TRACE,
        trajectory_id: CHILD,
        parent_trajectory_id: LEAD,
      },
      tool: { tool_call_id: "call_7f3a", tool_class: "exec", started_at_unix_ms: 1783000000000, status: "running" },
    });
  });

  it("tool_error takes error_type from error.type", () => {
    const span = ended({ [GEN_AI.ERROR_TYPE]: "ToolTimeoutError" }, { status: { code: SpanStatusCode.ERROR } });
    const record = toolEndRecord(span, G1);
    expect(record?.event_type).toBe("tool_error");
    expect(record?.tool).toMatchObject({ status: "error", error_type: "ToolTimeoutError" });
  });

  it("needs a session id and a session type", () => {
    const noSession = ended({ [DYNAMO.SESSION_ID]: undefined });
    expect(toolEndRecord(noSession, G1)).toBeUndefined();
    expect(toolEndRecord(noSession, G3)).toBeDefined(); // G3 only needs the chain id
    expect(toolStartRecord(toolSpan(), { protocol: "nvext", sessionTypeId: "" })).toBeUndefined();
  });
});

describe("status, error and optional keys", () => {
  it.each([
    ["span ERROR", { [DYNAMO.TOOL_STATUS]: undefined }, SpanStatusCode.ERROR, "tool_error", "error"],
    ["status attribute error", { [DYNAMO.TOOL_STATUS]: "error" }, SpanStatusCode.UNSET, "tool_error", "error"],
    ["cancelled", { [DYNAMO.TOOL_STATUS]: "cancelled" }, SpanStatusCode.UNSET, "tool_end", "cancelled"],
    ["cancelled with span ERROR", { [DYNAMO.TOOL_STATUS]: "cancelled" }, SpanStatusCode.ERROR, "tool_error", "cancelled"],
    ["no status attribute", { [DYNAMO.TOOL_STATUS]: undefined }, SpanStatusCode.UNSET, "tool_end", "succeeded"],
    ["span OK", {}, SpanStatusCode.OK, "tool_end", "succeeded"],
  ] as const)("%s", (_name, attributes, code, eventType, status) => {
    const record = toolEndRecord(ended(attributes, { status: { code } }), G3)!;
    expect(record.event_type).toBe(eventType);
    expect(record.tool.status).toBe(status);
    expect("error_type" in record.tool).toBe(eventType === "tool_error");
  });

  it.each([
    ["missing", undefined],
    ["negative", -1],
    ["NaN", Number.NaN],
    ["a string", "12"],
  ])("omits output_bytes when it is %s", (_name, value) => {
    const record = toolEndRecord(ended({ [DYNAMO.TOOL_OUTPUT_BYTES]: value }), G3)!;
    expect(Object.keys(record.tool)).not.toContain("output_bytes");
  });

  it("never carries undefined or nil, in either schema", () => {
    const spans = [
      ended({ [DYNAMO.TOOL_OUTPUT_BYTES]: undefined, [DYNAMO.PARENT_TRAJECTORY_ID]: undefined }),
      ended({ [DYNAMO.PARENT_TRAJECTORY_ID]: "" }, { status: { code: SpanStatusCode.ERROR } }),
      toolSpan({ [GEN_AI.TOOL_NAME]: undefined }),
    ];
    for (const context of [G1, G3]) {
      for (const record of [toolStartRecord(spans[2]!, context), ...spans.map((s) => toolEndRecord(s, context))]) {
        expect(record).toBeDefined();
        const values = wireValues(record!);
        expect(values).not.toContain(null);
        expect(values).not.toContain(undefined);
        expect(JSON.stringify(record)).not.toContain("parent_");
      }
    }
  });

  it("writes Unix ms as msgpack integers, never floats", () => {
    const span = ended({}, { startTime: [1783000000, 123_900_000], endTime: [1783000000, 544_600_000], duration: [0, 420_700_000] });
    const record = toolEndRecord(span, G3)!;
    expect(record.event_time_unix_ms).toBe(1783000000544);
    expect(record.tool.started_at_unix_ms).toBe(1783000000123);
    expect(record.tool.ended_at_unix_ms).toBe(1783000000544);
    expect(record.tool.duration_ms).toBe(420.7);
    const bytes = Buffer.from(encode(record));
    for (const key of ["event_time_unix_ms", "started_at_unix_ms", "ended_at_unix_ms"]) {
      const at = bytes.indexOf(Buffer.from(key)) + key.length;
      expect(bytes[at], key).toBe(0xcf); // uint64, not float64 (0xcb)
    }
  });

  it("keeps duration_ms finite and non-negative", () => {
    const odd = toolEndRecord(ended({}, { duration: [-1, -1] }), G3)!;
    expect(odd.tool.duration_ms).toBe(0);
    const zero = toolEndRecord(ended({}, { duration: [0, 0] }), G3)!;
    expect(zero.tool.duration_ms).toBe(0);
  });

  it("derives tool_class from the tool name", () => {
    expect(toolStartRecord(toolSpan({ [GEN_AI.TOOL_NAME]: "mcp/server.tool" }), G3)!.tool.tool_class).toBe("mcp");
    expect(toolStartRecord(toolSpan({ [GEN_AI.TOOL_NAME]: undefined }), G3)!.tool.tool_class).toBe("unknown");
  });

  it("never sends arguments or results", () => {
    const span = ended({
      [GEN_AI.TOOL_CALL_ARGUMENTS]: '{"command":"cat /etc/secret"}',
      [GEN_AI.TOOL_CALL_RESULT]: "top secret output",
      "input.value": "cat /etc/secret",
      "output.value": "top secret output",
    });
    for (const context of [G1, G3]) {
      for (const record of [toolStartRecord(span, context), toolEndRecord(span, context)]) {
        const json = JSON.stringify(record);
        expect(json).not.toContain("secret");
      }
    }
  });

  it("never sends error text, labels or session keys (docs/privacy.md), whatever a captured span holds", () => {
    // A span with every class captured: error text in the status, the label, the full session key.
    const span = ended(
      {
        [DYNAMO.TOOL_STATUS]: "error",
        [GEN_AI.ERROR_TYPE]: "openclaw_tool_error",
        "openclaw.subagent.label": "label-planted",
        "openclaw.session.key": "agent:main:telegram:direct:+15550001111",
      },
      { status: { code: SpanStatusCode.ERROR, message: "OPENAI_API_KEY=planted" } },
    );
    for (const context of [G1, G3]) {
      const record = toolEndRecord(span, context)!;
      expect(record.event_type).toBe("tool_error");
      expect(record.tool.error_type).toBe("openclaw_tool_error");
      const json = JSON.stringify(decode(encode(record)));
      for (const planted of ["planted", "15550001111", "telegram"]) expect(json, planted).not.toContain(planted);
    }
  });

  it.each([
    ["no tool call id", { [GEN_AI.TOOL_CALL_ID]: undefined }],
    ["empty tool call id", { [GEN_AI.TOOL_CALL_ID]: "" }],
    ["no trajectory id", { [DYNAMO.TRAJECTORY_ID]: undefined }],
    ["a numeric trajectory id", { [DYNAMO.TRAJECTORY_ID]: 7 }],
  ])("builds nothing with %s", (_name, attributes) => {
    for (const context of [G1, G3]) {
      expect(toolStartRecord(toolSpan(attributes), context)).toBeUndefined();
      expect(toolEndRecord(ended(attributes), context)).toBeUndefined();
    }
  });

  it("builds nothing without a valid start time", () => {
    expect(toolStartRecord(toolSpan({}, { startTime: [0, 0] }), G3)).toBeUndefined();
    expect(toolEndRecord(ended({}, { endTime: [Number.NaN, 0] }), G3)).toBeUndefined();
  });
});
