// Content capture (SPEC §2): off by default, on per class, truncated to `capture.maxChars`.
import { TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it } from "vitest";
import { memoryTree } from "./memory-tree.ts";
import { loadConfig } from "../../src/config.ts";
import { textOf, truncate } from "../../src/trace/content.ts";
import * as hooks from "../../src/trace/hooks.ts";

const KEY = "agent:main:main";
const SESSION = "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e";
const PROMPT = "Please read README.md";
const MESSAGES = [{ role: "user", content: PROMPT }];
const COMPLETION = "README.md says hello.";
const READ_PARAMS = { path: "README.md" };
const READ_RESULT = { content: [{ type: "text", text: "hello from the readme" }] };
const SPAWN_ARGS = { task: "summarize", label: "reader" };
const FINAL = "All done: the README says hello.";

const CONTENT_KEYS = [
  "input.value",
  "input.mime_type",
  "output.value",
  "output.mime_type",
  "gen_ai.input.messages",
  "gen_ai.output.messages",
  "gen_ai.tool.call.arguments",
  "gen_ai.tool.call.result",
] as const;

let provider: TracerProvider | undefined;
afterEach(async () => {
  await provider?.shutdown();
  provider = undefined;
});

/** A full local turn with content everywhere a class could capture it. */
function turn(capture: Record<string, unknown> | undefined) {
  const { config, warnings } = loadConfig(capture === undefined ? {} : { capture }, {});
  expect(warnings).toEqual([]);
  const memory = memoryTree(config);
  provider = memory.provider;
  const tree = memory.tree;
  const runId = "R1";
  const ctx = { runId, agentId: "main", sessionKey: KEY, sessionId: SESSION, modelProviderId: "dynamo", modelId: "mock-model" };
  for (const name of hooks.RUN_START_HOOKS) hooks.onRunStart(tree, { prompt: PROMPT, messages: [] }, ctx);
  hooks.onLlmInput(tree, { runId, sessionId: SESSION, provider: "dynamo", model: "mock-model", prompt: PROMPT, historyMessages: [], imagesCount: 0 }, ctx);
  // What the stream wrapper does for one request.
  tree.startChat(`${runId}:model:1`, { sessionId: SESSION, model: "mock-model", provider: "dynamo" });
  tree.captureChatInput(`${runId}:model:1`, MESSAGES);
  tree.endChat(`${runId}:model:1`, { stopReason: "stop", outputText: COMPLETION, usage: { input: 5, output: 4 } });
  const toolCtx = (name: string, id: string) => ({ ...ctx, toolName: name, toolCallId: id });
  hooks.onBeforeToolCall(tree, { toolName: "read", params: READ_PARAMS, runId, toolCallId: "call_1" }, toolCtx("read", "call_1"));
  hooks.onAfterToolCall(tree, { toolName: "read", params: READ_PARAMS, runId, toolCallId: "call_1", result: READ_RESULT }, toolCtx("read", "call_1"));
  hooks.onBeforeToolCall(tree, { toolName: "tool_call", params: { id: "sessions_spawn", args: SPAWN_ARGS }, runId, toolCallId: "call_2" }, toolCtx("tool_call", "call_2"));
  hooks.onAfterToolCall(tree, { toolName: "tool_call", runId, toolCallId: "call_2", result: "accepted" }, toolCtx("tool_call", "call_2"));
  hooks.onAgentEnd(
    tree,
    { runId, success: true, messages: [{ role: "user", content: PROMPT }, { role: "assistant", content: [{ type: "text", text: FINAL }] }] },
    ctx,
  );
  const spans = memory.spans();
  const named = (name: string) => spans.find((span) => span.name === name) as ReadableSpan;
  return {
    spans,
    agent: named("invoke_agent main"),
    chat: named("chat mock-model"),
    read: named("execute_tool read"),
    spawn: named("execute_tool sessions_spawn"),
  };
}

/** The content attributes of each span, by span name. */
function contentOf(spans: readonly ReadableSpan[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const span of spans) {
    const found = Object.fromEntries(CONTENT_KEYS.filter((key) => key in span.attributes).map((key) => [key, span.attributes[key]]));
    out[span.name] = found;
  }
  return out;
}

describe("content capture", () => {
  it("captures nothing by default", () => {
    const { spans } = turn(undefined);
    expect(spans).toHaveLength(4);
    expect(contentOf(spans)).toEqual({
      "invoke_agent main": {},
      "chat mock-model": {},
      "execute_tool read": {},
      "execute_tool sessions_spawn": {},
    });
    // Not hidden under another key either.
    const everything = JSON.stringify(spans.map((span) => span.attributes));
    for (const secret of [PROMPT, COMPLETION, "hello from the readme", "README.md\"", FINAL, "summarize"]) {
      expect(everything).not.toContain(secret);
    }
  });

  it("prompts: the user prompt on the agent span and the request messages on the chat span", () => {
    const { spans } = turn({ prompts: true });
    expect(contentOf(spans)).toEqual({
      "invoke_agent main": { "input.value": PROMPT },
      "chat mock-model": {
        "input.value": JSON.stringify(MESSAGES),
        "input.mime_type": "application/json",
        "gen_ai.input.messages": JSON.stringify(MESSAGES),
      },
      "execute_tool read": {},
      "execute_tool sessions_spawn": {},
    });
  });

  it("completions: the completion on the chat span and the final answer on the agent span", () => {
    const { spans } = turn({ completions: true });
    expect(contentOf(spans)).toEqual({
      "invoke_agent main": { "output.value": FINAL },
      "chat mock-model": {
        "output.value": COMPLETION,
        "gen_ai.output.messages": JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: COMPLETION }] }]),
      },
      "execute_tool read": {},
      "execute_tool sessions_spawn": {},
    });
  });

  it("toolArguments: the arguments on tool spans (the bridge's inner args, not its envelope)", () => {
    const { spans } = turn({ toolArguments: true });
    expect(contentOf(spans)).toEqual({
      "invoke_agent main": {},
      "chat mock-model": {},
      "execute_tool read": {
        "gen_ai.tool.call.arguments": JSON.stringify(READ_PARAMS),
        "input.value": JSON.stringify(READ_PARAMS),
        "input.mime_type": "application/json",
      },
      "execute_tool sessions_spawn": {
        "gen_ai.tool.call.arguments": JSON.stringify(SPAWN_ARGS),
        "input.value": JSON.stringify(SPAWN_ARGS),
        "input.mime_type": "application/json",
      },
    });
  });

  it("toolResults: the result text on tool spans", () => {
    const { spans } = turn({ toolResults: true });
    expect(contentOf(spans)).toEqual({
      "invoke_agent main": {},
      "chat mock-model": {},
      "execute_tool read": { "gen_ai.tool.call.result": "hello from the readme", "output.value": "hello from the readme" },
      "execute_tool sessions_spawn": { "gen_ai.tool.call.result": "accepted", "output.value": "accepted" },
    });
  });

  it("truncates every captured value to maxChars", () => {
    const { agent, chat, read } = turn({ prompts: true, completions: true, toolArguments: true, toolResults: true, maxChars: 8 });
    expect(agent.attributes["input.value"]).toBe(`Please r…[truncated ${PROMPT.length - 8} chars]`);
    expect(agent.attributes["output.value"]).toBe(`All done…[truncated ${FINAL.length - 8} chars]`);
    expect(chat.attributes["output.value"]).toBe(`README.m…[truncated ${COMPLETION.length - 8} chars]`);
    const messages = JSON.stringify(MESSAGES);
    expect(chat.attributes["input.value"]).toBe(`${messages.slice(0, 8)}…[truncated ${messages.length - 8} chars]`);
    expect(read.attributes["gen_ai.tool.call.result"]).toBe(`hello fr…[truncated ${"hello from the readme".length - 8} chars]`);
    const args = JSON.stringify(READ_PARAMS);
    expect(read.attributes["gen_ai.tool.call.arguments"]).toBe(`${args.slice(0, 8)}…[truncated ${args.length - 8} chars]`);
  });

  it("the capture config can also come from DYN_AGENT_TRACE_CAPTURE", () => {
    const { config } = loadConfig({}, { DYN_AGENT_TRACE_CAPTURE: "prompts,tool_results", DYN_AGENT_TRACE_CAPTURE_MAX_CHARS: "100" });
    expect(config.capture).toEqual({ prompts: true, completions: false, toolArguments: false, toolResults: true, maxChars: 100 });
  });
});

describe("content helpers", () => {
  it("truncate keeps short values and marks cut ones", () => {
    expect(truncate("abc", 3)).toBe("abc");
    expect(truncate("abcd", 3)).toBe("abc…[truncated 1 chars]");
  });

  it("textOf reads strings, content arrays and tool results", () => {
    expect(textOf("plain")).toBe("plain");
    expect(textOf(undefined)).toBe("");
    expect(textOf([{ type: "text", text: "a" }, "b"])).toBe("a\nb");
    expect(textOf({ content: [{ type: "text", text: "x" }, { type: "image", data: "…" }] })).toBe('x\n{"type":"image","data":"…"}');
    expect(textOf({ status: "ok" })).toBe('{"status":"ok"}');
  });
});
