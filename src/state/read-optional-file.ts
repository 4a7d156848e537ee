// Reads a file some other program wrote (e.g. the earlier pi-auto-router's stats), without ever changing it.
// Synchronous: such files are small and read once at start, before the first request may need what they hold.
import { readFileSync } from "node:fs";

/** The file's text, or undefined when it does not exist. Other errors throw. */
export function readOptionalText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
