// What `/auto-router status` says of a failover.revert hold: when the first choice is probed, read from a decision
// made now, as the next request would make it. A first choice that is resting, behind an open breaker or paced out is
// not probed when the holdoff ends (the revert book probes only a first choice the decision puts first), and a
// stand-in that cannot serve lets the hold go (revert-policy.ts).
import type { Decision, SkippedTarget } from "../routing/types.ts";
import { skippedDetailText } from "../runtime/final-error.ts";
import { formatTimeLeft } from "./format.ts";

export interface HoldView {
  preferred: string;
  standIn: string;
  probing: boolean;
  /** When the holdoff ends (holdoff only; undefined for revert: never). */
  probeAt?: number;
}

/** What ends the skip, in words: "its cooldown ends". */
function skipEnds(skipped: SkippedTarget): string {
  if (skipped.reason === "cooldown") return "its cooldown ends";
  if (skipped.reason === "circuit-open") return "its breaker lets a probe through";
  if (skipped.reason === "quota") return "quota pacing lets it back";
  return "it is available again";
}

/** The part of the hold's line after "on <stand-in> after failing over from <first choice>; ". */
export function holdProbeText(hold: HoldView, decision: Pick<Decision, "candidates" | "skipped">, now: number): string {
  if (hold.probing) return "a probe of the first choice is under way";
  const standInSkip = decision.skipped.find((skipped) => skipped.key === hold.standIn);
  if (standInSkip)
    return `the stand-in cannot serve now (${skippedDetailText(standInSkip)}): the next request lets the hold go`;
  if (hold.probeAt === undefined) return "until it fails (revert: never)";
  const skipped = decision.skipped.find((entry) => entry.key === hold.preferred);
  if (skipped) {
    if (skipped.until === undefined)
      return `the first choice is not probed while it is skipped (${skippedDetailText(skipped)})`;
    if (skipped.until > Math.max(now, hold.probeAt))
      return `probes the first choice when ${skipEnds(skipped)}, in ${formatTimeLeft(skipped.until - now)}`;
  } else if (decision.candidates[0] && decision.candidates[0].key !== hold.preferred)
    return `the first choice is probed once it ranks first again (${decision.candidates[0].key} does now)`;
  return hold.probeAt <= now
    ? "the next request probes the first choice"
    : `probes the first choice in ${formatTimeLeft(hold.probeAt - now)}`;
}
