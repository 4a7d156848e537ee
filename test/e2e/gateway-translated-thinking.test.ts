// The translating path counts thinking as the passthrough does (gateway-passthrough-thinking.test.ts): a request the
// gateway translates through pi-ai (routes file `gateway.passthrough: false`) whose target opens a thinking block that
// streams no text (redacted, or its text omitted: pi-ai passes the target's pings on as nothing) is past its first-token
// wait from the block's start and commits 1.5 s after it; an answer its output limit stopped while the model thought
// is the target's answer, not an empty one. Through the real `pi-auto-router serve` and the official Anthropic client.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { AnthropicReply } from "../helpers/anthropic-emulator.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const EMULATORS = { C: "anthropic", D: "anthropic" } as const;
const PROVIDERS = {
  "an-c": { emulator: "C", apiKey: "sk-ant-c-key-0000003", models: ["claude-c", "claude-c-busy"] },
  "an-d": { emulator: "D", apiKey: "sk-ant-d-key-0000004", models: ["claude-d"] },
} as const;
const CLAUDE = routeInOrder("an-c/claude-c", "an-d/claude-d");
/** Shorter than the thinking the tests' first target does before its next block. */
const FIRST_TOKEN = { timeouts: { firstTokenMs: 400 } };

const THINKING_BODY = {
  max_tokens: 2048,
  thinking: { type: "enabled" as const, budget_tokens: 1024 },
  messages: [{ role: "user" as const, content: "Plan the refactor" }],
};

const attemptsOf = (response: Response) =>
  JSON.parse(response.headers.get("x-auto-router-attempts")!).map((attempt: any) => [
    attempt.target,
    attempt.kind,
    attempt.status,
  ]);

const textOf = (content: Array<{ type: string; text?: string }>) =>
  content
    .filter((block) => block.type === "text")
    .map((block) => block.text)
    .join("");

describe("gateway translating path: thinking whose text is not streamed", () => {
  let fx: GatewayFixture<keyof typeof EMULATORS>;
  let c: Emulator, d: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: EMULATORS,
      providers: PROVIDERS,
      routes: {
        // A route per test: a target one test rests stays out of the others' way. Route long's target is
        // overloaded, which rests it on every route naming it: a model of its own.
        routes: {
          silent: { ...CLAUDE, ...FIRST_TOKEN },
          redacted: { ...CLAUDE, ...FIRST_TOKEN },
          long: routeInOrder("an-c/claude-c-busy", "an-d/claude-d"),
          stopped: CLAUDE,
          // A stall deadline shorter than the silent thinking; the thinking deadline as shipped, then set below it.
          stalling: { ...CLAUDE, timeouts: { stallMs: 600 } },
          capped: { ...CLAUDE, timeouts: { stallMs: 600, thinkingStallMs: 900 } },
        },
        // The tests fail the first target on purpose (a commit-point failure, a stall): its breaker stays closed.
        breaker: { enabled: false },
        failover: { cooldownWaitMs: 0, kinds: { empty_response: { cooldownMs: 0 } } },
        gateway: { passthrough: false },
      },
    });
    ({ C: c, D: d } = fx.emulators);
    // The first request of a fresh gateway loads pi-ai's Anthropic SDK inside its attempt: under load that alone can
    // take longer than the first test's 400 ms first-token timeout.
    c.enqueue({ text: "warm" });
    await fx.anthropic.messages.create({ model: "long", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("ends the first-token wait when a thinking block with omitted text starts, and serves its answer", async () => {
    // Pings for longer than the first-token timeout, then the signature and the text.
    const reply: AnthropicReply = { omittedThinking: { pings: 8 }, chunkDelayMs: 100, text: ["Done ", "planning."] };
    c.enqueue(reply);
    const stream = fx.anthropic.messages.stream({ ...THINKING_BODY, model: "silent" });
    const message = await stream.finalMessage();
    const { response } = await stream.withResponse();

    assert.equal(textOf(message.content), "Done planning.");
    assert.equal(message.stop_reason, "end_turn");
    assert.deepEqual(attemptsOf(response), [["an-c/claude-c", undefined, 200]]);
    assert.equal(d.calls.length, 0, "the answer was not paid for twice");
    assert.ok(Array.isArray(c.calls[0]!.body.messages[0].content), "pi-ai's request, not the client's");
  });

  it("does the same for a redacted thinking block, for a client that asked for the answer whole", async () => {
    c.enqueue({ omittedThinking: { pings: 8, redacted: true }, chunkDelayMs: 100, text: "Done." } as AnthropicReply);
    const { data: message, response } = await fx.anthropic.messages
      .create({ ...THINKING_BODY, model: "redacted" })
      .withResponse();

    assert.equal(textOf(message.content), "Done.");
    assert.deepEqual(attemptsOf(response), [["an-c/claude-c", undefined, 200]]);
    assert.equal(d.calls.length, 0);
  });

  it("commits thinking with omitted text once it has gone on 1.5 s: a failure after that is not replayed", async () => {
    // No first-token timeout on this route: only the time the thinking has gone on makes it the client's answer.
    const reply: AnthropicReply = {
      omittedThinking: { pings: 20 },
      chunkDelayMs: 100,
      text: ["never "],
      streamError: { message: "Overloaded mid-stream", type: "overloaded_error", afterChunks: 0 },
    };
    c.enqueue(reply);
    d.enqueue({ text: "D answered." });
    const stream = fx.anthropic.messages.stream({ ...THINKING_BODY, model: "long" });
    await assert.rejects(stream.finalMessage(), (error: any) => {
      assert.match(error.error?.error?.message, /an-c\/claude-c-busy failed after it had started answering/);
      // The target's own error type: Anthropic's clients retry an overloaded_error, not an api_error.
      assert.equal(error.error?.error?.type, "overloaded_error");
      return true;
    });
    assert.equal(d.calls.length, 0, "nothing replayed after the commit point");
  });

  it("waits through thinking that is silent for longer than stallMs (up to thinkingStallMs), and names it when that passes", async () => {
    // ~1.5 s without an event from pi-ai inside the block: before, `stallMs` cut the answer off there.
    const silent = (text: string) =>
      ({ omittedThinking: { pings: 15, redacted: true }, chunkDelayMs: 100, text }) as AnthropicReply;
    c.enqueue(silent("Thought it through."));
    const stream = fx.anthropic.messages.stream({ ...THINKING_BODY, model: "stalling" });
    const message = await stream.finalMessage();
    const { response } = await stream.withResponse();
    assert.equal(textOf(message.content), "Thought it through.");
    assert.deepEqual(attemptsOf(response), [["an-c/claude-c", undefined, 200]]);
    assert.equal(d.calls.length, 0);

    // A thinking deadline shorter than the silence: the attempt stalls (before its thinking committed, at 1.5 s) and
    // the next target answers; the log names the deadline that passed.
    c.enqueue(silent("never"));
    d.enqueue({ text: "D answered." });
    const capped = await fx.anthropic.messages.create({ ...THINKING_BODY, model: "capped" }).withResponse();
    assert.equal(textOf(capped.data.content), "D answered.");
    assert.deepEqual(
      attemptsOf(capped.response).map(([target, kind]: [string, string]) => [target, kind]),
      [
        ["an-c/claude-c", "timeout"],
        ["an-d/claude-d", undefined],
      ],
    );
    const timedOut = () =>
      readLoggedEvents(fx.agentDir).filter(
        (event) => event.type === "result" && event.routeId === "capped" && event.data.failureKind === "timeout",
      );
    await until(() => timedOut().length > 0, "the timed-out attempt in the event log");
    assert.match(timedOut()[0].data.message, /an-c\/claude-c: no data for 900 ms while thinking \(stream stalled\)/);
  });

  it("serves an answer its output limit stopped inside thinking as the target's answer, and still fails over from an empty one", async () => {
    c.enqueue({ omittedThinking: { pings: 1 }, text: [], finishReason: "max_tokens" } as AnthropicReply);
    const stream = fx.anthropic.messages.stream({ ...THINKING_BODY, model: "stopped" });
    const message = await stream.finalMessage();
    const { response } = await stream.withResponse();
    assert.equal(message.stop_reason, "max_tokens");
    assert.deepEqual(
      message.content.map((block) => block.type),
      ["thinking"],
    );
    assert.deepEqual(attemptsOf(response), [["an-c/claude-c", undefined, 200]]);
    assert.equal(d.calls.length, 0);

    // Short visible thinking stopped the same way, for a client that asked for the answer whole.
    c.enqueue({ thinking: "Let me", text: [], finishReason: "max_tokens" });
    const visible = await fx.anthropic.messages.create({ ...THINKING_BODY, model: "stopped" });
    assert.equal(visible.stop_reason, "max_tokens");
    assert.deepEqual(
      visible.content.map((block) => [block.type, block.type === "thinking" ? block.thinking : undefined]),
      [["thinking", "Let me"]],
    );
    assert.equal(d.calls.length, 0, "the first target is not resting");

    // No block at all is an empty answer, whatever the stop reason says.
    for (const finishReason of ["end_turn", "max_tokens"]) {
      c.enqueue({ text: [], finishReason });
      d.enqueue({ text: "D answered." });
      const { data: empty, response: failedOver } = await fx.anthropic.messages
        .create({ model: "stopped", max_tokens: 100, messages: [{ role: "user", content: "hi" }] })
        .withResponse();
      assert.equal(textOf(empty.content), "D answered.");
      assert.deepEqual(attemptsOf(failedOver), [
        ["an-c/claude-c", "empty_response", undefined],
        ["an-d/claude-d", undefined, 200],
      ]);
    }
  });
});
