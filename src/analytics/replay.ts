// routing-replay: re-runs the decision core on each logged decision's inputs (features and shortcut tokens, never
// prompt text) under another config, and reports how many requests would route differently, from what to what,
// and the estimated cost difference. No model is called.
//
// The snapshot is rebuilt per request. A target of the new config is resolvable when the catalogue lookup (pi-ai's
// built-in list plus models.json in the script) knows it or the log has shown pi resolving it (a candidate, an
// attempt, a served target); one in neither is missing and route() skips it as missing-model, as the live router
// would, and the report names it. Facts such as context window and pricing come from the lookup. Every resolvable
// target is assumed credentialed, unless the log's own candidates/skipped events said a target was missing or had no
// credentials; each target's time to first token is the last one the log's candidates showed. The snapshot has no
// cooldowns, breakers, health, budgets or quota pressure of its own: replay cannot know them at another request's
// time. Instead the state the logged decision met is taken as given for that request: a target it skipped for that
// state (STATE_REASONS, or a hard budget refusing it at its reservation) is passed over, and a target it demoted or
// promoted for its quota's pace, or routed on in a soft budget's fallback (every target over budget), has that quota
// or budget in the request's snapshot, so route() ranks it as the router did. A log replayed under its own routes
// file thus reports no difference; requests the state moved are counted apart (movedByState). A request the gateway's
// wildcard proxy served (its final notes `proxied <METHOD> <path>`) is replayed over the targets whose provider
// advertises its path in the new config, as the gateway would consider only those. route() is injected so tests can
// use a small fake.
import type { RouterConfig } from "../config/schema.ts";
import { advertisedPrefixes, servingPath } from "../gateway/endpoint-prefixes.ts";
import { parseShortcuts } from "../routing/shortcuts.ts";
import {
  accountOf,
  CANDIDATE_NOTE,
  targetKey,
  type Decision,
  type ModelFacts,
  type PromptShortcuts,
  type QuotaStatus,
  type RouteRequest,
  type RoutingSnapshot,
} from "../routing/types.ts";
import { matchesRoute, plannedTargetOf, servedTargetOf, type JoinedItem, type JoinedRequest } from "./request-join.ts";
import { localTimeZone } from "../time/zoned-time.ts";
import { ownEntry } from "../own-record.ts";

export type RouteFunction = (request: RouteRequest, snapshot: RoutingSnapshot, now: number) => Decision;
/** Catalogue facts of a model (pi-ai's built-in list in the script); undefined when unknown. */
export type ModelLookup = (
  provider: string,
  modelId: string,
) => Omit<ModelFacts, "resolvable" | "hasCredentials"> | undefined;

export interface ReplayDependencies {
  route: RouteFunction;
  lookupModel?: ModelLookup;
  /**
   * True when lookupModel knows every model pi could resolve here (pi-ai's built-in catalogue was loaded): a target it
   * does not know and the log never showed is then missing. Otherwise such a target is assumed to exist.
   */
  catalogueComplete?: boolean;
}

export interface ReplayOptions {
  /** Only requests of this route (requested or served). */
  route?: string;
  /** Example rows kept. */
  limit?: number;
  timeZone?: string;
}

export const REFUSED = "(refused)";
export const NO_CANDIDATE = "(no candidate)";

export interface ReplayChange {
  from: string;
  to: string;
  requests: number;
}

export interface MissingTarget {
  /** "provider/model" of a target in the config. */
  key: string;
  /** Replayed requests in which route() skipped it as missing-model because replay could not find it. */
  requests: number;
}

export interface ReplayReport {
  /**
   * Targets of the config found neither in the catalogue nor in the log, replayed as missing (skipped as
   * missing-model, as the router skips a model pi's registry does not have): usually a typo in the config.
   */
  missingTargets: MissingTarget[];
  /** False when the catalogue was incomplete (pi-ai not loadable), so no target could be found missing. */
  targetsChecked: boolean;
  /** Requests with a logged decision. */
  decisions: number;
  replayed: number;
  same: number;
  different: number;
  /**
   * Replayed requests (same or different) whose replayed target is not the config's first choice because of the state
   * the log met: a skip for it (STATE_REASONS), a quota's demotion or promotion, a soft budget's fallback. The replay
   * takes that state as given.
   */
  movedByState: number;
  notReplayable: Record<string, number>;
  changes: ReplayChange[];
  cost: {
    /** Changed requests whose logged and replayed estimates are both known. */
    compared: number;
    loggedUsd: number;
    replayedUsd: number;
    differenceUsd: number;
    unknown: number;
  };
  examples: Array<{
    requestId: string;
    ts: string;
    routeId: string;
    from: string;
    to: string;
    loggedCostUsd?: number;
    replayedCostUsd?: number;
  }>;
}

type Availability = "missing-model" | "no-credentials";

/** Skip reasons route() gives only after finding the model (assess-targets checks enabled, then resolvable). */
const NOT_RESOLVED_REASONS: ReadonlySet<string> = new Set(["disabled", "missing-model"]);

/**
 * Skip reasons about the state at the decision's time, which the config does not decide: a cooldown, an open breaker,
 * a failing health check, a quota window, a budget's spend.
 */
const STATE_REASONS: ReadonlySet<string> = new Set(["cooldown", "circuit-open", "unhealthy", "quota", "budget"]);

/** The targets the logged request passed over for the state at the time: skipped for it, or refused by a hard budget. */
function heldByState(request: JoinedRequest): Set<string> {
  const held = new Set(request.final?.budgetSkipped ?? []);
  for (const skipped of request.candidates?.skipped ?? []) if (STATE_REASONS.has(skipped.reason)) held.add(skipped.key);
  return held;
}

/** How the router begins a candidate's quota pace and a soft budget's fallback in the logged candidates. */
const QUOTA_STRESSED = CANDIDATE_NOTE.quotaStressed;
const QUOTA_SURPLUS = CANDIDATE_NOTE.quotaSurplus;
const BUDGET_FALLBACK = `${CANDIDATE_NOTE.fallback}${CANDIDATE_NOTE.budgetBlocked}`;

/** The detail of the first text that starts with `prefix`. */
const detailOf = (texts: string[], prefix: string): string | undefined =>
  texts.find((text) => text.startsWith(prefix))?.slice(prefix.length);

/**
 * The snapshot's providers as the logged decision met them: the quota pace of each target it demoted or promoted, and
 * the budget of each it routed on only because every target was over a soft budget. Empty when it met neither.
 */
function loggedPressure(request: JoinedRequest, config: RouterConfig): RoutingSnapshot["providers"] {
  const providers: RoutingSnapshot["providers"] = {};
  for (const candidate of request.candidates?.candidates ?? []) {
    const stressed = detailOf(candidate.reasons, QUOTA_STRESSED);
    const surplus = detailOf(candidate.reasons, QUOTA_SURPLUS);
    const overBudget = detailOf(candidate.warnings, BUDGET_FALLBACK);
    const quota: QuotaStatus | undefined =
      stressed !== undefined
        ? { level: "stressed", detail: stressed }
        : surplus !== undefined
          ? { level: "surplus", detail: surplus }
          : undefined;
    // Budgets and quota windows belong to the account a target bills (its authProvider), as in assess-targets.ts.
    for (const target of Object.values(config.routes).flatMap((route) => route.targets)) {
      if ((!quota && overBudget === undefined) || targetKey(target.provider, target.modelId) !== candidate.key)
        continue;
      const status = ownEntry(
        providers,
        accountOf(target),
        (): NonNullable<RoutingSnapshot["providers"]>[string] => ({}),
      );
      if (quota) status.quotaByModel = new Map([...(status.quotaByModel ?? []), [target.modelId, quota]]);
      if (overBudget !== undefined) status.budget = { level: "blocked", detail: overBudget };
    }
  }
  return providers;
}

/** Shortcuts as the prompt gave them: the logged tokens parsed again by the same parser. */
export function shortcutsFromTokens(tokens: string[]): PromptShortcuts {
  if (tokens.length === 0) return { tiers: [], preferences: {}, tokens: [] };
  return parseShortcuts(tokens.join(" ")).shortcuts;
}

export class ReplayAccumulator {
  private readonly availability = new Map<string, Availability>();
  /** Models the log has shown pi resolving: a model pi had then exists, whatever this machine's catalogue says. */
  private readonly seen = new Set<string>();
  /** Each target's time to first token as the router last knew it (a logged candidate's ttftMs), for latency ranking. */
  private readonly ttftMs = new Map<string, number>();
  /** Per config target not found (catalogue or log), the replayed requests that skipped it as missing-model. */
  private readonly missing = new Map<string, number>();
  private readonly changes = new Map<string, ReplayChange>();
  private readonly report: ReplayReport = {
    missingTargets: [],
    targetsChecked: false,
    decisions: 0,
    replayed: 0,
    same: 0,
    different: 0,
    movedByState: 0,
    notReplayable: {},
    changes: [],
    cost: { compared: 0, loggedUsd: 0, replayedUsd: 0, differenceUsd: 0, unknown: 0 },
    examples: [],
  };

  constructor(
    private readonly config: RouterConfig,
    private readonly dependencies: ReplayDependencies,
    private readonly options: ReplayOptions = {},
  ) {}

  private skip(reason: string): void {
    this.report.notReplayable[reason] = (this.report.notReplayable[reason] ?? 0) + 1;
  }

  private learnAvailability(request: JoinedRequest): void {
    for (const candidate of request.candidates?.candidates ?? []) {
      this.availability.delete(candidate.key);
      this.seen.add(candidate.key);
      if (typeof candidate.ttftMs === "number") this.ttftMs.set(candidate.key, candidate.ttftMs);
    }
    for (const skipped of request.candidates?.skipped ?? []) {
      if (skipped.reason === "missing-model" || skipped.reason === "no-credentials")
        this.availability.set(skipped.key, skipped.reason);
      if (!NOT_RESOLVED_REASONS.has(skipped.reason)) this.seen.add(skipped.key);
    }
    for (const attempt of request.attempts) this.seen.add(attempt.target);
    for (const target of [plannedTargetOf(request), servedTargetOf(request)]) if (target) this.seen.add(target);
  }

  /** A target replay can find: in the catalogue, shown by the log, or unknowable (no complete catalogue). */
  private found(key: string, facts: ReturnType<ModelLookup>): boolean {
    return facts !== undefined || this.seen.has(key) || this.dependencies.catalogueComplete !== true;
  }

  /** The snapshot, and the config's targets in it that replay could not find. */
  private snapshot(): { snapshot: RoutingSnapshot; notFound: Set<string> } {
    const models: Record<string, ModelFacts> = {};
    const notFound = new Set<string>();
    for (const route of Object.values(this.config.routes)) {
      for (const target of route.targets) {
        const key = targetKey(target.provider, target.modelId);
        if (models[key]) continue;
        const known = this.availability.get(key);
        const facts = this.dependencies.lookupModel?.(target.provider, target.modelId);
        const found = this.found(key, facts);
        if (!found) notFound.add(key);
        models[key] = {
          ...facts,
          resolvable: found && known !== "missing-model",
          hasCredentials: found && known === undefined,
        };
      }
    }
    // Latency is no momentary pressure but a property the ranking reads (sortBy latency, ties): as the log knew it.
    const targets: RoutingSnapshot["targets"] = {};
    for (const [key, ttftMs] of this.ttftMs) targets[key] = { ttftMs };
    const snapshot: RoutingSnapshot = {
      config: this.config,
      models,
      cooldowns: {},
      targets,
      providers: {},
      budgetPolicy: this.config.budgets?.policy ?? "soft",
      quotaHard: false,
      timeZone: this.options.timeZone ?? localTimeZone(),
    };
    return { snapshot, notFound };
  }

  add(item: JoinedItem): void {
    if (item.kind !== "request") return;
    const request = item.request;
    this.learnAvailability(request);
    const decision = request.decision;
    if (!decision || !matchesRoute(request, this.options.route)) return;
    this.report.decisions++;
    if (!decision.features || typeof decision.features.estimatedTokens !== "number")
      return this.skip("no features logged");
    const routeId = decision.requestedRouteId || request.requestedRouteId;
    if (!this.config.routes[routeId]) return this.skip(`route "${routeId}" not in the config`);
    let replayed: Decision;
    // The config's own choice, with no state: what the state at the request's time moved a request from.
    let calm: Decision;
    const { snapshot, notFound } = this.snapshot();
    try {
      const shortcuts = shortcutsFromTokens(decision.shortcutTokens ?? []);
      if (decision.preferences) shortcuts.preferences = { ...decision.preferences, ...shortcuts.preferences };
      // A proxied request could only go to the targets advertising its path, as route() is told in the gateway.
      const path = proxiedPath(request);
      const serves = path === undefined ? undefined : servingPath(advertisedPrefixes(this.config), path);
      const routeRequest: RouteRequest = { routeId, features: decision.features, shortcuts, serves };
      calm = this.dependencies.route(routeRequest, snapshot, request.startTime);
      const providers = loggedPressure(request, this.config);
      replayed =
        Object.keys(providers).length > 0
          ? this.dependencies.route(routeRequest, { ...snapshot, providers }, request.startTime)
          : calm;
    } catch (error) {
      return this.skip(`route() failed: ${(error as Error).message}`);
    }
    this.report.replayed++;
    for (const skipped of replayed.skipped ?? []) {
      if (skipped.reason === "missing-model" && notFound.has(skipped.key))
        this.missing.set(skipped.key, (this.missing.get(skipped.key) ?? 0) + 1);
    }
    const from = decision.refusal ? REFUSED : (plannedTargetOf(request) ?? NO_CANDIDATE);
    const held = heldByState(request);
    const chosen = replayed.candidates.find((candidate) => !held.has(candidate.key));
    let to = replayed.refusal ? REFUSED : (chosen?.key ?? NO_CANDIDATE);
    // Every replayed candidate was resting or over budget then: the router waited or refused as the log shows.
    if (!chosen && replayed.candidates.length > 0 && (from === REFUSED || from === NO_CANDIDATE)) to = from;
    if (!replayed.refusal && to !== (calm.refusal ? REFUSED : (calm.candidates[0]?.key ?? NO_CANDIDATE)))
      this.report.movedByState++;
    if (from === to) {
      this.report.same++;
      return;
    }
    this.report.different++;
    const changeKey = `${from}\u0000${to}`;
    const change = this.changes.get(changeKey) ?? { from, to, requests: 0 };
    change.requests++;
    this.changes.set(changeKey, change);
    const loggedEstimate = (key: string) =>
      request.candidates?.candidates?.find((candidate) => candidate.key === key)?.estimatedCostUsd;
    const loggedCostUsd = loggedEstimate(from);
    const replayedCostUsd = chosen?.estimatedCostUsd ?? loggedEstimate(to);
    if (loggedCostUsd !== undefined && replayedCostUsd !== undefined) {
      this.report.cost.compared++;
      this.report.cost.loggedUsd += loggedCostUsd;
      this.report.cost.replayedUsd += replayedCostUsd;
    } else {
      this.report.cost.unknown++;
    }
    if (this.report.examples.length < (this.options.limit ?? 10)) {
      this.report.examples.push({
        requestId: request.requestId,
        ts: new Date(request.startTime).toISOString(),
        routeId,
        from,
        to,
        loggedCostUsd,
        replayedCostUsd,
      });
    }
  }

  /** Targets not found by the end of the log, and any skipped as not found in some request before the log showed them. */
  private missingTargets(): MissingTarget[] {
    const missing = new Map(this.missing);
    const { notFound } = this.snapshot();
    for (const route of Object.values(this.config.routes)) {
      for (const target of route.targets) {
        const key = targetKey(target.provider, target.modelId);
        if (target.enabled !== false && notFound.has(key) && !missing.has(key)) missing.set(key, 0);
      }
    }
    return [...missing.entries()]
      .map(([key, requests]) => ({ key, requests }))
      .sort((a, b) => b.requests - a.requests || a.key.localeCompare(b.key));
  }

  result(): ReplayReport {
    const cost = { ...this.report.cost, differenceUsd: this.report.cost.replayedUsd - this.report.cost.loggedUsd };
    const changes = [...this.changes.values()].sort(
      (a, b) => b.requests - a.requests || a.from.localeCompare(b.from) || a.to.localeCompare(b.to),
    );
    return {
      ...this.report,
      missingTargets: this.missingTargets(),
      targetsChecked: this.dependencies.catalogueComplete === true,
      cost,
      changes,
    };
  }
}

/** The path of a request the gateway's wildcard proxy served (its final's note), else undefined. */
function proxiedPath(request: JoinedRequest): string | undefined {
  for (const note of request.final?.notes ?? []) {
    const match = /^proxied [A-Z]+ (\/\S*)$/.exec(note);
    if (match) return match[1];
  }
  return undefined;
}

export async function replayDecisions(
  items: AsyncIterable<JoinedItem>,
  config: RouterConfig,
  dependencies: ReplayDependencies,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const accumulator = new ReplayAccumulator(config, dependencies, options);
  for await (const item of items) accumulator.add(item);
  return accumulator.result();
}
