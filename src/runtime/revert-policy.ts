// When to go back to a route's first choice after a failover (failover.revert). By default (cooldown-expiry) the
// first choice is tried again as soon as the decision offers it, i.e. when its cooldown ends. "never" stays on the
// target that took over until it fails itself; "holdoff" stays for holdoffMs, then lets ONE request probe the first
// choice while the others keep to the stand-in, and goes back only when that probe is served.
import type { RevertMode } from "../config/subscription-schema.ts";

export const DEFAULT_HOLDOFF_MS = 5 * 60_000;

export interface RevertSettings {
  mode: RevertMode;
  holdoffMs: number;
}

interface Hold {
  /** The first choice that failed. */
  preferred: string;
  /** The target that served instead. */
  standIn: string;
  /** When the hold started (or the last failed probe ended). */
  since: number;
  probing: boolean;
}

export interface RevertOrder<T extends { key: string }> {
  candidates: T[];
  /** Set when the order was changed or this request is the probe: for explain and the event log. */
  note?: string;
  probe?: boolean;
}

export class RevertBook {
  private readonly holds = new Map<string, Hold>();

  /** The candidates in the order the revert policy wants for this request. */
  order<T extends { key: string }>(
    routeId: string,
    settings: RevertSettings,
    candidates: T[],
    now: number,
  ): RevertOrder<T> {
    const hold = this.holds.get(routeId);
    if (!hold || settings.mode === "cooldown-expiry") return { candidates };
    const standInIndex = candidates.findIndex((candidate) => candidate.key === hold.standIn);
    if (standInIndex < 0) {
      // The stand-in cannot serve now (cooling, excluded): the hold is moot and the decision's order stands.
      this.holds.delete(routeId);
      return { candidates };
    }
    const due = settings.mode === "holdoff" && now - hold.since >= settings.holdoffMs;
    if (due && !hold.probing && candidates[0]?.key === hold.preferred) {
      hold.probing = true;
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
    const until =
      settings.mode === "holdoff"
        ? ` (holdoff until ${new Date(hold.since + settings.holdoffMs).toISOString()})`
        : " (revert: never)";
    return {
      candidates: reordered,
      note: `staying on ${hold.standIn} after failing over from ${hold.preferred}${until}`,
    };
  }

  /** After a request: `planned` was the decision's first choice, `served` the target that answered (if any). */
  onFinished(
    routeId: string,
    settings: RevertSettings,
    planned: string | undefined,
    served: string | undefined,
    probe: boolean,
    now: number,
  ): void {
    if (settings.mode === "cooldown-expiry") return void this.holds.delete(routeId);
    const hold = this.holds.get(routeId);
    if (hold) {
      if (served === hold.preferred)
        this.holds.delete(routeId); // the probe (or a fallback to it) was served: back
      else if (probe) {
        hold.probing = false;
        hold.since = now;
      } // the probe failed: hold off again
      return;
    }
    if (planned && served && served !== planned)
      this.holds.set(routeId, { preferred: planned, standIn: served, since: now, probing: false });
  }

  clear(): void {
    this.holds.clear();
  }
}
