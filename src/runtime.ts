/**
 * Process-wide plugin state.
 *
 * OpenClaw imports the plugin module several times in one process (discovery and runtime loaders
 * each load it afresh) and calls `register()` several times, so module-level variables are not
 * shared between the instance that sees provider traffic and the one that sees `gateway_stop`
 * (openclaw-plugin-sdk.md §14, pitfalls 1 and 13). Everything that must exist once per process
 * lives in one object reached through a global symbol, created by the first registration.
 */
import { createHash } from "node:crypto";
import { loadConfig } from "./config.ts";
import type { DynamoPluginConfig } from "./types.ts";

export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export interface PluginRuntime {
  /** The settings of the latest registration (a Gateway's plugin replacement brings new ones, docs/lifecycle.md). */
  readonly config: DynamoPluginConfig;
  /** Digest of `config`: services built from other settings are replaced (src/generations.ts). */
  readonly fingerprint: string;
  readonly log: Log;
  /** Logs `message` once per `key` for the life of the process (one clear line per cause). */
  warnOnce(key: string, message: string): void;
  /** Services created lazily by the feature modules, keyed by name; one instance per process. */
  readonly services: Map<string, unknown>;
}

const RUNTIME_KEY = Symbol.for("openclaw-dynamo.runtime");

type GlobalWithRuntime = typeof globalThis & { [RUNTIME_KEY]?: PluginRuntime };

type RuntimeInit = { pluginConfig: unknown; env: NodeJS.ProcessEnv; log: Log };
type MutableRuntime = PluginRuntime & { reconfigure(init: RuntimeInit): void };

/**
 * The process-wide runtime, with the settings of this registration: every `register()` re-reads
 * `plugins.entries.dynamo.config` (cheap), so the registration that follows a plugin replacement
 * brings its new settings in; whether services are rebuilt is decided by src/generations.ts.
 */
export function getPluginRuntime(init: RuntimeInit): PluginRuntime {
  const holder = globalThis as GlobalWithRuntime;
  const existing = holder[RUNTIME_KEY] as MutableRuntime | undefined;
  if (existing) {
    // A runtime left by an older build of the plugin (before reconfigure existed) is kept as is.
    existing.reconfigure?.(init);
    return existing;
  }
  const runtime = createRuntime(init);
  holder[RUNTIME_KEY] = runtime;
  return runtime;
}

/** The runtime if a registration already created it (for code that must not create one). */
export function peekPluginRuntime(): PluginRuntime | undefined {
  return (globalThis as GlobalWithRuntime)[RUNTIME_KEY];
}

/** Test-only: forget the process-wide state. */
export function resetPluginRuntimeForTests(): void {
  delete (globalThis as GlobalWithRuntime)[RUNTIME_KEY];
}

/** Returns the named service, creating it on first use. */
/** `runtime.services` key of OpenClaw's `api.runtime.state.resolveStateDir` (set at registration). */
export const STATE_DIR_SERVICE = "openclaw-state-dir";

export function service<T>(runtime: PluginRuntime, name: string, create: () => T): T {
  const existing = runtime.services.get(name);
  if (existing !== undefined) return existing as T;
  const created = create();
  runtime.services.set(name, created);
  return created;
}

function createRuntime(init: RuntimeInit): MutableRuntime {
  const warned = new Set<string>();
  const log = prefixed(init.log);
  let config: DynamoPluginConfig;
  let fingerprint = "";
  const runtime: MutableRuntime = {
    get config() {
      return config;
    },
    get fingerprint() {
      return fingerprint;
    },
    log,
    warnOnce(key, message) {
      if (warned.has(key)) return;
      warned.add(key);
      log.warn(message);
    },
    services: new Map(),
    reconfigure(next) {
      const loaded = loadConfig(next.pluginConfig, next.env);
      const digest = fingerprintOf(loaded.config);
      if (digest === fingerprint) return;
      config = loaded.config;
      fingerprint = digest;
      // Once per cause and settings: a fixed-then-broken setting is reported again.
      for (const warning of loaded.warnings) runtime.warnOnce(`config:${warning.key}:${digest}`, warning.message);
    },
  };
  runtime.reconfigure(init);
  return runtime;
}

/** A digest, not the settings themselves: they hold the API key and OTLP header values. */
function fingerprintOf(config: DynamoPluginConfig): string {
  return createHash("sha256").update(JSON.stringify(config)).digest("hex").slice(0, 16);
}

function prefixed(log: Log): Log {
  const tag = (message: string) => `[dynamo] ${message}`;
  return {
    info: (message) => log.info(tag(message)),
    warn: (message) => log.warn(tag(message)),
    error: (message) => log.error(tag(message)),
    debug: (message) => log.debug(tag(message)),
  };
}
