/**
 * The `dynamo` provider: OpenClaw's OpenAI-compatible streaming path (`openai-completions`) pointed
 * at a Dynamo frontend, with models discovered from `/v1/models` and any `dynamo/<id>` accepted.
 * Per-request identity and tracing are added by the stream wrapper (./stream.ts).
 */
import type { ProviderPlugin } from "openclaw/plugin-sdk/plugin-entry";
import type { ProviderDeps } from "./deps.ts";
import { discoverModels } from "./discovery.ts";
import { MODEL_API, PROVIDER_ID, modelDefinition, runtimeModel, trimBaseUrl } from "./models.ts";
import { createStreamWrapper } from "./stream.ts";

export const API_KEY_ENV = "DYNAMO_API_KEY";
const LABEL = "NVIDIA Dynamo";
const loadSetup = () => import("openclaw/plugin-sdk/provider-setup");

/**
 * `current` returns the services generation in use (src/generations.ts): a provider registered
 * before a plugin replacement reads the new settings, and each request keeps the generation it
 * started with.
 */
export function createDynamoProvider(current: () => ProviderDeps): ProviderPlugin {
  const baseUrlFor = (providerConfig: unknown): string => {
    const configured = (providerConfig as { baseUrl?: unknown } | undefined)?.baseUrl;
    return trimBaseUrl(configured) || current().config.baseUrl;
  };
  return {
    id: PROVIDER_ID,
    label: LABEL,
    docsPath: "https://github.com/ai-dynamo/dynamo",
    envVars: [API_KEY_ENV, "DYNAMO_BASE_URL"],
    // `openclaw configure` / onboarding: OpenClaw's own self-hosted OpenAI-compatible setup flow
    // (the one the bundled vLLM and SGLang providers use), matching the manifest's auth choice.
    auth: [
      {
        id: "custom",
        label: LABEL,
        hint: "Self-hosted NVIDIA Dynamo frontend (OpenAI-compatible)",
        kind: "custom",
        run: async (ctx: { config: unknown; prompter: unknown }) =>
          (await loadSetup()).promptAndConfigureOpenAICompatibleSelfHostedProviderAuth({
            cfg: ctx.config,
            prompter: ctx.prompter,
            ...setupDefaults(current().config.baseUrl),
          }),
        runNonInteractive: async (ctx: unknown) =>
          (await loadSetup()).configureOpenAICompatibleSelfHostedProviderNonInteractive({ ctx, ...setupDefaults(current().config.baseUrl) }),
      },
    ],
    catalog: {
      order: "late",
      run: async (ctx: CatalogContext) => {
        const deps = current();
        const { config } = deps;
        // `/models` goes where the model requests go, with the same key: OpenClaw's resolved
        // `models.providers.dynamo` (e.g. after onboarding) and auth profile, else the plugin's settings.
        const baseUrl = baseUrlFor(ctx?.config?.models?.providers?.[PROVIDER_ID]);
        const apiKey = config.apiKeyFromUser ? config.apiKey : (resolvedKey(ctx) ?? config.apiKey);
        const result = await discoverModels(baseUrl, apiKey);
        if (!result.ok) {
          deps.warnOnce(
            "discovery",
            `model discovery at ${baseUrl}/models failed (${result.reason}); ` +
              "models named as dynamo/<model-id> still work.",
          );
        }
        return {
          provider: {
            baseUrl,
            api: MODEL_API,
            models: result.ok ? result.modelIds.map(modelDefinition) : [],
          },
        };
      },
    },
    resolveDynamicModel: (ctx) => runtimeModel(ctx.modelId, baseUrlFor(ctx.providerConfig)),
    // Availability checks consult this; the request path in OpenClaw 2026.9.6 does not (it needs the
    // env var, which plugin.ts seeds), see openclaw-plugin-sdk.md §13.
    resolveSyntheticAuth: () => ({ apiKey: current().config.apiKey, source: "openclaw-dynamo", mode: "api-key" }),
    buildUnknownModelHint: () =>
      `Dynamo models are addressed as dynamo/<model-id>; check DYNAMO_BASE_URL (now ${current().config.baseUrl}).`,
    wrapStreamFn: createStreamWrapper(current),
  } as ProviderPlugin;
}

/** What the catalog hook receives (only the fields used here; every one checked). */
interface CatalogContext {
  config?: { models?: { providers?: Record<string, unknown> } };
  resolveProviderApiKey?: (providerId?: string) => { apiKey?: string | undefined; discoveryApiKey?: string | undefined };
}

function resolvedKey(ctx: CatalogContext | undefined): string | undefined {
  try {
    const resolved = ctx?.resolveProviderApiKey?.(PROVIDER_ID);
    const key = resolved?.discoveryApiKey ?? resolved?.apiKey;
    return typeof key === "string" && key.trim() ? key : undefined;
  } catch {
    return undefined;
  }
}

function setupDefaults(baseUrl: string) {
  return {
    providerId: PROVIDER_ID,
    providerLabel: LABEL,
    defaultBaseUrl: baseUrl,
    defaultApiKeyEnvVar: API_KEY_ENV,
    modelPlaceholder: "Qwen/Qwen3-0.6B",
  };
}
