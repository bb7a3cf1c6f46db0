import { performance } from "node:perf_hooks";
import { pluginHarness, scrubPluginEnv } from "../lib/driver.ts";
import { startReceivers } from "../lib/receiver-client.ts";
scrubPluginEnv();
const receivers = await startReceivers();
const h = pluginHarness({ baseUrl: "http://127.0.0.1:9/v1", agentTrace: true, otlpEndpoint: receivers.otlpUrl, toolEventsEndpoint: receivers.zmqEndpoint });
const tick = () => new Promise(r => setImmediate(r));
const runId = "11111111-2222-3333-4444-555555555555";
const sessionKey = "agent:main:main", sessionId = "aaaaaaaa-2222-3333-4444-555555555555";
const tr = { traceId: "0123456789abcdef0123456789abcdef", spanId: "0123456789abcdef", traceFlags: 1 };
const ctxBase = { runId, trace: tr, agentId: "main", sessionKey, sessionId };
h.hook("before_agent_run")({ prompt: "x" }, ctxBase);
const result = { content: [{ type: "text", text: "x".repeat(480) }], details: {} };
const before = h.hook("before_tool_call"), after = h.hook("after_tool_call");
let n = 0; let wall = 0;
for (let c = 0; c < 1500; c++) {
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) {
    const id = `call_${n++}`;
    const ctx = { ...ctxBase, toolName: "read", toolCallId: id };
    before({ toolName: "read", params: { path: "hello.txt" }, runId, toolCallId: id }, ctx);
    after({ toolName: "read", params: { path: "hello.txt" }, runId, toolCallId: id, result, durationMs: 3 }, ctx);
  }
  wall += performance.now() - t0;
  await tick();
  if (c % 300 === 299) { console.log("µs per tool call", (wall * 1000 / 30000).toFixed(2)); wall = 0; }
}
await h.services?.shutdown("x");
await receivers.close();
process.exit(0);
