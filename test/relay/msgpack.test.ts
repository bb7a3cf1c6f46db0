// The relay's record encoder must put exactly the bytes `@msgpack/msgpack` would on the wire
// (Encoder({ignoreUndefined: true}).encode), for the records the plugin builds and for anything else.
import { Encoder } from "@msgpack/msgpack";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeInto, encodeRecord } from "../../src/relay/msgpack.ts";
import { toolEndRecord, toolStartRecord } from "../../src/relay/records.ts";

const reference = new Encoder({ ignoreUndefined: true });
/** The relay's bytes for `value` (written by `encodeInto` into a buffer with room, and by `encodeRecord`) are the library's. */
const same = (value: unknown) => {
  const expected = Buffer.from(reference.encode(value)).toString("hex");
  const target = Buffer.alloc(expected.length / 2 + 64);
  const end = encodeInto(value, target, 0);
  expect(target.subarray(0, end).toString("hex")).toBe(expected);
  expect(Buffer.from(encodeRecord(value)).toString("hex")).toBe(expected);
};

const ms = (t: number): [number, number] => [Math.floor(t / 1000), (t % 1000) * 1e6];

describe("encodeRecord", () => {
  it("matches @msgpack/msgpack on the records of both protocols", () => {
    const start = 1_783_000_000_123;
    for (const protocol of ["headers", "nvext"] as const) {
      for (const parent of [undefined, "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"]) {
        for (const [code, declared] of [[0, "succeeded"], [2, "error"], [0, "cancelled"]] as const) {
          const span = {
            attributes: {
              "gen_ai.operation.name": "execute_tool",
              "gen_ai.tool.name": "mcp/search",
              "gen_ai.tool.call.id": "call_mock_1",
              "dynamo.session_id": "4bf92f3577b34da6a3ce929d0e0e4736",
              "dynamo.trajectory_id": "4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d0b3f4a55",
              ...(parent ? { "dynamo.parent_trajectory_id": parent } : {}),
              "dynamo.tool.status": declared,
              "dynamo.tool.output_bytes": 70_000,
              "error.type": code === 2 ? "openclaw_tool_error" : undefined,
            },
            startTime: ms(start),
            endTime: ms(start + 1234),
            duration: [1, 234_567_891] as [number, number],
            status: { code },
          };
          const ctx = { protocol, sessionTypeId: "openclaw_coding_agent" };
          same(toolStartRecord(span as never, ctx));
          same(toolEndRecord(span as never, ctx));
        }
      }
    }
  });

  it("matches @msgpack/msgpack on every integer width, floats, long and non-ASCII strings, and what it hands back", () => {
    for (const n of [0, -0, 1, 127, 128, 255, 256, 65_535, 65_536, 4_294_967_295, 4_294_967_296, Date.now(), Number.MAX_SAFE_INTEGER, 2 ** 53, 1.5, 0.001, -1, -200, NaN, Infinity]) {
      same({ n });
    }
    for (const s of ["", "a".repeat(31), "a".repeat(32), "a".repeat(255), "a".repeat(256), "a".repeat(70_000), "é", "工具", "\ud83d\ude00", "\ud800", "x".repeat(60) + "\ud800"]) {
      same({ s });
    }
    same(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])));
    same({ a: [1, 2], b: true, c: null, d: undefined, e: { f: new Date(0) } });
    same("top-level");
  });

  it("matches @msgpack/msgpack on arbitrary JSON-like values", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(undefined))), (json, dict) => {
        same(json);
        same(dict);
        same({ tool: dict, at: 1_783_000_000_000 });
      }),
      { numRuns: 500 },
    );
  });
});

describe("encodeInto", () => {
  const reference = new Encoder({ ignoreUndefined: true });
  const values: unknown[] = [
    { schema: "dynamo.request.trace.v1", tool: { tool_call_id: "call_1", at: 1_783_000_000_000, d: 1.5 } },
    { s: "工具", n: -1, list: [1, 2] },
    { long: "z".repeat(5_000) },
    "top-level",
  ];

  it("writes the same bytes as @msgpack/msgpack at the given offset, leaving the bytes before it alone", () => {
    for (const value of values) {
      const expected = Buffer.from(reference.encode(value));
      const target = Buffer.alloc(10_000, 0xee);
      const end = encodeInto(value, target, 17);
      expect(end).toBe(17 + expected.length);
      expect(target.subarray(17, end).toString("hex")).toBe(expected.toString("hex"));
      expect(target.subarray(0, 17).every((byte) => byte === 0xee)).toBe(true);
    }
  });

  it("returns -1 when the value does not fit, whether written here or by the library", () => {
    for (const value of values) {
      const size = reference.encode(value).length;
      expect(encodeInto(value, Buffer.alloc(3 + size - 1), 3)).toBe(-1);
      expect(encodeInto(value, Buffer.alloc(3 + size + 64), 3)).toBe(3 + size);
    }
  });
});
