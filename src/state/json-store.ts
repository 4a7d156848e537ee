// The one persistence mechanism for JSON state shared by several pi processes (DESIGN.md rule 7).
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
// read() and update() never touch the disk: flushes are debounced on an unref()'d timer and a background refresh
// picks up other processes' writes. Disk problems become warnings (once per distinct problem) and the store keeps
// working in memory; a corrupt file is moved aside as <name>.corrupt-<timestamp>, never silently dropped.
// flushSync() exists for the process 'exit' hook; called while this process's own async flush holds the lock it
// only schedules another flush (blocking here would stall the flush it waits for).
// The lock (file-lock.ts) and the exit hook (exit-flush.ts) are shared with the event log.
import { chmodSync, mkdirSync, renameSync, statSync } from "node:fs";
import { chmod, mkdir, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { exitRegistry, registerExitFlush } from "./exit-flush.ts";
import { acquireLock, acquireLockSync, describeError, errorCode } from "./file-lock.ts";
import { contentProblem, corruptName, identityOf, isMissing, readContent, readContentSync, sameIdentity, type FileContent, type FileIdentity } from "./state-file.ts";
import writeFileAtomic from "write-file-atomic";

export type StoreWarning = { file: string; message: string };
export type StoreOperation<T> = (state: T) => T;

export interface StateStore<T> {
  readonly file: string | undefined;
  read(): T;
  update(operation: StoreOperation<T>): void;
  flush(): Promise<void>;
  flushSync(): void;
  refresh(): Promise<void>;
  close(): Promise<void>;
}

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

const DEFAULT_FLUSH_DELAY_MS = 250;
const DEFAULT_REFRESH_INTERVAL_MS = 2000;
const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;
/** Beyond this many unwritten operations (disk broken for a long time) the oldest are no longer kept for writing. */
const MAX_QUEUED_OPERATIONS = 10_000;
/** pi loads *.ts/*.js files in its extensions folder as extensions; a store must never create one. */
const LOADABLE_FILE_PATTERN = /\.[cm]?[jt]s$/i;

/** Compact: state files are rewritten on every change, and indentation would double what each rewrite costs. */
const serializeState = (state: unknown): string => `${JSON.stringify(state)}\n`;

// ---- the store -----------------------------------------------------------------------------------------------

/** `text` is what the file held, so a write that would not change it is skipped. */
type DiskState<T> = { state: T; identity: FileIdentity | undefined; text?: string };
type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string; salvaged?: T };


class JsonFileStore<T> implements StateStore<T> {
  readonly file: string;
  private readonly options: JsonStoreOptions<T>;
  private memory: T;
  private queue: StoreOperation<T>[] = [];
  private identity: FileIdentity | undefined;
  private readonly warned = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Set while an async flush holds the lock: how many queued operations it is writing, and the file it read. */
  private inFlight: { count: number; observed: FileIdentity | undefined | "not-read" } | undefined;
  private readonly memoryOnly: boolean;
  private closed = false;
  private readonly unregister: () => void;

  constructor(options: JsonStoreOptions<T>) {
    this.options = options;
    this.file = options.file;
    this.memory = options.defaults();
    this.memoryOnly = LOADABLE_FILE_PATTERN.test(options.file);
    if (this.memoryOnly) this.warn("loadable-name", "refusing to write a .ts/.js file (pi would load it as an extension); state is kept in memory only");
    else this.loadSync();
    this.unregister = registerExitFlush({
      hasPendingWork: () => this.queue.length > 0,
      holdsLock: () => exitRegistry().heldLocks.get(this.file) === this,
      flushSync: () => this.flushSync(),
    });
    const interval = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    if (interval > 0 && !this.memoryOnly) {
      this.refreshTimer = setInterval(() => void this.refresh(), interval);
      this.refreshTimer.unref();
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
      this.warn(`operation:${describeError(error)}`, `an update operation threw and was dropped: ${describeError(error)}`);
      return;
    }
    // An operation that returns the state it was given changed nothing: nothing to write.
    if (next === this.memory) return;
    this.memory = next;
    if (this.closed || this.memoryOnly) {
      if (this.closed) this.warn("closed", "update after close() is kept in memory only");
      return;
    }
    this.queue.push(operation);
    if (this.queue.length > MAX_QUEUED_OPERATIONS && !this.inFlight) {
      this.queue.splice(0, this.queue.length - MAX_QUEUED_OPERATIONS / 2);
      this.warn("queue-overflow", `state could not be written for ${MAX_QUEUED_OPERATIONS} updates; the oldest will not be persisted`);
    }
    this.scheduleFlush(this.options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS);
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
    this.clearTimers();
    await this.serialize(() => this.flushNow(false));
    // Operations that could not be written stay registered so the exit hook makes a last attempt.
    if (this.queue.length === 0) this.unregister();
  }

  flushSync(): void {
    if (this.memoryOnly || this.queue.length === 0) return;
    const registry = exitRegistry();
    const owner = registry.heldLocks.get(this.file);
    // Outside process exit an in-process async flush will still finish; spinning here would only block it.
    if (owner !== undefined && !registry.exiting) return this.scheduleFlush(0);
    let release: () => void;
    try {
      this.ensureDirectorySync();
      release = acquireLockSync(this.file, (error) => this.warnLockCompromised(error), owner === this);
    } catch (error) {
      this.warn(`disk:${errorCode(error)}`, `could not lock the state file: ${describeError(error)}; changes are kept in memory`);
      return;
    }
    try {
      const disk = this.readDiskSync();
      if (this.inFlight && this.inFlight.observed !== "not-read" && !sameIdentity(disk.identity, this.inFlight.observed)) {
        this.queue.splice(0, this.inFlight.count); // the interrupted async write landed before exit
      }
      const count = this.queue.length;
      const next = this.replay(disk.state, this.queue.slice(0, count));
      const text = serializeState(next);
      if (text === disk.text) return this.commit(next, count, disk.identity!);
      writeFileAtomic.sync(this.file, text, { mode: FILE_MODE });
      this.commit(next, count, identityOf(statSync(this.file)));
    } catch (error) {
      this.warn(`disk:${errorCode(error)}`, `could not write the state file: ${describeError(error)}; changes are kept in memory`);
    } finally {
      this.inFlight = undefined;
      if (registry.heldLocks.get(this.file) === this) registry.heldLocks.delete(this.file);
      release();
    }
  }

  private async flushNow(force: boolean): Promise<void> {
    if (this.memoryOnly || (this.queue.length === 0 && !force)) return;
    const count = this.queue.length;
    try {
      await this.ensureDirectory();
    } catch (error) {
      this.warn(`disk:${errorCode(error)}`, `cannot write to the state directory or file: ${describeError(error)}; changes are kept in memory`);
      return;
    }
    let release: () => Promise<void>;
    try {
      release = await acquireLock(this.file, (error) => this.warnLockCompromised(error));
    } catch (error) {
      this.warn(`disk:${errorCode(error)}`, `could not lock the state file: ${describeError(error)}; will retry`);
      this.scheduleFlush(this.options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS);
      return;
    }
    const registry = exitRegistry();
    registry.heldLocks.set(this.file, this);
    this.inFlight = { count, observed: "not-read" };
    try {
      const disk = await this.readDisk();
      this.inFlight.observed = disk.identity;
      const next = this.replay(disk.state, this.queue.slice(0, count));
      const text = serializeState(next);
      if (text === disk.text) return this.commit(next, count, disk.identity!);
      await writeFileAtomic(this.file, text, { mode: FILE_MODE });
      this.commit(next, count, identityOf(await stat(this.file)));
    } catch (error) {
      this.warn(`disk:${errorCode(error)}`, `could not write the state file: ${describeError(error)}; changes are kept in memory`);
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
      if (!isMissing(error)) this.warn(`disk:${errorCode(error)}`, `could not check the state file: ${describeError(error)}`);
      else if (this.identity) this.adopt(this.options.defaults(), undefined); // removed by another process
      return;
    }
    if (sameIdentity(current, this.identity)) return;
    try {
      const content = await readContent(this.file);
      if (!content) return this.adopt(this.options.defaults(), undefined);
      const decoded = this.decode(content.text);
      // A corrupt file is only moved aside under the lock, so the repair happens in a forced flush.
      if (!decoded.ok) return await this.flushNow(true);
      this.adopt(decoded.value, content.identity);
    } catch (error) {
      this.warn(`disk:${errorCode(error)}`, `could not read the state file: ${describeError(error)}`);
    }
  }

  private loadSync(): void {
    let content: FileContent | undefined;
    try {
      content = readContentSync(this.file);
    } catch (error) {
      this.warn(`disk:${errorCode(error)}`, `could not read the state file: ${describeError(error)}; using defaults in memory`);
      return;
    }
    if (!content) return;
    const decoded = this.decode(content.text);
    if (decoded.ok) return this.adopt(decoded.value, content.identity);
    let release: (() => void) | undefined;
    try {
      release = acquireLockSync(this.file, (error) => this.warnLockCompromised(error), false);
      const disk = this.readDiskSync(); // re-read under the lock: moves the corrupt file aside
      this.adopt(disk.state, disk.identity);
    } catch (error) {
      this.warn(`disk:${errorCode(error)}`, `the state file is invalid (${decoded.reason}) but could not be locked to move it aside: ${describeError(error)}`);
    } finally {
      release?.();
    }
  }

  private decode(text: string): Decoded<T> {
    // The store never creates an empty file (the lock does not need the file to exist), so an empty one was damaged.
    if (text.trim() === "") return { ok: false, reason: "empty file" };
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return { ok: false, reason: "invalid JSON" };
    }
    const migrated = this.options.migrate ? this.options.migrate(raw) : raw;
    try {
      return { ok: true, value: this.options.parse(migrated) };
    } catch (error) {
      const reason = `invalid content: ${contentProblem(error)}`;
      if (!this.options.salvage) return { ok: false, reason };
      try {
        return { ok: false, reason, salvaged: this.options.salvage(migrated) };
      } catch {
        return { ok: false, reason };
      }
    }
  }

  /** The state to continue from after moving a damaged file aside: what could be read, else the defaults. */
  private afterDamage(decoded: Extract<Decoded<T>, { ok: false }>, movedTo: string): T {
    this.warnCorrupt(decoded.reason, movedTo, decoded.salvaged !== undefined);
    return decoded.salvaged ?? this.options.defaults();
  }

  /** Call only under the lock: a corrupt file is moved aside, so no other process may be replacing it meanwhile. */
  private async readDisk(): Promise<DiskState<T>> {
    const content = await readContent(this.file);
    const decoded = content ? this.decode(content.text) : undefined;
    if (!content || !decoded) return { state: this.options.defaults(), identity: undefined };
    if (decoded.ok) return { state: decoded.value, identity: content.identity, text: content.text };
    const target = corruptName(this.file);
    await rename(this.file, target);
    return { state: this.afterDamage(decoded, target), identity: undefined };
  }

  private readDiskSync(): DiskState<T> {
    const content = readContentSync(this.file);
    const decoded = content ? this.decode(content.text) : undefined;
    if (!content || !decoded) return { state: this.options.defaults(), identity: undefined };
    if (decoded.ok) return { state: decoded.value, identity: content.identity, text: content.text };
    const target = corruptName(this.file);
    renameSync(this.file, target);
    const state = this.afterDamage(decoded, target);
    if (decoded.salvaged === undefined) return { state, identity: undefined };
    // What was salvaged goes back to disk at once (the caller holds the lock), so a restart does not lose it.
    writeFileAtomic.sync(this.file, `${JSON.stringify(state, null, 2)}\n`, { mode: FILE_MODE });
    return { state, identity: identityOf(statSync(this.file)) };
  }

  private async ensureDirectory(): Promise<void> {
    const directory = dirname(this.file);
    const created = await mkdir(directory, { recursive: true, mode: DIRECTORY_MODE });
    if (created !== undefined) await chmod(directory, DIRECTORY_MODE);
  }

  private ensureDirectorySync(): void {
    const directory = dirname(this.file);
    const created = mkdirSync(directory, { recursive: true, mode: DIRECTORY_MODE });
    if (created !== undefined) chmodSync(directory, DIRECTORY_MODE);
  }

  /** After a successful write: the first `count` queued operations are on disk; re-apply the rest on top. */
  private commit(next: T, count: number, identity: FileIdentity): void {
    this.queue.splice(0, count);
    this.adopt(next, identity);
  }

  private adopt(state: T, identity: FileIdentity | undefined): void {
    this.identity = identity;
    this.memory = this.replay(structuredClone(state), this.queue);
  }

  private replay(state: T, operations: StoreOperation<T>[]): T {
    let result = state;
    for (const operation of operations) {
      try {
        result = operation(result);
      } catch (error) {
        this.warn(`operation:${describeError(error)}`, `an update operation threw while replayed and was skipped: ${describeError(error)}`);
      }
    }
    return result;
  }

  private serialize(task: () => Promise<void>): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        await task();
      } catch (error) {
        this.warn(`unexpected:${describeError(error)}`, `unexpected state store error: ${describeError(error)}`);
      }
    };
    this.chain = this.chain.then(run);
    return this.chain;
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushTimer || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, delayMs);
    this.flushTimer.unref();
  }

  private clearTimers(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.flushTimer = undefined;
    this.refreshTimer = undefined;
  }

  private warnCorrupt(reason: string, movedTo: string, salvaged = false): void {
    const outcome = salvaged ? "kept every value that could be read" : "started from defaults";
    this.warn(`corrupt:${movedTo}`, `state file ${this.file} was ${salvaged ? "partly " : ""}unreadable (${reason}); moved aside to ${movedTo} and ${outcome}`);
  }

  private warnLockCompromised(error: Error): void {
    this.warn("lock-compromised", `the state file lock was lost: ${describeError(error)}`);
  }

  /** Disk problems are keyed by error code, so one EACCES seen by read, lock and write is reported once. */
  private warn(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    const warning = { file: this.file, message };
    try {
      if (this.options.onWarning) this.options.onWarning(warning);
      else console.warn(`[auto-router] ${warning.file}: ${warning.message}`);
    } catch {
      // A throwing warning sink must not break the store.
    }
  }
}

export function openJsonStore<T>(options: JsonStoreOptions<T>): StateStore<T> {
  return new JsonFileStore(options);
}
