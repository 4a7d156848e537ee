// The kinds of failure the one classifier (classify-failure.ts) gives; the config's per-kind policy keys are these
// too. A module of its own, without pi imports, so the config schema can read it anywhere.
export const FAILURE_KINDS = [
  "rate_limit", "overloaded", "server", "network", "timeout", "quota_exhausted", "auth",
  "model_not_found", "context_overflow", "invalid_request", "content_policy", "empty_response", "aborted", "unknown",
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];
