// Reads the routes file and keeps the last good config: an invalid edit never takes routing down (DESIGN.md rule 8).
// The file is polled (fs.watchFile) because editors replace files atomically, which breaks fs.watch handles.
import { readFileSync, statSync } from "node:fs";
import { stat } from "node:fs/promises";
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
  /** What the file looked like when it was read ("" when missing): the watcher compares against this. */
  signature: string;
}

/** Size, mtime and inode of the file, "" when it does not exist. */
function signatureOf(stats: { size: number; mtimeMs: number; ino: number } | undefined): string {
  return stats ? `${stats.size}:${stats.mtimeMs}:${stats.ino}` : "";
}

function currentSignature(file: string): string {
  try {
    return signatureOf(statSync(file));
  } catch {
    return "";
  }
}

/** AUTO_ROUTER_CONFIG > <agentDir>/extensions/auto-router.routes.json */
export function routesFilePath(env: Record<string, string | undefined>, agentDir: string): string {
  return env.AUTO_ROUTER_CONFIG || join(agentDir, "extensions", ROUTES_FILE_NAME);
}

export function loadConfigFile(file: string, lastGood?: RouterConfig): LoadedConfig {
  // Taken before reading: an edit that lands during the read shows up as a change at the next poll.
  const signature = currentSignature(file);
  return { ...readConfig(file, lastGood), signature };
}

function readConfig(file: string, lastGood?: RouterConfig): Omit<LoadedConfig, "signature"> {
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

/**
 * Calls `onChange` when the file no longer looks as it did at the last load (`loadedSignature()`), polling every
 * CONFIG_POLL_INTERVAL_MS. It compares with what was LOADED rather than with the previous poll, so an edit made
 * between the load and the first poll is not missed; and it polls, because editors replace files atomically, which
 * breaks fs.watch handles. Returns a stop function.
 */
export function watchConfigFile(file: string, loadedSignature: () => string, onChange: () => void): () => void {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const now = await stat(file).then(signatureOf, () => "");
      if (now !== loadedSignature()) onChange();
    } finally {
      busy = false;
    }
  }, CONFIG_POLL_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
