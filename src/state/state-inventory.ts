// What the state directory holds, for `/auto-router debug`: each auto-router file with its size and whether it
// reads back, and the tail of the live event log. Read-only: nothing here changes or moves a file.
import { chmodSync, closeSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseJsonText } from "./json-text.ts";
import { makeDirectorySync } from "./state-file.ts";

export interface StateFileReport {
  name: string;
  bytes: number;
  health: string;
}

/** Bytes read from the end of the live log: enough for the recent decisions of every route, bounded on a big log. */
export const LOG_TAIL_BYTES = 512 * 1024;

function healthOf(name: string, path: string): string {
  if (/\.corrupt-/.test(name)) return "moved aside as corrupt";
  if (name.endsWith(".jsonl")) return "append-only log";
  if (!name.endsWith(".json")) return "other";
  try {
    parseJsonText(readFileSync(path, "utf8"));
    return "ok";
  } catch (error) {
    return `unreadable: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Every `auto-router.*` file of the directory, by name; an unreadable directory gives an empty list. */
export function inventoryStateDir(directory: string): StateFileReport[] {
  let names: string[];
  try {
    names = readdirSync(directory)
      .filter((name) => name.startsWith("auto-router."))
      .sort();
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(directory, name);
    try {
      const stat = statSync(path);
      return stat.isFile() ? [{ name, bytes: stat.size, health: healthOf(name, path) }] : [];
    } catch {
      return [];
    }
  });
}

/** The complete lines among the last `bytes` of a file; none when it does not exist. */
export function readTailLines(path: string, bytes = LOG_TAIL_BYTES): string[] {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(path, "r");
    const size = statSync(path).size;
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    readSync(descriptor, buffer, 0, buffer.length, start);
    const lines = buffer.toString("utf8").split("\n");
    // A cut first line is not a whole event.
    if (start > 0) lines.shift();
    return lines.filter((line) => line.trim() !== "");
  } catch {
    return [];
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

/** Writes a report readable only by the user (it describes their setup), replacing any earlier one. */
export function writePrivateFile(path: string, text: string): void {
  makeDirectorySync(dirname(path), 0o700); // not Node's recursive mkdir, which never returns under /proc
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}
