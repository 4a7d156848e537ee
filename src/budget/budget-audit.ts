// The budget audit of one provider: spend against its daily and monthly limits (BOTH apply when both exist; the
// earlier implementation let a monthly limit silently disable the daily one) and its balance against the floor.
// >= 80% of any limit is a warning, >= 100% blocks. Pure.
import { formatDuration, formatPercentDown, formatUsd } from "../analytics/text-format.ts";
import { formatMoney } from "../config/floor-amount.ts";
import type { AuditLevel } from "../routing/types.ts";
import type { EffectiveLimit, EffectiveLimits } from "./budget-limits.ts";

export const WARNING_SHARE = 0.8;
export const BLOCK_SHARE = 1;
const SHARE_PRECISION = 1e9;

export interface PeriodAudit {
  period: "daily" | "monthly";
  spentUsd: number;
  limitUsd: number;
  /** spent / limit; Infinity for a zero limit with spend, 1 for a zero limit without (a $0 budget allows nothing). */
  share: number;
  level: AuditLevel;
}

export interface BalanceReading {
  /** In the floor's currency: a balance in another is not compared (balance-floors.ts). */
  amount: number;
  /** When not USD. */
  currency?: string;
  /** The last fetch failed, or the reading is old (see isStale in balance-book.ts). */
  stale?: boolean;
  /** How long ago the balance was fetched (it may come from an earlier process). */
  fetchedAgoMs?: number;
  /** The USD the ledger booked for the provider since the fetch, already taken off `amount` (lessSpend). */
  spentSinceUsd?: number;
}

export interface ProviderAudit {
  level: AuditLevel;
  detail: string;
  periods: PeriodAudit[];
  /** The balance and its floor, in `currency` (USD when not given). */
  balance?: {
    amount: number;
    floor: number;
    currency?: string;
    level: AuditLevel;
    stale?: boolean;
    fetchedAgoMs?: number;
    spentSinceUsd?: number;
  };
}

const rank: Record<AuditLevel, number> = { ok: 0, warning: 1, blocked: 2 };
const worst = (levels: AuditLevel[]): AuditLevel =>
  levels.reduce((a, b) => (rank[b] > rank[a] ? b : a), "ok" as AuditLevel);

export function levelOfShare(share: number): AuditLevel {
  if (share >= BLOCK_SHARE) return "blocked";
  if (share >= WARNING_SHARE) return "warning";
  return "ok";
}

export const formatShare = (share: number): string => (Number.isFinite(share) ? formatPercentDown(share) : "over");

/**
 * " (stale, fetched 2h00m ago)": how old the balance a block rests on is; " ($5.00 fetched 3m ago, $0.20 spent
 * since)" for a balance the ledger's spend since its fetch was taken off.
 */
export function balanceAge(balance: {
  amount: number;
  currency?: string;
  stale?: boolean;
  fetchedAgoMs?: number;
  spentSinceUsd?: number;
}): string {
  const spent = balance.spentSinceUsd;
  const fetched = spent === undefined ? "fetched" : `${formatMoney(balance.amount + spent, balance.currency)} fetched`;
  const parts = [
    ...(balance.stale ? ["stale"] : []),
    ...(balance.fetchedAgoMs !== undefined
      ? [`${fetched} ${formatDuration(balance.fetchedAgoMs)} ago`]
      : spent !== undefined
        ? [fetched]
        : []),
    ...(spent !== undefined ? [`${formatMoney(spent, balance.currency)} spent since`] : []),
  ];
  return parts.length ? ` (${parts.join(", ")})` : "";
}

function auditPeriod(period: "daily" | "monthly", spentUsd: number, limitUsd: number): PeriodAudit {
  // Rounded so that $0.24 of $0.30 is exactly 80%, not 79.99999%.
  const share =
    limitUsd > 0 ? Math.round((spentUsd / limitUsd) * SHARE_PRECISION) / SHARE_PRECISION : spentUsd > 0 ? Infinity : 1;
  return { period, spentUsd, limitUsd, share, level: levelOfShare(share) };
}

/**
 * A limit set by command is named as such where it blocks or warns: it overrides the routes file (and in team mode
 * may have been set on another machine), so whoever reads the reason would otherwise look for it in the config.
 */
export const bySetCommand = (limit: Pick<EffectiveLimit, "source"> | undefined, command: string): string =>
  limit?.source === "command" ? ` set with /auto-router ${command}` : "";

export function auditProvider(input: {
  limits: EffectiveLimits;
  spentTodayUsd: number;
  spentThisMonthUsd: number;
  balance?: BalanceReading;
}): ProviderAudit {
  const periods: PeriodAudit[] = [];
  if (input.limits.daily) periods.push(auditPeriod("daily", input.spentTodayUsd, input.limits.daily.amount));
  if (input.limits.monthly) periods.push(auditPeriod("monthly", input.spentThisMonthUsd, input.limits.monthly.amount));
  const details = periods
    .filter((item) => item.level !== "ok")
    .map(
      (item) =>
        `${item.period} ${formatUsd(item.spentUsd, "spend")} of ${formatUsd(item.limitUsd, "spend")}${bySetCommand(input.limits[item.period], "budget set")} (${formatShare(item.share)})`,
    );
  const audit: ProviderAudit = { level: worst(periods.map((item) => item.level)), detail: "", periods };
  const floor = input.limits.balanceFloor;
  if (floor && input.balance) {
    const { amount, currency } = input.balance;
    const level: AuditLevel = amount < floor.amount ? "blocked" : "ok";
    audit.balance = {
      amount,
      floor: floor.amount,
      ...(currency !== undefined ? { currency } : {}),
      level,
      ...(input.balance.stale ? { stale: true } : {}),
      ...(input.balance.fetchedAgoMs !== undefined ? { fetchedAgoMs: input.balance.fetchedAgoMs } : {}),
      ...(input.balance.spentSinceUsd !== undefined ? { spentSinceUsd: input.balance.spentSinceUsd } : {}),
    };
    if (level === "blocked")
      details.push(
        `balance ${formatMoney(amount, currency)} below the floor ${formatMoney(floor.amount, currency)}${bySetCommand(floor, "balance floor")}${balanceAge(input.balance)}`,
      );
    audit.level = worst([audit.level, level]);
  }
  audit.detail = details.join("; ") || "within budget";
  return audit;
}
