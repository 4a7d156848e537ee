// The event log's rotation on disk, async for flushes and sync for the exit hook: live -> .1 -> .2 ... -> .keepFiles,
// older deleted, the kept ones made 0600 if they were not. The caller holds the cross-process lock (event-log.ts); these only move files.
import { chmodSync, readdirSync, renameSync, statSync, unlinkSync } from "node:fs";
import { chmod, readdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { rotatedIndexes, rotatedName } from "../events/log-files.ts";
import { exceedsAfter, fileSize, fileSizeSync, ignoreMissing } from "./log-disk.ts";

export interface RotatedLog {
  dir: string;
  fileName: string;
  /** At least 1: rotating with none kept would delete the live log's history. */
  keepFiles: number;
  maxBytes: number;
}

/** Every file of the log is private (0600), the rotated ones too. */
const FILE_MODE = 0o600;
const isLoose = (mode: number) => (mode & 0o077) !== 0;

const livePath = (log: RotatedLog) => join(log.dir, log.fileName);
const rotatedPath = (log: RotatedLog, index: number) => join(log.dir, rotatedName(log.fileName, index));

/** Whether appending `incomingBytes` would grow the live file past maxBytes. */
export async function needsRotation(log: RotatedLog, incomingBytes: number): Promise<boolean> {
  return exceedsAfter(await fileSize(livePath(log)), incomingBytes, log.maxBytes);
}

export function needsRotationSync(log: RotatedLog, incomingBytes: number): boolean {
  return exceedsAfter(fileSizeSync(livePath(log)), incomingBytes, log.maxBytes);
}

export async function rotate(log: RotatedLog): Promise<void> {
  await unlink(rotatedPath(log, log.keepFiles)).catch(ignoreMissing);
  for (let index = log.keepFiles - 1; index >= 1; index -= 1) {
    await rename(rotatedPath(log, index), rotatedPath(log, index + 1)).catch(ignoreMissing);
  }
  await rename(livePath(log), rotatedPath(log, 1));
  for (const index of rotatedIndexes(await readdir(log.dir), log.fileName)) {
    if (index > log.keepFiles) await unlink(rotatedPath(log, index)).catch(ignoreMissing);
    else await tighten(rotatedPath(log, index));
  }
}

// A live file older than us (the earlier router's, or one a user copied in) may be 0644; the writer tightens the live
// file after its first append, which is too late when that append rotated it. Best effort: a file we may not chmod
// (another owner) must not stop the log, and the writer warns about the live file's mode itself.
async function tighten(path: string): Promise<void> {
  try {
    if (isLoose((await stat(path)).mode)) await chmod(path, FILE_MODE);
  } catch {}
}

function tightenSync(path: string): void {
  try {
    if (isLoose(statSync(path).mode)) chmodSync(path, FILE_MODE);
  } catch {}
}

export function rotateSync(log: RotatedLog): void {
  const quietly = (operation: () => void) => {
    try {
      operation();
    } catch (error) {
      ignoreMissing(error);
    }
  };
  quietly(() => unlinkSync(rotatedPath(log, log.keepFiles)));
  for (let index = log.keepFiles - 1; index >= 1; index -= 1)
    quietly(() => renameSync(rotatedPath(log, index), rotatedPath(log, index + 1)));
  renameSync(livePath(log), rotatedPath(log, 1));
  for (const index of rotatedIndexes(readdirSync(log.dir), log.fileName)) {
    if (index > log.keepFiles) quietly(() => unlinkSync(rotatedPath(log, index)));
    else tightenSync(rotatedPath(log, index));
  }
}
