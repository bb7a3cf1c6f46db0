for (const cap of [1000, 10000, 50000]) {
  const m = new Map();
  for (let i = 0; i < cap; i++) m.set("k" + i, { v: i });
  let n = cap;
  const t0 = performance.now();
  const OPS = 200000;
  for (let i = 0; i < OPS; i++) {
    m.set("k" + n++, { v: i });
    const first = m.keys().next();
    m.delete(first.value);
  }
  console.log(cap, "µs per FIFO op with keys().next():", ((performance.now() - t0) * 1000 / OPS).toFixed(3));
}
