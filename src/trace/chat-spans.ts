/**
 * `chat` spans (docs/span-tree.md): one per model request, keyed by OpenClaw's call id
 * (`<runId>:model:<n>`), under the run's agent span, ended with what the stream measured.
 */
import { ROOT_CONTEXT, SpanKind, trace, type Attributes } from "@opentelemetry/api";
import { GEN_AI, LLM_SYSTEM, OPENINFERENCE, OPERATION, PROVIDER_NAME, SPAN_KIND } from "./attributes.ts";
import { BoundedMap } from "./bounded-map.ts";
import { recordServing } from "./chat-timing.ts";
import { safeJson, truncate } from "./content.ts";
import { chatErrorType, errorStatus } from "./privacy.ts";
import { RunSpans } from "./run-spans.ts";
import { TTL_MS, setNumber, type ChatCall, type ChatResult, type RunRef } from "./tree-types.ts";

export abstract class ChatSpans extends RunSpans {
  // Open requests (forgotten when they end); one whose end hook never arrives is ended when
  // evicted, so no span is lost.
  protected readonly chats = new BoundedMap<string, ChatCall>({
    capacity: 10_000,
    ttlMs: TTL_MS,
    onEvict: (_, chat) => this.finishChat(chat, { stopReason: "aborted", note: "no end of the request was observed" }),
  });

  /**
   * Starts the `chat` span of one model request (idempotent per call id while it is open). OpenClaw
   * resends a failed request with the same call id (its same-model retry after a 5xx, a reset or a
   * malformed stream), so a call id whose span already ended starts a new span for the new request:
   * an ended request is forgotten.
   */
  startChat(callId: string, ref: RunRef & { model: string; serverAddress?: string; serverPort?: number }): ChatCall | undefined {
    const existing = this.chats.get(callId);
    if (existing && !existing.ended) return existing;
    const run = this.ensureRun({ ...ref, runId: ref.runId ?? this.runIdOfCall(callId) });
    if (!run) return undefined;
    run.lastModel = ref.model;
    const attributes: Attributes = {
      [GEN_AI.OPERATION_NAME]: OPERATION.CHAT,
      [GEN_AI.PROVIDER_NAME]: ref.provider ?? PROVIDER_NAME,
      [GEN_AI.REQUEST_MODEL]: ref.model,
      [OPENINFERENCE.SPAN_KIND]: SPAN_KIND.LLM,
      [OPENINFERENCE.LLM_MODEL_NAME]: ref.model,
      [OPENINFERENCE.LLM_PROVIDER]: ref.provider ?? PROVIDER_NAME,
      [OPENINFERENCE.LLM_SYSTEM]: LLM_SYSTEM,
      ...run.attributes,
    };
    if (ref.serverAddress) attributes[GEN_AI.SERVER_ADDRESS] = ref.serverAddress;
    if (ref.serverPort) attributes[GEN_AI.SERVER_PORT] = ref.serverPort;
    const span = this.tracer.startSpan(
      `${OPERATION.CHAT} ${ref.model}`,
      { kind: SpanKind.CLIENT, attributes },
      run.childContext ?? trace.setSpan(ROOT_CONTEXT, run.span),
    );
    const chat: ChatCall = { callId, run, span, spanContext: span.spanContext(), ended: false };
    this.chats.set(callId, chat);
    return chat;
  }

  getChat(callId: string): ChatCall | undefined {
    return this.chats.get(callId);
  }

  endChat(callId: string, result: ChatResult): void {
    const chat = this.chats.get(callId);
    if (chat) this.finishChat(chat, result);
  }

  protected finishChat(chat: ChatCall, result: ChatResult): void {
    if (chat.ended) return;
    chat.ended = true;
    if (this.chats.get(chat.callId) === chat) this.chats.delete(chat.callId);
    const { span } = chat;
    const usage = result.usage;
    if (usage) {
      setNumber(span, GEN_AI.USAGE_INPUT_TOKENS, usage.input);
      setNumber(span, GEN_AI.USAGE_OUTPUT_TOKENS, usage.output);
      setNumber(span, OPENINFERENCE.LLM_TOKEN_PROMPT, usage.input);
      setNumber(span, OPENINFERENCE.LLM_TOKEN_COMPLETION, usage.output);
      if (usage.input !== undefined || usage.output !== undefined) {
        span.setAttribute(OPENINFERENCE.LLM_TOKEN_TOTAL, (usage.input ?? 0) + (usage.output ?? 0));
      }
      if (usage.cacheRead) {
        span.setAttribute(GEN_AI.USAGE_CACHE_READ_INPUT_TOKENS, usage.cacheRead);
        span.setAttribute(OPENINFERENCE.LLM_TOKEN_CACHE_READ, usage.cacheRead);
      }
      if (usage.cacheWrite) {
        span.setAttribute(GEN_AI.USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cacheWrite);
        span.setAttribute(OPENINFERENCE.LLM_TOKEN_CACHE_WRITE, usage.cacheWrite);
      }
    }
    if (result.responseModel) span.setAttribute(GEN_AI.RESPONSE_MODEL, result.responseModel);
    if (result.responseId) span.setAttribute(GEN_AI.RESPONSE_ID, result.responseId);
    if (result.stopReason) {
      span.setAttribute(GEN_AI.RESPONSE_FINISH_REASONS, [result.stopReason]);
      span.setAttribute(OPENINFERENCE.LLM_FINISH_REASON, result.stopReason);
    }
    if (result.outputText !== undefined && this.config.capture.completions) {
      const text = truncate(result.outputText, this.config.capture.maxChars);
      span.setAttribute(OPENINFERENCE.OUTPUT_VALUE, text);
      span.setAttribute(GEN_AI.OUTPUT_MESSAGES, safeJson([{ role: "assistant", parts: [{ type: "text", content: text }] }]));
    }
    recordServing(span, result.serving, usage);
    if (result.stopReason === "error" || result.stopReason === "aborted" || result.errorMessage || result.note) {
      // The server's error text can echo the request: completion capture (docs/privacy.md).
      const errorType = chatErrorType(result);
      span.setAttribute(GEN_AI.ERROR_TYPE, errorType);
      span.setStatus(errorStatus(errorType, result.note ?? result.errorMessage, result.note !== undefined || this.config.capture.completions, this.config.capture));
    }
    span.end();
  }

  /** Records the request messages on a chat span (only when prompt capture is on). */
  captureChatInput(callId: string, messages: unknown): void {
    if (!this.config.capture.prompts) return;
    const chat = this.chats.get(callId);
    if (!chat || chat.ended) return;
    const json = truncate(safeJson(messages), this.config.capture.maxChars);
    chat.span.setAttribute(OPENINFERENCE.INPUT_VALUE, json);
    chat.span.setAttribute(OPENINFERENCE.INPUT_MIME_TYPE, "application/json");
    chat.span.setAttribute(GEN_AI.INPUT_MESSAGES, json);
  }
}
