import { Push } from "zeromq";
import { encode } from "@msgpack/msgpack";
import { startReceivers } from "../lib/receiver-client.ts";
import { wallNow } from "../lib/receivers.ts";
const r = await startReceivers();
const push = new Push({ linger: 0, sendHighWaterMark: 100000, immediate: true, sendTimeout: 0 });
push.connect(r.zmqEndpoint);
const topic = Buffer.from("agent-tool-events");
const rec = { schema: "dynamo.request.trace.v1", event_type: "tool_end", event_time_unix_ms: Date.now(), session_id: "0123456789abcdef0123456789abcdef-0123456789abcdef", tool: { tool_call_id: "call_123456", tool_class: "read", started_at_unix_ms: Date.now(), ended_at_unix_ms: Date.now(), duration_ms: 1.234, status: "succeeded", output_bytes: 120 } };
console.log("payload bytes", encode(rec).length);
await new Promise(r => setTimeout(r, 300));
const mode = process.argv[2];
for (let round = 0; round < 4; round++) {
  await r.reset();
  const N = 50000;
  const t0 = wallNow();
  let errs = 0;
  for (let i = 0; i < N; i++) {
    const seq = Buffer.alloc(8); seq.writeBigUInt64BE(BigInt(i));
    const payload = mode === "small" ? Buffer.alloc(100) : encode(rec);
    if (mode === "noawait" || mode === "small") push.send([topic, seq, payload]).catch(() => errs++);
    else await push.send([topic, seq, payload]);
    if (i % 512 === 511 && mode !== "await") await new Promise(r => setImmediate(r));
  }
  const t1 = wallNow();
  const w = await r.waitRelay(N, 20000);
  console.log(mode, { sendRate: Math.round(N / (t1 - t0) * 1000), e2eRate: Math.round(N / (w.stats.relayLastAt - t0) * 1000), got: w.stats.relayMessages, errs, recvSpan: Math.round(w.stats.relayLastAt - w.stats.relayFirstAt) });
}
push.close();
await r.close();
process.exit(0);
