import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { EventOf, NormalizedEvent } from "../../src/events/event-types.ts";
import { normalizeLegacyEnvelope, parseTimestamp } from "../../src/events/legacy-events.ts";
import { emptyReadStats, readEvents } from "../../src/events/read-events.ts";

const legacyFixture = fileURLToPath(new URL("../fixtures/events/legacy.jsonl", import.meta.url));

function normalize(raw: Record<string, unknown>): NormalizedEvent {
  const outcome = normalizeLegacyEnvelope(raw);
  assert.ok("event" in outcome, JSON.stringify(outcome));
  return outcome.event;
}

describe("legacy event normalization", () => {
  it("reads every event of the earlier public format's fixture and flags it as legacy", async () => {
    const stats = emptyReadStats();
    const events: NormalizedEvent[] = [];
    for await (const event of readEvents([legacyFixture], { stats })) events.push(event);
    assert.equal(stats.events, 12);
    assert.equal(stats.legacyEvents, 12);
    assert.deepEqual(stats.unknownTypes, { "routing.session_start": 1 });
    assert.ok(events.every((event) => event.legacy === true && event.v === 0));
    assert.deepEqual(events.map((event) => event.type), [
      "decision", "candidates", "attempt", "result", "final", "decision", "result", "result", "final", "final", "feedback", "feedback",
    ]);
  });

  it("maps a snake_case decision with separate features into our decision shape, keeping features for replay", () => {
    const event = normalize({ type: "routing.decision", timestamp: 1777626000000, request_id: "L1", route: "swe",
      data: { selected_target: "anthropic/claude-sonnet-4-6", tier: "swe", intent: "code", features: { estimated_tokens: 1200, has_tools: true } } }) as EventOf<"decision">;
    assert.equal(event.ts, "2026-05-01T09:00:00.000Z");
    assert.equal(event.requestId, "L1");
    assert.equal(event.routeId, "swe");
    assert.equal(event.data.plannedTarget, "anthropic/claude-sonnet-4-6");
    assert.equal(event.data.routeId, "swe");
    assert.equal(event.data.requestedRouteId, "swe");
    assert.deepEqual(event.data.features, { estimatedTokens: 1200, contextClass: "short", hasImages: false, hasTools: true, intent: "code", intentConfidence: 0, requestedMaxTokens: undefined });
  });

  it("leaves features absent when the old decision had no token estimate, rather than inventing one", () => {
    const event = normalize({ type: "routing.decision", ts: "2026-05-01T09:00:00Z", requestId: "x", data: { target: "a/b" } }) as EventOf<"decision">;
    assert.equal(event.data.features, undefined);
  });

  it("maps a failed result with a nested error object and a 0-based index", () => {
    const event = normalize({ type: "routing.result", ts: "2026-05-01T09:00:00Z", requestId: "x",
      payload: { provider: "anthropic", model: "claude-opus-4-7", index: 1, status: "error", error: { kind: "overloaded", message: "529 Overloaded" }, duration_ms: 300 } }) as EventOf<"result">;
    assert.deepEqual(
      { attempt: event.data.attempt, target: event.data.target, outcome: event.data.outcome, failureKind: event.data.failureKind, message: event.data.message, latencyMs: event.data.latencyMs },
      { attempt: 2, target: "anthropic/claude-opus-4-7", outcome: "failed", failureKind: "overloaded", message: "529 Overloaded", latencyMs: 300 },
    );
  });

  it("maps a successful result's token usage and cost from OpenAI-style names", () => {
    const event = normalize({ type: "routing.result", ts: "2026-05-01T09:00:00Z", requestId: "x",
      data: { target: "openai/gpt-5", ok: true, usage: { prompt_tokens: 10, completion_tokens: 5 }, cost_usd: 0.25 } }) as EventOf<"result">;
    assert.equal(event.data.outcome, "success");
    assert.deepEqual(event.data.usage, { input: 10, output: 5, cacheRead: 0, cacheWrite: 0, costUsd: 0.25 });
  });

  it("maps a final with a boolean failover and provider/model served fields", () => {
    const event = normalize({ type: "routing.final", ts: "2026-05-01T09:00:00Z", requestId: "x",
      data: { success: true, served_provider: "openai-codex", served_model: "gpt-5.3-codex", failover: true, attempts: 3, errors: [{ kind: "rate_limit" }, "server"] } }) as EventOf<"final">;
    assert.deepEqual(
      { outcome: event.data.outcome, servedTarget: event.data.servedTarget, attempts: event.data.attempts, failovers: event.data.failovers, failureKinds: event.data.failureKinds },
      { outcome: "success", servedTarget: "openai-codex/gpt-5.3-codex", attempts: 3, failovers: 2, failureKinds: ["rate_limit", "server"] },
    );
  });

  it("maps thumbs and numeric votes to good/bad and points feedback at the envelope's request when no rated id is given", () => {
    const up = normalize({ type: "routing.feedback", timestamp: 1777626000000, request_id: "L1", payload: { rating: "up", tags: ["good-code"] } }) as EventOf<"feedback">;
    assert.equal(up.data.rating, "good");
    assert.equal(up.data.ratedRequestId, "L1");
    assert.notEqual(up.requestId, "L1", "the feedback event gets its own request id so it never joins the rated request's events");
    const down = normalize({ type: "routing.feedback", timestamp: "2026-05-02T12:00:00Z", data: { rated_request_id: "L2", vote: -1 } }) as EventOf<"feedback">;
    assert.equal(down.data.rating, "bad");
    assert.equal(down.data.ratedRequestId, "L2");
  });

  it("reports an unknown legacy kind and a legacy line without a timestamp instead of guessing", () => {
    assert.deepEqual(normalizeLegacyEnvelope({ type: "routing.session_start", ts: "2026-05-01T00:00:00Z" }), { unknownType: "routing.session_start" });
    assert.deepEqual(normalizeLegacyEnvelope({ type: "routing.final", data: {} }), { malformed: "no valid timestamp" });
    assert.deepEqual(normalizeLegacyEnvelope({ type: "routing.feedback", ts: "2026-05-01T00:00:00Z", data: { rating: "meh" } }), { malformed: "feedback without rating or rated request" });
  });

  it("accepts ISO strings, epoch milliseconds and epoch seconds as timestamps", () => {
    assert.equal(parseTimestamp("2026-05-01T09:00:00Z"), 1777626000000);
    assert.equal(parseTimestamp(1777626000000), 1777626000000);
    assert.equal(parseTimestamp(1777626000), 1777626000000);
    assert.equal(parseTimestamp("1777626000000"), 1777626000000);
    assert.equal(parseTimestamp("not a time"), undefined);
  });
});
