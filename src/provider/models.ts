/**
 * The runtime model object OpenClaw needs for a `dynamo/<id>` model. Dynamo serves arbitrary
 * models behind one OpenAI-compatible frontend, so every model gets the same conservative shape.
 */

export const PROVIDER_ID = "dynamo";
export const MODEL_API = "openai-completions";
export const DEFAULT_CONTEXT_WINDOW = 131_072;
export const DEFAULT_MAX_TOKENS = 4_096;

export interface DynamoModelDefinition {
  id: string;
  name: string;
  reasoning: boolean;
  input: Array<"text">;
  cost: { input: number; output: number; cacheRead: number; cacheWrite: number };
  contextWindow: number;
  maxTokens: number;
}

export function modelDefinition(id: string): DynamoModelDefinition {
  return {
    id,
    name: id,
    reasoning: false,
    input: ["text"],
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow: DEFAULT_CONTEXT_WINDOW,
    maxTokens: DEFAULT_MAX_TOKENS,
  };
}


/** A configured base URL without surrounding space and trailing slashes; "" when not a string or empty. */
export function trimBaseUrl(value: unknown): string {
  return typeof value === "string" ? value.trim().replace(/\/+$/, "") : "";
}
export function runtimeModel(id: string, baseUrl: string) {
  return { ...modelDefinition(id), provider: PROVIDER_ID, api: MODEL_API, baseUrl } as const;
}
