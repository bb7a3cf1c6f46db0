import { fillToSteadyState, pluginHarness, scrubPluginEnv, toolEventCpuUs } from "../lib/driver.ts";
import { startReceivers } from "../lib/receiver-client.ts";
scrubPluginEnv();
const receivers = await startReceivers();
const plugin = pluginHarness({ baseUrl: "http://127.0.0.1:9/v1", agentTrace: true, otlpEndpoint: receivers.otlpUrl, toolEventsEndpoint: receivers.zmqEndpoint });
if (process.argv.includes("--fill")) await fillToSteadyState(plugin);
for (let r = 0; r < 4; r++) console.log("cpu µs/tool event", (await toolEventCpuUs(plugin, 20000)).toFixed(2));
await plugin.services?.shutdown("x"); await receivers.close(); process.exit(0);
