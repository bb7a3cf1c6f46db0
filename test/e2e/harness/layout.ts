/**
 * What every isolated OpenClaw has, for the e2e worlds (world.ts) and `npm run demo`
 * (demo/openclaw.ts): its directories, its config and its base environment. No vitest here.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";

type JsonObject = Record<string, unknown>;

/** Where one isolated OpenClaw keeps its HOME, state dir, config file, log file and agent workspace. */
export interface OpenClawLayout {
  dir: string;
  home: string;
  stateDir: string;
  workspace: string;
  configPath: string;
  logFile: string;
}

/** The layout under `dir`, with its home, state and workspace directories created. */
export function createLayout(dir: string): OpenClawLayout {
  const stateDir = join(dir, "state");
  const layout = {
    dir,
    home: join(dir, "home"),
    stateDir,
    workspace: join(dir, "workspace"),
    configPath: join(stateDir, "openclaw.json"),
    logFile: join(dir, "openclaw.log"),
  };
  for (const d of [layout.home, stateDir, layout.workspace]) mkdirSync(d, { recursive: true });
  return layout;
}

export interface OpenClawConfigOptions {
  layout: OpenClawLayout;
  /** What `plugins.load.paths` points at. */
  pluginPath: string;
  /** `plugins.entries.dynamo.config`. */
  pluginConfig: JsonObject;
  /** Model id without the `dynamo/` prefix, for `agents.defaults.model.primary`. */
  model: string;
  /** `plugins.entries.dynamo.hooks.allowConversationAccess` (default true; false omits the hooks block). */
  allowConversationAccess?: boolean;
  /** Write the `gateway` block: loopback, token auth. */
  gateway?: { port: number; token: string };
}

/** The config: log file, no update check, the dynamo plugin from `pluginPath`, `dynamo/<model>`, no heartbeat, the Gateway. */
export function openClawConfig(options: OpenClawConfigOptions): JsonObject {
  const entry: JsonObject = { enabled: true, config: options.pluginConfig };
  // Run-level hooks (agent_end, llm_input, …) reach a non-bundled plugin only with allowConversationAccess.
  if (options.allowConversationAccess !== false) entry.hooks = { allowConversationAccess: true };
  const config: JsonObject = {
    logging: { file: options.layout.logFile },
    // No version check against telemetry.openclaw.ai.
    update: { checkOnStart: false },
    plugins: { load: { paths: [options.pluginPath] }, entries: { dynamo: entry } },
    // heartbeat "0m": no recurring heartbeat turn may reach the model in the middle of a scripted run.
    agents: { defaults: { model: { primary: `dynamo/${options.model}` }, workspace: options.layout.workspace, heartbeat: { every: "0m" } } },
  };
  const { gateway } = options;
  if (gateway) config.gateway = { mode: "local", port: gateway.port, bind: "loopback", auth: { mode: "token", token: gateway.token } };
  return config;
}

/** Environment of every OpenClaw process of the layout: its state dir and config file; no auto-update, Bonjour or respawn. */
export function openClawEnv(layout: OpenClawLayout): Record<string, string> {
  return {
    OPENCLAW_STATE_DIR: layout.stateDir,
    OPENCLAW_CONFIG_PATH: layout.configPath,
    // Keep runs quiet and self-contained (docs/gateway/embedding.md).
    OPENCLAW_NO_AUTO_UPDATE: "1",
    OPENCLAW_DISABLE_BONJOUR: "1",
    OPENCLAW_NO_RESPAWN: "1",
  };
}
