// How the real `pi-auto-router serve` records a target's refusal (the client gets HTTP 200 with its API's refusal) in
// the event log, and how routing-stats reads that log: a refusal is its own outcome, named with the target that
// refused, never counted as a failed request.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { runRoutingScript } from "../helpers/routing-script.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const REFUSED_MIDWAY = { text: "I started, but", finishReason: "refusal" };
const REFUSED_AT_ONCE = { emptyStream: true, finishReason: "refusal" };
const CLAUDE = "mock-claude/model-claude";
const CHAT = "mock-chat/model-chat";

describe("gateway: a target's refusal in the event log and routing-stats", () => {
  let fx: GatewayFixture<"C" | "A">;
  let claude: Emulator, chat: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { C: "anthropic", A: "openai" },
      providers: {
        "mock-claude": { emulator: "C", apiKey: "sk-ant-mock-0000000001", models: ["model-claude"] },
        "mock-chat": { emulator: "A", apiKey: "sk-mock-chat-0000000002", models: ["model-chat"] },
      },
      routes: {
        routes: {
          // One route per case, so each request's final line is told by its route.
          "refused-at-once": routeInOrder(CLAUDE, CHAT),
          "refused-midway": routeInOrder(CLAUDE, CHAT),
          "all-refuse": {
            ...routeInOrder(CLAUDE, CHAT),
            failover: { kinds: { content_policy: { failover: true } } },
          },
          "bad-request": routeInOrder(CHAT),
          served: routeInOrder(CHAT),
        },
      },
    });
    ({ C: claude, A: chat } = fx.emulators);
  });
  after(async () => {
    await fx?.stop();
  });

  it("logs a refused request as outcome refused with the target that refused, apart from a failed one", async () => {
    const ask = (model: string) =>
      fx.openai.chat.completions.create({ model, messages: [{ role: "user", content: "Write it" }] });
    claude.enqueue(REFUSED_AT_ONCE);
    assert.equal((await ask("refused-at-once")).choices[0]!.finish_reason, "content_filter");
    // Streamed: the text before the refusal has reached the client, so the refusal comes after the commit point.
    claude.enqueue(REFUSED_MIDWAY);
    const stream = await fx.openai.chat.completions.create({
      model: "refused-midway",
      stream: true,
      messages: [{ role: "user", content: "Write it" }],
    });
    const finishes: Array<string | null> = [];
    for await (const chunk of stream)
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
    assert.deepEqual(finishes, ["content_filter"]);
    // A Responses client: every target tried refused.
    claude.enqueue(REFUSED_AT_ONCE);
    chat.enqueue({ emptyStream: true, finishReason: "content_filter" });
    const incomplete = await fx.openai.responses.create({ model: "all-refuse", input: "Write it" });
    assert.deepEqual(incomplete.incomplete_details, { reason: "content_filter" });
    // A failure (the target's own 400) and a served answer, for contrast.
    chat.enqueue({
      status: 400,
      body: JSON.stringify({ error: { message: "bad field", type: "invalid_request_error" } }),
    });
    await assert.rejects(ask("bad-request"), (error: { status?: number }) => error.status === 400);
    chat.enqueue({ text: "Done." });
    assert.equal((await ask("served")).choices[0]!.message.content, "Done.");

    const finals = () => readLoggedEvents(fx.agentDir).filter((event) => event.type === "final");
    await until(() => finals().length === 5, "five final events");
    const byRoute = Object.fromEntries(finals().map((event) => [event.routeId, event.data]));
    assert.equal(byRoute["refused-at-once"].outcome, "refused");
    assert.equal(byRoute["refused-at-once"].refusedBy, CLAUDE);
    assert.deepEqual(byRoute["refused-at-once"].failureKinds, ["content_policy"]);
    assert.equal(byRoute["refused-midway"].outcome, "refused");
    assert.equal(byRoute["refused-midway"].refusedBy, CLAUDE);
    assert.equal(byRoute["refused-midway"].servedTarget, CLAUDE, "the text before the refusal was its answer");
    assert.equal(byRoute["all-refuse"].outcome, "refused");
    assert.equal(byRoute["all-refuse"].refusedBy, CHAT, "the last target that refused");
    assert.equal(byRoute["bad-request"].outcome, "failed");
    assert.equal(byRoute["bad-request"].refusedBy, undefined);
    assert.equal(byRoute.served.outcome, "success");

    const logDir = join(fx.agentDir, "extensions");
    const run = await runRoutingScript("routing-stats", ["--json", "--file", logDir]);
    assert.equal(run.code, 0, run.stderr);
    const { stats, log } = JSON.parse(run.stdout);
    assert.equal(log.malformed, 0);
    assert.deepEqual(stats.outcomes, { refused: 3, failed: 1, success: 1 });
    assert.equal(stats.refusedByTarget, 3);
    // A refusal is neither a success nor a failure of routing: 1 success of the 2 requests not refused.
    assert.equal(stats.successRate, 0.5);
    const text = await runRoutingScript("routing-stats", ["--file", logDir]);
    assert.match(
      text.stdout,
      /^outcomes {7}refused 3 \(by their targets\), (failed 1, success 1|success 1, failed 1)$/m,
    );
    assert.match(text.stdout, /^success rate {3}50\.0% \(refused requests apart\)$/m);
    // routing-session-stats counts them apart from failures and from the router's own refusals.
    const session = await runRoutingScript("routing-session-stats", ["--json", "--file", logDir]);
    assert.equal(session.code, 0, session.stderr);
    const days: Array<Record<string, number>> = JSON.parse(session.stdout).stats.days;
    const sum = (field: string) => days.reduce((total, day) => total + day[field]!, 0);
    assert.deepEqual(["requests", "failed", "refused", "refusedByTarget"].map(sum), [5, 1, 0, 3]);
  });
});
