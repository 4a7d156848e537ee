// Event log format v2, both directions in one place. A routed request writes five or six lines; v1 spent a third of
// their bytes on what a reader can infer: empty lists, zero token counts, default values (no tier source, no images
// or tools, the normal bucket), a candidate's rank (its position), the decision's intent repeated inside its
// features, a requested route equal to the routed one, a planned target equal to the served one, and the same
// sessionId on every line of a request. v2 leaves those out when writing, and expandEvent() puts them back when
// reading, so every reader sees the v1 shapes.
import { isObject } from "../is-object.ts";
import type { CandidateEntry, EventRecord, EventType, NormalizedEvent } from "./event-types.ts";

/** Lines that follow a request's decision line, which carries the sessionId for all of them. */
const FOLLOW_UP_TYPES: ReadonlySet<EventType> = new Set(["candidates", "attempt", "result", "usage", "final"]);

type Data = Record<string, unknown>;

function withoutEmptyLists(data: Data, keys: readonly string[]): Data {
  let out = data;
  for (const key of keys) {
    const value = data[key];
    if (Array.isArray(value) && value.length === 0) {
      if (out === data) out = { ...data };
      delete out[key];
    }
  }
  return out;
}

/** The data as v2 writes it. Pure; never mutates its input; data not shaped as its type says is written as given. */
export function compactEventData(record: EventRecord): Data {
  const data = record.data as unknown as Data;
  switch (record.type) {
    case "decision": {
      const out = { ...withoutDefaults(withoutEmptyLists(data, ["shortcutTokens", "rules", "hints"]), DECISION_DEFAULTS) };
      if (out.requestedRouteId === out.routeId) delete out.requestedRouteId;
      if (!isObject(data.features)) return out;
      const features = { ...withoutDefaults(data.features, FEATURE_DEFAULTS) };
      if (features.intent === data.intent && features.intentConfidence === data.intentConfidence) {
        delete features.intent;
        delete features.intentConfidence;
      }
      out.features = features;
      return out;
    }
    case "candidates": {
      if (!Array.isArray(data.candidates)) return data;
      const candidates = data.candidates.map((candidate: unknown, index) => {
        if (!isObject(candidate)) return candidate;
        const { rank, ...rest } = candidate;
        return withoutDefaults(withoutEmptyLists(rank === index + 1 ? rest : candidate, ["reasons", "warnings"]), CANDIDATE_DEFAULTS);
      });
      return withoutEmptyLists({ ...data, candidates }, ["candidates", "skipped"]);
    }
    case "final": {
      const out = withoutEmptyLists(data, ["failureKinds"]);
      if (out.plannedTarget === undefined || out.plannedTarget !== out.servedTarget) return out;
      const { plannedTarget: _same, ...rest } = out;
      return rest;
    }
    case "result":
      return isObject(data.usage) ? { ...data, usage: withoutZeros(data.usage, USAGE_COUNTS) } : data;
    case "usage": {
      const out = withoutZeros(data, USAGE_COUNTS);
      if (out.estimated === false) delete out.estimated;
      return out;
    }
    default:
      return data;
  }
}

/** Values a reader takes when the field is absent. */
const DECISION_DEFAULTS: Data = { tierSource: "none" };
const FEATURE_DEFAULTS: Data = { hasImages: false, hasTools: false };
const CANDIDATE_DEFAULTS: Data = { bucket: "normal" };

/** Without the fields that hold their default; copied only when one does (this runs per candidate per request). */
function withoutDefaults(data: Data, defaults: Data): Data {
  let out = data;
  for (const key in defaults) {
    if (data[key] !== defaults[key]) continue;
    if (out === data) out = { ...data };
    delete out[key];
  }
  return out;
}

function defaultsBack(data: Data, defaults: Data): void {
  for (const key in defaults) data[key] ??= defaults[key];
}

/** Token counts a reader takes as 0 when absent. */
const USAGE_COUNTS = ["input", "output", "cacheRead", "cacheWrite"] as const;

function withoutZeros(data: Data, keys: readonly string[]): Data {
  const out = { ...data };
  for (const key of keys) if (out[key] === 0) delete out[key];
  return out;
}

function zerosBack(data: Data, keys: readonly string[]): void {
  for (const key of keys) data[key] ??= 0;
}

/** Whether v2 writes the sessionId of this line (a follow-up line of a request takes it from the decision). */
export function writesSessionId(record: EventRecord): boolean {
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

/**
 * Gives follow-up lines the sessionId of their request's decision line. Bounded: a request's lines are written
 * within its lifetime, so only the most recent requests need remembering.
 */
export class SessionByRequest {
  private readonly sessions = new Map<string, string>();

  constructor(private readonly limit = 10_000) {}

  fill(event: NormalizedEvent): void {
    if (event.requestId === undefined) return;
    if (event.sessionId !== undefined) {
      if (event.type === "decision") this.remember(event.requestId, event.sessionId);
      return;
    }
    if (event.v >= 2 && FOLLOW_UP_TYPES.has(event.type)) {
      const sessionId = this.sessions.get(event.requestId);
      if (sessionId !== undefined) event.sessionId = sessionId;
    }
  }

  private remember(requestId: string, sessionId: string): void {
    this.sessions.delete(requestId);
    this.sessions.set(requestId, sessionId);
    if (this.sessions.size > this.limit) this.sessions.delete(this.sessions.keys().next().value!);
  }
}
