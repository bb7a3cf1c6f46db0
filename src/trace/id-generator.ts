/**
 * Random W3C ids, with one twist: a span id can be reserved before its span exists. OpenClaw's
 * `resolve_exec_env` hook (which sets the environment of an `exec` command) fires before
 * `before_tool_call` creates the tool span, yet the command's `TRACEPARENT` must name that span
 * (openclaw-plugin-sdk.md §10). The reserved id is handed to exactly the next span created.
 */
import { randomBytes } from "node:crypto";
import type { IdGenerator } from "@opentelemetry/sdk-trace";

const POOL_SIZE = 4096;

export class ReservableIdGenerator implements IdGenerator {
  private pool = Buffer.alloc(0);
  private offset = 0;
  private nextSpanId: string | undefined;
  private nextTraceId: string | undefined;

  generateTraceId(): string {
    const reserved = this.nextTraceId;
    if (reserved) {
      this.nextTraceId = undefined;
      return reserved;
    }
    return this.hex(16);
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
    return this.hex(8);
  }

  /** A fresh span id to be used later with `useForNextSpan`. */
  reserveSpanId(): string {
    return this.hex(8);
  }

  /** The next `generateSpanId` call returns `spanId` (call right before a synchronous `startSpan`). */
  useForNextSpan(spanId: string): void {
    this.nextSpanId = spanId;
  }

  // One randomBytes call per 4 KiB of ids instead of one per id (span creation is on the hot path).
  private hex(bytes: number): string {
    for (;;) {
      if (this.offset + bytes > this.pool.length) {
        this.pool = randomBytes(POOL_SIZE);
        this.offset = 0;
      }
      const id = this.pool.toString("hex", this.offset, this.offset + bytes);
      this.offset += bytes;
      // All-zero ids are invalid in W3C trace context.
      if (!/^0+$/.test(id)) return id;
    }
  }
}
