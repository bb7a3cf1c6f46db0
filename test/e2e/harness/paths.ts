/** Filesystem anchors shared by the harness modules. */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The plugin checkout (the directory holding package.json / openclaw.plugin.json). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Git-ignored scratch root for isolated OpenClaw worlds. */
export const E2E_ROOT = join(REPO_ROOT, ".e2e");

export const NODE_BIN_DIR = join(REPO_ROOT, "node_modules", ".bin");

/** OpenClaw's CLI entry; spawned with `process.execPath` so the child runs on the same Node 24 as vitest. */
export const OPENCLAW_ENTRY = join(REPO_ROOT, "node_modules", "openclaw", "openclaw.mjs");
