/**
 * The trace as a terminal waterfall: one line per span (tree, kind, timing bar, duration) followed by
 * the ids that join it to Dynamo — trajectory ids on agent spans, the `x-request-id` of each model
 * call and what Dynamo answered, the tool-call id of each tool with the relay records Dynamo received.
 */
import { isTerminal } from "../test/e2e/trace-helpers.ts";
import type { DynamoGeneration, RecordedRequest } from "../test/sim/index.ts";
import { recordTool, runKind, type SpanClass, type SpanNode, type TraceModel, type TraceView } from "./trace-model.ts";

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
}

export function createStyle(color: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => (color ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    magenta: wrap(35, 39),
  };
}

export interface WaterfallOptions {
  style: Style;
  /** Terminal width in columns. */
  width: number;
  /** Dynamo generation in effect, for naming the ids the way that Dynamo does. */
  generation: DynamoGeneration;
  simulated: boolean;
}

// Left-aligned partial blocks, 1/8 … 7/8 of a cell.
const PARTIAL = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

export function formatDuration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

const visibleLength = (s: string): number => s.replace(/\u001b\[[0-9;]*m/g, "").length;

function bar(node: SpanNode, trace: TraceView, width: number): string {
  const total = Math.max(trace.endMs - trace.startMs, 1);
  const startCell = ((node.startMs - trace.startMs) / total) * width;
  const eighths = Math.max(1, Math.round(((node.endMs - node.startMs) / total) * width * 8));
  const start = Math.min(Math.floor(startCell), width - 1);
  const full = Math.floor(eighths / 8);
  const body = "█".repeat(full) + PARTIAL[eighths % 8];
  const clipped = body.slice(0, Math.max(1, width - start));
  return " ".repeat(start) + clipped + " ".repeat(Math.max(0, width - start - clipped.length));
}

function niceStep(totalMs: number, cells: number): number {
  const steps = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000];
  // At least ~10 columns between labels.
  return steps.find((step) => (step / totalMs) * cells >= 10) ?? steps.at(-1)!;
}

function axis(trace: TraceView, width: number): string {
  const total = Math.max(trace.endMs - trace.startMs, 1);
  const step = niceStep(total, width);
  const line = Array.from({ length: width }, () => " ");
  for (let t = 0; t <= total; t += step) {
    const label = step < 1000 ? `${t / 1000}s` : `${Math.round(t / 1000)}s`;
    const at = Math.round((t / total) * width);
    if (at + label.length > width) break;
    for (let i = 0; i < label.length; i++) line[at + i] = label[i]!;
  }
  return line.join("");
}

const KIND_COLOR: Record<SpanClass, keyof Style> = { AGENT: "magenta", LLM: "cyan", TOOL: "yellow", OTHER: "dim" };

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function requestLine(request: RecordedRequest, style: Style): string {
  const status = request.status === 200 ? style.green("200") : style.red(String(request.status || "no answer"));
  const body = request.body as { nvext?: { session_control?: Record<string, unknown> } } | undefined;
  const minimal = isTerminal(request);
  if (minimal && request.sessionFinal) return `→ Dynamo ${status} session-final request (x-dynamo-session-final: true)`;
  if (minimal && body?.nvext?.session_control?.action === "close") return `→ Dynamo ${status} session_control close request`;
  const parts = [`→ Dynamo ${status}`];
  if (request.rejection) parts.push(style.red(request.rejection.length > 90 ? `${request.rejection.slice(0, 89)}…` : request.rejection));
  const control = request.sessionControl;
  if (control && typeof control.action === "string") parts.push(`session_control ${control.action}`);
  else if (control) parts.push("session_control (pinned)");
  if (request.status === 200 && request.generation === "headers") parts.push(style.dim("identity in x-dynamo-session-* headers"));
  if (request.status === 200 && request.generation === "nvext" && request.agentContext) parts.push(style.dim("identity in nvext.agent_context"));
  return parts.join(" · ");
}

function relayLine(node: SpanNode, style: Style): string | undefined {
  if (node.relay.length === 0) return undefined;
  const parts = node.relay.map((message) => {
    const tool = recordTool(message.record);
    const type = String(message.record.event_type);
    const details: string[] = [];
    if (type !== "tool_start") {
      if (typeof tool.status === "string") details.push(tool.status);
      if (typeof tool.duration_ms === "number") details.push(formatDuration(tool.duration_ms));
      if (typeof tool.output_bytes === "number") details.push(`${tool.output_bytes} B out`);
      if (typeof tool.error_type === "string") details.push(tool.error_type);
    }
    const label = type === "tool_error" ? style.red(type) : type;
    return `${label} #${message.seq}${details.length ? ` (${details.join(", ")})` : ""}`;
  });
  return `${style.green("✓")} relay → Dynamo: ${parts.join(" · ")}`;
}

function details(node: SpanNode, model: TraceModel, options: WaterfallOptions): string[] {
  const { style } = options;
  const a = node.span.attributes;
  const lines: string[] = [];
  const label = (s: string) => style.dim(s);
  if (node.cls === "AGENT") {
    const trajectory = str(a["dynamo.trajectory_id"]) ?? `${node.span.traceId}-${node.span.spanId}`;
    const name = options.generation === "headers" ? "x-dynamo-session-id" : "trajectory_id";
    lines.push(`${label(`trajectory (${name})`)} ${trajectory}`);
    const parent = str(a["dynamo.parent_trajectory_id"]);
    if (parent) lines.push(`${label(`parent (${options.generation === "headers" ? "x-dynamo-parent-session-id" : "parent_trajectory_id"})`)} ${parent}`);
  } else if (node.cls === "LLM") {
    const xRequestId = str(a["dynamo.x_request_id"]);
    const usage = [a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]];
    const tokens = usage.every((v) => typeof v === "number") ? `  ${label(`tokens ${usage[0]} in / ${usage[1]} out`)}` : "";
    lines.push(`${label("x-request-id")} ${xRequestId ?? style.red("missing")}${tokens}`);
    const serving = servingLine(a);
    if (serving) lines.push(label(serving));
  } else if (node.cls === "TOOL") {
    const callId = str(a["gen_ai.tool.call.id"]);
    const bridge = str(a["openclaw.tool.bridge"]);
    lines.push(`${label("tool_call_id")} ${callId ?? "-"}${bridge ? `  ${label(`(called through OpenClaw's ${bridge} bridge)`)}` : ""}`);
    if (node.error) lines.push(errorLine(node.error, style));
    const relay = relayLine(node, style);
    if (relay) lines.push(relay);
    else if (model.simulated || model.relay.length > 0) lines.push(style.red("✗ no relay record matched this span"));
    const seen = traceparentSeenByCommand(node, model);
    if (seen) {
      const ok = seen.endsWith(`-${node.span.spanId}-01`) || seen.endsWith(`-${node.span.spanId}-00`);
      lines.push(`${label("the command saw")} TRACEPARENT=${seen} ${ok ? style.green("✓ names this span") : style.red("✗ another span")}`);
    }
  }
  if (node.error && node.cls !== "TOOL") lines.push(errorLine(node.error, style));
  for (const request of node.requests) lines.push(requestLine(request, style));
  return lines;
}

/** TTFT, chunk gaps and cache reads of a chat span (docs/serving-metrics.md), when it has them. */
function servingLine(a: Record<string, unknown>): string | undefined {
  const num = (key: string) => (typeof a[key] === "number" ? (a[key] as number) : undefined);
  const ttft = num("dynamo.response.time_to_first_token") ?? num("gen_ai.response.time_to_first_chunk");
  const parts: string[] = [];
  if (ttft !== undefined) parts.push(`TTFT ${formatDuration(ttft * 1000)}`);
  const gap = num("dynamo.response.chunk_gap.mean");
  if (gap !== undefined) parts.push(`gap ${formatDuration(gap * 1000)} mean / ${formatDuration((num("dynamo.response.chunk_gap.max") ?? gap) * 1000)} max`);
  const cacheRead = num("gen_ai.usage.cache_read.input_tokens");
  if (cacheRead !== undefined) {
    const ratio = num("dynamo.usage.prompt_cache_hit_ratio");
    parts.push(`cache read ${cacheRead} tokens${ratio === undefined ? "" : ` (${Math.round(ratio * 100)} %)`}`);
  }
  const worker = num("dynamo.worker.decode_worker_id");
  if (worker !== undefined) parts.push(`worker ${worker}`);
  return parts.length > 0 ? parts.join("  ") : undefined;
}

const errorLine = (error: string, style: Style): string => style.red(`error: ${error.length > 100 ? `${error.slice(0, 99)}…` : error}`);

/** For an exec tool span: the `TRACEPARENT=…` its command printed, as the model saw it in the next request. */
function traceparentSeenByCommand(node: SpanNode, model: TraceModel): string | undefined {
  if (node.span.name !== "execute_tool exec") return undefined;
  for (const request of model.requests) {
    const messages = (request.body as { messages?: Array<{ role?: unknown; content?: unknown }> } | undefined)?.messages ?? [];
    for (const message of messages) {
      if (message.role !== "tool") continue;
      const text = typeof message.content === "string" ? message.content : JSON.stringify(message.content);
      const match = /TRACEPARENT=(00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})/.exec(text);
      if (match && match[1]!.includes(node.span.traceId)) return match[1];
    }
  }
  return undefined;
}

interface Row {
  node: SpanNode;
  prefix: string;
  detailPrefix: string;
}

function rows(nodes: readonly SpanNode[], ancestors = "", top = true): Row[] {
  const out: Row[] = [];
  nodes.forEach((node, index) => {
    const last = index === nodes.length - 1;
    const connector = top ? "" : last ? "└─ " : "├─ ";
    const continuation = top ? "" : last ? "   " : "│  ";
    // Detail lines keep the tree's verticals, plus one for this span's own children.
    out.push({ node, prefix: ancestors + connector, detailPrefix: ancestors + continuation + (node.children.length > 0 ? "│ " : "  ") });
    out.push(...rows(node.children, ancestors + continuation, false));
  });
  return out;
}

function spanLabel(node: SpanNode, style: Style): string {
  const kind = runKind(node);
  const suffix = node.cls === "AGENT" && kind ? ` ${style.dim(`(${kind})`)}` : "";
  return `${node.span.name}${suffix}${node.error ? ` ${style.red("✗")}` : ""}`;
}

export function renderTrace(trace: TraceView, model: TraceModel, options: WaterfallOptions): string {
  const { style } = options;
  const all = rows(trace.roots);
  const plainLabel = (row: Row) => row.prefix + spanLabel(row.node, createStyle(false));
  const labelWidth = Math.min(Math.max(...all.map((row) => plainLabel(row).length), 10), 58);
  const kindWidth = 5;
  const durationWidth = 9;
  const barWidth = Math.max(20, Math.min(options.width, 200) - labelWidth - kindWidth - durationWidth - 6);
  const lines: string[] = [];
  const duration = formatDuration(trace.endMs - trace.startMs);
  lines.push(style.bold(`Trace ${trace.traceId}`) + style.dim(`  ·  ${trace.spanCount} spans  ·  ${duration}`));
  const session = options.generation === "nvext" ? "session_id = trace id, trajectory_id" : "x-dynamo-session-id";
  lines.push(style.dim(`Dynamo ids: ${session} = <trace id>-<span id of the chain's first agent span> (one chain per OpenClaw conversation: announce runs carry the lead's), x-request-id = <trace id>-<chat span id>`));
  lines.push(`${" ".repeat(labelWidth + kindWidth + 2)} ${style.dim(axis(trace, barWidth))}`);
  for (const row of all) {
    const { node } = row;
    let label = plainLabel(row);
    if (label.length > labelWidth) label = `${label.slice(0, labelWidth - 1)}…`;
    const styledLabel = row.prefix + spanLabel(node, style);
    const shown = label.length < plainLabel(row).length ? label : styledLabel;
    const pad = " ".repeat(Math.max(0, labelWidth - visibleLength(shown)));
    const color = node.error ? "red" : KIND_COLOR[node.cls];
    const kind = style[KIND_COLOR[node.cls]](node.cls.padEnd(kindWidth));
    const timing = formatDuration(node.endMs - node.startMs).padStart(durationWidth);
    lines.push(`${shown}${pad}  ${kind} ${style[color](bar(node, trace, barWidth))} ${timing}`);
    for (const detail of details(node, model, options)) lines.push(`${style.dim(row.detailPrefix)} ${detail}`);
  }
  return lines.join("\n");
}

export function renderWaterfall(model: TraceModel, options: WaterfallOptions): string {
  const { style } = options;
  if (model.traces.length === 0) return style.red("No spans arrived at the OTLP receiver.");
  const out = model.traces.map((trace) => renderTrace(trace, model, options));
  out.push(summary(model, options));
  return out.join("\n\n");
}

function summary(model: TraceModel, options: WaterfallOptions): string {
  const { style } = options;
  const lines: string[] = [];
  if (model.simulated) {
    const generation = options.generation === "headers" ? "Dynamo 1.3+ (x-dynamo-session-* headers)" : "Dynamo 1.2 (nvext.agent_context)";
    const chats = model.requests;
    const minimal = chats.filter((r) => (r.body as { max_tokens?: unknown } | undefined)?.max_tokens === 1);
    const rejected = chats.filter((r) => r.status === 400);
    const parts = [`${chats.length - minimal.length} chat request${chats.length - minimal.length === 1 ? "" : "s"}`];
    if (rejected.length > 0) parts.push(`${rejected.length} rejected with 400 and resent (protocol auto switched to headers)`);
    if (minimal.length > 0) {
      parts.push(`${minimal.length} ${options.generation === "headers" ? "session-final" : "session close"} request${minimal.length === 1 ? "" : "s"}`);
    }
    lines.push(`${style.bold("Simulated")} ${generation}: ${parts.join(", ")}.`);
    if (model.unmatchedRequests.length > 0) {
      lines.push(style.red(`${model.unmatchedRequests.length} requests name no exported span (x-request-id / traceparent).`));
    }
  }
  if (model.relay.length > 0 || model.simulated) {
    const matched = model.relay.length - model.unmatchedRelay.length;
    const text = `Tool-event relay: ${model.relay.length} records received over ZeroMQ, ${matched} matched to their execute_tool span by tool_call_id + trajectory.`;
    lines.push(model.unmatchedRelay.length === 0 ? text : style.red(`${text} ${model.unmatchedRelay.length} unmatched.`));
  }
  return lines.join("\n");
}
