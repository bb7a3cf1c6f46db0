/**
 * Dynamo's coarse `tool_class`: the tool name cut at the first `---` (agent-tools namespacing),
 * then at the first `/` (MCP `server/tool`); empty → `"unknown"`. Never arguments.
 * Same rule as ai-dynamo/agent-plugins `pi-plugin/src/light/tool-relay.ts` `getToolClass`.
 * Runs on every tool event: `indexOf`/`slice` instead of `split`, so a plain name allocates nothing.
 */
export function toolClass(toolName: string | undefined): string {
  if (toolName === undefined) return "unknown";
  // Runs repeat the same few tools: remember the classes of recent names (bounded; cleared when full).
  let cls = recent.get(toolName);
  if (cls === undefined) {
    if (recent.size >= RECENT_NAMES) recent.clear();
    cls = classOf(toolName);
    recent.set(toolName, cls);
  }
  return cls;
}

const RECENT_NAMES = 256;
const recent = new Map<string, string>();

function classOf(toolName: string): string {
  let name = toolName.trim();
  const dashes = name.indexOf("---");
  if (dashes !== -1) name = name.slice(0, dashes);
  const slash = name.indexOf("/");
  if (slash !== -1) name = name.slice(0, slash);
  const cls = dashes === -1 && slash === -1 ? name : name.trim();
  return cls === "" ? "unknown" : cls;
}
