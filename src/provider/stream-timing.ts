/**
 * Lets a `ChatTiming` (src/trace/chat-timing.ts) see every event of a model-call stream as the
 * consumer (OpenClaw) reads it. The stream object is the one the inner transport made for this call;
 * only its async iterator is replaced (own property), so `result()` and anything else OpenClaw reads
 * on it are untouched. Per event the cost is one `then` and `ChatTiming.observe` (bench `chunkOverheadUs`).
 */
import type { ChatTiming } from "../trace/chat-timing.ts";

interface EventStreamLike {
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
}

export function timeStream<S extends EventStreamLike>(stream: S, timing: ChatTiming): S {
  const original = stream[Symbol.asyncIterator];
  if (typeof original !== "function") return stream;
  const observe = (step: IteratorResult<unknown>): IteratorResult<unknown> => {
    if (!step.done) {
      const type = (step.value as { type?: unknown } | null)?.type;
      if (typeof type === "string") timing.observe(type);
    }
    return step;
  };
  // A stream object that cannot take the property (frozen) is returned as it is: no measurements.
  if (!Object.isExtensible(stream) && !Object.getOwnPropertyDescriptor(stream, Symbol.asyncIterator)?.configurable) return stream;
  Object.defineProperty(stream, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: function timedIterator(this: unknown) {
      const inner = original.call(stream);
      const iterator: AsyncIterableIterator<unknown> = {
        next: (...args: [] | [unknown]) => inner.next(...args).then(observe),
        return: (value?: unknown) => (inner.return ? inner.return(value) : Promise.resolve({ done: true, value })),
        throw: (error?: unknown) => (inner.throw ? inner.throw(error) : Promise.reject(error)),
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
  });
  return stream;
}
