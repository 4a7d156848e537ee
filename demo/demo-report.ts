// Reading back what happened in the demo: the assistant answers from `pi --mode json` output, and the router's own
// account of each request from its event log. Pure functions over text, so the runner stays a list of steps.
import { existsSync, readFileSync } from "node:fs";
import { RequestEnvelopes } from "../src/events/compact-events.ts";
import { eventsOfLine, parseEventLine } from "../src/events/read-events.ts";
import { plural } from "../src/analytics/text-format.ts";

export interface ServedAnswer {
  provider: string;
  model: string;
  text: string;
  stopReason: string;
  errorMessage?: string;
}

export interface LoggedEvent {
  type: string;
  requestId?: string;
  sessionId?: string;
  data: Record<string, any>;
}

/** One routed request as the event log tells it: the attempts in order and the final outcome. */
export interface RequestStory {
  requestId: string;
  attempts: Array<{
    target: string;
    outcome: string;
    failureKind?: string;
    message?: string;
    cooldownMs?: number;
    latencyMs?: number;
  }>;
  skipped: Array<{ key: string; reason: string; until?: number }>;
  final?: { outcome: string; servedTarget?: string; failovers: number; latencyMs?: number };
}

function parseLines(text: string): any[] {
  const parsed: any[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      parsed.push(JSON.parse(line));
    } catch {
      // pi may print a non-JSON warning line; it is not an event.
    }
  }
  return parsed;
}

/** The assistant `message_end` events of `pi --mode json`: the message names the real provider and model. */
export function assistantAnswers(jsonModeStdout: string): ServedAnswer[] {
  return parseLines(jsonModeStdout)
    .filter((event) => event.type === "message_end" && event.message?.role === "assistant")
    .map((event) => ({
      provider: String(event.message.provider),
      model: String(event.message.model),
      text: (event.message.content ?? [])
        .filter((block: any) => block.type === "text")
        .map((block: any) => block.text)
        .join(""),
      stopReason: String(event.message.stopReason),
      errorMessage: event.message.errorMessage,
    }));
}

/** The router's events as its readers expand them (a request's attempts and results ride on its final line). */
export function readEventLog(path: string): LoggedEvent[] {
  if (!existsSync(path)) return [];
  const envelopes = new RequestEnvelopes();
  const events: LoggedEvent[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const outcome = parseEventLine(line);
    if (!("event" in outcome)) continue;
    for (const event of eventsOfLine(outcome)) {
      envelopes.fill(event);
      events.push(event as unknown as LoggedEvent);
    }
  }
  return events;
}

/** Groups events by request, in the order the requests started. */
export function requestStories(events: LoggedEvent[]): RequestStory[] {
  const stories = new Map<string, RequestStory>();
  for (const event of events) {
    if (!event.requestId) continue;
    let story = stories.get(event.requestId);
    if (!story) {
      story = { requestId: event.requestId, attempts: [], skipped: [] };
      stories.set(event.requestId, story);
    }
    if (event.type === "candidates" && story.skipped.length === 0) story.skipped = event.data.skipped ?? [];
    if (event.type === "result") {
      story.attempts.push({
        target: event.data.target,
        outcome: event.data.outcome,
        failureKind: event.data.failureKind,
        message: event.data.message,
        cooldownMs: event.data.cooldownMs,
        latencyMs: event.data.latencyMs,
      });
    }
    if (event.type === "final") {
      story.final = {
        outcome: event.data.outcome,
        servedTarget: event.data.servedTarget,
        failovers: event.data.failovers ?? 0,
        latencyMs: event.data.latencyMs,
      };
    }
  }
  return [...stories.values()];
}

export function countByType(events: LoggedEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) counts[event.type] = (counts[event.type] ?? 0) + 1;
  return counts;
}

const shorten = (text: string, length: number) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

/** Human lines for one request: each attempt, then who served it. */
export function describeStory(story: RequestStory): string[] {
  const lines: string[] = [];
  for (const skipped of story.skipped) lines.push(`    skipped   ${skipped.key}: ${skipped.reason}`);
  story.attempts.forEach((attempt, index) => {
    const head = `    attempt ${index + 1} ${attempt.target}`;
    if (attempt.outcome === "success") {
      lines.push(`${head}: served (${attempt.latencyMs} ms)`);
      return;
    }
    const cooldown = attempt.cooldownMs ? `, cooldown ${Math.round(attempt.cooldownMs / 1000)} s` : "";
    lines.push(
      `${head}: ${attempt.failureKind ?? attempt.outcome}${cooldown} — "${shorten(attempt.message ?? "", 90)}"`,
    );
  });
  if (story.final) {
    lines.push(
      `    final     ${story.final.outcome}, served by ${story.final.servedTarget ?? "nobody"}, ${plural(story.final.failovers, "failover")}, ${story.final.latencyMs} ms in the router`,
    );
  }
  return lines;
}
