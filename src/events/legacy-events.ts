// Normalizes envelopes written by the earlier public pi-auto-router (`routing.decision`, `routing.candidates`,
// `routing.attempt`, `routing.result`, `routing.final`, `routing.feedback`) into our event types, so every script
// reads old logs too.
//
// We have no real sample of that format, so the mapping is deliberately tolerant. Assumptions:
// - envelope: `{type: "routing.<kind>", ts | timestamp (ISO string or epoch ms), requestId | request_id,
//   sessionId | session_id, routeId | route | route_id, data | payload}`; no `v` field (we report it as v 0);
// - data field names are close to ours, in camelCase or snake_case (`latency_ms`, `failure_kind`, ...);
// - a target is either `provider/modelId` in one field (`target`, `selected_target`, `served`, ...) or separate
//   `provider` + `model` (or `modelId`) fields;
// - failover is a boolean (`failover`) or a count (`failovers`); an error kind is `failureKind`, `failure_kind`,
//   `error_kind`, `errorKind` or `error.kind`; outcomes may be booleans (`success`) or words ("ok", "error");
// - attempts may be 0-based (`index`) or 1-based (`attempt`); feedback may carry the rated request id as
//   `ratedRequestId`, `rated_request_id`, `target_request_id`, or only as the envelope's requestId;
// - ratings may be "good"/"bad", "up"/"down", thumbs, or a number (> 0 is good).
// Fields we cannot map are dropped; an envelope whose kind we do not know is reported as an unknown type.
import type {
  LoggedAttemptOutcome,
  CandidateEntry,
  EventType,
  FinalOutcome,
  NormalizedEvent,
  SkippedEntry,
} from "./event-types.ts";
import { isObject } from "../is-object.ts";

export const LEGACY_TYPE_PREFIX = "routing.";

type Loose = Record<string, unknown>;


/** The first of the named fields that is present (camelCase and snake_case spellings are both listed). */
function pick(source: Loose, ...names: string[]): unknown {
  for (const name of names) if (source[name] !== undefined && source[name] !== null) return source[name];
  return undefined;
}

const asString = (value: unknown): string | undefined =>
  typeof value === "string" && value.length > 0 ? value : typeof value === "number" ? String(value) : undefined;

function asNumber(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

const asStrings = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(asString).filter((item): item is string => item !== undefined) : typeof value === "string" ? [value] : [];

/** `provider/modelId` from one field, or from separate provider + model fields (optionally under a prefix). */
function targetOf(source: Loose, names: string[], prefix = ""): string | undefined {
  const direct = pick(source, ...names);
  if (typeof direct === "string" && direct.length > 0) return direct;
  if (isObject(direct)) return targetOf(direct, ["key", "target"]);
  const provider = asString(pick(source, `${prefix}provider`, `${prefix}Provider`));
  const model = asString(pick(source, `${prefix}model`, `${prefix}modelId`, `${prefix}model_id`, `${prefix}Model`));
  if (provider && model) return model.startsWith(`${provider}/`) ? model : `${provider}/${model}`;
  return undefined;
}

/** ISO string or epoch ms (seconds are taken as seconds when they are too small to be ms). */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value;
  if (typeof value === "string") {
    if (/^\d+(\.\d+)?$/.test(value)) return parseTimestamp(Number(value));
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : time;
  }
  return undefined;
}

function failureKindOf(source: Loose): string | undefined {
  const kind = asString(pick(source, "failureKind", "failure_kind", "errorKind", "error_kind", "kind"));
  if (kind) return kind;
  const error = source.error;
  if (isObject(error)) return asString(pick(error, "kind", "type", "code"));
  return undefined;
}

function attemptOutcome(source: Loose): LoggedAttemptOutcome {
  const word = asString(pick(source, "outcome", "status", "result"))?.toLowerCase();
  if (word === "failed-after-commit" || word === "failed_after_commit") return "failed-after-commit";
  if (word === "aborted" || word === "abort" || word === "cancelled") return "aborted";
  if (word === "success" || word === "ok" || word === "succeeded" || word === "served") return "success";
  if (word) return "failed";
  const success = pick(source, "success", "ok");
  if (typeof success === "boolean") return success ? "success" : "failed";
  return failureKindOf(source) ? "failed" : "success";
}

function finalOutcome(source: Loose, servedTarget: string | undefined): FinalOutcome {
  const word = asString(pick(source, "outcome", "status", "result"))?.toLowerCase();
  if (word === "refused" || word === "blocked") return "refused";
  if (word === "aborted" || word === "abort" || word === "cancelled") return "aborted";
  if (word === "success" || word === "ok" || word === "succeeded" || word === "served") return "success";
  if (word) return "failed";
  const success = pick(source, "success", "ok");
  if (typeof success === "boolean") return success ? "success" : "failed";
  return servedTarget ? "success" : "failed";
}

function usageOf(source: Loose) {
  const usage = pick(source, "usage", "tokens");
  const cost = asNumber(pick(source, "costUsd", "cost_usd", "cost"));
  if (!isObject(usage) && cost === undefined) return undefined;
  const tokens: Loose = isObject(usage) ? usage : {};
  const costObject = tokens.cost;
  return {
    input: asNumber(pick(tokens, "input", "inputTokens", "input_tokens", "prompt_tokens")) ?? 0,
    output: asNumber(pick(tokens, "output", "outputTokens", "output_tokens", "completion_tokens")) ?? 0,
    cacheRead: asNumber(pick(tokens, "cacheRead", "cache_read", "cache_read_tokens")) ?? 0,
    cacheWrite: asNumber(pick(tokens, "cacheWrite", "cache_write", "cache_write_tokens")) ?? 0,
    costUsd: cost ?? asNumber(pick(tokens, "costUsd", "cost_usd")) ?? (isObject(costObject) ? asNumber(costObject.total) : asNumber(costObject)) ?? 0,
  };
}

function ratingOf(source: Loose): "good" | "bad" | undefined {
  const value = pick(source, "rating", "vote", "score", "feedback");
  if (typeof value === "number") return value > 0 ? "good" : "bad";
  if (typeof value === "boolean") return value ? "good" : "bad";
  const word = asString(value)?.toLowerCase();
  if (!word) return undefined;
  if (["good", "up", "thumbs-up", "thumbs_up", "+1", "positive", "like", "👍"].includes(word)) return "good";
  if (["bad", "down", "thumbs-down", "thumbs_down", "-1", "negative", "dislike", "👎"].includes(word)) return "bad";
  return undefined;
}

const TARGET_FIELDS = ["target", "key", "targetKey", "target_key"];
const SERVED_FIELDS = ["servedTarget", "served_target", "served", "selectedTarget", "selected_target", "target"];
const PLANNED_FIELDS = ["plannedTarget", "planned_target", "planned", "selectedTarget", "selected_target"];

function mapCandidate(raw: unknown, index: number): CandidateEntry | undefined {
  if (!isObject(raw)) return typeof raw === "string" ? { key: raw, rank: index + 1, bucket: "normal", billing: "unknown", reasons: [], warnings: [] } : undefined;
  const key = targetOf(raw, TARGET_FIELDS);
  if (!key) return undefined;
  return {
    key,
    rank: asNumber(pick(raw, "rank", "position")) ?? index + 1,
    bucket: asString(raw.bucket) ?? "normal",
    billing: asString(raw.billing) ?? "unknown",
    reasons: asStrings(pick(raw, "reasons", "reason")),
    warnings: asStrings(pick(raw, "warnings", "warning")),
    estimatedCostUsd: asNumber(pick(raw, "estimatedCostUsd", "estimated_cost_usd", "estimatedCost", "estimated_cost")),
    ttftMs: asNumber(pick(raw, "ttftMs", "ttft_ms")),
    uvi: asNumber(raw.uvi),
  };
}

function mapSkipped(raw: unknown): SkippedEntry | undefined {
  if (!isObject(raw)) return undefined;
  const key = targetOf(raw, TARGET_FIELDS);
  if (!key) return undefined;
  return { key, reason: asString(pick(raw, "reason", "skipReason", "skip_reason")) ?? "unknown", detail: asString(pick(raw, "detail", "message")) ?? "" };
}

function mapData(kind: EventType, data: Loose, envelope: { requestId?: string; routeId?: string }): unknown {
  switch (kind) {
    case "decision": {
      const rawFeatures = isObject(data.features) ? data.features : data;
      const intent = asString(pick(data, "intent")) ?? asString(pick(rawFeatures, "intent")) ?? "general";
      const intentConfidence = asNumber(pick(data, "intentConfidence", "intent_confidence")) ?? asNumber(pick(rawFeatures, "intentConfidence", "intent_confidence")) ?? 0;
      const estimatedTokens = asNumber(pick(rawFeatures, "estimatedTokens", "estimated_tokens", "tokens", "token_estimate"));
      const routeId = asString(pick(data, "routeId", "route_id", "route")) ?? envelope.routeId ?? "";
      const tier = asString(pick(data, "tier"));
      return {
        requestedRouteId: asString(pick(data, "requestedRouteId", "requested_route_id", "requested_route")) ?? routeId,
        routeId,
        tier,
        tierSource: asString(pick(data, "tierSource", "tier_source")) ?? (tier ? "rule" : "none"),
        intent,
        intentConfidence,
        // Without a token estimate the decision cannot be replayed; features stay absent rather than invented.
        features: estimatedTokens === undefined ? undefined : {
          estimatedTokens,
          contextClass: asString(pick(rawFeatures, "contextClass", "context_class")) ?? "short",
          hasImages: pick(rawFeatures, "hasImages", "has_images") === true,
          hasTools: pick(rawFeatures, "hasTools", "has_tools") === true,
          intent,
          intentConfidence,
          requestedMaxTokens: asNumber(pick(rawFeatures, "requestedMaxTokens", "requested_max_tokens", "max_tokens")),
        },
        shortcutTokens: asStrings(pick(data, "shortcutTokens", "shortcut_tokens", "shortcuts")),
        preferences: isObject(data.preferences) ? data.preferences : undefined,
        plannedTarget: targetOf(data, PLANNED_FIELDS.concat("target"), "selected_"),
        rules: Array.isArray(data.rules) ? data.rules : [],
        hints: asStrings(data.hints),
        fallback: asString(data.fallback),
        refusal: asString(data.refusal),
      };
    }
    case "candidates": {
      const candidates = Array.isArray(data.candidates) ? data.candidates : Array.isArray(data.ranked) ? data.ranked : [];
      const skipped = Array.isArray(data.skipped) ? data.skipped : Array.isArray(data.excluded) ? data.excluded : [];
      return {
        candidates: candidates.map(mapCandidate).filter((entry): entry is CandidateEntry => entry !== undefined),
        skipped: skipped.map(mapSkipped).filter((entry): entry is SkippedEntry => entry !== undefined),
      };
    }
    case "attempt": {
      const oneBased = asNumber(pick(data, "attempt", "attempt_number", "attemptNumber"));
      const zeroBased = asNumber(pick(data, "index", "attempt_index"));
      return { attempt: oneBased ?? (zeroBased !== undefined ? zeroBased + 1 : 1), target: targetOf(data, TARGET_FIELDS) ?? "unknown" };
    }
    case "result": {
      const outcome = attemptOutcome(data);
      const oneBased = asNumber(pick(data, "attempt", "attempt_number", "attemptNumber"));
      const zeroBased = asNumber(pick(data, "index", "attempt_index"));
      const usage = usageOf(data);
      return {
        attempt: oneBased ?? (zeroBased !== undefined ? zeroBased + 1 : 1),
        target: targetOf(data, TARGET_FIELDS) ?? "unknown",
        outcome,
        failureKind: outcome === "success" ? undefined : failureKindOf(data) ?? "unknown",
        message: asString(pick(data, "message", "error_message", "errorMessage")) ?? (isObject(data.error) ? asString(data.error.message) : asString(data.error)),
        latencyMs: asNumber(pick(data, "latencyMs", "latency_ms", "durationMs", "duration_ms", "latency")) ?? 0,
        ttftMs: asNumber(pick(data, "ttftMs", "ttft_ms", "timeToFirstTokenMs", "time_to_first_token_ms")),
        usage,
        estimated: pick(data, "estimated", "cost_estimated", "costEstimated") === true,
      };
    }
    case "final": {
      const servedTarget = targetOf(data, SERVED_FIELDS, "served_");
      const attemptsValue = pick(data, "attempts", "attempt_count", "attemptCount");
      const attempts = Array.isArray(attemptsValue) ? attemptsValue.length : asNumber(attemptsValue) ?? 1;
      const failoverValue = pick(data, "failovers", "failover_count", "failover");
      const failovers = typeof failoverValue === "boolean" ? (failoverValue ? Math.max(1, attempts - 1) : 0) : asNumber(failoverValue) ?? Math.max(0, attempts - 1);
      const errors = pick(data, "failureKinds", "failure_kinds", "errors", "error_kinds");
      const failureKinds = Array.isArray(errors) ? errors.map((item) => (isObject(item) ? failureKindOf(item) : asString(item))).filter((item): item is string => item !== undefined) : [];
      return {
        outcome: finalOutcome(data, servedTarget),
        servedTarget,
        plannedTarget: targetOf(data, ["plannedTarget", "planned_target", "planned"], "planned_"),
        attempts,
        failovers,
        latencyMs: asNumber(pick(data, "latencyMs", "latency_ms", "durationMs", "duration_ms", "total_latency_ms")) ?? 0,
        costUsd: asNumber(pick(data, "costUsd", "cost_usd", "cost")),
        failureKinds,
      };
    }
    case "feedback":
      return {
        rating: ratingOf(data),
        reason: asString(pick(data, "reason", "comment", "note")),
        tags: asStrings(pick(data, "tags", "labels")),
        ratedRequestId: asString(pick(data, "ratedRequestId", "rated_request_id", "targetRequestId", "target_request_id", "requestId", "request_id")) ?? envelope.requestId ?? "",
        servedTarget: targetOf(data, SERVED_FIELDS),
        routeId: asString(pick(data, "routeId", "route_id", "route")) ?? envelope.routeId,
      };
    case "quota":
      return undefined;
  }
}

const LEGACY_KINDS: Record<string, EventType> = {
  decision: "decision", candidates: "candidates", attempt: "attempt", result: "result", final: "final", feedback: "feedback",
};

export const isLegacyType = (type: string): boolean => type.startsWith(LEGACY_TYPE_PREFIX);

export type LegacyOutcome = { event: NormalizedEvent } | { malformed: string } | { unknownType: string };

/** `raw` is a parsed object whose `type` starts with "routing.". */
export function normalizeLegacyEnvelope(raw: Loose): LegacyOutcome {
  const type = String(raw.type);
  const kind = LEGACY_KINDS[type.slice(LEGACY_TYPE_PREFIX.length)];
  if (!kind) return { unknownType: type };
  const time = parseTimestamp(pick(raw, "ts", "timestamp", "time"));
  if (time === undefined) return { malformed: "no valid timestamp" };
  const payload = pick(raw, "data", "payload");
  const dataSource: Loose = isObject(payload) ? payload : raw;
  const requestId = asString(pick(raw, "requestId", "request_id")) ?? asString(pick(dataSource, "requestId", "request_id"));
  const routeId = asString(pick(raw, "routeId", "route_id", "route")) ?? asString(pick(dataSource, "routeId", "route_id", "route"));
  const data = mapData(kind, dataSource, { requestId, routeId }) as Loose;
  if (kind === "feedback" && (data.rating === undefined || data.ratedRequestId === "")) return { malformed: "feedback without rating or rated request" };
  const event = {
    v: 0,
    type: kind,
    ts: new Date(time).toISOString(),
    time,
    requestId: kind === "feedback" ? `${requestId ?? "feedback"}#feedback` : requestId,
    sessionId: asString(pick(raw, "sessionId", "session_id")),
    routeId: routeId ?? asString(data.routeId),
    data,
    legacy: true,
  } as unknown as NormalizedEvent;
  return { event };
}
