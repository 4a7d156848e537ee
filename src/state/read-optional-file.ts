// Reads a file some other program wrote (e.g. the earlier pi-auto-router's stats), without ever changing it.
// Synchronous: such files are small and read once at start, before the first request may need what they hold.
import { readFileSync } from "node:fs";
import { isMissing } from "./state-file.ts";

/** The file's text, or undefined when it does not exist (a path below a regular file included). Other errors throw. */
export function readOptionalText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}
