import { allocTimings, HOOK_NAMES, pluginHarness, runOnce, scrubPluginEnv } from "../lib/driver.ts";
import { startReceivers } from "../lib/receiver-client.ts";
import { mean, percentile } from "../lib/stats.ts";
scrubPluginEnv();
const receivers = await startReceivers();
const plugin = pluginHarness({ baseUrl: "http://127.0.0.1:9/v1", agentTrace: true, otlpEndpoint: receivers.otlpUrl, toolEventsEndpoint: receivers.zmqEndpoint });
const SHAPE = { toolCalls: 20, modelEvery: 1, sessions: 8 };
const mode = process.argv[2] ?? "all";
for (let r = 0; r < 4; r++) {
  const t = allocTimings(400, SHAPE, true);
  const c0 = process.cpuUsage();
  for (let i = 0; i < 400; i++) await runOnce(plugin, SHAPE, t);
  const c = process.cpuUsage(c0);
  console.log(`tool ${mean(t.tool, t.toolCount).toFixed(2)} p99 ${percentile(t.tool, 99, t.toolCount).toFixed(2)} model ${mean(t.model, t.modelCount).toFixed(2)} p99 ${percentile(t.model, 99, t.modelCount).toFixed(2)} cpu/run ${((c.user + c.system) / 400).toFixed(0)}`);
}
await plugin.services?.shutdown("x");
await receivers.close();
process.exit(0);
