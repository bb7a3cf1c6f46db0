/**
 * The plugin as OpenClaw loads it (docs/performance.md): `dist/core.cjs`, everything src/plugin.ts
 * reaches (the OpenTelemetry SDK and exporters included: no runtime dependencies, see README
 * "Install"), and `dist/index.js`, the small entry (src/entry.ts) that loads the core once per process.
 * `--outdir <dir>` writes both elsewhere (the e2e harness's `npm pack` layout).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build, type BuildOptions } from "esbuild";

const at = process.argv.indexOf("--outdir");
const outdir = at !== -1 && process.argv[at + 1] ? process.argv[at + 1]! : "dist";
const root = new URL("..", import.meta.url).pathname;
const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node22",
  external: ["openclaw", "openclaw/*"],
  allowOverwrite: true,
  logLevel: "warning",
};
const corePath = join(outdir, "core.cjs");
await build({ ...common, entryPoints: ["src/plugin.ts"], format: "cjs", outfile: corePath });
const digest = createHash("sha256").update(readFileSync(resolve(root, corePath))).digest("hex").slice(0, 16);
await build({
  ...common,
  entryPoints: ["src/entry.ts"],
  format: "esm",
  outfile: join(outdir, "index.js"),
  define: { CORE_DIGEST: JSON.stringify(digest) },
});
