// Event log format v3: what the writer leaves out, the reader puts back, so readers see the v1 shapes; a request's
// candidates ride on its decision line and its attempts, results and usage on its final line, and the reader
// expands them back into events of their own; v1 and v2 lines read as before.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type {
  CandidatesEventData,
  DecisionEventData,
  EventRecord,
  FinalEventData,
} from "../../src/events/event-types.ts";
import { EVENT_SCHEMA_VERSION } from "../../src/events/event-types.ts";
import { EVENT_TYPES } from "../../src/events/event-types.ts";
import { emptyReadStats, findLogFiles, parseEventLine, readEvents } from "../../src/events/read-events.ts";
import { type EventLog, openEventLog } from "../../src/state/event-log.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const DECISION: DecisionEventData = {
  requestedRouteId: "main",
  routeId: "main",
  tierSource: "none",
  intent: "code",
  intentConfidence: 0.8,
  features: {
    estimatedTokens: 11,
    contextClass: "short",
    hasImages: false,
    hasTools: false,
    intent: "code",
    intentConfidence: 0.8,
  },
  shortcutTokens: [],
  plannedTarget: "a/1",
  rules: [],
  hints: ["sorted by config"],
};
const CANDIDATES: CandidatesEventData = {
  candidates: [
    { key: "a/1", rank: 1, bucket: "normal", billing: "per-token", reasons: [], warnings: [], estimatedCostUsd: 0 },
    { key: "b/2", rank: 2, bucket: "demoted", billing: "subscription", reasons: ["cheaper"], warnings: [] },
  ],
  skipped: [],
};
const FINAL: FinalEventData = {
  outcome: "success",
  servedTarget: "a/1",
  plannedTarget: "a/1",
  attempts: 1,
  failovers: 0,
  latencyMs: 25,
  failureKinds: [],
};
const IDS = { requestId: "request-1", sessionId: "session-1", routeId: "main" };
const RECORDS: EventRecord[] = [
  { type: "decision", data: DECISION, ...IDS },
  { type: "candidates", data: CANDIDATES, ...IDS },
  { type: "attempt", data: { attempt: 1, target: "a/1" }, ...IDS },
  { type: "final", data: FINAL, ...IDS },
];

/** The log file's lines, parsed. */
const writtenLines = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));

async function readAll(dir: string) {
  const stats = emptyReadStats();
  const events = [];
  for await (const event of readEvents(findLogFiles(dir), { stats })) events.push(event);
  return { events, stats };
}

describe("event log format v3", () => {
  it("writes version 3 without empty lists, default values, ranks, the repeated intent or a follow-up line's sessionId, route and machine", async () => {
    const dir = freshDir("pi-auto-router-compact");
    const log = openEventLog({ dir, now: () => 0, machine: "laptop" });
    for (const record of RECORDS) log.append(record);
    await log.close();
    const lines = writtenLines(log.path);
    assert.ok(lines.every((line) => line.v === EVENT_SCHEMA_VERSION && EVENT_SCHEMA_VERSION === 3));
    assert.deepEqual(
      lines.map((line) => [line.type, line.sessionId, line.routeId, line.machine]),
      [
        ["decision", "session-1", "main", "laptop"],
        ["final", undefined, undefined, undefined],
      ],
      "one decision line (its candidates on it) and one final line (its attempt on it)",
    );
    assert.deepEqual(lines[0].data.features, { estimatedTokens: 11, contextClass: "short" });
    assert.equal("rules" in lines[0].data, false);
    assert.equal("requestedRouteId" in lines[0].data, false, "the requested route is the routed one");
    assert.equal("tierSource" in lines[0].data, false, "no tier source is the default");
    assert.deepEqual(lines[0].candidates.candidates[0], { key: "a/1", billing: "per-token", estimatedCostUsd: 0 });
    assert.deepEqual(lines[1].steps, [{ type: "attempt", data: { attempt: 1, target: "a/1" } }]);
    assert.equal("failureKinds" in lines[1].data, false);
  });

  it("gives each event on a final line its own time, as an offset from the line's", async () => {
    const dir = freshDir("pi-auto-router-compact");
    let now = Date.parse("2026-01-01T00:00:00.000Z");
    const log = openEventLog({ dir, now: () => now });
    const result = {
      attempt: 1,
      target: "a/1",
      outcome: "success" as const,
      latencyMs: 7,
      usage: { input: 3, output: 2, cacheRead: 0, cacheWrite: 0, costUsd: 0.5 },
    };
    for (const [record, at] of [
      [RECORDS[0]!, 0],
      [RECORDS[1]!, 0],
      [RECORDS[2]!, 2],
      [{ type: "result", data: result, ...IDS } as EventRecord, 9],
      [RECORDS[3]!, 12],
    ] as const) {
      now = Date.parse("2026-01-01T00:00:00.000Z") + at;
      log.append(record);
    }
    await log.close();
    const lines = readFileSync(log.path, "utf8").trim().split("\n");
    assert.equal(lines.length, 2);
    assert.deepEqual(
      JSON.parse(lines[1]!).steps.map((step: { type: string; ms?: number }) => [step.type, step.ms]),
      [
        ["attempt", -10],
        ["result", -3],
      ],
    );
    const { events } = await readAll(dir);
    assert.deepEqual(
      events.map((event) => [event.type, event.ts, event.time - Date.parse("2026-01-01T00:00:00.000Z")]),
      [
        ["decision", "2026-01-01T00:00:00.000Z", 0],
        ["candidates", "2026-01-01T00:00:00.000Z", 0],
        ["attempt", "2026-01-01T00:00:00.002Z", 2],
        ["result", "2026-01-01T00:00:00.009Z", 9],
        ["final", "2026-01-01T00:00:00.012Z", 12],
      ],
    );
    assert.deepEqual(events[3]!.data, result);
  });

  for (const [how, end] of [
    ["the exit hook's synchronous write", (log: EventLog) => log.flushSync()],
    ["close()", (log: EventLog) => log.close()],
  ] as const) {
    it(`leaves the decision and the events so far of a request that has not ended, at ${how}`, async () => {
      const dir = freshDir("pi-auto-router-compact");
      const log = openEventLog({ dir, now: () => 0, machine: "laptop" });
      for (const record of RECORDS.slice(0, 3)) log.append(record);
      await end(log);
      const lines = writtenLines(log.path);
      assert.deepEqual(
        lines.map((line) => line.type),
        ["decision", "attempt"],
      );
      const { events } = await readAll(dir);
      assert.deepEqual(
        events.map((event) => [event.type, event.sessionId, event.routeId, event.data]),
        RECORDS.slice(0, 3).map((record) => [record.type, "session-1", "main", record.data]),
      );
      await log.close();
    });
  }

  it("keeps what a request did before its second decision (after a wait) before that decision", async () => {
    const dir = freshDir("pi-auto-router-compact");
    const log = openEventLog({ dir, now: () => 0 });
    const records: EventRecord[] = [...RECORDS.slice(0, 3), ...RECORDS.slice(0, 2), RECORDS[3]!];
    for (const record of records) log.append(record);
    await log.close();
    const { events } = await readAll(dir);
    assert.deepEqual(
      events.map((event) => event.type),
      records.map((record) => record.type),
    );
  });

  it("writes candidates that come after their decision line was turned into text as a line of their own", async () => {
    const dir = freshDir("pi-auto-router-compact");
    const log = openEventLog({ dir, now: () => 0 });
    log.append(RECORDS[0]!);
    // The decision line becomes text at the end of the turn it was appended in.
    await new Promise((resolve) => setImmediate(resolve));
    for (const record of RECORDS.slice(1)) log.append(record);
    await log.close();
    const lines = writtenLines(log.path);
    assert.deepEqual(
      lines.map((line) => [line.type, line.candidates !== undefined]),
      [
        ["decision", false],
        ["candidates", false],
        ["final", false],
      ],
    );
    const { events } = await readAll(dir);
    assert.deepEqual(
      events.map((event) => [event.type, event.data]),
      RECORDS.map((record) => [record.type, record.data]),
    );
  });

  it("reads v3 lines back as exactly the shapes that were written, sessionId, route and machine included", async () => {
    const dir = freshDir("pi-auto-router-compact");
    const log = openEventLog({ dir, now: () => 0, machine: "laptop" });
    for (const record of RECORDS) log.append(record);
    await log.close();
    const { events, stats } = await readAll(dir);
    assert.deepEqual(stats.unknownTypes, {});
    assert.deepEqual(
      events.map((event) => [event.type, event.sessionId, event.routeId, event.machine, event.data]),
      RECORDS.map((record) => [record.type, "session-1", "main", "laptop", record.data]),
    );
  });

  it("keeps the whole envelope on a follow-up line whose request has no decision line in this log, or another route", async () => {
    const dir = freshDir("pi-auto-router-compact");
    const log = openEventLog({ dir, now: () => 0, machine: "laptop" });
    log.append({
      type: "final",
      data: FINAL,
      requestId: "request-without-decision",
      sessionId: "session-1",
      routeId: "main",
    });
    log.append(RECORDS[0]!);
    log.append({ ...RECORDS[2]!, routeId: "other" });
    await log.close();
    const lines = writtenLines(log.path);
    assert.deepEqual(
      lines.map((line) => [line.type, line.sessionId, line.routeId, line.machine]),
      [
        ["final", "session-1", "main", "laptop"],
        ["decision", "session-1", "main", "laptop"],
        ["attempt", "session-1", "other", "laptop"],
      ],
    );
  });

  it("still reads v2 lines (one line per event, a follow-up line without its envelope) unchanged", async () => {
    const dir = freshDir("pi-auto-router-compact");
    const v2 = RECORDS.map((record, index) =>
      JSON.stringify({
        v: 2,
        type: record.type,
        ts: "2026-01-01T00:00:00.000Z",
        requestId: IDS.requestId,
        ...(index === 0 ? { sessionId: IDS.sessionId, routeId: IDS.routeId } : {}),
        data: record.data,
      }),
    );
    writeFileSync(join(dir, "auto-router.events.jsonl"), `${v2.join("\n")}\n`);
    const { events } = await readAll(dir);
    assert.deepEqual(
      events.map((event) => [event.v, event.type, event.sessionId, event.routeId, event.data]),
      RECORDS.map((record) => [2, record.type, "session-1", "main", record.data]),
    );
  });

  it("counts a line whose carried events are not events as malformed, as a whole", () => {
    const line = (extra: Record<string, unknown>) =>
      JSON.stringify({ v: 3, type: "final", ts: "2026-01-01T00:00:00.000Z", requestId: "r", data: FINAL, ...extra });
    assert.deepEqual(parseEventLine(line({ steps: [{ type: "attempt", data: 3 }] })), {
      malformed: "a step that is not an attempt, result or usage event",
    });
    assert.deepEqual(parseEventLine(line({ steps: [{ type: "decision", data: {} }] })), {
      malformed: "a step that is not an attempt, result or usage event",
    });
    assert.deepEqual(parseEventLine(line({ steps: [{ type: "attempt", data: {}, ms: "soon" }] })), {
      malformed: "a step without a valid ms",
    });
    assert.deepEqual(parseEventLine(line({ steps: [{ type: "attempt", data: { target: "a/1" }, ms: 1e20 }] })), {
      malformed: "a step without a valid ms",
    });
    assert.deepEqual(parseEventLine(line({ steps: {} })), { malformed: "steps not a list" });
    // What a report reads of a step or the candidates, of another kind (a hand edit): the line is malformed, named.
    assert.deepEqual(parseEventLine(line({ steps: [{ type: "attempt", data: { attempt: 1 } }] })), {
      malformed: "attempt without target",
    });
    assert.deepEqual(parseEventLine(line({ steps: [{ type: "result", data: { target: 7 } }] })), {
      malformed: "result with target not a string",
    });
    assert.deepEqual(parseEventLine(line({ candidates: { candidates: {} } })), {
      malformed: "candidates with candidates not a list of objects",
    });
    assert.deepEqual(parseEventLine(line({ data: { ...FINAL, failureKinds: "rate_limit" } })), {
      malformed: "final with failureKinds not a list of strings",
    });
    // A step of a type no reader knows (a newer writer's) is left out and named, not the line's ruin.
    const newer = parseEventLine(
      line({
        steps: [
          { type: "hedge", data: {} },
          { type: "attempt", data: { attempt: 1, target: "a/1" } },
        ],
      }),
    );
    assert.ok("events" in newer && newer.events);
    assert.deepEqual(
      newer.events.map((event) => event.type),
      ["attempt", "final"],
    );
    assert.deepEqual(newer.unknownTypes, ["hedge"]);
    assert.deepEqual(parseEventLine(line({ candidates: [1] })), { malformed: "candidates not an object" });
    const good = parseEventLine(line({ steps: [{ type: "attempt", data: { attempt: 1, target: "a/1" }, ms: -4 }] }));
    assert.ok("events" in good && good.events);
    assert.deepEqual(
      good.events.map((event) => [event.type, event.ts]),
      [
        ["attempt", "2025-12-31T23:59:59.996Z"],
        ["final", "2026-01-01T00:00:00.000Z"],
      ],
    );
  });

  it("still reads v1 lines unchanged", async () => {
    const dir = freshDir("pi-auto-router-compact");
    const v1 = RECORDS.map((record) =>
      JSON.stringify({ v: 1, type: record.type, ts: "2026-01-01T00:00:00.000Z", ...IDS, data: record.data }),
    );
    writeFileSync(join(dir, "auto-router.events.jsonl"), `${v1.join("\n")}\n`);
    const { events } = await readAll(dir);
    assert.deepEqual(
      events.map((event) => [event.v, event.sessionId, event.data]),
      RECORDS.map((record) => [1, "session-1", record.data]),
    );
  });

  it("reads a line of every type the writer accepts as a known type", () => {
    // The writer only takes types of the event type map (checked by the compiler); EVENT_TYPES must list them all.
    for (const type of EVENT_TYPES) {
      // A rating's and a final's data are checked too (one without a rating, an outcome or its counts is malformed),
      // and so are the target an attempt, result or usage names and a quota event's provider and level: the smallest
      // valid one.
      const data =
        type === "feedback"
          ? { rating: "good", ratedRequestId: "r" }
          : type === "final"
            ? { outcome: "success", attempts: 1, failovers: 0 }
            : type === "attempt" || type === "result" || type === "usage"
              ? { target: "a/1" }
              : type === "quota"
                ? { provider: "p", level: "ok" }
                : {};
      const outcome = parseEventLine(
        JSON.stringify({ v: EVENT_SCHEMA_VERSION, type, ts: "2026-01-01T00:00:00.000Z", data }),
      );
      assert.ok("event" in outcome, `${type}: ${JSON.stringify(outcome)}`);
    }
    assert.ok(EVENT_TYPES.includes("wait") && EVENT_TYPES.includes("warning") && EVENT_TYPES.includes("usage"));
    assert.deepEqual(
      parseEventLine(JSON.stringify({ v: 2, type: "no-such-type", ts: "2026-01-01T00:00:00.000Z", data: {} })),
      { unknownType: "no-such-type" },
    );
  });
});
