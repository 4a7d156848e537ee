// Joins the events of one request (shared requestId) into one record, streaming: a request's events are held only
// until its `final` arrives, then the joined request is handed on and forgotten. Requests that never finish
// (crash, truncated log) are flushed as incomplete at the end, or when too many are open at once.
import { RecentMap } from "../recent-map.ts";
import type {
  AttemptEventData,
  CandidatesEventData,
  DecisionEventData,
  EventOf,
  EventType,
  FinalEventData,
  NormalizedEvent,
  ResultEventData,
  UsageEventData,
} from "../events/event-types.ts";

/** Open requests kept at most; beyond it the oldest is flushed as incomplete (a writer that lost its finals). */
export const MAX_OPEN_REQUESTS = 20_000;

export interface JoinedRequest {
  requestId: string;
  sessionId?: string;
  /** The route whose targets served (decision.routeId), else the envelope's. */
  routeId: string;
  /** The route the user selected. */
  requestedRouteId: string;
  /** Epoch ms of the first event seen, and of the final (or last) one. */
  startTime: number;
  endTime: number;
  decision?: DecisionEventData;
  candidates?: CandidatesEventData;
  attempts: AttemptEventData[];
  results: ResultEventData[];
  /** The spend the budget counted for its attempts (see attempt-costs.ts). */
  usages: UsageEventData[];
  /** Absent: the request never finished in this log. */
  final?: FinalEventData;
}

export type JoinedItem =
  | { kind: "request"; request: JoinedRequest }
  | { kind: "feedback"; event: EventOf<"feedback"> }
  | { kind: "quota"; event: EventOf<"quota"> }
  /** A health probe's spend (`health --probe`): the budget's, no request's. */
  | { kind: "probe"; event: EventOf<"usage"> };

export interface JoinStats {
  completed: number;
  incomplete: number;
  /** Request-scoped events (REQUEST_TYPES) without a requestId; a process's own (breaker, health) are none. */
  orphanEvents: number;
  /**
   * Requests read again after they had completed (overlapping files: a log and its backup, the same lines merged
   * twice): counted once, the later copy's events left out.
   */
  repeatedRequests: number;
}

/** The events that belong to one request and carry its id; the others (breaker, health, warning, pin) may not. */
const REQUEST_TYPES: ReadonlySet<string> = new Set<EventType>([
  "decision",
  "candidates",
  "attempt",
  "result",
  "usage",
  "wait",
  "final",
]);

export const emptyJoinStats = (): JoinStats => ({ completed: 0, incomplete: 0, orphanEvents: 0, repeatedRequests: 0 });

function openRequest(event: NormalizedEvent, requestId: string): JoinedRequest {
  return {
    requestId,
    sessionId: event.sessionId,
    routeId: event.routeId ?? "",
    requestedRouteId: event.routeId ?? "",
    startTime: event.time,
    endTime: event.time,
    attempts: [],
    results: [],
    usages: [],
  };
}

function absorb(request: JoinedRequest, event: NormalizedEvent): void {
  request.endTime = Math.max(request.endTime, event.time);
  request.startTime = Math.min(request.startTime, event.time);
  if (!request.sessionId && event.sessionId) request.sessionId = event.sessionId;
  if (!request.routeId && event.routeId) request.routeId = request.requestedRouteId = event.routeId;
  switch (event.type) {
    case "decision":
      request.decision = event.data;
      if (event.data.routeId) request.routeId = event.data.routeId;
      request.requestedRouteId = event.data.requestedRouteId || request.routeId;
      break;
    case "candidates":
      request.candidates = event.data;
      break;
    case "attempt":
      request.attempts.push(event.data);
      break;
    case "result":
      request.results.push(event.data);
      break;
    case "usage":
      request.usages.push(event.data);
      break;
    case "final":
      request.final = event.data;
      break;
  }
}

/**
 * Joined requests (on their final), feedback and quota events, in log order. A request whose id already completed is
 * not counted again: the same lines read from two files (`--file log --file backup`, machines' logs merged with an
 * overlap) are one request. Only the completed ids are kept, not the requests.
 */
export async function* joinRequests(
  events: AsyncIterable<NormalizedEvent>,
  stats: JoinStats = emptyJoinStats(),
  maxOpenRequests = MAX_OPEN_REQUESTS,
): AsyncIterable<JoinedItem> {
  const open = new RecentMap<string, JoinedRequest>(maxOpenRequests);
  const completed = new Set<string>();
  for await (const event of events) {
    if (event.type === "feedback") {
      yield { kind: "feedback", event };
      continue;
    }
    if (event.type === "quota") {
      yield { kind: "quota", event };
      continue;
    }
    if (event.type === "usage" && event.data.probe === true) {
      yield { kind: "probe", event };
      continue;
    }
    const requestId = event.requestId;
    if (!requestId) {
      if (REQUEST_TYPES.has(event.type)) stats.orphanEvents++;
      continue;
    }
    if (completed.has(requestId)) {
      if (event.type === "final") stats.repeatedRequests++;
      continue;
    }
    let request = open.get(requestId);
    if (!request) {
      request = openRequest(event, requestId);
      const dropped = open.set(requestId, request);
      if (dropped) {
        const [, oldest] = dropped;
        stats.incomplete++;
        yield { kind: "request", request: oldest };
      }
    }
    absorb(request, event);
    if (event.type === "final") {
      open.delete(requestId);
      completed.add(requestId);
      stats.completed++;
      yield { kind: "request", request };
    }
  }
  for (const request of open.values()) {
    stats.incomplete++;
    yield { kind: "request", request };
  }
}

// ---- derived facts used by every report ---------------------------------------------------------------------------

export const providerOf = (target: string): string => {
  const slash = target.indexOf("/");
  return slash > 0 ? target.slice(0, slash) : target;
};

/**
 * What the router meant to use: the final's record, else the decision's, else the first candidate. When a hard budget
 * refused targets at their reservation, the final's alone: the decision's first choice may be one it skipped, and a
 * request it refused whole planned on none.
 */
export const plannedTargetOf = (request: JoinedRequest): string | undefined =>
  request.final?.budgetSkipped?.length
    ? request.final.plannedTarget
    : (request.final?.plannedTarget ?? request.decision?.plannedTarget ?? request.candidates?.candidates?.[0]?.key);

export const servedTargetOf = (request: JoinedRequest): string | undefined => request.final?.servedTarget;

export const matchesRoute = (request: JoinedRequest, route: string | undefined): boolean =>
  route === undefined || request.routeId === route || request.requestedRouteId === route;

export const failedOver = (request: JoinedRequest): boolean => (request.final?.failovers ?? 0) > 0;
