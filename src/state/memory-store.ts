// In-memory StateStore for tests and for running without a writable state directory.
// Same contract as the file store (operations are pure functions of the state), minus the disk: flush, refresh and
// close resolve at once. Unlike the file store, an operation that throws is rethrown, so a buggy operation fails
// the test that exercises it instead of turning into a warning.
import type { StateStore, StoreDecision, StoreOperation } from "./json-store.ts";

export function createMemoryStore<T>(initial: T): StateStore<T> {
  let state = initial;
  return {
    file: undefined,
    read: () => state,
    update: (operation: StoreOperation<T>) => {
      state = operation(state);
    },
    transact: async <R>(decide: (state: T) => StoreDecision<T, R>) => {
      const decision = decide(state);
      if (decision.operation) state = decision.operation(state);
      return decision.result;
    },
    flush: async () => undefined,
    flushSync: () => undefined,
    refresh: async () => undefined,
    close: async () => undefined,
  };
}
