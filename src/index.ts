/**
 * The plugin entry for the unbundled build (`tsc`, tests). What OpenClaw loads from an installed
 * package is ./entry.ts, bundled as dist/index.js (docs/performance.md).
 */
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import { PLUGIN_ENTRY_INFO } from "./entry-info.ts";
import { registerDynamoPlugin } from "./plugin.ts";

export default definePluginEntry({ ...PLUGIN_ENTRY_INFO, register: registerDynamoPlugin });
