// Records keyed by names a user, a client or a prompt writes (routes, aliases, tiers, gateway.models) are made without
// a prototype: on a plain object a name such as "constructor", "toString" or "__proto__" reads Object.prototype's
// member (the gateway answered `"model": "constructor"` with a 500), on these it is a key like any other, and absent.

/** A copy of `record` without a prototype. */
export function ownRecord<V>(record: Readonly<Record<string, V>>): Record<string, V> {
  return Object.assign(Object.create(null) as Record<string, V>, record);
}

/**
 * `record[key]`, first made with `make` when the record has no own entry of that name: for records that gather values
 * under names read from files, logs or Redis, where `record[key] ??= {}` would hand back Object.prototype (for
 * "__proto__") or Object (for "constructor") and the next write would change every object of the process.
 */
export function ownEntry<V>(record: Record<string, V>, key: string, make: () => V): V {
  if (Object.hasOwn(record, key)) return record[key]!;
  const value = make();
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
  return value;
}

/** Adds `by` to the count kept under `key`, a name read from outside (`ownEntry`'s rule: no write reaches a prototype). */
export function countUnder(record: Record<string, number>, key: string, by = 1): void {
  ownEntry(record, key, () => 0);
  record[key]! += by;
}
