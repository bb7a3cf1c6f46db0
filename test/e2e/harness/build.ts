/**
 * Make sure the plugin build OpenClaw will load is current.
 *
 * OpenClaw 2026.9.6 resolves a path-loaded plugin (`plugins.load.paths`, origin "config") through
 * `openclaw.runtimeExtensions` when package.json declares it: it loads `./dist/index.js`, not the
 * `./src/index.ts` named in `extensions`, and errors ("runtime extension entry not found") when the
 * file is missing (dist/package-entry-resolution-*.mjs, `resolvePackageRuntimeEntrySource`). So an
 * e2e run against a stale dist/ would test old code. Before the first world is created we compare
 * mtimes and run `tsc -p tsconfig.build.json` when dist/ is missing or older than src/.
 * Set OPENCLAW_E2E_BUILD=0 to skip (e.g. when `npm run test:e2e` has just built).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildChildEnv } from "./child-env.ts";
import { NODE_BIN_DIR, REPO_ROOT } from "./paths.ts";

let ensured = false;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Runtime entries (relative to the repo) OpenClaw will load for the checkout, if package.json declares them. */
export function declaredRuntimeEntries(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    openclaw?: { runtimeExtensions?: unknown };
  };
  const entries = pkg.openclaw?.runtimeExtensions;
  return Array.isArray(entries) ? entries.filter((e): e is string => typeof e === "string") : [];
}

/** Whether a rebuild is needed: a declared runtime entry is missing or older than anything in src/. */
export function pluginBuildIsStale(): boolean {
  const entries = declaredRuntimeEntries();
  if (entries.length === 0) return false;
  const srcNewest = Math.max(newestMtime(join(REPO_ROOT, "src")), statSync(join(REPO_ROOT, "tsconfig.build.json")).mtimeMs);
  return entries.some((entry) => {
    const path = join(REPO_ROOT, entry);
    return !existsSync(path) || statSync(path).mtimeMs < srcNewest;
  });
}

export function ensurePluginBuild(): void {
  if (ensured || process.env.OPENCLAW_E2E_BUILD === "0") return;
  ensured = true;
  if (!pluginBuildIsStale()) return;
  const result = spawnSync(join(NODE_BIN_DIR, "tsc"), ["-p", "tsconfig.build.json"], {
    cwd: REPO_ROOT,
    env: buildChildEnv(process.env.HOME ?? REPO_ROOT),
    encoding: "utf8",
    timeout: 120_000,
  });
  if (result.status !== 0) {
    // tsc still emits on type errors; a type error elsewhere in src/ should not block e2e runs.
    if (!pluginBuildIsStale()) {
      console.warn(`[e2e] plugin build reported errors but emitted dist/:\n${result.stdout}${result.stderr}`);
      return;
    }
    throw new Error(
      `plugin build (tsc -p tsconfig.build.json) failed, so OpenClaw would load a stale or missing dist/:\n${result.stdout}${result.stderr}${result.error ? String(result.error) : ""}`,
    );
  }
}
