// The simulator's serving knobs (./serving.ts): stream pacing as seen by a fetch client, cached tokens,
// and `nvext.extra_fields` accepted by both generations and answered with worker ids and timing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_WORKER_ID, startSimulator, type Simulator } from "./index.ts";
import { splitText } from "./serving.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ generation: "headers" });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.clear();
  sim.setServing({});
  sim.setGeneration("headers");
});

const TEXT_TURN = [{ role: "user", content: "[[sim:text The quick brown fox jumps over the lazy dog.]]" }];

/** Streams a chat and returns each SSE `data:` payload with its arrival time (ms since the request). */
async function timedStream(body: Record<string, unknown>) {
  const started = performance.now();
  const res = await fetch(`${sim.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "mock-model", stream: true, stream_options: { include_usage: true }, ...body }),
  });
  const events: Array<{ at: number; data: string }> = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
    const at = performance.now() - started;
    buffer += decoder.decode(bytes, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const line = buffer.slice(0, cut).replace(/^data: /, "");
      buffer = buffer.slice(cut + 2);
      events.push({ at, data: line });
    }
  }
  return { status: res.status, events, json: events.filter((e) => e.data !== "[DONE]").map((e) => ({ at: e.at, chunk: JSON.parse(e.data) })) };
}

describe("serving knobs", () => {
  it("splits text into the configured deltas", () => {
    expect(splitText("abcdefgh", 4)).toEqual(["ab", "cd", "ef", "gh"]);
    expect(splitText("ab", 5)).toEqual(["a", "b"]);
    expect(splitText("", 3)).toEqual([]);
  });

  it("paces the stream: first-token delay, gaps between content chunks, cached tokens in usage", async () => {
    sim.setServing({ firstTokenDelayMs: 150, chunkGapMs: 60, textChunks: 4, cachedTokens: 5 });
    const { status, json } = await timedStream({ messages: TEXT_TURN });
    expect(status).toBe(200);
    const content = json.filter((e) => typeof e.chunk.choices?.[0]?.delta?.content === "string" && e.chunk.choices[0].delta.content !== "");
    expect(content).toHaveLength(4);
    expect(content.map((e) => e.chunk.choices[0].delta.content).join("")).toBe("The quick brown fox jumps over the lazy dog.");
    expect(content[0]!.at).toBeGreaterThanOrEqual(140);
    for (let i = 1; i < content.length; i++) expect(content[i]!.at - content[i - 1]!.at).toBeGreaterThanOrEqual(45);
    const usage = json.find((e) => e.chunk.usage)!.chunk.usage;
    expect(usage.prompt_tokens_details).toEqual({ cached_tokens: 5 });
    // No nvext unless asked for.
    expect(json.some((e) => e.chunk.nvext)).toBe(false);
  });

  for (const generation of ["headers", "nvext"] as const) {
    it(`accepts nvext.extra_fields and answers worker_id and timing on the finish chunk (${generation})`, async () => {
      sim.setGeneration(generation);
      sim.setServing({ firstTokenDelayMs: 50, cachedTokens: 4 });
      const { status, json } = await timedStream({ messages: TEXT_TURN, nvext: { extra_fields: ["worker_id", "timing", "unknown_value"] } });
      expect(status).toBe(200);
      const withNvext = json.filter((e) => e.chunk.nvext);
      expect(withNvext).toHaveLength(1);
      expect(withNvext[0]!.chunk.choices[0].finish_reason).toBe("stop");
      const { worker_id, timing } = withNvext[0]!.chunk.nvext;
      expect(worker_id).toEqual(DEFAULT_WORKER_ID);
      expect(timing.ttft_ms).toBeGreaterThanOrEqual(45);
      expect(timing.total_time_ms).toBeGreaterThanOrEqual(timing.ttft_ms);
      expect(typeof timing.request_received_ms).toBe("number");
      expect(timing.kv_hit_rate).toBeGreaterThan(0);
    });
  }

  it("rejects unknown nvext keys in both generations and a malformed extra_fields", async () => {
    sim.setGeneration("nvext");
    const unknown = await timedStream({ messages: TEXT_TURN, nvext: { response_fields: ["timing"] } });
    expect(unknown.status).toBe(400);
    expect(sim.requests.at(-1)!.rejection).toMatch(/nvext.response_fields/);
    const malformed = await timedStream({ messages: TEXT_TURN, nvext: { extra_fields: "timing" } });
    expect(malformed.status).toBe(400);
    sim.setGeneration("headers");
    expect((await timedStream({ messages: TEXT_TURN, nvext: { response_fields: ["timing"] } })).status).toBe(400);
  });
});
