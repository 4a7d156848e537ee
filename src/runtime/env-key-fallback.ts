// API keys under the environment names the earlier pi-auto-router's README promised, for users who set them
// for it: Gemini (pi's "google" provider) from GOOGLE_API_KEY or GOOGLE_KEY, DeepSeek from DEEPSEEK_API_KEY or
// DEEPSEEK_KEY. Only a fallback: pi's own credentials (auth.json, /login, its env names such as GEMINI_API_KEY,
// models.json) always win, and the key goes only into the target's request options, never into a log or message.
// Implemented as a view over pi's registry so every reader (routing's credential check, target calls, balance
// fetches) sees the same answer on every pi line.
import type { Api, Model } from "@mariozechner/pi-ai";
import { registryView } from "./registry-view.ts";
import type { AuthResult, RegistryLike } from "./start-target.ts";
import { ownRecord } from "../own-record.ts";

export const ENV_KEY_FALLBACKS: Readonly<Record<string, readonly string[]>> = ownRecord({
  google: ["GOOGLE_API_KEY", "GOOGLE_KEY"],
  deepseek: ["DEEPSEEK_API_KEY", "DEEPSEEK_KEY"],
});

/** The first fallback variable set for the provider: its name (safe to show) and value (never shown). */
export function fallbackKey(
  provider: string,
  processEnv: Record<string, string | undefined>,
): { name: string; value: string } | undefined {
  for (const name of ENV_KEY_FALLBACKS[provider] ?? []) {
    const value = processEnv[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

/** pi's registry, answering with a fallback key for providers pi has no credential for. Other members pass through. */
export function withEnvironmentKeyFallbacks<R extends RegistryLike>(
  registry: R,
  processEnv: Record<string, string | undefined>,
): R {
  const piHasAuth = (model: Model<Api>) => {
    try {
      return registry.hasConfiguredAuth(model);
    } catch {
      return false;
    }
  };
  const overrides = {
    hasConfiguredAuth: (model: Model<Api>) => piHasAuth(model) || fallbackKey(model.provider, processEnv) !== undefined,
    async getApiKeyAndHeaders(model: Model<Api>): Promise<AuthResult> {
      const fallback = fallbackKey(model.provider, processEnv);
      if (!fallback || piHasAuth(model)) return registry.getApiKeyAndHeaders(model);
      const auth = await registry.getApiKeyAndHeaders(model).catch(() => undefined);
      if (auth?.ok && auth.apiKey) return auth;
      return { ...(auth?.ok ? auth : {}), ok: true, apiKey: fallback.value };
    },
    getProviderAuthStatus(provider: string) {
      const status = registry.getProviderAuthStatus?.(provider);
      if (status?.configured) return status;
      const fallback = fallbackKey(provider, processEnv);
      return fallback ? { configured: true, source: fallback.name } : (status ?? { configured: false });
    },
  };
  return registryView(registry, overrides);
}
