// The cross-process lock every state file and the event log's rotation go through (proper-lockfile, as pi itself
// uses), and the error helpers they share.
import { setTimeout as sleep } from "node:timers/promises";
import { lock, lockSync, unlockSync } from "proper-lockfile";

/** proper-lockfile treats a lock older than this as abandoned by a crashed process. */
const LOCK_STALE_MS = 10_000;
/**
 * Async lock retries while another process holds the lock: small randomised backoff, about 10 s in total, enough for
 * several windows flushing at once.
 */
const LOCK_RETRIES = { retries: 40, factor: 1.4, minTimeout: 5, maxTimeout: 250 };
/** proper-lockfile's sync API cannot retry, so flushSync polls by hand for at most this long. */
const SYNC_LOCK_WAIT_MS = 3_000;
const SYNC_LOCK_POLL_MS = 10;

export function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? "unknown";
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Only a lock held by another process (ELOCKED) is waited for; any other error (EACCES, EROFS in a read-only agent dir)
 * fails at once: proper-lockfile's own retries would repeat it for the whole ~10 s, and a hard budget's reservation
 * waits for this lock before its request starts.
 */
export async function acquireLock(file: string, onCompromised: (error: Error) => void): Promise<() => Promise<void>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await lock(file, { realpath: false, stale: LOCK_STALE_MS, retries: 0, onCompromised });
    } catch (error) {
      if (errorCode(error) !== "ELOCKED" || attempt >= LOCK_RETRIES.retries) throw error;
      const backoff = Math.min(LOCK_RETRIES.maxTimeout, LOCK_RETRIES.minTimeout * LOCK_RETRIES.factor ** attempt);
      await sleep(backoff * (1 + Math.random()));
    }
  }
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
