/**
 * What the span tree's modules share (docs/span-tree.md): the run, request and tool-call records
 * correlated across OpenClaw's hooks, and small helpers on them.
 */
import { trace, type Attributes, type Context, type Span, type SpanContext, type Tracer } from "@opentelemetry/api";
import type { DynamoPluginConfig } from "../types.ts";
import { DYNAMO, GEN_AI, OPENINFERENCE } from "./attributes.ts";
import { safeJson } from "./content.ts";
import type { ServingSummary } from "./chat-timing.ts";
import type { Chain, Conversations } from "./conversations.ts";
import type { ReservableIdGenerator } from "./id-generator.ts";
import type { DynamoIds } from "./ids.ts";
import type { InboundContext } from "./inbound.ts";
import type { ProcessRole } from "./process-role.ts";

export type RunKind = "lead" | "subagent" | "announce";

/** What OpenClaw's hooks tell about the run a hook belongs to. */
export interface RunRef {
  readonly runId?: string | undefined;
  readonly sessionKey?: string | undefined;
  readonly sessionId?: string | undefined;
  readonly agentId?: string | undefined;
  readonly provider?: string | undefined;
  readonly model?: string | undefined;
  /** OpenClaw's own (diagnostic) trace id for the run: `ctx.trace.traceId`. */
  readonly openclawTraceId?: string | undefined;
}

export interface AgentRun {
  readonly runId: string;
  readonly kind: RunKind;
  readonly span: Span;
  readonly spanContext: SpanContext;
  /** The chain's ids (docs/identity.md): the same for every run of one OpenClaw session. */
  readonly ids: DynamoIds;
  /** The Dynamo chain (OpenClaw conversation) the run belongs to. */
  readonly chain: Chain;
  readonly agentId: string;
  readonly sessionKey: string | undefined;
  readonly sessionId: string | undefined;
  /** True for subagent runs and for every run of a process started as someone's subagent. */
  readonly isSubagent: boolean;
  /** Latest model id used by the run (for the minimal close / session-final requests). */
  lastModel: string | undefined;
  ended: boolean;
  /** Open `sessions_spawn` tool spans, newest last (a subagent is parented on one). */
  readonly spawnTools: ToolCall[];
  /** Span ids `resolve_exec_env` reserved for this session's next exec tool spans (FIFO). */
  readonly execSpanIds: string[];
  /** `TRACEPARENT` for a span id of this run, plus the run's `TRACESTATE`/`BAGGAGE` (built once). */
  execEnv: ((spanId: string) => Record<string, string>) | undefined;
  /** What every span of the run carries (`runAttributes` below), built once. */
  readonly attributes: Attributes;
  /** Tool calls of this run that have not ended, by the model's tool-call id (and a bridged inner id). */
  readonly tools: Map<string, ToolCall>;
  /** Parent context for the run's chat and tool spans (dropped when the run ends). */
  childContext: Context | undefined;
  /** When a hook last refreshed the run's place in the bounded run map. */
  touchedAt: number;
}

export interface ChatCall {
  readonly callId: string;
  readonly run: AgentRun;
  readonly span: Span;
  readonly spanContext: SpanContext;
  ended: boolean;
}

export interface ToolCall {
  readonly run: AgentRun;
  readonly span: Span;
  readonly spanContext: SpanContext;
  /** The tool the model asked for (the bridge target when called through `tool_call`). */
  readonly toolName: string;
  readonly toolCallId: string;
  /** Set when OpenClaw's `tool_call` bridge runs `toolName` on the model's behalf. */
  readonly bridgedBy: string | undefined;
  innerCallId: string | undefined;
  innerError: unknown;
  ended: boolean;
}

export interface ChatResult {
  readonly stopReason?: string | undefined;
  readonly errorMessage?: string | undefined;
  readonly errorType?: string | undefined;
  readonly responseModel?: string | undefined;
  readonly responseId?: string | undefined;
  readonly usage?: { input?: number; output?: number; cacheRead?: number; cacheWrite?: number } | undefined;
  readonly outputText?: string | undefined;
  /** A status message the plugin wrote itself (no content: shown whatever the capture setting). */
  readonly note?: string | undefined;
  /** What the stream showed (./chat-timing.ts); absent for calls the provider did not stream. */
  readonly serving?: ServingSummary | undefined;
}

export interface SpanTreeOptions {
  readonly tracer: Tracer;
  readonly idGenerator: ReservableIdGenerator;
  readonly config: DynamoPluginConfig;
  readonly inbound?: InboundContext | undefined;
  /** Process-level identity: child-process role and the env/config overrides (./process-role.ts). */
  readonly identity?: ProcessRole | undefined;
  /** Dynamo chains per OpenClaw session (./conversations.ts); a process-local one when absent. */
  readonly conversations?: Conversations | undefined;
  /** Called once per run when its agent span ends. */
  readonly onRunEnded?: (run: AgentRun) => void;
}

/** How long correlation state of a run stays findable without a hook refreshing it. */
export const TTL_MS = 30 * 60_000;

/** Attributes every span of a run carries (session and Dynamo correlation, SPEC §3.2). */
export function runAttributes(ids: DynamoIds, sessionId: string | undefined): Attributes {
  const attributes: Attributes = {
    [DYNAMO.SESSION_ID]: ids.sessionId,
    [DYNAMO.TRAJECTORY_ID]: ids.trajectoryId,
  };
  if (ids.parentTrajectoryId) attributes[DYNAMO.PARENT_TRAJECTORY_ID] = ids.parentTrajectoryId;
  if (sessionId) {
    attributes[OPENINFERENCE.SESSION_ID] = sessionId;
    attributes[GEN_AI.CONVERSATION_ID] = sessionId;
  }
  return Object.freeze(attributes);
}

/**
 * After `end()`, a remembered run, request or tool call keeps only its span's context (all that
 * parenting a late child needs; every other use checks `ended` first), so the bounded maps that
 * remember ended ones hold ~100 bytes each instead of an ended SDK span with all its attributes.
 */
export function releaseSpan(holder: { readonly span: Span; readonly spanContext: SpanContext }): void {
  (holder as { span: Span }).span = trace.wrapSpanContext(holder.spanContext);
}

export function setNumber(span: Span, key: string, value: number | undefined): void {
  if (typeof value === "number" && Number.isFinite(value)) span.setAttribute(key, value);
}

export function errorMessage(error: unknown): string | undefined {
  if (error === undefined || error === null || error === false) return undefined;
  if (typeof error === "string") return error;
  if (error instanceof Error) return error.message;
  const message = (error as { message?: unknown }).message;
  return typeof message === "string" ? message : safeJson(error);
}

/**
 * Idle expiry is for runs with nothing open: a run waiting on a tool call (a 40-minute build,
 * `sessions_yield` waiting on a subagent) stays findable, by run id and by session, however long its
 * hooks stay silent. An ended tool call leaves `run.tools` at once.
 */
export const waitingOnTool = (run: AgentRun): boolean => !run.ended && run.tools.size > 0;

/** `ref` with the gaps filled from `earlier` (what earlier hooks of the same run said). */
export function mergeRefs(ref: RunRef, earlier: RunRef): RunRef {
  return {
    runId: ref.runId ?? earlier.runId,
    sessionKey: ref.sessionKey ?? earlier.sessionKey,
    sessionId: ref.sessionId ?? earlier.sessionId,
    agentId: ref.agentId ?? earlier.agentId,
    provider: ref.provider ?? earlier.provider,
    model: ref.model ?? earlier.model,
    openclawTraceId: ref.openclawTraceId ?? earlier.openclawTraceId,
  };
}

/** `agent:<agentId>:…` → agentId. */
export function agentIdOfSessionKey(sessionKey: string | undefined): string | undefined {
  if (!sessionKey?.startsWith("agent:")) return undefined;
  const agentId = sessionKey.split(":")[1];
  return agentId || undefined;
}
