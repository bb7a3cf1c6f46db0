// Dynamo chains per OpenClaw conversation (docs/identity.md): the span tree driven through the hook
// mapping functions with OpenClaw-shaped payloads (openclaw-plugin-sdk.md §8.3), the chain store on
// disk, and the process role of a nested OpenClaw started by `exec`.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { FileChainStore, chainStorePath } from "../../src/trace/chain-store.ts";
import { CHAINS_STORED, Conversations } from "../../src/trace/conversations.ts";
import * as hooks from "../../src/trace/hooks.ts";
import { ReservableIdGenerator } from "../../src/trace/id-generator.ts";
import { processRole } from "../../src/trace/process-role.ts";
import { SpanTree } from "../../src/trace/span-tree.ts";

const LEAD_KEY = "agent:main:main";
const LEAD_SESSION = "0b7d2f4e-5a61-4c1e-9f0e-3d2a1b4c5d6e";
const CHILD_KEY = "agent:main:subagent:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const CHILD_SESSION = "11111111-2222-4333-8444-555555555555";

const providers: TracerProvider[] = [];
const stateDirs: string[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
  for (const dir of stateDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A private OpenClaw state dir, removed after the test. */
function tempStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "chains-"));
  stateDirs.push(dir);
  return dir;
}

function setup(conversations?: Conversations, env: Record<string, string> = {}) {
  const { config } = loadConfig({ agentTrace: true }, env);
  const idGenerator = new ReservableIdGenerator();
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ idGenerator, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  providers.push(provider);
  const tree = new SpanTree({ tracer: provider.getTracer("test"), idGenerator, config, conversations, identity: processRole(env, config) });
  const agent = (runId: string): ReadableSpan => {
    const found = exporter.getFinishedSpans().find((span) => span.name === "invoke_agent main" && span.attributes["openclaw.run.id"] === runId);
    expect(found, runId).toBeDefined();
    return found!;
  };
  return { tree, agent };
}

const ctx = (runId: string, sessionKey = LEAD_KEY, sessionId = LEAD_SESSION) => ({
  runId,
  agentId: "main",
  sessionKey,
  sessionId,
  modelProviderId: "dynamo",
  modelId: "mock-model",
  // OpenClaw gives each turn of a session its own diagnostic trace.
  trace: { traceId: randomBytes(16).toString("hex") },
});

function turn(tree: SpanTree, runId: string, sessionKey = LEAD_KEY, sessionId = LEAD_SESSION) {
  for (const name of hooks.RUN_START_HOOKS) hooks.onRunStart(tree, { prompt: "hi" }, ctx(runId, sessionKey, sessionId));
  const run = tree.getRun(runId)!;
  hooks.onAgentEnd(tree, { runId, success: true, messages: [] }, ctx(runId, sessionKey, sessionId));
  return run;
}

const trajectoryOf = (span: ReadableSpan) => `${span.spanContext().traceId}-${span.spanContext().spanId}`;
const chainLinks = (span: ReadableSpan) =>
  span.links.filter((link) => link.attributes?.["link.kind"] === "dynamo_chain_start").map((link) => `${link.context.traceId}-${link.context.spanId}`);

describe("one chain per OpenClaw session", () => {
  it("two user turns of one session: own traces, the first turn's ids, the second links to the first", () => {
    const { tree, agent } = setup();
    const first = turn(tree, "R1");
    const second = turn(tree, "R2");
    expect(agent("R2").spanContext().traceId).not.toBe(agent("R1").spanContext().traceId);
    expect(second.ids).toEqual(first.ids);
    expect(first.ids).toEqual({ sessionId: agent("R1").spanContext().traceId, trajectoryId: trajectoryOf(agent("R1")) });
    expect(agent("R2").attributes).toMatchObject({ "dynamo.session_id": first.ids.sessionId, "dynamo.trajectory_id": first.ids.trajectoryId });
    expect(chainLinks(agent("R1"))).toEqual([]);
    expect(chainLinks(agent("R2"))).toEqual([trajectoryOf(agent("R1"))]);
  });

  it("another session id under the same key (a reset) is another conversation", () => {
    const { tree } = setup();
    const first = turn(tree, "R1");
    const after = turn(tree, "R2", LEAD_KEY, "22222222-3333-4444-8555-666666666666");
    expect(after.ids.trajectoryId).not.toBe(first.ids.trajectoryId);
  });

  it("a subagent's follow-up run (sessions_send) continues the subagent's chain with its own parent", () => {
    const { tree, agent } = setup();
    for (const name of hooks.RUN_START_HOOKS) hooks.onRunStart(tree, {}, ctx("R1"));
    hooks.onBeforeToolCall(tree, { toolName: "sessions_spawn", params: {}, runId: "R1", toolCallId: "call_1" }, ctx("R1"));
    hooks.onSubagentSpawned(tree, { childSessionKey: CHILD_KEY }, { requesterSessionKey: LEAD_KEY });
    const lead = tree.getRun("R1")!;
    const child = turn(tree, "C1", CHILD_KEY, CHILD_SESSION);
    const followUp = turn(tree, "C2", CHILD_KEY, CHILD_SESSION);
    expect(child.ids.parentTrajectoryId).toBe(lead.ids.trajectoryId);
    expect(followUp.ids).toEqual(child.ids);
    expect(followUp.isSubagent).toBe(true);
    expect(chainLinks(agent("C2"))).toEqual([child.ids.trajectoryId]);
  });

  it("compaction keeps the chain, also when a context engine rotates the session id; a reset forgets it", () => {
    const { tree } = setup();
    const first = turn(tree, "R1");
    const rotated = "33333333-4444-4555-8666-777777777777";
    // session_end as OpenClaw sends it when a context engine rotates the id (openclaw-plugin-sdk.md §8.3).
    const compaction = { sessionId: LEAD_SESSION, sessionKey: LEAD_KEY, messageCount: 40, reason: "compaction", nextSessionId: rotated };
    expect(hooks.onSessionEnd(tree, compaction, { sessionId: LEAD_SESSION, sessionKey: LEAD_KEY })).toBe(false);
    expect(turn(tree, "R2", LEAD_KEY, rotated).ids).toEqual(first.ids);
    // The built-in compactor keeps the id: also no end.
    expect(hooks.onSessionEnd(tree, { sessionId: rotated, sessionKey: LEAD_KEY, reason: "compaction" }, {})).toBe(false);
    expect(turn(tree, "R3", LEAD_KEY, rotated).ids).toEqual(first.ids);
    expect(hooks.onSessionEnd(tree, { sessionId: rotated, sessionKey: LEAD_KEY, reason: "reset" }, {})).toBe(true);
    expect(turn(tree, "R4", LEAD_KEY, rotated).ids.trajectoryId).not.toBe(first.ids.trajectoryId);
  });

  it("a Gateway shutdown ends the chain in Dynamo but keeps it for the next process", () => {
    const { tree } = setup();
    const first = turn(tree, "R1");
    expect(hooks.onSessionEnd(tree, { sessionId: LEAD_SESSION, sessionKey: LEAD_KEY, reason: "shutdown" }, {})).toBe(true);
    expect(turn(tree, "R2").ids).toEqual(first.ids);
  });
});

describe("chains across processes (plugin state under OpenClaw's state dir)", () => {
  const storeIn = (dir: string) => new FileChainStore(chainStorePath(dir));

  it("a second process continues the conversation's chain and links to the first process's agent span", () => {
    const stateDir = tempStateDir();
    const one = setup(new Conversations({ store: storeIn(stateDir) }));
    const first = turn(one.tree, "R1");
    const firstSpan = trajectoryOf(one.agent("R1"));
    // The store is written at run end (the plugin's flush) and at shutdown, not on the hook's path.
    one.tree.conversations.saveNow();
    const two = setup(new Conversations({ store: storeIn(stateDir) }));
    const second = turn(two.tree, "R2");
    expect(second.ids).toEqual(first.ids);
    expect(chainLinks(two.agent("R2"))).toEqual([firstSpan]);
    // Forgotten with the session.
    hooks.onSessionEnd(two.tree, { sessionId: LEAD_SESSION, sessionKey: LEAD_KEY, reason: "deleted" }, {});
    two.tree.conversations.saveNow();
    const three = setup(new Conversations({ store: storeIn(stateDir) }));
    expect(turn(three.tree, "R3").ids.trajectoryId).not.toBe(first.ids.trajectoryId);
  });

  it(`keeps the newest ${CHAINS_STORED} chains, skips malformed entries and survives a broken file`, () => {
    const stateDir = tempStateDir();
    const store = storeIn(stateDir);
    const conversations = new Conversations({ store });
    const ids = (i: number) => ({ sessionId: "a".repeat(32), trajectoryId: `${"a".repeat(32)}-${i.toString(16).padStart(16, "0")}` });
    for (let i = 0; i < CHAINS_STORED + 5; i++) {
      conversations.create({ sessionId: `s-${i}` }, { ids: ids(i), kind: "lead", first: { traceId: "a".repeat(32), spanId: i.toString(16).padStart(16, "0") } });
    }
    // Many new conversations cost one write, when the plugin flushes (or a second later).
    expect(existsSync(store.path)).toBe(false);
    conversations.saveNow();
    const saved = store.load();
    expect(saved).toHaveLength(CHAINS_STORED);
    expect(saved.at(-1)!.sessionIds).toEqual([`s-${CHAINS_STORED + 4}`]);
    expect(new Conversations({ store }).find({ sessionId: "s-0" })).toBeUndefined();
    expect(new Conversations({ store }).find({ sessionId: `s-${CHAINS_STORED + 4}` })?.ids).toEqual(ids(CHAINS_STORED + 4));

    const file = JSON.parse(readFileSync(store.path, "utf8")) as { chains: unknown[] };
    file.chains.push({ kind: "lead", ids: { sessionId: 1 }, first: {}, sessionIds: ["evil"] });
    writeFileSync(store.path, JSON.stringify(file));
    expect(new Conversations({ store }).find({ sessionId: "evil" })).toBeUndefined();

    writeFileSync(store.path, "{not json");
    const errors: unknown[] = [];
    const fresh = new Conversations({ store, onStoreError: (error) => errors.push(error) });
    expect(errors).toHaveLength(1);
    expect(fresh.find({ sessionId: `s-${CHAINS_STORED + 4}` })).toBeUndefined();
  });
});

describe("a nested OpenClaw started by exec is a child chain", () => {
  it("the exec env hands down the run's trajectory; the child takes it as parent, never an inherited DYN_AGENT_TRAJECTORY_ID as its own", () => {
    const outer = setup(undefined, { DYN_AGENT_TRAJECTORY_ID: "outer-chain" });
    for (const name of hooks.RUN_START_HOOKS) hooks.onRunStart(outer.tree, {}, ctx("R1"));
    const outerRun = outer.tree.getRun("R1")!;
    expect(outerRun.ids.trajectoryId).toBe("outer-chain");
    const execEnv = hooks.onResolveExecEnv(outer.tree, { sessionKey: LEAD_KEY }, {})!;
    expect(execEnv.DYN_AGENT_PARENT_TRAJECTORY_ID).toBe("outer-chain");

    // The nested process: OpenClaw's exec environment (OPENCLAW_SHELL=exec) on top of the inherited one.
    const childEnv = { DYN_AGENT_TRAJECTORY_ID: "outer-chain", OPENCLAW_SHELL: "exec", DYN_AGENT_PARENT_TRAJECTORY_ID: execEnv.DYN_AGENT_PARENT_TRAJECTORY_ID! };
    const nested = setup(undefined, childEnv);
    const inner = turn(nested.tree, "N1", LEAD_KEY, "44444444-5555-4666-8777-888888888888");
    expect(inner.ids.trajectoryId).not.toBe("outer-chain");
    expect(inner.ids.trajectoryId).toBe(trajectoryOf(nested.agent("N1")));
    expect(inner.ids.parentTrajectoryId).toBe("outer-chain");
    expect(inner.isSubagent).toBe(false);
  });
});
