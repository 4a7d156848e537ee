// The constraint solver: which targets CAN take this request. Capability data that pi's registry does not know is
// permissive (a model from models.json without `input` must not be excluded by guesswork); each rejection says why.
import type { Constraint, Tier } from "../config/routing-schema.ts";
import type { ModelFacts, RequestFeatures, SkipReason } from "./types.ts";

/** Why a target without image input is left out of a request with images (a skipped target's detail). */
export const NO_IMAGE_INPUT = "no image input";

/** `@long` asks for at least this window even for a short prompt: the user expects the conversation to grow. */
export const LONG_TIER_MIN_CONTEXT_TOKENS = 100_000;

/** What a tier requires of a model (the built-in part; `config.tiers[tier].constraint` is merged on top). */
export function tierConstraint(tier: Tier, estimatedTokens: number): Constraint {
  switch (tier) {
    case "long":
      return { minContextWindow: Math.max(estimatedTokens, LONG_TIER_MIN_CONTEXT_TOKENS) };
    case "vision":
      return { vision: true };
    case "reasoning":
    case "swe":
      return { reasoning: true };
    case "fast":
      return {};
  }
}

/**
 * What the request itself needs: images need vision, tools need tool support, the prompt must fit. The output it asks
 * for (`maxTokens`) is not a need: a target with a smaller max output is ranked after those that can give it and the
 * request is capped at its limit (pi's compaction asks for 13k tokens of summary whatever the model).
 */
export function requestConstraint(features: RequestFeatures): Constraint {
  const constraint: Constraint = {};
  if (features.hasImages) constraint.vision = true;
  if (features.hasTools) constraint.tools = true;
  if (features.estimatedTokens > 0) constraint.minContextWindow = features.estimatedTokens;
  return constraint;
}

/** Both at once: a capability required by either is required; the larger minimum wins. */
export function mergeConstraints(into: Constraint, from: Constraint | undefined): Constraint {
  if (!from) return into;
  if (from.vision) into.vision = true;
  if (from.reasoning) into.reasoning = true;
  if (from.tools) into.tools = true;
  if (from.minContextWindow !== undefined)
    into.minContextWindow = Math.max(into.minContextWindow ?? 0, from.minContextWindow);
  if (from.minMaxTokens !== undefined) into.minMaxTokens = Math.max(into.minMaxTokens ?? 0, from.minMaxTokens);
  return into;
}

/**
 * Who asked for each requirement beyond the request's own needs ("rule vision-all"): a target that lacks it was left
 * out by that rule, and the error must name the rule, not blame the route.
 */
export type ConstraintSources = Partial<Record<keyof Constraint, string>>;

/**
 * Who asked for a requirement (a skipped target's `requiredBy`) when it is a prompt's tier shortcut, not a rule: its
 * error says the prompt can go without it (final-error.ts). One spelling, made and recognised here.
 */
export const shortcutRequirement = (tier: string): string => `the @${tier} shortcut`;
export const isShortcutRequirement = (requiredBy: string | undefined): boolean =>
  requiredBy !== undefined && /^the @[a-z-]+ shortcut$/.test(requiredBy);

/** mergeConstraints, noting `who` for each requirement `from` adds or raises. */
export function mergeConstraintsFrom(
  into: Constraint,
  from: Constraint | undefined,
  sources: ConstraintSources,
  who: string,
): Constraint {
  for (const need of Object.keys(from ?? {}) as Array<keyof Constraint>) {
    const wanted = from![need];
    const had = into[need];
    const adds = typeof wanted === "number" ? wanted > ((had as number | undefined) ?? 0) : wanted === true && !had;
    if (adds) sources[need] = who;
  }
  return mergeConstraints(into, from);
}

export interface ConstraintViolation {
  reason: Extract<SkipReason, "capability" | "context-too-small">;
  detail: string;
  /** The requirement the model does not meet. */
  need: keyof Constraint;
}

/**
 * The first requirement the model is known NOT to meet, or undefined. Unknown facts never reject. A window smaller
 * than the prompt (`promptTokens`) is `context-too-small`, which the client may cure by compacting; a window the
 * prompt fits but smaller than a tier's or rule's minimum (`@long`, `minContextWindow`) is a missing capability: no
 * compaction makes that target larger, so the refusal must not read as an overflow (pi would compact and send a
 * summary request for nothing).
 */
export function checkConstraint(
  facts: ModelFacts,
  constraint: Constraint,
  promptTokens?: number,
): ConstraintViolation | undefined {
  if (
    constraint.minContextWindow !== undefined &&
    facts.contextWindow !== undefined &&
    facts.contextWindow < constraint.minContextWindow
  ) {
    if (promptTokens !== undefined && facts.contextWindow >= promptTokens)
      return {
        reason: "capability",
        detail: `context window ${facts.contextWindow} < ${constraint.minContextWindow} tokens asked for by the tier or a rule (the prompt needs ~${promptTokens})`,
        need: "minContextWindow",
      };
    return {
      reason: "context-too-small",
      detail: `context window ${facts.contextWindow} < ${constraint.minContextWindow} tokens needed`,
      need: "minContextWindow",
    };
  }
  if (constraint.vision && facts.vision === false)
    return { reason: "capability", detail: NO_IMAGE_INPUT, need: "vision" };
  if (constraint.reasoning && facts.reasoning === false)
    return { reason: "capability", detail: "not a reasoning model", need: "reasoning" };
  if (constraint.tools && facts.tools === false)
    return { reason: "capability", detail: "no tool support", need: "tools" };
  if (
    constraint.minMaxTokens !== undefined &&
    facts.maxTokens !== undefined &&
    facts.maxTokens < constraint.minMaxTokens
  ) {
    return {
      reason: "capability",
      detail: `max output ${facts.maxTokens} < ${constraint.minMaxTokens} tokens requested`,
      need: "minMaxTokens",
    };
  }
  return undefined;
}

/** True when nothing is known against it: used to re-rank by an intent hint without excluding anyone. */
export const meetsConstraint = (facts: ModelFacts | undefined, constraint: Constraint): boolean =>
  facts === undefined || checkConstraint(facts, constraint) === undefined;

export function describeConstraint(constraint: Constraint): string {
  const parts: string[] = [];
  if (constraint.vision) parts.push("vision");
  if (constraint.reasoning) parts.push("reasoning");
  if (constraint.tools) parts.push("tools");
  if (constraint.minContextWindow !== undefined) parts.push(`context >= ${constraint.minContextWindow}`);
  if (constraint.minMaxTokens !== undefined) parts.push(`max output >= ${constraint.minMaxTokens}`);
  return parts.length ? parts.join(", ") : "none";
}
