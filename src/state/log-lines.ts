// What one event-log line is: its envelope (version, type, time, request, session, route, machine), built when the
// event is appended, and its compacted data and redacted JSON text, built when the log is flushed, off the request's
// path (the event log's callers hand over fresh data and do not change it afterwards). The event log
// (event-log.ts) only decides when lines reach the disk and how.
import { compactEventData, writesRequestEnvelope } from "../events/compact-events.ts";
import { EVENT_SCHEMA_VERSION, type EventRecord } from "../events/event-types.ts";
import { redactedJson } from "./redact.ts";

/** A line as written (v2 data of the router's own types is compacted: see compact-events.ts). */
export interface LogLine {
  v: number;
  type: string;
  ts: string;
  requestId?: string;
  sessionId?: string;
  routeId?: string;
  /** The machine that wrote the event, so logs of several machines can be merged (team mode). */
  machine?: string;
  data: Record<string, unknown>;
}

/**
 * What append() takes. The log itself is a mechanism for any line; the router's producers (RequestEnvironment.record,
 * PluginContext.record) only accept an EventRecord of the shared event type map.
 */
export type EventEntry = {
  type: string;
  data: object;
  requestId?: string;
  sessionId?: string;
  routeId?: string;
  ts?: string;
};

/** More requests in flight than this (a busy gateway) and the oldest's follow-up lines carry their whole envelope. */
const REMEMBERED_DECISIONS = 2_000;

export class LogLines {
  private lastStampMs = Number.NaN;
  private lastStamp = "";
  /** Requests in flight whose decision line this log wrote: their envelope fields. */
  private readonly decisions = new Map<string, { sessionId?: string; routeId?: string }>();

  constructor(
    private readonly now: () => number,
    private readonly machine: string | undefined,
  ) {}

  /** The line of an appended event: its envelope, and its data as given (compacted with its text, at flush). */
  line(event: EventEntry): LogLine {
    const record = event as unknown as EventRecord;
    const line = { v: EVENT_SCHEMA_VERSION, type: event.type, ts: event.ts ?? this.timestamp() } as LogLine;
    if (event.requestId !== undefined) line.requestId = event.requestId;
    if (!this.sharesDecisionEnvelope(event, record)) {
      if (event.sessionId !== undefined) line.sessionId = event.sessionId;
      if (event.routeId !== undefined) line.routeId = event.routeId;
      if (this.machine !== undefined) line.machine = this.machine;
    }
    line.data = (event.data ?? {}) as Record<string, unknown>;
    return line;
  }

  /**
   * The lines' text, built at flush time, off the request's path (a request's decision, candidates and attempt lines
   * come before its first token): each line's data is compacted, then redacted and serialised, once (every line from
   * line() passes here once). Text kept from a failed write passes as it is; a line that cannot be compacted or
   * serialised is reported and left out.
   */
  text(entries: Array<LogLine | string>, onError: (line: LogLine, error: unknown) => void): string[] {
    const lines: string[] = [];
    for (const entry of entries) {
      if (typeof entry === "string") {
        lines.push(entry);
        continue;
      }
      try {
        entry.data = compactEventData({ type: entry.type, data: entry.data } as unknown as EventRecord);
        lines.push(redactedJson(entry));
      } catch (error) {
        onError(entry, error);
      }
    }
    return lines;
  }

  /**
   * A follow-up line of a request leaves out the sessionId, routeId and machine when this log wrote its request's
   * decision line with the same ones (the readers take them from there); otherwise it carries its own.
   */
  private sharesDecisionEnvelope(event: EventEntry, record: EventRecord): boolean {
    if (event.requestId === undefined) return false;
    if (event.type === "decision") {
      this.decisions.set(event.requestId, { sessionId: event.sessionId, routeId: event.routeId });
      if (this.decisions.size > REMEMBERED_DECISIONS) this.decisions.delete(this.decisions.keys().next().value!);
      return false;
    }
    if (writesRequestEnvelope(record)) return false;
    const decision = this.decisions.get(event.requestId);
    if (event.type === "final") this.decisions.delete(event.requestId);
    return decision !== undefined && decision.sessionId === event.sessionId && decision.routeId === event.routeId;
  }

  /** A request's lines mostly share their millisecond: its ISO text is built once. */
  private timestamp(): string {
    const now = this.now();
    if (now !== this.lastStampMs) {
      this.lastStampMs = now;
      this.lastStamp = new Date(now).toISOString();
    }
    return this.lastStamp;
  }
}
