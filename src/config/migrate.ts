// Old shapes of the routes file are migrated, not rejected (DESIGN.md rule 8). Each migration leaves a warning so
// the user learns the new shape, and nothing the user wrote is silently ignored.
import type { ConfigIssue } from "./issues.ts";
import { isObject } from "../is-object.ts";
import type { SourcePaths } from "./source-paths.ts";

type Json = unknown;

/** `_comment*` and `_example*` keys document the file; they are dropped at every depth without a warning. */
export function stripCommentKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripCommentKeys);
  if (!isObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith("_comment") || key.startsWith("_example")) continue;
    out[key] = stripCommentKeys(child);
  }
  return out;
}

// Condition fields that older files wrote directly on the rule instead of inside its condition.
const CONDITION_FIELDS = [
  "intent",
  "minTokens",
  "maxTokens",
  "timeWindow",
  "daysOfWeek",
  "badRatingShareAbove",
  "all",
  "any",
  "not",
];

/** The earlier implementation's day numbers (Date#getDay: 0 = Sunday). */
const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
/** Its "economy" tier is our "fast". */
const TIER_RENAMES: Record<string, string> = { economy: "fast" };

/** "9:00" as the schema's "09:00"; anything else as it was (the schema reports it). */
const clockTime = (value: Json): Json => (typeof value === "string" && /^\d:\d\d$/.test(value) ? `0${value}` : value);

/**
 * The earlier implementation's condition fields, in a rule's `when` (its `condition`): estimatedTokensMin/Max,
 * afterTime/beforeTime (local time, either alone) and daysOfWeek as numbers.
 */
function migrateCondition(
  when: Record<string, Json>,
  path: string,
  whenPath: string,
  issues: ConfigIssue[],
  moves: SourcePaths,
): void {
  const renames: Array<[string, string]> = [
    ["estimatedTokensMin", "minTokens"],
    ["estimatedTokensMax", "maxTokens"],
  ];
  for (const [old, current] of renames) {
    if (!(old in when)) continue;
    if (!(current in when)) {
      when[current] = when[old];
      moves.set(`${whenPath}.${current}`, `${path}.${old}`);
    }
    delete when[old];
    issues.push({ severity: "warning", path: `${path}.${old}`, message: `renamed to ${current}` });
  }
  if (!("beforeTime" in when) && clockTime(when.afterTime ?? null) === "00:00" && !("timeWindow" in when)) {
    // From midnight to the end of the day: the earlier router applied the rule at any time, so there is no window (one
    // from 00:00 to 00:00 is of no length, and matches no time).
    issues.push({
      severity: "warning",
      path: `${path}.afterTime`,
      message:
        "afterTime 00:00 alone is the whole day, as the earlier router read it: no time window (the rule applies at any time)",
    });
  } else if (("afterTime" in when || "beforeTime" in when) && !("timeWindow" in when)) {
    // Either bound alone: from it to midnight, or from midnight to it (a window may wrap past midnight).
    when.timeWindow = { after: clockTime(when.afterTime ?? "00:00"), before: clockTime(when.beforeTime ?? "00:00") };
    moves.set(`${whenPath}.timeWindow`, path);
    if ("afterTime" in when) moves.set(`${whenPath}.timeWindow.after`, `${path}.afterTime`);
    if ("beforeTime" in when) moves.set(`${whenPath}.timeWindow.before`, `${path}.beforeTime`);
    issues.push({ severity: "warning", path, message: "afterTime/beforeTime moved to timeWindow {after, before}" });
  }
  delete when.afterTime;
  delete when.beforeTime;
  const days = when.daysOfWeek;
  if (Array.isArray(days) && days.some((day) => typeof day === "number")) {
    when.daysOfWeek = days.map((day) => (typeof day === "number" && DAY_NAMES[day] ? DAY_NAMES[day] : day));
    issues.push({
      severity: "warning",
      path: `${path}.daysOfWeek`,
      message: "day numbers (0 = Sunday) migrated to names",
    });
  }
  renameTier(when, path, issues);
}

/** The earlier "economy" tier, in a rule or its condition, is our "fast". */
function renameTier(holder: Record<string, Json>, path: string, issues: ConfigIssue[]): void {
  const renamed = typeof holder.tier === "string" ? TIER_RENAMES[holder.tier] : undefined;
  if (!renamed) return;
  issues.push({ severity: "warning", path: `${path}.tier`, message: `tier ${holder.tier} is now ${renamed}` });
  holder.tier = renamed;
}

/** The rule's warnings in the order of the fields they are about, as the user reads the file. */
function migrateRule(rule: Json, path: string, issues: ConfigIssue[], moves: SourcePaths): Json {
  if (!isObject(rule)) return rule;
  const found: ConfigIssue[] = [];
  const migrated = migrateRuleFields(rule, path, found, moves);
  const fields = Object.keys(rule);
  const place = (issue: ConfigIssue) => {
    // `routes.x.policyRules[0].condition.estimatedTokensMin` -> "condition"; the rule's own path -> its after/before.
    const field = issue.path.slice(path.length + 1).split(/[.[]/)[0] || ("after" in rule ? "after" : "before");
    const index = fields.indexOf(field);
    return index < 0 ? fields.length : index;
  };
  // A stable sort: warnings about one field keep the order they were found in.
  issues.push(...[...found].sort((a, b) => place(a) - place(b)));
  return migrated;
}

function migrateRuleFields(rule: Record<string, Json>, path: string, issues: ConfigIssue[], moves: SourcePaths): Json {
  const out: Record<string, Json> = { ...rule };
  const conditionPath = "condition" in out && !("when" in out) ? `${path}.condition` : `${path}.when`;
  if ("condition" in out && !("when" in out)) {
    out.when = out.condition;
    delete out.condition;
    moves.set(`${path}.when`, `${path}.condition`);
    issues.push({
      severity: "warning",
      path: `${path}.condition`,
      message: "renamed to `when` (old rule shape migrated)",
    });
  }
  // The earlier implementation's `provider`: one provider or a list of them.
  if ("provider" in out && !("providers" in out)) {
    out.providers = typeof out.provider === "string" ? [out.provider] : out.provider;
    moves.set(`${path}.providers`, `${path}.provider`);
    if (typeof out.provider === "string") moves.set(`${path}.providers[0]`, `${path}.provider`);
    delete out.provider;
    issues.push({ severity: "warning", path: `${path}.provider`, message: "renamed to providers (a list)" });
  }
  renameTier(out, path, issues);
  const when: Record<string, Json> = isObject(out.when) ? { ...out.when } : {};
  let moved = false;
  for (const field of CONDITION_FIELDS) {
    // force-tier rules legitimately carry `tier` at rule level; only condition-only fields are moved.
    if (!(field in out)) continue;
    if (field in when) {
      issues.push({
        severity: "warning",
        path: `${path}.${field}`,
        message: `also set in when.${field}; the rule-level value is ignored`,
      });
    } else {
      when[field] = out[field];
      moves.set(`${path}.when.${field}`, `${path}.${field}`);
      issues.push({
        severity: "warning",
        path: `${path}.${field}`,
        message: `belongs inside \`when\`; moved to when.${field}`,
      });
    }
    delete out[field];
    moved = true;
  }
  // Old files wrote time windows as rule-level after/before/timezone.
  if ("after" in out || "before" in out) {
    if (!("timeWindow" in when)) {
      when.timeWindow = {
        after: out.after,
        before: out.before,
        ...((out.timezone ?? out.timeZone) ? { timeZone: out.timezone ?? out.timeZone } : {}),
      };
      issues.push({ severity: "warning", path, message: "rule-level after/before moved to when.timeWindow" });
      moves.set(`${path}.when.timeWindow`, path);
      for (const field of ["after", "before", "timezone", "timeZone"].filter((name) => name in out))
        moves.set(`${path}.when.timeWindow.${field === "timezone" ? "timeZone" : field}`, `${path}.${field}`);
    }
    delete out.after;
    delete out.before;
    delete out.timezone;
    delete out.timeZone;
    moved = true;
  }
  if (moved || "when" in out) {
    migrateCondition(when, conditionPath, `${path}.when`, issues, moves);
    out.when = when;
  }
  return out;
}

function migrateTarget(target: Json, path: string, issues: ConfigIssue[], moves: SourcePaths): Json {
  if (typeof target === "string") {
    const slash = target.indexOf("/");
    if (slash > 0) {
      moves.set(`${path}.provider`, path);
      moves.set(`${path}.modelId`, path);
      issues.push({ severity: "warning", path, message: `"${target}" migrated to {provider, modelId}` });
      return { provider: target.slice(0, slash), modelId: target.slice(slash + 1) };
    }
    return target;
  }
  if (isObject(target) && "model" in target && !("modelId" in target)) {
    issues.push({ severity: "warning", path: `${path}.model`, message: "renamed to modelId" });
    moves.set(`${path}.modelId`, `${path}.model`);
    const { model, ...rest } = target;
    return { ...rest, modelId: model };
  }
  return target;
}

function migrateRoute(route: Json, path: string, issues: ConfigIssue[], moves: SourcePaths): Json {
  if (!isObject(route)) return route;
  const out: Record<string, Json> = { ...route };
  if (Array.isArray(out.targets))
    out.targets = out.targets.map((t, i) => migrateTarget(t, `${path}.targets[${i}]`, issues, moves));
  if (Array.isArray(out.policyRules))
    out.policyRules = out.policyRules.map((r, i) => migrateRule(r, `${path}.policyRules[${i}]`, issues, moves));
  return out;
}

/**
 * Pure: raw parsed JSON in, current shape out (still unvalidated), plus one warning per migration; `moves` learns where
 * each migrated value is in the file (source-paths.ts), so a problem found in it later is named where the user wrote it.
 */
export function migrateConfig(raw: Json, issues: ConfigIssue[], moves: SourcePaths = new Map()): Json {
  const value = stripCommentKeys(raw);
  if (!isObject(value)) return value;
  const out: Record<string, Json> = { ...value };
  // Where each route stands in the file: a routes array's warnings point at `routes[0]...`, where the user wrote it.
  const sourcePaths = new Map<string, string>();
  if (Array.isArray(out.routes)) {
    const routes: Record<string, Json> = {};
    out.routes.forEach((route, index) => {
      const id = isObject(route) && typeof route.id === "string" ? route.id : undefined;
      if (!id) {
        issues.push({
          severity: "error",
          path: `routes[${index}]`,
          message: "a route in a routes array needs an `id`",
        });
        return;
      }
      const { id: _id, ...rest } = route as Record<string, Json>;
      // As with a key written twice in an object, the later one wins; a pasted route not renamed must not go unseen.
      const earlier = sourcePaths.get(id);
      if (earlier)
        issues.push({
          severity: "warning",
          path: `routes[${index}].id`,
          message: `route id "${id}" is also the id of ${earlier}; the later definition is used and the first is ignored`,
        });
      routes[id] = rest;
      sourcePaths.set(id, `routes[${index}]`);
      moves.set(`routes.${id}`, `routes[${index}]`);
    });
    issues.push({
      severity: "warning",
      path: "routes",
      message: "routes array migrated to an object keyed by route id",
    });
    out.routes = routes;
  }
  if (isObject(out.routes)) {
    out.routes = Object.fromEntries(
      Object.entries(out.routes).map(([id, route]) => [
        id,
        migrateRoute(route, sourcePaths.get(id) ?? `routes.${id}`, issues, moves),
      ]),
    );
  }
  if (Array.isArray(out.policyRules))
    out.policyRules = out.policyRules.map((r, i) => migrateRule(r, `policyRules[${i}]`, issues, moves));
  return out;
}
