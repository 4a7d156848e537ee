// Policy rules: which apply to a route, whether their condition matches now, and a dry-run line for every one of
// them (matched or not, and why) so `/auto-router explain` can show what the rules did without recomputing.
import { DEFAULT_MIN_RATINGS, type PolicyRule, type RuleCondition, type TimeWindow } from "../config/routing-schema.ts";
import type { RouterConfig } from "../config/schema.ts";
import type { RequestFeatures, RuleTrace, TargetStatus } from "./types.ts";
import type { Tier } from "../config/routing-schema.ts";
import { wallClock } from "../time/zoned-time.ts";
import { plural } from "../analytics/text-format.ts";

export interface ConditionContext {
  features: RequestFeatures;
  /** The tier in effect (shortcut, rule or intent hint), for `when.tier`. */
  tier?: Tier;
  now: number;
  /** Zone for windows without their own, resolved at the edge (budgets.timeZone, else the process's zone). */
  timeZone: string;
  /** Present when a condition is evaluated for one target (`badRatingShareAbove`). */
  target?: TargetStatus;
}

export interface ConditionResult {
  matched: boolean;
  why: string;
}

const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const MINUTE_MS = 60_000;

interface LocalClock {
  /** Minutes since local midnight. */
  minutes: number;
  day: number;
}

// The last answer per zone is remembered for the minute it covers: a memo of a pure function of (zone, now), so no
// state leaks into decisions.
const lastClock = new Map<string, { minuteStart: number; clock: LocalClock }>();

/** A share as the rules' texts show it: 1 -> "100%", 0.3 -> "30%". */
const percent = (share: number): string => `${Math.round(share * 1000) / 10}%`;

/** Local minutes-of-day and weekday at `now` in `zone`; undefined for an unknown zone. */
export function localClock(now: number, zone: string): LocalClock | undefined {
  const minuteStart = now - (((now % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
  const cached = lastClock.get(zone);
  if (cached && cached.minuteStart === minuteStart) return cached.clock;
  const wall = wallClock(now, zone);
  if (!wall) return undefined;
  const clock = { minutes: wall.hour * 60 + wall.minute, day: wall.weekday };
  lastClock.set(zone, { minuteStart, clock });
  return clock;
}

const parseClockTime = (text: string): number => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));

// Config objects are never mutated once loaded, so what is derived from one rule's condition is computed once per
// object: pure memos, they change no result.
const windowBounds = new WeakMap<TimeWindow, { after: number; before: number }>();
const usesTarget = new WeakMap<RuleCondition, boolean>();

/**
 * `after` is inclusive, `before` exclusive. When `before` is earlier than `after` the window wraps past midnight:
 * 22:00-06:00 matches 23:30 and 05:59 but not 06:00. Equal times are a window of no length, which matches no time:
 * from `after` inclusive to the same time exclusive, as the earlier router read its afterTime/beforeTime (the config
 * warns about it at load).
 */
export function inTimeWindow(minutes: number, window: TimeWindow): boolean {
  let bounds = windowBounds.get(window);
  if (!bounds)
    windowBounds.set(window, (bounds = { after: parseClockTime(window.after), before: parseClockTime(window.before) }));
  const { after, before } = bounds;
  if (after === before) return false;
  return after < before ? minutes >= after && minutes < before : minutes >= after || minutes < before;
}

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const pad = (value: number) => (value < 10 ? `0${value}` : `${value}`);
const formatMinutes = (minutes: number) => `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;

const append = (reasons: string, reason: string): string => (reasons ? `${reasons}, ${reason}` : reason);

// Module-level helpers only: under tsx every closure created in a hot function costs a `__name` call.
function failed(why: string): ConditionResult {
  return { matched: false, why };
}

// Results without a variable part are shared (callers only read them): per-target rules meet them on every request.
const NO_CONDITION: ConditionResult = Object.freeze({ matched: true, why: "no condition" });
const NEEDS_TARGET: ConditionResult = Object.freeze({ matched: false, why: "badRatingShareAbove needs a target" });
const NO_RATINGS: ConditionResult = Object.freeze({ matched: false, why: "no ratings" });
const DAY_MS = 86_400_000;

/**
 * The target's ratings a `badRatingShareAbove` counts: all it keeps, or with `ratingMaxAgeDays` only those given in
 * the last that many days (`within` then says so in the rule's reasons). With `ratingHalfLifeDays` each weighs
 * 0.5^(age / half-life) in the share (`within` says that too); `count` is still the number of ratings.
 */
function ratingsInScope(
  condition: RuleCondition,
  target: TargetStatus,
  now: number,
): { share?: number; count: number; within: string } {
  const days = condition.ratingMaxAgeDays;
  const halfLife = condition.ratingHalfLifeDays;
  if (days === undefined && halfLife === undefined)
    return { share: target.badRatingShare, count: target.ratingCount ?? 0, within: "" };
  const since = days === undefined ? Number.NEGATIVE_INFINITY : now - days * DAY_MS;
  let count = 0;
  let weight = 0;
  let bad = 0;
  for (const mark of target.ratings ?? []) {
    if (mark.at < since) continue;
    count++;
    // A rating stamped ahead of this clock (another machine's) weighs as one given now.
    const w = halfLife === undefined ? 1 : 0.5 ** (Math.max(0, now - mark.at) / (halfLife * DAY_MS));
    weight += w;
    if (mark.bad) bad += w;
  }
  const within =
    (days === undefined ? "" : ` in the last ${plural(days, "day")}`) +
    (halfLife === undefined ? "" : ` (weighed with a ${halfLife}-day half-life)`);
  return { share: weight > 0 ? bad / weight : undefined, count, within };
}

/** Every field of a condition must match (an implicit `all`); an empty condition always matches. */
export function evaluateCondition(condition: RuleCondition | undefined, context: ConditionContext): ConditionResult {
  if (!condition) return NO_CONDITION;
  // A string, not an array joined at the end: this runs per rule and per target on every request.
  let reasons = "";
  const { features } = context;
  if (condition.intent !== undefined) {
    const intents = asList(condition.intent);
    if (!intents.includes(features.intent)) return failed(`intent ${features.intent} not in ${intents.join("|")}`);
    reasons = append(reasons, `intent ${features.intent}`);
  }
  if (condition.tier !== undefined) {
    const tiers = asList(condition.tier);
    if (context.tier === undefined || !tiers.includes(context.tier))
      return failed(`tier ${context.tier ?? "none"} not in ${tiers.join("|")}`);
    reasons = append(reasons, `tier ${context.tier}`);
  }
  if (condition.minTokens !== undefined) {
    if (features.estimatedTokens < condition.minTokens)
      return failed(`${features.estimatedTokens} tokens < min ${condition.minTokens}`);
    reasons = append(reasons, `${features.estimatedTokens} tokens >= ${condition.minTokens}`);
  }
  if (condition.maxTokens !== undefined) {
    if (features.estimatedTokens > condition.maxTokens)
      return failed(`${features.estimatedTokens} tokens > max ${condition.maxTokens}`);
    reasons = append(reasons, `${features.estimatedTokens} tokens <= ${condition.maxTokens}`);
  }
  if (condition.timeWindow !== undefined || condition.daysOfWeek !== undefined) {
    const zone = condition.timeWindow?.timeZone ?? context.timeZone;
    const clock = localClock(context.now, zone);
    if (!clock) return failed(`unknown time zone ${zone}`);
    const where = zone ? ` ${zone}` : "";
    if (condition.timeWindow) {
      const { after, before } = condition.timeWindow;
      if (!inTimeWindow(clock.minutes, condition.timeWindow))
        return failed(
          after === before
            ? `${after}-${before} is a window of no length`
            : `${formatMinutes(clock.minutes)}${where} outside ${after}-${before}`,
        );
      reasons = append(reasons, `${formatMinutes(clock.minutes)}${where} in ${after}-${before}`);
    }
    if (condition.daysOfWeek) {
      // The day is the local day at `now`: a Friday 22:00-06:00 window still matches at 01:00 only if sat is listed.
      const day = DAY_NAMES[clock.day];
      if (!condition.daysOfWeek.includes(day)) return failed(`${day} not in ${condition.daysOfWeek.join(",")}`);
      reasons = append(reasons, day);
    }
  }
  if (condition.badRatingShareAbove !== undefined) {
    if (!context.target) return NEEDS_TARGET;
    const { share, count, within } = ratingsInScope(condition, context.target, context.now);
    if (share === undefined) return within ? failed(`no ratings${within}`) : NO_RATINGS;
    const needed = condition.minRatings ?? DEFAULT_MIN_RATINGS;
    if (count < needed)
      return failed(`${plural(count, "rating")}${within}, fewer than the ${needed} a bad-rating share needs`);
    const shares = `${percent(share)} ${share <= condition.badRatingShareAbove ? "<=" : ">"} ${percent(condition.badRatingShareAbove)}`;
    if (share <= condition.badRatingShareAbove) return failed(`bad ratings${within} ${shares}`);
    reasons = append(reasons, `bad ratings${within} ${shares}`);
  }
  if (condition.all) {
    for (const child of condition.all) {
      const result = evaluateCondition(child, context);
      if (!result.matched) return failed(`all: ${result.why}`);
    }
    reasons = append(reasons, `all ${condition.all.length} matched`);
  }
  if (condition.any) {
    let whys = "";
    let matched: ConditionResult | undefined;
    for (const child of condition.any) {
      const result = evaluateCondition(child, context);
      if (result.matched) {
        matched = result;
        break;
      }
      whys = whys ? `${whys}; ${result.why}` : result.why;
    }
    if (!matched && condition.any.length > 0) return failed(`any: none matched (${whys})`);
    if (matched) reasons = append(reasons, `any: ${matched.why}`);
  }
  if (condition.not) {
    const result = evaluateCondition(condition.not, context);
    if (result.matched) return failed(`not: ${result.why}`);
    reasons = append(reasons, `not (${result.why})`);
  }
  return { matched: true, why: reasons || "empty condition" };
}

/** True when the condition can only be answered per target (`badRatingShareAbove` anywhere inside it). */
export function conditionUsesTarget(condition: RuleCondition | undefined): boolean {
  if (!condition) return false;
  let uses = usesTarget.get(condition);
  if (uses === undefined) usesTarget.set(condition, (uses = searchUsesTarget(condition)));
  return uses;
}

function searchUsesTarget(condition: RuleCondition): boolean {
  if (condition.badRatingShareAbove !== undefined) return true;
  if (condition.all?.some(conditionUsesTarget) || condition.any?.some(conditionUsesTarget)) return true;
  return conditionUsesTarget(condition.not);
}

export interface ScopedRule {
  rule: PolicyRule;
  scope: "global" | "route";
  name: string;
}

export function ruleName(rule: PolicyRule, scope: "global" | "route", routeId: string, index: number): string {
  if (rule.id) return rule.id;
  if (rule.name) return rule.name;
  return scope === "global"
    ? `policyRules[${index}] ${rule.type}`
    : `routes.${routeId}.policyRules[${index}] ${rule.type}`;
}

const byPriority = (a: ScopedRule, b: ScopedRule): number => (b.rule.priority ?? 0) - (a.rule.priority ?? 0);

/**
 * Rules that apply to `routeId`: global rules without `routes` or listing it, and the route's own rules, highest
 * priority first (declared order, globals first, breaks ties). Disabled rules and rules scoped to other routes
 * never apply; they get a trace line saying so.
 */
export function collectRules(config: RouterConfig, routeId: string, traces: RuleTrace[]): ScopedRule[] {
  // A config is never mutated once loaded (a reload makes a new object), so the selection is computed once per
  // config and route: a pure memo, it does not change any result.
  let perRoute = collectedRules.get(config);
  if (!perRoute) collectedRules.set(config, (perRoute = new Map()));
  let collected = perRoute.get(routeId);
  if (!collected) perRoute.set(routeId, (collected = selectRules(config, routeId)));
  for (const trace of collected.traces) traces.push(trace);
  return collected.rules;
}

const collectedRules = new WeakMap<RouterConfig, Map<string, { rules: ScopedRule[]; traces: RuleTrace[] }>>();

function selectRules(config: RouterConfig, routeId: string): { rules: ScopedRule[]; traces: RuleTrace[] } {
  const traces: RuleTrace[] = [];
  const rules: ScopedRule[] = [];
  const globals = config.policyRules;
  if (globals) {
    for (let index = 0; index < globals.length; index++) {
      const rule = globals[index];
      const name = ruleName(rule, "global", routeId, index);
      if (rule.enabled === false) traces.push({ rule: name, scope: "global", matched: false, why: "disabled" });
      else if (rule.routes && !rule.routes.includes(routeId)) {
        traces.push({ rule: name, scope: "global", matched: false, why: `scoped to ${rule.routes.join(", ")}` });
      } else rules.push({ rule, scope: "global", name });
    }
  }
  const own = config.routes[routeId]?.policyRules;
  if (own) {
    for (let index = 0; index < own.length; index++) {
      const rule = own[index];
      const name = ruleName(rule, "route", routeId, index);
      if (rule.enabled === false) traces.push({ rule: name, scope: "route", matched: false, why: "disabled" });
      else rules.push({ rule, scope: "route", name });
    }
  }
  // Array.prototype.sort is stable, so equal priorities keep declared order (globals first).
  if (rules.length > 1) rules.sort(byPriority);
  return { rules, traces };
}
