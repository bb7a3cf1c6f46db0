import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator } from "./index.ts";
import type { Simulator } from "./index.ts";
import { assembleSse, postChat } from "./sse-client.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.clear();
  sim.faults.reset();
});

const chat = (stream = true) =>
  postChat(sim.baseUrl, { model: "mock-model", stream, messages: [{ role: "user", content: "[[sim:text fine]]" }] });

describe("chat faults (one-shot FIFO)", () => {
  it("answers queued statuses in order, with headers and bodies, then recovers", async () => {
    sim.faults.chat(
      { type: "status", status: 503, headers: { "retry-after": "1" } },
      { type: "status", status: 429, body: { error: { message: "slow down" } }, headers: { "retry-after": "2" } },
      { type: "status", status: 500, body: "plain failure" },
    );
    expect(sim.faults.pendingChat).toBe(3);
    const a = await chat();
    expect(a.status).toBe(503);
    expect(a.headers.get("retry-after")).toBe("1");
    expect(await a.json()).toMatchObject({ code: 503, type: "Service Unavailable" });
    const b = await chat();
    expect([b.status, b.headers.get("retry-after"), await b.json()]).toEqual([429, "2", { error: { message: "slow down" } }]);
    const c = await chat();
    expect([c.status, await c.text()]).toEqual([500, "plain failure"]);
    const d = await chat();
    expect(d.status).toBe(200);
    expect(assembleSse(await d.text()).text).toBe("fine");
    expect(sim.requests.map((r) => [r.status, r.fault])).toEqual([
      [503, "status 503"],
      [429, "status 429"],
      [500, "status 500"],
      [200, undefined],
    ]);
  });

  it("resets the connection after the first SSE chunk", async () => {
    sim.faults.chat({ type: "reset-after-first-chunk" });
    const res = await chat();
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    expect(sim.requests[0]!.fault).toBe("reset-after-first-chunk");
  });

  it("sends a malformed SSE line", async () => {
    sim.faults.chat({ type: "malformed-sse" });
    const body = await (await chat()).text();
    expect(body).toContain("data: [DONE]");
    expect(() => assembleSse(body)).toThrow(SyntaxError);
  });

  it("delays the first byte", async () => {
    sim.faults.chat({ type: "delay", ms: 250 });
    const t0 = Date.now();
    const res = await chat(false);
    expect(res.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
    expect(((await res.json()) as { object: string }).object).toBe("chat.completion");
  });
});

describe("models endpoint modes", () => {
  it("goes down, serves garbage, and comes back", async () => {
    sim.faults.models("down");
    await expect(fetch(`${sim.baseUrl}/models`)).rejects.toThrow();
    sim.faults.models("garbage");
    const g = await fetch(`${sim.baseUrl}/models`);
    expect(g.status).toBe(200);
    await expect(g.json()).rejects.toThrow();
    sim.faults.models("ok");
    expect((await fetch(`${sim.baseUrl}/models`)).status).toBe(200);
    expect(sim.requests.map((r) => r.fault)).toEqual(["models down", "models garbage", undefined]);
  });
});

describe("OTLP receiver modes", () => {
  const post = (signal?: AbortSignal) =>
    fetch(sim.otlpUrl, { method: "POST", headers: { "content-type": "application/json" }, body: '{"resourceSpans":[]}', ...(signal ? { signal } : {}) });

  it("answers a configured status", async () => {
    sim.faults.otlp({ mode: "status", status: 429, headers: { "retry-after": "3" } });
    const res = await post();
    expect([res.status, res.headers.get("retry-after")]).toEqual([429, "3"]);
    expect(sim.otlp.exports[0]).toMatchObject({ status: 429, spanCount: 0 });
  });

  it("drops the socket", async () => {
    sim.faults.otlp({ mode: "drop" });
    await expect(post()).rejects.toThrow();
    expect(sim.otlp.exports[0]!.status).toBe(-1);
  });

  it("hangs without answering, and close() still returns promptly", async () => {
    const other = await startSimulator();
    other.faults.otlp({ mode: "hang" });
    other.faults.chat({ type: "delay", ms: 60_000 });
    const hung = fetch(other.otlpUrl, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    const delayed = postChat(other.baseUrl, { model: "m", stream: true, messages: [{ role: "user", content: "x" }] });
    await other.waitFor(() => other.otlp.exports.length === 1 && other.requests.length === 1, 2000, "both requests to arrive");
    const raced = await Promise.race([hung.then(() => "answered"), new Promise((r) => setTimeout(() => r("pending"), 150))]);
    expect(raced).toBe("pending");
    const t0 = Date.now();
    await other.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(hung).rejects.toThrow();
    await expect(delayed).rejects.toThrow();
    expect(other.otlp.exports[0]!.status).toBe(0);
  });

  it("accepts again after reset", async () => {
    sim.faults.otlp({ mode: "status", status: 500 });
    sim.faults.reset();
    const res = await post();
    expect(res.status).toBe(200);
  });
});
