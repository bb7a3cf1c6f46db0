// Stream measurements of one model call (src/trace/chat-timing.ts) with a fake clock and fake events,
// and what `recordServing` writes on a real SDK span.
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";
import { ChatTiming, MAX_RECORDED_GAPS, SERVING, chunkGapsOf, recordServing } from "../../src/trace/chat-timing.ts";

/** A clock the test moves by hand (ms). */
function fakeClock(start = 1_000) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

function endedSpan(fn: (span: import("@opentelemetry/api").Span) => void) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const span = provider.getTracer("t").startSpan("chat m", { startTime: 1_700_000_000_000 });
  fn(span);
  span.end();
  return { span, exported: exporter.getFinishedSpans()[0]! };
}

describe("ChatTiming", () => {
  it("measures first chunk, first visible token, gaps and chunk count", () => {
    const { clock, advance } = fakeClock();
    const timing = new ChatTiming(clock, 1_700_000_000_000);
    advance(40);
    timing.observe("start"); // response headers: not a chunk
    advance(60);
    timing.observe("thinking_start");
    timing.observe("thinking_delta"); // first chunk at 100 ms
    advance(20);
    timing.observe("thinking_delta");
    advance(30);
    timing.observe("text_start");
    timing.observe("text_delta"); // first token at 150 ms
    advance(10);
    timing.observe("text_delta");
    advance(50);
    timing.observe("text_end");
    timing.observe("done");
    const s = timing.summary();
    expect(s.firstChunkMs).toBe(100);
    expect(s.firstTokenMs).toBe(150);
    expect(s.lastChunkMs).toBe(160);
    expect(s.chunks).toBe(4);
    expect([...s.gaps]).toEqual([20, 30, 10]);
    expect(s.gapMeanMs).toBe(20);
    expect(s.gapMaxMs).toBe(30);
    expect(s.startedAtEpochMs).toBe(1_700_000_000_000);
  });

  it("counts a tool-call delta as the first token; no chunks means no figures", () => {
    const { clock, advance } = fakeClock();
    const tool = new ChatTiming(clock);
    advance(25);
    tool.observe("toolcall_start");
    tool.observe("toolcall_delta");
    expect(tool.summary()).toMatchObject({ firstChunkMs: 25, firstTokenMs: 25, chunks: 1, gapMeanMs: undefined, gapMaxMs: undefined });
    const empty = new ChatTiming(clock);
    empty.observe("start");
    empty.observe("error");
    expect(empty.summary()).toMatchObject({ firstChunkMs: undefined, firstTokenMs: undefined, chunks: 0 });
  });

  it("keeps at most MAX_RECORDED_GAPS gaps but counts every gap in mean and max", () => {
    const { clock, advance } = fakeClock();
    const timing = new ChatTiming(clock);
    const n = MAX_RECORDED_GAPS + 100;
    for (let i = 0; i <= n; i++) {
      timing.observe("text_delta");
      advance(i === n - 1 ? 9 : 1);
    }
    const s = timing.summary();
    expect(s.chunks).toBe(n + 1);
    expect(s.gaps.length).toBe(MAX_RECORDED_GAPS);
    expect(s.gapMaxMs).toBe(9);
    expect(s.gapMeanMs).toBeCloseTo((n - 1 + 9) / n, 9);
  });
});

describe("recordServing", () => {
  it("writes seconds, the decode rate, the cache ratio and a first-token event at the right time", () => {
    const { clock, advance } = fakeClock();
    const timing = new ChatTiming(clock, 1_700_000_000_000);
    advance(250);
    timing.observe("text_delta");
    for (let i = 0; i < 4; i++) {
      advance(50);
      timing.observe("text_delta");
    }
    timing.nvext = {
      worker_id: { prefill_worker_id: 3, decode_worker_id: 5, prefill_dp_rank: 0, decode_dp_rank: 1 },
      timing: { ttft_ms: 240.5, total_time_ms: 455, kv_hit_rate: 0.5, note: "ignored" },
      other: { x: 1 },
    };
    const serving = timing.summary();
    const { span, exported } = endedSpan((s) => recordServing(s, serving, { input: 1000, output: 11, cacheRead: 250 }));
    const a = exported.attributes;
    expect(a[SERVING.REQUEST_STREAM]).toBe(true);
    expect(a[SERVING.TIME_TO_FIRST_CHUNK]).toBe(0.25);
    expect(a[SERVING.TIME_TO_FIRST_TOKEN]).toBe(0.25);
    expect(a[SERVING.CHUNKS]).toBe(5);
    expect(a[SERVING.CHUNK_GAP_MEAN]).toBe(0.05);
    expect(a[SERVING.CHUNK_GAP_MAX]).toBe(0.05);
    expect(a[SERVING.OUTPUT_TOKENS_PER_SECOND]).toBe(50); // (11 - 1) tokens / 0.2 s
    expect(a[SERVING.CACHE_HIT_RATIO]).toBe(0.25);
    expect(a["dynamo.worker.prefill_worker_id"]).toBe(3);
    expect(a["dynamo.worker.decode_dp_rank"]).toBe(1);
    expect(a["dynamo.timing.ttft_ms"]).toBe(240.5);
    expect(a["dynamo.timing.kv_hit_rate"]).toBe(0.5);
    expect(a["dynamo.timing.note"]).toBeUndefined();
    expect(Object.keys(a).some((k) => k.includes("other"))).toBe(false);
    const event = exported.events.find((e) => e.name === SERVING.FIRST_TOKEN_EVENT)!;
    expect(event).toBeDefined();
    const eventMs = event.time[0] * 1000 + event.time[1] / 1e6;
    expect(eventMs).toBeCloseTo(1_700_000_000_250, 3);
    expect([...chunkGapsOf(span)!]).toEqual([50, 50, 50, 50]);
  });

  it("without a stream summary writes only the cache ratio; without cache reads no ratio", () => {
    const { exported } = endedSpan((s) => recordServing(s, undefined, { input: 10, output: 2, cacheRead: 0 }));
    expect(Object.keys(exported.attributes)).toEqual([]);
    expect(exported.events).toEqual([]);
  });
});

describe("timeStream", () => {
  it("observes every event the consumer reads, forwards return(), and leaves a frozen stream alone", async () => {
    const { timeStream } = await import("../../src/provider/stream-timing.ts");
    const { clock, advance } = fakeClock();
    const timing = new ChatTiming(clock);
    let returned = false;
    const stream = {
      async *[Symbol.asyncIterator]() {
        try {
          for (const type of ["start", "text_delta", "text_delta", "text_delta", "done"]) {
            advance(10);
            yield { type };
          }
        } finally {
          returned = true;
        }
      },
      result: async () => "message",
    };
    const timed = timeStream(stream, timing);
    expect(timed).toBe(stream);
    const seen: string[] = [];
    for await (const event of timed) {
      seen.push(event.type);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(["start", "text_delta", "text_delta"]);
    expect(returned).toBe(true);
    expect(timing.summary()).toMatchObject({ chunks: 2, firstChunkMs: 20, gapMeanMs: 10 });
    expect(await timed.result()).toBe("message");
    const frozen = Object.freeze({ async *[Symbol.asyncIterator]() {} });
    expect(timeStream(frozen, new ChatTiming(clock))).toBe(frozen);
  });
});
