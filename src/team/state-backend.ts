// Chooses where routing state lives: the machine's files (default) or the team store on Redis. Services open every
// store through `wrap`, so the code above never knows which backend it has.
import { openJsonStore, type StateStore, type StoreWarning } from "../state/json-store.ts";
import { stateFile } from "../state/state-paths.ts";
import { RedisStateStore } from "./redis-store.ts";
import { BATCH_MARKER_TTL_SECONDS, TeamConnection, type BackendStatus } from "./team-connection.ts";
import type { TeamSettings } from "./team-settings.ts";

/** In team mode the machine keeps its view of the team state beside (never over) its own file-store state. */
export const TEAM_MIRROR_PREFIX = "team-";

export type PushResult = { name: string; result: "pushed" | "team store not empty" | "nothing local" };

export interface StateBackend {
  readonly settings: TeamSettings;
  /** Opens the store `name`: the file store, or the team store with the file store as its local fallback. */
  /**
   * `salvage` keeps what can be read of a damaged file (see JsonStoreOptions); `flushDelayMs` is how long changes
   * gather before one write (the stores' default when not given).
   */
  open<T>(name: string, defaults: () => T, parse: (raw: unknown) => T, salvage?: (raw: unknown) => T, flushDelayMs?: number): StateStore<T>;
  describe(now: number): BackendStatus;
  /** See PluginContext.claim. While Redis is unreachable the claim is granted: routing goes on on the local view. */
  claim(name: string, ttlMs: number): Promise<boolean>;
  /** Resolves when the first sync with the team store is done (at once for files; bounded when Redis is down). */
  ready(): Promise<void>;
  /** Copies the machine's file-store state into the team store, for each store the team store does not hold yet. */
  pushLocal(): Promise<PushResult[]>;
  close(): Promise<void>;
}

export interface StateBackendOptions {
  settings: TeamSettings;
  stateDir: string;
  onWarning: (warning: StoreWarning) => void;
  warn: (text: string) => void;
}

export function openStateBackend(options: StateBackendOptions): StateBackend {
  const { settings, stateDir, onWarning } = options;
  const openFile = <T>(name: string, defaults: () => T, parse: (raw: unknown) => T, salvage?: (raw: unknown) => T, refreshIntervalMs?: number, flushDelayMs?: number) =>
    openJsonStore({ file: stateFile(stateDir, name), defaults, parse, salvage, onWarning, refreshIntervalMs, flushDelayMs });
  if (settings.backend === "file") {
    return {
      settings,
      open: (name, defaults, parse, salvage, flushDelayMs) => openFile(name, defaults, parse, salvage, undefined, flushDelayMs),
      describe: () => ({ backend: "file", machine: settings.machine, connection: "local", lagMs: 0, pendingWrites: 0, roundTrips: 0 }),
      ready: async () => undefined,
      claim: async () => true,
      pushLocal: async () => {
        throw new Error("state push needs the team store: set state.backend \"redis\" with a url, or AUTO_ROUTER_REDIS_URL");
      },
      close: async () => undefined,
    };
  }
  const connection = new TeamConnection(settings, options.warn);
  const stores = new Map<string, { store: RedisStateStore<unknown>; defaults: () => unknown; parse: (raw: unknown) => unknown }>();
  return {
    settings,
    open<T>(name: string, defaults: () => T, parse: (raw: unknown) => T, salvage?: (raw: unknown) => T, flushDelayMs?: number): StateStore<T> {
      const local = openFile(`${TEAM_MIRROR_PREFIX}${name}`, defaults, parse, salvage, undefined, flushDelayMs);
      const store = new RedisStateStore<T>({ name, connection, local, defaults, parse, warn: options.warn, flushDelayMs });
      stores.set(name, { store: store as RedisStateStore<unknown>, defaults, parse });
      return store;
    },
    describe: (now) => connection.status(now),
    async claim(name, ttlMs) {
      if (!connection.writable) return true;
      try {
        return (await connection.call((client) => client.parClaim(connection.key("claim", name), connection.writerId, ttlMs))) === 1;
      } catch {
        return true;
      }
    },
    ready: () => connection.ready(),
    async pushLocal() {
      if (!connection.writable) throw new Error(`the team store ${settings.displayUrl} is not reachable (${connection.lastError ?? connection.state})`);
      const results: PushResult[] = [];
      for (const [name, entry] of stores) {
        const local = openFile(name, entry.defaults, entry.parse, undefined, 0);
        const state = local.read();
        await local.close();
        if (JSON.stringify(state) === JSON.stringify(entry.defaults())) {
          results.push({ name, result: "nothing local" });
          continue;
        }
        // Version 0 expected: only a store the team does not hold yet is written, so a second push changes nothing.
        const [result] = await connection.call((client) =>
          client.parCompareAndSet(connection.key("state", name), connection.key("batch", `${connection.writerId}:${name}:push`), 0, JSON.stringify(state), BATCH_MARKER_TTL_SECONDS, connection.channel, `${name}:push`));
        results.push({ name, result: result === "ok" ? "pushed" : "team store not empty" });
        await entry.store.refresh();
      }
      return results;
    },
    async close() {
      await Promise.allSettled([...stores.values()].map((entry) => entry.store.close()));
      await connection.close();
    },
  };
}
