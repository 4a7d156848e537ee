// The provider and model ids in pi's models.json, read before a session exists (pi's registry, which holds them
// later, is only handed to extensions at session start). Anything unreadable simply adds nothing.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { rememberCredentials } from "./remembered-credentials.ts";

export function readModelsFileIds(agentDir: string): Record<string, string[]> {
  try {
    const raw = JSON.parse(readFileSync(join(agentDir, "models.json"), "utf8")) as {
      providers?: Record<string, { models?: Array<{ id?: unknown }> }>;
    };
    const ids: Record<string, string[]> = {};
    for (const [provider, settings] of Object.entries(raw.providers ?? {})) {
      ids[provider] = (settings?.models ?? []).flatMap((model) => (typeof model?.id === "string" ? [model.id] : []));
    }
    return ids;
  } catch {
    return {};
  }
}

/** What pi assumes for a models.json model that leaves a field out (pi's ModelRegistry). */
const PI_MODEL_DEFAULTS = { contextWindow: 128_000, maxTokens: 16_384 };

export interface ModelsFileFacts {
  contextWindow: number;
  maxTokens: number;
  reasoning: boolean;
  /** Its thinkingLevelMap maps the xhigh level (pi offers xhigh only then). */
  xhigh?: boolean;
  vision: boolean;
  pricing: { input: number; output: number };
}

/**
 * The facts of models.json's own models ("provider/model" keys), with pi's defaults for what an entry leaves out:
 * what an offline reader (routing-replay) knows of the custom models pi would route to.
 */
export function readModelsFileFacts(agentDir: string): Map<string, ModelsFileFacts> {
  const facts = new Map<string, ModelsFileFacts>();
  try {
    const raw = JSON.parse(readFileSync(join(agentDir, "models.json"), "utf8")) as {
      providers?: Record<string, { models?: Array<Record<string, unknown>> }>;
    };
    for (const [provider, settings] of Object.entries(raw.providers ?? {})) {
      for (const model of settings?.models ?? []) {
        if (typeof model?.id !== "string") continue;
        const number = (value: unknown, fallback: number) => (typeof value === "number" ? value : fallback);
        const cost = (model.cost ?? {}) as Record<string, unknown>;
        facts.set(`${provider}/${model.id}`, {
          contextWindow: number(model.contextWindow, PI_MODEL_DEFAULTS.contextWindow),
          maxTokens: number(model.maxTokens, PI_MODEL_DEFAULTS.maxTokens),
          reasoning: model.reasoning === true,
          vision: Array.isArray(model.input) && model.input.includes("image"),
          pricing: { input: number(cost.input, 0), output: number(cost.output, 0) },
        });
        const levels = model.thinkingLevelMap as Record<string, unknown> | undefined;
        if (model.reasoning === true && typeof levels?.xhigh === "string")
          facts.get(`${provider}/${model.id}`)!.xhigh = true;
      }
    }
  } catch {
    // No models.json, or an unreadable one: nothing is known from it.
  }
  return facts;
}

/**
 * Remembers the keys and credential header values models.json gives its providers, as pi resolves them (a variable
 * named by the value, else the value itself; a `!command` is left alone: it would run now, and its key is
 * remembered when a request resolves it), so an upstream error quoting the key of a provider this process has not
 * called yet is redacted too (remembered-credentials.ts).
 */
export function rememberModelsFileCredentials(agentDir: string, env: Record<string, string | undefined>): void {
  let raw: { providers?: Record<string, { apiKey?: unknown; headers?: Record<string, unknown> }> };
  try {
    raw = JSON.parse(readFileSync(join(agentDir, "models.json"), "utf8"));
  } catch {
    return;
  }
  const resolved = (value: unknown): string | undefined => {
    if (typeof value !== "string" || value.startsWith("!")) return undefined;
    return env[value] || value;
  };
  for (const settings of Object.values(raw.providers ?? {})) {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(settings?.headers ?? {})) headers[name] = resolved(value);
    rememberCredentials(resolved(settings?.apiKey), headers);
  }
}
