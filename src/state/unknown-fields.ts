// Fields of a state file this version does not know: a newer version of the router (a gateway installed globally
// beside an older pi extension, on one state directory) added them. Every state schema passes them through
// (`z.looseObject`), and every operation writes them back beside the fields this version manages, top-level and per
// entry, so the older version's read-modify-write does not take from the newer one what it added. Two exceptions, on
// purpose: an entry this version removes (an expired cooldown, a reset breaker) goes with all its fields, and an entry
// it writes anew in place of the old one (a new cooldown, balance reading, refusal, rating or quota window) is what
// this version makes of it: the fields the newer version gave the old entry described that one, and it reads an entry
// without them as it reads one an older version wrote.
import { z } from "zod";
import { isObject } from "../is-object.ts";

/**
 * The object schema of a state file's object (the file itself, an entry): unknown keys pass through (a newer
 * version's), and the type names the fields this version knows, as `z.object` would (no index signature to widen every
 * field read; the unknown ones travel in spreads, never read here).
 */
export const stateObject = <Shape extends z.core.$ZodLooseShape>(
  shape: Shape,
  params?: string | z.core.$ZodObjectParams,
): z.ZodObject<{ -readonly [K in keyof Shape]: Shape[K] }, z.core.$strip> =>
  z.looseObject(shape, params) as unknown as z.ZodObject<{ -readonly [K in keyof Shape]: Shape[K] }, z.core.$strip>;

/** The fields of `record` that `known` does not name; undefined when there are none (no copy in the usual case). */
export function unknownFieldsOf(
  record: object | undefined,
  known: ReadonlySet<string>,
): Record<string, unknown> | undefined {
  let unknown: Record<string, unknown> | undefined;
  if (record)
    for (const key in record)
      if (Object.hasOwn(record, key) && !known.has(key))
        (unknown ??= {})[key] = (record as Record<string, unknown>)[key];
  return unknown;
}

/** Whether `record` holds a field `known` does not name. */
export function hasUnknownField(record: object, known: ReadonlySet<string>): boolean {
  for (const key in record) if (Object.hasOwn(record, key) && !known.has(key)) return true;
  return false;
}

/**
 * For a store whose every field has a default (the usage ledger, the limits): a file with keys, none of them the
 * store's, is another shape (`{"entries": [...]}`), which would otherwise read as empty state and be overwritten. It
 * is damage (kept aside with a warning); a file with some of the store's keys and others is a newer version's.
 */
export function assertOwnShape(raw: unknown, known: ReadonlySet<string>, expected: string): void {
  if (!isObject(raw)) return; // the schema names what it is
  const keys = Object.keys(raw);
  if (keys.length > 0 && !keys.some((key) => known.has(key)))
    throw new Error(
      `(top level): unknown field${keys.length > 1 ? "s" : ""} ${keys
        .slice(0, 3)
        .map((key) => JSON.stringify(key))
        .join(", ")}${keys.length > 3 ? ", ..." : ""}; expected ${expected}`,
    );
}
