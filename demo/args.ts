/** Command-line options of `npm run demo` (`node demo/run.ts`). */
import { parseArgs } from "node:util";
import type { DynamoGeneration } from "../test/sim/index.ts";

export type Protocol = "auto" | "nvext" | "headers";

export interface DemoOptions {
  /** Dynamo generation the simulator speaks (and the local relay receiver validates). */
  generation: DynamoGeneration;
  /** As the user typed it (`1.2`, `1.3`, …), for messages. */
  dynamoVersion: string;
  /** Plugin setting `protocol` (DYN_AGENT_TRACE_PROTOCOL). */
  protocol: Protocol;
  /** A real Dynamo frontend instead of the simulator's. */
  baseUrl?: string;
  /** A real Dynamo tool-event PULL endpoint instead of the local receiver. */
  zmqEndpoint?: string;
  /** Model id (without `dynamo/`); default: the simulator's, or the first one a real Dynamo lists. */
  model?: string;
  /** A real OTLP/HTTP collector that gets a copy of every export (Jaeger, Phoenix, …). */
  otlpEndpoint?: string;
  otlpHeaders: Record<string, string>;
  outDir: string;
  /** Plugin package directory (holds package.json, openclaw.plugin.json and the built dist/). */
  pluginDir?: string;
  /** How long to wait for the whole scenario (lead, subagent, announce), in seconds. */
  timeoutSeconds: number;
  /** Keep the throwaway OpenClaw directory (config, logs, state) instead of deleting it. */
  keep: boolean;
  color: boolean | undefined;
  help: boolean;
}

export const USAGE = `Usage: npm run demo -- [options]      (or: node demo/run.ts [options] on Node 24)

Runs the real openclaw CLI with this plugin against a Dynamo simulator (or your Dynamo) through a
scripted agent task, then prints the correlated trace as a terminal waterfall and writes it as
OTLP/JSON and Chrome/Perfetto trace-event JSON.

Options:
  --dynamo <1.2|1.3>         Dynamo generation to simulate: 1.2 = nvext body identity,
                             1.3 (default, also 1.4+) = x-dynamo-session-* headers
  --protocol <auto|nvext|headers>
                             plugin protocol setting (default auto: negotiates with Dynamo)
  --base-url <url>           use a real Dynamo frontend (e.g. http://127.0.0.1:8000) instead of the simulator
  --zmq-endpoint <endpoint>  send tool events to a real Dynamo's PULL socket (e.g. tcp://127.0.0.1:20390);
                             default: a local receiver that shows the records in the waterfall
  --model <id>               model id (default: mock-model, or the first model your Dynamo lists)
  --otlp-endpoint <url>      also send the spans to your collector: Jaeger http://localhost:4318,
                             Phoenix http://localhost:6006 (/v1/traces is appended to a bare origin)
  --otlp-header <k=v>        header for that collector, repeatable (e.g. x-project-name=openclaw-demo)
  --out <dir>                output directory (default ./demo-output)
  --plugin-dir <dir>         plugin package to load (default: this checkout; needs a built dist/)
  --timeout <seconds>        give up waiting for the scenario after this long (default 240)
  --keep                     keep the throwaway OpenClaw directory (config, state, logs)
  --color / --no-color       force colours on or off (default: on for a terminal, off with NO_COLOR)
  -h, --help                 show this help
`;

export class UsageError extends Error {}

/** `1.2` → nvext; `1.3`, `1.4`, … `2.0` → headers. */
function generationOf(version: string): DynamoGeneration {
  const match = /^(\d+)\.(\d+)/.exec(version);
  if (!match) throw new UsageError(`--dynamo must be a Dynamo version like 1.2 or 1.3 (got "${version}")`);
  const [major, minor] = [Number(match[1]), Number(match[2])];
  if (major === 1 && minor <= 2) return "nvext";
  return "headers";
}

function httpUrl(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return value;
  } catch {
    // fall through
  }
  throw new UsageError(`${name} must be an http:// or https:// URL (got "${value}")`);
}

export function parseDemoArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DemoOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        dynamo: { type: "string", default: "1.3" },
        protocol: { type: "string", default: "auto" },
        "base-url": { type: "string" },
        "zmq-endpoint": { type: "string" },
        model: { type: "string" },
        "otlp-endpoint": { type: "string" },
        "otlp-header": { type: "string", multiple: true },
        out: { type: "string", default: "demo-output" },
        "plugin-dir": { type: "string" },
        timeout: { type: "string", default: "240" },
        keep: { type: "boolean", default: false },
        color: { type: "boolean" },
        "no-color": { type: "boolean" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  const protocol = v.protocol ?? "auto";
  if (protocol !== "auto" && protocol !== "nvext" && protocol !== "headers") {
    throw new UsageError(`--protocol must be auto, nvext or headers (got "${protocol}")`);
  }
  const timeoutSeconds = Number(v.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds`);
  const zmq = v["zmq-endpoint"];
  if (zmq !== undefined && !/^(tcp|ipc):\/\/.+/.test(zmq)) {
    throw new UsageError(`--zmq-endpoint must look like tcp://host:port or ipc:///path (got "${zmq}")`);
  }
  const otlpHeaders: Record<string, string> = {};
  for (const pair of v["otlp-header"] ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--otlp-header must be name=value (got "${pair}")`);
    otlpHeaders[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  const noColor = v["no-color"] === true || (env.NO_COLOR !== undefined && env.NO_COLOR !== "");
  const color = v.color === true ? true : noColor ? false : env.FORCE_COLOR && env.FORCE_COLOR !== "0" ? true : undefined;
  const dynamoVersion = v.dynamo ?? "1.3";
  return {
    generation: generationOf(dynamoVersion),
    dynamoVersion,
    protocol,
    ...(v["base-url"] !== undefined ? { baseUrl: httpUrl("--base-url", v["base-url"]) } : {}),
    ...(zmq !== undefined ? { zmqEndpoint: zmq } : {}),
    ...(v.model !== undefined ? { model: v.model } : {}),
    ...(v["otlp-endpoint"] !== undefined ? { otlpEndpoint: tracesUrl(httpUrl("--otlp-endpoint", v["otlp-endpoint"])!) } : {}),
    otlpHeaders,
    outDir: v.out ?? "demo-output",
    ...(v["plugin-dir"] !== undefined ? { pluginDir: v["plugin-dir"] } : {}),
    timeoutSeconds,
    keep: v.keep === true,
    color,
    help: v.help === true,
  };
}

/** A bare origin gets `/v1/traces`, like `OTEL_EXPORTER_OTLP_ENDPOINT`; a URL with a path is used as is. */
export function tracesUrl(value: string): string {
  const url = new URL(value);
  if (url.pathname === "" || url.pathname === "/") url.pathname = "/v1/traces";
  return url.toString();
}
