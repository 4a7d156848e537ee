// The team implementation of StateStore (the same contract as the file store in src/state/json-store.ts: callers
// read a view in memory and submit pure, replayable operations). Code above the stores never knows which one it has.
//
// read() is the local view: the team's last known state with this process's unwritten operations replayed on top.
// update() applies the operation to that view and to the machine's own file store (the fallback while Redis is
// unreachable, and the view the next start begins from), then queues it. Queued operations go to Redis in order,
// in batches: read the team state, replay the batch on it, compare-and-set (a Lua script). Another machine writing
// first makes the script answer "conflict"; the batch is replayed on the fresh state and tried again, so two
// machines adding to one counter always end at the sum. Each batch has an id whose marker the script writes with
// the state: a batch re-sent after a lost reply is recognised ("dup") and never applied twice.
// Other machines' writes arrive through pub/sub (one notice per write), and a periodic check catches missed ones.
import type { StateStore, StoreOperation } from "../state/json-store.ts";
import { contentProblem } from "../state/state-file.ts";
import { replayOperations } from "../state/store-types.ts";
import { shown } from "../config/zod-issue-text.ts";
import { WRONG_TYPE } from "./redis-problems.ts";
import { BATCH_MARKER_TTL_SECONDS, type TeamConnection, type TeamMember } from "./team-connection.ts";
import { clearUnwritten, markUnwritten, type UnwrittenState } from "./unwritten-marker.ts";

export interface RedisStoreOptions<T> {
  name: string;
  connection: TeamConnection;
  /** This machine's file store of the same name. */
  local: StateStore<T>;
  defaults: () => T;
  parse: (raw: unknown) => T;
  /** What can still be read of a value `parse` refuses (the file store's salvage, same contract). */
  salvage?: (raw: unknown) => T;
  /** Which stores' view files hold unwritten changes (shared by the stores of one backend). */
  unwritten?: StateStore<UnwrittenState>;
  /**
   * After the team store lost its data and another machine re-seeded it first: this machine's view (`view`) put into
   * the team's state (`team`). Without it the first machine's view stands and this one's changes since are dropped.
   */
  mergeAfterReseed?: (team: T, view: T) => T;
  flushDelayMs?: number;
  refreshIntervalMs?: number;
  warn: (text: string) => void;
}

type Queued<T> = { operation: StoreOperation<T>; at: number };
type Remote<T> = { version: number; state: T };

/**
 * A team value's version as the compare-and-set script reads it: digits only, else 0 (a hand edit, another tool's
 * write), so that the next write replaces it (with a version past any a machine holds, COMPARE_AND_SET_LUA); read
 * otherwise, every write would conflict and none would land.
 */
const WHOLE_NUMBER = /^\d+$/;
const teamVersion = (raw: string | null): number => (raw !== null && WHOLE_NUMBER.test(raw) ? Number(raw) : 0);

const DEFAULT_FLUSH_DELAY_MS = 20;
/** How long a team value that did not read is kept aside (`<key>:corrupt-<time>`). */
const CORRUPT_TTL_SECONDS = 30 * 86_400;
const DEFAULT_REFRESH_INTERVAL_MS = 5_000;
/** Compare-and-set attempts per batch before waiting for the next flush (only under heavy write contention). */
const MAX_CAS_ATTEMPTS = 20;

export class RedisStateStore<T> implements StateStore<T>, TeamMember {
  readonly file: string | undefined;
  readonly name: string;
  private memory: T;
  private remote: Remote<T> | undefined;
  /**
   * The team version the view (memory and the view file, before the queued operations) is based on. Unlike `remote`
   * it outlives a lost connection or a refused write, and at start it is the version the view file held when the
   * machine's last process ended: changes made while the team store is out of reach are marked on it, so that they
   * are written when the team state has not moved since.
   */
  private viewVersion: number | undefined;
  /** The view file holds changes a predecessor could not write (read at start; until they are written or dropped). */
  private inheritedUnwritten: boolean;
  private queue: Queued<T>[] = [];
  /** The id of the batch being written; kept until it is known to be applied, so a re-send is recognised. */
  private batch: { id: string; count: number } | undefined;
  private batchSequence = 0;
  private chain: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly refreshTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The team version last found unreadable: said and kept aside once. */
  private damagedVersion: number | undefined;
  /** The unreadable version last warned about (teamVersion), so that it is said once. */
  private unreadVersion: string | undefined;

  constructor(private readonly options: RedisStoreOptions<T>) {
    this.name = options.name;
    this.file = options.local.file;
    this.memory = options.local.read();
    // A predecessor's unwritten changes were marked on the version its view was based on then (a marker is re-marked
    // whenever the view is), even when it ended without saying so (killed): that is the view file's base.
    const inherited = options.unwritten?.read().stores[this.name];
    this.inheritedUnwritten = inherited !== undefined;
    this.viewVersion =
      inherited && inherited.baseVersion >= 0
        ? inherited.baseVersion
        : options.connection.rememberedViewVersion(this.name);
    const interval = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    if (interval > 0) {
      this.refreshTimer = setInterval(() => void this.refresh(), interval);
      this.refreshTimer.unref();
    }
    options.connection.join(this);
  }

  private get key(): string {
    return this.options.connection.key("state", this.name);
  }

  read(): T {
    return this.memory;
  }

  update(operation: StoreOperation<T>): void {
    try {
      this.memory = operation(this.memory);
    } catch (error) {
      this.options.warn(
        `auto-router: team store ${this.name}: an update operation threw and was dropped: ${describe(error)}`,
      );
      return;
    }
    this.options.local.update(operation);
    if (this.closed) return;
    this.queue.push({ operation, at: Date.now() });
    markUnwritten(this.options.unwritten, this.name, this.viewVersion ?? -1);
    this.scheduleFlush();
  }

  flush(): Promise<void> {
    return this.serialize(() => this.flushNow());
  }

  /** The process is exiting: Redis cannot be written synchronously, the machine's file keeps the view. */
  flushSync(): void {
    this.options.local.flushSync();
  }

  /**
   * The re-check (periodic, and on another machine's change notice). Not while the connection syncs, nor adopted when a
   * sync began during the read: after Redis lost its data the view must stay what this machine held until its sync
   * re-seeds the team store with it or merges it into another machine's re-seed (mergeAfterReseed).
   */
  refresh(): Promise<void> {
    const synced = () => this.options.connection.state === "connected";
    return this.serialize(async () => {
      if (!synced()) return;
      // The periodic check reads the version only; the state (the ledger can be large) only when it changed.
      const connection = this.options.connection;
      const results = await connection.call((client) =>
        client.pipeline().hget(this.key, "v").get(connection.epochKey).exec(),
      );
      // A key of another kind: the read below keeps it aside and says so.
      if (!wrongType(results)) {
        const [read, epoch] = pipelined<[string | null, string | null]>(results);
        connection.assertEpoch(epoch); // an emptied team store is re-seeded, not adopted
        const version = teamVersion(read);
        if (this.remote && version === this.remote.version) return;
      }
      const remote = await this.fetch();
      if (synced() && remote.version !== this.remote?.version) this.adopt(remote);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    // A short run (a print-mode command) may end before the first connection: its writes wait for it (bounded).
    await this.options.connection.settled();
    await this.flush();
    // The next process's changes made before it reaches the team store are then made on a known version.
    if (this.viewVersion !== undefined) this.options.connection.rememberViewVersion(this.name, this.viewVersion);
    this.options.connection.leave(this.name);
    await this.options.local.close();
  }

  /** Writes `state` as this store's first version; false when the team store already holds one. */
  async push(state: T): Promise<boolean> {
    // Version 0 expected: only a store the team does not hold yet is written, so a second push changes nothing.
    const [result] = await this.compareAndSet(this.batchId("push"), 0, state, `${this.name}:push`);
    await this.refresh();
    return result === "ok";
  }

  // ---- TeamMember ----------------------------------------------------------------------------------------------
  sync(reseed: boolean): Promise<void> {
    return this.serialize(async () => {
      // Another machine re-seeded first: changes this process's predecessor left unwritten go on top when they can.
      const view = this.memory;
      const seeded = reseed && (await this.reseed());
      if (!seeded) await this.syncView(reseed, await this.fetch());
      const merge = this.options.mergeAfterReseed;
      if (reseed && !seeded && merge) {
        // The first machine's view may be older than this one: what this view holds beyond it goes on top.
        const merged = merge(this.memory, view);
        if (JSON.stringify(merged) !== JSON.stringify(this.memory)) this.update((team) => merge(team, view));
      }
      this.inheritedUnwritten = false; // written with the view, or said to be dropped
      await this.flushNow(true);
    }, true);
  }

  /**
   * Brings the view in line with the team's state `remote` when the connection syncs. The view is written back whole
   * (with every change it holds) when:
   * - the team's state is older than the version the view was based on, in the same epoch (versions only grow): Redis
   *   was restored from an older snapshot, or lost this key; said once per process;
   * - the view holds changes not in the team store and no write of them is under way (a predecessor's, left in its
   *   view file when Redis was down or the process ended before the asynchronous write; or this process's own, made
   *   before it reached the team store), and the team's state is still the version they were made on.
   * Otherwise (or when another machine wrote first) the team's state is taken, with this process's queued operations
   * replayed on it; a predecessor's changes cannot be (operations are code, not data): they are dropped, said.
   * `reseed`: the team store lost its data since the view's version, whose number then counts other data.
   */
  private async syncView(reseed: boolean, remote: Remote<T>): Promise<void> {
    const settled = reseed || this.batch !== undefined;
    const rolledBack = !settled && this.viewVersion !== undefined && remote.version < this.viewVersion;
    const marker = this.remote || this.batch ? undefined : this.options.unwritten?.read().stores[this.name];
    const fits =
      !settled &&
      marker !== undefined &&
      (remote.version === marker.baseVersion || (marker.baseVersion < 0 && remote.version === 0));
    if (rolledBack) this.options.connection.noteRolledBack(this.name, remote.version, this.viewVersion!);
    let current = remote;
    if (rolledBack || fits) {
      const suffix = rolledBack ? "restored" : "recovered";
      const [result, version] = await this.compareAndSet(this.batchId(suffix), remote.version, this.memory);
      if (result === "ok") {
        this.queue = [];
        this.adopt({ version, state: this.memory });
        clearUnwritten(this.options.unwritten, this.name);
        return;
      }
      current = await this.fetch(); // another machine wrote first
    }
    // After a re-seed, a store that merges its view (mergeAfterReseed) keeps a predecessor's changes that way.
    if (marker && this.inheritedUnwritten && !rolledBack && !(reseed && this.options.mergeAfterReseed)) {
      // Made on a view that was never synced with the team (its run could not read the team store), or on a version
      // another machine has changed since: either way they cannot be replayed on what the team holds.
      const why =
        marker.baseVersion < 0
          ? `that run never read the team's ${this.name} (the team store was out of reach or full when it started)`
          : reseed
            ? `the team store lost its data since and another machine wrote it first`
            : `another machine changed the team's ${this.name} since`;
      this.options.warn(
        `auto-router: team store: this machine's ${this.name} changes from before its last exit were not written (${why}, so they were dropped); using the team's ${this.name}`,
      );
    }
    this.adopt(current); // this process's queued operations replayed on it
    if (this.queue.length === 0) clearUnwritten(this.options.unwritten, this.name);
  }

  onRemoteChange(version: number): void {
    if (this.remote && version <= this.remote.version) return;
    void this.refresh();
  }

  pendingSince(): number | undefined {
    return this.queue[0]?.at;
  }

  pendingCount(): number {
    return this.queue.length;
  }

  get batchDelayMs(): number {
    return this.options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS;
  }

  // ---- writing -------------------------------------------------------------------------------------------------
  /**
   * `syncing`: called by sync(). Otherwise queued writes wait while the connection syncs (at start, after a reconnect,
   * after the team store lost its data): replayed on an emptied store before its re-seed, they would take its place.
   */
  private async flushNow(syncing = false): Promise<void> {
    const connection = this.options.connection;
    for (let attempt = 0; this.queue.length > 0 && attempt < MAX_CAS_ATTEMPTS; attempt++) {
      if (!connection.writable || (!syncing && connection.state !== "connected")) return; // sync() sends them
      this.batch ??= { id: this.batchId(String(++this.batchSequence)), count: this.queue.length };
      const base = this.remote ?? (await this.fetch());
      const next = this.replay(
        base.state,
        this.queue.slice(0, this.batch.count).map((entry) => entry.operation),
      );
      let answer: [string, number];
      try {
        answer = await this.compareAndSet(this.batch.id, base.version, next);
      } catch (error) {
        if (!(error instanceof Error && WRONG_TYPE.test(error.message))) throw error;
        await this.keepWrongTypeAside(); // then replayed on what replaced it
        this.remote = undefined;
        continue;
      }
      const [result, version] = answer;
      if (result === "epoch") {
        connection.assertEpoch(null); // the team store lost its data: re-seeded by the sync this starts
      } else if (result === "ok") {
        this.commit({ version, state: next });
      } else if (result === "dup") {
        this.commit(await this.fetch()); // an earlier send of this batch was applied; its reply was lost
      } else {
        this.remote = undefined; // another writer came first: replay on what is there now
      }
    }
    if (this.queue.length > 0 && connection.writable) this.scheduleFlush();
  }

  /**
   * The team store lost its data: write this machine's whole view (it includes the queued operations and what a
   * predecessor left unwritten). False when another machine re-seeded first (the queue is then replayed on its state).
   */
  private async reseed(): Promise<boolean> {
    const [result] = await this.compareAndSet(this.batchId(`seed-${++this.batchSequence}`), 0, this.memory);
    if (result !== "ok") return false;
    this.queue = [];
    this.batch = undefined;
    this.remote = { version: 1, state: this.memory };
    this.viewVersion = 1;
    clearUnwritten(this.options.unwritten, this.name);
    return true;
  }

  /** A batch id unique to this writer and store; the script keeps its marker so a re-sent batch is recognised. */
  private batchId(suffix: string): string {
    return `${this.options.connection.writerId}:${this.name}:${suffix}`;
  }

  /**
   * The compare-and-set script: writes `state` as the next version when the team holds version `expected`, marks
   * batch `batchId` as applied and publishes `notice` ("<store>:<writer>" unless given).
   */
  private compareAndSet(batchId: string, expected: number, state: T, notice?: string) {
    const connection = this.options.connection;
    return connection.call((client) =>
      client.parCompareAndSet(
        this.key,
        connection.key("batch", batchId),
        expected,
        JSON.stringify(state),
        BATCH_MARKER_TTL_SECONDS,
        connection.channel,
        notice ?? `${this.name}:${connection.writerId}`,
        connection.epochKey,
        connection.epoch,
      ),
    );
  }

  private commit(remote: Remote<T>): void {
    this.queue.splice(0, this.batch?.count ?? 0);
    this.batch = undefined;
    this.adopt(remote);
    if (this.queue.length > 0) return;
    clearUnwritten(this.options.unwritten, this.name);
    this.options.connection.noteWritten();
  }

  private async fetch(): Promise<Remote<T>> {
    const connection = this.options.connection;
    const read = () =>
      connection.call((client) => client.pipeline().hmget(this.key, "v", "json").get(connection.epochKey).exec());
    let results = await read();
    if (wrongType(results)) {
      await this.keepWrongTypeAside();
      results = await read(); // the state it was replaced with (by this machine or another)
    }
    const [values, epoch] = pipelined<[Array<string | null>, string | null]>(results);
    connection.assertEpoch(epoch); // read after the state: an emptied team store has lost its epoch key too
    const [raw, json] = values;
    if (raw === null || json === null) return { version: 0, state: this.options.defaults() };
    const version = teamVersion(raw);
    if (!WHOLE_NUMBER.test(raw) && this.unreadVersion !== raw) {
      this.unreadVersion = raw;
      this.options.warn(
        `auto-router: team store key ${this.key} holds version ${shown(raw)}, not a whole number: read as 0 (the next write replaces it)`,
      );
    }
    try {
      return { version, state: this.options.parse(JSON.parse(json)) };
    } catch (error) {
      return { version, state: await this.damaged(version, json, error) };
    }
  }

  /**
   * The team value's key holds another kind of value than its hash (a hand edit, another tool): every read and write
   * of it would fail, and no machine would share this state again. It is moved aside for 30 days and replaced by the
   * team state this machine last read, else the defaults (KEEP_WRONG_TYPE_ASIDE_LUA), and the machine says so.
   */
  private async keepWrongTypeAside(): Promise<void> {
    const aside = `${this.key}:corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    const last = this.remote?.state;
    let said: string;
    try {
      const kind = await this.options.connection.call((client) =>
        client.parKeepWrongTypeAside(
          this.key,
          aside,
          CORRUPT_TTL_SECONDS,
          JSON.stringify(last ?? this.options.defaults()),
        ),
      );
      if (kind === "") return; // another machine moved it first
      said = `holds a Redis ${kind} where its hash {v, json} belongs; the value kept as ${aside} for 30 days; ${last ? "replaced by the team state this machine last read" : "started it from defaults"}`;
    } catch (error) {
      said = `holds another kind of value than its hash {v, json}, and could not be kept aside (${describe(error)})`;
    }
    this.options.warn(`auto-router: team store key ${this.key} ${said}`);
  }

  /**
   * Team state that does not read, as the file store treats a damaged file: what can still be read of it is kept (the
   * salvage; else the team state this process last read, else the defaults), the value itself is kept aside under a
   * key of its own for 30 days, and the machine says so, once per damaged version (the next write replaces it).
   */
  private async damaged(version: number, json: string, error: unknown): Promise<T> {
    let state: T | undefined;
    let kept = "kept every value that could be read";
    try {
      if (this.options.salvage) state = this.options.salvage(JSON.parse(json));
    } catch {
      // Nothing of it reads: the next source below.
    }
    if (state === undefined && this.remote) {
      state = structuredClone(this.remote.state);
      kept = "kept the team state this machine last read";
    }
    if (state === undefined) {
      state = this.options.defaults();
      kept = "started it from defaults";
    }
    if (this.damagedVersion === version) return state;
    this.damagedVersion = version;
    const aside = `${this.key}:corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    let where: string;
    try {
      await this.options.connection.call((client) => client.set(aside, json, "EX", CORRUPT_TTL_SECONDS));
      where = `kept as ${aside} for 30 days`;
    } catch (setError) {
      where = `could not be kept aside (${describe(setError)})`;
    }
    this.options.warn(
      `auto-router: team store key ${this.key} holds invalid state (${contentProblem(error)}); the value ${where}; ${kept}`,
    );
    return state;
  }

  private adopt(remote: Remote<T>): void {
    this.remote = remote;
    this.viewVersion = remote.version;
    this.memory = this.replay(
      structuredClone(remote.state),
      this.queue.map((entry) => entry.operation),
    );
    const view = this.memory;
    this.options.local.update(() => view);
    // The view is now based on this version.
    if (this.queue.length > 0) markUnwritten(this.options.unwritten, this.name, remote.version);
  }

  private replay(state: T, operations: StoreOperation<T>[]): T {
    return replayOperations(state, operations, (error) =>
      this.options.warn(
        `auto-router: team store ${this.name}: an operation threw while replayed and was skipped: ${describe(error)}`,
      ),
    );
  }

  /**
   * Runs `task` after the ones before it. A failure leaves the chain going; it reaches the caller only with `rethrow`
   * (the connection's sync, which tries again: a re-seed refused or cut off must not count as done).
   */
  private serialize(task: () => Promise<void>, rethrow = false): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => {
      // A lost connection mid-write: the batch (and its id) stays queued for the replay on reconnect.
      this.remote = undefined;
      if (this.options.connection.writable) this.scheduleFlush(500);
    });
    return rethrow ? run : this.chain;
  }

  private scheduleFlush(delayMs = this.options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, delayMs);
    this.flushTimer.unref();
  }
}

/** The read of a team value's key failed because it holds another kind of value than a hash. */
const wrongType = (results: Array<[Error | null, unknown]> | null): boolean =>
  results?.some(([error]) => error !== null && WRONG_TYPE.test(error.message)) ?? false;

/** A pipeline's replies; its first failed command's error is thrown. */
function pipelined<T extends unknown[]>(results: Array<[Error | null, unknown]> | null): T {
  const failed = results?.find(([error]) => error)?.[0];
  if (failed) throw failed;
  return (results ?? []).map(([, value]) => value) as T;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
