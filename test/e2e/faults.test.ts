/**
 * Fault suite, rows that cross a process boundary, with the real `openclaw` CLI (SPEC §8). Four
 * worlds run side by side (a real turn costs 15-50 s here), each combining faults that do not
 * interfere:
 *
 *   baseline   OpenClaw WITHOUT the plugin (plugin disabled, `models.providers.dynamo` pointing at the
 *              simulator) against a Dynamo that answers 503 + retry-after, resets mid-stream, sends
 *              malformed SSE, answers 500 and is slow to its first byte: the outcome to match.
 *   faults     The same Dynamo faults with the whole plugin on (identity, relay, OTLP), the relay
 *              endpoint with nothing listening: same outcome; one span and x-request-id per HTTP
 *              request; the relay's undelivered events reported in one line.
 *   sigterm    Every SPEC §2 environment variable the config does not shadow set to an invalid value,
 *              a malformed TRACEPARENT with a huge TRACESTATE, planted secrets; SIGTERM in the middle
 *              of an `exec` tool call: spans and relay records flushed within the bound; one warning
 *              per invalid variable; no secret in any output.
 *   gateway    A Gateway whose lead spawns a subagent (Dynamo 1.2, KV session open); `dynamo.status`
 *              mid-run; SIGTERM to the Gateway while the subagent is in its `exec` call: OpenClaw
 *              drains the subagent run, the plugin keeps tracing and relaying it, closes its Dynamo
 *              session, and shuts down at gateway_stop; secrets and content markers in nothing
 *              captured (content capture off by default).
 *
 * Unit-level rows (no process boundary) are in test/faults/.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatFault, OtlpSpan, RecordedRequest, Simulator } from "../sim/index.ts";
import {
  explain,
  freePort,
  keepOnFailure,
  parseLogFile,
  readTextFile,
  Resources,
  runAgentLocal,
  startGateway,
  tail,
  Timings,
  WORKSPACE_FILE_CONTENT,
  type AgentTurnResult,
  type CliResult,
  type GatewayStopResult,
  type OpenClawWorld,
  type RunningGateway,
} from "./harness/index.ts";

// Bookkeeping (harness/bookkeeping.ts): step timings, printed in afterAll; every sim and world, stopped there.
const timings = new Timings();
const resources = new Resources();

/**
 * OpenClaw 2026.9.6 copies and verifies a path-loaded plugin's directory while loading it; several
 * OpenClaw processes loading the same directory at the same moment can fail that check ("Plugin
 * source changed while preparing its reload"). That is a load race between the test's own processes,
 * not a fault under test: such an attempt is retried once (and the worlds start a few seconds apart).
 */
const PLUGIN_LOAD_RACE = /Plugin source changed while preparing its reload/;
async function retryLoadRace<T extends { stdout: string; stderr: string }>(label: string, attempt: () => Promise<T>): Promise<T> {
  const first = await attempt();
  if (!PLUGIN_LOAD_RACE.test(`${first.stdout}\n${first.stderr}`)) return first;
  timings.add(`${label}: retried (plugin-load race)`, 0);
  return attempt();
}
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where a local turn's time went: start-up, the model requests (with OpenClaw's retries), exit. */
function phases(label: string, sim: Simulator, turn: AgentTurnResult): void {
  const requests = chats(sim);
  if (requests.length === 0) return;
  const first = Math.min(...requests.map((r) => r.receivedAt));
  const last = Math.max(...requests.map((r) => r.finishedAt ?? r.receivedAt));
  timings.add(`${label}: start-up to first model request`, first - turn.startedAtMs);
  timings.add(`${label}: first to last model request`, last - first);
  timings.add(`${label}: last answer to exit`, turn.exitedAtMs - last);
}

/** The plugin's log lines (text only) from OpenClaw's log file. */
function dynamoLines(world: OpenClawWorld): string[] {
  return parseLogFile(readTextFile(world.logFile))
    .map((entry) => entry.text)
    .filter((text) => text.includes("[dynamo]"));
}

const chats = (sim: Simulator): RecordedRequest[] => sim.chatRequests();
const isTerminal = (request: RecordedRequest) => {
  const body = request.body as { max_tokens?: unknown; stream?: unknown } | undefined;
  return body?.max_tokens === 1 && body.stream === false;
};
const spanOf = (spans: OtlpSpan[], request: RecordedRequest) => {
  const spanId = /^00-[0-9a-f]{32}-([0-9a-f]{16})-0[01]$/.exec(request.traceparent ?? "")?.[1];
  return spans.find((span) => span.spanId === spanId);
};

/** The reply text of a local `--json` envelope. */
function replyText(json: unknown): string {
  const payloads = (json as { payloads?: Array<{ text?: unknown }> } | undefined)?.payloads ?? [];
  return payloads.map((p) => (typeof p.text === "string" ? p.text : "")).join("\n");
}

// ---------------------------------------------------------------------------------------------
// Scenario definitions

/** One-shot Dynamo faults, consumed in order by the run's model requests (OpenClaw retries each). */
const DYNAMO_FAULTS: ChatFault[] = [
  { type: "status", status: 503, headers: { "retry-after": "1" } },
  { type: "reset-after-first-chunk" },
  { type: "malformed-sse" },
  { type: "status", status: 500 },
  { type: "delay", ms: 2_500 },
];
const FAULT_MESSAGE = "Please read hello.txt. [[sim:read hello.txt]] [[sim:text Fault run done.]]";

interface LocalResult {
  sim: Simulator;
  world: OpenClawWorld;
  turn: AgentTurnResult;
}

async function baselineScenario(): Promise<LocalResult> {
  const sim = await resources.newSim({ generation: "headers" });
  sim.faults.chat(...DYNAMO_FAULTS);
  const world = await resources.newWorld({
    name: "faults-baseline",
    models: {
      providers: {
        dynamo: {
          baseUrl: sim.baseUrl,
          api: "openai-completions",
          models: [{ id: "mock-model", name: "mock-model", contextWindow: 131072, maxTokens: 4096, input: ["text"], reasoning: false, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 } }],
        },
      },
    },
    extraConfig: { plugins: { load: { paths: [] }, entries: { dynamo: { enabled: false } } } },
  });
  const turn = await timings.timed("baseline: agent --local without the plugin", () => runAgentLocal(world, { message: FAULT_MESSAGE, timeoutMs: 200_000 }));
  phases("baseline", sim, turn);
  return { sim, world, turn };
}

async function faultsScenario(): Promise<LocalResult & { relayEndpoint: string }> {
  const sim = await resources.newSim({ generation: "headers" });
  sim.faults.chat(...DYNAMO_FAULTS);
  const relayEndpoint = `tcp://127.0.0.1:${await freePort()}`;
  const world = await resources.newWorld({
    name: "faults-dynamo",
    pluginConfig: { baseUrl: sim.baseUrl, agentTrace: true, protocol: "headers", otlpEndpoint: sim.otlpUrl, toolEventsEndpoint: relayEndpoint },
  });
  const turn = await timings.timed("faults: agent --local with the plugin", () =>
    retryLoadRace("faults", () => runAgentLocal(world, { message: FAULT_MESSAGE, timeoutMs: 200_000 })),
  );
  phases("faults", sim, turn);
  await sim.waitFor(() => sim.otlp.spans.some((span) => span.name === "invoke_agent main"), 10_000, "the agent span").catch(() => undefined);
  return { sim, world, turn, relayEndpoint };
}

// Secrets planted in the sigterm and gateway worlds (not `sk-…`-shaped, so only the plugin can hide them).
const API_KEY = `dynkey${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const OTLP_SECRET = `otlpsecret${Math.random().toString(36).slice(2)}`;
const OTLP_BAD_SECRET = `otlpbad${Math.random().toString(36).slice(2)}`;

/** SPEC §2 variables the sigterm world sets to invalid values (those its plugin config does not shadow). */
const INVALID_ENV: Record<string, string> = {
  DYN_AGENT_TRACE_PROTOCOL: "grpc",
  DYN_AGENT_SESSION_TYPE_ID: "a\tb",
  DYN_AGENT_SESSION_ID: "x".repeat(300),
  DYN_AGENT_TRAJECTORY_ID: "päärent",
  DYN_AGENT_PARENT_TRAJECTORY_ID: "a\u0001b",
  DYN_AGENT_SESSION_TIMEOUT: "0",
  DYN_AGENT_TOOL_EVENTS_ZMQ_TOPIC: "tøpic",
  DYN_AGENT_TOOL_EVENTS_QUEUE_CAPACITY: "1e3",
  DYN_AGENT_TRACE_INBOUND: "child",
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc",
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: `authorization=Bearer%20${OTLP_BAD_SECRET},${OTLP_BAD_SECRET}`,
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "10s",
  OTEL_SERVICE_NAME: "a\u007fb",
  OTEL_RESOURCE_ATTRIBUTES: "a=1,=2",
  OTEL_TRACES_SAMPLER: "jaeger_remote",
  OTEL_TRACES_SAMPLER_ARG: "half",
  OTEL_SDK_DISABLED: "disabled",
  OPENINFERENCE_PROJECT_NAME: "p".repeat(300),
  DYN_AGENT_TRACE_FLUSH_TIMEOUT_MS: "60001",
  DYN_AGENT_TRACE_CAPTURE: "prompts,secrets",
  DYN_AGENT_TRACE_CAPTURE_MAX_CHARS: "-1",
};
const HUGE_TRACESTATE = Array.from({ length: 200 }, (_, i) => `vendor${i}=${"v".repeat(20)}`).join(",");

interface SigtermResult {
  sim: Simulator;
  world: OpenClawWorld;
  result: { exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };
  /** Milliseconds from SIGTERM to the process exiting. */
  exitMs: number;
  /** Epoch ms the SIGTERM was sent. */
  sentAt: number;
  execCallId: string;
}

async function sigtermScenario(): Promise<SigtermResult> {
  const sim = await resources.newSim({ generation: "headers" });
  const world = await resources.newWorld({
    name: "faults-sigterm",
    pluginConfig: { baseUrl: sim.baseUrl, agentTrace: true, otlpEndpoint: sim.otlpUrl, toolEventsEndpoint: sim.zmqEndpoint },
    env: {
      ...INVALID_ENV,
      DYNAMO_API_KEY: API_KEY,
      OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${OTLP_SECRET}`,
      TRACEPARENT: "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // trace id one digit short
      TRACESTATE: HUGE_TRACESTATE,
    },
  });
  const args = ["agent", "--local", "--agent", "main", "--message", "Run a long command. [[sim:exec sleep 45]] [[sim:text never]]", "--model", "dynamo/mock-model", "--json"];
  const startExec = async () => {
    const proc = world.spawn(args, { label: "agent-sigterm" });
    const started = await Promise.race([
      sim.waitFor(
        () => sim.relay.accepted.find((m) => m.record.event_type === "tool_start" && (m.record.tool as { tool_class?: string }).tool_class === "exec"),
        180_000,
        "the exec tool call to start",
      ),
      proc.exited.then(() => undefined),
    ]).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${tail(proc.output(), 30)}`);
    });
    return { proc, started };
  };
  let { proc, started } = await timings.timed("sigterm: until the exec tool call runs", startExec);
  if (!started && PLUGIN_LOAD_RACE.test(proc.output())) {
    timings.add("sigterm: retried (plugin-load race)", 0);
    ({ proc, started } = await timings.timed("sigterm: until the exec tool call runs (retry)", startExec));
  }
  if (!started) throw new Error(`the agent exited before its exec tool call:\n${tail(proc.output(), 30)}`);
  const execCallId = String((started.record.tool as { tool_call_id: string }).tool_call_id);
  const sentAt = Date.now();
  process.kill(proc.pid, "SIGTERM");
  const killer = setTimeout(() => process.kill(-proc.pid, "SIGKILL"), 60_000);
  const exit = await proc.exited;
  clearTimeout(killer);
  const exitMs = exit.exitedAtMs - sentAt;
  timings.add("sigterm: SIGTERM to exit", exitMs);
  // Whatever was flushed has arrived by now; give the receivers a moment to decode.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { sim, world, result: { exitCode: exit.exitCode, signal: exit.signal, stdout: proc.stdout(), stderr: proc.stderr() }, exitMs, execCallId, sentAt };
}

const CONTENT = {
  prompt: `PROMPTMARK${Math.random().toString(36).slice(2)}`,
  argFile: `notes-ARGMARK${Math.random().toString(36).slice(2)}.txt`,
  result: `RESULTMARK${Math.random().toString(36).slice(2)}`,
  completion: `COMPLETIONMARK${Math.random().toString(36).slice(2)}`,
};

interface GatewayResult {
  sim: Simulator;
  world: OpenClawWorld;
  gateway: RunningGateway;
  lead: AgentTurnResult;
  status: CliResult;
  stop: GatewayStopResult;
  childTrajectory: string;
}

async function gatewayScenario(): Promise<GatewayResult> {
  const sim = await resources.newSim({ generation: "nvext" });
  const world = await resources.newWorld({
    name: "faults-gateway",
    gateway: true,
    pluginConfig: { baseUrl: sim.baseUrl, otlpEndpoint: sim.otlpUrl },
    env: {
      DYN_AGENT_TRACE: "1",
      DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT: sim.zmqEndpoint,
      DYNAMO_API_KEY: API_KEY,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${OTLP_SECRET}`,
    },
  });
  writeFileSync(join(world.workspace, CONTENT.argFile), `${CONTENT.result}\n`);
  const gateway = await timings.timed("gateway: start", () =>
    startGateway(world).catch(async (error: unknown) => {
      if (!PLUGIN_LOAD_RACE.test(String(error))) throw error;
      timings.add("gateway: retried (plugin-load race)", 0);
      return startGateway(world);
    }),
  );
  const message =
    `${CONTENT.prompt} Read my notes and delegate. [[sim:read ${CONTENT.argFile}]] ` +
    `[[sim:spawn Run the check {{sim:exec sleep 20}} {{sim:text Child done.}}]] [[sim:text ${CONTENT.completion}]]`;
  const lead = await timings.timed("gateway: lead run", () => gateway.runAgent({ message, timeoutMs: 200_000 }));
  // The subagent is in its `exec` call, its Dynamo session open: ask for the status, then stop the
  // Gateway. OpenClaw drains the subagent run before it stops (gateway_stop comes last).
  const execStart = await timings.timed("gateway: until the subagent's exec runs", () =>
    sim.waitFor(
      () => sim.relay.accepted.find((m) => m.record.event_type === "tool_start" && (m.record.tool as { tool_class?: string }).tool_class === "exec"),
      120_000,
      "the subagent's exec tool call",
    ),
  );
  const childTrajectory = String((execStart.record.agent_context as { trajectory_id?: string } | undefined)?.trajectory_id);
  const status = await timings.timed("gateway: dynamo.status", () => gateway.call("dynamo.status"));
  const stop = await timings.timed("gateway: stop mid-subagent", () => gateway.stop({ graceMs: 90_000 }));
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { sim, world, gateway, lead, status, stop, childTrajectory };
}

// ---------------------------------------------------------------------------------------------

let baseline: Promise<LocalResult>;
let faults: Promise<LocalResult & { relayEndpoint: string }>;
let sigterm: Promise<SigtermResult>;
let gatewayRun: Promise<GatewayResult>;

beforeAll(() => {
  // Build the plugin snapshot once, then start every world at the same time.
  baseline = baselineScenario();
  faults = faultsScenario();
  sigterm = delay(4_000).then(sigtermScenario);
  gatewayRun = delay(8_000).then(gatewayScenario);
  for (const p of [baseline, faults, sigterm, gatewayRun]) p.catch(() => undefined);
});

afterAll(async () => {
  await Promise.allSettled([baseline, faults, sigterm, gatewayRun]);
  const total = Date.now() - timings.startedAt;
  console.log(timings.table(`faults e2e timings (file total ${total} ms):`, 50));
  await resources.dispose();
}, 120_000);

describe("Dynamo faults: the outcome is what it is without the plugin", () => {
  it("the run without the plugin recovers through OpenClaw's own retries (the baseline)", async () => {
    const { sim, world, turn } = await baseline;
    keepOnFailure(world);
    expect(turn.exitCode, explain(turn, world, sim)).toBe(0);
    expect(dynamoLines(world), "the plugin is not loaded in the baseline").toEqual([]);
    expect(chats(sim).filter((r) => r.fault !== undefined)).toHaveLength(DYNAMO_FAULTS.length);
  });

  it("with the plugin: same exit code, same answer, the same requests with the same faults", async () => {
    const [{ sim: plain, turn: plainTurn }, { sim, world, turn }] = await Promise.all([baseline, faults]);
    keepOnFailure(world);
    expect(turn.exitCode, explain(turn, world, sim)).toBe(plainTurn.exitCode);
    expect(replyText(turn.json)).toBe(replyText(plainTurn.json));
    expect(replyText(turn.json)).toContain("Fault run done.");
    expect(replyText(turn.json)).toContain(WORKSPACE_FILE_CONTENT);
    const shape = (s: Simulator) => chats(s).map((r) => `${r.status}${r.fault ? ` (${r.fault})` : ""}`);
    expect(shape(sim)).toEqual(shape(plain));
  });

  it("every HTTP request has its own x-request-id and chat span; failed attempts are error spans", async () => {
    const { sim, world } = await faults;
    keepOnFailure(world);
    const requests = chats(sim);
    expect(new Set(requests.map((r) => r.xRequestId)).size).toBe(requests.length);
    const spans = sim.otlp.spans;
    for (const request of requests) {
      const span = spanOf(spans, request);
      expect(span, `span for request ${request.index} (${request.fault ?? "ok"})\n${sim.summary()}`).toBeDefined();
      expect(span!.attributes["dynamo.x_request_id"]).toBe(request.xRequestId);
      const failed = request.fault !== undefined && !request.fault.startsWith("delay");
      expect(span!.status.code, `request ${request.index} (${request.fault ?? "ok"})`).toBe(failed ? 2 : 0);
    }
  });

  it("the relay endpoint with nothing listening: the run is unaffected; its undelivered events are reported in one line", async () => {
    const { world, relayEndpoint, turn } = await faults;
    keepOnFailure(world);
    expect(turn.exitCode).toBe(0);
    const lines = dynamoLines(world);
    const relayLines = lines.filter((line) => line.includes(relayEndpoint));
    expect(relayLines, lines.join("\n")).toHaveLength(1);
    // The read call's tool_start and tool_end, still queued at the run's end (a one-shot CLI exits
    // without a shutdown report, so this line is the account of them).
    expect(relayLines[0]).toContain(`2 event(s) not delivered to ${relayEndpoint} within 2000 ms`);
    // The Dynamo faults are OpenClaw's to report: the plugin adds nothing about them, and nothing failed inside it.
    expect(lines.filter((line) => /\b50[03]\b|reset|malformed|handler failed|could not add|rejected/.test(line))).toEqual([]);
  });
});

describe("SIGTERM to a one-shot run mid-tool-call, with invalid settings and planted secrets", () => {
  it("spans and relay records are flushed within the bound; the process ends by the signal", async () => {
    const { sim, world, result, exitMs, execCallId, sentAt } = await sigterm;
    keepOnFailure(world);
    // How long OpenClaw itself takes to wind down is OpenClaw's; it must not be killed or hang.
    expect(result.exitCode === 143 || result.signal === "SIGTERM", explain(result, world, sim)).toBe(true);
    expect(exitMs).toBeLessThan(60_000);
    // The plugin's flush bound is 2 s; generous slack for a loaded machine.
    const lastArrival = Math.max(...sim.relay.accepted.map((m) => m.receivedAt), ...sim.otlp.exports.map((e) => e.receivedAt));
    expect(lastArrival - sentAt, sim.summary()).toBeLessThan(10_000);
    const records = sim.relay.accepted.filter((m) => (m.record.tool as { tool_call_id?: string }).tool_call_id === execCallId);
    expect(records.map((m) => m.record.event_type), sim.summary()).toEqual(["tool_start", "tool_error"]);
    expect((records[1]!.record.tool as { status?: string }).status).toBe("cancelled");
    const spans = sim.otlp.spans;
    const exec = spans.find((span) => span.attributes["gen_ai.tool.call.id"] === execCallId);
    expect(exec?.attributes["dynamo.tool.status"], spans.map((s) => s.name).join(", ")).toBe("cancelled");
    expect(spans.some((span) => span.name === "invoke_agent main")).toBe(true);
    expect(spans.some((span) => span.name === "chat mock-model")).toBe(true);
  });

  it("one warning per invalid variable, naming it; one for TRACEPARENT; the huge TRACESTATE is harmless", async () => {
    const { sim, world, result } = await sigterm;
    keepOnFailure(world);
    const lines = dynamoLines(world);
    for (const name of Object.keys(INVALID_ENV)) {
      const mentioning = lines.filter((line) => line.includes(`${name}: `));
      expect(mentioning, `${name}\n${lines.join("\n")}`).toHaveLength(1);
      expect(mentioning[0]).toMatch(/is not valid; expected .+\. Using the default/);
    }
    expect(lines.filter((line) => line.includes("ignoring TRACEPARENT"))).toHaveLength(1);
    // Fresh trace (the malformed parent is ignored), and the request still carries a valid traceparent.
    const first = chats(sim).find((r) => r.status === 200)!;
    expect(first.traceparent, explain(result, world, sim)).toMatch(/^00-(?!4bf92f3577b34da6a3ce929d0e0e473)[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("no secret appears in any log line, output, span or relay record", async () => {
    const { sim, world, result } = await sigterm;
    keepOnFailure(world);
    const haystacks = {
      log: readTextFile(world.logFile),
      stdout: result.stdout,
      stderr: result.stderr,
      spans: JSON.stringify(sim.otlp.spans),
      relay: JSON.stringify(sim.relay.accepted.map((m) => m.record)),
    };
    for (const secret of [API_KEY, OTLP_SECRET, OTLP_BAD_SECRET]) {
      expect(Object.entries(haystacks).filter(([, text]) => text.includes(secret)).map(([name]) => name), secret).toEqual([]);
    }
    // The key was in use: OpenClaw sent it to Dynamo.
    expect(chats(sim).some((r) => r.headers.authorization === `Bearer ${API_KEY}`)).toBe(true);
  });
});

describe("Gateway stop in the middle of a subagent run", () => {
  it("the lead run completed normally", async () => {
    const { world, lead, sim } = await gatewayRun;
    keepOnFailure(world);
    expect(lead.exitCode, explain(lead, world, sim)).toBe(0);
    expect(JSON.stringify(lead.json)).toContain(CONTENT.completion);
  });

  it("dynamo.status mid-run reports the subagent's open Dynamo session", async () => {
    const { world, status, childTrajectory } = await gatewayRun;
    keepOnFailure(world);
    expect(status.exitCode, `${status.stdout}\n${status.stderr}`).toBe(0);
    const payload = status.json as { agentTrace?: boolean; openSessions?: Array<{ trajectoryId: string; protocol: string; runKind: string }> };
    expect(payload.agentTrace).toBe(true);
    expect(payload.openSessions).toContainEqual({ trajectoryId: childTrajectory, protocol: "nvext", runKind: "subagent" });
  });

  it("the stop waits for OpenClaw's drain, closes the subagent's Dynamo session, and loses no span or relay record", async () => {
    const { world, sim, stop, childTrajectory, gateway } = await gatewayRun;
    keepOnFailure(world);
    expect(stop.graceful, tail(gateway.logs(), 40)).toBe(true);
    expect(stop.exitCode).toBe(0);
    const closes = chats(sim).filter((r) => isTerminal(r) && (r.sessionControl as { action?: string } | undefined)?.action === "close");
    expect(closes.map((r) => (r.sessionControl as { session_id?: string }).session_id), sim.summary()).toEqual([childTrajectory]);
    expect(closes[0]!.status).toBe(200);
    expect(sim.sessions.open.size, "no Dynamo KV session left open").toBe(0);
    expect(sim.sessions.violations).toEqual([]);
    // The subagent's run went on during the drain: its spans and relay records still arrived.
    const spans = sim.otlp.spans;
    const child = spans.find((span) => span.attributes["openclaw.run.kind"] === "subagent");
    expect(child, spans.map((s) => `${s.name} ${s.attributes["openclaw.run.kind"] ?? ""}`).join("\n")).toBeDefined();
    expect(child!.attributes["dynamo.trajectory_id"]).toBe(childTrajectory);
    const childChats = spans.filter((span) => span.name === "chat mock-model" && span.parentSpanId === child!.spanId);
    const childRequests = chats(sim).filter((r) => (r.agentContext as { trajectory_id?: string } | undefined)?.trajectory_id === childTrajectory && !isTerminal(r));
    expect(childChats).toHaveLength(childRequests.length);
    const exec = spans.find((span) => span.name === "execute_tool exec");
    expect(exec?.parentSpanId).toBe(child!.spanId);
    const execRecords = sim.relay.accepted.filter((m) => (m.record.tool as { tool_call_id?: string }).tool_call_id === exec!.attributes["gen_ai.tool.call.id"]);
    expect(execRecords.map((m) => m.record.event_type)).toEqual(["tool_start", exec!.attributes["dynamo.tool.status"] === "succeeded" ? "tool_end" : "tool_error"]);
    expect(sim.relay.rejected).toEqual([]);
    const lines = dynamoLines(world);
    expect(lines.filter((line) => /still unanswered|failed \(|[1-9]\d* undelivered|[1-9]\d* dropped/.test(line)), lines.join("\n")).toEqual([]);
  });

  it("no secret and, with content capture off (the default), no prompt, completion, tool argument or result in anything captured", async () => {
    const { world, sim, status, lead, gateway } = await gatewayRun;
    keepOnFailure(world);
    const haystacks = {
      log: readTextFile(world.logFile),
      gatewayOutput: gateway.logs(),
      agentOutput: `${lead.stdout}\n${lead.stderr}`,
      status: `${status.stdout}\n${status.stderr}`,
      spans: JSON.stringify(sim.otlp.spans),
      relay: JSON.stringify(sim.relay.accepted.map((m) => m.record)),
    };
    for (const secret of [API_KEY, OTLP_SECRET]) {
      expect(Object.entries(haystacks).filter(([, text]) => text.includes(secret)).map(([name]) => name), secret).toEqual([]);
    }
    const wire = { spans: haystacks.spans, relay: haystacks.relay, status: haystacks.status };
    for (const [what, value] of Object.entries(CONTENT)) {
      const needle = what === "argFile" ? value.replace(/\.txt$/, "") : value;
      expect(Object.entries(wire).filter(([, text]) => text.includes(needle)).map(([name]) => name), what).toEqual([]);
    }
    // The content was really there: the model saw the prompt and the tool result.
    expect(chats(sim).some((r) => r.rawBody.includes(CONTENT.prompt) && r.rawBody.includes(CONTENT.result))).toBe(true);
    expect(sim.relay.accepted.length).toBeGreaterThanOrEqual(4);
  });
});
