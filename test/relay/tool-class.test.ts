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

  it("gives the same answers from its cache of recent names, past the cache's size", () => {
    const names = Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? `ns${i}---tool` : i % 3 === 1 ? `srv${i}/tool` : `tool${i}`));
    const expected = names.map((name) => name.split("---")[0]!.split("/")[0]!);
    for (let pass = 0; pass < 3; pass++) expect(names.map(toolClass)).toEqual(expected);
    expect(toolClass("  read  ")).toBe("read");
    expect(toolClass("read")).toBe("read");
  });
});
