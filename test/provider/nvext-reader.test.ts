// Reading Dynamo's `nvext` answer from raw response bytes (src/provider/nvext-reader.ts): split SSE
// lines, and the real path through undici's diagnostics channels with Node's fetch and the simulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNvext, extraFieldsFor, readChunk, type NvextSink } from "../../src/provider/nvext-reader.ts";
import { DEFAULT_WORKER_ID, startSimulator, type Simulator } from "../sim/index.ts";

const FINISH = `data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"nvext":{"worker_id":{"decode_worker_id":3},"timing":{"ttft_ms":12.5}}}\n\n`;
const BEFORE = `data: {"id":"c1","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n`;
const AFTER = `data: {"id":"c1","choices":[],"usage":{"prompt_tokens":3}}\n\ndata: [DONE]\n\n`;

function feed(...parts: string[]): NvextSink {
  const state = { sink: { nvext: undefined } as NvextSink, tail: undefined, pending: undefined };
  for (const part of parts) readChunk(state, Buffer.from(part));
  return state.sink;
}

describe("readChunk", () => {
  const whole = BEFORE + FINISH + AFTER;
  const expected = { worker_id: { decode_worker_id: 3 }, timing: { ttft_ms: 12.5 } };

  it("finds nvext in one chunk, and wherever the body is cut", () => {
    expect(feed(whole).nvext).toEqual(expected);
    for (let cut = 1; cut < whole.length; cut += 7) {
      expect(feed(whole.slice(0, cut), whole.slice(cut)).nvext, `cut at ${cut}`).toEqual(expected);
    }
    // Byte by byte.
    expect(feed(...whole.split("")).nvext).toEqual(expected);
  });

  it("leaves it absent when the answer has none or it is not JSON", () => {
    expect(feed(BEFORE + AFTER).nvext).toBeUndefined();
    expect(feed('data: {"nvext": {broken\n\n').nvext).toBeUndefined();
  });
});

describe("extraFieldsFor", () => {
  it("adds worker_id and timing to what the caller asked for, once", () => {
    expect(extraFieldsFor({})).toEqual({ extra_fields: ["worker_id", "timing"] });
    expect(extraFieldsFor({ nvext: { extra_fields: ["stop_reason", "timing", 3] } })).toEqual({ extra_fields: ["stop_reason", "timing", "worker_id"] });
  });
});

describe("through undici's diagnostics channels", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ serving: { textChunks: 3 } });
  });
  afterAll(async () => {
    await sim.close();
  });

  it("records what the simulator answered for this request only", async () => {
    const mine: NvextSink = { nvext: undefined };
    const other: NvextSink = { nvext: undefined };
    const forget = expectNvext("rid-mine", mine);
    expectNvext("rid-not-sent", other)();
    const res = await fetch(`${sim.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "rid-mine" },
      body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "[[sim:text hello there]]" }], nvext: { extra_fields: ["worker_id", "timing"] } }),
    });
    await res.text();
    forget();
    expect(mine.nvext?.worker_id).toEqual(DEFAULT_WORKER_ID);
    expect(typeof (mine.nvext?.timing as { ttft_ms?: unknown }).ttft_ms).toBe("number");
    expect(other.nvext).toBeUndefined();
  });
});
