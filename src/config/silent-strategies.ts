// Configured strategies that silently do nothing: a budget nobody bills to, a rule naming a provider no route has,
// quota pacing with nothing to pace from. Pure: the config, what pi knows about the targets and which providers
// have a quota source come in as arguments. Each finding has a stable code so it is said once per session.
import { accountOf, type ModelFacts } from "../routing/types.ts";
import type { RouterConfig } from "./schema.ts";
import { formatMoney } from "./floor-amount.ts";
import { closestId } from "./spelling.ts";
import { didYouMean } from "./unknown-targets.ts";

export interface SilentStrategy {
  /** Stable per cause, e.g. "budget-unused:deepseek": the key for saying it once. */
  code: string;
  /** Short, for the status line. */
  short: string;
  /** Full sentence, for /auto-router status and the event log. */
  message: string;
  /** Where in the routes file the strategy is written (`policyRules[0].providers[1]`), so a warning can say file:line. */
  path?: string;
}

export interface SilentStrategyInput {
  config: RouterConfig;
  /** Registry facts per provider/modelId (usesOAuth says a subscription login). */
  models: Record<string, ModelFacts>;
  quotaPacing: { enabled: boolean; hard: boolean };
  /** Providers quota pacing can read usage from (usage APIs, rate-limit headers seen, even if their windows reset). */
  quotaSources: ReadonlySet<string>;
}

const lower = (name: string) => name.toLowerCase();

export function findSilentStrategies(input: SilentStrategyInput): SilentStrategy[] {
  const { config } = input;
  const findings: SilentStrategy[] = [];
  const providers = new Set<string>();
  const billed = new Set<string>();
  const targets = new Set<string>();
  const subscriptions = new Set<string>();
  const accounts = new Set<string>();
  const perToken = new Set<string>();
  // As written, for saying which one a mistyped name was probably meant to be.
  const providerNames = new Set<string>();
  const targetNames = new Set<string>();
  for (const route of Object.values(config.routes)) {
    for (const target of route.targets) {
      const key = `${target.provider}/${target.modelId}`;
      const auth = accountOf(target);
      targets.add(lower(key));
      targetNames.add(key);
      providers.add(lower(target.provider));
      providers.add(lower(auth));
      providerNames.add(target.provider).add(auth);
      billed.add(lower(auth));
      if (target.enabled !== false) accounts.add(auth);
      const billing = target.billing ?? (input.models[key]?.usesOAuth ? "subscription" : "per-token");
      if (billing === "subscription" && target.enabled !== false) subscriptions.add(auth);
      if (billing === "per-token" && target.enabled !== false) perToken.add(lower(auth));
    }
  }

  // Hard mode excludes any target whose quota window is stressed: a subscription's (usage API, rate-limit headers) or a
  // per-token provider's monthly budget window.
  const paced = [...accounts].filter((provider) => input.quotaSources.has(provider));
  if (input.quotaPacing.enabled) {
    for (const provider of [...subscriptions].sort()) {
      if (input.quotaSources.has(provider)) continue;
      findings.push({
        code: `quota-no-source:${provider}`,
        short: `no quota source ${provider}`,
        // Rate-limit headers make one as soon as an answer carries them: until then it is unpaced, not never paced.
        message: `quota pacing is on, but ${provider} has no quota source yet (no usage API, and no rate-limit headers seen on its answers): it is not paced until its first rate-limit headers arrive`,
      });
    }
  }
  // A reserve keeps the end of a quota window that pacing reads: with pacing off there is no window to keep.
  if (!input.quotaPacing.enabled) {
    for (const provider of Object.keys(config.quota?.reserve ?? {}).sort()) {
      findings.push({
        code: `reserve-unpaced:${provider}`,
        short: `reserve off ${provider}`,
        message: `quota.reserve.${provider} is set, but quota pacing is off (/auto-router uvi enable, and AUTO_ROUTER_UVI not 0): the reserve never applies`,
        path: `quota.reserve.${provider}`,
      });
    }
  }
  if (input.quotaPacing.enabled && input.quotaPacing.hard && paced.length === 0) {
    findings.push({
      code: "quota-hard-nothing",
      short: "hard quota mode idle",
      message:
        "quota hard mode is on, but no target has a quota source (a subscription's usage API or rate-limit headers, or a monthly budget), so nothing can ever be excluded",
    });
  }

  const unknownMessage = (where: string, name: string, kind: "provider" | "target"): string => {
    if (kind === "target" && !name.includes("/")) {
      // `"alpha"` for `"alpha/a-small"`: a rule's targets are matched as provider/modelId, never by provider.
      const known = [...targetNames];
      const example =
        known.find((target) => lower(target).startsWith(`${lower(name)}/`)) ??
        closestId(name, known) ??
        known[0] ??
        "provider/modelId";
      return `${where} names the target "${name}", but a target is written provider/modelId (e.g. "${example}"): it never matches anything`;
    }
    const near = closestId(name, kind === "provider" ? providerNames : targetNames);
    return `${where} names the ${kind} "${name}", which no route has: it never matches anything${didYouMean(near)}`;
  };
  const named = (
    where: string,
    names: string[] | undefined,
    kind: "provider" | "target",
    pathOf: (name: string, index: number) => string,
  ) => {
    (names ?? []).forEach((name, index) => {
      const known = kind === "provider" ? providers.has(lower(name)) : targets.has(lower(name));
      if (known) return;
      findings.push({
        code: `unknown-${kind}:${where}:${name}`,
        short: `${kind} ${name} in no route`,
        message: unknownMessage(where, name, kind),
        path: pathOf(name, index),
      });
    });
  };
  const rules = [
    ...(config.policyRules ?? []).map((rule, index) => ({ rule, where: `policyRules[${index}]` })),
    ...Object.entries(config.routes).flatMap(([routeId, route]) =>
      (route.policyRules ?? []).map((rule, index) => ({ rule, where: `routes.${routeId}.policyRules[${index}]` })),
    ),
  ];
  for (const { rule, where } of rules) {
    if (rule.enabled === false) continue;
    named(
      `${where} (${rule.id ?? rule.type})`,
      rule.providers,
      "provider",
      (_, index) => `${where}.providers[${index}]`,
    );
    named(`${where} (${rule.id ?? rule.type})`, rule.targets, "target", (_, index) => `${where}.targets[${index}]`);
  }
  const preferenceBlocks = [
    { where: "preferences", preferences: config.preferences },
    ...Object.entries(config.routes).map(([routeId, route]) => ({
      where: `routes.${routeId}.preferences`,
      preferences: route.preferences,
    })),
  ];
  for (const { where, preferences } of preferenceBlocks) {
    for (const field of ["order", "only", "ignore"] as const)
      named(`${where}.${field}`, preferences?.[field], "provider", (_, index) => `${where}.${field}[${index}]`);
  }
  // Aliases are not here: one naming a model no route has still switches to it (`/auto-router switch`). One naming a
  // model pi does not know is found with the routes' unknown targets (unknown-targets.ts).

  const subscribed = new Set([...subscriptions].map(lower));
  for (const provider of Object.keys(config.budgets?.providers ?? {}).sort()) {
    if (billed.has(lower(provider))) {
      // A subscription's answers cost $0 of its account's budget: a budget over subscriptions alone holds nothing back.
      if (subscribed.has(lower(provider)) && !perToken.has(lower(provider)))
        findings.push({
          code: `budget-subscriptions:${provider}`,
          short: `budget ${provider} on subscriptions`,
          message: `budgets.providers.${provider} is set, but every target billing to ${provider} is a subscription, whose answers cost $0 of a budget: the budget never applies`,
          path: `budgets.providers.${provider}`,
        });
      continue;
    }
    findings.push({
      code: `budget-unused:${provider}`,
      short: `unused budget ${provider}`,
      message: `budgets.providers.${provider} is set, but no target bills to ${provider}: the budget never applies`,
      path: `budgets.providers.${provider}`,
    });
  }
  for (const provider of Object.keys(config.quota?.reserve ?? {}).sort()) {
    if (billed.has(lower(provider))) continue;
    findings.push({
      code: `reserve-unused:${provider}`,
      short: `unused reserve ${provider}`,
      message: `quota.reserve.${provider} is set, but no target bills to ${provider}: the reserve never applies${didYouMean(closestId(provider, providerNames))}`,
      path: `quota.reserve.${provider}`,
    });
  }
  return findings;
}

/**
 * A daily limit above the monthly one never blocks anything: the month's spend reaches its limit first. One check for
 * the config's limits and the ones set by `/auto-router budget set`.
 */
export function dailyAboveMonthly(limits: { daily?: number; monthly?: number }): string | undefined {
  const { daily, monthly } = limits;
  if (daily === undefined || monthly === undefined || daily <= monthly) return undefined;
  return `${formatMoney(daily)} a day is more than the monthly limit of ${formatMoney(monthly)}, so it never blocks anything (a typo of one of them?)`;
}
