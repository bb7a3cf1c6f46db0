import { startSimulator } from "../../test/sim/index.ts";
import { createOpenClawEnv, runAgentLocal } from "../../test/e2e/harness/index.ts";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
const sim = await startSimulator({ generation: "headers" });
const cfg = { baseUrl: sim.baseUrl, agentTrace: true, otlpEndpoint: sim.otlpUrl, toolEventsEndpoint: sim.zmqEndpoint };
const log = `/tmp/handles-on.log`;
const world = await createOpenClawEnv({ name: "probe-h", pluginConfig: cfg, env: { NODE_OPTIONS: `--import=${new URL("./handles.mjs", import.meta.url).href}`, HANDLES_LOG: log } });
for (let i = 0; i < Number(process.argv[2] ?? 4); i++) {
  rmSync(log, { force: true }); sim.clear();
  const r = await runAgentLocal(world, { message: "Please read hello.txt. [[sim:read hello.txt]]" });
  const last = Math.max(...sim.chatRequests().filter(q => q.status === 200).map(q => q.finishedAt ?? 0));
  const lag = r.exitedAtMs - last;
  console.log(`turn ${i}: exit ${r.exitCode} lag ${lag} answeredAfter ${(r.answeredAtMs ?? 0) - last}`);
  for (const e of sim.otlp.exports) console.log(`  otlp export +${e.receivedAt - last} status ${e.status}`);
  for (const q of sim.requests) if ((q.receivedAt ?? 0) > last) console.log(`  late request ${q.path} +${q.receivedAt - last}`);
  if (lag > 4000) {
    const lines = readFileSync(log, "utf8").split("\n").filter(l => Number(l.split(" ")[0]) >= last - 100).filter(l => !l.endsWith('["MessagePort"]'));
    writeFileSync(`/tmp/handles-slow-${i}.log`, lines.join("\n"));
    console.log(lines.map(l => l.slice(0, 300)).join("\n"));
  }
}
await world.dispose(); await sim.close(); process.exit(0);
