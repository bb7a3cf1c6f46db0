import { Push } from "zeromq";
import { Encoder } from "@msgpack/msgpack";
import { startReceivers } from "../lib/receiver-client.ts";
import { wallNow } from "../lib/receivers.ts";
const r = await startReceivers(process.env.RPROF ? { execArgv: ["--cpu-prof", "--cpu-prof-dir=" + process.env.RPROF] } : {});
const push = new Push({ linger: 0, sendHighWaterMark: 1000000, immediate: true, sendTimeout: 0 });
push.connect(process.env.FAST ? r.fastZmqEndpoint : r.zmqEndpoint);
const topic = Buffer.from("agent-tool-events");
const enc = new Encoder({ ignoreUndefined: true });
const rec = { schema: "dynamo.request.trace.v1", event_type: "tool_end", event_time_unix_ms: Date.now(), session_id: "0123456789abcdef0123456789abcdef-0123456789abcdef", tool: { tool_call_id: "call_123456", tool_class: "read", started_at_unix_ms: Date.now(), ended_at_unix_ms: Date.now(), duration_ms: 1.234, status: "succeeded", output_bytes: 120 } };
await new Promise(r => setTimeout(r, 300));
const seq = Buffer.alloc(8);
const pre = enc.encode(rec);
for (const mode of ["tiny", "pre295", "enc295", "encCopy", "tiny", "pre295", "enc295", "encCopy"]) {
  await r.reset();
  const N = 100000;
  const t0 = wallNow();
  let errs = 0;
  for (let i = 0; i < N; i++) {
    const payload = mode === "tiny" ? pre.subarray(0, 100) : mode === "pre295" ? pre : mode === "encCopy" ? Buffer.from(enc.encode(rec)) : enc.encode(rec);
    push.send([topic, seq, payload]).catch(() => errs++);
    if (i % 512 === 511) await new Promise(r => setImmediate(r));
  }
  const t1 = wallNow();
  const w = await r.waitRelay(N, 30000);
  console.log(mode.padEnd(8), { sendRate: Math.round(N / (t1 - t0) * 1000), e2eRate: Math.round(N / (w.stats.relayLastAt - t0) * 1000), got: w.stats.relayMessages, errs, recvRate: Math.round(N/(w.stats.relayLastAt - w.stats.relayFirstAt)*1000) });
}
push.close();
await r.close();
process.exit(0);
