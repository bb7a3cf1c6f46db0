// OpenAI chat-completion wire objects (streaming chunks and the non-streaming object).
import { randomBytes } from "node:crypto";
import type { PolicyAnswer } from "./policy.ts";
import { splitText } from "./serving.ts";
import type { SimToolCall } from "./types.ts";

let toolCallCounter = 0;
let completionCounter = 0;

/** Unique per response and per process: `call_<counter>_<8 hex>`. */
export function newToolCallId(): string {
  toolCallCounter += 1;
  return `call_${toolCallCounter}_${randomBytes(4).toString("hex")}`;
}

export function newCompletionId(): string {
  completionCounter += 1;
  return `chatcmpl-sim${completionCounter}-${randomBytes(6).toString("hex")}`;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Rough token counts so usage is non-zero and deterministic for a given request/answer. */
export function estimateUsage(requestBody: unknown, answerText: string): Usage {
  const prompt = Math.max(1, Math.ceil(JSON.stringify((requestBody as { messages?: unknown })?.messages ?? "").length / 4));
  const completion = Math.max(1, Math.ceil(answerText.length / 4));
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export interface Answer {
  toolCalls: SimToolCall[];
  text?: string;
  finishReason: "tool_calls" | "stop" | "length";
}

export function materialize(decision: PolicyAnswer): Answer {
  if (decision.type === "tool") {
    return {
      toolCalls: [{ id: newToolCallId(), name: decision.name, arguments: JSON.stringify(decision.args) }],
      finishReason: "tool_calls",
    };
  }
  return { toolCalls: [], text: decision.text, finishReason: decision.policy === "minimal" ? "length" : "stop" };
}

interface ChunkBase {
  id: string;
  model: string;
  created: number;
}

function chunk(base: ChunkBase, delta: Record<string, unknown>, finishReason: string | null): Record<string, unknown> {
  return {
    id: base.id,
    object: "chat.completion.chunk",
    created: base.created,
    model: base.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

/** The SSE chunk objects for an answer, in order (without the usage chunk and `[DONE]`). */
export function streamChunks(base: ChunkBase, answer: Answer, textChunks = 2): Record<string, unknown>[] {
  const out = [chunk(base, { role: "assistant", content: "" }, null)];
  if (answer.toolCalls.length > 0) {
    answer.toolCalls.forEach((call, index) => {
      out.push(
        chunk(base, { tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }, null),
        chunk(base, { tool_calls: [{ index, function: { arguments: call.arguments } }] }, null),
      );
    });
  } else {
    // Several content deltas (two by default) so clients exercise accumulation.
    for (const part of splitText(answer.text ?? "", textChunks)) out.push(chunk(base, { content: part }, null));
  }
  out.push(chunk(base, {}, answer.finishReason));
  return out;
}

export function usageChunk(base: ChunkBase, usage: Usage): Record<string, unknown> {
  return { id: base.id, object: "chat.completion.chunk", created: base.created, model: base.model, choices: [], usage };
}

export function completionObject(base: ChunkBase, answer: Answer, usage: Usage): Record<string, unknown> {
  const message: Record<string, unknown> = { role: "assistant", content: answer.text ?? null };
  if (answer.toolCalls.length > 0) {
    message.tool_calls = answer.toolCalls.map((c) => ({
      id: c.id,
      type: "function",
      function: { name: c.name, arguments: c.arguments },
    }));
  }
  return {
    id: base.id,
    object: "chat.completion",
    created: base.created,
    model: base.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: answer.finishReason }],
    usage,
  };
}

export function sseData(payload: unknown): string {
  return `data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`;
}
