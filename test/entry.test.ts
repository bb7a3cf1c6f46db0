/**
 * The entry OpenClaw loads (src/entry.ts, bundled by scripts/bundle.ts; docs/performance.md): every
 * load imports a fresh copy of dist/index.js, and only the first load of a build in a process loads
 * dist/core.cjs. Checked in a child process (the plugin installs process handlers) on a fresh bundle:
 * copies of the entry in separate directories stand for OpenClaw's per-load capture directories.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO = new URL("..", import.meta.url).pathname;
let work: string;

interface Load {
  provider?: string;
  hooks?: string[];
  error?: string;
  coreModules: number;
}

/** A capture-like copy of the bundle: `files` from the fresh build, node_modules linked. */
function copy(name: string, files: string[], edit?: (entry: string) => string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const file of files) copyFileSync(join(work, "build", file), join(dir, file));
  if (edit) writeFileSync(join(dir, "index.js"), edit(readFileSync(join(dir, "index.js"), "utf8")));
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"), "dir");
  return join(dir, "index.js");
}

function loadInChild(entries: string[]): Load[] {
  const script = join(work, "load.mjs");
  writeFileSync(
    script,
    `import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const out = [];
for (const entry of JSON.parse(process.argv[2])) {
  const hooks = [];
  let provider;
  const api = { id: "dynamo", registrationMode: "discovery", pluginConfig: {}, config: {},
    logger: { info() {}, warn() {}, error() {}, debug() {} },
    on: (name) => hooks.push(name), registerProvider: (p) => { provider = p.id; }, registerGatewayMethod() {} };
  try {
    (await import(entry)).default.register(api);
    out.push({ provider, hooks, coreModules: Object.keys(require.cache).filter((k) => k.endsWith("core.cjs")).length });
  } catch (error) {
    out.push({ error: String(error), coreModules: Object.keys(require.cache).filter((k) => k.endsWith("core.cjs")).length });
  }
}
console.log(JSON.stringify(out));
process.exit(0);`,
  );
  const child = spawnSync(process.execPath, [script, JSON.stringify(entries)], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: work, OPENCLAW_STATE_DIR: join(work, "state") },
    timeout: 60_000,
  });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split("\n").pop()!) as Load[];
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "dynamo-entry-"));
  const bundle = spawnSync(process.execPath, [join(REPO, "scripts", "bundle.ts"), "--outdir", join(work, "build")], { encoding: "utf8", timeout: 120_000 });
  expect(bundle.status, bundle.stderr).toBe(0);
}, 150_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the bundled entry (dist/index.js + dist/core.cjs)", () => {
  it("is small: the plugin is in core.cjs", () => {
    expect(readFileSync(join(work, "build", "index.js")).length).toBeLessThan(2_000);
    expect(readFileSync(join(work, "build", "core.cjs"), "utf8")).toContain("registerDynamoPlugin");
  });

  it("loads the core once per process: later copies of the same build register through it", () => {
    const first = copy("first", ["index.js", "core.cjs"]);
    // A later load's capture holds its own core.cjs too; without it the copy can only work through the shared core.
    const later = copy("later", ["index.js"]);
    const [a, b] = loadInChild([first, later]);
    expect(a).toMatchObject({ provider: "dynamo", coreModules: 1 });
    expect(a!.hooks!.length).toBeGreaterThan(10);
    expect(b).toEqual({ ...a, coreModules: 1 });
  });

  it("registers what the unbundled entry (src/index.ts) registers", () => {
    const [bundled, unbundled] = loadInChild([copy("same", ["index.js", "core.cjs"]), join(REPO, "src", "index.ts")]);
    expect(bundled!.provider).toBe("dynamo");
    expect(unbundled).toMatchObject({ provider: bundled!.provider, hooks: bundled!.hooks });
  });

  it("never runs another build's core: a different core digest loads its own", () => {
    const first = copy("build-a", ["index.js", "core.cjs"]);
    const other = copy("build-b", ["index.js"], (entry) => entry.replace(/openclaw-dynamo\.core\.\$\{digest\}/, "openclaw-dynamo.core.${digest}-other"));
    const [, b] = loadInChild([first, other]);
    expect(b!.error).toMatch(/Cannot find module '\.\/core\.cjs'/);
  });
});
