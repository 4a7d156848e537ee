// Turns what a target reported (pi-ai's AssistantMessage.usage, cost computed with the target's prices) into one
// usage record that is safe to add to the ledger: never negative, never NaN. When the provider's numbers are missing
// or do not add up, the record is estimated from the answer's length (about 4 characters per token, the same rule
// pi-ai's faux provider uses), marked `estimated: true` with the reason, and counted like any other. Billed units that
// are no tokens add their cost when every one has a price (usage-units.ts). Pure.
import type { AssistantMessage } from "@mariozechner/pi-ai";
import { type UnitCounts, type UnitPrices, unitsCostUsd, usageUnits } from "../usage-units.ts";

export const CHARACTERS_PER_TOKEN = 4;
export const TOKENS_PER_MILLION = 1_000_000;
/**
 * Reported output below the text-length estimate divided by this is a placeholder, not a count: Anthropic's
 * `message_start` says `output_tokens: 1` and only `message_delta` at the end carries the real number, so a stream
 * that drops mid-answer keeps the 1. No tokenizer packs 16 characters into one token, so honest counts pass.
 */
export const IMPLAUSIBLE_OUTPUT_RATIO = 4;
/** Below this many estimated tokens the text is too short to call any count implausible. */
const MIN_TOKENS_FOR_PLAUSIBILITY = 8;
/** Cost parts may differ from the total by float rounding; beyond this (USD) they are inconsistent. */
const COST_TOLERANCE_USD = 1e-9;
/**
 * No request counts this many tokens in one field (ten times the largest context window offered): a count above it is
 * a broken report (`completion_tokens: 1e308` from a faulty proxy), read as invalid rather than booked as spend that
 * would close the provider's budget for the month.
 */
export const MAX_PLAUSIBLE_TOKENS = 100_000_000;
/** No one request costs this much (USD): a reported cost above it is read as missing, and the prices are used. */
export const MAX_PLAUSIBLE_COST_USD = 10_000;

export interface UsageRecord {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
  estimated?: boolean;
  /** Why it was estimated, for the event log and `budget show`. */
  reason?: string;
  /** Billed units that are no tokens (usage-units.ts): logged; in costUsd when every one has a price. */
  units?: UnitCounts;
}

/** USD per 1M tokens, from the target model's `cost` in pi's registry. */
export interface Pricing {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

export interface ReconcileInput {
  message: AssistantMessage | undefined;
  pricing?: Pricing;
  /** USD per billed unit that is no token (the routes file's `providers.<id>.unitPrices`). */
  unitPrices?: UnitPrices;
  /** The router's estimate of the request's input tokens, used when the provider reported none. */
  estimatedInputTokens?: number;
}

type RawUsage = Partial<AssistantMessage["usage"]> | undefined;

const clean = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
const cleanTokens = (value: unknown): number | undefined => {
  const count = clean(value);
  return count !== undefined && count <= MAX_PLAUSIBLE_TOKENS ? count : undefined;
};
const cleanCost = (value: unknown): number | undefined => {
  const usd = clean(value);
  return usd !== undefined && usd <= MAX_PLAUSIBLE_COST_USD ? usd : undefined;
};

/** How many characters the answer holds (text, thinking, tool calls as name + JSON arguments), without joining them. */
export function answerLength(message: AssistantMessage | undefined): number {
  const blocks = Array.isArray(message?.content) ? message!.content : [];
  let length = 0;
  for (const block of blocks) {
    if (block.type === "text") length += block.text?.length ?? 0;
    else if (block.type === "thinking") length += block.thinking?.length ?? 0;
    else if (block.type === "toolCall")
      length += (block.name?.length ?? 0) + JSON.stringify(block.arguments ?? {}).length;
  }
  return length;
}

export function estimateTokens(characters: number): number {
  return Math.ceil(characters / CHARACTERS_PER_TOKEN);
}

function priced(
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number },
  pricing: Pricing | undefined,
): number {
  if (!pricing) return 0;
  const cost =
    tokens.input * (clean(pricing.input) ?? 0) +
    tokens.output * (clean(pricing.output) ?? 0) +
    tokens.cacheRead * (clean(pricing.cacheRead) ?? 0) +
    tokens.cacheWrite * (clean(pricing.cacheWrite) ?? 0);
  return cost / TOKENS_PER_MILLION;
}

/**
 * pi-ai starts every answer with a usage of zeros and fills it in only when the provider reports one: a stream that
 * brought no usage keeps the zeros. No provider counts a prompt as zero tokens, so all zeros (no units, no cost) is
 * no report, told apart from a reported zero output (its input counted).
 */
export function zeroFilled(usage: NonNullable<RawUsage>): boolean {
  return (
    usage.input === 0 &&
    usage.output === 0 &&
    usage.cacheRead === 0 &&
    usage.cacheWrite === 0 &&
    !usageUnits(usage) &&
    !usage.cost?.total
  );
}

/**
 * The record to count for one attempt, or undefined when there is nothing to count (no usage and no text: a request
 * refused before it produced anything).
 */
export function reconcileUsage(input: ReconcileInput): UsageRecord | undefined {
  const usage = input.message?.usage as RawUsage;
  const characters = answerLength(input.message);
  const reasons: string[] = [];
  if (!usage || zeroFilled(usage)) {
    if (characters === 0) return undefined;
    const output = estimateTokens(characters);
    const estimatedInput = clean(input.estimatedInputTokens) ?? 0;
    const tokens = { input: Math.round(estimatedInput), output, cacheRead: 0, cacheWrite: 0 };
    const what =
      estimatedInput > 0
        ? "input from the request's estimate, output from the text length"
        : "output estimated from the text length";
    return {
      ...tokens,
      costUsd: priced(tokens, input.pricing),
      estimated: true,
      reason: usage
        ? `usage missing (all zero tokens: the provider reported none): ${what}`
        : `usage missing (interrupted stream?): ${what}`,
    };
  }
  const tokenFields = ["input", "output", "cacheRead", "cacheWrite"] as const;
  const tokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  for (const field of tokenFields) {
    const value = cleanTokens(usage[field]);
    if (value === undefined && usage[field] !== undefined)
      reasons.push(`${field} was invalid (${String(usage[field])})`);
    tokens[field] = value ?? 0;
  }
  const tokenSum = tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite;
  const units = usageUnits(usage);
  // Units without a price add nothing: their cost is unknown, not $0 (the final says so by having none).
  const unitsPriced = unitsCostUsd(units, input.unitPrices) ?? 0;
  const unitsCost = cleanCost(unitsPriced) ?? 0;
  if (unitsCost !== unitsPriced)
    reasons.push(
      `units ${JSON.stringify(units)} were invalid (priced at $${unitsPriced}, more than any request costs)`,
    );
  // An answer billed in units alone (a rerank's search units) is a request to count all the same, at its units' price.
  if (tokenSum === 0 && characters === 0 && units && reasons.length === 0)
    return { ...tokens, costUsd: unitsCost, units };
  if (tokenSum === 0 && characters === 0) {
    return reasons.length > 0 ? { ...tokens, costUsd: 0, estimated: true, reason: reasons.join("; ") } : undefined;
  }
  if (
    tokens.input === 0 &&
    tokens.cacheRead === 0 &&
    tokens.cacheWrite === 0 &&
    (clean(input.estimatedInputTokens) ?? 0) > 0
  ) {
    tokens.input = Math.round(input.estimatedInputTokens!);
    reasons.push("zero input tokens reported: input taken from the request's estimate");
  }
  const textTokens = estimateTokens(characters);
  if (tokens.output === 0 && characters > 0) {
    tokens.output = textTokens;
    reasons.push(
      tokenSum === 0
        ? "zero tokens reported for a non-empty answer: output estimated from the text length"
        : "zero output tokens for a non-empty answer: output estimated from the text length",
    );
  } else if (textTokens >= MIN_TOKENS_FOR_PLAUSIBILITY && tokens.output * IMPLAUSIBLE_OUTPUT_RATIO < textTokens) {
    reasons.push(
      `${tokens.output} output tokens reported for ${characters} characters of answer (a placeholder of an interrupted stream?): output estimated from the text length`,
    );
    tokens.output = textTokens;
  }

  const cost = usage.cost;
  const total = cleanCost(cost?.total);
  const parts = cost ? [cost.input, cost.output, cost.cacheRead, cost.cacheWrite].map(cleanCost) : [];
  const partsValid = parts.length === 4 && parts.every((part) => part !== undefined);
  const partsSum = partsValid ? parts.reduce((sum: number, part) => sum + part!, 0) : undefined;
  const fromPrices = priced(tokens, input.pricing);
  let costUsd: number;
  if (reasons.length > 0) {
    costUsd = fromPrices; // tokens were repaired: the provider's cost cannot describe them
  } else if (total === undefined) {
    // Parts that add up to nothing for priced tokens are no reading either (as a reported total of zero is not).
    const fromParts = partsSum !== undefined && (partsSum > 0 || fromPrices === 0);
    costUsd = fromParts ? partsSum! : fromPrices;
    const what = cost?.total === undefined ? "missing" : `was invalid (${String(cost.total)})`;
    reasons.push(
      fromParts
        ? `cost total ${what}: sum of its parts used`
        : `cost ${cost?.total === undefined ? "missing" : `total ${what}`}: computed from the model's prices`,
    );
  } else if (partsSum !== undefined && Math.abs(partsSum - total) > COST_TOLERANCE_USD) {
    costUsd = partsSum;
    reasons.push(`cost total ${total} differs from the sum of its parts ${partsSum}: parts used`);
  } else if (total === 0 && fromPrices > 0) {
    costUsd = fromPrices;
    reasons.push("zero cost reported for priced tokens: computed from the model's prices");
  } else {
    costUsd = total;
  }
  const record: UsageRecord = { ...tokens, costUsd: (clean(costUsd) ?? 0) + unitsCost, ...(units ? { units } : {}) };
  if (reasons.length > 0) {
    record.estimated = true;
    record.reason = reasons.join("; ");
  }
  return record;
}

/**
 * What the budget books for one attempt: nothing for a subscription's answer (its tokens are counted, its list price is
 * no spend), else the reconciled record's cost; $0 when there was nothing to count.
 */
export function bookedCostUsd(input: ReconcileInput & { subscription: boolean }): number {
  return input.subscription ? 0 : (reconcileUsage(input)?.costUsd ?? 0);
}
