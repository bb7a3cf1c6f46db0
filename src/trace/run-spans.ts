/**
 * `invoke_agent` spans (docs/span-tree.md): one per OpenClaw agent run, found by run id from any
 * hook, started at the run's first hook (or when OpenClaw's trace id is known), ended by `agent_end`
 * or when the run goes silent with nothing open. A run's Dynamo ids are its chain's
 * (./conversations.ts, docs/identity.md). Tool spans and requests build on this (./chat-spans.ts,
 * ./tool-spans.ts); ./span-tree.ts composes them.
 */
import { ROOT_CONTEXT, SpanKind, trace, type Context, type Link, type Tracer } from "@opentelemetry/api";
import type { DynamoPluginConfig } from "../types.ts";
import { GEN_AI, OPENCLAW, OPENINFERENCE, OPERATION, SPAN_KIND } from "./attributes.ts";
import { BoundedMap } from "./bounded-map.ts";
import { textOf, truncate } from "./content.ts";
import { Conversations, chainStartLink } from "./conversations.ts";
import type { ReservableIdGenerator } from "./id-generator.ts";
import { deriveIds } from "./ids.ts";
import { agentErrorType, errorStatus, sessionKeyAttribute } from "./privacy.ts";
import { TTL_MS, agentIdOfSessionKey, errorMessage, mergeRefs, waitingOnTool, releaseSpan, runAttributes, type AgentRun, type RunKind, type RunRef, type SpanTreeOptions, type ToolCall } from "./tree-types.ts";

const MODEL_CALL_SUFFIX = /:model:\d+$/;
const VALID_TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;
const ANNOUNCE_RUN_ID = /^announce:v\d+:(.+):[^:]+$/;
const SUBAGENT_SESSION = ":subagent:";
/**
 * Ended runs stay findable for late hooks (a `model_call_ended` after `agent_end`, an announce
 * run parented on its lead's run, a tool call that outlived its run) — the newest this many, for
 * at most TTL_MS. Each holds ~1 KB with its session entries, so this bounds what a long-lived
 * Gateway keeps for runs that are over.
 */
const ENDED_RUNS_REMEMBERED = 1_000;
/** A live run's place in the run map is refreshed by its hooks at most this often (TTL is 30 min). */
const REFRESH_MS = 10_000;

export abstract class RunSpans {
  protected readonly tracer: Tracer;
  protected readonly idGenerator: ReservableIdGenerator;
  protected readonly config: DynamoPluginConfig;
  protected readonly options: SpanTreeOptions;
  readonly conversations: Conversations;
  /** Runs that have not ended. */
  protected readonly runs: BoundedMap<string, AgentRun>;
  /** Ended runs, remembered for late hooks (see ENDED_RUNS_REMEMBERED). */
  protected readonly endedRuns: BoundedMap<string, AgentRun>;
  protected readonly latestRunBySession = new BoundedMap<string, AgentRun>({ capacity: 10_000, ttlMs: TTL_MS, keepAlive: waitingOnTool });
  protected readonly latestRunBySessionId = new BoundedMap<string, AgentRun>({ capacity: 10_000, ttlMs: TTL_MS, keepAlive: waitingOnTool });
  /** Runs whose first hooks arrived without OpenClaw's trace id: when and what was seen. */
  protected readonly pendingStarts = new BoundedMap<string, { seenAt: number; ref: RunRef }>({ capacity: 10_000, ttlMs: TTL_MS });
  /** OpenClaw trace ids already used for a top-level run's trace. */
  protected readonly adoptedTraceIds = new BoundedMap<string, string>({ capacity: 10_000, ttlMs: TTL_MS });
  /** Child session key → the tool span that spawned it. */
  protected readonly subagentParents = new BoundedMap<string, ToolCall>({ capacity: 10_000, ttlMs: TTL_MS });

  constructor(options: SpanTreeOptions) {
    this.options = options;
    this.tracer = options.tracer;
    this.idGenerator = options.idGenerator;
    this.config = options.config;
    this.conversations = options.conversations ?? new Conversations();
    // A run whose end hook never arrives is ended when it is evicted, so its span is not lost.
    this.runs = new BoundedMap<string, AgentRun>({
      capacity: 10_000,
      ttlMs: TTL_MS,
      onEvict: (_, run) => this.finishRun(run, { abandoned: true }),
      keepAlive: waitingOnTool,
    });
    this.endedRuns = new BoundedMap<string, AgentRun>({
      capacity: ENDED_RUNS_REMEMBERED,
      ttlMs: TTL_MS,
      onEvict: (_, run) => this.forgetRun(run),
    });
  }

  /** The newest run seen for an OpenClaw session id (for requests that carry no run id). */
  latestRunIdOfSession(sessionId: string | undefined): string | undefined {
    if (!sessionId) return undefined;
    const run = this.latestRunBySessionId.get(sessionId);
    return run && !run.ended ? run.runId : undefined;
  }

  getRun(runId: string): AgentRun | undefined {
    return this.runs.get(runId) ?? this.endedRuns.get(runId);
  }

  /** The run a model call id (`<runId>:model:<n>`) belongs to. */
  runIdOfCall(callId: string): string {
    return callId.replace(MODEL_CALL_SUFFIX, "");
  }

  /** The run for `ref`, starting its agent span on first sight. Undefined without a run id. */
  ensureRun(ref: RunRef): AgentRun | undefined {
    const runId = ref.runId;
    if (!runId) return ref.sessionKey ? this.latestRunBySession.get(ref.sessionKey) : undefined;
    const existing = this.runs.get(runId) ?? this.endedRuns.get(runId);
    if (existing) {
      if (ref.model) existing.lastModel = ref.model;
      const now = Date.now();
      if (!existing.ended && now - existing.touchedAt >= REFRESH_MS) {
        // Hooks of a live run refresh its TTL: only runs that went silent expire.
        existing.touchedAt = now;
        this.runs.set(runId, existing, now);
        if (existing.sessionKey && this.latestRunBySession.get(existing.sessionKey) === existing) {
          this.latestRunBySession.set(existing.sessionKey, existing, now);
        }
      }
      return existing;
    }
    const pending = this.pendingStarts.get(runId);
    if (pending) this.pendingStarts.delete(runId);
    const run = this.startRun(runId, pending ? mergeRefs(ref, pending.ref) : ref, pending?.seenAt);
    this.runs.set(runId, run);
    if (run.sessionKey) this.latestRunBySession.set(run.sessionKey, run);
    if (run.sessionId) this.latestRunBySessionId.set(run.sessionId, run);
    return run;
  }

  /**
   * A run-start hook. OpenClaw 2026.9.6 passes no `ctx.trace` to the first ones (`before_agent_reply`,
   * `before_model_resolve`), and a root agent span must know OpenClaw's trace id before it starts
   * (see `startRun`); so without it only the time is noted, and the span starts at that time when a
   * later hook of the run arrives.
   */
  noteRunStart(ref: RunRef, now: number = Date.now()): void {
    const runId = ref.runId;
    if (!runId) return;
    if (this.runs.has(runId) || this.endedRuns.has(runId) || ref.openclawTraceId) {
      this.ensureRun(ref);
      return;
    }
    const pending = this.pendingStarts.get(runId);
    this.pendingStarts.set(runId, pending ? { seenAt: pending.seenAt, ref: mergeRefs(ref, pending.ref) } : { seenAt: now, ref });
  }

  endRun(runId: string, outcome: { success?: boolean; error?: unknown; finalText?: string }): AgentRun | undefined {
    // A run that never got past its first hooks still gets its (short) span.
    if (this.pendingStarts.has(runId)) this.ensureRun({ runId });
    const run = this.getRun(runId);
    if (!run || run.ended) return run;
    if (outcome.finalText !== undefined && this.config.capture.completions) {
      run.span.setAttribute(OPENINFERENCE.OUTPUT_VALUE, truncate(outcome.finalText, this.config.capture.maxChars));
    }
    if (outcome.success === false || outcome.error) {
      // The run's error text can quote the prompt or the answer: completion capture (docs/privacy.md).
      const message = errorMessage(outcome.error) ?? "agent run failed";
      const errorType = agentErrorType(message);
      run.span.setAttribute(GEN_AI.ERROR_TYPE, errorType);
      run.span.setStatus(errorStatus(errorType, message, this.config.capture.completions, this.config.capture));
    }
    this.finishRun(run, {});
    return run;
  }

  /** Records the user prompt on the agent span (only when prompt capture is on). */
  capturePrompt(runId: string, prompt: unknown): void {
    if (!this.config.capture.prompts) return;
    const run = this.runs.get(runId);
    if (!run || run.ended) return;
    run.span.setAttribute(OPENINFERENCE.INPUT_VALUE, truncate(textOf(prompt), this.config.capture.maxChars));
  }

  openRuns(): AgentRun[] {
    return [...this.runs.values()].filter((run) => !run.ended);
  }

  protected startRun(runId: string, ref: RunRef, startTime?: number): AgentRun {
    const kind = this.classify(runId, ref.sessionKey);
    const agentId = ref.agentId ?? agentIdOfSessionKey(ref.sessionKey) ?? "main";
    let parentContext: Context = ROOT_CONTEXT;
    let parentTrajectoryId: string | undefined;
    const links: Link[] = [];
    const identity = this.options.identity;
    let isSubagent = identity?.processIsSubagent === true;
    // The run's chain (docs/identity.md): its session's, when an earlier run of it was seen.
    let chain = this.conversations.find(ref);
    let announcedBy: AgentRun | undefined;
    if (kind === "subagent") {
      isSubagent = true;
      const spawnTool = (ref.sessionKey && this.subagentParents.get(ref.sessionKey)) || this.newestOpenSpawnTool();
      if (spawnTool) {
        parentContext = trace.setSpan(ROOT_CONTEXT, spawnTool.span);
        parentTrajectoryId = spawnTool.run.ids.trajectoryId;
      }
    } else if (kind === "announce") {
      const childSessionKey = ANNOUNCE_RUN_ID.exec(runId)?.[1];
      const spawnTool = childSessionKey ? this.subagentParents.get(childSessionKey) : undefined;
      announcedBy = spawnTool?.run ?? (ref.sessionKey ? this.latestRunBySession.get(ref.sessionKey) : undefined);
      if (announcedBy) parentContext = trace.setSpan(ROOT_CONTEXT, announcedBy.span);
      // The announce run is a turn of the lead's conversation: the lead's chain, no parent of its own.
      chain ??= announcedBy?.chain;
    } else {
      const inbound = this.options.inbound;
      if (inbound && this.config.inboundContext === "parent") parentContext = inbound.context;
      else if (inbound) links.push({ context: inbound.spanContext, attributes: { "link.kind": "inbound_traceparent" } });
      parentTrajectoryId = identity?.leadParentTrajectoryId ?? inbound?.parentTrajectoryId;
      // A root agent span takes OpenClaw's trace id for the run. OpenClaw runs a Gateway request that
      // carried an upstream `traceparent` in that trace, so the run continues the caller's trace; the
      // upstream span id is not exposed to plugins, so the span is a root within it.
      // One trace holds one top-level run: a trace id OpenClaw reuses for another run is not adopted.
      const openclawTraceId = ref.openclawTraceId;
      if (parentContext === ROOT_CONTEXT && openclawTraceId && VALID_TRACE_ID.test(openclawTraceId) && !this.adoptedTraceIds.has(openclawTraceId)) {
        this.idGenerator.useForNextTrace(openclawTraceId);
        this.adoptedTraceIds.set(openclawTraceId, runId);
      }
    }
    if (chain) {
      // A later run of the conversation links to the chain's first agent span (possibly in an
      // earlier trace or process), which the chain's trajectory id names.
      links.push(chainStartLink(chain));
      if (chain.kind === "subagent") isSubagent = true;
    }
    const span = this.tracer.startSpan(
      `${OPERATION.INVOKE_AGENT} ${agentId}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          [GEN_AI.OPERATION_NAME]: OPERATION.INVOKE_AGENT,
          [GEN_AI.AGENT_NAME]: agentId,
          [OPENINFERENCE.SPAN_KIND]: SPAN_KIND.AGENT,
          [OPENINFERENCE.AGENT_NAME]: agentId,
          [OPENCLAW.RUN_ID]: runId,
          [OPENCLAW.RUN_KIND]: kind,
          ...(ref.sessionKey ? { [OPENCLAW.SESSION_KEY]: sessionKeyAttribute(ref.sessionKey, this.config.capture) } : {}),
          ...(ref.provider ? { [GEN_AI.PROVIDER_NAME]: ref.provider } : {}),
        },
        ...(links.length > 0 ? { links } : {}),
        ...(startTime !== undefined ? { startTime } : {}),
      },
      parentContext,
    );
    const spanContext = span.spanContext();
    chain ??= this.conversations.create(ref, {
      ids: deriveIds({
        agentSpan: spanContext,
        // An announce run without a known lead chain starts the lead's chain: no parent.
        parentTrajectoryId: kind === "announce" ? undefined : parentTrajectoryId,
        sessionIdOverride: identity?.sessionIdOverride,
        trajectoryIdOverride: kind === "subagent" ? undefined : identity?.leadTrajectoryIdOverride,
      }),
      kind: isSubagent ? "subagent" : "lead",
      first: spanContext,
    });
    const ids = chain.ids;
    const run: AgentRun = {
      runId,
      kind,
      span,
      spanContext,
      ids,
      chain,
      agentId,
      sessionKey: ref.sessionKey,
      sessionId: ref.sessionId,
      isSubagent,
      lastModel: ref.model,
      ended: false,
      spawnTools: [],
      execSpanIds: [],
      execEnv: undefined,
      attributes: runAttributes(ids, ref.sessionId),
      tools: new Map(),
      childContext: trace.setSpan(ROOT_CONTEXT, span),
      touchedAt: Date.now(),
    };
    span.setAttributes(run.attributes);
    return run;
  }

  protected classify(runId: string, sessionKey: string | undefined): RunKind {
    if (ANNOUNCE_RUN_ID.test(runId)) return "announce";
    if (sessionKey && (sessionKey.includes(SUBAGENT_SESSION) || this.subagentParents.has(sessionKey))) return "subagent";
    return "lead";
  }

  protected finishRun(run: AgentRun, how: { abandoned?: boolean }): void {
    if (run.ended) return;
    if (how.abandoned) {
      // A run that went silent (or was pushed out) takes its open tool calls with it; after a
      // normal end they stay open a while for a late after_tool_call (forgetRun ends them).
      for (const tool of [...run.tools.values()]) this.cancelTool(tool, "no after_tool_call was observed");
    }
    run.ended = true;
    if (how.abandoned) run.span.setAttribute("openclaw.run.end_observed", false);
    run.span.end();
    releaseSpan(run);
    run.childContext = undefined; // it holds the ended SDK span; late children use the released one
    if (this.runs.get(run.runId) === run) this.runs.delete(run.runId);
    this.endedRuns.set(run.runId, run);
    this.options.onRunEnded?.(run);
  }

  /** An ended run leaves memory: its session entries go with it, and tool calls it left open end. */
  protected forgetRun(run: AgentRun): void {
    if (run.sessionKey && this.latestRunBySession.get(run.sessionKey) === run) this.latestRunBySession.delete(run.sessionKey);
    if (run.sessionId && this.latestRunBySessionId.get(run.sessionId) === run) this.latestRunBySessionId.delete(run.sessionId);
    if (this.adoptedTraceIds.get(run.spanContext.traceId) === run.runId) this.adoptedTraceIds.delete(run.spanContext.traceId);
    for (const tool of [...run.tools.values()]) this.cancelTool(tool, "no after_tool_call was observed");
  }

  /** The newest open `sessions_spawn` tool call of any run (./tool-spans.ts). */
  protected abstract newestOpenSpawnTool(): ToolCall | undefined;
  /** Ends a tool call as cancelled (./tool-spans.ts). */
  protected abstract cancelTool(tool: ToolCall, message: string): void;
}

