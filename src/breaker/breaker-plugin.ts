// The circuit breaker as a router plugin: one breaker per target (provider/model, not per provider: one broken
// model must not take its siblings down), persisted through the state store so a restart and every other pi window
// see it. Only failures that say the target itself is unwell count (server, overloaded, network, timeout); auth,
// invalid requests, context overflow and aborts say nothing about its health and never do.
import { lastValue } from "../runtime/last-value.ts";
import type { BreakerReset, PluginContext, ProbeClaimer } from "../runtime/plugin.ts";
import type { FeaturePlugin } from "../commands/command-types.ts";
import { BreakerBook, breakerEventOf, breakerSettings, breakerStateSchema, emptyBreakers } from "./breaker-book.ts";
import { circuitCommand } from "./circuit-command.ts";
import { salvageRecords } from "../state/salvage.ts";

import { viewBreaker } from "./breaker.ts";
import { plural } from "../commands/format.ts";

/** The breaker feature: uniform hooks, plus the half-open probe slot and the reset of its breakers. */
export type BreakerPlugin = FeaturePlugin & ProbeClaimer & BreakerReset;

export const createBreakerPlugin = (context: PluginContext): BreakerPlugin => {
  const store = context.openStore(
    "breakers",
    emptyBreakers,
    (raw) => breakerStateSchema.parse(raw),
    salvageRecords(breakerStateSchema, emptyBreakers),
  );
  const warned = new Set<string>();
  const settingsOf = lastValue((config: unknown) => {
    const read = breakerSettings(config, context.processEnv);
    for (const problem of read.problems) {
      if (warned.has(problem)) continue;
      warned.add(problem);
      context.warn(`auto-router: breaker: ${problem}`);
    }
    return read;
  });
  const settings = () => settingsOf(context.config());
  const book = new BreakerBook(store, settings, (key, from, to) => {
    context.record("breaker", {
      target: key,
      from: from?.state ?? "closed",
      to: to.state,
      until: to.until,
      breakMs: to.breakMs,
      lastFailure: to.lastFailure,
    });
  });
  return {
    name: "breaker",
    targetStatus: (now) => (settings().enabled ? book.targetStatus(now) : {}),
    async claimProbe(key, now) {
      if (!settings().enabled) return true;
      const view = viewBreaker(store.read().breakers[key], now, settings());
      if (view.state !== "half-open") return book.claimProbe(key, now);
      // One probe across every machine of the team: the claim is named after this half-open period (its `until`),
      // so the next period has a fresh one, and it expires like the local slot if the probe never reports back.
      if (!(await context.claim(`probe:${key}:${view.until ?? 0}`, settings().probeTimeoutMs))) return false;
      return book.claimProbeShared(key, now);
    },
    onAttemptResult(observation) {
      if (!settings().enabled) return;
      book.apply(observation.candidate.key, breakerEventOf(observation));
    },
    resetState: (scope, now) =>
      scope === "breakers" || scope === "all" ? `${plural(book.reset(now), "open breaker")} closed` : undefined,
    subcommands: [circuitCommand(book, settings)],
    // Before the stores close: this process's successes count for the others (breaker-book.ts).
    close: async () => book.flushSuccesses(Date.now()),
  };
};
