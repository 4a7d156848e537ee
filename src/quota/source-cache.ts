// Background fetching of quota sources (usage APIs): cached with a TTL, one fetch per source in flight at a time,
// never awaited on the request path, and a failure keeps the last windows, marked stale, with the error text.
// Readings can be shared (the quota store, which is the team store in team mode): a fresh-enough reading another
// process fetched is used instead of polling, and a claim per source and TTL lets only one process fetch it.
import type { QuotaWindow } from "../routing/uvi.ts";
import { ownEntry } from "../own-record.ts";

/** One source of quota windows for one provider (a usage API, a spend/budget figure...). */
export interface QuotaSource {
  /** Unique id, e.g. "anthropic-usage". */
  id: string;
  /** The provider (auth provider) whose windows these are. */
  provider: string;
  fetch(signal: AbortSignal): Promise<QuotaWindow[]>;
}

export interface SourceReading {
  windows: QuotaWindow[];
  fetchedAt?: number;
  latencyMs?: number;
  /** True when the last fetch failed and `windows` are from an earlier success (or empty). */
  stale: boolean;
  /** When this process's last fetch failed (a stale reading). */
  failedAt?: number;
  /** Fetched by another process sharing the state. */
  shared?: boolean;
  error?: string;
}

/** Successful readings as every process sharing the state sees them (no secrets: windows and their time only). */
export interface SharedReadings {
  read(id: string): { windows: QuotaWindow[]; fetchedAt: number } | undefined;
  write(id: string, reading: { windows: QuotaWindow[]; fetchedAt: number }): void;
  /** True for the one process that fetches this source in this TTL (see PluginContext.claim). */
  claim(id: string, ttlMs: number): Promise<boolean>;
}

export const DEFAULT_QUOTA_TTL_MS = 300_000;
/** A usage API slower than this is treated as failed; it must never hold anything up. */
export const QUOTA_FETCH_TIMEOUT_MS = 10_000;

export class SourceCache {
  private readonly readings = new Map<string, SourceReading>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private sources: QuotaSource[],
    private readonly now: () => number,
    private readonly ttlMs: () => number,
    private readonly shared?: SharedReadings,
  ) {}

  setSources(sources: QuotaSource[]): void {
    this.sources = sources;
  }

  list(): QuotaSource[] {
    return this.sources;
  }

  /**
   * The newer of this process's reading and the shared one. A shared reading older than this process's own failed
   * fetch is the last good one, marked stale with that failure (a restart must not make a failing source look ok).
   */
  reading(id: string): SourceReading | undefined {
    const own = this.readings.get(id);
    const shared = this.shared?.read(id);
    if (!shared || (own?.fetchedAt !== undefined && own.fetchedAt >= shared.fetchedAt)) return own;
    const reading: SourceReading = { windows: shared.windows, fetchedAt: shared.fetchedAt, stale: false, shared: true };
    if (own?.stale && own.failedAt !== undefined && own.failedAt > shared.fetchedAt) {
      reading.stale = true;
      reading.failedAt = own.failedAt;
      if (own.error !== undefined) reading.error = own.error;
    }
    return reading;
  }

  /** Windows per provider from every source's last good reading. */
  windowsByProvider(): Record<string, QuotaWindow[]> {
    const out: Record<string, QuotaWindow[]> = {};
    for (const source of this.sources) {
      const reading = this.reading(source.id);
      if (reading?.windows.length) ownEntry(out, source.provider, () => []).push(...reading.windows);
    }
    return out;
  }

  /** Starts fetches for sources whose reading is older than the TTL (or all with `force`). Resolves when they end. */
  refresh(force = false): Promise<void> {
    const now = this.now();
    const started: Promise<void>[] = [];
    for (const source of this.sources) {
      const reading = this.reading(source.id);
      const fresh = reading?.fetchedAt !== undefined && now - reading.fetchedAt < this.ttlMs() && !reading.stale;
      if (fresh && !force) continue;
      started.push(force || !this.shared ? this.fetchOne(source) : this.fetchClaimed(source));
    }
    return Promise.all(started).then(() => undefined);
  }

  /** Only the process holding this TTL's claim fetches; the others use its reading when it arrives. */
  private async fetchClaimed(source: QuotaSource): Promise<void> {
    if (!(await this.shared!.claim(`quota-fetch:${source.id}`, this.ttlMs()))) return;
    await this.fetchOne(source);
  }

  private fetchOne(source: QuotaSource): Promise<void> {
    const running = this.inFlight.get(source.id);
    if (running) return running;
    const startedAt = this.now();
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(new Error("quota fetch timed out")), QUOTA_FETCH_TIMEOUT_MS);
    timeout.unref?.();
    const done = source
      .fetch(controller.signal)
      .then(
        (windows) => {
          const fetchedAt = this.now();
          this.readings.set(source.id, { windows, fetchedAt, latencyMs: fetchedAt - startedAt, stale: false });
          this.shared?.write(source.id, { windows, fetchedAt });
        },
        (error: unknown) => {
          const previous = this.readings.get(source.id);
          const failedAt = this.now();
          const reading: SourceReading = {
            windows: previous?.windows ?? [],
            stale: true,
            failedAt,
            latencyMs: failedAt - startedAt,
            error: error instanceof Error ? error.message : String(error),
          };
          if (previous?.fetchedAt !== undefined) reading.fetchedAt = previous.fetchedAt;
          this.readings.set(source.id, reading);
        },
      )
      .finally(() => {
        clearTimeout(timeout);
        this.inFlight.delete(source.id);
      });
    this.inFlight.set(source.id, done);
    return done;
  }

  /**
   * Refreshes now and then every TTL, on an unref()'d timer so it never keeps pi alive; `onRefreshed` after each.
   * `sources`, when given, says before each round which sources there are (a login made meanwhile adds one).
   */
  start(onRefreshed?: () => void, sources?: () => QuotaSource[]): void {
    if (this.timer) return;
    const run = () => {
      if (sources) this.sources = sources();
      void this.refresh().then(
        () => onRefreshed?.(),
        () => undefined,
      );
    };
    run();
    this.timer = setInterval(run, Math.max(1_000, this.ttlMs()));
    this.timer.unref?.();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight.values()]);
  }
}
