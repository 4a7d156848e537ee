// The one schema of auto-router.routes.json (DESIGN.md rule 8): TypeScript types and the JSON Schema come from here.
import { z } from "zod";
import { billingSchema, policyRuleSchema, providerPreferencesSchema, tiersSchema } from "./routing-schema.ts";
import { breakerConfigSchema, uviConfigSchema } from "./quota-schema.ts";
import { gatewaySchema, proxyProvidersSchema, timerMs } from "./gateway-schema.ts";
import { stateConfigSchema } from "./state-schema.ts";
import { timeZoneSchema } from "./time-zone.ts";
import { floorAmountSchema } from "./floor-amount.ts";
import { endpointUrlSchema } from "./endpoint-url.ts";
import {
  quotaSchema,
  REVERT_MODES,
  requestBodySchema,
  requestHeadersSchema,
  retryBeforeFailoverSchema,
  waitForResetSchema,
} from "./subscription-schema.ts";
import { FAILURE_KINDS, type FailureKind } from "../runtime/failure-kinds.ts";

/** Every failure kind but `aborted`: an abort is never a failure, so no policy applies to it. */
export const FAILURE_KIND_NAMES = FAILURE_KINDS.filter(
  (kind): kind is Exclude<FailureKind, "aborted"> => kind !== "aborted",
);

// At most Node's longest timer: a longer one fires at once (a requestMs of 3e9 timed every request out).
const milliseconds = () => timerMs(z.number().int().nonnegative());

export const timeoutsSchema = () =>
  z.strictObject({
    firstTokenMs: milliseconds()
      .optional()
      .describe("No text/tool call within this time: abort the attempt and fail over (0 = off)"),
    stallMs: milliseconds().optional().describe("No stream event for this long: abort the attempt (0 = off)"),
    thinkingStallMs: milliseconds()
      .optional()
      .describe(
        "Inside a thinking block, no stream event for this long: abort the attempt (default 600000; applies when longer than stallMs)",
      ),
    requestMs: milliseconds().optional().describe("Passed to the target SDK as its HTTP timeout (0 = SDK default)"),
  });
export type Timeouts = z.infer<ReturnType<typeof timeoutsSchema>>;

export const failureKindPolicySchema = () =>
  z.strictObject({
    failover: z.boolean().optional(),
    cooldownMs: milliseconds().optional(),
  });

export const failoverSchema = () =>
  z.strictObject({
    kinds: z
      .partialRecord(z.enum(FAILURE_KIND_NAMES), failureKindPolicySchema())
      .optional()
      .describe("Per failure kind: fail over or not, and the default cooldown"),
    maxAttempts: z.number().int().positive().optional().describe("Most targets tried for one request"),
    cooldownWaitMs: milliseconds()
      .optional()
      .describe("When every target is cooling down, wait this long at most for the first to come back (default 30000)"),
    agentRetry: z
      .boolean()
      .optional()
      .describe(
        "Let pi's own agent-level retry re-run the route when every target failed with a transient error (default true)",
      ),
    revert: z
      .enum(REVERT_MODES)
      .optional()
      .describe(
        "After a failover, when to go back to the first choice: cooldown-expiry (default), holdoff (stay holdoffMs, then probe with one request), never",
      ),
    holdoffMs: milliseconds()
      .optional()
      .describe("revert: holdoff: how long to stay on the target that took over (default 300000)"),
    pinUpstream: z
      .boolean()
      .optional()
      .describe(
        "Keep an OpenRouter target on the upstream that served the session's first answer from it (default true)",
      ),
    waitForReset: waitForResetSchema()
      .optional()
      .describe(
        "When every target is out of quota with a known reset, wait for the earliest reset if it is within maxMs (opt-in)",
      ),
  });
export type FailoverSettings = z.infer<ReturnType<typeof failoverSchema>>;

export const targetSchema = () =>
  z.strictObject({
    provider: z
      .string()
      .min(1)
      .describe("pi provider name, e.g. anthropic, openai-codex, google, deepseek, or one from models.json"),
    modelId: z.string().min(1).describe("Model id inside that provider"),
    label: z.string().optional(),
    authProvider: z
      .string()
      .min(1)
      .optional()
      .describe("Provider whose credentials and quota apply (default: provider)"),
    billing: billingSchema()
      .optional()
      .describe("subscription or per-token (default: subscription when pi uses OAuth for it)"),
    balanceEndpoint: endpointUrlSchema().optional().describe("Override of the provider's balance API URL"),
    enabled: z.boolean().optional(),
    probe: z
      .boolean()
      .optional()
      .describe(
        "false: health probes (/auto-router health --probe, the gateway's /health/providers?probe=1) do not call this target, e.g. an embeddings model kept for the wildcard proxy, which cannot answer a chat probe",
      ),
    timeouts: timeoutsSchema().optional(),
    retryBeforeFailover: retryBeforeFailoverSchema()
      .optional()
      .describe("Retry this target on a short blip before failing over (quota failures still move on at once)"),
    headers: requestHeadersSchema().optional(),
    body: requestBodySchema().optional(),
  });
export type TargetConfig = z.infer<ReturnType<typeof targetSchema>>;

export const SORT_BY = ["auto", "config", "price", "latency"] as const;

/** `policyRule` is shared with the global rules, so their recursive condition is one schema (one JSON Schema $def). */
export const routeSchema = (policyRule = policyRuleSchema()) =>
  z.strictObject({
    name: z.string().optional().describe("Display name in /model"),
    description: z.string().optional(),
    reasoning: z.boolean().optional().describe("Default: true when any target reasons"),
    input: z
      .array(z.enum(["text", "image"]))
      .optional()
      .describe("Default: the union of the targets' inputs"),
    contextWindow: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Default: the smallest window among resolvable targets"),
    maxTokens: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Default: the smallest maxTokens among resolvable targets"),
    sortBy: z.enum(SORT_BY).optional().describe("auto = full ranking (default); config = declared order"),
    targets: z.array(targetSchema()).min(1),
    policyRules: z.array(policyRule).optional(),
    preferences: providerPreferencesSchema().optional(),
    timeouts: timeoutsSchema().optional(),
    failover: failoverSchema().optional(),
  });
export type RouteConfig = z.infer<ReturnType<typeof routeSchema>>;

export const budgetLimitSchema = () =>
  z.strictObject({
    daily: z.number().nonnegative().optional().describe("USD per calendar day"),
    monthly: z.number().nonnegative().optional().describe("USD per calendar month"),
    balanceFloor: floorAmountSchema()
      .optional()
      .describe('Block the provider when its prepaid balance falls below this: USD, or "30 CNY" in another currency'),
  });

export const budgetsSchema = () =>
  z.strictObject({
    policy: z
      .enum(["soft", "hard"])
      .optional()
      .describe("soft: when every candidate is over budget, route anyway and say so; hard: fail with a budget message"),
    timeZone: timeZoneSchema().optional().describe("IANA zone of the day/month calendar (default: local)"),
    providers: z.record(z.string().min(1), budgetLimitSchema()).optional(),
  });
export type BudgetsConfig = z.infer<ReturnType<typeof budgetsSchema>>;

export const eventLogSchema = () =>
  z.strictObject({
    enabled: z.boolean().optional(),
    maxBytes: z.number().int().positive().optional(),
    keepFiles: z
      .number()
      .int()
      .min(1, "expected at least 1: how many rotated files are kept (set `enabled: false` for no event log)")
      .optional()
      .describe("How many rotated files are kept (default 5, at least 1)"),
  });

/**
 * Built on each use, not kept: a config is parsed at start and when its file changes, and the schema (~400 schema
 * objects with their descriptions, ~0.5 MiB of heap) would otherwise stay for the life of the process.
 */
export const routerConfigSchema = () => {
  const policyRule = policyRuleSchema();
  return z.strictObject({
    $schema: z.string().optional(),
    version: z.number().int().optional(),
    defaultRoute: z
      .string()
      .optional()
      .describe(
        'Not used (warned about): pi starts on the model its settings.json names ("defaultProvider": "auto-router", "defaultModel": "<route>")',
      ),
    routes: z
      .record(
        z
          .string()
          // Capitals are fine (pi's `/model auto-router/<id>` takes them), written out rather than with the `i` flag:
          // JSON Schema patterns have no flags, so the generated schema would reject them (json-schema.ts refuses).
          .regex(
            /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
            "a route id may contain only letters, digits, dots, underscores and dashes, and starts with a letter or digit (no spaces)",
          ),
        routeSchema(policyRule),
      )
      .describe("Your routes; a file without them keeps the built-in routes and adds its other settings to them"),
    aliases: z
      .record(z.string().min(1), z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]))
      .optional()
      .describe(
        "Short names for routes or provider/model ids, used by /auto-router switch and resolve; a list names candidates in order (the first usable one is taken)",
      ),
    logDir: z
      .string()
      .optional()
      .describe(
        "Where state files and the event log live (default <agentDir>/extensions); a relative path is relative to the routes file's directory",
      ),
    policyRules: z.array(policyRule).optional().describe("Global rules; `routes` scopes one to some routes"),
    preferences: providerPreferencesSchema().optional().describe("Default provider preferences for every route"),
    tiers: tiersSchema().optional(),
    timeouts: timeoutsSchema().optional(),
    failover: failoverSchema().optional(),
    budgets: budgetsSchema().optional(),
    eventLog: eventLogSchema().optional(),
    uvi: uviConfigSchema().optional(),
    breaker: breakerConfigSchema().optional(),
    gateway: gatewaySchema().optional().describe("`pi-auto-router serve`: model name mapping and HTTP limits"),
    providers: proxyProvidersSchema()
      .optional()
      .describe(
        "Per provider: the endpoint paths the gateway's wildcard proxy forwards to it, and the prices of its units that are no tokens",
      ),
    state: stateConfigSchema().optional().describe("Team mode: share routing state across machines on Redis/Valkey"),
    quota: quotaSchema().optional(),
  });
};
export type RouterConfig = z.infer<ReturnType<typeof routerConfigSchema>>;
