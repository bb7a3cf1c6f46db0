/**
 * Span processor that turns `execute_tool` spans into Dynamo tool records on the ZeroMQ relay
 * (SPEC §5): `tool_start` when the span starts, `tool_end`/`tool_error` when it ends. Tool spans
 * are the single source, so the relay and the OTLP exporter see the same tool calls.
 */
import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace";
import { GEN_AI, OPERATION } from "../trace/attributes.ts";
import { toolEndRecord, toolStartRecord, type RecordContext, type ToolSpanEnd } from "./records.ts";
import { ToolEventTransport } from "./transport.ts";
import type { DynamoToolRelayOptions, ToolEventRecord, ToolRelayStatus } from "./types.ts";

export class DynamoToolRelayProcessor implements SpanProcessor {
  private readonly options: DynamoToolRelayOptions;
  private readonly transport: ToolEventTransport;
  /** Reused for every record: the builders read it and keep nothing (one allocation less per event). */
  private readonly ctx: RecordContext;
  private skipped = 0;

  constructor(options: DynamoToolRelayOptions) {
    this.options = options;
    this.transport = new ToolEventTransport(options);
    this.ctx = { protocol: "nvext", sessionTypeId: options.sessionTypeId };
  }

  onStart(span: Span, _parentContext: Context): void {
    if (span.attributes[GEN_AI.OPERATION_NAME] === OPERATION.EXECUTE_TOOL) this.relay(toolStartRecord, span);
  }

  onEnd(span: ReadableSpan): void {
    if (span.attributes[GEN_AI.OPERATION_NAME] === OPERATION.EXECUTE_TOOL) this.relay(toolEndRecord, span);
  }

  /** Waits (at most `flushTimeoutMs`) until queued events are written to Dynamo's connection. */
  async forceFlush(): Promise<void> {
    await this.transport.flush(this.options.flushTimeoutMs);
  }

  /** Bounded flush, then closes the socket; later tool spans are counted as dropped. Idempotent. */
  async shutdown(): Promise<void> {
    await this.transport.flush(this.options.flushTimeoutMs);
    this.transport.close();
  }

  status(): ToolRelayStatus {
    const { transport } = this;
    return {
      endpoint: transport.endpoint,
      topic: transport.topic,
      connected: transport.connected,
      ...transport.counters(),
      skipped: this.skipped,
      peerFaults: transport.peerFaults,
      ...(transport.lastError === undefined ? {} : { lastError: transport.lastError }),
    };
  }

  private relay(build: (span: ToolSpanEnd, ctx: RecordContext) => ToolEventRecord | undefined, span: ToolSpanEnd): void {
    // Runs inside span.start()/end() of a tool hook: never let anything escape into the agent run.
    try {
      this.ctx.protocol = this.options.protocol();
      const record = build(span, this.ctx);
      if (record === undefined) this.skipped++;
      else this.transport.send(record);
    } catch {
      this.skipped++;
    }
  }
}
