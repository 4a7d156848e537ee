// Reads the routes file and keeps the last good config: an invalid edit never takes routing down (DESIGN.md rule 8).
// The file is polled (fs.watchFile) because editors replace files atomically, which breaks fs.watch handles.
import { readFileSync, statSync, unwatchFile, watchFile, type Stats } from "node:fs";
import { join } from "node:path";
import { defaultConfig } from "../config/defaults.ts";
import { formatIssue, type ConfigIssue } from "../config/issues.ts";
import { parseConfigText } from "../config/parse-config.ts";
import type { RouterConfig } from "../config/schema.ts";

export const ROUTES_FILE_NAME = "auto-router.routes.json";
export const CONFIG_POLL_INTERVAL_MS = 1_500;

export type ConfigOrigin = "file" | "defaults" | "last-good";

export interface LoadedConfig {
  file: string;
  config: RouterConfig;
  issues: ConfigIssue[];
  origin: ConfigOrigin;
}

/** AUTO_ROUTER_CONFIG > <agentDir>/extensions/auto-router.routes.json */
export function routesFilePath(env: Record<string, string | undefined>, agentDir: string): string {
  return env.AUTO_ROUTER_CONFIG || join(agentDir, "extensions", ROUTES_FILE_NAME);
}

export function loadConfigFile(file: string, lastGood?: RouterConfig): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { file, config: defaultConfig(), issues: [], origin: "defaults" };
    const issues: ConfigIssue[] = [{ severity: "error", path: "", message: `cannot read the file (${code ?? "error"})` }];
    return lastGood ? { file, config: lastGood, issues, origin: "last-good" } : { file, config: defaultConfig(), issues, origin: "defaults" };
  }
  const parsed = parseConfigText(text);
  if (parsed.config) return { file, config: parsed.config, issues: parsed.issues, origin: "file" };
  return lastGood
    ? { file, config: lastGood, issues: parsed.issues, origin: "last-good" }
    : { file, config: defaultConfig(), issues: parsed.issues, origin: "defaults" };
}

/** One line per issue, plus what the router does about it. */
export function describeLoad(loaded: LoadedConfig): string[] {
  const lines = loaded.issues.map((issue) => formatIssue(loaded.file, issue));
  if (loaded.issues.some((i) => i.severity === "error")) {
    lines.push(loaded.origin === "last-good"
      ? `auto-router: ${loaded.file} is invalid; keeping the last good config`
      : `auto-router: ${loaded.file} is invalid; using the built-in routes`);
  }
  return lines;
}

/** Calls `onChange` when the file's content may have changed. Returns a stop function. */
export function watchConfigFile(file: string, onChange: () => void): () => void {
  const listener = (current: Stats, previous: Stats) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) onChange();
  };
  const watcher = watchFile(file, { interval: CONFIG_POLL_INTERVAL_MS, persistent: false }, listener);
  watcher.unref?.();
  return () => unwatchFile(file, listener);
}

export function fileExists(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
