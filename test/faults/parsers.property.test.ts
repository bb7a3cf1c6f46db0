// Property-based tests (fast-check) for everything that takes outside input (SPEC §8: no throw
// escapes into OpenClaw):
//  - TRACEPARENT / TRACESTATE / BAGGAGE from the environment, and what the plugin hands to child
//    processes from them;
//  - whatever OpenClaw passes to the plugin's hook handlers;
//  - whatever OpenClaw's transport makes of Dynamo's SSE (raw bytes from a socket), and whatever an
//    inner stream function does (events, throws, rejected results);
//  - every environment variable and config key at once, through the whole registration.
// `loadConfig` alone is fuzzed in test/config.test.ts ("never throws"); the fixed TRACEPARENT
// variants are in test/trace/inbound.test.ts.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_KEYS, CONFIG_PATH, ENV_NAMES, loadConfig } from "../../src/config.ts";
import { ReservableIdGenerator } from "../../src/trace/id-generator.ts";
import { childProcessEnv, readInboundContext } from "../../src/trace/inbound.ts";
import { SpanTree } from "../../src/trace/span-tree.ts";
import {
  consume,
  loadPlugin,
  outcome,
  realTransport,
  type LoadedPlugin,
  type Model,
  type StreamContext,
  type StreamFn,
  type StreamOptions,
} from "./harness.ts";

const HEX = "0123456789abcdef";
const hex = (length: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: length, maxLength: length });
/** Header-legal: what a child process environment / an HTTP header may carry. */
const HEADER_LEGAL = /^[\t\x20-\x7e]*$/;

/** The W3C / OTel acceptance rule (otel-conventions.md §4), written independently of the plugin. */
function isValidTraceparent(value: string): boolean {
  const match = /^\s?([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?\s?$/.exec(value);
  if (!match) return false;
  const [, version, traceId, spanId, , extra] = match;
  if (version === "ff" || /^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return false;
  return !(version === "00" && extra);
}

const traceparent = fc.oneof(
  // Well-formed, with random versions, flags and ids (including all-zero and ff).
  fc
    .tuple(fc.oneof(fc.constant("00"), hex(2)), fc.oneof(hex(32), fc.constant("0".repeat(32))), fc.oneof(hex(16), fc.constant("0".repeat(16))), hex(2), fc.option(fc.string(), { nil: undefined }))
    .map(([v, t, s, f, extra]) => `${v}-${t}-${s}-${f}${extra === undefined ? "" : `-${extra}`}`),
  // Near misses: case, length, separators, whitespace.
  fc.tuple(hex(32), hex(16)).chain(([t, s]) =>
    fc.constantFrom(
      `00-${t.toUpperCase()}-${s}-01`,
      `00-${t}-${s.slice(1)}-01`,
      `00-${t}0-${s}-01`,
      `00_${t}_${s}_01`,
      ` 00-${t}-${s}-01 `,
      `00-${t}-${s}-01-`,
      `00-${t}-${s}`,
      `\t00-${t}-${s}-01`,
    ),
  ),
  fc.string(),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({ minLength: 2_000, maxLength: 20_000 }),
);

const tracestateMember = fc.oneof(
  fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_\-*/]{0,20}$/), fc.stringMatching(/^[!-+\--<>-~]{1,40}$/)).map(([k, v]) => `${k}=${v}`),
  fc.string({ maxLength: 30 }),
);
const tracestate = fc.oneof(
  fc.array(tracestateMember, { maxLength: 50 }).map((members) => members.join(",")),
  fc.array(tracestateMember, { minLength: 40, maxLength: 400 }).map((members) => members.join(",")),
  fc.string({ unit: "binary", maxLength: 600 }),
);
const baggage = fc.oneof(
  fc.array(fc.tuple(fc.stringMatching(/^[a-z]{1,10}$/), fc.string({ maxLength: 30 })), { maxLength: 200 }).map((pairs) =>
    pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(","),
  ),
  fc.string({ unit: "binary", maxLength: 10_000 }),
);

function withEnv<T>(values: Record<string, string | undefined>, body: () => T): T {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  try {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    return body();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe("inbound TRACEPARENT / TRACESTATE / BAGGAGE", () => {
  it("never throws; valid exactly when the W3C rule says so; what children get is header-legal and carries the trajectory", () => {
    const { config } = loadConfig({}, {});
    fc.assert(
      fc.property(traceparent, fc.option(tracestate, { nil: undefined }), fc.option(baggage, { nil: undefined }), (tp, ts, bg) => {
        // Environment values cannot hold NUL bytes.
        const clean = (value: string | undefined) => value?.replaceAll("\0", "");
        const env = { TRACEPARENT: clean(tp), TRACESTATE: clean(ts), BAGGAGE: clean(bg) };
        const result = withEnv(env, () => readInboundContext());
        const expected = env.TRACEPARENT!.trim() === "" ? "none" : isValidTraceparent(env.TRACEPARENT!) ? "valid" : "invalid";
        expect(result.kind).toBe(expected);
        if (result.kind === "invalid") expect(result.warning).toMatch(/^ignoring TRACEPARENT/);
        if (result.kind !== "valid") return;

        const idGenerator = new ReservableIdGenerator();
        const exporter = new InMemorySpanExporter();
        const provider = new TracerProvider({ idGenerator, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
        const tree = new SpanTree({ tracer: provider.getTracer("t"), idGenerator, config, inbound: result.inbound });
        const run = tree.ensureRun({ runId: "r", sessionKey: "agent:main:main", sessionId: "s" })!;
        expect(run.spanContext.traceId).toBe(result.inbound.spanContext.traceId);
        const child = childProcessEnv({ ...run.spanContext, isRemote: false }, run.ids.trajectoryId, result.inbound.context);
        expect(child.TRACEPARENT).toBe(`00-${run.spanContext.traceId}-${run.spanContext.spanId}-0${run.spanContext.traceFlags & 1}`);
        for (const [name, value] of Object.entries(child)) expect(value, name).toMatch(HEADER_LEGAL);
        const members = (child.TRACESTATE ?? "").split(",").filter(Boolean);
        expect(members.length).toBeLessThanOrEqual(32);
        expect((child.TRACESTATE ?? "").length).toBeLessThanOrEqual(512);
        // A nested OpenClaw must learn its parent trajectory, however full the inbound tracestate is.
        expect(members[0]).toBe(`dynamo=${run.ids.trajectoryId}`);
        // And it reads back as a valid inbound context.
        const nested = withEnv({ TRACEPARENT: child.TRACEPARENT, TRACESTATE: child.TRACESTATE, BAGGAGE: child.BAGGAGE }, () => readInboundContext());
        expect(nested.kind).toBe("valid");
        if (nested.kind === "valid") expect(nested.inbound.parentTrajectoryId).toBe(run.ids.trajectoryId);
        void provider.shutdown();
      }),
      { numRuns: 400 },
    );
  }, 60_000);

  it("a huge TRACESTATE with a valid TRACEPARENT: the trace continues, whole members beyond 512 characters are dropped, children get the trajectory first", () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const members = Array.from({ length: 200 }, (_, i) => `vendor${i}=${"v".repeat(20)}`);
    const result = withEnv({ TRACEPARENT: `00-${traceId}-00f067aa0ba902b7-01`, TRACESTATE: members.join(","), BAGGAGE: undefined }, () => readInboundContext());
    expect(result.kind).toBe("valid");
    if (result.kind !== "valid") return;
    const kept = result.inbound.spanContext.traceState!.serialize();
    expect(kept.length).toBeLessThanOrEqual(512);
    expect(members.join(",").startsWith(kept), "a prefix of whole members").toBe(true);
    const { config } = loadConfig({}, {});
    const idGenerator = new ReservableIdGenerator();
    const provider = new TracerProvider({ idGenerator });
    const tree = new SpanTree({ tracer: provider.getTracer("t"), idGenerator, config, inbound: result.inbound });
    const run = tree.ensureRun({ runId: "r", sessionKey: "agent:main:main", sessionId: "s" })!;
    expect(run.spanContext.traceId).toBe(traceId);
    const child = childProcessEnv({ ...run.spanContext, isRemote: false }, run.ids.trajectoryId, result.inbound.context);
    expect(child.TRACESTATE!.length).toBeLessThanOrEqual(512);
    expect(child.TRACESTATE!.split(",")[0]).toBe(`dynamo=${run.ids.trajectoryId}`);
    expect(child.TRACESTATE!.split(",").slice(1)).toEqual(kept.split(",").slice(0, child.TRACESTATE!.split(",").length - 1));
    void provider.shutdown();
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

describe("hook payloads", () => {
  let plugin: LoadedPlugin;
  beforeAll(async () => {
    plugin = await loadPlugin({ pluginConfig: { agentTrace: true, protocol: "auto", capture: { prompts: true, completions: true, toolArguments: true, toolResults: true } } });
  });
  afterAll(async () => {
    await plugin?.dispose();
  });

  const ids = fc.constantFrom("r1", "r2", "announce:v1:agent:main:subagent:x:r9", "", undefined, 7);
  const keys = fc.constantFrom("agent:main:main", "agent:main:subagent:x", "", undefined, {}, null);
  const toolIds = fc.constantFrom("call_1", "call_2", "tool_search_code:call_1:sessions_spawn:1", "", undefined);
  const loose = fc.oneof(fc.anything(), fc.string(), fc.constant(undefined), fc.constant(null));
  const payload = fc.oneof(
    fc.anything(),
    fc.record(
      {
        runId: ids,
        sessionKey: keys,
        sessionId: fc.constantFrom("s1", "s2", undefined),
        toolName: fc.constantFrom("read", "exec", "tool_call", "sessions_spawn", "", undefined),
        toolCallId: toolIds,
        callId: fc.constantFrom("r1:model:1", "r2:model:3", "x", undefined),
        params: loose,
        result: loose,
        error: loose,
        prompt: loose,
        messages: loose,
        success: loose,
        childSessionKey: keys,
        requesterSessionKey: keys,
        label: loose,
        phase: fc.constantFrom("started", "ended", undefined),
        provider: fc.constantFrom("dynamo", "openai", undefined),
        model: fc.constantFrom("mock-model", undefined, 3),
        outcome: fc.constantFrom("completed", "error", undefined),
        trace: fc.oneof(fc.constant(undefined), fc.record({ traceId: fc.oneof(hex(32), fc.string()) })),
      },
      { requiredKeys: [] },
    ),
  );

  it("never throw, never reject, never block a run or a tool call, and never fail inside", async () => {
    const names = [...plugin.hooks.keys()];
    expect(names).toEqual(expect.arrayContaining(["before_tool_call", "after_tool_call", "agent_end", "model_call_started", "subagent_spawned", "resolve_exec_env"]));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...names), payload, payload), { minLength: 1, maxLength: 25 }), async (calls) => {
        for (const [name, event, ctx] of calls) {
          for (const handler of plugin.hooks.get(name)!) {
            let returned: unknown;
            expect(() => (returned = handler(event, ctx))).not.toThrow();
            const settled = await Promise.resolve(returned).then(
              (value) => ({ ok: true, value }),
              (error: unknown) => ({ ok: false, value: error }),
            );
            expect(settled.ok, `${name} rejected`).toBe(true);
            if (name === "before_tool_call" || name === "before_agent_run") expect(settled.value, name).toBeUndefined();
          }
        }
        expect(plugin.status().ok).toBe(true);
      }),
      { numRuns: 300 },
    );
    // The guard in plugin.ts would have swallowed a throw; none may have happened at all.
    expect(plugin.lines().filter((line) => line.includes("handler failed"))).toEqual([]);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

describe("SSE from Dynamo and inner stream behaviour", () => {
  let server: Server;
  let baseUrl: string;
  let body: Buffer = Buffer.alloc(0);
  let plugin: LoadedPlugin;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    plugin = await loadPlugin({ pluginConfig: { baseUrl, agentTrace: true, protocol: "headers" } });
  });
  afterAll(async () => {
    await plugin?.dispose();
    await new Promise<void>((resolve) => {
      server?.closeAllConnections();
      server?.close(() => resolve());
    });
  });

  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] });
  const sseLine = fc.oneof(
    fc.constant(`data: ${chunk({ role: "assistant" })}`),
    fc.string({ maxLength: 40 }).map((text) => `data: ${chunk({ content: text })}`),
    fc.constant(`data: ${chunk({ tool_calls: [{ index: 0, id: "call_x", type: "function", function: { name: "read", arguments: "" } }] })}`),
    fc.string({ maxLength: 40 }).map((args) => `data: ${chunk({ tool_calls: [{ index: 0, function: { arguments: args } }] })}`),
    fc.constantFrom("stop", "tool_calls", "length", "weird").map((reason) => `data: ${chunk({}, reason)}`),
    fc.constant(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })}`),
    fc.constant("data: [DONE]"),
    fc.constant('data: {"id": "broken", "choices": ['),
    fc.constant('data: {"error": {"message": "worker died", "code": 500}}'),
    fc.constantFrom("", ": keep-alive", "event: ping", "retry: 10", "data:", "id: 7"),
    fc.string({ maxLength: 60 }).map((text) => `data: ${text}`),
    fc.string({ maxLength: 60 }),
  );
  const sseBody = fc.oneof(
    fc.array(sseLine, { maxLength: 30 }).map((lines) => Buffer.from(`${lines.join("\n\n")}\n\n`)),
    fc.uint8Array({ maxLength: 2_000 }).map((bytes) => Buffer.from(bytes)),
  );
  const context = { systemPrompt: "x", messages: [{ role: "user", content: "hi", timestamp: 1 }] } as unknown as StreamContext;
  const options = (requestId: string) => ({ requestId, sessionId: "s1", headers: {} }) as unknown as StreamOptions;

  it("whatever Dynamo streams, OpenClaw sees through the plugin exactly what it sees without it", async () => {
    const model = plugin.model("mock-model", baseUrl);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(sseBody, async (bytes) => {
        body = bytes;
        const plain = await consume(realTransport, model, context, options(`plain:model:${++n}`));
        const wrapped = await consume(plugin.wrap(), model, context, options(`fuzz-run:model:${n}`));
        expect(outcome(wrapped)).toEqual(outcome(plain));
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  type Event = { type: string } & Record<string, unknown>;
  type Behaviour = { events: Event[]; throwAt: number | undefined; result: "message" | "reject" | "throw-sync"; async: boolean };
  const event: fc.Arbitrary<Event> = fc.oneof(
    fc.record({ type: fc.constantFrom("start", "text_start", "text_delta", "text_end", "toolcall_start", "toolcall_end", "done", "weird") }, { requiredKeys: ["type"] }),
    fc.record({
      type: fc.constant("error"),
      reason: fc.constant("error"),
      error: fc.record({
        stopReason: fc.constant("error"),
        errorMessage: fc.oneof(fc.string(), fc.constant("400 invalid nvext: unknown field `agent_context`"), fc.constant("500 boom")),
        errorCode: fc.oneof(fc.constant(400), fc.constant("400"), fc.constant(500), fc.string()),
      }),
    }),
    fc.anything().map((value) => ({ type: "odd", value })),
  );
  const behaviour: fc.Arbitrary<Behaviour> = fc.record({
    events: fc.array(event, { maxLength: 8 }),
    throwAt: fc.option(fc.nat(8), { nil: undefined }),
    result: fc.constantFrom("message", "reject", "throw-sync"),
    async: fc.boolean(),
  });

  /** An inner stream function doing `b`. */
  function inner(b: Behaviour): StreamFn {
    return ((_model: Model, _context: StreamContext, opts?: StreamOptions) => {
      if (b.result === "throw-sync") throw new Error("inner threw synchronously");
      void opts?.onPayload?.({ model: "m", messages: [] }, _model as never);
      const stream = {
        async *[Symbol.asyncIterator]() {
          for (let i = 0; i < b.events.length; i++) {
            if (i === b.throwAt) throw new Error(`stream broke at ${i}`);
            yield b.events[i];
          }
        },
        async result() {
          if (b.result === "reject") throw new Error("result rejected");
          return { role: "assistant", content: [], stopReason: "stop", usage: { input: 1, output: 1 } };
        },
      };
      return b.async ? Promise.resolve(stream) : stream;
    }) as unknown as StreamFn;
  }

  /** Everything OpenClaw could observe: events, thrown errors, the result or its rejection. */
  async function observe(fn: StreamFn): Promise<unknown> {
    const seen: unknown[] = [];
    try {
      const stream = await fn({ id: "m", baseUrl: "http://127.0.0.1:9/v1" } as unknown as Model, context, options("obs-run:model:1"));
      try {
        for await (const e of stream as AsyncIterable<unknown>) seen.push(e);
      } catch (error) {
        seen.push(`iteration threw: ${(error as Error).message}`);
      }
      seen.push(await stream.result().then((message) => ({ result: message }), (error: unknown) => `result rejected: ${(error as Error).message}`));
    } catch (error) {
      seen.push(`call threw: ${(error as Error).message}`);
    }
    return seen;
  }

  it("whatever the inner stream function does (events, throws, rejections), the wrapper passes it through unchanged", async () => {
    await fc.assert(
      fc.asyncProperty(behaviour, async (b) => {
        expect(await observe(plugin.wrap(inner(b)))).toEqual(await observe(inner(b)));
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it("under protocol auto, no inner behaviour makes the wrapper throw something new or hang", async () => {
    const auto = await loadPlugin({ pluginConfig: { agentTrace: true, protocol: "auto" } });
    try {
      await fc.assert(
        fc.asyncProperty(behaviour, async (b) => {
          const wrappedRun = auto.wrap(inner(b));
          const seen = (await observe(wrappedRun)) as unknown[];
          const plain = (await observe(inner(b))) as unknown[];
          const first = b.events[0];
          const rejected = b.throwAt !== 0 && first?.type === "error" && /unknown field `agent_context`/.test(String((first.error as { errorMessage?: unknown }).errorMessage)) && String((first.error as { errorCode?: unknown }).errorCode) === "400";
          // Without the 1.3+ rejection the wrapper is transparent; with it, OpenClaw sees the resent
          // request (here: the same behaviour again, minus the rejection being hidden).
          if (!rejected) expect(seen).toEqual(plain);
          for (const item of seen) if (typeof item === "string") expect(item).toMatch(/^(iteration threw: stream broke|result rejected: result rejected|call threw: inner threw)/);
        }),
        { numRuns: 200 },
      );
    } finally {
      await auto.dispose();
    }
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

describe("every environment variable and config key at once", () => {
  const junk = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.constantFrom("", " ", "1", "true", "off", "all", "none", "grpc", "http/json", "-1", "0", "1e9", "99999999999999999999", "a=1,b", "tcp://", "http://"),
  );
  // Endpoints the fuzz may produce point nowhere, so a run never reaches out to the network.
  const endpointLike = fc.constantFrom("tcp://127.0.0.1:9", "ipc:///nonexistent/x.sock", "http://127.0.0.1:9/v1/traces", "http://127.0.0.1:9", "tcp//x", "ftp://x");
  const env = fc.dictionary(fc.constantFrom(...ENV_NAMES), fc.oneof(junk, endpointLike), { maxKeys: 25 }).map((values) => ({
    ...values,
    // Keep each iteration's bounded shutdown short.
    DYN_AGENT_TRACE_FLUSH_TIMEOUT_MS: "200",
  }));
  const pluginConfig = fc.oneof(
    fc.anything(),
    fc.record(Object.fromEntries([...CONFIG_KEYS, "unknownKey"].map((key) => [key, fc.oneof(fc.anything(), junk)])), { requiredKeys: [] }).map((config) => ({
      ...config,
      flushTimeoutMs: 200,
      otlpEndpoint: "http://127.0.0.1:9/v1/traces",
      toolEventsEndpoint: "tcp://127.0.0.1:9",
    })),
  );

  it("registration and a tool call never throw; every warning names a setting; the provider still answers", async () => {
    await fc.assert(
      fc.asyncProperty(env, pluginConfig, async (values, config) => {
        const p = await loadPlugin({ env: values, pluginConfig: config });
        try {
          const run = { runId: "r", sessionId: "s" };
          const ctx = { runId: "r", sessionKey: "agent:main:main", sessionId: "s", agentId: "main" };
          await p.fire("before_agent_run", { prompt: "hi", messages: [] }, ctx);
          await p.fire("before_tool_call", { toolName: "read", toolCallId: "c", runId: run.runId, params: {} }, { ...ctx, toolCallId: "c" });
          await p.fire("after_tool_call", { toolName: "read", toolCallId: "c", runId: run.runId, result: "ok" }, { ...ctx, toolCallId: "c" });
          const answer = await consume(p.wrap(inner()), p.model("mock-model", "http://127.0.0.1:9/v1"), { messages: [] } as unknown as StreamContext, {
            requestId: "r:model:1",
            sessionId: "s",
            headers: {},
          } as unknown as StreamOptions);
          expect(answer.message.stopReason).toBe("stop");
          await p.fire("agent_end", { runId: "r", success: true, messages: [] }, ctx);
          expect(p.status().ok).toBe(true);
          for (const line of p.lines().filter((l) => l.includes(" is not valid") || l.includes("unknown setting"))) {
            const named = ENV_NAMES.some((name) => line.startsWith(`[dynamo] ${name}: `)) || line.startsWith(`[dynamo] ${CONFIG_PATH}`);
            expect(named, line).toBe(true);
          }
          expect(p.lines().filter((line) => line.includes("handler failed") || line.includes("could not add tracing"))).toEqual([]);
        } finally {
          await p.dispose();
        }
      }),
      { numRuns: 30 },
    );

    function inner(): StreamFn {
      return ((_m: Model, _c: StreamContext, opts?: StreamOptions) => {
        void opts?.onPayload?.({ model: "m", messages: [] }, _m as never);
        const message = { role: "assistant", content: [{ type: "text", text: "ok" }], stopReason: "stop", usage: { input: 1, output: 1 } };
        return {
          async *[Symbol.asyncIterator]() {
            yield { type: "done", reason: "stop", message };
          },
          result: async () => message,
        };
      }) as unknown as StreamFn;
    }
  }, 60_000);
});
