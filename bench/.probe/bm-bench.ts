import { BoundedMap as Orig } from "./bm-orig.ts";
import { BoundedMap as Cur } from "./bm-cur.ts";
import { BoundedMap as New } from "./bm-new.ts";
for (const [name, C] of [["orig", Orig], ["cur", Cur], ["new", New], ["orig", Orig], ["cur", Cur], ["new", New]] as const) {
  const m = new (C as typeof New)<string, object>({ capacity: 50_000, ttlMs: 1_800_000 });
  const runs = new (C as typeof New)<string, object>({ capacity: 10_000, ttlMs: 1_800_000 });
  for (let i = 0; i < 60_000; i++) m.set(`run-x|call_${i}`, { i });
  const N = 100_000; const t = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    m.set(`run-y|call_${i}`, { i });
    runs.set(`run-${i >> 5}`, { i }); // refresh churn like ensureRun
    if (i % 7 === 0) runs.set(`run-${(i >> 5) - 3}`, { i }); // refresh an older run (moves it)
    t[i] = (performance.now() - t0) * 1000;
  }
  const s = Float64Array.from(t).sort();
  console.log(name.padEnd(5), "mean", (t.reduce((a, b) => a + b, 0) / N).toFixed(2), "p50", s[N * 0.5 | 0]!.toFixed(2), "p99", s[N * 0.99 | 0]!.toFixed(2), "p99.9", s[N * 0.999 | 0]!.toFixed(2), "max", s[N - 1]!.toFixed(0), "sizes", m.size, runs.size);
}
