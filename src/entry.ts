/**
 * The entry OpenClaw loads: bundled as dist/index.js, with the plugin itself (./plugin.ts and all it
 * reaches) bundled as dist/core.cjs beside it (scripts/bundle.ts, docs/performance.md).
 *
 * OpenClaw 2026.9.6 imports a fresh copy of a plugin's entry for every load — one `full` and two
 * `discovery` loads per CLI process, one more per plugin replacement in a Gateway — each from a new
 * capture directory, so each compiles the whole file again (~20 ms CPU for the 550 KB plugin) and
 * Node's compile cache, keyed by path, never hits. This entry is a few hundred bytes; the core is
 * loaded once per process by the first load and shared, through a global, by every later load of
 * the same build (keyed by the core's digest, so an upgraded plugin never runs the old core).
 */
import { createRequire } from "node:module";
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import { PLUGIN_ENTRY_INFO } from "./entry-info.ts";

type Core = typeof import("./plugin.ts");

/** Digest of dist/core.cjs, set by scripts/bundle.ts. */
declare const CORE_DIGEST: string | undefined;
const digest = typeof CORE_DIGEST === "string" ? CORE_DIGEST : "unbundled";
const CORE_KEY = Symbol.for(`openclaw-dynamo.core.${digest}`);

function core(): Core {
  const shared = globalThis as typeof globalThis & { [CORE_KEY]?: Core };
  // Synchronous: register() must register the provider and hooks before it returns.
  return (shared[CORE_KEY] ??= createRequire(import.meta.url)("./core.cjs") as Core);
}

export default definePluginEntry({ ...PLUGIN_ENTRY_INFO, register: (api) => core().registerDynamoPlugin(api) });
