// What a machine says once its connection to the team store has synced, when there is something to say: it is back
// after an outage, or the team store lost its data (its epoch key is gone or new) and was re-seeded.

/**
 * What the sync follows: the process's first sync since it started, a reconnect after the store was down, or a loss
 * noticed while connected (a read or write found the epoch key changed under it).
 */
export type SyncCause = "start" | "reconnect" | "connected";

export function syncWarning(displayUrl: string, cause: SyncCause, reseeded: boolean): string | undefined {
  const store = `auto-router: team store ${displayUrl}`;
  if (cause === "reconnect")
    return `${store} reachable again${reseeded ? "; it had lost its data and is re-seeded from the machines' views" : ""}`;
  if (!reseeded) return undefined;
  // Only a loss seen while connected happened while Redis kept running: a flush or an eviction, not a restart.
  if (cause === "connected")
    return `${store} lost its data while connected (flushed, or its keys evicted: run Redis with maxmemory-policy noeviction); re-seeded from the machines' views`;
  return `${store} lost its data since this machine last synced (restarted without persistence, flushed or evicted); re-seeded from the machines' views`;
}
