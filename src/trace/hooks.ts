/**
 * OpenClaw hook payloads → span tree calls. Pure mapping; hook registration, error isolation and
 * flushing live in src/plugin.ts. Payload shapes: openclaw-plugin-sdk.md §8.3.
 */
import type { SpanTree } from "./span-tree.ts";

/** The loosely-typed payloads OpenClaw passes; only the fields used here. */
export interface HookCtx {
  runId?: string;
  sessionKey?: string;
  sessionId?: string;
  agentId?: string;
  modelProviderId?: string;
  modelId?: string;
  requesterSessionKey?: string;
  childSessionKey?: string;
  trace?: { traceId?: string };
}

export type HookEvent = Record<string, unknown>;

const str = (value: unknown): string | undefined => (typeof value === "string" && value ? value : undefined);

/** Run identity from a hook's event and ctx (either may carry it). */
export function runRefOf(event: HookEvent, ctx: HookCtx) {
  return {
    // Every field is checked: a hook payload is outside input (SPEC §8).
    runId: str(event.runId) ?? str(ctx.runId),
    sessionKey: str(event.sessionKey) ?? str(ctx.sessionKey),
    sessionId: str(event.sessionId) ?? str(ctx.sessionId),
    agentId: str(ctx.agentId) ?? str(event.agentId),
    provider: str(event.provider) ?? str(ctx.modelProviderId),
    model: str(event.model) ?? str(ctx.modelId),
    openclawTraceId: str(ctx.trace?.traceId),
  };
}

/**
 * Hooks that mark the start of a run (there is no `agent_start`; OpenClaw fires `before_agent_reply`
 * → `before_model_resolve` → `agent_turn_prepare` → `before_prompt_build` → `before_agent_run`).
 * The first three suffice: the earliest one seen gives the span's start, and `agent_turn_prepare`
 * brings OpenClaw's trace context. The last two are not registered (docs/performance.md): they carry
 * the conversation history, which OpenClaw's plugin proxies walk on every call, and a
 * `before_agent_run` handler that failed or hung would block the run (it fails closed).
 */
export const RUN_START_HOOKS = ["before_agent_reply", "before_model_resolve", "agent_turn_prepare"] as const;

export function onRunStart(tree: SpanTree, event: HookEvent, ctx: HookCtx): void {
  tree.noteRunStart(runRefOf(event, ctx));
}

export function onLlmInput(tree: SpanTree, event: HookEvent, ctx: HookCtx): void {
  const run = tree.ensureRun(runRefOf(event, ctx));
  if (run) tree.capturePrompt(run.runId, event.prompt);
}

export function onModelCallStarted(tree: SpanTree, event: HookEvent, ctx: HookCtx, ownProvider: string): void {
  const ref = runRefOf(event, ctx);
  tree.ensureRun(ref);
  const callId = str(event.callId);
  // Requests to the plugin's own provider get their chat span from the stream wrapper, which
  // also knows the usage; other providers' calls are traced from the hooks alone.
  if (callId && ref.provider !== ownProvider && ref.model) tree.startChat(callId, { ...ref, model: ref.model });
}

export function onModelCallEnded(tree: SpanTree, event: HookEvent, ctx: HookCtx, ownProvider: string): void {
  const ref = runRefOf(event, ctx);
  const callId = str(event.callId);
  if (!callId || ref.provider === ownProvider) return;
  const failed = event.outcome === "error";
  tree.endChat(callId, {
    stopReason: failed ? "error" : "stop",
    errorType: str(event.errorCategory) ?? str(event.failureKind),
    errorMessage: failed ? (str(event.failureKind) ?? "model call failed") : undefined,
  });
}

export function onBeforeToolCall(tree: SpanTree, event: HookEvent, ctx: HookCtx & { toolName?: string; toolCallId?: string }): void {
  tree.startTool(runRefOf(event, ctx), {
    toolName: str(event.toolName) ?? str(ctx.toolName) ?? "unknown",
    toolCallId: str(event.toolCallId) ?? str(ctx.toolCallId),
    params: event.params,
  });
}

export function onAfterToolCall(tree: SpanTree, event: HookEvent, ctx: HookCtx & { toolCallId?: string }): void {
  tree.endTool(runRefOf(event, ctx), {
    toolCallId: str(event.toolCallId) ?? str(ctx.toolCallId),
    result: event.result,
    error: event.error,
  });
}

export function onSubagentSpawned(tree: SpanTree, event: HookEvent, ctx: HookCtx): void {
  const childSessionKey = str(event.childSessionKey) ?? str(ctx.childSessionKey);
  // A `mode: "session"` subagent takes follow-ups: its chain ends with its session (docs/identity.md).
  if (childSessionKey && str(event.mode) === "session") tree.conversations.markPersistent(childSessionKey);
  tree.noteSubagent(
    str(event.childSessionKey) ?? str(ctx.childSessionKey),
    str(ctx.requesterSessionKey) ?? str((event.requester as HookEvent | undefined)?.sessionKey),
    str(event.label),
  );
}

export function onAgentEnd(tree: SpanTree, event: HookEvent, ctx: HookCtx) {
  const ref = runRefOf(event, ctx);
  if (!ref.runId) return undefined;
  return tree.endRun(ref.runId, {
    success: event.success !== false,
    error: event.error,
    finalText: lastAssistantText(event.messages),
  });
}

/**
 * `session_end`: true when the conversation really ended (its Dynamo chain ends); false at
 * compaction, where OpenClaw's session goes on (openclaw-plugin-sdk.md §8.3: `reason: "compaction"`,
 * `nextSessionId` when a context engine rotates the id).
 */
export function onSessionEnd(tree: SpanTree, event: HookEvent, ctx: HookCtx): boolean {
  return tree.conversations.sessionEnded({
    sessionKey: str(event.sessionKey) ?? str(ctx.sessionKey),
    sessionId: str(event.sessionId) ?? str(ctx.sessionId),
    reason: str(event.reason),
    nextSessionId: str(event.nextSessionId),
  });
}

export function onResolveExecEnv(tree: SpanTree, event: HookEvent, ctx: HookCtx): Record<string, string> | undefined {
  return tree.execEnv(str(event.sessionKey) ?? str(ctx.sessionKey));
}

function lastAssistantText(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as { role?: unknown; content?: unknown } | null;
    if (message?.role !== "assistant") continue;
    const content = message.content;
    if (typeof content === "string") return content;
    if (Array.isArray(content)) {
      const text = content
        .filter((part) => (part as { type?: unknown })?.type === "text")
        .map((part) => String((part as { text?: unknown }).text ?? ""))
        .join("");
      if (text) return text;
    }
  }
  return undefined;
}
