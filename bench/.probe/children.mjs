import { readFileSync } from "node:fs";
const p = JSON.parse(readFileSync(process.argv[2], "utf8"));
const target = new RegExp(process.argv[3]);
const byId = new Map(p.nodes.map(n => [n.id, n]));
const selfT = new Map();
p.samples.forEach((id, i) => selfT.set(id, (selfT.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...selfT.values()].reduce((a, b) => a + b, 0);
const name = n => `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber}`;
const incl = id => { const n = byId.get(id); let t = selfT.get(id) ?? 0; for (const c of n.children ?? []) t += incl(c); return t; };
// aggregate over all nodes matching target: their self + children grouped by name
const agg = new Map(); let tot = 0; let self = 0;
const visit = (id, inside) => { const n = byId.get(id); const m = !inside && target.test(name(n)); if (m) { tot += incl(id); self += selfT.get(id) ?? 0; for (const c of n.children ?? []) { const k = name(byId.get(c)); agg.set(k, (agg.get(k) ?? 0) + incl(c)); } } for (const c of n.children ?? []) visit(c, inside || m); };
visit(p.nodes[0].id, false);
console.log(`${process.argv[3]}: ${(tot/1000).toFixed(0)} ms (${(tot/total*100).toFixed(1)}%), self ${(self/1000).toFixed(0)} ms`);
for (const [k, t] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log((t / tot * 100).toFixed(1).padStart(5), "%", (t / 1000).toFixed(0).padStart(6), "ms", k);
