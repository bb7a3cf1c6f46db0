/**
 * `npm run gen` (also the first step of `npm run build`): writes openclaw.plugin.json's configSchema,
 * uiHints and configGroups and README.md's settings table from src/config/settings.ts, and
 * src/version.ts from package.json.
 * `--check` writes nothing and exits 1 when a file is out of date.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { renderManifest, renderReadme, renderVersion } from "./settings-artifacts.ts";

const check = process.argv.includes("--check");
const files: readonly (readonly [string, (text: string) => string])[] = [
  ["openclaw.plugin.json", renderManifest],
  ["README.md", renderReadme],
  ["src/version.ts", renderVersion],
];
let stale = 0;
for (const [name, render] of files) {
  const path = new URL(`../${name}`, import.meta.url);
  const current = existsSync(path) ? readFileSync(path, "utf8") : "";
  const next = render(current);
  if (next === current) continue;
  stale++;
  if (check) console.error(`${name} is out of date with src/config/settings.ts or package.json; run npm run gen`);
  else writeFileSync(path, next);
}
if (check && stale > 0) process.exit(1);
