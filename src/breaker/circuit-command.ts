// /auto-router circuit: every breaker's state, its recent failure ratio, when it will probe, and what opened it.
import type { Subcommand } from "../commands/command-types.ts";
import type { RouterConfig } from "../config/schema.ts";
import { closestId } from "../config/spelling.ts";
import { routeTargetKey, targetKey } from "../routing/types.ts";
import { formatDuration, formatTimeLeft, plural, table } from "../commands/format.ts";
import type { BreakerSettings } from "./breaker.ts";
import type { BreakerBook, BreakerRow } from "./breaker-book.ts";
import { unknownWordText } from "../commands/unknown-word.ts";

type Cooldowns = Record<string, { until: number; kind: string }>;

/**
 * When the first route with this target may try it again: a target resting after a failure on every route it is in
 * is not probed before its rest ends, whatever its breaker says. Undefined when some route may try it now.
 */
function restEnds(
  key: string,
  config: RouterConfig,
  cooldowns: Cooldowns,
  now: number,
): { until: number; kind: string } | undefined {
  let soonest: { until: number; kind: string } | undefined;
  for (const [routeId, route] of Object.entries(config.routes)) {
    if (!route.targets.some((target) => targetKey(target.provider, target.modelId) === key)) continue;
    const rest = cooldowns[routeTargetKey(routeId, key)];
    if (!rest || rest.until <= now) return undefined;
    if (!soonest || rest.until < soonest.until) soonest = rest;
  }
  return soonest;
}

function describe(row: BreakerRow, now: number, rest: { until: number; kind: string } | undefined): string {
  const resting = (at: number) => (rest && rest.until > at ? `, when its rest after ${rest.kind} ends` : "");
  if (row.state === "open")
    return row.until !== undefined
      ? rest && rest.until > row.until
        ? `probe in ${formatTimeLeft(rest.until - now)}${resting(row.until)}`
        : `probe in ${formatTimeLeft(row.until - now)}`
      : "waiting";
  if (row.state === "half-open")
    return row.probeInFlight
      ? "probe in flight"
      : rest
        ? `probe in ${formatTimeLeft(rest.until - now)}${resting(now)}`
        : "probe on the next request";
  return "-";
}

/** The provider/model keys a reset can name: every route's targets and every breaker the book holds. */
function knownTargets(book: BreakerBook, config: RouterConfig, now: number): Set<string> {
  const keys = new Set(book.rows(now).map((row) => row.key));
  for (const route of Object.values(config.routes))
    for (const target of route.targets) keys.add(targetKey(target.provider, target.modelId));
  return keys;
}

const USAGE = "circuit [reset [provider/model]]";

export function circuitCommand(book: BreakerBook, settings: () => BreakerSettings & { enabled: boolean }): Subcommand {
  return {
    name: "circuit",
    usage: USAGE,
    maxArguments: { reset: 2 },
    description: "Circuit breaker per target: state, failures in the window, when it probes",
    complete(prefix, deps) {
      if (!prefix.startsWith("reset ")) return "reset".startsWith(prefix) ? [{ value: "reset", label: "reset" }] : [];
      // The popup lists the targets as budget's lists its providers (the word completed, in order); the chosen value
      // replaces the whole argument text, so it keeps the action before it.
      const typed = prefix.slice("reset ".length);
      return [...knownTargets(book, deps.config(), deps.now())]
        .sort()
        .filter((key) => key.startsWith(typed))
        .map((key) => ({ value: `reset ${key}`, label: key }));
    },
    async run(args, deps, output) {
      const now = deps.now();
      if (args[0] === "reset") {
        const key = args[1];
        if (key === undefined) {
          const count = book.reset(now);
          return output.info(count > 0 ? `${plural(count, "breaker")} closed` : "every breaker was already closed");
        }
        const known = knownTargets(book, deps.config(), now);
        if (!known.has(key)) {
          // A provider's name alone (`mock-a`): a breaker is per target, so name the ones it has.
          const prefix = `${key.toLowerCase()}/`;
          const ofProvider = [...known].filter((target) => target.toLowerCase().startsWith(prefix));
          if (ofProvider.length > 0)
            return output.error(
              `circuit reset: "${key}" is a provider, not a target: a breaker is per provider/model (${ofProvider.join(", ")})\nusage: /auto-router ${USAGE}`,
            );
          const near = closestId(key, known);
          return output.error(
            `circuit reset: "${key}" is not a target of any route${near ? `; did you mean "${near}"?` : ""} (see /auto-router circuit)\nusage: /auto-router ${USAGE}`,
          );
        }
        return output.info(
          book.reset(now, key) > 0
            ? `breaker of ${key} closed`
            : `the breaker of ${key} was already closed; its recent results are cleared`,
        );
      }
      if (args.length > 0)
        return output.error(unknownWordText("circuit", "action", args[0]!, ["reset"], `/auto-router ${USAGE}`));
      const current = settings();
      const header = `circuit breakers${current.enabled ? "" : " (disabled)"}: open at ≥ ${Math.round(current.ratio * 100)}% failures of ≥ ${plural(current.minimumCalls, "call")} in ${formatDuration(current.windowMs)}; break ${formatDuration(current.breakMs)} doubling to ${formatDuration(current.maxBreakMs)}`;
      const rows = book.rows(now);
      const config = deps.config();
      const cooldowns = deps.runtime.cooldowns.active(now);
      if (rows.length === 0)
        return output.info(`${header}\nno target has reported a result yet: every breaker is closed`);
      const lines = rows.map((row) => [
        row.key,
        row.state,
        row.state === "closed" ? `${row.failures}/${row.calls}` : "-",
        describe(row, now, row.state === "closed" ? undefined : restEnds(row.key, config, cooldowns, now)),
        // The kind of failure that opened the breaker: a closed one's failures in the window have none recorded.
        row.record.lastFailure ?? "-",
      ]);
      output.info(`${header}\n${table(["target", "state", "failed/calls", "next", "opened by"], lines)}`);
    },
  };
}
