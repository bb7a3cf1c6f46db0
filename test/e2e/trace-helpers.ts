/** Assertion helpers over what crossed the wire: decoded OTLP spans, sim requests, relay records. */
import type { OtlpSpan, RecordedRequest, RelayMessage, Simulator } from "../sim/index.ts";

export const SPAN_KIND_INTERNAL = 1;
export const SPAN_KIND_CLIENT = 3;

export interface ParsedTraceparent {
  traceId: string;
  spanId: string;
  flags: string;
}

export function parseTraceparent(value: string | undefined): ParsedTraceparent | undefined {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value ?? "");
  return match ? { traceId: match[1]!, spanId: match[2]!, flags: match[3]! } : undefined;
}

export function spansNamed(spans: OtlpSpan[], name: string): OtlpSpan[] {
  return spans.filter((span) => span.name === name);
}

export function byId(spans: OtlpSpan[], spanId: string | undefined): OtlpSpan | undefined {
  return spans.find((span) => span.spanId === spanId);
}

export function childrenOf(spans: OtlpSpan[], parent: OtlpSpan): OtlpSpan[] {
  return spans.filter((span) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId);
}

export function traceIds(spans: OtlpSpan[]): string[] {
  return [...new Set(spans.map((span) => span.traceId))];
}

/** The agent span a chat or tool span belongs to. */
export function agentOf(spans: OtlpSpan[], span: OtlpSpan): OtlpSpan | undefined {
  let current: OtlpSpan | undefined = span;
  while (current) {
    if (current !== span && current.attributes["gen_ai.operation.name"] === "invoke_agent") return current;
    current = byId(spans, current.parentSpanId);
  }
  return undefined;
}

export function trajectoryOf(agent: OtlpSpan): string {
  return `${agent.traceId}-${agent.spanId}`;
}

/** Chat requests that were answered (not the rejected first attempt of a fallback). */
export function answeredChats(sim: Simulator): RecordedRequest[] {
  return sim.chatRequests().filter((request) => request.status === 200 && !isTerminal(request));
}

/** The plugin's minimal close / session-final requests. */
export function isTerminal(request: RecordedRequest): boolean {
  const body = request.body as { max_tokens?: unknown; stream?: unknown } | undefined;
  return body?.max_tokens === 1 && body.stream === false;
}

/** `nvext` of a request that carries no identity in the body: only the serving fields (SPEC §3.2). */
export const SERVING_NVEXT = { extra_fields: ["worker_id", "timing"] };

export function nvext(request: RecordedRequest): Record<string, unknown> | undefined {
  return (request.body as { nvext?: Record<string, unknown> } | undefined)?.nvext;
}

export function toolRecords(messages: RelayMessage[], toolCallId: string): Array<Record<string, unknown>> {
  return messages
    .map((message) => message.record as Record<string, unknown>)
    .filter((record) => (record.tool as { tool_call_id?: unknown } | undefined)?.tool_call_id === toolCallId);
}

export async function settle(sim: Simulator, ms = 1500): Promise<void> {
  // Exports and relay sends are asynchronous; give them a moment after the CLI exits.
  await new Promise((resolve) => setTimeout(resolve, ms));
  void sim;
}
