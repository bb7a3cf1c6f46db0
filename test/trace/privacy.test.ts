// Privacy of error texts, subagent labels and session keys (docs/privacy.md): with content capture
// off (the default) none of them reaches a span; each capture class brings back only its own.
// The same with the whole plugin, the relay and the OTLP wire is in test/faults/security.test.ts.
import { SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { memoryTree } from "./memory-tree.ts";
import { loadConfig } from "../../src/config.ts";
import * as hooks from "../../src/trace/hooks.ts";
import { agentErrorType, chatErrorType, errorStatus, sessionKeyAttribute, toolErrorType } from "../../src/trace/privacy.ts";
import { redactSecrets, secretsOf, SecretRedactingProcessor } from "../../src/trace/redact.ts";

const SESSION = "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e";
const CHILD_KEY = "agent:main:subagent:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const OFF = { prompts: false, completions: false, toolArguments: false, toolResults: false, maxChars: 4096 };
const hex = () => randomBytes(6).toString("hex");

let provider: TracerProvider | undefined;
afterEach(async () => {
  await provider?.shutdown();
  provider = undefined;
});

interface Planted {
  /** Digits of a phone number in a channel session key. */
  peer: string;
  /** In a failing `exec`'s output, which OpenClaw passes as `after_tool_call.error`. */
  toolError: string;
  /** A model-written `sessions_spawn` label. */
  label: string;
  /** Quoted in `agent_end.error`. */
  runError: string;
  /** Quoted in a model server's error answer. */
  chatError: string;
}

function plant(): Planted {
  return {
    peer: String(Math.floor(1e9 + Math.random() * 8e9)),
    toolError: `sk-${hex()}`,
    label: `LABEL${hex()}`,
    runError: `RUNERR${hex()}`,
    chatError: `CHATERR${hex()}`,
  };
}

/** Which capture class each planted value belongs to (docs/privacy.md). */
const CLASS_OF: Record<keyof Planted, keyof typeof OFF> = {
  peer: "prompts",
  toolError: "toolResults",
  label: "toolArguments",
  runError: "completions",
  chatError: "completions",
};

/** Everything an exporter could send of a span: name, attributes, status, events, links, resource. */
function exported(span: ReadableSpan): string {
  return JSON.stringify({
    name: span.name,
    attributes: span.attributes,
    status: span.status,
    events: span.events,
    links: span.links,
    resource: span.resource.attributes,
  });
}

/** A lead run in a Telegram DM that spawns a subagent, whose exec fails, a model request fails, and the run fails. */
function turn(capture: Record<string, unknown> | undefined, p: Planted) {
  const { config, warnings } = loadConfig(capture === undefined ? {} : { capture }, {});
  expect(warnings).toEqual([]);
  const memory = memoryTree(config);
  provider = memory.provider;
  const tree = memory.tree;
  const key = `agent:main:telegram:direct:+1${p.peer}`;
  const runId = "R1";
  const ctx = { runId, agentId: "main", sessionKey: key, sessionId: SESSION, modelProviderId: "dynamo", modelId: "mock-model" };
  for (const name of hooks.RUN_START_HOOKS) hooks.onRunStart(tree, { prompt: "hi", messages: [] }, ctx);
  tree.startChat(`${runId}:model:1`, { sessionId: SESSION, model: "mock-model", provider: "dynamo" });
  tree.endChat(`${runId}:model:1`, { stopReason: "error", errorMessage: `400 invalid input: '${p.chatError}'`, errorType: "400" });
  // A model call to another provider, traced from the hooks alone.
  hooks.onModelCallStarted(tree, { runId, callId: `${runId}:model:2`, provider: "openai", model: "gpt-5" }, { ...ctx, modelProviderId: "openai" }, "dynamo");
  hooks.onModelCallEnded(tree, { runId, callId: `${runId}:model:2`, provider: "openai", model: "gpt-5", outcome: "error", errorCategory: "context_overflow", failureKind: "http_400" }, ctx, "dynamo");
  const toolCtx = (name: string, id: string) => ({ ...ctx, toolName: name, toolCallId: id });
  const spawnArgs = { id: "sessions_spawn", args: { task: "t", label: p.label } };
  hooks.onBeforeToolCall(tree, { toolName: "tool_call", params: spawnArgs, runId, toolCallId: "call_spawn" }, toolCtx("tool_call", "call_spawn"));
  hooks.onSubagentSpawned(tree, { childSessionKey: CHILD_KEY, label: p.label }, { requesterSessionKey: key });
  const exec = { toolName: "exec", params: { command: "env" }, runId, toolCallId: "call_exec" };
  hooks.onBeforeToolCall(tree, exec, toolCtx("exec", "call_exec"));
  hooks.onAfterToolCall(
    tree,
    { ...exec, error: `OPENAI_API_KEY=${p.toolError}`, result: { content: [{ type: "text", text: `OPENAI_API_KEY=${p.toolError}\n(exit 1)` }], details: { status: "error" } } },
    toolCtx("exec", "call_exec"),
  );
  hooks.onAfterToolCall(tree, { toolName: "tool_call", runId, toolCallId: "call_spawn", result: "accepted" }, toolCtx("tool_call", "call_spawn"));
  hooks.onAgentEnd(tree, { runId, success: false, error: `context overflow while answering "${p.runError}"`, messages: [] }, ctx);
  return memory.spans();
}

describe("content capture off (the default)", () => {
  it("no error text, label or peer id on any span; status and error.type carry categories", () => {
    const p = plant();
    const spans = turn(undefined, p);
    expect(spans.length).toBe(5);
    const all = spans.map(exported).join("\n");
    for (const [what, value] of Object.entries(p)) expect(all.includes(value), what).toBe(false);
    const byName = (name: string) => spans.filter((span) => span.name === name);
    const [agent] = byName("invoke_agent main");
    expect(agent!.status).toEqual({ code: SpanStatusCode.ERROR, message: "context_overflow" });
    expect(agent!.attributes["error.type"]).toBe("context_overflow");
    expect(agent!.attributes["openclaw.session.key"]).toMatch(/^agent:main:telegram:direct:#[0-9a-f]{12}$/);
    const [exec] = byName("execute_tool exec");
    expect(exec!.status).toEqual({ code: SpanStatusCode.ERROR, message: "openclaw_tool_error" });
    expect(exec!.attributes).toMatchObject({ "error.type": "openclaw_tool_error", "dynamo.tool.status": "error" });
    const [spawn] = byName("execute_tool sessions_spawn");
    expect(spawn!.attributes["openclaw.subagent.label"]).toBeUndefined();
    const [own] = byName("chat mock-model");
    expect(own!.status).toEqual({ code: SpanStatusCode.ERROR, message: "400" });
    const [foreign] = byName("chat gpt-5");
    expect(foreign!.status).toEqual({ code: SpanStatusCode.ERROR, message: "context_overflow" });
    // session.id / gen_ai.conversation.id are OpenClaw's session UUID, never the key.
    for (const span of spans) {
      if (span.attributes["session.id"] !== undefined) expect(span.attributes["session.id"]).toBe(SESSION);
      if (span.attributes["gen_ai.conversation.id"] !== undefined) expect(span.attributes["gen_ai.conversation.id"]).toBe(SESSION);
    }
  });

  it("the plugin's own status notes stay (they quote nothing)", () => {
    const { config } = loadConfig({}, {});
    const memory = memoryTree(config);
    provider = memory.provider;
    const tree = memory.tree;
    tree.ensureRun({ runId: "R1", sessionKey: "agent:main:main" });
    tree.startChat("R1:model:1", { model: "mock-model" });
    tree.closeAll();
    const chat = memory.spans().find((span) => span.name === "chat mock-model")!;
    expect(chat.status).toEqual({ code: SpanStatusCode.ERROR, message: "OpenClaw stopped during the request" });
    expect(chat.attributes["error.type"]).toBe("aborted");
  });
});

describe("each capture class brings back only its own", () => {
  for (const only of ["prompts", "completions", "toolArguments", "toolResults"] as const) {
    it(`only ${only}`, () => {
      const p = plant();
      const all = turn({ [only]: true }, p).map(exported).join("\n");
      for (const [what, value] of Object.entries(p)) {
        expect(all.includes(value), `${what} with only ${only} captured`).toBe(CLASS_OF[what as keyof Planted] === only);
      }
    });
  }

  it("captured error text is truncated to capture.maxChars (and 500)", () => {
    const long = `x${"y".repeat(2_000)}`;
    expect(errorStatus("openclaw_tool_error", long, true, { maxChars: 40 }).message).toMatch(/^xy{39}…\[truncated \d+ chars\]$/);
    expect(errorStatus("openclaw_tool_error", long, true, { maxChars: 100_000 }).message!.startsWith(`x${"y".repeat(499)}…`)).toBe(true);
    expect(errorStatus("openclaw_tool_error", long, false, { maxChars: 100_000 }).message).toBe("openclaw_tool_error");
  });
});

describe("session keys", () => {
  const reduce = (key: string) => sessionKeyAttribute(key, OFF);

  it("keeps keys without anything identifying as they are", () => {
    for (const key of ["agent:main:main", "agent:ops:main", CHILD_KEY, "global", "agent:main:cron"]) expect(reduce(key)).toBe(key);
  });

  it("keeps agent id, channel and kind; replaces peers, groups, threads and free-form names by one hash", () => {
    const cases: Array<[string, RegExp]> = [
      ["agent:main:telegram:direct:+15551234567", /^agent:main:telegram:direct:#[0-9a-f]{12}$/],
      ["agent:main:whatsapp:group:1203630@g.us", /^agent:main:whatsapp:group:#[0-9a-f]{12}$/],
      ["agent:main:slack:direct:U12345678:thread:1777244748.777299", /^agent:main:slack:direct:thread:#[0-9a-f]{12}$/],
      ["agent:main:telegram:group:-1001234567890:topic:42", /^agent:main:telegram:group:topic:#[0-9a-f]{12}$/],
      ["agent:main:discord:slash:998877", /^agent:main:discord:slash:#[0-9a-f]{12}$/],
      ["agent:ops:incident-42", /^agent:ops:#[0-9a-f]{12}$/],
      ["agent:main:subagent:search-helper", /^agent:main:subagent:#[0-9a-f]{12}$/],
      ["+15551234567", /^#[0-9a-f]{12}$/],
    ];
    for (const [key, expected] of cases) {
      const reduced = reduce(key);
      expect(reduced, key).toMatch(expected);
      for (const part of key.split(":").slice(2)) {
        if (!/^(main|direct|group|thread|topic|slash|subagent|telegram|whatsapp|slack|discord)$/.test(part)) expect(reduced, key).not.toContain(part);
      }
    }
  });

  it("the hash is stable for one key (groups a conversation) and differs between keys", () => {
    const a = reduce("agent:main:telegram:direct:+15551234567");
    expect(reduce("agent:main:telegram:direct:+15551234567")).toBe(a);
    expect(reduce("agent:main:telegram:direct:+15551234568")).not.toBe(a);
  });

  it("with prompt capture on, the key as OpenClaw has it (truncated)", () => {
    const key = "agent:main:telegram:direct:+15551234567";
    expect(sessionKeyAttribute(key, { ...OFF, prompts: true })).toBe(key);
    expect(sessionKeyAttribute(key, { ...OFF, prompts: true, maxChars: 10 })).toMatch(/^agent:main…\[truncated/);
  });
});

describe("error categories", () => {
  it("from OpenClaw's structured fields first, then fixed categories", () => {
    expect(chatErrorType({ stopReason: "aborted", errorMessage: "x" })).toBe("aborted");
    expect(chatErrorType({ stopReason: "error", errorMessage: "400 This model's maximum context length is 8192 tokens", errorType: "400" })).toBe("context_overflow");
    expect(chatErrorType({ stopReason: "error", errorType: "rate_limit" })).toBe("rate_limit");
    expect(chatErrorType({ stopReason: "error", errorType: "not a token: +1 555" })).toBe("llm_error");
    expect(chatErrorType({ stopReason: "error", errorMessage: "Error: socket hang up" })).toBe("llm_error");
    expect(agentErrorType("Context overflow: prompt too large for the model.")).toBe("context_overflow");
    expect(agentErrorType("LLM request timed out.")).toBe("timeout");
    expect(agentErrorType("Aborted by the user")).toBe("cancelled");
    expect(agentErrorType("something else")).toBe("agent_error");
    expect(toolErrorType("Aborted: the run was cancelled")).toBe("cancelled");
    expect(toolErrorType("ENOENT: no such file")).toBe("openclaw_tool_error");
  });
});

describe("secrets from OTEL_EXPORTER_OTLP_(TRACES_)HEADERS", () => {
  it("are redacted, also when the plugin config's otlpHeaders do not list them", () => {
    const fromEnv = `envsecret${hex()}`;
    const token = `tracestoken${hex()}`;
    const env = { OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${fromEnv}`, OTEL_EXPORTER_OTLP_TRACES_HEADERS: `authorization=Bearer%20${token}` };
    const { config } = loadConfig({ otlpHeaders: { "x-other": "configured-secret-value" } }, env);
    expect(config.otlpHeaders["x-other"]).toBe("configured-secret-value");
    // The exporter reads the env headers itself: they are secrets whatever the settings list.
    const secrets = secretsOf({ ...config, otlpHeaders: { "x-other": "configured-secret-value" } }, env);
    const text = `exec printed ${fromEnv} and Bearer ${token} and configured-secret-value`;
    // The whole decoded value (`Bearer …`) is itself one of the secrets.
    expect(redactSecrets(text, secrets)).toBe("exec printed [redacted] and [redacted] and [redacted]");
    expect(redactSecrets(`token ${token}`, secrets)).toBe("token [redacted]");
  });

  it("on spans: the redacting processor scrubs them from status and attributes", () => {
    const fromEnv = `envsecret${hex()}`;
    const exporter = new InMemorySpanExporter();
    const redacting = new SecretRedactingProcessor(secretsOf({ apiKey: "", apiKeyFromUser: false, otlpHeaders: {} }, { OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${fromEnv}` }));
    provider = new TracerProvider({ spanProcessors: [redacting, new SimpleSpanProcessor({ exporter })] });
    const span = provider.getTracer("t").startSpan("s", { attributes: { "output.value": `key=${fromEnv}` } });
    span.setStatus({ code: SpanStatusCode.ERROR, message: `curl: 403 for ${fromEnv}` });
    span.end();
    expect(JSON.stringify(exported(exporter.getFinishedSpans()[0]!))).not.toContain(fromEnv);
  });
});
