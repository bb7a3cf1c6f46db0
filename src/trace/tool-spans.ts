/**
 * `execute_tool` spans (docs/span-tree.md): one per tool call, keyed by the model's tool-call id
 * within its run (a call through OpenClaw's `tool_call` bridge is one span under two ids), the
 * subagent sessions a `sessions_spawn` call started, and the exec environment that names the exec
 * tool span (and hands a nested OpenClaw its parent chain, docs/identity.md).
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from "@opentelemetry/api";
import { DYNAMO, GEN_AI, OPENCLAW, OPENINFERENCE, OPERATION, SPAN_KIND } from "./attributes.ts";
import { safeJson, textOf, truncate } from "./content.ts";
import { ChatSpans } from "./chat-spans.ts";
import { childProcessEnvFactory } from "./inbound.ts";
import { ERROR_TYPE, errorStatus, labelAttribute, toolErrorType } from "./privacy.ts";
import { toolOutputBytes } from "./tool-output.ts";
import { errorMessage, releaseSpan, type RunRef, type ToolCall } from "./tree-types.ts";

/** The variable a nested process reads its parent trajectory from (src/config.ts). */
export const PARENT_TRAJECTORY_ENV = "DYN_AGENT_PARENT_TRAJECTORY_ID";
const BRIDGE_INNER_PREFIX = "tool_search_code:";
const BRIDGE_INNER_ID = /^tool_search_code:(.+):([^:]+):\d+$/;
const TOOL_BRIDGE = "tool_call";
const SPAWN_TOOL = "sessions_spawn";
const EXEC_TOOL = "exec";
/** A session's pending exec span-id reservations (one per `resolve_exec_env` not yet followed by its tool call). */
const EXEC_RESERVATIONS_PER_SESSION = 64;
/** Open tool calls one run may have; beyond it the oldest is ended as cancelled (its end never came). */
const OPEN_TOOLS_PER_RUN = 1_000;

export abstract class ToolSpans extends ChatSpans {
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
    const message = error ? errorMessage(error) : undefined;
    const errorType = error ? toolErrorType(message) : undefined;
    const status = errorType === undefined ? "succeeded" : errorType === ERROR_TYPE.CANCELLED ? "cancelled" : "error";
    span.setAttribute(DYNAMO.TOOL_STATUS, status);
    span.setAttribute(DYNAMO.TOOL_OUTPUT_BYTES, toolOutputBytes(call.result ?? message));
    if (this.config.capture.toolResults && call.result !== undefined) {
      const text = truncate(textOf(call.result), this.config.capture.maxChars);
      span.setAttribute(GEN_AI.TOOL_CALL_RESULT, text);
      span.setAttribute(OPENINFERENCE.OUTPUT_VALUE, text);
    }
    if (errorType !== undefined) {
      // OpenClaw's error is the first line of the tool's output: tool-result capture (docs/privacy.md).
      span.setAttribute(GEN_AI.ERROR_TYPE, errorType);
      span.setStatus(errorStatus(errorType, message ?? "tool failed", this.config.capture.toolResults, this.config.capture));
    }
    this.finishTool(tool);
  }

  /**
   * Ends a tool call's span, once. An ended call is forgotten: a later `before_tool_call` with its
   * id starts a new span. Only a spawn tool stays referenced after its end (a subagent session
   * remembers it to parent the announce run), so only it gives up its ended SDK span.
   */
  protected finishTool(tool: ToolCall): void {
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
  protected countOpenTools(): number {
    let open = 0;
    for (const runs of [this.runs, this.endedRuns]) {
      for (const run of runs.values()) open += new Set(run.tools.values()).size;
    }
    return open;
  }

  protected forgetTool(tool: ToolCall): void {
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
      const shown = labelAttribute(label, this.config.capture);
      if (shown && !known.ended) known.span.setAttribute(OPENCLAW.SUBAGENT_LABEL, shown);
      return;
    }
    const requester = requesterSessionKey ? this.latestRunBySession.get(requesterSessionKey) : undefined;
    const spawnTool = requester?.spawnTools.at(-1) ?? this.newestOpenSpawnTool();
    if (!spawnTool) return;
    this.subagentParents.set(childSessionKey, spawnTool);
    const shown = labelAttribute(label, this.config.capture);
    if (shown) spawnTool.span.setAttribute(OPENCLAW.SUBAGENT_LABEL, shown);
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
    // A nested OpenClaw becomes a child chain of this run, whatever DYN_AGENT_* it inherited
    // (./process-role.ts; docs/identity.md).
    const env = run.execEnv(spanId); // a fresh object per command
    env[PARENT_TRAJECTORY_ENV] = run.ids.trajectoryId;
    return env;
  }

  protected newestOpenSpawnTool(): ToolCall | undefined {
    let newest: ToolCall | undefined;
    for (const run of this.runs.values()) {
      const candidate = run.spawnTools.at(-1);
      if (candidate && !candidate.ended) newest = candidate;
    }
    return newest;
  }

  protected cancelTool(tool: ToolCall, message: string): void {
    if (tool.ended) return;
    tool.span.setAttribute(DYNAMO.TOOL_STATUS, "cancelled");
    tool.span.setAttribute(GEN_AI.ERROR_TYPE, "cancelled");
    tool.span.setStatus({ code: SpanStatusCode.ERROR, message });
    this.finishTool(tool);
  }
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

