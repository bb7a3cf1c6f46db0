/**
 * Dynamo's coarse `tool_class`: the tool name cut at the first `---` (agent-tools namespacing),
 * then at the first `/` (MCP `server/tool`); empty → `"unknown"`. Never arguments.
 * Same rule as ai-dynamo/agent-plugins `pi-plugin/src/light/tool-relay.ts` `getToolClass`.
 * Runs on every tool event: `indexOf`/`slice` instead of `split`, so a plain name allocates nothing.
 */
export function toolClass(toolName: string | undefined): string {
  if (toolName === undefined) return "unknown";
  let name = toolName.trim();
  const dashes = name.indexOf("---");
  if (dashes !== -1) name = name.slice(0, dashes);
  const slash = name.indexOf("/");
  if (slash !== -1) name = name.slice(0, slash);
  const cls = dashes === -1 && slash === -1 ? name : name.trim();
  return cls === "" ? "unknown" : cls;
}
