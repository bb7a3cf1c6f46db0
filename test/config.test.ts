import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CAPTURE_KEYS,
  CONFIG_KEYS,
  CONFIG_PATH,
  DEFAULTS,
  ENV,
  ENV_NAMES,
  INBOUND_MODES,
  OTLP_PROTOCOLS,
  PROTOCOLS,
  SAMPLERS,
  loadConfig,
} from "../src/config.ts";
import type { ConfigWarning, DynamoPluginConfig } from "../src/types.ts";

type Env = Record<string, string | undefined>;
type Expected = Partial<Omit<DynamoPluginConfig, "capture">> & { capture?: Partial<DynamoPluginConfig["capture"]> };

const cfg = (key: string): string => `${CONFIG_PATH}.${key}`;

function expectClean(pluginConfig: unknown, env: Env): DynamoPluginConfig {
  const { config, warnings } = loadConfig(pluginConfig, env);
  expect(warnings).toEqual([]);
  return config;
}

describe("defaults", () => {
  it("match the spec with an empty environment and no plugin config", () => {
    for (const pluginConfig of [undefined, null, {}]) {
      const config = expectClean(pluginConfig, {});
      expect(config).toEqual(DEFAULTS);
    }
    expect(DEFAULTS).toEqual({
      baseUrl: "http://127.0.0.1:8000/v1",
      apiKey: "dynamo-local",
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
  });

  it("leaves optional settings absent rather than undefined", () => {
    const config = expectClean(undefined, {});
    for (const key of ["sessionId", "trajectoryId", "parentTrajectoryId", "sessionTimeoutSeconds", "toolEventsEndpoint", "otlpEndpoint", "samplerArg", "phoenixProject"]) {
      expect(Object.hasOwn(config, key), key).toBe(false);
    }
  });

  it("treats empty and whitespace-only env vars as unset", () => {
    const env = Object.fromEntries(ENV_NAMES.map((name, i) => [name, i % 2 === 0 ? "" : " \t "]));
    expect(expectClean(undefined, env)).toEqual(DEFAULTS);
  });
});

// Every env var and alias, one valid value each.
const ENV_CASES: readonly (readonly [string, string, Expected])[] = [
  ["DYNAMO_BASE_URL", "http://dynamo:9000/v1", { baseUrl: "http://dynamo:9000/v1" }],
  ["OPENAI_BASE_URL", "http://compat:8000", { baseUrl: "http://compat:8000/v1" }],
  ["DYNAMO_API_KEY", "key-123", { apiKey: "key-123", apiKeyFromUser: true }],
  ["DYNAMO_API_KEY", " key-456\n", { apiKey: "key-456", apiKeyFromUser: true }],
  ["DYN_AGENT_TRACE", "1", { agentTrace: true }],
  ["DYN_AGENT_TRACE", "true", { agentTrace: true }],
  ["DYN_AGENT_TRACE", "YES", { agentTrace: true }],
  ["DYN_AGENT_TRACE", " On ", { agentTrace: true }],
  ["DYN_AGENT_TRACE", "0", { agentTrace: false }],
  ["DYN_AGENT_TRACE", "False", { agentTrace: false }],
  ["DYN_AGENT_TRACE", "no", { agentTrace: false }],
  ["DYN_AGENT_TRACE", "OFF", { agentTrace: false }],
  ["DYN_AGENT_TRACE_PROTOCOL", "nvext", { protocol: "nvext" }],
  ["DYN_AGENT_TRACE_PROTOCOL", "HEADERS", { protocol: "headers" }],
  ["DYN_AGENT_TRACE_PROTOCOL", " Auto ", { protocol: "auto" }],
  ["DYN_AGENT_SESSION_TYPE_ID", "my_agent", { sessionTypeId: "my_agent" }],
  ["DYN_AGENT_SESSION_ID", "sess-1", { sessionId: "sess-1" }],
  ["DYN_AGENT_TRAJECTORY_ID", "traj-1", { trajectoryId: "traj-1" }],
  ["DYN_AGENT_PARENT_TRAJECTORY_ID", "parent-1", { parentTrajectoryId: "parent-1" }],
  ["DYN_AGENT_PARENT_SESSION_ID", "parent-2", { parentTrajectoryId: "parent-2" }],
  ["DYN_AGENT_SESSION_TIMEOUT", "600", { sessionTimeoutSeconds: 600 }],
  ["DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT", "tcp://127.0.0.1:20390", { toolEventsEndpoint: "tcp://127.0.0.1:20390" }],
  ["DYN_AGENT_TRACE_TOOL_EVENTS_ZMQ_ENDPOINT", "ipc:///tmp/dynamo.sock", { toolEventsEndpoint: "ipc:///tmp/dynamo.sock" }],
  ["DYN_AGENT_TRACE_TOOL_ZMQ_ENDPOINT", "ipc://relay.sock", { toolEventsEndpoint: "ipc://relay.sock" }],
  ["DYN_REQUEST_TRACE_TOOL_EVENTS_ZMQ_ENDPOINT", "tcp://[::1]:65535", { toolEventsEndpoint: "tcp://[::1]:65535" }],
  ["DYN_AGENT_TOOL_EVENTS_ZMQ_TOPIC", "t1", { toolEventsTopic: "t1" }],
  ["DYN_AGENT_TRACE_TOOL_EVENTS_ZMQ_TOPIC", "t2", { toolEventsTopic: "t2" }],
  ["DYN_AGENT_TRACE_TOOL_ZMQ_TOPIC", "t3", { toolEventsTopic: "t3" }],
  ["DYN_REQUEST_TRACE_TOOL_EVENTS_ZMQ_TOPIC", "t4", { toolEventsTopic: "t4" }],
  ["DYN_AGENT_TOOL_EVENTS_QUEUE_CAPACITY", "10000000", { toolEventsQueueCapacity: 10_000_000 }],
  ["DYN_REQUEST_TRACE_TOOL_EVENTS_QUEUE_CAPACITY", "1", { toolEventsQueueCapacity: 1 }],
  ["DYN_AGENT_TRACE_INBOUND", "link", { inboundContext: "link" }],
  ["DYN_AGENT_TRACE_INBOUND", "PARENT", { inboundContext: "parent" }],
  ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://jaeger:4318/v1/traces", { otlpEndpoint: "http://jaeger:4318/v1/traces" }],
  ["OTEL_EXPORTER_OTLP_ENDPOINT", "http://phoenix:6006", { otlpEndpoint: "http://phoenix:6006/v1/traces" }],
  ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json", { otlpProtocol: "http/json" }],
  ["OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/JSON", { otlpProtocol: "http/json" }],
  ["OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-project-name=demo", { otlpHeaders: { "x-project-name": "demo" } }],
  ["OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc, x-a = b ,", { otlpHeaders: { authorization: "Bearer abc", "x-a": "b" } }],
  ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2500", { otlpTimeoutMs: 2500 }],
  ["OTEL_EXPORTER_OTLP_TIMEOUT", "3000", { otlpTimeoutMs: 3000 }],
  ["OTEL_SERVICE_NAME", "my-openclaw", { serviceName: "my-openclaw" }],
  ["OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=dev,team=a%20b", { resourceAttributes: { "deployment.environment": "dev", team: "a b" } }],
  ["OTEL_TRACES_SAMPLER", "traceidratio", { sampler: "traceidratio" }],
  ["OTEL_TRACES_SAMPLER", "ALWAYS_OFF", { sampler: "always_off" }],
  ["OTEL_TRACES_SAMPLER_ARG", "0.25", { samplerArg: 0.25 }],
  ["OTEL_TRACES_SAMPLER_ARG", "1", { samplerArg: 1 }],
  ["OTEL_TRACES_SAMPLER_ARG", "0", { samplerArg: 0 }],
  ["OTEL_SDK_DISABLED", "true", { sdkDisabled: true }],
  ["OTEL_SDK_DISABLED", "FALSE", { sdkDisabled: false }],
  ["OPENINFERENCE_PROJECT_NAME", "my project", { phoenixProject: "my project" }],
  ["DYN_AGENT_TRACE_FLUSH_TIMEOUT_MS", "60000", { flushTimeoutMs: 60_000 }],
  ["DYN_AGENT_TRACE_CAPTURE", "all", { capture: { prompts: true, completions: true, toolArguments: true, toolResults: true } }],
  ["DYN_AGENT_TRACE_CAPTURE", "NONE", { capture: { prompts: false, completions: false, toolArguments: false, toolResults: false } }],
  ["DYN_AGENT_TRACE_CAPTURE", "prompts, TOOL_RESULTS,", { capture: { prompts: true, completions: false, toolArguments: false, toolResults: true } }],
  ["DYN_AGENT_TRACE_CAPTURE", "completions,tool_arguments", { capture: { prompts: false, completions: true, toolArguments: true, toolResults: false } }],
  ["DYN_AGENT_TRACE_CAPTURE_MAX_CHARS", "100", { capture: { maxChars: 100 } }],
];

describe("environment variables", () => {
  it.each(ENV_CASES)("%s=%j", (name, value, expected) => {
    expect(expectClean(undefined, { [name]: value })).toMatchObject(expected);
  });

  it("list aliases in the specified precedence order", () => {
    expect(ENV).toMatchObject({
      baseUrl: ["DYNAMO_BASE_URL", "OPENAI_BASE_URL"],
      parentTrajectoryId: ["DYN_AGENT_PARENT_TRAJECTORY_ID", "DYN_AGENT_PARENT_SESSION_ID"],
      toolEventsEndpoint: [
        "DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT",
        "DYN_AGENT_TRACE_TOOL_EVENTS_ZMQ_ENDPOINT",
        "DYN_AGENT_TRACE_TOOL_ZMQ_ENDPOINT",
        "DYN_REQUEST_TRACE_TOOL_EVENTS_ZMQ_ENDPOINT",
      ],
      toolEventsTopic: [
        "DYN_AGENT_TOOL_EVENTS_ZMQ_TOPIC",
        "DYN_AGENT_TRACE_TOOL_EVENTS_ZMQ_TOPIC",
        "DYN_AGENT_TRACE_TOOL_ZMQ_TOPIC",
        "DYN_REQUEST_TRACE_TOOL_EVENTS_ZMQ_TOPIC",
      ],
      toolEventsQueueCapacity: ["DYN_AGENT_TOOL_EVENTS_QUEUE_CAPACITY", "DYN_REQUEST_TRACE_TOOL_EVENTS_QUEUE_CAPACITY"],
      otlpEndpoint: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"],
      otlpProtocol: ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"],
      otlpHeaders: ["OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"],
      otlpTimeoutMs: ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"],
    });
  });

  it("cover every name in ENV", () => {
    expect(new Set(ENV_CASES.map(([name]) => name))).toEqual(new Set(ENV_NAMES));
  });

  it("a user key equal to the default does not count as user-provided", () => {
    expect(expectClean(undefined, { DYNAMO_API_KEY: "dynamo-local" })).toMatchObject({ apiKey: "dynamo-local", apiKeyFromUser: false });
  });
});

describe("alias precedence: the first non-empty name wins", () => {
  const families: readonly (readonly [keyof typeof ENV, readonly string[], (value: string) => unknown])[] = [
    ["baseUrl", ["http://a:1/v1", "http://b:2/v1"], (v) => v],
    ["parentTrajectoryId", ["p-a", "p-b"], (v) => v],
    ["toolEventsEndpoint", ["tcp://a:1", "tcp://b:2", "tcp://c:3", "tcp://d:4"], (v) => v],
    ["toolEventsTopic", ["ta", "tb", "tc", "td"], (v) => v],
    ["toolEventsQueueCapacity", ["11", "22"], Number],
    ["otlpProtocol", ["http/json", "http/protobuf"], (v) => v],
    ["otlpTimeoutMs", ["111", "222"], Number],
  ];
  for (const [key, values, expect_] of families) {
    const names = ENV[key];
    it(`${key}: ${names.join(" > ")}`, () => {
      expect(names.length).toBe(values.length);
      for (let winner = 0; winner < names.length; winner++) {
        // Names before the winner are empty or blank; names after it hold other valid values.
        const env = Object.fromEntries(names.map((name, i) => [name, i < winner ? (i % 2 ? "  " : "") : values[i]]));
        const config = expectClean(undefined, env);
        expect(config[key as keyof DynamoPluginConfig], `winner ${names[winner]}`).toEqual(expect_(values[winner]!));
      }
    });
  }

  it("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT beats OTEL_EXPORTER_OTLP_ENDPOINT", () => {
    const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:4318/custom", OTEL_EXPORTER_OTLP_ENDPOINT: "http://g:4318" };
    expect(expectClean(undefined, env).otlpEndpoint).toBe("http://t:4318/custom");
  });

  it("OTLP headers from both variables merge, the traces-specific one winning per header", () => {
    const env = { OTEL_EXPORTER_OTLP_HEADERS: "a=1,b=2", OTEL_EXPORTER_OTLP_TRACES_HEADERS: "b=3,c=4" };
    expect(expectClean(undefined, env).otlpHeaders).toEqual({ a: "1", b: "3", c: "4" });
  });

  it("an invalid first name is not skipped: it warns and the default applies", () => {
    const { config, warnings } = loadConfig(undefined, {
      DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: "http://not-zmq:1",
      DYN_REQUEST_TRACE_TOOL_EVENTS_ZMQ_ENDPOINT: "tcp://valid:5555",
    });
    expect(config.toolEventsEndpoint).toBeUndefined();
    expect(warnings.map((w) => w.key)).toEqual(["DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT"]);
    expect(warnings[0]!.message).toContain("relay off");
  });
});

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
  ["otlpHeaders", { OTEL_EXPORTER_OTLP_HEADERS: "a=1", OTEL_EXPORTER_OTLP_TRACES_HEADERS: "b=2" }, { c: "3" }, { otlpHeaders: { c: "3" } }],
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

describe("base URL normalisation", () => {
  it.each([
    ["http://h:8000", "http://h:8000/v1"],
    ["http://h:8000/", "http://h:8000/v1"],
    ["http://h:8000//", "http://h:8000/v1"],
    ["http://h:8000/v1", "http://h:8000/v1"],
    ["http://h:8000/v1/", "http://h:8000/v1"],
    ["https://dynamo.example.com/v1//", "https://dynamo.example.com/v1"],
    ["http://h:8000/api/openai/v1", "http://h:8000/api/openai/v1"],
    ["HTTP://Dynamo.Local:8000", "http://dynamo.local:8000/v1"],
    ["http://[::1]:8000", "http://[::1]:8000/v1"],
    ["  http://h:8000/v1  ", "http://h:8000/v1"],
  ])("%j -> %s", (input, expected) => {
    expect(expectClean(undefined, { DYNAMO_BASE_URL: input }).baseUrl).toBe(expected);
    expect(expectClean({ baseUrl: input.trim() }, {}).baseUrl).toBe(expected);
  });

  it.each(["localhost:8000", "ftp://h/v1", "http://user:pw@h/v1", "http://h/v1?x=1", "http://h/v1#frag", "not a url", "http://", "file:///v1"])(
    "rejects %j",
    (input) => {
      const { config, warnings } = loadConfig(undefined, { DYNAMO_BASE_URL: input });
      expect(config.baseUrl).toBe(DEFAULTS.baseUrl);
      expect(warnings.map((w) => w.key)).toEqual(["DYNAMO_BASE_URL"]);
    },
  );
});

describe("OTLP endpoint resolution", () => {
  it.each([
    ["traces endpoint verbatim", { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/v1/traces" }, "http://c:4318/v1/traces"],
    ["traces endpoint gets nothing appended", { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318" }, "http://c:4318"],
    ["base endpoint + /v1/traces", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }, "http://c:4318/v1/traces"],
    ["no double slash", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" }, "http://c:4318/v1/traces"],
    ["base with a path prefix", { OTEL_EXPORTER_OTLP_ENDPOINT: "https://c.example/otel/" }, "https://c.example/otel/v1/traces"],
    ["both: traces wins", { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:1/x", OTEL_EXPORTER_OTLP_ENDPOINT: "http://g:2" }, "http://t:1/x"],
    ["blank traces falls back", { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: " ", OTEL_EXPORTER_OTLP_ENDPOINT: "http://g:2" }, "http://g:2/v1/traces"],
    ["none: no export", {}, undefined],
  ])("%s", (_label, env, expected) => {
    const config = expectClean(undefined, env);
    expect(config.otlpEndpoint).toBe(expected);
    expect(Object.hasOwn(config, "otlpEndpoint")).toBe(expected !== undefined);
  });

  it("config is used verbatim and beats both env vars", () => {
    const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:1/x", OTEL_EXPORTER_OTLP_ENDPOINT: "http://g:2" };
    expect(expectClean({ otlpEndpoint: "http://cfg:6006" }, env).otlpEndpoint).toBe("http://cfg:6006");
  });

  it("an invalid traces endpoint does not fall through to the generic one", () => {
    const { config, warnings } = loadConfig(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "c:4318", OTEL_EXPORTER_OTLP_ENDPOINT: "http://g:2" });
    expect(config.otlpEndpoint).toBeUndefined();
    expect(warnings.map((w) => w.key)).toEqual(["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
    expect(warnings[0]!.message).toContain("no OTLP export");
  });
});

describe("never throws", () => {
  const envValue = fc.oneof(
    fc.string(),
    fc.string({ unit: "binary" }),
    fc.constantFrom("", " ", "1", "true", "off", "all", "none", "grpc", "http/json", "tcp://h:1", "http://h:1", "a=1,b", "0.5", "-1", "99999999999999999999"),
  );
  const anyEnv = fc.dictionary(fc.constantFrom(...ENV_NAMES), envValue);
  const configLike = fc.record(
    Object.fromEntries([...CONFIG_KEYS, "capture", "unknownKey"].map((key) => [key, fc.anything()])),
    { requiredKeys: [] },
  );

  function checkResult(result: ReturnType<typeof loadConfig>): void {
    expect(Object.isFrozen(result.config)).toBe(true);
    expect(Object.isFrozen(result.config.capture)).toBe(true);
    expect(typeof result.config.baseUrl).toBe("string");
    for (const warning of result.warnings) {
      expect(typeof warning.key).toBe("string");
      expect(typeof warning.message).toBe("string");
      expect(ENV_NAMES.includes(warning.key) || warning.key.startsWith(CONFIG_PATH)).toBe(true);
      expect(warning.message).not.toContain("could not be resolved");
    }
  }

  it("on arbitrary plugin config and env values", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), configLike), anyEnv, (pluginConfig, env) => {
        checkResult(loadConfig(pluginConfig, env));
      }),
      { numRuns: 500 },
    );
  });

  it("on arbitrary capture objects", () => {
    fc.assert(
      fc.property(fc.record({ capture: fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom(...CAPTURE_KEYS, "x"), fc.anything())) }), anyEnv, (pluginConfig, env) => {
        checkResult(loadConfig(pluginConfig, env));
      }),
      { numRuns: 300 },
    );
  });

  it("on hostile inputs: throwing getters, proxies, a missing env", () => {
    const throwing = Object.defineProperty({}, "baseUrl", {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
    const hostileEnv = new Proxy({}, {
      get() {
        throw new Error("boom");
      },
    }) as Env;
    for (const [pluginConfig, env] of [
      [throwing, {}],
      [{}, hostileEnv],
      [{}, undefined as unknown as Env],
      [{}, null as unknown as Env],
      [Object.create(null), {}],
      [new Map([["baseUrl", "http://x"]]), {}],
    ] as const) {
      const result = loadConfig(pluginConfig, env);
      expect(Object.isFrozen(result.config)).toBe(true);
    }
    expect(loadConfig(throwing, {}).warnings.map((w) => w.key)).toEqual([CONFIG_PATH]);
  });
});

// ---------------------------------------------------------------------------------------------
// The manifest's configSchema must accept exactly what loadConfig accepts from plugin config.

interface JsonSchema {
  readonly type?: string;
  readonly enum?: readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly description?: string;
  readonly [keyword: string]: unknown;
}
interface Manifest {
  readonly id: string;
  readonly providers: readonly string[];
  readonly configSchema: JsonSchema & { readonly properties: Readonly<Record<string, JsonSchema>> };
  readonly uiHints: Readonly<Record<string, { readonly sensitive?: boolean }>>;
  readonly configGroups: readonly { readonly properties: readonly string[] }[];
  readonly setup: { readonly providers: readonly { readonly id: string; readonly envVars: readonly string[] }[] };
  readonly [field: string]: unknown;
}
type ValidateJsonSchemaValue = (params: { schema: unknown; value: unknown; cacheKey?: string; applyDefaults?: boolean }) =>
  | { ok: true; value: unknown }
  | { ok: false; errors: { text: string }[] };

const manifest = JSON.parse(readFileSync(new URL("../openclaw.plugin.json", import.meta.url), "utf8")) as Manifest;
const schema = manifest.configSchema;

// Compile-time complete: adding a key to DynamoPluginConfig without listing it here fails type-checking.
const INTERFACE_KEYS: Record<Exclude<keyof DynamoPluginConfig, "apiKeyFromUser">, true> = {
  baseUrl: true,
  apiKey: true,
  agentTrace: true,
  protocol: true,
  sessionTypeId: true,
  sessionId: true,
  trajectoryId: true,
  parentTrajectoryId: true,
  sessionTimeoutSeconds: true,
  toolEventsEndpoint: true,
  toolEventsTopic: true,
  toolEventsQueueCapacity: true,
  inboundContext: true,
  otlpEndpoint: true,
  otlpProtocol: true,
  otlpHeaders: true,
  otlpTimeoutMs: true,
  serviceName: true,
  resourceAttributes: true,
  sampler: true,
  samplerArg: true,
  sdkDisabled: true,
  phoenixProject: true,
  flushTimeoutMs: true,
  capture: true,
};

async function openclawValidator(): Promise<ValidateJsonSchemaValue> {
  // OpenClaw's own plugin-config validator (untyped SDK subpath), the one that runs before the plugin loads.
  const specifier: string = "openclaw/plugin-sdk/json-schema-runtime";
  const module = (await import(specifier)) as { validateJsonSchemaValue: ValidateJsonSchemaValue };
  return module.validateJsonSchemaValue;
}

describe("openclaw.plugin.json", () => {
  it("declares the plugin identity and provider metadata", () => {
    expect(manifest).toMatchObject({
      id: "dynamo",
      categories: ["models"],
      activation: { onStartup: true },
      providers: ["dynamo"],
      modelCatalog: { discovery: { dynamo: "refreshable" } },
      modelPricing: { providers: { dynamo: { external: false } } },
      providerRequest: { providers: { dynamo: { openAICompletions: { supportsStreamingUsage: true } } } },
      setup: { providers: [{ id: "dynamo", envVars: ["DYNAMO_API_KEY"] }] },
    });
    // Honoured for bundled plugins only; a third-party plugin is enabled by install / plugins.entries.
    expect(manifest).not.toHaveProperty("enabledByDefault");
    expect(schema.type).toBe("object");
    expect(schema.additionalProperties).toBe(false);
  });

  it("has a described schema property for every interface key but apiKeyFromUser, and nothing else", () => {
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(INTERFACE_KEYS).sort());
    expect([...CONFIG_KEYS].sort()).toEqual(Object.keys(INTERFACE_KEYS).sort());
    for (const [key, property] of Object.entries(schema.properties)) expect(property.description, key).toBeTruthy();
    const capture = schema.properties["capture"]!;
    expect(capture.additionalProperties).toBe(false);
    expect(Object.keys(capture.properties ?? {}).sort()).toEqual([...CAPTURE_KEYS].sort());
  });

  it("enums match the code", () => {
    expect(schema.properties["protocol"]!.enum).toEqual(PROTOCOLS);
    expect(schema.properties["inboundContext"]!.enum).toEqual(INBOUND_MODES);
    expect(schema.properties["otlpProtocol"]!.enum).toEqual(OTLP_PROTOCOLS);
    expect(schema.properties["sampler"]!.enum).toEqual(SAMPLERS);
  });

  it("has no schema defaults: OpenClaw would write them into the config, and config beats env", () => {
    const hasDefault = (node: unknown): boolean =>
      typeof node === "object" && node !== null && (Object.hasOwn(node, "default") || Object.values(node).some(hasDefault));
    expect(hasDefault(schema)).toBe(false);
  });

  it("uiHints and configGroups refer to real properties; secrets are marked sensitive", () => {
    for (const path of Object.keys(manifest.uiHints)) {
      const [head, sub] = path.split(".");
      expect(schema.properties[head!], path).toBeDefined();
      if (sub !== undefined) expect(schema.properties[head!]!.properties?.[sub], path).toBeDefined();
    }
    expect(manifest.uiHints["apiKey"]?.sensitive).toBe(true);
    expect(manifest.uiHints["otlpHeaders"]?.sensitive).toBe(true);
    const grouped = manifest.configGroups.flatMap((group) => group.properties);
    expect(grouped.sort()).toEqual(Object.keys(schema.properties).sort());
  });

  // [label, plugin config, accepted by both?]
  const AGREEMENT: readonly (readonly [string, Record<string, unknown>, boolean])[] = [
    ["empty", {}, true],
    [
      "everything set",
      {
        baseUrl: "https://dynamo.example.com:8443/v1",
        apiKey: "key-1",
        agentTrace: true,
        protocol: "headers",
        sessionTypeId: "t",
        sessionId: "s",
        trajectoryId: "tr",
        parentTrajectoryId: "p",
        sessionTimeoutSeconds: 300,
        toolEventsEndpoint: "tcp://127.0.0.1:20390",
        toolEventsTopic: "agent-tool-events",
        toolEventsQueueCapacity: 10_000_000,
        inboundContext: "link",
        otlpEndpoint: "http://localhost:6006/v1/traces",
        otlpProtocol: "http/json",
        otlpHeaders: { "x-project-name": "demo", authorization: "Bearer x" },
        otlpTimeoutMs: 5000,
        serviceName: "svc",
        resourceAttributes: { "deployment.environment": "dev" },
        sampler: "parentbased_traceidratio",
        samplerArg: 0.5,
        sdkDisabled: false,
        phoenixProject: "proj",
        flushTimeoutMs: 60_000,
        capture: { prompts: true, completions: true, toolArguments: false, toolResults: true, maxChars: 100 },
      },
      true,
    ],
    ["empty strings", { baseUrl: "", apiKey: "", sessionId: "", toolEventsEndpoint: "", otlpEndpoint: "", phoenixProject: "" }, true],
    ["bare origin", { baseUrl: "http://localhost:8000" }, true],
    ["ipc endpoint", { toolEventsEndpoint: "ipc:///tmp/x.sock" }, true],
    ["ipv6 endpoint", { toolEventsEndpoint: "tcp://[::1]:1" }, true],
    ["inproc endpoint (Dynamo is another process)", { toolEventsEndpoint: "inproc://x" }, false],
    ["256-char id", { trajectoryId: "x".repeat(256) }, true],
    ["sampler arg bounds", { samplerArg: 0 }, true],
    ["unknown key", { baseURL: "http://x" }, false],
    ["derived key", { apiKeyFromUser: true }, false],
    ["base URL scheme", { baseUrl: "ftp://h/v1" }, false],
    ["base URL credentials", { baseUrl: "http://u:p@h/v1" }, false],
    ["base URL query", { baseUrl: "http://h/v1?a=1" }, false],
    ["base URL type", { baseUrl: 1 }, false],
    ["api key control", { apiKey: "a\nb" }, false],
    ["agentTrace string", { agentTrace: "true" }, false],
    ["protocol case", { protocol: "NVEXT" }, false],
    ["protocol empty", { protocol: "" }, false],
    ["id control", { sessionId: "a\u0001" }, false],
    ["id non-ASCII", { sessionTypeId: "ä" }, false],
    ["id too long", { parentTrajectoryId: "x".repeat(257) }, false],
    ["timeout fraction", { sessionTimeoutSeconds: 1.5 }, false],
    ["timeout zero", { sessionTimeoutSeconds: 0 }, false],
    ["endpoint port 0", { toolEventsEndpoint: "tcp://h:0" }, false],
    ["endpoint port 65536", { toolEventsEndpoint: "tcp://h:65536" }, false],
    ["endpoint no port", { toolEventsEndpoint: "tcp://h" }, false],
    ["endpoint scheme", { toolEventsEndpoint: "http://h:1" }, false],
    ["queue over max", { toolEventsQueueCapacity: 10_000_001 }, false],
    ["inbound", { inboundContext: "child" }, false],
    ["otlp endpoint scheme", { otlpEndpoint: "grpc://h:4317" }, false],
    ["otlp endpoint bare", { otlpEndpoint: "localhost:4318" }, false],
    ["otlp grpc", { otlpProtocol: "grpc" }, false],
    ["otlp header value type", { otlpHeaders: { a: 1 } }, false],
    ["otlp header name", { otlpHeaders: { "a b": "1" } }, false],
    ["otlp header value newline", { otlpHeaders: { a: "1\n2" } }, false],
    ["otlp timeout over max", { otlpTimeoutMs: 2 ** 31 }, false],
    ["service name control", { serviceName: "a\u0000" }, false],
    ["resource attribute type", { resourceAttributes: { a: 1 } }, false],
    ["resource attribute empty key", { resourceAttributes: { "": "x" } }, false],
    ["sampler", { sampler: "xray" }, false],
    ["sampler arg", { samplerArg: 2 }, false],
    ["sdkDisabled", { sdkDisabled: "yes" }, false],
    ["flush over max", { flushTimeoutMs: 60_001 }, false],
    ["capture type", { capture: true }, false],
    ["capture unknown key", { capture: { tool_results: true } }, false],
    ["capture flag type", { capture: { prompts: 1 } }, false],
    ["capture maxChars", { capture: { maxChars: 0 } }, false],
  ];

  it.each(AGREEMENT)("schema and loadConfig agree: %s", async (_label, pluginConfig, valid) => {
    const validate = await openclawValidator();
    const result = validate({ schema, value: pluginConfig, cacheKey: "openclaw-dynamo-test", applyDefaults: true });
    expect(result.ok, result.ok ? "" : result.errors.map((e) => e.text).join("; ")).toBe(valid);
    if (result.ok) expect(result.value).toEqual(pluginConfig); // nothing injected
    expect(loadConfig(pluginConfig, {}).warnings.length === 0).toBe(valid);
  });
});
