// A translated answer whose thinking streams no text (pi-ai passes the target's pings on to nobody) is silent until
// the block ends: the gateway sends its client keep-alives meanwhile (Anthropic's `ping` event, an SSE comment for
// OpenAI), so neither its own idle timeout (here 400 ms), a proxy's nor the client's cuts the stream. Through the
// real `pi-auto-router serve` (routes file `gateway.passthrough: false`) and the official Anthropic and OpenAI clients.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { AnthropicReply } from "../helpers/anthropic-emulator.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const PROVIDERS = { "an-c": { emulator: "C", apiKey: "sk-ant-c-key-0000005", models: ["claude-c"] } } as const;
/** The gateway closes a connection whose answer started and then went silent this long. */
const IDLE_TIMEOUT_MS = 400;

/** Thinking committed (1.5 s after its block began: the client's stream is open) and silent ~1.5 s longer. */
const silentThinking = (text: string): AnthropicReply => ({
  omittedThinking: { pings: 30, redacted: true },
  chunkDelayMs: 100,
  text,
});

const THINKING_BODY = {
  max_tokens: 2048,
  thinking: { type: "enabled" as const, budget_tokens: 1024 },
  messages: [{ role: "user" as const, content: "Plan the refactor" }],
};

for (const keepAliveMs of [100, 0]) {
  describe(`gateway translating path: a silent thinking block, gateway.keepAliveMs ${keepAliveMs}`, () => {
    let fx: GatewayFixture<"C">;
    let c: Emulator;

    before(async () => {
      fx = await startGatewayFixture({
        emulators: { C: "anthropic" },
        providers: PROVIDERS,
        routes: {
          routes: { thinker: routeInOrder("an-c/claude-c") },
          gateway: { passthrough: false, idleTimeoutMs: IDLE_TIMEOUT_MS, keepAliveMs },
        },
      });
      c = fx.emulators.C;
    });
    after(() => fx?.stop());
    beforeEach(() => fx.reset());

    if (keepAliveMs > 0) {
      it("keeps an Anthropic client's stream open with ping events until the answer comes", async () => {
        c.enqueue(silentThinking("Planned."));
        const stream = fx.anthropic.messages.stream({ ...THINKING_BODY, model: "thinker" });
        const message = await stream.finalMessage();
        // The emulator's silent thinking is a redacted_thinking block: the client gets it as one, as it answers whole.
        assert.deepEqual(
          message.content.map((block) => block.type),
          ["redacted_thinking", "text"],
        );
        const last = message.content.at(-1);
        assert.equal(last?.type === "text" ? last.text : undefined, "Planned.");
        assert.equal(message.stop_reason, "end_turn");
      });

      it("keeps an OpenAI Chat client's stream open with SSE comments, which the client passes over", async () => {
        c.enqueue(silentThinking("Planned for Chat."));
        const stream = await fx.openai.chat.completions.create({
          model: "thinker",
          stream: true,
          reasoning_effort: "low",
          messages: [{ role: "user", content: "Plan the refactor" }],
        });
        let text = "";
        let finish: string | null = null;
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta.content ?? "";
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
        assert.equal(text, "Planned for Chat.");
        assert.equal(finish, "stop");
      });

      it("does the same for an OpenAI Responses client", async () => {
        c.enqueue(silentThinking("Planned for Responses."));
        const stream = await fx.openai.responses.create({
          model: "thinker",
          stream: true,
          reasoning: { effort: "low" },
          input: "Plan the refactor",
        });
        let completed: string | undefined;
        for await (const event of stream)
          if (event.type === "response.completed") completed = event.response.output_text;
        assert.equal(completed, "Planned for Responses.");
      });
    } else {
      it("without keep-alives the gateway's own idle timeout cuts the silent stream (what the keep-alive prevents)", async () => {
        c.enqueue(silentThinking("never seen"));
        const stream = fx.anthropic.messages.stream({ ...THINKING_BODY, model: "thinker" });
        await assert.rejects(stream.finalMessage());
      });
    }
  });
}

// The passthrough: an OpenAI Responses target reasoning sends nothing between its reasoning item and its summary. The
// item ends the first-token wait (1 s here) as pi-ai's thinking_start does, the stall deadline is thinkingStallMs,
// the answer commits 1.5 s into the silence and the client's stream then gets SSE comments until the summary comes.
describe("gateway passthrough: an OpenAI Responses target reasoning silently", () => {
  let fx: GatewayFixture<"R" | "S">;
  let r: Emulator, s: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { R: "responses", S: "responses" },
      providers: {
        "op-r": { emulator: "R", apiKey: "sk-op-r-key-00000007", models: ["gpt-r"] },
        "op-s": { emulator: "S", apiKey: "sk-op-s-key-00000008", models: ["gpt-s"] },
      },
      routes: {
        routes: {
          reasoner: {
            ...routeInOrder("op-r/gpt-r", "op-s/gpt-s"),
            timeouts: { firstTokenMs: 1000, stallMs: 600, thinkingStallMs: 4000 },
          },
        },
        gateway: { idleTimeoutMs: IDLE_TIMEOUT_MS, keepAliveMs: 100 },
      },
    });
    ({ R: r, S: s } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("waits for its summary and answer, the client's stream kept alive, and fails over to no one", async () => {
    r.enqueue({
      reasoningItem: { id: "rs_silent" },
      thinking: "Weighed the options.",
      pauseBeforeContentMs: 2_500,
      text: "Reasoned answer.",
    });
    s.enqueue({ text: "S answered." });
    const stream = await fx.openai.responses.create({
      model: "reasoner",
      stream: true,
      reasoning: { effort: "high", summary: "auto" },
      input: "Think hard",
    });
    let text = "";
    let completed = false;
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") text += event.delta;
      completed ||= event.type === "response.completed";
    }
    assert.ok(completed, "the stream ended with response.completed");
    assert.equal(text, "Reasoned answer.");
    assert.equal(s.calls.length, 0, "not failed over");
    assert.equal(r.calls.length, 1);
  });

  it("ends the thinking deadline once the answer begins after the commit point: a stall in its text fails after stallMs", async () => {
    // Committed 1.5 s into the silent reasoning; the answer's text then starts and stops after its first chunk.
    r.enqueue({
      reasoningItem: { id: "rs_then_stall" },
      thinking: "Weighed.",
      pauseBeforeContentMs: 2_000,
      text: ["Reasoned ", "answer."],
      stallAfterChunks: 2,
    });
    const stream = await fx.openai.responses.create({
      model: "reasoner",
      stream: true,
      reasoning: { effort: "high", summary: "auto" },
      input: "Think, then answer",
    });
    let text = "";
    let failed: any;
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.failed") failed = event.response;
    }
    assert.equal(text, "Reasoned ");
    // stallMs (600), not thinkingStallMs (4000) as while the model reasoned unseen.
    assert.match(failed?.error?.message ?? "", /no data for 600 ms \(stream stalled\)/, JSON.stringify(failed));
    assert.equal(s.calls.length, 0, "committed: not failed over");
  });
});
