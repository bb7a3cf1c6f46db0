/** Settings: the one table (settings.ts), what it implies (keys.ts), its value parsers (parse.ts) and resolution (load.ts). */
export { CAPTURE_SETTINGS, SAMPLERS, SETTINGS } from "./settings.ts";
export type { Setting } from "./settings.ts";
export { CAPTURE_KEYS, CONFIG_KEYS, ENV, ENV_NAMES } from "./keys.ts";
export type { CaptureConfig, ConfigKey, InboundMode, OtlpProtocol, ProtocolSetting, Settings } from "./keys.ts";
export { CONFIG_PATH, DEFAULTS, loadConfig } from "./load.ts";
export type { ConfigWarning } from "./load.ts";
