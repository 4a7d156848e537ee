// Where the tables of a command's text are. Every /auto-router table is laid out by commands/format.ts `table`, which
// notes here each table it made and where its cells start; the listing (ui/listing-widget.ts) looks those tables up in
// the text it shows, to fit them to the terminal. Guessing tables from the text missed some (an indented header,
// health's; a row whose first cell is empty, budget's `month` rows) and took some prose for one (help's lines).

/** Lines `start`..`end` (exclusive) of a listing laid out by `table`: a header and its rows. */
export interface TableBlock {
  start: number;
  end: number;
  /** Where each cell after the first starts (string index), in the header and every row. */
  cellStarts: number[];
}

interface MadeTable {
  text: string;
  lines: string[];
  cellStarts: number[];
}

/** The tables made most recently: a command's output is shown right after it is made. */
const RECENT_TABLES = 32;
const recent: MadeTable[] = [];

/** Notes a table `table` made: its lines and where its cells after the first start. */
export function noteTable(text: string, cellStarts: number[]): void {
  const lines = text.split("\n");
  if (lines.length < 2 || !cellStarts.length) return;
  const same = recent.findIndex((made) => made.text === text);
  if (same >= 0) recent.splice(same, 1);
  recent.push({ text, lines, cellStarts });
  if (recent.length > RECENT_TABLES) recent.shift();
}

/** The tables of a listing: those `table` made lately, found line for line in it. */
export function findTables(lines: readonly string[]): TableBlock[] {
  const tables: TableBlock[] = [];
  for (let start = 0; start < lines.length; start++) {
    // The latest first: a table made again with the same header may have other rows.
    const made = [...recent]
      .reverse()
      .find(
        (table) =>
          table.lines[0] === lines[start] &&
          start + table.lines.length <= lines.length &&
          table.lines.every((line, index) => lines[start + index] === line),
      );
    if (!made) continue;
    tables.push({ start, end: start + made.lines.length, cellStarts: [...made.cellStarts] });
    start += made.lines.length - 1;
  }
  return tables;
}

/** Tables as stored in a session entry, or undefined when `value` is not a list of them for `lineCount` lines. */
export function tablesOf(value: unknown, lineCount: number): TableBlock[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const valid = value.every(
    (table, index) =>
      typeof table === "object" &&
      table !== null &&
      Number.isInteger(table.start) &&
      Number.isInteger(table.end) &&
      table.start >= (index ? value[index - 1].end : 0) &&
      table.end > table.start + 1 &&
      table.end <= lineCount &&
      Array.isArray(table.cellStarts) &&
      table.cellStarts.length > 0 &&
      table.cellStarts.every((start: unknown, index: number, all: unknown[]) => {
        const previous = index ? (all[index - 1] as number) : 0;
        return Number.isInteger(start) && (start as number) > previous;
      }),
  );
  return valid ? value.map(({ start, end, cellStarts }) => ({ start, end, cellStarts: [...cellStarts] })) : undefined;
}
