// Reads a file some other program wrote (e.g. the earlier pi-auto-router's stats), without ever changing it.
import { readFile } from "node:fs/promises";
import { isMissing } from "./state-file.ts";

/** The file's text, or undefined when it does not exist (a path below a regular file included). Other errors reject. */
export async function readOptionalText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}
