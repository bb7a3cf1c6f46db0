// openclaw@2026.9.6 ships `openclaw/plugin-sdk/llm` without type declarations; the fault suite uses
// only its `stream` (OpenClaw's own model transport, dist/stream-*.mjs), typed as loosely as it is used.
declare module "openclaw/plugin-sdk/llm" {
  export function stream(model: unknown, context: unknown, options?: unknown): unknown;
}
