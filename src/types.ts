/**
 * The plugin's resolved configuration (SPEC §2). Built once per process by `loadConfig` from
 * `plugins.entries.dynamo.config` (wins) and the environment; frozen. The types are mapped from the
 * settings table in src/config/settings.ts (one source; see docs/settings.md).
 */
import type { Settings } from "./config/keys.ts";

/** How Dynamo agent identity travels: Dynamo 1.2 body `nvext`, Dynamo 1.3+ headers, or negotiated. */
export type DynamoProtocol = "nvext" | "headers";

export type { CaptureConfig, InboundMode, OtlpProtocol, ProtocolSetting } from "./config/keys.ts";
export type { ConfigWarning } from "./config/load.ts";

export type DynamoPluginConfig = Settings;
