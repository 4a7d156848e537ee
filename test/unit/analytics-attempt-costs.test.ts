// One place decides what an attempt cost, for every report: the spend the budget counted (the usage step), else
// what the result reported (logs without usage steps), else the final's cost (logs with only a final).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attemptCosts, requestCost } from "../../src/analytics/attempt-costs.ts";
import { joinRequests, type JoinedRequest } from "../../src/analytics/request-join.ts";
import { computeRoutingStats } from "../../src/analytics/routing-stats.ts";
import { computeSessionStats } from "../../src/analytics/session-stats.ts";
import type { NormalizedEvent } from "../../src/events/event-types.ts";

const event = (type: string, requestId: string, time: number, data: object): NormalizedEvent =>
  ({ v: 3, type, ts: new Date(time).toISOString(), time, requestId, routeId: "main", data }) as NormalizedEvent;

async function* stream(events: NormalizedEvent[]): AsyncIterable<NormalizedEvent> {
  yield* events;
}

const usage = (attempt: number, target: string, costUsd: number, estimated: boolean) => ({
  attempt,
  target,
  provider: target.split("/")[0],
  outcome: "committed",
  input: 10,
  output: 20,
  cacheRead: 0,
  cacheWrite: 0,
  costUsd,
  estimated,
  day: "2026-05-01",
  month: "2026-05",
});

/** A 503 on a/x, then b/y's answer broke off after it started: its result says $0, the budget counted an estimate. */
const cutOff: NormalizedEvent[] = [
  event("decision", "r1", 1, { requestedRouteId: "main", routeId: "main", plannedTarget: "a/x" }),
  event("result", "r1", 2, { attempt: 1, target: "a/x", outcome: "failed", failureKind: "server", latencyMs: 5 }),
  event("result", "r1", 3, {
    attempt: 2,
    target: "b/y",
    outcome: "failed-after-commit",
    latencyMs: 9,
    usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, costUsd: 0 },
  }),
  event("usage", "r1", 3, usage(2, "b/y", 0.001237, true)),
  event("final", "r1", 4, {
    outcome: "failed",
    servedTarget: "b/y",
    plannedTarget: "a/x",
    attempts: 2,
    failovers: 1,
    latencyMs: 14,
    failureKinds: ["server"],
  }),
];

async function joined(events: NormalizedEvent[]): Promise<JoinedRequest[]> {
  const requests: JoinedRequest[] = [];
  for await (const item of joinRequests(stream(events))) if (item.kind === "request") requests.push(item.request);
  return requests;
}

describe("attempt costs", () => {
  it("takes a cut-off answer's cost from the usage step the budget counted, marked estimated, not the result's $0", async () => {
    const [request] = await joined(cutOff);
    assert.deepEqual(
      attemptCosts(request!).map((attempt) => [
        attempt.target,
        attempt.result?.outcome,
        attempt.costUsd,
        attempt.estimated,
      ]),
      [
        ["a/x", "failed", undefined, false],
        ["b/y", "failed-after-commit", 0.001237, true],
      ],
    );
    assert.deepEqual(requestCost(request!), { costUsd: 0.001237, estimated: 1 });
  });

  it("falls back to the result's reported cost in a log without usage steps, and to the final's with only a final", async () => {
    const [withResults, finalOnly] = await joined([
      event("result", "r2", 1, {
        attempt: 1,
        target: "a/x",
        outcome: "success",
        latencyMs: 5,
        usage: { input: 1, output: 1, cacheRead: 0, cacheWrite: 0, costUsd: 0.01 },
        estimated: true,
      }),
      event("final", "r2", 2, {
        outcome: "success",
        servedTarget: "a/x",
        attempts: 1,
        failovers: 0,
        latencyMs: 5,
        failureKinds: [],
      }),
      event("final", "r3", 3, {
        outcome: "success",
        servedTarget: "b/y",
        attempts: 1,
        failovers: 0,
        latencyMs: 7,
        costUsd: 0.02,
        failureKinds: [],
      }),
    ]);
    assert.deepEqual(requestCost(withResults!), { costUsd: 0.01, estimated: 1 });
    assert.deepEqual(
      attemptCosts(finalOnly!).map((attempt) => [attempt.target, attempt.result?.latencyMs, attempt.costUsd]),
      [["b/y", 7, 0.02]],
    );
  });

  it("leaves out a result's negative cost (a provider counting more cached tokens than prompt tokens), as unknown", async () => {
    const [request] = await joined([
      event("result", "r4", 1, {
        attempt: 1,
        target: "a/x",
        outcome: "success",
        latencyMs: 5,
        usage: { input: -200, output: 10, cacheRead: 300, cacheWrite: 0, costUsd: -0.0004 },
      }),
      event("final", "r4", 2, {
        outcome: "success",
        servedTarget: "a/x",
        attempts: 1,
        failovers: 0,
        latencyMs: 5,
        failureKinds: [],
      }),
    ]);
    assert.equal(attemptCosts(request!)[0]!.costUsd, undefined);
    assert.deepEqual(requestCost(request!), { costUsd: 0, estimated: 0 });
  });

  it("counts a usage step whose result is not in the log as spend, not as an attempt", async () => {
    const [request] = await joined([event("usage", "r4", 1, usage(1, "a/x", 0.5, false))]);
    assert.deepEqual(
      attemptCosts(request!).map((attempt) => [attempt.target, attempt.result, attempt.costUsd]),
      [["a/x", undefined, 0.5]],
    );
    const stats = await computeSessionStats(
      joinRequests(stream([event("usage", "r4", 1, usage(1, "a/x", 0.5, false))])),
    );
    assert.deepEqual(
      stats.models.map((model) => [model.model, model.attempts, model.costUsd.total]),
      [["a/x", 0, 0.5]],
    );
  });

  it("counts the usage of an attempt that tried its target twice (the reasoning refused, then left out) once", async () => {
    const [request] = await joined([
      event("result", "r5", 1, {
        attempt: 1,
        target: "a/x",
        outcome: "failed",
        failureKind: "invalid_request",
        latencyMs: 3,
      }),
      event("result", "r5", 2, {
        attempt: 1,
        target: "a/x",
        outcome: "success",
        latencyMs: 8,
        usage: { input: 10, output: 20, cacheRead: 0, cacheWrite: 0, costUsd: 0.003 },
      }),
      event("usage", "r5", 2, usage(1, "a/x", 0.003, false)),
      event("final", "r5", 3, {
        outcome: "success",
        servedTarget: "a/x",
        attempts: 1,
        failovers: 0,
        latencyMs: 11,
        failureKinds: ["invalid_request"],
      }),
    ]);
    assert.deepEqual(
      attemptCosts(request!).map((attempt) => [attempt.result?.outcome, attempt.costUsd]),
      [
        ["failed", undefined],
        ["success", 0.003],
      ],
    );
    assert.deepEqual(requestCost(request!), { costUsd: 0.003, estimated: 0 });
  });

  it("gives routing-stats and session-stats the same cost for the cut-off request", async () => {
    const routing = await computeRoutingStats(joinRequests(stream(cutOff)));
    assert.equal(routing.totalCostUsd, 0.001237);
    assert.equal(routing.estimatedCosts, 1);
    assert.deepEqual(
      routing.byServedProvider.map((row) => [row.key, row.costUsd]),
      [["b", 0.001237]],
    );
    const session = await computeSessionStats(joinRequests(stream(cutOff)));
    assert.deepEqual(
      session.models.map((model) => [model.model, model.attempts, model.failed, model.costUsd.total, model.estimated]),
      [
        ["a/x", 1, 1, 0, 0],
        ["b/y", 1, 1, 0.001237, 1],
      ],
    );
  });
});
