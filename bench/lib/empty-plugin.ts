/**
 * The bench's "empty" arm: an OpenClaw plugin that registers nothing, loaded like ours (a path
 * plugin, activated on startup). What a turn costs with it over no plugin at all is OpenClaw's own
 * price for loading any external plugin; what ours costs over it is the plugin's.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { E2E_ROOT, REPO_ROOT } from "../../test/e2e/harness/index.ts";

export const EMPTY_PLUGIN_ID = "bench-empty";

/** Writes the plugin package under .e2e/ and returns its directory. */
export function writeEmptyPlugin(): string {
  mkdirSync(E2E_ROOT, { recursive: true });
  const dir = mkdtempSync(join(E2E_ROOT, "bench-empty-plugin-"));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "bench-empty-plugin", version: "0.0.0", type: "module", openclaw: { extensions: ["./index.js"] } }),
  );
  writeFileSync(
    join(dir, "openclaw.plugin.json"),
    JSON.stringify({
      id: EMPTY_PLUGIN_ID,
      name: "Bench empty plugin",
      description: "Registers nothing: OpenClaw's fixed cost of one external plugin.",
      activation: { onStartup: true },
      configSchema: { type: "object", properties: {} },
    }),
  );
  writeFileSync(
    join(dir, "index.js"),
    `import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";\n` +
      `export default definePluginEntry({ id: "${EMPTY_PLUGIN_ID}", name: "Bench empty plugin", description: "Registers nothing.", register() {} });\n`,
  );
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}
