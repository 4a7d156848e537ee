// Plain-text formatting shared by the subcommands.
import { formatTable } from "../analytics/text-format.ts";

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 90) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h${String(minutes % 60).padStart(2, "0")}m`;
}

export function formatPrice(usdPerMillion: number): string {
  return usdPerMillion === 0 ? "0" : usdPerMillion < 1 ? usdPerMillion.toFixed(2) : usdPerMillion.toFixed(usdPerMillion < 10 ? 2 : 0);
}

/** A left-aligned text table without a rule under the headers. */
export const table = (headers: string[], rows: string[][]): string => formatTable(headers, rows, [], { rule: false });
