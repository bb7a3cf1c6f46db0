/**
 * What the provider's stream wrapper (./stream.ts) does to a model response stream without
 * consuming it: observe its outcome for the `chat` span, map it (stream timing), and the `auto`
 * fallback that swaps a rejected Dynamo 1.2 `nvext` answer for a resend with headers (SPEC §4.4).
 */
import type { ProviderWrapStreamFnContext } from "openclaw/plugin-sdk/plugin-entry";
import type { ChatResult } from "../trace/span-tree.ts";
import { isNvextRejection } from "./protocol.ts";

export type StreamFn = NonNullable<ProviderWrapStreamFnContext["streamFn"]>;
export type StreamLike = Awaited<ReturnType<StreamFn>>;
type StreamEvent = StreamLike extends AsyncIterable<infer E> ? E : never;
type AssistantMessage = Awaited<ReturnType<StreamLike["result"]>>;

/** Calls `onDone` once with the outcome of `stream` (also when it fails), without consuming it. */
export function observeResult(
  stream: StreamLike | Promise<StreamLike>,
  onDone: (result: ChatResult) => void,
): StreamLike | Promise<StreamLike> {
  const attach = (resolved: StreamLike) => {
    resolved.result().then(
      (message) => onDone(chatResultOf(message)),
      (error: unknown) => onDone({ stopReason: "error", errorMessage: String(error) }),
    );
    return resolved;
  };
  if (isPromise(stream)) {
    return stream.then(attach, (error: unknown) => {
      onDone({ stopReason: "error", errorMessage: String(error) });
      throw error;
    });
  }
  return attach(stream);
}

/**
 * SPEC §4.4: if Dynamo answers the `nvext` request with the 1.3+ rejection, that answer never
 * reaches OpenClaw; the same request is resent with headers and its stream is forwarded instead.
 * OpenClaw surfaces a non-2xx answer as a single `error` event before any content (§7.5), so the
 * first event decides.
 */
export function withNvextFallback(
  firstAttempt: StreamLike | Promise<StreamLike>,
  resend: () => StreamLike | Promise<StreamLike>,
): StreamLike {
  let decided: Promise<{ stream: StreamLike; iterator?: AsyncIterator<StreamEvent>; head?: IteratorResult<StreamEvent> }> | undefined;
  const decide = () =>
    (decided ??= (async () => {
      const stream = await firstAttempt;
      const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<StreamEvent>;
      const head = await iterator.next();
      if (!head.done && isRejectionEvent(head.value)) {
        await iterator.return?.();
        return { stream: await resend() };
      }
      return { stream, iterator, head };
    })());
  return {
    async *[Symbol.asyncIterator]() {
      const { stream, iterator, head } = await decide();
      if (!iterator || !head) {
        yield* stream as AsyncIterable<StreamEvent>;
        return;
      }
      if (head.done) return;
      try {
        yield head.value;
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          yield next.value;
        }
      } finally {
        // A consumer that stops reading early must still release the underlying stream.
        await iterator.return?.();
      }
    },
    async result() {
      let decision: Awaited<ReturnType<typeof decide>>;
      try {
        decision = await decide();
      } catch {
        // Reading the first event failed: the iteration reports that error; the result is the
        // first attempt's own, exactly as without the wrapper.
        return (await firstAttempt).result();
      }
      return decision.stream.result();
    },
  } as StreamLike;
}

function isRejectionEvent(event: StreamEvent): boolean {
  const e = event as { type?: string; error?: { errorMessage?: string; errorCode?: string | number } };
  if (e.type !== "error") return false;
  return isNvextRejection(e.error?.errorCode, e.error?.errorMessage);
}

function chatResultOf(message: AssistantMessage): ChatResult {
  const m = message as {
    stopReason?: string;
    errorMessage?: string;
    errorCode?: string | number;
    errorType?: string;
    responseModel?: string;
    responseId?: string;
    usage?: { input?: number; output?: number; cacheRead?: number; cacheWrite?: number };
    content?: Array<{ type?: string; text?: string }>;
  };
  const text = Array.isArray(m.content)
    ? m.content.filter((part) => part?.type === "text").map((part) => part.text ?? "").join("")
    : undefined;
  return {
    stopReason: m.stopReason,
    errorMessage: m.errorMessage,
    errorType: m.errorCode !== undefined ? String(m.errorCode) : m.errorType,
    responseModel: m.responseModel,
    responseId: m.responseId,
    usage: m.usage && withCacheInInput(m.usage),
    outputText: text,
  };
}

/**
 * OpenClaw's usage counts `input` without the cache reads and writes (it subtracts
 * `prompt_tokens_details.cached_tokens`); the span's input tokens are the whole prompt, cache
 * included, as GenAI semconv and OpenInference count them (docs/serving-metrics.md).
 */
function withCacheInInput(usage: NonNullable<ChatResult["usage"]>): ChatResult["usage"] {
  if (usage.input === undefined) return usage;
  return { ...usage, input: usage.input + (usage.cacheRead ?? 0) + (usage.cacheWrite ?? 0) };
}

export function mapStream(stream: StreamLike | Promise<StreamLike>, fn: (s: StreamLike) => StreamLike): StreamLike | Promise<StreamLike> {
  return isPromise(stream) ? stream.then(fn) : fn(stream);
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === "function";
}
