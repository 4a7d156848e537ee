// The kinds of failure the one classifier (classify-failure.ts) gives and their default policy; the config's per-kind
// policy keys are these too. A module of its own, without pi imports, so the config schema can read it anywhere.
export const FAILURE_KINDS = [
  "rate_limit",
  "overloaded",
  "server",
  "network",
  "timeout",
  "quota_exhausted",
  "auth",
  "model_not_found",
  "context_overflow",
  "invalid_request",
  "content_policy",
  "empty_response",
  "malformed_output",
  "aborted",
  "unknown",
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface FailureKindPolicy {
  failover: boolean;
  cooldownMs?: number;
}
export type FailurePolicyOverrides = Partial<Record<FailureKind, Partial<FailureKindPolicy>>>;

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
export const RATE_LIMIT_COOLDOWN_MS = 60 * SECOND_MS;
export const OVERLOADED_COOLDOWN_MS = 30 * SECOND_MS;
export const SERVER_COOLDOWN_MS = 30 * SECOND_MS;
export const NETWORK_COOLDOWN_MS = 15 * SECOND_MS;
export const TIMEOUT_COOLDOWN_MS = 30 * SECOND_MS;
export const QUOTA_EXHAUSTED_COOLDOWN_MS = HOUR_MS;
/** Long, because a bad key will not fix itself; the runtime warns the user. */
export const AUTH_COOLDOWN_MS = 30 * MINUTE_MS;
export const MODEL_NOT_FOUND_COOLDOWN_MS = 6 * HOUR_MS;
export const EMPTY_RESPONSE_COOLDOWN_MS = 30 * SECOND_MS;
/** Short: the user cannot fix an unknown provider failure, but we do not know it will last either. */
export const UNKNOWN_COOLDOWN_MS = 10 * SECOND_MS;

/** Kinds with no cooldown are about the request, not the target, so a retry hint never cools the target for them. */
export const DEFAULT_FAILURE_POLICY: Readonly<Record<FailureKind, FailureKindPolicy>> = {
  rate_limit: { failover: true, cooldownMs: RATE_LIMIT_COOLDOWN_MS },
  overloaded: { failover: true, cooldownMs: OVERLOADED_COOLDOWN_MS },
  server: { failover: true, cooldownMs: SERVER_COOLDOWN_MS },
  network: { failover: true, cooldownMs: NETWORK_COOLDOWN_MS },
  timeout: { failover: true, cooldownMs: TIMEOUT_COOLDOWN_MS },
  quota_exhausted: { failover: true, cooldownMs: QUOTA_EXHAUSTED_COOLDOWN_MS },
  auth: { failover: true, cooldownMs: AUTH_COOLDOWN_MS },
  model_not_found: { failover: true, cooldownMs: MODEL_NOT_FOUND_COOLDOWN_MS },
  // The runtime only moves an overflow to a target with a larger context window.
  context_overflow: { failover: true },
  invalid_request: { failover: false },
  content_policy: { failover: false },
  empty_response: { failover: true, cooldownMs: EMPTY_RESPONSE_COOLDOWN_MS },
  // One generation the provider could not turn into a valid tool call or JSON (Groq's tool_use_failed): neither the
  // target's health nor the request's validity, so the request moves on and the target does not rest.
  malformed_output: { failover: true },
  aborted: { failover: false },
  unknown: { failover: true, cooldownMs: UNKNOWN_COOLDOWN_MS },
};
