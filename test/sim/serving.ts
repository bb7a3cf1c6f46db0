// Serving behaviour of the simulated Dynamo: pacing of the stream (first-token delay, gaps between
// chunks), prompt-cache hits in `usage`, and what Dynamo answers under `nvext` when the request asks
// with `nvext.extra_fields` (dynamo-wire.md §12.3): `worker_id` and `timing` on the chunk that
// carries `finish_reason` (or on the non-streamed completion).
import type { ServerResponse } from "node:http";
import { sseData, usageChunk, type Usage } from "./completion.ts";

export interface WorkerId {
  prefill_worker_id: number;
  prefill_dp_rank: number;
  decode_worker_id: number;
  decode_dp_rank: number;
}

export interface ServingProfile {
  /** Delay between the role chunk (sent with the headers) and the first content/tool-call chunk, ms. Default 0. */
  firstTokenDelayMs?: number;
  /** Delay between successive content/tool-call chunks, ms. Default 0. */
  chunkGapMs?: number;
  /** Content deltas of a text answer (at most one per character). Default 2. */
  textChunks?: number;
  /** Reported as `usage.prompt_tokens_details.cached_tokens` (capped at `prompt_tokens`). Default: absent. */
  cachedTokens?: number;
  /** `nvext.worker_id` when asked for. */
  workerId?: WorkerId;
}

export const DEFAULT_WORKER_ID: WorkerId = { prefill_worker_id: 7, prefill_dp_rank: 0, decode_worker_id: 7, decode_dp_rank: 0 };

/** Splits `text` into `n` non-empty deltas (fewer when the text is shorter). */
export function splitText(text: string, n: number): string[] {
  const parts = Math.max(1, Math.min(Math.floor(n), text.length));
  const out: string[] = [];
  for (let i = 0; i < parts; i++) {
    const piece = text.slice(Math.round((i * text.length) / parts), Math.round(((i + 1) * text.length) / parts));
    if (piece) out.push(piece);
  }
  return out;
}

export function withCachedTokens(usage: Usage, profile: ServingProfile): Usage & { prompt_tokens_details?: { cached_tokens: number } } {
  if (profile.cachedTokens === undefined) return usage;
  return { ...usage, prompt_tokens_details: { cached_tokens: Math.min(profile.cachedTokens, usage.prompt_tokens) } };
}

/** Which `extra_fields` the request asked for (unknown values ignored, like Dynamo). */
export function requestedExtraFields(body: Record<string, unknown>): Set<string> {
  const fields = (body.nvext as { extra_fields?: unknown } | undefined)?.extra_fields;
  return new Set(Array.isArray(fields) ? fields.filter((f): f is string => f === "worker_id" || f === "timing") : []);
}

/** `nvext` for the response, or undefined when nothing was asked for. */
export function responseNvext(
  asked: Set<string>,
  profile: ServingProfile,
  times: { receivedAt: number; firstTokenAt: number; endAt: number },
  usage: Usage & { prompt_tokens_details?: { cached_tokens: number } },
): Record<string, unknown> | undefined {
  if (asked.size === 0) return undefined;
  const nvext: Record<string, unknown> = {};
  if (asked.has("worker_id")) nvext.worker_id = { ...(profile.workerId ?? DEFAULT_WORKER_ID) };
  if (asked.has("timing")) {
    const cached = usage.prompt_tokens_details?.cached_tokens;
    nvext.timing = {
      request_received_ms: times.receivedAt,
      prefill_wait_time_ms: 0,
      prefill_time_ms: Math.max(0, times.firstTokenAt - times.receivedAt),
      ttft_ms: Math.max(0, times.firstTokenAt - times.receivedAt),
      total_time_ms: Math.max(0, times.endAt - times.receivedAt),
      ...(cached !== undefined && usage.prompt_tokens > 0 ? { kv_hit_rate: cached / usage.prompt_tokens } : {}),
    };
  }
  return nvext;
}

/**
 * Writes chunks[1..] (chunks[0], the role delta, is already on the wire): the first-token delay
 * before the first content chunk, the gap before each later one; the finish chunk follows the last
 * content chunk at once and carries `nvext` when asked for; then the usage chunk and `[DONE]`.
 * Resolves false when the client went away during a wait.
 */
export async function writePacedStream(
  res: ServerResponse,
  chunks: Record<string, unknown>[],
  opts: { profile: ServingProfile; asked: Set<string>; receivedAt: number; usage: Usage | undefined; base: Parameters<typeof usageChunk>[0] },
): Promise<boolean> {
  const { profile } = opts;
  const content = chunks.slice(1, -1);
  const finish = chunks.at(-1)!;
  let firstTokenAt = Date.now();
  for (const [i, c] of content.entries()) {
    const wait = i === 0 ? (profile.firstTokenDelayMs ?? 0) : (profile.chunkGapMs ?? 0);
    if (wait > 0 && !(await pause(res, wait))) return false;
    if (i === 0) firstTokenAt = Date.now();
    res.write(sseData(c));
  }
  const usage = opts.usage && withCachedTokens(opts.usage, profile);
  const nvext = responseNvext(opts.asked, profile, { receivedAt: opts.receivedAt, firstTokenAt, endAt: Date.now() }, usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  res.write(sseData(nvext ? { ...finish, nvext } : finish));
  if (usage) res.write(sseData(usageChunk(opts.base, usage)));
  res.end(sseData("[DONE]"));
  return true;
}

/** Waits `ms`, resolving false early when the socket closes (no timer outlives the sim). */
function pause(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off("close", onClose);
      resolve(true);
    }, ms);
    res.once("close", onClose);
  });
}
