// How the budget feature writes spend and reserves it for a HARD budget, whatever the store behind the ledger.
// Every counted attempt is one entry keyed by request id + attempt; a reservation holds the expected cost of an
// attempt in flight, so concurrent requests cannot all pass a limit that only one of them fits. With the file store
// the check and the reservation are one transaction on the shared usage file (reservations in ledger-reservations.ts);
// the team store (src/team/redis-ledger.ts) does them as one atomic step in Redis.
import type { AttemptRefusal, LimitShortfall } from "../runtime/plugin.ts";
import { formatUsd } from "../analytics/text-format.ts";
import type { StateStore } from "../state/json-store.ts";
import type { CalendarKeys } from "./calendar.ts";
import {
  endReservation,
  type OpenReservation,
  renewOperation,
  reservedUsd,
  reserveOperation,
} from "./ledger-reservations.ts";
import { providerSpend, recordUsageOperation, type UsageLedger, type UsageTotals } from "./usage-ledger.ts";

export interface AttemptUsage {
  /** `<requestId>:<attempt>`: the same attempt written twice is counted once. */
  id: string;
  calendar: CalendarKeys;
  provider: string;
  modelId: string;
  totals: UsageTotals;
}

export interface SpendReservation {
  /** The attempt's id (see AttemptUsage.id): recording its usage or releasing it ends the reservation. */
  id: string;
  provider: string;
  calendar: CalendarKeys;
  amountUsd: number;
  dailyUsd?: number;
  monthlyUsd?: number;
  /** A reservation whose attempt never reports (a crashed process) stops counting after this. */
  ttlMs: number;
  now: number;
}

/** A granted reservation kept open while its attempt still runs: until `now + ttlMs`. */
export interface ReservationRenewal {
  id: string;
  provider: string;
  ttlMs: number;
  now: number;
}

/** Undefined: granted; else why the attempt does not fit the budget, or that the team's spend is unknown now. */
export type ReservationAnswer = AttemptRefusal | undefined;

export interface SpendLedger {
  /** Adds an attempt's usage and ends its reservation. */
  record(usage: AttemptUsage): void;
  /** Ends the reservation of an attempt that reported no usage (failed before any token, aborted). */
  release(id: string, provider: string): void;
  reserve(reservation: SpendReservation): ReservationAnswer | Promise<ReservationAnswer>;
  /**
   * Keeps an open reservation open for another `ttlMs` (its attempt still streams); one ended or expired stays so.
   * Never rejects: a renewal that cannot be written leaves the reservation to expire as a crashed process's does.
   */
  renew(renewal: ReservationRenewal): void | Promise<void>;
}

/** A store that is a SpendLedger too (the team ledger) is used as one; any other store gets the local one. */
export function spendLedgerOf(store: StateStore<UsageLedger>): SpendLedger {
  const candidate = store as StateStore<UsageLedger> & Partial<SpendLedger>;
  if (
    typeof candidate.reserve === "function" &&
    typeof candidate.record === "function" &&
    typeof candidate.release === "function" &&
    typeof candidate.renew === "function"
  ) {
    return candidate as SpendLedger;
  }
  return new LocalSpendLedger(store);
}

/**
 * The budget check against one view of the ledger plus the reservations open on it: granted when the spend, what is
 * reserved and this attempt's expected cost stay within every limit.
 */
export function checkReservation(
  ledger: UsageLedger,
  reservedUsd: number,
  reservation: SpendReservation,
): ReservationAnswer {
  const spend = providerSpend(ledger, reservation.calendar, reservation.provider);
  const periods = [
    { name: "daily", limit: reservation.dailyUsd, spent: spend.day.costUsd },
    { name: "monthly", limit: reservation.monthlyUsd, spent: spend.month.costUsd },
  ] as const;
  for (const period of periods) {
    if (period.limit === undefined) continue;
    if (exceeds(period.spent, reservedUsd, reservation.amountUsd, period.limit))
      return limitRefusal({
        period: period.name,
        spentUsd: period.spent,
        reservedUsd,
        amountUsd: reservation.amountUsd,
        limitUsd: period.limit,
      });
  }
  return undefined;
}

/** A hard limit's refusal: its words, and the figures they come from (kept to show while it stands). */
export const limitRefusal = (shortfall: LimitShortfall): AttemptRefusal => ({
  reason: refusalText(
    shortfall.period,
    shortfall.spentUsd,
    shortfall.reservedUsd,
    shortfall.amountUsd,
    shortfall.limitUsd,
  ),
  shortfall,
});

/** Sums compared with a tolerance far below a cent, so an exactly fitting request passes despite float sums. */
export const exceeds = (spent: number, reserved: number, amount: number, limit: number): boolean =>
  spent + reserved + amount > limit + 1e-9;

export function refusalText(period: string, spent: number, reserved: number, amount: number, limit: number): string {
  const money = (value: number) => formatUsd(value, "spend");
  return `hard ${period} budget: spent ${money(spent)} + in flight ${money(reserved)} + this request ~${money(amount)} exceeds ${money(limit)}`;
}

/**
 * The file store's ledger: spend through the store's operations. A hard budget's check and its reservation are one
 * transaction on the usage file (under its lock, on what every process has committed), so the pi windows and the
 * gateway sharing one agent dir cannot together pass a limit; record() ends the reservation in the same operation
 * that adds the usage. A store without transactions (the team store while Redis is down), or a file that cannot be
 * locked or written (a read-only agent dir; the store warns), leaves the reservation in this process's book.
 */
export class LocalSpendLedger implements SpendLedger {
  private readonly book = new Map<string, OpenReservation>();

  constructor(private readonly store: StateStore<UsageLedger>) {}

  record(usage: AttemptUsage): void {
    this.book.delete(usage.id);
    const addUsage = recordUsageOperation(usage.calendar, usage.provider, usage.modelId, usage.totals);
    this.store.update((ledger) => endReservation(addUsage(ledger), usage.id));
  }

  release(id: string): void {
    this.book.delete(id);
    if (Object.hasOwn(this.store.read().reservations, id)) this.store.update((ledger) => endReservation(ledger, id));
  }

  renew(renewal: ReservationRenewal): void {
    const { id, ttlMs, now } = renewal;
    const own = this.book.get(id);
    if (own && own.expiresAt > now) this.book.set(id, { ...own, expiresAt: Math.max(own.expiresAt, now + ttlMs) });
    // In the usage file (a store with transactions) every process counts it: the renewal is written as an operation,
    // replayed on what the file holds at the next flush, so one another process ended or dropped stays ended.
    if (this.store.transact && Object.hasOwn(this.store.read().reservations, id))
      this.store.update(renewOperation(now, id, ttlMs));
  }

  reserve(reservation: SpendReservation): ReservationAnswer | Promise<ReservationAnswer> {
    if (!this.store.transact) return this.reserveInBook(reservation);
    return this.store
      .transact((ledger) => {
        const reserved = reservedUsd(ledger.reservations, reservation.provider, reservation.now, reservation.id);
        const refusal = checkReservation(ledger, reserved, reservation);
        const added = refusal === undefined ? openedBy(reservation) : undefined;
        return { operation: reserveOperation(reservation.now, reservation.id, added), result: refusal };
      })
      .catch(() => this.reserveInBook(reservation));
  }

  /** The check against what this process knows: the ledger's reservations as last read, plus its own book. */
  private reserveInBook(reservation: SpendReservation): ReservationAnswer {
    const { provider, now, id } = reservation;
    let reserved = reservedUsd(this.store.read().reservations, provider, now, id);
    for (const [key, entry] of this.book) {
      if (entry.expiresAt <= now) this.book.delete(key);
      else if (entry.provider === provider && key !== id) reserved += entry.amountUsd;
    }
    const refusal = checkReservation(this.store.read(), reserved, reservation);
    if (refusal === undefined) this.book.set(id, openedBy(reservation));
    return refusal;
  }
}

const openedBy = (reservation: SpendReservation): OpenReservation => ({
  provider: reservation.provider,
  amountUsd: reservation.amountUsd,
  expiresAt: reservation.now + reservation.ttlMs,
});
