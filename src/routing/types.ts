// The contract between the pure decision core (src/routing) and its callers (runtime, commands, replay script).
// Everything route() needs arrives in a RouteRequest and a RoutingSnapshot; nothing is read from the world.
import type { Billing, Intent, ProviderPreferences, Tier } from "../config/routing-schema.ts";
import type { RouterConfig } from "../config/schema.ts";

/** `provider/modelId`: identifies a target model across routes. */
export type TargetKey = string;
export const targetKey = (provider: string, modelId: string): TargetKey => `${provider}/${modelId}`;
/**
 * Output assumed for the cost estimate when the caller did not say (pi rarely sets maxTokens), and for a hard budget's
 * first request of a model whose asked-for output alone is above the limit.
 */
export const ASSUMED_OUTPUT_TOKENS = 1_000;

/** Route-scoped key for state that is kept per route+target (cooldowns). */
export const routeTargetKey = (routeId: string, key: TargetKey): string => `${routeId}::${key}`;

// ---- request ---------------------------------------------------------------------------------------------------

/** What the user asked for at the start of the prompt (`@reasoning`, `@only=anthropic`, ...), already stripped. */
export interface PromptShortcuts {
  /** Tier shortcuts in the order written. */
  tiers: Tier[];
  preferences: ProviderPreferences;
  /** The raw tokens that were recognised, for the trace. */
  tokens: string[];
}

export type ContextClass = "short" | "medium" | "long" | "epic";

/** Features of one request: what the decision depends on, never the prompt text (logged for offline replay). */
export interface RequestFeatures {
  estimatedTokens: number;
  contextClass: ContextClass;
  hasImages: boolean;
  hasTools: boolean;
  intent: Intent;
  /** 0..1; below the threshold the intent gives no tier hint. */
  intentConfidence: number;
  /** Largest output the caller asked for (options.maxTokens), if any. */
  requestedMaxTokens?: number;
}

export interface RouteRequest {
  routeId: string;
  features: RequestFeatures;
  shortcuts?: PromptShortcuts;
  /** A person typed this prompt into pi (input source "interactive"); quota reserves can be kept for them. */
  interactive?: boolean;
  /**
   * The targets the request can be sent to at all (the gateway's wildcard proxy: those whose provider advertises the
   * path); the route's others are no options: left out before anything is assessed, as if the route did not list them.
   */
  serves?: (target: { provider: string; modelId: string }) => boolean;
}

// ---- snapshot --------------------------------------------------------------------------------------------------

/** What pi's model registry says about one target, resolved at the edge (index/runtime). Absent fields = unknown. */
export interface ModelFacts {
  /** registry.find() returned a model. */
  resolvable: boolean;
  /** registry.hasConfiguredAuth() for it, and its credentials resolved when last used. */
  hasCredentials: boolean;
  /** Why it has none, when more is known than "not configured" (e.g. its key command failed). */
  credentialsProblem?: string;
  /** pi authenticates it with OAuth (a subscription). */
  usesOAuth?: boolean;
  contextWindow?: number;
  maxTokens?: number;
  reasoning?: boolean;
  /** It offers the `xhigh` thinking level (its thinkingLevelMap maps it). */
  xhigh?: boolean;
  vision?: boolean;
  tools?: boolean;
  /** USD per 1M tokens. */
  pricing?: { input: number; output: number };
}

export interface CooldownEntry {
  until: number;
  kind: string;
  message?: string;
  /** The provider named the reset time (a retry hint), so `until` is the reset, not a default guess. */
  resetKnown?: boolean;
}

export type BreakerState = "closed" | "open" | "half-open";

/** Live per-target state, from the stores. */
export interface TargetStatus {
  breaker?: { state: BreakerState; until?: number; probeInFlight?: boolean };
  /** EWMA of time to first token, ms. */
  ttftMs?: number;
  /** ttftMs is the earlier router's whole-response average for the provider, carried over until one is measured. */
  ttftFromEarlierRouter?: true;
  /** EWMA of output tokens per second. */
  tokensPerSecond?: number;
  /** Share (0..1) of recent ratings that were bad, and how many ratings that share is based on. */
  badRatingShare?: number;
  ratingCount?: number;
  /** The same ratings, oldest first, for a rule that counts recent ones or weighs them by age (`ratingMaxAgeDays`, ...). */
  ratings?: readonly RatingMark[];
}

/** One rating of a target: when it was given, and whether it was bad. */
export interface RatingMark {
  at: number;
  bad: boolean;
}

export type AuditLevel = "ok" | "warning" | "blocked";
export type QuotaLevel = "surplus" | "ok" | "stressed" | "critical";

/** Quota pacing's verdict; `usedFraction` (0..1) and `window` name the fullest quota window, for reserves. */
export interface QuotaStatus {
  level: QuotaLevel;
  uvi?: number;
  detail: string;
  usedFraction?: number;
  window?: string;
  /** When the fullest window (`window`) resets (epoch ms): a quota reserve it crossed lasts until then at least. */
  windowResetsAt?: number;
  /** Critical: when no window is critical any more if no more is used (epoch ms), for "First available". */
  until?: number;
  /** Stressed or critical: when no window is either any more if no more is used (hard mode excludes until then). */
  calmUntil?: number;
}

/** Per-provider audits filled by the budget, quota and health modules. */
export interface ProviderStatus {
  /**
   * `spendUnknown`: blocked because the spend cannot be read now (team store down), not because it is over.
   * `refused`: a hard limit's reservation refuses what a request is expected to cost, although the spend alone is
   * under the limit (the level says the spend's share); route() does not read it, the attempt's reservation decides.
   */
  budget?: { level: AuditLevel; detail: string; spendUnknown?: boolean; refused?: string };
  /** The provider-wide quota windows: every model of the provider draws on them. */
  quota?: QuotaStatus;
  /**
   * Windows only some models draw on (Anthropic's weekly Opus limit, a Gemini CLI bucket), one entry per scope with
   * its own windows only, `models` saying which ("opus models"). For showing; routing reads `quotaByModel`.
   */
  scopedQuota?: Array<QuotaStatus & { models: string }>;
  /** Per routed model id that a scoped window covers: its provider-wide and scoped windows together. */
  quotaByModel?: ReadonlyMap<string, QuotaStatus>;
  /**
   * The same without the monthly budget's window, which paces what the provider's per-token targets spend: it is
   * what paces its subscription targets, whose answers cost nothing of the budget. Set only while such a window is
   * live; `{}` when it is the provider's only one.
   */
  subscriptionQuota?: Pick<ProviderStatus, "quota" | "quotaByModel">;
  /** Set when health checks keep failing: the provider is skipped with this reason. */
  unhealthy?: string;
  /** When that mark lapses (epoch ms), unless a check clears it sooner. */
  unhealthyUntil?: number;
}

export interface RoutingSnapshot {
  config: RouterConfig;
  models: Record<TargetKey, ModelFacts>;
  /** Cooldowns are kept per route+target: keyed by routeTargetKey(routeId, targetKey). */
  cooldowns: Record<string, CooldownEntry>;
  targets: Record<TargetKey, TargetStatus>;
  providers: Record<string, ProviderStatus>;
  budgetPolicy: "soft" | "hard";
  /** Hard quota mode: stressed providers are excluded, not only demoted. */
  quotaHard: boolean;
  /** The user's time zone for rule time windows without their own zone, resolved at the edge (never read here). */
  timeZone: string;
}

// ---- decision --------------------------------------------------------------------------------------------------

export type SkipReason =
  | "disabled"
  | "missing-model"
  | "no-credentials"
  | "unhealthy"
  | "cooldown"
  | "circuit-open"
  | "capability"
  | "context-too-small"
  | "excluded-by-rule"
  | "provider-preference"
  | "price"
  | "budget"
  | "quota";

export type Bucket = "promoted" | "normal" | "demoted";

export interface Candidate {
  key: TargetKey;
  provider: string;
  modelId: string;
  label: string;
  /** Position in the route as declared (0-based). */
  declaredIndex: number;
  bucket: Bucket;
  billing: Billing;
  /** Why it sits where it does ("preferred provider", "budget 85% used", ...). */
  reasons: string[];
  /** Warnings to surface (budget >= 80%, quota stressed). */
  warnings: string[];
  estimatedCostUsd?: number;
  ttftMs?: number;
  /** ttftMs is the earlier router's whole-response average (TargetStatus.ttftFromEarlierRouter), shown as such. */
  ttftFromEarlierRouter?: true;
  /** Half-open breaker: this attempt is the single probe. */
  probe?: boolean;
  /** The account this target bills and draws quota from (accountOf its target in the route). */
  account: string;
}

export interface SkippedTarget {
  key: TargetKey;
  provider: string;
  modelId: string;
  label: string;
  reason: SkipReason;
  detail: string;
  /** For cooldown / circuit-open: when it becomes available again (epoch ms). */
  until?: number;
  /** For a capability the request itself does not need: the rule that asked for it ("rule vision-all"). */
  requiredBy?: string;
}

export interface RuleTrace {
  rule: string;
  scope: "global" | "route";
  matched: boolean;
  why: string;
  effect?: string;
}

export interface DecisionTrace {
  tokens: string[];
  tier?: Tier;
  tierSource: "shortcut" | "rule" | "intent" | "none";
  intent: Intent;
  intentConfidence: number;
  estimatedTokens: number;
  contextClass: ContextClass;
  rules: RuleTrace[];
  /** Hints applied to ranking, in plain words. */
  hints: string[];
  /** Why candidates[0] won. */
  winner?: string;
  /** Set when every candidate was excluded by soft reasons and the configured fallback was used. */
  fallback?: string;
  /** What had left every target out when the fallback was used: policy rules, budgets, or both. */
  fallbackBy?: Array<"rule" | "budget">;
}

export interface Decision {
  /** The route the user selected. */
  requestedRouteId: string;
  /** The route whose targets were used (differs when a tier points to another route). */
  routeId: string;
  candidates: Candidate[];
  skipped: SkippedTarget[];
  trace: DecisionTrace;
  /** Declared order of the eligible targets, for shadow-mode comparison. */
  declaredOrder: TargetKey[];
  /** Set when the request must not be served at all (hard budget): the message for the user. */
  refusal?: string;
  /** Why, for a caller that answers in another protocol (the gateway's HTTP status). */
  refusalKind?: RefusalKind;
}

/**
 * Why a request was refused before any attempt: its route is not in the config, every target is over a hard budget,
 * or a hard budget's spend cannot be read now (the team store is down), which passes once it can; or (the runtime's
 * verdict) every target is left out by the request itself (its provider preferences, a capability such as images
 * that none has: "no-match"), or for reasons that waiting does not change (no credentials, not in pi's registry,
 * disabled: "unservable"), which a retry would meet again.
 */
export type RefusalKind = "unknown-route" | "over-budget" | "spend-unknown" | "no-match" | "unservable";

/**
 * The quota that paces one model of a provider: its own when a model-scoped window covers it, else the provider's;
 * for a subscription target, without the monthly budget's window (its answers spend nothing of the budget).
 */
export function quotaOfModel(
  status: ProviderStatus | undefined,
  modelId: string,
  billing?: Billing,
): QuotaStatus | undefined {
  const paced = billing === "subscription" ? (status?.subscriptionQuota ?? status) : status;
  return paced?.quotaByModel?.get(modelId) ?? paced?.quota;
}

/**
 * How a candidate's notes begin where something other than the config moved it (a quota's pace, a soft budget's
 * fallback): written by assess-targets.ts and soft-fallback.ts, read back from the event log by routing-replay.
 */
export const CANDIDATE_NOTE = {
  quotaStressed: "quota stressed: ",
  quotaSurplus: "quota surplus: ",
  budgetBlocked: "budget blocked: ",
  fallback: "fallback: ",
} as const;

/** How a target bills: as configured, else a subscription when pi signs in with OAuth for it. */
export const billingOf = (target: { billing?: Billing }, facts: { usesOAuth?: boolean } | undefined): Billing =>
  target.billing ?? (facts?.usesOAuth ? "subscription" : "per-token");

/** The account a target bills and draws quota from: its authProvider (shared credentials), else its provider. */
export const accountOf = (target: { provider: string; authProvider?: string }): string =>
  target.authProvider ?? target.provider;
