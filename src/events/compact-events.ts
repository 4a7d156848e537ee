// Event log format v2 and v3, both directions in one place. v1 wrote five or six lines per routed request and spent a
// third of their bytes on what a reader can infer: empty lists, zero token counts, default values (no tier source, no
// images or tools, the normal bucket), a candidate's rank (its position), the decision's intent repeated inside its
// features, a requested route equal to the routed one, a planned target equal to the served one, and the same
// sessionId on every line of a request. v2 leaves those out when writing, and expandEvent() puts them back when
// reading, so every reader sees the v1 shapes. v3 writes two lines per request (the writer's side is in
// state/log-lines.ts): the decision line carries the candidates, the final line the attempts, results and usage;
// unfoldEvents() (folded-events.ts) makes them events of their own again.
import { RecentMap } from "../recent-map.ts";
import { isObject } from "../is-object.ts";
import type { CandidateEntry, EventRecord, EventType, NormalizedEvent } from "./event-types.ts";

/** Lines that follow a request's decision line, which carries the sessionId for all of them. */
const FOLLOW_UP_TYPES: ReadonlySet<EventType> = new Set(["candidates", "attempt", "result", "usage", "final"]);

type Data = Record<string, unknown>;

const isEmptyList = (value: unknown): boolean => Array.isArray(value) && value.length === 0;

// The copies below are written key by key with a switch rather than through a generic "without" with closures and
// list lookups: this runs for every event of every request, and the hand loops are several times cheaper. Keys whose
// value is undefined are left out too (JSON would drop them anyway, and every later pass over the line is shorter).

/** The data as v2 writes it. Pure; never mutates its input; data not shaped as its type says is written as given. */
export function compactEventData(record: EventRecord): Data {
  const data = record.data as unknown as Data;
  switch (record.type) {
    case "decision":
      return compactDecision(data);
    case "candidates":
      return Array.isArray(data.candidates) ? compactCandidates(data) : data;
    case "final":
      return compactFinal(data);
    case "result":
      return isObject(data.usage) ? compactResult(data, data.usage) : data;
    case "usage":
      return compactUsage(data);
    default:
      return data;
  }
}

function compactResult(data: Data, usage: Data): Data {
  const out: Data = {};
  for (const key in data)
    if (data[key] !== undefined) out[key] = key === "usage" ? withoutZeroCounts(usage) : data[key];
  return out;
}

function withoutUndefined(data: Data): Data {
  const out: Data = {};
  for (const key in data) if (data[key] !== undefined) out[key] = data[key];
  return out;
}

function compactDecision(data: Data): Data {
  const sameRoute = data.requestedRouteId === data.routeId;
  const out: Data = {};
  for (const key in data) {
    const value = data[key];
    if (value === undefined) continue;
    switch (key) {
      case "shortcutTokens":
      case "rules":
      case "hints":
        if (isEmptyList(value)) continue;
        break;
      case "tierSource":
        if (value === DECISION_DEFAULTS.tierSource) continue;
        break;
      case "requestedRouteId":
        if (sameRoute) continue;
        break;
      case "features":
        if (isObject(value)) {
          out.features = compactFeatures(
            value,
            value.intent === data.intent && value.intentConfidence === data.intentConfidence,
          );
          continue;
        }
        break;
    }
    out[key] = value;
  }
  return out;
}

function compactFeatures(features: Data, sameIntent: boolean): Data {
  const out: Data = {};
  for (const key in features) {
    const value = features[key];
    if (value === undefined) continue;
    if ((key === "hasImages" || key === "hasTools") && value === FEATURE_DEFAULTS[key]) continue;
    if (sameIntent && (key === "intent" || key === "intentConfidence")) continue;
    out[key] = value;
  }
  return out;
}

function compactCandidates(data: Data): Data {
  const out: Data = {};
  for (const key in data) {
    const value = data[key];
    if (value === undefined || ((key === "candidates" || key === "skipped") && isEmptyList(value))) continue;
    out[key] =
      key === "candidates"
        ? (value as unknown[]).map(compactCandidate)
        : key === "skipped" && Array.isArray(value)
          ? value.map((item) => (isObject(item) ? withoutUndefined(item) : item))
          : value;
  }
  return out;
}

function compactCandidate(candidate: unknown, index: number): unknown {
  if (!isObject(candidate)) return candidate;
  const out: Data = {};
  for (const key in candidate) {
    const value = candidate[key];
    if (value === undefined) continue;
    switch (key) {
      case "rank":
        if (value === index + 1) continue;
        break;
      case "reasons":
      case "warnings":
        if (isEmptyList(value)) continue;
        break;
      case "bucket":
        if (value === CANDIDATE_DEFAULTS.bucket) continue;
        break;
    }
    out[key] = value;
  }
  return out;
}

function compactFinal(data: Data): Data {
  const samePlan = data.plannedTarget !== undefined && data.plannedTarget === data.servedTarget;
  const out: Data = {};
  for (const key in data) {
    const value = data[key];
    if (value === undefined || (key === "failureKinds" && isEmptyList(value)) || (key === "plannedTarget" && samePlan))
      continue;
    out[key] = value;
  }
  return out;
}

function compactUsage(data: Data): Data {
  const out: Data = {};
  for (const key in data) {
    const value = data[key];
    if (value === undefined || (value === 0 && isUsageCount(key)) || (key === "estimated" && value === false)) continue;
    out[key] = value;
  }
  return out;
}

function withoutZeroCounts(usage: Data): Data {
  const out: Data = {};
  for (const key in usage) {
    const value = usage[key];
    if (value === undefined || (value === 0 && isUsageCount(key))) continue;
    out[key] = value;
  }
  return out;
}

/** Values a reader takes when the field is absent. */
const DECISION_DEFAULTS = { tierSource: "none" } as const;
const FEATURE_DEFAULTS = { hasImages: false, hasTools: false } as const;
const CANDIDATE_DEFAULTS = { bucket: "normal" } as const;

/** Token counts a reader takes as 0 when absent. */
const USAGE_COUNTS = ["input", "output", "cacheRead", "cacheWrite"] as const;
const isUsageCount = (key: string): boolean =>
  key === "input" || key === "output" || key === "cacheRead" || key === "cacheWrite";

function defaultsBack(data: Data, defaults: Readonly<Data>): void {
  for (const key in defaults) data[key] ??= defaults[key];
}

function zerosBack(data: Data, keys: readonly string[]): void {
  for (const key of keys) data[key] ??= 0;
}

/**
 * Whether v2 writes this line's sessionId, routeId and machine: a follow-up line of a request takes them from the
 * request's decision line (the runtime writes all of a request's lines with the decision's route, in one process).
 */
export function writesRequestEnvelope(record: EventRecord): boolean {
  return record.requestId === undefined || !FOLLOW_UP_TYPES.has(record.type);
}

/** Puts back what v2 left out, in place. Only for lines with v >= 2. */
export function expandEvent(event: NormalizedEvent): void {
  const data = event.data as unknown as Data;
  switch (event.type) {
    case "decision": {
      data.shortcutTokens ??= [];
      data.rules ??= [];
      data.hints ??= [];
      data.requestedRouteId ??= data.routeId;
      defaultsBack(data, DECISION_DEFAULTS);
      if (isObject(data.features)) {
        data.features.intent ??= data.intent;
        data.features.intentConfidence ??= data.intentConfidence;
        defaultsBack(data.features, FEATURE_DEFAULTS);
      }
      break;
    }
    case "candidates": {
      const candidates = (data.candidates ??= []) as Array<Partial<CandidateEntry>>;
      candidates.forEach((candidate, index) => {
        if (!isObject(candidate)) return;
        candidate.rank ??= index + 1;
        defaultsBack(candidate as Data, CANDIDATE_DEFAULTS);
        candidate.reasons ??= [];
        candidate.warnings ??= [];
      });
      data.skipped ??= [];
      break;
    }
    case "final":
      data.failureKinds ??= [];
      if (data.plannedTarget === undefined && data.servedTarget !== undefined) data.plannedTarget = data.servedTarget;
      break;
    case "result":
      if (isObject(data.usage)) zerosBack(data.usage, USAGE_COUNTS);
      break;
    case "usage":
      zerosBack(data, USAGE_COUNTS);
      data.estimated ??= false;
      break;
  }
}

interface RequestEnvelope {
  sessionId?: string;
  routeId?: string;
  machine?: string;
}

/**
 * Gives follow-up lines the sessionId, routeId and machine of their request's decision line. Bounded: a request's
 * lines are written within its lifetime, so only the most recent requests need remembering.
 */
export class RequestEnvelopes {
  private readonly requests: RecentMap<string, RequestEnvelope>;

  constructor(limit = 10_000) {
    this.requests = new RecentMap(limit);
  }

  fill(event: NormalizedEvent): void {
    if (event.requestId === undefined) return;
    if (event.type === "decision") {
      if (event.sessionId !== undefined || event.routeId !== undefined || event.machine !== undefined) {
        this.requests.set(event.requestId, {
          sessionId: event.sessionId,
          routeId: event.routeId,
          machine: event.machine,
        });
      }
      return;
    }
    if (event.v < 2 || !FOLLOW_UP_TYPES.has(event.type)) return;
    const envelope = this.requests.get(event.requestId);
    if (envelope === undefined) return;
    if (event.sessionId === undefined && envelope.sessionId !== undefined) event.sessionId = envelope.sessionId;
    if (event.routeId === undefined && envelope.routeId !== undefined) event.routeId = envelope.routeId;
    if (event.machine === undefined && envelope.machine !== undefined) event.machine = envelope.machine;
  }
}
