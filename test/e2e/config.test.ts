/**
 * Config e2e (docs/settings.md): invalid values in `plugins.entries.dynamo.config` — a wrong choice,
 * a number out of range, unknown keys, Dynamo's bind-form relay endpoint — must not make OpenClaw
 * refuse the plugin (its manifest schema declares types only). One real `agent --local` turn with all
 * of them at once: the turn is served by `dynamo/<model>` through the simulator, and each bad key is
 * warned about exactly once, with the default kept.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../sim/index.ts";
import {
  explain,
  keepOnFailure,
  parseLogFile,
  payloadTexts,
  readTextFile,
  Resources,
  runAgentLocal,
  Timings,
  type AgentTurnResult,
  type OpenClawWorld,
} from "./harness/index.ts";

const timings = new Timings();
const resources = new Resources();

const PATH = "plugins.entries.dynamo.config";
const REPLY = "served despite bad settings";

/** Config key → bad value, and text its warning must contain. */
const BAD: Readonly<Record<string, readonly [unknown, string]>> = {
  protocol: ["v2", "expected one of nvext, headers, auto"],
  flushTimeoutMs: [600_000, "no greater than 60000"],
  colour: ["blue", "unknown setting, ignored"],
  baseURL: ["http://127.0.0.1:9/v1", "did you mean baseUrl?"],
  toolEventsEndpoint: ["tcp://*:20390", "connect to tcp://127.0.0.1:20390"],
};
const BAD_CAPTURE_KEY = "tool_results";

let sim: Simulator;
let world: OpenClawWorld;
let turn: AgentTurnResult;

beforeAll(async () => {
  sim = await resources.newSim({ generation: "headers" });
  world = await resources.newWorld({
    name: "bad-config",
    pluginConfig: {
      baseUrl: sim.baseUrl,
      ...Object.fromEntries(Object.entries(BAD).map(([key, [value]]) => [key, value])),
      capture: { [BAD_CAPTURE_KEY]: true },
    },
  });
  turn = await timings.timed("agent --local turn with bad plugin config", () => runAgentLocal(world, { message: `Say it. [[sim:text ${REPLY}]]` }));
});

afterAll(async () => {
  await resources.dispose();
  console.log(timings.table("config e2e timings:", 46, { unit: "s" }));
});

/** The CLI's own output (stdout + stderr) and the plugin's lines in OpenClaw's log file. */
function outputs(): { cli: string; log: string[] } {
  const log = parseLogFile(readTextFile(world.logFile))
    .map((entry) => entry.text)
    .filter((text) => text.includes("[dynamo]"));
  return { cli: `${turn.stdout}\n${turn.stderr}`, log };
}

const count = (haystack: string, needle: string): number => haystack.split(needle).length - 1;

describe("bad plugin config values", () => {
  it("the plugin still loads and serves dynamo/<model>: the turn succeeded through the simulator", () => {
    keepOnFailure(world);
    expect(turn.exitCode, explain(turn, world, sim)).toBe(0);
    expect(payloadTexts(turn.json).join("\n"), explain(turn, world, sim)).toContain(REPLY);
    const chats = sim.chatRequests();
    expect(chats.map((r) => [r.path, r.status, (r.body as { model?: unknown }).model]), sim.summary()).toEqual([
      ["/v1/chat/completions", 200, "mock-model"],
    ]);
    // The plugin's stream wrapper served it: the x-request-id it mints names the chat span (<trace id>-<span id>).
    expect(chats[0]!.headers["x-request-id"], sim.summary()).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
  });

  it("each bad key is warned about exactly once, naming it and the accepted form", () => {
    keepOnFailure(world);
    const { cli, log } = outputs();
    const keys = [...Object.keys(BAD), `capture.${BAD_CAPTURE_KEY}`];
    for (const key of keys) {
      const prefix = `${PATH}.${key}: `;
      const expected = BAD[key]?.[1] ?? "did you mean capture.toolResults?";
      // One line in the CLI output (OpenClaw prints plugin warnings there) and one in its log file.
      expect(count(cli, prefix), `${key} in the CLI output\n${cli}`).toBe(1);
      expect(log.filter((line) => line.includes(prefix)), `${key} in the log\n${log.join("\n")}`).toHaveLength(1);
      const line = cli.split("\n").find((text) => text.includes(prefix))!;
      expect(line).toContain(expected);
    }
    // Nothing else about the config: OpenClaw did not refuse or reject it.
    expect(cli).not.toMatch(/invalid config|must be equal to one of|must NOT have additional properties|failed during load/i);
  });
});
