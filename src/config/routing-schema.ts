// The parts of the config that steer the decision core: tiers, provider preferences and policy rules.
// Kept apart from schema.ts because src/routing owns their meaning; schema.ts only places them in the file.
import { z } from "zod";
import { timeZoneSchema } from "./time-zone.ts";

export const TIERS = ["reasoning", "swe", "long", "vision", "fast"] as const;
export type Tier = (typeof TIERS)[number];
export const tierSchema = () => z.enum(TIERS);

export const INTENTS = ["code", "creative", "analysis", "general"] as const;
export type Intent = (typeof INTENTS)[number];
export const intentSchema = () => z.enum(INTENTS);

export const BILLING_KINDS = ["subscription", "per-token"] as const;
export type Billing = (typeof BILLING_KINDS)[number];
export const billingSchema = () => z.enum(BILLING_KINDS);

export const SORT_KEYS = ["price", "latency", "throughput"] as const;
export type SortKey = (typeof SORT_KEYS)[number];

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type DayOfWeek = (typeof DAYS)[number];

const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item)]);

/**
 * A provider, as `only`/`ignore`/`order` name them: `anthropic/claude-x` there would match no provider. The gateway
 * checks the names of a request's preferences with this too, in its own words (`error`, for every issue).
 */
export const providerNameSchema = (error?: z.core.$ZodErrorMap) =>
  z
    .string({ error })
    .min(1, { error })
    .regex(/^[^/\\]+$/, {
      error: error ?? "expected a provider name, not provider/model (preferences name providers)",
    })
    // Blank is no name: it matches no provider, so the preference it sits in would do nothing (or leave all out).
    .refine((name) => name.trim() !== "", { error: error ?? "expected a provider name, got a blank string" })
    // `" alpha"` means alpha: kept as sent it matches no provider, and an `ignore` of it would leave alpha serving.
    .trim();

/** OpenRouter vocabulary: https://openrouter.ai/docs/features/provider-routing */
export const providerPreferencesSchema = () =>
  z.strictObject({
    order: z
      .array(providerNameSchema())
      .min(1, 'expected at least one provider (an empty "order" ranks none; leave it out to keep the route\'s order)')
      .optional()
      .describe("Providers to try first, in this order"),
    only: z
      .array(providerNameSchema())
      .min(1, 'expected at least one provider (an empty "only" leaves every target out; leave it out to allow all)')
      .optional()
      .describe("Only these providers may serve"),
    ignore: z.array(providerNameSchema()).optional().describe("These providers never serve"),
    allowFallbacks: z.boolean().optional().describe("false = stop after the providers in `order`"),
    sort: z.enum(SORT_KEYS).optional().describe("Rank by price, latency or throughput instead of the default order"),
    maxPrice: z.number().nonnegative().optional().describe("Highest acceptable USD per 1M output tokens"),
  });
export type ProviderPreferences = z.infer<ReturnType<typeof providerPreferencesSchema>>;

const clockTime = () => z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:MM (24 h)");

export const timeWindowSchema = () =>
  z.strictObject({
    after: clockTime().describe("Window start, inclusive (HH:MM)"),
    before: clockTime().describe("Window end, exclusive (HH:MM); may be earlier than `after` to wrap past midnight"),
    timeZone: timeZoneSchema()
      .optional()
      .describe("IANA time zone, e.g. Europe/Berlin; default: budgets.timeZone, else the local zone"),
  });
export type TimeWindow = z.infer<ReturnType<typeof timeWindowSchema>>;

export interface RuleCondition {
  intent?: Intent | Intent[];
  tier?: Tier | Tier[];
  minTokens?: number;
  maxTokens?: number;
  timeWindow?: TimeWindow;
  daysOfWeek?: DayOfWeek[];
  /** Matches when the target's recent share of bad ratings is above this fraction (0..1). */
  badRatingShareAbove?: number;
  /** With badRatingShareAbove: the ratings a target needs before its share counts (DEFAULT_MIN_RATINGS). */
  minRatings?: number;
  /** With badRatingShareAbove: only ratings from the last this many days count (else a target's last 50, any age). */
  ratingMaxAgeDays?: number;
  /** With badRatingShareAbove: a rating this many days old weighs half as much in the share as one given now. */
  ratingHalfLifeDays?: number;
  all?: RuleCondition[];
  any?: RuleCondition[];
  not?: RuleCondition;
}

/** One bad rating is a 100% share: a share counts once a target has this many ratings (`when.minRatings`). */
export const DEFAULT_MIN_RATINGS = 5;

/** One instance per build: its `all`/`any`/`not` refer back to it. */
export const ruleConditionSchema = (): z.ZodType<RuleCondition> => {
  const condition: z.ZodType<RuleCondition> = z.lazy(() =>
    z.strictObject({
      intent: oneOrMany(intentSchema()).optional(),
      tier: oneOrMany(tierSchema()).optional(),
      minTokens: z.number().int().nonnegative().optional(),
      maxTokens: z.number().int().nonnegative().optional(),
      timeWindow: timeWindowSchema().optional(),
      daysOfWeek: z.array(z.enum(DAYS)).optional(),
      badRatingShareAbove: z.number().min(0).max(1).optional(),
      minRatings: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe(
          `With badRatingShareAbove: ratings a target needs before its share counts (default ${DEFAULT_MIN_RATINGS})`,
        ),
      ratingMaxAgeDays: z
        .number()
        .positive()
        .optional()
        .describe(
          "With badRatingShareAbove: only ratings from the last this many days count, for the share and for minRatings (default: a target's last 50 ratings, however old)",
        ),
      ratingHalfLifeDays: z
        .number()
        .positive()
        .optional()
        .describe(
          "With badRatingShareAbove: a rating this many days old weighs half as much in the share as one given now, one twice as old a quarter (default: every rating counted weighs the same); minRatings still counts ratings",
        ),
      all: z.array(condition).optional(),
      any: z.array(condition).optional(),
      not: condition.optional(),
    }),
  );
  return condition;
};

export const RULE_TYPES = [
  "force-tier",
  "prefer-provider",
  "exclude-provider",
  "require-provider",
  "force-billing",
  "force-constraint",
  "demote-target",
] as const;
export type RuleType = (typeof RULE_TYPES)[number];

export const constraintSchema = () =>
  z.strictObject({
    vision: z.boolean().optional(),
    reasoning: z.boolean().optional(),
    tools: z.boolean().optional(),
    minContextWindow: z.number().int().positive().optional(),
    minMaxTokens: z.number().int().positive().optional(),
  });
export type Constraint = z.infer<ReturnType<typeof constraintSchema>>;

/** The field each rule type cannot do without (a demote-target rule without `targets` demotes every target). */
export const RULE_NEEDS = {
  "force-tier": "tier",
  "prefer-provider": "providers",
  "exclude-provider": "providers",
  "require-provider": "providers",
  "force-billing": "billing",
  "force-constraint": "constraint",
} as const satisfies Partial<Record<RuleType, string>>;

/** The rule types each type-specific field is read by: on a rule of another type it does nothing. */
export const RULE_FIELD_TYPES = {
  tier: ["force-tier"],
  providers: ["prefer-provider", "exclude-provider", "require-provider"],
  targets: ["demote-target"],
  billing: ["force-billing"],
  constraint: ["force-constraint"],
} as const satisfies Record<string, readonly RuleType[]>;

export const policyRuleSchema = () =>
  z
    .strictObject({
      id: z.string().min(1).optional(),
      name: z.string().optional(),
      description: z.string().optional(),
      enabled: z.boolean().optional(),
      priority: z.number().int().min(0).max(1000).optional().describe("Higher runs first; default 0"),
      routes: z
        .array(z.string().min(1))
        .optional()
        .describe("Global rules only: the routes this rule applies to (default all)"),
      type: z.enum(RULE_TYPES),
      tier: tierSchema().optional().describe("force-tier: the tier to use"),
      providers: z.array(z.string().min(1)).optional().describe("prefer/exclude/require-provider: provider names"),
      targets: z
        .array(z.string().min(1))
        .optional()
        .describe("demote-target: provider/modelId of the targets concerned (default all)"),
      billing: billingSchema().optional().describe("force-billing: subscription or per-token"),
      constraint: constraintSchema().optional().describe("force-constraint: capabilities every candidate must have"),
      when: ruleConditionSchema().optional().describe("When the rule applies; absent = always"),
    })
    // parse-config.ts checks RULE_NEEDS with its own messages; this says the same to editors through the JSON Schema.
    .meta({
      allOf: Object.entries(RULE_NEEDS).map(([type, field]) => ({
        if: { properties: { type: { const: type } }, required: ["type"] },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, never awaited
        then: { required: [field] },
      })),
    });
export type PolicyRule = z.infer<ReturnType<typeof policyRuleSchema>>;

export const tierSettingsSchema = () =>
  z.strictObject({
    route: z.string().min(1).optional().describe("Route whose targets serve this tier (default: the active route)"),
    constraint: constraintSchema().optional(),
  });
export type TierSettings = z.infer<ReturnType<typeof tierSettingsSchema>>;
export const tiersSchema = () => z.partialRecord(tierSchema(), tierSettingsSchema());
