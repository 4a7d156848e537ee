// Background fetching of quota sources (usage APIs): cached with a TTL, one fetch per source in flight at a time,
// never awaited on the request path, and a failure keeps the last windows, marked stale, with the error text.
import type { QuotaWindow } from "../routing/uvi.ts";

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
  error?: string;
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
  ) {}

  setSources(sources: QuotaSource[]): void {
    this.sources = sources;
  }

  list(): QuotaSource[] {
    return this.sources;
  }

  reading(id: string): SourceReading | undefined {
    return this.readings.get(id);
  }

  /** Windows per provider from every source's last good reading. */
  windowsByProvider(): Record<string, QuotaWindow[]> {
    const out: Record<string, QuotaWindow[]> = {};
    for (const source of this.sources) {
      const reading = this.readings.get(source.id);
      if (reading?.windows.length) (out[source.provider] ??= []).push(...reading.windows);
    }
    return out;
  }

  /** Starts fetches for sources whose reading is older than the TTL (or all with `force`). Resolves when they end. */
  refresh(force = false): Promise<void> {
    const now = this.now();
    const started: Promise<void>[] = [];
    for (const source of this.sources) {
      const reading = this.readings.get(source.id);
      const fresh = reading?.fetchedAt !== undefined && now - reading.fetchedAt < this.ttlMs() && !reading.stale;
      if (fresh && !force) continue;
      started.push(this.fetchOne(source));
    }
    return Promise.all(started).then(() => undefined);
  }

  private fetchOne(source: QuotaSource): Promise<void> {
    const running = this.inFlight.get(source.id);
    if (running) return running;
    const startedAt = this.now();
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(new Error("quota fetch timed out")), QUOTA_FETCH_TIMEOUT_MS);
    timeout.unref?.();
    const done = source.fetch(controller.signal).then(
      (windows) => {
        this.readings.set(source.id, { windows, fetchedAt: this.now(), latencyMs: this.now() - startedAt, stale: false });
      },
      (error: unknown) => {
        const previous = this.readings.get(source.id);
        const reading: SourceReading = { windows: previous?.windows ?? [], stale: true, latencyMs: this.now() - startedAt, error: error instanceof Error ? error.message : String(error) };
        if (previous?.fetchedAt !== undefined) reading.fetchedAt = previous.fetchedAt;
        this.readings.set(source.id, reading);
      },
    ).finally(() => {
      clearTimeout(timeout);
      this.inFlight.delete(source.id);
    });
    this.inFlight.set(source.id, done);
    return done;
  }

  /** Refreshes now and then every TTL, on an unref()'d timer so it never keeps pi alive; `onRefreshed` after each. */
  start(onRefreshed?: () => void): void {
    if (this.timer) return;
    const run = () => void this.refresh().then(() => onRefreshed?.(), () => undefined);
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
