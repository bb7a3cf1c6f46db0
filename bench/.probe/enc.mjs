import { Encoder, encode } from "@msgpack/msgpack";
const enc = new Encoder({ ignoreUndefined: true });
const rec = { schema: "dynamo.request.trace.v1", event_type: "tool_end", event_time_unix_ms: Date.now(), session_id: "0123456789abcdef0123456789abcdef-0123456789abcdef", tool: { tool_call_id: "call_123456", tool_class: "read", started_at_unix_ms: Date.now(), ended_at_unix_ms: Date.now(), duration_ms: 1.234, status: "succeeded", output_bytes: 120 } };
for (let r = 0; r < 3; r++) {
  let t0 = performance.now(); const N = 200000;
  for (let i = 0; i < N; i++) enc.encode(rec);
  const a = (performance.now() - t0) * 1000 / N;
  t0 = performance.now();
  for (let i = 0; i < N; i++) enc.encodeSharedRef(rec);
  const b = (performance.now() - t0) * 1000 / N;
  console.log(`encode ${a.toFixed(3)} µs, encodeSharedRef ${b.toFixed(3)} µs, bytes ${enc.encode(rec).length}`);
}
