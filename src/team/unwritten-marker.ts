// Per store, whether this machine's view file holds changes not yet in Redis, and the team version they were made
// on. Written with the view (a file store, so also when the process exits), read by the next start to recover them.
import { z } from "zod";
import type { StateStore } from "../state/json-store.ts";
import { lazy } from "../lazy.ts";

/** Team mode only. */
export const unwrittenStateSchema = lazy(() =>
  z.object({
    stores: z.record(z.string(), z.object({ baseVersion: z.number(), since: z.number() })).default({}),
  }),
);
export type UnwrittenState = z.infer<ReturnType<typeof unwrittenStateSchema>>;
export const emptyUnwritten = (): UnwrittenState => ({ stores: {} });

/** Store `name` has unwritten changes made on team version `base` (-1: before any was read). */
export function markUnwritten(unwritten: StateStore<UnwrittenState> | undefined, name: string, base: number): void {
  const current = unwritten?.read().stores[name];
  if (current?.baseVersion === base) return;
  unwritten?.update((state) => ({
    stores: { ...state.stores, [name]: { baseVersion: base, since: current?.since ?? Date.now() } },
  }));
}

export function clearUnwritten(unwritten: StateStore<UnwrittenState> | undefined, name: string): void {
  if (!unwritten?.read().stores[name]) return;
  unwritten.update((state) => {
    const { [name]: _done, ...rest } = state.stores;
    return { stores: rest };
  });
}
