// Reads the routes file and keeps the last good config: an invalid edit never takes routing down (DESIGN.md rule 8).
// Each valid file is also copied into the state directory, so a pi that STARTS on a broken file runs on that copy
// instead of silently swapping the user's routes for the built-in ones. Without a copy, the route ids the broken file
// declares are still registered (pi keeps the selected auto-router model) and their requests fail with the error.
// The file is polled (fs.watchFile) because editors replace files atomically, which breaks fs.watch handles.
import { readFileSync, statSync } from "node:fs";
import { stat } from "node:fs/promises";
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { parse as parseLenient } from "jsonc-parser";
import writeFileAtomic from "write-file-atomic";
import { defaultConfig, type KnowsModel } from "../config/defaults.ts";
import { formatIssue, type ConfigIssue } from "../config/issues.ts";
import { type ParsedConfig, parseConfigText } from "../config/parse-config.ts";
import type { RouterConfig } from "../config/schema.ts";

import { isObject } from "../is-object.ts";
import { ROUTES_FILE_NAME } from "./state-paths.ts";
import { firstNonDirectory, makeDirectorySync } from "./state-file.ts";
import { plural } from "../analytics/text-format.ts";
export { ROUTES_FILE_NAME, routesFilePath } from "./state-paths.ts";
export const LAST_GOOD_COPY_NAME = "auto-router.routes.last-good.json";
export const CONFIG_POLL_INTERVAL_MS = 1_500;

/**
 * file: the routes file itself; defaults: the built-in routes (no file); last-good: the file is invalid and the
 * previous good config (in memory, or the copy in the state directory) is used; declared: the file is invalid, no
 * good copy exists, and only its route ids are registered, each failing its requests with the error; missing: the
 * file was there and has been removed (or renamed away) while running, and the config it gave is kept until it is
 * back (a deleted file swapping the user's routes for the built-in ones would fail every request on them).
 */
export type ConfigOrigin = "file" | "defaults" | "last-good" | "declared" | "missing";

export interface LoadedConfig {
  file: string;
  config: RouterConfig;
  issues: ConfigIssue[];
  origin: ConfigOrigin;
  /** The copy in the state directory this config came from (origin last-good at start-up). */
  copy?: string;
  /** What the file looked like when it was read ("" when missing): the watcher compares against this. */
  signature: string;
  /** The file existed at the previous load and is gone now (origin missing, or defaults when nothing good was kept). */
  removed?: boolean;
  /** Line and column of a path in the file the config was read from (origin file, or last-good from the copy). */
  locate?: (path: string) => { line: number; column: number } | undefined;
  /**
   * The file, its copy or the config kept from it has no routes of its own (only settings for the built-in routes).
   * servesBuiltInRoutes() also counts origin defaults (no file).
   */
  builtInRoutes?: boolean;
}

export interface LoadOptions {
  /** The config in use before this load (kept when the file turns invalid). */
  lastGood?: RouterConfig;
  /** That config runs on the built-in routes (LoadedConfig.builtInRoutes). */
  lastGoodBuiltInRoutes?: boolean;
  /** Where the last good copy lives, given the config's logDir (the state directory depends on it). */
  copyPath?: (logDir: string | undefined) => string;
  /** The file existed at the previous load: its absence now is a removal worth reporting, not the no-file default. */
  existed?: boolean;
  /** The running pi's catalogue, which picks the built-in routes' model ids of its line (defaults.ts). */
  knowsModel?: KnowsModel;
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

/**
 * The name of a routes file's last good copy in the state directory: the usual one for the agent dir's own routes
 * file, and one of its own for any other (AUTO_ROUTER_CONFIG), so that a run on another file never replaces the copy
 * a broken start of the usual file falls back to.
 */
export function lastGoodCopyName(file: string, agentDir: string): string {
  const path = resolve(file);
  if (path === resolve(agentDir, "extensions", ROUTES_FILE_NAME)) return LAST_GOOD_COPY_NAME;
  return `auto-router.routes.last-good.${createHash("sha256").update(path).digest("hex").slice(0, 12)}.json`;
}

export function loadConfigFile(file: string, options: LoadOptions = {}): LoadedConfig {
  // Taken before reading: an edit that lands during the read shows up as a change at the next poll.
  const signature = currentSignature(file);
  return { ...readConfig(file, options), signature };
}

function readConfig(file: string, options: LoadOptions): Omit<LoadedConfig, "signature"> {
  let text: string | undefined;
  let issues: ConfigIssue[];
  try {
    text = readFileSync(file, "utf8");
    const parsed = parseConfigText(text, options.knowsModel);
    if (parsed.config) {
      if (options.copyPath) saveCopy(options.copyPath(parsed.config.logDir), text);
      return {
        file,
        config: parsed.config,
        issues: parsed.issues,
        origin: "file",
        locate: parsed.locate,
        builtInRoutes: parsed.builtInRoutes === true,
      };
    }
    issues = parsed.issues;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      if (options.existed && options.lastGood)
        return {
          file,
          config: options.lastGood,
          issues: [],
          origin: "missing",
          removed: true,
          ...keptBuiltIn(options),
        };
      return {
        file,
        config: defaultConfig(options.knowsModel),
        issues: [],
        origin: "defaults",
        ...(options.existed && { removed: true }),
      };
    }
    issues = [{ severity: "error", path: "", message: readErrorText(file, code) }];
  }
  if (options.lastGood) return { file, config: options.lastGood, issues, origin: "last-good", ...keptBuiltIn(options) };
  // Start-up on a broken file: whatever can still be read of it says where the state directory is and which routes
  // the user has (pi may have one of them selected).
  const readable = text === undefined ? undefined : lenientValue(text);
  if (options.copyPath) {
    const copy = options.copyPath(typeof readable?.logDir === "string" ? readable.logDir : undefined);
    const saved = readCopy(copy, options.knowsModel);
    if (saved?.config)
      return {
        file,
        config: saved.config,
        issues,
        origin: "last-good",
        copy,
        locate: saved.locate,
        builtInRoutes: saved.builtInRoutes === true,
      };
  }
  const declared = declaredRouteIds(readable?.routes);
  if (declared.length === 0) return { file, config: defaultConfig(options.knowsModel), issues, origin: "defaults" };
  const routes = Object.fromEntries(declared.map((id) => [id, { targets: [] }]));
  return {
    file,
    // The built-in tiers and aliases name built-in routes, which are not registered beside the file's: no tier route
    // is known, and no alias (`/auto-router aliases` listed the built-in ones as unresolved, `switch fast` named one).
    config: { routes } as RouterConfig,
    issues,
    origin: "declared",
  };
}

/**
 * Why the routes file cannot be read: a file where one of its directories should be is named (ENOTDIR). The issue is
 * shown after the routes file's path (formatIssue), which is not repeated.
 */
function readErrorText(file: string, code: string | undefined): string {
  const blocker = code === "ENOTDIR" ? firstNonDirectory(dirname(file)) : undefined;
  if (blocker) return `${blocker} is a file, not a directory: the routes file cannot be there`;
  // What a user can act on, with the code to search for.
  if (code === "EISDIR") return "cannot read the file: it is a directory, not a file (EISDIR)";
  if (code === "EACCES" || code === "EPERM") return `cannot read the file: permission denied for this user (${code})`;
  return `cannot read the file (${code ?? "error"})`;
}

/** As much of a broken JSON file as can be read (a missing comma does not hide the rest). */
function lenientValue(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = parseLenient(text, [], { allowTrailingComma: true });
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps a copy of a valid routes file; unchanged copies are not rewritten. A failure only costs the fallback. */
function saveCopy(copy: string, text: string): void {
  try {
    if (readOptionalText(copy) === text) return;
    makeDirectorySync(dirname(copy), 0o700); // not Node's recursive mkdir, which never returns under /proc
    writeFileAtomic.sync(copy, text, { mode: 0o600 });
  } catch {
    // The state directory's own problems are reported once by the stores that live there.
  }
}

function readCopy(copy: string, knowsModel: KnowsModel | undefined): ParsedConfig | undefined {
  const text = readOptionalText(copy);
  return text === undefined ? undefined : parseConfigText(text, knowsModel);
}

const keptBuiltIn = (options: LoadOptions) => (options.lastGoodBuiltInRoutes ? { builtInRoutes: true } : {});

function readOptionalText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The error a request on a `declared` route fails with: the file, where it is broken, and what to do. */
export function configErrorText(loaded: LoadedConfig, routeId: string): string | undefined {
  if (loaded.origin === "file") return undefined;
  const first = loaded.issues.find((issue) => issue.severity === "error");
  if (!first) return undefined;
  const problem = formatIssue(loaded.file, first).replace(/^error: /, "");
  if (loaded.origin === "declared")
    return `auto-router: route ${routeId} cannot be served: the routes file is invalid (${problem}). Fix the file; it is re-read automatically.`;
  // On the last good (or built-in) routes, a route only the broken file has: the invalid file is why it is unknown.
  // A gateway's one-target route (`provider/model`) is no route of the file.
  if (loaded.config.routes[routeId] || routeId.includes("/")) return undefined;
  const using = loaded.origin === "last-good" ? "the last good routes" : "the built-in routes";
  return `auto-router: route ${routeId} is not in ${using} the router runs on while the routes file is invalid (${problem}). Fix the file; it is re-read automatically.`;
}

/** The routes in use are the built-in ones: there is no routes file, or it has no routes of its own. */
export const servesBuiltInRoutes = (loaded: LoadedConfig): boolean =>
  loaded.origin === "defaults" || loaded.builtInRoutes === true;

/** One phrase for where the config in use came from (status, reload). */
export function describeOrigin(loaded: LoadedConfig): string {
  switch (loaded.origin) {
    case "file":
      return loaded.builtInRoutes
        ? "loaded: no routes of its own, its settings apply to the built-in routes"
        : "loaded";
    case "defaults":
      return loaded.issues.some((issue) => issue.severity === "error")
        ? "INVALID, using the built-in routes"
        : // Only a file that is not there leaves the built-in routes without an error: the path alone read as a file.
          "not found: the built-in routes serve";
    case "last-good":
      return loaded.copy
        ? `INVALID, running on the last good copy ${loaded.copy}`
        : "INVALID, keeping the last good config";
    case "declared":
      return "INVALID, no good copy yet: its routes fail every request until it is fixed";
    case "missing":
      return `REMOVED, keeping the last good config (${routeCount(loaded)}) until the file is back`;
  }
}

/** The route ids a file declares: its `routes` object's keys, or the ids in an earlier file's routes array. */
function declaredRouteIds(routes: unknown): string[] {
  const ids = Array.isArray(routes)
    ? routes.map((route) => (isObject(route) && typeof route.id === "string" ? route.id : ""))
    : isObject(routes)
      ? Object.keys(routes)
      : [];
  return [...new Set(ids.filter((id) => id.trim() !== ""))];
}

/** "1 route", "3 routes": how many routes a loaded config has. */
export function routeCount(loaded: LoadedConfig): string {
  const count = Object.keys(loaded.config.routes).length;
  return plural(count, servesBuiltInRoutes(loaded) ? "built-in route" : "route");
}

/** One line per issue, plus what the router does about it. */
export function describeLoad(loaded: LoadedConfig): string[] {
  if (loaded.removed)
    return [
      loaded.origin === "missing"
        ? `auto-router: ${loaded.file} was removed; keeping the routes it had (${routeCount(loaded)}) until it is back`
        : `auto-router: ${loaded.file} was removed; using the built-in routes until it is back`,
    ];
  // Errors first: the lines go out as one error notification, which pi labels by its first line ("Error: warning:
  // ..." when a warning came first in the file). Each begins `auto-router: ` as the extension's other warnings do
  // (an unknown target's `auto-router: warning: ...`), on stderr and in pi's notices alike.
  const issues = [
    ...loaded.issues.filter((issue) => issue.severity === "error"),
    ...loaded.issues.filter((issue) => issue.severity !== "error"),
  ];
  const lines = issues.map((issue) => `auto-router: ${formatIssue(loaded.file, issue)}`);
  if (issues.some((i) => i.severity === "error")) {
    const doing =
      loaded.origin === "last-good" && loaded.copy
        ? `starting on the last good copy (${loaded.copy})`
        : loaded.origin === "last-good"
          ? "keeping the last good config"
          : loaded.origin === "declared"
            ? `routes ${Object.keys(loaded.config.routes).join(", ")} fail every request until it is fixed (no good copy exists yet)`
            : "using the built-in routes";
    lines.push(`auto-router: ${loaded.file} is invalid; ${doing}`);
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
