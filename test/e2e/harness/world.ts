/**
 * An isolated OpenClaw "world": its own HOME, state dir, config file, log file and agent
 * workspace under `<repo>/.e2e/<name>-<random>/`, so nothing touches the developer's ~/.openclaw
 * and parallel worlds never share a state lock (SDK notes §15.1, pitfalls 9 and 10).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildChildEnv, type ChildEnv } from "./child-env.ts";
import { createLayout, openClawConfig, openClawEnv } from "./layout.ts";
import { E2E_ROOT } from "./paths.ts";
import { pluginLoadPath, type PluginSourceMode } from "./plugin-source.ts";
import { freePort } from "./ports.ts";
import { signalGroup, spawnOpenClaw, stopProcess, type SpawnedOpenClaw } from "./processes.ts";

export const WORKSPACE_FILE = "hello.txt";
export const WORKSPACE_FILE_CONTENT = "hello from the workspace file";

type JsonObject = Record<string, unknown>;

export interface OpenClawEnvOptions {
  /** Directory name prefix under .e2e/ (default "world"). */
  name?: string;
  /** `plugins.entries.dynamo.config` (default `{}`). */
  pluginConfig?: JsonObject;
  /** Extra child env for every process of this world (e.g. DYNAMO_BASE_URL); `undefined` removes a key. */
  env?: Record<string, string | undefined>;
  /** Deep-merged into the generated config last (objects merge, everything else replaces). */
  extraConfig?: JsonObject;
  /** Config `models` block, e.g. `{providers: {dynamo: {...}}}` for the config-based keyless path (§13). */
  models?: JsonObject;
  /** Model id used for `agents.defaults.model.primary` (`dynamo/<model>`) and `--model` (default "mock-model"). */
  model?: string;
  /** `plugins.entries.dynamo.hooks.allowConversationAccess` (default true; false omits the hooks block). */
  allowConversationAccess?: boolean;
  /**
   * Load the plugin from a private copy in the `npm pack` layout (`packed`, default), a per-module
   * `tsc` snapshot or the checkout itself (see plugin-source.ts). Default from OPENCLAW_E2E_PLUGIN_SOURCE.
   */
  pluginSource?: PluginSourceMode;
  /** Pre-allocate a Gateway port and token and write the `gateway` config block (§15.2). */
  gateway?: boolean;
}

export interface CliResult {
  args: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Parsed stdout when it is JSON (the `--json` commands), else undefined. */
  json: unknown;
  startedAtMs: number;
  exitedAtMs: number;
  durationMs: number;
  timedOut: boolean;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  /** Kill the process group after this long (default 120 s). */
  timeoutMs?: number;
  /** Label for the output files under `<world>/out/`. */
  label?: string;
  /** Called for every stdout chunk with the spawn handle (used to timestamp answers). */
  onStdout?: (chunk: string, proc: SpawnedOpenClaw) => void;
}

export interface OpenClawWorld {
  name: string;
  dir: string;
  home: string;
  stateDir: string;
  configPath: string;
  logFile: string;
  workspace: string;
  outDir: string;
  /** What `plugins.load.paths` points at. */
  pluginPath: string;
  /** Default model id (without the `dynamo/` prefix). */
  model: string;
  /** Gateway port/token when created with `gateway: true` (or after `startGateway`). */
  gateway?: { port: number; token: string };
  /** The config as last written. */
  config(): JsonObject;
  /** Replace the config file with `mutate(copy)`'s result (or the mutated copy). */
  updateConfig(mutate: (config: JsonObject) => JsonObject | void): void;
  /** Child env of this world plus `extra`. */
  childEnv(extra?: Record<string, string | undefined>): ChildEnv;
  /** Run `openclaw <args>` to completion in this world. */
  cli(args: string[], options?: CliOptions): Promise<CliResult>;
  /** Start `openclaw <args>` in this world and track it for dispose(). */
  spawn(args: string[], options?: { env?: Record<string, string | undefined>; label?: string }): SpawnedOpenClaw;
  /** Keep the directory on dispose() (call when a test failed). */
  keep(): void;
  /** Stop everything this world started (SIGTERM, then SIGKILL) and remove its directory unless kept. */
  dispose(): Promise<void>;
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function deepMerge(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** Parse stdout as JSON; tolerate leading non-JSON noise by falling back to the first `{`/`[` line. */
export function parseJsonOutput(stdout: string): unknown {
  const text = stdout.trim();
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    const start = text.search(/^[[{]/m);
    if (start > 0) {
      try {
        return JSON.parse(text.slice(start));
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
}

export async function createOpenClawEnv(options: OpenClawEnvOptions = {}): Promise<OpenClawWorld> {
  const pluginPath = pluginLoadPath(options.pluginSource);
  const name = options.name ?? "world";
  const layout = createLayout(join(E2E_ROOT, `${name}-${randomBytes(4).toString("hex")}`));
  const { dir, home, stateDir, workspace, configPath, logFile } = layout;
  const outDir = join(dir, "out");
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(workspace, WORKSPACE_FILE), `${WORKSPACE_FILE_CONTENT}\n`);

  const model = options.model ?? "mock-model";
  const gateway = options.gateway ? { port: await freePort(), token: randomBytes(16).toString("hex") } : undefined;

  const { allowConversationAccess } = options;
  let config = openClawConfig({ layout, pluginPath, pluginConfig: options.pluginConfig ?? {}, model, allowConversationAccess, gateway });
  if (options.models) config.models = options.models;
  if (options.extraConfig) config = deepMerge(config, options.extraConfig);
  const writeConfig = () => writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  writeConfig();

  const baseEnv: Record<string, string | undefined> = {
    ...openClawEnv(layout),
    OPENCLAW_EXEC_SHELL_SNAPSHOT: "0",
    ...options.env,
  };

  const started = new Set<SpawnedOpenClaw>();
  let counter = 0;
  let kept = process.env.OPENCLAW_E2E_KEEP === "1";

  const world: OpenClawWorld = {
    name,
    dir,
    home,
    stateDir,
    configPath,
    logFile,
    workspace,
    outDir,
    pluginPath,
    model,
    gateway,
    config: () => structuredClone(config),
    updateConfig(mutate) {
      const copy = structuredClone(config);
      config = mutate(copy) ?? copy;
      writeConfig();
    },
    childEnv: (extra) => buildChildEnv(home, baseEnv, extra),
    spawn(args, spawnOptions = {}) {
      const label = `${String(++counter).padStart(2, "0")}-${spawnOptions.label ?? args[0] ?? "openclaw"}`;
      const proc = spawnOpenClaw(args, {
        cwd: dir,
        env: world.childEnv(spawnOptions.env),
        stdoutFile: join(outDir, `${label}.stdout`),
        stderrFile: join(outDir, `${label}.stderr`),
      });
      writeFileSync(join(outDir, `${label}.args.json`), `${JSON.stringify(args)}\n`);
      started.add(proc);
      void proc.exited.then(() => started.delete(proc));
      return proc;
    },
    async cli(args, cliOptions = {}) {
      const { timeoutMs = 120_000 } = cliOptions;
      const proc = world.spawn(args, { env: cliOptions.env, label: cliOptions.label });
      if (cliOptions.onStdout) {
        const listener = cliOptions.onStdout;
        proc.onStdout((chunk) => listener(chunk, proc));
      }
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        signalGroup(proc.pid, "SIGKILL");
      }, timeoutMs);
      const exit = await proc.exited;
      clearTimeout(timer);
      const stdout = proc.stdout();
      return {
        args,
        exitCode: exit.exitCode,
        signal: exit.signal,
        stdout,
        stderr: proc.stderr(),
        json: parseJsonOutput(stdout),
        startedAtMs: proc.startedAtMs,
        exitedAtMs: exit.exitedAtMs,
        durationMs: exit.exitedAtMs - proc.startedAtMs,
        timedOut,
      };
    },
    keep() {
      kept = true;
    },
    async dispose() {
      await Promise.all([...started].map((proc) => stopProcess(proc, { graceMs: 10_000 })));
      if (!kept) rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}
