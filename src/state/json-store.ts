// The one persistence mechanism for JSON state shared by several pi processes (DESIGN.md rule 7); its contract
// (operations, not snapshots) is in store-types.ts, reading and writing the file under the lock in state-disk.ts.
// read() and update() never touch the disk: flushes are debounced on an unref()'d timer and a background refresh
// picks up other processes' writes. Disk problems become warnings (once per distinct problem) and the store keeps
// working in memory; a corrupt file is moved aside as <name>.corrupt-<timestamp>, never silently dropped.
// flushSync() exists for the process 'exit' hook; called while this process's own async flush holds the lock it
// only schedules another flush (blocking here would stall the flush it waits for). transact() takes the lock like a
// flush, in the same queue as the flushes, and decides on what the disk holds then.
// The lock (file-lock.ts) and the exit hook (exit-flush.ts) are shared with the event log; the warnings and timers
// are in store-warnings.ts and store-timers.ts.
import { randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import { stat } from "node:fs/promises";
import { type ExitFlushParticipant, exitRegistry, registerExitFlush } from "./exit-flush.ts";
import { acquireLock, acquireLockSync } from "./file-lock.ts";
import {
  decodeState,
  identityOf,
  isMissing,
  readContent,
  readContentSync,
  sameIdentity,
  type FileContent,
  type FileIdentity,
  writtenIdentity,
} from "./state-file.ts";
import {
  type DamageOutcome,
  ensureDirectory,
  ensureDirectorySync,
  FILE_MODE,
  type OnDamage,
  readDisk,
  readDiskSync,
  serializeState,
} from "./state-disk.ts";
import { StoreTimers } from "./store-timers.ts";
import {
  type GrowingParse,
  replayOperations,
  type JsonStoreOptions,
  type StateStore,
  type StoreDecision,
  type StoreOperation,
} from "./store-types.ts";
import { StoreWarnings } from "./store-warnings.ts";
import writeFileAtomic from "write-file-atomic";

export type {
  JsonStoreOptions,
  OpenStore,
  StateStore,
  StoreDecision,
  StoreOperation,
  StoreWarning,
} from "./store-types.ts";

const DEFAULT_FLUSH_DELAY_MS = 250;
const DEFAULT_REFRESH_INTERVAL_MS = 2000;
/** Beyond this many unwritten operations (disk broken for a long time) the oldest are no longer kept for writing. */
const MAX_QUEUED_OPERATIONS = 10_000;
/**
 * Every this many unwritten operations a flush starts at once, whatever the flush delay: a store updated faster than
 * that delay (the usage ledger at thousands of requests a second) writes in bounded batches instead of reaching
 * MAX_QUEUED_OPERATIONS and dropping the oldest, and each flush replays a bounded number of operations.
 */
export const EARLY_FLUSH_OPERATIONS = 500;
/** pi loads *.ts/*.js files in its extensions folder as extensions; a store must never create one. */
const LOADABLE_FILE_PATTERN = /\.[cm]?[jt]s$/i;

class JsonFileStore<T> implements StateStore<T> {
  readonly file: string;
  private readonly options: JsonStoreOptions<T>;
  private memory: T;
  /**
   * The state this process last read from or wrote to the file (memory is this plus the queued operations); undefined
   * until it has read one. A damaged file is rewritten from it, so a truncation loses nothing this process knew.
   */
  private view: T | undefined;
  private queue: StoreOperation<T>[] = [];
  private identity: FileIdentity | undefined;
  private readonly warnings: StoreWarnings;
  private chain: Promise<void> = Promise.resolve();
  private readonly timers = new StoreTimers();
  /** Set while an async flush holds the lock: how many queued operations it is writing, and the file it read. */
  private inFlight: { count: number; observed: FileIdentity | undefined | "not-read" } | undefined;
  private readonly memoryOnly: boolean;
  private closed = false;
  private readonly exitFlush: ExitFlushParticipant;
  private unregister: (() => void) | undefined;

  constructor(options: JsonStoreOptions<T>) {
    this.options = options;
    this.file = options.file;
    this.warnings = new StoreWarnings(options.file, options);
    this.memory = options.defaults();
    this.memoryOnly = LOADABLE_FILE_PATTERN.test(options.file);
    if (this.memoryOnly)
      this.warnings.warn(
        "loadable-name",
        "refusing to write a .ts/.js file (pi would load it as an extension); state is kept in memory only",
      );
    else this.loadSync();
    this.exitFlush = {
      hasPendingWork: () => this.queue.length > 0,
      holdsLock: () => exitRegistry().heldLocks.get(this.file) === this,
      flushSync: () => this.flushSync(),
    };
    this.unregister = registerExitFlush(this.exitFlush);
    const interval = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    if (interval > 0 && !this.memoryOnly) {
      this.timers.refreshEvery(interval, () => void this.refresh());
    }
  }

  read(): T {
    return this.memory;
  }

  update(operation: StoreOperation<T>): void {
    let next: T;
    try {
      next = operation(this.memory);
    } catch (error) {
      this.warnings.operation(error, "and was dropped");
      return;
    }
    // An operation that returns the state it was given changed nothing: nothing to write.
    if (next === this.memory) return;
    this.memory = next;
    if (this.memoryOnly) return;
    this.queue.push(operation);
    if (this.closed) {
      // A request still in flight when the store closed (pi shuts down while its overflow compaction runs): its
      // update is written once, soon, or at the process's exit at the latest.
      this.unregister ??= registerExitFlush(this.exitFlush);
      return this.timers.flushIn(this.options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS, () => void this.flush());
    }
    if (this.queue.length > MAX_QUEUED_OPERATIONS && !this.inFlight) {
      this.queue.splice(0, this.queue.length - MAX_QUEUED_OPERATIONS / 2);
      this.warnings.warn(
        "queue-overflow",
        `state could not be written for ${MAX_QUEUED_OPERATIONS} updates; the oldest will not be persisted`,
      );
    }
    if (this.queue.length % EARLY_FLUSH_OPERATIONS === 0) void this.flush();
    else this.scheduleFlush(this.options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS);
  }

  transact<R>(decide: (state: T) => StoreDecision<T, R>): Promise<R> {
    // No file to share (a loadable name) or no more writes (closed): only this process decides, on its memory.
    if (this.memoryOnly || this.closed) {
      try {
        const decision = decide(this.memory);
        if (decision.operation) this.update(decision.operation);
        return Promise.resolve(decision.result);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const run = this.chain.then(() => this.writeUnderLock(decide) as Promise<R>);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  flush(): Promise<void> {
    return this.serialize(() => this.flushNow(false));
  }

  refresh(): Promise<void> {
    return this.serialize(() => this.refreshNow());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timers.clear();
    await this.serialize(() => this.flushNow(false));
    // Operations that could not be written stay registered so the exit hook makes a last attempt.
    if (this.queue.length === 0) {
      this.unregister?.();
      this.unregister = undefined;
    }
  }

  flushSync(): void {
    if (this.memoryOnly || this.queue.length === 0) return;
    const registry = exitRegistry();
    const owner = registry.heldLocks.get(this.file);
    // Outside process exit an in-process async flush will still finish; spinning here would only block it.
    if (owner !== undefined && !registry.exiting) return this.scheduleFlush(0);
    let release: () => void;
    try {
      ensureDirectorySync(this.file);
      release = acquireLockSync(this.file, this.warnings.lockCompromised, owner === this);
    } catch (error) {
      this.warnings.disk(error, "could not lock the state file", "; changes are kept in memory");
      return;
    }
    try {
      const repair = this.repairWatch();
      const disk = readDiskSync(this.file, this.options, repair.onDamage, this.view);
      if (
        this.inFlight &&
        this.inFlight.observed !== "not-read" &&
        !sameIdentity(disk.identity, this.inFlight.observed)
      ) {
        this.queue.splice(0, this.inFlight.count); // the interrupted async write landed before exit
      }
      const count = this.queue.length;
      const next = this.replay(this.fromDisk(disk.state, repair.found), this.queue.slice(0, count));
      const text = serializeState(next);
      if (text === disk.text) return this.commit(next, count, disk.identity!);
      writeFileAtomic.sync(this.file, text, { mode: FILE_MODE });
      this.commit(next, count, writtenIdentity(statSync(this.file), text));
    } catch (error) {
      this.warnings.disk(error, "could not write the state file", "; changes are kept in memory");
    } finally {
      this.inFlight = undefined;
      if (registry.heldLocks.get(this.file) === this) registry.heldLocks.delete(this.file);
      release();
    }
  }

  private async flushNow(force: boolean): Promise<void> {
    if (this.memoryOnly || (this.queue.length === 0 && !force)) return;
    await this.writeUnderLock<undefined>(undefined).catch(() => undefined); // warned; the operations stay queued
  }

  /**
   * Under the lock: re-reads the disk, replays the queued operations on it and, for a transaction, commits the
   * decision made on that state with them. Rejects (after the warning) when the file cannot be locked, read or
   * written, or the decision throws; the queued operations then stay queued and the decision is not applied.
   */
  private async writeUnderLock<R>(decide: ((state: T) => StoreDecision<T, R>) | undefined): Promise<R | undefined> {
    const count = this.queue.length;
    try {
      await ensureDirectory(this.file);
    } catch (error) {
      this.warnings.disk(error, "cannot write to the state directory or file", "; changes are kept in memory");
      throw error;
    }
    let release: () => Promise<void>;
    try {
      release = await acquireLock(this.file, this.warnings.lockCompromised);
    } catch (error) {
      this.warnings.disk(error, "could not lock the state file", "; will retry");
      this.scheduleFlush(this.options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS);
      throw error;
    }
    const registry = exitRegistry();
    registry.heldLocks.set(this.file, this);
    this.inFlight = { count, observed: "not-read" };
    let deciding = false;
    try {
      const repair = this.repairWatch();
      const disk = await readDisk(this.file, this.options, repair.onDamage, this.view);
      this.inFlight.observed = disk.identity;
      let next = this.replay(this.fromDisk(disk.state, repair.found), this.queue.slice(0, count));
      let result: R | undefined;
      if (decide) {
        deciding = true;
        const decision = decide(next);
        if (decision.operation) next = decision.operation(next);
        result = decision.result;
        deciding = false;
      }
      const text = serializeState(next);
      if (text === disk.text) this.commit(next, count, disk.identity!);
      else {
        await writeFileAtomic(this.file, text, { mode: FILE_MODE });
        this.commit(next, count, writtenIdentity(await stat(this.file), text));
      }
      return result;
    } catch (error) {
      if (deciding) this.warnings.operation(error, "in a transaction and was dropped");
      else this.warnings.disk(error, "could not write the state file", "; changes are kept in memory");
      throw error;
    } finally {
      this.inFlight = undefined;
      if (registry.heldLocks.get(this.file) === this) registry.heldLocks.delete(this.file);
      await release().catch(() => undefined);
    }
  }

  private async refreshNow(): Promise<void> {
    if (this.memoryOnly) return;
    let current: FileIdentity | undefined;
    try {
      current = identityOf(await stat(this.file));
    } catch (error) {
      if (!isMissing(error)) this.warnings.disk(error, "could not check the state file");
      else if (this.identity) this.adopt(this.options.defaults(), undefined); // removed by another process
      return;
    }
    if (sameIdentity(current, this.identity)) return;
    try {
      const content = await readContent(this.file);
      if (!content) return this.adopt(this.options.defaults(), undefined);
      const decoded = decodeState(content.text, this.options);
      // A corrupt file is only moved aside under the lock, so the repair happens in a forced flush; so does the
      // write-back of what another window's repair dropped of this one's view (GrowingParse).
      if (!decoded.ok || this.fromDisk(decoded.value, false) !== decoded.value) return await this.flushNow(true);
      this.adopt(decoded.value, content.identity);
    } catch (error) {
      this.warnings.disk(error, "could not read the state file");
    }
  }

  private loadSync(): void {
    let content: FileContent | undefined;
    try {
      content = readContentSync(this.file);
    } catch (error) {
      this.warnings.disk(error, "could not read the state file", "; using defaults in memory");
      return;
    }
    if (!content) return;
    const decoded = decodeState(content.text, this.options);
    if (decoded.ok) return this.adopt(decoded.value, content.identity);
    let release: (() => void) | undefined;
    try {
      release = acquireLockSync(this.file, this.warnings.lockCompromised, false);
      const disk = readDiskSync(this.file, this.options, this.warnings.damaged); // re-read under the lock: moves the corrupt file aside
      this.adopt(disk.state, disk.identity);
    } catch (error) {
      this.warnings.disk(
        error,
        `the state file is invalid (${decoded.reason}) but could not be locked to move it aside`,
      );
    } finally {
      release?.();
    }
  }

  /** After a successful write: the first `count` queued operations are on disk; re-apply the rest on top. */
  private commit(next: T, count: number, identity: FileIdentity): void {
    this.queue.splice(0, count);
    this.adopt(next, identity);
  }

  private adopt(state: T, identity: FileIdentity | undefined): void {
    this.identity = identity;
    // No file (removed, or nothing kept of a damaged one at start): nothing read, so no view to rewrite one from.
    // Memory gets its own copy below, and operations are pure: the view needs none.
    this.view = identity ? state : undefined;
    this.memory = this.replay(structuredClone(state), this.queue);
  }

  /** The damage callback for one read under the lock; `found` once it moved a damaged file aside. */
  private repairWatch(): { onDamage: OnDamage; found: boolean } {
    const watch = {
      found: false,
      onDamage: (reason: string, movedTo: string, outcome: DamageOutcome) => {
        watch.found = true;
        this.warnings.damaged(reason, movedTo, outcome);
      },
    };
    return watch;
  }

  /**
   * The state read under the lock, for a store whose state only grows (GrowingParse): what replaces a damaged file is
   * marked as a repair; a file another process repaired gets back what this process's view held beyond it.
   */
  private fromDisk(state: T, repaired: boolean): T {
    const growing = (this.options.parse as GrowingParse<T>).growing;
    if (!growing) return state;
    if (repaired) return growing.repaired(state, randomUUID());
    return this.view === undefined ? state : growing.keepView(state, this.view);
  }

  private replay(state: T, operations: StoreOperation<T>[]): T {
    return replayOperations(state, operations, (error) =>
      this.warnings.operation(error, "while replayed and was skipped"),
    );
  }

  private serialize(task: () => Promise<void>): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        await task();
      } catch (error) {
        this.warnings.unexpected(error);
      }
    };
    this.chain = this.chain.then(run);
    return this.chain;
  }

  private scheduleFlush(delayMs: number): void {
    if (this.closed) return;
    this.timers.flushIn(delayMs, () => void this.flush());
  }
}

export function openJsonStore<T>(options: JsonStoreOptions<T>): StateStore<T> {
  return new JsonFileStore(options);
}
