// Counters for what a request must never do, shared by tests and the bench: synchronous disk writes (node:fs's sync
// writers, and openSync with a write flag) and Intl.DateTimeFormat constructions. Both wrap the real functions until
// the returned `stop()` is called; counting never changes what the wrapped functions do.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

export const SYNC_WRITERS = [
  "writeFileSync",
  "appendFileSync",
  "renameSync",
  "writeSync",
  "mkdirSync",
  "chmodSync",
  "unlinkSync",
  "copyFileSync",
] as const;
const WRITE_FLAGS = /[wa+]/;

export interface CallCounter {
  /** Calls per function name. */
  counts: Record<string, number>;
  /** A few stack lines of the first call of each name, to say where it came from. */
  firstCaller: Record<string, string>;
  total(): number;
  reset(): void;
  stop(): void;
}

function newCounter(restore: () => void): CallCounter & { note(name: string): void } {
  const counts: Record<string, number> = {};
  const firstCaller: Record<string, string> = {};
  return {
    counts,
    firstCaller,
    note(name) {
      counts[name] = (counts[name] ?? 0) + 1;
      firstCaller[name] ??= (new Error().stack ?? "")
        .split("\n")
        .slice(3, 7)
        .map((line) => line.trim())
        .join(" < ");
    },
    total: () => Object.values(counts).reduce((sum, count) => sum + count, 0),
    reset() {
      for (const name of Object.keys(counts)) delete counts[name];
      for (const name of Object.keys(firstCaller)) delete firstCaller[name];
    },
    stop: restore,
  };
}

/** Wraps fs's sync writers (and openSync with a write flag), named ESM imports included. */
export function countSyncWrites(): CallCounter {
  const writable = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  const counter = newCounter(() => {
    for (const [name, original] of originals) writable[name] = original;
    syncBuiltinESMExports();
  });
  for (const name of [...SYNC_WRITERS, "openSync"]) {
    const original = writable[name]!;
    originals.set(name, original);
    writable[name] = function wrapped(this: unknown, ...args: unknown[]) {
      if (name !== "openSync" || WRITE_FLAGS.test(String(args[1] ?? "r"))) counter.note(name);
      return original.apply(this, args);
    };
  }
  syncBuiltinESMExports(); // named `import { x } from "node:fs"` bindings follow the patched functions
  return counter;
}

/** Counts every Intl.DateTimeFormat built (with or without `new`) through the global, which any bundle reads. */
export function countDateTimeFormats(): CallCounter {
  const original = Intl.DateTimeFormat;
  const counter = newCounter(() => {
    Intl.DateTimeFormat = original;
  });
  Intl.DateTimeFormat = new Proxy(original, {
    construct(target, args, newTarget) {
      counter.note("new Intl.DateTimeFormat");
      return Reflect.construct(target, args, newTarget === Intl.DateTimeFormat ? target : newTarget);
    },
    apply(target, thisArg, args) {
      counter.note("Intl.DateTimeFormat()");
      return Reflect.apply(target, thisArg, args);
    },
  });
  return counter;
}
