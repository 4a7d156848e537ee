// What the reports read of each event type's data, and of which kind. A field present with another kind (a log edited
// by hand, or damaged) makes its line malformed, skipped and counted as such, where a report failed with a TypeError
// over it ("data.candidates.forEach is not a function"). A field left out is the writer's default (format v2 leaves
// defaults out) or optional, except the target an attempt, result or usage names, which every report reads, and a
// quota event's provider and level. A rating and a final have rules of their own (RULES): one check of a line's shape
// for every reader.
import { isObject } from "../is-object.ts";

/** The longest time a request can take (31 years): a wall clock stepped back makes one negative, which is kept. */
export const MAX_EVENT_MS = 1_000_000_000_000;

type Kind = "string" | "strings" | "list" | "objects" | "object";

const SHAPES: Readonly<Record<string, Readonly<Record<string, Kind>>>> = {
  decision: {
    requestedRouteId: "string",
    routeId: "string",
    tier: "string",
    intent: "string",
    plannedTarget: "string",
    fallback: "string",
    features: "object",
    shortcutTokens: "strings",
    rules: "list",
    hints: "strings",
  },
  // Each entry is read as an object (its key, reason, estimate): a null among them was a TypeError in routing-replay.
  candidates: { candidates: "objects", skipped: "objects" },
  attempt: { target: "string" },
  result: { target: "string", outcome: "string", failureKind: "string", message: "string", usage: "object" },
  usage: { target: "string", provider: "string", outcome: "string", estimateReason: "string" },
  final: { servedTarget: "string", plannedTarget: "string", failureKinds: "strings" },
  feedback: { reason: "string", servedTarget: "string", routeId: "string" },
  quota: { provider: "string", models: "string", level: "string", window: "string", source: "string" },
  wait: { reason: "string", target: "string" },
  warning: { code: "string", message: "string" },
  pin: { action: "string", target: "string", upstream: "string", reason: "string" },
  breaker: { target: "string", from: "string", to: "string", lastFailure: "string" },
  health: { provider: "string", lastError: "string" },
};

const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  attempt: ["target"],
  result: ["target"],
  usage: ["target"],
  // The UVI timeline's row and its last level.
  quota: ["provider", "level"],
};

const KIND_TEXT: Readonly<Record<Kind, string>> = {
  string: "a string",
  strings: "a list of strings",
  list: "a list",
  objects: "a list of objects",
  object: "an object",
};

const isKind = (value: unknown, kind: Kind): boolean =>
  kind === "string"
    ? typeof value === "string"
    : kind === "object"
      ? isObject(value)
      : Array.isArray(value) &&
        (kind === "list" || value.every((item) => (kind === "objects" ? isObject(item) : typeof item === "string")));

/** The envelope's ids, which the reports group and join by: each a string, or null (a quota event has no route). */
const ENVELOPE = ["requestId", "sessionId", "routeId", "machine"] as const;

/** Why a line's envelope is not what the reports read (`result with routeId not a string`), if it is not. */
export function wrongEnvelope(type: string, record: Record<string, unknown>): string | undefined {
  for (const field of ENVELOPE) {
    const value = record[field];
    if (value !== undefined && value !== null && typeof value !== "string") return `${type} with ${field} not a string`;
  }
  return undefined;
}

/**
 * A rating the quality report would count wrongly: "meh" is no bad rating, and a tags string is no list of tags (it
 * would be read character by character).
 */
function invalidFeedback(data: Record<string, unknown>): string | undefined {
  if (data.rating !== "good" && data.rating !== "bad") return 'feedback without rating "good" or "bad"';
  if (typeof data.ratedRequestId !== "string") return "feedback without ratedRequestId";
  if (data.tags !== undefined && !(Array.isArray(data.tags) && data.tags.every((tag) => typeof tag === "string")))
    return "feedback tags not a list of strings";
  return undefined;
}

/**
 * A final event the reports would count wrongly: its outcome would be counted as "undefined", and a count that is no
 * number would be added as text ("0" + "2" is "02") or as NaN. An outcome this version does not know (a newer
 * writer's) is no reason to drop the request: it is counted, its outcome shown as written (FinalOutcome lists ours).
 */
function invalidFinal(data: Record<string, unknown>): string | undefined {
  if (typeof data.outcome !== "string" || data.outcome.trim() === "") return "final without an outcome";
  for (const count of ["attempts", "failovers"] as const) {
    const value = data[count];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
      return `final without ${count} as a whole number`;
  }
  return undefined;
}

/** What a type's data must hold beyond its fields' kinds. */
const RULES: Readonly<Record<string, (data: Record<string, unknown>) => string | undefined>> = {
  feedback: invalidFeedback,
  final: invalidFinal,
};

/** Why an event's data is not what the reports read (`final with failureKinds not a list of strings`), if it is not. */
export function wrongShape(type: string, data: Record<string, unknown>): string | undefined {
  for (const field of REQUIRED[type] ?? []) if (data[field] === undefined) return `${type} without ${field}`;
  const shape = SHAPES[type];
  for (const field in shape) {
    const value = data[field];
    if (value !== undefined && !isKind(value, shape[field]!))
      return `${type} with ${field} not ${KIND_TEXT[shape[field]!]}`;
  }
  return RULES[type]?.(data);
}
