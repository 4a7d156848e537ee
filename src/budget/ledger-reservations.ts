// A hard budget's open reservations as the file store keeps them: in the usage ledger (auto-router.usage.json), so
// every process on the machine (pi windows, the gateway) counts every other one's requests in flight. Pure values and
// operations on the ledger's `reservations` record; `now` always comes from the caller. The team store keeps its
// reservations in Redis instead (RESERVE_LUA in src/team/redis-scripts.ts).
import type { UsageLedger } from "./usage-ledger.ts";

export type OpenReservations = UsageLedger["reservations"];
export type OpenReservation = OpenReservations[string];

/** What `provider`'s reservations other than `exceptId` hold at `now` (an expired one holds nothing). */
export function reservedUsd(reservations: OpenReservations, provider: string, now: number, exceptId: string): number {
  let reserved = 0;
  for (const id in reservations) {
    const entry = reservations[id]!;
    if (id !== exceptId && entry.provider === provider && entry.expiresAt > now) reserved += entry.amountUsd;
  }
  return reserved;
}

/**
 * Drops every reservation expired at `now` (an attempt whose process crashed) and, when given, opens `added` under
 * `id`. Returns the very ledger when nothing changes, so a refusal with nothing expired writes nothing.
 */
export function reserveOperation(now: number, id: string, added: OpenReservation | undefined) {
  return (ledger: UsageLedger): UsageLedger => {
    const kept: OpenReservations = {};
    let changed = added !== undefined;
    for (const [key, entry] of Object.entries(ledger.reservations)) {
      if (entry.expiresAt <= now) changed = true;
      else kept[key] = entry;
    }
    if (added) kept[id] = added;
    return changed ? { ...ledger, reservations: kept } : ledger;
  };
}

/** Ends the reservation `id` (its attempt recorded usage or reported none); the very ledger when none is open. */
export function endReservation(ledger: UsageLedger, id: string): UsageLedger {
  if (!Object.hasOwn(ledger.reservations, id)) return ledger;
  const { [id]: _ended, ...rest } = ledger.reservations;
  return { ...ledger, reservations: rest };
}

/**
 * Keeps the reservation `id` open until `now + ttlMs` while its attempt still runs (an attempt may stream longer than
 * a reservation lives). Only one still open at `now`: an ended or expired one is not opened again without its check.
 * The very ledger when there is nothing to renew.
 */
export function renewOperation(now: number, id: string, ttlMs: number) {
  return (ledger: UsageLedger): UsageLedger => {
    const entry = Object.hasOwn(ledger.reservations, id) ? ledger.reservations[id]! : undefined;
    if (!entry || entry.expiresAt <= now || entry.expiresAt >= now + ttlMs) return ledger;
    return { ...ledger, reservations: { ...ledger.reservations, [id]: { ...entry, expiresAt: now + ttlMs } } };
  };
}
