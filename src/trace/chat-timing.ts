/**
 * Serving performance of one streamed model call (SPEC §3.2 "Serving performance"), measured on the
 * stream the provider wraps and written on the `chat` span when it ends. See docs/serving-metrics.md.
 *
 * The per-chunk path (`ChatTiming.observe`) is a clock read, a few comparisons and one store into a
 * preallocated array: no allocation, no span or metric call (bench `chunkOverheadUs`). Everything
 * else happens once, when the span ends.
 */
import type { Span } from "@opentelemetry/api";

/** Span attributes and event names for serving performance (`gen_ai.*` where the semconv has a name). */
export const SERVING = {
  REQUEST_STREAM: "gen_ai.request.stream",
  TIME_TO_FIRST_CHUNK: "gen_ai.response.time_to_first_chunk",
  TIME_TO_FIRST_TOKEN: "dynamo.response.time_to_first_token",
  CHUNKS: "dynamo.response.chunks",
  CHUNK_GAP_MEAN: "dynamo.response.chunk_gap.mean",
  CHUNK_GAP_MAX: "dynamo.response.chunk_gap.max",
  OUTPUT_TOKENS_PER_SECOND: "dynamo.response.output_tokens_per_second",
  CACHE_HIT_RATIO: "dynamo.usage.prompt_cache_hit_ratio",
  FIRST_TOKEN_EVENT: "dynamo.first_token",
  WORKER_PREFIX: "dynamo.worker.",
  TIMING_PREFIX: "dynamo.timing.",
} as const;

/** Gaps kept per call for the `time_per_output_chunk` histogram; later gaps count in mean/max only. */
export const MAX_RECORDED_GAPS = 16_384;
const INITIAL_GAPS = 64;

export type Clock = () => number;
const defaultClock: Clock = () => performance.now();

/** What one call's stream showed, in milliseconds relative to the request start. */
export interface ServingSummary {
  /** Epoch ms of the request start (to place the first-token event). */
  readonly startedAtEpochMs: number;
  readonly firstChunkMs?: number | undefined;
  readonly firstTokenMs?: number | undefined;
  readonly lastChunkMs?: number | undefined;
  readonly chunks: number;
  readonly gapMeanMs?: number | undefined;
  readonly gapMaxMs?: number | undefined;
  /** Gaps between successive chunks (ms), at most MAX_RECORDED_GAPS; feeds the metrics. */
  readonly gaps: Float64Array;
  /** `nvext` of the response, when Dynamo sent one (worker ids, timing). */
  readonly nvext?: Record<string, unknown> | undefined;
}

/**
 * A chunk is an event carrying model output: `text_delta`, `thinking_delta`, `toolcall_delta`
 * (one per SSE chunk in OpenClaw's transport). The first token is the first visible content or tool
 * call (reasoning excluded), so with a reasoning model it is later than the first chunk.
 */
export class ChatTiming {
  private readonly clock: Clock;
  private readonly start: number;
  private readonly startedAtEpochMs: number;
  private firstChunk = -1;
  private firstToken = -1;
  private last = -1;
  private chunks = 0;
  private gapSum = 0;
  private gapMax = 0;
  private gaps = new Float64Array(INITIAL_GAPS);
  private gapCount = 0;
  nvext: Record<string, unknown> | undefined;

  constructor(clock: Clock = defaultClock, epochNow: number = Date.now()) {
    this.clock = clock;
    this.start = clock();
    this.startedAtEpochMs = epochNow;
  }

  /** Called for every stream event; `type` is the event's `type`. */
  observe(type: string): void {
    // "text_delta" / "thinking_delta" / "toolcall_delta": all and only the chunk events end in "_delta".
    if (!type.endsWith("_delta")) return;
    const now = this.clock();
    if (this.firstChunk < 0) this.firstChunk = now;
    else {
      const gap = now - this.last;
      this.gapSum += gap;
      if (gap > this.gapMax) this.gapMax = gap;
      if (this.gapCount < MAX_RECORDED_GAPS) {
        if (this.gapCount === this.gaps.length) this.grow();
        this.gaps[this.gapCount++] = gap;
      }
    }
    if (this.firstToken < 0 && type !== "thinking_delta") this.firstToken = now;
    this.last = now;
    this.chunks++;
  }

  summary(): ServingSummary {
    const rel = (t: number) => (t < 0 ? undefined : t - this.start);
    const gapCountAll = this.chunks - 1;
    return {
      startedAtEpochMs: this.startedAtEpochMs,
      firstChunkMs: rel(this.firstChunk),
      firstTokenMs: rel(this.firstToken),
      lastChunkMs: rel(this.last),
      chunks: this.chunks,
      gapMeanMs: gapCountAll > 0 ? this.gapSum / gapCountAll : undefined,
      gapMaxMs: gapCountAll > 0 ? this.gapMax : undefined,
      gaps: this.gaps.subarray(0, this.gapCount),
      nvext: this.nvext,
    };
  }

  private grow(): void {
    const next = new Float64Array(Math.min(this.gaps.length * 4, MAX_RECORDED_GAPS));
    next.set(this.gaps);
    this.gaps = next;
  }
}

/** Token counts as the span records them (input includes cache reads and writes). */
export interface ServingUsage {
  readonly input?: number | undefined;
  readonly output?: number | undefined;
  readonly cacheRead?: number | undefined;
}

/** Gaps of ended chat spans, read by the metrics processor (./metrics.ts) in its `onEnd`. */
const gapsBySpan = new WeakMap<object, Float64Array>();

export function chunkGapsOf(span: object): Float64Array | undefined {
  return gapsBySpan.get(span);
}

/** Writes the serving attributes and the first-token event on a `chat` span (before it ends). */
export function recordServing(span: Span, serving: ServingSummary | undefined, usage: ServingUsage | undefined): void {
  if (usage?.cacheRead && usage.input) span.setAttribute(SERVING.CACHE_HIT_RATIO, round(usage.cacheRead / usage.input, 4));
  if (!serving) return;
  span.setAttribute(SERVING.REQUEST_STREAM, true);
  span.setAttribute(SERVING.CHUNKS, serving.chunks);
  const seconds = (ms: number | undefined) => (ms === undefined ? undefined : round(ms / 1000, 6));
  setNumber(span, SERVING.TIME_TO_FIRST_CHUNK, seconds(serving.firstChunkMs));
  setNumber(span, SERVING.TIME_TO_FIRST_TOKEN, seconds(serving.firstTokenMs));
  setNumber(span, SERVING.CHUNK_GAP_MEAN, seconds(serving.gapMeanMs));
  setNumber(span, SERVING.CHUNK_GAP_MAX, seconds(serving.gapMaxMs));
  const { firstChunkMs, lastChunkMs } = serving;
  if (usage?.output && usage.output > 1 && firstChunkMs !== undefined && lastChunkMs !== undefined && lastChunkMs > firstChunkMs) {
    // Decode rate: the tokens after the first over the time from first to last chunk (1 / TPOT).
    span.setAttribute(SERVING.OUTPUT_TOKENS_PER_SECOND, round(((usage.output - 1) * 1000) / (lastChunkMs - firstChunkMs), 3));
  }
  const first = serving.firstTokenMs ?? serving.firstChunkMs;
  if (first !== undefined) {
    span.addEvent(
      SERVING.FIRST_TOKEN_EVENT,
      { [SERVING.TIME_TO_FIRST_CHUNK]: seconds(serving.firstChunkMs) ?? seconds(first)! },
      serving.startedAtEpochMs + first,
    );
  }
  if (serving.nvext) recordNvext(span, serving.nvext);
  if (serving.gaps.length > 0) gapsBySpan.set(span, serving.gaps);
}

/**
 * What Dynamo answered under `nvext` when asked with `extra_fields: ["worker_id", "timing"]`
 * (docs/serving-metrics.md): `worker_id.*` → `dynamo.worker.*`, numeric `timing.*` →
 * `dynamo.timing.*` (Dynamo's own units: ms, ratios). Anything absent stays absent.
 */
export function recordNvext(span: Span, nvext: Record<string, unknown>): void {
  for (const [group, prefix] of [["worker_id", SERVING.WORKER_PREFIX], ["timing", SERVING.TIMING_PREFIX]] as const) {
    const value = nvext[group];
    if (!value || typeof value !== "object") continue;
    for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
      if (typeof field === "number" && Number.isFinite(field) && /^[a-z0-9_]{1,64}$/.test(key)) span.setAttribute(prefix + key, field);
    }
  }
}

function setNumber(span: Span, key: string, value: number | undefined): void {
  if (value !== undefined && Number.isFinite(value)) span.setAttribute(key, value);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
