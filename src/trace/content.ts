/**
 * Opt-in content capture (SPEC §2: off by default, per class, truncated). Only called when the
 * class is enabled, so the default path never serializes prompts, completions or tool payloads.
 */
export function truncate(value: string, maxChars: number): string {
  return value.length <= maxChars ? value : `${value.slice(0, maxChars)}…[truncated ${value.length - maxChars} chars]`;
}

/** Text of a string, an OpenAI/pi content array, or a tool result `{content: [...]}`; JSON otherwise. */
export function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (value == null) return "";
  const parts = Array.isArray(value) ? value : (value as { content?: unknown }).content;
  if (Array.isArray(parts)) {
    return parts
      .map((part) => {
        if (typeof part === "string") return part;
        const text = (part as { text?: unknown } | null)?.text;
        return typeof text === "string" ? text : safeJson(part);
      })
      .join("\n");
  }
  return safeJson(value);
}

export function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "[unserializable]";
  }
}
