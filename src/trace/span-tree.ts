/**
 * The span tree (SPEC §3.1): one `invoke_agent` span per OpenClaw agent run, `chat` spans for model
 * requests and `execute_tool` spans for tool calls under it, subagent runs under the tool span
 * that spawned them. OpenClaw reports all of this through separate hooks, correlated here by run
 * id, session key and the model's tool-call id, in bounded maps.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from "@opentelemetry/api";
import type { DynamoPluginConfig } from "../types.ts";
import { DYNAMO, GEN_AI, LLM_SYSTEM, OPENCLAW, OPENINFERENCE, OPERATION, PROVIDER_NAME, SPAN_KIND } from "./attributes.ts";
import { BoundedMap } from "./bounded-map.ts";
import { recordServing, type ServingSummary } from "./chat-timing.ts";
import { safeJson, textOf, truncate } from "./content.ts";
import type { ReservableIdGenerator } from "./id-generator.ts";
import { deriveIds, type DynamoIds } from "./ids.ts";
import { childProcessEnvFactory, type InboundContext } from "./inbound.ts";
import type { ProcessRole } from "./process-role.ts";
import { toolOutputBytes } from "./tool-output.ts";

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
  readonly ids: DynamoIds;
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
  /** What every span of the run carries (./span-tree.ts `runAttributes`), built once. */
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
  /** Called once per run when its agent span ends. */
  readonly onRunEnded?: (run: AgentRun) => void;
}

const MODEL_CALL_SUFFIX = /:model:\d+$/;
const VALID_TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;
const BRIDGE_INNER_PREFIX = "tool_search_code:";
const BRIDGE_INNER_ID = /^tool_search_code:(.+):([^:]+):\d+$/;
const ANNOUNCE_RUN_ID = /^announce:v\d+:(.+):[^:]+$/;
const SUBAGENT_SESSION = ":subagent:";
const TOOL_BRIDGE = "tool_call";
const SPAWN_TOOL = "sessions_spawn";
const EXEC_TOOL = "exec";
const TTL_MS = 30 * 60_000;
/**
 * Ended runs stay findable for late hooks (a `model_call_ended` after `agent_end`, an announce
 * run parented on its lead's run, a tool call that outlived its run) — the newest this many, for
 * at most TTL_MS. Each holds ~1 KB with its session entries, so this bounds what a long-lived
 * Gateway keeps for runs that are over.
 */
const ENDED_RUNS_REMEMBERED = 1_000;
/** A session's pending exec span-id reservations (one per `resolve_exec_env` not yet followed by its tool call). */
const EXEC_RESERVATIONS_PER_SESSION = 64;
/** Open tool calls one run may have; beyond it the oldest is ended as cancelled (its end never came). */
const OPEN_TOOLS_PER_RUN = 1_000;
/** A live run's place in the run map is refreshed by its hooks at most this often (TTL is 30 min). */
const REFRESH_MS = 10_000;

export class SpanTree {
  private readonly tracer: Tracer;
  private readonly idGenerator: ReservableIdGenerator;
  private readonly config: DynamoPluginConfig;
  private readonly options: SpanTreeOptions;
  /** Runs that have not ended. */
  private readonly runs: BoundedMap<string, AgentRun>;
  /** Ended runs, remembered for late hooks (see ENDED_RUNS_REMEMBERED). */
  private readonly endedRuns: BoundedMap<string, AgentRun>;
  private readonly latestRunBySession = new BoundedMap<string, AgentRun>({ capacity: 10_000, ttlMs: TTL_MS });
  private readonly latestRunBySessionId = new BoundedMap<string, AgentRun>({ capacity: 10_000, ttlMs: TTL_MS });
  /** Runs whose first hooks arrived without OpenClaw's trace id: when and what was seen. */
  private readonly pendingStarts = new BoundedMap<string, { seenAt: number; ref: RunRef }>({ capacity: 10_000, ttlMs: TTL_MS });
  /** OpenClaw trace ids already used for a top-level run's trace. */
  private readonly adoptedTraceIds = new BoundedMap<string, string>({ capacity: 10_000, ttlMs: TTL_MS });
  // Open requests and tool calls (forgotten when they end); those whose end hook never arrives are
  // ended when evicted, so no span is lost.
  private readonly chats = new BoundedMap<string, ChatCall>({
    capacity: 10_000,
    ttlMs: TTL_MS,
    onEvict: (_, chat) => this.finishChat(chat, { stopReason: "aborted", errorMessage: "no end of the request was observed" }),
  });
  /** Child session key → the tool span that spawned it. */
  private readonly subagentParents = new BoundedMap<string, ToolCall>({ capacity: 10_000, ttlMs: TTL_MS });

  constructor(options: SpanTreeOptions) {
    this.options = options;
    this.tracer = options.tracer;
    this.idGenerator = options.idGenerator;
    this.config = options.config;
    // A run whose end hook never arrives is ended when it is evicted, so its span is not lost.
    this.runs = new BoundedMap<string, AgentRun>({
      capacity: 10_000,
      ttlMs: TTL_MS,
      onEvict: (_, run) => this.finishRun(run, { abandoned: true }),
    });
    this.endedRuns = new BoundedMap<string, AgentRun>({
      capacity: ENDED_RUNS_REMEMBERED,
      ttlMs: TTL_MS,
      onEvict: (_, run) => this.forgetRun(run),
    });
  }

  /** Open runs, requests and tool calls, remembered ended runs, and known subagent sessions. */
  get sizes() {
    return {
      runs: this.runs.size,
      endedRuns: this.endedRuns.size,
      chats: this.chats.size,
      tools: this.countOpenTools(),
      subagents: this.subagentParents.size,
    };
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
      const message = errorMessage(outcome.error) ?? "agent run failed";
      run.span.setAttribute(GEN_AI.ERROR_TYPE, "agent_error");
      run.span.setStatus({ code: SpanStatusCode.ERROR, message: truncate(message, 500) });
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

  /**
   * Starts the `chat` span of one model request (idempotent per call id while it is open). OpenClaw
   * resends a failed request with the same call id (its same-model retry after a 5xx, a reset or a
   * malformed stream), so a call id whose span already ended starts a new span for the new request:
   * an ended request is forgotten.
   */
  startChat(callId: string, ref: RunRef & { model: string; serverAddress?: string; serverPort?: number }): ChatCall | undefined {
    const existing = this.chats.get(callId);
    if (existing && !existing.ended) return existing;
    const run = this.ensureRun({ ...ref, runId: ref.runId ?? this.runIdOfCall(callId) });
    if (!run) return undefined;
    run.lastModel = ref.model;
    const attributes: Attributes = {
      [GEN_AI.OPERATION_NAME]: OPERATION.CHAT,
      [GEN_AI.PROVIDER_NAME]: ref.provider ?? PROVIDER_NAME,
      [GEN_AI.REQUEST_MODEL]: ref.model,
      [OPENINFERENCE.SPAN_KIND]: SPAN_KIND.LLM,
      [OPENINFERENCE.LLM_MODEL_NAME]: ref.model,
      [OPENINFERENCE.LLM_PROVIDER]: ref.provider ?? PROVIDER_NAME,
      [OPENINFERENCE.LLM_SYSTEM]: LLM_SYSTEM,
      ...run.attributes,
    };
    if (ref.serverAddress) attributes[GEN_AI.SERVER_ADDRESS] = ref.serverAddress;
    if (ref.serverPort) attributes[GEN_AI.SERVER_PORT] = ref.serverPort;
    const span = this.tracer.startSpan(
      `${OPERATION.CHAT} ${ref.model}`,
      { kind: SpanKind.CLIENT, attributes },
      run.childContext ?? trace.setSpan(ROOT_CONTEXT, run.span),
    );
    const chat: ChatCall = { callId, run, span, spanContext: span.spanContext(), ended: false };
    this.chats.set(callId, chat);
    return chat;
  }

  getChat(callId: string): ChatCall | undefined {
    return this.chats.get(callId);
  }

  endChat(callId: string, result: ChatResult): void {
    const chat = this.chats.get(callId);
    if (chat) this.finishChat(chat, result);
  }

  private finishChat(chat: ChatCall, result: ChatResult): void {
    if (chat.ended) return;
    chat.ended = true;
    if (this.chats.get(chat.callId) === chat) this.chats.delete(chat.callId);
    const { span } = chat;
    const usage = result.usage;
    if (usage) {
      setNumber(span, GEN_AI.USAGE_INPUT_TOKENS, usage.input);
      setNumber(span, GEN_AI.USAGE_OUTPUT_TOKENS, usage.output);
      setNumber(span, OPENINFERENCE.LLM_TOKEN_PROMPT, usage.input);
      setNumber(span, OPENINFERENCE.LLM_TOKEN_COMPLETION, usage.output);
      if (usage.input !== undefined || usage.output !== undefined) {
        span.setAttribute(OPENINFERENCE.LLM_TOKEN_TOTAL, (usage.input ?? 0) + (usage.output ?? 0));
      }
      if (usage.cacheRead) {
        span.setAttribute(GEN_AI.USAGE_CACHE_READ_INPUT_TOKENS, usage.cacheRead);
        span.setAttribute(OPENINFERENCE.LLM_TOKEN_CACHE_READ, usage.cacheRead);
      }
      if (usage.cacheWrite) {
        span.setAttribute(GEN_AI.USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cacheWrite);
        span.setAttribute(OPENINFERENCE.LLM_TOKEN_CACHE_WRITE, usage.cacheWrite);
      }
    }
    if (result.responseModel) span.setAttribute(GEN_AI.RESPONSE_MODEL, result.responseModel);
    if (result.responseId) span.setAttribute(GEN_AI.RESPONSE_ID, result.responseId);
    if (result.stopReason) {
      span.setAttribute(GEN_AI.RESPONSE_FINISH_REASONS, [result.stopReason]);
      span.setAttribute(OPENINFERENCE.LLM_FINISH_REASON, result.stopReason);
    }
    if (result.outputText !== undefined && this.config.capture.completions) {
      const text = truncate(result.outputText, this.config.capture.maxChars);
      span.setAttribute(OPENINFERENCE.OUTPUT_VALUE, text);
      span.setAttribute(GEN_AI.OUTPUT_MESSAGES, safeJson([{ role: "assistant", parts: [{ type: "text", content: text }] }]));
    }
    recordServing(span, result.serving, usage);
    if (result.stopReason === "error" || result.stopReason === "aborted" || result.errorMessage) {
      span.setAttribute(GEN_AI.ERROR_TYPE, result.stopReason === "aborted" ? "aborted" : (result.errorType ?? "_OTHER"));
      span.setStatus({ code: SpanStatusCode.ERROR, message: truncate(result.errorMessage ?? result.stopReason ?? "error", 500) });
    }
    span.end();
  }

  /** Records the request messages on a chat span (only when prompt capture is on). */
  captureChatInput(callId: string, messages: unknown): void {
    if (!this.config.capture.prompts) return;
    const chat = this.chats.get(callId);
    if (!chat || chat.ended) return;
    const json = truncate(safeJson(messages), this.config.capture.maxChars);
    chat.span.setAttribute(OPENINFERENCE.INPUT_VALUE, json);
    chat.span.setAttribute(OPENINFERENCE.INPUT_MIME_TYPE, "application/json");
    chat.span.setAttribute(GEN_AI.INPUT_MESSAGES, json);
  }

  /** `before_tool_call`: starts the tool span (or attaches a bridged inner call to its outer span). */
  startTool(ref: RunRef, call: { toolName: string; toolCallId?: string | undefined; params?: unknown }): ToolCall | undefined {
    const run = this.ensureRun(ref);
    if (!run || !call.toolCallId) return undefined;
    const existing = run.tools.get(call.toolCallId);
    if (existing) return existing;

    const inner = call.toolCallId.startsWith(BRIDGE_INNER_PREFIX) ? BRIDGE_INNER_ID.exec(call.toolCallId) : null;
    const outer = inner ? run.tools.get(inner[1] as string) : undefined;
    if (outer && !outer.ended && outer.bridgedBy && outer.toolName === call.toolName && !outer.innerCallId) {
      // OpenClaw's deferred-tool bridge fires hooks for the model's `tool_call` and again for the
      // tool it runs; the span for the model's call already names that tool, so the inner call
      // only adds its id (openclaw-plugin-sdk.md §8.4).
      outer.innerCallId = call.toolCallId;
      outer.span.setAttribute(OPENCLAW.TOOL_INNER_CALL_ID, call.toolCallId);
      run.tools.set(call.toolCallId, outer);
      return outer;
    }

    const bridgeTarget =
      call.toolName === TOOL_BRIDGE ? (call.params as { id?: unknown } | undefined)?.id : undefined;
    const toolName = typeof bridgeTarget === "string" && bridgeTarget ? bridgeTarget : call.toolName;
    // What span processors read at start (the relay's tool_start) goes into startSpan; the rest is
    // set right after: the SDK validates start attributes twice and later ones once (~0.5 µs a call).
    const attributes: Attributes = {
      [GEN_AI.OPERATION_NAME]: OPERATION.EXECUTE_TOOL,
      [GEN_AI.TOOL_NAME]: toolName,
      [GEN_AI.TOOL_CALL_ID]: call.toolCallId,
      [DYNAMO.SESSION_ID]: run.ids.sessionId,
      [DYNAMO.TRAJECTORY_ID]: run.ids.trajectoryId,
    };
    if (run.ids.parentTrajectoryId) attributes[DYNAMO.PARENT_TRAJECTORY_ID] = run.ids.parentTrajectoryId;
    const parent = outer && !outer.ended ? outer.span : run.span;
    if (toolName === EXEC_TOOL && run.sessionKey) {
      // Reserved by `resolve_exec_env` in this session (on the session's newest run, see execEnv).
      const reserved = this.latestRunBySession.get(run.sessionKey)?.execSpanIds.shift();
      if (reserved) this.idGenerator.useForNextSpan(reserved);
    }
    const span = this.tracer.startSpan(
      `${OPERATION.EXECUTE_TOOL} ${toolName}`,
      { kind: SpanKind.INTERNAL, attributes },
      parent === run.span && run.childContext ? run.childContext : trace.setSpan(ROOT_CONTEXT, parent),
    );
    span.setAttribute(GEN_AI.TOOL_TYPE, "function");
    span.setAttribute(OPENINFERENCE.SPAN_KIND, SPAN_KIND.TOOL);
    span.setAttribute(OPENINFERENCE.TOOL_NAME, toolName);
    span.setAttribute(OPENINFERENCE.TOOL_CALL_ID, call.toolCallId);
    if (run.sessionId) {
      span.setAttribute(OPENINFERENCE.SESSION_ID, run.sessionId);
      span.setAttribute(GEN_AI.CONVERSATION_ID, run.sessionId);
    }
    if (toolName !== call.toolName) span.setAttribute(OPENCLAW.TOOL_BRIDGE, call.toolName);
    if (this.config.capture.toolArguments && call.params !== undefined) {
      const args = truncate(safeJson(toolName !== call.toolName ? (call.params as { args?: unknown }).args : call.params), this.config.capture.maxChars);
      span.setAttribute(GEN_AI.TOOL_CALL_ARGUMENTS, args);
      span.setAttribute(OPENINFERENCE.INPUT_VALUE, args);
      span.setAttribute(OPENINFERENCE.INPUT_MIME_TYPE, "application/json");
    }
    const tool: ToolCall = {
      run,
      span,
      spanContext: span.spanContext(),
      toolName,
      toolCallId: call.toolCallId,
      bridgedBy: toolName !== call.toolName ? call.toolName : undefined,
      innerCallId: undefined,
      innerError: undefined,
      ended: false,
    };
    run.tools.set(call.toolCallId, tool);
    if (run.tools.size > OPEN_TOOLS_PER_RUN) {
      const oldest = run.tools.values().next().value;
      if (oldest) this.cancelTool(oldest, "no after_tool_call was observed");
    }
    if (toolName === SPAWN_TOOL) run.spawnTools.push(tool);
    return tool;
  }

  /** `after_tool_call`: ends the tool span with status, error and result size. */
  endTool(ref: RunRef, call: { toolCallId?: string | undefined; result?: unknown; error?: unknown }): void {
    const run = this.ensureRun(ref);
    if (!run || !call.toolCallId) return;
    const tool = run.tools.get(call.toolCallId);
    if (!tool || tool.ended) return;
    if (tool.innerCallId === call.toolCallId) {
      // The bridged inner call ended; the outer `tool_call` ends the span.
      if (call.error) tool.innerError = call.error;
      return;
    }
    const { span } = tool;
    const error = call.error ?? tool.innerError ?? resultError(call.result);
    const status = error ? (isCancellation(error) ? "cancelled" : "error") : "succeeded";
    span.setAttribute(DYNAMO.TOOL_STATUS, status);
    span.setAttribute(DYNAMO.TOOL_OUTPUT_BYTES, toolOutputBytes(call.result ?? errorMessage(error)));
    if (this.config.capture.toolResults && call.result !== undefined) {
      const text = truncate(textOf(call.result), this.config.capture.maxChars);
      span.setAttribute(GEN_AI.TOOL_CALL_RESULT, text);
      span.setAttribute(OPENINFERENCE.OUTPUT_VALUE, text);
    }
    if (error) {
      span.setAttribute(GEN_AI.ERROR_TYPE, status === "cancelled" ? "cancelled" : "openclaw_tool_error");
      span.setStatus({ code: SpanStatusCode.ERROR, message: truncate(errorMessage(error) ?? "tool failed", 500) });
    }
    this.finishTool(tool);
  }

  /**
   * Ends a tool call's span, once. An ended call is forgotten: a later `before_tool_call` with its
   * id starts a new span. Only a spawn tool stays referenced after its end (a subagent session
   * remembers it to parent the announce run), so only it gives up its ended SDK span.
   */
  private finishTool(tool: ToolCall): void {
    if (tool.ended) return;
    tool.ended = true;
    this.forgetTool(tool);
    const spawnTools = tool.run.spawnTools;
    const spawnIndex = spawnTools.indexOf(tool);
    if (spawnIndex >= 0) spawnTools.splice(spawnIndex, 1);
    tool.span.end();
    if (tool.toolName === SPAWN_TOOL) releaseSpan(tool);
  }

  /** Open tool calls of all runs (a bridged call is one call under two ids). For the status only. */
  private countOpenTools(): number {
    let open = 0;
    for (const runs of [this.runs, this.endedRuns]) {
      for (const run of runs.values()) open += new Set(run.tools.values()).size;
    }
    return open;
  }

  private forgetTool(tool: ToolCall): void {
    const tools = tool.run.tools;
    if (tools.get(tool.toolCallId) === tool) tools.delete(tool.toolCallId);
    if (tool.innerCallId !== undefined && tools.get(tool.innerCallId) === tool) tools.delete(tool.innerCallId);
  }

  /**
   * `subagent_spawned` / `subagent_progress`: remembers which tool span spawned the child session,
   * so the child's agent span is parented on it when its run starts.
   */
  noteSubagent(childSessionKey: string | undefined, requesterSessionKey: string | undefined, label?: string): void {
    if (!childSessionKey) return;
    const known = this.subagentParents.get(childSessionKey);
    if (known) {
      // `subagent_progress(started)` (no label) comes before `subagent_spawned` (label); §9.
      if (label && !known.ended) known.span.setAttribute(OPENCLAW.SUBAGENT_LABEL, label);
      return;
    }
    const requester = requesterSessionKey ? this.latestRunBySession.get(requesterSessionKey) : undefined;
    const spawnTool = requester?.spawnTools.at(-1) ?? this.newestOpenSpawnTool();
    if (!spawnTool) return;
    this.subagentParents.set(childSessionKey, spawnTool);
    if (label) spawnTool.span.setAttribute(OPENCLAW.SUBAGENT_LABEL, label);
  }

  /**
   * `resolve_exec_env`: environment for an exec command started in `sessionKey`. Reserves the id of
   * the exec tool span that `before_tool_call` is about to create, so `TRACEPARENT` names it.
   */
  execEnv(sessionKey: string | undefined): Record<string, string> | undefined {
    const run = sessionKey ? this.latestRunBySession.get(sessionKey) : undefined;
    if (!run || run.ended) return undefined;
    const spanId = this.idGenerator.reserveSpanId();
    const queue = run.execSpanIds;
    queue.push(spanId);
    if (queue.length > EXEC_RESERVATIONS_PER_SESSION) queue.shift();
    // The run's TRACESTATE and BAGGAGE are the same for all its commands: built on its first exec.
    run.execEnv ??= childProcessEnvFactory(run.spanContext, run.ids.trajectoryId, this.options.inbound?.context);
    return run.execEnv(spanId);
  }

  /** Ends every open span (gateway stop, process exit). */
  closeAll(): void {
    for (const run of [...this.runs.values(), ...this.endedRuns.values()]) {
      for (const tool of [...run.tools.values()]) this.cancelTool(tool, "OpenClaw stopped during the tool call");
    }
    for (const chat of this.chats.values()) {
      if (!chat.ended) this.endChat(chat.callId, { stopReason: "aborted", errorMessage: "OpenClaw stopped during the request" });
    }
    for (const run of [...this.runs.values()]) this.finishRun(run, { abandoned: true });
  }

  openRuns(): AgentRun[] {
    return [...this.runs.values()].filter((run) => !run.ended);
  }

  private startRun(runId: string, ref: RunRef, startTime?: number): AgentRun {
    const kind = this.classify(runId, ref.sessionKey);
    const agentId = ref.agentId ?? agentIdOfSessionKey(ref.sessionKey) ?? "main";
    let parentContext: Context = ROOT_CONTEXT;
    let parentTrajectoryId: string | undefined;
    let links: Link[] | undefined;
    const identity = this.options.identity;
    let isSubagent = identity?.processIsSubagent === true;
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
      const parentRun = spawnTool?.run ?? (ref.sessionKey ? this.latestRunBySession.get(ref.sessionKey) : undefined);
      if (parentRun) {
        parentContext = trace.setSpan(ROOT_CONTEXT, parentRun.span);
        parentTrajectoryId = parentRun.ids.trajectoryId;
      }
    } else {
      const inbound = this.options.inbound;
      if (inbound && this.config.inboundContext === "parent") parentContext = inbound.context;
      else if (inbound) links = [{ context: inbound.spanContext, attributes: { "link.kind": "inbound_traceparent" } }];
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
          ...(ref.sessionKey ? { [OPENCLAW.SESSION_KEY]: ref.sessionKey } : {}),
          ...(ref.provider ? { [GEN_AI.PROVIDER_NAME]: ref.provider } : {}),
        },
        ...(links ? { links } : {}),
        ...(startTime !== undefined ? { startTime } : {}),
      },
      parentContext,
    );
    const spanContext = span.spanContext();
    const ids = deriveIds({
      agentSpan: spanContext,
      parentTrajectoryId,
      sessionIdOverride: identity?.sessionIdOverride,
      trajectoryIdOverride: kind === "lead" ? identity?.leadTrajectoryIdOverride : undefined,
    });
    const run: AgentRun = {
      runId,
      kind,
      span,
      spanContext,
      ids,
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

  private classify(runId: string, sessionKey: string | undefined): RunKind {
    if (ANNOUNCE_RUN_ID.test(runId)) return "announce";
    if (sessionKey && (sessionKey.includes(SUBAGENT_SESSION) || this.subagentParents.has(sessionKey))) return "subagent";
    return "lead";
  }

  private newestOpenSpawnTool(): ToolCall | undefined {
    let newest: ToolCall | undefined;
    for (const run of this.runs.values()) {
      const candidate = run.spawnTools.at(-1);
      if (candidate && !candidate.ended) newest = candidate;
    }
    return newest;
  }

  private cancelTool(tool: ToolCall, message: string): void {
    if (tool.ended) return;
    tool.span.setAttribute(DYNAMO.TOOL_STATUS, "cancelled");
    tool.span.setAttribute(GEN_AI.ERROR_TYPE, "cancelled");
    tool.span.setStatus({ code: SpanStatusCode.ERROR, message });
    this.finishTool(tool);
  }

  private finishRun(run: AgentRun, how: { abandoned?: boolean }): void {
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
  private forgetRun(run: AgentRun): void {
    if (run.sessionKey && this.latestRunBySession.get(run.sessionKey) === run) this.latestRunBySession.delete(run.sessionKey);
    if (run.sessionId && this.latestRunBySessionId.get(run.sessionId) === run) this.latestRunBySessionId.delete(run.sessionId);
    if (this.adoptedTraceIds.get(run.spanContext.traceId) === run.runId) this.adoptedTraceIds.delete(run.spanContext.traceId);
    for (const tool of [...run.tools.values()]) this.cancelTool(tool, "no after_tool_call was observed");
  }
}

/** Attributes every span of a run carries (session and Dynamo correlation, SPEC §3.2). */
function runAttributes(ids: DynamoIds, sessionId: string | undefined): Attributes {
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
function releaseSpan(holder: { readonly span: Span; readonly spanContext: SpanContext }): void {
  (holder as { span: Span }).span = trace.wrapSpanContext(holder.spanContext);
}

/** `ref` with the gaps filled from `earlier` (what earlier hooks of the same run said). */
function mergeRefs(ref: RunRef, earlier: RunRef): RunRef {
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
function agentIdOfSessionKey(sessionKey: string | undefined): string | undefined {
  if (!sessionKey?.startsWith("agent:")) return undefined;
  const agentId = sessionKey.split(":")[1];
  return agentId || undefined;
}

function setNumber(span: Span, key: string, value: number | undefined): void {
  if (typeof value === "number" && Number.isFinite(value)) span.setAttribute(key, value);
}

function errorMessage(error: unknown): string | undefined {
  if (error === undefined || error === null || error === false) return undefined;
  if (typeof error === "string") return error;
  if (error instanceof Error) return error.message;
  const message = (error as { message?: unknown }).message;
  return typeof message === "string" ? message : safeJson(error);
}

/**
 * Tools report some failures in the result (`{status: "error"}` / `isError`) rather than `error`.
 * An `isError` result's text is the tool result itself: it reaches a span only through result
 * capture (`gen_ai.tool.call.result`), never through the span status (SPEC §2: capture off by default).
 */
function resultError(result: unknown): unknown {
  if (!result || typeof result !== "object") return undefined;
  const r = result as { isError?: unknown; details?: { status?: unknown; error?: unknown } };
  if (r.isError === true) return "tool reported an error";
  if (r.details?.status === "error") return r.details.error ?? "tool reported an error";
  return undefined;
}

function isCancellation(error: unknown): boolean {
  const message = errorMessage(error) ?? "";
  return /\b(abort(ed)?|cancel(l)?ed)\b/i.test(message);
}
