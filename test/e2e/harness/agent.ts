/** One-shot agent turns: `openclaw agent --local …` (embedded) and the Gateway-backed variant. */
import { parseJsonOutput, type CliResult, type OpenClawWorld } from "./world.ts";

export interface AgentTurnOptions {
  message: string;
  /** Model id without the provider prefix (default: the world's model); sent as `dynamo/<model>`. */
  model?: string;
  /** Full `provider/model` ref instead (e.g. a control run against a non-plugin provider). */
  modelRef?: string;
  sessionId?: string;
  /** `--session-key` (e.g. a channel key `agent:main:telegram:direct:+1555…`). */
  sessionKey?: string;
  /** Kill the process group after this long (default 120 s). */
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
}

export interface AgentTurnResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The `--json` envelope, or undefined when stdout was not JSON. */
  json: unknown;
  durationMs: number;
  startedAtMs: number;
  /** Epoch ms when stdout first held a complete JSON document (the answer), before the process exited. */
  answeredAtMs?: number;
  /** Epoch ms when the process exited (pipes drained). `exitedAtMs - answeredAtMs` is the exit lag. */
  exitedAtMs: number;
  timedOut: boolean;
  args: string[];
}

/** Arguments shared by both turn kinds. */
function turnArgs(world: OpenClawWorld, options: AgentTurnOptions, local: boolean): string[] {
  const args = ["agent"];
  if (local) args.push("--local");
  const modelRef = options.modelRef ?? `dynamo/${options.model ?? world.model}`;
  args.push("--agent", "main", "--message", options.message, "--model", modelRef);
  if (options.sessionId) args.push("--session-id", options.sessionId);
  if (options.sessionKey) args.push("--session-key", options.sessionKey);
  args.push("--json");
  return args;
}

/** Run a turn and note when the JSON answer became complete on stdout. */
export async function runTurn(
  world: OpenClawWorld,
  args: string[],
  options: AgentTurnOptions,
  extraEnv?: Record<string, string | undefined>,
): Promise<AgentTurnResult> {
  let answeredAtMs: number | undefined;
  let buffered = "";
  const result: CliResult = await world.cli(args, {
    env: { ...extraEnv, ...options.env },
    timeoutMs: options.timeoutMs ?? 120_000,
    label: args.includes("--local") ? "agent-local" : "agent-gateway",
    onStdout(chunk) {
      if (answeredAtMs !== undefined) return;
      buffered += chunk;
      if (parseJsonOutput(buffered) !== undefined) answeredAtMs = Date.now();
    },
  });
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr,
    json: result.json,
    durationMs: result.durationMs,
    startedAtMs: result.startedAtMs,
    answeredAtMs,
    exitedAtMs: result.exitedAtMs,
    timedOut: result.timedOut,
    args,
  };
}

/** `openclaw agent --local --agent main --message … --model dynamo/<m> --json` in `world`. */
export function runAgentLocal(world: OpenClawWorld, options: AgentTurnOptions): Promise<AgentTurnResult> {
  return runTurn(world, turnArgs(world, options, true), options);
}

/** Same turn through a running Gateway (no `--local`). */
export function gatewayTurnArgs(world: OpenClawWorld, options: AgentTurnOptions): string[] {
  return turnArgs(world, options, false);
}

/** Texts of the reply payloads in a local (`{payloads}`) or Gateway (`{result: {payloads}}`) envelope. */
export function payloadTexts(json: unknown): string[] {
  if (typeof json !== "object" || json === null) return [];
  const envelope = json as { payloads?: unknown; result?: { payloads?: unknown } };
  const payloads = Array.isArray(envelope.payloads)
    ? envelope.payloads
    : Array.isArray(envelope.result?.payloads)
      ? envelope.result.payloads
      : [];
  return payloads
    .map((p) => (typeof p === "object" && p !== null ? (p as { text?: unknown }).text : undefined))
    .filter((t): t is string => typeof t === "string");
}
