// Old shapes of the routes file are migrated, not rejected (DESIGN.md rule 8). Each migration leaves a warning so
// the user learns the new shape, and nothing the user wrote is silently ignored.
import type { ConfigIssue } from "./issues.ts";
import { isObject } from "../is-object.ts";

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

function migrateRule(rule: Json, path: string, issues: ConfigIssue[]): Json {
  if (!isObject(rule)) return rule;
  const out: Record<string, Json> = { ...rule };
  if ("condition" in out && !("when" in out)) {
    out.when = out.condition;
    delete out.condition;
    issues.push({
      severity: "warning",
      path: `${path}.condition`,
      message: "renamed to `when` (old rule shape migrated)",
    });
  }
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
    }
    delete out.after;
    delete out.before;
    delete out.timezone;
    delete out.timeZone;
    moved = true;
  }
  if (moved || "when" in out) out.when = when;
  return out;
}

function migrateTarget(target: Json, path: string, issues: ConfigIssue[]): Json {
  if (typeof target === "string") {
    const slash = target.indexOf("/");
    if (slash > 0) {
      issues.push({ severity: "warning", path, message: `"${target}" migrated to {provider, modelId}` });
      return { provider: target.slice(0, slash), modelId: target.slice(slash + 1) };
    }
    return target;
  }
  if (isObject(target) && "model" in target && !("modelId" in target)) {
    issues.push({ severity: "warning", path: `${path}.model`, message: "renamed to modelId" });
    const { model, ...rest } = target;
    return { ...rest, modelId: model };
  }
  return target;
}

function migrateRoute(route: Json, path: string, issues: ConfigIssue[]): Json {
  if (!isObject(route)) return route;
  const out: Record<string, Json> = { ...route };
  if (Array.isArray(out.targets))
    out.targets = out.targets.map((t, i) => migrateTarget(t, `${path}.targets[${i}]`, issues));
  if (Array.isArray(out.policyRules))
    out.policyRules = out.policyRules.map((r, i) => migrateRule(r, `${path}.policyRules[${i}]`, issues));
  return out;
}

/** Pure: raw parsed JSON in, current shape out (still unvalidated), plus one warning per migration. */
export function migrateConfig(raw: Json, issues: ConfigIssue[]): Json {
  const value = stripCommentKeys(raw);
  if (!isObject(value)) return value;
  const out: Record<string, Json> = { ...value };
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
      routes[id] = rest;
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
      Object.entries(out.routes).map(([id, route]) => [id, migrateRoute(route, `routes.${id}`, issues)]),
    );
  }
  if (Array.isArray(out.policyRules))
    out.policyRules = out.policyRules.map((r, i) => migrateRule(r, `policyRules[${i}]`, issues));
  return out;
}
