// Provider health as a router plugin (ModelFaucet's /health/providers, as `/auto-router health`). The breaker guards
// one target against server trouble; health guards a whole provider against what breaks every one of its targets at
// once: a revoked key (auth), an unreachable host (network, timeout), an outage (server, overloaded).
//
// The rule: a CHECK is a probe of `/auto-router health --probe` (one 1-token request per target). A check fails when
// the probe ends in one of HEALTH_FAILURE_KINDS and succeeds when the target answered; other outcomes (a rate limit)
// change nothing. After UNHEALTHY_AFTER_FAILED_CHECKS failed checks in a row the provider is UNHEALTHY: route() skips
// all its targets with the reason. It stays so until a check succeeds, a real request to it succeeds, or
// UNHEALTHY_HOLD_MS passes (then one real request is let through). Failures of real requests are recorded as the last
// error but do not count: per target they already have their own mechanisms (cooldowns for auth, the breaker for
// server trouble), and counting them twice would take a provider out where those deliberately keep trying it.
// Usage-API failures are shown but never count either: a usage API outage must not stop routing. State is a store,
// so every pi window and the next process agree.
import type { PluginContext } from "../runtime/plugin.ts";
import type { FeaturePlugin } from "../commands/command-types.ts";
import { emptyHealth, HealthBook, healthCheckOf, healthStateSchema, isMarked } from "./health-book.ts";
import { salvageRecords } from "../state/salvage.ts";

import { describeSource, healthCommand } from "./health-command.ts";
import { cachedSource, type UsageReadings } from "./health-check.ts";

export const createHealthPlugin = (context: PluginContext, usage: UsageReadings): FeaturePlugin => {
  const store = context.openStore(
    "health",
    emptyHealth,
    (raw) => healthStateSchema.parse(raw),
    salvageRecords(healthStateSchema, emptyHealth),
  );
  const book = new HealthBook(store, (provider, _from, to) => {
    context.record("health", { provider, unhealthy: isMarked(to), failures: to.failures, lastError: to.lastError });
  });
  return {
    name: "health",
    providerStatus: (now) => book.providerStatus(now),
    onAttemptResult(observation) {
      book.apply(observation.candidate.account, healthCheckOf(observation));
    },
    statusWarnings: (now) => Object.keys(book.providerStatus(now)).map((provider) => `unhealthy ${provider}`),
    // A usage API that fails keeps pacing on its last good reading: the report says so beside that reading.
    debugLines: (now) =>
      usage
        .list()
        .map(
          (source) =>
            `  quota source ${source.provider}: ${describeSource(cachedSource(source.id, usage.reading(source.id), now), now, false)}`,
        ),
    subcommands: [healthCommand(book, usage)],
  };
};
