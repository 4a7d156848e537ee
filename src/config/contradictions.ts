// Settings that each pass the schema but contradict each other: a stressed threshold at or above the critical one can
// never be reached (a window goes straight from ok to critical), a break longer than its cap never doubles. Each is an
// error naming the rule, so the last good config keeps serving instead of one that silently does something else.
// An unset side counts at its default: `stressed: 3` alone contradicts the default critical 2.
import { DEFAULT_BREAKER_SETTINGS } from "../breaker/breaker.ts";
import { DEFAULT_UVI_THRESHOLDS } from "../routing/uvi.ts";
import type { ConfigIssue } from "./issues.ts";
import type { RouterConfig } from "./schema.ts";

/** `lower` must stay below `upper` (`orEqual`: or equal), where at least one of them is written in the file. */
function ordered(
  issues: ConfigIssue[],
  block: string,
  lower: { name: string; value: number | undefined; fallback: number },
  upper: { name: string; value: number | undefined; fallback: number },
  orEqual = false,
): void {
  if (lower.value === undefined && upper.value === undefined) return;
  const low = lower.value ?? lower.fallback;
  const high = upper.value ?? upper.fallback;
  if (orEqual ? low <= high : low < high) return;
  const limit = `${upper.name} (${high}${upper.value === undefined ? ", the default" : ""})`;
  // The side written in the file is the one to fix; the lower one when both are.
  const [at, text] =
    lower.value !== undefined
      ? [lower.name, `must be ${orEqual ? "at most" : "below"} ${limit}, got ${low}`]
      : [upper.name, `must be ${orEqual ? "at least" : "above"} ${lower.name} (${low}, the default), got ${high}`];
  issues.push({ severity: "error", path: `${block}.${at}`, message: text });
}

export function checkContradictions(config: RouterConfig, issues: ConfigIssue[]): void {
  const thresholds = config.uvi?.thresholds ?? {};
  const uvi = (name: "surplus" | "stressed" | "critical") => ({
    name,
    value: thresholds[name],
    fallback: DEFAULT_UVI_THRESHOLDS[name],
  });
  ordered(issues, "uvi.thresholds", uvi("stressed"), uvi("critical"));
  ordered(issues, "uvi.thresholds", uvi("surplus"), uvi("stressed"), true);
  const breaker = config.breaker ?? {};
  ordered(
    issues,
    "breaker",
    { name: "breakMs", value: breaker.breakMs, fallback: DEFAULT_BREAKER_SETTINGS.breakMs },
    { name: "maxBreakMs", value: breaker.maxBreakMs, fallback: DEFAULT_BREAKER_SETTINGS.maxBreakMs },
    true,
  );
}
