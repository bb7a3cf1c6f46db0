/**
 * THE settings table (docs/settings.md): every setting once — its env names in precedence order, the
 * JSON type the manifest declares, the value parser, the default, a one-line doc and its uiHint.
 * load.ts resolves it at runtime; scripts/gen-settings.ts writes the manifest's configSchema / uiHints /
 * configGroups and the README table from it; the `Settings` type below is mapped from it.
 */
import * as parse from "./parse.ts";
import type { Parser } from "./parse.ts";

/** JSON type in the manifest's configSchema: types only, so every wrong value reaches load.ts (SPEC §2). */
export type JsonType = "string" | "boolean" | "number" | "map" | "object";

export interface UiHint {
  readonly label: string;
  readonly help?: string;
  readonly placeholder?: string;
  readonly advanced?: boolean;
  readonly sensitive?: boolean;
  readonly tags?: readonly string[];
}

export const GROUPS = {
  connection: "Dynamo connection",
  "agent-trace": "Dynamo agent tracing",
  "tool-relay": "Tool-event relay",
  opentelemetry: "OpenTelemetry export",
  capture: "Content capture",
} as const;

export interface Setting<T, Optional extends boolean = boolean> {
  /** Env vars, in precedence order (the first non-empty one wins). */
  readonly env: readonly string[];
  /** README env column when the names alone do not say how they combine (markdown). */
  readonly envText?: string;
  readonly type: JsonType;
  readonly parse: Parser<T>;
  /** The accepted values of an enum (listed in the schema description; never enforced by the schema). */
  readonly choices?: readonly string[];
  /** Used when unset or invalid; absent for optional settings. */
  readonly default?: T;
  readonly optional: Optional;
  /** How the default reads in the README and in warnings, when not just the value. */
  readonly defaultText?: string;
  /** Secrets and URLs are never quoted in warnings. */
  readonly echo: boolean;
  /** One line, markdown (the README's "meaning" column; the schema description is derived from it). */
  readonly doc: string;
  readonly ui: UiHint;
  readonly group?: keyof typeof GROUPS;
}

type Spec<T> = Omit<Setting<T>, "optional" | "echo" | "default"> & { readonly echo?: boolean };

/** A setting with a default. */
const req = <T>(spec: Spec<T> & { readonly default: NoInfer<T> }): Setting<T, false> => ({ echo: true, ...spec, optional: false });
/** A setting that is absent from `Settings` unless set. */
const opt = <T>(spec: Spec<T>): Setting<T, true> => ({ echo: true, ...spec, optional: true });

export const PROTOCOLS = ["nvext", "headers", "auto"] as const;
export const INBOUND_MODES = ["parent", "link"] as const;
export const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;
export const SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;
/** Values of `DYN_AGENT_TRACE_CAPTURE` (besides `all` / `none`), each mapped to its `capture` key. */
export const CAPTURE_CLASSES = {
  prompts: "prompts",
  completions: "completions",
  tool_arguments: "toolArguments",
  tool_results: "toolResults",
} as const;

export const MAX_QUEUE_CAPACITY = 10_000_000;
export const MAX_FLUSH_TIMEOUT_MS = 60_000;
/** Node's largest timer delay; a longer export timeout would fire at once. */
export const MAX_OTLP_TIMEOUT_MS = 2_147_483_647;
export const DEFAULT_API_KEY = "dynamo-local";

const ANY_INT = Number.MAX_SAFE_INTEGER;
const GRPC = { grpc: "http/protobuf or http/json (gRPC is not supported by this plugin; use http/protobuf)" };

/** `capture.*`: the four flags read `DYN_AGENT_TRACE_CAPTURE` together (load.ts), `maxChars` its own variable. */
export const CAPTURE_SETTINGS = {
  /** User prompt / input messages on agent and chat spans (`input.value`, `gen_ai.input.messages`). */
  prompts: req({ env: [], type: "boolean", parse: parse.bool, default: false, doc: "Capture user prompts / input messages on agent and chat spans", ui: { label: "Capture prompts" } }),
  /** Model completions on chat and agent spans (`output.value`, `gen_ai.output.messages`). */
  completions: req({ env: [], type: "boolean", parse: parse.bool, default: false, doc: "Capture model completions on chat and agent spans", ui: { label: "Capture completions" } }),
  /** Tool call arguments on tool spans (`input.value`, `gen_ai.tool.call.arguments`). */
  toolArguments: req({ env: [], type: "boolean", parse: parse.bool, default: false, doc: "Capture tool call arguments on tool spans (never sent to Dynamo)", ui: { label: "Capture tool arguments" } }),
  /** Tool results on tool spans (`output.value`, `gen_ai.tool.call.result`). */
  toolResults: req({ env: [], type: "boolean", parse: parse.bool, default: false, doc: "Capture tool results on tool spans (never sent to Dynamo)", ui: { label: "Capture tool results" } }),
  /** Captured values are truncated to this many characters. */
  maxChars: req({
    env: ["DYN_AGENT_TRACE_CAPTURE_MAX_CHARS"], type: "number", parse: parse.positiveInt(ANY_INT, " (characters)"), default: 4_096,
    doc: "captured values are truncated to this many characters",
    ui: { label: "Captured value limit (characters)" },
  }),
} as const;

export const SETTINGS = {
  /** Dynamo frontend root including `/v1` (a bare origin gets `/v1`). */
  baseUrl: req({
    env: ["DYNAMO_BASE_URL", "OPENAI_BASE_URL"], type: "string", parse: parse.baseUrl, default: "http://127.0.0.1:8000/v1", echo: false,
    doc: "Dynamo frontend (OpenAI-compatible); a bare origin gets `/v1`, trailing slashes go; no credentials, query or fragment",
    ui: { label: "Dynamo base URL", placeholder: "http://127.0.0.1:8000/v1", help: "Dynamo frontend root; falls back to DYNAMO_BASE_URL / OPENAI_BASE_URL." },
    group: "connection",
  }),
  /** Bearer token; never written to spans, records or logs. */
  apiKey: req({
    env: ["DYNAMO_API_KEY"], type: "string", parse: parse.apiKey, default: DEFAULT_API_KEY, echo: false,
    doc: "bearer token; never written to spans, records, logs or the status",
    ui: { label: "API key", sensitive: true, placeholder: "dynamo-local", help: "Bearer token; falls back to DYNAMO_API_KEY. A local Dynamo ignores it." },
    group: "connection",
  }),
  /** Master switch for agent identity, session control and the tool relay. */
  agentTrace: req({
    env: ["DYN_AGENT_TRACE"], type: "boolean", parse: parse.bool, default: false,
    doc: "`1/true/yes/on`: agent identity, session control, tool relay. Off = plain provider (+ OTLP spans if an endpoint is set)",
    ui: { label: "Dynamo agent tracing", help: "Send agent identity to Dynamo and relay tool events (DYN_AGENT_TRACE)." }, group: "agent-trace",
  }),
  /** How agent identity travels: `nvext`, `headers` or `auto`. */
  protocol: req({
    env: ["DYN_AGENT_TRACE_PROTOCOL"], type: "string", parse: parse.oneOf(PROTOCOLS), choices: PROTOCOLS, default: "auto",
    doc: "`nvext` (Dynamo 1.2), `headers` (Dynamo 1.3+), `auto` (see [Dynamo versions](#dynamo-versions))",
    ui: { label: "Agent identity protocol", help: "nvext for Dynamo 1.2, headers for Dynamo 1.3+, auto to negotiate.", advanced: true },
    group: "agent-trace",
  }),
  /** `session_type_id` sent with `agent_context`. */
  sessionTypeId: req({
    env: ["DYN_AGENT_SESSION_TYPE_ID"], type: "string", parse: parse.headerSafeId, default: "openclaw_coding_agent",
    doc: "`session_type_id` (1.2); printable ASCII, at most 256 characters",
    ui: { label: "Session type id", placeholder: "openclaw_coding_agent", advanced: true }, group: "agent-trace",
  }),
  /** Overrides the derived `session_id` for the whole process. */
  sessionId: opt({
    env: ["DYN_AGENT_SESSION_ID"], type: "string", parse: parse.headerSafeId, defaultText: "unset: derived from the trace id",
    doc: "overrides `session_id` for the whole process",
    ui: { label: "Session id override", help: "Leave empty to derive it from the trace id.", advanced: true }, group: "agent-trace",
  }),
  /** Overrides the lead agent's trajectory id. */
  trajectoryId: opt({
    env: ["DYN_AGENT_TRAJECTORY_ID"], type: "string", parse: parse.headerSafeId, defaultText: "unset: derived from the agent span",
    doc: "overrides the lead agent's trajectory id",
    ui: { label: "Lead trajectory id override", help: "Leave empty to derive it from the agent span.", advanced: true }, group: "agent-trace",
  }),
  /** Parent trajectory of the lead agent (this OpenClaw is someone's subagent). */
  parentTrajectoryId: opt({
    env: ["DYN_AGENT_PARENT_TRAJECTORY_ID", "DYN_AGENT_PARENT_SESSION_ID"], type: "string", parse: parse.headerSafeId, defaultText: "unset",
    doc: "parent trajectory of the lead agent (this OpenClaw is someone's subagent)",
    ui: { label: "Parent trajectory id", help: "Set when this OpenClaw runs as another agent's subagent.", advanced: true }, group: "agent-trace",
  }),
  /** Idle timeout in seconds sent with `session_control` `open`. */
  sessionTimeoutSeconds: opt({
    env: ["DYN_AGENT_SESSION_TIMEOUT"], type: "number", parse: parse.positiveInt(ANY_INT, " (seconds)"), defaultText: "unset (Dynamo: 300)",
    doc: "idle timeout in seconds sent with `session_control` `open` (1.2)",
    ui: { label: "Session idle timeout (s)", advanced: true }, group: "agent-trace",
  }),
  /** Dynamo's ZeroMQ PULL endpoint for tool events; unset = relay off. */
  toolEventsEndpoint: opt({
    env: [
      "DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT",
      "DYN_AGENT_TRACE_TOOL_EVENTS_ZMQ_ENDPOINT",
      "DYN_AGENT_TRACE_TOOL_ZMQ_ENDPOINT",
      "DYN_REQUEST_TRACE_TOOL_EVENTS_ZMQ_ENDPOINT",
    ],
    type: "string", parse: parse.zmqEndpoint, defaultText: "unset: tool-event relay off",
    doc: "Dynamo's PULL endpoint to connect to (`tcp://host:port`, `ipc://path`); Dynamo's bind form `tcp://*:20390` is refused: use `tcp://127.0.0.1:20390`",
    ui: { label: "Tool-event relay endpoint", placeholder: "tcp://127.0.0.1:20390", help: "Dynamo's ZeroMQ PULL endpoint; empty = relay off." },
    group: "tool-relay",
  }),
  /** Frame-0 topic of relay messages; must match Dynamo's. */
  toolEventsTopic: req({
    env: ["DYN_AGENT_TOOL_EVENTS_ZMQ_TOPIC", "DYN_AGENT_TRACE_TOOL_EVENTS_ZMQ_TOPIC", "DYN_AGENT_TRACE_TOOL_ZMQ_TOPIC", "DYN_REQUEST_TRACE_TOOL_EVENTS_ZMQ_TOPIC"],
    type: "string", parse: parse.headerSafeId, default: "agent-tool-events",
    doc: "frame 0 of relay messages; must match Dynamo's",
    ui: { label: "Tool-event topic", placeholder: "agent-tool-events", advanced: true }, group: "tool-relay",
  }),
  /** Bounded relay queue size; overflow is dropped and counted. */
  toolEventsQueueCapacity: req({
    env: ["DYN_AGENT_TOOL_EVENTS_QUEUE_CAPACITY", "DYN_REQUEST_TRACE_TOOL_EVENTS_QUEUE_CAPACITY"],
    type: "number", parse: parse.positiveInt(MAX_QUEUE_CAPACITY), default: 100_000,
    doc: `bounded relay queue (at most ${MAX_QUEUE_CAPACITY}); overflow is dropped and counted`,
    ui: { label: "Relay queue capacity", advanced: true }, group: "tool-relay",
  }),
  /** Where an inbound `TRACEPARENT` goes: `parent` or `link`. */
  inboundContext: req({
    env: ["DYN_AGENT_TRACE_INBOUND"], type: "string", parse: parse.oneOf(INBOUND_MODES), choices: INBOUND_MODES, default: "parent",
    doc: "`parent` or `link` (see [TRACEPARENT](#continuing-a-trace-from-ci-or-an-orchestrator-traceparent))",
    ui: { label: "Inbound TRACEPARENT handling", help: "parent joins the outer trace (Jaeger); link starts a new trace with a link (Phoenix Sessions).", advanced: true },
    group: "opentelemetry",
  }),
  /** OTLP/HTTP traces URL, resolved (`…_TRACES_ENDPOINT` verbatim, `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`); unset = no export. */
  otlpEndpoint: opt({
    env: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"],
    envText: "`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is) / `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`)",
    type: "string", parse: parse.otlpUrl, defaultText: "unset: no OTLP export", echo: false,
    doc: "full OTLP/HTTP traces URL in config (e.g. `http://localhost:4318/v1/traces`)",
    ui: {
      label: "OTLP traces endpoint",
      placeholder: "http://localhost:4318/v1/traces",
      help: "Full OTLP/HTTP traces URL; empty = use OTEL_EXPORTER_OTLP_* or no export.",
      tags: ["url-secret"],
    },
    group: "opentelemetry",
  }),
  /** `http/protobuf` (the only one Phoenix accepts) or `http/json`. */
  otlpProtocol: req({
    env: ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"],
    type: "string", parse: parse.oneOf(OTLP_PROTOCOLS, GRPC), choices: OTLP_PROTOCOLS, default: "http/protobuf",
    doc: "or `http/json` (not accepted by Phoenix); gRPC is not supported",
    ui: { label: "OTLP encoding", help: "Phoenix accepts only http/protobuf." }, group: "opentelemetry",
  }),
  /** Extra OTLP request headers; values are secrets and never logged. */
  otlpHeaders: req({
    env: ["OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"],
    envText: "`OTEL_EXPORTER_OTLP_TRACES_HEADERS` / `OTEL_EXPORTER_OTLP_HEADERS` (merged, `TRACES_` wins per header)",
    type: "map", parse: parse.headers, default: {}, defaultText: "none", echo: false,
    doc: "e.g. `x-project-name=my-project` (config: an object, added to the env headers, winning per header); values never logged",
    ui: { label: "OTLP headers", sensitive: true, help: "Extra headers for the collector, e.g. x-project-name for Phoenix.", advanced: true },
    group: "opentelemetry",
  }),
  /** Per-export timeout in ms. */
  otlpTimeoutMs: req({
    env: ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"],
    type: "number", parse: parse.positiveInt(MAX_OTLP_TIMEOUT_MS, " (milliseconds)"), default: 10_000,
    doc: "per export request, ms",
    ui: { label: "OTLP export timeout (ms)", advanced: true }, group: "opentelemetry",
  }),
  /** `service.name`. */
  serviceName: req({
    env: ["OTEL_SERVICE_NAME"], type: "string", parse: parse.plainText, default: "openclaw",
    doc: "`service.name`",
    ui: { label: "Service name", placeholder: "openclaw" }, group: "opentelemetry",
  }),
  /** Extra resource attributes. */
  resourceAttributes: req({
    env: ["OTEL_RESOURCE_ATTRIBUTES"], type: "map", parse: parse.attributes, default: {}, defaultText: "none",
    doc: "extra resource attributes (`k=v,k2=v2` / an object; config replaces the env ones)",
    ui: { label: "Resource attributes", advanced: true }, group: "opentelemetry",
  }),
  /** Trace sampler; unsampled spans still drive Dynamo identity and the relay. */
  sampler: req({
    env: ["OTEL_TRACES_SAMPLER"], type: "string", parse: parse.oneOf(SAMPLERS), choices: SAMPLERS, default: "parentbased_always_on",
    doc: "`always_on`, `always_off`, `traceidratio`, `parentbased_*`; unsampled spans still drive Dynamo identity and the relay",
    ui: { label: "Sampler", advanced: true }, group: "opentelemetry",
  }),
  /** Ratio for the ratio samplers. */
  samplerArg: opt({
    env: ["OTEL_TRACES_SAMPLER_ARG"], type: "number", parse: parse.ratio, defaultText: "unset (1.0)",
    doc: "sampling ratio (0 to 1) of the `traceidratio` samplers",
    ui: { label: "Sampling ratio", advanced: true }, group: "opentelemetry",
  }),
  /** No spans are recorded or exported (provider and Dynamo identity still work). */
  sdkDisabled: req({
    env: ["OTEL_SDK_DISABLED"], type: "boolean", parse: parse.bool, default: false,
    doc: "no OTLP export (identity and relay still work)",
    ui: { label: "Disable tracing", advanced: true }, group: "opentelemetry",
  }),
  /** Phoenix project: resource attribute `openinference.project.name`. */
  phoenixProject: opt({
    env: ["OPENINFERENCE_PROJECT_NAME"], type: "string", parse: parse.plainText, defaultText: "unset",
    doc: "resource `openinference.project.name` + `x-project-name` header (Phoenix project)",
    ui: { label: "Phoenix project", help: "Resource attribute openinference.project.name." }, group: "opentelemetry",
  }),
  /** Upper bound for every flush (run end, session end, gateway stop, exit), ms. */
  flushTimeoutMs: req({
    env: ["DYN_AGENT_TRACE_FLUSH_TIMEOUT_MS"], type: "number", parse: parse.positiveInt(MAX_FLUSH_TIMEOUT_MS, " (milliseconds)"), default: 2_000,
    doc: `upper bound of every flush (run end, session end, Gateway stop, exit), ms (at most ${MAX_FLUSH_TIMEOUT_MS})`,
    ui: { label: "Flush timeout (ms)", advanced: true }, group: "opentelemetry",
  }),
  /** Content capture, per class (all off by default). */
  capture: req({
    env: ["DYN_AGENT_TRACE_CAPTURE"],
    envText: "`DYN_AGENT_TRACE_CAPTURE` (`all`, `none`, or a list of `prompts,completions,tool_arguments,tool_results`)",
    type: "object", parse: parse.classList(CAPTURE_CLASSES),
    default: { prompts: false, completions: false, toolArguments: false, toolResults: false }, defaultText: "all off",
    doc: "content capture per class (see [Privacy](#privacy)); each config key overrides its class only",
    ui: { label: "Content capture", help: "Prompts, completions and tool I/O on spans; may contain sensitive data." }, group: "capture",
  }),
} as const;
