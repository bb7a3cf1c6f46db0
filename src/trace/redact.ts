/**
 * The last line of defence for SPEC §2 ("never written to spans, records or logs"): the secrets the
 * plugin knows — the user's Dynamo API key and the OTLP header values — are replaced in everything a
 * span carries (name, attributes, status, events) just before it ends, so neither the exporter nor
 * the relay ever sees them, whatever text ended up there: an error body that echoes the key, a
 * captured tool result that read a `.env` file, a tool error that printed a token.
 */
import type { AttributeValue, Attributes } from "@opentelemetry/api";
import type { Span, SpanProcessor } from "@opentelemetry/sdk-trace";
import type { DynamoPluginConfig } from "../types.ts";

export const REDACTED = "[redacted]";
/** Shorter values ("1", "on") would mangle unrelated text; the same rule as config warnings. */
const MIN_SECRET_LENGTH = 6;

/** Read by the OTel exporters themselves (merged under explicit headers), so their values are secrets too. */
const OTLP_HEADER_ENV = ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"] as const;

/**
 * The secret values of `config` and `env`: the user's API key and each OTLP header value (and its
 * token after `Bearer `) — from the config, and from `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS` even when
 * the config's own `otlpHeaders` replace them for the plugin (the exporters still send them).
 */
export function secretsOf(
  config: Pick<DynamoPluginConfig, "apiKey" | "apiKeyFromUser" | "otlpHeaders">,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] {
  const values = [config.apiKeyFromUser ? config.apiKey : undefined, ...Object.values(config.otlpHeaders), ...OTLP_HEADER_ENV.flatMap((name) => envHeaderValues(env[name]))];
  const secrets = new Set<string>();
  for (const value of values) {
    if (typeof value !== "string") continue;
    secrets.add(value.trim());
    const token = /^\S+\s+(\S+)$/.exec(value.trim())?.[1];
    if (token) secrets.add(token);
  }
  // Longest first, so a value is replaced before a part of it.
  return [...secrets].filter((secret) => secret.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/** The values of a `key=value,key2=value2` header list, raw and percent-decoded (W3C baggage style, as the exporters read it). */
function envHeaderValues(list: string | undefined): string[] {
  if (!list) return [];
  const values: string[] = [];
  for (const pair of list.split(",")) {
    const at = pair.indexOf("=");
    if (at < 0) continue;
    const raw = pair.slice(at + 1).trim();
    values.push(raw);
    try {
      values.push(decodeURIComponent(raw));
    } catch {
      // Not percent-encoded after all: the raw value is the secret.
    }
  }
  return values;
}

/** `text` with every one of `secrets` (longest first, as secretsOf orders them) replaced by REDACTED. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

export class SecretRedactingProcessor implements SpanProcessor {
  private readonly secrets: readonly string[];

  constructor(secrets: readonly string[]) {
    this.secrets = secrets;
  }

  onStart(): void {}

  onEnding(span: Span): void {
    try {
      const name = this.scrub(span.name);
      if (name !== span.name) span.updateName(name);
      const attributes = this.scrubAttributes(span.attributes);
      if (attributes) span.setAttributes(attributes);
      const message = span.status.message;
      if (message !== undefined && this.scrub(message) !== message) span.setStatus({ code: span.status.code, message: this.scrub(message) });
      for (const event of span.events) {
        if (!event.attributes) continue;
        const scrubbed = this.scrubAttributes(event.attributes);
        if (scrubbed) Object.assign(event.attributes, scrubbed);
      }
    } catch {
      // Never let redaction break span.end() inside a hook.
    }
  }

  onEnd(): void {}

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}

  /** The changed attributes only (undefined when nothing needed redaction). */
  private scrubAttributes(attributes: Attributes): Attributes | undefined {
    let changed: Attributes | undefined;
    for (const [key, value] of Object.entries(attributes)) {
      const scrubbed = this.scrubValue(value);
      if (scrubbed !== value) (changed ??= {})[key] = scrubbed;
    }
    return changed;
  }

  private scrubValue(value: AttributeValue | undefined): AttributeValue | undefined {
    if (typeof value === "string") return this.scrub(value);
    if (Array.isArray(value) && value.some((item) => typeof item === "string" && this.scrub(item) !== item)) {
      return value.map((item) => (typeof item === "string" ? this.scrub(item) : item)) as AttributeValue;
    }
    return value;
  }

  private scrub(text: string): string {
    return redactSecrets(text, this.secrets);
  }
}
