for (const cap of [1000, 10000, 50000]) {
  const m = new Map();
  for (let i = 0; i < cap; i++) m.set("k" + i, { v: i });
  let n = cap; let it;
  const t0 = performance.now();
  const OPS = 200000;
  for (let i = 0; i < OPS; i++) {
    m.set("k" + n++, { v: i });
    if (i % 3 === 0) { const k = "k" + (n - 5); const v = m.get(k); m.delete(k); m.set(k, v); } // re-touch
    let first = it?.next();
    if (!first || first.done) { it = m.keys(); first = it.next(); }
    // check it is really the oldest
    if (i % 50000 === 0) { const real = m.keys().next().value; if (real !== first.value) throw new Error(`mismatch ${real} ${first.value}`); }
    m.delete(first.value);
  }
  console.log(cap, "µs per FIFO op with cached iterator:", ((performance.now() - t0) * 1000 / OPS).toFixed(3));
}
