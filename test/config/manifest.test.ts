/**
 * The manifest's configSchema declares types only (SPEC §2): OpenClaw refuses a plugin whose config
 * violates its schema, so every wrong enum, out-of-range number or unknown key must pass OpenClaw's
 * own validator and reach loadConfig, which warns once and keeps the default.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CAPTURE_KEYS, CONFIG_KEYS, loadConfig } from "../../src/config/index.ts";
import type { DynamoPluginConfig } from "../../src/types.ts";

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

const manifest = JSON.parse(readFileSync(new URL("../../openclaw.plugin.json", import.meta.url), "utf8")) as Manifest;
const schema = manifest.configSchema;

// Compile-time complete: adding a key to DynamoPluginConfig without listing it here fails type-checking.
const INTERFACE_KEYS: Record<Exclude<keyof DynamoPluginConfig, "apiKeyFromUser" | "fromPluginConfig">, true> = {
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
  });

  it("has a described schema property for every interface key but the derived apiKeyFromUser and fromPluginConfig, and nothing else", () => {
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(INTERFACE_KEYS).sort());
    expect([...CONFIG_KEYS].sort()).toEqual(Object.keys(INTERFACE_KEYS).sort());
    for (const [key, property] of Object.entries(schema.properties)) expect(property.description, key).toBeTruthy();
    expect(Object.keys(schema.properties["capture"]!.properties ?? {}).sort()).toEqual([...CAPTURE_KEYS].sort());
  });

  it("declares types only: no enum, range, pattern or closed object anywhere", () => {
    const keywords = new Set<string>();
    const walk = (node: JsonSchema): void => {
      for (const keyword of Object.keys(node)) keywords.add(keyword);
      for (const child of Object.values(node.properties ?? {})) walk(child);
      if (typeof node.additionalProperties === "object") walk(node.additionalProperties);
      // Unknown keys must reach loadConfig (one warning each), not make OpenClaw refuse the plugin.
      expect(node.additionalProperties).not.toBe(false);
    };
    walk(schema);
    expect([...keywords].sort()).toEqual(["additionalProperties", "description", "properties", "type"]);
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

  // [label, plugin config, what happens]: "valid" = no warning; "warns" = OpenClaw accepts it and
  // loadConfig warns once per bad key; "type" = a JSON type error, the one thing OpenClaw itself refuses.
  type Outcome = "valid" | "warns" | "type";
  const AGREEMENT: readonly (readonly [string, Record<string, unknown>, Outcome])[] = [
    ["empty", {}, "valid"],
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
      "valid",
    ],
    ["empty strings", { baseUrl: "", apiKey: "", sessionId: "", toolEventsEndpoint: "", otlpEndpoint: "", phoenixProject: "" }, "valid"],
    ["bare origin", { baseUrl: "http://localhost:8000" }, "valid"],
    ["ipc endpoint", { toolEventsEndpoint: "ipc:///tmp/x.sock" }, "valid"],
    ["ipv6 endpoint", { toolEventsEndpoint: "tcp://[::1]:1" }, "valid"],
    ["inproc endpoint (Dynamo is another process)", { toolEventsEndpoint: "inproc://x" }, "warns"],
    ["256-char id", { trajectoryId: "x".repeat(256) }, "valid"],
    ["sampler arg bounds", { samplerArg: 0 }, "valid"],
    ["unknown key", { baseURL: "http://x" }, "warns"],
    ["derived key", { apiKeyFromUser: true }, "warns"],
    ["base URL scheme", { baseUrl: "ftp://h/v1" }, "warns"],
    ["base URL credentials", { baseUrl: "http://u:p@h/v1" }, "warns"],
    ["base URL query", { baseUrl: "http://h/v1?a=1" }, "warns"],
    ["base URL type", { baseUrl: 1 }, "type"],
    ["api key control", { apiKey: "a\nb" }, "warns"],
    ["agentTrace string", { agentTrace: "true" }, "type"],
    ["protocol case", { protocol: "NVEXT" }, "warns"],
    ["protocol empty", { protocol: "" }, "warns"],
    ["id control", { sessionId: "a\u0001" }, "warns"],
    ["id non-ASCII", { sessionTypeId: "ä" }, "warns"],
    ["id too long", { parentTrajectoryId: "x".repeat(257) }, "warns"],
    ["timeout fraction", { sessionTimeoutSeconds: 1.5 }, "warns"],
    ["timeout zero", { sessionTimeoutSeconds: 0 }, "warns"],
    ["endpoint port 0", { toolEventsEndpoint: "tcp://h:0" }, "warns"],
    ["endpoint port 65536", { toolEventsEndpoint: "tcp://h:65536" }, "warns"],
    ["endpoint no port", { toolEventsEndpoint: "tcp://h" }, "warns"],
    ["endpoint scheme", { toolEventsEndpoint: "http://h:1" }, "warns"],
    ["queue over max", { toolEventsQueueCapacity: 10_000_001 }, "warns"],
    ["inbound", { inboundContext: "child" }, "warns"],
    ["otlp endpoint scheme", { otlpEndpoint: "grpc://h:4317" }, "warns"],
    ["otlp endpoint bare", { otlpEndpoint: "localhost:4318" }, "warns"],
    ["otlp grpc", { otlpProtocol: "grpc" }, "warns"],
    ["otlp header value type", { otlpHeaders: { a: 1 } }, "type"],
    ["otlp header name", { otlpHeaders: { "a b": "1" } }, "warns"],
    ["otlp header value newline", { otlpHeaders: { a: "1\n2" } }, "warns"],
    ["otlp timeout over max", { otlpTimeoutMs: 2 ** 31 }, "warns"],
    ["service name control", { serviceName: "a\u0000" }, "warns"],
    ["resource attribute type", { resourceAttributes: { a: 1 } }, "type"],
    ["resource attribute empty key", { resourceAttributes: { "": "x" } }, "warns"],
    ["sampler", { sampler: "xray" }, "warns"],
    ["sampler arg", { samplerArg: 2 }, "warns"],
    ["sdkDisabled", { sdkDisabled: "yes" }, "type"],
    ["flush over max", { flushTimeoutMs: 60_001 }, "warns"],
    ["capture type", { capture: true }, "type"],
    ["capture unknown key", { capture: { tool_results: true } }, "warns"],
    ["capture flag type", { capture: { prompts: 1 } }, "type"],
    ["capture maxChars", { capture: { maxChars: 0 } }, "warns"],
    ["relay endpoint in Dynamo's bind form", { toolEventsEndpoint: "tcp://*:20390" }, "warns"],
    ["several bad values at once", { protocol: "v2", flushTimeoutMs: 0, colour: "blue", capture: { maxChars: 0 } }, "warns"],
  ];

  it.each(AGREEMENT)("OpenClaw's validator and loadConfig: %s", async (label, pluginConfig, outcome) => {
    const validate = await openclawValidator();
    const result = validate({ schema, value: pluginConfig, cacheKey: "openclaw-dynamo-test", applyDefaults: true });
    expect(result.ok, result.ok ? "" : result.errors.map((e) => e.text).join("; ")).toBe(outcome !== "type");
    if (result.ok) expect(result.value).toEqual(pluginConfig); // nothing injected
    const warnings = loadConfig(pluginConfig, {}).warnings;
    if (outcome === "valid") expect(warnings).toEqual([]);
    else if (label === "several bad values at once") expect(warnings).toHaveLength(4);
    else expect(warnings, JSON.stringify(warnings)).toHaveLength(1);
  });
});
