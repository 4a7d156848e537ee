// Plain-text formatting shared by the subcommands.
import { tableLayout } from "../analytics/text-format.ts";
import { noteTable } from "../ui/table-layouts.ts";

export { formatDuration, formatTimeLeft, plural } from "../analytics/text-format.ts";

export function formatPrice(usdPerMillion: number): string {
  return usdPerMillion === 0
    ? "0"
    : usdPerMillion < 1
      ? usdPerMillion.toFixed(2)
      : usdPerMillion.toFixed(usdPerMillion < 10 ? 2 : 0);
}

/**
 * A left-aligned text table without a rule under the headers. It is noted with where its cells start, so that the
 * TUI's listing finds it in a command's text and fits it to the terminal (ui/table-layouts.ts).
 */
export function table(headers: string[], rows: string[][]): string {
  const { text, cellStarts } = tableLayout(headers, rows, [], { rule: false });
  noteTable(text, cellStarts);
  return text;
}
