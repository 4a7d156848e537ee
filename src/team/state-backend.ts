// Chooses where routing state lives: the machine's files (default) or the team store on Redis. Services open every
// store through `wrap`, so the code above never knows which backend it has.
import { statSync } from "node:fs";
import { type OpenStore, openJsonStore, type StateStore, type StoreWarning } from "../state/json-store.ts";
import { stateFile } from "../state/state-paths.ts";
import { importLegacyFile, type LegacyFormat, type LegacyMarked } from "../state/legacy-import.ts";
import { emptyLedger, USAGE_STORE_NAME, type UsageLedger } from "../budget/usage-ledger.ts";
import {
  BUDGET_PERIODS,
  clearedAtOf,
  clearLimitOperation,
  LIMITS_STORE_NAME,
  type LimitsPush,
  type LimitsState,
  pushLimits,
  sameProvider,
} from "../budget/budget-limits.ts";
import { LEGACY_STATS_FILE } from "../budget/legacy-stats.ts";
import { legacyRatingsFormat } from "../ratings/legacy-ratings.ts";
import { legacyLatencyFormat } from "../runtime/legacy-latency.ts";
import { emptyPending, pendingStateSchema } from "./ledger-hashes.ts";
import type { LedgerPushOutcome } from "./ledger-commands.ts";
import { RedisLedgerStore } from "./redis-ledger.ts";
import { RedisStateStore } from "./redis-store.ts";
import { emptyUnwritten, unwrittenStateSchema } from "./unwritten-marker.ts";
import { NO_PERMISSION } from "./redis-problems.ts";
import { TeamConnection, type BackendStatus } from "./team-connection.ts";
import type { TeamSettings } from "./team-settings.ts";
import { plural } from "../analytics/text-format.ts";

/** In team mode the machine keeps its view of the team state beside (never over) its own file-store state. */
export const TEAM_MIRROR_PREFIX = "team-";

/**
 * The stores whose file name the earlier pi-auto-router used for its own: the team store merges the machine's old file
 * into the team state (once per content), as the file store's parser reads it, so ratings and latency carry over.
 */
const LEGACY_FORMATS: Record<string, LegacyFormat<LegacyMarked>> = {
  ratings: legacyRatingsFormat,
  latency: legacyLatencyFormat,
};

/**
 * What `state push` would copy of a file store's state (compared with its defaults: "nothing local"). A file ledger's
 * open reservations are this machine's requests in flight, not spend; the limits' clear times are not pushed (a push
 * adds limits, it never clears the team's).
 */
export function pushedContent(name: string, state: unknown): unknown {
  if (name === USAGE_STORE_NAME) return { ...(state as UsageLedger), reservations: {} };
  if (name !== LIMITS_STORE_NAME) return state;
  const { cleared: _cleared, ...limits } = state as LimitsState;
  return limits;
}

/** Per store, what `state push` did, as it prints it ("pushed", "team store not empty", "nothing local", or a sentence). */
export type PushResult = { name: string; result: string };

export function describeLedgerPush(outcome: LedgerPushOutcome): string {
  if (!outcome.added) return `this machine's spend was pushed before (${new Date(outcome.pushedAt).toISOString()})`;
  // All it held was the earlier router's spend, which the team held already: nothing was added, whatever "added" says.
  if (outcome.entries === 0 && outcome.importedSkipped)
    return `nothing to add: this machine's spend is the ${LEGACY_STATS_FILE} spend it imported, which was in the team's already (not added again)`;
  const imported = outcome.importedSkipped
    ? `; the ${LEGACY_STATS_FILE} spend it imported was in the team's already, not added again`
    : "";
  return `added this machine's spend (${plural(outcome.entries, "entry", "entries")}${imported})`;
}

/** What the limits' push did: the providers pushed, and the fields left out because the team cleared them later. */
export function describeLimitsPush(push: Omit<LimitsPush, "state">): string {
  const clearedLater = push.clearedLater.map((entry) => `${entry.provider} (${entry.fields.join(", ")})`).join(", ");
  const notCleared = `cleared in the team store after this machine set it: ${clearedLater}`;
  if (push.pushed.length === 0)
    return clearedLater
      ? `nothing pushed: ${notCleared}`
      : "the team's limits are as new as this machine's or newer: nothing pushed";
  const pushed = `pushed the limits of ${push.pushed.join(", ")} (set here later than the team's, or the team had none)`;
  return clearedLater ? `${pushed}; not pushed, ${notCleared}` : pushed;
}

/** Limits go in by their set time (pushLimits): the team's may hold some while this machine set others later. */
async function pushLimitsInto(store: StateStore<unknown>, local: LimitsState): Promise<string> {
  const planned = pushLimits(store.read() as LimitsState, local);
  if (planned.pushed.length === 0) return describeLimitsPush(planned);
  let done: LimitsPush = planned;
  store.update((team) => {
    done = pushLimits(team as LimitsState, local); // the last replay is the one written (on the team's state then)
    return done.state;
  });
  await store.flush();
  return describeLimitsPush(done);
}

/** A team store opened by this process, with what `state push` reads its file-store state with. */
type TeamStore = StateStore<unknown> & { push(state: unknown): Promise<boolean | LedgerPushOutcome> };
type StoreEntry = { store: TeamStore; defaults: () => unknown; parse: (raw: unknown) => unknown };
/**
 * A machine's view of the limits put into the team's after Redis came back empty and another machine re-seeded it
 * from its own (perhaps older) view: per provider and field the newest set or clear wins. Set values go in as
 * `state push` takes them (pushLimits); a clear goes in when every value the team holds for the field was set before
 * it (a value without a set time stays, as in a push) and the team has not cleared the field since.
 */
export function mergeLimitsAfterReseed(team: LimitsState, view: LimitsState): LimitsState {
  let merged = pushLimits(team, view).state;
  for (const [provider, times] of Object.entries(view.cleared ?? {}))
    for (const field of [...BUDGET_PERIODS, "balanceFloor"] as const) {
      const at = times[field];
      if (at === undefined || (clearedAtOf(merged, provider, field) ?? -Infinity) >= at) continue;
      const newerHeld = Object.entries(merged.providers).some(([name, entry]) => {
        if (!sameProvider(name, provider) || entry[field] === undefined) return false;
        const setAt = entry.setAt?.[field] ?? entry.updatedAt;
        return setAt === undefined || setAt >= at;
      });
      if (!newerHeld) merged = clearLimitOperation(provider, field, at)(merged);
    }
  return merged;
}

export interface StateBackend {
  readonly settings: TeamSettings;
  /** Opens the store `name`: the file store, or the team store with the file store as its local fallback. */
  open: OpenStore;
  describe(now: number): BackendStatus;
  /** See PluginContext.claim. While Redis is unreachable the claim is granted: routing goes on on the local view. */
  claim(name: string, ttlMs: number): Promise<boolean>;
  /** Resolves when the first sync with the team store is done (at once for files; bounded when Redis is down). */
  ready(): Promise<void>;
  /**
   * Copies the machine's file-store state into the team store: the usage ledger is added once per machine, limits
   * go in by their set time, every other store only when the team store does not hold it yet.
   */
  pushLocal(): Promise<PushResult[]>;
  close(): Promise<void>;
}

export interface StateBackendOptions {
  settings: TeamSettings;
  /** Why the file store serves although the config asked for the team store (an invalid state.url). */
  fileReason?: string;
  stateDir: string;
  onWarning: (warning: StoreWarning) => void;
  warn: (text: string) => void;
}

export function openStateBackend(options: StateBackendOptions): StateBackend {
  const { settings, stateDir, onWarning } = options;
  const withLegacyImport = <T>(name: string, store: StateStore<T>): StateStore<T> => {
    const format = LEGACY_FORMATS[name];
    if (format)
      importLegacyFile(
        store as StateStore<unknown> as StateStore<LegacyMarked>,
        stateFile(stateDir, name),
        format,
        options.warn,
      );
    return store;
  };
  const openFile = <T>(
    name: string,
    defaults: () => T,
    parse: (raw: unknown) => T,
    salvage?: (raw: unknown) => T,
    refreshIntervalMs?: number,
    flushDelayMs?: number,
  ) =>
    openJsonStore({
      file: stateFile(stateDir, name),
      defaults,
      parse,
      salvage,
      onWarning,
      refreshIntervalMs,
      flushDelayMs,
    });
  if (settings.backend === "file") {
    // Read once: the file store never writes the team views, so what was there at start stays.
    let teamViewAt: number | undefined | null = null;
    const teamView = () => {
      if (teamViewAt === null) {
        try {
          teamViewAt = statSync(stateFile(stateDir, `${TEAM_MIRROR_PREFIX}${USAGE_STORE_NAME}`)).mtimeMs;
        } catch {
          teamViewAt = undefined;
        }
      }
      return teamViewAt;
    };
    return {
      settings,
      // The file store reads an old file of its own name itself: its parser converts the old shape.
      open: (name, defaults, parse, salvage, flushDelayMs) =>
        openFile(name, defaults, parse, salvage, undefined, flushDelayMs),
      describe: () => ({
        backend: "file",
        machine: settings.machine,
        connection: "local",
        lagMs: 0,
        pendingWrites: 0,
        batchedWrites: 0,
        roundTrips: 0,
        ...(options.fileReason ? { lastError: options.fileReason } : {}),
        ...(teamView() !== undefined ? { teamViewAt: teamView() } : {}),
      }),
      ready: async () => undefined,
      claim: async () => true,
      pushLocal: async () => {
        throw new Error(
          'state push needs the team store: set state.backend "redis" with a url, or AUTO_ROUTER_REDIS_URL',
        );
      },
      close: async () => undefined,
    };
  }
  const unwritten = openFile(`${TEAM_MIRROR_PREFIX}unwritten`, emptyUnwritten, (raw) =>
    unwrittenStateSchema().parse(raw),
  );
  const connection = new TeamConnection(settings, options.warn, unwritten);
  const stores = new Map<string, StoreEntry>();
  // The spend ledger is written attempt by attempt into per-period hashes (redis-ledger.ts); every other store is
  // one JSON value written by compare-and-set.
  const openTeamStore = <T>(
    name: string,
    defaults: () => T,
    parse: (raw: unknown) => T,
    salvage?: (raw: unknown) => T,
    flushDelayMs?: number,
  ): StateStore<T> & { push(state: T): Promise<boolean | LedgerPushOutcome> } => {
    const local = openFile(`${TEAM_MIRROR_PREFIX}${name}`, defaults, parse, salvage, undefined, flushDelayMs);
    if (name !== USAGE_STORE_NAME)
      return new RedisStateStore<T>({
        name,
        connection,
        local,
        defaults,
        parse,
        salvage,
        unwritten,
        // Limits are kept per field with their set and clear times: a view's newer ones survive a re-seed.
        ...(name === LIMITS_STORE_NAME
          ? { mergeAfterReseed: mergeLimitsAfterReseed as unknown as (team: T, view: T) => T }
          : {}),
        warn: options.warn,
        flushDelayMs,
      });
    const pending = openFile(`${TEAM_MIRROR_PREFIX}${name}-pending`, emptyPending, (raw) =>
      pendingStateSchema().parse(raw),
    );
    // The budget feature opens this name with the ledger's own defaults and parser, so T is UsageLedger here.
    const ledger = new RedisLedgerStore({
      name,
      connection,
      local: local as unknown as StateStore<UsageLedger>,
      pending,
      defaults: emptyLedger,
      onStoreDown: settings.onStoreDown,
      warn: options.warn,
    });
    return ledger as unknown as StateStore<T> & { push(state: T): Promise<boolean | LedgerPushOutcome> };
  };
  return {
    settings,
    open: (name, defaults, parse, salvage, flushDelayMs) => {
      const store = openTeamStore(name, defaults, parse, salvage, flushDelayMs);
      stores.set(name, { store: store as unknown as TeamStore, defaults, parse });
      return withLegacyImport(name, store);
    },
    describe: (now) => connection.status(now),
    async claim(name, ttlMs) {
      // A claim asked right at start waits for the connection (bounded), or every machine starting at once gets it.
      await connection.settled();
      if (!connection.writable) return true;
      try {
        return (
          (await connection.call((client) =>
            client.parClaim(connection.key("claim", name), connection.writerId, ttlMs),
          )) === 1
        );
      } catch {
        return true;
      }
    },
    ready: () => connection.ready(),
    async pushLocal() {
      if (!connection.writable)
        throw new Error(
          // Not "unreachable": a Redis that refuses the login or a command was reached.
          `the team store ${settings.displayUrl} is not connected (${connection.lastError ?? connection.state}): nothing was pushed; run it again once /auto-router state shows it connected`,
        );
      const results: PushResult[] = [];
      for (const [name, entry] of stores) {
        try {
          await pushStore(name, entry);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (!NO_PERMISSION.test(message)) throw error;
          // What was pushed already is not pushed twice: the ledger's push is marked per machine, the limits go by
          // their set time, and every other store only into a team store that does not hold it yet.
          throw new Error(
            `the team store ${settings.displayUrl} ${connection.describeRefusal(message)}; state push stopped at ${name}: run it again once the user is granted`,
          );
        }
      }
      return results;

      async function pushStore(name: string, entry: StoreEntry): Promise<void> {
        const local = openFile(name, entry.defaults, entry.parse, undefined, 0);
        const state = local.read();
        await local.close();
        if (JSON.stringify(pushedContent(name, state)) === JSON.stringify(entry.defaults())) {
          results.push({ name, result: "nothing local" });
          return;
        }
        if (name === LIMITS_STORE_NAME) {
          results.push({ name, result: await pushLimitsInto(entry.store, state as LimitsState) });
          return;
        }
        const pushed = await entry.store.push(state);
        results.push({
          name,
          result: typeof pushed === "object" ? describeLedgerPush(pushed) : pushed ? "pushed" : "team store not empty",
        });
      }
    },
    async close() {
      await Promise.allSettled([...stores.values()].map((entry) => entry.store.close()));
      await unwritten.close();
      await connection.close();
    },
  };
}
