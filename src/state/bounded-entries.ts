// Keyed entries whose stored time can run past what the router could have set (a clock ahead, a hand edit): an open
// breaker's end, a health mark's start, a target's ratings' times. Each is bounded as it is read, and one out of bound
// is written back bounded, so that it runs out from here instead of being bounded anew, and never ending, at each read.
import type { StateStore } from "./store-types.ts";

/** `entries` with `bound` applied to each, or undefined when every entry is within it (`bound` returned it as is). */
function boundEach<E>(entries: Record<string, E>, bound: (entry: E) => E): Record<string, E> | undefined {
  let out: Record<string, E> | undefined;
  // Read on every routing decision: no pair arrays, only the keys.
  for (const key of Object.keys(entries)) {
    const entry = entries[key]!;
    const next = bound(entry);
    if (next !== entry) (out ??= { ...entries })[key] = next;
  }
  return out;
}

/**
 * The entries `field` picks from the store's state, each bounded; when one was out of bound, the state is written
 * with `withEntries` (bounded anew inside the update, against the state it changes) and read again.
 */
export function readBounded<S, E>(
  store: StateStore<S>,
  field: (state: S) => Record<string, E>,
  withEntries: (state: S, entries: Record<string, E>) => S,
  bound: (entry: E) => E,
): Record<string, E> {
  if (!boundEach(field(store.read()), bound)) return field(store.read());
  store.update((state) => {
    const entries = boundEach(field(state), bound);
    return entries ? withEntries(state, entries) : state;
  });
  return field(store.read());
}
