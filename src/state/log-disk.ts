// The event log's files on disk: which files a log consists of, how buffered lines are cut into atomic appends, and
// whether a file ends mid-line. Shared by the writer's async flush and its synchronous exit flush.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, statSync, writeFileSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { rotatedOldestFirst } from "../events/log-files.ts";
import { errorCode } from "./file-lock.ts";
import { EVENT_LOG_NAME } from "./state-paths.ts";

/** Appends never follow a symbolic link in the log's place (the log moves such a link aside first). */
export const APPEND_NO_FOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW;

/** appendFileSync with APPEND_NO_FOLLOW (whose options type takes no numeric flags). */
export function appendNoFollowSync(path: string, text: string, mode: number): void {
  const descriptor = openSync(path, APPEND_NO_FOLLOW, mode);
  try {
    writeFileSync(descriptor, text);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * An append with APPEND_NO_FOLLOW, write by write, so that one the disk cuts short (ENOSPC on a full disk, EFBIG past a
 * file size limit) tells how much of it is in the file: its error carries `bytesWritten`. appendFile's error does not
 * say, and writing the whole text again after the space came back wrote the lines that had made it a second time.
 */
export async function appendCounted(path: string, text: string, mode: number): Promise<void> {
  const bytes = Buffer.from(text);
  const handle = await open(path, APPEND_NO_FOLLOW, mode);
  let written = 0;
  try {
    while (written < bytes.length) written += (await handle.write(bytes, written)).bytesWritten;
  } catch (error) {
    if (error instanceof Error) Object.assign(error, { bytesWritten: written });
    throw error;
  } finally {
    await handle.close();
  }
}

/**
 * How many whole lines of an append cut short by `error` reached the file (0 for an error without `bytesWritten`): a
 * leading `separator` line break ends the line cut short before it, not one of these.
 */
export function linesWritten(text: string, separator: string, error: unknown): number {
  const bytes = (error as { bytesWritten?: unknown } | undefined)?.bytesWritten;
  if (typeof bytes !== "number" || bytes <= 0) return 0;
  let lines = 0;
  const written = Buffer.from(text).subarray(0, bytes);
  for (const byte of written) if (byte === NEWLINE_BYTE) lines += 1;
  return Math.max(0, lines - (separator === "" ? 0 : 1));
}

/** Node splits larger writes into several write() calls; staying below keeps each piece one atomic append. */
const MAX_APPEND_BYTES = 256 * 1024;

/** Oldest first: rotated files from the highest index down to .1, then the live file. */
export function listLogFiles(dir: string, fileName: string = EVENT_LOG_NAME): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const files = rotatedOldestFirst(entries, fileName).map((name) => join(dir, name));
  if (entries.includes(fileName)) files.push(join(dir, fileName));
  return files;
}

/** Groups lines into appends of at most MAX_APPEND_BYTES, each ending on a line boundary. Byte counts are kept
 * running: measuring the growing piece for every line made a 500-line flush take ~50 ms. */
export function toPieces(lines: string[]): { pieces: string[]; bytes: number } {
  const pieces: string[] = [];
  let current = "";
  let currentBytes = 0;
  let bytes = 0;
  for (const line of lines) {
    const entry = `${line}\n`;
    const entryBytes = Buffer.byteLength(entry);
    if (current && currentBytes + entryBytes > MAX_APPEND_BYTES) {
      pieces.push(current);
      current = "";
      currentBytes = 0;
    }
    current += entry;
    currentBytes += entryBytes;
    bytes += entryBytes;
  }
  if (current) pieces.push(current);
  return { pieces, bytes };
}

const NEWLINE_BYTE = 0x0a;

// A last line cut short (a crash mid-append, a damaged file) would swallow the first line appended after it, so
// an append to such a file starts with a line break: the fragment stays one malformed line that readers skip.
export async function endsMidLine(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch {
    return false; // absent (or unusable: the append reports that)
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== NEWLINE_BYTE;
  } finally {
    await handle.close();
  }
}

export function endsMidLineSync(path: string): boolean {
  let descriptor: number;
  try {
    descriptor = openSync(path, "r");
  } catch {
    return false;
  }
  try {
    const { size } = fstatSync(descriptor);
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(descriptor, last, 0, 1, size - 1);
    return last[0] !== NEWLINE_BYTE;
  } finally {
    closeSync(descriptor);
  }
}

/** 0 when the file is absent or unreadable (the append reports that). */
export const fileSize = (path: string): Promise<number> =>
  stat(path).then(
    (stats) => stats.size,
    () => 0,
  );

export function fileSizeSync(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Whether a non-empty log would outgrow maxBytes with the incoming bytes (an empty one takes any append). */
export const exceedsAfter = (size: number, incomingBytes: number, maxBytes: number): boolean =>
  size > 0 && size + incomingBytes > maxBytes;

/** For rotation steps on files another window may have moved already. */
export function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== "ENOENT") throw error;
}
