import { Push } from "zeromq";
import { startReceivers } from "../lib/receiver-client.ts";
import { wallNow } from "../lib/receivers.ts";
import { encodeRecord } from "../../src/relay/msgpack.ts";
const r = await startReceivers();
const push = new Push({ linger: 0, sendHighWaterMark: 100000, immediate: true, sendTimeout: 0 });
push.connect(r.fastZmqEndpoint);
const topic = Buffer.from("agent-tool-events");
const rec = { schema: "dynamo.request.trace.v1", event_type: "tool_end", event_time_unix_ms: Date.now(), session_id: "0123456789abcdef0123456789abcdef-0123456789abcdef", tool: { tool_call_id: "call_123456", tool_class: "read", started_at_unix_ms: Date.now(), ended_at_unix_ms: Date.now(), duration_ms: 1.234, status: "succeeded", output_bytes: 120 } };
await new Promise(r => setTimeout(r, 300));
const seq = Buffer.alloc(8);
for (const mode of ["await", "noawait", "await-enc", "noawait-enc", "await", "noawait", "await-enc", "noawait-enc"]) {
  await r.reset();
  const N = 50000; const c0 = process.cpuUsage();
  const t0 = wallNow();
  const pre = encodeRecord(rec);
  for (let i = 0; i < N; i++) {
    const payload = mode.endsWith("enc") ? encodeRecord(rec) : pre;
    if (mode.startsWith("await")) await push.send([topic, seq, payload]);
    else { push.send([topic, seq, payload]).catch(() => {}); if (i % 512 === 511) await new Promise(r => setImmediate(r)); }
  }
  const c = process.cpuUsage(c0);
  const w = await r.waitRelay(N, 30000);
  console.log(mode.padEnd(12), "e2e", Math.round(N / (w.stats.relayLastAt - t0) * 1000), "cpu µs/msg", ((c.user + c.system) / N).toFixed(2));
}
push.close(); await r.close(); process.exit(0);
