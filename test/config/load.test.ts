/** Plugin config over env; one warning per invalid value (default kept); secrets; frozen result. */
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS, CONFIG_PATH, DEFAULTS, SAMPLERS, loadConfig } from "../../src/config/index.ts";
import type { ConfigWarning, DynamoPluginConfig } from "../../src/types.ts";
import { cfg, expectClean, type Env, type Expected } from "./support.ts";

// For each plugin-config key: an env value, a config value that must win, and the resulting config.
const CONFIG_WINS: readonly (readonly [string, Env, unknown, Expected])[] = [
  ["baseUrl", { DYNAMO_BASE_URL: "http://env:1/v1" }, "http://cfg:2/", { baseUrl: "http://cfg:2/v1" }],
  ["apiKey", { DYNAMO_API_KEY: "env-key" }, "cfg-key", { apiKey: "cfg-key", apiKeyFromUser: true }],
  ["agentTrace", { DYN_AGENT_TRACE: "1" }, false, { agentTrace: false }],
  ["protocol", { DYN_AGENT_TRACE_PROTOCOL: "nvext" }, "headers", { protocol: "headers" }],
  ["sessionTypeId", { DYN_AGENT_SESSION_TYPE_ID: "env" }, "cfg", { sessionTypeId: "cfg" }],
  ["sessionId", { DYN_AGENT_SESSION_ID: "env" }, "cfg", { sessionId: "cfg" }],
  ["trajectoryId", { DYN_AGENT_TRAJECTORY_ID: "env" }, "cfg", { trajectoryId: "cfg" }],
  ["parentTrajectoryId", { DYN_AGENT_PARENT_TRAJECTORY_ID: "env" }, "cfg", { parentTrajectoryId: "cfg" }],
  ["sessionTimeoutSeconds", { DYN_AGENT_SESSION_TIMEOUT: "10" }, 20, { sessionTimeoutSeconds: 20 }],
  ["toolEventsEndpoint", { DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: "tcp://env:1" }, "ipc://cfg", { toolEventsEndpoint: "ipc://cfg" }],
  ["toolEventsTopic", { DYN_AGENT_TOOL_EVENTS_ZMQ_TOPIC: "env" }, "cfg", { toolEventsTopic: "cfg" }],
  ["toolEventsQueueCapacity", { DYN_AGENT_TOOL_EVENTS_QUEUE_CAPACITY: "10" }, 20, { toolEventsQueueCapacity: 20 }],
  ["inboundContext", { DYN_AGENT_TRACE_INBOUND: "link" }, "parent", { inboundContext: "parent" }],
  ["otlpEndpoint", { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://env:4318/v1/traces", OTEL_EXPORTER_OTLP_ENDPOINT: "http://env2:4318" }, "http://cfg:4318", { otlpEndpoint: "http://cfg:4318" }],
  ["otlpProtocol", { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, "http/protobuf", { otlpProtocol: "http/protobuf" }],
  // The exporter reads the env headers itself and adds the configured ones on top (docs/settings.md).
  ["otlpHeaders", { OTEL_EXPORTER_OTLP_HEADERS: "a=1", OTEL_EXPORTER_OTLP_TRACES_HEADERS: "b=2,c=0" }, { c: "3" }, { otlpHeaders: { a: "1", b: "2", c: "3" } }],
  ["otlpTimeoutMs", { OTEL_EXPORTER_OTLP_TIMEOUT: "10" }, 20, { otlpTimeoutMs: 20 }],
  ["serviceName", { OTEL_SERVICE_NAME: "env" }, "cfg", { serviceName: "cfg" }],
  ["resourceAttributes", { OTEL_RESOURCE_ATTRIBUTES: "a=1" }, { b: "2" }, { resourceAttributes: { b: "2" } }],
  ["sampler", { OTEL_TRACES_SAMPLER: "always_off" }, "traceidratio", { sampler: "traceidratio" }],
  ["samplerArg", { OTEL_TRACES_SAMPLER_ARG: "0.1" }, 0.9, { samplerArg: 0.9 }],
  ["sdkDisabled", { OTEL_SDK_DISABLED: "true" }, false, { sdkDisabled: false }],
  ["phoenixProject", { OPENINFERENCE_PROJECT_NAME: "env" }, "cfg", { phoenixProject: "cfg" }],
  ["flushTimeoutMs", { DYN_AGENT_TRACE_FLUSH_TIMEOUT_MS: "10" }, 20, { flushTimeoutMs: 20 }],
  [
    "capture",
    { DYN_AGENT_TRACE_CAPTURE: "all", DYN_AGENT_TRACE_CAPTURE_MAX_CHARS: "10" },
    { prompts: false, completions: false, toolArguments: false, toolResults: false, maxChars: 20 },
    { capture: { prompts: false, completions: false, toolArguments: false, toolResults: false, maxChars: 20 } },
  ],
];

describe("plugin config wins over env", () => {
  it.each(CONFIG_WINS)("%s", (key, env, value, expected) => {
    expect(expectClean({ [key]: value }, env)).toMatchObject(expected);
  });

  it("records which keys the plugin config set, valid or not", () => {
    const { config } = loadConfig({ otlpEndpoint: "http://c:4318/v1/traces", otlpTimeoutMs: 0, baseUrl: "", colour: 1 }, { OTEL_EXPORTER_OTLP_HEADERS: "a=1" });
    expect([...config.fromPluginConfig].sort()).toEqual(["otlpEndpoint", "otlpTimeoutMs"]);
    expect(expectClean(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }).fromPluginConfig).toEqual([]);
  });

  it("covers every config key", () => {
    expect(new Set(CONFIG_WINS.map(([key]) => key))).toEqual(new Set(CONFIG_KEYS));
  });

  it("capture merges per class: config keys override only their own class", () => {
    const env = { DYN_AGENT_TRACE_CAPTURE: "prompts,tool_results", DYN_AGENT_TRACE_CAPTURE_MAX_CHARS: "50" };
    const config = expectClean({ capture: { toolResults: false, completions: true } }, env);
    expect(config.capture).toEqual({ prompts: true, completions: true, toolArguments: false, toolResults: false, maxChars: 50 });
  });

  it("an empty config string counts as not given, so env applies", () => {
    const keys = ["baseUrl", "apiKey", "sessionTypeId", "sessionId", "toolEventsEndpoint", "otlpEndpoint", "serviceName", "phoenixProject"];
    const config = expectClean(Object.fromEntries(keys.map((key) => [key, ""])), {
      DYNAMO_BASE_URL: "http://env:1/v1",
      DYNAMO_API_KEY: "env-key",
      DYN_AGENT_SESSION_TYPE_ID: "env-type",
      DYN_AGENT_SESSION_ID: "env-session",
      DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: "tcp://env:1",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://env:4318",
      OTEL_SERVICE_NAME: "env-service",
      OPENINFERENCE_PROJECT_NAME: "env-project",
    });
    expect(config).toMatchObject({
      baseUrl: "http://env:1/v1",
      apiKey: "env-key",
      sessionTypeId: "env-type",
      sessionId: "env-session",
      toolEventsEndpoint: "tcp://env:1",
      otlpEndpoint: "http://env:4318/v1/traces",
      serviceName: "env-service",
      phoenixProject: "env-project",
    });
  });
});

// [label, plugin config, env, warning key, text the message must contain, the default that applies]
const BAD_VALUES: readonly (readonly [string, unknown, Env, string, string, Expected])[] = [
  ["base URL scheme", undefined, { DYNAMO_BASE_URL: "ftp://x/v1" }, "DYNAMO_BASE_URL", "http:// or https:// URL", { baseUrl: DEFAULTS.baseUrl }],
  ["base URL fallback", undefined, { OPENAI_BASE_URL: "localhost:8000" }, "OPENAI_BASE_URL", "http:// or https:// URL", { baseUrl: DEFAULTS.baseUrl }],
  ["base URL credentials", undefined, { DYNAMO_BASE_URL: "http://u:p@h/v1" }, "DYNAMO_BASE_URL", "without credentials", { baseUrl: DEFAULTS.baseUrl }],
  ["base URL query", { baseUrl: "http://h/v1?x=1" }, {}, cfg("baseUrl"), "query", { baseUrl: DEFAULTS.baseUrl }],
  ["base URL type", { baseUrl: 8000 }, { DYNAMO_BASE_URL: "http://env:1/v1" }, cfg("baseUrl"), "URL", { baseUrl: DEFAULTS.baseUrl }],
  ["api key control char", undefined, { DYNAMO_API_KEY: "abc\u0007def" }, "DYNAMO_API_KEY", "printable ASCII", { apiKey: "dynamo-local", apiKeyFromUser: false }],
  ["api key type", { apiKey: 42 }, {}, cfg("apiKey"), "printable ASCII", { apiKey: "dynamo-local", apiKeyFromUser: false }],
  ["agent trace word", undefined, { DYN_AGENT_TRACE: "enabled" }, "DYN_AGENT_TRACE", "1, true, yes, on, 0, false, no, off", { agentTrace: false }],
  ["agent trace type", { agentTrace: "true" }, {}, cfg("agentTrace"), "true or false", { agentTrace: false }],
  ["protocol", undefined, { DYN_AGENT_TRACE_PROTOCOL: "grpc" }, "DYN_AGENT_TRACE_PROTOCOL", "nvext, headers, auto", { protocol: "auto" }],
  ["protocol case in config", { protocol: "NVEXT" }, {}, cfg("protocol"), "nvext, headers, auto", { protocol: "auto" }],
  ["session type empty-ish", { sessionTypeId: "a\tb" }, {}, cfg("sessionTypeId"), "printable ASCII", { sessionTypeId: "openclaw_coding_agent" }],
  ["session id too long", undefined, { DYN_AGENT_SESSION_ID: "x".repeat(257) }, "DYN_AGENT_SESSION_ID", "at most 256", { sessionId: undefined }],
  ["trajectory id control", undefined, { DYN_AGENT_TRAJECTORY_ID: "a\nb" }, "DYN_AGENT_TRAJECTORY_ID", "printable ASCII", { trajectoryId: undefined }],
  ["parent id non-ASCII", undefined, { DYN_AGENT_PARENT_SESSION_ID: "päärent" }, "DYN_AGENT_PARENT_SESSION_ID", "printable ASCII", { parentTrajectoryId: undefined }],
  ["parent id type", { parentTrajectoryId: ["x"] }, {}, cfg("parentTrajectoryId"), "printable ASCII", { parentTrajectoryId: undefined }],
  ["session timeout zero", undefined, { DYN_AGENT_SESSION_TIMEOUT: "0" }, "DYN_AGENT_SESSION_TIMEOUT", "positive integer", { sessionTimeoutSeconds: undefined }],
  ["session timeout fraction", { sessionTimeoutSeconds: 1.5 }, {}, cfg("sessionTimeoutSeconds"), "positive integer", { sessionTimeoutSeconds: undefined }],
  ["endpoint port", undefined, { DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: "tcp://h:70000" }, "DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT", "tcp://<host>:<port> (port 1-65535)", { toolEventsEndpoint: undefined }],
  ["endpoint no port", undefined, { DYN_AGENT_TRACE_TOOL_ZMQ_ENDPOINT: "tcp://h" }, "DYN_AGENT_TRACE_TOOL_ZMQ_ENDPOINT", "ipc://<path>", { toolEventsEndpoint: undefined }],
  ["endpoint port 0", { toolEventsEndpoint: "tcp://h:0" }, {}, cfg("toolEventsEndpoint"), "ipc://<path>", { toolEventsEndpoint: undefined }],
  ["endpoint bind form", { toolEventsEndpoint: "tcp://*:20390" }, {}, cfg("toolEventsEndpoint"), "connect to tcp://127.0.0.1:20390", { toolEventsEndpoint: undefined }],
  ["endpoint bind form env", undefined, { DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: "tcp://*:5557" }, "DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT", "tcp://*:5557 is how Dynamo binds; connect to tcp://127.0.0.1:5557", { toolEventsEndpoint: undefined }],
  ["endpoint scheme", undefined, { DYN_REQUEST_TRACE_TOOL_EVENTS_ZMQ_ENDPOINT: "udp://h:1" }, "DYN_REQUEST_TRACE_TOOL_EVENTS_ZMQ_ENDPOINT", "tcp://", { toolEventsEndpoint: undefined }],
  ["topic control", undefined, { DYN_AGENT_TRACE_TOOL_EVENTS_ZMQ_TOPIC: "a\u0000b" }, "DYN_AGENT_TRACE_TOOL_EVENTS_ZMQ_TOPIC", "printable ASCII", { toolEventsTopic: "agent-tool-events" }],
  ["queue too big", undefined, { DYN_AGENT_TOOL_EVENTS_QUEUE_CAPACITY: "10000001" }, "DYN_AGENT_TOOL_EVENTS_QUEUE_CAPACITY", "no greater than 10000000", { toolEventsQueueCapacity: 100_000 }],
  ["queue not a number", undefined, { DYN_REQUEST_TRACE_TOOL_EVENTS_QUEUE_CAPACITY: "1e3" }, "DYN_REQUEST_TRACE_TOOL_EVENTS_QUEUE_CAPACITY", "positive integer", { toolEventsQueueCapacity: 100_000 }],
  ["queue negative", { toolEventsQueueCapacity: -5 }, {}, cfg("toolEventsQueueCapacity"), "positive integer", { toolEventsQueueCapacity: 100_000 }],
  ["inbound", undefined, { DYN_AGENT_TRACE_INBOUND: "child" }, "DYN_AGENT_TRACE_INBOUND", "parent, link", { inboundContext: "parent" }],
  ["inbound type", { inboundContext: true }, {}, cfg("inboundContext"), "parent, link", { inboundContext: "parent" }],
  ["otlp traces endpoint", undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "grpc://c:4317" }, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http:// or https:// URL", { otlpEndpoint: undefined }],
  ["otlp endpoint", undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318" }, "OTEL_EXPORTER_OTLP_ENDPOINT", "/v1/traces is appended", { otlpEndpoint: undefined }],
  ["otlp endpoint config", { otlpEndpoint: "collector:4318" }, {}, cfg("otlpEndpoint"), "http:// or https:// URL", { otlpEndpoint: undefined }],
  ["otlp grpc", undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, "OTEL_EXPORTER_OTLP_PROTOCOL", "gRPC is not supported by this plugin; use http/protobuf", { otlpProtocol: "http/protobuf" }],
  ["otlp grpc traces", undefined, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "GRPC" }, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "gRPC is not supported", { otlpProtocol: "http/protobuf" }],
  ["otlp grpc config", { otlpProtocol: "grpc" }, {}, cfg("otlpProtocol"), "gRPC is not supported", { otlpProtocol: "http/protobuf" }],
  ["otlp protocol", undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: "protobuf" }, "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf, http/json", { otlpProtocol: "http/protobuf" }],
  ["otlp headers entry", undefined, { OTEL_EXPORTER_OTLP_HEADERS: "a=1,justtext" }, "OTEL_EXPORTER_OTLP_HEADERS", "name=value pairs", { otlpHeaders: {} }],
  ["otlp headers name", undefined, { OTEL_EXPORTER_OTLP_TRACES_HEADERS: "bad%20name=1" }, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "valid HTTP header names", { otlpHeaders: {} }],
  ["otlp headers encoding", undefined, { OTEL_EXPORTER_OTLP_HEADERS: "a=%E0%A4%A" }, "OTEL_EXPORTER_OTLP_HEADERS", "URL-encoded", { otlpHeaders: {} }],
  ["otlp headers config value", { otlpHeaders: { a: 1 } }, {}, cfg("otlpHeaders"), "string values", { otlpHeaders: {} }],
  ["otlp headers config newline", { otlpHeaders: { a: "x\r\ny" } }, {}, cfg("otlpHeaders"), "without control characters", { otlpHeaders: {} }],
  ["otlp headers config array", { otlpHeaders: ["a=1"] }, {}, cfg("otlpHeaders"), "an object", { otlpHeaders: {} }],
  ["otlp timeout", undefined, { OTEL_EXPORTER_OTLP_TIMEOUT: "10s" }, "OTEL_EXPORTER_OTLP_TIMEOUT", "positive integer (milliseconds)", { otlpTimeoutMs: 10_000 }],
  ["otlp timeout huge", { otlpTimeoutMs: 2 ** 31 }, {}, cfg("otlpTimeoutMs"), "no greater than 2147483647", { otlpTimeoutMs: 10_000 }],
  ["service name control", undefined, { OTEL_SERVICE_NAME: "a\u007fb" }, "OTEL_SERVICE_NAME", "without control characters", { serviceName: "openclaw" }],
  ["service name type", { serviceName: null }, {}, cfg("serviceName"), "without control characters", { serviceName: "openclaw" }],
  ["resource attributes", undefined, { OTEL_RESOURCE_ATTRIBUTES: "a=1,=2" }, "OTEL_RESOURCE_ATTRIBUTES", "key=value pairs", { resourceAttributes: {} }],
  ["resource attributes config", { resourceAttributes: { a: true } }, {}, cfg("resourceAttributes"), "string values", { resourceAttributes: {} }],
  ["sampler", undefined, { OTEL_TRACES_SAMPLER: "jaeger_remote" }, "OTEL_TRACES_SAMPLER", SAMPLERS.join(", "), { sampler: "parentbased_always_on" }],
  ["sampler config", { sampler: "sometimes" }, {}, cfg("sampler"), "parentbased_traceidratio", { sampler: "parentbased_always_on" }],
  ["sampler arg range", undefined, { OTEL_TRACES_SAMPLER_ARG: "1.5" }, "OTEL_TRACES_SAMPLER_ARG", "a number from 0 to 1", { samplerArg: undefined }],
  ["sampler arg text", undefined, { OTEL_TRACES_SAMPLER_ARG: "half" }, "OTEL_TRACES_SAMPLER_ARG", "a number from 0 to 1", { samplerArg: undefined }],
  ["sampler arg config", { samplerArg: -0.1 }, {}, cfg("samplerArg"), "a number from 0 to 1", { samplerArg: undefined }],
  ["sdk disabled", undefined, { OTEL_SDK_DISABLED: "disabled" }, "OTEL_SDK_DISABLED", "1, true, yes, on", { sdkDisabled: false }],
  ["sdk disabled config", { sdkDisabled: 1 }, {}, cfg("sdkDisabled"), "true or false", { sdkDisabled: false }],
  ["phoenix project", undefined, { OPENINFERENCE_PROJECT_NAME: "p".repeat(300) }, "OPENINFERENCE_PROJECT_NAME", "at most 256", { phoenixProject: undefined }],
  ["flush timeout", undefined, { DYN_AGENT_TRACE_FLUSH_TIMEOUT_MS: "60001" }, "DYN_AGENT_TRACE_FLUSH_TIMEOUT_MS", "no greater than 60000", { flushTimeoutMs: 2_000 }],
  ["flush timeout config", { flushTimeoutMs: "2000" }, {}, cfg("flushTimeoutMs"), "positive integer", { flushTimeoutMs: 2_000 }],
  ["capture list", undefined, { DYN_AGENT_TRACE_CAPTURE: "prompts,secrets" }, "DYN_AGENT_TRACE_CAPTURE", "prompts, completions, tool_arguments, tool_results", { capture: { prompts: false } }],
  ["capture all+none", undefined, { DYN_AGENT_TRACE_CAPTURE: "all,none" }, "DYN_AGENT_TRACE_CAPTURE", '"all", "none"', { capture: { prompts: false } }],
  ["capture max chars", undefined, { DYN_AGENT_TRACE_CAPTURE_MAX_CHARS: "-1" }, "DYN_AGENT_TRACE_CAPTURE_MAX_CHARS", "positive integer", { capture: { maxChars: 4096 } }],
  ["capture not an object", { capture: "all" }, { DYN_AGENT_TRACE_CAPTURE: "all" }, cfg("capture"), "an object with the keys", { capture: DEFAULTS.capture }],
  ["capture flag type", { capture: { prompts: "yes" } }, {}, cfg("capture.prompts"), "true or false", { capture: { prompts: false } }],
  ["capture max chars config", { capture: { maxChars: 0 } }, {}, cfg("capture.maxChars"), "positive integer", { capture: { maxChars: 4096 } }],
  ["unknown key", { baseURL: "http://x" }, {}, cfg("baseURL"), "did you mean baseUrl?", { baseUrl: DEFAULTS.baseUrl }],
  ["unknown key, no guess", { colour: "blue" }, {}, cfg("colour"), "expected one of baseUrl, apiKey", {}],
  ["derived key in config", { apiKeyFromUser: true }, {}, cfg("apiKeyFromUser"), "unknown setting", { apiKeyFromUser: false }],
  ["unknown capture key", { capture: { tool_arguments: true } }, {}, cfg("capture.tool_arguments"), "did you mean capture.toolArguments?", { capture: { toolArguments: false } }],
  ["config not an object", "baseUrl=http://x", {}, CONFIG_PATH, "expected an object of settings", {}],
  ["config is an array", [{ baseUrl: "http://x" }], {}, CONFIG_PATH, "expected an object of settings", {}],
];

describe("invalid values", () => {
  it.each(BAD_VALUES)("%s: exactly one warning naming the key and the accepted form, then the default", (_label, pluginConfig, env, key, accepted, fallback) => {
    const { config, warnings } = loadConfig(pluginConfig, env);
    expect(warnings).toHaveLength(1);
    const [warning] = warnings as [ConfigWarning];
    expect(warning.key).toBe(key);
    expect(warning.message.startsWith(`${key}: `)).toBe(true);
    expect(warning.message).toContain(accepted);
    if (!warning.message.includes("unknown setting") && key !== CONFIG_PATH) expect(warning.message).toContain("Using the default");
    for (const [name, value] of Object.entries(fallback)) {
      if (value !== null && typeof value === "object") expect(config[name as keyof DynamoPluginConfig]).toMatchObject(value);
      else expect(config[name as keyof DynamoPluginConfig], name).toBe(value);
    }
  });

  it("one warning per invalid value when several are wrong at once", () => {
    const { warnings } = loadConfig(
      { protocol: "x", flushTimeoutMs: 0 },
      { DYN_AGENT_TRACE: "maybe", OTEL_TRACES_SAMPLER: "x", DYN_AGENT_TRACE_PROTOCOL: "also-wrong-but-shadowed" },
    );
    expect(warnings.map((w) => w.key).sort()).toEqual([cfg("flushTimeoutMs"), cfg("protocol"), "DYN_AGENT_TRACE", "OTEL_TRACES_SAMPLER"].sort());
  });

  it("quotes short non-secret values to help the user", () => {
    const { warnings } = loadConfig(undefined, { DYN_AGENT_TRACE_PROTOCOL: "nvxet" });
    expect(warnings[0]!.message).toContain('"nvxet"');
  });
});

describe("secrets never reach warnings", () => {
  const KEY = "sk-live-7f3a9c0e2b";
  const scenarios: readonly (readonly [string, unknown, Env])[] = [
    ["valid env key, other warnings", { colour: 1 }, { DYNAMO_API_KEY: KEY, DYN_AGENT_TRACE: "maybe" }],
    ["invalid env key", undefined, { DYNAMO_API_KEY: `${KEY}\u0001` }],
    ["invalid config key", { apiKey: `${KEY}\n` }, {}],
    ["non-ASCII config key", { apiKey: `${KEY}é` }, { DYNAMO_API_KEY: KEY }],
    ["key pasted into another setting", undefined, { DYNAMO_API_KEY: KEY, DYN_AGENT_TRACE_PROTOCOL: KEY, OTEL_TRACES_SAMPLER: `x${KEY}x` }],
    ["key pasted into a config enum", { apiKey: KEY, protocol: KEY, inboundContext: KEY }, {}],
    ["key in a URL", undefined, { DYNAMO_BASE_URL: `http://user:${KEY}@h/v1`, OTEL_EXPORTER_OTLP_ENDPOINT: `http//x?token=${KEY}` }],
    ["key in malformed OTLP headers", undefined, { OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${KEY},${KEY}` }],
    ["key in config OTLP headers", { otlpHeaders: { "bad name": KEY, authorization: `${KEY}\r\n` } }, {}],
  ];
  it.each(scenarios)("%s", (_label, pluginConfig, env) => {
    const { warnings } = loadConfig(pluginConfig, env);
    expect(warnings.length).toBeGreaterThan(0);
    expect(JSON.stringify(warnings)).not.toContain(KEY);
    for (const warning of warnings) expect(`${warning.key} ${warning.message}`).not.toContain(KEY);
  });
});

describe("frozen result", () => {
  it("cannot be mutated at any depth", () => {
    const { config, warnings } = loadConfig(
      { otlpHeaders: { a: "1" }, resourceAttributes: { b: "2" }, colour: 1 },
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" },
    );
    const mutable = config as unknown as Record<string, Record<string, unknown>>;
    expect(() => {
      mutable["baseUrl"] = {};
    }).toThrow(TypeError);
    expect(() => {
      mutable["capture"]!["prompts"] = true;
    }).toThrow(TypeError);
    expect(() => {
      mutable["otlpHeaders"]!["x"] = "y";
    }).toThrow(TypeError);
    expect(() => {
      mutable["resourceAttributes"]!["b"] = "3";
    }).toThrow(TypeError);
    expect(() => {
      delete mutable["otlpEndpoint"];
    }).toThrow(TypeError);
    expect(Object.isFrozen(warnings[0])).toBe(true);
    expect(Object.isFrozen(DEFAULTS) && Object.isFrozen(DEFAULTS.capture)).toBe(true);
  });

  it("does not alias the caller's objects", () => {
    const headers = { a: "1" };
    const { config } = loadConfig({ otlpHeaders: headers }, {});
    headers.a = "2";
    expect(config.otlpHeaders).toEqual({ a: "1" });
    expect(Object.isFrozen(headers)).toBe(false);
  });
});

