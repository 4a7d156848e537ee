// A target that refuses the encrypted reasoning it is sent back (OpenAI's 400 `invalid_encrypted_content`: another
// account made it) is tried again at once without the thinking blocks, within the same attempt: one of the route's
// attempts, one hard-budget reservation, one half-open probe; the usage it serves is counted once, and the event log
// still shows the refused try. Through real pi (SDK in-process, faux targets); the gateway's side (passthrough and
// translated, two emulated OpenAI accounts) is test/e2e/gateway-responses-accounts.test.ts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const A = "mock-a/model-a";
const B = "mock-b/model-b";
// $100 per 1M tokens: a hard budget on mock-a reserves something before each of its attempts.
const PRICED = { input: 100, output: 100, cacheRead: 100, cacheWrite: 100 };
const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a", reasoning: true, cost: PRICED }] },
  { provider: "mock-b", models: [{ id: "model-b", cost: PRICED }] },
];
/** OpenAI's words, quoting the first and last four characters of the encrypted content it could not read. */
const QUOTED = "gAAA...DQ==";
const REFUSAL = `400 The encrypted content ${QUOTED} could not be verified.`;
const RETRIED_NOTE = `retried ${A} without the replayed reasoning: it refused the encrypted reasoning (another account's)`;

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

const hasThinking = (context: { messages: Array<{ role: string; content: unknown }> }): boolean =>
  context.messages.some(
    (message) =>
      message.role === "assistant" &&
      Array.isArray(message.content) &&
      message.content.some((block: { type: string }) => block.type === "thinking"),
  );

/** The ids of the hard budget's reservations open in the usage file right now. */
const openReservations = (h: SdkHarness): string[] =>
  Object.keys(
    JSON.parse(readFileSync(join(h.agentDir, "extensions", "auto-router.usage.json"), "utf8")).reservations ?? {},
  );

/** The logged events of the last request (its final event written), by type. */
async function lastRequest(h: SdkHarness, requests: number): Promise<Record<string, any[]>> {
  const finals = () => readLoggedEvents(h.agentDir).filter((event) => event.type === "final");
  await until(() => finals().length === requests, `${requests} final events`);
  const requestId = finals().at(-1)!.requestId;
  const byType: Record<string, any[]> = {};
  for (const event of readLoggedEvents(h.agentDir).filter((event) => event.requestId === requestId))
    (byType[event.type] ??= []).push(event.data);
  return byType;
}

async function start(route: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<SdkHarness> {
  const h = (harness = await createSdkHarness({ targets: TARGETS, routes: { routes: { main: route }, ...extra } }));
  await h.setModel("auto-router", "main");
  return h;
}

describe("a target that refuses the replayed encrypted reasoning, through pi", () => {
  it("is tried again without it in the same attempt: one reservation, its usage counted once, the refusal logged", async () => {
    const h = await start(
      { ...routeInOrder(A, B), failover: { maxAttempts: 2 } },
      { budgets: { policy: "hard", providers: { "mock-a": { daily: 100 } } } },
    );
    const { fauxAssistantMessage, fauxThinking, fauxText } = h.fauxHelpers;
    const seen: Array<{ thinking: boolean; reservations: string[] }> = [];
    const look = (context: any) => seen.push({ thinking: hasThinking(context), reservations: openReservations(h) });
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([fauxThinking("Greet back."), fauxText("Hello.")]),
      (context: any) => {
        look(context);
        return fauxAssistantMessage([], { stopReason: "error", errorMessage: REFUSAL });
      },
      (context: any) => {
        look(context);
        return fauxAssistantMessage("Answered without the old reasoning.");
      },
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B must not answer")]);
    await h.prompt("first");
    await h.prompt("second");

    assert.equal(h.lastAssistant().content[0].text, "Answered without the old reasoning.");
    assert.equal(h.faux("mock-a").state.callCount, 3);
    assert.equal(h.faux("mock-b").state.callCount, 0);
    assert.deepEqual(
      seen.map((step) => step.thinking),
      [true, false],
      "the first turn's thinking was replayed, then left out",
    );
    assert.equal(seen[0]!.reservations.length, 1, JSON.stringify(seen));
    assert.deepEqual(seen[1]!.reservations, seen[0]!.reservations, "the retry holds the attempt's one reservation");

    const logged = await lastRequest(h, 2);
    assert.deepEqual(
      logged.attempt!.map((attempt) => [attempt.attempt, attempt.target]),
      [[1, A]],
    );
    assert.deepEqual(
      logged.result!.map((result) => [result.attempt, result.target, result.outcome, result.failureKind]),
      [
        [1, A, "failed", "invalid_request"],
        [1, A, "success", undefined],
      ],
    );
    assert.deepEqual(
      logged.usage!.map((usage) => [usage.attempt, usage.target, usage.outcome]),
      [[1, A, "committed"]],
    );
    const [final] = logged.final!;
    assert.equal(final.outcome, "success");
    assert.equal(final.attempts, 1);
    assert.equal(final.failovers, 0);
    assert.ok(final.notes?.includes(RETRIED_NOTE), JSON.stringify(final.notes));
    // Nothing of the encrypted content reaches the log, not even the part OpenAI quotes.
    assert.equal(JSON.stringify(logged).includes(QUOTED), false);
  });

  it("leaves the route's next attempt to the next target, and a second refusal reaches pi without the quoted content", async () => {
    const h = await start({
      ...routeInOrder(A, B),
      failover: { maxAttempts: 2, kinds: { server: { cooldownMs: 0 } } },
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    const refused = () => fauxAssistantMessage([], { stopReason: "error", errorMessage: REFUSAL });
    h.faux("mock-a").setResponses([
      refused(),
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" }),
      refused(),
      refused(),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("from b"), fauxAssistantMessage("B must not answer")]);
    await h.prompt("first");
    assert.equal(h.lastAssistant().provider, "mock-b", JSON.stringify(h.lastAssistant()));
    assert.equal(h.faux("mock-a").state.callCount, 2);
    const failedOver = await lastRequest(h, 1);
    assert.deepEqual(
      failedOver.attempt!.map((attempt) => [attempt.attempt, attempt.target]),
      [
        [1, A],
        [2, B],
      ],
    );
    assert.equal(failedOver.final![0].attempts, 2);
    assert.equal(failedOver.final![0].failovers, 1);

    // A refuses the request without the reasoning too: the request rejection is pi's, without the quoted content.
    await h.prompt("second");
    const error = h.lastAssistant();
    assert.equal(error.stopReason, "error");
    assert.equal(error.errorMessage, "400 The encrypted content [REDACTED] could not be verified.");
    assert.equal(h.faux("mock-a").state.callCount, 4);
    assert.equal(h.faux("mock-b").state.callCount, 1);
  });

  it("takes a half-open breaker's one probe for both tries", async () => {
    const breakMs = 300;
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: {
        routes: { main: { ...routeInOrder(A, B), failover: { kinds: { server: { cooldownMs: 0 } } } } },
        breaker: { minimumCalls: 3, breakMs, ratio: 0.5 },
      },
      clock: true,
    });
    const h = harness;
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    const failing = () => fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" });
    h.faux("mock-a").setResponses([
      failing(),
      failing(),
      failing(),
      fauxAssistantMessage([], { stopReason: "error", errorMessage: REFUSAL }),
      fauxAssistantMessage("A is back"),
    ]);
    h.faux("mock-b").setResponses(Array.from({ length: 4 }, (_, i) => fauxAssistantMessage(`B answer ${i + 1}`)));
    for (let i = 0; i < 3; i++) await h.prompt(`question ${i + 1}`);
    assert.match(await h.command("/auto-router circuit"), /mock-a\/model-a\s+open/);
    h.advanceClock(breakMs + 1);
    await h.prompt("probe question");
    assert.equal(h.lastAssistant().content[0].text, "A is back");
    assert.equal(h.faux("mock-a").state.callCount, 5);
    const probed = await lastRequest(h, 4);
    assert.deepEqual(
      probed.attempt!.map((attempt) => [attempt.attempt, attempt.target, attempt.probe]),
      [[1, A, true]],
    );
    assert.match(await h.command("/auto-router circuit"), /mock-a\/model-a\s+closed/);
  });
});
