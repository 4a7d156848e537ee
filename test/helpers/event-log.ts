// The router's event log as a test reads it: the readers' view (a follow-up line's left-out fields put back, the events
// a line carries expanded into events of their own), and a poll for what a test is waiting on (never a timing
// assertion: only how long a test may wait).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RequestEnvelopes } from "../../src/events/compact-events.ts";
import { eventsOfLine, parseEventLine } from "../../src/events/read-events.ts";

/** Every event of the agent dir's log, oldest first; none while the log has not been written yet. */
export function readLoggedEvents(agentDir: string): any[] {
  return readEventLogFile(join(agentDir, "extensions", "auto-router.events.jsonl"));
}

/**
 * Every event of one event-log file, oldest first; none while it has not been written yet. The log is appended in the
 * background while a test polls it, so text after the last line break is a line still being written: it is left
 * for the next poll (every complete line must be readable).
 */
export function readEventLogFile(file: string): any[] {
  if (!existsSync(file)) return [];
  const envelopes = new RequestEnvelopes();
  const text = readFileSync(file, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter(Boolean)
    .flatMap((line) => {
      const outcome = parseEventLine(line);
      assert.ok("event" in outcome, `a readable event line: ${line}`);
      const events = eventsOfLine(outcome);
      for (const event of events) envelopes.fill(event);
      return events;
    });
}

/**
 * Polls a condition the test is waiting for. The limit is on the monotonic clock: a test that freezes or moves Date
 * (`clock: true`), or a wall clock stepped by the host, neither ends the wait early nor holds it forever.
 */
export async function until(condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The results of served attempts in an agent dir's event log, oldest first. */
export const servedResults = (agentDir: string): any[] =>
  readLoggedEvents(agentDir).filter((event) => event.type === "result" && event.data.outcome === "success");
