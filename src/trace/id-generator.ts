/**
 * Random W3C ids, with one twist: a span id can be reserved before its span exists. OpenClaw's
 * `resolve_exec_env` hook (which sets the environment of an `exec` command) fires before
 * `before_tool_call` creates the tool span, yet the command's `TRACEPARENT` must name that span
 * (openclaw-plugin-sdk.md §10). The reserved id is handed to exactly the next span created.
 */
import { randomBytes } from "node:crypto";
import type { IdGenerator } from "@opentelemetry/sdk-trace";

const POOL_BYTES = 4096;
const ZERO_SPAN_ID = "0".repeat(16);
const ZERO_TRACE_ID = "0".repeat(32);

export class ReservableIdGenerator implements IdGenerator {
  /** Random bytes as hex, consumed from `offset` (in hex characters). */
  private pool = "";
  private offset = 0;
  private nextSpanId: string | undefined;
  private nextTraceId: string | undefined;

  generateTraceId(): string {
    const reserved = this.nextTraceId;
    if (reserved) {
      this.nextTraceId = undefined;
      return reserved;
    }
    return this.hex(32, ZERO_TRACE_ID);
  }

  /** The next `generateTraceId` call returns `traceId` (call right before a synchronous root `startSpan`). */
  useForNextTrace(traceId: string): void {
    this.nextTraceId = traceId;
  }

  generateSpanId(): string {
    const reserved = this.nextSpanId;
    if (reserved) {
      this.nextSpanId = undefined;
      return reserved;
    }
    return this.hex(16, ZERO_SPAN_ID);
  }

  /** A fresh span id to be used later with `useForNextSpan`. */
  reserveSpanId(): string {
    return this.hex(16, ZERO_SPAN_ID);
  }

  /** The next `generateSpanId` call returns `spanId` (call right before a synchronous `startSpan`). */
  useForNextSpan(spanId: string): void {
    this.nextSpanId = spanId;
  }

  // One randomBytes call and one hex conversion per 4 KiB of ids instead of one per id (span
  // creation is on the hot path of every tool call); an id is a slice of the hex pool.
  private hex(chars: number, zero: string): string {
    for (;;) {
      if (this.offset + chars > this.pool.length) {
        this.pool = randomBytes(POOL_BYTES).toString("hex");
        this.offset = 0;
      }
      const id = this.pool.slice(this.offset, this.offset + chars);
      this.offset += chars;
      // All-zero ids are invalid in W3C trace context.
      if (id !== zero) return id;
    }
  }
}
