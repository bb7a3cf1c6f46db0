/**
 * Clean child environments for OpenClaw processes.
 *
 * Built from an allow-list instead of copying `process.env`: OpenClaw's plugin discovery returns
 * nothing when `VITEST` is set, `NODE_ENV=test` changes its behaviour, and a developer's real
 * DYNAMO_* / OTEL_* / DYN_* / TRACEPARENT / OPENCLAW_* variables would leak into the run under test.
 */
import { delimiter, dirname } from "node:path";
import { NODE_BIN_DIR } from "./paths.ts";

export type ChildEnv = Record<string, string>;

/** Variables copied verbatim from the test process when present (locale, temp dir, npm/TLS plumbing). */
const PASS_THROUGH = [
  "TMPDIR",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
];

/** npm configuration that a managed `plugins install` needs to reach the registry (SDK notes §14.14). */
const NPM_CONFIG = /^npm_config_(registry|cafile|ca|proxy|https_proxy|noproxy|strict_ssl|cache|userconfig)$/i;

/** Never passed to a child, even if a test's `env` tries to (belt and braces for the allow-list). */
const FORBIDDEN = /^(VITEST|VITEST_.*|NODE_ENV)$/;

/**
 * Environment for one OpenClaw child process.
 * `home` replaces HOME; `extra` (the test's variables) is applied last; a value of `undefined`
 * in `extra` removes a variable.
 */
export function buildChildEnv(home: string, ...extra: Array<Record<string, string | undefined> | undefined>): ChildEnv {
  const env: ChildEnv = {};
  for (const key of PASS_THROUGH) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && NPM_CONFIG.test(key)) env[key] = value;
  }
  // Node 24 first: the project's node_modules/.bin (node, openclaw) and the running node's dir.
  const basePath = process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  env.PATH = [NODE_BIN_DIR, dirname(process.execPath), basePath].join(delimiter);
  env.HOME = home;
  env.LANG ??= "C.UTF-8";
  for (const layer of extra) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
  }
  for (const key of Object.keys(env)) if (FORBIDDEN.test(key)) delete env[key];
  return env;
}
