// Long /auto-router listings as entries in pi's chat, on pi lines that can render an extension's session entries
// (`registerEntryRenderer`, in @earendil-works pi; not in 0.73). There the TUI lays the widgets, the editor and the
// footer out in a fixed dock under the chat (fullscreen mode, 1.x's default) and clips what does not fit: a listing
// above the editor lost its end and pushed the footer (with the router's status line) off the screen. An entry is
// part of the chat, which scrolls, so every line stays readable and the footer stays put. Custom entries are shown
// to the user only: pi never sends them to the model.
import { type ListingComponent, listingComponent } from "./listing-widget.ts";
import { findTables, type TableBlock, tablesOf } from "./table-layouts.ts";

export const LISTING_ENTRY_TYPE = "auto-router-listing";

export type ListingLevel = "info" | "warning";

/** Shows a long listing somewhere it is readable in full. */
export type ListingSink = (lines: string[], level: ListingLevel) => void;

interface ListingEntryData {
  lines: string[];
  level?: ListingLevel;
  /** Where its tables are, found when it was made (a resumed session's entry was made by another process). */
  tables?: TableBlock[];
}

/** The part of pi's extension API this needs; `registerEntryRenderer` is missing on pi 0.73. */
interface EntryHost {
  appendEntry(customType: string, data?: unknown): void;
  registerEntryRenderer?(
    customType: string,
    renderer: (
      entry: { data?: unknown },
      options: unknown,
      theme: { fg(color: "warning", text: string): string },
    ) => ListingComponent | undefined,
  ): void;
}

function isListingData(data: unknown): data is ListingEntryData {
  return (
    typeof data === "object" &&
    data !== null &&
    Array.isArray((data as ListingEntryData).lines) &&
    (data as ListingEntryData).lines.every((line) => typeof line === "string")
  );
}

/**
 * Registers the renderer of listing entries and returns the sink that appends one, or undefined on a pi that cannot
 * render them (0.73: listings stay in the widget above the editor, whose top scrolls into the terminal's scrollback).
 */
export function listingEntries(pi: EntryHost): ListingSink | undefined {
  if (typeof pi.registerEntryRenderer !== "function") return undefined;
  pi.registerEntryRenderer(LISTING_ENTRY_TYPE, (entry, _options, theme) => {
    const data = entry.data;
    if (!isListingData(data)) return undefined;
    // An entry of an earlier version has no tables: those made in this process, if any; tables not valid: none.
    const tables =
      data.tables === undefined ? findTables(data.lines) : (tablesOf(data.tables, data.lines.length) ?? []);
    const style = data.level === "warning" ? (piece: string) => theme.fg("warning", piece) : undefined;
    return listingComponent(data.lines, style, tables);
  });
  return (lines, level) =>
    pi.appendEntry(LISTING_ENTRY_TYPE, { lines, level, tables: findTables(lines) } satisfies ListingEntryData);
}
