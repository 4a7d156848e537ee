import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NormalizedEvent } from "../../src/events/event-types.ts";
import { emptyJoinStats, joinRequests, type JoinedItem } from "../../src/analytics/request-join.ts";

const event = (type: string, requestId: string | undefined, time: number, data: object): NormalizedEvent =>
  ({ v: 1, type, ts: new Date(time).toISOString(), time, requestId, routeId: "r", data }) as NormalizedEvent;

async function* stream(events: NormalizedEvent[]): AsyncIterable<NormalizedEvent> {
  yield* events;
}

async function collect(events: NormalizedEvent[], maxOpen?: number) {
  const stats = emptyJoinStats();
  const items: JoinedItem[] = [];
  for await (const item of joinRequests(stream(events), stats, maxOpen)) items.push(item);
  return { items, stats };
}

const final = { outcome: "success", servedTarget: "a/b", attempts: 1, failovers: 0, latencyMs: 5, failureKinds: [] };

describe("request join", () => {
  it("hands a request on when its final arrives, with every event of that request id", async () => {
    const { items, stats } = await collect([
      event("decision", "1", 1, { requestedRouteId: "r", routeId: "r2", plannedTarget: "a/b" }),
      event("attempt", "2", 2, { attempt: 1, target: "c/d" }),
      event("attempt", "1", 3, { attempt: 1, target: "a/b" }),
      event("result", "1", 4, { attempt: 1, target: "a/b", outcome: "success", latencyMs: 1 }),
      event("final", "1", 5, final),
    ]);
    const first = items[0];
    assert.ok(first?.kind === "request");
    assert.equal(first.request.requestId, "1");
    assert.equal(first.request.routeId, "r2");
    assert.equal(first.request.requestedRouteId, "r");
    assert.equal(first.request.attempts.length, 1);
    assert.equal(first.request.results.length, 1);
    assert.deepEqual([first.request.startTime, first.request.endTime], [1, 5]);
    const second = items[1];
    assert.ok(
      second?.kind === "request" && second.request.requestId === "2" && second.request.final === undefined,
      "unfinished requests come last",
    );
    assert.deepEqual(stats, { completed: 1, incomplete: 1, orphanEvents: 0, repeatedRequests: 0 });
  });

  it("passes feedback and quota events straight through and counts request events without an id", async () => {
    const { items, stats } = await collect([
      event("feedback", "f", 1, { rating: "good", ratedRequestId: "1" }),
      event("quota", undefined, 2, { provider: "p", uvi: 0.5, level: "ok", source: "s" }),
      event("attempt", undefined, 3, { attempt: 1, target: "a/b" }),
    ]);
    assert.deepEqual(
      items.map((item) => item.kind),
      ["feedback", "quota"],
    );
    assert.equal(stats.orphanEvents, 1);
  });

  it("does not count a process's own events (breaker, health, warning) as request events without an id", async () => {
    const { items, stats } = await collect([
      event("breaker", undefined, 1, { target: "a/b", from: "closed", to: "open" }),
      event("health", undefined, 2, { provider: "a", unhealthy: true, failures: 3 }),
      event("warning", undefined, 3, { message: "config reloaded" }),
    ]);
    assert.deepEqual(items, []);
    assert.equal(stats.orphanEvents, 0);
  });

  it("flushes the oldest open request as incomplete once too many are open, keeping memory bounded", async () => {
    const { items, stats } = await collect(
      [
        event("attempt", "1", 1, { attempt: 1, target: "a/b" }),
        event("attempt", "2", 2, { attempt: 1, target: "a/b" }),
        event("attempt", "3", 3, { attempt: 1, target: "a/b" }),
        event("final", "3", 4, final),
      ],
      2,
    );
    assert.deepEqual(
      items.map((item) =>
        item.kind === "request" ? `${item.request.requestId}:${item.request.final ? "done" : "open"}` : item.kind,
      ),
      ["1:open", "3:done", "2:open"],
    );
    assert.equal(stats.incomplete, 2);
  });

  it("counts a request once when its lines are read again after it completed (overlapping files)", async () => {
    const lines = [
      event("decision", "1", 1, { requestedRouteId: "r", routeId: "r", plannedTarget: "a/b" }),
      event("attempt", "1", 2, { attempt: 1, target: "a/b" }),
      event("result", "1", 3, { attempt: 1, target: "a/b", outcome: "success", latencyMs: 1 }),
      event("final", "1", 4, final),
    ];
    // The same lines again (a backup of the same log), then a request only the second file has.
    const { items, stats } = await collect([
      ...lines,
      ...lines.map((line) => ({ ...line })),
      event("final", "2", 5, final),
    ]);
    assert.deepEqual(
      items.map((item) => (item.kind === "request" ? `${item.request.requestId}:${item.request.attempts.length}` : "")),
      ["1:1", "2:0"],
    );
    assert.deepEqual(stats, { completed: 2, incomplete: 0, orphanEvents: 0, repeatedRequests: 1 });
  });
});
