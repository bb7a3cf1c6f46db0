/** What the provider needs from the rest of the plugin (wired in src/plugin.ts). */
import type { SpanTree } from "../trace/span-tree.ts";
import type { DynamoPluginConfig } from "../types.ts";
import type { ProtocolState } from "./protocol.ts";
import type { DynamoSessions } from "./session.ts";

export interface ProviderDeps {
  readonly config: DynamoPluginConfig;
  /** The span tree; absent only if telemetry failed to start (the provider then works untraced). */
  readonly tree: SpanTree | undefined;
  /** Present when `DYN_AGENT_TRACE` is on. */
  readonly sessions: DynamoSessions | undefined;
  readonly protocols: ProtocolState | undefined;
  warnOnce(key: string, message: string): void;
}
