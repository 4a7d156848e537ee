// What a passthrough attempt that does not end normally costs, through the real `pi-auto-router serve`, the official
// clients and the emulators: the usage a target reported before it failed, was cut off or was left by its client is
// booked, priced as on every path; what it did not report (the output of an answer that never got its usage record) is
// estimated from the text it streamed and marked estimated, as the translating path does.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";

const PRICE = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
const CACHED = { input: 100_000, output: 500, cacheRead: 200_000, cacheWrite: 50_000 };
/**
 * Ten content chunks the client sees, then two it never does; one holds quotes and a backslash, which JSON escapes.
 * Chat Completions deltas are parsed: their text, 79 characters, is 20 tokens at 4 a token. Anthropic and Responses
 * deltas are counted as sent, unparsed: 82 characters with the escapes, 21 tokens.
 */
const WORDS = Array.from({ length: 12 }, (_, index) =>
  index === 3 ? 'a "b\\" ' : `word-${String(index).padStart(2, "0")} `,
);
const STREAMED = WORDS.slice(0, 10).join("");
const STREAMED_TOKENS = Math.ceil(STREAMED.length / 4);
const SENT_TOKENS = Math.ceil(WORDS.slice(0, 10).reduce((sum, word) => sum + JSON.stringify(word).length - 2, 0) / 4);

const usageEvents = (agentDir: string) => readLoggedEvents(agentDir).filter((event) => event.type === "usage");
const rounded = (usd: number) => Number(usd.toFixed(9));

describe("gateway passthrough books the spend of an attempt that did not end normally", () => {
  let fx: GatewayFixture<"A" | "C" | "D" | "R">;
  let a: Emulator, c: Emulator, d: Emulator, r: Emulator;
  let seen = 0;
  /** The usage events logged since the last call, once `count` of them are there. */
  const newUsage = async (count: number) => {
    await until(() => usageEvents(fx.agentDir).length >= seen + count, `${count} usage events`);
    const events = usageEvents(fx.agentDir).slice(seen);
    seen += events.length;
    return events.map((event) => event.data);
  };

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai", C: "anthropic", D: "anthropic", R: "responses" },
      providers: {
        "oa-a": { emulator: "A", apiKey: "sk-oa-a-key-00000001", models: ["gpt-a"], modelOptions: { cost: PRICE } },
        "an-c": { emulator: "C", apiKey: "sk-ant-c-key-0000003", models: ["claude-c"], modelOptions: { cost: PRICE } },
        "an-d": { emulator: "D", apiKey: "sk-ant-d-key-0000004", models: ["claude-d"], modelOptions: { cost: PRICE } },
        "resp-r": { emulator: "R", apiKey: "sk-resp-r-key-0001", models: ["gpt-r"], modelOptions: { cost: PRICE } },
      },
      routes: {
        routes: {
          claude: routeInOrder("an-c/claude-c", "an-d/claude-d"),
          chat: routeInOrder("oa-a/gpt-a"),
          gpt: routeInOrder("resp-r/gpt-r"),
        },
        // What is booked is under test here, not cooldowns: a target that broke off takes the next test's request.
        failover: {
          cooldownWaitMs: 0,
          kinds: { overloaded: { cooldownMs: 0 }, server_error: { cooldownMs: 0 }, network: { cooldownMs: 0 } },
        },
      },
    });
    ({ A: a, C: c, D: d, R: r } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("books an Anthropic attempt that failed over after message_start reported its usage, and the target that answered", async () => {
    c.enqueue({ text: "never", usage: CACHED, streamError: { message: "Overloaded", type: "overloaded_error" } });
    d.enqueue({ text: ["Hello ", "there."], usage: { input: 20, output: 5 } });
    const message = await fx.anthropic.messages
      .stream({ model: "claude", max_tokens: 100, messages: [{ role: "user", content: "hi" }] })
      .finalMessage();
    assert.equal(message.usage.output_tokens, 5);
    const [failed, served] = await newUsage(2);
    assert.deepEqual(
      { ...failed, costUsd: rounded(failed.costUsd) },
      {
        ...failed,
        target: "an-c/claude-c",
        outcome: "failed",
        input: 100_000,
        output: 1, // message_start's placeholder: no text came, nothing to estimate from
        cacheRead: 200_000,
        cacheWrite: 50_000,
        costUsd: rounded((100_000 * 3 + 15 + 200_000 * 0.3 + 50_000 * 3.75) / 1e6), // $0.547515
        estimated: false,
      },
    );
    assert.equal(served.target, "an-d/claude-d");
    assert.deepEqual([served.input, served.output], [20, 5]);
  });

  it("books an Anthropic answer cut off after its first text with the reported input and the output estimated from the text", async () => {
    c.enqueue({ text: WORDS, usage: CACHED, dropAfterChunks: 10 });
    let text = "";
    const stream = fx.anthropic.messages.stream({
      model: "claude",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
    });
    stream.on("text", (delta) => (text += delta));
    await assert.rejects(stream.finalMessage());
    assert.equal(text, STREAMED);
    const [cut] = await newUsage(1);
    assert.equal(cut.outcome, "committed");
    assert.deepEqual(
      [cut.input, cut.output, cut.cacheRead, cut.cacheWrite, cut.estimated],
      [100_000, SENT_TOKENS, 200_000, 50_000, true],
    );
    assert.match(cut.estimateReason, /output estimated from the text length/);
    assert.equal(rounded(cut.costUsd), rounded((100_000 * 3 + SENT_TOKENS * 15 + 200_000 * 0.3 + 50_000 * 3.75) / 1e6));
  });

  it("books a Responses answer cut off mid-stream with its output estimated from the text", async () => {
    r.enqueue({ text: WORDS, usage: CACHED, dropAfterChunks: 10 });
    let text = "";
    let last = "";
    const sequence: number[] = [];
    const stream = await fx.openai.responses.create({ model: "gpt", input: "hi", stream: true });
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") text += event.delta;
      last = event.type;
      sequence.push(event.sequence_number);
    }
    assert.equal(text, STREAMED);
    assert.equal(last, "response.failed", "the cut-off answer ends with the protocol's failure event");
    // The gateway's failure event is numbered after the target's last one, as every event of the stream is.
    assert.deepEqual(
      sequence,
      sequence.map((_, index) => index),
    );
    const [cut] = await newUsage(1);
    assert.equal(cut.target, "resp-r/gpt-r");
    assert.equal(cut.output, SENT_TOKENS);
    assert.equal(cut.estimated, true);
    assert.ok(cut.costUsd >= (SENT_TOKENS * 15) / 1e6, `priced: ${cut.costUsd}`);
  });

  it("books a usage report no request reaches or that is no number as invalid, estimating the output from the text", async () => {
    // A faulty proxy's counts: 1e308 output tokens was priced and booked (~$1.5e303, the provider's budget gone for the
    // month); a count sent as a string was left out of the spend but written into the event log's result as it was
    // (the Anthropic client's request is translated, through pi-ai, which passes the string on).
    const cases = [
      { output: 1e308, client: "openai", reason: /output was invalid \(1e\+308\)/, logged: 1e308 },
      // The passthrough's own reading of the stream takes a count that is no number for none; the log reads none as 0.
      { output: "7", client: "openai", reason: /zero output tokens for a non-empty answer/, logged: 0 },
      { output: "7", client: "anthropic", reason: /output was invalid \(7\)/, logged: 0 },
    ];
    for (const { output, client, reason, logged } of cases) {
      a.enqueue({ text: ["Hello ", "there."], usage: { input: 20, output: output as number } });
      let text = "";
      if (client === "openai") {
        const chat = await fx.openai.chat.completions.create({
          model: "chat",
          messages: [{ role: "user", content: "hi" }],
          stream: true,
          stream_options: { include_usage: true },
        });
        for await (const chunk of chat) text += chunk.choices[0]?.delta?.content ?? "";
      } else {
        const message = await fx.anthropic.messages.create({
          model: "chat",
          max_tokens: 100,
          messages: [{ role: "user", content: "hi" }],
        });
        text = message.content.map((block) => (block.type === "text" ? block.text : "")).join("");
      }
      assert.equal(text, "Hello there.");
      const [booked] = await newUsage(1);
      assert.deepEqual([booked.input, booked.output, booked.estimated], [20, 3, true], `${output} via ${client}`);
      assert.equal(rounded(booked.costUsd), rounded((20 * 3 + 3 * 15) / 1e6));
      assert.match(booked.estimateReason, reason);
      // The attempt's result keeps what the provider reported, numbers only.
      const result = readLoggedEvents(fx.agentDir)
        .filter((event) => event.type === "result")
        .at(-1);
      assert.equal(result.data.usage.input, 20);
      assert.equal(result.data.usage.output, logged, `${output} via ${client}: ${JSON.stringify(result)}`);
    }
  });

  it("books what a Chat Completions stream had spent when its client disconnects", async () => {
    // Its usage comes only at the end: the output is estimated from the text so far (the input from the request).
    a.enqueue({ text: WORDS, usage: CACHED, stallAfterChunks: 10 });
    const chatController = new AbortController();
    let chatText = "";
    const chat = await fx.openai.chat.completions.create(
      { model: "chat", messages: [{ role: "user", content: "hi" }], stream: true },
      { signal: chatController.signal },
    );
    const chatRead = (async () => {
      for await (const chunk of chat) {
        chatText += chunk.choices[0]?.delta?.content ?? "";
        if (chatText === STREAMED) chatController.abort();
      }
    })();
    await chatRead; // the openai client ends its stream quietly on an abort
    const [chatLeft] = await newUsage(1);
    assert.equal(chatLeft.target, "oa-a/gpt-a");
    assert.deepEqual([chatLeft.output, chatLeft.estimated], [STREAMED_TOKENS, true]);
    assert.ok(chatLeft.costUsd >= (STREAMED_TOKENS * 15) / 1e6, `priced: ${chatLeft.costUsd}`);
  });

  it("books what an Anthropic or Responses stream had spent when its client disconnects", async () => {
    // Anthropic: message_start's input and cache tokens as reported, the output estimated from the text so far.
    c.enqueue({ text: WORDS, usage: CACHED, stallAfterChunks: 10 });
    const controller = new AbortController();
    let text = "";
    const anthropic = fx.anthropic.messages.stream(
      { model: "claude", max_tokens: 100, messages: [{ role: "user", content: "hi" }] },
      { signal: controller.signal },
    );
    anthropic.on("text", (delta) => (text += delta));
    await until(() => text === STREAMED, "the ten chunks");
    controller.abort();
    await assert.rejects(anthropic.finalMessage());
    const [left] = await newUsage(1);
    assert.equal(left.outcome, "committed");
    assert.deepEqual(
      [left.input, left.output, left.cacheRead, left.cacheWrite, left.estimated],
      [100_000, SENT_TOKENS, 200_000, 50_000, true],
    );
    assert.equal(
      rounded(left.costUsd),
      rounded((100_000 * 3 + SENT_TOKENS * 15 + 200_000 * 0.3 + 50_000 * 3.75) / 1e6),
    );

    // Responses reports usage only at the end: the output is estimated from the text so far.
    r.enqueue({ text: WORDS, usage: CACHED, stallAfterChunks: 10 });
    const responsesController = new AbortController();
    let responsesText = "";
    const responses = await fx.openai.responses.create(
      { model: "gpt", input: "hi", stream: true },
      { signal: responsesController.signal },
    );
    const responsesRead = (async () => {
      for await (const event of responses) {
        if (event.type === "response.output_text.delta") responsesText += event.delta;
        if (responsesText === STREAMED) responsesController.abort();
      }
    })();
    await responsesRead;
    const [responsesLeft] = await newUsage(1);
    assert.equal(responsesLeft.target, "resp-r/gpt-r");
    assert.deepEqual([responsesLeft.output, responsesLeft.estimated], [SENT_TOKENS, true]);
    assert.ok(responsesLeft.costUsd >= (SENT_TOKENS * 15) / 1e6, `priced: ${responsesLeft.costUsd}`);
  });
});
