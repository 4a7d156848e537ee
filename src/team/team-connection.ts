// One process's connection to the team store (Redis or Valkey, through ioredis): a command connection, a
// subscriber for change notices, the atomic scripts, and what status pages show. Reconnects with backoff; while
// Redis is unreachable every store keeps routing on its local view and queues its writes, and on reconnect the
// stores replay them (idempotently). A Redis that came back empty (its epoch key is gone) is re-seeded from the
// local views.
import { randomUUID } from "node:crypto";
import type { Redis, RedisOptions } from "ioredis";
import type { StateStore } from "../state/json-store.ts";
import type { RedisSettings } from "./team-settings.ts";
import { type SyncCause, syncWarning } from "./sync-warning.ts";
import {
  CONNECT_TIMEOUT_MS,
  COMMAND_TIMEOUT_MS,
  DB_OUT_OF_RANGE,
  DROPPED_COMMAND,
  DROPPED_COMMAND_TEXT,
  NOT_REDIS,
  REDIS_URL_SOURCE,
  NO_PERMISSION,
  refusalText,
  refusedGrant,
  OUT_OF_MEMORY,
  OUT_OF_MEMORY_TEXT,
  EpochLostError,
  SilentServerError,
  UNWRITABLE,
  explainConnectionError,
  type ConnectionProblem,
} from "./redis-problems.ts";
import { onPasswordNotAsked, openChangeSubscriber } from "./ioredis-quirks.ts";
import {
  rememberedEpoch,
  rememberedViewVersion,
  rememberEpoch,
  rememberViewVersion,
  type UnwrittenState,
} from "./unwritten-marker.ts";
import {
  CLAIM_LUA,
  COMPARE_AND_SET_LUA,
  RECORD_USAGE_LUA,
  RENEW_LUA,
  RESERVE_LUA,
  SEED_USAGE_LUA,
  MERGE_USAGE_LUA,
  PUSH_USAGE_LUA,
  FORGET_PERIODS_LUA,
  KEEP_WRONG_TYPE_ASIDE_LUA,
  type TeamCommands,
} from "./redis-scripts.ts";

/**
 * "refused": Redis answers, but refuses this machine's ACL user a command the sync needs (a user without `@write`):
 * no network problem, and it does not pass by waiting; the sync is tried again, so a grant ends it without a restart.
 */
export type ConnectionState = "connecting" | "connected" | "down" | "refused";

/** What `/auto-router status` and the gateway's /health/providers show about the state backend. */
export interface BackendStatus {
  backend: "file" | "redis";
  /** The URL without its password. */
  url?: string;
  /** The prefix of the team's keys: machines share state only under the same one. */
  keyPrefix?: string;
  machine: string;
  connection: ConnectionState | "local";
  /**
   * Age of the oldest write not yet in the team store that is late: past its store's batch interval and the bound of
   * one command (0 when every write is in the team store, batched or being sent).
   */
  lagMs: number;
  /** Writes not yet in the team store, `batchedWrites` among them. */
  pendingWrites: number;
  /**
   * Of `pendingWrites`, those that wait for their store's batch (latency is written every 5 s) or are being sent: the
   * normal state right after an answer, not a lag. None while the connection is not up.
   */
  batchedWrites: number;
  /** When the last of the batched writes is due, from now. */
  batchDueMs?: number;
  /** Round trips to Redis since start (each command or script call is one). */
  roundTrips: number;
  lastError?: string;
  /**
   * The file store only: when this machine's view of a team store (auto-router.team-usage.json) was last written, if
   * it ran in team mode before. The file store does not read it: the spend, limits and other state of team mode are
   * not counted here.
   */
  teamViewAt?: number;
}

/** What the connection asks of each store it serves. */
export interface TeamMember {
  readonly name: string;
  /** After (re)connect: fetch the team's state and write what is queued. `reseed`: the team store lost its data. */
  sync(reseed: boolean): Promise<void>;
  /** Another machine wrote `version` of this store. */
  onRemoteChange(version: number): void;
  pendingSince(): number | undefined;
  pendingCount(): number;
  /** How long the store holds a write to send it with later ones (unset: sent at once). */
  readonly batchDelayMs?: number;
  /** Writes what was queued while the connection was syncing (members that hold their writes until then). */
  flush?(): Promise<void>;
}

const MAX_RECONNECT_DELAY_MS = 2_000;
/** A sync that failed while the connection stayed up is tried again after this long. */
const SYNC_RETRY_MS = 1_000;
/** How long the marker of an applied write batch is kept: far longer than any replay after an outage. */
export const BATCH_MARKER_TTL_SECONDS = 7 * 24 * 3600;

export class TeamConnection {
  private client: (Redis & TeamCommands) | undefined;
  private subscriber: Redis | undefined;
  /** Distinguishes this process from every other writer (several pi windows may run on one machine). */
  readonly writerId = randomUUID();
  private readonly members = new Map<string, TeamMember>();
  private knownEpoch: string | undefined;
  /** The team store lost its data and a sync that was to re-seed it failed (a refused command, a dropped connection). */
  private reseedOwed = false;
  private syncing: Promise<void> | undefined;
  /** A reconnect that happened while a sync was running: sync once more after it. */
  private resyncPending = false;
  private firstSync: Promise<void>;
  private resolveFirstSync!: () => void;
  state: ConnectionState = "connecting";
  lastError: string | undefined;
  roundTrips = 0;
  private closed = false;
  private evictionChecked = false;
  /** Whether a sync has completed since the process started. */
  private synced = false;
  /** What Redis answered when it refused a command to the URL's ACL user (NOPERM); said once per process. */
  private refusedPermission: string | undefined;
  /** The refusal of the change channel (the subscriber's): it stays until a subscribe goes through. */
  private refusedChannel: string | undefined;
  /** The first refusal of the team's keys or commands: what the advice quotes once the channel is granted. */
  private refusedWrite: string | undefined;
  /** A subscribe tried again (retrySubscribe) and not answered yet. */
  private resubscribing = false;
  /** What Redis refused the URL's ACL user so far: the advice grants these only (see permissionProblem). */
  private refusedGrants = new Set<"keys" | "commands" | "channel">();
  /** How many of them the last advice named. */
  private advisedGrants = 0;
  /** When Redis last refused a write for want of memory (maxmemory reached under noeviction); said once per process. */
  private refusedForMemoryAt: number | undefined;
  /** Why this Redis cannot serve as the team store (a database it does not have): set once, never reconnected. */
  private misconfigured: string | undefined;
  /** Counts the connections made ("ready"); `abandoned`: the one a timed-out command already disconnected. */
  private generation = 0;
  private abandoned = -1;
  /** Runs from each TCP connect until Redis answered the handshake (see awaitHandshake). */
  private handshakeTimer: NodeJS.Timeout | undefined;
  /** From an unanswered handshake's end to the next connect attempt. */
  private handshakeAbandoned = false;
  private rollbackSaid = false;
  /** Stops the notice that Redis asks for no password although the URL gives one (said once per process). */
  private stopPasswordNotice: (() => void) | undefined;
  /**
   * What the last "down" warning said the team store does, so a later refusal of another kind is warned about once (a
   * proxy whose Redis is gone resets some reconnects and breaks the pipe of others: one kind, said once).
   */
  private warnedHow: string | undefined;

  /**
   * `views`: where the epoch the machine's views were last synced with is kept, so a process that starts after Redis
   * lost its data (or while it is down) writes its views back instead of taking the empty store for a new team.
   */
  constructor(
    readonly settings: RedisSettings,
    private readonly warn: (text: string) => void,
    private readonly views?: StateStore<UnwrittenState>,
  ) {
    this.knownEpoch = views ? rememberedEpoch(views, this.team) : undefined;
    this.firstSync = new Promise((resolve) => (this.resolveFirstSync = resolve));
    // A machine that cannot reach Redis at start routes on its local view; the first sync does not wait longer. A
    // handshake still unanswered then counts as down now, so the status the start ends with says why.
    setTimeout(() => {
      if (this.client?.status === "connect") this.giveUpHandshake(this.client);
      this.resolveFirstSync();
    }, CONNECT_TIMEOUT_MS).unref();
    void this.connect().catch((error: unknown) =>
      this.onDown(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** ioredis is loaded only in team mode, so the file store's start-up does not pay for it. */
  private async connect(): Promise<void> {
    // ioredis is CommonJS; from the bundles it arrives as its own chunk, whose named exports an ES module import
    // cannot see, so the class is also looked for on the default export.
    const loaded = (await import("ioredis")) as unknown as {
      Redis?: typeof Redis;
      default?: { Redis?: typeof Redis } & typeof Redis;
    };
    const RedisClient = (loaded.Redis ?? loaded.default?.Redis ?? loaded.default) as typeof Redis;
    if (this.closed) return;
    const options: RedisOptions = {
      // While down, commands fail at once instead of waiting in a queue: the stores keep their own ordered queue.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // A socket given up on (a hung server, a closing process) is destroyed at once after our end of it, not up to
      // 2 s later when the server has not closed its side: that wait would hold an exiting process.
      disconnectTimeout: 0,
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), MAX_RECONNECT_DELAY_MS),
    };
    let passwordNoticed = false;
    this.stopPasswordNotice = onPasswordNotAsked(() => {
      if (passwordNoticed || this.closed) return;
      passwordNoticed = true;
      this.warn(
        `auto-router: team store ${this.settings.displayUrl} asks for no password, but ${REDIS_URL_SOURCE} gives one: connected without it (anyone who reaches this Redis can read and change the team's state); set requirepass or an ACL user on the server, or take the password out of the URL`,
      );
    });
    const client = new RedisClient(this.settings.url, options) as Redis & TeamCommands;
    client.defineCommand("parCompareAndSet", { numberOfKeys: 2, lua: COMPARE_AND_SET_LUA });
    client.defineCommand("parClaim", { numberOfKeys: 1, lua: CLAIM_LUA });
    client.defineCommand("parRecordUsage", { lua: RECORD_USAGE_LUA });
    client.defineCommand("parReserve", { numberOfKeys: 3, lua: RESERVE_LUA });
    client.defineCommand("parRenew", { numberOfKeys: 1, lua: RENEW_LUA });
    client.defineCommand("parSeedUsage", { lua: SEED_USAGE_LUA });
    client.defineCommand("parMergeUsage", { lua: MERGE_USAGE_LUA });
    client.defineCommand("parPushUsage", { lua: PUSH_USAGE_LUA });
    client.defineCommand("parForgetPeriods", { lua: FORGET_PERIODS_LUA });
    client.defineCommand("parKeepWrongTypeAside", { numberOfKeys: 2, lua: KEEP_WRONG_TYPE_ASIDE_LUA });
    client.on("connect", () => this.awaitHandshake(client));
    client.on("ready", () => {
      clearTimeout(this.handshakeTimer);
      this.generation++;
      this.onReady();
    });
    client.on("connecting", () => (this.handshakeAbandoned = false));
    // A handshake given up on fails once more as its socket closes (its ready check errs): the silence stays the
    // reason shown, and is not warned about twice.
    client.on("error", (error: Error) => this.handshakeAbandoned || this.onDown(error, client.status === "connect"));
    client.on("close", () => this.onDown(undefined));
    const subscriber = openChangeSubscriber(
      RedisClient,
      this.settings.url,
      options,
      this.channel,
      (message) => this.onMessage(message),
      (error) => this.onPermissionRefused(error.message),
      () => this.noteSubscribed(),
    );
    this.client = client;
    this.subscriber = subscriber;
  }

  /**
   * A server that accepts the connection but never answers (a stopped or hung redis-server, a proxy whose backend is
   * gone) leaves ioredis waiting for the handshake's reply for ever, with no error: after the command bound it counts
   * as down, like a command without an answer, and the connection is made anew (the reconnect finds it answering).
   */
  private awaitHandshake(client: Redis): void {
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = setTimeout(() => this.giveUpHandshake(client), COMMAND_TIMEOUT_MS);
    this.handshakeTimer.unref();
  }

  private giveUpHandshake(client: Redis): void {
    if (client !== this.client || this.closed || client.status !== "connect") return;
    clearTimeout(this.handshakeTimer);
    const { host, port } = client.options;
    this.onDown(new SilentServerError(`${host}:${port}`));
    this.handshakeAbandoned = true;
    client.disconnect(true);
    // The subscriber waits on the same server: it is made anew too, or its notices would not come back with it.
    if (this.subscriber?.status === "connect") this.subscriber.disconnect(true);
  }

  /** True while commands can be sent. */
  get writable(): boolean {
    return this.client?.status === "ready" && this.misconfigured === undefined;
  }

  /**
   * Redis answers, but not as the team store state.url names can: the connection is closed for good (nothing is
   * written anywhere else), the machine routes on its local view, and the warning and status say what to fix.
   */
  private refuse(reason: string): void {
    if (this.misconfigured !== undefined || this.closed) return;
    this.misconfigured = reason;
    this.lastError = reason;
    this.state = "down";
    this.resolveFirstSync();
    this.subscriber?.disconnect();
    this.client?.disconnect();
    this.warn(
      `auto-router: team store ${this.settings.displayUrl} cannot be used: ${reason}; routing continues on the local view (restart after fixing it)`,
    );
  }

  /** The database the URL names (ioredis selects it on connect; a failed SELECT would leave the connection on 0). */
  private get database(): number {
    try {
      return Number(new URL(this.settings.url).pathname.slice(1) || "0");
    } catch {
      return 0;
    }
  }

  /** The team version store `name`'s view was based on when the machine's last process ended (this team, epoch). */
  rememberedViewVersion(name: string): number | undefined {
    return rememberedViewVersion(this.views, this.team, name);
  }

  rememberViewVersion(name: string, version: number): void {
    rememberViewVersion(this.views, this.team, name, version);
  }

  /**
   * A store found the team's state older than the version this machine's view was based on, within the same epoch:
   * Redis was restored from an older snapshot (RDB) or lost that key. Said once per process.
   */
  noteRolledBack(name: string, found: number, seen: number): void {
    if (this.rollbackSaid) return;
    this.rollbackSaid = true;
    this.warn(
      `auto-router: team store ${this.settings.displayUrl} holds older state than this machine last saw (${name} at version ${found}, this machine had ${seen}): Redis was restored from an older snapshot or lost keys. This machine's views are written back; spend recorded since that snapshot is missing from the team's ledger. Run Redis with AOF (--appendonly yes) or without persistence`,
    );
  }

  /** Which team store this is, for the remembered epoch: its URL without the password, and its key prefix. */
  private get team(): string {
    return `${this.settings.displayUrl} ${this.settings.keyPrefix}`;
  }

  get epochKey(): string {
    return this.key("epoch");
  }

  /** The epoch this process's views are synced with; "" before the first sync (the scripts then do not check it). */
  get epoch(): string {
    return this.knownEpoch ?? "";
  }

  /**
   * `value`: the epoch key as a read found it (read after the data, in the same round trip), or null for a script
   * that refused to write because it did not match. Throws EpochLostError, and syncs again (re-seeding the team store
   * from the views), when the team store lost its data since the last sync: a view must not adopt the emptied state.
   */
  assertEpoch(value: string | null): void {
    if (this.knownEpoch === undefined || value === this.knownEpoch) return;
    if (!this.closed && this.writable) this.onReady();
    throw new EpochLostError();
  }

  get channel(): string {
    return `${this.settings.keyPrefix}changed`;
  }

  key(...parts: string[]): string {
    return `${this.settings.keyPrefix}${parts.join(":")}`;
  }

  join(member: TeamMember): void {
    this.members.set(member.name, member);
    if (this.state === "connected") void member.sync(false);
  }

  leave(name: string): void {
    this.members.delete(name);
  }

  /** Resolves once the first sync after start finished, or at once when Redis was unreachable at start. */
  ready(): Promise<void> {
    return this.firstSync;
  }

  /** At start, waits (bounded) until the connection is up or known to be down; at once afterwards. */
  async settled(): Promise<void> {
    if (this.state === "connecting") await this.firstSync;
  }

  /** Counts one round trip; every Redis call of the team code goes through here. */
  async call<T>(run: (client: Redis & TeamCommands) => Promise<T>): Promise<T> {
    const client = this.client;
    if (!client) throw new Error("not connected yet");
    this.roundTrips++;
    const generation = this.generation;
    // Our own timer, not ioredis' commandTimeout: its error is told apart only by its message.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`no answer within ${COMMAND_TIMEOUT_MS} ms (command timed out)`);
        if (client === this.client && !this.closed) {
          this.onDown(error);
          // Once per connection, not per timed-out command: each disconnect of a hung socket adds a close listener.
          if (this.abandoned !== generation) {
            this.abandoned = generation;
            client.disconnect(true); // reconnects with backoff; the sync after it finds out what was written
          }
        }
        reject(error);
      }, COMMAND_TIMEOUT_MS);
    });
    try {
      return await Promise.race([run(client), timedOut]);
    } catch (error) {
      if (error instanceof Error && OUT_OF_MEMORY.test(error.message)) this.onOutOfMemory();
      if (error instanceof Error && NO_PERMISSION.test(error.message)) this.onPermissionRefused(error.message);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  status(now: number): BackendStatus {
    let oldest: number | undefined;
    let pendingWrites = 0;
    let batchedWrites = 0;
    let batchDueAt: number | undefined;
    for (const member of this.members.values()) {
      const since = member.pendingSince();
      const count = member.pendingCount();
      pendingWrites += count;
      if (since === undefined) continue;
      // A store's writes go out together once its oldest is due: until then (and while that send awaits its answer)
      // they are batched, not late.
      const dueAt = since + (member.batchDelayMs ?? 0);
      if (this.state === "connected" && now <= dueAt + COMMAND_TIMEOUT_MS) {
        batchedWrites += count;
        batchDueAt = Math.max(batchDueAt ?? dueAt, dueAt);
      } else if (oldest === undefined || since < oldest) oldest = since;
    }
    return {
      backend: "redis",
      url: this.settings.displayUrl,
      keyPrefix: this.settings.keyPrefix,
      machine: this.settings.machine,
      connection: this.state,
      lagMs: oldest === undefined ? 0 : Math.max(0, now - oldest),
      pendingWrites,
      batchedWrites,
      ...(batchDueAt !== undefined ? { batchDueMs: Math.max(0, batchDueAt - now) } : {}),
      roundTrips: this.roundTrips,
      // Connected, but the writes wait because Redis is full: the status says why they wait.
      lastError:
        this.lastError ??
        (pendingWrites > 0 && this.refusedForMemoryAt !== undefined ? OUT_OF_MEMORY_TEXT : undefined) ??
        (this.refusedPermission !== undefined ? this.permissionProblem(this.refusedPermission) : undefined),
    };
  }

  /**
   * Ends both connections. A Redis that hangs (or is down) is not waited for longer than one command's timeout: the
   * process exits, and what it did not write stays in its view and pending files for its next start.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.stopPasswordNotice?.();
    clearTimeout(this.handshakeTimer);
    this.subscriber?.disconnect();
    const client = this.client;
    if (!client) return;
    if (client.status === "ready") {
      let timer: NodeJS.Timeout | undefined;
      const bounded = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, COMMAND_TIMEOUT_MS);
      });
      await Promise.race([client.quit().catch(() => undefined), bounded]);
      clearTimeout(timer);
    }
    client.disconnect();
  }

  private onDown(error: Error | undefined, handshaking = false): void {
    if (this.closed || this.misconfigured !== undefined) return;
    if (error && DB_OUT_OF_RANGE.test(error.message)) return this.refuse(this.databaseProblem(error.message));
    const notRedis = error && NOT_REDIS.exec(error.message);
    if (notRedis)
      return this.refuse(
        `the server at ${this.settings.displayUrl} is not a Redis server (it answered with ${JSON.stringify(notRedis[1])}, not the Redis protocol): check the host and port in ${REDIS_URL_SOURCE}`,
      );
    let problem: ConnectionProblem | undefined;
    // ioredis' words for what the close it follows explained already (its reason stays).
    const dropped = error && (UNWRITABLE.test(error.message) || DROPPED_COMMAND.test(error.message));
    if (dropped && this.lastError !== undefined) error = undefined;
    if (error) {
      problem = explainConnectionError(error, {
        tls: /^rediss:/i.test(this.settings.url),
        handshaking,
        answeredBefore: this.generation > 0,
      });
      this.lastError = problem.reason;
    }
    if (this.state === "down") {
      // A reconnect that Redis refuses for a reason of its own (a password changed on the server, then the
      // connection dropped): the warning given when it was lost said only that; this one says what to fix, once.
      if (problem?.how && problem.how !== this.warnedHow) this.warnDown(problem.how);
      return;
    }
    // A connection that answered (it got as far as the sync) was lost, not unreachable.
    const wasConnected = this.state === "connected" || this.generation > 0;
    this.state = "down";
    this.resolveFirstSync();
    this.warnDown(
      problem?.how ?? (error instanceof SilentServerError ? "does not answer" : wasConnected ? "lost" : "unreachable"),
    );
  }

  private warnDown(how: string): void {
    this.warnedHow = how;
    this.warn(
      `auto-router: team store ${this.settings.displayUrl} ${how}${this.lastError ? ` (${this.lastError})` : ""}; ` +
        "routing continues on the local view, writes are kept and replayed on reconnect",
    );
  }

  private onReady(): void {
    if (this.syncing) {
      this.resyncPending = true;
      return;
    }
    this.syncing = this.syncAll().finally(() => {
      this.syncing = undefined;
      if (this.resyncPending && this.writable) {
        this.resyncPending = false;
        this.onReady();
      }
    });
  }

  private databaseProblem(message: string): string {
    return `${REDIS_URL_SOURCE} names database ${this.database}, which this Redis does not have (${message.replace(/\.$/, "")}); no team state was written`;
  }

  private async syncAll(): Promise<void> {
    // Before anything is read or written: ioredis reports a failed SELECT as an error and goes on, on database 0.
    if (this.database !== 0) {
      try {
        await this.call((client) => client.select(this.database));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (DB_OUT_OF_RANGE.test(message)) return this.refuse(this.databaseProblem(message));
      }
    }
    if (this.misconfigured !== undefined) return;
    await this.checkEvictionPolicy();
    // A sync retried after a failed one keeps "connecting": whether this process had synced tells a loss seen while
    // connected from one that happened before it started.
    const cause: SyncCause = this.state === "down" ? "reconnect" : this.synced ? "connected" : "start";
    // A sync while connected (the team store lost its data): writes wait until the views are synced (re-seeded).
    if (this.state === "connected") this.state = "connecting";
    try {
      // A loss found by a sync that then failed is still to be re-seeded: the next check finds the new epoch known.
      const reseed = (await this.checkEpoch()) || this.reseedOwed;
      this.reseedOwed = reseed;
      await Promise.all([...this.members.values()].map((member) => member.sync(reseed)));
      this.reseedOwed = false;
      // Only once the views are synced (re-seeded) with this epoch: a process that dies mid-way re-seeds next time.
      if (this.views && this.knownEpoch) rememberEpoch(this.views, this.team, this.knownEpoch);
      this.state = "connected";
      this.lastError = undefined;
      this.noteWritten();
      // Writes queued while the members synced were held back (see the ledger's flush): send them now.
      for (const member of this.members.values()) void member.flush?.();
      const warning = syncWarning(this.settings.displayUrl, cause, reseed);
      this.synced = true;
      if (warning) this.warn(warning);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // The connection dropped under the sync: ioredis' words for the commands it gave up on say less than the reason
      // the connection gave (kept), and are not the user's terms.
      if (DROPPED_COMMAND.test(message) || UNWRITABLE.test(message)) this.lastError ??= DROPPED_COMMAND_TEXT;
      else if (NO_PERMISSION.test(message) && this.writable) {
        // Redis answered and refused the rights: said as such, with the grant, not as a connection still being made.
        this.state = "refused";
        this.lastError = `Redis answers, but ${this.describeRefusal(message)}; the sync is tried again every ${SYNC_RETRY_MS / 1000} s, so the grant needs no restart`;
      } else this.lastError = OUT_OF_MEMORY.test(message) ? OUT_OF_MEMORY_TEXT : message;
      // A sync that failed while the connection stays up (the team store lost its data again mid-way, a refused
      // right, say) is tried again; a lost connection syncs on its reconnect.
      if ((this.state === "connecting" || this.state === "refused") && this.writable && !this.closed)
        setTimeout(() => this.writable && !this.closed && this.onReady(), SYNC_RETRY_MS).unref();
    } finally {
      this.resolveFirstSync();
    }
  }

  /**
   * Redis refused a command to the URL's ACL user. Mostly the change notices: a user made on Redis 7 gets no pub/sub
   * channel unless it is granted, so its writes land but the other machines hear of them only at their re-check, and
   * it hears of theirs only at its own. Said once per process (again if another grant is refused later), with the grant
   * that fixes it; the status keeps it.
   */
  private onPermissionRefused(message: string): void {
    // INFO is only read for the eviction check, which a user without it (`-@dangerous`) skips: nothing to fix.
    if (this.closed || /'info' command/i.test(message)) return;
    const grant = refusedGrant(message);
    this.refusedGrants.add(grant);
    this.refusedPermission ??= refusalText(message);
    if (grant === "channel") this.refusedChannel ??= refusalText(message);
    else this.refusedWrite ??= refusalText(message);
    // Said after the first sync (the subscriber is refused its channel at connect, the sync its keys if they are
    // refused too: one advice names both as a rule), and again only when Redis refuses another kind of grant later.
    void this.firstSync.then(() => {
      if (this.closed || this.refusedGrants.size <= this.advisedGrants) return;
      this.advisedGrants = this.refusedGrants.size;
      this.warn(
        `auto-router: team store ${this.settings.displayUrl} ${this.permissionProblem(this.refusedPermission!)}`,
      );
    });
  }

  /**
   * A store wrote to the team store: once nothing waits any more (a write Redis refused is retried until it goes
   * through), a refusal of commands or keys is over, granted since, and the status stops advising the grant. Redis
   * refusing it again names it again.
   */
  noteWritten(): void {
    if (!this.refusedGrants.has("commands") && !this.refusedGrants.has("keys")) return;
    for (const member of this.members.values()) if (member.pendingCount() > 0) return;
    this.refusedGrants.delete("commands");
    this.refusedGrants.delete("keys");
    this.refusedWrite = undefined;
    this.refusedPermission = this.refusedChannel;
    this.advisedGrants = Math.min(this.advisedGrants, this.refusedGrants.size);
  }

  /**
   * The subscriber subscribed to the change channel: a refusal of it is over, granted since, and the status stops
   * advising the grant (a refusal of keys or commands still waiting is still advised). Redis refusing it again names it
   * again.
   */
  private noteSubscribed(): void {
    if (!this.refusedGrants.has("channel")) return;
    this.refusedGrants.delete("channel");
    this.refusedChannel = undefined;
    const writesRefused = this.refusedGrants.has("commands") || this.refusedGrants.has("keys");
    this.refusedPermission = writesRefused ? (this.refusedWrite ?? this.refusedPermission) : undefined;
    this.advisedGrants = Math.min(this.advisedGrants, this.refusedGrants.size);
  }

  /**
   * The re-check (every 5 s, the ledger's) while the change channel is refused and the sync went through: the
   * subscriber asks for the channel again, so a grant takes effect at once, not at the subscriber's next reconnect (until
   * then the machine hears of the team's changes only at its re-check).
   */
  retrySubscribe(): void {
    const subscriber = this.subscriber;
    if (this.refusedChannel === undefined || this.state !== "connected" || this.resubscribing || this.closed) return;
    if (subscriber?.status !== "ready") return;
    this.resubscribing = true;
    subscriber
      .subscribe(this.channel)
      .then(
        () => this.noteSubscribed(),
        () => undefined, // still refused (advised already), or the connection went: its reconnect subscribes
      )
      .finally(() => (this.resubscribing = false));
  }

  /** A refusal (NOPERM, or a script's in Redis 7.0's words) as the warning says it, with the grant that fixes it. */
  describeRefusal(message: string): string {
    this.refusedGrants.add(refusedGrant(message));
    return this.permissionProblem(refusalText(message));
  }

  private permissionProblem(message: string): string {
    let user = "default";
    try {
      user = decodeURIComponent(new URL(this.settings.url).username) || "default";
    } catch {}
    // ACL key and channel patterns are globs: `team[1]:*` would grant `team1:...`, not the team's keys.
    const prefix = this.settings.keyPrefix.replace(/[*?[\]\\]/g, "\\$&");
    // Only what Redis refused: it refuses the whole ACL SETUSER that adds a key pattern to a user with every key (`~*`)
    // or a channel to a user with every channel (`&*`), and such a user is never refused them.
    const keys = this.refusedGrants.has("keys");
    const channel = this.refusedGrants.has("channel");
    const commands = keys || this.refusedGrants.has("commands");
    // The stores' and the ledger's re-check (redis-store.ts, redis-ledger.ts): every 5 s.
    const late = channel ? ": the team's changes reach the machines only at their re-check every 5 s, not at once" : "";
    const names = [keys && "the team's keys", channel && "the team's channel", commands && "the commands"].filter(
      (name) => name !== false,
    );
    const what = names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names[0];
    const grants = [keys && argument(`~${prefix}*`), channel && argument(`&${prefix}changed`), commands && "+@all"];
    const command = `ACL SETUSER ${argument(user)} ${grants.filter((grant) => grant !== false).join(" ")}`;
    return `refused a command to this machine's Redis user (${message})${late}; grant the user ${what}, e.g. ${command}`;
  }

  /**
   * Redis is full (maxmemory under noeviction, the setting the README asks for) and refuses writes; reads still work.
   * Nothing is lost: the stores and the ledger keep what they could not write and retry. Said once per process; the
   * status names it while writes wait.
   */
  private onOutOfMemory(): void {
    const first = this.refusedForMemoryAt === undefined;
    this.refusedForMemoryAt = Date.now();
    if (first)
      this.warn(
        `auto-router: team store ${this.settings.displayUrl}: ${OUT_OF_MEMORY_TEXT}; this machine keeps its spend and state changes and writes them once Redis has room`,
      );
  }

  /**
   * Once per process: a Redis with maxmemory and an eviction policy drops keys when full, the team's spend among them,
   * without an error. INFO (not CONFIG, which managed Redis often disables) tells. The epoch check re-seeds when the
   * epoch key is evicted; hashes evicted beside a kept epoch key cannot be told from a smaller spend.
   */
  private async checkEvictionPolicy(): Promise<void> {
    if (this.evictionChecked) return;
    let info: string;
    try {
      info = await this.call((client) => client.info("memory"));
    } catch {
      return; // asked again at the next connect
    }
    this.evictionChecked = true;
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
    const policy = field("maxmemory_policy");
    const maxmemory = Number(field("maxmemory") ?? "0");
    if (!policy || policy === "noeviction" || !(maxmemory > 0)) return;
    this.warn(
      `auto-router: team store ${this.settings.displayUrl} runs with maxmemory-policy ${policy} (maxmemory ${maxmemory} bytes): Redis may evict the team state (the spend ledger, cooldowns) when it is full, and lost spend cannot always be noticed; run it with maxmemory-policy noeviction (or without maxmemory)`,
    );
  }

  /**
   * Every team store carries an epoch key written once. If it is gone or another one although this process saw one,
   * Redis lost its data (restarted without persistence, flushed): the stores then write their local view back. Every
   * process that saw the old epoch tries (the stores' seeds are atomic, the first wins), not only the one that wrote
   * the new epoch: one that only sent its queue could get there before that seed and have it refused.
   */
  private async checkEpoch(): Promise<boolean> {
    const epochKey = this.key("epoch");
    const fresh = randomUUID();
    const created = await this.call((client) => client.set(epochKey, fresh, "NX"));
    const current = created === "OK" ? fresh : ((await this.call((client) => client.get(epochKey))) ?? fresh);
    const lost = this.knownEpoch !== undefined && current !== this.knownEpoch;
    this.knownEpoch = current;
    return lost;
  }

  private onMessage(message: string): void {
    // "<store>:<writer>:<version>"; a store name has no colon, the writer id is a UUID.
    const first = message.indexOf(":");
    const last = message.lastIndexOf(":");
    if (first < 0 || last <= first) return;
    const writer = message.slice(first + 1, last);
    if (writer === this.writerId) return;
    const version = Number(message.slice(last + 1));
    this.members.get(message.slice(0, first))?.onRemoteChange(version);
  }
}

/**
 * One argument of the command to paste into redis-cli (or after `redis-cli` in a shell): single-quoted when it holds a
 * backslash (an escaped glob character, which a shell would take away), a space or a quote.
 */
function argument(text: string): string {
  return /[\\\s'"]/.test(text) ? `'${text.replaceAll("'", "\\'")}'` : text;
}
