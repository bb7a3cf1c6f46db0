/**
 * Size of a tool result, never its content: feeds `dynamo.tool.output_bytes` on tool spans and
 * the relay's `output_bytes`. Same rule as Dynamo's Pi relay (ai-dynamo/agent-plugins
 * `pi-plugin/src/light/tool-relay.ts`): UTF-8 bytes of the result's text parts joined by `\n`,
 * non-text parts JSON-stringified.
 */
import { Buffer } from "node:buffer";

/**
 * UTF-8 byte length of an OpenClaw tool result (`{content: [{type: "text", text}, …], details?}`).
 * A plain string counts as its bytes, an array as a content list, any other value as its JSON;
 * `undefined`/`null` and unserializable values (cycles, BigInt, throwing getters) count 0. Never throws.
 */
export function toolOutputBytes(result: unknown): number {
  try {
    if (result === undefined || result === null) return 0;
    if (typeof result === "string") return Buffer.byteLength(result, "utf8");
    const parts = Array.isArray(result) ? result : contentOf(result);
    if (parts === undefined) return partBytes(result);
    // Summed per part instead of joining, so a large result is never copied into one string.
    let bytes = parts.length > 0 ? parts.length - 1 : 0;
    for (const part of parts) bytes += partBytes(part);
    return bytes;
  } catch {
    return 0;
  }
}

function contentOf(result: unknown): readonly unknown[] | undefined {
  if (typeof result !== "object" || result === null) return undefined;
  const content = (result as { content?: unknown }).content;
  return Array.isArray(content) ? content : undefined;
}

function partBytes(part: unknown): number {
  if (typeof part === "string") return Buffer.byteLength(part, "utf8");
  if (typeof part === "object" && part !== null) {
    const text = (part as { text?: unknown }).text;
    if (typeof text === "string") return Buffer.byteLength(text, "utf8");
  }
  try {
    // JSON.stringify returns undefined for functions/symbols and throws on cycles and BigInt.
    const json = JSON.stringify(part);
    return json === undefined ? 0 : Buffer.byteLength(json, "utf8");
  } catch {
    return 0;
  }
}
