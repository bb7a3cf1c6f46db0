/** Settings: the one table (settings.ts), its value parsers (parse.ts) and resolution (load.ts). */
export {
  CAPTURE_CLASSES,
  CAPTURE_KEYS,
  CAPTURE_SETTINGS,
  CONFIG_KEYS,
  ENV,
  ENV_NAMES,
  GROUPS,
  INBOUND_MODES,
  MAX_FLUSH_TIMEOUT_MS,
  MAX_ID_LENGTH,
  MAX_OTLP_TIMEOUT_MS,
  MAX_QUEUE_CAPACITY,
  OTLP_PROTOCOLS,
  PROTOCOLS,
  SAMPLERS,
  SETTINGS,
} from "./settings.ts";
export type { CaptureConfig, ConfigKey, InboundMode, OtlpProtocol, ProtocolSetting, Setting, Settings, UiHint } from "./settings.ts";
export { isZmqEndpoint, normalizeBaseUrl } from "./parse.ts";
export { CONFIG_PATH, DEFAULTS, loadConfig } from "./load.ts";
export type { ConfigWarning } from "./load.ts";
