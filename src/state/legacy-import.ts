// The earlier public pi-auto-router kept ratings and latency in files named like our stores
// (`auto-router.ratings.json`, `auto-router.latency.json`; shared/docs/legacy-formats.md). The file store reads such
// a file as its own: its parser converts the old shape. The team store reads Redis and the machine's view file
// (`auto-router.team-<name>.json`), never that file, so the old content has to be brought in as an operation: merged
// into whatever the store holds, once per file content, when the team store is opened (the file store needs none:
// reading the file a second time would only report an unreadable one twice); the old file itself is never written.
import { createHash } from "node:crypto";
import { readOptionalText } from "./read-optional-file.ts";
import type { StateStore, StoreOperation } from "./store-types.ts";

/** A state that remembers which old files' contents it holds (so they are imported once, by any machine). */
export type LegacyMarked = { legacyImports?: string[] };

export interface LegacyFormat<T extends LegacyMarked> {
  /** Our state from a file in the old shape (marked by legacyMarker); undefined for our own shape; throws otherwise. */
  convert(raw: unknown): T | undefined;
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

/** Merges the old file `file` into `store` when it is in the old shape; an unreadable one is reported and kept. */
export function importLegacyFile<T extends LegacyMarked>(
  store: StateStore<T>,
  file: string,
  format: LegacyFormat<T>,
  warn: (text: string) => void,
): void {
  try {
    const text = readOptionalText(file);
    const imported = text === undefined ? undefined : format.convert(JSON.parse(text));
    if (!imported) return;
    const operation = importLegacyOperation(imported, format.merge);
    // Every start after the first finds the content in the store's view: nothing to write (to Redis either).
    const view = store.read();
    if (operation(view) !== view) store.update(operation);
  } catch (error) {
    warn(
      `auto-router: could not import ${file} (kept unchanged): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
