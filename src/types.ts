/**
 * The plugin's resolved configuration (SPEC §2). Built once per process by `loadConfig` from
 * `plugins.entries.dynamo.config` (wins) and the environment; frozen.
 */

/** How Dynamo agent identity travels: Dynamo 1.2 body `nvext`, Dynamo 1.3+ headers, or negotiated. */
export type DynamoProtocol = "nvext" | "headers";
export type ProtocolSetting = DynamoProtocol | "auto";

/** Where an inbound `TRACEPARENT` goes: parent of the root agent span, or a span link on a fresh root. */
export type InboundMode = "parent" | "link";

/** OTLP/HTTP body encoding. */
export type OtlpProtocol = "http/protobuf" | "http/json";

/** Content classes that can be captured on spans (all off by default). */
export interface CaptureConfig {
  /** User prompt / input messages on agent and chat spans (`input.value`, `gen_ai.input.messages`). */
  readonly prompts: boolean;
  /** Model completions on chat and agent spans (`output.value`, `gen_ai.output.messages`). */
  readonly completions: boolean;
  /** Tool call arguments on tool spans (`input.value`, `gen_ai.tool.call.arguments`). */
  readonly toolArguments: boolean;
  /** Tool results on tool spans (`output.value`, `gen_ai.tool.call.result`). */
  readonly toolResults: boolean;
  /** Captured values are truncated to this many characters. */
  readonly maxChars: number;
}

export interface DynamoPluginConfig {
  /** Dynamo frontend root including `/v1` (a bare origin gets `/v1`); `DYNAMO_BASE_URL`, fallback `OPENAI_BASE_URL`. */
  readonly baseUrl: string;
  /** Bearer token (`DYNAMO_API_KEY`, default `dynamo-local`); never written to spans, records or logs. */
  readonly apiKey: string;
  /** True when the key came from the user (env or config) rather than the `dynamo-local` default. */
  readonly apiKeyFromUser: boolean;
  /** Master switch for agent identity, session control and the tool relay (`DYN_AGENT_TRACE`). */
  readonly agentTrace: boolean;
  /** `DYN_AGENT_TRACE_PROTOCOL`: `nvext`, `headers` or `auto` (default). */
  readonly protocol: ProtocolSetting;
  /** `session_type_id` (`DYN_AGENT_SESSION_TYPE_ID`, default `openclaw_coding_agent`). */
  readonly sessionTypeId: string;
  /** Overrides the derived `session_id` for the whole process (`DYN_AGENT_SESSION_ID`). */
  readonly sessionId?: string;
  /** Overrides the lead agent's trajectory id (`DYN_AGENT_TRAJECTORY_ID`). */
  readonly trajectoryId?: string;
  /** Parent trajectory of the lead agent (`DYN_AGENT_PARENT_TRAJECTORY_ID`, alias `DYN_AGENT_PARENT_SESSION_ID`). */
  readonly parentTrajectoryId?: string;
  /** Idle timeout in seconds sent with `session_control` `open` (`DYN_AGENT_SESSION_TIMEOUT`). */
  readonly sessionTimeoutSeconds?: number;
  /** Dynamo's ZeroMQ PULL endpoint for tool events; unset = relay off (`DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT` + aliases). */
  readonly toolEventsEndpoint?: string;
  /** Frame-0 topic of relay messages (`DYN_AGENT_TOOL_EVENTS_ZMQ_TOPIC` + aliases, default `agent-tool-events`). */
  readonly toolEventsTopic: string;
  /** Bounded relay queue size (`DYN_AGENT_TOOL_EVENTS_QUEUE_CAPACITY`, default 100000). */
  readonly toolEventsQueueCapacity: number;
  /** Where an inbound `TRACEPARENT` goes (`DYN_AGENT_TRACE_INBOUND`, default `parent`). */
  readonly inboundContext: InboundMode;
  /** OTLP/HTTP traces URL, already resolved (`…_TRACES_ENDPOINT` verbatim, `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`); unset = no export. */
  readonly otlpEndpoint?: string;
  /** `http/protobuf` (default; the only one Phoenix accepts) or `http/json`. */
  readonly otlpProtocol: OtlpProtocol;
  /** Extra OTLP request headers (`OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`); values are secrets and never logged. */
  readonly otlpHeaders: Readonly<Record<string, string>>;
  /** Per-export timeout in ms (`OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT`, default 10000). */
  readonly otlpTimeoutMs: number;
  /** `service.name` (`OTEL_SERVICE_NAME`, default `openclaw`). */
  readonly serviceName: string;
  /** Extra resource attributes (`OTEL_RESOURCE_ATTRIBUTES`). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** `OTEL_TRACES_SAMPLER` (default `parentbased_always_on`). */
  readonly sampler: string;
  /** `OTEL_TRACES_SAMPLER_ARG` (ratio for the ratio samplers). */
  readonly samplerArg?: number;
  /** `OTEL_SDK_DISABLED`: no spans are recorded or exported (provider and Dynamo identity still work). */
  readonly sdkDisabled: boolean;
  /** Phoenix project: resource attribute `openinference.project.name` (`OPENINFERENCE_PROJECT_NAME`). */
  readonly phoenixProject?: string;
  /** Upper bound for every flush (run end, session end, gateway stop, exit), ms (default 2000). */
  readonly flushTimeoutMs: number;
  /** Content capture, per class (all off by default). */
  readonly capture: CaptureConfig;
}

/** One message per invalid setting; the caller logs each once. */
export interface ConfigWarning {
  /** The env var or config key that was invalid. */
  readonly key: string;
  readonly message: string;
}
