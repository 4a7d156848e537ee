// Human-readable lines of a stored decision for `/auto-router explain` and logs. Built only from the Decision
// (DESIGN.md rule 1): nothing is recomputed, so what is shown is what was decided.
import { formatDuration, formatUsd } from "../analytics/text-format.ts";
import type { Candidate, Decision, SkippedTarget } from "./types.ts";

export interface FormatOptions {
  /** Epoch ms used to show "for 42s" for cooldowns; omitted = absolute ISO times. */
  now?: number;
  /** When the decision was made (with `now`): a cooldown is given as it stood then, and what is left of it now. */
  decidedAt?: number;
  /** Also list rules that did not match (default true). */
  showUnmatchedRules?: boolean;
  /** Why a target was skipped, in words (default: its detail as recorded, a cooldown's provider message included). */
  skippedDetail?: (skipped: SkippedTarget) => string;
}

// In the words `uvi`, `list` and `status` use for a time left (`13s`, `12m`, `50h00m`), rounded up to the second;
// undefined for a rest that is over.
function timeLeft(until: number, at: number): string | undefined {
  const seconds = Math.max(0, Math.ceil((until - at) / 1000));
  return seconds === 0 ? undefined : formatDuration(seconds * 1000);
}

function formatUntil(until: number | undefined, options: FormatOptions): string {
  const { now, decidedAt } = options;
  if (until === undefined) return "";
  if (now === undefined) return ` until ${new Date(until).toISOString()}`;
  const left = timeLeft(until, now);
  if (decidedAt === undefined) return left ? ` for ${left}` : " (ended since)";
  // Explain reads a past decision: the rest as it stood when the target was skipped, then what is left of it.
  const then = timeLeft(until, decidedAt);
  if (!then || then === left) return left ? ` for ${left}` : " (ended since)";
  return ` for ${then} then, ${left ? `${left} left now` : "ended since"}`;
}

/** A target's label with its provider/model, or just provider/model when it has no label of its own. */
const named = (target: { label: string; key: string }): string =>
  target.label === target.key ? target.key : `${target.label} [${target.key}]`;

function formatCandidate(candidate: Candidate, position: number): string {
  const facts: string[] = [candidate.billing];
  if (candidate.bucket !== "normal") facts.push(candidate.bucket);
  // Marked as /auto-router list marks it: the earlier router's average was of whole responses, not first tokens.
  if (candidate.ttftMs !== undefined)
    facts.push(`ttft ${Math.round(candidate.ttftMs)} ms${candidate.ttftFromEarlierRouter ? " (earlier router)" : ""}`);
  // A subscription's answer is booked at $0 (budget, ledger, events): its estimate is a list price, not a cost.
  if (candidate.estimatedCostUsd !== undefined)
    facts.push(
      `${candidate.billing === "subscription" ? "list price " : ""}~${formatUsd(candidate.estimatedCostUsd, "estimate")}`,
    );
  if (candidate.probe) facts.push("probe");
  // A stressed quota window is both why the candidate is demoted (a reason) and a warning for the status line: said once.
  const warnings = candidate.warnings.filter((warning) => !candidate.reasons.includes(warning));
  const extra = [...candidate.reasons, ...warnings.map((warning) => `warning: ${warning}`)];
  return `  ${position}. ${named(candidate)} (${facts.join(", ")})${extra.length ? ` - ${extra.join("; ")}` : ""}`;
}

const formatSkipped = (skipped: SkippedTarget, options: FormatOptions): string =>
  `  - ${named(skipped)}: ${skipped.reason}${formatUntil(skipped.until, options)} - ${options.skippedDetail?.(skipped) ?? skipped.detail}${skipped.requiredBy ? ` (asked for by ${skipped.requiredBy})` : ""}`;

export function formatDecision(decision: Decision, options: FormatOptions = {}): string[] {
  const { trace } = decision;
  const lines: string[] = [];
  const switched = decision.routeId !== decision.requestedRouteId ? ` -> ${decision.routeId}` : "";
  lines.push(`Route ${decision.requestedRouteId}${switched}`);
  if (trace.tokens.length) lines.push(`Shortcuts: ${trace.tokens.join(" ")}`);
  lines.push(
    `Request: ~${trace.estimatedTokens} tokens (${trace.contextClass}), intent ${trace.intent} (confidence ${trace.intentConfidence})`,
  );
  lines.push(`Tier: ${trace.tier ? `${trace.tier} from ${trace.tierSource}` : "none"}`);
  for (const hint of trace.hints) lines.push(`Hint: ${hint}`);
  const shownRules = options.showUnmatchedRules === false ? trace.rules.filter((rule) => rule.matched) : trace.rules;
  if (shownRules.length) {
    lines.push("Rules:");
    for (const rule of shownRules) {
      lines.push(
        `  ${rule.matched ? "+" : "-"} ${rule.rule} (${rule.scope}): ${rule.why}${rule.effect ? ` => ${rule.effect}` : ""}`,
      );
    }
  }
  if (decision.candidates.length) {
    lines.push("Candidates:");
    decision.candidates.forEach((candidate, index) => lines.push(formatCandidate(candidate, index + 1)));
  } else {
    lines.push("Candidates: none");
  }
  if (decision.skipped.length) {
    lines.push("Skipped:");
    for (const skipped of decision.skipped) lines.push(formatSkipped(skipped, options));
  }
  if (trace.winner) lines.push(`Winner: ${trace.winner}`);
  if (trace.fallback) lines.push(`Fallback: ${trace.fallback}`);
  if (decision.refusal) lines.push(`Refused: ${decision.refusal}`);
  return lines;
}

/**
 * The decision as the request met it when a hard budget refused candidates right before their attempts and nothing was
 * tried: those candidates are shown as skipped for their budget, and the decision names no winner it never tried.
 * (What was decided is kept; only what the runtime found before any attempt is added.)
 */
export function withRefusedCandidates(
  decision: Decision,
  refused: ReadonlyArray<{ key: string; reason: string }>,
): Decision {
  const why = new Map(refused.map((item) => [item.key, item.reason]));
  const moved = decision.candidates.filter((candidate) => why.has(candidate.key));
  if (moved.length === 0) return decision;
  const candidates = decision.candidates.filter((candidate) => !why.has(candidate.key));
  const skipped: SkippedTarget[] = moved.map((candidate) => ({
    key: candidate.key,
    provider: candidate.provider,
    modelId: candidate.modelId,
    label: candidate.label,
    reason: "budget",
    detail: why.get(candidate.key)!,
  }));
  const winnerRefused = why.has(decision.candidates[0]!.key);
  return {
    ...decision,
    candidates,
    skipped: [...decision.skipped, ...skipped],
    trace: { ...decision.trace, winner: winnerRefused ? undefined : decision.trace.winner },
  };
}
