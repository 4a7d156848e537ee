// The spend ledger in team mode: the same StateStore<UsageLedger> the budget feature reads (a local view in the file
// ledger's format, mirrored to this machine's file), but written to Redis entry by entry instead of as one JSON
// value: each counted attempt is one idempotent script call keyed by request id + attempt (ledger-hashes.ts has the
// layout), and a hard budget's check-and-reserve is one more (RESERVE_LUA). Entries not yet in Redis are kept in a
// pending file, so a process that exits while Redis is down leaves them for the next start to write; the attempt
// markers make that replay safe. The Redis calls themselves are in ledger-commands.ts.
import type {
  SpendLedger,
  SpendReservation,
  ReservationAnswer,
  AttemptUsage,
  ReservationRenewal,
} from "../budget/spend-ledger.ts";
import { limitRefusal, LocalSpendLedger } from "../budget/spend-ledger.ts";
import { type UsageLedger, withNewerFields } from "../budget/usage-ledger.ts";
import type { StateStore, StoreOperation } from "../state/json-store.ts";
import {
  type KeptAside,
  keptAsideWarning,
  notHashWarning,
  unreadFieldWarning,
  type LedgerPushOutcome,
  mergeTeamLedger,
  pushTeamLedger,
  readTeamLedger,
  reserveInTeam,
  seedTeamLedger,
  sendLedgerEntry,
} from "./ledger-commands.ts";
import { applyChanges, changesBetween, type PendingEntry, type PendingState, withoutEntries } from "./ledger-hashes.ts";
import { EpochLostError } from "./redis-problems.ts";
import type { TeamConnection, TeamMember } from "./team-connection.ts";

export const STORE_DOWN_REFUSAL =
  "the team store is down (see /auto-router state or GET /health/providers), so the team's spend is unknown (state.onStoreDown: block)";

export interface RedisLedgerOptions {
  name: string;
  connection: TeamConnection;
  /** This machine's view of the team ledger, in the file ledger's format. */
  local: StateStore<UsageLedger>;
  /** Entries written locally and not yet in Redis; they survive a restart. */
  pending: StateStore<PendingState>;
  defaults: () => UsageLedger;
  onStoreDown: "local" | "block";
  warn: (text: string) => void;
}

const REFRESH_DELAY_MS = 20;
/**
 * A change notice lost while the subscriber reconnected is caught by this periodic read of the newest periods; at the
 * same time a subscriber refused its channel asks for it again (TeamConnection.retrySubscribe).
 */
const REFRESH_INTERVAL_MS = 5_000;
/** Entries sent in one go (each its own script call, pipelined on the one connection). */
const SEND_BATCH = 64;

export class RedisLedgerStore implements StateStore<UsageLedger>, SpendLedger, TeamMember {
  readonly file: string | undefined;
  readonly name: string;
  private memory: UsageLedger;
  private remote: UsageLedger | undefined;
  /**
   * The pending entries `memory` holds, by id (a seed of the view writes them; their later sends must count nothing).
   * Kept whole: another process sharing the pending file may send and remove them before this one's re-seed, which
   * must still take exactly them out of its view.
   */
  private inView = new Map<string, PendingEntry>();
  private sequence = 0;
  private chain: Promise<void> = Promise.resolve();
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly periodicTimer: NodeJS.Timeout;
  private closed = false;
  /** The budget check while Redis is unreachable and state.onStoreDown is "local". */
  private readonly whileDown: LocalSpendLedger;

  constructor(private readonly options: RedisLedgerOptions) {
    this.name = options.name;
    this.file = options.local.file;
    this.memory = options.local.read();
    // The mirror file holds every entry an earlier process left in the pending file (both are written as it exits):
    // a re-seed with this view counts them, so their later sends must count nothing.
    for (const entry of this.queue) this.inView.set(entry.id, entry);
    this.whileDown = new LocalSpendLedger(this);
    this.periodicTimer = setInterval(() => {
      void this.refresh();
      options.connection.retrySubscribe();
    }, REFRESH_INTERVAL_MS);
    this.periodicTimer.unref();
    options.connection.join(this);
  }

  private get queue(): PendingEntry[] {
    return this.options.pending.read().entries;
  }

  private key(...parts: string[]): string {
    return this.options.connection.key(...parts);
  }

  read(): UsageLedger {
    return this.memory;
  }

  /** Any operation other than an attempt's record (the legacy import): what it added is written as one entry. */
  update(operation: StoreOperation<UsageLedger>): void {
    let next: UsageLedger;
    try {
      next = operation(this.memory);
    } catch (error) {
      this.options.warn(
        `auto-router: team store ${this.name}: an update operation threw and was dropped: ${describe(error)}`,
      );
      return;
    }
    const migrated = next.migratedFrom.filter((name) => !this.memory.migratedFrom.includes(name));
    this.enqueue({
      id: `${this.options.connection.writerId}:update:${++this.sequence}`,
      at: Date.now(),
      changes: changesBetween(this.memory, next),
      migrated,
    });
  }

  record(usage: AttemptUsage): void {
    const changes = [
      {
        period: "days" as const,
        key: usage.calendar.day,
        provider: usage.provider,
        modelId: usage.modelId,
        totals: usage.totals,
      },
      {
        period: "months" as const,
        key: usage.calendar.month,
        provider: usage.provider,
        modelId: usage.modelId,
        totals: usage.totals,
      },
    ];
    this.whileDown.release(usage.id);
    this.enqueue({
      id: `attempt:${usage.id}`,
      at: Date.now(),
      reservationProvider: usage.provider,
      changes,
      migrated: [],
    });
  }

  release(id: string, provider: string): void {
    this.whileDown.release(id);
    if (!this.options.connection.writable) return; // the reservation expires on its own
    void this.options.connection
      .call((client) => client.hdel(this.key(`usage:reserved:${provider}`), id))
      .catch(() => undefined);
  }

  /** Keeps an open reservation open (RENEW_LUA), in Redis and in the book kept while it is down. */
  async renew(renewal: ReservationRenewal): Promise<void> {
    this.whileDown.renew(renewal);
    if (!this.options.connection.writable) return; // one reserved in Redis expires there (the process may be cut off)
    const reservations = this.key(`usage:reserved:${renewal.provider}`);
    await this.options.connection
      .call((client) => client.parRenew(reservations, renewal.id, renewal.ttlMs))
      .catch(() => undefined);
  }

  async reserve(reservation: SpendReservation): Promise<ReservationAnswer> {
    const connection = this.options.connection;
    await connection.settled(); // a request right at start is checked against the team, not refused as "down"
    if (!connection.writable) return this.reserveWhileDown(reservation);
    let answer: Array<number | string>;
    try {
      answer = await reserveInTeam(connection, reservation);
    } catch (error) {
      // The team store lost its data and is being re-seeded: this machine's view holds the team's spend.
      if (error instanceof EpochLostError) return this.whileDown.reserve(reservation);
      return this.reserveWhileDown(reservation);
    }
    if (Number(answer[0]) === 1) return undefined;
    const period = String(answer[1]) === "daily" ? "daily" : "monthly";
    const limit = period === "daily" ? reservation.dailyUsd : reservation.monthlyUsd;
    return limitRefusal({
      period,
      spentUsd: Number(answer[2]),
      reservedUsd: Number(answer[3]),
      amountUsd: reservation.amountUsd,
      limitUsd: limit ?? 0,
    });
  }

  private reserveWhileDown(reservation: SpendReservation): ReservationAnswer | Promise<ReservationAnswer> {
    return this.options.onStoreDown === "block"
      ? { reason: STORE_DOWN_REFUSAL, spendUnknown: true }
      : this.whileDown.reserve(reservation);
  }

  /**
   * Sends queued entries once the connection has synced. Until then (at start, and after a reconnect until the
   * epoch check and the re-seed of an emptied Redis ran) they wait: an entry recorded into an empty Redis before the
   * re-seed would make the seed think the team store still holds its ledger.
   */
  flush(): Promise<void> {
    return this.serialize(() => (this.synced() ? this.send() : Promise.resolve()));
  }

  flushSync(): void {
    this.options.local.flushSync();
    this.options.pending.flushSync();
  }

  /**
   * The re-check (every 5 s, and on another machine's change notice). Not while the connection syncs, nor adopted when
   * a sync began during the read: after Redis lost its data the view must stay what this machine held before the loss
   * until its sync re-seeds or merges it (a view that took another machine's re-seed first would merge its own
   * pending spend into the team's ledger a second time). The sync reads the team's ledger itself.
   * Entries Redis refused while connected (an ACL user not granted a command of the script, a full Redis) are sent
   * again after the read: once granted (or given room), a process that records nothing more writes them within 5 s.
   */
  refresh(): Promise<void> {
    return this.serialize(async () => {
      if (!this.synced()) return;
      await this.fetch(false, () => this.synced());
      if (this.synced()) await this.send();
    });
  }

  private synced(): boolean {
    return this.options.connection.state === "connected";
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    clearInterval(this.periodicTimer);
    // A short run (a print-mode command) may end before the first connection: its writes wait for it (bounded).
    await this.options.connection.settled();
    await this.flush();
    this.options.connection.leave(this.name);
    await Promise.all([this.options.local.close(), this.options.pending.close()]);
  }

  // ---- TeamMember ----------------------------------------------------------------------------------------------
  sync(reseed: boolean): Promise<void> {
    return this.serialize(async () => {
      if (reseed) {
        // Only the entries the view holds: another process sharing this state dir may have queued more since.
        const held = new Set(this.inView.keys());
        // What the view held of the team's ledger before the loss: its pending entries are written on their own (the
        // pending file may no longer list some: another process sharing it sent them, or seeded with them).
        const before = withoutEntries(this.memory, [...this.inView.values()]);
        if (await this.seed(this.memory, [...held], before))
          this.options.pending.update((state) => ({
            ...state,
            entries: state.entries.filter((entry) => !held.has(entry.id)),
          }));
        // Another machine re-seeded it, perhaps from an older view: the spend this one saw beyond it is added, once.
        else await mergeTeamLedger(this.options.connection, before, () => this.message(), this.keptAside);
      }
      await this.fetch(true);
      await this.send();
    }, true);
  }

  onRemoteChange(): void {
    if (this.refreshTimer || this.closed) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, REFRESH_DELAY_MS);
    this.refreshTimer.unref();
  }

  pendingSince(): number | undefined {
    return this.queue[0]?.at;
  }

  pendingCount(): number {
    return this.queue.length;
  }

  /**
   * `state push`: adds this machine's file ledger to the team's, once per machine (PUSH_USAGE_LUA). Its entries are
   * data, so they are added to whatever the team holds, not only to an empty store.
   */
  async push(ledger: UsageLedger): Promise<LedgerPushOutcome> {
    await this.flush(); // what this process queued (an import of the earlier router's file) goes first
    const connection = this.options.connection;
    const outcome = await pushTeamLedger(
      connection,
      ledger,
      connection.settings.machine,
      Date.now(),
      () => this.message(),
      this.keptAside,
    );
    // Every period: the push may have added to days and months the view read before.
    if (outcome.added) await this.serialize(() => this.fetch(true));
    return outcome;
  }

  /** Writes `ledger` whole into a team store that holds no ledger yet; false when it holds one (or was seeded). */
  private async seed(ledger: UsageLedger, heldEntries: string[], baseline: UsageLedger): Promise<boolean> {
    const seeded = await seedTeamLedger(this.options.connection, ledger, () => this.message(), heldEntries, baseline);
    if (seeded) this.remote = undefined;
    return seeded;
  }

  // ---- writing and reading -------------------------------------------------------------------------------------
  private enqueue(entry: PendingEntry): void {
    if (entry.changes.length === 0 && entry.migrated.length === 0) return;
    this.options.pending.update((state) => ({ ...state, entries: [...state.entries, entry] }));
    // Before Redis was first read the view is the mirror file, which already holds every earlier pending entry.
    if (this.remote) this.adopt(this.remote);
    else {
      this.show(applyChanges(this.memory, entry.changes, entry.migrated));
      this.inView.set(entry.id, entry);
    }
    if (this.closed) return;
    void this.flush(); // at once: a budget check right after this attempt must find its spend in Redis
  }

  private async send(): Promise<void> {
    const connection = this.options.connection;
    while (this.queue.length > 0 && connection.writable) {
      const batch = this.queue.slice(0, SEND_BATCH);
      // Sent together; one connection keeps them in order, each is applied at most once.
      const counted = await Promise.all(
        batch.map((entry) => sendLedgerEntry(connection, entry, () => this.message(), this.keptAside)),
      );
      const sent = new Set(batch.map((entry) => entry.id));
      this.options.pending.update((state) => ({
        ...state,
        entries: state.entries.filter((entry) => !sent.has(entry.id)),
      }));
      if (this.queue.length === 0) connection.noteWritten();
      if (this.remote && counted.every(Boolean)) {
        for (const entry of batch) this.remote = applyChanges(this.remote, entry.changes, entry.migrated);
        this.adopt(this.remote);
      } else {
        await this.fetch(true); // some were already counted (a replay): the team's totals hold them once
      }
    }
  }

  /** Reads the team ledger: every period hash (`full`), or the newest day and month plus any not seen before. */
  private async fetch(full: boolean, stillWanted: () => boolean = () => true): Promise<void> {
    const next = await readTeamLedger(this.options.connection, full, {
      known: () => this.remote,
      defaults: () => this.options.defaults(),
      onUnread: this.unread,
      onNotHash: this.notHash,
    });
    if (!next || !stillWanted()) return;
    this.remote = next;
    this.adopt(next);
  }

  /** The view: the team's ledger as last read, plus this machine's entries not yet in it. */
  private adopt(remote: UsageLedger): void {
    let view = remote;
    const held = new Map<string, PendingEntry>();
    for (const entry of this.queue) {
      view = applyChanges(view, entry.changes, entry.migrated);
      held.set(entry.id, entry);
    }
    this.show(view);
    this.inView = held;
  }

  /**
   * The view, with the mirror file's top-level fields this version does not know: a newer version sharing the state
   * dir wrote them there, and Redis's hashes the view is rebuilt from hold none of them.
   */
  private show(view: UsageLedger): void {
    this.options.local.update((mirror) => withNewerFields(mirror, view));
    this.memory = withNewerFields(this.options.local.read(), view);
  }

  /** Fields of the team's ledger that held no number, kept aside by the script that added to them: said as it does. */
  private readonly keptAside = (kept: KeptAside[]): void => this.options.warn(keptAsideWarning(kept));

  /** Fields of the team's ledger read that hold no number: each said once (the ledger is read every 5 s). */
  private readonly unreadSaid = new Set<string>();
  private readonly unread = (name: string, field: string, value: string): void => {
    const said = `${name}\n${field}\n${value}`;
    if (this.unreadSaid.has(said)) return;
    this.unreadSaid.add(said);
    this.options.warn(unreadFieldWarning(name, field, value));
  };
  private readonly notHash = (name: string): void => {
    const said = `${name}\n`;
    if (this.unreadSaid.has(said)) return;
    this.unreadSaid.add(said);
    this.options.warn(notHashWarning(this.key("usage:periods"), name));
  };

  private message(): string {
    return `${this.name}:${this.options.connection.writerId}:${++this.sequence}`;
  }

  /**
   * Runs `task` after the ones before it. A failure leaves the chain going; it reaches the caller only with `rethrow`
   * (the connection's sync, which tries again: a re-seed refused or cut off must not count as done).
   */
  private serialize(task: () => Promise<void>, rethrow = false): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => {
      // A lost connection mid-write: the entries stay pending and are sent by the sync after the reconnect.
    });
    return rethrow ? run : this.chain;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
