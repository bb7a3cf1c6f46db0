// openclaw@2026.9.6 ships `openclaw/plugin-sdk/provider-setup` without type declarations; these are
// the two helpers the provider uses (dist/provider-setup-*.mjs), typed as loosely as they are used.
declare module "openclaw/plugin-sdk/provider-setup" {
  interface SelfHostedAuthParams {
    providerId: string;
    providerLabel: string;
    defaultBaseUrl: string;
    defaultApiKeyEnvVar: string;
    modelPlaceholder: string;
  }
  export function promptAndConfigureOpenAICompatibleSelfHostedProviderAuth(
    params: SelfHostedAuthParams & { cfg: unknown; prompter: unknown },
  ): Promise<never>;
  export function configureOpenAICompatibleSelfHostedProviderNonInteractive(
    params: SelfHostedAuthParams & { ctx: unknown },
  ): Promise<never>;
}
