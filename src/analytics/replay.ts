// routing-replay: re-runs the decision core on each logged decision's inputs (features and shortcut tokens, never
// prompt text) under another config, and reports how many requests would route differently, from what to what,
// and the estimated cost difference. No model is called.
//
// The snapshot is rebuilt per request: every target of the new config is assumed resolvable and credentialed
// (facts such as context window and pricing come from an injected catalogue lookup) unless the log's own
// candidates/skipped events said a target was missing or had no credentials; no cooldowns, breakers, budgets or
// quota pressure, since those were momentary. route() is injected so tests can use a small fake.
import type { RouterConfig } from "../config/schema.ts";
import { parseShortcuts } from "../routing/shortcuts.ts";
import type { Decision, ModelFacts, PromptShortcuts, RouteRequest, RoutingSnapshot } from "../routing/types.ts";
import { matchesRoute, plannedTargetOf, type JoinedItem, type JoinedRequest } from "./request-join.ts";
import { formatCount, formatSection, formatTable, formatUsd } from "./text-format.ts";
import { localTimeZone } from "../time/zoned-time.ts";

export type RouteFunction = (request: RouteRequest, snapshot: RoutingSnapshot, now: number) => Decision;
/** Catalogue facts of a model (pi-ai's built-in list in the script); undefined when unknown. */
export type ModelLookup = (
  provider: string,
  modelId: string,
) => Omit<ModelFacts, "resolvable" | "hasCredentials"> | undefined;

export interface ReplayDependencies {
  route: RouteFunction;
  lookupModel?: ModelLookup;
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

export interface ReplayReport {
  /** Requests with a logged decision. */
  decisions: number;
  replayed: number;
  same: number;
  different: number;
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

/** Shortcuts as the prompt gave them: the logged tokens parsed again by the same parser. */
export function shortcutsFromTokens(tokens: string[]): PromptShortcuts {
  if (tokens.length === 0) return { tiers: [], preferences: {}, tokens: [] };
  return parseShortcuts(tokens.join(" ")).shortcuts;
}

export class ReplayAccumulator {
  private readonly availability = new Map<string, Availability>();
  private readonly changes = new Map<string, ReplayChange>();
  private readonly report: ReplayReport = {
    decisions: 0,
    replayed: 0,
    same: 0,
    different: 0,
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
    for (const candidate of request.candidates?.candidates ?? []) this.availability.delete(candidate.key);
    for (const skipped of request.candidates?.skipped ?? []) {
      if (skipped.reason === "missing-model" || skipped.reason === "no-credentials")
        this.availability.set(skipped.key, skipped.reason);
    }
  }

  private snapshot(): RoutingSnapshot {
    const models: Record<string, ModelFacts> = {};
    for (const route of Object.values(this.config.routes)) {
      for (const target of route.targets) {
        const key = `${target.provider}/${target.modelId}`;
        if (models[key]) continue;
        const known = this.availability.get(key);
        models[key] = {
          ...this.dependencies.lookupModel?.(target.provider, target.modelId),
          resolvable: known !== "missing-model",
          hasCredentials: known === undefined,
        };
      }
    }
    return {
      config: this.config,
      models,
      cooldowns: {},
      targets: {},
      providers: {},
      budgetPolicy: this.config.budgets?.policy ?? "soft",
      quotaHard: false,
      timeZone: this.options.timeZone ?? localTimeZone(),
    };
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
    try {
      const shortcuts = shortcutsFromTokens(decision.shortcutTokens ?? []);
      if (decision.preferences) shortcuts.preferences = { ...decision.preferences, ...shortcuts.preferences };
      replayed = this.dependencies.route(
        { routeId, features: decision.features, shortcuts },
        this.snapshot(),
        request.startTime,
      );
    } catch (error) {
      return this.skip(`route() failed: ${(error as Error).message}`);
    }
    this.report.replayed++;
    const from = decision.refusal ? REFUSED : (plannedTargetOf(request) ?? NO_CANDIDATE);
    const to = replayed.refusal ? REFUSED : (replayed.candidates[0]?.key ?? NO_CANDIDATE);
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
      request.candidates?.candidates.find((candidate) => candidate.key === key)?.estimatedCostUsd;
    const loggedCostUsd = loggedEstimate(from);
    const replayedCostUsd = replayed.candidates[0]?.estimatedCostUsd ?? loggedEstimate(to);
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

  result(): ReplayReport {
    const cost = { ...this.report.cost, differenceUsd: this.report.cost.replayedUsd - this.report.cost.loggedUsd };
    const changes = [...this.changes.values()].sort(
      (a, b) => b.requests - a.requests || a.from.localeCompare(b.from) || a.to.localeCompare(b.to),
    );
    return { ...this.report, cost, changes };
  }
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

export function formatReplayReport(report: ReplayReport): string {
  const skipped = Object.entries(report.notReplayable)
    .map(([reason, count]) => `${reason}: ${count}`)
    .join(", ");
  const summary = [
    `decisions        ${formatCount(report.decisions)}`,
    `replayed         ${formatCount(report.replayed)}${skipped ? ` (not replayed: ${skipped})` : ""}`,
    `same target      ${formatCount(report.same)}`,
    `different        ${formatCount(report.different)}`,
    `estimated cost   ${formatUsd(report.cost.loggedUsd)} logged -> ${formatUsd(report.cost.replayedUsd)} replayed (${report.cost.differenceUsd >= 0 ? "+" : ""}${formatUsd(report.cost.differenceUsd)}) over ${report.cost.compared} changed requests${report.cost.unknown ? `; ${report.cost.unknown} without an estimate` : ""}`,
  ].join("\n");
  const changes =
    report.changes.length === 0
      ? "(none)"
      : formatTable(
          ["from", "to", "requests"],
          report.changes.map((change) => [change.from, change.to, formatCount(change.requests)]),
          ["left", "left", "right"],
        );
  const examples =
    report.examples.length === 0
      ? "(none)"
      : formatTable(
          ["time", "request", "route", "from", "to", "cost"],
          report.examples.map((row) => [
            row.ts.slice(0, 19).replace("T", " "),
            row.requestId,
            row.routeId,
            row.from,
            row.to,
            `${formatUsd(row.loggedCostUsd)} -> ${formatUsd(row.replayedCostUsd)}`,
          ]),
        );
  return [
    formatSection("Replay", summary),
    formatSection("Changes", changes),
    formatSection("Examples", examples),
  ].join("\n\n");
}
