import { startSimulator } from "../../test/sim/index.ts";
import { createOpenClawEnv, runAgentLocal } from "../../test/e2e/harness/index.ts";
const sim = await startSimulator({ generation: "headers" });
const mode = process.argv[2] ?? "on";
const cfg: Record<string, unknown> = mode === "off" ? { baseUrl: sim.baseUrl } : { baseUrl: sim.baseUrl, agentTrace: true, otlpEndpoint: sim.otlpUrl, toolEventsEndpoint: sim.zmqEndpoint };
const world = await createOpenClawEnv({ name: "probe-" + mode, pluginConfig: cfg, env: process.env.FLUSH ? { DYN_AGENT_TRACE_FLUSH_TIMEOUT_MS: process.env.FLUSH } : {} });
for (let i = 0; i < Number(process.argv[3] ?? 1); i++) {
  sim.clear();
  if (process.argv.includes("--hang")) sim.faults.otlp({ mode: "hang" });
  const r = await runAgentLocal(world, { message: "Please read hello.txt. [[sim:read hello.txt]]" });
  sim.faults.reset();
  const t0 = r.startedAtMs;
  console.log(`exit ${r.exitCode} wall ${r.durationMs} answered +${(r.answeredAtMs ?? 0) - t0} exited +${r.exitedAtMs - t0}`);
  for (const q of sim.requests) console.log(`  ${q.kind} ${q.path} status ${q.status} recv +${q.receivedAt - t0} fin +${(q.finishedAt ?? 0) - t0} ${JSON.stringify((q.body as any)?.max_tokens)} ${q.policy ?? ""}`);
  for (const e of sim.otlp.exports) console.log(`  otlp export +${e.receivedAt - t0} status ${e.status} spans ${e.spanCount}`);
  console.log("  dynamo lines:", r.stderr.split("\n").filter(l => l.includes("dynamo")).slice(0, 8).join("\n    "));
}
await world.dispose(); await sim.close(); process.exit(0);
