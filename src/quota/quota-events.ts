// When a provider's quota assessment is news for the event log (a `quota` event: the UVI timeline's points). What was
// last logged is kept in the quota state, not in one process's memory: every pi process (each `pi -p` run) would
// otherwise log every provider again at start, and the timeline would weigh processes, not changes.
import { z } from "zod";
import { stateObject } from "../state/unknown-fields.ts";
import type { ProviderAssessment, QuotaAssessment } from "../routing/uvi.ts";

/** A provider's assessment is logged again (a `quota` event) when its UVI moved at least this much since the last. */
export const QUOTA_EVENT_UVI_STEP = 0.25;

/** `usedUp`: the worst window was 100% used (absent in what versions before it logged: read as not used up). */
export const loggedAssessmentSchema = stateObject({
  level: z.string(),
  uvi: z.number(),
  window: z.string(),
  usedUp: z.boolean().optional(),
});
export type LoggedAssessment = z.infer<typeof loggedAssessmentSchema>;

/** The worst window is 100% used: the event says `usedUp`, and the timeline's level reads "critical (used up)". */
export const isUsedUp = (assessment: ProviderAssessment): boolean => assessment.worst.usedFraction >= 1;

/**
 * True when `assessment` is news compared with what was last logged for it. A window used up at the pace it was
 * critical at (50% used 1 h into 5 h, 100% 2 h in: UVI 2.5 both) is news too: the timeline would never say used up.
 */
export function assessmentChanged(last: LoggedAssessment | undefined, assessment: ProviderAssessment): boolean {
  return (
    !last ||
    last.level !== assessment.level ||
    last.window !== assessment.worst.name ||
    (last.usedUp ?? false) !== isUsedUp(assessment) ||
    Math.abs(last.uvi - assessment.uvi) >= QUOTA_EVENT_UVI_STEP
  );
}

/** One provider-wide (no `models`) or model-scoped assessment to log. */
export interface QuotaNews {
  provider: string;
  models?: string;
  assessment: ProviderAssessment;
}

/** The key of a provider's (or one of its model scopes') last logged assessment. */
const keyOf = (provider: string, models?: string) => (models === undefined ? provider : `${provider}\u0000${models}`);

/**
 * The assessments that are news against `last` (what was logged before, by any process), and what is logged after
 * them: the news replaces its entry, and a provider or scope without a live window any more is forgotten (its next
 * window is news). `next` is `last` itself when nothing changed, so the caller writes nothing.
 */
export function quotaNews(
  last: Readonly<Record<string, LoggedAssessment>>,
  assessments: Readonly<Record<string, QuotaAssessment>>,
): { news: QuotaNews[]; next: Readonly<Record<string, LoggedAssessment>> } {
  const news: QuotaNews[] = [];
  const seen = new Set<string>();
  const consider = (provider: string, assessment: ProviderAssessment, models?: string) => {
    const key = keyOf(provider, models);
    seen.add(key);
    if (assessmentChanged(last[key], assessment))
      news.push(models === undefined ? { provider, assessment } : { provider, models, assessment });
  };
  for (const [provider, quota] of Object.entries(assessments)) {
    if (quota.shared) consider(provider, quota.shared);
    for (const scoped of quota.scoped) consider(provider, scoped.assessment, scoped.label);
  }
  const gone = Object.keys(last).filter((key) => !seen.has(key));
  if (news.length === 0 && gone.length === 0) return { news, next: last };
  const next: Record<string, LoggedAssessment> = { ...last };
  for (const key of gone) delete next[key];
  for (const { provider, models, assessment } of news)
    next[keyOf(provider, models)] = {
      level: assessment.level,
      uvi: assessment.uvi,
      window: assessment.worst.name,
      ...(isUsedUp(assessment) ? { usedUp: true } : {}),
    };
  return { news, next };
}
