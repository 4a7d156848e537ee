// The earlier public pi-auto-router kept ratings and latency in files named like our stores
// (`auto-router.ratings.json`, `auto-router.latency.json`; shared/docs/legacy-formats.md). The file store reads such
// a file as its own: its parser converts the old shape. The team store reads Redis and the machine's view file
// (`auto-router.team-<name>.json`), never that file, so the old content has to be brought in as an operation: merged
// into whatever the store holds, once per file content, when the team store is opened (the file store needs none:
// reading the file a second time would only report an unreadable one twice); the old file itself is never written.
import { createHash } from "node:crypto";
import { parseJsonText, placeOf } from "./json-text.ts";
import { readOptionalText } from "./read-optional-file.ts";
import { someProblems } from "./state-file.ts";
import type { StateStore, StoreOperation } from "./store-types.ts";

/** A state that remembers which old files' contents it holds (so they are imported once, by any machine). */
export type LegacyMarked = { legacyImports?: string[] };

/** What an old file converts to, and each entry left out because it cannot be read: its problems (path: expected). */
export interface LegacyConverted<T> {
  state: T;
  dropped: string[][];
}

/** "an entry" / "2 entries" that cannot be read, each problem named (the first few; the rest counted). */
const droppedText = (dropped: readonly string[][]): string =>
  `${dropped.length === 1 ? "an entry" : `${dropped.length} entries`} (${someProblems(dropped.flat())})`;

export interface LegacyFormat<T extends LegacyMarked> {
  /**
   * Our state from a file in the old shape (marked by legacyMarker) with the entries it could read; undefined for our
   * own shape; throws when nothing of it can be read.
   */
  convert(raw: unknown): LegacyConverted<T> | undefined;
  /** `state` with what `imported` adds; what `state` holds already is kept, never replaced. */
  merge(state: T, imported: T): T;
}

/** Identifies an old file's content: the same file copied to two machines has one marker. */
export const legacyMarker = (raw: unknown): string =>
  createHash("sha256").update(JSON.stringify(raw)).digest("hex").slice(0, 16);

/** Replayable: adds the converted content unless the state holds its marker already. */
export function importLegacyOperation<T extends LegacyMarked>(
  imported: T,
  merge: LegacyFormat<T>["merge"],
): StoreOperation<T> {
  const markers = imported.legacyImports ?? [];
  return (state) => {
    const held = state.legacyImports ?? [];
    if (markers.every((marker) => held.includes(marker))) return state;
    return { ...merge(state, imported), legacyImports: [...held, ...markers.filter((m) => !held.includes(m))] };
  };
}

/** Our state from an old file's entries; throws, naming them, when there were some and none could be read. */
export function keptOrThrow<T>(converted: LegacyConverted<T>, kept: number, what: string): LegacyConverted<T> {
  if (kept === 0 && converted.dropped.length > 0)
    throw new Error(`no ${what} can be read: ${someProblems(converted.dropped.flat())}`);
  return converted;
}

/** The state a store continues from when an old file has entries it cannot read: the others; throws with them. */
export function withoutDropped<T>(converted: LegacyConverted<T>, what: string): T {
  if (converted.dropped.length === 0) return converted.state;
  throw new Error(`the earlier router's ${what} has ${droppedText(converted.dropped)} that cannot be read`);
}

/** Merges the old file `file` into `store` when it is in the old shape; an unreadable one is reported and kept. */
export function importLegacyFile<T extends LegacyMarked>(
  store: StateStore<T>,
  file: string,
  format: LegacyFormat<T>,
  warn: (text: string) => void,
): void {
  try {
    const text = readOptionalText(file);
    const converted = text === undefined ? undefined : format.convert(parseJsonText(text));
    if (!converted) return;
    const operation = importLegacyOperation(converted.state, format.merge);
    // Every start after the first finds the content in the store's view: nothing to write (to Redis either).
    const view = store.read();
    if (operation(view) === view) return;
    store.update(operation);
    const { dropped } = converted;
    // Said at the import only: later starts find the same content imported.
    if (dropped.length > 0)
      warn(
        `auto-router: imported ${file} without ${droppedText(dropped)} it could not read (the file is kept unchanged)`,
      );
  } catch (error) {
    warn(
      `auto-router: could not import ${placeOf(file, error)} (kept unchanged): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
