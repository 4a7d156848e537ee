// Thinking the client cannot see is the model answering all the same: a passthrough attempt whose target opens a
// thinking block with its text omitted (Claude Code's `thinking.display: "omitted"`) or redacted, and then sends only
// pings, is past its first-token wait and commits by time like visible thinking; an answer its output limit stopped
// while the model thought is the target's answer, not an empty one. Through the real `pi-auto-router serve` and the
// official Anthropic client.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { AnthropicReply } from "../helpers/anthropic-emulator.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";
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

/** The request Claude Code sends: thinking on, its text omitted. */
const CLAUDE_CODE_BODY = {
  max_tokens: 32_000,
  thinking: { type: "enabled" as const, budget_tokens: 31_999, display: "omitted" as const },
  messages: [{ role: "user" as const, content: "Plan the refactor" }],
};

const attemptsOf = (response: Response) =>
  JSON.parse(response.headers.get("x-auto-router-attempts")!).map((attempt: any) => [
    attempt.target,
    attempt.kind,
    attempt.status,
  ]);

describe("gateway passthrough: thinking whose text is not streamed", () => {
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
          empty: CLAUDE,
        },
        // An empty answer does not rest its target: each case of the last test reaches the first target.
        failover: { cooldownWaitMs: 0, kinds: { empty_response: { cooldownMs: 0 } } },
      },
    });
    ({ C: c, D: d } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("ends the first-token wait when a thinking block with omitted text starts, and serves its answer", async () => {
    // Pings for longer than the first-token timeout, then the signature and the text.
    const reply: AnthropicReply = { omittedThinking: { pings: 8 }, chunkDelayMs: 100, text: ["Done ", "planning."] };
    c.enqueue(reply);
    const stream = fx.anthropic.messages.stream({ ...CLAUDE_CODE_BODY, model: "silent" });
    const message = await stream.finalMessage();
    const { response } = await stream.withResponse();

    assert.deepEqual(message.content, [
      { type: "thinking", thinking: "", signature: "emulated-signature" },
      { type: "text", text: "Done planning." },
    ]);
    assert.equal(message.stop_reason, "end_turn");
    assert.deepEqual(attemptsOf(response), [["an-c/claude-c", undefined, 200]]);
    assert.equal(response.headers.get("x-auto-router-served-by"), "an-c/claude-c");
    assert.equal(d.calls.length, 0, "the answer was not paid for twice");
    assert.equal(c.calls[0]!.body.thinking.display, "omitted", "the target was asked for thinking as the client asked");
  });

  it("does the same for a redacted thinking block, for a client that asked for the answer whole", async () => {
    const reply: AnthropicReply = {
      omittedThinking: { pings: 8, redacted: true },
      chunkDelayMs: 100,
      text: "Done.",
    };
    c.enqueue(reply);
    const { data: message, response } = await fx.anthropic.messages
      .create({
        model: "redacted",
        max_tokens: 2048,
        thinking: { type: "enabled", budget_tokens: 1024 },
        messages: [{ role: "user", content: "Plan it" }],
      })
      .withResponse();

    assert.deepEqual(message.content, [
      { type: "redacted_thinking", data: "emulated-redacted-thinking" },
      { type: "text", text: "Done." },
    ]);
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
    const stream = fx.anthropic.messages.stream({ ...CLAUDE_CODE_BODY, model: "long" });
    await assert.rejects(stream.finalMessage(), (error: any) => {
      assert.match(error.error?.error?.message, /an-c\/claude-c-busy failed after it had started answering/);
      // The target's own error type: Anthropic's clients retry an overloaded_error, not an api_error.
      assert.equal(error.error?.error?.type, "overloaded_error");
      return true;
    });
    assert.equal(d.calls.length, 0, "nothing replayed after the commit point");
  });

  it("serves an answer its output limit stopped inside thinking as the target's answer, and still fails over from an empty one", async () => {
    const stopped: AnthropicReply = { omittedThinking: { pings: 1 }, text: [], finishReason: "max_tokens" };
    c.enqueue(stopped);
    const stream = fx.anthropic.messages.stream({ ...CLAUDE_CODE_BODY, model: "silent" });
    const message = await stream.finalMessage();
    const { response } = await stream.withResponse();
    assert.equal(message.stop_reason, "max_tokens");
    assert.deepEqual(message.content, [{ type: "thinking", thinking: "", signature: "emulated-signature" }]);
    assert.deepEqual(attemptsOf(response), [["an-c/claude-c", undefined, 200]]);
    assert.equal(d.calls.length, 0);

    // Short visible thinking stopped the same way.
    c.enqueue({ thinking: "Let me", text: [], finishReason: "max_tokens" });
    const visible = await fx.anthropic.messages.create({
      model: "silent",
      max_tokens: 2048,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: "Plan it" }],
    });
    assert.equal(visible.stop_reason, "max_tokens");
    assert.deepEqual(visible.content, [{ type: "thinking", thinking: "Let me", signature: "emulated-signature" }]);
    assert.equal(d.calls.length, 0, "the first target is not resting");

    // No block at all is an empty answer, whatever the stop reason says.
    for (const finishReason of ["end_turn", "max_tokens"]) {
      c.enqueue({ text: [], finishReason });
      d.enqueue({ text: "D answered." });
      const { data: empty, response: failedOver } = await fx.anthropic.messages
        .create({ model: "empty", max_tokens: 100, messages: [{ role: "user", content: "hi" }] })
        .withResponse();
      assert.deepEqual(empty.content, [{ type: "text", text: "D answered." }]);
      assert.deepEqual(attemptsOf(failedOver), [
        ["an-c/claude-c", "empty_response", undefined],
        ["an-d/claude-d", undefined, 200],
      ]);
    }
  });
});
