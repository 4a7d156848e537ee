// Ratings as a router plugin: `/auto-router rate good|bad` attaches to the last request of THIS pi session that a
// target answered successfully, keeps the most recent ratings per target (provider/model) in a state store shared by
// every pi window, logs a `feedback` event, and feeds routing through `targetStatus` {badRatingShare, ratingCount},
// which policy rules read with the `badRatingShareAbove` condition (e.g. a `demote-target` rule).
import type { PluginContext } from "../runtime/plugin.ts";
import type { FeaturePluginFactory, FeaturePlugin } from "../commands/command-types.ts";
import type { TargetStatus } from "../routing/types.ts";
import { createRatingService, emptyRatings } from "./ratings-book.ts";

import { parseRatingsState, salvageRatingsState } from "./legacy-ratings.ts";
import { rateCommand } from "./rate-command.ts";

export const createRatingsPlugin: FeaturePluginFactory = (context: PluginContext): FeaturePlugin => {
  const store = context.openStore("ratings", emptyRatings, parseRatingsState, salvageRatingsState);
  const service = createRatingService(store, context.record);
  return {
    name: "ratings",
    // session_start: a new pi session has no last request to rate yet (the stored ratings stay).
    start: () => {
      service.remember(undefined);
      service.rememberUnrouted(undefined);
    },
    onUnroutedAnswer: (target, now) => service.rememberUnrouted({ target, at: now }),
    onAttemptResult(observation) {
      const { outcome } = observation;
      if (outcome.status !== "committed" || outcome.final !== "done") return;
      service.remember({
        requestId: observation.requestId,
        routeId: observation.routeId,
        servedTarget: observation.candidate.key,
        at: observation.now,
      });
    },
    targetStatus(now) {
      const out: Record<string, Partial<TargetStatus>> = {};
      for (const [key, stats] of Object.entries(service.stats(now)))
        out[key] = { badRatingShare: stats.badShare, ratingCount: stats.count, ratings: stats.marks };
      return out;
    },
    subcommands: [rateCommand(service)],
  };
};
