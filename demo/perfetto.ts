/**
 * The trace in Chrome's trace-event JSON format, which ui.perfetto.dev (and chrome://tracing) open
 * directly. Layout:
 * - process "OpenClaw": one track per agent run (lead, subagent, announce) holding that run's
 *   agent, chat and tool spans as nested slices; relay records as instant events on the tool's track;
 *   flow arrows from `sessions_spawn` to the subagent run and from each model call to Dynamo;
 * - process "Dynamo" (simulator only): one track per Dynamo session/trajectory with the requests it
 *   received, like Dynamo's own Perfetto converter draws session lanes.
 * Timestamps are Unix epoch microseconds, so they line up with Dynamo's `*_unix_ms` records.
 */
import type { RecordedRequest } from "../test/sim/index.ts";
import { recordTool, recordTrajectory, runKind, walk, type SpanNode, type TraceModel } from "./trace-model.ts";

type TraceEvent = Record<string, unknown>;

const OPENCLAW_PID = 1;
const DYNAMO_PID = 2;

export function toPerfetto(model: TraceModel): { traceEvents: TraceEvent[]; displayTimeUnit: "ms"; metadata: Record<string, unknown> } {
  const events: TraceEvent[] = [];
  const meta = (pid: number, tid: number | undefined, name: string, args: Record<string, unknown>) =>
    events.push({ ph: "M", pid, ...(tid === undefined ? {} : { tid }), name, args });
  meta(OPENCLAW_PID, undefined, "process_name", { name: "OpenClaw (openclaw-dynamo spans)" });
  meta(OPENCLAW_PID, undefined, "process_sort_index", { sort_index: 1 });

  // One track per agent run, in start order.
  const tidOf = new Map<SpanNode, number>();
  let nextTid = 1;
  const assign = (node: SpanNode, tid: number): void => {
    tidOf.set(node, tid);
    for (const child of node.children) {
      if (child.cls === "AGENT") {
        const childTid = nextTid++;
        meta(OPENCLAW_PID, childTid, "thread_name", { name: `${runKind(child) ?? "agent"} · ${child.span.name}` });
        meta(OPENCLAW_PID, childTid, "thread_sort_index", { sort_index: childTid });
        assign(child, childTid);
      } else {
        assign(child, tid);
      }
    }
  };
  for (const trace of model.traces) {
    for (const root of trace.roots) {
      const tid = nextTid++;
      meta(OPENCLAW_PID, tid, "thread_name", { name: `${runKind(root) ?? "agent"} · ${root.span.name}` });
      meta(OPENCLAW_PID, tid, "thread_sort_index", { sort_index: tid });
      assign(root, tid);
    }
  }

  const us = (ms: number) => Math.round(ms * 1000);
  let flowId = 1;
  const flow = (name: string, from: { pid: number; tid: number; ms: number }, to: { pid: number; tid: number; ms: number }) => {
    const id = flowId++;
    events.push({ ph: "s", id, name, cat: "flow", pid: from.pid, tid: from.tid, ts: us(from.ms) });
    events.push({ ph: "f", bp: "e", id, name, cat: "flow", pid: to.pid, tid: to.tid, ts: us(to.ms) });
  };

  for (const trace of model.traces) {
    walk(trace.roots, (node) => {
      const tid = tidOf.get(node) ?? 0;
      const span = node.span;
      events.push({
        ph: "X",
        name: span.name,
        cat: node.cls,
        pid: OPENCLAW_PID,
        tid,
        ts: us(node.startMs),
        dur: Math.max(1, us(node.endMs) - us(node.startMs)),
        args: { trace_id: span.traceId, span_id: span.spanId, parent_span_id: span.parentSpanId ?? null, status: span.status, ...span.attributes },
      });
      for (const message of node.relay) {
        events.push({
          ph: "i",
          s: "t",
          name: `relay ${String(message.record.event_type)}`,
          cat: "relay",
          pid: OPENCLAW_PID,
          tid,
          ts: us(Number(message.record.event_time_unix_ms)),
          args: { seq: String(message.seq), ...message.record },
        });
      }
      // Where generation began: the chat span's first-token event (docs/serving-metrics.md).
      for (const event of span.events) {
        if (event.name !== "dynamo.first_token") continue;
        events.push({
          ph: "i",
          s: "t",
          name: "first token",
          cat: "serving",
          pid: OPENCLAW_PID,
          tid,
          ts: us(Number(BigInt(event.timeUnixNano) / 1000n) / 1000),
          args: { ...event.attributes },
        });
      }
      // A tool span with an agent run under it spawned a subagent: draw the arrow to the subagent's track.
      const spawned = node.cls === "TOOL" ? node.children.find((child) => child.cls === "AGENT") : undefined;
      if (spawned) {
        flow("subagent", { pid: OPENCLAW_PID, tid, ms: node.startMs }, { pid: OPENCLAW_PID, tid: tidOf.get(spawned) ?? 0, ms: spawned.startMs });
      }
    });
  }

  if (model.simulated) addDynamo(model, events, tidOf, flow, us);
  return {
    traceEvents: events,
    displayTimeUnit: "ms",
    metadata: { generator: "openclaw-dynamo demo", traceIds: model.traces.map((t) => t.traceId) },
  };
}

/** Dynamo lane per session (1.3+ `x-dynamo-session-id`, 1.2 `trajectory_id`); requests and harness tool records on it. */
function addDynamo(
  model: TraceModel,
  events: TraceEvent[],
  tidOf: Map<SpanNode, number>,
  flow: (name: string, from: { pid: number; tid: number; ms: number }, to: { pid: number; tid: number; ms: number }) => void,
  us: (ms: number) => number,
): void {
  events.push({ ph: "M", pid: DYNAMO_PID, name: "process_name", args: { name: "Dynamo (simulated frontend + tool-event relay)" } });
  events.push({ ph: "M", pid: DYNAMO_PID, name: "process_sort_index", args: { sort_index: 2 } });
  const lanes = new Map<string, number>();
  const lane = (session: string): number => {
    let tid = lanes.get(session);
    if (tid === undefined) {
      tid = lanes.size + 1;
      lanes.set(session, tid);
      events.push({ ph: "M", pid: DYNAMO_PID, tid, name: "thread_name", args: { name: `session ${session}` } });
    }
    return tid;
  };
  const sessionOf = (request: RecordedRequest): string => {
    const context = request.agentContext ?? {};
    const id = context.trajectory_id ?? context.session_id;
    return typeof id === "string" ? id : "(no agent identity)";
  };
  const spanOfRequest = new Map<RecordedRequest, SpanNode>();
  for (const trace of model.traces) walk(trace.roots, (node) => node.requests.forEach((r) => spanOfRequest.set(r, node)));

  for (const request of model.requests) {
    const tid = lane(sessionOf(request));
    const end = request.finishedAt ?? request.receivedAt;
    events.push({
      ph: "X",
      name: `${request.method} ${request.path} → ${request.status}`,
      cat: "dynamo",
      pid: DYNAMO_PID,
      tid,
      ts: us(request.receivedAt),
      dur: Math.max(1, us(end) - us(request.receivedAt)),
      args: {
        x_request_id: request.xRequestId ?? null,
        traceparent: request.traceparent ?? null,
        agent_context: request.agentContext ?? null,
        session_final: request.sessionFinal,
        ...(request.rejection ? { rejection: request.rejection } : {}),
        ...(request.toolCalls.length ? { tool_calls: request.toolCalls.map((c) => ({ id: c.id, name: c.name })) } : {}),
      },
    });
    const node = spanOfRequest.get(request);
    if (node && node.cls === "LLM") {
      flow("x-request-id", { pid: OPENCLAW_PID, tid: tidOf.get(node) ?? 0, ms: Math.max(node.startMs, Math.min(request.receivedAt, node.endMs)) }, { pid: DYNAMO_PID, tid, ms: request.receivedAt });
    }
  }
  for (const message of model.relay) {
    const type = message.record.event_type;
    if (type === "tool_start") continue;
    const tool = recordTool(message.record);
    const start = Number(tool.started_at_unix_ms ?? message.record.event_time_unix_ms);
    const end = Number(tool.ended_at_unix_ms ?? message.record.event_time_unix_ms);
    events.push({
      ph: "X",
      name: `tool ${String(tool.tool_class)} (${String(tool.status ?? type)})`,
      cat: "relay",
      pid: DYNAMO_PID,
      tid: lane(recordTrajectory(message.record) ?? "(unknown)"),
      ts: us(start),
      dur: Math.max(1, us(end) - us(start)),
      args: { seq: String(message.seq), ...message.record },
    });
  }
}
