// Cooldowns per route+target, persisted through the one state store so a restart (and every other pi window)
// honours them. A new cooldown never shortens an existing one.
import { z } from "zod";
import type { StateStore } from "../state/json-store.ts";
import type { CooldownEntry } from "../routing/types.ts";

export const cooldownStateSchema = z.object({
  v: z.literal(1),
  entries: z.record(
    z.string(),
    z.object({
      until: z.number(),
      kind: z.string(),
      message: z.string().optional(),
      resetKnown: z.boolean().optional(),
    }),
  ),
});
export type CooldownState = z.infer<typeof cooldownStateSchema>;
export const emptyCooldowns = (): CooldownState => ({ v: 1, entries: {} });

export class CooldownBook {
  constructor(private readonly store: StateStore<CooldownState>) {}

  /** Active cooldowns at `now` (expired ones are ignored, and pruned at the next write). */
  active(now: number): Record<string, CooldownEntry> {
    const out: Record<string, CooldownEntry> = {};
    for (const [key, entry] of Object.entries(this.store.read().entries)) if (entry.until > now) out[key] = entry;
    return out;
  }

  set(key: string, entry: CooldownEntry, now: number): void {
    this.store.update((state) => {
      const entries: CooldownState["entries"] = {};
      for (const [k, e] of Object.entries(state.entries)) if (e.until > now) entries[k] = e;
      const existing = entries[key];
      if (!existing || existing.until < entry.until) entries[key] = entry;
      return { v: 1, entries };
    });
  }

  /** Clears every cooldown, or those whose key matches. Returns how many were active. */
  clear(now: number, match: (key: string) => boolean = () => true): number {
    const count = Object.keys(this.active(now)).filter(match).length;
    this.store.update((state) => ({
      v: 1,
      entries: Object.fromEntries(Object.entries(state.entries).filter(([key]) => !match(key))),
    }));
    return count;
  }
}
