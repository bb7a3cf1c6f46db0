/**
 * What the settings tables (./settings.ts) imply, mapped from them (no hand-kept copy): the resolved
 * `Settings` type, the accepted config keys and the env var names.
 */
import { CAPTURE_SETTINGS, INBOUND_MODES, OTLP_PROTOCOLS, PROTOCOLS, SETTINGS, type Setting } from "./settings.ts";

type ValueOf<S> = S extends Setting<infer T, boolean> ? T : never;
type Resolved<Table> = { readonly [K in keyof Table as Table[K] extends Setting<unknown, false> ? K : never]: ValueOf<Table[K]> } & {
  readonly [K in keyof Table as Table[K] extends Setting<unknown, true> ? K : never]?: ValueOf<Table[K]>;
};

/** Content classes captured on spans (all off by default), and the truncation limit. */
export type CaptureConfig = Resolved<typeof CAPTURE_SETTINGS>;

/** The plugin's resolved settings (frozen, built once per process by `loadConfig`). */
export type Settings = Omit<Resolved<typeof SETTINGS>, "capture"> & {
  /** True when the key came from the user (env or config) rather than the `dynamo-local` default. */
  readonly apiKeyFromUser: boolean;
  /** Keys set in the plugin config (valid or not: config wins over env either way); the rest came from env or defaults. */
  readonly fromPluginConfig: readonly ConfigKey[];
  readonly capture: CaptureConfig;
};

export type ConfigKey = keyof typeof SETTINGS;
export type ProtocolSetting = (typeof PROTOCOLS)[number];
export type InboundMode = (typeof INBOUND_MODES)[number];
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** Keys accepted in `plugins.entries.dynamo.config`, and under its `capture`. */
export const CONFIG_KEYS = Object.freeze(Object.keys(SETTINGS)) as readonly ConfigKey[];
export const CAPTURE_KEYS = Object.freeze(Object.keys(CAPTURE_SETTINGS)) as readonly (keyof CaptureConfig)[];

/** Env vars per setting, in precedence order (`captureMaxChars` = `capture.maxChars`). */
export const ENV: Readonly<Record<ConfigKey | "captureMaxChars", readonly string[]>> = Object.freeze({
  ...(Object.fromEntries(CONFIG_KEYS.map((key) => [key, SETTINGS[key].env])) as Record<ConfigKey, readonly string[]>),
  captureMaxChars: CAPTURE_SETTINGS.maxChars.env,
});

/** Every env var name the plugin reads for its configuration. */
export const ENV_NAMES: readonly string[] = Object.freeze(Object.values(ENV).flat());
