/**
 * The span tree (SPEC §3.1, docs/span-tree.md): one `invoke_agent` span per OpenClaw agent run,
 * `chat` spans for model requests and `execute_tool` spans for tool calls under it, subagent runs
 * under the tool span that spawned them. OpenClaw reports all of this through separate hooks,
 * correlated by run id, session key and the model's tool-call id, in bounded maps. Each concern is
 * its own layer: runs (./run-spans.ts, with Dynamo chains from ./conversations.ts), requests
 * (./chat-spans.ts), tool calls, subagents and exec env (./tool-spans.ts); this file composes them.
 */
import { ToolSpans } from "./tool-spans.ts";
import type { SpanTreeOptions } from "./tree-types.ts";

export type { AgentRun, ChatCall, ChatResult, RunKind, RunRef, SpanTreeOptions, ToolCall } from "./tree-types.ts";

export class SpanTree extends ToolSpans {
  constructor(options: SpanTreeOptions) {
    super(options);
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

  /** Ends every open span (gateway stop, process exit). */
  closeAll(): void {
    for (const run of [...this.runs.values(), ...this.endedRuns.values()]) {
      for (const tool of [...run.tools.values()]) this.cancelTool(tool, "OpenClaw stopped during the tool call");
    }
    for (const chat of this.chats.values()) {
      if (!chat.ended) this.endChat(chat.callId, { stopReason: "aborted", note: "OpenClaw stopped during the request" });
    }
    for (const run of [...this.runs.values()]) this.finishRun(run, { abandoned: true });
  }
}
