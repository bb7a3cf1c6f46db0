/**
 * What the demo shows, joined the way a user would join Dynamo's data to the trace
 * (README "Mapping Dynamo records to spans"):
 * - a relay record belongs to the `execute_tool` span with the same `gen_ai.tool.call.id` and
 *   `dynamo.trajectory_id` (the record's `session_id` on Dynamo 1.3+, `agent_context.trajectory_id` on 1.2);
 * - a Dynamo request belongs to the `chat` span whose `dynamo.x_request_id` it carried, or else to the
 *   span its `traceparent` names (session close / session-final requests name their agent span).
 */
import { parseTraceparent } from "../test/e2e/trace-helpers.ts";
import type { OtlpSpan, RecordedRequest, RelayMessage, Simulator } from "../test/sim/index.ts";

export type SpanClass = "AGENT" | "LLM" | "TOOL" | "OTHER";

export interface SpanNode {
  span: OtlpSpan;
  cls: SpanClass;
  startMs: number;
  endMs: number;
  children: SpanNode[];
  /** Relay records (tool_start / tool_end / tool_error) that name this tool span. */
  relay: RelayMessage[];
  /** Requests the (simulated) Dynamo received on behalf of this span. */
  requests: RecordedRequest[];
  /** Status message or `error.type` when the span failed. */
  error?: string;
}

export interface TraceView {
  traceId: string;
  roots: SpanNode[];
  startMs: number;
  endMs: number;
  spanCount: number;
}

export interface TraceModel {
  traces: TraceView[];
  spans: OtlpSpan[];
  relay: RelayMessage[];
  unmatchedRelay: RelayMessage[];
  /** Every request the simulator answered (empty with a real Dynamo). */
  requests: RecordedRequest[];
  unmatchedRequests: RecordedRequest[];
  simulated: boolean;
}

const nanosToMs = (nanos: string): number => Number(BigInt(nanos) / 1000n) / 1000;

export function classOf(span: OtlpSpan): SpanClass {
  const kind = span.attributes["openinference.span.kind"];
  return kind === "AGENT" || kind === "LLM" || kind === "TOOL" ? kind : "OTHER";
}

/** The trajectory (chain) a relay record names, in either Dynamo generation's schema. */
export function recordTrajectory(record: Record<string, unknown>): string | undefined {
  if (typeof record.session_id === "string" && record.schema === "dynamo.request.trace.v1") return record.session_id;
  const context = record.agent_context as { trajectory_id?: unknown } | undefined;
  return typeof context?.trajectory_id === "string" ? context.trajectory_id : undefined;
}

export function recordTool(record: Record<string, unknown>): Record<string, unknown> {
  return (record.tool as Record<string, unknown> | undefined) ?? {};
}

export interface TraceModelInput {
  spans: readonly OtlpSpan[];
  /** The simulator, when it played Dynamo's frontend. */
  sim?: Simulator | undefined;
  relay: readonly RelayMessage[];
}

export function buildTraceModel(input: TraceModelInput): TraceModel {
  // A span exported twice (never expected, but harmless) is shown once.
  const byId = new Map<string, OtlpSpan>();
  for (const span of input.spans) byId.set(`${span.traceId}/${span.spanId}`, span);
  const spans = [...byId.values()];
  const nodes = new Map<string, SpanNode>();
  for (const span of spans) {
    const failed = span.status.code === 2;
    const errorType = span.attributes["error.type"];
    nodes.set(`${span.traceId}/${span.spanId}`, {
      span,
      cls: classOf(span),
      startMs: nanosToMs(span.startTimeUnixNano),
      endMs: nanosToMs(span.endTimeUnixNano),
      children: [],
      relay: [],
      requests: [],
      ...(failed ? { error: span.status.message || (typeof errorType === "string" ? errorType : "error") } : {}),
    });
  }

  const unmatchedRelay: RelayMessage[] = [];
  const tools = [...nodes.values()].filter((n) => n.cls === "TOOL");
  for (const message of input.relay) {
    const callId = recordTool(message.record).tool_call_id;
    const trajectory = recordTrajectory(message.record);
    const node = tools.find(
      (n) => n.span.attributes["gen_ai.tool.call.id"] === callId && n.span.attributes["dynamo.trajectory_id"] === trajectory,
    );
    if (node) node.relay.push(message);
    else unmatchedRelay.push(message);
  }

  const requests = input.sim ? input.sim.requests.filter((r) => r.kind === "chat") : [];
  const unmatchedRequests: RecordedRequest[] = [];
  const byRequestId = new Map<string, SpanNode>();
  for (const node of nodes.values()) {
    const id = node.span.attributes["dynamo.x_request_id"];
    if (typeof id === "string") byRequestId.set(id, node);
  }
  for (const request of requests) {
    const spanId = parseTraceparent(request.traceparent)?.spanId;
    const node =
      (request.xRequestId ? byRequestId.get(request.xRequestId) : undefined) ??
      [...nodes.values()].find((n) => n.span.spanId === spanId);
    if (node) node.requests.push(request);
    else unmatchedRequests.push(request);
  }

  const traces = new Map<string, TraceView>();
  const ordered = [...nodes.values()].sort((a, b) => a.startMs - b.startMs);
  for (const node of ordered) {
    const parent = node.span.parentSpanId ? nodes.get(`${node.span.traceId}/${node.span.parentSpanId}`) : undefined;
    let trace = traces.get(node.span.traceId);
    if (!trace) {
      trace = { traceId: node.span.traceId, roots: [], startMs: node.startMs, endMs: node.endMs, spanCount: 0 };
      traces.set(node.span.traceId, trace);
    }
    trace.spanCount++;
    trace.startMs = Math.min(trace.startMs, node.startMs);
    trace.endMs = Math.max(trace.endMs, node.endMs);
    // A span whose parent was not exported (e.g. an inbound TRACEPARENT's) is drawn as a root.
    if (parent) parent.children.push(node);
    else trace.roots.push(node);
  }
  return {
    traces: [...traces.values()].sort((a, b) => a.startMs - b.startMs),
    spans,
    relay: [...input.relay],
    unmatchedRelay,
    requests,
    unmatchedRequests,
    simulated: input.sim !== undefined,
  };
}

export function walk(nodes: readonly SpanNode[], visit: (node: SpanNode, depth: number) => void, depth = 0): void {
  for (const node of nodes) {
    visit(node, depth);
    walk(node.children, visit, depth + 1);
  }
}

export const runKind = (node: SpanNode): string | undefined => {
  const kind = node.span.attributes["openclaw.run.kind"];
  return typeof kind === "string" ? kind : undefined;
};

/** What is missing from a complete run of the simulated scenario (empty = everything is there). */
export function scenarioProblems(model: TraceModel): string[] {
  const problems: string[] = [];
  if (model.traces.length !== 1) problems.push(`expected one trace, got ${model.traces.length}`);
  const all: SpanNode[] = [];
  for (const trace of model.traces) walk(trace.roots, (node) => all.push(node));
  const agents = all.filter((n) => n.cls === "AGENT");
  for (const kind of ["lead", "subagent", "announce"]) {
    if (!agents.some((n) => runKind(n) === kind)) problems.push(`no ${kind} agent span`);
  }
  const spawn = all.find((n) => n.span.name === "execute_tool sessions_spawn");
  const child = agents.find((n) => runKind(n) === "subagent");
  if (spawn && child && !spawn.children.includes(child)) problems.push("the subagent's span is not under the sessions_spawn tool span");
  const tools = all.filter((n) => n.cls === "TOOL");
  if (!tools.some((n) => n.error !== undefined)) problems.push("no failed tool span");
  if (!tools.some((n) => n.span.name === "execute_tool exec")) problems.push("the subagent ran no exec tool");
  for (const tool of tools) {
    const types = tool.relay.map((m) => m.record.event_type);
    if (!types.includes("tool_start") || !(types.includes("tool_end") || types.includes("tool_error"))) {
      problems.push(`${tool.span.name} (${String(tool.span.attributes["gen_ai.tool.call.id"])}) has no matching relay start/end records`);
    }
  }
  for (const chat of all.filter((n) => n.cls === "LLM")) {
    if (typeof chat.span.attributes["dynamo.x_request_id"] !== "string") problems.push(`${chat.span.name} has no dynamo.x_request_id`);
    // A model call that failed inside OpenClaw before sending (seen rarely under load while a subagent runs)
    // has no Dynamo request; the waterfall shows its error.
    else if (chat.requests.length === 0 && chat.error === undefined) problems.push(`${chat.span.name}: Dynamo saw no request with its x-request-id`);
  }
  if (model.unmatchedRelay.length > 0) problems.push(`${model.unmatchedRelay.length} relay records match no tool span`);
  return problems;
}
