// What a passthrough attempt that does not end normally costs, through the real `pi-auto-router serve`, the official
// clients and the emulators: the usage a target reported before it failed or was left by its client is booked,
// priced as on every path; what it did not report (the output of an answer that never got its usage record) is
// estimated from the text it streamed and marked estimated, as the translating path does.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";

const PRICE = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
const CACHED = { input: 100_000, output: 500, cacheRead: 200_000, cacheWrite: 50_000 };
/** Ten content chunks of 8 characters, then two the client never sees: 80 characters, 20 tokens at 4 a token. */
const WORDS = Array.from({ length: 12 }, (_, index) => `word-${String(index).padStart(2, "0")} `);
const STREAMED = WORDS.slice(0, 10).join("");
const STREAMED_TOKENS = Math.ceil(STREAMED.length / 4);

const usageEvents = (agentDir: string) => readLoggedEvents(agentDir).filter((event) => event.type === "usage");
const rounded = (usd: number) => Number(usd.toFixed(9));

describe("gateway passthrough books the spend of an attempt that did not end normally", () => {
  let fx: GatewayFixture<"A" | "C" | "D" | "R">;
  let a: Emulator, c: Emulator, d: Emulator;
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
        failover: { cooldownWaitMs: 0, kinds: { overloaded: { cooldownMs: 0 }, server_error: { cooldownMs: 0 } } },
      },
    });
    ({ A: a, C: c, D: d } = fx.emulators);
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
});
