/**
 * Hot reload (docs/lifecycle.md): a plugin config edit on a running Gateway replaces the plugin
 * (`gateway_stop {reason: "plugin replacement"}` → `register()` with the new settings →
 * `gateway_start`), and the plugin then runs with the new settings. One Gateway, two turns:
 *   1. capture off (the default): a `read` tool turn; spans carry no content;
 *   2. after `openclaw config set plugins.entries.dynamo.config.capture.prompts true` (a separate
 *      CLI process writing the config file the Gateway watches) and the replacement: the same turn;
 *      its spans reach the collector with the prompt captured, its tool calls reach the relay, and
 *      nothing was dropped, neither by the new generation nor by the one it replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OtlpSpan, RelayMessage, Simulator } from "../sim/index.ts";
import {
  keepOnFailure,
  Resources,
  startGateway,
  tail,
  Timings,
  type AgentTurnResult,
  type CliResult,
  type OpenClawWorld,
  type RunningGateway,
} from "./harness/index.ts";
import type { PluginStatus } from "../../src/services.ts";

const MESSAGE_1 = "Please read hello.txt. [[sim:read hello.txt]] [[sim:text First turn done.]]";
const MESSAGE_2 = "Please read hello.txt again. [[sim:read hello.txt]] [[sim:text Second turn done.]]";
const timings = new Timings();
const resources = new Resources();

interface Turn {
  result: AgentTurnResult;
  spans: OtlpSpan[];
  records: RelayMessage[];
}

let sim: Simulator;
let world: OpenClawWorld;
let gateway: RunningGateway;
let turn1: Turn;
let turn2: Turn;
let configSet: CliResult;
let status: PluginStatus;

const failWith = (error: unknown): never => {
  throw new Error(`${String(error)}\n${sim.summary()}\ngateway log:\n${tail(gateway.logs(), 60)}`);
};

async function turn(label: string, message: string): Promise<Turn> {
  const fromSpan = sim.otlp.spans.length;
  const fromRecord = sim.relay.accepted.length;
  const result = await timings.timed(label, () => gateway.runAgent({ message }));
  // The run's spans are flushed at agent_end; the tool span's relay records go out with them.
  await sim
    .waitFor(() => {
      const now = sim.otlp.spans.slice(fromSpan);
      return now.some((s) => s.name === "invoke_agent main") && now.some((s) => s.name === "execute_tool read") ? now : undefined;
    }, 30_000, `${label}: agent and tool spans`)
    .catch(failWith);
  await sim
    .waitFor(() => sim.relay.accepted.slice(fromRecord).some((m) => m.record.event_type !== "tool_start"), 15_000, `${label}: relay records`)
    .catch(failWith);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return { result, spans: sim.otlp.spans.slice(fromSpan), records: sim.relay.accepted.slice(fromRecord) };
}

beforeAll(async () => {
  sim = await resources.newSim({ generation: "nvext" });
  world = await resources.newWorld({
    name: "gateway-reload",
    gateway: true,
    pluginConfig: { baseUrl: sim.baseUrl, otlpEndpoint: sim.otlpUrl, agentTrace: true, toolEventsEndpoint: sim.zmqEndpoint },
  });
  gateway = await timings.timed("gateway start", () => startGateway(world));
  turn1 = await turn("turn 1 (capture off)", MESSAGE_1);

  configSet = await timings.timed("config set", () =>
    world.cli(["config", "set", "plugins.entries.dynamo.config.capture.prompts", "true"], { label: "config-set" }),
  );
  // The Gateway notices the file change and replaces the plugin (OpenClaw's own log line).
  await timings.timed("replacement", () =>
    sim.waitFor(() => /config hot reload applied \(plugins\.entries\.dynamo\.config/.test(gateway.logs()), 120_000, "plugin replacement").catch(failWith),
  );
  turn2 = await turn("turn 2 (capture.prompts on)", MESSAGE_2);
  const call = await gateway.call("dynamo.status");
  status = ((call.json as { payload?: unknown } | undefined)?.payload ?? call.json) as PluginStatus;
}, 420_000);

afterAll(async () => {
  console.log(timings.table("gateway reload e2e timings:", 40));
  await resources.dispose();
});

describe("plugin config edited on a running Gateway", () => {
  it("both turns completed, the config edit was accepted, and the plugin said which generation runs with the new settings", () => {
    keepOnFailure(world);
    expect(turn1.result.exitCode, turn1.result.stderr).toBe(0);
    expect(configSet.exitCode, `${configSet.stdout}\n${configSet.stderr}`).toBe(0);
    expect(turn2.result.exitCode, turn2.result.stderr).toBe(0);
    expect(gateway.logs()).toMatch(/\[dynamo\] generation 2 of the exporter, relay and Dynamo sessions runs with the new settings/);
    expect(gateway.logs()).not.toMatch(/Plugin activation or recovery failed|config reload failed/);
  });

  it("turn 1 ran with capture off: no prompt on any span", () => {
    keepOnFailure(world);
    expect(turn1.spans.filter((s) => s.attributes["input.value"] !== undefined).map((s) => s.name)).toEqual([]);
  });

  it("turn 2's spans reach the collector with the new setting in effect (the prompt is captured)", () => {
    keepOnFailure(world);
    const agent = turn2.spans.find((s) => s.name === "invoke_agent main");
    expect(agent, turn2.spans.map((s) => s.name).join("\n")).toBeDefined();
    expect(String(agent!.attributes["input.value"] ?? "")).toContain("Please read hello.txt again.");
    // Tool arguments were not switched on: still not captured.
    const read = turn2.spans.find((s) => s.name === "execute_tool read");
    expect(read?.attributes["input.value"]).toBeUndefined();
  });

  it("turn 2's tool calls reach the relay", () => {
    keepOnFailure(world);
    const read = turn2.spans.find((s) => s.name === "execute_tool read")!;
    const callId = String(read.attributes["gen_ai.tool.call.id"]);
    const ofCall = turn2.records.filter((m) => (m.record.tool as { tool_call_id?: string }).tool_call_id === callId);
    expect(ofCall.map((m) => m.record.event_type)).toEqual(["tool_start", "tool_end"]);
    expect(sim.relay.rejected).toEqual([]);
  });

  it("dynamo.status: generation 2 answers, nothing dropped by it or by the generation it replaced", () => {
    keepOnFailure(world);
    expect(status.generation, JSON.stringify(status)).toBe(2);
    expect(status.relay).toMatchObject({ dropped: 0, undelivered: 0, errors: 0 });
    expect(status.relay!.sent).toBeGreaterThanOrEqual(2);
    expect(status.exporter).toMatchObject({ failed: 0 });
    const [replaced] = status.replacedGenerations ?? [];
    expect(replaced, JSON.stringify(status)).toMatchObject({ generation: 1, reason: "plugin replacement" });
    expect(replaced!.relay).toMatchObject({ dropped: 0, undelivered: 0, errors: 0, pending: 0 });
    expect(replaced!.relay!.sent).toBeGreaterThanOrEqual(2);
    expect(replaced!.exporter.failed).toBe(0);
    expect(replaced!.exporter.exported).toBe(replaced!.exporter.ended);
  });
});
