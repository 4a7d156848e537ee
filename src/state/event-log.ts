// Append-only JSONL event log shared by every pi window (DESIGN.md rule 7).
//
// append() is synchronous and only buffers the event (its envelope and data; a request's candidates, attempts, results
// and usage are folded into its decision and final lines, log-lines.ts). The lines a turn of the event loop made are
// compacted, redacted and serialised once that turn is over (setImmediate), off the request's path: a busy gateway's
// event data then dies young instead of waiting for the flush in the old generation, which costs collector time. A
// debounced flush serialises what is still waiting, a slice per turn (sliced-serialisation.ts), and appends the
// lines with one O_APPEND write, so lines from concurrent processes never interleave mid-line. Before appending, a log that
// would grow past maxBytes is rotated under a cross-process lock (live -> .1 -> .2 ... -> .keepFiles, older deleted);
// the size is re-checked under the lock so a rotation another window just did is not repeated. There is deliberately
// no way to truncate or delete the live log: operators' analytics must survive any command.
import { chmodSync, mkdirSync, statSync } from "node:fs";
import { chmod, mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { type EventEntry, type LogLine, LogLines } from "./log-lines.ts";
import { SlicedSerialisation } from "./sliced-serialisation.ts";
import { appendCounted, appendNoFollowSync, endsMidLine, endsMidLineSync, linesWritten, toPieces } from "./log-disk.ts";
import { needsRotation, needsRotationSync, type RotatedLog, rotate, rotateSync } from "./log-rotation.ts";
import { EVENT_LOG_NAME } from "./state-paths.ts";
import { type ExitFlushParticipant, exitRegistry, registerExitFlush } from "./exit-flush.ts";
import { acquireLock, acquireLockSync, describeError, errorCode } from "./file-lock.ts";
import type { StoreWarning } from "./json-store.ts";
import { type MovedLink, moveLinkAside, moveLinkAsideSync } from "./state-file.ts";

export { listLogFiles } from "./log-disk.ts";
export { SERIALISE_SLICE_LINES } from "./sliced-serialisation.ts";
export type { EventEntry, LogLine } from "./log-lines.ts";

export interface EventLogOptions {
  dir: string;
  fileName?: string;
  maxBytes?: number;
  keepFiles?: number;
  flushDelayMs?: number;
  maxBufferedEvents?: number;
  onWarning?: (warning: StoreWarning) => void;
  now?: () => number;
  /** Written into every event as `machine`. */
  machine?: string;
  /** An earlier log of the same file still writing its last lines (turned off, then on again): this one writes after. */
  after?: Promise<void>;
}

export interface EventLog {
  /** Keeps the event's data until the next flush: callers hand over fresh objects and do not change them afterwards. */
  append(event: EventEntry): void;
  /** New rotation limits (the routes file's `eventLog.maxBytes` / `keepFiles` changed): the next append uses them. */
  setLimits(maxBytes: number | undefined, keepFiles: number | undefined): void;
  flush(): Promise<void>;
  flushSync(): void;
  close(): Promise<void>;
  readonly path: string;
}

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_KEEP_FILES = 5;
const DEFAULT_FLUSH_DELAY_MS = 200;
const DEFAULT_MAX_BUFFERED_EVENTS = 500;
/** While the disk keeps failing, at most this many times maxBufferedEvents lines wait in memory. */
const RETAINED_BUFFERS_ON_FAILURE = 20;
const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;

class JsonlEventLog implements EventLog, RotatedLog {
  readonly path: string;
  readonly fileName: string;
  readonly dir: string;
  maxBytes = DEFAULT_MAX_BYTES;
  keepFiles = DEFAULT_KEEP_FILES;
  private readonly flushDelayMs: number;
  private readonly maxBufferedEvents: number;
  private readonly onWarning: ((warning: StoreWarning) => void) | undefined;
  private readonly lines: LogLines;
  /** Lines waiting for the next flush: their text, or (handed over by a flush or kept from a failed write) envelopes. */
  private buffer: Array<LogLine | string> = [];
  /** Lines made in this turn of the event loop, serialised into `buffer` when it is over. */
  private fresh: LogLine[] = [];
  private freshQueued = false;
  /** A flush's lines while they are serialised slice by slice; an exit flush takes them over. */
  private serialising: SlicedSerialisation | undefined;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private earlyFlushQueued = false;
  private modeChecked = false;
  private linkChecked = false;
  private closed = false;
  private readonly warned = new Set<string>();
  private readonly exitFlush: ExitFlushParticipant;
  private unregister: (() => void) | undefined;

  constructor(options: EventLogOptions) {
    this.dir = options.dir;
    this.fileName = options.fileName ?? EVENT_LOG_NAME;
    this.path = join(this.dir, this.fileName);
    this.setLimits(options.maxBytes, options.keepFiles);
    this.flushDelayMs = options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS;
    this.maxBufferedEvents = Math.max(1, options.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS);
    this.onWarning = options.onWarning;
    this.lines = new LogLines(options.now ?? Date.now, options.machine);
    if (options.after) this.chain = options.after.catch(() => undefined);
    this.exitFlush = {
      hasPendingWork: () =>
        this.buffer.length > 0 || this.fresh.length > 0 || this.serialising !== undefined || this.lines.waiting > 0,
      holdsLock: () => exitRegistry().heldLocks.get(this.path) === this,
      flushSync: () => this.flushSync(),
    };
    this.unregister = registerExitFlush(this.exitFlush);
  }

  setLimits(maxBytes: number | undefined, keepFiles: number | undefined): void {
    this.maxBytes = maxBytes ?? DEFAULT_MAX_BYTES;
    // At least one rotated file: rotating with none kept would delete the live log's history.
    this.keepFiles = Math.max(1, Math.floor(keepFiles ?? DEFAULT_KEEP_FILES));
  }

  append(event: EventEntry): void {
    // A request still in flight when the log closed (pi shuts down while its overflow compaction runs) is written all
    // the same: by the flush below, or at the process's exit at the latest.
    if (this.closed) this.unregister ??= registerExitFlush(this.exitFlush);
    const made = this.fresh.length;
    try {
      this.lines.add(event, this.push);
    } catch (error) {
      return this.unserialisable(event.type, error);
    }
    if (this.fresh.length === made) return; // folded into a line of its request
    if (!this.freshQueued) {
      this.freshQueued = true;
      setImmediate(this.serialiseFresh);
    }
    if (this.buffer.length + this.fresh.length >= this.maxBufferedEvents) {
      if (!this.earlyFlushQueued) {
        this.earlyFlushQueued = true;
        void this.flush();
      }
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushDelayMs);
      this.timer.unref();
    }
  }

  private readonly push = (line: LogLine): void => {
    this.fresh.push(line);
  };

  private readonly serialiseFresh = (): void => {
    this.freshQueued = false;
    if (this.fresh.length === 0) return;
    for (const line of this.text(this.fresh.splice(0))) this.buffer.push(line);
  };

  /** Every waiting line, oldest first: the text of earlier turns, then this turn's envelopes. */
  private takeWaiting(): Array<LogLine | string> {
    const waiting = this.buffer.splice(0);
    for (const line of this.fresh.splice(0)) waiting.push(line);
    return waiting;
  }

  private text(entries: Array<LogLine | string>): string[] {
    return this.lines.text(entries, (line, error) => this.unserialisable(line.type, error));
  }

  private unserialisable(type: string, error: unknown): void {
    this.warn(
      `serialize:${describeError(error)}`,
      `an event of type ${type} could not be serialised: ${describeError(error)}`,
    );
  }

  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.flushNow());
    return this.chain;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lines.drain(this.push); // requests still in flight: their events so far, as lines of their own
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    this.unregister?.();
    this.unregister = undefined;
  }

  flushSync(): void {
    // The lines of an async flush still being serialised come first, and that flush then writes nothing. Requests
    // still in flight (the process exits) leave their events so far as lines of their own.
    this.lines.drain(this.push);
    const earlier = this.serialising?.takeOver() ?? [];
    this.serialising = undefined;
    const waiting = this.takeWaiting();
    if (earlier.length === 0 && waiting.length === 0) return;
    const lines = this.text([...earlier, ...waiting]);
    const { pieces, bytes } = toPieces(lines);
    try {
      const created = mkdirSync(this.dir, { recursive: true, mode: DIRECTORY_MODE });
      if (created !== undefined) chmodSync(this.dir, DIRECTORY_MODE);
      if (!this.linkChecked) this.moveLinkAsideSync();
      this.rotateIfNeededSync(bytes);
      const separator = endsMidLineSync(this.path) ? "\n" : "";
      pieces.forEach((piece, index) =>
        appendNoFollowSync(this.path, index === 0 ? separator + piece : piece, FILE_MODE),
      );
      if (!this.modeChecked) this.tightenModeSync();
    } catch (error) {
      this.keepForRetry(lines, error);
    }
  }

  private async flushNow(): Promise<void> {
    this.earlyFlushQueued = false;
    if (this.buffer.length === 0 && this.fresh.length === 0) return;
    const job = new SlicedSerialisation(this.takeWaiting(), (entries) => this.text(entries));
    this.serialising = job;
    const lines = await job.run().finally(() => {
      if (this.serialising === job) this.serialising = undefined;
    });
    if (!lines) return; // an exit flush wrote them
    const { pieces, bytes } = toPieces(lines);
    let written = 0;
    try {
      const created = await mkdir(this.dir, { recursive: true, mode: DIRECTORY_MODE });
      if (created !== undefined) await chmod(this.dir, DIRECTORY_MODE);
      if (!this.linkChecked) await this.moveLinkAside();
      await this.rotateIfNeeded(bytes);
      const separator = (await endsMidLine(this.path)) ? "\n" : "";
      for (const [index, piece] of pieces.entries()) {
        const lead = index === 0 ? separator : "";
        try {
          await appendCounted(this.path, lead + piece, FILE_MODE);
        } catch (error) {
          // The lines of a piece the disk cut short that reached the file are not kept for the retry (they would be
          // written twice); the line cut short stays a malformed line, which the next append's line break ends.
          written += linesWritten(lead + piece, lead, error);
          throw error;
        }
        written += piece.split("\n").length - 1;
      }
      if (!this.modeChecked) await this.tightenMode();
    } catch (error) {
      this.keepForRetry(lines.slice(written), error);
    }
  }

  private async rotateIfNeeded(incomingBytes: number): Promise<void> {
    if (!(await needsRotation(this, incomingBytes))) return;
    let release: () => Promise<void>;
    try {
      release = await acquireLock(this.path, (error) =>
        this.warn("lock-compromised", `rotation lock lost: ${describeError(error)}`),
      );
    } catch (error) {
      return this.warn(
        `lock:${errorCode(error)}`,
        `could not lock the event log to rotate it: ${describeError(error)}; appending anyway`,
      );
    }
    const registry = exitRegistry();
    registry.heldLocks.set(this.path, this);
    try {
      if (!(await needsRotation(this, incomingBytes))) return; // another window rotated while we waited
      await rotate(this);
    } finally {
      if (registry.heldLocks.get(this.path) === this) registry.heldLocks.delete(this.path);
      await release().catch(() => undefined);
    }
  }

  private rotateIfNeededSync(incomingBytes: number): void {
    if (!needsRotationSync(this, incomingBytes)) return;
    const registry = exitRegistry();
    const owner = registry.heldLocks.get(this.path);
    if (owner !== undefined && owner !== this && !registry.exiting) return; // an in-process rotation is under way
    let release: () => void;
    try {
      release = acquireLockSync(this.path, () => undefined, owner === this);
    } catch (error) {
      return this.warn(
        `lock:${errorCode(error)}`,
        `could not lock the event log to rotate it: ${describeError(error)}; appending anyway`,
      );
    }
    try {
      if (!needsRotationSync(this, incomingBytes)) return;
      rotateSync(this);
    } finally {
      if (registry.heldLocks.get(this.path) === this) registry.heldLocks.delete(this.path);
      release();
    }
  }

  /** A link in the log's place is moved aside once, at the first write (state-file.ts says why). */
  private async moveLinkAside(): Promise<void> {
    this.linkChecked = true;
    const moved = await moveLinkAside(this.path);
    if (moved) this.warnMovedLink(moved);
  }

  private moveLinkAsideSync(): void {
    this.linkChecked = true;
    const moved = moveLinkAsideSync(this.path);
    if (moved) this.warnMovedLink(moved);
  }

  private warnMovedLink({ target, aside }: MovedLink): void {
    this.warn(
      "symlink",
      `the event log was a symbolic link (to ${target}); it was moved aside as ${aside}, and the log is written to a file of its own (nothing is written where the link pointed)`,
    );
  }

  /** The file may pre-date us with a looser mode; appendFile's mode only applies when it creates the file. */
  private async tightenMode(): Promise<void> {
    this.modeChecked = true;
    try {
      if (((await stat(this.path)).mode & 0o077) !== 0) await chmod(this.path, FILE_MODE);
    } catch (error) {
      this.warn(`chmod:${errorCode(error)}`, `could not restrict the event log to mode 0600: ${describeError(error)}`);
    }
  }

  private tightenModeSync(): void {
    this.modeChecked = true;
    try {
      if ((statSync(this.path).mode & 0o077) !== 0) chmodSync(this.path, FILE_MODE);
    } catch (error) {
      this.warn(`chmod:${errorCode(error)}`, `could not restrict the event log to mode 0600: ${describeError(error)}`);
    }
  }

  private keepForRetry(lines: string[], error: unknown): void {
    this.warn(
      `write:${errorCode(error)}`,
      `could not append to the event log: ${describeError(error)}; events are kept in memory`,
    );
    const limit = this.maxBufferedEvents * RETAINED_BUFFERS_ON_FAILURE;
    const retained = [...lines, ...this.buffer];
    const dropped = Math.max(0, retained.length - limit);
    if (dropped > 0)
      this.warn("dropped", `the event log is unwritable; dropping the oldest buffered events beyond ${limit}`);
    this.buffer = retained.slice(dropped);
  }

  private warn(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    const warning = { file: this.path, message };
    try {
      if (this.onWarning) this.onWarning(warning);
      else console.warn(`[auto-router] ${warning.file}: ${warning.message}`);
    } catch {
      // A throwing warning sink must not break logging.
    }
  }
}

export function openEventLog(options: EventLogOptions): EventLog {
  return new JsonlEventLog(options);
}
