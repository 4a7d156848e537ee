// Reads the analytics log of the earlier public pi-auto-router (v0.2.4), whose format is documented in
// shared/docs/legacy-formats.md: envelopes `{type: "routing.<kind>", timestamp (ISO), requestId, routeId,
// sessionId?, version: 1, data}`, written per request in the order decision, candidates, attempt/result pairs
// (1-based `index`), final; ratings as `routing.feedback`.
//
// Several facts of a request are spread over its lines and only joined at `routing.final`: the served target is
// `actualTarget` (never `selectedTarget`, a label or joined error texts), failover is "more than one attempt",
// cost/latency/TTFT are those of the successful `routing.result`, and the failure kinds come from each failed
// result's error text through our one classifier. So the reader keeps a little state per open request and
// completes our `final` from it; a request whose `routing.final` never arrives stays unfinished.
import { RecentMap } from "../recent-map.ts";
import { INTENTS, type Intent } from "../config/routing-schema.ts";
import { classifyContext } from "../routing/context-estimate.ts";
import type {
  CandidateEntry,
  DecisionEventData,
  EventType,
  FeedbackEventData,
  FinalEventData,
  FinalOutcome,
  NormalizedEvent,
  ResultEventData,
  SkippedEntry,
} from "./event-types.ts";
import { isObject } from "../is-object.ts";
import { redactText } from "../state/redact.ts";

export const LEGACY_TYPE_PREFIX = "routing.";
/** The failure kind of an error text: the one classifier's, passed in so a log without old lines never loads it. */
export type FailureKindOf = (errorText: string | undefined, time: number) => string;
export const isLegacyType = (type: string): boolean => type.startsWith(LEGACY_TYPE_PREFIX);

/** Requests whose final has not been read yet, kept at most (a log that lost its finals must not grow memory). */
const MAX_OPEN_LEGACY_REQUESTS = 20_000;
/** Candidate statuses the earlier router gave to targets it would try; every other status is a skip reason. */
const TRIED_STATUSES: ReadonlySet<string> = new Set(["selected", "eligible"]);

type Record_ = Record<string, unknown>;
export type LegacyOutcome = { event: NormalizedEvent } | { malformed: string } | { unknownType: string };

const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
const count = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) ? value : undefined;
const texts = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
/**
 * Free text of the earlier router (an error, a rating's reason, a candidate's reasons): it wrote it as it came, keys
 * pasted into a reason or echoed by a provider's error included, so it is redacted here as our own writer does.
 */
const freeText = (value: unknown): string | undefined => {
  const written = text(value);
  return written === undefined ? undefined : redactText(written);
};
const freeTexts = (value: unknown): string[] => texts(value).map(redactText);

/** `provider/modelId` of a `{provider, modelId, label}` object. */
function targetKey(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const provider = text(value.provider);
  const modelId = text(value.modelId);
  return provider && modelId ? `${provider}/${modelId}` : undefined;
}

interface OpenRequest {
  plannedTarget?: string;
  attempts: number;
  failureKinds: string[];
  served?: ResultEventData;
  lastLatencyMs: number;
}

/** One of our intents, as the earlier router's classifier named it (the same four words). */
const intentOf = (value: unknown): Intent | undefined => {
  const category = text(value);
  return (INTENTS as readonly string[]).includes(category ?? "") ? (category as Intent) : undefined;
};

/** Our outcome for the earlier router's (`success`, `terminal_error`, `exhausted`), as its final is read. */
const outcomeOf = (value: unknown): FinalOutcome | undefined =>
  text(value) === undefined ? undefined : value === "success" ? "success" : "failed";

function decisionData(data: Record_, routeId: string): DecisionEventData {
  const structured = isObject(data.reasoningStructured) ? data.reasoningStructured : {};
  const intentRecord = isObject(structured.intent) ? structured.intent : {};
  const intent: Intent = intentOf(intentRecord.category) ?? "general";
  const intentConfidence = count(intentRecord.confidence) ?? count(data.confidence) ?? 0;
  const estimatedTokens = count(data.estimatedTokens) ?? count(structured.estimatedTokens);
  const tier = text(data.tier);
  return {
    requestedRouteId: routeId,
    routeId,
    tier,
    tierSource: data.phase === "shortcut" ? "shortcut" : tier ? "intent" : "none",
    intent,
    intentConfidence,
    // The earlier router logged no image/tool flags; a replay of such a decision sees them as absent.
    features:
      estimatedTokens === undefined
        ? (undefined as unknown as DecisionEventData["features"])
        : {
            estimatedTokens,
            contextClass: classifyContext(estimatedTokens),
            hasImages: false,
            hasTools: false,
            intent,
            intentConfidence,
          },
    shortcutTokens: [],
    plannedTarget: targetKey(data.plannedTarget),
    rules: [],
    hints: text(data.reasoning) ? [freeText(data.reasoning)!] : [],
  };
}

function candidatesData(data: Record_) {
  const candidates: CandidateEntry[] = [];
  const skipped: SkippedEntry[] = [];
  for (const raw of Array.isArray(data.candidates) ? data.candidates : []) {
    if (!isObject(raw)) continue;
    const key = targetKey(raw);
    if (!key) continue;
    const status = text(raw.status) ?? "eligible";
    const reasons = freeTexts(raw.reasons);
    if (!TRIED_STATUSES.has(status)) {
      skipped.push({ key, reason: status, detail: reasons.join("; ") });
      continue;
    }
    candidates.push({
      key,
      rank: count(raw.finalRank) ?? count(raw.configRank) ?? candidates.length + 1,
      bucket: text(raw.bucket) ?? "normal",
      billing: text(raw.billing) ?? "unknown",
      reasons,
      warnings: [],
      estimatedCostUsd: count(raw.estimatedCostUsd),
      uvi: count(raw.uvi),
    });
  }
  candidates.sort((a, b) => a.rank - b.rank);
  return { candidates, skipped };
}

function resultData(data: Record_, time: number, kindOf: FailureKindOf): ResultEventData {
  const success = data.outcome === "success";
  const error = freeText(data.error);
  const input = count(data.inputTokens);
  const output = count(data.outputTokens);
  const costUsd = count(data.costUsd);
  const hasUsage = input !== undefined || output !== undefined || costUsd !== undefined;
  return {
    attempt: count(data.index) ?? 1,
    target: targetKey(data) ?? "unknown",
    outcome: success ? "success" : "failed",
    failureKind: success ? undefined : kindOf(error, time),
    message: error,
    latencyMs: count(data.latencyMs) ?? 0,
    ttftMs: count(data.ttftMs),
    usage: hasUsage
      ? { input: input ?? 0, output: output ?? 0, cacheRead: 0, cacheWrite: 0, costUsd: costUsd ?? 0 }
      : undefined,
  };
}

function finalData(data: Record_, request: OpenRequest): FinalEventData {
  const success = data.outcome === "success";
  // `attempts` is written only on exhausted or exception; otherwise the attempt lines are the count.
  const written = Array.isArray(data.attempts) ? data.attempts.length : count(data.attempts);
  const attempts = Math.max(request.attempts, written ?? 0, success ? 1 : 0);
  return {
    outcome: success ? "success" : "failed",
    servedTarget: success ? targetKey(data.actualTarget) : undefined,
    plannedTarget: request.plannedTarget,
    attempts,
    failovers: Math.max(0, attempts - 1),
    latencyMs: request.served?.latencyMs ?? request.lastLatencyMs,
    costUsd: request.served?.usage?.costUsd,
    failureKinds: request.failureKinds,
  };
}

/**
 * A rating of the earlier router also carries what it recorded of the rated request: its decision's tier and intent
 * and its outcome. The quality report groups the rating by them when the request itself is not in the log.
 */
export interface LegacyFeedbackData extends FeedbackEventData {
  tier?: string;
  intent?: Intent;
  outcome?: FinalOutcome;
}

function feedbackData(
  data: Record_,
  ratedRequestId: string,
  routeId: string | undefined,
): LegacyFeedbackData | undefined {
  if (data.rating !== "good" && data.rating !== "bad") return undefined;
  return {
    rating: data.rating,
    reason: freeText(data.reason),
    tags: texts(data.tags),
    ratedRequestId,
    servedTarget: targetKey(data),
    routeId,
    tier: text(data.tier),
    intent: intentOf(data.intent),
    outcome: outcomeOf(data.outcome),
  };
}

const KINDS: Record<string, EventType> = {
  "routing.decision": "decision",
  "routing.candidates": "candidates",
  "routing.attempt": "attempt",
  "routing.result": "result",
  "routing.final": "final",
  "routing.feedback": "feedback",
};

/** One reader per read of a log (its state spans rotated files, which continue each other). */
export class LegacyEventReader {
  private readonly open = new RecentMap<string, OpenRequest>(MAX_OPEN_LEGACY_REQUESTS);

  constructor(private readonly kindOf: FailureKindOf) {}

  private request(requestId: string): OpenRequest {
    let request = this.open.get(requestId);
    if (!request) {
      request = { attempts: 0, failureKinds: [], lastLatencyMs: 0 };
      this.open.set(requestId, request);
    }
    return request;
  }

  /** `raw` is a parsed object whose `type` starts with "routing.". */
  read(raw: Record_): LegacyOutcome {
    const type = String(raw.type);
    const kind = KINDS[type];
    if (!kind) return { unknownType: type };
    const timestamp = typeof raw.timestamp === "string" ? raw.timestamp : undefined;
    const time = timestamp === undefined ? Number.NaN : Date.parse(timestamp);
    if (Number.isNaN(time)) return { malformed: "no valid timestamp" };
    if (!isObject(raw.data)) return { malformed: "no data object" };
    const requestId = text(raw.requestId);
    if (!requestId) return { malformed: "no requestId" };
    const routeId = text(raw.routeId);
    const data = raw.data;
    let eventData: unknown;
    switch (kind) {
      case "decision": {
        const decision = decisionData(data, routeId ?? "");
        this.request(requestId).plannedTarget = decision.plannedTarget;
        eventData = decision;
        break;
      }
      case "candidates":
        eventData = candidatesData(data);
        break;
      case "attempt":
        this.request(requestId).attempts++;
        eventData = { attempt: count(data.index) ?? 1, target: targetKey(data) ?? "unknown" };
        break;
      case "result": {
        const result = resultData(data, time, this.kindOf);
        const request = this.request(requestId);
        request.lastLatencyMs = result.latencyMs;
        if (result.outcome === "success") request.served = result;
        else if (result.failureKind) request.failureKinds.push(result.failureKind);
        eventData = result;
        break;
      }
      case "final":
        eventData = finalData(data, this.request(requestId));
        this.open.delete(requestId);
        break;
      case "feedback":
        eventData = feedbackData(data, requestId, routeId);
        if (!eventData) return { malformed: "feedback without a good/bad rating" };
        break;
    }
    const event = {
      v: 0,
      type: kind,
      ts: timestamp,
      time,
      // A rating gets its own id, so it never joins the rated request's events.
      requestId: kind === "feedback" ? `${requestId}#feedback` : requestId,
      sessionId: text(raw.sessionId),
      routeId,
      data: eventData,
      legacy: true,
    } as unknown as NormalizedEvent;
    return { event };
  }
}
