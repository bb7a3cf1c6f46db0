/**
 * The ZeroMQ side of the relay (dynamo-wire §8): a PUSH socket connected to Dynamo's bound PULL,
 * fed from a bounded in-process queue by one serialized pump. Best effort and never in the way:
 * `send` is synchronous O(1), nothing here throws, and nothing keeps the Node event loop alive
 * except an explicit, bounded `flush`.
 */
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import type * as Zmq from "zeromq";
import { encodeRecord } from "./msgpack.ts";
import { BoundedQueue } from "./queue.ts";
import type { RelayCounters, RelayLogger, ToolEventRecord, ToolEventTransportOptions } from "./types.ts";

// The native addon is loaded on the first event, so a host where it cannot load loses only the relay.
const require = createRequire(import.meta.url);

/** Backoff while Dynamo is unreachable (no completed connection) or its pipe is full. */
const RETRY_MIN_MS = 10;
const RETRY_MAX_MS = 250;
/** Sends per macrotask: with `sendTimeout: 0` every send settles at once, so yield now and then. */
const SENDS_PER_TURN = 512;

export class ToolEventTransport {
  readonly endpoint: string;
  readonly topic: string;
  private readonly log: RelayLogger;
  private readonly capacity: number;
  private readonly queue: BoundedQueue<ToolEventRecord>;
  private readonly topicFrame: Buffer;
  private readonly counts = { enqueued: 0, sent: 0, dropped: 0, errors: 0, undelivered: 0 };
  private readonly drainWaiters = new Set<(drained: boolean) => void>();
  private state: "idle" | "open" | "disabled" | "closed" = "idle";
  private socket: Zmq.Push | undefined;
  private pumping = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  private overflowLogged = false;
  private peer = false;
  private error: string | undefined;

  constructor(options: ToolEventTransportOptions) {
    this.endpoint = options.endpoint;
    this.topic = options.topic;
    this.log = options.log;
    this.capacity = Math.max(1, Math.trunc(options.capacity) || 1);
    this.queue = new BoundedQueue(this.capacity);
    this.topicFrame = Buffer.from(options.topic, "utf8");
  }

  /** True when the most recent send reached a connected peer. */
  get connected(): boolean {
    return this.peer;
  }

  /** Last connect/encode/send failure. */
  get lastError(): string | undefined {
    return this.error;
  }

  counters(): RelayCounters {
    return { ...this.counts, pending: this.queue.size };
  }

  /** Queues one record for Dynamo (the pump connects on first use); `false` when it was dropped. */
  send(record: ToolEventRecord): boolean {
    if (this.state === "disabled" || this.state === "closed") {
      this.counts.dropped++;
      return false;
    }
    if (!this.queue.push(record)) {
      this.counts.dropped++;
      if (!this.overflowLogged) {
        this.overflowLogged = true;
        this.log.warn(
          `Dynamo tool-event relay queue is full (${this.capacity} events; Dynamo at ${this.endpoint} not keeping up or unreachable): dropping tool events, counted in status`,
        );
      }
      return false;
    }
    this.counts.enqueued++;
    this.schedule();
    return true;
  }

  /**
   * Resolves `true` once everything queued has been handed to ZeroMQ, `false` when `timeoutMs`
   * passes first or the relay closes. Retries right away if the pump was backing off.
   */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.queue.size === 0) return Promise.resolve(true);
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.schedule();
    }
    return new Promise((resolve) => {
      // Kept referenced on purpose: a caller awaiting a flush gets the whole (bounded) wait.
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
      const done = (drained: boolean): void => {
        clearTimeout(timer);
        this.drainWaiters.delete(done);
        resolve(drained);
      };
      this.drainWaiters.add(done);
    });
  }

  /** Closes the socket without lingering; whatever is still queued is counted as `undelivered`. Idempotent. */
  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.counts.undelivered += this.queue.size;
    this.queue.clear();
    const socket = this.socket;
    this.socket = undefined;
    this.peer = false;
    try {
      socket?.close();
    } catch (error) {
      this.note(error);
    }
    this.settle(false);
    const { enqueued, sent, dropped, errors, undelivered } = this.counts;
    if (enqueued + dropped === 0) return;
    const line = `Dynamo tool-event relay closed: ${sent} sent, ${dropped} dropped, ${errors} errors, ${undelivered} undelivered`;
    if (dropped + errors + undelivered === 0) this.log.info(line);
    else this.log.warn(`${line} (${this.endpoint})`);
  }

  /** Runs in the pump, so loading the addon and connecting never delay a tool hook. */
  private open(): void {
    let socket: Zmq.Push | undefined;
    try {
      const { Push } = require("zeromq") as typeof Zmq;
      // ZMQ_IMMEDIATE: without a completed connection a send fails with EAGAIN instead of filling a
      // pipe to nowhere, so undeliverable events stay in our bounded, counted queue.
      // sendTimeout 0: a send never waits inside zeromq, whose pending send would hold the event loop.
      socket = new Push({ linger: 0, sendHighWaterMark: this.capacity, immediate: true, sendTimeout: 0 });
      socket.connect(this.endpoint);
      this.socket = socket;
      this.state = "open";
    } catch (error) {
      socket?.close();
      this.state = "disabled";
      this.counts.errors += this.queue.size;
      this.queue.clear();
      this.error = messageOf(error);
      this.log.warn(
        `Dynamo tool-event relay disabled: cannot connect to ${JSON.stringify(this.endpoint)} (${this.error}; endpoints look like tcp://host:port or ipc:///path). Tool events are dropped and counted.`,
      );
    }
  }

  private schedule(): void {
    if (this.pumping || this.retryTimer !== undefined) return;
    this.pumping = true;
    setImmediate(() => void this.pump());
  }

  /** The only sender: one send at a time (zeromq allows one pending send per socket). */
  private async pump(): Promise<void> {
    let turn = 0;
    try {
      if (this.state === "idle") this.open();
      while (this.socket !== undefined && this.queue.size > 0) {
        const socket = this.socket;
        let frames: [Buffer, Buffer, Uint8Array];
        try {
          // The sequence is the count of sent messages: monotonic, and a retry keeps its number.
          frames = [this.topicFrame, sequenceFrame(this.counts.sent), encodeRecord(this.queue.peek())];
        } catch (error) {
          this.queue.shift();
          this.fail(error);
          continue;
        }
        try {
          await socket.send(frames);
        } catch (error) {
          if (this.socket !== socket) return; // closed meanwhile: counted by close()
          if ((error as { code?: unknown }).code === "EAGAIN") {
            this.peer = false;
            this.retryLater();
            return;
          }
          this.queue.shift();
          this.fail(error);
          continue;
        }
        if (this.socket !== socket) return;
        this.queue.shift();
        this.counts.sent++;
        this.peer = true;
        this.retryMs = RETRY_MIN_MS;
        if (++turn === SENDS_PER_TURN) {
          turn = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      this.pumping = false;
      if (this.queue.size === 0) this.settle(true);
    }
  }

  private retryLater(): void {
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private settle(drained: boolean): void {
    for (const done of this.drainWaiters) done(drained);
  }

  private fail(error: unknown): void {
    this.counts.errors++;
    this.note(error);
  }

  /** Records a failure; logs it once per distinct message. */
  private note(error: unknown): void {
    const message = messageOf(error);
    if (message === this.error) return;
    this.error = message;
    this.log.warn(`Dynamo tool-event relay to ${this.endpoint}: ${message}`);
  }
}

/** 8-byte big-endian sequence (the same bytes as `writeBigUInt64BE`, without a BigInt per message). */
function sequenceFrame(sequence: number): Buffer {
  const frame = Buffer.allocUnsafe(8);
  frame.writeUInt32BE(Math.floor(sequence / 4294967296), 0);
  frame.writeUInt32BE(sequence >>> 0, 4);
  return frame;
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}
