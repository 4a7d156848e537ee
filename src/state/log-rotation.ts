// The event log's rotation on disk, async for flushes and sync for the exit hook: live -> .1 -> .2 ... -> .keepFiles,
// older deleted. The caller holds the cross-process lock (event-log.ts); these only move files.
import { readdirSync, renameSync, unlinkSync } from "node:fs";
import { readdir, rename, unlink } from "node:fs/promises";
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
  }
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
  }
}
