// The daily composition as its charts draw it (text and HTML): each series (a model, or "other") has a fill of its own.
// A log over weeks easily names more models than there are fills (model versions come and go, --daily-top raises the
// models named per day); a fill shared by two models would make both bars and the legend ambiguous, so the models
// beyond the fills, the least served over the days shown, are drawn and named as "other" with the rest.
import type { DayRow } from "./session-stats.ts";

/** The series under which session-stats sums a day's models beyond --daily-top. */
export const OTHER_SERIES = "other";

export interface DrawnComposition {
  /** Each day's parts in the day's order, a folded model's requests in the day's "other" (last). */
  days: Array<{ day: string; requests: number; composition: DayRow["composition"] }>;
  /** The series in legend order (first seen, "other" last): at most `fills`, so each has a fill of its own. */
  series: string[];
}

export function drawnComposition(days: readonly DayRow[], fills: number): DrawnComposition {
  const totals = new Map<string, number>();
  for (const day of days)
    for (const part of day.composition) totals.set(part.model, (totals.get(part.model) ?? 0) + part.requests);
  const firstSeen = [...totals.keys()];
  if (firstSeen.length <= fills)
    return { days: days.map(({ day, requests, composition }) => ({ day, requests, composition })), series: firstSeen };
  const kept = new Set(
    firstSeen
      .filter((model) => model !== OTHER_SERIES)
      .sort((a, b) => totals.get(b)! - totals.get(a)! || firstSeen.indexOf(a) - firstSeen.indexOf(b))
      .slice(0, fills - 1),
  );
  return {
    days: days.map(({ day, requests, composition }) => {
      const parts = composition.filter((part) => kept.has(part.model));
      const other = composition.reduce((sum, part) => (kept.has(part.model) ? sum : sum + part.requests), 0);
      return { day, requests, composition: other > 0 ? [...parts, { model: OTHER_SERIES, requests: other }] : parts };
    }),
    series: [...firstSeen.filter((model) => kept.has(model)), OTHER_SERIES],
  };
}
