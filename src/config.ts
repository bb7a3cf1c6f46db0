/**
 * Configuration (SPEC §2): `plugins.entries.dynamo.config` (wins) over the environment, over defaults.
 *
 * `loadConfig` is pure: it reads only its arguments, never logs and never throws. Every invalid value
 * becomes one `ConfigWarning` naming where it came from (the env var, or `plugins.entries.dynamo.config.<key>`)
 * and the accepted form, and the setting falls back to its default. The winning source is chosen first
 * (config if given, else the first non-empty env var in `ENV` order) and only then validated, so an
 * invalid value never silently lets a lower-precedence source through.
 *
 * Warnings never contain secrets: the API key, OTLP header values and URLs (which may carry
 * credentials) are never echoed, and any raw secret that still ended up in a message is redacted.
 */
import { parseKeyPairsIntoRecord } from "@opentelemetry/core";
import type { CaptureConfig, ConfigWarning, DynamoPluginConfig, InboundMode, OtlpProtocol, ProtocolSetting } from "./types.ts";

/** Where the plugin's config lives in OpenClaw's config; warnings about config keys use `<CONFIG_PATH>.<key>`. */
export const CONFIG_PATH = "plugins.entries.dynamo.config";

const ZMQ_ENDPOINT_ENV = [
  "DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT",
  "DYN_AGENT_TRACE_TOOL_EVENTS_ZMQ_ENDPOINT",
  "DYN_AGENT_TRACE_TOOL_ZMQ_ENDPOINT",
  "DYN_REQUEST_TRACE_TOOL_EVENTS_ZMQ_ENDPOINT",
] as const;

const ZMQ_TOPIC_ENV = [
  "DYN_AGENT_TOOL_EVENTS_ZMQ_TOPIC",
  "DYN_AGENT_TRACE_TOOL_EVENTS_ZMQ_TOPIC",
  "DYN_AGENT_TRACE_TOOL_ZMQ_TOPIC",
  "DYN_REQUEST_TRACE_TOOL_EVENTS_ZMQ_TOPIC",
] as const;

/**
 * Environment variables per setting, in precedence order: the first non-empty one wins, except
 * - `otlpEndpoint`: the first (`…_TRACES_ENDPOINT`) is used verbatim, the second gets `/v1/traces` appended;
 * - `otlpHeaders`: both are read and merged, `…_TRACES_HEADERS` overriding per header (as the OTel exporters do).
 * `capture` / `captureMaxChars` feed the nested `capture` config.
 */
export const ENV = {
  baseUrl: ["DYNAMO_BASE_URL", "OPENAI_BASE_URL"],
  apiKey: ["DYNAMO_API_KEY"],
  agentTrace: ["DYN_AGENT_TRACE"],
  protocol: ["DYN_AGENT_TRACE_PROTOCOL"],
  sessionTypeId: ["DYN_AGENT_SESSION_TYPE_ID"],
  sessionId: ["DYN_AGENT_SESSION_ID"],
  trajectoryId: ["DYN_AGENT_TRAJECTORY_ID"],
  parentTrajectoryId: ["DYN_AGENT_PARENT_TRAJECTORY_ID", "DYN_AGENT_PARENT_SESSION_ID"],
  sessionTimeoutSeconds: ["DYN_AGENT_SESSION_TIMEOUT"],
  toolEventsEndpoint: ZMQ_ENDPOINT_ENV,
  toolEventsTopic: ZMQ_TOPIC_ENV,
  toolEventsQueueCapacity: ["DYN_AGENT_TOOL_EVENTS_QUEUE_CAPACITY", "DYN_REQUEST_TRACE_TOOL_EVENTS_QUEUE_CAPACITY"],
  inboundContext: ["DYN_AGENT_TRACE_INBOUND"],
  otlpEndpoint: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"],
  otlpProtocol: ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"],
  otlpHeaders: ["OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"],
  otlpTimeoutMs: ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"],
  serviceName: ["OTEL_SERVICE_NAME"],
  resourceAttributes: ["OTEL_RESOURCE_ATTRIBUTES"],
  sampler: ["OTEL_TRACES_SAMPLER"],
  samplerArg: ["OTEL_TRACES_SAMPLER_ARG"],
  sdkDisabled: ["OTEL_SDK_DISABLED"],
  phoenixProject: ["OPENINFERENCE_PROJECT_NAME"],
  flushTimeoutMs: ["DYN_AGENT_TRACE_FLUSH_TIMEOUT_MS"],
  capture: ["DYN_AGENT_TRACE_CAPTURE"],
  captureMaxChars: ["DYN_AGENT_TRACE_CAPTURE_MAX_CHARS"],
} as const satisfies Readonly<Record<string, readonly string[]>>;

/** Every env var name the plugin reads for its configuration. */
export const ENV_NAMES: readonly string[] = Object.freeze(Object.values(ENV).flat());

export const PROTOCOLS = ["nvext", "headers", "auto"] as const satisfies readonly ProtocolSetting[];
export const INBOUND_MODES = ["parent", "link"] as const satisfies readonly InboundMode[];
export const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const satisfies readonly OtlpProtocol[];
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
} as const satisfies Readonly<Record<string, keyof CaptureConfig>>;

export const MAX_QUEUE_CAPACITY = 10_000_000;
export const MAX_FLUSH_TIMEOUT_MS = 60_000;
/** Node's largest timer delay; a longer export timeout would fire at once. */
export const MAX_OTLP_TIMEOUT_MS = 2_147_483_647;
/** Ids and the topic end up in HTTP headers and ZMQ frames. */
export const MAX_ID_LENGTH = 256;

const DEFAULT_API_KEY = "dynamo-local";

export const DEFAULTS: DynamoPluginConfig = deepFreeze({
  baseUrl: "http://127.0.0.1:8000/v1",
  apiKey: DEFAULT_API_KEY,
  apiKeyFromUser: false,
  agentTrace: false,
  protocol: "auto",
  sessionTypeId: "openclaw_coding_agent",
  toolEventsTopic: "agent-tool-events",
  toolEventsQueueCapacity: 100_000,
  inboundContext: "parent",
  otlpProtocol: "http/protobuf",
  otlpHeaders: {},
  otlpTimeoutMs: 10_000,
  serviceName: "openclaw",
  resourceAttributes: {},
  sampler: "parentbased_always_on",
  sdkDisabled: false,
  flushTimeoutMs: 2_000,
  capture: { prompts: false, completions: false, toolArguments: false, toolResults: false, maxChars: 4_096 },
});

/** Keys accepted in `plugins.entries.dynamo.config` (every `DynamoPluginConfig` key but the derived `apiKeyFromUser`). */
export const CONFIG_KEYS = [
  "baseUrl",
  "apiKey",
  "agentTrace",
  "protocol",
  "sessionTypeId",
  "sessionId",
  "trajectoryId",
  "parentTrajectoryId",
  "sessionTimeoutSeconds",
  "toolEventsEndpoint",
  "toolEventsTopic",
  "toolEventsQueueCapacity",
  "inboundContext",
  "otlpEndpoint",
  "otlpProtocol",
  "otlpHeaders",
  "otlpTimeoutMs",
  "serviceName",
  "resourceAttributes",
  "sampler",
  "samplerArg",
  "sdkDisabled",
  "phoenixProject",
  "flushTimeoutMs",
  "capture",
] as const satisfies readonly Exclude<keyof DynamoPluginConfig, "apiKeyFromUser">[];

export const CAPTURE_KEYS = ["prompts", "completions", "toolArguments", "toolResults", "maxChars"] as const satisfies readonly (keyof CaptureConfig)[];

// ---------------------------------------------------------------------------------------------
// Value parsers. Env parsers get a trimmed, non-empty string; config parsers get whatever JSON
// value the user wrote and accept exactly what the manifest's configSchema accepts.

type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly expected: string };
type Parse<T> = (raw: unknown) => Result<T>;

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const bad = <T>(expected: string): Result<T> => ({ ok: false, expected });

interface Setting<T> {
  readonly fromEnv: Parse<T>;
  readonly fromConfig: Parse<T>;
  readonly fallback: T;
  /** How the default reads in a warning. */
  readonly fallbackText: string;
  /** Whether a rejected value may be quoted in a warning (never for secrets or URLs). */
  readonly echo: boolean;
  /** String settings: an empty config string counts as not given (what a Settings form writes for a cleared field). */
  readonly emptyIsUnset?: boolean;
}

const TRUTHY = ["1", "true", "yes", "on"];
const FALSY = ["0", "false", "no", "off"];

function boolSetting(fallback: boolean): Setting<boolean> {
  return {
    fromEnv: (raw) => {
      const word = String(raw).toLowerCase();
      if (TRUTHY.includes(word)) return ok(true);
      if (FALSY.includes(word)) return ok(false);
      return bad(`one of ${[...TRUTHY, ...FALSY].join(", ")} (case-insensitive)`);
    },
    fromConfig: (raw) => (typeof raw === "boolean" ? ok(raw) : bad("true or false")),
    fallback,
    fallbackText: String(fallback),
    echo: true,
  };
}

function enumSetting<const V extends string>(values: readonly V[], fallback: V): Setting<V> {
  const find = (raw: unknown): V | undefined => values.find((value) => value === raw);
  return {
    fromEnv: (raw) => {
      const value = find(String(raw).toLowerCase());
      return value === undefined ? bad(`one of ${values.join(", ")} (case-insensitive)`) : ok(value);
    },
    fromConfig: (raw) => {
      const value = find(raw);
      return value === undefined ? bad(`one of ${values.join(", ")}`) : ok(value);
    },
    fallback,
    fallbackText: fallback,
    echo: true,
  };
}

function intSetting<F extends number | undefined>(fallback: F, max: number, unit: string): Setting<number | F> {
  const limit = max < Number.MAX_SAFE_INTEGER ? ` no greater than ${max}` : "";
  const expected = `a positive integer${unit}${limit}`;
  const check = (value: number): Result<number> =>
    Number.isSafeInteger(value) && value >= 1 && value <= max ? ok(value) : bad(expected);
  return {
    fromEnv: (raw) => (/^\d+$/.test(String(raw)) ? check(Number(raw)) : bad(expected)),
    fromConfig: (raw) => (typeof raw === "number" ? check(raw) : bad(expected)),
    fallback,
    fallbackText: fallback === undefined ? "unset" : String(fallback),
    echo: true,
  };
}

/** Checks (and may normalize) a string; `undefined` = rejected. */
interface StringCheck {
  readonly expected: string;
  readonly parse: (value: string) => string | undefined;
}

function stringSetting<F extends string | undefined>(
  check: StringCheck,
  fallback: F,
  options: { readonly fallbackText?: string; readonly echo?: boolean } = {},
): Setting<string | F> {
  const parse: Parse<string> = (raw) => {
    const value = typeof raw === "string" ? check.parse(raw) : undefined;
    return value === undefined ? bad(check.expected) : ok(value);
  };
  return {
    fromEnv: parse,
    fromConfig: parse,
    fallback,
    fallbackText: options.fallbackText ?? fallback ?? "unset",
    echo: options.echo ?? true,
    emptyIsUnset: true,
  };
}

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;
const CONTROL_CHARS = /[\x00-\x1f\x7f]/;

/** Ids and the topic end up in HTTP headers, JSON bodies and ZMQ frames. */
const HEADER_SAFE_ID: StringCheck = {
  expected: `a non-empty string of printable ASCII characters, at most ${MAX_ID_LENGTH} long`,
  parse: (value) => (PRINTABLE_ASCII.test(value) && value.length <= MAX_ID_LENGTH ? value : undefined),
};

const PLAIN_TEXT: StringCheck = {
  expected: `a non-empty string without control characters, at most ${MAX_ID_LENGTH} long`,
  parse: (value) => (value !== "" && !CONTROL_CHARS.test(value) && value.length <= MAX_ID_LENGTH ? value : undefined),
};

const API_KEY: StringCheck = {
  expected: "a non-empty string of printable ASCII characters",
  parse: (value) => (PRINTABLE_ASCII.test(value) ? value : undefined),
};

function parseHttpUrl(value: string): URL | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
}

/**
 * Dynamo frontend root as the provider uses it (`<baseUrl>/models`, `<baseUrl>/chat/completions`):
 * a bare origin gets `/v1`, trailing slashes go. `undefined` when not an http(s) URL, or when it has
 * credentials, a query or a fragment.
 */
export function normalizeBaseUrl(value: string): string | undefined {
  const url = parseHttpUrl(value);
  if (url === undefined || url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") return undefined;
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}${path === "" ? "/v1" : path}`;
}

const BASE_URL: StringCheck = {
  expected: "an http:// or https:// URL without credentials, query or fragment, e.g. http://127.0.0.1:8000/v1",
  parse: normalizeBaseUrl,
};

const OTLP_URL: StringCheck = {
  expected: "an http:// or https:// URL, e.g. http://localhost:4318/v1/traces",
  parse: (value) => (parseHttpUrl(value) === undefined ? undefined : value),
};

const TCP_ENDPOINT = /^tcp:\/\/(?:\[[0-9A-Fa-f:.]+\]|[^\x00-\x20\x7f:/[\]]+):([1-9]\d{0,4})$/;

/**
 * True for a ZeroMQ endpoint the relay can connect to: `tcp://host:port` or `ipc://path`
 * (`inproc://` names a socket inside one process, which Dynamo never is).
 */
export function isZmqEndpoint(value: string): boolean {
  if (CONTROL_CHARS.test(value)) return false;
  const tcp = TCP_ENDPOINT.exec(value);
  if (tcp !== null) return Number(tcp[1]) <= 65_535;
  return /^ipc:\/\/[^\x00-\x20\x7f]/.test(value);
}

const ZMQ_ENDPOINT: StringCheck = {
  expected: "tcp://<host>:<port> (port 1-65535) or ipc://<path>",
  parse: (value) => (isZmqEndpoint(value) ? value : undefined),
};

const SAMPLER_ARG_EXPECTED = "a number from 0 to 1";
const inUnitInterval: Parse<number> = (raw) =>
  typeof raw === "number" && Number.isFinite(raw) && raw >= 0 && raw <= 1 ? ok(raw) : bad(SAMPLER_ARG_EXPECTED);

const samplerArgSetting: Setting<number | undefined> = {
  fromEnv: (raw) =>
    /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(String(raw)) ? inUnitInterval(Number(raw)) : bad(SAMPLER_ARG_EXPECTED),
  fromConfig: inUnitInterval,
  fallback: undefined,
  fallbackText: "unset",
  echo: true,
};

function otlpProtocolSetting(): Setting<OtlpProtocol> {
  const base = enumSetting(OTLP_PROTOCOLS, DEFAULTS.otlpProtocol);
  const grpc = (parse: Parse<OtlpProtocol>): Parse<OtlpProtocol> => (raw) =>
    typeof raw === "string" && raw.toLowerCase() === "grpc"
      ? bad("http/protobuf or http/json (gRPC is not supported by this plugin; use http/protobuf)")
      : parse(raw);
  return { ...base, fromEnv: grpc(base.fromEnv), fromConfig: grpc(base.fromConfig) };
}

type StringMap = Readonly<Record<string, string>>;

/** `k=v,k2=v2` (W3C-baggage-like, values URL-decoded); one malformed entry rejects the whole value. */
function keyPairList(raw: string): StringMap | undefined {
  const pairs: [string, string][] = [];
  for (const entry of raw.split(",")) {
    if (entry.trim() === "") continue;
    const parsed = Object.entries(parseKeyPairsIntoRecord(entry));
    if (parsed.length !== 1) return undefined;
    pairs.push(parsed[0]!);
  }
  return Object.fromEntries(pairs);
}

function stringRecord(raw: unknown): StringMap | undefined {
  if (!isPlainObject(raw)) return undefined;
  const entries = Object.entries(raw);
  return entries.every((entry): entry is [string, string] => typeof entry[1] === "string") ? Object.fromEntries(entries) : undefined;
}

function mapSetting(valid: (record: StringMap) => boolean, envExpected: string, configExpected: string, echo: boolean): Setting<StringMap> {
  const check = (record: StringMap | undefined, expected: string): Result<StringMap> =>
    record !== undefined && valid(record) ? ok(record) : bad(expected);
  return {
    fromEnv: (raw) => check(keyPairList(String(raw)), envExpected),
    fromConfig: (raw) => check(stringRecord(raw), configExpected),
    fallback: {},
    fallbackText: "none",
    echo,
  };
}

// RFC 9110 field-name token, and the field-value characters Node's HTTP client accepts.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const SETTINGS = {
  baseUrl: stringSetting(BASE_URL, DEFAULTS.baseUrl, { echo: false }),
  apiKey: stringSetting(API_KEY, DEFAULT_API_KEY, { echo: false }),
  agentTrace: boolSetting(DEFAULTS.agentTrace),
  protocol: enumSetting(PROTOCOLS, DEFAULTS.protocol),
  sessionTypeId: stringSetting(HEADER_SAFE_ID, DEFAULTS.sessionTypeId),
  sessionId: stringSetting(HEADER_SAFE_ID, undefined, { fallbackText: "unset: derived from the trace id" }),
  trajectoryId: stringSetting(HEADER_SAFE_ID, undefined, { fallbackText: "unset: derived from the agent span" }),
  parentTrajectoryId: stringSetting(HEADER_SAFE_ID, undefined),
  sessionTimeoutSeconds: intSetting(undefined, Number.MAX_SAFE_INTEGER, " (seconds)"),
  toolEventsEndpoint: stringSetting(ZMQ_ENDPOINT, undefined, { fallbackText: "unset: tool-event relay off" }),
  toolEventsTopic: stringSetting(HEADER_SAFE_ID, DEFAULTS.toolEventsTopic),
  toolEventsQueueCapacity: intSetting(DEFAULTS.toolEventsQueueCapacity, MAX_QUEUE_CAPACITY, ""),
  inboundContext: enumSetting(INBOUND_MODES, DEFAULTS.inboundContext),
  otlpEndpoint: stringSetting(OTLP_URL, undefined, { fallbackText: "unset: no OTLP export", echo: false }),
  otlpProtocol: otlpProtocolSetting(),
  otlpHeaders: mapSetting(
    (record) => Object.entries(record).every(([name, value]) => HEADER_NAME.test(name) && HEADER_VALUE.test(value)),
    "comma-separated name=value pairs (values URL-encoded, valid HTTP header names), e.g. x-project-name=my-project",
    "an object mapping valid HTTP header names (RFC 9110 tokens) to string values without control characters",
    false,
  ),
  otlpTimeoutMs: intSetting(DEFAULTS.otlpTimeoutMs, MAX_OTLP_TIMEOUT_MS, " (milliseconds)"),
  serviceName: stringSetting(PLAIN_TEXT, DEFAULTS.serviceName),
  resourceAttributes: mapSetting(
    (record) => Object.keys(record).every((name) => name !== ""),
    "comma-separated key=value pairs (values URL-encoded), e.g. deployment.environment=dev,team=infra",
    "an object mapping attribute names to string values",
    true,
  ),
  sampler: enumSetting(SAMPLERS, "parentbased_always_on"),
  samplerArg: samplerArgSetting,
  sdkDisabled: boolSetting(DEFAULTS.sdkDisabled),
  phoenixProject: stringSetting(PLAIN_TEXT, undefined),
  flushTimeoutMs: intSetting(DEFAULTS.flushTimeoutMs, MAX_FLUSH_TIMEOUT_MS, " (milliseconds)"),
  captureFlag: boolSetting(false),
  captureMaxChars: intSetting(DEFAULTS.capture.maxChars, Number.MAX_SAFE_INTEGER, " (characters)"),
} as const;

// ---------------------------------------------------------------------------------------------
// Resolution.

type Env = Readonly<Record<string, string | undefined>>;

interface Context {
  readonly config: Readonly<Record<string, unknown>>;
  readonly env: Env;
  readonly warnings: ConfigWarning[];
  /** Raw secret values seen while resolving; redacted from every warning at the end. */
  readonly secrets: string[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Trimmed value of an env var; unset, empty and whitespace-only all mean "not set". */
function readEnv(env: Env, name: string): string | undefined {
  const value: unknown = env[name];
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

function describe(raw: unknown, echo: boolean): string {
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "an array";
  if (typeof raw === "object") return "an object";
  if (!echo) return typeof raw === "string" ? "the value" : `a ${typeof raw}`;
  if (typeof raw === "string") return JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw);
  return typeof raw === "number" || typeof raw === "boolean" ? String(raw) : `a ${typeof raw}`;
}

function warn(ctx: Context, key: string, raw: unknown, setting: Setting<unknown>, expected: string): void {
  const message = `${key}: ${describe(raw, setting.echo)} is not valid; expected ${expected}. Using the default (${setting.fallbackText}).`;
  ctx.warnings.push({ key, message });
}

const configPath = (key: string): string => `${CONFIG_PATH}.${key}`;

/** Validate a value from the plugin config; `path` is relative to `CONFIG_PATH`. */
function fromConfig<T>(ctx: Context, path: string, raw: unknown, setting: Setting<T>): T {
  const result = setting.fromConfig(raw);
  if (result.ok) return result.value;
  warn(ctx, configPath(path), raw, setting, result.expected);
  return setting.fallback;
}

/** The first non-empty env var of `names` wins, valid or not. */
function fromEnv<T>(ctx: Context, names: readonly string[], setting: Setting<T>): T {
  for (const name of names) {
    const raw = readEnv(ctx.env, name);
    if (raw === undefined) continue;
    const result = setting.fromEnv(raw);
    if (result.ok) return result.value;
    warn(ctx, name, raw, setting, result.expected);
    return setting.fallback;
  }
  return setting.fallback;
}

function given(ctx: Context, key: string, setting: Setting<unknown>): unknown {
  const raw = ctx.config[key];
  return raw === "" && setting.emptyIsUnset === true ? undefined : raw;
}

type SettingKey = keyof typeof SETTINGS & keyof typeof ENV;
type SettingValue<K extends SettingKey> = (typeof SETTINGS)[K] extends Setting<infer T> ? T : never;

/** Plugin config wins over env; the winning value is validated and falls back to the default. */
function resolve<K extends SettingKey>(ctx: Context, key: K): SettingValue<K> {
  const setting = SETTINGS[key] as Setting<SettingValue<K>>;
  const raw = given(ctx, key, setting);
  return raw === undefined ? fromEnv(ctx, ENV[key], setting) : fromConfig(ctx, key, raw, setting);
}

function resolveApiKey(ctx: Context): { readonly apiKey: string; readonly apiKeyFromUser: boolean } {
  const raw = ctx.config["apiKey"];
  if (typeof raw === "string") ctx.secrets.push(raw);
  const fromEnvValue = readEnv(ctx.env, ENV.apiKey[0]);
  if (fromEnvValue !== undefined) ctx.secrets.push(fromEnvValue);
  const apiKey = resolve(ctx, "apiKey");
  // Compared by value: the plugin itself exports `DYNAMO_API_KEY=dynamo-local` for OpenClaw's auth
  // lookup (openclaw-plugin-sdk.md §13), and a later registration must not take that for a user key.
  return { apiKey, apiKeyFromUser: apiKey !== DEFAULT_API_KEY };
}

/** Config `otlpEndpoint` and `…_TRACES_ENDPOINT` verbatim; `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
function resolveOtlpEndpoint(ctx: Context): string | undefined {
  const setting = SETTINGS.otlpEndpoint;
  const [tracesName, baseName] = ENV.otlpEndpoint;
  const raw = given(ctx, "otlpEndpoint", setting);
  if (raw !== undefined) return fromConfig(ctx, "otlpEndpoint", raw, setting);
  if (readEnv(ctx.env, tracesName) !== undefined) return fromEnv(ctx, [tracesName], setting);
  const base = readEnv(ctx.env, baseName);
  if (base === undefined) return undefined;
  if (parseHttpUrl(base) === undefined) {
    warn(ctx, baseName, base, setting, "an http:// or https:// URL, e.g. http://localhost:4318 (/v1/traces is appended)");
    return undefined;
  }
  return `${base.replace(/\/+$/, "")}/v1/traces`;
}

/** Config replaces env wholesale; the two env vars merge, `…_TRACES_HEADERS` winning per header. */
function resolveOtlpHeaders(ctx: Context): StringMap {
  const setting = SETTINGS.otlpHeaders;
  const raw = given(ctx, "otlpHeaders", setting);
  if (isPlainObject(raw)) ctx.secrets.push(...Object.values(raw).filter((value) => typeof value === "string"));
  for (const name of ENV.otlpHeaders) {
    const value = readEnv(ctx.env, name);
    if (value !== undefined) ctx.secrets.push(value, ...Object.values(keyPairList(value) ?? {}));
  }
  if (raw !== undefined) return fromConfig(ctx, "otlpHeaders", raw, setting);
  const [tracesName, baseName] = ENV.otlpHeaders;
  return { ...fromEnv(ctx, [baseName], setting), ...fromEnv(ctx, [tracesName], setting) };
}

type CaptureFlags = Omit<CaptureConfig, "maxChars">;
type CaptureFlag = keyof CaptureFlags;
const NO_CAPTURE: CaptureFlags = { prompts: false, completions: false, toolArguments: false, toolResults: false };
const ALL_CAPTURE: CaptureFlags = { prompts: true, completions: true, toolArguments: true, toolResults: true };

/** `DYN_AGENT_TRACE_CAPTURE`: `all`, `none` or a list of classes; anything unknown captures nothing. */
const captureListSetting: Setting<CaptureFlags> = {
  fromEnv: (raw) => {
    const words = String(raw).toLowerCase().split(",").map((word) => word.trim()).filter((word) => word !== "");
    if (words.length === 1 && words[0] === "none") return ok(NO_CAPTURE);
    if (words.length === 1 && words[0] === "all") return ok(ALL_CAPTURE);
    const flags = words.map((word) => (Object.hasOwn(CAPTURE_CLASSES, word) ? CAPTURE_CLASSES[word as keyof typeof CAPTURE_CLASSES] : undefined));
    if (words.length === 0 || flags.includes(undefined)) {
      return bad(`"all", "none", or a comma-separated list of ${Object.keys(CAPTURE_CLASSES).join(", ")}`);
    }
    return ok({ ...NO_CAPTURE, ...Object.fromEntries(flags.map((flag) => [flag, true])) });
  },
  fromConfig: () => bad("an object"),
  fallback: NO_CAPTURE,
  fallbackText: "nothing captured",
  echo: true,
};

/** `capture.*` config keys win one by one over `DYN_AGENT_TRACE_CAPTURE` / `DYN_AGENT_TRACE_CAPTURE_MAX_CHARS`. */
function resolveCapture(ctx: Context): CaptureConfig {
  const raw = ctx.config["capture"];
  if (raw !== undefined && !isPlainObject(raw)) {
    warn(ctx, configPath("capture"), raw, captureListSetting, `an object with the keys ${CAPTURE_KEYS.join(", ")}`);
    return DEFAULTS.capture;
  }
  const config = raw ?? {};
  warnUnknownKeys(ctx, config, CAPTURE_KEYS, "capture.");
  const envFlags = fromEnv(ctx, ENV.capture, captureListSetting);
  const flag = (key: CaptureFlag): boolean =>
    config[key] === undefined ? envFlags[key] : fromConfig(ctx, `capture.${key}`, config[key], SETTINGS.captureFlag);
  const maxChars =
    config["maxChars"] === undefined
      ? fromEnv(ctx, ENV.captureMaxChars, SETTINGS.captureMaxChars)
      : fromConfig(ctx, "capture.maxChars", config["maxChars"], SETTINGS.captureMaxChars);
  return {
    prompts: flag("prompts"),
    completions: flag("completions"),
    toolArguments: flag("toolArguments"),
    toolResults: flag("toolResults"),
    maxChars,
  };
}

const squash = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, "");

function warnUnknownKeys(ctx: Context, config: Readonly<Record<string, unknown>>, known: readonly string[], prefix = ""): void {
  for (const key of Object.keys(config)) {
    if (known.includes(key)) continue;
    const path = configPath(`${prefix}${key.length > 64 ? `${key.slice(0, 64)}…` : key}`);
    const guess = known.find((candidate) => squash(candidate) === squash(key));
    const hint = guess === undefined ? `expected one of ${known.join(", ")}` : `did you mean ${prefix}${guess}?`;
    ctx.warnings.push({ key: path, message: `${path}: unknown setting, ignored; ${hint}` });
  }
}

/** A plain-data copy of the plugin config, so odd inputs (getters, proxies) are touched only here. */
function snapshotPluginConfig(pluginConfig: unknown, warnings: ConfigWarning[]): Readonly<Record<string, unknown>> {
  if (pluginConfig === undefined || pluginConfig === null) return {};
  const unusable = (what: string): Record<string, never> => {
    const message = `${CONFIG_PATH}: ${what}; expected an object of settings. Using environment variables and defaults.`;
    warnings.push({ key: CONFIG_PATH, message });
    return {};
  };
  if (!isPlainObject(pluginConfig)) return unusable(`${describe(pluginConfig, false)} is not valid`);
  try {
    return Object.fromEntries(Object.keys(pluginConfig).map((key) => [key, pluginConfig[key]]));
  } catch {
    return unusable("the value could not be read");
  }
}

function redact(warnings: readonly ConfigWarning[], secrets: readonly string[]): ConfigWarning[] {
  // Short values ("x", "on") would mangle unrelated words; secrets are never echoed in the first place.
  const long = secrets.filter((secret) => secret.length >= 6);
  const scrub = (text: string): string => long.reduce((out, secret) => out.split(secret).join("[redacted]"), text);
  return warnings.map((warning) => Object.freeze({ key: scrub(warning.key), message: scrub(warning.message) }));
}

/** `{key: value}` when the value is set, `{}` otherwise, so optional keys are absent rather than `undefined`. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function build(ctx: Context): DynamoPluginConfig {
  warnUnknownKeys(ctx, ctx.config, CONFIG_KEYS);
  return {
    baseUrl: resolve(ctx, "baseUrl"),
    ...resolveApiKey(ctx),
    agentTrace: resolve(ctx, "agentTrace"),
    protocol: resolve(ctx, "protocol"),
    sessionTypeId: resolve(ctx, "sessionTypeId"),
    ...optional("sessionId", resolve(ctx, "sessionId")),
    ...optional("trajectoryId", resolve(ctx, "trajectoryId")),
    ...optional("parentTrajectoryId", resolve(ctx, "parentTrajectoryId")),
    ...optional("sessionTimeoutSeconds", resolve(ctx, "sessionTimeoutSeconds")),
    ...optional("toolEventsEndpoint", resolve(ctx, "toolEventsEndpoint")),
    toolEventsTopic: resolve(ctx, "toolEventsTopic"),
    toolEventsQueueCapacity: resolve(ctx, "toolEventsQueueCapacity"),
    inboundContext: resolve(ctx, "inboundContext"),
    ...optional("otlpEndpoint", resolveOtlpEndpoint(ctx)),
    otlpProtocol: resolve(ctx, "otlpProtocol"),
    otlpHeaders: resolveOtlpHeaders(ctx),
    otlpTimeoutMs: resolve(ctx, "otlpTimeoutMs"),
    serviceName: resolve(ctx, "serviceName"),
    resourceAttributes: resolve(ctx, "resourceAttributes"),
    sampler: resolve(ctx, "sampler"),
    ...optional("samplerArg", resolve(ctx, "samplerArg")),
    sdkDisabled: resolve(ctx, "sdkDisabled"),
    ...optional("phoenixProject", resolve(ctx, "phoenixProject")),
    flushTimeoutMs: resolve(ctx, "flushTimeoutMs"),
    capture: resolveCapture(ctx),
  };
}

/**
 * Resolve the plugin's configuration from `plugins.entries.dynamo.config` (`pluginConfig`, wins) and
 * `env` (e.g. `process.env`). Pure; the caller logs each warning once. The result is deeply frozen.
 */
export function loadConfig(
  pluginConfig: unknown,
  env: Record<string, string | undefined>,
): { config: DynamoPluginConfig; warnings: ConfigWarning[] } {
  const warnings: ConfigWarning[] = [];
  const secrets: string[] = [];
  try {
    const config = snapshotPluginConfig(pluginConfig, warnings);
    const ctx: Context = { config, env: isPlainObject(env) ? env : {}, warnings, secrets };
    return { config: deepFreeze(build(ctx)), warnings: redact(warnings, secrets) };
  } catch (error) {
    // Only hostile inputs (e.g. an env object whose getters throw) or a bug get here; either way the
    // plugin must not take OpenClaw down over its configuration.
    const name = error instanceof Error ? error.name : typeof error;
    const message = `${CONFIG_PATH}: the configuration could not be resolved (${name}); using defaults.`;
    return { config: DEFAULTS, warnings: redact([{ key: CONFIG_PATH, message }], secrets) };
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
