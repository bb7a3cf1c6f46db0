/**
 * openclaw.plugin.json (configSchema, uiHints, configGroups) and the README settings table are
 * generated from src/config/settings.ts, src/version.ts from package.json (`npm run gen`); a hand edit
 * or a stale file fails here.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { manifestFields, readmeTable, renderManifest, renderReadme, renderVersion, README_BEGIN, README_END } from "../../scripts/settings-artifacts.ts";
import { CAPTURE_SETTINGS, ENV_NAMES, SETTINGS } from "../../src/config/index.ts";

const read = (name: string): string => readFileSync(new URL(`../../${name}`, import.meta.url), "utf8");

describe("generated artifacts", () => {
  it("openclaw.plugin.json holds exactly what the settings table generates", () => {
    const text = read("openclaw.plugin.json");
    const manifest = JSON.parse(text) as Record<string, unknown>;
    const generated = manifestFields();
    expect(manifest["configSchema"]).toEqual(generated.configSchema);
    expect(manifest["uiHints"]).toEqual(generated.uiHints);
    expect(manifest["configGroups"]).toEqual(generated.configGroups);
    expect(renderManifest(text), "run npm run gen").toBe(text);
  });

  it("src/version.ts holds package.json's version", () => {
    expect(read("src/version.ts"), "run npm run gen").toBe(renderVersion());
    expect(read("src/version.ts")).toContain(JSON.stringify((JSON.parse(read("package.json")) as { version: string }).version));
  });

  it("README.md's settings table is the generated one", () => {
    const text = read("README.md");
    const region = text.slice(text.indexOf(README_BEGIN) + README_BEGIN.length, text.indexOf(README_END));
    expect(region.trim()).toBe(readmeTable());
    expect(renderReadme(text), "run npm run gen").toBe(text);
  });

  it("the generated table names every env var and config key, and marks the secrets sensitive", () => {
    const table = readmeTable();
    for (const name of ENV_NAMES) expect(table, name).toContain(`\`${name}\``);
    for (const key of Object.keys(SETTINGS)) expect(table, key).toMatch(new RegExp(`\`${key}[.\`]`));
    for (const key of Object.keys(CAPTURE_SETTINGS)) expect(table, key).toContain(key);
    const hints = manifestFields().uiHints as Record<string, { sensitive?: boolean }>;
    expect(Object.keys(hints).filter((key) => hints[key]!.sensitive === true).sort()).toEqual(["apiKey", "otlpHeaders"]);
  });

  it("a hand edit is detected", () => {
    const text = read("openclaw.plugin.json").replace('"type": "boolean"', '"type": "string"');
    expect(renderManifest(text)).not.toBe(text);
    const readme = read("README.md").replace("| `DYNAMO_API_KEY` |", "| `DYNAMO_KEY` |");
    expect(renderReadme(readme)).not.toBe(readme);
  });
});
