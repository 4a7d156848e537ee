// Streaming reader of the event log: every line of every file, oldest file first, normalized into NormalizedEvent.
// Memory stays flat whatever the log size: readline over a read stream, one line at a time. Lines that are not
// events are skipped and COUNTED (scripts print the count), never silently dropped.
import { createReadStream, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { expandEvent, RequestEnvelopes } from "./compact-events.ts";
import { unfoldEvents } from "./folded-events.ts";
import { MAX_EVENT_MS, wrongEnvelope, wrongShape } from "./event-shapes.ts";
import { EVENT_TYPES, type EventType, type NormalizedEvent } from "./event-types.ts";
import { isLegacyType, LEGACY_TYPE_PREFIX, LegacyEventReader } from "./legacy-events.ts";
import { rotatedOldestFirst } from "./log-files.ts";
import { redactFreeTexts } from "./free-texts.ts";
import { withoutByteOrderMark } from "../state/json-text.ts";
import { countUnder } from "../own-record.ts";

// Duplicated from src/state (the writer): the live log is `auto-router.events.jsonl`, rotated files are
// `auto-router.events.1.jsonl` (newest) ... `auto-router.events.N.jsonl` (oldest). Kept here so the offline
// scripts do not depend on the runtime's state modules; change both together.
export const LIVE_LOG_NAME = "auto-router.events.jsonl";

/** How many malformed line positions are kept for the report (the count itself is exact). */
const MALFORMED_SAMPLE_LIMIT = 5;
const READ_CHUNK_BYTES = 64 * 1024;

export interface ReadStats {
  files: string[];
  lines: number;
  /** Blank lines are neither events nor malformed. */
  blankLines: number;
  events: number;
  legacyEvents: number;
  malformed: number;
  malformedByReason: Record<string, number>;
  /** The first few malformed positions, `file:line`. */
  malformedSamples: string[];
  /** Figures of events a v3 line carries left out as implausible (their events kept), as malformed lines are counted. */
  droppedFigures: number;
  droppedFiguresByReason: Record<string, number>;
  /** The first few, `file:line (reason)`. */
  droppedFigureSamples: string[];
  /** Well-formed envelopes of a type no script uses (newer writer, other kinds). */
  unknownTypes: Record<string, number>;
  /** Events dropped by `since`. */
  filteredOut: number;
  /** Events dropped by `until` (at or after it). */
  filteredOutUntil: number;
  /** Per file: so a reader can tell a file that holds no event at all (README.md given as a log) from a few bad lines. */
  byFile: Record<string, FileReadStats>;
}

export interface FileReadStats {
  /** Lines that were events, of any type, `since` or not. */
  eventLines: number;
  malformed: number;
  firstMalformed?: { line: number; reason: string };
}

export interface ReadOptions {
  /** Epoch ms: events before it are skipped (and counted in `filteredOut`). */
  since?: number;
  /**
   * Epoch ms: events at or after it are skipped (and counted in `filteredOutUntil`), but those of a request begun
   * before it, up to its final: a request that straddles the end of the window is read whole, not left unfinished.
   */
  until?: number;
  /** Told of each event `since` (side "before") or `until` (side "after") leaves out, as it is read. */
  onLeftOut?: (event: NormalizedEvent, side: "before" | "after") => void;
  /** Filled while reading; pass your own to read it afterwards. */
  stats?: ReadStats;
  /**
   * Event types the caller does not use (in our names): their lines are counted as events but not parsed. The type
   * sits at the start of every line in both formats, so the check is a look at the line's head.
   */
  skipTypes?: readonly EventType[];
}

/** The head of a line that has one of `types`, in our format or the earlier one (`routing.<type>`). */
function skippedTypeMarkers(types: readonly EventType[] | undefined): { ours: string[]; legacy: string[] } {
  const list = types ?? [];
  return {
    ours: list.map((type) => `"type":"${type}"`),
    legacy: list.map((type) => `"type":"${LEGACY_TYPE_PREFIX}${type}"`),
  };
}

/** How far into a line the envelope's type can stand: `{"v":2,"type":"` in ours, first in the earlier format. */
const TYPE_HEAD_CHARS = 48;

export const emptyReadStats = (): ReadStats => ({
  files: [],
  lines: 0,
  blankLines: 0,
  events: 0,
  legacyEvents: 0,
  malformed: 0,
  malformedByReason: {},
  malformedSamples: [],
  droppedFigures: 0,
  droppedFiguresByReason: {},
  droppedFigureSamples: [],
  unknownTypes: {},
  filteredOut: 0,
  filteredOutUntil: 0,
  byFile: {},
});

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

export type LineOutcome =
  /**
   * `event` is the line's own; `events`, when the line carries several (v3), all of them in order, `event` among them;
   * `unknownTypes`, the types of carried events no reader knows (left out of `events`); `droppedFigures`, why each
   * figure of a carried event was left out (made null) as implausible, its event kept.
   */
  | { event: NormalizedEvent; events?: NormalizedEvent[]; unknownTypes?: string[]; droppedFigures?: string[] }
  | { malformed: string }
  | { unknownType: string }
  | { blank: true };

/**
 * One line of the log, classified. Lines in the earlier public format go through `legacy`, which joins facts
 * across a request's lines: pass the same reader for every line of one read (see legacyEventReader()).
 */
export function parseEventLine(line: string, legacy?: LegacyEventReader): LineOutcome {
  if (line.trim() === "") return { blank: true };
  let raw: unknown;
  try {
    // A log a Windows editor saved starts with a byte order mark (so does each of several files joined into one).
    raw = JSON.parse(withoutByteOrderMark(line));
  } catch {
    return { malformed: "not JSON" };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { malformed: "not an object" };
  const record = raw as Record<string, unknown>;
  if (typeof record.type !== "string" || record.type === "") return { malformed: "no type" };
  if (isLegacyType(record.type))
    return legacy ? legacy.read(record) : { malformed: "earlier-format line read without a legacy reader" };
  if (!KNOWN_TYPES.has(record.type)) return { unknownType: record.type };
  if (typeof record.data !== "object" || record.data === null || Array.isArray(record.data))
    return { malformed: "no data object" };
  const time = typeof record.ts === "string" ? Date.parse(record.ts) : Number.NaN;
  if (Number.isNaN(time)) return { malformed: "no valid ts" };
  const shape = wrongEnvelope(record.type, record) ?? wrongShape(record.type, record.data as Record<string, unknown>);
  if (shape) return { malformed: shape };
  const event = record as unknown as NormalizedEvent;
  event.time = time;
  if (typeof event.v !== "number") event.v = 1;
  if (event.v >= 2) expandEvent(event);
  const unknownTypes: string[] = [];
  const events = event.v >= 3 ? unfoldEvents(event, unknownTypes) : undefined;
  // An error message or rating reason an older writer (or a hand) left a key in: redacted as read, in every format.
  if (events === undefined) {
    const implausible = implausibleFigure(event);
    if (implausible) return { malformed: implausible.reason };
    redactFreeTexts(event);
    return { event };
  }
  if (!Array.isArray(events)) return events;
  const ownFigure = implausibleFigure(event);
  if (ownFigure) return { malformed: ownFigure.reason };
  // A step's implausible figure is made unknown (null, as the writer's NaN), not the line skipped: skipping it would
  // lose the request and its other steps over one attempt's figure.
  const droppedFigures: string[] = [];
  for (const carried of events) {
    for (let figure = implausibleFigure(carried); figure; figure = implausibleFigure(carried)) {
      figure.holder[figure.key] = null;
      droppedFigures.push(figure.reason);
    }
    redactFreeTexts(carried);
  }
  return {
    event,
    events,
    ...(unknownTypes.length > 0 && { unknownTypes }),
    ...(droppedFigures.length > 0 && { droppedFigures }),
  };
}

/** The largest cost one event can book: beyond it a line was edited by hand or damaged, and would swamp every sum. */
const MAX_EVENT_COST_USD = 1_000_000;

/**
 * A cost, when present, that is no amount a report can sum: not a number, negative, or beyond MAX_EVENT_COST_USD.
 * With `signed`, a negative one is kept: a result's usage is the provider's figure as pi-ai priced it (a provider that
 * counts more cached tokens than prompt tokens makes it negative), which the reports leave out (attempt-costs.ts)
 * rather than lose the request over, as a v3 final line carrying it would be.
 */
function implausibleCost(type: string, field: string, value: unknown, signed = false): string | undefined {
  // null: the writer's NaN (JSON writes it so), an unknown cost the reports already leave out.
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number" && value >= (signed ? -MAX_EVENT_COST_USD : 0) && value <= MAX_EVENT_COST_USD)
    return undefined;
  const limit = MAX_EVENT_COST_USD.toLocaleString("en-US");
  return `${type} with ${field} not an amount from ${signed ? `-${limit}` : "0"} to ${limit}`;
}

/** A time, when present, that is no number of milliseconds (`"NaN"`, `1e308`). */
function implausibleTime(type: string, field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number" && Math.abs(value) <= MAX_EVENT_MS) return undefined;
  return `${type} with ${field} not a number of milliseconds up to ${MAX_EVENT_MS.toLocaleString("en-US")}`;
}

/** An implausible figure: why, and where it stands (`holder[key]`), so that it alone can be dropped. */
interface ImplausibleFigure {
  reason: string;
  holder: Record<string, unknown>;
  key: string;
}

const found = (
  reason: string | undefined,
  holder: Record<string, unknown>,
  key: string,
): ImplausibleFigure | undefined => (reason === undefined ? undefined : { reason, holder, key });

/**
 * A cost or time the reports would sum or rank as written though no request has it (`"costUsd": 1e308`, a negative
 * cost, `"NaN"`): a line of its own is then skipped and counted as malformed, as a final's count that is no number is;
 * a step a v3 final line carries loses that figure alone (see parseEventLine). Token counts are read by no report, so
 * a line is not lost over one.
 */
function implausibleFigure(event: NormalizedEvent): ImplausibleFigure | undefined {
  const data = event.data as unknown as Record<string, unknown>;
  if (typeof data !== "object" || data === null) return undefined;
  const time = (key: string) => found(implausibleTime(event.type, key, data[key]), data, key);
  switch (event.type) {
    case "usage":
      return found(implausibleCost(event.type, "costUsd", data.costUsd), data, "costUsd");
    case "result": {
      const usage = data.usage as Record<string, unknown> | undefined;
      return (
        time("latencyMs") ??
        time("ttftMs") ??
        (typeof usage === "object" && usage !== null
          ? found(implausibleCost(event.type, "usage.costUsd", usage.costUsd, true), usage, "costUsd")
          : undefined)
      );
    }
    case "final":
      return time("latencyMs") ?? found(implausibleCost(event.type, "costUsd", data.costUsd), data, "costUsd");
    default:
      return undefined;
  }
}

/** Every event of a parsed line, in order. */
export const eventsOfLine = (outcome: { event: NormalizedEvent; events?: NormalizedEvent[] }): NormalizedEvent[] =>
  outcome.events ?? [outcome.event];

function recordMalformed(stats: ReadStats, reason: string, position: string): void {
  stats.malformed++;
  stats.malformedByReason[reason] = (stats.malformedByReason[reason] ?? 0) + 1;
  if (stats.malformedSamples.length < MALFORMED_SAMPLE_LIMIT) stats.malformedSamples.push(`${position} (${reason})`);
}

function recordDroppedFigure(stats: ReadStats, reason: string, position: string): void {
  stats.droppedFigures++;
  stats.droppedFiguresByReason[reason] = (stats.droppedFiguresByReason[reason] ?? 0) + 1;
  if (stats.droppedFigureSamples.length < MALFORMED_SAMPLE_LIMIT)
    stats.droppedFigureSamples.push(`${position} (${reason})`);
}

/**
 * A reader for the earlier format, with the failure classifier. Loaded on demand: the classifier brings pi-ai,
 * which costs the scripts about a second of start-up, and most logs have no old line.
 */
export async function legacyEventReader(): Promise<LegacyEventReader> {
  const { classifyFailure } = await import("../runtime/classify-failure.ts");
  return new LegacyEventReader(
    (errorText, time) => classifyFailure({ stopReason: "error", errorMessage: errorText }, time).kind,
  );
}

/**
 * The lines of a text stream, split on "\n" only (a trailing "\r" is dropped). node:readline also splits on lone
 * "\r" and costs a regular expression per chunk; a log line never holds a raw line break, as JSON escapes them.
 */
async function* readLines(chunks: AsyncIterable<string>, tail: { unterminated: boolean }): AsyncIterable<string> {
  let rest = "";
  for await (const chunk of chunks) {
    const text = rest + chunk;
    let start = 0;
    let end = text.indexOf("\n");
    while (end !== -1) {
      yield text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
      start = end + 1;
      end = text.indexOf("\n", start);
    }
    rest = text.slice(start);
  }
  if (rest === "") return;
  tail.unterminated = true;
  yield rest.endsWith("\r") ? rest.slice(0, -1) : rest;
}

/** Why a line that is not JSON is malformed: at the end of a file without its line break, it was cut off. */
export const CUT_OFF_REASON = "cut off at the end of the file (still being written, or the writer stopped mid-line)";

/** Events of all files in the order given (use findLogFiles for rotation order). Throws if a file cannot be read. */
export async function* readEvents(files: string[], options: ReadOptions = {}): AsyncIterable<NormalizedEvent> {
  const stats = options.stats ?? emptyReadStats();
  let legacy: LegacyEventReader | undefined;
  const skip = skippedTypeMarkers(options.skipTypes);
  const skippedKind = (line: string): "ours" | "legacy" | undefined => {
    // --since and --until need each line's time
    if (skip.ours.length === 0 || options.since !== undefined || options.until !== undefined) return undefined;
    const head = line.slice(0, TYPE_HEAD_CHARS);
    if (skip.legacy.some((marker) => head.includes(marker))) return "legacy";
    return skip.ours.some((marker) => head.includes(marker)) ? "ours" : undefined;
  };
  const envelopes = new RequestEnvelopes();
  /** Requests begun before `until` whose final is not read yet: their later events are still theirs. */
  const openBeforeUntil = new Set<string>();
  const { until } = options;
  const unused: ReadonlySet<string> = new Set(options.skipTypes ?? []);
  for (const file of files) {
    stats.files.push(file);
    const fileStats: FileReadStats = (stats.byFile[file] ??= { eventLines: 0, malformed: 0 });
    const tail = { unterminated: false };
    const lines = readLines(createReadStream(file, { encoding: "utf8", highWaterMark: READ_CHUNK_BYTES }), tail);
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber++;
      stats.lines++;
      const skipped = skippedKind(line);
      if (skipped) {
        fileStats.eventLines++;
        stats.events++;
        if (skipped === "legacy") stats.legacyEvents++;
        continue;
      }
      if (!legacy && line.includes(`"${LEGACY_TYPE_PREFIX}`)) legacy = await legacyEventReader();
      const outcome = parseEventLine(line, legacy);
      if ("blank" in outcome) {
        stats.blankLines++;
      } else if ("malformed" in outcome) {
        const cutOff = tail.unterminated && outcome.malformed === "not JSON";
        const reason = cutOff ? CUT_OFF_REASON : outcome.malformed;
        recordMalformed(stats, reason, `${file}:${lineNumber}`);
        fileStats.malformed++;
        fileStats.firstMalformed ??= { line: lineNumber, reason };
      } else if ("unknownType" in outcome) {
        fileStats.eventLines++;
        // Counted under the types lines name: a type "constructor" is a key like any other.
        countUnder(stats.unknownTypes, outcome.unknownType);
      } else {
        fileStats.eventLines++;
        for (const type of outcome.unknownTypes ?? []) countUnder(stats.unknownTypes, type);
        for (const reason of outcome.droppedFigures ?? []) recordDroppedFigure(stats, reason, `${file}:${lineNumber}`);
        for (const event of eventsOfLine(outcome)) {
          envelopes.fill(event); // before `since`: a request's decision may lie just before the window
          if (options.since !== undefined && event.time < options.since) {
            stats.filteredOut++;
            options.onLeftOut?.(event, "before");
            continue;
          }
          if (until !== undefined && event.requestId !== undefined && event.type !== "feedback") {
            if (event.time < until) {
              if (event.type === "final") openBeforeUntil.delete(event.requestId);
              else openBeforeUntil.add(event.requestId);
            } else if (openBeforeUntil.has(event.requestId)) {
              if (event.type === "final") openBeforeUntil.delete(event.requestId);
            } else {
              stats.filteredOutUntil++;
              options.onLeftOut?.(event, "after");
              continue;
            }
          } else if (until !== undefined && event.time >= until) {
            stats.filteredOutUntil++;
            options.onLeftOut?.(event, "after");
            continue;
          }
          stats.events++;
          if (event.legacy) stats.legacyEvents++;
          if (outcome.events && unused.has(event.type)) continue; // carried by a line of another type
          yield event;
        }
      }
    }
  }
}

/** Rotated siblings of a live log name, oldest first: `x.N.jsonl` ... `x.1.jsonl`. */
function rotatedSiblings(directory: string, liveName: string): string[] {
  try {
    return rotatedOldestFirst(readdirSync(directory), liveName).map((name) => join(directory, name));
  } catch {
    return [];
  }
}

/**
 * A directory: its rotated logs (oldest first) then the live one. A file: its rotated siblings, then the file.
 * A rotated file given directly (`x.2.jsonl`) is returned alone. Missing paths are returned as given, so the
 * caller's read reports them.
 */
export function findLogFiles(directoryOrFile: string): string[] {
  let isDirectory = false;
  try {
    isDirectory = statSync(directoryOrFile).isDirectory();
  } catch {
    return [directoryOrFile];
  }
  if (isDirectory) {
    const live = join(directoryOrFile, LIVE_LOG_NAME);
    const rotated = rotatedSiblings(directoryOrFile, LIVE_LOG_NAME);
    let liveExists = false;
    try {
      liveExists = statSync(live).isFile();
    } catch {
      liveExists = false;
    }
    return liveExists ? [...rotated, live] : rotated;
  }
  const name = basename(directoryOrFile);
  if (/\.\d+\.jsonl$/.test(name)) return [directoryOrFile];
  return [...rotatedSiblings(dirname(directoryOrFile), name), directoryOrFile];
}

export const isEventType = (type: string): type is EventType => KNOWN_TYPES.has(type);
