// Config blocks for subscription users: waiting for a quota reset, retrying a warm target before failing over,
// per-target request patches and quota reserves. schema.ts places them in the file; the runtime and the routing
// core own their meaning.
import { z } from "zod";
import { tierSchema } from "./routing-schema.ts";

const milliseconds = () => z.number().int().nonnegative();

export const REVERT_MODES = ["cooldown-expiry", "holdoff", "never"] as const;
export type RevertMode = (typeof REVERT_MODES)[number];

export const waitForResetSchema = () =>
  z.strictObject({
    maxMs: milliseconds().describe(
      "Wait at most this long for the earliest quota reset when every target is out of quota",
    ),
  });
export type WaitForResetConfig = z.infer<ReturnType<typeof waitForResetSchema>>;

/** Failure kinds a warm target may be retried on: transient ones only, never a quota or request failure. */
export const RETRY_KINDS = [
  "rate_limit",
  "overloaded",
  "server",
  "network",
  "timeout",
  "empty_response",
  "malformed_output",
] as const;
export type RetryKind = (typeof RETRY_KINDS)[number];

export const retryBeforeFailoverSchema = () =>
  z.strictObject({
    times: z.number().int().min(1).max(10).describe("Extra attempts on the same target before failing over"),
    kinds: z
      .array(z.enum(RETRY_KINDS))
      .min(1)
      .optional()
      .describe("Failure kinds that are retried (default rate_limit, overloaded, server)"),
    maxDelayMs: milliseconds()
      .optional()
      .describe("Longest wait before one retry, also the longest retry hint honoured (default 5000)"),
  });
export type RetryBeforeFailoverConfig = z.infer<ReturnType<typeof retryBeforeFailoverSchema>>;

/** Header names the router sets itself from pi's credentials: a patch may not replace them. */
export const PROTECTED_HEADERS = ["authorization", "x-api-key", "api-key", "x-goog-api-key"] as const;

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** The protected names in any case, as a JSON Schema pattern (which has no `i` flag): `[Aa][Uu]...`. */
const protectedHeaderPattern = () =>
  `^(${PROTECTED_HEADERS.map((name) => name.replace(/[a-z]/g, (letter) => `[${letter.toUpperCase()}${letter}]`)).join("|")})$`;

export const requestHeadersSchema = () =>
  z
    .record(z.string(), z.string())
    .superRefine((headers, context) => {
      for (const name of Object.keys(headers)) {
        if (!HEADER_NAME.test(name)) {
          context.addIssue({ code: "custom", path: [name], message: `"${name}" is not an HTTP header name` });
        } else if ((PROTECTED_HEADERS as readonly string[]).includes(name.toLowerCase())) {
          context.addIssue({
            code: "custom",
            path: [name],
            message: `${name}: credentials come from pi's login (/login, auth.json, models.json), not from the routes file`,
          });
        }
      }
    })
    // The checks above, for editors: the JSON Schema export cannot see a refinement.
    .meta({
      description: "Extra HTTP headers sent with every attempt on this target",
      propertyNames: { type: "string", pattern: HEADER_NAME.source, not: { pattern: protectedHeaderPattern() } },
    });

export const requestBodySchema = () =>
  z
    .record(z.string().min(1), z.unknown())
    .describe(
      "Extra fields merged into the request body of every attempt on this target (objects are merged, other values replace)",
    );

/** A reserve holder that is not a tier: prompts a person typed into pi. */
export const INTERACTIVE = "interactive";

export const quotaReserveSchema = () =>
  z.strictObject({
    percent: z.number().gt(0).lt(100).describe("The last part of the quota window kept back, in percent"),
    for: z
      .array(z.union([tierSchema(), z.literal(INTERACTIVE)]))
      .min(1)
      .describe(
        'Who may use the reserve: tiers, and/or "interactive" (prompts typed in pi: the TUI and pi -p, not RPC, the gateway or extensions)',
      ),
  });
export type QuotaReserveConfig = z.infer<ReturnType<typeof quotaReserveSchema>>;

export const quotaSchema = () =>
  z.strictObject({
    reserve: z
      .record(z.string().min(1), quotaReserveSchema())
      .optional()
      .describe("Per provider (the target's authProvider): keep the last part of its quota window for the named tiers"),
  });
export type QuotaConfig = z.infer<ReturnType<typeof quotaSchema>>;
