/**
 * Which directory OpenClaw loads the plugin from (`plugins.load.paths`).
 *
 * Two OpenClaw 2026.9.6 behaviours shape this:
 *
 * 1. A path-loaded plugin (origin "config") is resolved through `openclaw.runtimeExtensions` when
 *    package.json declares it: OpenClaw imports `./dist/index.js`, not the `./src/index.ts` named in
 *    `extensions`, and fails with "runtime extension entry not found" when it is missing
 *    (dist/package-entry-resolution-*.mjs, `resolvePackageRuntimeEntrySource`). A stale dist/ would
 *    silently test old code.
 * 2. Before importing, OpenClaw copies the plugin's whole package directory (minus node_modules and
 *    .git) into a capture dir and verifies every copied file and directory listing is unchanged
 *    (dist/plugin-generation-artifact-*.mjs, `verifyPluginSourceInputs`); any change anywhere under
 *    the root — another engineer's edit, a build, a log file in .e2e/ — fails the load with
 *    "Plugin source changed while preparing its reload; retry after the edit finishes."
 *
 * So each test process loads a private copy of the package under `.e2e/plugin-<pid>-<id>/`, made
 * once, with a `node_modules` symlink to the checkout's; nothing else writes into it. By default
 * (`packed`) it is what a user's `npm pack` install holds: package.json, the manifest, README and the
 * two bundles scripts/bundle.ts writes from the checkout's src/ — dist/index.js (the entry OpenClaw
 * imports) and dist/core.cjs (the plugin, loaded once per process; docs/performance.md). The tests
 * thereby run the very files users install.
 *
 * `OPENCLAW_E2E_PLUGIN_SOURCE=snapshot` loads src/ and a per-module `tsc` build instead (its
 * dist/index.js is src/index.ts: no core split), and `=checkout` the repo root (its dist/ rebuilt
 * with `tsc` first when older than src/). OpenClaw copies and hashes every file of a plugin's
 * package each time a process loads it, so the snapshot's ~150 files cost more than the plugin does.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { buildChildEnv } from "./child-env.ts";
import { E2E_ROOT, NODE_BIN_DIR, REPO_ROOT } from "./paths.ts";

export type PluginSourceMode = "snapshot" | "checkout" | "packed";

/** Files of the package (besides the compiled output) that OpenClaw reads. */
const PACKAGE_FILES = ["package.json", "openclaw.plugin.json", "README.md", "LICENSE"];
/** What scripts/bundle.ts writes: the entry OpenClaw imports and the core it loads. */
const PACKED_DIST = ["index.js", "core.cjs"];

let snapshotDir: string | undefined;
let packedDir: string | undefined;
let checkoutEnsured = false;

export function pluginSourceMode(): PluginSourceMode {
  const mode = process.env.OPENCLAW_E2E_PLUGIN_SOURCE;
  return mode === "checkout" || mode === "snapshot" ? mode : "packed";
}

/** The directory to put in `plugins.load.paths` for this test process. */
export function pluginLoadPath(mode: PluginSourceMode = pluginSourceMode()): string {
  if (mode === "checkout") {
    ensureCheckoutBuild();
    return REPO_ROOT;
  }
  if (mode === "packed") {
    packedDir ??= createPacked();
    return packedDir;
  }
  snapshotDir ??= createSnapshot();
  return snapshotDir;
}

function compile(outDir: string, cwd: string): { ok: boolean; output: string } {
  const args = ["-p", "tsconfig.build.json", ...(outDir === "" ? [] : ["--outDir", outDir])];
  const result = spawnSync(join(NODE_BIN_DIR, "tsc"), args, {
    cwd,
    env: buildChildEnv(process.env.HOME ?? cwd),
    encoding: "utf8",
    timeout: 120_000,
  });
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? String(result.error) : ""}` };
}

/** Declared runtime entries (relative paths), e.g. ["./dist/index.js"]. */
function declaredRuntimeEntries(packageDir: string): string[] {
  const pkg = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
    openclaw?: { runtimeExtensions?: unknown };
  };
  const entries = pkg.openclaw?.runtimeExtensions;
  return Array.isArray(entries) ? entries.filter((e): e is string => typeof e === "string") : [];
}

/** True when `pid` names a live process (signal 0 probes without signalling). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove snapshots left by test processes that are gone. The `exit` hook below does not run when
 * vitest kills a worker, so leftovers are swept here instead.
 */
function sweepStaleSnapshots(): void {
  if (!existsSync(E2E_ROOT) || process.env.OPENCLAW_E2E_KEEP === "1") return;
  for (const name of readdirSync(E2E_ROOT)) {
    const match = /^plugin-(\d+)-[0-9a-f]+$/.exec(name);
    if (match && !pidAlive(Number(match[1]))) rmSync(join(E2E_ROOT, name), { recursive: true, force: true });
  }
}

/** A private package directory under .e2e/ (removed at exit) with the package files and node_modules linked. */
function newPackageDir(): string {
  sweepStaleSnapshots();
  const dir = join(E2E_ROOT, `plugin-${process.pid}-${randomBytes(3).toString("hex")}`);
  mkdirSync(dir, { recursive: true });
  process.on("exit", () => {
    if (process.env.OPENCLAW_E2E_KEEP !== "1") rmSync(dir, { recursive: true, force: true });
  });
  for (const file of PACKAGE_FILES) {
    if (existsSync(join(REPO_ROOT, file))) cpSync(join(REPO_ROOT, file), join(dir, file));
  }
  // Dependencies resolve through the checkout's node_modules (OpenClaw skips node_modules when capturing).
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

/** The `npm pack` layout: dist/index.js and dist/core.cjs from scripts/bundle.ts (the bundle step of `npm run build`). */
function createPacked(): string {
  const dir = newPackageDir();
  const out = join(dir, "dist");
  const bundle = spawnSync(join(NODE_BIN_DIR, "node"), [join(REPO_ROOT, "scripts", "bundle.ts"), "--outdir", out], { cwd: REPO_ROOT, env: buildChildEnv(process.env.HOME ?? REPO_ROOT), encoding: "utf8", timeout: 120_000 });
  const missing = PACKED_DIST.filter((file) => !existsSync(join(out, file)));
  if (bundle.status !== 0 || missing.length > 0) throw new Error(`bundling the packed plugin failed (missing ${missing.join(", ") || "nothing"}):\n${bundle.stdout}${bundle.stderr}`);
  return dir;
}

function createSnapshot(): string {
  const dir = newPackageDir();
  cpSync(join(REPO_ROOT, "src"), join(dir, "src"), { recursive: true });
  const build = compile(join(dir, "dist"), REPO_ROOT);
  const missing = declaredRuntimeEntries(dir).filter((entry) => !existsSync(join(dir, entry)));
  if (missing.length > 0) {
    throw new Error(`plugin build for the e2e snapshot did not produce ${missing.join(", ")}:\n${build.output}`);
  }
  // tsc still emits on type errors; someone's in-progress edit elsewhere in src/ must not block e2e runs.
  if (!build.ok) console.warn(`[e2e] plugin build reported errors but emitted dist/:\n${build.output}`);
  return dir;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Checkout mode: rebuild the repo's dist/ when a declared runtime entry is missing or older than src/. */
function ensureCheckoutBuild(): void {
  if (checkoutEnsured) return;
  checkoutEnsured = true;
  const entries = declaredRuntimeEntries(REPO_ROOT);
  if (entries.length === 0) return;
  const srcNewest = newestMtime(join(REPO_ROOT, "src"));
  const stale = entries.some((e) => !existsSync(join(REPO_ROOT, e)) || statSync(join(REPO_ROOT, e)).mtimeMs < srcNewest);
  if (!stale) return;
  const build = compile("", REPO_ROOT);
  if (!build.ok) console.warn(`[e2e] plugin build reported errors:\n${build.output}`);
}
