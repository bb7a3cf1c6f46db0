import { encode } from "@msgpack/msgpack";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Push } from "zeromq";
import { startSimulator } from "./index.ts";
import type { Simulator } from "./index.ts";

let sim: Simulator;
let push: Push;
let seq = 0n;

beforeAll(async () => {
  sim = await startSimulator({ generation: "headers" });
  push = new Push({ linger: 0 });
  push.connect(sim.zmqEndpoint);
});
afterAll(async () => {
  push.close();
  await sim.close();
});
beforeEach(() => sim.clear());

function seqFrame(): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(seq++);
  return b;
}
const send = (record: unknown, topic = "agent-tool-events") => push.send([topic, seqFrame(), Buffer.from(encode(record))]);
const settled = (n: number) => sim.waitFor(() => sim.relay.accepted.length + sim.relay.rejected.length >= n, 3000, `${n} relay messages`);

const T0 = 1783000000000;
const tool = { tool_call_id: "call_7f3a", tool_class: "exec", started_at_unix_ms: T0, status: "running" };
const g3 = (over: Record<string, unknown> = {}) => ({
  schema: "dynamo.request.trace.v1",
  event_type: "tool_start",
  event_time_unix_ms: T0,
  session_id: "4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d0b3f4a55",
  tool,
  ...over,
});
const g1 = (over: Record<string, unknown> = {}) => ({
  schema: "dynamo.agent.trace.v1",
  event_type: "tool_end",
  event_time_unix_ms: T0 + 420,
  event_source: "harness",
  agent_context: { session_type_id: "openclaw_coding_agent", session_id: "4bf92f3577b34da6a3ce929d0e0e4736", trajectory_id: "4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d0b3f4a55" },
  tool: { ...tool, ended_at_unix_ms: T0 + 420, duration_ms: 419.873, status: "succeeded", output_bytes: 1532 },
  ...over,
});

describe("relay: headers generation (G3 RequestTraceToolEventIngress)", () => {
  beforeEach(() => sim.setGeneration("headers"));

  it("accepts the exact shape and decodes topic, seq and record", async () => {
    const first = seq;
    await send(g3());
    await send(g3({ event_type: "tool_error", parent_session_id: "lead", tool: { tool_call_id: "c", tool_class: "read", duration_ms: 0, status: "error", error_type: "openclaw_tool_error", output_bytes: 57 } }));
    await settled(2);
    expect(sim.relay.rejected).toEqual([]);
    expect(sim.relay.accepted[0]).toMatchObject({ topic: "agent-tool-events", seq: first, record: g3(), generation: "headers" });
    expect(sim.relay.accepted[1]!.seq).toBe(first + 1n);
  });

  it("rejects wrong frame counts, wrong topics, nil optionals, float unix-ms and G1-only keys", async () => {
    await push.send(["agent-tool-events", Buffer.from(encode(g3()))]); // 2 frames
    await send(g3(), "other-topic");
    await send(g3({ parent_session_id: null }));
    await send(g3({ event_time_unix_ms: T0 + 0.5 }));
    await send(g3({ tool: { ...tool, started_at_unix_ms: T0 + 0.25 } }));
    await send(g3({ event_source: "harness" }));
    await send(g3({ tool: { ...tool, arguments: "{}" } }));
    await send(g1());
    await settled(8);
    expect(sim.relay.accepted).toEqual([]);
    const reasons = sim.relay.rejected.map((r) => r.reason);
    expect(reasons[0]).toBe("frames");
    expect(sim.relay.rejected[0]!.frames).toBe(2);
    expect(sim.relay.rejected[1]).toMatchObject({ reason: "topic", topic: "other-topic" });
    expect(reasons[2]).toMatch(/^parent_session_id: nil/);
    expect(reasons[3]).toMatch(/^event_time_unix_ms: must be an unsigned integer/);
    expect(reasons[4]).toMatch(/^tool\.started_at_unix_ms: must be an unsigned integer/);
    expect(reasons[5]).toMatch(/^event_source/);
    expect(reasons[6]).toBe("tool.arguments: unknown key");
    expect(sim.relay.rejected[7]!.errors.join("\n")).toMatch(/schema: must be exactly dynamo\.request\.trace\.v1/);
  });
});

describe("relay: nvext generation (G1 AgentTraceRecord)", () => {
  beforeEach(() => sim.setGeneration("nvext"));

  it("accepts the G1 shape on any topic (no filter configured)", async () => {
    await send(g1());
    await send(g1({ event_type: "tool_start", tool: tool }), "custom-topic");
    await settled(2);
    expect(sim.relay.rejected).toEqual([]);
    expect(sim.relay.accepted.map((m) => m.topic)).toEqual(["agent-tool-events", "custom-topic"]);
  });

  it("rejects nil optionals, missing agent ids, wrong event_source, request and G3 shape", async () => {
    await send(g1({ tool: { ...tool, error_type: null } }));
    await send(g1({ agent_context: { session_type_id: "t", session_id: "s", trajectory_id: "" } }));
    await send(g1({ event_source: "dynamo" }));
    await send(g1({ request: {} }));
    await send(g3());
    await push.send(["agent-tool-events", Buffer.alloc(4), Buffer.from(encode(g1()))]); // short seq
    await settled(6);
    expect(sim.relay.accepted).toEqual([]);
    const [nil, empty, source, request, shape, short] = sim.relay.rejected;
    expect(nil!.reason).toMatch(/^tool\.error_type: nil/);
    expect(empty!.reason).toMatch(/^agent_context\.trajectory_id: must be a non-empty string/);
    expect(source!.errors).toContain('event_source: must be "harness" (got "dynamo")');
    expect(request!.reason).toMatch(/^request: must be absent/);
    expect(shape!.errors.join("\n")).toMatch(/schema: must be exactly dynamo\.agent\.trace\.v1/);
    expect(short!.reason).toBe("seq");
  });

  it("filters on an explicitly configured topic", async () => {
    const other = await startSimulator({ generation: "nvext", topic: "mine" });
    const p = new Push({ linger: 0 });
    p.connect(other.zmqEndpoint);
    try {
      await p.send(["agent-tool-events", seqFrame(), Buffer.from(encode(g1()))]);
      await p.send(["mine", seqFrame(), Buffer.from(encode(g1()))]);
      await other.waitFor(() => other.relay.accepted.length + other.relay.rejected.length >= 2, 3000, "2 messages");
      expect(other.relay.rejected.map((r) => r.reason)).toEqual(["topic"]);
      expect(other.relay.accepted.map((m) => m.topic)).toEqual(["mine"]);
    } finally {
      p.close();
      await other.close();
    }
  });
});
