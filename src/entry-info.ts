/** What OpenClaw shows for the plugin; shared by both entries (./index.ts, ./entry.ts). */
export const PLUGIN_ENTRY_INFO = {
  id: "dynamo",
  name: "NVIDIA Dynamo",
  description: "NVIDIA Dynamo model provider with one correlated OpenTelemetry trace per agent run.",
} as const;
