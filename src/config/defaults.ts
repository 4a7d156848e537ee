// Built-in routes, used when no routes file exists. Every model id here is in pi 0.73.1's catalogue; a target
// that the running pi does not know (or has no credentials for) is skipped with a reason, never an error.
import type { RouteConfig, RouterConfig } from "./schema.ts";

const target = (provider: string, modelId: string, label?: string) => ({
  provider,
  modelId,
  ...(label ? { label } : {}),
});

const routes: Record<string, RouteConfig> = {
  "subscription-reasoning": {
    name: "Auto: subscription reasoning",
    description: "Hard problems: the strongest reasoning models first",
    targets: [
      target("anthropic", "claude-opus-4-7", "Claude Opus 4.7"),
      target("openai-codex", "gpt-5.5", "GPT-5.5 (Codex)"),
      target("google", "gemini-3.1-pro-preview", "Gemini 3.1 Pro"),
      target("deepseek", "deepseek-v4-pro", "DeepSeek V4 Pro"),
    ],
  },
  "subscription-swe": {
    name: "Auto: subscription coding",
    description: "Everyday software engineering",
    targets: [
      target("anthropic", "claude-sonnet-4-6", "Claude Sonnet 4.6"),
      target("openai-codex", "gpt-5.3-codex", "GPT-5.3 Codex"),
      target("anthropic", "claude-opus-4-7", "Claude Opus 4.7"),
      target("google", "gemini-3.1-pro-preview", "Gemini 3.1 Pro"),
      target("moonshotai", "kimi-k2.6", "Kimi K2.6"),
      target("deepseek", "deepseek-v4-pro", "DeepSeek V4 Pro"),
    ],
  },
  "subscription-long-context": {
    name: "Auto: subscription long context",
    description: "Large repositories and long documents: 1M-token windows",
    targets: [
      target("anthropic", "claude-sonnet-4-6", "Claude Sonnet 4.6 (1M)"),
      target("google", "gemini-3.1-pro-preview", "Gemini 3.1 Pro (1M)"),
      target("google", "gemini-2.5-pro", "Gemini 2.5 Pro (1M)"),
      target("deepseek", "deepseek-v4-pro", "DeepSeek V4 Pro (1M)"),
    ],
  },
  "subscription-economy": {
    name: "Auto: subscription economy",
    description: "Cheap and good enough",
    targets: [
      target("openai-codex", "gpt-5.4-mini", "GPT-5.4 mini (Codex)"),
      target("google", "gemini-3-flash-preview", "Gemini 3 Flash"),
      target("deepseek", "deepseek-v4-flash", "DeepSeek V4 Flash"),
      target("anthropic", "claude-haiku-4-5", "Claude Haiku 4.5"),
    ],
  },
  "subscription-fast": {
    name: "Auto: subscription fast",
    description: "Lowest latency first",
    targets: [
      target("google", "gemini-3-flash-preview", "Gemini 3 Flash"),
      target("openai-codex", "gpt-5.4-mini", "GPT-5.4 mini (Codex)"),
      target("anthropic", "claude-haiku-4-5", "Claude Haiku 4.5"),
      target("deepseek", "deepseek-v4-flash", "DeepSeek V4 Flash"),
    ],
  },
};

export const DEFAULT_CONFIG: RouterConfig = {
  defaultRoute: "subscription-swe",
  routes,
  aliases: {
    reasoning: "subscription-reasoning",
    swe: "subscription-swe",
    long: "subscription-long-context",
    economy: "subscription-economy",
    fast: "subscription-fast",
  },
  tiers: {
    reasoning: { route: "subscription-reasoning" },
    swe: { route: "subscription-swe" },
    long: { route: "subscription-long-context" },
    fast: { route: "subscription-fast" },
  },
};

export const DEFAULT_COOLDOWN_WAIT_MS = 30_000;

/** A fresh deep copy, so no caller can mutate the built-in defaults. */
export function defaultConfig(): RouterConfig {
  return structuredClone(DEFAULT_CONFIG);
}
