import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import { registerDynamoPlugin } from "./plugin.ts";

export default definePluginEntry({
  id: "dynamo",
  name: "NVIDIA Dynamo",
  description: "NVIDIA Dynamo model provider with one correlated OpenTelemetry trace per agent run.",
  register: registerDynamoPlugin,
});
