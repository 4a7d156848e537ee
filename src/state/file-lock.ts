// The cross-process lock every state file and the event log's rotation go through (proper-lockfile, as pi itself
// uses), and the error helpers they share.
import { lock, lockSync, unlockSync } from "proper-lockfile";

/** proper-lockfile treats a lock older than this as abandoned by a crashed process. */
const LOCK_STALE_MS = 10_000;
/** Async lock retries: small backoff, about 10 s in total, enough for several windows flushing at once. */
const LOCK_RETRIES = { retries: 40, factor: 1.4, minTimeout: 5, maxTimeout: 250, randomize: true };
/** proper-lockfile's sync API cannot retry, so flushSync polls by hand for at most this long. */
const SYNC_LOCK_WAIT_MS = 3_000;
const SYNC_LOCK_POLL_MS = 10;

export function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? "unknown";
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function acquireLock(file: string, onCompromised: (error: Error) => void): Promise<() => Promise<void>> {
  return lock(file, { realpath: false, stale: LOCK_STALE_MS, retries: LOCK_RETRIES, onCompromised });
}

/** `heldByCaller`: at exit, the caller's own interrupted async flush still holds the lock; take it over. */
export function acquireLockSync(
  file: string,
  onCompromised: (error: Error) => void,
  heldByCaller: boolean,
): () => void {
  const deadline = Date.now() + SYNC_LOCK_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return lockSync(file, { realpath: false, stale: LOCK_STALE_MS, onCompromised });
    } catch (error) {
      if (errorCode(error) !== "ELOCKED") throw error;
      if (heldByCaller)
        return () => {
          try {
            unlockSync(file, { realpath: false });
          } catch {
            /* already released */
          }
        };
      if (Date.now() >= deadline) throw error;
      Atomics.wait(pause, 0, 0, SYNC_LOCK_POLL_MS);
    }
  }
}
