// The shared frame of the routing-* scripts: flags (node:util parseArgs), --help, log file discovery, the streaming
// read, --json or text output, and exit codes. Each script only supplies a CliCommand. Errors the user can fix
// (bad flag, unreadable file) print one clear line and exit 1; nothing here prints a stack trace for them.
import { accessSync, constants, existsSync, readFileSync, type Stats, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { getSystemErrorMap, parseArgs, type ParseArgsConfig } from "node:util";
import type { EventType, NormalizedEvent } from "../events/event-types.ts";
import {
  CUT_OFF_REASON,
  emptyReadStats,
  type FileReadStats,
  findLogFiles,
  readEvents,
  type ReadStats,
} from "../events/read-events.ts";
import { parse as parseJsonc } from "jsonc-parser";
import { closestKey } from "../config/key-suggestions.ts";
import { EVENT_LOG_NAME, ROUTES_FILE_NAME, resolveStateDir, routesFilePath } from "../state/state-paths.ts";
import { expandTilde } from "../tilde-path.ts";
import { emptyJoinStats, joinRequests, type JoinedItem, type JoinStats } from "./request-join.ts";
import { readRoutesView, resolvedRouteNote, resolveRouteFilter, unknownRouteNote } from "./route-names.ts";
import { formatCount, plural } from "./text-format.ts";

type OptionSpecs = NonNullable<ParseArgsConfig["options"]>;
export type FlagValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  processEnv: Record<string, string | undefined>;
  home: string;
  now: () => number;
}

export interface CommandContext {
  values: FlagValues;
  /** Joined requests, feedback and quota events of the selected files, after --since and before --until. */
  items: AsyncIterable<JoinedItem>;
  /** The log files read, oldest first. */
  files: readonly string[];
  route?: string;
  io: CliIo;
  /**
   * Registers a listener told of each event --since ("before") or --until ("after") leaves out of `items`, as it is
   * read: call it before iterating `items`.
   */
  onLeftOut: (listener: (event: NormalizedEvent, side: "before" | "after") => void) => void;
}

export interface CliCommand {
  name: string;
  summary: string;
  /** Extra lines of --help describing the command's own flags. */
  usage: string[];
  options?: OptionSpecs;
  /** Checks the command's own flags before any file is read; return an error message to exit 1. */
  validate?: (values: FlagValues) => string | undefined;
  /** Event types the command never looks at: read past without parsing (a third of a log's bytes are candidates). */
  skipTypes?: readonly EventType[];
  run(context: CommandContext): Promise<CommandOutput>;
}

export interface CommandOutput {
  json: unknown;
  text: string;
  /**
   * Writes the files the command was asked for (`--html`). Called only once every file read proved to be an event
   * log: a run refused as bad input must leave the files it names as they were. `log` is what was read (files,
   * --since, --until, --route), for a report that must say which requests it holds.
   */
  writeFiles?: (log: LogSummary) => void;
}

export class CliError extends Error {}

/** The usual file errors in words, as a user reads them (Node's own wording for the rest). */
const ERROR_WORDS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
  EEXIST: "file already exists",
  EMFILE: "too many open files",
};

/**
 * Why a file could not be read or written, in words (`no such file or directory`, `is a directory`), not as a bare
 * code (`ENOENT`) or Node's message with its code and path repeated.
 */
export function describeFileError(error: unknown): string {
  const { code, errno } = (error ?? {}) as NodeJS.ErrnoException;
  if (code && ERROR_WORDS[code]) return ERROR_WORDS[code];
  const system = typeof errno === "number" ? getSystemErrorMap().get(errno)?.[1] : undefined;
  if (system) return system;
  return error instanceof Error ? error.message : String(error);
}

const COMMON_OPTIONS: OptionSpecs = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  file: { type: "string", multiple: true },
  route: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
};

const COMMON_USAGE = [
  "  --file <path>     event log file or directory (repeatable). A path given as an argument is one too. A file is",
  "                    read with its rotated siblings (x.N.jsonl ... x.1.jsonl, oldest first). Default: where the",
  "                    router writes it, $AUTO_ROUTER_LOG_DIR, else the routes file's logDir, else",
  "                    $PI_CODING_AGENT_DIR/extensions, else ~/.pi/agent/extensions",
  "  --route <route>   only requests of this route (requested or served). A route id or an alias of the",
  "                    routes file (either may follow auto-router/), resolved to its route (the log records route ids)",
  "  --since <when>    only events at or after an ISO date/time, a Unix time in ms, or a relative age: 30m, 12h, 7d,",
  "                    2w. A date or date-time without a zone is UTC, as the per-day buckets are (2026-12-01: that",
  "                    UTC day); a Unix time is the event log's `time` (1796533994292)",
  "  --until <when>    only events before an instant, in any form --since takes (the instant itself left out).",
  "                    With --since 2026-12-01, --until 2026-12-02 is that UTC day; --until 2d ends 2 days ago. A",
  "                    request begun before it is read to its end. It must be after --since",
  "  --json            print the result as JSON",
  "  -h, --help        show this help",
];

const RELATIVE_UNITS_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** The longest `--since` or `--until` age taken: 100 years. */
const MAX_SINCE_AGE_MS = 100 * 365.25 * 86_400_000;

/** An ISO date-time without a zone (`2026-12-01T08:00`, `2026-12-01 08:00:30.5`): Date.parse reads it as local time. */
const ISO_LOCAL_DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;
/** A zone at the end of a date-time: `Z`, `+02:00`, `-0500`, `UTC`, `GMT+2`, the US abbreviations Date.parse reads (`EST`). */
const ZONE_SUFFIX = /(?:Z|[+-]\d{2}:?\d{2}|\b(?:UTC|GMT|UT|[ECMP][SD]T)(?:[+-]\d{1,4})?)$/i;

/**
 * A date or date-time as UTC unless it names its zone, as the reports' day buckets are UTC days: Date.parse reads a
 * date alone as UTC (`2026-12-01`) but a date-time without a zone, and any other form (`Dec 1 2026`), as local time.
 */
function utcUnlessZoned(value: string): number {
  const text = value.trim();
  const isoLocal = ISO_LOCAL_DATE_TIME.exec(text);
  if (isoLocal) return Date.parse(`${isoLocal[1]}T${isoLocal[2]}Z`);
  const time = Date.parse(text);
  if (Number.isNaN(time) || /^\d{4}(?:-\d{2}(?:-\d{2})?)?$/.test(text) || ZONE_SUFFIX.test(text)) return time;
  // Another form without a zone, read as local time: the same wall-clock reading in UTC.
  const local = new Date(time);
  return Date.UTC(
    local.getFullYear(),
    local.getMonth(),
    local.getDate(),
    local.getHours(),
    local.getMinutes(),
    local.getSeconds(),
    local.getMilliseconds(),
  );
}

/**
 * A `--since` or `--until` value (`flag` names which, for its errors) to epoch ms: an age back from `now`, or a
 * date/time read as UTC unless it names its zone.
 */
export function parseWhen(value: string, now: number, flag: "--since" | "--until" = "--since"): number {
  if (/^\s*-\d/.test(value))
    throw new CliError(
      `${flag}: negative values are not accepted ("${value}"); expected an ISO date/time or an age like 7d, 12h or 30m`,
    );
  const relative = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(value.trim());
  if (relative) {
    const age = Number(relative[1]) * RELATIVE_UNITS_MS[relative[2]!]!;
    // No log reaches back a century: such an age is a slip (an extra digit), and beyond 273,790 years it names no
    // date at all (`before --since -271764-03-24T...`).
    if (!(age <= MAX_SINCE_AGE_MS))
      throw new CliError(
        `${flag}: "${value.trim()}" reaches back more than 100 years; expected an age such as 30d or 2w, or an ISO date/time such as 2026-05-04`,
      );
    return now - age;
  }
  // The event log's `time`, copied from a line: milliseconds since 1970 (13 digits from 2001 to 2286).
  if (/^\s*\d{13}\s*$/.test(value)) return Number(value);
  // `date +%s` gives seconds: ten digits are a Unix time in seconds, not an age in some unit.
  if (/^\s*\d{10}\s*$/.test(value))
    throw new CliError(
      `${flag}: "${value.trim()}" is a Unix time in seconds; expected milliseconds (13 digits, as the event log's \`time\`: ${value.trim()}000), an ISO date/time such as 2026-05-04 or an age such as 7d`,
    );
  if (/^\s*\d{7,}(?:\.\d+)?\s*$/.test(value))
    throw new CliError(
      `${flag}: "${value.trim()}" is no Unix time in milliseconds (13 digits, as the event log's \`time\`) and no age (it has no unit); expected one of those or an ISO date/time such as 2026-05-04`,
    );
  // Date.parse reads a bare 1 to 12 as a month of 2001 ("7": July 2001), which would keep every event: an age whose
  // unit was left out. A four-digit number is a year (ISO "2026").
  if (/^\s*\d+(?:\.\d+)?\s*$/.test(value) && !/^\s*\d{4}\s*$/.test(value))
    throw new CliError(
      `${flag}: "${value.trim()}" has no unit; expected an age such as ${value.trim()}d (days), ${value.trim()}h, ${value.trim()}m or ${value.trim()}w, or an ISO date/time such as 2026-05-04`,
    );
  const time = utcUnlessZoned(value);
  if (Number.isNaN(time))
    throw new CliError(`${flag}: "${value}" is neither an ISO date/time nor an age like 7d, 12h or 30m`);
  // Date.parse moves a day the month does not have into the next month ("2026-02-30": 2 March).
  const day = /^\s*(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (day && new Date(Date.UTC(+day[1]!, +day[2]! - 1, +day[3]!)).getUTCDate() !== +day[3]!)
    throw new CliError(
      `${flag}: "${value}" names a day its month does not have; expected an ISO date such as 2026-05-04`,
    );
  // A date without its year ("Dec 1", "March 5") is read as one in 2001, again keeping every event.
  if (!/\d{4}/.test(value))
    throw new CliError(
      `${flag}: "${value}" names no year (it would be read as ${new Date(time).getFullYear()}); expected an ISO date/time such as 2026-05-04 or an age like 7d, 12h or 30m`,
    );
  return time;
}

/** `--since` value to epoch ms (see parseWhen). */
export const parseSince = (value: string, now: number): number => parseWhen(value, now, "--since");

/** pi's agent dir: $PI_CODING_AGENT_DIR (a leading `~` is the home dir, as pi reads it), else ~/.pi/agent. */
export function agentDirectory(processEnv: Record<string, string | undefined>, home: string): string {
  const fromEnv = processEnv.PI_CODING_AGENT_DIR?.trim();
  return fromEnv ? expandTilde(fromEnv, home) : join(home, ".pi", "agent");
}

/**
 * The routes file whose aliases and route ids --route reads: AUTO_ROUTER_CONFIG, else the one beside the logs named (an
 * agent dir's `extensions`, whose routes file wrote them), else the default agent dir's. A log named elsewhere (a
 * copy, a `logDir`) reads the default's.
 */
function routesFileFor(namedFiles: readonly string[], io: CliIo): string {
  const fallback = routesFilePath(io.processEnv, agentDirectory(io.processEnv, io.home));
  if (io.processEnv.AUTO_ROUTER_CONFIG || namedFiles.length === 0) return fallback;
  const directories = new Set(namedFiles.map((file) => dirname(file)));
  if (directories.size !== 1) return fallback;
  const beside = join([...directories][0]!, ROUTES_FILE_NAME);
  return existsSync(beside) ? beside : fallback;
}

/**
 * Where the logs are when --file is absent: where the router writes them, AUTO_ROUTER_LOG_DIR, else the routes file's
 * `logDir`, else <agentDir>/extensions (src/state/state-paths.ts). Only `logDir` is read from the routes file (with
 * comments and trailing commas, as the router reads it); an unreadable file leaves the default.
 */
export function defaultLogDirectory(processEnv: Record<string, string | undefined>, home: string): string {
  const agentDir = agentDirectory(processEnv, home);
  let configLogDir: string | undefined;
  const routesFile = routesFilePath(processEnv, agentDir);
  try {
    const text = readFileSync(routesFile, "utf8");
    const config: unknown = parseJsonc(text, [], { allowTrailingComma: true });
    const logDir = (config as { logDir?: unknown } | undefined)?.logDir;
    if (typeof logDir === "string") configLogDir = logDir;
  } catch {
    // None, or unreadable: the router itself reports a routes file it cannot read.
  }
  return resolveStateDir({ processEnv: { HOME: home, ...processEnv }, configLogDir, agentDir, routesFile });
}

/** Why a directory has no log to read: none there, or something other than a file under the log's name. */
function noLogMessage(root: string): string {
  const live = join(root, EVENT_LOG_NAME);
  try {
    const stats = statSync(live);
    if (!stats.isFile())
      return `${live} exists but is not a file (${stats.isDirectory() ? "a directory" : "not a regular file"}): no event log to read in ${root}`;
  } catch {}
  return `no event log (auto-router.events*.jsonl) in ${root}`;
}

/** A file as the file system knows it (device and inode), whatever the path's spelling or links. */
export const fileIdentity = (stats: Stats): string => `${stats.dev}:${stats.ino}`;

/**
 * The files to read, each checked readable; throws CliError naming the path otherwise. `named`, when given, is filled
 * with the files named by --file themselves (not found by listing a directory or as a
 * file's rotated siblings): only those are refused when they hold no event.
 */
export function resolveLogFiles(paths: string[] | undefined, io: CliIo, named?: Set<string>): string[] {
  const roots = paths && paths.length > 0 ? paths : [defaultLogDirectory(io.processEnv, io.home)];
  const files: string[] = [];
  // A file is known by its device and inode, not its path: the same log named twice (a directory and its live file,
  // a relative and an absolute path, a symbolic link) is read once, not counted twice.
  const seen = new Map<string, string>();
  for (const root of roots) {
    try {
      statSync(root);
    } catch (error) {
      throw new CliError(`cannot read ${root}: ${describeFileError(error)}`);
    }
    const found = findLogFiles(root);
    if (found.length === 0) throw new CliError(noLogMessage(root));
    for (const file of found) {
      let identity: string;
      try {
        const stats = statSync(file);
        if (stats.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
        accessSync(file, constants.R_OK);
        identity = fileIdentity(stats);
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${describeFileError(error)}`);
      }
      // The path the file is read under, whichever spelling came first.
      if (file === root) named?.add(seen.get(identity) ?? file);
      if (seen.has(identity)) continue;
      seen.set(identity, file);
      files.push(file);
    }
  }
  return files;
}

/**
 * What `--name` takes, from its entry of --help (its first line and the lines continuing it), up to the end of its
 * first sentence or clause: "<n>: rows per table (default 20)", "<file>: also write one self-contained HTML report
 * with charts" (not its first line alone, which stops mid-sentence).
 */
function expectedValue(command: CliCommand, name: string): string {
  const lines = [...COMMON_USAGE, ...command.usage];
  const start = lines.findIndex((text) => text.trimStart().startsWith(`--${name} `));
  if (start < 0) return "a value";
  let entry = lines[start]!;
  // A continuation line is indented past the option column; the next option's line starts with "-".
  for (const next of lines.slice(start + 1)) {
    if (next.trimStart().startsWith("-")) break;
    entry += ` ${next.trim()}`;
  }
  const match = /^\s*--\S+\s+(<[^>]+>)\s+(.*?)(?:(?:\. |; ).*)?$/.exec(entry);
  return match ? `${match[1]}: ${match[2]}` : "a value";
}

/**
 * Node's parseArgs refuses a value that starts with "-" (`--since -3d`, `--limit -1`, `--file --json`) with
 * "argument is ambiguous. Did you forget to specify the option argument ...?"; this says it in the script's terms:
 * the option, what it takes, and why the value is not it.
 */
export function dashValueProblem(command: CliCommand, argv: readonly string[]): string | undefined {
  const options = { ...COMMON_OPTIONS, ...command.options };
  for (let index = 0; index < argv.length - 1; index++) {
    const argument = argv[index]!;
    if (argument === "--") return undefined;
    const name = argument.startsWith("--") ? argument.slice(2) : undefined;
    const value = argv[index + 1]!;
    if (!name || options[name]?.type !== "string" || value.length < 2 || !value.startsWith("-")) continue;
    const expected = expectedValue(command, name);
    const shorts = Object.values(options).flatMap((option) => (option.short ? [`-${option.short}`] : []));
    const isOption = value.startsWith("--") ? value.slice(2).split("=")[0]! in options : shorts.includes(value);
    if (isOption) return `--${name} needs a value, got the option ${value} next; expected ${expected}`;
    if (/^-\d/.test(value)) return `--${name}: negative values are not accepted ("${value}"); expected ${expected}`;
    return `--${name}: "${value}" starts with "-" and is read as an option; expected ${expected} (write --${name}=${value} for a value that does start with "-")`;
  }
  return undefined;
}

/**
 * A flag that takes one value given twice (`--route swe --route cheap`: parseArgs keeps the last, silently), or a
 * flag given an empty value (`--route ''`): said, rather than guessed at.
 */
export function optionValueProblem(
  command: CliCommand,
  tokens: ReadonlyArray<{ kind: string; name?: string; value?: string | undefined }>,
): string | undefined {
  const options = { ...COMMON_OPTIONS, ...command.options };
  const given = new Map<string, string[]>();
  for (const token of tokens) {
    if (token.kind !== "option" || token.name === undefined || options[token.name]?.type !== "string") continue;
    const value = token.value ?? "";
    if (value.trim() === "") return `--${token.name}: empty value; expected ${expectedValue(command, token.name)}`;
    if (options[token.name]!.multiple) continue;
    const values = given.get(token.name) ?? [];
    values.push(value);
    given.set(token.name, values);
    if (values.length > 1)
      return `--${token.name} given more than once (${values.map((text) => `"${text}"`).join(", ")}); it takes one value: ${expectedValue(command, token.name)}`;
  }
  return undefined;
}

export function helpText(command: CliCommand): string {
  return [
    `Usage: node scripts/${command.name}.mjs [options] [<event log file or directory> ...]`,
    "",
    command.summary,
    "",
    "Options:",
    ...COMMON_USAGE,
    ...command.usage,
  ].join("\n");
}

/** Reading summary shown by every script: how much was read and how much was skipped, and why. */
export function logSummary(stats: ReadStats, join: JoinStats, since?: number, until?: number) {
  return {
    /** The instant `--since` was read as (ISO 8601, UTC). */
    ...(since !== undefined && { since: new Date(since).toISOString() }),
    /** The instant `--until` was read as (ISO 8601, UTC): events at or after it are left out. */
    ...(until !== undefined && { until: new Date(until).toISOString() }),
    files: stats.files,
    lines: stats.lines,
    events: stats.events,
    legacyEvents: stats.legacyEvents,
    malformed: stats.malformed,
    malformedByReason: stats.malformedByReason,
    malformedSamples: stats.malformedSamples,
    /** Figures (a cost, a time) of steps a v3 final line carries left out as implausible; their requests are read. */
    droppedFigures: stats.droppedFigures,
    droppedFiguresByReason: stats.droppedFiguresByReason,
    droppedFigureSamples: stats.droppedFigureSamples,
    unknownTypes: stats.unknownTypes,
    filteredOut: stats.filteredOut,
    /** Events at or after --until left out (a request begun before it is read to its end). */
    ...(until !== undefined && { filteredOutUntil: stats.filteredOutUntil }),
    completedRequests: join.completed,
    incompleteRequests: join.incomplete,
    /** Requests read again from another file (overlapping logs) after they completed: counted once. */
    repeatedRequests: join.repeatedRequests,
    orphanEvents: join.orphanEvents,
  };
}

/** What a script read: the reading summary, and the route --route selected (as asked, and its route id). */
export type LogSummary = ReturnType<typeof logSummary> & { route?: { asked: string; routeId: string } };

/** The reading summary's first line: lines, files and events read, and what was skipped or left out. */
export function formatReadLine(summary: LogSummary): string {
  // Counts with thousands separators, as every report shows them (`read 33,520 lines ...`).
  const count = formatCount;
  const parts = [
    `read ${plural(summary.lines, "line")} from ${plural(summary.files.length, "file")}: ${plural(summary.events, "event")}`,
  ];
  if (summary.legacyEvents) parts.push(`${count(summary.legacyEvents)} in the earlier format`);
  parts.push(`${plural(summary.malformed, "malformed line")} skipped`);
  if (summary.droppedFigures) parts.push(`${plural(summary.droppedFigures, "implausible figure")} left out`);
  const unknown = Object.values(summary.unknownTypes).reduce((sum, value) => sum + value, 0);
  if (unknown) parts.push(`${count(unknown)} of unknown types`);
  if (summary.since) parts.push(`${count(summary.filteredOut)} before --since ${summary.since}`);
  if (summary.until) parts.push(`${count(summary.filteredOutUntil ?? 0)} at or after --until ${summary.until}`);
  if (summary.repeatedRequests)
    parts.push(`${plural(summary.repeatedRequests, "request")} read again from another file counted once`);
  return parts.join(", ");
}

function formatLogSummary(summary: LogSummary): string {
  const lines = [formatReadLine(summary)];
  for (const sample of summary.malformedSamples) lines.push(`  malformed: ${sample}`);
  for (const sample of summary.droppedFigureSamples) lines.push(`  figure left out: ${sample}`);
  return lines.join("\n");
}

/** A file that held no event, only malformed lines (a live log whose only line is still being written is a log). */
const holdsNoEvent = (
  counts: FileReadStats,
): counts is FileReadStats & { firstMalformed: { line: number; reason: string } } =>
  counts.eventLines === 0 &&
  counts.firstMalformed !== undefined &&
  !(counts.malformed === 1 && counts.firstMalformed.reason === CUT_OFF_REASON);

/**
 * A file read that holds no event at all: README.md or a routes file given to --file. Said as such, naming its first
 * line, rather than summed into "0 events, 1,570 malformed lines skipped". A live log whose only line is still being
 * written is a log. With `named` (the files --file named themselves), only those are refused: a rotated file found by
 * listing a directory, or beside a named file, that holds no event (a crash's NUL-filled line) is damage to count, as
 * bad lines are (see damagedLogWarnings).
 */
export function notAnEventLog(stats: ReadStats, named?: ReadonlySet<string>): string | undefined {
  for (const [file, counts] of Object.entries(stats.byFile)) {
    if (!holdsNoEvent(counts) || (named && !named.has(file))) continue;
    const first = counts.firstMalformed;
    return `${file} is not an event log: none of its ${plural(counts.malformed, "non-blank line")} is an event (line ${first.line}: ${first.reason}); pass an auto-router.events*.jsonl file or the directory holding them`;
  }
  return undefined;
}

/** A warning for each file found by listing (not named by --file) that held no event: its lines are counted as malformed. */
export function damagedLogWarnings(stats: ReadStats, named: ReadonlySet<string>): string[] {
  return Object.entries(stats.byFile).flatMap(([file, counts]) =>
    holdsNoEvent(counts) && !named.has(file)
      ? [
          `warning: ${file} holds no event: its ${plural(counts.malformed, "non-blank line")} ${counts.malformed === 1 ? "is" : "are"} counted as malformed and skipped (line ${counts.firstMalformed.line}: ${counts.firstMalformed.reason}); the other files are read`,
        ]
      : [],
  );
}

/** The items, unchanged, noting every route a request was routed to or asked for. */
async function* notingRoutes(items: AsyncIterable<JoinedItem>, routes: Set<string>): AsyncIterable<JoinedItem> {
  for await (const item of items) {
    if (item.kind === "request") {
      if (item.request.routeId) routes.add(item.request.routeId);
      if (item.request.requestedRouteId) routes.add(item.request.requestedRouteId);
    }
    yield item;
  }
}

export const defaultIo = (): CliIo => ({
  stdout: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  processEnv: process.env,
  home: homedir(),
  now: () => Date.now(),
});

/**
 * The first option typed that the script does not have, in the order parseArgs reads them and before a `--`: a long
 * one's name (`confg` for `--confg=x`), or a short one's letter (`j` of `-j`, `x` of the group `-vx`), with the
 * argument it was in.
 */
function firstUnknownOption(
  argv: readonly string[],
  options: OptionSpecs,
): { name?: string; short?: string; arg: string } | undefined {
  const shorts = new Set(Object.values(options).flatMap((option) => (option.short ? [option.short] : [])));
  for (const arg of argv) {
    if (arg === "--") return undefined;
    if (arg.startsWith("--")) {
      const name = arg.slice(2).split("=")[0]!;
      if (!(name in options)) return { name, arg };
    } else if (arg.startsWith("-") && arg.length > 1) {
      const short = [...arg.slice(1)].find((letter) => !shorts.has(letter));
      if (short !== undefined) return { short, arg };
    }
  }
  return undefined;
}

/**
 * parseArgs's refusal of an unknown option, with the option probably meant when one is close in spelling
 * (`Unknown option '--confg'; did you mean --config?`), as the gateway's command line and /auto-router do. The option
 * typed is taken from the arguments (the first `--name` the script does not have), not from parseArgs' wording.
 */
function withOptionMeant(error: NodeJS.ErrnoException, argv: string[], options: OptionSpecs): string {
  if (error.code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") return error.message;
  const unknown = firstUnknownOption(argv, options);
  // A short one (`-j`, the `x` of `-vx`): named, with the same advice (parseArgs quotes its example unevenly).
  if (unknown?.short)
    return `Unknown option '-${unknown.short}'; a file name that starts with "-" goes after "--" (-- ${unknown.arg})`;
  const typed = unknown?.name;
  const near = typed === undefined ? undefined : closestKey(typed, Object.keys(options));
  // `--log-dir`, `--dir`, `--events`...: a way of naming the log the scripts do not have.
  if (near === undefined && typed !== undefined && /log|dir|path|event/i.test(typed))
    return `Unknown option '--${typed}'; name the event log with --file <path> (a file or directory), or give its path as an argument`;
  // parseArgs' own text quotes its example unevenly (`as in '-- "--bogus"`): said here in full.
  if (near === undefined && typed !== undefined)
    return `Unknown option '--${typed}'; a file name that starts with "-" goes after "--" (-- --${typed})`;
  if (near === undefined) return error.message;
  // parseArgs goes on to suggest `--` for a value that starts with "-": a mistyped option is the likelier slip.
  return `Unknown option '--${typed}'; did you mean --${near}?`;
}

/** Runs one script; resolves to the exit code. */
export async function runCli(command: CliCommand, argv: string[], io: CliIo = defaultIo()): Promise<number> {
  try {
    const dashValue = dashValueProblem(command, argv);
    if (dashValue) throw new CliError(dashValue);
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        options: { ...COMMON_OPTIONS, ...command.options },
        strict: true,
        // A path given as an argument is a --file: `routing-stats auto-router.events.jsonl` reads that log.
        allowPositionals: true,
        tokens: true,
      });
    } catch (error) {
      // A flag last on the line without its value (`--since`): said as a value starting with "-" is, with what it takes.
      const missing = /^Option '--([^' ]+) <value>' argument missing$/.exec((error as Error).message);
      if (missing) throw new CliError(`--${missing[1]} needs a value; expected ${expectedValue(command, missing[1]!)}`);
      throw new CliError(
        withOptionMeant(error as NodeJS.ErrnoException, argv, { ...COMMON_OPTIONS, ...command.options }),
      );
    }
    const valueProblem = optionValueProblem(command, parsed.tokens ?? []);
    if (valueProblem) throw new CliError(valueProblem);
    const values = parsed.values as FlagValues;
    if (values.help) {
      io.stdout(helpText(command));
      return 0;
    }
    const now = io.now();
    const since = typeof values.since === "string" ? parseWhen(values.since, now, "--since") : undefined;
    const until = typeof values.until === "string" ? parseWhen(values.until, now, "--until") : undefined;
    if (since !== undefined && until !== undefined && until <= since)
      throw new CliError(
        `--until ${(values.until as string).trim()} (${new Date(until).toISOString()}) is ${until === since ? "the same instant as" : "before"} --since ${(values.since as string).trim()} (${new Date(since).toISOString()}): the window would hold no event; --until must be after --since`,
      );
    const problem = command.validate?.(values);
    if (problem) throw new CliError(problem);
    const named = new Set<string>();
    const given = [...((values.file as string[] | undefined) ?? []), ...parsed.positionals];
    const files = resolveLogFiles(given.length > 0 ? given : undefined, io, named);
    const readStats = emptyReadStats();
    const joinStats = emptyJoinStats();
    const leftOutListeners: Array<(event: NormalizedEvent, side: "before" | "after") => void> = [];
    const onLeftOut = (event: NormalizedEvent, side: "before" | "after") => {
      for (const listener of leftOutListeners) listener(event, side);
    };
    const joined = joinRequests(
      readEvents(files, { since, until, onLeftOut, stats: readStats, skipTypes: command.skipTypes }),
      joinStats,
    );
    // The log records route ids: an alias of the routes file (or `auto-router/<route>`) is resolved to its route's.
    const routesView =
      values.route === undefined ? undefined : readRoutesView(routesFileFor(given.length > 0 ? files : [], io));
    // A route id has no spaces: `--route " swe "` (a quoted variable) is the route swe.
    const routeFilter =
      routesView === undefined ? undefined : resolveRouteFilter((values.route as string).trim(), routesView);
    const route = routeFilter?.routeId;
    const routesInLog = new Set<string>();
    const items = route === undefined ? joined : notingRoutes(joined, routesInLog);
    let output;
    try {
      output = await command.run({
        values,
        items,
        files,
        route,
        io,
        onLeftOut: (listener) => leftOutListeners.push(listener),
      });
    } catch (error) {
      if (error instanceof CliError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code) throw new CliError(`cannot read the event log: ${code} ${(error as Error).message}`);
      throw error;
    }
    const notLog = notAnEventLog(readStats, named);
    if (notLog) throw new CliError(notLog);
    for (const warning of damagedLogWarnings(readStats, named)) io.stderr(`${command.name}: ${warning}`);
    const log: LogSummary = {
      ...logSummary(readStats, joinStats, since, until),
      ...(routeFilter && { route: { asked: routeFilter.asked, routeId: routeFilter.routeId } }),
    };
    output.writeFiles?.(log);
    // A route without requests is an answer (none in this window), not bad input: said on stderr, exit 0.
    if (routeFilter && routesView) {
      const resolved = resolvedRouteNote(routeFilter, routesView);
      if (resolved) io.stderr(`${command.name}: ${resolved}`);
      if (!routesInLog.has(routeFilter.routeId))
        io.stderr(
          `${command.name}: ${unknownRouteNote(routeFilter, routesInLog, since !== undefined, routesView, until !== undefined)}`,
        );
    }
    if (values.json) io.stdout(JSON.stringify({ log, ...(output.json as object) }, null, 2));
    else io.stdout(`${output.text}\n\n${formatLogSummary(log)}`);
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`${command.name}: ${error.message}\nRun with --help for usage.`);
      return 1;
    }
    io.stderr(`${command.name}: unexpected error: ${(error as Error).stack ?? String(error)}`);
    return 2;
  }
}
