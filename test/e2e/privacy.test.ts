/**
 * Privacy with the real `openclaw agent --local` and the default config (content capture off),
 * asserted on what crossed the wire (docs/privacy.md): one turn in a Telegram DM's session key,
 * whose `exec` fails after printing a key, whose `read` fails on a path the model wrote, and whose
 * last model request Dynamo rejects with an error quoting the conversation, so the run fails.
 * None of the planted values may reach a span (name, attributes, status, events, links, resource),
 * a relay record, or a plugin log line; the failures still show, by category.
 *
 * A spawn label cannot be planted through the CLI (the simulator's spawn label is fixed, and a
 * subagent needs a Gateway): it is covered in test/trace/privacy.test.ts and test/faults/security.test.ts,
 * as are the capture-on classes.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../sim/index.ts";
import { explain, keepOnFailure, pluginLines, readTextFile, Resources, runAgentLocal, Timings, type AgentTurnResult, type OpenClawWorld } from "./harness/index.ts";
import { settle, spansNamed } from "./trace-helpers.ts";

const timings = new Timings();
afterAll(() => {
  console.log(timings.table("privacy e2e timings:", 48));
});

const hex = () => randomBytes(6).toString("hex");
const PLANTED = {
  /** Digits of the Telegram peer's phone number in the session key. */
  peer: String(Math.floor(1e9 + Math.random() * 8e9)),
  /**
   * Printed by the failing exec (exit 127: OpenClaw counts 126/127 as failed; its output leads
   * `after_tool_call.error`). Not `sk-…`-shaped: OpenClaw's own redaction would hide that one.
   */
  execOutput: `planted${hex()}`,
  /** In the path of the failing read (OpenClaw's ENOENT error quotes it). */
  readPath: `notes-${hex()}`,
  /** In Dynamo's 400 answer to the last request (the chat error and the run error quote it). */
  serverError: `QUOTED${hex()}`,
};

describe("capture off (default): planted content reaches no span, relay record or log line", () => {
  let sim: Simulator;
  let world: OpenClawWorld;
  let turn: AgentTurnResult;
  const resources = new Resources();

  beforeAll(async () => {
    sim = await resources.newSim({ generation: "headers" });
    // Requests 1 and 2 are answered (the two tool calls); the third and OpenClaw's retries of it get
    // a 400 that echoes the request, as a server validating its input may.
    sim.faults.chat(
      { type: "delay", ms: 1 },
      { type: "delay", ms: 1 },
      ...Array.from({ length: 4 }, () => ({ type: "status" as const, status: 400, body: { message: `invalid content in message: '${PLANTED.serverError}'`, type: "Bad Request", code: 400 } })),
    );
    world = await resources.newWorld({
      name: "privacy",
      // Protocol forced: an `auto` probe would take one of the queued answers.
      pluginConfig: { baseUrl: sim.baseUrl, otlpEndpoint: sim.otlpUrl, toolEventsEndpoint: sim.zmqEndpoint, agentTrace: true, protocol: "headers" },
    });
    turn = await timings.timed("agent --local, failing tools and run", () =>
      runAgentLocal(world, {
        sessionKey: `agent:main:telegram:direct:+1${PLANTED.peer}`,
        message: `Check the setup. [[sim:exec echo CUSTOMER_NOTE=${PLANTED.execOutput}; exit 127]] [[sim:read ${PLANTED.readPath}.txt]] [[sim:text Checked.]]`,
      }),
    );
    await settle(sim);
    await sim.waitFor(() => spansNamed(sim.otlp.spans, "invoke_agent main").length > 0, 10_000, "the agent span").catch(() => undefined);
  });

  afterAll(() => resources.dispose());

  it("the planted values were really there: in the session key, the tool results and Dynamo's answer", () => {
    keepOnFailure(world);
    const requests = sim.chatRequests();
    expect(requests.some((r) => r.rawBody.includes(PLANTED.execOutput)), explain(turn, world, sim)).toBe(true);
    expect(requests.some((r) => r.rawBody.includes(PLANTED.readPath))).toBe(true);
    expect(requests.some((r) => r.status === 400), explain(turn, world, sim)).toBe(true);
    const agents = spansNamed(sim.otlp.spans, "invoke_agent main");
    expect(agents, explain(turn, world, sim)).toHaveLength(1);
  });

  it("none of them in any exported span, event, link or resource, relay record or plugin log line", () => {
    keepOnFailure(world);
    const haystacks = {
      spans: JSON.stringify(sim.otlp.spans),
      relay: JSON.stringify([sim.relay.accepted.map((m) => m.record), sim.relay.rejected]),
      pluginLog: pluginLines(readTextFile(world.logFile)).join("\n"),
      pluginStderr: turn.stderr.split("\n").filter((line) => line.includes("[dynamo]")).join("\n"),
    };
    const leaks = Object.entries(PLANTED)
      .map(([what, value]) => [what, Object.entries(haystacks).filter(([, text]) => text.includes(value)).map(([name]) => name)] as const)
      .filter(([, where]) => where.length > 0);
    expect(Object.fromEntries(leaks)).toEqual({});
  });

  it("the failures still show, by category; the session key keeps only agent, channel and kind", () => {
    keepOnFailure(world);
    const spans = sim.otlp.spans;
    const [agent] = spansNamed(spans, "invoke_agent main");
    expect(agent!.attributes["openclaw.session.key"]).toMatch(/^agent:main:telegram:direct:#[0-9a-f]{12}$/);
    for (const span of spans) {
      expect(span.attributes["session.id"], span.name).toMatch(/^[0-9a-f-]{36}$/);
      if (span.status.code === 2) expect(span.status.message, span.name).toBe(span.attributes["error.type"]);
    }
    const tools = spans.filter((span) => span.name.startsWith("execute_tool "));
    expect(tools.map((span) => [span.name, span.status.message]).sort(), sim.summary()).toEqual([
      ["execute_tool exec", "openclaw_tool_error"],
      ["execute_tool read", "openclaw_tool_error"],
    ]);
    const failedChats = spansNamed(spans, "chat mock-model").filter((span) => span.status.code === 2);
    expect(failedChats.length).toBeGreaterThan(0);
    for (const chat of failedChats) expect(chat.attributes["error.type"]).toBe("400");
    const errors = sim.relay.accepted.filter((m) => m.record.event_type === "tool_error");
    expect(errors.map((m) => (m.record.tool as { error_type?: string }).error_type)).toEqual(["openclaw_tool_error", "openclaw_tool_error"]);
  });
});
