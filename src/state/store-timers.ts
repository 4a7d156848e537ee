// The file store's two timers, both unref()'d so a store never keeps the process alive: the debounced flush (one
// pending at a time) and the background refresh that picks up other processes' writes.
export class StoreTimers {
  private flushTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  /** Runs `flush` after `delayMs` unless a flush is already scheduled. */
  flushIn(delayMs: number, flush: () => void): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      flush();
    }, delayMs);
    this.flushTimer.unref();
  }

  refreshEvery(intervalMs: number, refresh: () => void): void {
    this.refreshTimer = setInterval(refresh, intervalMs);
    this.refreshTimer.unref();
  }

  clear(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.flushTimer = undefined;
    this.refreshTimer = undefined;
  }
}
