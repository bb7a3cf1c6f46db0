/**
 * Settings resolution (SPEC §2, docs/settings.md): `plugins.entries.dynamo.config` (wins) over the
 * environment, over defaults, for every row of the settings table.
 *
 * `loadConfig` is pure: it reads only its arguments, never logs and never throws. Every invalid value
 * (and every unknown config key) becomes one `ConfigWarning` naming where it came from (the env var,
 * or `plugins.entries.dynamo.config.<key>`) and the accepted form, and the setting keeps its default.
 * The winning source is chosen first (config if given, else the first non-empty env var) and only then
 * validated, so an invalid value never silently lets a lower-precedence source through. The manifest's
 * configSchema declares types only, so OpenClaw hands every such value to this module.
 *
 * Warnings never contain secrets: the API key, OTLP header values and URLs (which may carry
 * credentials) are never echoed, and any raw secret that still ended up in a message is redacted.
 */
import { isPlainObject, keyPairList, parseHttpUrl, type StringMap } from "./parse.ts";
import { CAPTURE_KEYS, CONFIG_KEYS, type CaptureConfig, type ConfigKey, type Settings } from "./keys.ts";
import { CAPTURE_SETTINGS, DEFAULT_API_KEY, SETTINGS, type Setting } from "./settings.ts";

/** Where the plugin's config lives in OpenClaw's config; warnings about config keys use `<CONFIG_PATH>.<key>`. */
export const CONFIG_PATH = "plugins.entries.dynamo.config";

/** One message per invalid setting; the caller logs each once. */
export interface ConfigWarning {
  /** The env var or config key that was invalid. */
  readonly key: string;
  readonly message: string;
}

type Env = Readonly<Record<string, string | undefined>>;
type AnySetting = Setting<unknown>;

interface Context {
  readonly config: Readonly<Record<string, unknown>>;
  readonly env: Env;
  readonly warnings: ConfigWarning[];
  /** Raw secret values seen while resolving; redacted from every warning at the end. */
  readonly secrets: string[];
}

function defaultOf(setting: AnySetting): unknown {
  return setting.optional ? undefined : setting.default;
}

/** How the default reads in a warning. */
function defaultText(setting: AnySetting): string {
  return setting.defaultText ?? (setting.optional ? "unset" : String(setting.default));
}

/** Every default, deeply frozen (optional settings absent). */
export const DEFAULTS: Settings = deepFreeze({
  ...Object.fromEntries(CONFIG_KEYS.filter((key) => !SETTINGS[key].optional).map((key) => [key, defaultOf(SETTINGS[key])])),
  apiKeyFromUser: false,
  fromPluginConfig: [],
  capture: Object.fromEntries(CAPTURE_KEYS.map((key) => [key, defaultOf(CAPTURE_SETTINGS[key])])),
} as unknown as Settings);

/** Trimmed value of an env var; unset, empty and whitespace-only all mean "not set". */
function readEnv(env: Env, name: string): string | undefined {
  const value: unknown = env[name];
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

function describe(raw: unknown, echo: boolean): string {
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "an array";
  if (typeof raw === "object") return "an object";
  if (!echo) return typeof raw === "string" ? "the value" : `a ${typeof raw}`;
  if (typeof raw === "string") return JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw);
  return typeof raw === "number" || typeof raw === "boolean" ? String(raw) : `a ${typeof raw}`;
}

function warn(ctx: Context, key: string, raw: unknown, setting: AnySetting, expected: string): void {
  const message = `${key}: ${describe(raw, setting.echo)} is not valid; expected ${expected}. Using the default (${defaultText(setting)}).`;
  ctx.warnings.push({ key, message });
}

const configPath = (key: string): string => `${CONFIG_PATH}.${key}`;

/** Validate a value from the plugin config; `path` is relative to `CONFIG_PATH`. */
function fromConfig(ctx: Context, path: string, raw: unknown, setting: AnySetting): unknown {
  const result = setting.parse.config(raw);
  if (result.ok) return result.value;
  warn(ctx, configPath(path), raw, setting, result.expected);
  return defaultOf(setting);
}

/** The first non-empty env var of `names` wins, valid or not. */
function fromEnv(ctx: Context, names: readonly string[], setting: AnySetting): unknown {
  for (const name of names) {
    const raw = readEnv(ctx.env, name);
    if (raw === undefined) continue;
    const result = setting.parse.env(raw);
    if (result.ok) return result.value;
    warn(ctx, name, raw, setting, result.expected);
    return defaultOf(setting);
  }
  return defaultOf(setting);
}

/** The config value of `key`; an empty free-text string counts as not given (what a Settings form writes for a cleared field). */
function given(ctx: Context, key: string, setting: AnySetting): unknown {
  const raw = ctx.config[key];
  return raw === "" && setting.type === "string" && setting.choices === undefined ? undefined : raw;
}

/** Plugin config wins over env; the winning value is validated and falls back to the default. */
function resolve(ctx: Context, key: ConfigKey): unknown {
  const setting: AnySetting = SETTINGS[key];
  const raw = given(ctx, key, setting);
  return raw === undefined ? fromEnv(ctx, setting.env, setting) : fromConfig(ctx, key, raw, setting);
}

/** Settings whose env side is more than "first non-empty name wins". */
const SPECIAL: Partial<Record<ConfigKey, (ctx: Context) => unknown>> = {
  apiKey(ctx) {
    const raw = ctx.config["apiKey"];
    if (typeof raw === "string") ctx.secrets.push(raw);
    const envValue = readEnv(ctx.env, SETTINGS.apiKey.env[0]!);
    if (envValue !== undefined) ctx.secrets.push(envValue);
    return resolve(ctx, "apiKey");
  },

  /** Config `otlpEndpoint` and `…_TRACES_ENDPOINT` verbatim; `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
  otlpEndpoint(ctx) {
    const setting = SETTINGS.otlpEndpoint;
    const [tracesName, baseName] = setting.env as readonly [string, string];
    const raw = given(ctx, "otlpEndpoint", setting);
    if (raw !== undefined) return fromConfig(ctx, "otlpEndpoint", raw, setting);
    if (readEnv(ctx.env, tracesName) !== undefined) return fromEnv(ctx, [tracesName], setting);
    const base = readEnv(ctx.env, baseName);
    if (base === undefined) return undefined;
    if (parseHttpUrl(base) === undefined) {
      warn(ctx, baseName, base, setting, "an http:// or https:// URL, e.g. http://localhost:4318 (/v1/traces is appended)");
      return undefined;
    }
    return `${base.replace(/\/+$/, "")}/v1/traces`;
  },

  /**
   * What the OTLP exporter sends: the two env vars merged (`…_TRACES_HEADERS` winning per header), with
   * the config headers on top (the exporter reads the env headers itself and adds what it is given).
   */
  otlpHeaders(ctx) {
    const setting = SETTINGS.otlpHeaders;
    const raw = given(ctx, "otlpHeaders", setting);
    if (isPlainObject(raw)) ctx.secrets.push(...Object.values(raw).filter((value) => typeof value === "string"));
    for (const name of setting.env) {
      const value = readEnv(ctx.env, name);
      if (value !== undefined) ctx.secrets.push(value, ...Object.values(keyPairList(value) ?? {}));
    }
    const [tracesName, baseName] = setting.env as readonly [string, string];
    const env = { ...(fromEnv(ctx, [baseName], setting) as StringMap), ...(fromEnv(ctx, [tracesName], setting) as StringMap) };
    return raw === undefined ? env : { ...env, ...(fromConfig(ctx, "otlpHeaders", raw, setting) as StringMap) };
  },

  /** `capture.*` config keys win one by one over `DYN_AGENT_TRACE_CAPTURE` / `DYN_AGENT_TRACE_CAPTURE_MAX_CHARS`. */
  capture(ctx): CaptureConfig {
    const setting = SETTINGS.capture;
    const raw = ctx.config["capture"];
    if (raw !== undefined && !isPlainObject(raw)) {
      warn(ctx, configPath("capture"), raw, setting, `an object with the keys ${CAPTURE_KEYS.join(", ")}`);
      return DEFAULTS.capture;
    }
    const config = raw ?? {};
    warnUnknownKeys(ctx, config, CAPTURE_KEYS, "capture.");
    const envFlags = fromEnv(ctx, setting.env, setting) as Readonly<Record<string, boolean>>;
    const entries = CAPTURE_KEYS.map((key) => {
      const child: AnySetting = CAPTURE_SETTINGS[key];
      if (config[key] !== undefined) return [key, fromConfig(ctx, `capture.${key}`, config[key], child)];
      return [key, child.env.length > 0 ? fromEnv(ctx, child.env, child) : envFlags[key]];
    });
    return Object.fromEntries(entries) as CaptureConfig;
  },
};

const squash = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, "");

function warnUnknownKeys(ctx: Context, config: Readonly<Record<string, unknown>>, known: readonly string[], prefix = ""): void {
  for (const key of Object.keys(config)) {
    if (known.includes(key)) continue;
    const path = configPath(`${prefix}${key.length > 64 ? `${key.slice(0, 64)}…` : key}`);
    const guess = known.find((candidate) => squash(candidate) === squash(key));
    const hint = guess === undefined ? `expected one of ${known.join(", ")}` : `did you mean ${prefix}${guess}?`;
    ctx.warnings.push({ key: path, message: `${path}: unknown setting, ignored; ${hint}` });
  }
}

/** A plain-data copy of the plugin config, so odd inputs (getters, proxies) are touched only here. */
function snapshotPluginConfig(pluginConfig: unknown, warnings: ConfigWarning[]): Readonly<Record<string, unknown>> {
  if (pluginConfig === undefined || pluginConfig === null) return {};
  const unusable = (what: string): Record<string, never> => {
    const message = `${CONFIG_PATH}: ${what}; expected an object of settings. Using environment variables and defaults.`;
    warnings.push({ key: CONFIG_PATH, message });
    return {};
  };
  if (!isPlainObject(pluginConfig)) return unusable(`${describe(pluginConfig, false)} is not valid`);
  try {
    return Object.fromEntries(Object.keys(pluginConfig).map((key) => [key, pluginConfig[key]]));
  } catch {
    return unusable("the value could not be read");
  }
}

function redact(warnings: readonly ConfigWarning[], secrets: readonly string[]): ConfigWarning[] {
  // Short values ("x", "on") would mangle unrelated words; secrets are never echoed in the first place.
  const long = secrets.filter((secret) => secret.length >= 6);
  const scrub = (text: string): string => long.reduce((out, secret) => out.split(secret).join("[redacted]"), text);
  return warnings.map((warning) => Object.freeze({ key: scrub(warning.key), message: scrub(warning.message) }));
}

function build(ctx: Context): Settings {
  warnUnknownKeys(ctx, ctx.config, CONFIG_KEYS);
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = (SPECIAL[key] ?? ((c: Context) => resolve(c, key)))(ctx);
    // Optional settings are absent rather than `undefined`.
    if (value !== undefined) out[key] = value;
  }
  // Compared by value: the plugin itself exports `DYNAMO_API_KEY=dynamo-local` for OpenClaw's auth
  // lookup (docs/settings.md), and a later registration must not take that for a user key.
  out["apiKeyFromUser"] = out["apiKey"] !== DEFAULT_API_KEY;
  out["fromPluginConfig"] = CONFIG_KEYS.filter((key) => given(ctx, key, SETTINGS[key]) !== undefined);
  return out as unknown as Settings;
}

/**
 * Resolve the plugin's settings from `plugins.entries.dynamo.config` (`pluginConfig`, wins) and
 * `env` (e.g. `process.env`). Pure; the caller logs each warning once. The result is deeply frozen.
 */
export function loadConfig(pluginConfig: unknown, env: Record<string, string | undefined>): { config: Settings; warnings: ConfigWarning[] } {
  const warnings: ConfigWarning[] = [];
  const secrets: string[] = [];
  try {
    const config = snapshotPluginConfig(pluginConfig, warnings);
    const ctx: Context = { config, env: isPlainObject(env) ? (env as Env) : {}, warnings, secrets };
    return { config: deepFreeze(build(ctx)), warnings: redact(warnings, secrets) };
  } catch (error) {
    // Only hostile inputs (e.g. an env object whose getters throw) or a bug get here; either way the
    // plugin must not take OpenClaw down over its configuration.
    const name = error instanceof Error ? error.name : typeof error;
    const message = `${CONFIG_PATH}: the configuration could not be resolved (${name}); using defaults.`;
    return { config: DEFAULTS, warnings: redact([{ key: CONFIG_PATH, message }], secrets) };
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
