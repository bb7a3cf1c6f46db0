// Fault matrix, Dynamo rows, at the provider boundary (SPEC §8): every fault is sent once through
// OpenClaw's own `openai-completions` transport alone (the outcome without the plugin) and once
// through the plugin's stream wrapper around that same transport, and OpenClaw must see the same
// thing. Then OpenClaw's own same-model retry (it resends a failed request with the same request id,
// observed with 2026.9.6 for 5xx, resets and malformed streams) must get its own chat span and
// x-request-id. The OpenClaw-level outcome of these faults is in test/e2e/faults.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type ChatFault, type OtlpSpan, type RecordedRequest, type Simulator } from "../sim/index.ts";
import {
  consume,
  endRun,
  loadPlugin,
  outcome,
  realTransport,
  startRun,
  type LoadedPlugin,
  type StreamContext,
  type StreamOptions,
} from "./harness.ts";

const SESSION = "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e";
/** OpenClaw's diagnostic wrapper puts its own traceparent on every request (SDK notes §7.3). */
const OPENCLAW_TRACEPARENT = "00-aaaabbbbccccddddeeeeffff00001111-1234567890abcdef-01";
const CONTEXT = {
  systemPrompt: "You are helpful.",
  messages: [{ role: "user", content: "Say hello. [[sim:text Hello from Dynamo.]]", timestamp: 1 }],
} as unknown as StreamContext;

function options(requestId: string): StreamOptions {
  return { requestId, sessionId: SESSION, headers: { traceparent: OPENCLAW_TRACEPARENT } } as unknown as StreamOptions;
}

/** Runs `send` and returns the chat requests it caused. */
async function requestsOf<T>(sim: Simulator, send: () => Promise<T>): Promise<{ value: T; requests: RecordedRequest[] }> {
  const before = sim.requests.length;
  const value = await send();
  return { value, requests: sim.requests.slice(before).filter((request) => request.kind === "chat") };
}

function spanOf(spans: OtlpSpan[], request: RecordedRequest): OtlpSpan | undefined {
  const spanId = /^00-[0-9a-f]{32}-([0-9a-f]{16})-0[01]$/.exec(request.traceparent ?? "")?.[1];
  return spans.find((span) => span.spanId === spanId);
}

const FAULTS: ReadonlyArray<readonly [string, ChatFault, { error: boolean }]> = [
  ["500", { type: "status", status: 500 }, { error: true }],
  ["503 with retry-after", { type: "status", status: 503, headers: { "retry-after": "1" } }, { error: true }],
  [
    "429 with retry-after",
    { type: "status", status: 429, headers: { "retry-after": "1" }, body: { error: { message: "slow down", type: "rate_limit_error", code: 429 } } },
    { error: true },
  ],
  ["connection reset mid-stream", { type: "reset-after-first-chunk" }, { error: true }],
  ["malformed SSE", { type: "malformed-sse" }, { error: true }],
  ["slow first byte (1.5 s)", { type: "delay", ms: 1_500 }, { error: false }],
  [
    "400 other than the nvext rejection",
    { type: "status", status: 400, body: { message: "invalid value for `temperature`: must be <= 2", type: "Bad Request", code: 400 } },
    { error: true },
  ],
];

describe("Dynamo faults through the stream wrapper (protocol headers, everything on)", () => {
  let sim: Simulator;
  let plugin: LoadedPlugin;

  beforeAll(async () => {
    sim = await startSimulator({ generation: "headers" });
    plugin = await loadPlugin({
      pluginConfig: {
        baseUrl: sim.baseUrl,
        agentTrace: true,
        protocol: "headers",
        otlpEndpoint: sim.otlpUrl,
        toolEventsEndpoint: sim.zmqEndpoint,
        // Generous, so a loaded machine never turns a slow local export into a log line.
        flushTimeoutMs: 10_000,
      },
    });
  });

  afterAll(async () => {
    await plugin?.dispose();
    await sim?.close();
  });

  it.each(FAULTS)("%s: OpenClaw sees exactly what it sees without the plugin; one request; OpenClaw's retry gets its own span", async (label, fault, expected) => {
    const model = plugin.model("mock-model", sim.baseUrl);
    const runId = `run-${label.replace(/\W+/g, "-")}`;
    const run = { runId, sessionId: SESSION };
    await startRun(plugin, run);

    sim.faults.chat(fault);
    const plain = await requestsOf(sim, () => consume(realTransport, model, CONTEXT, options("plain:model:1")));
    sim.faults.chat(fault);
    const wrapped = await requestsOf(sim, () => consume(plugin.wrap(), model, CONTEXT, options(`${runId}:model:1`)));

    expect(outcome(wrapped.value)).toEqual(outcome(plain.value));
    expect(outcome(wrapped.value).stopReason).toBe(expected.error ? "error" : "stop");
    // The plugin neither retries nor falls back: a fault costs exactly the requests it costs without it.
    expect(wrapped.requests).toHaveLength(plain.requests.length);
    expect(wrapped.requests).toHaveLength(1);
    expect(wrapped.requests[0]!.fault).toBeDefined();

    // OpenClaw's same-model retry resends with the same request id.
    const retry = await requestsOf(sim, () => consume(plugin.wrap(), model, CONTEXT, options(`${runId}:model:1`)));
    expect(outcome(retry.value).stopReason).toBe("stop");
    expect(retry.requests).toHaveLength(1);
    await endRun(plugin, run);
    await plugin.services.flush();

    const [first] = wrapped.requests;
    const [second] = retry.requests;
    expect(first!.xRequestId).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
    expect(second!.xRequestId, "every HTTP request carries its own x-request-id").not.toBe(first!.xRequestId);
    const spans = await sim.waitFor(
      () => (spanOf(sim.otlp.spans, first!) && spanOf(sim.otlp.spans, second!) ? sim.otlp.spans : undefined),
      5_000,
      "a chat span for each request",
    );
    const failedSpan = spanOf(spans, first!)!;
    const retrySpan = spanOf(spans, second!)!;
    expect(retrySpan.spanId).not.toBe(failedSpan.spanId);
    for (const [request, span] of [
      [first!, failedSpan],
      [second!, retrySpan],
    ] as const) {
      expect(span.name).toBe("chat mock-model");
      expect(span.attributes["dynamo.x_request_id"]).toBe(request.xRequestId);
      expect(request.headers["x-dynamo-session-id"]).toBe(span.attributes["dynamo.trajectory_id"]);
    }
    if (expected.error) {
      expect(failedSpan.status.code).toBe(2);
      expect(failedSpan.attributes["error.type"]).toBeTypeOf("string");
    } else {
      expect(failedSpan.status.code).toBe(0);
    }
    expect(retrySpan.status.code).toBe(0);
    expect(retrySpan.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0);
    // Provider errors are OpenClaw's to report; the plugin adds no log noise for them.
    expect(plugin.lines().filter((line) => line.includes("[dynamo]"))).toEqual([]);
  }, 30_000);
});

describe("Dynamo 400s under protocol auto (SPEC §4.4)", () => {
  let sim: Simulator;
  let plugin: LoadedPlugin;

  beforeAll(async () => {
    sim = await startSimulator({ generation: "nvext" });
    plugin = await loadPlugin({ pluginConfig: { baseUrl: sim.baseUrl, agentTrace: true, protocol: "auto" } });
  });

  afterAll(async () => {
    await plugin?.dispose();
    await sim?.close();
  });

  it("a 400 about another unknown nvext field surfaces as the provider error: one request, no fallback, protocol kept", async () => {
    const model = plugin.model("mock-model", sim.baseUrl);
    const run = { runId: "run-phase", sessionId: SESSION };
    await startRun(plugin, run);
    const rejection = { message: "invalid nvext: unknown field `phase`, expected one of `session_type_id`", type: "Bad Request", code: 400 };
    sim.faults.chat({ type: "status", status: 400, body: rejection });
    const plain = await requestsOf(sim, () => consume(realTransport, model, CONTEXT, options("plain:model:1")));
    sim.faults.chat({ type: "status", status: 400, body: rejection });
    const wrapped = await requestsOf(sim, () => consume(plugin.wrap(), model, CONTEXT, options("run-phase:model:1")));
    expect(outcome(wrapped.value)).toEqual(outcome(plain.value));
    expect(outcome(wrapped.value).errorMessage).toContain("unknown field `phase`");
    expect(wrapped.requests).toHaveLength(1);
    expect(plugin.status().payload!.protocol).toEqual({ setting: "auto", inUse: "nvext", fallbacks: 0 });
    await endRun(plugin, run);
  }, 30_000);

  it("the 1.3+ rejection is negotiated away: OpenClaw sees the answer it gets without the plugin, one info line", async () => {
    sim.setGeneration("headers");
    const model = plugin.model("mock-model", sim.baseUrl);
    const run = { runId: "run-negotiate", sessionId: SESSION };
    await startRun(plugin, run);
    const plain = await requestsOf(sim, () => consume(realTransport, model, CONTEXT, options("plain:model:1")));
    const wrapped = await requestsOf(sim, () => consume(plugin.wrap(), model, CONTEXT, options("run-negotiate:model:1")));
    expect(outcome(wrapped.value)).toEqual(outcome(plain.value));
    expect(outcome(wrapped.value).text).toBe("Hello from Dynamo.");
    expect(wrapped.requests.map((request) => request.status)).toEqual([400, 200]);
    const again = await requestsOf(sim, () => consume(plugin.wrap(), model, CONTEXT, options("run-negotiate:model:2")));
    expect(again.requests.map((request) => request.status)).toEqual([200]);
    expect(plugin.status().payload!.protocol).toEqual({ setting: "auto", inUse: "headers", fallbacks: 1 });
    expect(plugin.lines().filter((line) => /using headers for the rest of this process/.test(line))).toHaveLength(1);
    await endRun(plugin, run);
  }, 30_000);
});

describe("/v1/models down or answering garbage", () => {
  let sim: Simulator;
  let plugin: LoadedPlugin;

  beforeAll(async () => {
    sim = await startSimulator({ generation: "headers" });
  });

  afterAll(async () => {
    await plugin?.dispose();
    await sim?.close();
  });

  it.each([["down"], ["garbage"]] as const)("%s: the catalog is empty with one clear line, and the requested model still works", async (mode) => {
    plugin = await loadPlugin({ pluginConfig: { baseUrl: sim.baseUrl } });
    sim.faults.models(mode);
    const catalog = plugin.provider.catalog as unknown as { run: (ctx: unknown) => Promise<{ provider: { baseUrl: string; models: unknown[] } }> };
    const result = await catalog.run({});
    expect(result.provider).toMatchObject({ baseUrl: sim.baseUrl, models: [] });
    const lines = plugin.lines().filter((line) => line.includes("model discovery"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/model discovery at .+\/models failed \(.+\); models named as dynamo\/<model-id> still work\./);
    const model = plugin.model("any-model-the-user-asked-for", sim.baseUrl);
    expect(model).toMatchObject({ id: "any-model-the-user-asked-for", provider: "dynamo", baseUrl: sim.baseUrl });
    const answer = await consume(plugin.wrap(), model, CONTEXT, options(`run-models-${mode}:model:1`));
    expect(outcome(answer).text).toBe("Hello from Dynamo.");
    expect(plugin.status().payload!.lastError).toMatch(/model discovery/);
    // Asked again (OpenClaw refreshes its catalog): still one line for the one cause.
    await catalog.run({});
    expect(plugin.lines().filter((line) => line.includes("model discovery"))).toHaveLength(1);
    sim.faults.models("ok");
  }, 30_000);
});
