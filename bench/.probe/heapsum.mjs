import { readFileSync } from "node:fs";
const snap = JSON.parse(readFileSync(process.argv[2], "utf8"));
const m = snap.snapshot.meta; const nf = m.node_fields; const N = nf.length;
const types = m.node_types[0]; const strings = snap.strings; const nodes = snap.nodes;
const iType = nf.indexOf("type"), iName = nf.indexOf("name"), iSize = nf.indexOf("self_size");
const agg = new Map();
for (let i = 0; i < nodes.length; i += N) {
  const t = types[nodes[i + iType]]; let name = strings[nodes[i + iName]];
  if (t === "string" || t === "concatenated string" || t === "sliced string") name = "(string)";
  else if (t === "code" || t === "hidden" || t === "array") name = `(${t}) ${t === "array" ? "" : name.slice(0, 30)}`;
  else if (t === "number") name = "(heap number)";
  const k = `${t}:${name}`;
  const a = agg.get(k) ?? [0, 0]; a[0]++; a[1] += nodes[i + iSize]; agg.set(k, a);
}
const total = [...agg.values()].reduce((s, a) => s + a[1], 0);
console.log("total self size MB", (total / 1048576).toFixed(1));
for (const [k, [c, s]] of [...agg].sort((a, b) => b[1][1] - a[1][1]).slice(0, 30)) console.log((s / 1048576).toFixed(2).padStart(7), "MB", String(c).padStart(8), k.slice(0, 90));
