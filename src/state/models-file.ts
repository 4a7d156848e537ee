// The provider and model ids in pi's models.json, read before a session exists (pi's registry, which holds them
// later, is only handed to extensions at session start). Anything unreadable simply adds nothing.
import { readFileSync } from "node:fs";
import { join } from "node:path";

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
