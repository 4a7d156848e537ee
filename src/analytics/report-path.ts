// Whether a path given for a report (`routing-session-stats --html <file>`) may be written: never over a file the
// router owns (an event log, its state files, the routes file), nor over a file that is no HTML page (a typo'd
// `--html README.md`); a report written before, an empty file, a device or a FIFO may be.
import { closeSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { isLegacyType } from "../events/legacy-events.ts";
import { isEventType } from "../events/read-events.ts";
import { withoutByteOrderMark } from "../state/json-text.ts";
import { fileIdentity } from "./cli-runner.ts";

/** The names the router gives its event log: the live `auto-router.events.jsonl` and the rotated `.N.jsonl` ones. */
const EVENT_LOG_FILE_NAME = /^auto-router\.events(?:\.\d+)?\.jsonl$/;
/** The router's own files in its state directory: `auto-router.<name>.json` state, locks, corrupt copies, logs. */
const ROUTER_FILE_NAME = /^auto-router\./;
/** How much of a file is looked at for its first line: a log's line is about 1-2 KB. */
const FIRST_LINE_BYTES = 64 * 1024;
/** How an HTML page starts (after blanks): every report this script writes does. */
const HTML_START = /^\s*<(?:!doctype html|html)[\s>]/i;

/** The files the router owns besides its event logs: where it keeps them. */
export interface RouterFiles {
  /** Directories holding the router's state: its state directory, pi's extensions dir, those of the logs read. */
  stateDirectories: readonly string[];
  /** The routes file the router reads. */
  routesFile: string;
}

/** `path` with its directory's links resolved (the file itself may not be there yet). */
function realLocation(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    try {
      return resolve(realpathSync(dirname(absolute)), basename(absolute));
    } catch {
      return absolute;
    }
  }
}

/** The same file, whatever the spelling or links: by identity when both are there, else by resolved location. */
export function sameLocation(path: string, other: string): boolean {
  try {
    return fileIdentity(statSync(path)) === fileIdentity(statSync(other));
  } catch {
    return realLocation(path) === realLocation(other);
  }
}

/** The start of a regular file (its first FIRST_LINE_BYTES), or undefined for anything else or an unreadable file. */
function fileStart(path: string): string | undefined {
  let descriptor: number | undefined;
  try {
    if (!statSync(path).isFile()) return undefined; // reading a FIFO would wait for a writer
    descriptor = openSync(path, "r");
    const buffer = Buffer.alloc(FIRST_LINE_BYTES);
    return withoutByteOrderMark(
      buffer.subarray(0, readSync(descriptor, buffer, 0, FIRST_LINE_BYTES, 0)).toString("utf8"),
    );
  } catch {
    return undefined; // not there (yet), or unreadable: the write says so
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

/**
 * Why `path` is no place for a report, whether this run reads it or not: it bears an event log's name (a rotated
 * file no longer read, another directory's log), it is the routes file or one of the router's files in a state
 * directory (`owned`), or it is a regular file whose first line is an event of ours (a log under another name, a
 * merged copy) or that is neither empty nor an HTML page. Undefined when it may be written (absent, empty, a report
 * written before, a FIFO or a device).
 */
export function routerFileAt(path: string, owned?: RouterFiles): string | undefined {
  if (EVENT_LOG_FILE_NAME.test(basename(path))) return "its name is an event log's (auto-router.events*.jsonl)";
  if (owned && sameLocation(path, owned.routesFile)) return `it is the routes file the router reads`;
  if (owned && ROUTER_FILE_NAME.test(basename(path))) {
    const directory = dirname(realLocation(path));
    const stateDirectory = owned.stateDirectories.find((candidate) => realLocation(candidate) === directory);
    if (stateDirectory !== undefined)
      return `it is the router's own file (auto-router.* in its state directory ${stateDirectory})`;
  }
  const start = fileStart(path);
  if (start === undefined || start.length === 0) return undefined;
  if (isEventLine(start.split("\n", 1)[0]!)) return "it holds event log lines";
  if (!HTML_START.test(start)) return "it exists and is not an earlier report (an HTML page)";
  return undefined;
}

/**
 * A line of an event log, ours (a type we know, or a newer version's envelope: `v` and `data`, with its `ts`) or the
 * earlier format's (`routing.<type>` with its `timestamp`).
 */
function isEventLine(line: string): boolean {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return false;
  }
  if (typeof record !== "object" || record === null || Array.isArray(record)) return false;
  const { type, ts, timestamp, v, data } = record as Record<string, unknown>;
  if (typeof type !== "string") return false;
  if (isLegacyType(type)) return typeof timestamp === "string";
  return typeof ts === "string" && (isEventType(type) || (typeof v === "number" && typeof data === "object"));
}
