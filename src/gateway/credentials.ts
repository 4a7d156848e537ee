// pi's own model registry for the gateway: built-in models, models.json custom providers, and credentials from
// auth.json (API keys and /login OAuth, refreshed by pi's code), exactly as pi builds them for a session. 0.73.1 has
// AuthStorage + ModelRegistry; newer pi lines replaced them with ModelRuntime (pi-compat.md §2).
import { join } from "node:path";
import type { Api, Model } from "@mariozechner/pi-ai";
import type { RegistryLike } from "../runtime/start-target.ts";

type Loose = Record<string, any>;

export type GatewayRegistry = RegistryLike & { getAll?(): Model<Api>[]; getAvailable?(): Model<Api>[] };

/**
 * pi's registry and credential store alone, from the files the package index re-exports them from, when they are
 * there (0.73's layout): the index also loads pi's TUI, tools and session code, ~54 MiB of RSS (32 MiB of heap) a
 * gateway never uses and its garbage collector would walk. Any other layout loads the index.
 */
export async function loadRegistrySdk(): Promise<Loose> {
  try {
    const index = import.meta.resolve("@mariozechner/pi-coding-agent");
    const [registry, auth] = await Promise.all([
      import(new URL("./core/model-registry.js", index).href),
      import(new URL("./core/auth-storage.js", index).href),
    ]);
    if (registry.ModelRegistry?.create && auth.AuthStorage?.create)
      return { ModelRegistry: registry.ModelRegistry, AuthStorage: auth.AuthStorage };
  } catch {
    // Another layout (newer pi: ModelRuntime): the index below.
  }
  return (await import("@mariozechner/pi-coding-agent")) as Loose;
}

export async function openRegistry(agentDir: string): Promise<GatewayRegistry> {
  const sdk = await loadRegistrySdk();
  const authPath = join(agentDir, "auth.json");
  const modelsPath = join(agentDir, "models.json");
  if (sdk.AuthStorage && sdk.ModelRegistry) {
    const registry = sdk.ModelRegistry.create(sdk.AuthStorage.create(authPath), modelsPath) as GatewayRegistry & {
      getError?(): string | undefined;
    };
    const error = registry.getError?.();
    if (error) throw new Error(`${modelsPath}: ${error}`);
    return registry;
  }
  if (sdk.ModelRuntime) {
    // Newer pi: one ModelRuntime; auth is resolved per provider as {auth: {apiKey, headers, baseUrl}, env}.
    const runtime = await sdk.ModelRuntime.create({ authPath, modelsPath });
    return {
      find: (provider, modelId) => runtime.getModel(provider, modelId),
      hasConfiguredAuth: (model) => runtime.hasConfiguredAuth(model.provider),
      isUsingOAuth: (model) => runtime.isUsingOAuth(model.provider),
      getProviderAuthStatus: (provider) => runtime.getProviderAuthStatus(provider),
      getApiKeyAndHeaders: async (model) => {
        const result = await runtime.getAuth(model);
        if (!result) return { ok: false, error: `no credentials for ${model.provider} (pi /login or an API key)` };
        return {
          ok: true,
          apiKey: result.auth?.apiKey,
          headers: result.auth?.headers,
          baseUrl: result.auth?.baseUrl,
          env: result.env,
        };
      },
      getAll: () => [...runtime.getModels()],
      getAvailable: () => [...runtime.getAvailableSnapshot()],
    };
  }
  throw new Error(
    "the installed pi SDK offers neither ModelRegistry nor ModelRuntime: install @mariozechner/pi-coding-agent",
  );
}
