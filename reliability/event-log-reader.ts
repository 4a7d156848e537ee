// Reads every event the router wrote in a state directory (rotated files first), as the readers expand its lines
// (a request's attempts, results and usage ride on its final line), and groups them per request, in the order the
// requests started. The suites compare these with what the emulators saw.
import { readFileSync } from "node:fs";
import { eventsOfLine, parseEventLine } from "../src/events/read-events.ts";
import { listLogFiles } from "../src/state/event-log.ts";

export interface LoggedEvent {
  v: number;
  type: string;
  ts: string;
  requestId?: string;
  routeId?: string;
  data: Record<string, any>;
}

export interface LoggedRequest {
  requestId: string;
  candidates: Array<{ candidates: Array<{ key: string }>; skipped: Array<{ key: string; reason: string }> }>;
  attempts: Array<{ attempt: number; target: string }>;
  results: Array<{
    attempt: number;
    target: string;
    outcome: string;
    failureKind?: string;
    cooldownMs?: number;
    message?: string;
  }>;
  final?: { outcome: string; servedTarget?: string; attempts: number };
}

export function readLoggedEvents(stateDir: string): { events: LoggedEvent[]; malformed: number; lines: number } {
  const events: LoggedEvent[] = [];
  let malformed = 0;
  let lines = 0;
  for (const file of listLogFiles(stateDir)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (line.trim() === "") continue;
      lines += 1;
      const outcome = parseEventLine(line);
      if ("event" in outcome) events.push(...(eventsOfLine(outcome) as unknown as LoggedEvent[]));
      else malformed += 1;
    }
  }
  return { events, malformed, lines };
}

export function groupRequests(events: LoggedEvent[]): LoggedRequest[] {
  const byId = new Map<string, LoggedRequest>();
  for (const event of events) {
    if (!event.requestId) continue;
    let request = byId.get(event.requestId);
    if (!request) {
      request = { requestId: event.requestId, candidates: [], attempts: [], results: [] };
      byId.set(event.requestId, request);
    }
    if (event.type === "candidates") request.candidates.push(event.data as LoggedRequest["candidates"][number]);
    else if (event.type === "attempt") request.attempts.push(event.data as LoggedRequest["attempts"][number]);
    else if (event.type === "result") request.results.push(event.data as LoggedRequest["results"][number]);
    else if (event.type === "final") request.final = event.data as LoggedRequest["final"];
  }
  return [...byId.values()];
}
