// Cooldowns per route+target, persisted through the one state store so a restart (and every other pi window)
// honours them. A new cooldown never shortens an existing one. `until` is an absolute time, so one written by a
// clock that ran ahead (another team machine, a resumed VM, an NTP step) would rest a target for as long as the clock
// was off; no cooldown lasts longer from now than the one the router set (`ms`), or for an entry without it, than the
// longest the router could have set.
import { z } from "zod";
import { stateTime } from "../state/state-numbers.ts";
import { stateObject } from "../state/unknown-fields.ts";
import type { RouterConfig } from "../config/schema.ts";
import type { StateStore } from "../state/json-store.ts";
import type { CooldownEntry } from "../routing/types.ts";
import { DEFAULT_FAILURE_POLICY } from "./failure-kinds.ts";
import { MAXIMUM_RETRY_HINT_MS } from "./retry-hint.ts";

export const cooldownStateSchema = stateObject({
  v: z.literal(1),
  entries: z.record(
    z.string(),
    stateObject({
      until: stateTime(),
      /** How long the cooldown was when it was set (absent in entries written before it was recorded). */
      ms: z.number().nonnegative().optional(),
      kind: z.string(),
      message: z.string().optional(),
      resetKnown: z.boolean().optional(),
    }),
  ),
});
export type CooldownState = z.infer<typeof cooldownStateSchema>;
type StoredCooldown = CooldownState["entries"][string];
export const emptyCooldowns = (): CooldownState => ({ v: 1, entries: {} });

/** The longest cooldown the router sets under `config`: a retry hint's maximum, or a kind's (configured) cooldown. */
export function longestCooldownMs(config: RouterConfig | undefined): number {
  const kinds = [config?.failover?.kinds, ...Object.values(config?.routes ?? {}).map((route) => route.failover?.kinds)];
  const configured = kinds.flatMap((policy) => Object.values(policy ?? {}).map((kind) => kind?.cooldownMs ?? 0));
  const defaults = Object.values(DEFAULT_FAILURE_POLICY).map((policy) => policy.cooldownMs ?? 0);
  return Math.max(MAXIMUM_RETRY_HINT_MS, ...defaults, ...configured);
}

/**
 * The entry with `until` at most its own length (else `longestMs()`, asked only then) from `now`; the same object when
 * within it.
 */
export function boundedCooldown<T extends StoredCooldown>(entry: T, now: number, longestMs: () => number): T {
  const limit = now + (entry.ms ?? longestMs());
  return entry.until > limit ? { ...entry, until: limit } : entry;
}

export class CooldownBook {
  constructor(
    private readonly store: StateStore<CooldownState>,
    private readonly longestMs: () => number = () => longestCooldownMs(undefined),
  ) {}

  /** Active cooldowns at `now` (expired ones are ignored, and pruned at the next write). */
  active(now: number): Record<string, CooldownEntry> {
    const out: Record<string, CooldownEntry> = {};
    let outOfBound = false;
    // Read on every routing decision: the longest cooldown (a walk over the config) only for an entry without its
    // length, once.
    let longest: number | undefined;
    const longestMs = () => (longest ??= this.longestMs());
    for (const [key, stored] of Object.entries(this.store.read().entries)) {
      const entry = boundedCooldown(stored, now, longestMs);
      if (entry !== stored) outOfBound = true;
      if (entry.until > now) out[key] = entry;
    }
    // Kept as bounded, so it runs out from here instead of being bounded anew (and never ending) at each read.
    if (outOfBound) this.store.update((state) => this.bounded(state, now));
    return out;
  }

  /** When the first of a route's resting targets comes back (`keys`: their cooldown keys); undefined when none rests. */
  soonestBack(keys: readonly string[], now: number): number | undefined {
    const active = this.active(now);
    let soonest: number | undefined;
    for (const key of keys) {
      const entry = active[key];
      if (entry && (soonest === undefined || entry.until < soonest)) soonest = entry.until;
    }
    return soonest;
  }

  /** Rests the target under `keys` (one cooldown key, or several in one write); never shortens a longer rest. */
  set(keys: string | readonly string[], entry: CooldownEntry, now: number): void {
    this.setEach(
      (typeof keys === "string" ? [keys] : keys).map((key) => [key, entry] as const),
      now,
    );
  }

  /** Rests under each key for its own entry, in one write; never shortens a longer rest. */
  setEach(rests: ReadonlyArray<readonly [key: string, entry: CooldownEntry]>, now: number): void {
    if (rests.length === 0) return;
    this.store.update((state) => {
      const entries: CooldownState["entries"] = {};
      for (const [k, e] of Object.entries(this.bounded(state, now).entries)) if (e.until > now) entries[k] = e;
      for (const [key, entry] of rests) {
        const existing = entries[key];
        // A longer rest is a new cooldown, written whole (unknown-fields.ts: the fields a newer version gave the old one
        // described that one); the other entries and the file's own fields keep what a newer version added.
        if (!existing || existing.until < entry.until) entries[key] = { ...entry, ms: Math.max(0, entry.until - now) };
      }
      return { ...state, v: 1, entries };
    });
  }

  /** Clears every cooldown, or those whose key matches. Returns how many were active. */
  clear(now: number, match: (key: string) => boolean = () => true): number {
    const count = Object.keys(this.active(now)).filter(match).length;
    this.store.update((state) => ({
      ...state,
      v: 1,
      entries: Object.fromEntries(Object.entries(state.entries).filter(([key]) => !match(key))),
    }));
    return count;
  }

  private bounded(state: CooldownState, now: number): CooldownState {
    let longest: number | undefined;
    const longestMs = () => (longest ??= this.longestMs());
    const entries = Object.fromEntries(
      Object.entries(state.entries).map(([key, entry]) => [key, boundedCooldown(entry, now, longestMs)]),
    );
    return { ...state, v: 1, entries };
  }
}
