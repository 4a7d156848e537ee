// How the budget feature writes spend and reserves it for a HARD budget, whatever the store behind the ledger.
// Every counted attempt is one entry keyed by request id + attempt; a reservation holds the expected cost of an
// attempt in flight, so concurrent requests cannot all pass a limit that only one of them fits. With the file store
// this is the ledger's own StateStore plus an in-process reservation book; the team store (src/team/redis-ledger.ts)
// does the check and the reservation as one atomic step in Redis.
import type { AttemptRefusal } from "../runtime/plugin.ts";
import { formatUsd } from "../analytics/text-format.ts";
import type { StateStore } from "../state/json-store.ts";
import type { CalendarKeys } from "./calendar.ts";
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

/** Undefined: granted; else why the attempt does not fit the budget, or that the team's spend is unknown now. */
export type ReservationAnswer = AttemptRefusal | undefined;

export interface SpendLedger {
  /** Adds an attempt's usage and ends its reservation. */
  record(usage: AttemptUsage): void;
  /** Ends the reservation of an attempt that reported no usage (failed before any token, aborted). */
  release(id: string, provider: string): void;
  reserve(reservation: SpendReservation): ReservationAnswer | Promise<ReservationAnswer>;
}

/** A store that is a SpendLedger too (the team ledger) is used as one; any other store gets the local one. */
export function spendLedgerOf(store: StateStore<UsageLedger>): SpendLedger {
  const candidate = store as StateStore<UsageLedger> & Partial<SpendLedger>;
  if (
    typeof candidate.reserve === "function" &&
    typeof candidate.record === "function" &&
    typeof candidate.release === "function"
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
  ];
  for (const period of periods) {
    if (period.limit === undefined) continue;
    if (exceeds(period.spent, reservedUsd, reservation.amountUsd, period.limit))
      return { reason: refusalText(period.name, period.spent, reservedUsd, reservation.amountUsd, period.limit) };
  }
  return undefined;
}

/** Sums compared with a tolerance far below a cent, so an exactly fitting request passes despite float sums. */
export const exceeds = (spent: number, reserved: number, amount: number, limit: number): boolean =>
  spent + reserved + amount > limit + 1e-9;

export function refusalText(period: string, spent: number, reserved: number, amount: number, limit: number): string {
  const money = (value: number) => formatUsd(value, "spend");
  return `hard ${period} budget: spent ${money(spent)} + in flight ${money(reserved)} + this request ~${money(amount)} exceeds ${money(limit)}`;
}

/** The file store's ledger: spend through the store's operations, reservations held in this process. */
export class LocalSpendLedger implements SpendLedger {
  private readonly open = new Map<string, { provider: string; amountUsd: number; expiresAt: number }>();

  constructor(private readonly store: StateStore<UsageLedger>) {}

  record(usage: AttemptUsage): void {
    this.open.delete(usage.id);
    this.store.update(recordUsageOperation(usage.calendar, usage.provider, usage.modelId, usage.totals));
  }

  release(id: string): void {
    this.open.delete(id);
  }

  reserve(reservation: SpendReservation): ReservationAnswer {
    let reserved = 0;
    for (const [id, entry] of this.open) {
      if (entry.expiresAt <= reservation.now) this.open.delete(id);
      else if (entry.provider === reservation.provider && id !== reservation.id) reserved += entry.amountUsd;
    }
    const refusal = checkReservation(this.store.read(), reserved, reservation);
    if (refusal === undefined)
      this.open.set(reservation.id, {
        provider: reservation.provider,
        amountUsd: reservation.amountUsd,
        expiresAt: reservation.now + reservation.ttlMs,
      });
    return refusal;
  }
}
