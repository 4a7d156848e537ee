// The state store's interface, shared by the file store (json-store.ts), the team store (team/redis-store.ts) and
// the in-memory store (memory-store.ts).
//
// Contract: the store persists OPERATIONS, not snapshots. update(operation) applies the operation to memory at once
// and queues it; flush() locks the file (proper-lockfile), re-reads what is on disk NOW (other processes may have
// written since), replays every queued operation on that disk state, writes the result atomically (write-file-atomic,
// mode 0600) and unlocks. Two processes each adding 1 to a counter therefore always end at +2: neither overwrites the
// other's state with its own stale copy (the earlier implementation lost 70-75% of spend updates that way).
//
// Operations MUST be pure and replayable: the same input state gives the same output, and they may run more than
// once (on memory now, and later on whatever the disk holds). Never call Date.now()/Math.random() inside one;
// capture such values in the closure: `const at = now(); store.update((state) => ({ ...state, lastSeen: at }))`.
//
// An operation that returns the very state it was given changed nothing: the file store does not write it.
//
// transact(decide) is for a decision that must see every process's committed state (a hard budget's check-and-reserve):
// under the lock, the file store re-reads the disk, replays this process's queued operations, calls `decide` on that
// state and writes its operation (if any) together with the queued ones before it unlocks. `decide` runs once; its
// operation is pure like any other. When the file cannot be locked, read or written the promise rejects (after the
// store's usual warning) and nothing of the decision is applied.
export type StoreWarning = { file: string; message: string };
export type StoreOperation<T> = (state: T) => T;
/** What transact's `decide` returns: the change to commit (none: only read), and the caller's answer. */
export type StoreDecision<T, R> = { operation?: StoreOperation<T>; result: R };

/** Applies queued operations in order; one that throws is skipped (and reported) so the rest still apply. */
export function replayOperations<T>(
  state: T,
  operations: readonly StoreOperation<T>[],
  onThrow: (error: unknown) => void,
): T {
  let result = state;
  for (const operation of operations) {
    try {
      result = operation(result);
    } catch (error) {
      onThrow(error);
    }
  }
  return result;
}

/**
 * Opens the state store `name`: `defaults` for a missing file, `parse` to read one, `salvage` to keep what can be read
 * of a damaged one (see JsonStoreOptions), `flushDelayMs` how long changes gather before one write (the stores'
 * default when not given).
 */
export type OpenStore = <T>(
  name: string,
  defaults: () => T,
  parse: (raw: unknown) => T,
  salvage?: (raw: unknown) => T,
  flushDelayMs?: number,
) => StateStore<T>;

export interface StateStore<T> {
  readonly file: string | undefined;
  read(): T;
  update(operation: StoreOperation<T>): void;
  /**
   * A decision on the state every process has committed, and its change, as one step (see the contract above). The
   * file and memory stores have it; the team store does not (its spend ledger reserves in Redis itself).
   */
  transact?<R>(decide: (state: T) => StoreDecision<T, R>): Promise<R>;
  flush(): Promise<void>;
  flushSync(): void;
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/**
 * For a store whose state only grows (the spend ledger: spend within a period, imports done), carried by its parse
 * function (GrowingParse). A process that rewrites a damaged file from its own last view drops what other processes
 * wrote after that view was read; each of those puts it back when it next reads the file (and writes it at once).
 */
export interface Growing<T> {
  /** The state a damaged file is rewritten with, marked as repair `id` (new for each repair). */
  repaired(state: T, id: string): T;
  /** `disk` plus what this process's `view` holds that a repair since dropped; `disk` itself when nothing. */
  keepView(disk: T, view: T): T;
}
export type GrowingParse<T> = ((raw: unknown) => T) & { growing?: Growing<T> };

export interface JsonStoreOptions<T> {
  file: string;
  defaults: () => T;
  parse: (raw: unknown) => T;
  /**
   * For content that `parse` rejects field by field (a wrong-typed value): returns what can still be read. The file is
   * then handled like other damage (a copy moved aside, one warning), but the store keeps the salvaged state, not
   * the defaults, and writes it back.
   */
  salvage?: (raw: unknown) => T;
  migrate?: (raw: unknown) => unknown;
  onWarning?: (warning: StoreWarning) => void;
  flushDelayMs?: number;
  refreshIntervalMs?: number;
}
