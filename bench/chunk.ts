/**
 * Figure 6 — per-chunk cost of the serving measurements (src/provider/stream-timing.ts +
 * src/trace/chat-timing.ts): the same model-call event stream read by a consumer directly and
 * through the plugin's timed iterator, rounds alternating. The stream is shaped like OpenClaw's
 * (an object whose async iterator yields `{type, delta, partial}` events from a queue); each
 * "call" streams CHUNKS text deltas between a `start` and a `done`, and the timed arm also builds
 * the call's `ChatTiming` and summary, so the figure is all the plugin adds per chunk.
 *
 * Run by bench/run.ts; standalone: `node bench/chunk.ts [--quick]` (after `npm run build`).
 */
import { performance } from "node:perf_hooks";
import { timeStream } from "../dist/provider/stream-timing.js";
import { ChatTiming } from "../dist/trace/chat-timing.js";
import { alternating, emitResult, fmt, spread } from "./lib/stats.ts";

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 3 : 7;
const CALLS = quick ? 200 : 500;
const CHUNKS = 256;

interface Event {
  type: string;
  delta?: string;
  partial: object;
}

/** An OpenClaw-like event stream: events pushed into a queue, read through an async generator. */
class EventStream {
  private readonly events: Event[];
  constructor(events: Event[]) {
    this.events = events;
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Event> {
    for (const event of this.events) yield event;
  }
  result(): Promise<unknown> {
    return Promise.resolve(this.events.at(-1));
  }
}

const partial = {};
const EVENTS: Event[] = [
  { type: "start", partial },
  ...Array.from({ length: CHUNKS }, (_, i) => ({ type: "text_delta", delta: `tok${i}`, partial })),
  { type: "done", partial },
];

async function consume(stream: AsyncIterable<Event>): Promise<number> {
  let n = 0;
  for await (const event of stream) if (event.type === "text_delta") n++;
  return n;
}

async function round_(timed: boolean): Promise<number> {
  const t0 = performance.now();
  let chunks = 0;
  for (let c = 0; c < CALLS; c++) {
    if (timed) {
      const timing = new ChatTiming();
      chunks += await consume(timeStream(new EventStream(EVENTS), timing));
      timing.summary();
    } else chunks += await consume(new EventStream(EVENTS));
  }
  return ((performance.now() - t0) * 1000) / chunks;
}

async function main(): Promise<void> {
  for (let i = 0; i < 3; i++) await Promise.all([round_(false), round_(true)]); // warm-up (JIT)
  const { baseline, plugin } = await alternating(ROUNDS, () => round_(false), () => round_(true));
  const added = spread(plugin.map((p, i) => p - (baseline[i] ?? NaN)));
  const result = {
    config: { rounds: ROUNDS, calls: CALLS, chunksPerCall: CHUNKS },
    baselineUsPerChunk: spread(baseline),
    timedUsPerChunk: spread(plugin),
    addedUsPerChunk: added,
  };
  if (process.stdout.isTTY || process.argv.includes("--print")) {
    console.log(`per chunk: plain ${fmt(result.baselineUsPerChunk, 3)} µs, timed ${fmt(result.timedUsPerChunk, 3)} µs, added ${fmt(added, 3)} µs`);
  }
  emitResult(result);
}

await main();
process.exit(0);
