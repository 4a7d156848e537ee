// Quota reserves (quota.reserve): the last part of a provider's quota window is kept for the named tiers; other
// requests treat the provider as out of quota once its fullest window crosses the line. "interactive" in the list keeps
// the reserve for prompts a person typed (pi's input source "interactive"), whatever their tier. The window is the one quota
// pacing already reads for the target's model (quotaOfModel: a window scoped to other models is not its concern), so a
// reserve needs no source of its own.
import { INTERACTIVE, type QuotaReserveConfig } from "../config/subscription-schema.ts";
import type { Tier } from "../config/routing-schema.ts";
import type { QuotaStatus } from "./types.ts";
import { formatQuotaPercent } from "./uvi.ts";

/**
 * The reserve of an account: written as the target bills to it, else in any case (`Anthropic` for `anthropic`), as
 * budgets and provider preferences match provider names.
 */
export function reserveOf(
  reserves: Readonly<Record<string, QuotaReserveConfig>>,
  account: string,
): QuotaReserveConfig | undefined {
  const own = reserves[account];
  if (own) return own;
  // Asked for every target of every decision: the names in lower case are made once per config's reserves.
  let byLower = lowered.get(reserves);
  if (!byLower) {
    byLower = new Map(Object.entries(reserves).map(([name, reserve]) => [name.toLowerCase(), reserve]));
    lowered.set(reserves, byLower);
  }
  return byLower.get(account.toLowerCase());
}

const lowered = new WeakMap<object, Map<string, QuotaReserveConfig>>();

export type ReserveVerdict = { kind: "excluded"; detail: string } | { kind: "allowed"; reason: string } | undefined;

/** undefined = no reserve applies (none configured, no window known, or usage still below the line). */
export function checkReserve(
  reserve: QuotaReserveConfig | undefined,
  quota: QuotaStatus | undefined,
  tier: Tier | undefined,
  interactive = false,
): ReserveVerdict {
  const used = quota?.usedFraction;
  if (!reserve || used === undefined) return undefined;
  if (used < 1 - reserve.percent / 100) return undefined;
  const where = `${quota?.window ?? "quota"} window ${formatQuotaPercent(used)} used, last ${reserve.percent}% kept`;
  if (tier !== undefined && reserve.for.includes(tier))
    return { kind: "allowed", reason: `uses the reserve for ${tier} (${where})` };
  if (interactive && reserve.for.includes(INTERACTIVE))
    return { kind: "allowed", reason: `uses the reserve for interactive prompts (${where})` };
  return {
    kind: "excluded",
    detail: `reserved for ${reserve.for.map((who) => (who === INTERACTIVE ? "interactive prompts" : who)).join(", ")}: ${where}`,
  };
}
