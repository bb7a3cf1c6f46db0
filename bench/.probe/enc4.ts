import { Encoder } from "@msgpack/msgpack";
import { encodeRecord } from "../../src/relay/msgpack.ts";
const enc = new Encoder({ ignoreUndefined: true });
const rec = { schema: "dynamo.request.trace.v1", event_type: "tool_end", event_time_unix_ms: Date.now(), session_id: "0123456789abcdef0123456789abcdef-0123456789abcdef", tool: { tool_call_id: "call_123456", tool_class: "read", started_at_unix_ms: Date.now(), ended_at_unix_ms: Date.now(), duration_ms: 1.234, status: "succeeded", output_bytes: 120 } };
const cpu = (f: () => void, N: number) => { const c0 = process.cpuUsage(); for (let i = 0; i < N; i++) f(); const c = process.cpuUsage(c0); return (c.user + c.system) / N; };
for (let r = 0; r < 5; r++) {
  const N = 300000;
  console.log(`cpu µs: @msgpack ${cpu(() => enc.encode(rec), N).toFixed(3)}  encodeRecord ${cpu(() => encodeRecord(rec), N).toFixed(3)}  sharedRef ${cpu(() => enc.encodeSharedRef(rec), N).toFixed(3)}`);
}
