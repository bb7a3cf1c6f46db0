/**
 * Which Dynamo generation the plugin speaks (SPEC §4.4). `auto` starts with Dynamo 1.2's body
 * `nvext` and switches the whole process to 1.3+ headers the first time Dynamo rejects an `nvext`
 * identity field. The switch is a single synchronous state change, so concurrent first requests
 * each resend at most once and every request after it starts on headers.
 */
import type { DynamoProtocol, ProtocolSetting } from "../types.ts";

/**
 * Dynamo 1.3+ declares `NvExt` with `deny_unknown_fields` and without these fields; its 400 text
 * varies by route and build (``invalid nvext: unknown field `agent_context` `` or ``Failed to
 * deserialize the JSON body: nvext: unknown field `session_control` ``), so match the stable part
 * (dynamo-wire.md §4; ai-dynamo/dynamo lib/llm/src/protocols/common/extensions.rs). An unknown
 * key inside `agent_context` (e.g. `phase`) is a different failure and does not match.
 */
const NVEXT_REJECTION = /unknown field `(agent_context|session_control)`/;

export function isNvextRejection(status: string | number | undefined, message: string | undefined): boolean {
  if (!message) return false;
  const is400 = status === undefined ? /^400\b/.test(message) : String(status) === "400";
  return is400 && NVEXT_REJECTION.test(message);
}

export class ProtocolState {
  readonly setting: ProtocolSetting;
  private active: DynamoProtocol;
  private readonly onSwitch: (from: DynamoProtocol, to: DynamoProtocol) => void;
  /** Requests Dynamo rejected for `nvext` and the plugin resent with headers. */
  fallbacks = 0;

  constructor(setting: ProtocolSetting, onSwitch: (from: DynamoProtocol, to: DynamoProtocol) => void = () => {}) {
    this.setting = setting;
    this.active = setting === "headers" ? "headers" : "nvext";
    this.onSwitch = onSwitch;
  }

  get current(): DynamoProtocol {
    return this.active;
  }

  /** Whether a rejected `nvext` request may be resent with headers. */
  get canFallBack(): boolean {
    return this.setting === "auto";
  }

  /** Records the rejection; switches (once) and returns the protocol to resend with. */
  fallBackToHeaders(): DynamoProtocol {
    this.fallbacks++;
    if (this.active !== "headers") {
      const from = this.active;
      this.active = "headers";
      this.onSwitch(from, "headers");
    }
    return this.active;
  }
}
