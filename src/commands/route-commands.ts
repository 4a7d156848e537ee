// status, list, show: what the routes are and which targets can serve right now.
import { describeBackendLines } from "../team/team-plugin.ts";
import { RUNS_FROM_BUNDLE } from "../build-info.ts";
import { accountOf, billingOf, quotaOfModel, targetKey, routeTargetKey, type QuotaLevel } from "../routing/types.ts";
import { describeOrigin, servesBuiltInRoutes } from "../state/config-file.ts";
import { formatIssue } from "../config/issues.ts";
import type { AttemptRecord, LastDecision } from "../runtime/router-runtime.ts";
import { routeSettings } from "../runtime/route-settings.ts";
import type { CommandDeps, CommandOutput, CompletionItem, Subcommand } from "./command-types.ts";
import { formatDuration, formatPrice, formatTimeLeft, plural, table } from "./format.ts";
import { exactFirst, resolveName, resolveRouteName, usableModel } from "./name-resolution.ts";
import { holdProbeText } from "./revert-hold-text.ts";

export function routeCompletions(prefix: string, deps: CommandDeps): CompletionItem[] {
  const config = deps.config();
  const usable = usableModel(deps.runtime.registry());
  // The commands take an alias of a route too: it is offered after the route ids, saying which route it names.
  const aliases = Object.keys(config.aliases ?? {})
    .filter((alias) => alias.startsWith(prefix) && config.routes[alias] === undefined)
    .flatMap((alias) => {
      const resolved = resolveName(alias, config, usable);
      return resolved?.kind === "route"
        ? [{ value: alias, label: alias, description: `alias of route ${resolved.routeId}` }]
        : [];
    });
  return exactFirst(
    [
      ...Object.entries(config.routes)
        .filter(([id]) => id.startsWith(prefix))
        .map(([id, route]) => ({ value: id, label: id, description: route.name ?? route.description })),
      ...aliases,
    ],
    prefix,
  );
}

/** What list says of a target its quota keeps out of routing now (as route() skips it); undefined when it may serve. */
export function quotaAvailability(level: QuotaLevel | undefined, hard: boolean): string | undefined {
  if (level === "critical") return "quota critical";
  if (level === "stressed" && hard) return "quota stressed (excluded in hard mode)";
  return undefined;
}

function targetRows(routeId: string, deps: CommandDeps): string[][] {
  const config = deps.config();
  const route = config.routes[routeId];
  if (!route) return [];
  const facts = deps.runtime.currentFacts();
  const now = deps.now();
  const cooldowns = deps.runtime.cooldowns.active(now);
  const live = deps.runtime.liveStatus(now);
  const registry = deps.runtime.registry();
  return route.targets.map((target, index) => {
    const key = targetKey(target.provider, target.modelId);
    const fact = facts[key];
    const model = registry?.find(target.provider, target.modelId);
    const auth = !fact?.resolvable ? "-" : !fact.hasCredentials ? "none" : fact.usesOAuth ? "OAuth" : "API key";
    const cooldown = cooldowns[routeTargetKey(routeId, key)];
    const breaker = live.targets[key]?.breaker;
    const provider = live.providers[accountOf(target)];
    const billing = billingOf(target, fact);
    const quota = quotaAvailability(quotaOfModel(provider, target.modelId, billing)?.level, live.quotaHard);
    // A subscription's answers cost nothing of the provider's budget: its limit never holds one back.
    const budget = billing === "subscription" ? undefined : provider?.budget;
    const availability =
      target.enabled === false
        ? "disabled"
        : !fact?.resolvable
          ? "missing model"
          : !fact.hasCredentials
            ? "no credentials"
            : provider?.unhealthy
              ? `unhealthy${provider.unhealthyUntil ? ` ${formatTimeLeft(provider.unhealthyUntil - now)}` : ""} (${provider.unhealthy})`
              : cooldown
                ? `cooldown ${formatTimeLeft(cooldown.until - now)} (${cooldown.kind})`
                : breaker?.state === "open"
                  ? `breaker open${breaker.until ? `, probe in ${formatTimeLeft(breaker.until - now)}` : ""}`
                  : breaker?.state === "half-open"
                    ? "breaker half-open (probing)"
                    : budget?.level === "blocked"
                      ? budget.spendUnknown
                        ? "spend unknown (team store down)"
                        : "over budget"
                      : // The hard limit's reservation refuses what a request costs: its attempts go elsewhere.
                        budget?.refused
                        ? "over budget"
                        : (quota ?? "ready");
    const latency = deps.runtime.latency.get(key);
    return [
      String(index + 1),
      target.label ?? model?.name ?? key,
      key,
      availability,
      auth,
      latency ? `${Math.round(latency.ttftMs)} ms${latency.samples === 0 ? " (earlier router)" : ""}` : "-",
      fact?.pricing ? `${formatPrice(fact.pricing.input)}/${formatPrice(fact.pricing.output)}` : "-",
    ];
  });
}

export function describeRoute(routeId: string, deps: CommandDeps): string {
  const route = deps.config().routes[routeId]!;
  const header = `auto-router/${routeId}${route.name ? ` — ${route.name}` : ""}${route.sortBy ? ` (sortBy ${route.sortBy})` : ""}`;
  return [
    header,
    // Availability before auth: a narrow terminal keeps the left-most columns, and availability says "no credentials"
    // itself when there are none.
    table(["#", "target", "provider/model", "availability", "auth", "ttft", "$/1M in/out"], targetRows(routeId, deps)),
  ].join("\n");
}

/**
 * What a listing must say first when the config in use is not the file as written (describeOrigin's words, after the
 * file's first error): `declared` when its routes have no targets to list.
 */
export function configNotice(deps: CommandDeps): { text: string; declared: boolean } | undefined {
  const loaded = deps.services.config.state;
  const first = loaded.issues.find((issue) => issue.severity === "error");
  if (loaded.origin === "file" || (loaded.origin !== "missing" && !first)) return undefined;
  const why = first ? `${formatIssue(loaded.file, first).replace(/^error: /, "")}; ` : `${loaded.file}: `;
  return { text: `${why}${describeOrigin(loaded)}`, declared: loaded.origin === "declared" };
}

/** A listing of `routeIds`, headed by what is wrong with the routes file; an error when nothing can be listed. */
function showRoutes(routeIds: string[], deps: CommandDeps, output: CommandOutput): void {
  const notice = configNotice(deps);
  if (notice?.declared) return output.error(`auto-router: ${notice.text}`);
  const sections = routeIds.map((id) => describeRoute(id, deps));
  // The notice is a warning of its own; the listing stays a report (pi puts "Warning:" before a warning's text).
  if (notice) output.warn(`auto-router: ${notice.text}`);
  output.info(sections.join("\n\n"));
}

export const listCommand: Subcommand = {
  name: "list",
  usage: "list",
  maxArguments: 0,
  description: "Every route with its targets: auth, availability, cooldowns, time to first token, price",
  async run(_args, deps, output) {
    showRoutes(Object.keys(deps.config().routes), deps, output);
  },
};

export const showCommand: Subcommand = {
  name: "show",
  usage: "show <route>",
  maxArguments: 1,
  description: "One route in detail",
  complete: (prefix, deps) => routeCompletions(prefix, deps),
  async run(args, deps, output) {
    let name: string | undefined = args[0];
    if (!name && output.select) {
      name = await output.select("Show which route?", Object.keys(deps.config().routes));
      if (!name) return output.info("show cancelled");
    }
    if (!name) return output.error("usage: /auto-router show <route>");
    const named = resolveRouteName(name, deps.config(), deps.runtime.registry());
    if ("error" in named) return output.error(`show: ${named.error}`);
    showRoutes([named.routeId], deps, output);
  },
};

/** Targets pi does not know: the file's, as warnings where they are written; the built-in routes', as what is skipped. */
function unknownTargetLines(deps: CommandDeps): string[] {
  const loaded = deps.services.config.state;
  const unknown = deps.unknownTargets();
  if (unknown.length === 0) return [];
  if (servesBuiltInRoutes(loaded))
    return [
      `  built-in targets this pi does not know (skipped when routing): ${unknown.map((target) => target.key).join(", ")}`,
    ];
  return unknown.map((target) => {
    const at = loaded.locate?.(target.path);
    return `  warning: ${at ? `line ${at.line}, column ${at.column} ` : ""}at ${target.path}: ${target.message}`;
  });
}

/**
 * Every problem of the config in use, one indented line each with its line and column: the file's issues, then the
 * provider/model ids pi does not know. status and the debug report both show these (a bug report needs all of them).
 */
export function configIssueLines(deps: CommandDeps): string[] {
  const loaded = deps.services.config.state;
  return [
    ...loaded.issues.map(
      (i) =>
        `  ${i.severity}: ${[i.line !== undefined ? `line ${i.line}, column ${i.column}` : "", i.path ? `at ${i.path}` : ""].filter(Boolean).join(" ")}${i.line !== undefined || i.path ? ": " : ""}${i.message}`,
    ),
    ...unknownTargetLines(deps),
  ];
}

export const statusCommand: Subcommand = {
  name: "status",
  usage: "status",
  maxArguments: 0,
  description: "Config file, state directory, last decisions, active cooldowns and revert holds",
  async run(_args, deps, output) {
    const loaded = deps.services.config.state;
    const now = deps.now();
    const lines = [
      `config: ${loaded.file} (${describeOrigin(loaded)})`,
      ...configIssueLines(deps),
      `state: ${deps.services.stateDir}`,
      ...describeBackendLines(deps.services.backend.describe(now)),
      `code: ${RUNS_FROM_BUNDLE ? "bundled (dist/auto-router.cjs)" : "TypeScript sources (run `npm install` in the package to build the faster bundle)"}`,
      `routes: ${Object.keys(deps.config().routes).join(", ")}`,
    ];
    // The status line shows what fits of these (its "+2 more"); here they are all.
    const warnings = [...new Set([...deps.runtime.statusWarnings(now), ...(deps.statusLineWarnings?.() ?? [])])];
    if (warnings.length) lines.push(`warnings: ${warnings.join(", ")}`);
    const silent = deps.runtime.silentStrategies.update(
      deps.config(),
      deps.runtime.currentFacts(),
      deps.runtime.collaborators.quota,
      now,
    );
    if (silent.length) lines.push("strategies that do nothing:", ...silent.map((finding) => `  ${finding.message}`));
    const cooldowns = Object.entries(deps.runtime.cooldowns.active(now));
    lines.push(cooldowns.length ? "cooldowns:" : "cooldowns: none");
    for (const [key, entry] of cooldowns)
      lines.push(`  ${key.replace("::", " ")}: ${entry.kind}, ${formatTimeLeft(entry.until - now)} left`);
    const config = deps.config();
    const holds = deps.runtime.books.revert?.activeHolds(
      Object.keys(config.routes),
      (routeId) => routeSettings(config, routeId).revert,
      now,
    );
    if (holds?.length) lines.push("revert holds:");
    for (const hold of holds ?? []) {
      // Decided as the next request would be (quiet: not logged or shown), so a resting first choice is not promised
      // a probe it will not get.
      const next = deps.runtime.decide("status", hold.routeId, { messages: [] }, undefined, now, { quiet: true });
      lines.push(
        `  ${hold.routeId}: on ${hold.standIn} after failing over from ${hold.preferred}; ${holdProbeText(hold, next, now)}`,
      );
    }
    const decisions = deps.runtime.allLastDecisions();
    const routes = deps.config().routes;
    for (const last of decisions) {
      // A route the routes file no longer has (renamed or removed since) is said to be gone, not listed as current.
      const gone = routes[last.decision.requestedRouteId] === undefined ? " (route no longer in the routes file)" : "";
      // A request a tier sent to another route names it, as explain (`Route main -> think`) and the status line do.
      const moved = last.decision.routeId !== last.decision.requestedRouteId ? ` -> ${last.decision.routeId}` : "";
      lines.push(
        `last ${last.decision.requestedRouteId}${gone}${moved}: ${servedText(last) ?? last.outcome ?? "pending"}${last.failovers ? `, ${plural(last.failovers, "failover")}` : ""}, ${formatDuration(now - last.at)} ago`,
      );
    }
    output.info(lines.join("\n"));
  },
};

/**
 * The served target's attempt when its answer did not end after it started: `failed-after-commit` (cut off by a dropped
 * connection, a stream error or a stall: the request failed and was not failed over) or `aborted` (stopped, e.g. Esc).
 */
export function unfinishedAttempt(last: LastDecision): AttemptRecord | undefined {
  const served = last.attempts.filter((attempt) => attempt.key === last.servedKey).at(-1);
  return served?.outcome === "failed-after-commit" || served?.outcome === "aborted" ? served : undefined;
}

/**
 * What came of the last request's served target, as explain's first line and status say it (a target whose answer was
 * cut off or aborted is not "served by"); undefined when no target served.
 */
export function servedText(last: LastDecision): string | undefined {
  const unfinished = unfinishedAttempt(last);
  if (unfinished) return unfinishedAnswerText(unfinished.outcome, unfinished.key, unfinished.failureKind);
  return last.servedKey ? `served by ${last.servedKey}` : undefined;
}

/**
 * How an answer that ended after it started is named (explain's first line, status, debug's decisions): `aborted` when
 * it was stopped (Esc), else `cut off` with the failure that broke it.
 */
export function unfinishedAnswerText(outcome: string, target: string, failureKind: string | undefined): string {
  if (outcome === "aborted") return `aborted: the answer from ${target} was stopped after it started`;
  return `cut off: the answer from ${target} broke off after it started (${failureKind ?? "error"})`;
}
