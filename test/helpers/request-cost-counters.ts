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

/** A temporary file write-file-atomic renames into place: `<target>.<number>`. */
const ATOMIC_TEMP = /^(.*)\.\d+$/;

export interface FileByteCounter {
  /** Bytes written to files since the counter started. */
  bytes(): number;
  stop(): void;
}

/**
 * Counts the bytes the process writes to files at node:fs's API: appends (`appendFile`, `appendFileSync`),
 * `writeFileSync`, and whole files that write-file-atomic renames into place (`rename`/`renameSync` of a
 * `<target>.<number>` temp file onto its target, sized when renamed; renames of a log rotation move no bytes).
 * /proc's wchar counts every write system call instead, the event loop's 8-byte wake-ups (eventfd) among them,
 * which grow with the garbage collector's and the compiler's background work rather than with what is written.
 */
export function countFileBytes(): FileByteCounter {
  let bytes = 0;
  const size = (data: unknown) =>
    typeof data === "string" ? Buffer.byteLength(data) : ArrayBuffer.isView(data) ? data.byteLength : 0;
  const renamedSize = (from: unknown, to: unknown) => {
    const match = typeof from === "string" ? ATOMIC_TEMP.exec(from) : null;
    if (!match || match[1] !== to) return 0;
    try {
      return fs.statSync(from as string).size;
    } catch {
      return 0;
    }
  };
  const sync = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  const promises = fs.promises as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals: Array<[Record<string, (...args: unknown[]) => unknown>, string, (...args: unknown[]) => unknown]> =
    [];
  const wrap = (target: typeof sync, name: string, count: (args: unknown[]) => number) => {
    const original = target[name]!;
    originals.push([target, name, original]);
    target[name] = function (this: unknown, ...args: unknown[]) {
      bytes += count(args);
      return original.apply(this, args);
    };
  };
  wrap(promises, "appendFile", (args) => size(args[1]));
  wrap(sync, "appendFileSync", (args) => size(args[1]));
  wrap(sync, "writeFileSync", (args) => (ATOMIC_TEMP.test(String(args[0])) ? 0 : size(args[1])));
  wrap(sync, "rename", (args) => renamedSize(args[0], args[1]));
  wrap(sync, "renameSync", (args) => renamedSize(args[0], args[1]));
  syncBuiltinESMExports();
  return {
    bytes: () => bytes,
    stop() {
      for (const [target, name, original] of originals) target[name] = original;
      syncBuiltinESMExports();
    },
  };
}
