import { Push } from "zeromq";
import { encode } from "@msgpack/msgpack";
import { startReceivers } from "../lib/receiver-client.ts";
import { wallNow } from "../lib/receivers.ts";
const r = await startReceivers();
const push = new Push({ linger: 0, sendHighWaterMark: 100000, immediate: true, sendTimeout: 0 });
push.connect(r.zmqEndpoint);
const topic = Buffer.from("agent-tool-events");
const rec = { schema: "dynamo.request.trace.v1", event_type: "tool_end", event_time_unix_ms: Date.now(), session_id: "0123456789abcdef0123456789abcdef-0123456789abcdef", tool: { tool_call_id: "call_123456", tool_class: "read", started_at_unix_ms: Date.now(), ended_at_unix_ms: Date.now(), duration_ms: 1.234, status: "succeeded", output_bytes: 120 } };
await new Promise(r => setTimeout(r, 300));
for (let round = 0; round < 4; round++) {
  await r.reset();
  const N = 50000;
  const t0 = wallNow();
  for (let i = 0; i < N; i++) {
    const seq = Buffer.alloc(8); seq.writeBigUInt64BE(BigInt(i));
    try { await push.send([topic, seq, encode(rec)]); } catch (e) { console.log("err", e); await new Promise(r => setTimeout(r, 10)); i--; }
  }
  const t1 = wallNow();
  const w = await r.waitRelay(N, 10000);
  console.log({ sendRate: N / (t1 - t0) * 1000, e2eRate: N / (w.stats.relayLastAt - t0) * 1000, got: w.stats.relayMessages });
}
push.close();
await r.close();
