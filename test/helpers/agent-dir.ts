// Builds a throw-away pi agent directory (what PI_CODING_AGENT_DIR points at) so no test reads or writes ~/.pi:
// models.json with emulator-backed providers, the router's routes file, and settings.json.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freshDir } from "./fresh-dir.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The entry pi loads from the package (package.json "pi.extensions"): the prebuilt bundle when it exists. */
export const EXTENSION_ENTRY = join(REPO_ROOT, "pi-extension.ts");
export const ROUTES_FILE_NAME = "auto-router.routes.json";

export interface ProviderSpec {
  baseUrl: string;
  api:
    | "openai-completions"
    | "anthropic-messages"
    | "openai-responses"
    | "google-generative-ai"
    | "azure-openai-responses";
  apiKey: string;
  models: Array<{
    id: string;
    contextWindow?: number;
    maxTokens?: number;
    reasoning?: boolean;
    /** pi's thinking level -> the provider's value (`null`: not offered); pi offers xhigh only when it is mapped. */
    thinkingLevelMap?: Record<string, string | null>;
    compat?: Record<string, unknown>;
    input?: ("text" | "image")[];
    cost?: { input: number; output: number; cacheRead?: number; cacheWrite?: number };
  }>;
}

// Local OpenAI-compatible servers reject these request fields; the emulators follow the same minimal dialect.
export const OPENAI_EMULATOR_COMPAT = {
  supportsDeveloperRole: false,
  supportsReasoningEffort: false,
  supportsStore: false,
};

/**
 * A route that tries its targets in the order given ("provider/modelId"), the shape most tests route over:
 * routeInOrder("mock-a/model-a", "mock-b/model-b").
 */
export function routeInOrder(...targets: string[]): {
  sortBy: "config";
  targets: Array<{ provider: string; modelId: string }>;
} {
  return {
    sortBy: "config",
    targets: targets.map((target) => {
      const slash = target.indexOf("/");
      return { provider: target.slice(0, slash), modelId: target.slice(slash + 1) };
    }),
  };
}

// pi's own agent-level retry would re-run failed prompts with multi-second backoff and hide what a test checks.
export const DEFAULT_TEST_SETTINGS: Record<string, unknown> = { retry: { enabled: false } };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep-merge settings objects: nested objects merge key by key, anything else is replaced. */
export function mergeSettings(
  base: Record<string, unknown>,
  override: Record<string, unknown> = {},
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const existing = merged[key];
    merged[key] = isPlainObject(existing) && isPlainObject(value) ? mergeSettings(existing, value) : value;
  }
  return merged;
}

function modelsJson(providers: Record<string, ProviderSpec>) {
  const entries = Object.entries(providers).map(([name, spec]) => [
    name,
    {
      baseUrl: spec.baseUrl,
      api: spec.api,
      apiKey: spec.apiKey,
      ...(spec.api === "openai-completions" ? { compat: OPENAI_EMULATOR_COMPAT } : {}),
      models: spec.models,
    },
  ]);
  return { providers: Object.fromEntries(entries) };
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** auth.json with an OAuth login (what pi's /login stores) per provider, valid for a day: a subscription. */
function writeOAuthLogins(agentDir: string, tokens: Record<string, string>): void {
  const path = join(agentDir, "auth.json");
  const expires = Date.now() + 24 * 3_600_000;
  const logins = Object.entries(tokens).map(([provider, access]) => [
    provider,
    { type: "oauth", access, refresh: `${access}-refresh`, expires },
  ]);
  writeJson(path, Object.fromEntries(logins));
  chmodSync(path, 0o600);
}

export function makeAgentDir(
  options: {
    providers?: Record<string, ProviderSpec>;
    routes?: unknown;
    settings?: Record<string, unknown>;
    /** Providers logged in with OAuth (a subscription), with the access token pi then sends. */
    oauth?: Record<string, string>;
    /** Kept when the process exits (the demo leaves it for the user to inspect); removed by cleanup() only. */
    keep?: boolean;
  } = {},
): { agentDir: string; cleanup(): void } {
  const agentDir = options.keep
    ? mkdtempSync(join(tmpdir(), "pi-auto-router-agent-"))
    : freshDir("pi-auto-router-agent");
  if (options.providers) writeJson(join(agentDir, "models.json"), modelsJson(options.providers));
  if (options.oauth) writeOAuthLogins(agentDir, options.oauth);
  if (options.routes !== undefined) writeJson(join(agentDir, "extensions", ROUTES_FILE_NAME), options.routes);
  writeJson(join(agentDir, "settings.json"), mergeSettings(DEFAULT_TEST_SETTINGS, options.settings));
  // Retries: a pi process that just exited may still be finishing a write into the directory.
  return {
    agentDir,
    cleanup: () => rmSync(agentDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }),
  };
}
