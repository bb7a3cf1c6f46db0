import { allocTimings, fillToSteadyState, pluginHarness, runOnce, scrubPluginEnv } from "../lib/driver.ts";
import { startReceivers } from "../lib/receiver-client.ts";
import { mean, percentile } from "../lib/stats.ts";
scrubPluginEnv();
const receivers = await startReceivers();
const plugin = pluginHarness({ baseUrl: "http://127.0.0.1:9/v1", agentTrace: true, otlpEndpoint: receivers.otlpUrl, toolEventsEndpoint: receivers.zmqEndpoint });
if (process.argv.includes("--fill")) await fillToSteadyState(plugin);
const SHAPE = { toolCalls: 20, modelEvery: 1, sessions: 8 };
for (let r = 0; r < Number(process.env.ROUNDS ?? 3); r++) {
  const t = allocTimings(400, SHAPE, true);
  for (let i = 0; i < 400; i++) await runOnce(plugin, SHAPE, t);
  // tool events alternate before/after; tool i%5: read, exec, write, edit, ls
  const cats: Record<string, number[]> = {};
  for (let k = 0; k < t.toolCount; k++) { const call = (k >> 1) % 20; const name = ["read","exec","write","edit","ls"][call % 5]; const key = `${k & 1 ? "after" : "before"}-${name}`; (cats[key] ??= []).push(t.tool[k]!); }
  console.log(`round ${r}: all mean ${mean(t.tool, t.toolCount).toFixed(2)} p99 ${percentile(t.tool, 99, t.toolCount).toFixed(2)} p90 ${percentile(t.tool, 90, t.toolCount).toFixed(2)} p50 ${percentile(t.tool, 50, t.toolCount).toFixed(2)}`);
  for (const [k, v] of Object.entries(cats)) console.log(`   ${k.padEnd(14)} mean ${mean(v).toFixed(2)} p50 ${percentile(v, 50).toFixed(2)} p99 ${percentile(v, 99).toFixed(2)}`);
}
await plugin.services?.shutdown("x"); await receivers.close(); process.exit(0);
