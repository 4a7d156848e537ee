// The last decision of a route as `/auto-router explain` reads it: a request that decides again keeps every decision.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Candidate, Decision } from "../../src/routing/types.ts";
import { LastDecisions } from "../../src/runtime/last-decisions.ts";

const decision = (...keys: string[]): Decision =>
  ({
    routeId: "r",
    requestedRouteId: "r",
    candidates: keys.map((key) => ({ key })),
    skipped: [],
  }) as unknown as Decision;
const candidate = (key: string) => ({ key }) as Candidate;
const failed = { status: "failed", latencyMs: 5, failure: { kind: "quota_exhausted", status: 429 } } as any;

describe("LastDecisions", () => {
  it("keeps each decision of a request that decided again, with where its attempts and notes begin", () => {
    const book = new LastDecisions();
    const request = { requestId: "q1", routeId: "r", attempts: 0, retried: 0 };
    book.decided("r", "q1", 1_000, decision("a/1", "b/2"));
    for (const key of ["a/1", "b/2"]) {
      request.attempts += 1;
      book.attempted(request, candidate(key), failed, "failed");
    }
    book.note("r", "q1", "waited 20 s for b/2's quota reset");
    book.decided("r", "q1", 21_000, decision("b/2"));
    const last = book.get("r")!;
    assert.deepEqual(
      last.rounds?.map((round) => [
        round.decision.candidates.map((c) => c.key),
        round.at,
        round.firstAttempt,
        round.firstNote,
      ]),
      [
        [["a/1", "b/2"], 1_000, 0, 0],
        [["b/2"], 21_000, 2, 1],
      ],
    );
    assert.deepEqual(
      last.decision.candidates.map((c) => c.key),
      ["b/2"],
    );
    assert.equal(last.at, 1_000, "the request's age counts from its first decision");
    assert.equal(last.attempts.length, 2);

    book.decided("r", "q2", 30_000, decision("a/1"));
    assert.equal(book.get("r")!.rounds, undefined, "another request starts afresh");
  });
});
