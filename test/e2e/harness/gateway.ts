/** A foreground `openclaw gateway run` in a world, plus clients that talk to it. */
import { randomBytes } from "node:crypto";
import { gatewayTurnArgs, runTurn, type AgentTurnOptions, type AgentTurnResult } from "./agent.ts";
import { lines, stripAnsi, tail } from "./logs.ts";
import { freePort } from "./ports.ts";
import { stopProcess, type SpawnedOpenClaw } from "./processes.ts";
import type { CliResult, OpenClawWorld } from "./world.ts";

export interface GatewayOptions {
  env?: Record<string, string | undefined>;
  /** How long to wait for `[gateway] ready` (default 90 s). */
  readyTimeoutMs?: number;
}

export interface GatewayStopResult {
  /** Exited within the grace period after SIGTERM. */
  graceful: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from SIGTERM to exit. */
  stopMs: number;
}

export interface RunningGateway {
  port: number;
  token: string;
  pid: number;
  process: SpawnedOpenClaw;
  /** Everything the Gateway printed so far (stdout + stderr, raw). */
  logs(): string;
  /** Gateway-backed `openclaw agent --agent main --message … --json`. */
  runAgent(options: AgentTurnOptions): Promise<AgentTurnResult>;
  /** `openclaw gateway call <method> --params <json> --json` against this Gateway. */
  call(method: string, params?: unknown, options?: { timeoutMs?: number }): Promise<CliResult>;
  /** SIGTERM, wait up to `graceMs` (default 10 s), then SIGKILL the group. Idempotent. */
  stop(options?: { graceMs?: number }): Promise<GatewayStopResult>;
}

/** The Gateway's final readiness line; "spawn broker ready" comes earlier and does not count. */
export function isGatewayReadyLine(line: string): boolean {
  return /\[gateway\] ready\s*$/.test(line);
}

export async function startGateway(world: OpenClawWorld, options: GatewayOptions = {}): Promise<RunningGateway> {
  const gw = world.gateway ?? { port: await freePort(), token: randomBytes(16).toString("hex") };
  world.gateway = gw;
  // Clients find the Gateway through these (docs/gateway/config-gateway.md precedence: flag > env > config).
  const clientEnv = { OPENCLAW_GATEWAY_PORT: String(gw.port), OPENCLAW_GATEWAY_TOKEN: gw.token };
  const args = [
    "gateway",
    "run",
    "--port",
    String(gw.port),
    "--bind",
    "loopback",
    "--auth",
    "token",
    "--token",
    gw.token,
    "--allow-unconfigured",
  ];
  const proc = world.spawn(args, {
    env: { ...clientEnv, OPENCLAW_SKIP_CHANNELS: "1", ...options.env },
    label: "gateway",
  });

  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  await new Promise<void>((resolveReady, reject) => {
    const check = () => lines(proc.output()).some(isGatewayReadyLine);
    if (check()) return resolveReady();
    const timer = setTimeout(() => {
      finish(new Error(`gateway not ready after ${readyTimeoutMs} ms; output tail:\n${tail(proc.output())}`));
    }, readyTimeoutMs);
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolveReady();
    };
    proc.onOutput(() => {
      if (check()) finish();
    });
    void proc.exited.then((exit) =>
      finish(new Error(`gateway exited (${exit.exitCode ?? exit.signal}) before ready; output tail:\n${tail(proc.output())}`)),
    );
  }).catch(async (error: unknown) => {
    await stopProcess(proc, { graceMs: 5_000 });
    throw error;
  });

  let stopped: Promise<GatewayStopResult> | undefined;
  return {
    port: gw.port,
    token: gw.token,
    pid: proc.pid,
    process: proc,
    logs: () => proc.output(),
    runAgent: (turn) => runTurn(world, gatewayTurnArgs(world, turn), turn, { ...clientEnv, ...options.env }),
    call: (method, params = {}, callOptions = {}) =>
      world.cli(
        [
          "gateway",
          "call",
          method,
          "--params",
          JSON.stringify(params),
          "--port",
          String(gw.port),
          "--token",
          gw.token,
          "--timeout",
          String(callOptions.timeoutMs ?? 10_000),
          "--json",
        ],
        { env: clientEnv, label: `call-${method}`, timeoutMs: (callOptions.timeoutMs ?? 10_000) + 30_000 },
      ),
    stop(stopOptions = {}) {
      stopped ??= (async () => {
        const t0 = Date.now();
        const exit = await stopProcess(proc, { signal: "SIGTERM", graceMs: stopOptions.graceMs ?? 10_000 });
        return { graceful: exit.graceful, exitCode: exit.exitCode, signal: exit.signal, stopMs: exit.exitedAtMs - t0 };
      })();
      return stopped;
    },
  };
}

export { stripAnsi };
