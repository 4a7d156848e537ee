// Reads pi's own settings.json (never writes it): the earlier pi-auto-router kept its UVI switch there as
// `autoRouterUviEnabled`. Missing or unreadable settings read as none; pi reports a broken file itself.
import { join } from "node:path";
import { readOptionalText } from "./read-optional-file.ts";

export function readPiSettings(agentDir: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readOptionalText(join(agentDir, "settings.json")) ?? "{}");
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
