// Settings that each pass the schema but contradict each other: a stressed threshold at or above the critical one can
// never be reached (a window goes straight from ok to critical), a break longer than its cap never doubles, a
// provider both in `only` and `ignore` never serves, a rule's `minTokens` above its `maxTokens` (or `not: {}`) never
// applies. Each is an
// error naming the rule, so the last good config keeps serving instead of one that silently does something else.
// An unset side counts at its default: `stressed: 3` alone contradicts the default critical 2.
import { DEFAULT_BREAKER_SETTINGS } from "../breaker/breaker.ts";
import { DEFAULT_UVI_THRESHOLDS } from "../routing/uvi.ts";
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_KEEP_ALIVE_MS } from "./gateway-schema.ts";
import { emptyTimeWindowIssue, type SourcePathOf } from "./empty-time-window.ts";
import { fixedConditionIssue } from "./fixed-condition.ts";
import type { ConfigIssue } from "./issues.ts";
import type { ProviderPreferences, RuleCondition } from "./routing-schema.ts";
import type { FailoverSettings, RouterConfig } from "./schema.ts";

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

/** A provider both in `only` and in `ignore` of one preferences block never serves (and with `only` all ignored, none). */
function onlyAndIgnored(issues: ConfigIssue[], block: string, preferences: ProviderPreferences | undefined): void {
  if (!preferences?.only || !preferences.ignore) return;
  const only = new Set(preferences.only.map((name) => name.toLowerCase()));
  preferences.ignore.forEach((name, index) => {
    if (only.has(name.toLowerCase()))
      issues.push({
        severity: "error",
        path: `${block}.ignore[${index}]`,
        message: `"${name}" is in \`only\` too: a provider both required and ignored never serves`,
      });
  });
}

/** Visits a rule's condition and every condition nested in it (`all`, `any`, `not`), each with its path. */
function eachCondition(
  when: RuleCondition | undefined,
  path: string,
  visit: (condition: RuleCondition, path: string) => void,
): void {
  if (!when) return;
  visit(when, path);
  when.all?.forEach((part, index) => eachCondition(part, `${path}.all[${index}]`, visit));
  when.any?.forEach((part, index) => eachCondition(part, `${path}.any[${index}]`, visit));
  eachCondition(when.not, `${path}.not`, visit);
}

/**
 * One condition's own contradictions: a `minTokens` above its `maxTokens` never holds, so its rule never applies (an
 * error); `minRatings`, `ratingMaxAgeDays` and `ratingHalfLifeDays` only qualify a `badRatingShareAbove` beside them,
 * and alone do nothing (a warning).
 */
function checkCondition(issues: ConfigIssue[], when: RuleCondition, path: string, sourcePath: SourcePathOf): void {
  const emptyWindow = emptyTimeWindowIssue(when.timeWindow, `${path}.timeWindow`, sourcePath);
  if (emptyWindow) issues.push(emptyWindow);
  if (when.minTokens !== undefined && when.maxTokens !== undefined && when.minTokens > when.maxTokens)
    issues.push({
      severity: "error",
      path: `${path}.minTokens`,
      message: `must be at most maxTokens (${when.maxTokens}), got ${when.minTokens}: the rule could never apply`,
    });
  if (when.minRatings !== undefined && when.badRatingShareAbove === undefined)
    issues.push({
      severity: "warning",
      path: `${path}.minRatings`,
      message: "does nothing without `badRatingShareAbove` beside it (the ratings a bad-rating share needs)",
    });
  if (when.ratingMaxAgeDays !== undefined && when.badRatingShareAbove === undefined)
    issues.push({
      severity: "warning",
      path: `${path}.ratingMaxAgeDays`,
      message: "does nothing without `badRatingShareAbove` beside it (how old a rating that share counts may be)",
    });
  if (when.ratingHalfLifeDays !== undefined && when.badRatingShareAbove === undefined)
    issues.push({
      severity: "warning",
      path: `${path}.ratingHalfLifeDays`,
      message: "does nothing without `badRatingShareAbove` beside it (how fast a rating's weight in that share fades)",
    });
}

function checkRoutingBlock(
  issues: ConfigIssue[],
  path: string,
  block: { preferences?: ProviderPreferences; policyRules?: Array<{ when?: RuleCondition }> },
  sourcePath: SourcePathOf,
): void {
  onlyAndIgnored(issues, `${path ? `${path}.` : ""}preferences`, block.preferences);
  block.policyRules?.forEach((rule, index) => {
    const when = `${path ? `${path}.` : ""}policyRules[${index}].when`;
    eachCondition(rule.when, when, (condition, where) => checkCondition(issues, condition, where, sourcePath));
    const fixed = fixedConditionIssue(rule.when, when);
    if (fixed) issues.push(fixed);
  });
}

/**
 * `holdoffMs` is read only where `revert` is "holdoff": on a route whose own or top-level revert is another mode (the
 * default is cooldown-expiry), or at the top level when no route inherits it, it silently does nothing (a warning).
 */
function holdoffWithoutHoldoff(issues: ConfigIssue[], config: RouterConfig): void {
  const top: FailoverSettings = config.failover ?? {};
  const routes = Object.entries(config.routes ?? {});
  const modeOf = (own: FailoverSettings | undefined) => own?.revert ?? top.revert ?? "cooldown-expiry";
  const words = (mode: string) =>
    `does nothing without \`revert: "holdoff"\` (revert is ${mode}${mode === "cooldown-expiry" && !top.revert ? ", the default" : ""}: there is no hold to time)`;
  for (const [id, route] of routes) {
    const mode = modeOf(route.failover);
    if (route.failover?.holdoffMs !== undefined && mode !== "holdoff")
      issues.push({ severity: "warning", path: `routes.${id}.failover.holdoffMs`, message: words(mode) });
  }
  if (top.holdoffMs === undefined) return;
  // The top-level value is the default of every route that sets no holdoffMs of its own.
  if (routes.some(([, route]) => modeOf(route.failover) === "holdoff" && route.failover?.holdoffMs === undefined))
    return;
  issues.push({
    severity: "warning",
    path: "failover.holdoffMs",
    message: routes.some(([, route]) => modeOf(route.failover) === "holdoff")
      ? 'does nothing: every route with `revert: "holdoff"` sets its own holdoffMs'
      : words(modeOf(undefined)),
  });
}

/** `sourcePath`: where a path of the migrated config is in the file, so a migrated shape is named in its own words. */
export function checkContradictions(
  config: RouterConfig,
  issues: ConfigIssue[],
  sourcePath: SourcePathOf = (path) => path,
): void {
  checkRoutingBlock(issues, "", config, sourcePath);
  for (const [id, route] of Object.entries(config.routes ?? {}))
    checkRoutingBlock(issues, `routes.${id}`, route, sourcePath);
  holdoffWithoutHoldoff(issues, config);
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
  gatewayKeepAlive(issues, config.gateway);
}

/**
 * A keep-alive is what stops the idle timeout from closing a streamed answer that is silent while its model thinks:
 * sent no sooner than the idle timeout, it never is (a pause of idleTimeoutMs cuts the answer off). A warning, not an
 * error: both work as documented, and pi, which reads the same file, has no use for either.
 */
function gatewayKeepAlive(issues: ConfigIssue[], gateway: RouterConfig["gateway"]): void {
  const { keepAliveMs, idleTimeoutMs } = gateway ?? {};
  if (keepAliveMs === 0 || (keepAliveMs === undefined && idleTimeoutMs === undefined)) return;
  const keepAlive = keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
  const idle = idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  if (keepAlive < idle) return;
  const named = (name: string, value: number, written: boolean) =>
    `${name} (${value}${written ? "" : ", the default"})`;
  issues.push({
    severity: "warning",
    path: idleTimeoutMs !== undefined ? "gateway.idleTimeoutMs" : "gateway.keepAliveMs",
    message: `${named("keepAliveMs", keepAlive, keepAliveMs !== undefined)} is not below ${named("idleTimeoutMs", idle, idleTimeoutMs !== undefined)}: a streamed answer silent for ${idle} ms (a model thinking) is closed as idle before its keep-alive is sent; set keepAliveMs below idleTimeoutMs`,
  });
}
