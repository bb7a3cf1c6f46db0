/**
 * What the settings table (src/config/settings.ts) generates: the manifest's `configSchema`, `uiHints`
 * and `configGroups`, and the README's settings table (docs/settings.md). Pure functions of the table
 * and the current file text; scripts/gen-settings.ts writes them, test/config/artifacts.test.ts
 * fails when a committed file differs.
 */
import { readFileSync } from "node:fs";
import { CAPTURE_SETTINGS, GROUPS, SETTINGS, type Setting, type UiHint } from "../src/config/settings.ts";

type AnySetting = Setting<unknown>;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const README_BEGIN = "<!-- settings-table:begin (generated from src/config/settings.ts by `npm run gen`; do not edit) -->";
export const README_END = "<!-- settings-table:end -->";

/** Inputs that are not settings but belong in the table. */
const EXTRA_ROWS = ["| `TRACEPARENT`, `TRACESTATE`, `BAGGAGE` | — | unset | inbound context from an orchestrator |"];

const entries = <T extends object>(table: T) => Object.entries(table) as [string, AnySetting][];

/** Markdown to the plain text of a schema description. */
const plain = (markdown: string): string => markdown.replace(/\[([^\]]+)\]\([^)]*\)/g, "$1").replace(/`/g, "");
const sentence = (text: string): string => `${text.charAt(0).toUpperCase()}${text.slice(1)}${text.endsWith(".") ? "" : "."}`;

function defaultMarkdown(setting: AnySetting): string {
  return setting.defaultText ?? `\`${String(setting.default)}\``;
}

function describe(setting: AnySetting): string {
  // A doc starting with code (`nvext`, `session_type_id`) keeps its case.
  const parts = [setting.doc.startsWith("`") ? `${plain(setting.doc)}.` : sentence(plain(setting.doc))];
  if (setting.choices) parts.push(`One of: ${setting.choices.join(", ")}.`);
  if (setting.env.length > 0) parts.push(`Env: ${plain(setting.envText ?? setting.env.join(", "))}.`);
  parts.push(`Default: ${plain(defaultMarkdown(setting))}.`);
  if (setting.type === "string" && !setting.choices) parts.push("An empty string counts as not set.");
  return parts.join(" ");
}

/** Types only (SPEC §2): ranges, enums and unknown keys are load.ts's to warn about, not OpenClaw's to refuse. */
function schemaOf(setting: AnySetting, children?: readonly [string, AnySetting][]): Json {
  const type = setting.type === "map" ? "object" : setting.type;
  const schema: Record<string, Json> = { type, description: describe(setting) };
  if (setting.type === "map") schema["additionalProperties"] = { type: "string" };
  if (children) schema["properties"] = Object.fromEntries(children.map(([key, child]) => [key, schemaOf(child)]));
  return schema;
}

function hintOf(ui: UiHint): Json {
  return JSON.parse(JSON.stringify(ui)) as Json;
}

export function manifestFields(): { configGroups: Json; uiHints: Json; configSchema: Json } {
  const top = entries(SETTINGS);
  const capture = entries(CAPTURE_SETTINGS);
  const configGroups = Object.entries(GROUPS).map(([id, title], index) => ({
    id,
    title,
    order: (index + 1) * 10,
    properties: top.filter(([, setting]) => setting.group === id).map(([key]) => key),
  }));
  const uiHints = Object.fromEntries([
    ...top.map(([key, setting]) => [key, hintOf(setting.ui)] as const),
    ...capture.map(([key, setting]) => [`capture.${key}`, hintOf(setting.ui)] as const),
  ]);
  const configSchema = {
    type: "object",
    properties: Object.fromEntries(top.map(([key, setting]) => [key, schemaOf(setting, key === "capture" ? capture : undefined)])),
  };
  return { configGroups, uiHints, configSchema };
}

/** `manifestText` with its generated fields replaced (other fields and their order kept). */
export function renderManifest(manifestText: string): string {
  const manifest = JSON.parse(manifestText) as Record<string, Json>;
  const fields = manifestFields();
  for (const [key, value] of Object.entries(fields)) manifest[key] = value;
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

function envMarkdown(setting: AnySetting): string {
  if (setting.envText) return setting.envText;
  const [first, ...rest] = setting.env.map((name) => `\`${name}\``);
  if (first === undefined) return "—";
  if (rest.length === 0) return first;
  if (setting.env.every((name) => name.startsWith("OTEL_"))) return [first, ...rest].join(" / ");
  return `${first} (${rest.length === 1 ? "alias" : "aliases"} ${rest.join(", ")})`;
}

const cell = (text: string): string => text.replace(/\|/g, "\\|");

export function readmeTable(): string {
  const rows = ["| env | config key | default | meaning |", "|---|---|---|---|"];
  const row = (setting: AnySetting, key: string) =>
    rows.push(`| ${cell(envMarkdown(setting))} | ${key} | ${cell(defaultMarkdown(setting))} | ${cell(setting.doc)} |`);
  for (const [key, setting] of entries(SETTINGS)) {
    if (key !== "capture") {
      row(setting, `\`${key}\``);
      continue;
    }
    const capture = entries(CAPTURE_SETTINGS);
    row(setting, `\`capture.{${capture.filter(([, child]) => child.env.length === 0).map(([name]) => name).join(",")}}\``);
    for (const [name, child] of capture.filter(([, c]) => c.env.length > 0)) row(child, `\`capture.${name}\``);
  }
  return [...rows, ...EXTRA_ROWS].join("\n");
}

/** `readmeText` with the region between the markers replaced by the generated table. */
export function renderReadme(readmeText: string): string {
  const begin = readmeText.indexOf(README_BEGIN);
  const end = readmeText.indexOf(README_END);
  if (begin === -1 || end < begin) throw new Error(`README.md: the markers ${README_BEGIN} … ${README_END} are missing`);
  return `${readmeText.slice(0, begin + README_BEGIN.length)}\n${readmeTable()}\n${readmeText.slice(end)}`;
}

/**
 * src/version.ts: the package version as a constant. Reading package.json at run time cost ~60 ms
 * CPU per OpenClaw process: OpenClaw routes a plugin's `require` through its own resolver (jiti)
 * over the captured copy of the package (bench/README.md, "What profiling found").
 */
export function renderVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return `// Generated from package.json by \`npm run gen\`; do not edit.\nexport const PLUGIN_VERSION = ${JSON.stringify(pkg.version)};\n`;
}
