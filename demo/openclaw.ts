/**
 * A throwaway OpenClaw for the demo: its own HOME, state dir, config file, log file, temp dir and
 * agent workspace under one directory in the OS temp dir, so the user's ~/.openclaw is never read
 * or written (openclaw-plugin-sdk.md §15.1, pitfall 9), plus a foreground Gateway and CLI clients.
 *
 * The plugin is loaded through `plugins.load.paths` from a copy of its package (package.json,
 * manifest, dist/, node_modules linked): OpenClaw refuses to load a plugin whose directory changes
 * while it loads ("Plugin source changed while preparing its reload"), and the checkout changes as
 * soon as the demo writes ./demo-output or someone rebuilds.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
// Shared with the e2e harness; these modules do not import vitest.
import { isGatewayReadyLine } from "../test/e2e/harness/gateway.ts";
import { createLayout, openClawConfig, openClawEnv } from "../test/e2e/harness/layout.ts";
import { lines } from "../test/e2e/harness/logs.ts";
import { freePort } from "../test/e2e/harness/ports.ts";
import { signalGroup } from "../test/e2e/harness/processes.ts";
import { parseJsonOutput } from "../test/e2e/harness/world.ts";

type Json = Record<string, unknown>;

export interface OpenClawHomeOptions {
  /** Plugin package directory (must hold package.json, openclaw.plugin.json and its runtime entry). */
  pluginDir: string;
  /** `plugins.entries.dynamo.config`. */
  pluginConfig: Json;
  /** Model id without the `dynamo/` prefix. */
  model: string;
  /** Files to put in the agent workspace. */
  workspaceFiles: Record<string, string>;
  /** The `openclaw.mjs` entry to run with this Node (default: the project's devDependency). */
  openclawEntry: string;
  /** Extra environment for every OpenClaw process (e.g. DYNAMO_API_KEY for a real Dynamo). */
  env?: Record<string, string>;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface OpenClawProcess {
  readonly pid: number;
  /** stdout + stderr so far. */
  output(): string;
  readonly exited: Promise<ProcessResult>;
}

export interface OpenClawHome {
  readonly dir: string;
  readonly workspace: string;
  readonly logFile: string;
  readonly gatewayLog: string;
  readonly model: string;
  run(args: string[], options?: { env?: Record<string, string>; timeoutMs?: number }): Promise<ProcessResult>;
  startGateway(options: { readyTimeoutMs: number }): Promise<Gateway>;
  /** Stop every process still running (SIGTERM, then SIGKILL of its group after `graceMs`). */
  stopAll(graceMs?: number): Promise<void>;
  remove(): void;
}

export interface Gateway {
  readonly port: number;
  readonly process: OpenClawProcess;
  /** `openclaw agent --agent main --message … --json` through this Gateway. */
  agent(message: string, timeoutMs: number): Promise<ProcessResult & { json: unknown }>;
  /** `openclaw gateway call <method> --json` through this Gateway. */
  call(method: string, params?: Json): Promise<ProcessResult & { json: unknown }>;
  /** SIGTERM and wait: the Gateway ends its sessions, and the plugin flushes, on the way out. */
  stop(graceMs: number): Promise<{ graceful: boolean; exitCode: number | null }>;
}

/** Variables worth passing to OpenClaw: locale, proxies and TLS trust. Nothing else of the user's env leaks in. */
const PASS_THROUGH = ["LANG", "LC_ALL", "LC_CTYPE", "TZ", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR"];

/** Copy what OpenClaw reads from the plugin package; link its dependencies. */
function snapshotPlugin(pluginDir: string, into: string): string {
  const source = resolve(pluginDir);
  const pkg = JSON.parse(readFileSync(join(source, "package.json"), "utf8")) as { openclaw?: { runtimeExtensions?: string[] } };
  const entries = pkg.openclaw?.runtimeExtensions ?? [];
  const missing = entries.filter((entry) => !existsSync(join(source, entry)));
  if (missing.length > 0) throw new Error(`the plugin in ${source} is not built (${missing.join(", ")} missing): run npm run build`);
  mkdirSync(into, { recursive: true });
  for (const file of ["package.json", "openclaw.plugin.json", "README.md"]) {
    if (existsSync(join(source, file))) cpSync(join(source, file), join(into, file));
  }
  for (const dir of ["dist", "src"]) {
    if (existsSync(join(source, dir))) cpSync(join(source, dir), join(into, dir), { recursive: true });
  }
  symlinkSync(realpathSync(join(source, "node_modules")), join(into, "node_modules"), "dir");
  return into;
}

export function createOpenClawHome(options: OpenClawHomeOptions): OpenClawHome {
  const layout = createLayout(mkdtempSync(join(tmpdir(), "openclaw-dynamo-demo-")));
  const { dir, home, workspace, configPath, logFile } = layout;
  const tmp = join(dir, "tmp");
  const gatewayLog = join(dir, "gateway.log");
  mkdirSync(tmp, { recursive: true });
  for (const [name, content] of Object.entries(options.workspaceFiles)) writeFileSync(join(workspace, name), content);
  const pluginPath = snapshotPlugin(options.pluginDir, join(dir, "plugin"));

  const gateway = { port: 0, token: randomBytes(16).toString("hex") };
  const writeConfig = (): void => {
    const config = openClawConfig({ layout, pluginPath, pluginConfig: options.pluginConfig, model: options.model, gateway });
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  };
  writeConfig();

  const env: Record<string, string> = {};
  for (const key of PASS_THROUGH) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  Object.assign(env, {
    // The running Node (24) first, so anything OpenClaw starts with `node` uses it too.
    PATH: [dirname(process.execPath), process.env.PATH ?? "/usr/bin:/bin"].join(delimiter),
    HOME: home,
    // OpenClaw's early logger and other temp files land in here and are removed with it.
    TMPDIR: tmp,
    LANG: env.LANG ?? "C.UTF-8",
    ...openClawEnv(layout),
    OPENCLAW_SKIP_CHANNELS: "1",
    ...options.env,
  });

  const live = new Map<number, OpenClawProcess>();
  // Last resort if the demo itself dies: no Gateway may outlive it.
  const onExit = (): void => {
    for (const pid of live.keys()) signalGroup(pid, "SIGKILL");
  };
  process.on("exit", onExit);

  const start = (args: string[], extraEnv: Record<string, string> = {}, teeTo?: string): OpenClawProcess => {
    // Own process group (detached), so stopping it also stops whatever OpenClaw started (exec commands).
    const child: ChildProcess = spawn(process.execPath, [options.openclawEntry, ...args], {
      cwd: dir,
      env: { ...env, ...extraEnv },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid === undefined) throw new Error(`could not start openclaw ${args[0] ?? ""}`);
    const pid = child.pid;
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout?.setEncoding("utf8");
    child.stderr?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      stdout += chunk;
      output += chunk;
      if (teeTo) writeFileSync(teeTo, chunk, { flag: "a" });
    });
    child.stderr?.on("data", (chunk: string) => {
      stderr += chunk;
      output += chunk;
      if (teeTo) writeFileSync(teeTo, chunk, { flag: "a" });
    });
    const exited = new Promise<ProcessResult>((resolveExit) => {
      child.once("close", (exitCode, signal) => {
        signalGroup(pid, "SIGKILL"); // anything the leader left behind in its group
        live.delete(pid);
        resolveExit({ exitCode, signal, stdout, stderr });
      });
      child.once("error", (error) => {
        live.delete(pid);
        resolveExit({ exitCode: null, signal: null, stdout, stderr: `${stderr}${String(error)}` });
      });
    });
    const proc: OpenClawProcess = { pid, output: () => output, exited };
    live.set(pid, proc);
    return proc;
  };

  const stop = async (proc: OpenClawProcess, graceMs: number): Promise<{ graceful: boolean; result: ProcessResult }> => {
    if (live.has(proc.pid)) {
      try {
        process.kill(proc.pid, "SIGTERM");
      } catch {
        // gone
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), graceMs)));
    const first = await Promise.race([proc.exited, timeout]);
    clearTimeout(timer);
    if (first !== "timeout") return { graceful: true, result: first };
    signalGroup(proc.pid, "SIGKILL");
    return { graceful: false, result: await proc.exited };
  };

  const run = async (args: string[], runOptions: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ProcessResult> => {
    const proc = start(args, runOptions.env);
    const timer = setTimeout(() => signalGroup(proc.pid, "SIGKILL"), runOptions.timeoutMs ?? 120_000);
    const result = await proc.exited;
    clearTimeout(timer);
    return result;
  };

  return {
    dir,
    workspace,
    logFile,
    gatewayLog,
    model: options.model,
    run,
    async startGateway({ readyTimeoutMs }) {
      gateway.port = await freePort();
      writeConfig();
      const clientEnv = { OPENCLAW_GATEWAY_PORT: String(gateway.port), OPENCLAW_GATEWAY_TOKEN: gateway.token };
      const proc = start(
        ["gateway", "run", "--port", String(gateway.port), "--bind", "loopback", "--auth", "token", "--token", gateway.token, "--allow-unconfigured"],
        clientEnv,
        gatewayLog,
      );
      // Ready when the log says "[gateway] ready" (an earlier "spawn broker ready" does not count).
      const isReady = () => lines(proc.output()).some(isGatewayReadyLine);
      const deadline = Date.now() + readyTimeoutMs;
      let exited = false;
      void proc.exited.then(() => (exited = true));
      while (!isReady()) {
        if (exited) throw new Error(`the OpenClaw Gateway exited before it was ready:\n${tail(proc.output())}`);
        if (Date.now() > deadline) {
          await stop(proc, 5_000);
          throw new Error(`the OpenClaw Gateway was not ready after ${Math.round(readyTimeoutMs / 1000)} s:\n${tail(proc.output())}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      return {
        port: gateway.port,
        process: proc,
        async agent(message, timeoutMs) {
          const result = await run(
            ["agent", "--agent", "main", "--model", `dynamo/${options.model}`, "--message", message, "--timeout", String(Math.ceil(timeoutMs / 1000)), "--json"],
            { env: clientEnv, timeoutMs: timeoutMs + 30_000 },
          );
          return { ...result, json: parseJsonOutput(result.stdout) };
        },
        async call(method, params = {}) {
          const result = await run(
            ["gateway", "call", method, "--params", JSON.stringify(params), "--port", String(gateway.port), "--token", gateway.token, "--timeout", "15000", "--json"],
            { env: clientEnv, timeoutMs: 60_000 },
          );
          return { ...result, json: parseJsonOutput(result.stdout) };
        },
        async stop(graceMs) {
          const { graceful, result } = await stop(proc, graceMs);
          return { graceful, exitCode: result.exitCode };
        },
      };
    },
    async stopAll(graceMs = 10_000) {
      await Promise.all([...live.values()].map((proc) => stop(proc, graceMs)));
    },
    remove() {
      process.off("exit", onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The last `n` non-empty lines of `text`, ANSI stripped, for error messages. */
export function tail(text: string, n = 30): string {
  return lines(text).slice(-n).join("\n");
}
