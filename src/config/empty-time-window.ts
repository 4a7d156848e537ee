// A time window whose `after` equals its `before` is of no length: from that time inclusive to the same time
// exclusive, it matches no time, so its rule never applies (the earlier router's afterTime/beforeTime never matched
// equal bounds either). It is a warning, not an error: a rule of the earlier router's keeps doing what it did there.
import type { ConfigIssue } from "./issues.ts";
import type { TimeWindow } from "./routing-schema.ts";

/** Where a path of the migrated config was written in the file (source-paths.ts); the path itself when not moved. */
export type SourcePathOf = (path: string) => string;

/** The warning for a window of no length at `path` (a rule condition's `timeWindow`), naming it as the file wrote it. */
export function emptyTimeWindowIssue(
  window: TimeWindow | undefined,
  path: string,
  sourcePath: SourcePathOf,
): ConfigIssue | undefined {
  if (!window || window.after !== window.before) return undefined;
  // Under `all`, `any` or `not` the rest of the condition decides what a window matching no time does to the rule.
  const noLength = `a window of no length, ${path.endsWith(".when.timeWindow") ? "so this rule never applies" : "which matches no time"}`;
  // The earlier router's afterTime/beforeTime, migrated to this window: say it in the file's words.
  const afterTime = sourcePath(`${path}.after`).endsWith(".afterTime");
  const beforeTime = sourcePath(`${path}.before`).endsWith(".beforeTime");
  const earlier = "; the earlier router never applied it either (give the window a length, or remove the rule)";
  let message: string;
  if (afterTime && beforeTime) message = `afterTime equals beforeTime (${window.after}): ${noLength}${earlier}`;
  else if (beforeTime) message = `beforeTime ${window.before} alone: from midnight to midnight, ${noLength}${earlier}`;
  else
    message = `after equals before (${window.after}): ${noLength} (give the window a length; for a rule that applies all day, remove the timeWindow)`;
  return { severity: "warning", path, message };
}
