// When to go back to a route's first choice after a failover (failover.revert). By default (cooldown-expiry) the
// first choice is tried again as soon as the decision offers it, i.e. when its cooldown ends. "never" stays on the
// target that took over until it fails itself; "holdoff" stays for holdoffMs, then lets ONE request probe the first
// choice while the others keep to the stand-in, and goes back only when that probe is served.
// The holds live in a state store (auto-router.revert.json, or the team store), so every pi window and gateway of the
// machine or team keeps to the same stand-in, one of them probes, and a restart does not forget a hold. They are
// written only when a hold starts, a probe starts or ends, or a hold ends: never by a request that keeps the order.
import { z } from "zod";
import { stateTime } from "../state/state-numbers.ts";
import { stateObject } from "../state/unknown-fields.ts";
import { formatTimeLeft } from "../analytics/text-format.ts";
import type { RevertMode } from "../config/subscription-schema.ts";
import { lazy } from "../lazy.ts";
import type { StateStore } from "../state/json-store.ts";
import { createMemoryStore } from "../state/memory-store.ts";

export const DEFAULT_HOLDOFF_MS = 5 * 60_000;
/** A probe that has not finished after this long is taken as abandoned (its process ended) and may be made again. */
export const ABANDONED_PROBE_MS = 15 * 60_000;

export interface RevertSettings {
  mode: RevertMode;
  holdoffMs: number;
}

export const revertStateSchema = lazy(() =>
  stateObject({
    v: z.literal(1),
    /** Per route id. */
    holds: z.record(
      z.string(),
      stateObject({
        /** The first choice that failed. */
        preferred: z.string(),
        /** The target that served instead. */
        standIn: z.string(),
        /** When the hold started (or the last failed probe ended). */
        since: stateTime(),
        /** When the probe under way started (by any window or machine). */
        probeSince: stateTime().optional(),
      }),
    ),
  }),
);
export type RevertState = z.infer<ReturnType<typeof revertStateSchema>>;
type Hold = RevertState["holds"][string];
export const emptyReverts = (): RevertState => ({ v: 1, holds: {} });

export interface RevertOrder<T extends { key: string }> {
  candidates: T[];
  /** Set when the order was changed or this request is the probe: for explain and the event log. */
  note?: string;
  probe?: boolean;
}

const withHold =
  (routeId: string, hold: Hold | undefined) =>
  (state: RevertState): RevertState => {
    const { [routeId]: _old, ...others } = state.holds;
    return { ...state, holds: hold ? { ...others, [routeId]: hold } : others };
  };

export class RevertBook {
  private opened: StateStore<RevertState> | undefined;

  /** `open`: the store, opened on first use (a route whose revert is `cooldown-expiry`, the default, never uses it). */
  constructor(private readonly open: () => StateStore<RevertState> = () => createMemoryStore(emptyReverts())) {}

  private get store(): StateStore<RevertState> {
    this.opened ??= this.open();
    return this.opened;
  }

  /** The candidates in the order the revert policy wants for this request. */
  order<T extends { key: string }>(
    routeId: string,
    settings: RevertSettings,
    candidates: T[],
    now: number,
  ): RevertOrder<T> {
    if (settings.mode === "cooldown-expiry") return { candidates };
    const hold = this.store.read().holds[routeId];
    if (!hold) return { candidates };
    const standInIndex = candidates.findIndex((candidate) => candidate.key === hold.standIn);
    if (standInIndex < 0) {
      // The stand-in cannot serve now (cooling, excluded): the hold is moot and the decision's order stands.
      this.store.update(withHold(routeId, undefined));
      return { candidates };
    }
    const due = settings.mode === "holdoff" && now - hold.since >= settings.holdoffMs;
    const probing = hold.probeSince !== undefined && now - hold.probeSince < ABANDONED_PROBE_MS;
    if (due && !probing && candidates[0]?.key === hold.preferred) {
      this.store.update(withHold(routeId, { ...hold, probeSince: now }));
      return {
        candidates,
        probe: true,
        note: `revert probe: trying ${hold.preferred} again after ${Math.round((now - hold.since) / 1000)} s on ${hold.standIn}`,
      };
    }
    if (standInIndex === 0) return { candidates };
    const reordered = [
      candidates[standInIndex]!,
      ...candidates.slice(0, standInIndex),
      ...candidates.slice(standInIndex + 1),
    ];
    // In the words /auto-router status uses for the hold (revert-hold-text.ts), relative to this request: never a raw
    // UTC time.
    const until =
      settings.mode !== "holdoff"
        ? " (revert: never)"
        : probing
          ? " (holdoff: a probe of the first choice is under way)"
          : due
            ? " (holdoff over: the first choice is probed once the decision puts it first)"
            : ` (holdoff: probes the first choice in ${formatTimeLeft(hold.since + settings.holdoffMs - now)})`;
    return {
      candidates: reordered,
      note: `staying on ${hold.standIn} after failing over from ${hold.preferred}${until}`,
    };
  }

  /**
   * After a request: `planned` was the decision's first choice, `served` the target that answered (if any), `failed`
   * the targets that failed in it. Returns a note for explain when a hold this request kept to ended in it (its
   * "staying on" note no longer holds).
   */
  onFinished(
    routeId: string,
    settings: RevertSettings,
    planned: string | undefined,
    served: string | undefined,
    probe: boolean,
    now: number,
    failed: ReadonlySet<string> = new Set(),
  ): string | undefined {
    if (settings.mode === "cooldown-expiry") {
      // A hold left from when the route held off is let go (only where the store is open anyway).
      if (this.opened?.read().holds[routeId]) this.opened.update(withHold(routeId, undefined));
      return undefined;
    }
    const hold = this.store.read().holds[routeId];
    if (hold) {
      if (served === hold.preferred) {
        this.store.update(withHold(routeId, undefined)); // the probe (or a fallback to it) was served: back
        if (probe) return undefined; // the probe's own note and its attempt say it
        const standIn = failed.has(hold.standIn) ? `${hold.standIn} failed` : `${hold.standIn} did not serve`;
        return `revert hold ended: the stand-in ${standIn} and the first choice ${hold.preferred} served, so the route is back on it`;
      }
      if (served && served !== hold.standIn) {
        // A third target served after the stand-in failed (or did not serve): the hold moves to it, so the next
        // request keeps to the target that took over, as the policy says, not to the one that failed. Its holdoff
        // starts again when the first choice was tried (and failed) in this request.
        const { probeSince: _ended, ...held } = hold;
        const since = probe || failed.has(hold.preferred) ? now : hold.since;
        this.store.update(withHold(routeId, { ...held, standIn: served, since }));
        const standIn = failed.has(hold.standIn) ? `${hold.standIn} failed` : `${hold.standIn} did not serve`;
        return `revert hold moved: the stand-in ${standIn} and ${served} served, so the route stays on it`;
      }
      if (probe) {
        const { probeSince: _ended, ...held } = hold;
        this.store.update(withHold(routeId, { ...held, since: now })); // the probe failed: hold off again
      }
      return undefined;
    }
    if (planned && served && served !== planned)
      this.store.update(withHold(routeId, { preferred: planned, standIn: served, since: now }));
    return undefined;
  }

  /**
   * `/auto-router status`: the holds of the routes `settingsOf` gives a holding policy (a route back on
   * cooldown-expiry ignores a hold left in the store); `probeAt` is when the first choice is probed (holdoff only).
   */
  activeHolds(
    routeIds: string[],
    settingsOf: (routeId: string) => RevertSettings,
    now: number,
  ): Array<{ routeId: string; preferred: string; standIn: string; probing: boolean; probeAt?: number }> {
    const holding = routeIds.filter((routeId) => settingsOf(routeId).mode !== "cooldown-expiry");
    if (holding.length === 0) return [];
    const holds = this.store.read().holds;
    return holding.flatMap((routeId) => {
      const hold = holds[routeId];
      if (!hold) return [];
      const settings = settingsOf(routeId);
      const probing = hold.probeSince !== undefined && now - hold.probeSince < ABANDONED_PROBE_MS;
      const probeAt = settings.mode === "holdoff" ? hold.since + settings.holdoffMs : undefined;
      return [{ routeId, preferred: hold.preferred, standIn: hold.standIn, probing, probeAt }];
    });
  }

  /** `/auto-router reset all`: every route goes back to its first choice; returns how many holds there were. */
  clear(): number {
    const count = Object.keys(this.store.read().holds).length;
    if (count > 0) this.store.update((state) => ({ ...state, holds: {} }));
    return count;
  }
}
