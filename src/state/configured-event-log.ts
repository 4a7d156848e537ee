// The event log as the routes file's `eventLog` settings say, applied while pi or the gateway runs: an edit (picked up
// by the file's watcher, `/auto-router reload` or the gateway's SIGHUP) takes effect with the next event. `enabled:
// false` writes out what is waiting and closes the log; `enabled` again opens it; new `maxBytes` / `keepFiles` rotate
// from the next append on. The settings are looked at only when the config in use is another object than before
// (a reload makes a new one), so an event costs one comparison more.
import type { RouterConfig } from "../config/schema.ts";
import { join } from "node:path";
import { type EventEntry, type EventLog, type EventLogOptions, openEventLog } from "./event-log.ts";
import { EVENT_LOG_NAME } from "./state-paths.ts";

export class ConfiguredEventLog implements EventLog {
  readonly path: string;
  private log: EventLog | undefined;
  /** The log turned off last, until it has written what was waiting: a log opened meanwhile appends after it. */
  private closing: Promise<void> | undefined;
  private appliedTo: RouterConfig | undefined;
  /** Closed with pi or the gateway: a late event still goes to the log as it was (it writes it at exit). */
  private closed = false;

  constructor(
    private readonly config: () => RouterConfig,
    private readonly options: Omit<EventLogOptions, "maxBytes" | "keepFiles">,
  ) {
    this.path = join(options.dir, options.fileName ?? EVENT_LOG_NAME);
    this.apply();
  }

  append(event: EventEntry): void {
    if (this.config() !== this.appliedTo && !this.closed) this.apply();
    this.log?.append(event);
  }

  setLimits(maxBytes: number | undefined, keepFiles: number | undefined): void {
    this.log?.setLimits(maxBytes, keepFiles);
  }

  flush(): Promise<void> {
    // A log opened while the last one turned off was still writing flushes after it (its chain starts there).
    return this.log?.flush() ?? this.closing ?? Promise.resolve();
  }

  flushSync(): void {
    this.log?.flushSync();
  }

  close(): Promise<void> {
    this.closed = true;
    return this.log?.close() ?? this.closing ?? Promise.resolve();
  }

  private apply(): void {
    const config = this.config();
    this.appliedTo = config;
    const settings = config.eventLog;
    if (settings?.enabled === false) {
      // What is waiting is written out; the closed log takes nothing more.
      if (this.log) {
        const closing = this.log.close().catch(() => undefined);
        this.closing = closing;
        void closing.then(() => {
          if (this.closing === closing) this.closing = undefined;
        });
      }
      this.log = undefined;
      return;
    }
    if (this.log) this.log.setLimits(settings?.maxBytes, settings?.keepFiles);
    else
      this.log = openEventLog({
        ...this.options,
        maxBytes: settings?.maxBytes,
        keepFiles: settings?.keepFiles,
        after: this.closing,
      });
  }
}
