// What the reports read of each event type's data, and of which kind. A field present with another kind (a log edited
// by hand, or damaged) makes its line malformed, skipped and counted as such, where a report failed with a TypeError
// over it ("data.candidates.forEach is not a function"). A field left out is the writer's default (format v2 leaves
// defaults out) or optional, except the target an attempt, result or usage names, which every report reads, and a
// quota event's provider and level.
import { isObject } from "../is-object.ts";

/** The longest time a request can take (31 years): a wall clock stepped back makes one negative, which is kept. */
export const MAX_EVENT_MS = 1_000_000_000_000;

type Kind = "string" | "strings" | "list" | "object";

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
  candidates: { candidates: "list", skipped: "list" },
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
  object: "an object",
};

const isKind = (value: unknown, kind: Kind): boolean =>
  kind === "string"
    ? typeof value === "string"
    : kind === "object"
      ? isObject(value)
      : Array.isArray(value) && (kind === "list" || value.every((item) => typeof item === "string"));

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

/** Why an event's data is not what the reports read (`final with failureKinds not a list of strings`), if it is not. */
export function wrongShape(type: string, data: Record<string, unknown>): string | undefined {
  for (const field of REQUIRED[type] ?? []) if (data[field] === undefined) return `${type} without ${field}`;
  const shape = SHAPES[type];
  if (!shape) return undefined;
  for (const field in shape) {
    const value = data[field];
    if (value !== undefined && !isKind(value, shape[field]!))
      return `${type} with ${field} not ${KIND_TEXT[shape[field]!]}`;
  }
  return undefined;
}
