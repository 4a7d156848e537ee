// Per store, whether this machine's view file holds changes not yet in Redis, and the team version they were made
// on; the team store's epoch the views were last synced with, and the team version each view file held when its
// process ended (so that changes a next process makes before it reaches the team store have a known base). Written
// with the view (a file store, so also when the process exits), read by the next start to recover them.
import { z } from "zod";
import { stateObject } from "../state/unknown-fields.ts";
import type { StateStore } from "../state/json-store.ts";
import { lazy } from "../lazy.ts";

/** Team mode only. */
export const unwrittenStateSchema = lazy(() =>
  stateObject({
    stores: z.record(z.string(), stateObject({ baseVersion: z.number(), since: z.number() })).default({}),
    /** `team`: the store's URL (without its password) and key prefix, so a switch to another team is no data loss. */
    epoch: z
      .object({
        id: z.string(),
        team: z.string(),
        /** Per store, the team version (of this epoch) its view file was based on when its process ended. */
        views: z.record(z.string(), z.number()).optional(),
      })
      .optional(),
  }),
);
export type UnwrittenState = z.infer<ReturnType<typeof unwrittenStateSchema>>;
export const emptyUnwritten = (): UnwrittenState => ({ stores: {} });

/** The epoch of `team` this machine's views were last synced with, if any. */
export function rememberedEpoch(unwritten: StateStore<UnwrittenState>, team: string): string | undefined {
  const epoch = unwritten.read().epoch;
  return epoch?.team === team ? epoch.id : undefined;
}

/** A new epoch (or team) forgets the view versions: they count versions of the team store's earlier data. */
export function rememberEpoch(unwritten: StateStore<UnwrittenState>, team: string, id: string): void {
  const epoch = unwritten.read().epoch;
  if (epoch?.id === id && epoch.team === team) return;
  // A new epoch, written whole: what a newer version kept with the old one counted its data too (unknown-fields.ts).
  unwritten.update((state) => ({ ...state, epoch: { id, team } }));
}

/** The team version store `name`'s view file was based on when its last process ended, in the remembered epoch. */
export function rememberedViewVersion(
  unwritten: StateStore<UnwrittenState> | undefined,
  team: string,
  name: string,
): number | undefined {
  const epoch = unwritten?.read().epoch;
  return epoch?.team === team ? epoch.views?.[name] : undefined;
}

/** Kept with the remembered epoch, which the version belongs to (no epoch remembered yet: nothing to keep it with). */
export function rememberViewVersion(
  unwritten: StateStore<UnwrittenState> | undefined,
  team: string,
  name: string,
  version: number,
): void {
  const epoch = unwritten?.read().epoch;
  if (!unwritten || epoch?.team !== team || epoch.views?.[name] === version) return;
  unwritten.update((state) =>
    state.epoch ? { ...state, epoch: { ...state.epoch, views: { ...state.epoch.views, [name]: version } } } : state,
  );
}

/** Store `name` has unwritten changes made on team version `base` (-1: before any was read). */
export function markUnwritten(unwritten: StateStore<UnwrittenState> | undefined, name: string, base: number): void {
  const current = unwritten?.read().stores[name];
  if (current?.baseVersion === base) return;
  unwritten?.update((state) => ({
    ...state,
    stores: {
      ...state.stores,
      [name]: { ...state.stores[name], baseVersion: base, since: current?.since ?? Date.now() },
    },
  }));
}

export function clearUnwritten(unwritten: StateStore<UnwrittenState> | undefined, name: string): void {
  if (!unwritten?.read().stores[name]) return;
  unwritten.update((state) => {
    const { [name]: _done, ...rest } = state.stores;
    return { ...state, stores: rest };
  });
}
