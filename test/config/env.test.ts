/** Environment variables: every name and alias, precedence, defaults, URL normalisation. */
import { describe, expect, it } from "vitest";
import { DEFAULTS, ENV, ENV_NAMES, loadConfig } from "../../src/config/index.ts";
import type { DynamoPluginConfig } from "../../src/types.ts";
import { expectClean, type Expected } from "./support.ts";

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
      fromPluginConfig: [],
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

