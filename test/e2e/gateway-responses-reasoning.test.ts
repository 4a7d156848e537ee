// A Responses client's reasoning on the translated path (a hosted tool such as the Codex CLI's `web_search` keeps a
// request off the passthrough), through the real `pi-auto-router serve` with the official OpenAI client: an
// openai-responses target's reasoning item reaches the client with its own id and encrypted_content, goes back to a
// Responses target when the client sends it with the next request, and reaches no target of another API.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type OpenAI from "openai";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

type InputItem = OpenAI.Responses.ResponseInputItem;

const REASONING_ID = "rs_68af0c1e2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";
const ENCRYPTED = "gAAAAABo-encrypted-reasoning-state-of-the-target";
const SUMMARY = "The weather tool answers this.";
const TARGET_REASONING = {
  id: REASONING_ID,
  type: "reasoning",
  summary: [{ type: "summary_text", text: SUMMARY }],
  encrypted_content: ENCRYPTED,
};
const RATE_LIMITED = { status: 429, errorMessage: "Rate limit reached for requests", retryAfterSeconds: 20 };
const TOOLS: OpenAI.Responses.Tool[] = [
  { type: "web_search" },
  {
    type: "function",
    name: "get_weather",
    strict: false,
    parameters: { type: "object", properties: { city: { type: "string" } } },
  },
];
const REASONED_CALL = {
  thinking: SUMMARY,
  reasoningItem: { id: REASONING_ID, encryptedContent: ENCRYPTED },
  toolCall: { id: "call_1", name: "get_weather", arguments: { city: "Paris" } },
};

/** The next request of a tool loop: the first answer's items back, then the tool's output. */
const followUp = (answer: InputItem[]): InputItem[] => [
  { role: "user", content: "Weather in Paris?" },
  ...answer,
  { type: "function_call_output", call_id: "call_1", output: "sunny, 21 C" },
];

describe("gateway /v1/responses: a Responses target's reasoning on the translated path", () => {
  let fx: GatewayFixture<"R" | "A" | "C">;
  let responses: Emulator, chat: Emulator, claude: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { R: "responses", A: "openai", C: "anthropic" },
      providers: {
        "mock-resp": {
          emulator: "R",
          apiKey: "sk-mock-resp-0000000003",
          models: [{ id: "model-resp", reasoning: true }],
        },
        "mock-chat": {
          emulator: "A",
          apiKey: "sk-mock-chat-0000000002",
          models: [{ id: "model-chat", reasoning: true }],
        },
        "mock-claude": {
          emulator: "C",
          apiKey: "sk-ant-mock-0000000001",
          models: [{ id: "model-claude", reasoning: true, maxTokens: 200_000 }],
        },
      },
      routes: {
        routes: {
          resp: routeInOrder("mock-resp/model-resp"),
          "resp-then-chat": routeInOrder("mock-resp/model-resp", "mock-chat/model-chat"),
          chat: routeInOrder("mock-chat/model-chat"),
          claude: routeInOrder("mock-claude/model-claude"),
        },
        // An answer cut off after the commit point rests its target too: not into the next test.
        failover: { cooldownWaitMs: 0, kinds: { rate_limit: { cooldownMs: 0 }, network: { cooldownMs: 0 } } },
      },
    });
    ({ R: responses, A: chat, C: claude } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  /** A non-streaming answer of the Responses target: a reasoning item and a function call. */
  async function reasonedAnswer(): Promise<OpenAI.Responses.Response> {
    responses.enqueue(REASONED_CALL);
    const { data, response } = await fx.openai.responses
      .create({ model: "resp", input: "Weather in Paris?", tools: TOOLS, reasoning: { effort: "low" } })
      .withResponse();
    assert.equal(response.headers.get("x-auto-router-ignored-tools"), "web_search", "translated, not passed through");
    return data;
  }

  it("streams the target's reasoning item with its own id, summary and encrypted_content", async () => {
    responses.enqueue(REASONED_CALL);
    const stream = fx.openai.responses.stream({
      model: "resp",
      input: "Weather in Paris?",
      tools: TOOLS,
      reasoning: { effort: "low" },
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    assert.deepEqual(responses.calls[0]!.body.include, ["reasoning.encrypted_content"]);
    assert.equal(
      responses.calls[0]!.body.tools.some((tool: { type: string }) => tool.type === "web_search"),
      false,
      "translated: the hosted tool is left out",
    );
    const itemEvents = events.filter(
      (event) =>
        (event.type === "response.output_item.added" || event.type === "response.output_item.done") &&
        event.item.type === "reasoning",
    ) as OpenAI.Responses.ResponseOutputItemDoneEvent[];
    assert.deepEqual(
      itemEvents.map((event) => [event.type, event.item.id]),
      [
        ["response.output_item.added", REASONING_ID],
        ["response.output_item.done", REASONING_ID],
      ],
    );
    assert.deepEqual(itemEvents[1]!.item, TARGET_REASONING);
    const summary = events.filter((event) => event.type === "response.reasoning_summary_text.delta");
    assert.deepEqual(
      summary.map((event) => [event.item_id, event.delta]),
      [[REASONING_ID, SUMMARY]],
    );
    assert.deepEqual(final.output[0], TARGET_REASONING);
    assert.equal(final.output[1]?.type, "function_call");
  });

  it("ends the reasoning an answer broke off in as incomplete, in its done event and in response.failed, for any target", async () => {
    // A first chunk of thinking long enough to commit the answer (sustained thinking), then the connection drops.
    const thinking = `${"Weighing-the-forecast-sources.".repeat(8)} and more`;
    const cutReasoning = async (model: string, tools?: OpenAI.Responses.Tool[]) => {
      const stream = await fx.openai.responses.create({ model, input: "Weather?", tools, stream: true });
      const ends: [string, unknown, unknown][] = [];
      for await (const event of stream) {
        if (event.type === "response.output_item.done")
          ends.push([event.type, event.item.type, (event.item as { status?: string }).status]);
        if (event.type === "response.failed") {
          const [item] = event.response.output as { type: string; status?: string; summary: { text: string }[] }[];
          ends.push([event.type, item?.type, item?.status]);
        }
      }
      return ends;
    };
    const incomplete = [
      ["response.output_item.done", "reasoning", "incomplete"],
      ["response.failed", "reasoning", "incomplete"],
    ];
    chat.enqueue({ thinking, text: "Sunny.", dropAfterChunks: 1 });
    assert.deepEqual(await cutReasoning("chat"), incomplete);
    // A Responses target's reasoning is held until its item is done: cut before, it is still done, not left out of
    // the stream while response.failed lists it.
    responses.enqueue({
      thinking,
      reasoningItem: { id: REASONING_ID, encryptedContent: ENCRYPTED },
      text: "Sunny.",
      dropAfterChunks: 1,
    });
    assert.deepEqual(await cutReasoning("resp", TOOLS), incomplete);
  });

  it("answers a non-streaming request with the target's reasoning item, id and encrypted_content", async () => {
    const answer = await reasonedAnswer();
    assert.deepEqual(answer.output[0], TARGET_REASONING);
    assert.equal(answer.output[1]?.type, "function_call");
  });

  it("sends the reasoning item the client sent back to a Responses target, before its function call", async () => {
    const answer = await reasonedAnswer();
    responses.enqueue({ text: "Sunny, 21 C." });
    const next = await fx.openai.responses.create({
      model: "resp",
      tools: TOOLS,
      input: followUp(answer.output as InputItem[]),
    });
    assert.equal(next.output_text, "Sunny, 21 C.");
    const input: { type?: string; id?: string }[] = responses.calls[1]!.body.input;
    const reasoning = input.findIndex((item) => item.type === "reasoning");
    const call = input.findIndex((item) => item.type === "function_call");
    assert.deepEqual(input[reasoning], TARGET_REASONING);
    assert.ok(reasoning >= 0 && reasoning < call, `reasoning at ${reasoning}, function_call at ${call}`);
    assert.equal(input[call]!.id, "fc_emu_1", "the call keeps the item id its reasoning is paired with");
  });

  it("gives a Chat Completions target failed over to none of the reasoning, as neither thinking nor text", async () => {
    const answer = await reasonedAnswer();
    responses.enqueue(RATE_LIMITED);
    chat.enqueue({ text: "Sunny, 21 C." });
    const next = await fx.openai.responses.create({
      model: "resp-then-chat",
      tools: TOOLS,
      input: followUp(answer.output as InputItem[]),
    });
    assert.equal(next.output_text, "Sunny, 21 C.");
    const offered = responses.calls[1]!.body.input.find((item: { type?: string }) => item.type === "reasoning");
    assert.deepEqual(offered, TARGET_REASONING, "the Responses target was offered it first");
    const sent = chat.calls[0]!;
    for (const secret of [REASONING_ID, ENCRYPTED, SUMMARY]) assert.equal(sent.rawBody.includes(secret), false, secret);
    const assistant = sent.body.messages.find((message: { role: string }) => message.role === "assistant");
    assert.equal(assistant.tool_calls[0].function.name, "get_weather", "the rest of the turn is kept");
  });

  it("gives an Anthropic target none of the reasoning, as neither thinking nor text", async () => {
    const answer = await reasonedAnswer();
    claude.enqueue({ text: "Sunny, 21 C." });
    const next = await fx.openai.responses.create({
      model: "claude",
      tools: TOOLS,
      input: followUp(answer.output as InputItem[]),
    });
    assert.equal(next.output_text, "Sunny, 21 C.");
    const sent = claude.calls[0]!;
    for (const secret of [REASONING_ID, ENCRYPTED, SUMMARY]) assert.equal(sent.rawBody.includes(secret), false, secret);
    const assistant = sent.body.messages.find((message: { role: string }) => message.role === "assistant");
    assert.deepEqual(
      assistant.content.map((block: { type: string }) => block.type),
      ["tool_use"],
    );
  });

  it("leaves out reasoning items without encrypted_content: the gateway's own from another API, and plain ones", async () => {
    chat.enqueue({ thinking: "Reasoning of the chat target.", toolCall: REASONED_CALL.toolCall });
    const fromChat = await fx.openai.responses.create({ model: "chat", input: "Weather in Paris?", tools: TOOLS });
    const made = fromChat.output[0] as OpenAI.Responses.ResponseReasoningItem;
    assert.match(made.id, /^rs_[0-9a-f]{32}_0$/, "another API's reasoning keeps a gateway id");
    assert.equal(made.encrypted_content, undefined);
    const plain: InputItem = {
      type: "reasoning",
      id: "rs_0123456789abcdef0123456789abcdef0123456789abcdef",
      summary: [{ type: "summary_text", text: "A summary without its state." }],
    };
    responses.enqueue({ text: "Sunny, 21 C." });
    await fx.openai.responses.create({
      model: "resp",
      tools: TOOLS,
      input: followUp([plain, ...(fromChat.output as InputItem[])]),
    });
    const sent = responses.calls[0]!;
    assert.equal(
      sent.body.input.some((item: { type?: string }) => item.type === "reasoning"),
      false,
    );
    assert.equal(sent.rawBody.includes("Reasoning of the chat target."), false);
    assert.equal(sent.rawBody.includes("A summary without its state."), false);
  });

  it("gives Anthropic and Chat clients a Responses target's reasoning summary as the same text, streamed or not", async () => {
    const reasoned = { thinking: "Let me think about it.", text: "Answer after thinking." };
    const asked = {
      model: "resp",
      max_tokens: 2_000,
      thinking: { type: "enabled" as const, budget_tokens: 1_024 },
      messages: [{ role: "user" as const, content: "Think first." }],
    };
    const thinkingOf = (message: { content: { type: string; thinking?: string }[] }) =>
      message.content.flatMap((block) => (block.type === "thinking" ? [block.thinking] : []));
    responses.enqueue(reasoned);
    const whole = await fx.anthropic.messages.create(asked);
    responses.enqueue(reasoned);
    const stream = fx.anthropic.messages.stream(asked);
    let streamedThinking = "";
    stream.on("thinking", (delta) => (streamedThinking += delta));
    const streamed = await stream.finalMessage();
    // pi-ai streams a "\n\n" after the summary's part, which the answer's block has not.
    assert.deepEqual(thinkingOf(whole), ["Let me think about it."]);
    assert.deepEqual(thinkingOf(streamed), ["Let me think about it."]);
    assert.equal(streamedThinking, "Let me think about it.");

    const chatAsked = {
      model: "resp",
      reasoning_effort: "low" as const,
      messages: [{ role: "user" as const, content: "Think first." }],
    };
    responses.enqueue(reasoned);
    const completion = await fx.openai.chat.completions.create(chatAsked);
    assert.equal(
      (completion.choices[0]!.message as { reasoning_content?: string }).reasoning_content,
      "Let me think about it.",
    );
    responses.enqueue(reasoned);
    let chatReasoning = "";
    for await (const chunk of await fx.openai.chat.completions.create({ ...chatAsked, stream: true }))
      chatReasoning += (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? "";
    assert.equal(chatReasoning, "Let me think about it.");
  });
});
