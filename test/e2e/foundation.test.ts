/**
 * Foundation e2e: the plugin inside a real OpenClaw 2026.9.6, against the Dynamo simulator
 * (`headers` generation). Each real turn costs 15–30 s, so every expensive run happens once in a
 * `beforeAll` and several tests assert on it.
 *
 *   (a) keyless `agent --local` turn with a `read` tool call, plugin configured by plugin config
 *   (b) discovery + an unlisted model id, plugin configured by DYNAMO_BASE_URL only
 *   (c) `plugins inspect dynamo --runtime --json`
 *   (d) Gateway turn whose lead spawns a subagent; child + announce runs reach the sim; clean stop
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { startSimulator, messageText, type RecordedRequest, type Simulator } from "../sim/index.ts";
import {
  createOpenClawEnv,
  payloadTexts,
  pluginLines,
  readTextFile,
  runAgentLocal,
  startGateway,
  tail,
  WORKSPACE_FILE_CONTENT,
  type AgentTurnResult,
  type CliResult,
  type GatewayStopResult,
  type OpenClawWorld,
  type RunningGateway,
} from "./harness/index.ts";

const timings: Record<string, number> = {};

/** Measure an expensive step; the table is printed in the last afterAll. */
async function timed<T>(label: string, step: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await step();
  } finally {
    timings[label] = Date.now() - t0;
  }
}

/** Keep the world's directory (logs, config, process output) when the current test fails. */
function keepOnFailure(...worlds: Array<OpenClawWorld | undefined>): void {
  onTestFailed(() => {
    for (const world of worlds) world?.keep();
  });
}

/** Failure context for a CLI/agent result: exit status, stdout, stderr tail, plugin lines. */
function explain(result: CliResult | AgentTurnResult, world: OpenClawWorld, sim?: Simulator): string {
  return [
    `exit ${result.exitCode} signal ${result.signal} after ${result.durationMs} ms (world kept at ${world.dir})`,
    sim ? `sim: ${sim.summary()}` : "",
    `stdout: ${result.stdout.slice(0, 2000)}`,
    `stderr tail:\n${tail(result.stderr, 30)}`,
    `[dynamo] log lines:\n${pluginLines(readTextFile(world.logFile)).slice(-20).join("\n")}`,
  ].join("\n");
}

function userMessages(req: RecordedRequest): string[] {
  const body = req.body as { messages?: Array<{ role?: unknown; content?: unknown }> } | undefined;
  return (body?.messages ?? []).filter((m) => m.role === "user").map((m) => messageText(m.content));
}

function modelOf(req: RecordedRequest): unknown {
  return (req.body as { model?: unknown } | undefined)?.model;
}

afterAll(() => {
  const rows = Object.entries(timings).map(([label, ms]) => `  ${label.padEnd(44)} ${(ms / 1000).toFixed(1)} s`);
  console.log(`foundation e2e timings:\n${rows.join("\n")}`);
});

describe("(a) keyless agent --local turn with a read tool call", () => {
  let sim: Simulator;
  let world: OpenClawWorld;
  let turn: AgentTurnResult;

  beforeAll(async () => {
    sim = await startSimulator({ generation: "headers" });
    // No DYNAMO_API_KEY, no models.providers: only the plugin and its baseUrl.
    world = await createOpenClawEnv({ name: "keyless", pluginConfig: { baseUrl: sim.baseUrl } });
    turn = await timed("(a) agent --local turn", () =>
      runAgentLocal(world, { message: "Please read hello.txt and tell me what it says. [[sim:read hello.txt]]" }),
    );
  });

  afterAll(async () => {
    await world?.dispose();
    await sim?.close();
  });

  it("exits 0 with the file content the sim quoted back", () => {
    keepOnFailure(world);
    expect(turn.exitCode, explain(turn, world, sim)).toBe(0);
    const text = payloadTexts(turn.json).join("\n");
    expect(text, explain(turn, world, sim)).toContain(WORKSPACE_FILE_CONTENT);
  });

  it("the sim saw exactly 2 chat requests for dynamo/mock-model: read, then text", () => {
    keepOnFailure(world);
    const chats = sim.chatRequests();
    expect(chats.map((r) => [r.method, r.path, r.status, modelOf(r)]), sim.summary()).toEqual([
      ["POST", "/v1/chat/completions", 200, "mock-model"],
      ["POST", "/v1/chat/completions", 200, "mock-model"],
    ]);
    expect(chats[0]?.toolCalls.map((c) => c.name)).toEqual(["read"]);
    expect(chats[1]?.toolCalls).toEqual([]);
  });

  it("every request carries a distinct x-request-id and the keyless bearer", () => {
    keepOnFailure(world);
    const chats = sim.chatRequests();
    const ids = chats.map((r) => r.headers["x-request-id"]);
    for (const id of ids) expect(id).toMatch(/\S/);
    expect(new Set(ids).size).toBe(chats.length);
    for (const req of chats) expect(req.headers.authorization).toBe("Bearer dynamo-local");
  });
});

describe("(b) discovery and dynamic models, plugin configured by DYNAMO_BASE_URL", () => {
  let sim: Simulator;
  let world: OpenClawWorld;
  let list: CliResult;
  let turn: AgentTurnResult;

  beforeAll(async () => {
    sim = await startSimulator({ generation: "headers", models: ["mock-model", "other-model"] });
    world = await createOpenClawEnv({ name: "discovery", env: { DYNAMO_BASE_URL: sim.baseUrl } });
    list = await timed("(b) models list --provider dynamo --refresh", () =>
      world.cli(["models", "list", "--provider", "dynamo", "--refresh", "--json"], { label: "models-list" }),
    );
    turn = await timed("(b) agent --local turn, unlisted model", () =>
      runAgentLocal(world, { message: "Say hello. [[sim:text hi from an unlisted model]]", model: "unlisted-model" }),
    );
  });

  afterAll(async () => {
    await world?.dispose();
    await sim?.close();
  });

  it("`models list` shows the simulator's models under provider dynamo", () => {
    keepOnFailure(world);
    expect(list.exitCode, explain(list, world, sim)).toBe(0);
    const models = (list.json as { models?: Array<{ key?: unknown }> } | undefined)?.models ?? [];
    const keys = models.map((m) => m.key);
    expect(keys, explain(list, world, sim)).toEqual(expect.arrayContaining(["dynamo/mock-model", "dynamo/other-model"]));
    expect(sim.requests.some((r) => r.kind === "models")).toBe(true);
  });

  it("a model id the server does not list still completes a turn", () => {
    keepOnFailure(world);
    expect(turn.exitCode, explain(turn, world, sim)).toBe(0);
    expect(payloadTexts(turn.json).join("\n")).toContain("hi from an unlisted model");
    const chats = sim.chatRequests();
    expect(chats.length).toBeGreaterThan(0);
    for (const req of chats) expect(modelOf(req)).toBe("unlisted-model");
  });
});

describe("(c) plugins inspect", () => {
  let world: OpenClawWorld;
  let inspect: CliResult;

  beforeAll(async () => {
    // Inspection imports the plugin but makes no model request; an unreachable baseUrl is fine.
    world = await createOpenClawEnv({ name: "inspect", pluginConfig: { baseUrl: "http://127.0.0.1:9/v1" } });
    inspect = await timed("(c) plugins inspect --runtime", () =>
      world.cli(["plugins", "inspect", "dynamo", "--runtime", "--json"], { label: "inspect" }),
    );
  });

  afterAll(async () => {
    await world?.dispose();
  });

  it("reports the plugin loaded from the checkout with provider dynamo", () => {
    keepOnFailure(world);
    expect(inspect.exitCode, explain(inspect, world)).toBe(0);
    const report = inspect.json as {
      plugin?: { id?: unknown; status?: unknown; imported?: unknown; origin?: unknown; providerIds?: unknown };
    };
    expect(report.plugin, explain(inspect, world)).toMatchObject({
      id: "dynamo",
      status: "loaded",
      origin: "config",
    });
    expect(report.plugin?.providerIds).toContain("dynamo");
  });
});

describe("(d) Gateway turn whose lead spawns a subagent", () => {
  let sim: Simulator;
  let world: OpenClawWorld;
  let gateway: RunningGateway;
  let turn: AgentTurnResult;
  let stop: GatewayStopResult;
  const LEAD_MARKER = "[[sim:spawn";

  /** Lead requests carry the lead's original message; the announce run carries the announce text. */
  const isLead = (r: RecordedRequest) => userMessages(r).some((m) => m.includes(LEAD_MARKER));
  const isAnnounce = (r: RecordedRequest) => r.policy === "announce";
  const childRequests = () => sim.chatRequests().filter((r) => !isLead(r) && !isAnnounce(r));

  beforeAll(async () => {
    sim = await startSimulator({ generation: "headers" });
    world = await createOpenClawEnv({ name: "gateway", gateway: true, pluginConfig: { baseUrl: sim.baseUrl } });
    gateway = await timed("(d) gateway start (until [gateway] ready)", () => startGateway(world));
    turn = await timed("(d) gateway agent turn (lead run)", () =>
      gateway.runAgent({
        message: `Delegate this to a helper. ${LEAD_MARKER} Read hello.txt and report its contents.]]`,
      }),
    );
    // The CLI returns after the lead run; the child run and the parent's announce run follow.
    await timed("(d) wait for child + announce runs", () =>
      sim
        .waitFor(
          () => {
            const child = childRequests();
            const childDone = child.some((r) => r.toolCalls.length === 0 && r.status === 200);
            return childDone && sim.chatRequests().some(isAnnounce);
          },
          90_000,
          "the subagent's requests and the announce run",
        )
        .catch((error: unknown) => {
          throw new Error(`${String(error)}\ngateway log tail:\n${tail(gateway.logs(), 40)}`);
        }),
    );
    // Let the announce run finish its last request before stopping.
    await sim.waitFor(() => sim.chatRequests().every((r) => r.finishedAt !== undefined), 10_000, "in-flight requests");
    stop = await timed("(d) gateway stop (SIGTERM → exit)", () => gateway.stop({ graceMs: 15_000 }));
  });

  afterAll(async () => {
    await world?.dispose();
    await sim?.close();
  });

  it("the Gateway-backed agent command completes the lead run", () => {
    keepOnFailure(world);
    expect(turn.exitCode, explain(turn, world, sim)).toBe(0);
    expect((turn.json as { status?: unknown } | undefined)?.status, explain(turn, world, sim)).toBe("ok");
    const lead = sim.chatRequests().filter(isLead);
    expect(lead[0]?.toolCalls.map((c) => c.name)).toEqual(["tool_call"]);
    expect(JSON.parse(lead[0]?.toolCalls[0]?.arguments ?? "{}")).toMatchObject({ id: "sessions_spawn" });
  });

  it("the child run reached the sim, its first user message starting with [Subagent Context]", () => {
    keepOnFailure(world);
    const child = childRequests();
    expect(child.length, sim.summary()).toBeGreaterThanOrEqual(2);
    for (const req of child) expect(userMessages(req)[0]?.trimStart().startsWith("[Subagent Context]")).toBe(true);
    expect(child[0]?.toolCalls.map((c) => c.name)).toEqual(["read"]);
    expect(child.at(-1)?.responseText).toContain(WORKSPACE_FILE_CONTENT);
  });

  it("lead, child and announce made the expected chat requests, all answered", () => {
    keepOnFailure(world);
    const chats = sim.chatRequests();
    const summary = chats.map((r) => `${r.index} ${r.status} ${r.policy ?? ""}`).join("\n");
    expect(chats.filter(isLead).length, summary).toBe(2);
    expect(chats.filter(isAnnounce).length, summary).toBeGreaterThanOrEqual(1);
    expect(chats.length, summary).toBeGreaterThanOrEqual(5);
    for (const req of chats) {
      expect(req.status, summary).toBe(200);
      expect(req.headers.authorization).toBe("Bearer dynamo-local");
      expect(req.headers["x-request-id"]).toMatch(/\S/);
    }
  });

  it("the Gateway stops cleanly within 10 s of SIGTERM", () => {
    keepOnFailure(world);
    expect(stop.graceful, tail(gateway.logs(), 40)).toBe(true);
    expect(stop.stopMs).toBeLessThan(10_000);
    expect(stop.exitCode, tail(gateway.logs(), 40)).toBe(0);
  });
});
