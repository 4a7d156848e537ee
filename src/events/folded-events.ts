// Event log format v3: a request's candidates ride on its decision line and its attempts, results and usage on its
// final line (written by state/log-lines.ts). The readers make them events of their own again here.
import { isObject } from "../is-object.ts";
import { expandEvent } from "./compact-events.ts";
import { MAX_EVENT_MS, wrongShape } from "./event-shapes.ts";
import { EVENT_TYPES, type EventType, type NormalizedEvent } from "./event-types.ts";

/** The events that ride on their request's final line (`steps`); its candidates ride on its decision line. */
export const FOLDED_TYPES: ReadonlySet<string> = new Set<EventType>(["attempt", "result", "usage"]);

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/**
 * The events of a v3 line that carries others (compact-events' counterpart of LogLines.add): a decision line gives
 * [decision, candidates], a final line [its steps..., final], each step with its own time and its line's envelope,
 * and each expanded like a line of its own. Undefined for a line of one event; a reason when what it carries is not
 * events (the line is then malformed as a whole). A step of a type no reader knows (a newer writer's) is left out and
 * its type added to `unknownTypes`, as a line of that type is: the request's final and its other steps still count.
 * Removes the carried fields from `event`.
 */
export function unfoldEvents(
  event: NormalizedEvent,
  unknownTypes: string[] = [],
): NormalizedEvent[] | { malformed: string } | undefined {
  const line = event as NormalizedEvent & { candidates?: unknown; steps?: unknown };
  const { candidates, steps } = line;
  if (candidates === undefined && steps === undefined) return undefined;
  delete line.candidates;
  delete line.steps;
  if (candidates !== undefined && !isObject(candidates)) return { malformed: "candidates not an object" };
  if (steps !== undefined && !Array.isArray(steps)) return { malformed: "steps not a list" };
  const events: NormalizedEvent[] = [];
  const carried = (type: string, data: Record<string, unknown>, ms: number): NormalizedEvent => {
    const time = event.time + ms;
    const folded = {
      v: event.v,
      type,
      ts: ms === 0 ? event.ts : new Date(time).toISOString(),
      time,
      data,
    } as unknown as NormalizedEvent;
    if (event.requestId !== undefined) folded.requestId = event.requestId;
    if (event.sessionId !== undefined) folded.sessionId = event.sessionId;
    if (event.routeId !== undefined) folded.routeId = event.routeId;
    if (event.machine !== undefined) folded.machine = event.machine;
    expandEvent(folded);
    return folded;
  };
  for (const step of steps ?? []) {
    if (isObject(step) && typeof step.type === "string" && step.type !== "" && !KNOWN_TYPES.has(step.type)) {
      unknownTypes.push(step.type);
      continue;
    }
    if (!isObject(step) || typeof step.type !== "string" || !FOLDED_TYPES.has(step.type) || !isObject(step.data))
      return { malformed: "a step that is not an attempt, result or usage event" };
    const ms = step.ms ?? 0;
    // Within a request's longest time of its line: beyond it (1e20) the step's own time would be no date at all.
    if (typeof ms !== "number" || !(Math.abs(ms) <= MAX_EVENT_MS)) return { malformed: "a step without a valid ms" };
    const shape = wrongShape(step.type, step.data);
    if (shape) return { malformed: shape };
    events.push(carried(step.type, step.data, ms));
  }
  const candidatesShape = candidates === undefined ? undefined : wrongShape("candidates", candidates);
  if (candidatesShape) return { malformed: candidatesShape };
  events.push(event);
  if (candidates !== undefined) events.push(carried("candidates", candidates, 0));
  return events;
}
