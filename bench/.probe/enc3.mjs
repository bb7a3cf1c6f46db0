import { Buffer } from "node:buffer";
const src = Buffer.alloc(4096, 7);
for (let r = 0; r < 3; r++) {
  const N = 500000; let t0 = performance.now();
  for (let i = 0; i < N; i++) Buffer.from(src.subarray(0, 295));
  const a = (performance.now() - t0) * 1000 / N;
  t0 = performance.now();
  for (let i = 0; i < N; i++) { const b = Buffer.allocUnsafe(295); src.copy(b, 0, 0, 295); }
  const b = (performance.now() - t0) * 1000 / N;
  t0 = performance.now();
  for (let i = 0; i < N; i++) src.slice(0, 295);
  const c = (performance.now() - t0) * 1000 / N;
  t0 = performance.now();
  for (let i = 0; i < N; i++) new Uint8Array(src.buffer, src.byteOffset, 295).slice();
  const d = (performance.now() - t0) * 1000 / N;
  console.log(`Buffer.from(sub) ${a.toFixed(3)}  allocUnsafe+copy ${b.toFixed(3)}  subarray ${c.toFixed(3)} u8.slice ${d.toFixed(3)} µs`);
}
