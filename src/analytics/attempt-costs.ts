// What each attempt of a request cost, decided here once for every report, so the scripts count the spend that
// `/auto-router budget` counts. The budget counts an attempt's `usage` step: the target's reported usage, or an
// estimate when it reported none or implausible figures (a cut-off answer usually has none, so its `result` says
// $0 while its usage step carries the estimate). Logs without usage steps (written before they existed, or by the
// earlier public pi-auto-router) fall back to the cost the `result` reported, and a log with only a final to the
// final's cost.
import type { ResultEventData, UsageEventData } from "../events/event-types.ts";
import type { JoinedRequest } from "./request-join.ts";

export interface AttemptCost {
  target: string;
  /** The attempt's result; absent for a usage step whose result is not in the log. */
  result?: ResultEventData;
  /** Undefined when the log says nothing about the attempt's cost. */
  costUsd?: number;
  /** The cost is an estimate (the target reported no usable usage). */
  estimated: boolean;
}

/** A cost to sum: a negative one (a result's usage as a provider counted it, see read-events.ts) is unknown. */
const finite = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;

const fromUsage = (usage: UsageEventData, result?: ResultEventData): AttemptCost => ({
  target: usage.target,
  result,
  costUsd: finite(usage.costUsd),
  estimated: usage.estimated === true,
});

/**
 * Every attempt of the request with its cost, in log order (results first, then usage steps without a result). An
 * attempt's usage step belongs to its last result: a target that refused the reasoning it was sent back has a result
 * for that refusal and one for its second try, in the same attempt (runtime/reasoning-retry.ts), and only the second
 * is counted.
 */
export function attemptCosts(request: JoinedRequest): AttemptCost[] {
  const unmatched = [...request.usages];
  const results = request.results;
  const costs: AttemptCost[] = new Array(results.length);
  for (let index = results.length - 1; index >= 0; index--) {
    const result = results[index]!;
    const found = unmatched.findIndex((usage) => usage.attempt === result.attempt && usage.target === result.target);
    costs[index] =
      found >= 0
        ? fromUsage(unmatched.splice(found, 1)[0]!, result)
        : {
            target: result.target,
            result,
            costUsd: finite(result.usage?.costUsd),
            estimated: result.estimated === true,
          };
  }
  for (const usage of unmatched) costs.push(fromUsage(usage));
  const final = request.final;
  // Older logs may have only the final: it stands for the served attempt. Read only then: a final's cost is the whole
  // request's (every attempt's, as their usage steps say), which added to theirs would count them twice.
  if (costs.length === 0 && final?.servedTarget) {
    costs.push({
      target: final.servedTarget,
      result: {
        attempt: final.attempts,
        target: final.servedTarget,
        outcome: "success",
        latencyMs: final.latencyMs,
      },
      costUsd: finite(final.costUsd),
      estimated: false,
    });
  }
  return costs;
}

export interface RequestCost {
  costUsd: number;
  /** Attempts whose cost was estimated. */
  estimated: number;
}

/** What the whole request cost: every attempt's cost, as the budget counted it. */
export function requestCost(request: JoinedRequest): RequestCost {
  let costUsd = 0;
  let estimated = 0;
  for (const attempt of attemptCosts(request)) {
    costUsd += attempt.costUsd ?? 0;
    if (attempt.estimated) estimated++;
  }
  return { costUsd, estimated };
}
