// A long /auto-router listing as a pi component (a widget above the editor on pi 0.73, an entry in the chat on newer
// pi). pi cuts a widget given as string[] after 10 lines ("... (widget truncated)"), so `help` or `list` lost their
// ends; a component is rendered in full. Lines are wrapped to the terminal width because pi's TUI refuses a rendered
// line wider than the terminal: at spaces, never inside a word or a table cell that fits, with a hanging indent.
// A table (`list`, `health`, `budget`, `search`, `aliases`) wider than the terminal would wrap each row into a
// staircase instead: it keeps its left-most columns that fit, each row on one line, and says under it which columns
// it left out. The columns are chosen at each render, from the table's cells, as pi renders again at a new width.
// The tables are the ones commands/format.ts `table` made (ui/table-layouts.ts), not guessed from the text.
import { findTables, type TableBlock } from "./table-layouts.ts";

/** The part of pi's Component interface a widget needs (render returns readonly string[] on newer pi). */
export interface ListingComponent {
  render(width: number): string[];
  invalidate(): void;
}

/** Terminal columns of one code point: East Asian wide and emoji take two, combining marks none. */
function columnsOf(codePoint: number): number {
  if (
    (codePoint >= 0x300 && codePoint <= 0x36f) ||
    (codePoint >= 0xfe00 && codePoint <= 0xfe0f) ||
    codePoint === 0x200d
  )
    return 0;
  const wide =
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1faff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd);
  return wide ? 2 : 1;
}

/** Terminal columns of a text without escape sequences. */
function textColumns(text: string): number {
  let columns = 0;
  for (const character of text) columns += columnsOf(character.codePointAt(0)!);
  return columns;
}

/** Where a word too wide for a whole line may break: after these (a path's `/`, JSON's `,` and `:`). */
const BREAK_AFTER = /(?<=[/,:;&?=])/;

/** A continuation line keeps at least this share of the width for text; a deeper hanging indent is not used. */
const MIN_CONTINUATION_SHARE = 1 / 3;
const MIN_CONTINUATION_COLUMNS = 10;

/**
 * Splits one line into pieces of at most `width` columns, breaking at spaces. Continuation pieces start under the
 * table cell the break fell in (a cell starts after a gap of two or more spaces, as in `help` and `search`), so a
 * wrapped description or routes column stays in its column; in a line's first cell, or when that would leave too
 * little room, they are indented `indent` spaces more than the line. Only a word wider than a whole piece is cut, after
 * a `/`, `,` or `:` where it has one.
 */
export function wrapLine(line: string, width: number, indent = 2): string[] {
  const limit = Math.max(1, width);
  const text = line.replace(/\t/g, "  ");
  if (textColumns(text) <= limit) return [text];
  const leading = text.length - text.trimStart().length;
  // Columns where a table cell starts: a word after two or more spaces, past the line's own indentation.
  const cellStarts: number[] = [];
  const tokens = text.match(/ +|[^ ]+/g) ?? [];
  let column = 0;
  for (const [index, token] of tokens.entries()) {
    if (index > 0 && token[0] !== " " && tokens[index - 1]!.length >= 2 && column - tokens[index - 1]!.length > 0)
      cellStarts.push(column);
    column += textColumns(token);
  }
  const minRoom = Math.max(MIN_CONTINUATION_COLUMNS, Math.floor(limit * MIN_CONTINUATION_SHARE));
  const hangingIndent = (breakColumn: number): string => {
    const cell = cellStarts.filter((start) => start <= breakColumn).at(-1);
    if (cell !== undefined && limit - cell >= minRoom) return " ".repeat(cell);
    if (limit - (leading + indent) >= minRoom) return " ".repeat(leading + indent);
    return limit - indent >= minRoom ? " ".repeat(indent) : "";
  };

  const pieces: string[] = [];
  let pad: string | undefined; // the hanging indent, fixed at the first break
  let current = "";
  let used = 0;
  let hasWord = false;
  let space = ""; // the spaces before the next word, written only if that word stays on this piece
  let originalColumn = 0; // where the next token starts in the unwrapped line
  const breakLine = () => {
    pad ??= hangingIndent(originalColumn);
    pieces.push(current.trimEnd());
    current = pad;
    used = pad.length;
    hasWord = false;
    space = "";
  };
  for (const token of tokens) {
    const columns = textColumns(token);
    if (token[0] === " ") {
      space = token;
    } else {
      // A word wider than a whole piece (a path, a line of JSON) breaks after a `/`, `,` or `:` where it can.
      for (const part of columns > limit ? token.split(BREAK_AFTER) : [token]) {
        if (hasWord && used + space.length + textColumns(part) > limit) breakLine();
        current += space;
        used += space.length;
        space = "";
        for (const character of part) {
          const characterColumns = columnsOf(character.codePointAt(0)!);
          if (hasWord && used + characterColumns > limit) breakLine();
          current += character;
          used += characterColumns;
          hasWord = true;
        }
      }
    }
    originalColumn += columns;
  }
  pieces.push(current.trimEnd());
  return pieces;
}

/**
 * A table's lines within `limit` columns: every column when they fit, else as many left-most columns as fit (never
 * fewer than the first) and a note naming the others. A table whose first column alone does not fit is returned
 * whole, to be wrapped like any line.
 */
export function fitTable(lines: readonly string[], cellStarts: readonly number[], limit: number): string[] {
  const fits = (shown: readonly string[]) => shown.every((line) => textColumns(line) <= limit);
  if (fits(lines)) return [...lines];
  for (let kept = cellStarts.length; kept >= 1; kept--) {
    const cut = cellStarts[kept - 1]!;
    const shown = lines.map((line) => line.slice(0, cut).trimEnd());
    if (!fits(shown)) continue;
    const header = lines[0]!;
    const leftOut = cellStarts
      .slice(kept - 1)
      .map((start, index) => header.slice(start, cellStarts[kept + index]).trim());
    // Plain text (print mode, RPC, --json) keeps every column: the way to see them all when no terminal is wide enough.
    return [...shown, `(not shown: ${leftOut.join(", ")}; a wider terminal or pi -p shows every column)`];
  }
  return [...lines];
}

/** The listing's lines at a width: its tables fitted to it (see fitTable). */
function fitTables(lines: readonly string[], tables: readonly TableBlock[], limit: number): string[] {
  const fitted: string[] = [];
  let next = 0;
  for (const table of tables) {
    fitted.push(
      ...lines.slice(next, table.start),
      ...fitTable(lines.slice(table.start, table.end), table.cellStarts, limit),
    );
    next = table.end;
  }
  fitted.push(...lines.slice(next));
  return fitted;
}

/** Whether a listing holds a table wider than `limit` columns (one a notification would wrap into a staircase). */
export function hasTableWiderThan(lines: readonly string[], limit: number, tables = findTables(lines)): boolean {
  return tables.some((table) => lines.slice(table.start, table.end).some((line) => textColumns(line) > limit));
}

/**
 * The component pi renders: every line of the listing, its tables fitted to the width pi renders at and the other
 * lines wrapped to it; `style` colours a piece. `tables` are where the listing's tables are (by default those
 * `table` made lately; a session entry keeps its own, for a listing shown again after a restart).
 */
export function listingComponent(
  lines: readonly string[],
  style: (piece: string) => string = (piece) => piece,
  tables: readonly TableBlock[] = findTables(lines),
) {
  return {
    // One column of margin on the left, like pi's own string[] widgets.
    render: (width: number) =>
      width < 2
        ? []
        : fitTables(lines, tables, width - 1).flatMap((line) =>
            wrapLine(line, width - 1).map((piece) => ` ${style(piece)}`),
          ),
    invalidate: () => {},
  } satisfies ListingComponent;
}

/** The widget factory pi's setWidget takes. */
export function listingWidget(lines: readonly string[]): () => ListingComponent {
  return () => listingComponent(lines);
}
