// Protocol negotiation (SPEC §4.4) and the 1.3+ rejection detector (dynamo-wire.md §4).
import { describe, expect, it } from "vitest";
import { ProtocolState, isNvextRejection } from "../../src/provider/protocol.ts";

describe("isNvextRejection", () => {
  it.each([
    // [status, message, expected]
    [400, "invalid nvext: unknown field `agent_context`, expected one of `greed_sampling`, `use_raw_prompt`", true],
    ["400", "Failed to deserialize the JSON body: nvext: unknown field `session_control`", true],
    [undefined, "400 invalid nvext: unknown field `agent_context`, expected one of `annotations`", true],
    [undefined, "400 Failed to deserialize the JSON body: nvext: unknown field `session_control` at line 1 column 80", true],
    [400, '{"message":"invalid nvext: unknown field `agent_context`","type":"invalid_request_error","code":400}', true],
    // Not the 1.3+ rejection:
    [400, "invalid nvext: unknown field `phase`, expected one of `session_type_id`, `session_id`", false],
    [400, "invalid nvext: unknown field `trajectory_final`", false],
    [400, "invalid nvext: missing field `session_type_id`", false],
    [400, "Unknown Field `agent_context`", false],
    [400, "unknown field 'agent_context'", false],
    [400, "unknown field `agent_context_v2`", false],
    [422, "invalid nvext: unknown field `agent_context`", false],
    [500, "unknown field `session_control`", false],
    ["500", "400 unknown field `session_control`", false],
    [undefined, "unknown field `agent_context`", false],
    [undefined, "4000 unknown field `agent_context`", false],
    [undefined, "500 unknown field `agent_context`", false],
    [400, undefined, false],
    [400, "", false],
    [undefined, undefined, false],
  ] as const)("(%s, %j) → %s", (status, message, expected) => {
    expect(isNvextRejection(status, message)).toBe(expected);
  });
});

describe("ProtocolState", () => {
  it("starts on the configured protocol; auto starts on nvext", () => {
    expect(new ProtocolState("nvext").current).toBe("nvext");
    expect(new ProtocolState("headers").current).toBe("headers");
    expect(new ProtocolState("auto").current).toBe("nvext");
    expect(new ProtocolState("auto").setting).toBe("auto");
  });

  it("may fall back only under auto", () => {
    expect(new ProtocolState("auto").canFallBack).toBe(true);
    expect(new ProtocolState("nvext").canFallBack).toBe(false);
    expect(new ProtocolState("headers").canFallBack).toBe(false);
  });

  it("switches to headers once, counting every fallback", () => {
    const switches: Array<[string, string]> = [];
    const state = new ProtocolState("auto", (from, to) => switches.push([from, to]));
    expect(state.fallbacks).toBe(0);
    expect(state.fallBackToHeaders()).toBe("headers");
    expect(state.current).toBe("headers");
    expect(state.fallBackToHeaders()).toBe("headers");
    expect(state.fallBackToHeaders()).toBe("headers");
    expect(state.fallbacks).toBe(3);
    expect(switches).toEqual([["nvext", "headers"]]);
    expect(state.setting).toBe("auto");
  });

  it("works without a switch listener", () => {
    const state = new ProtocolState("auto");
    expect(state.fallBackToHeaders()).toBe("headers");
    expect(state.current).toBe("headers");
  });
});
