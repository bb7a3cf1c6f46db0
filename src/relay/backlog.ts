/**
 * The relay's events waiting for Dynamo (./transport.ts), oldest first: the newest as record
 * objects, and, once more than ENCODE_AHEAD wait (a burst, or Dynamo unreachable), the older ones
 * already encoded into 64 KiB batches of framed messages (./batch.ts), so a long backlog is held
 * as compact bytes rather than as objects the garbage collector keeps tracing. Each message gets
 * the next sequence number (frame 1) as it is encoded. Unbounded itself: the transport checks
 * `size` against its capacity before `push`.
 */
import { type Batch, MessageBatcher } from "./batch.ts";
import { BoundedQueue } from "./queue.ts";
import type { ToolEventRecord } from "./types.ts";

/** Records kept as objects before `push` starts encoding the backlog (a pump turn clears far fewer). */
const ENCODE_AHEAD = 256;

export class Backlog {
  /** Records not encoded yet, oldest first; all newer than the encoded batches. */
  private readonly queue: BoundedQueue<ToolEventRecord>;
  /** Encoded backlog: full batches, oldest first, then the batcher's partial one. */
  private readonly batches: Batch[] = [];
  private readonly batcher: MessageBatcher;
  /** Events in the encoded backlog. */
  private encoded = 0;
  /** Messages encoded so far: the next message's sequence number. */
  private sequence = 0;
  /** A record that cannot be encoded: it leaves the backlog, and the caller counts it. */
  private readonly failed: (error: unknown) => void;

  constructor(topic: string, capacity: number, failed: (error: unknown) => void) {
    this.queue = new BoundedQueue(capacity);
    this.batcher = new MessageBatcher(topic);
    this.failed = failed;
  }

  /** Events waiting, encoded or not. */
  get size(): number {
    return this.queue.size + this.encoded;
  }

  push(record: ToolEventRecord): void {
    this.queue.push(record);
    if (this.queue.size > ENCODE_AHEAD) this.encodeOldest();
  }

  /** The oldest encoded batch, else waiting records (oldest first) encoded into one; `undefined` when nothing waits. */
  next(): Batch | undefined {
    const full = this.batches.shift();
    if (full !== undefined) {
      this.encoded -= full.count;
      return full;
    }
    const queue = this.queue;
    while (queue.size > 0 && this.encode(queue.peek()!)) queue.shift();
    const batch = this.batcher.take();
    if (batch !== undefined) this.encoded -= batch.count;
    return batch;
  }

  /** Forgets everything waiting. */
  clear(): void {
    this.queue.clear();
    this.batches.length = 0;
    this.batcher.take();
    this.encoded = 0;
  }

  /** Returns a written batch's memory for reuse. */
  recycle(batch: Batch): void {
    this.batcher.recycle(batch);
  }

  /** Lets the garbage collector have the spare batch memory beyond `keep` chunks (default: a few). */
  trim(keep?: number): void {
    this.batcher.trim(keep);
  }

  /** Moves the oldest queued record into the encoded backlog. */
  private encodeOldest(): void {
    const record = this.queue.shift()!;
    if (this.encode(record)) return;
    this.batches.push(this.batcher.take()!);
    this.encode(record); // an empty batch always takes a message
  }

  /**
   * Encodes `record` as the next message of the batch being filled; `false` (nothing done) when
   * that batch is full. A record that cannot be encoded goes to `failed` (and `true`: it is done with).
   */
  private encode(record: ToolEventRecord): boolean {
    try {
      // The sequence counts the messages encoded so far: monotonic, one number per message.
      if (!this.batcher.append(record, this.sequence)) return false;
    } catch (error) {
      this.failed(error);
      return true;
    }
    this.sequence++;
    this.encoded++;
    return true;
  }
}
