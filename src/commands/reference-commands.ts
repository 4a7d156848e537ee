// shortcuts, rules: what can be typed at the start of a prompt, and the policy rules the config declares.
import {
  DEFAULT_MIN_RATINGS,
  SORT_KEYS,
  TIERS,
  type PolicyRule,
  type RuleCondition,
} from "../config/routing-schema.ts";
import type { RouterConfig } from "../config/schema.ts";
import { LONG_TIER_MIN_CONTEXT_TOKENS } from "../routing/constraints.ts";
import { collectRules, ruleName } from "../routing/policy-rules.ts";
import type { Subcommand } from "./command-types.ts";
import { plural } from "./format.ts";
import { resolveRouteName } from "./name-resolution.ts";
import { configNotice, routeCompletions } from "./route-commands.ts";

const TIER_MEANINGS: Record<(typeof TIERS)[number], string> = {
  reasoning: "hard problems: reasoning models only",
  swe: "everyday coding: reasoning models only",
  long: `long context: windows of at least ${LONG_TIER_MIN_CONTEXT_TOKENS / 1000}k tokens`,
  vision: "targets that accept images only",
  fast: "quick answers: no extra requirement, its route decides",
};

export function shortcutsText(config: RouterConfig): string {
  const lines = [
    "Prompt shortcuts: a run of @tokens at the very start of a prompt, stripped before the model sees it.",
    "Tiers:",
  ];
  for (const tier of TIERS) {
    const route = config.tiers?.[tier]?.route;
    // A tier naming no route serves on the active route (choose-tier.ts), as the load warning says.
    const where = !route
      ? "the active route"
      : config.routes[route]
        ? `route ${route}`
        : `the active route: tiers.${tier}.route "${route}" is no route`;
    lines.push(`  @${tier.padEnd(10)} ${TIER_MEANINGS[tier]} (${where})`);
  }
  lines.push("Provider preferences:");
  lines.push("  @only=a,b       only these providers may serve (provider names, no spaces)");
  lines.push("  @ignore=a,b     these providers never serve");
  lines.push(`  @sort=KEY       rank by ${SORT_KEYS.join(" | ")}`);
  lines.push("  @max-price=N    highest USD per 1M output tokens");
  lines.push("Example: @reasoning @only=anthropic,google explain this deadlock");
  return lines.join("\n");
}

export const shortcutsCommand: Subcommand = {
  name: "shortcuts",
  usage: "shortcuts",
  maxArguments: 0,
  description: "The @shortcuts a prompt may start with (tiers and provider preferences)",
  async run(_args, deps, output) {
    // An invalid routes file is said first, as the listings say it: its tiers are not the ones in force.
    const notice = configNotice(deps);
    if (notice) output.warn(`auto-router: ${notice.text}`);
    output.info(shortcutsText(deps.config()));
  },
};

export function describeCondition(condition: RuleCondition | undefined): string {
  if (!condition) return "always";
  const parts: string[] = [];
  const list = (value: string | string[]) => (Array.isArray(value) ? value.join("|") : value);
  if (condition.intent !== undefined) parts.push(`intent ${list(condition.intent)}`);
  if (condition.tier !== undefined) parts.push(`tier ${list(condition.tier)}`);
  if (condition.minTokens !== undefined) parts.push(`≥ ${condition.minTokens} tokens`);
  if (condition.maxTokens !== undefined) parts.push(`≤ ${condition.maxTokens} tokens`);
  if (condition.timeWindow)
    parts.push(
      `${condition.timeWindow.after}-${condition.timeWindow.before}${condition.timeWindow.timeZone ? ` ${condition.timeWindow.timeZone}` : ""}`,
    );
  if (condition.daysOfWeek) parts.push(condition.daysOfWeek.join(","));
  if (condition.badRatingShareAbove !== undefined)
    parts.push(
      `bad ratings > ${Math.round(condition.badRatingShareAbove * 100)}% of ≥ ${condition.minRatings ?? DEFAULT_MIN_RATINGS}${condition.ratingMaxAgeDays !== undefined ? ` in the last ${plural(condition.ratingMaxAgeDays, "day")}` : ""}${condition.ratingHalfLifeDays !== undefined ? `, ${condition.ratingHalfLifeDays}-day half-life` : ""}`,
    );
  if (condition.all) parts.push(`all(${condition.all.map(describeCondition).join("; ")})`);
  if (condition.any) parts.push(`any(${condition.any.map(describeCondition).join("; ")})`);
  if (condition.not) parts.push(`not(${describeCondition(condition.not)})`);
  return parts.join(" and ") || "always";
}

export function describeEffect(rule: PolicyRule): string {
  switch (rule.type) {
    case "force-tier":
      return `tier ${rule.tier}`;
    case "prefer-provider":
      return `prefer ${rule.providers?.join(", ")}`;
    case "exclude-provider":
      return `exclude ${rule.providers?.join(", ")}`;
    case "require-provider":
      return `only ${rule.providers?.join(", ")}`;
    case "force-billing":
      return `${rule.billing} only`;
    case "force-constraint":
      return `require ${Object.entries(rule.constraint ?? {})
        .map(([key, value]) => `${key}=${value}`)
        .join(", ")}`;
    case "demote-target":
      return rule.targets ? `demote ${rule.targets.join(", ")}` : "demote each matching target";
  }
}

function ruleLine(rule: PolicyRule, name: string, scope: string): string {
  const flags = [`priority ${rule.priority ?? 0}`, scope];
  if (rule.enabled === false) flags.push("disabled");
  return `  ${name}: when ${describeCondition(rule.when)} => ${describeEffect(rule)} (${flags.join(", ")})`;
}

export function rulesText(config: RouterConfig, routeId?: string): string {
  if (routeId) return routeRulesText(config, routeId);
  const lines: string[] = [];
  const globals = config.policyRules ?? [];
  if (globals.length) {
    lines.push("Global rules:");
    globals.forEach((rule, index) =>
      lines.push(ruleLine(rule, ruleName(rule, "global", "", index), scopeText(rule, "global"))),
    );
  }
  for (const [id, route] of Object.entries(config.routes)) {
    if (!route.policyRules?.length) continue;
    lines.push(`Route ${id}:`);
    route.policyRules.forEach((rule, index) =>
      lines.push(ruleLine(rule, ruleName(rule, "route", id, index), scopeText(rule, "route"))),
    );
  }
  if (lines.length === 0) return 'no policy rules configured (see "policyRules" in the README)';
  lines.push(
    "Listed as declared. /auto-router rules <route> lists a route's rules in the order they run; /auto-router explain shows which rules matched the last request.",
  );
  return lines.join("\n");
}

/** One route's rules in the order the decision runs them (higher priority first; ties: declared, global first). */
function routeRulesText(config: RouterConfig, routeId: string): string {
  const running = collectRules(config, routeId, []);
  const disabled = [
    ...(config.policyRules ?? []).map((rule, index) => ({ rule, scope: "global" as const, index })),
    ...(config.routes[routeId]?.policyRules ?? []).map((rule, index) => ({ rule, scope: "route" as const, index })),
  ]
    .filter(({ rule }) => rule.enabled === false && (!rule.routes || rule.routes.includes(routeId)))
    .map(({ rule, scope, index }) => ({ rule, scope, name: ruleName(rule, scope, routeId, index) }));
  if (running.length === 0 && disabled.length === 0) return `no policy rules apply to route ${routeId}`;
  const lines = [
    `Rules of route ${routeId}, in the order they run (higher priority first; ties as declared, global rules first):`,
  ];
  for (const { rule, name, scope } of [...running, ...disabled])
    lines.push(ruleLine(rule, name, scopeText(rule, scope)));
  lines.push("/auto-router explain shows which rules matched the last request.");
  return lines.join("\n");
}

function scopeText(rule: PolicyRule, scope: "global" | "route"): string {
  if (scope === "route") return "this route";
  return rule.routes ? `routes ${rule.routes.join(",")}` : "all routes";
}

export const rulesCommand: Subcommand = {
  name: "rules",
  usage: "rules [route]",
  maxArguments: 1,
  description: "The policy rules (global and per route): when each applies and what it does",
  complete: (prefix, deps) => routeCompletions(prefix, deps),
  async run(args, deps, output) {
    const named = args[0] ? resolveRouteName(args[0], deps.config(), deps.runtime.registry()) : undefined;
    if (named && "error" in named) return output.error(`rules: ${named.error}`);
    const routeId = named?.routeId;
    // An invalid routes file is said first, as the listings say it: its rules are not the ones in force.
    const notice = configNotice(deps);
    if (notice?.declared)
      return output.error(
        `auto-router: ${notice.text}\nno policy rules are loaded: the file's rules apply once it is fixed`,
      );
    if (notice) output.warn(`auto-router: ${notice.text}`);
    output.info(`${notice ? "the rules in force:\n" : ""}${rulesText(deps.config(), routeId)}`);
  },
};
