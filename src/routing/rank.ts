// Ranking of the candidates that survived every filter. Buckets first (promoted / normal / demoted, filled by the
// quota audit and demote-target rules), then inside a bucket, in this order:
//   1. preferred providers (preferences `order`, then prefer-provider rules), by their position in that list;
//   2. an intent-only tier hint: targets meeting the hinted tier's constraints first;
//   3. an explicit sort (`@sort=` / preferences.sort / route sortBy price|latency): known values first, then best;
//   4. billing: subscription before per-token (its marginal cost is zero);
//   5. latency: EWMA time to first token, in bands: the fastest measured time opens the first band, a time within 10% of
//      its band's first stays in it; a target not measured yet counts in the first band (as fast as the fastest, until
//      a request measures it). Bands, not pairwise comparisons, keep the order one for every declared order: "unknown
//      ties with everything" made it depend on the declaration (a slow cheap target could rank above a fast one);
//   6. estimated cost, known before unknown (unknown prices keep declared order among themselves); for
//      two subscriptions, both booked at $0, this is their list price and breaks the tie only;
//   7. declared order.
// `sortBy: "config"` keeps buckets and then declared order only; a prompt's `@sort=` on such a route (mode
// `config:<key>`) ranks by that key and then declared order, without the preferences and hints the route opted out of.
import { formatUsd } from "../analytics/text-format.ts";
import type { Billing, SortKey } from "../config/routing-schema.ts";
import type { Bucket, Candidate } from "./types.ts";

/** Latencies within this ratio are a tie: EWMA noise must not reshuffle the order on every request. */
export const LATENCY_TIE_RATIO = 0.1;

export type RankMode = "auto" | "config" | SortKey | `config:${SortKey}`;

/** The explicit sort key of a mode, if any. */
const sortKeyOf = (mode: RankMode): SortKey | undefined =>
  mode === "auto" || mode === "config"
    ? undefined
    : mode.startsWith("config:")
      ? (mode.slice(7) as SortKey)
      : (mode as SortKey);

export interface RankEntry {
  candidate: Candidate;
  /** Position in the preferred-provider list; Infinity when not preferred. */
  preferredRank: number;
  meetsHint: boolean;
  tokensPerSecond?: number;
  /** Its first-token time's band among the entries ranked together (rankEntries sets it; see the header). */
  latencyBand?: number;
}

const BUCKET_ORDER: Record<Bucket, number> = { promoted: 0, normal: 1, demoted: 2 };
const BILLING_ORDER: Record<Billing, number> = { subscription: 0, "per-token": 1 };

export type RankKey = "bucket" | "preferred" | "hint" | "sort" | "latency" | "billing" | "cost" | "declared";

/** Lower first; undefined after known. */
function compareKnownFirst(a: number | undefined, b: number | undefined): number {
  if (a === undefined) return b === undefined ? 0 : 1;
  if (b === undefined) return -1;
  return a - b;
}

/** Higher throughput first, through the lower-first comparison. */
const negate = (value: number | undefined) => (value === undefined ? undefined : -value);

/** Two entries' latency order: by their bands; two entries compared outside a ranking, by their times alone. */
function compareLatency(a: RankEntry, b: RankEntry): number {
  if (a.latencyBand !== undefined && b.latencyBand !== undefined) return a.latencyBand - b.latencyBand;
  const ta = a.candidate.ttftMs,
    tb = b.candidate.ttftMs;
  if (ta === undefined || tb === undefined) return 0;
  const low = Math.min(ta, tb);
  if (Math.abs(ta - tb) <= low * LATENCY_TIE_RATIO) return 0;
  return ta - tb;
}

/** Sets each entry's latency band (see the header): a key of its own, so the ranking is one order. */
function assignLatencyBands(entries: RankEntry[]): void {
  const measured = entries
    .filter((entry) => entry.candidate.ttftMs !== undefined)
    .sort((a, b) => a.candidate.ttftMs! - b.candidate.ttftMs!);
  let band = 0;
  let bandStart: number | undefined;
  for (const entry of measured) {
    const ttft = entry.candidate.ttftMs!;
    if (bandStart === undefined) bandStart = ttft;
    else if (ttft - bandStart > bandStart * LATENCY_TIE_RATIO) {
      band += 1;
      bandStart = ttft;
    }
    entry.latencyBand = band;
  }
  for (const entry of entries) if (entry.candidate.ttftMs === undefined) entry.latencyBand = 0;
}

/** The first key that separates `a` from `b`, and its sign (negative = a first). */
export function compareEntries(a: RankEntry, b: RankEntry, mode: RankMode): { order: number; key: RankKey } {
  return compareBy(a, b, keepsDeclaredOrder(mode), sortKeyOf(mode));
}

/** `sortBy: "config"` (with or without a prompt's sort key): preferences' order and the tier hint do not reorder. */
export const keepsDeclaredOrder = (mode: RankMode): boolean => mode === "config" || mode.startsWith("config:");

/** `declared`: the route keeps its declared order (sortBy config), after the prompt's sort key if it gave one. */
function compareBy(
  a: RankEntry,
  b: RankEntry,
  declared: boolean,
  sort: SortKey | undefined,
): { order: number; key: RankKey } {
  const ca = a.candidate,
    cb = b.candidate;
  let order = BUCKET_ORDER[ca.bucket] - BUCKET_ORDER[cb.bucket];
  if (order !== 0) return { order, key: "bucket" };
  if (!declared) {
    if (a.preferredRank !== b.preferredRank)
      return { order: a.preferredRank < b.preferredRank ? -1 : 1, key: "preferred" };
    if (a.meetsHint !== b.meetsHint) return { order: a.meetsHint ? -1 : 1, key: "hint" };
  }
  if (sort === "price") order = compareKnownFirst(ca.estimatedCostUsd, cb.estimatedCostUsd);
  else if (sort === "latency") order = compareKnownFirst(ca.ttftMs, cb.ttftMs);
  else if (sort === "throughput") order = compareKnownFirst(negate(a.tokensPerSecond), negate(b.tokensPerSecond));
  if (order !== 0) return { order, key: "sort" };
  if (!declared) {
    // Subscriptions before per-token money, then the faster one within each: a per-token target a little faster than
    // a subscription would otherwise take every request (and the subscription's latency would never be measured
    // again). `sortBy: "latency"` (or `@sort=latency`) ranks by speed alone.
    order = BILLING_ORDER[ca.billing] - BILLING_ORDER[cb.billing];
    if (order !== 0) return { order, key: "billing" };
    order = compareLatency(a, b);
    if (order !== 0) return { order, key: "latency" };
    // Known prices before unknown ones (which keep declared order among themselves): "unknown ties with every price"
    // would make the order depend on the declaration, as for latency.
    order = compareKnownFirst(ca.estimatedCostUsd, cb.estimatedCostUsd);
    if (order !== 0) return { order, key: "cost" };
  }
  return { order: ca.declaredIndex - cb.declaredIndex, key: "declared" };
}

/**
 * Stable insertion sort: lists are about ten long, and the latency/cost keys only compare known values, so a
 * deterministic pass in declared order matters more than asymptotics.
 */
export function rankEntries(entries: RankEntry[], mode: RankMode): RankEntry[] {
  const declared = mode === "config" || mode.startsWith("config:");
  const sort = sortKeyOf(mode);
  assignLatencyBands(entries);
  for (let index = 1; index < entries.length; index++) {
    const entry = entries[index];
    let position = index - 1;
    while (position >= 0 && compareBy(entries[position], entry, declared, sort).order > 0) {
      entries[position + 1] = entries[position];
      position--;
    }
    entries[position + 1] = entry;
  }
  return entries;
}

/** A demoted candidate's reasons without their details: "quota stressed", "demoted by rule no-opus". */
const demotionOf = (candidate: Candidate): string =>
  candidate.reasons.map((reason) => reason.split(":")[0]).join("; ") || "demoted";

/**
 * The demoted entries that would have ranked ahead of `first` in its bucket: "first in declared order" would be untrue
 * of a winner that only leads because the declared first was demoted.
 */
function passedOver(entries: readonly RankEntry[], first: RankEntry, mode: RankMode): RankEntry[] {
  const bucket = first.candidate.bucket;
  return entries.filter(
    (entry) =>
      entry.candidate.bucket === "demoted" &&
      bucket !== "demoted" &&
      compareEntries({ ...entry, candidate: { ...entry.candidate, bucket } }, first, mode).order < 0,
  );
}

/** Why the first entry is ahead of the second, in plain words (for trace.winner). */
export function explainWinner(entries: readonly RankEntry[], mode: RankMode, hintTier?: string): string {
  const first = entries[0];
  if (!first) return "no candidate";
  const label = first.candidate.label;
  if (entries.length === 1) return `${label}: the only eligible target`;
  const second = entries[1]!;
  const { key } = compareEntries(first, second, mode);
  const passed = passedOver(entries, first, mode);
  if (key === "bucket") {
    const a = first.candidate,
      b = second.candidate;
    const why = passed.includes(second) ? `: ${demotionOf(b)}` : "";
    const others = passed.filter((entry) => entry !== second);
    return `${label}: ${a.bucket} bucket ahead of ${b.label} (${b.bucket}${why})${others.length ? `; ${demotions(others)}` : ""}${a.reasons.length ? `; ${a.reasons.join("; ")}` : ""}`;
  }
  const reason = rankReason(first, second, key, mode, hintTier);
  return passed.length ? `${label}: ${demotions(passed)}; then ${reason}` : `${label}: ${reason}`;
}

const demotions = (passed: readonly RankEntry[]): string =>
  passed.map((entry) => `${entry.candidate.label} demoted (${demotionOf(entry.candidate)})`).join("; ");

/** A candidate's time to first token; the earlier router's whole-response average standing in for one says so. */
const ttftText = (candidate: Candidate): string =>
  `${candidate.ttftFromEarlierRouter ? "earlier router's " : ""}${Math.round(candidate.ttftMs!)} ms`;

/** Why `first` is ahead of `second` in one bucket, by the key that separates them. */
function rankReason(
  first: RankEntry,
  second: RankEntry,
  key: Exclude<RankKey, "bucket">,
  mode: RankMode,
  hintTier: string | undefined,
): string {
  const a = first.candidate,
    b = second.candidate;
  switch (key) {
    case "preferred":
      return `preferred provider ${a.provider}`;
    case "hint":
      return `meets the ${hintTier ?? "hinted"} tier, ${b.label} does not`;
    case "sort": {
      const sort = sortKeyOf(mode);
      if (sort === "price")
        return `cheapest (${a.estimatedCostUsd === undefined ? "?" : `${a.billing === "subscription" ? "list price " : ""}${formatUsd(a.estimatedCostUsd, "estimate")}`}${a.billing === "subscription" ? "; a subscription, booked at $0" : ""})`;
      if (sort === "latency") return `fastest first token (${a.ttftMs === undefined ? "? ms" : ttftText(a)})`;
      return `highest throughput (${first.tokensPerSecond === undefined ? "?" : Math.round(first.tokensPerSecond)} tokens/s)`;
    }
    case "latency":
      return a.ttftMs === undefined
        ? `first token not measured yet, counted as fast as the fastest (${ttftText(b)} for ${b.label})`
        : `faster first token (${ttftText(a)} vs ${ttftText(b)} for ${b.label})`;
    case "billing":
      return `subscription before per-token ${b.label}`;
    case "cost": {
      if (b.estimatedCostUsd === undefined) return `known price, ${b.label}'s is not known`;
      const prices = `${formatUsd(a.estimatedCostUsd ?? 0, "estimate")} vs ${formatUsd(b.estimatedCostUsd ?? 0, "estimate")} for ${b.label}`;
      // Billing ranks first, so both are subscriptions or neither. A subscription's answer is booked at $0: its list
      // price only breaks the tie, it is no saving.
      return a.billing === "subscription"
        ? `lower list price (${prices}; both subscriptions, booked at $0)`
        : `cheaper (${prices})`;
    }
    case "declared":
      return mode === "config"
        ? "first in declared order (sortBy config)"
        : mode.startsWith("config:")
          ? `first in declared order (sortBy config) at equal ${sortKeyOf(mode)}`
          : "first in declared order at equal rank";
  }
}
