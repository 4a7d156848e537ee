// What one event-log line is: its envelope (version, type, time, request, session, route, machine), built when the
// event is appended, and its compacted data and redacted JSON text, built when the log is flushed, off the request's
// path (the event log's callers hand over fresh data and do not change it afterwards). The event log
// (event-log.ts) only decides when lines reach the disk and how.
import { RecentMap } from "../recent-map.ts";
import { compactEventData, writesRequestEnvelope } from "../events/compact-events.ts";
import { FOLDED_TYPES } from "../events/folded-events.ts";
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
  /** A decision line: its request's `candidates` data (v3). */
  candidates?: Record<string, unknown>;
  /** A final line: its request's attempt, result and usage events, in order (v3; see FoldedStep). */
  steps?: FoldedStep[];
}

/** One event folded into its request's final line: `ms` is its time relative to the line's ts (omitted when 0). */
export interface FoldedStep {
  type: string;
  ms?: number;
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

/** More requests in flight than this (a busy gateway) and the oldest's waiting events are written as their own lines. */
const REMEMBERED_DECISIONS = 2_000;

/** A request in flight whose decision line this log wrote. */
interface OpenRequest {
  sessionId?: string;
  routeId?: string;
  decision: LogLine;
  /** Its attempt, result and usage events, waiting for its final line. */
  steps: Array<{ type: string; at: number; data: Record<string, unknown> }>;
}

export class LogLines {
  private lastStampMs = Number.NaN;
  private lastStamp = "";
  private readonly requests = new RecentMap<string, OpenRequest>(REMEMBERED_DECISIONS);
  /** Lines already turned into text: a decision line there takes no more candidates. */
  private readonly written = new WeakSet<LogLine>();

  constructor(
    private readonly now: () => number,
    private readonly machine: string | undefined,
  ) {}

  /**
   * Hands `emit` the lines an appended event makes: usually its own line; nothing when it is folded into a line of its
   * request (its candidates into the decision line, its attempts, results and usage into the final line, which comes
   * when the request ends). A request's decision line is emitted at once, so a request that never ends (a crash, a
   * kill) still leaves its decision; what waits for the final is written as its own lines by drain() at exit.
   */
  add(event: EventEntry, emit: (line: LogLine) => void): void {
    const requestId = event.requestId;
    const open = requestId === undefined ? undefined : this.requests.get(requestId);
    if (requestId !== undefined && event.type === "decision") {
      // A second decision of one request (after a wait): what its first round did keeps its place before it.
      if (open) this.release(requestId, open, emit);
      const line = this.envelope(event, this.stampOf(event), true);
      const dropped = this.requests.set(requestId, {
        sessionId: event.sessionId,
        routeId: event.routeId,
        decision: line,
        steps: [],
      });
      if (dropped) this.writeSteps(dropped[0], dropped[1], emit);
      return emit(line);
    }
    if (open && open.sessionId === event.sessionId && open.routeId === event.routeId) {
      const data = (event.data ?? {}) as Record<string, unknown>;
      if (event.type === "candidates" && open.decision.candidates === undefined && !this.written.has(open.decision)) {
        open.decision.candidates = data;
        return;
      }
      if (FOLDED_TYPES.has(event.type) && event.ts === undefined) {
        open.steps.push({ type: event.type, at: this.now(), data });
        return;
      }
      // A wait follows the attempts that led to it: they are written before it, not with the final line after it.
      if (event.type === "wait") this.writeSteps(requestId!, open, emit);
      if (event.type === "final") {
        this.requests.delete(requestId!);
        const at = event.ts === undefined ? this.now() : Date.parse(event.ts);
        const line = this.envelope(event, event.ts ?? this.stampAt(at), false);
        if (open.steps.length > 0) {
          line.steps = open.steps.map((step) => {
            const folded: FoldedStep = { type: step.type, data: step.data };
            const ms = Math.round(step.at - at);
            if (ms !== 0) folded.ms = ms;
            return folded;
          });
        }
        return emit(line);
      }
    }
    if (requestId !== undefined && event.type === "final") this.requests.delete(requestId);
    const shared = open !== undefined && open.sessionId === event.sessionId && open.routeId === event.routeId;
    emit(this.envelope(event, this.stampOf(event), !shared || writesRequestEnvelope(event as unknown as EventRecord)));
  }

  /** Requests whose events wait for their final line. */
  get waiting(): number {
    let count = 0;
    for (const open of this.requests.values()) if (open.steps.length > 0) count++;
    return count;
  }

  /** Writes every waiting event as its own line (the process exits, or the log closes, before its request ended). */
  drain(emit: (line: LogLine) => void): void {
    for (const [requestId, open] of this.requests.entries()) this.release(requestId, open, emit);
  }

  /**
   * The lines' text, built at flush time, off the request's path (a request's decision line comes before its first
   * token): each line's data is compacted, then redacted and serialised, once (every line from add() passes here
   * once). Text kept from a failed write passes as it is; a line that cannot be compacted or serialised is reported
   * and left out.
   */
  text(entries: Array<LogLine | string>, onError: (line: LogLine, error: unknown) => void): string[] {
    const lines: string[] = [];
    for (const entry of entries) {
      if (typeof entry === "string") {
        lines.push(entry);
        continue;
      }
      this.written.add(entry);
      try {
        entry.data = compactEventData({ type: entry.type, data: entry.data } as unknown as EventRecord);
        if (entry.candidates)
          entry.candidates = compactEventData({ type: "candidates", data: entry.candidates } as unknown as EventRecord);
        if (entry.steps)
          for (const step of entry.steps)
            step.data = compactEventData({ type: step.type, data: step.data } as unknown as EventRecord);
        lines.push(redactedJson(entry));
      } catch (error) {
        onError(entry, error);
      }
    }
    return lines;
  }

  /** A request's waiting events as their own lines, with its envelope; it is no longer open. */
  private release(requestId: string, open: OpenRequest, emit: (line: LogLine) => void): void {
    this.requests.delete(requestId);
    this.writeSteps(requestId, open, emit);
  }

  /** A request's waiting events as their own lines, with its envelope; it stays open for the events after them. */
  private writeSteps(requestId: string, open: OpenRequest, emit: (line: LogLine) => void): void {
    const steps = open.steps;
    open.steps = [];
    for (const step of steps) {
      emit(
        this.envelope(
          { type: step.type, requestId, sessionId: open.sessionId, routeId: open.routeId, data: step.data },
          this.stampAt(step.at),
          true,
        ),
      );
    }
  }

  /** The line of an event: its envelope (sessionId, routeId and machine when `full`), and its data as given. */
  private envelope(event: EventEntry, ts: string, full: boolean): LogLine {
    const line = { v: EVENT_SCHEMA_VERSION, type: event.type, ts } as LogLine;
    if (event.requestId !== undefined) line.requestId = event.requestId;
    if (full) {
      if (event.sessionId !== undefined) line.sessionId = event.sessionId;
      if (event.routeId !== undefined) line.routeId = event.routeId;
      if (this.machine !== undefined) line.machine = this.machine;
    }
    line.data = (event.data ?? {}) as Record<string, unknown>;
    return line;
  }

  private stampOf(event: EventEntry): string {
    return event.ts ?? this.stampAt(this.now());
  }

  /** A request's lines mostly share their millisecond: its ISO text is built once. */
  private stampAt(now: number): string {
    if (now !== this.lastStampMs) {
      this.lastStampMs = now;
      this.lastStamp = new Date(now).toISOString();
    }
    return this.lastStamp;
  }
}
