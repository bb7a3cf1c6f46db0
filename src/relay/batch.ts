/**
 * Builds the relay's ZMTP traffic: each record becomes one 3-frame message `[topic, 8-byte big-endian
 * sequence, MessagePack map]` (dynamo-wire §8), encoded straight into a reusable 64 KiB chunk, so
 * that hundreds of messages leave in one `socket.write` instead of one native call per message.
 */
import { Buffer } from "node:buffer";
import { writeUint64BE } from "./bytes.ts";
import { encodeInto, encodeRecord } from "./msgpack.ts";
import { FLAG_MORE, writeFrameHeader } from "./zmtp.ts";

/** Bytes per chunk: one write per chunk. */
export const CHUNK_BYTES = 64 * 1024;
/**
 * Written chunks are kept for reuse: allocating (and later collecting) 64 KiB ArrayBuffers for every
 * burst costs the event loop full garbage collections. The spares never outnumber the chunks the
 * bounded queue once held; `trim` returns all but a few once the relay is idle.
 */
const IDLE_SPARE_CHUNKS = 4;
/** Room for the payload frame's header: the 8-byte size form, moved back when the body is short. */
const LONG_HEADER = 9;

/** Messages ready for one write; hand it back to `recycle` once the write has completed. */
export interface Batch {
  readonly bytes: Buffer;
  readonly count: number;
  readonly chunk: Buffer;
}

export class MessageBatcher {
  /** Frame 0 (topic, MORE) and the header of frame 1 (MORE, 8 bytes): the same on every message. */
  private readonly prefix: Uint8Array;
  private readonly spare: Buffer[] = [];
  private chunk: Buffer | undefined;
  private size = 0;
  private count = 0;

  constructor(topic: string) {
    const topicBytes = Buffer.from(topic, "utf8");
    const prefix = Buffer.allocUnsafe(LONG_HEADER + topicBytes.length + 2);
    let at = writeFrameHeader(prefix, 0, FLAG_MORE, topicBytes.length);
    at += topicBytes.copy(prefix, at);
    at = writeFrameHeader(prefix, at, FLAG_MORE, 8);
    this.prefix = new Uint8Array(prefix.subarray(0, at));
  }

  /**
   * Appends the message for `record` with `sequence` in frame 1. `false` (nothing appended) when the
   * current chunk is full; a message larger than a chunk gets a buffer of its own. Throws when the
   * record cannot be encoded (then nothing is appended either).
   */
  append(record: unknown, sequence: number): boolean {
    const chunk = (this.chunk ??= this.spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES));
    const end = this.encode(chunk, this.size, record, sequence);
    if (end >= 0) {
      this.size = end;
      this.count++;
      return true;
    }
    if (this.count > 0) return false;
    this.appendOversized(record, sequence);
    return true;
  }

  /** The messages appended since the last call, as one buffer for one write; `undefined` when none. */
  take(): Batch | undefined {
    const chunk = this.chunk;
    if (chunk === undefined || this.count === 0) return undefined;
    const batch = { bytes: chunk.subarray(0, this.size), count: this.count, chunk };
    this.chunk = undefined;
    this.size = 0;
    this.count = 0;
    return batch;
  }

  /** Returns a written batch's memory for reuse. */
  recycle(batch: Batch): void {
    if (batch.chunk.length === CHUNK_BYTES) this.spare.push(batch.chunk);
  }

  /** Lets the garbage collector have the spare chunks beyond a few (after a burst), or all of them. */
  trim(keep = IDLE_SPARE_CHUNKS): void {
    if (this.spare.length > keep) this.spare.length = keep;
  }

  /** Writes one message at `pos`; its end, or -1 when it does not fit. */
  private encode(buf: Buffer, pos: number, record: unknown, sequence: number): number {
    const header = pos + this.prefix.length + 8;
    const body = header + LONG_HEADER;
    if (body >= buf.length) return -1;
    this.writeHead(buf, pos, sequence);
    const end = encodeInto(record, buf, body);
    if (end < 0) return -1;
    const size = end - body;
    if (size >= 0x100) {
      writeFrameHeader(buf, header, 0, size);
      return end;
    }
    // Short body: the 1-byte size form, so the frame is exactly what libzmq would send.
    buf.copyWithin(header + 2, body, end);
    writeFrameHeader(buf, header, 0, size);
    return end - (LONG_HEADER - 2);
  }

  /** A message that does not fit in an empty chunk: encoded on its own and given an exact buffer. */
  private appendOversized(record: unknown, sequence: number): void {
    const payload = encodeRecord(record);
    const buf = Buffer.allocUnsafe(this.prefix.length + 8 + LONG_HEADER + payload.length);
    const body = writeFrameHeader(buf, this.writeHead(buf, 0, sequence), 0, payload.length);
    buf.set(payload, body);
    // The empty chunk `append` took goes back to the spares.
    if (this.chunk !== undefined) this.spare.push(this.chunk);
    this.chunk = buf;
    this.size = body + payload.length;
    this.count = 1;
  }

  /** Frames 0 and 1 (topic, 8-byte big-endian sequence) at `pos`; returns where frame 2's header goes. */
  private writeHead(buf: Buffer, pos: number, sequence: number): number {
    buf.set(this.prefix, pos);
    const seq = pos + this.prefix.length;
    writeUint64BE(buf, seq, sequence);
    return seq + 8;
  }
}
