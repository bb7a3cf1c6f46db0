import { describe, expect, it } from "vitest";
import { toolOutputBytes } from "../../src/trace/tool-output.ts";

describe("toolOutputBytes", () => {
  it("counts nothing for undefined and null", () => {
    expect(toolOutputBytes(undefined)).toBe(0);
    expect(toolOutputBytes(null)).toBe(0);
  });

  it("counts a plain string as its UTF-8 bytes", () => {
    expect(toolOutputBytes("hello")).toBe(5);
    expect(toolOutputBytes("héllo €")).toBe(10);
    expect(toolOutputBytes("")).toBe(0);
  });

  it("joins the text parts of an OpenClaw tool result with newlines", () => {
    const result = {
      content: [
        { type: "text", text: "first" },
        { type: "text", text: "ünïcode" },
      ],
      details: { huge: "x".repeat(10_000) },
    };
    expect(toolOutputBytes(result)).toBe(Buffer.byteLength("first\nünïcode"));
  });

  it("JSON-stringifies non-text parts", () => {
    const image = { type: "image", data: "aGVsbG8=", mimeType: "image/png" };
    const result = { content: [{ type: "text", text: "see" }, image] };
    expect(toolOutputBytes(result)).toBe(Buffer.byteLength(`see\n${JSON.stringify(image)}`));
  });

  it("counts an empty content list as 0 and a bare array as a content list", () => {
    expect(toolOutputBytes({ content: [] })).toBe(0);
    expect(toolOutputBytes([{ type: "text", text: "a" }, "b"])).toBe(3);
  });

  it("JSON-stringifies other values", () => {
    expect(toolOutputBytes({ ok: true })).toBe(Buffer.byteLength('{"ok":true}'));
    expect(toolOutputBytes(42)).toBe(2);
    expect(toolOutputBytes(() => 1)).toBe(0);
  });

  it("never throws on cyclic, BigInt or hostile inputs", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(toolOutputBytes(cyclic)).toBe(0);
    expect(toolOutputBytes({ content: [{ type: "text", text: "ok" }, cyclic] })).toBe(3);
    expect(toolOutputBytes(10n)).toBe(0);
    const hostile = new Proxy({}, {
      get() {
        throw new Error("boom");
      },
    });
    expect(toolOutputBytes(hostile)).toBe(0);
    expect(toolOutputBytes({ content: [hostile] })).toBe(0);
  });

  it("handles a large result quickly", () => {
    const text = "é".repeat(5_000_000);
    const started = performance.now();
    expect(toolOutputBytes({ content: [{ type: "text", text }, { type: "text", text }] })).toBe(20_000_001);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
