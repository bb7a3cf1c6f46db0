/**
 * Dynamo's coarse `tool_class`: the tool name cut at the first `---` (agent-tools namespacing),
 * then at the first `/` (MCP `server/tool`); empty → `"unknown"`. Never arguments.
 * Same rule as ai-dynamo/agent-plugins `pi-plugin/src/light/tool-relay.ts` `getToolClass`.
 */
export function toolClass(toolName: string | undefined): string {
  const name = toolName?.trim() ?? "";
  const cls = name.split("---", 1)[0]?.split("/", 1)[0]?.trim() ?? "";
  return cls === "" ? "unknown" : cls;
}
