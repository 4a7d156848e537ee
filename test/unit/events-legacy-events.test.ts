// The earlier public pi-auto-router's analytics log (shared/docs/legacy-formats.md), read exactly. The fixture
// legacy.jsonl is written by hand in that format: L1 served as planned, L2 failed over from Sonnet (429) to Codex,
// L3 exhausted both (529, 500), L4 served on the cheap route, L5 cut off; two ratings and one unknown line.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { EventOf, NormalizedEvent } from "../../src/events/event-types.ts";
import { LegacyEventReader } from "../../src/events/legacy-events.ts";
import { classifyFailure } from "../../src/runtime/classify-failure.ts";
import { emptyReadStats, readEvents } from "../../src/events/read-events.ts";

const legacyFixture = fileURLToPath(new URL("../fixtures/events/legacy.jsonl", import.meta.url));

async function readFixture() {
  const stats = emptyReadStats();
  const events: NormalizedEvent[] = [];
  for await (const event of readEvents([legacyFixture], { stats })) events.push(event);
  return { stats, events };
}

const newReader = () =>
  new LegacyEventReader((text, time) => classifyFailure({ stopReason: "error", errorMessage: text }, time).kind);

const finalOf = (events: NormalizedEvent[], requestId: string) =>
  events.find((event) => event.type === "final" && event.requestId === requestId) as EventOf<"final"> | undefined;

const envelope = (type: string, data: Record<string, unknown>, requestId = "R") => ({
  type,
  timestamp: "2026-05-01T09:00:00.000Z",
  requestId,
  conversationId: "c",
  routeId: "swe",
  version: 1,
  data,
});

describe("reading the earlier public event log", () => {
  it("reads every documented line of the fixture and reports the unknown kind", async () => {
    const { stats, events } = await readFixture();
    assert.equal(stats.lines, 26);
    assert.equal(stats.events, 25);
    assert.equal(stats.legacyEvents, 25);
    assert.deepEqual(stats.unknownTypes, { "routing.session_start": 1 });
    const counts: Record<string, number> = {};
    for (const event of events) counts[event.type] = (counts[event.type] ?? 0) + 1;
    assert.deepEqual(counts, { decision: 5, candidates: 1, attempt: 7, result: 6, final: 4, feedback: 2 });
  });

  it("takes the served target from actualTarget, never from the selectedTarget label", async () => {
    const { events } = await readFixture();
    assert.equal(finalOf(events, "L1")?.data.servedTarget, "anthropic/claude-sonnet-4-6");
    assert.equal(finalOf(events, "L2")?.data.servedTarget, "openai-codex/gpt-5.3-codex");
    assert.equal(
      finalOf(events, "L3")?.data.servedTarget,
      undefined,
      "an exhausted request was not served, whatever actualTarget says",
    );
  });

  it("counts failover from the number of attempts and takes cost, latency from the successful result", async () => {
    const { events } = await readFixture();
    const summary = (id: string) => {
      const data = finalOf(events, id)!.data;
      return [data.outcome, data.attempts, data.failovers, data.costUsd, data.latencyMs, data.plannedTarget];
    };
    assert.deepEqual(summary("L1"), ["success", 1, 0, 0.005, 1500, "anthropic/claude-sonnet-4-6"]);
    assert.deepEqual(summary("L2"), ["success", 2, 1, 0.01, 2000, "anthropic/claude-sonnet-4-6"]);
    assert.deepEqual(summary("L3"), ["failed", 2, 1, undefined, 400, "anthropic/claude-sonnet-4-6"]);
    assert.deepEqual(summary("L4"), ["success", 1, 0, 0.001, 800, "deepseek/deepseek-chat"]);
    assert.equal(finalOf(events, "L5"), undefined, "the cut-off request has no final: it stays unfinished");
  });

  it("derives failure kinds from the error text with the one classifier", async () => {
    const { events } = await readFixture();
    assert.deepEqual(finalOf(events, "L2")?.data.failureKinds, ["rate_limit"]);
    assert.deepEqual(finalOf(events, "L3")?.data.failureKinds, ["overloaded", "server"]);
    const failed = events.filter(
      (event): event is EventOf<"result"> => event.type === "result" && event.data.outcome === "failed",
    );
    assert.deepEqual(
      failed.map((event) => [event.data.attempt, event.data.target, event.data.failureKind]),
      [
        [1, "anthropic/claude-sonnet-4-6", "rate_limit"],
        [1, "anthropic/claude-sonnet-4-6", "overloaded"],
        [2, "openai-codex/gpt-5.3-codex", "server"],
      ],
    );
  });

  it("keeps the decision's inputs for replay and splits candidates into tried and skipped by status", async () => {
    const { events } = await readFixture();
    const decision = events.find(
      (event) => event.type === "decision" && event.requestId === "L1",
    ) as EventOf<"decision">;
    assert.deepEqual(decision.data.features, {
      estimatedTokens: 1200,
      contextClass: "short",
      hasImages: false,
      hasTools: false,
      intent: "code",
      intentConfidence: 0.8,
    });
    assert.equal(decision.data.tier, "swe");
    assert.equal(decision.sessionId, "old-session");
    const shortcut = events.find(
      (event) => event.type === "decision" && event.requestId === "L4",
    ) as EventOf<"decision">;
    assert.equal(shortcut.data.tierSource, "shortcut");
    const candidates = events.find((event) => event.type === "candidates") as EventOf<"candidates">;
    assert.deepEqual(
      candidates.data.candidates.map((entry) => [entry.key, entry.rank]),
      [
        ["anthropic/claude-sonnet-4-6", 1],
        ["openai-codex/gpt-5.3-codex", 2],
      ],
    );
    assert.deepEqual(candidates.data.skipped, [
      { key: "google/gemini-3.1-pro-preview", reason: "budget_rejected", detail: "daily budget exhausted" },
    ]);
  });

  it("gives a rating its own id that points at the rated request", async () => {
    const { events } = await readFixture();
    const ratings = events.filter((event): event is EventOf<"feedback"> => event.type === "feedback");
    assert.deepEqual(
      ratings.map((event) => [event.requestId, event.data.ratedRequestId, event.data.rating, event.data.servedTarget]),
      [
        ["L1#feedback", "L1", "good", "anthropic/claude-sonnet-4-6"],
        ["L2#feedback", "L2", "bad", "openai-codex/gpt-5.3-codex"],
      ],
    );
  });

  it("reports lines that do not follow the documented envelope instead of guessing", () => {
    const reader = newReader();
    assert.deepEqual(reader.read({ type: "routing.session_start", timestamp: "2026-05-01T00:00:00Z" }), {
      unknownType: "routing.session_start",
    });
    assert.deepEqual(reader.read({ type: "routing.final", ts: 1777626000000, requestId: "R", data: {} }), {
      malformed: "no valid timestamp",
    });
    assert.deepEqual(reader.read({ ...envelope("routing.final", {}), requestId: undefined }), {
      malformed: "no requestId",
    });
    assert.deepEqual(reader.read({ ...envelope("routing.result", {}), data: "oops" }), { malformed: "no data object" });
    assert.deepEqual(reader.read(envelope("routing.feedback", { rating: "up" })), {
      malformed: "feedback without a good/bad rating",
    });
  });

  it("counts a final written with an attempts list even when the attempt lines are missing", () => {
    const reader = newReader();
    const outcome = reader.read(
      envelope("routing.final", {
        outcome: "exhausted",
        selectedTarget: "A: x | B: y",
        actualTarget: { provider: "b", modelId: "m", label: "B" },
        attempts: [{}, {}, {}],
      }),
    );
    assert.ok("event" in outcome);
    const data = (outcome.event as EventOf<"final">).data;
    assert.deepEqual([data.outcome, data.attempts, data.failovers, data.servedTarget], ["failed", 3, 2, undefined]);
  });
});
