// Per store, whether this machine's view file holds changes not yet in Redis, and the team version they were made
// on; and the team store's epoch the views were last synced with. Written with the view (a file store, so also when
// the process exits), read by the next start to recover them.
import { z } from "zod";
import type { StateStore } from "../state/json-store.ts";
import { lazy } from "../lazy.ts";

/** Team mode only. */
export const unwrittenStateSchema = lazy(() =>
  z.object({
    stores: z.record(z.string(), z.object({ baseVersion: z.number(), since: z.number() })).default({}),
    /** `team`: the store's URL (without its password) and key prefix, so a switch to another team is no data loss. */
    epoch: z.object({ id: z.string(), team: z.string() }).optional(),
  }),
);
export type UnwrittenState = z.infer<ReturnType<typeof unwrittenStateSchema>>;
export const emptyUnwritten = (): UnwrittenState => ({ stores: {} });

/** The epoch of `team` this machine's views were last synced with, if any. */
export function rememberedEpoch(unwritten: StateStore<UnwrittenState>, team: string): string | undefined {
  const epoch = unwritten.read().epoch;
  return epoch?.team === team ? epoch.id : undefined;
}

export function rememberEpoch(unwritten: StateStore<UnwrittenState>, team: string, id: string): void {
  const epoch = unwritten.read().epoch;
  if (epoch?.id === id && epoch.team === team) return;
  unwritten.update((state) => ({ ...state, epoch: { id, team } }));
}

/** Store `name` has unwritten changes made on team version `base` (-1: before any was read). */
export function markUnwritten(unwritten: StateStore<UnwrittenState> | undefined, name: string, base: number): void {
  const current = unwritten?.read().stores[name];
  if (current?.baseVersion === base) return;
  unwritten?.update((state) => ({
    ...state,
    stores: { ...state.stores, [name]: { baseVersion: base, since: current?.since ?? Date.now() } },
  }));
}

export function clearUnwritten(unwritten: StateStore<UnwrittenState> | undefined, name: string): void {
  if (!unwritten?.read().stores[name]) return;
  unwritten.update((state) => {
    const { [name]: _done, ...rest } = state.stores;
    return { ...state, stores: rest };
  });
}
