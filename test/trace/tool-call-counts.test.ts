import type { Attributes, ObservableResult } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { ToolCallCounts } from "../../src/trace/tool-call-counts.ts";

const KEYS = { tool: "gen_ai.tool.name", status: "dynamo.tool.status", errorType: "error.type" };
const call = (tool?: string, status?: string, errorType?: string): Attributes => ({
  ...(tool === undefined ? {} : { [KEYS.tool]: tool }),
  ...(status === undefined ? {} : { [KEYS.status]: status }),
  ...(errorType === undefined ? {} : { [KEYS.errorType]: errorType }),
  "gen_ai.tool.call.id": `id-${Math.random()}`,
});

function observed(counts: ToolCallCounts): Array<[number, Attributes | undefined]> {
  const points: Array<[number, Attributes | undefined]> = [];
  counts.observe({ observe: (value: number, attributes?: Attributes) => points.push([value, attributes]) } as ObservableResult);
  return points;
}

describe("ToolCallCounts", () => {
  it("counts calls per (tool, status, error type), with only those three as attributes", () => {
    const counts = new ToolCallCounts(KEYS);
    for (let i = 0; i < 3; i++) counts.add(call("read", "ok"));
    counts.add(call("exec", "error", "openclaw_tool_error"));
    counts.add(call("exec", "error", "timeout"));
    counts.add(call("exec", "error", "timeout"));
    counts.add(call("exec", "ok"));
    expect(observed(counts)).toEqual([
      [3, { [KEYS.tool]: "read", [KEYS.status]: "ok" }],
      [1, { [KEYS.tool]: "exec", [KEYS.status]: "error", [KEYS.errorType]: "openclaw_tool_error" }],
      [2, { [KEYS.tool]: "exec", [KEYS.status]: "error", [KEYS.errorType]: "timeout" }],
      [1, { [KEYS.tool]: "exec", [KEYS.status]: "ok" }],
    ]);
  });

  it("keeps absent values apart from present ones and never mixes keys that a joined string would", () => {
    const counts = new ToolCallCounts(KEYS);
    counts.add(call());
    counts.add(call("a\u0000b", "c"));
    counts.add(call("a", "b\u0000c"));
    counts.add(call("undefined", "undefined", "undefined"));
    const points = observed(counts);
    expect(points).toHaveLength(4);
    expect(points[0]).toEqual([1, {}]);
    expect(points.every(([value]) => value === 1)).toBe(true);
  });

  it("counts new tools past 1,000 series under _OTHER, and existing series still count as themselves", () => {
    const counts = new ToolCallCounts(KEYS);
    for (let i = 0; i < 1_000; i++) counts.add(call(`tool-${i}`, "ok"));
    counts.add(call("late-1", "ok"));
    counts.add(call("late-2", "ok"));
    counts.add(call("late-3", "error", "timeout"));
    counts.add(call("tool-7", "ok"));
    const points = observed(counts);
    expect(points).toHaveLength(1_002);
    expect(points.find(([, a]) => a?.[KEYS.tool] === "_OTHER" && a[KEYS.status] === "ok")?.[0]).toBe(2);
    expect(points.find(([, a]) => a?.[KEYS.tool] === "_OTHER" && a[KEYS.status] === "error")).toEqual([1, { [KEYS.tool]: "_OTHER", [KEYS.status]: "error", [KEYS.errorType]: "timeout" }]);
    expect(points.find(([, a]) => a?.[KEYS.tool] === "tool-7")?.[0]).toBe(2);
  });

  it("counts array values (never set by the plugin) by content, not by identity", () => {
    const counts = new ToolCallCounts(KEYS);
    for (let i = 0; i < 5; i++) counts.add({ [KEYS.tool]: ["a", "b"], [KEYS.status]: "ok" });
    expect(observed(counts)).toEqual([[5, { [KEYS.tool]: "a,b", [KEYS.status]: "ok" }]]);
  });
});
