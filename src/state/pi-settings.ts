// Reads pi's own settings (never writes them): its global settings.json, with the project's `.pi/settings.json` (of the
// directory pi runs in) over it, merged as pi merges them. The earlier pi-auto-router kept its UVI switch there as
// `autoRouterUviEnabled`; pi's `retry.baseDelayMs` says when pi's own retry of a failed prompt comes. Missing or
// unreadable settings read as none; pi reports a broken file itself. An SDK app that hands pi its settings in memory
// is not read.
import { join } from "node:path";
import { isObject } from "../is-object.ts";
import { readOptionalText } from "./read-optional-file.ts";

/** pi's default `retry.baseDelayMs`: its first retry of a failed prompt comes this long after it. */
export const PI_DEFAULT_RETRY_DELAY_MS = 2000;

function readSettingsFile(path: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readOptionalText(path) ?? "{}");
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** The directory the process runs in; none when it was removed meanwhile (process.cwd() then throws). */
function currentDirectory(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}

export interface PiSettings {
  /** The merged settings. */
  values: Record<string, unknown>;
  /** The file a top-level setting's value comes from, in words: `pi's settings.json` or the project's file. */
  fileOf(key: string): string;
}

export const GLOBAL_SETTINGS_FILE = "pi's settings.json";

export function readPiSettings(agentDir: string, cwd = currentDirectory()): PiSettings {
  const values = readSettingsFile(join(agentDir, "settings.json"));
  const fromProject = new Set<string>();
  const projectFile = cwd === undefined ? undefined : join(cwd, ".pi", "settings.json");
  // pi's own merge: a project's object setting merges into the global one's, one level deep; any other value wins.
  for (const [key, value] of Object.entries(projectFile ? readSettingsFile(projectFile) : {})) {
    const base = values[key];
    values[key] = isObject(value) && isObject(base) ? { ...base, ...value } : value;
    fromProject.add(key);
  }
  return {
    values,
    fileOf: (key) => (fromProject.has(key) ? `the project's ${projectFile}` : GLOBAL_SETTINGS_FILE),
  };
}

/** When pi's first retry of a failed prompt comes (its `retry.baseDelayMs`, else its default). */
export function piRetryDelayMs(settings: Record<string, unknown>): number {
  const delay = isObject(settings.retry) ? settings.retry.baseDelayMs : undefined;
  return typeof delay === "number" && Number.isFinite(delay) && delay >= 0 ? delay : PI_DEFAULT_RETRY_DELAY_MS;
}
