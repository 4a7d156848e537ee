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

/**
 * A copy of `data` without the keys `drop` names, or `data` itself when it drops none. Built key by key: a spread
 * copy followed by `delete` turns the object into a slow dictionary, which then costs every JSON.stringify of the
 * event log (this runs for each event of every request).
 */
function without(data: Data, drop: (key: string, value: unknown) => boolean): Data {
  const keys = Object.keys(data);
  let first = 0;
  while (first < keys.length && !drop(keys[first]!, data[keys[first]!])) first++;
  if (first === keys.length) return data;
  const out: Data = {};
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    if (index === first || (index > first && drop(key, data[key]))) continue;
    out[key] = data[key];
  }
  return out;
}

const isEmptyList = (value: unknown): boolean => Array.isArray(value) && value.length === 0;

function withoutEmptyLists(data: Data, keys: readonly string[]): Data {
  return without(data, (key, value) => isEmptyList(value) && keys.includes(key));
}

/** The data as v2 writes it. Pure; never mutates its input; data not shaped as its type says is written as given. */
export function compactEventData(record: EventRecord): Data {
  const data = record.data as unknown as Data;
  switch (record.type) {
    case "decision": {
      const sameRoute = data.requestedRouteId === data.routeId;
      const out = without(data, (key, value) =>
        (isEmptyList(value) && DECISION_LISTS.includes(key)) || (Object.hasOwn(DECISION_DEFAULTS, key) && value === DECISION_DEFAULTS[key]) || (key === "requestedRouteId" && sameRoute));
      if (!isObject(data.features)) return out === data ? { ...data } : out;
      const sameIntent = data.features.intent === data.intent && data.features.intentConfidence === data.intentConfidence;
      const features = without(data.features, (key, value) =>
        (Object.hasOwn(FEATURE_DEFAULTS, key) && value === FEATURE_DEFAULTS[key]) || (sameIntent && (key === "intent" || key === "intentConfidence")));
      return { ...out, features: features === data.features ? { ...features } : features };
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
    case "usage":
      return without(data, (key, value) => (value === 0 && (USAGE_COUNTS as readonly string[]).includes(key)) || (key === "estimated" && value === false));
    default:
      return data;
  }
}

/** Values a reader takes when the field is absent. */
const DECISION_DEFAULTS: Data = { tierSource: "none" };
const FEATURE_DEFAULTS: Data = { hasImages: false, hasTools: false };
const CANDIDATE_DEFAULTS: Data = { bucket: "normal" };

const DECISION_LISTS = ["shortcutTokens", "rules", "hints"];

/** Without the fields that hold their default; copied only when one does (this runs per candidate per request). */
function withoutDefaults(data: Data, defaults: Data): Data {
  return without(data, (key, value) => Object.hasOwn(defaults, key) && value === defaults[key]);
}

function defaultsBack(data: Data, defaults: Data): void {
  for (const key in defaults) data[key] ??= defaults[key];
}

/** Token counts a reader takes as 0 when absent. */
const USAGE_COUNTS = ["input", "output", "cacheRead", "cacheWrite"] as const;

function withoutZeros(data: Data, keys: readonly string[]): Data {
  const out = without(data, (key, value) => value === 0 && keys.includes(key));
  return out === data ? { ...data } : out;
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
