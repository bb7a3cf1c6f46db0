// Attribute the tool-event cost: plugin hooks vs bare OTel SDK vs relay record building.
import { performance } from "node:perf_hooks";
import { TracerProvider, BatchSpanProcessor, createAlwaysRecordSampler, ParentBasedSampler, AlwaysOnSampler } from "@opentelemetry/sdk-trace";
import { ROOT_CONTEXT, trace, SpanKind } from "@opentelemetry/api";
import { pluginHarness, scrubPluginEnv } from "../lib/driver.ts";
import { startReceivers } from "../lib/receiver-client.ts";
import { DynamoToolRelayProcessor } from "../../dist/relay/processor.js";
scrubPluginEnv();
const receivers = await startReceivers();
const h = pluginHarness({ baseUrl: "http://127.0.0.1:9/v1", agentTrace: true, otlpEndpoint: receivers.otlpUrl, toolEventsEndpoint: receivers.zmqEndpoint });
const tick = () => new Promise(r => setImmediate(r));
const CH = 100;
async function measure(name: string, chunks: number, body: (i: number) => void) {
  let wall = 0; let n = 0;
  const c0 = process.cpuUsage();
  let cpuIn = 0;
  for (let c = 0; c < chunks; c++) {
    const cc = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < CH; i++) body(n++);
    wall += performance.now() - t0;
    const d = process.cpuUsage(cc); cpuIn += d.user + d.system;
    await tick();
  }
  const c = process.cpuUsage(c0);
  console.log(name.padEnd(34), "wall/iter", (wall * 1000 / n).toFixed(2), "µs  cpu-in-loop/iter", (cpuIn / n).toFixed(2), "µs  cpu-total/iter", ((c.user + c.system) / n).toFixed(2));
}
const runId = "11111111-2222-3333-4444-555555555555";
const sessionKey = "agent:main:main", sessionId = "aaaaaaaa-2222-3333-4444-555555555555";
const tr = { traceId: "0123456789abcdef0123456789abcdef", spanId: "0123456789abcdef", traceFlags: 1 };
const ctxBase = { runId, trace: tr, agentId: "main", sessionKey, sessionId };
h.hook("before_agent_run")({ prompt: "x" }, ctxBase);
const result = { content: [{ type: "text", text: "x".repeat(480) }], details: {} };
const before = h.hook("before_tool_call"), after = h.hook("after_tool_call");
// bare OTel with same processor set minus plugin: BatchSpanProcessor with discarding exporter
const discard = { export: (_s: unknown, done: (r: { code: number }) => void) => done({ code: 0 }), shutdown: async () => {} };
const bare = new TracerProvider({ sampler: createAlwaysRecordSampler(new ParentBasedSampler({ root: new AlwaysOnSampler() })), spanLimits: { attributeCountLimit: 1024 }, spanProcessors: [new BatchSpanProcessor({ exporter: discard as never, maxQueueSize: 4096, maxExportBatchSize: 512, scheduledDelayMillis: 1000 })] }).getTracer("x");
const bareNone = new TracerProvider({}).getTracer("y");
const parent = bare.startSpan("parent");
const pctx = trace.setSpan(ROOT_CONTEXT, parent);
const attrs = (id: string) => ({ "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "read", "gen_ai.tool.call.id": id, "gen_ai.tool.type": "function", "openinference.span.kind": "TOOL", "tool.name": "read", "tool.id": id, "dynamo.session.id": "0123456789abcdef0123456789abcdef", "dynamo.trajectory.id": "0123456789abcdef0123456789abcdef-0123456789abcdef", "session.id": sessionId, "gen_ai.conversation.id": sessionId });
const relayOnly = new DynamoToolRelayProcessor({ endpoint: receivers.zmqEndpoint, topic: "agent-tool-events", capacity: 100000, log: { info() {}, warn() {}, error() {}, debug() {} } as never, protocol: () => "nvext", sessionTypeId: "openclaw_coding_agent", flushTimeoutMs: 2000 });
const bareRelay = new TracerProvider({ sampler: createAlwaysRecordSampler(new ParentBasedSampler({ root: new AlwaysOnSampler() })), spanLimits: { attributeCountLimit: 1024 }, spanProcessors: [relayOnly] }).getTracer("z");
for (let rep = 0; rep < 3; rep++) {
  await measure("plugin before+after (1 tool call)", 300, (i) => {
    const id = `call_${rep}_${i}`;
    const ctx = { ...ctxBase, toolName: "read", toolCallId: id };
    before({ toolName: "read", params: { path: "hello.txt" }, runId, toolCallId: id }, ctx);
    after({ toolName: "read", params: { path: "hello.txt" }, runId, toolCallId: id, result, durationMs: 3 }, ctx);
  });
  await measure("bare otel start+2attr+end (batch)", 300, (i) => {
    const id = `call_${rep}_${i}`;
    const s = bare.startSpan("execute_tool read", { kind: SpanKind.INTERNAL, attributes: attrs(id) }, trace.setSpan(ROOT_CONTEXT, parent));
    s.setAttribute("dynamo.tool.status", "succeeded"); s.setAttribute("dynamo.tool.output_bytes", 480); s.end();
  });
  await measure("bare otel + relay processor", 300, (i) => {
    const id = `call_${rep}_${i}`;
    const s = bareRelay.startSpan("execute_tool read", { kind: SpanKind.INTERNAL, attributes: attrs(id) }, trace.setSpan(ROOT_CONTEXT, parent));
    s.setAttribute("dynamo.tool.status", "succeeded"); s.setAttribute("dynamo.tool.output_bytes", 480); s.end();
  });
  await measure("bare otel, no processors", 300, (i) => {
    const id = `call_${rep}_${i}`;
    const s = bareNone.startSpan("execute_tool read", { kind: SpanKind.INTERNAL, attributes: attrs(id) }, pctx);
    s.setAttribute("dynamo.tool.status", "succeeded"); s.setAttribute("dynamo.tool.output_bytes", 480); s.end();
  });
}
await h.services?.shutdown("x");
await receivers.close();
process.exit(0);
