// Security and privacy (SPEC §2, §5, §8), checked on what leaves the plugin: decoded OTLP spans as
// the collector receives them, relay records as Dynamo receives them, every log line (all levels)
// and the `dynamo.status` answer.
//  - Secrets: unique markers planted in the API key, the OTLP headers, a caller `Authorization`
//    header, the OTLP endpoint's credentials and an error body that echoes the key; none may appear
//    anywhere captured, with every content class switched on (the widest surface).
//  - Content capture: off by default; each class on alone shows exactly that class's markers,
//    truncated to `capture.maxChars`; the relay never carries content. Besides the content itself,
//    the markers sit where content leaks indirectly (docs/privacy.md): a failing tool's output in
//    OpenClaw's error text (tool results), a model-written spawn label (tool arguments), a channel
//    peer id in the session key (prompts), a run error and a model server's error that quote the
//    conversation (completions).
// The span-tree level of content capture is in test/trace/content.test.ts; warnings that never echo
// secrets, for every setting, in test/config.test.ts ("secrets never reach warnings").
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../sim/index.ts";
import {
  agentCtx,
  consume,
  endRun,
  loadPlugin,
  startRun,
  toolCall,
  type LoadedPlugin,
  type Model,
  type StreamContext,
  type StreamFn,
  type StreamOptions,
} from "./harness.ts";

const SESSION = "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e";
const CHILD_KEY = "agent:main:subagent:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const CHILD = { runId: "child-run", sessionKey: CHILD_KEY, sessionId: "11111111-2222-4333-8444-555555555555" };
const marker = (name: string) => `${name}${randomBytes(6).toString("hex")}`;
/** JSON of relay messages (their `seq` is a bigint). */
const relayJson = (value: unknown) => JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? String(v) : v));

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function sim(): Promise<Simulator> {
  const s = await startSimulator({ generation: "headers" });
  cleanup.push(() => s.close());
  return s;
}

/** Everything a user or a collector could see from the plugin. */
function captured(p: LoadedPlugin, s: Simulator): Record<string, string> {
  return {
    spans: JSON.stringify(s.otlp.spans),
    relay: relayJson([s.relay.accepted, s.relay.rejected]),
    logs: JSON.stringify(p.logs),
    status: JSON.stringify(p.status()),
  };
}

function where(haystacks: Record<string, string>, needle: string): string[] {
  return Object.entries(haystacks)
    .filter(([, text]) => text.includes(needle))
    .map(([name]) => name);
}

describe("secrets never appear in spans, relay records, log lines or status", () => {
  it("API key, OTLP header secrets, a caller Authorization header and OTLP endpoint credentials", async () => {
    const s = await sim();
    // Not `sk-…`-shaped: OpenClaw's own error redaction does not recognise it, only the plugin can.
    const apiKey = marker("dynkey");
    const otlpSecret = marker("otlpsecret");
    const otlpKey = marker("otlpkey");
    const callerSecret = marker("callersecret");
    const endpointPassword = marker("endpointpw");
    const otlpUrl = new URL(s.otlpUrl);
    otlpUrl.username = "collector";
    otlpUrl.password = endpointPassword;
    const p = await loadPlugin({
      env: {
        DYNAMO_BASE_URL: s.baseUrl,
        DYNAMO_API_KEY: apiKey,
        DYN_AGENT_TRACE: "1",
        DYN_AGENT_TRACE_PROTOCOL: "auto",
        DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: s.zmqEndpoint,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl.href,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${otlpSecret},x-api-key=${otlpKey}`,
        // The key pasted into another setting by mistake (warned about, never echoed).
        OTEL_TRACES_SAMPLER: apiKey,
        DYN_AGENT_TRACE_CAPTURE: "all",
      },
    });
    cleanup.push(() => p.dispose());
    const model = p.model("mock-model", s.baseUrl);
    const send = (runId: string, n: number, sessionId: string, text: string) =>
      consume(p.wrap(), model, { systemPrompt: "x", messages: [{ role: "user", content: text, timestamp: 1 }] } as unknown as StreamContext, {
        requestId: `${runId}:model:${n}`,
        sessionId,
        headers: { Authorization: `Bearer ${callerSecret}`, traceparent: "00-aaaabbbbccccddddeeeeffff00001111-1234567890abcdef-01" },
      } as unknown as StreamOptions);

    const lead = { runId: "lead-run", sessionId: SESSION };
    await startRun(p, lead, "Please delegate.");
    expect((await send(lead.runId, 1, SESSION, "[[sim:text ok]]")).message.stopReason).toBe("stop");
    // Dynamo answering an error that echoes the key back.
    s.faults.chat({ type: "status", status: 401, body: { message: `key ${apiKey} is not valid`, type: "Unauthorized", code: 401 } });
    expect((await send(lead.runId, 2, SESSION, "[[sim:text ok]]")).message.stopReason).toBe("error");
    // The agent reads a .env file (captured: every content class is on) and a tool fails echoing a header.
    await toolCall(p, lead, {
      toolName: "read",
      toolCallId: "call_read",
      params: { path: ".env" },
      result: { content: [{ type: "text", text: `DYNAMO_API_KEY=${apiKey}\nOTEL_EXPORTER_OTLP_HEADERS=x-api-key=${otlpKey}\n` }] },
    });
    await toolCall(p, lead, { toolName: "exec", toolCallId: "call_curl", params: { command: "curl" }, error: `curl: 403 for token ${otlpSecret}` });
    await toolCall(p, lead, { toolName: "tool_call", toolCallId: "call_spawn", params: { id: "sessions_spawn", args: { task: "t" } } }, "before");
    await p.fire(
      "subagent_spawned",
      { runId: CHILD.runId, childSessionKey: CHILD_KEY, agentId: "main", mode: "run", label: "reader" },
      { runId: CHILD.runId, childSessionKey: CHILD_KEY, requesterSessionKey: "agent:main:main" },
    );
    await startRun(p, CHILD, "[Subagent Context] read it");
    expect((await send(CHILD.runId, 1, CHILD.sessionId, "[[sim:text child ok]]")).message.stopReason).toBe("stop");
    await toolCall(p, CHILD, { toolName: "exec", toolCallId: "call_exec", params: { command: "true" }, error: "exec failed" });
    await endRun(p, CHILD, "child done");
    await toolCall(p, lead, { toolName: "tool_call", toolCallId: "call_spawn", result: "accepted" }, "after");
    await endRun(p, lead, "lead done", false);
    await p.fire("session_end", { sessionId: SESSION, sessionKey: "agent:main:main", messageCount: 4, reason: "shutdown" }, agentCtx(lead));
    await p.fire("gateway_stop", { reason: "gateway stopping" }, {});
    await s.waitFor(() => s.otlp.spans.length >= 8, 5_000, "the spans");

    // The secrets were really in use: the caller's key reached Dynamo on the model and the session-final
    // requests. (A caller's own Authorization header wins on model requests, as it does without the plugin.)
    const authorizations = s.chatRequests().map((request) => [request.sessionFinal, request.headers.authorization]);
    expect(authorizations.filter(([final, value]) => !final && value === `Bearer ${callerSecret}`)).toHaveLength(4);
    expect(JSON.stringify(s.otlp.spans)).toContain("[redacted]");
    // Session-final requests go out with the credentials of the chain's model requests (docs/identity.md).
    expect(authorizations.filter(([final, value]) => final && value === `Bearer ${callerSecret}`)).toHaveLength(2);
    await s.waitFor(() => s.relay.accepted.length >= 5, 5_000, "the relay records");
    expect(p.lines().some((line) => line.includes("OTEL_TRACES_SAMPLER"))).toBe(true);

    const everything = captured(p, s);
    for (const secret of [apiKey, otlpSecret, otlpKey, callerSecret, endpointPassword]) {
      expect(where(everything, secret), `${secret} leaked`).toEqual([]);
    }
  }, 30_000);

  it("OTEL_EXPORTER_OTLP_(TRACES_)HEADERS values, also when the plugin config's otlpHeaders shadow them", async () => {
    const s = await sim();
    const configSecret = marker("configsecret");
    const envSecret = marker("envsecret");
    const tracesSecret = marker("tracessecret");
    const p = await loadPlugin({
      pluginConfig: { agentTrace: true, protocol: "headers", otlpEndpoint: s.otlpUrl, toolEventsEndpoint: s.zmqEndpoint, otlpHeaders: { "x-config": configSecret } },
      env: { OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${envSecret}`, OTEL_EXPORTER_OTLP_TRACES_HEADERS: `authorization=Bearer%20${tracesSecret}`, DYN_AGENT_TRACE_CAPTURE: "all" },
    });
    cleanup.push(() => p.dispose());
    const run = { runId: "env-run", sessionId: SESSION };
    await startRun(p, run, "print the env");
    const printed = `OTEL_EXPORTER_OTLP_HEADERS=x-api-key=${envSecret}\nAUTH=Bearer ${tracesSecret}\nX=${configSecret}`;
    await toolCall(p, run, { toolName: "exec", toolCallId: "call_env", params: { command: `echo ${envSecret}` }, error: printed, result: { content: [{ type: "text", text: printed }] } });
    await endRun(p, run, printed, false);
    await p.services.shutdown("test");
    await s.waitFor(() => s.otlp.spans.length >= 2, 5_000, "the spans");
    expect(JSON.stringify(s.otlp.spans)).toContain("[redacted]");
    const everything = captured(p, s);
    for (const secret of [configSecret, envSecret, tracesSecret]) expect(where(everything, secret), `${secret} leaked`).toEqual([]);
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------
// Content capture

const CLASSES = ["prompts", "completions", "toolArguments", "toolResults"] as const;
type CaptureClass = (typeof CLASSES)[number];

interface Markers {
  byClass: Record<CaptureClass, string[]>;
  /** Appended to every marked value; must never survive truncation to a small maxChars. */
  tail: string;
}

function contentMarkers(): Markers {
  return {
    byClass: {
      // The last one is the peer id (digits of a phone number) in a Telegram DM's session key.
      prompts: [marker("PROMPT"), String(Math.floor(1e9 + Math.random() * 8e9))],
      completions: [marker("COMPLETION"), marker("FINALANSWER"), marker("RUNERROR"), marker("CHATERROR")],
      toolArguments: [marker("ARGPATH"), marker("ARGTASK"), marker("LABEL")],
      toolResults: [marker("RESULTTEXT"), marker("RESULTISERROR"), marker("TOOLERROR")],
    },
    tail: marker("TAIL"),
  };
}

/** A model answer as OpenClaw's transport produces it, with `text` as the completion. */
function modelAnswering(text: string): StreamFn {
  return ((model: Model, _context: StreamContext, options?: StreamOptions) => {
    const message = {
      role: "assistant",
      content: [{ type: "text", text }],
      api: "openai-completions",
      provider: "dynamo",
      model: (model as { id: string }).id,
      usage: { input: 3, output: 2, cacheRead: 0, cacheWrite: 0, totalTokens: 5 },
      stopReason: "stop",
      timestamp: 1,
    };
    const events = (async () => {
      await options?.onPayload?.({ model: "mock-model", messages: [] }, model as never);
      return [
        { type: "start", partial: { ...message, content: [] } },
        { type: "text_delta", contentIndex: 0, delta: text, partial: message },
        { type: "done", reason: "stop", message },
      ];
    })();
    return {
      async *[Symbol.asyncIterator]() {
        yield* await events;
      },
      async result() {
        await events;
        return message;
      },
    };
  }) as unknown as StreamFn;
}

async function contentTurn(capture: Record<string, unknown> | undefined, m: Markers) {
  const s = await sim();
  const p = await loadPlugin({
    pluginConfig: {
      agentTrace: true,
      protocol: "headers",
      otlpEndpoint: s.otlpUrl,
      toolEventsEndpoint: s.zmqEndpoint,
      // What is checked here is content, not timing: a loaded CI machine must not cut the final flush.
      flushTimeoutMs: 10_000,
      ...(capture ? { capture } : {}),
    },
  });
  cleanup.push(() => p.dispose());
  const padded = (value: string) => `${value} ${"·".repeat(60)} ${m.tail}`;
  const [prompt] = m.byClass.prompts.map(padded);
  const [completion, finalAnswer, runError, chatError] = m.byClass.completions.map(padded);
  const [argPath, argTask, label] = m.byClass.toolArguments.map(padded);
  const [resultText, resultIsError, toolError] = m.byClass.toolResults.map(padded);
  const run = { runId: "content-run", sessionId: SESSION, sessionKey: `agent:main:telegram:direct:+1${m.byClass.prompts[1]}` };

  await startRun(p, run, prompt);
  const context = { systemPrompt: "You are helpful.", messages: [{ role: "user", content: prompt, timestamp: 1 }] } as unknown as StreamContext;
  await consume(p.wrap(modelAnswering(completion!)), p.model("mock-model", "http://127.0.0.1:9/v1"), context, {
    requestId: `${run.runId}:model:1`,
    sessionId: SESSION,
    headers: {},
  } as unknown as StreamOptions);
  // A model server answering an error that quotes the request.
  const failing = (() => Promise.reject(new Error(`400 invalid message content: ${chatError}`))) as unknown as StreamFn;
  await expect(
    consume(p.wrap(failing), p.model("mock-model", "http://127.0.0.1:9/v1"), context, { requestId: `${run.runId}:model:2`, sessionId: SESSION, headers: {} } as unknown as StreamOptions),
  ).rejects.toThrow();
  await toolCall(p, run, { toolName: "read", toolCallId: "call_ok", params: { path: argPath }, result: { content: [{ type: "text", text: resultText }] } });
  // OpenClaw's error for a failed tool is the first line of its output (a failing `exec` that printed a key).
  await toolCall(p, run, { toolName: "exec", toolCallId: "call_error", params: { command: "env" }, error: `OPENAI_API_KEY=${toolError}` });
  await toolCall(p, run, {
    toolName: "exec",
    toolCallId: "call_iserror",
    params: { command: "false" },
    result: { content: [{ type: "text", text: resultIsError }], isError: true },
  });
  const spawn = { toolName: "tool_call", toolCallId: "call_spawn", params: { id: "sessions_spawn", args: { task: argTask, label } }, result: "accepted" };
  await toolCall(p, run, spawn, "before");
  const childKey = "agent:main:subagent:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
  await p.fire("subagent_spawned", { runId: "child", childSessionKey: childKey, agentId: "main", mode: "run", label }, { runId: "child", childSessionKey: childKey, requesterSessionKey: run.sessionKey });
  await toolCall(p, run, spawn, "after");
  await p.fire(
    "agent_end",
    {
      runId: run.runId,
      success: false,
      error: `LLM request failed: provider rejected "${runError}"`,
      messages: [{ role: "user", content: prompt }, { role: "assistant", content: [{ type: "text", text: finalAnswer }] }],
    },
    agentCtx(run),
  );
  await p.services.shutdown("test");
  await s.waitFor(() => s.otlp.spans.length >= 7, 5_000, "the turn's spans");
  // Flushed means written to the socket; the simulator's PULL reads it a moment later.
  await s.waitFor(() => s.relay.accepted.length >= 8, 5_000, "the turn's relay records");
  expect(s.relay.accepted.length).toBe(8);
  return { p, s };
}

describe("content capture", () => {
  it("off by default: no prompt, completion, tool argument or tool result reaches the collector or the relay", async () => {
    const m = contentMarkers();
    const { p, s } = await contentTurn(undefined, m);
    const everything = captured(p, s);
    for (const value of [...Object.values(m.byClass).flat(), m.tail]) expect(where(everything, value), value).toEqual([]);
    // The failures are still visible as failures, with their category instead of their text.
    const failed = s.otlp.spans.filter((span) => span.status.code === 2);
    expect(failed.map((span) => `${span.name} ${span.attributes["gen_ai.tool.call.id"] ?? ""}`.trim()).sort()).toEqual([
      "chat mock-model",
      "execute_tool exec call_error",
      "execute_tool exec call_iserror",
      "invoke_agent main",
    ]);
    expect(failed.map((span) => [span.status.message, span.attributes["error.type"]]).sort()).toEqual([
      ["agent_error", "agent_error"],
      ["llm_error", "llm_error"],
      ["openclaw_tool_error", "openclaw_tool_error"],
      ["openclaw_tool_error", "openclaw_tool_error"],
    ]);
    const [agent] = s.otlp.spans.filter((span) => span.name === "invoke_agent main");
    expect(agent!.attributes["openclaw.session.key"]).toMatch(/^agent:main:telegram:direct:#[0-9a-f]{12}$/);
    // The relay carries the category too, never the text.
    const errors = s.relay.accepted.filter((message) => message.record.event_type === "tool_error");
    expect(errors.map((message) => (message.record.tool as { error_type?: string }).error_type)).toEqual(["openclaw_tool_error", "openclaw_tool_error"]);
  }, 30_000);

  it.each(CLASSES)("only %s on: exactly that class appears on spans, never on the relay", async (only) => {
    const m = contentMarkers();
    const { s } = await contentTurn({ [only]: true, maxChars: 100_000 }, m);
    const spans = JSON.stringify(s.otlp.spans);
    const relay = relayJson(s.relay.accepted);
    for (const cls of CLASSES) {
      for (const value of m.byClass[cls]) {
        expect(spans.includes(value), `${cls} marker on spans with only ${only} captured`).toBe(cls === only);
        expect(relay.includes(value), `${cls} marker on the relay`).toBe(false);
      }
    }
  }, 30_000);

  it("every captured value is truncated to capture.maxChars", async () => {
    const m = contentMarkers();
    const maxChars = 40;
    const { s } = await contentTurn({ prompts: true, completions: true, toolArguments: true, toolResults: true, maxChars }, m);
    const spans = JSON.stringify(s.otlp.spans);
    expect(spans).not.toContain(m.tail);
    const contentKeys = ["input.value", "output.value", "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.call.arguments", "gen_ai.tool.call.result"];
    let seen = 0;
    for (const span of s.otlp.spans) {
      for (const key of contentKeys) {
        const raw = span.attributes[key];
        if (raw === undefined) continue;
        seen++;
        // The output messages wrap the (truncated) completion in their JSON structure.
        const value = key === "gen_ai.output.messages" ? (JSON.parse(String(raw)) as Array<{ parts: Array<{ content: string }> }>)[0]!.parts[0]!.content : String(raw);
        expect(value, `${span.name} ${key}`).toMatch(new RegExp(`^[\\s\\S]{0,${maxChars}}(…\\[truncated \\d+ chars\\])?$`));
      }
      if (span.status.message) expect(span.status.message.length, `${span.name} status`).toBeLessThanOrEqual(500);
    }
    expect(seen).toBeGreaterThanOrEqual(8);
  }, 30_000);
});
