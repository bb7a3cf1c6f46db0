/**
 * Real-OpenClaw e2e runner: isolated worlds, `agent --local` turns, a foreground Gateway, and log
 * helpers. Everything started is tracked; `world.dispose()` (afterAll) stops it, and a process
 * `exit` hook SIGKILLs any process group still alive. Per-file bookkeeping (timings, cleanup,
 * failure context) is in bookkeeping.ts, the only module here that imports vitest.
 */
export { createOpenClawEnv, deepMerge, parseJsonOutput, WORKSPACE_FILE, WORKSPACE_FILE_CONTENT } from "./world.ts";
export type { CliOptions, CliResult, OpenClawEnvOptions, OpenClawWorld } from "./world.ts";
export { payloadTexts, runAgentLocal } from "./agent.ts";
export type { AgentTurnOptions, AgentTurnResult } from "./agent.ts";
export { isGatewayReadyLine, startGateway } from "./gateway.ts";
export type { GatewayOptions, GatewayStopResult, RunningGateway } from "./gateway.ts";
export { lines, parseLogFile, pluginLines, pluginLogEntries, readTextFile, stripAnsi, tail } from "./logs.ts";
export type { LogEntry } from "./logs.ts";
export { freePort } from "./ports.ts";
export { buildChildEnv } from "./child-env.ts";
export type { ChildEnv } from "./child-env.ts";
export { REPO_ROOT, E2E_ROOT, OPENCLAW_ENTRY } from "./paths.ts";
export { pluginLoadPath, pluginSourceMode } from "./plugin-source.ts";
export type { PluginSourceMode } from "./plugin-source.ts";
export { explain, keepOnFailure, Resources, Timings } from "./bookkeeping.ts";
export type { ProcessOutcome } from "./bookkeeping.ts";
