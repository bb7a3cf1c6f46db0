/**
 * The plugin as users install a release, and its status call:
 * `npm pack` in the checkout → `openclaw plugins install npm-pack:<tgz>` into an isolated OpenClaw
 * (OpenClaw runs `npm install` for the plugin's dependencies with `--ignore-scripts --omit=dev`) →
 * a Gateway with nothing but the installed copy → `openclaw gateway call dynamo.status` before and
 * after one turn against the simulated Dynamo 1.3+, with spans and the relay on.
 *
 * The status checks share this Gateway (one Gateway start instead of two; e2e time is scarce). The
 * config carries an API key, an OTLP endpoint with a token in its query and an OTLP authorization
 * header, none of which may appear in the status.
 *
 * Why dist/index.js is one bundle (esbuild, `npm run build`) with no runtime dependencies (the relay
 * speaks ZMTP on node:net, src/relay/zmtp.ts): OpenClaw 2026.9.6 copies its own pnpm overrides into every managed plugin install,
 * among them `@opentelemetry/core: 2.11.0`; resolved from the registry, the plugin's OTel 3.x tree
 * then fails to load ("does not provide an export named 'isSimpleAttributeValue'"). Code bundled
 * into dist/ is not re-resolved.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_KEYS, ENV } from "../../src/config.ts";
import type { Simulator } from "../sim/index.ts";
import {
  keepOnFailure,
  REPO_ROOT,
  Resources,
  startGateway,
  tail,
  Timings,
  type AgentTurnResult,
  type CliResult,
  type GatewayStopResult,
  type OpenClawWorld,
  type RunningGateway,
} from "./harness/index.ts";
import { isTerminal, spansNamed, toolRecords } from "./trace-helpers.ts";
import type { PluginStatus } from "../../src/services.ts";

interface PackedFile {
  path: string;
}
interface PackResult {
  filename: string;
  files: PackedFile[];
  bundled: string[];
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  bundleDependencies?: string[];
};
/** The dynamo.status payload, as JSON (`undefined` members are absent). */
type Status = PluginStatus;

const API_KEY = "dynamo-key-s3cret-789";
const OTLP_TOKEN = "otlp-query-s3cret-123";
const OTLP_AUTH = "Bearer otlp-header-s3cret-456";

const timings = new Timings();
const resources = new Resources();
let sim: Simulator;
let world: OpenClawWorld;
let pack: PackResult;
let tarball: string;
let install: CliResult;
let gateway: RunningGateway | undefined;
let statusBefore: CliResult | undefined;
let turn: AgentTurnResult | undefined;
let turnStartedAt = 0;
let statusAfter: CliResult | undefined;
let stop: GatewayStopResult | undefined;

/** npm settings the managed install needs with the world's HOME: the user's npmrc and cache (SDK notes pitfall 14). */
function npmEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  const userconfig = process.env.npm_config_userconfig ?? join(homedir(), ".npmrc");
  if (existsSync(userconfig)) env.npm_config_userconfig = userconfig;
  env.npm_config_cache = process.env.npm_config_cache ?? join(homedir(), ".npm");
  return env;
}

beforeAll(async () => {
  // The tarball ships dist/: build it exactly as a release is built (tsc + the esbuild bundle).
  const npmCli = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];
  const built = spawnSync(npmCli[0]!, [...npmCli.slice(1), "run", "build"], { cwd: REPO_ROOT, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`npm run build failed: ${built.stdout}\n${built.stderr}`);
  sim = await resources.newSim({ generation: "headers" });
  world = await resources.newWorld({
    name: "package",
    gateway: true,
    pluginConfig: {
      baseUrl: sim.baseUrl,
      apiKey: API_KEY,
      agentTrace: true,
      toolEventsEndpoint: sim.zmqEndpoint,
      otlpEndpoint: `${sim.otlpUrl}?token=${OTLP_TOKEN}`,
      otlpHeaders: { authorization: OTLP_AUTH },
    },
    env: npmEnv(),
    // Nothing from the checkout: the only copy of the plugin is the installed one.
    extraConfig: { plugins: { load: { paths: [] } } },
  });
  await timings.timed("npm pack", async () => {
    // Under `npm test` npm_execpath is the npm that runs us; otherwise the npm on PATH.
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];
    const packed = spawnSync(npm[0]!, [...npm.slice(1), "pack", "--json", "--pack-destination", world.dir], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 120_000,
    });
    if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
    pack = (JSON.parse(packed.stdout) as PackResult[])[0]!;
    tarball = join(world.dir, pack.filename);
  });
  install = await timings.timed("plugins install", () =>
    world.cli(["plugins", "install", `npm-pack:${tarball}`, "--force", "--accept-capabilities"], { label: "plugins-install", timeoutMs: 300_000 }),
  );
  if (install.exitCode !== 0) return;

  gateway = await timings.timed("gateway start", () => startGateway(world));
  statusBefore = await timings.timed("status call (before)", () => gateway!.call("dynamo.status"));
  turnStartedAt = Date.now();
  turn = await timings.timed("turn", () => gateway!.runAgent({ message: "Check the files. [[sim:read hello.txt]] [[sim:read missing.txt]] [[sim:text Done.]]" }));
  await sim
    .waitFor(() => sim.relay.accepted.length >= 4 && spansNamed(sim.otlp.spans, "invoke_agent main").length > 0, 30_000, "relay records and the agent span")
    .catch(() => undefined);
  statusAfter = await timings.timed("status call (after)", () => gateway!.call("dynamo.status"));
  stop = await timings.timed("gateway stop", () => gateway!.stop({ graceMs: 15_000 }));
}, 600_000);

afterAll(async () => {
  if (statusAfter?.json) console.log(`dynamo.status after the turn:\n${JSON.stringify(statusAfter.json, null, 2)}`);
  console.log(timings.table("package e2e timings:", 22));
  await resources.dispose();
});

/** Where OpenClaw put the managed npm project of the plugin. */
function installedPackageDir(): string {
  return join(world.stateDir, "npm", "projects", pkg.name, "node_modules", pkg.name);
}

describe("npm pack", () => {
  it("ships the bundled entry and core, the manifest, README and package.json only", () => {
    // OpenClaw copies and hashes every file of a plugin package in each process that loads it
    // (docs/performance.md): the package holds nothing the runtime does not load.
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(["package.json", "openclaw.plugin.json", "README.md", "dist/index.js", "dist/core.cjs"]));
    const unexpected = files.filter((path) => !["package.json", "openclaw.plugin.json", "README.md", "LICENSE", "dist/index.js", "dist/core.cjs"].includes(path));
    expect(unexpected, "nothing but the dist bundle, manifest, README").toEqual([]);
    // The runtime entry OpenClaw loads from a packed install.
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { openclaw: { runtimeExtensions: string[] } };
    for (const entry of manifest.openclaw.runtimeExtensions) expect(files).toContain(entry.replace(/^\.\//, ""));
  });

  it("the bundles import only Node built-ins, OpenClaw's plugin SDK and each other; no runtime dependencies", () => {
    for (const file of ["index.js", "core.cjs"]) {
      const bundle = readFileSync(join(REPO_ROOT, "dist", file), "utf8");
      const specifiers = [...bundle.matchAll(/(?:from|import\(|require\()\s*"([^"]+)"/g)].map((m) => m[1]!);
      const foreign = specifiers.filter((s) => !/^(node:)?[a-z_]+$/.test(s) && !s.startsWith("openclaw/plugin-sdk/") && s !== "./core.cjs");
      expect(foreign, file).toEqual([]);
    }
    expect(pkg.dependencies ?? {}).toEqual({});
  });
});

describe("README (shipped in the tarball)", () => {
  it("documents every environment variable and config key the plugin reads", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Mapping Dynamo records"));
    for (const name of Object.values(ENV).flat()) expect(section, name).toContain(`\`${name}\``);
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "openclaw.plugin.json"), "utf8")) as { configSchema: { properties: Record<string, unknown> } };
    for (const key of new Set([...CONFIG_KEYS, ...Object.keys(manifest.configSchema.properties)])) {
      expect(section, key).toMatch(new RegExp(`\`${key}[.\`]`));
    }
  });
});

describe("openclaw plugins install npm-pack:<tgz>", () => {
  it("installs and loads the plugin with its dependencies", () => {
    keepOnFailure(world);
    expect(install.exitCode, tail(`${install.stdout}\n${install.stderr}`)).toBe(0);
    const output = `${install.stdout}\n${install.stderr}`;
    expect(output).toContain("Installed plugin: dynamo");
    expect(output, "the plugin failed to load after install").not.toMatch(/failed during load/);
    const dir = installedPackageDir();
    expect(existsSync(join(dir, "dist", "index.js")), dir).toBe(true);
    expect(existsSync(join(dir, "src")), "no TypeScript sources in the install").toBe(false);
    // Nothing native to build or fetch: the install holds no addon.
    const addons = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".node"));
    expect(addons).toEqual([]);
  });

  it("leaves the config loading nothing from the checkout, and keeps the user's entry", () => {
    keepOnFailure(world);
    const config = JSON.parse(readFileSync(world.configPath, "utf8")) as {
      plugins: { load?: { paths?: string[] }; entries: Record<string, { enabled?: boolean; hooks?: unknown; config?: unknown }> };
    };
    expect(config.plugins.load?.paths ?? []).toEqual([]);
    expect(config.plugins.entries.dynamo).toMatchObject({
      enabled: true,
      hooks: { allowConversationAccess: true },
      config: { baseUrl: sim.baseUrl },
    });
  });
});

describe("a Gateway turn with the installed plugin", () => {
  it("completes", () => {
    keepOnFailure(world);
    expect(turn?.exitCode, turn ? tail(`${turn.stdout}\n${turn.stderr}`) : "no turn (install or Gateway start failed)").toBe(0);
  });

  it("exports the span tree with the installed package's version", () => {
    keepOnFailure(world);
    const [agent] = spansNamed(sim.otlp.spans, "invoke_agent main");
    expect(agent, sim.summary()).toBeDefined();
    expect(agent!.resource["service.version"]).toBe(pkg.version);
    const trace = sim.otlp.spans.filter((s) => s.traceId === agent!.traceId);
    expect(spansNamed(trace, "chat mock-model").length).toBeGreaterThanOrEqual(3);
    const reads = spansNamed(trace, "execute_tool read");
    expect(reads).toHaveLength(2);
    expect(reads.filter((s) => s.status.code === 2)).toHaveLength(1);
  });

  it("relays tool events over ZeroMQ from the installed copy, matching the tool spans", () => {
    keepOnFailure(world);
    expect(sim.relay.rejected).toEqual([]);
    const reads = spansNamed(sim.otlp.spans, "execute_tool read");
    expect(reads).toHaveLength(2);
    for (const span of reads) {
      const records = toolRecords(sim.relay.accepted, String(span.attributes["gen_ai.tool.call.id"]));
      expect(records.map((r) => r.event_type).sort(), span.status.message).toEqual(span.status.code === 2 ? ["tool_error", "tool_start"] : ["tool_end", "tool_start"]);
      for (const record of records) expect(record.session_id).toBe(span.attributes["dynamo.trajectory_id"]);
    }
  });

  it("sends Dynamo identity (protocol auto settled on 1.3+ headers)", () => {
    keepOnFailure(world);
    // Model calls only: the session-final requests at Gateway stop carry their own x-request-id.
    const answered = sim.chatRequests().filter((r) => r.status === 200 && !isTerminal(r));
    expect(answered.length).toBeGreaterThanOrEqual(3);
    for (const request of answered) {
      expect(request.headers["x-dynamo-session-id"]).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
      expect(request.xRequestId).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
    }
  });

  it("authenticates every request with the API key from plugin config", () => {
    keepOnFailure(world);
    const requests = sim.chatRequests();
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it("the Gateway stops cleanly", () => {
    keepOnFailure(world);
    expect(stop?.graceful, gateway ? tail(gateway.logs()) : "no Gateway").toBe(true);
  });
});

describe("dynamo.status through openclaw gateway call", () => {
  const statusOf = (call: CliResult | undefined): Status => {
    expect(call?.exitCode, call ? tail(`${call.stdout}\n${call.stderr}`) : "no call (install or Gateway start failed)").toBe(0);
    return call!.json as Status;
  };

  it("before any turn: settings, nothing sent yet", () => {
    keepOnFailure(world);
    const status = statusOf(statusBefore);
    expect(status).toMatchObject({
      agentTrace: true,
      protocol: { setting: "auto", inUse: "nvext", fallbacks: 0 },
      openSessions: [],
      sessionRequests: { opened: 0, closed: 0, finals: 0, failed: 0 },
      relay: { endpoint: sim.zmqEndpoint, topic: "agent-tool-events", sent: 0, dropped: 0, errors: 0 },
      exporter: { enabled: true, protocol: "http/protobuf", exported: 0, failed: 0 },
    });
    expect(status.lastError).toBeUndefined();
  });

  it("after a turn: protocol in use, the lead's open Dynamo session, relay and exporter counters", () => {
    keepOnFailure(world);
    const status = statusOf(statusAfter);
    // Dynamo 1.3+ rejected the first nvext request; auto switched to headers for the rest of the process.
    expect(status.protocol).toEqual({ setting: "auto", inUse: "headers", fallbacks: 1 });
    const leadSession = sim.chatRequests().find((r) => r.status === 200)?.headers["x-dynamo-session-id"];
    expect(status.openSessions, "the lead's session stays open until its OpenClaw session ends").toContainEqual({
      trajectoryId: leadSession,
      protocol: "headers",
      runKind: "lead",
    });
    expect(status.relay).toMatchObject({ connected: true, dropped: 0, errors: 0, pending: 0 });
    expect(status.relay!.sent).toBe(sim.relay.accepted.length);
    expect(status.relay!.sent).toBeGreaterThanOrEqual(4);
    expect(status.exporter.failed).toBe(0);
    expect(status.exporter.exported).toBeGreaterThanOrEqual(6); // agent + 3 chats + 2 tools
    expect(status.exporter.exported).toBeLessThanOrEqual(sim.otlp.spans.length);
    expect(status.exporter.lastSuccessAt).toBeGreaterThanOrEqual(turnStartedAt);
    expect(status.exporter.lastError).toBeUndefined();
    expect(status.lastError).toBeUndefined();
    // The turn is over: nothing open, its run remembered as ended (for late hooks).
    expect(status.spanTree).toMatchObject({ runs: 0, chats: 0, tools: 0 });
    expect(status.spanTree.endedRuns).toBeGreaterThanOrEqual(1);
  });

  it("shows no credentials: the endpoint's query token, the API key and the OTLP header value", () => {
    keepOnFailure(world);
    for (const call of [statusBefore, statusAfter]) {
      const status = statusOf(call);
      expect(call!.stdout).not.toContain("s3cret");
      const endpoint = status.exporter.endpoint ?? "";
      // Still recognisable (scheme, host, path), the query's value gone.
      expect(endpoint.startsWith(`${sim.otlpUrl}?`), endpoint).toBe(true);
      expect(endpoint).not.toContain(OTLP_TOKEN);
    }
  });
});
