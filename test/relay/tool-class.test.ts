import { describe, expect, it } from "vitest";
import { toolClass } from "../../src/relay/tool-class.ts";

describe("toolClass (dynamo-wire §10)", () => {
  it.each([
    ["read", "read"],
    ["exec", "exec"],
    ["agent_tools---search", "agent_tools"],
    ["mcp/server.tool", "mcp"],
    ["a---b/c", "a"],
    ["a/b---c", "a"],
    ["ns---x---y", "ns"],
    ["---search", "unknown"],
    ["/tool", "unknown"],
    ["  read  ", "read"],
    ["", "unknown"],
    ["   ", "unknown"],
    [undefined, "unknown"],
  ])("%j → %j", (name, expected) => {
    expect(toolClass(name)).toBe(expected);
  });
});
