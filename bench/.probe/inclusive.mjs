import { readFileSync } from "node:fs";
const p = JSON.parse(readFileSync(process.argv[2], "utf8"));
const byId = new Map(p.nodes.map(n => [n.id, n]));
const selfT = new Map();
p.samples.forEach((id, i) => selfT.set(id, (selfT.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...selfT.values()].reduce((a, b) => a + b, 0);
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = n => `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber}`;
// inclusive: for each sample walk up the stack, count each distinct function name once
const incl = new Map();
p.samples.forEach((id, i) => {
  const seen = new Set(); let cur = id;
  while (cur !== undefined) { const k = name(byId.get(cur)); if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + (p.timeDeltas[i] ?? 0)); } cur = parent.get(cur); }
});
const filter = process.argv[3] ? new RegExp(process.argv[3]) : null;
const top = [...incl].filter(([k]) => !filter || filter.test(k)).sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[4] ?? 40));
for (const [k, t] of top) console.log((t / total * 100).toFixed(1).padStart(5), "%", (t / 1000).toFixed(0).padStart(6), "ms", k);
