// The corruption suite's damage: which files (every state store, the event log, the routes file), which ways
// (cut short, emptied, garbage, wrong types, unreadable, read-only), and what the router must do about each.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SeededRandom } from "./seeded-random.ts";

export const STATE_STORES = [
  "cooldowns",
  "latency",
  "usage",
  "budget-limits",
  "breakers",
  "quota",
  "health",
  "ratings",
  "shadow",
] as const;
export const EVENT_LOG_FILE = "auto-router.events.jsonl";
export const ROUTES_FILE = "auto-router.routes.json";

export type Subject =
  | { kind: "state"; file: string }
  | { kind: "events"; file: string }
  | { kind: "routes"; file: string };
export const SUBJECTS: Subject[] = [
  ...STATE_STORES.map((name): Subject => ({ kind: "state", file: `auto-router.${name}.json` })),
  { kind: "events", file: EVENT_LOG_FILE },
  { kind: "routes", file: ROUTES_FILE },
];

export const MODES = ["truncated", "emptied", "garbage", "wrong-types", "unreadable", "read-only"] as const;
export type Mode = (typeof MODES)[number];

/** What a case must show besides "exit 0 and an answer served". */
export interface Expectation {
  /** Lines of stderr naming the file: exactly this many (routes: the "is invalid" summary line). */
  warnings: 0 | 1;
  /** A `<file>.corrupt-<ts>` copy holding exactly the damaged bytes. */
  corruptCopy: boolean;
  /** The built-in routes serve (in this suite: the overridden anthropic provider). Never expected here: a broken
   *  routes file is replaced by the last good copy, which the baseline state directory holds. */
  servedByDefaults: boolean;
}

export function expectationFor(subject: Subject, mode: Mode): Expectation {
  const damaged = mode === "truncated" || mode === "garbage" || mode === "wrong-types";
  if (subject.kind === "routes") {
    // An empty routes file is invalid config too; an unreadable one cannot be read; read-only is fine (never written).
    const invalid = damaged || mode === "emptied" || mode === "unreadable";
    return { warnings: invalid ? 1 : 0, corruptCopy: false, servedByDefaults: false };
  }
  if (subject.kind === "events") {
    // The router only appends to the log (readers skip malformed lines), so only an unusable path is news.
    return { warnings: mode === "unreadable" ? 1 : 0, corruptCopy: false, servedByDefaults: false };
  }
  // The store never leaves an empty file behind (the lock does not need one), so an emptied state file is damage too.
  const broken = damaged || mode === "emptied";
  return { warnings: broken || mode === "unreadable" ? 1 : 0, corruptCopy: broken, servedByDefaults: false };
}

/** Numbers and booleans turned into strings, arrays into objects: the names stay, the types are wrong. */
function wrongTypes(value: unknown): unknown {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return Object.fromEntries(value.map((item, index) => [String(index), wrongTypes(item)]));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, wrongTypes(item)]));
  return value;
}

/** The bytes a mode writes over the file's valid content (undefined: the mode does not write bytes). */
export function damagedBytes(mode: Mode, subject: Subject, original: Buffer, random: SeededRandom): Buffer | undefined {
  switch (mode) {
    case "truncated":
      // Cut inside the content (for the log: inside its last line, as a crash during an append would).
      return original.subarray(
        0,
        subject.kind === "events"
          ? original.length - Math.max(2, Math.floor(original.length / 7))
          : Math.floor(original.length / 2),
      );
    case "emptied":
      return Buffer.alloc(0);
    case "garbage":
      return Buffer.from(Array.from({ length: 96 }, () => random.integer(0, 255)));
    case "wrong-types":
      if (subject.kind === "events") {
        const lines = original
          .toString("utf8")
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.stringify(wrongTypes(JSON.parse(line))));
        return Buffer.from(`${lines.join("\n")}\n[1,2,3]\n"a string"\n`);
      }
      return Buffer.from(JSON.stringify(wrongTypes(JSON.parse(original.toString("utf8"))), null, 2));
    default:
      return undefined;
  }
}

/** Applies the mode to `file`, which holds valid content. Returns the damaged bytes it wrote, if any. */
export function applyDamage(
  file: string,
  mode: Mode,
  subject: Subject,
  original: Buffer,
  random: SeededRandom,
): Buffer | undefined {
  const bytes = damagedBytes(mode, subject, original, random);
  if (bytes) {
    writeFileSync(file, bytes);
    return bytes;
  }
  if (mode === "read-only") {
    chmodSync(file, 0o444);
    return undefined;
  }
  // Unreadable and unwritable even for root, which ignores file modes: a directory where the file should be
  // (with an entry, so no rename can replace it).
  rmSync(file, { force: true });
  mkdirSync(join(file, "occupied"), { recursive: true });
  return undefined;
}
