// The file store's warnings: each distinct problem is said once (disk problems keyed by error code, so one EACCES
// seen by read, lock and write is reported once), to the store's warning sink or, without one, to stderr.
import { describeError, errorCode } from "./file-lock.ts";
import type { DamageOutcome } from "./state-disk.ts";
import type { JsonStoreOptions } from "./store-types.ts";

export class StoreWarnings {
  private readonly warned = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly options: Pick<JsonStoreOptions<unknown>, "onWarning">,
  ) {}

  warn(key: string, message: string): void {
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

  /** A disk error: "<what>: <error><then>", once per error code. */
  disk(error: unknown, what: string, then = ""): void {
    this.warn(`disk:${errorCode(error)}`, `${what}: ${describeError(error)}${then}`);
  }

  /** An update operation that threw, once per distinct error. */
  operation(error: unknown, what: string): void {
    this.warn(`operation:${describeError(error)}`, `an update operation threw ${what}: ${describeError(error)}`);
  }

  unexpected(error: unknown): void {
    this.warn(`unexpected:${describeError(error)}`, `unexpected state store error: ${describeError(error)}`);
  }

  /** A corrupt state file was moved aside (readDisk's onDamage). */
  readonly damaged = (reason: string, movedTo: string, { salvaged, fromView }: DamageOutcome): void => {
    const outcome = fromView
      ? `rewritten from this process's last view of it${salvaged ? " and every other value that could be read" : ""}`
      : salvaged
        ? "kept every value that could be read"
        : "started from defaults";
    // Every sink puts the file in front of the message ("<file>: <message>"): named there once, not again here.
    this.warn(
      `corrupt:${movedTo}`,
      `${salvaged ? "partly " : ""}unreadable (${reason}); moved aside to ${movedTo} and ${outcome}`,
    );
  };

  readonly lockCompromised = (error: Error): void => {
    this.warn("lock-compromised", `the state file lock was lost: ${describeError(error)}`);
  };
}
