// Plain-text formatting shared by the subcommands.
import { formatTable } from "../analytics/text-format.ts";

export { formatDuration } from "../analytics/text-format.ts";

export function formatPrice(usdPerMillion: number): string {
  return usdPerMillion === 0
    ? "0"
    : usdPerMillion < 1
      ? usdPerMillion.toFixed(2)
      : usdPerMillion.toFixed(usdPerMillion < 10 ? 2 : 0);
}

/** A left-aligned text table without a rule under the headers. */
export const table = (headers: string[], rows: string[][]): string => formatTable(headers, rows, [], { rule: false });
