// What a translated request (routes file `gateway.passthrough: false`, or a target of another API) keeps of the
// client's conversation and limits, and what the answer gives back: through the real `pi-auto-router serve` with the
// official openai and @anthropic-ai/sdk clients, asserting on the bodies the emulated targets received.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type Anthropic from "@anthropic-ai/sdk";
import { type GatewayFixture, READ_TOOL, startThreeApiGateway } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const PNG = "iVBORw0KGgo=";
/** READ_TOOL as a Responses function tool. */
const RESPONSES_READ = [{ type: "function" as const, name: "read", parameters: READ_TOOL.input_schema, strict: false }];
/** What the answer says the serving target was not sent. */
const ignored = (response: Response) => response.headers.get("x-auto-router-ignored");

/** A Claude Code tool loop with thinking on: the client's signed, redacted and unsigned thinking before a tool call. */
const TOOL_LOOP: Anthropic.MessageParam[] = [
  { role: "user", content: "Read a and b" },
  {
    role: "assistant",
    content: [
      { type: "thinking", thinking: "I should call tools", signature: "sig-from-claude" },
      { type: "redacted_thinking", data: "opaque-redacted" },
      { type: "thinking", thinking: "unsigned musing", signature: "" },
      { type: "text", text: "Calling two tools." },
      { type: "tool_use", id: "toolu_1", name: "read", input: { path: "a" } },
    ],
  },
  { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "file a" }] },
];

describe("gateway: a translated request's conversation and limits", () => {
  let fx: GatewayFixture<"C" | "A" | "R">;
  let claude: Emulator, chat: Emulator, responses: Emulator;

  before(async () => {
    fx = await startThreeApiGateway({ passthrough: false });
    ({ C: claude, A: chat, R: responses } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("sends an Anthropic client's signed and redacted thinking back to an Anthropic target as thinking, not text", async () => {
    claude.enqueue({ text: "Both read." });
    await fx.anthropic.messages.create({
      model: "claude",
      max_tokens: 8000,
      thinking: { type: "enabled", budget_tokens: 4000 },
      tools: [READ_TOOL],
      messages: TOOL_LOOP,
    });
    const assistant = claude.calls[0]!.body.messages[1];
    assert.deepEqual(assistant.content, [
      { type: "thinking", thinking: "I should call tools", signature: "sig-from-claude" },
      { type: "redacted_thinking", data: "opaque-redacted" },
      { type: "text", text: "Calling two tools." },
      { type: "tool_use", id: "toolu_1", name: "read", input: { path: "a" } },
    ]);
  });

  it("leaves an Anthropic client's thinking out of the assistant text an OpenAI target is sent", async () => {
    chat.enqueue({ text: "Both read." });
    await fx.anthropic.messages.create({
      model: "chat",
      max_tokens: 8000,
      thinking: { type: "enabled", budget_tokens: 4000 },
      tools: [READ_TOOL],
      messages: TOOL_LOOP,
    });
    const sent = chat.calls[0]!.body.messages;
    const assistant = sent.find((message: any) => message.role === "assistant");
    const text = typeof assistant.content === "string" ? assistant.content : assistant.content[0].text;
    assert.equal(text, "Calling two tools.");
    assert.doesNotMatch(JSON.stringify(sent), /I should call tools|unsigned musing|opaque-redacted/);
  });

  it("ends every client's stream whole when a target's tool call has a number for its id", async () => {
    // An OpenAI-compatible server that numbers its tool calls: pi-ai copies the id as it came.
    const numbered = {
      text: "Reading.",
      toolCall: { id: 7 as unknown as string, name: "read", arguments: { path: "a" } },
    };
    chat.enqueue(numbered);
    const events: string[] = [];
    let callId: unknown;
    const stream = await fx.openai.responses.create({
      model: "chat",
      input: "read a",
      tools: RESPONSES_READ,
      stream: true,
    });
    for await (const event of stream) {
      events.push(event.type);
      if (event.type === "response.output_item.done" && event.item.type === "function_call")
        callId = event.item.call_id;
    }
    assert.equal(events.at(-1), "response.completed", events.join(", "));
    assert.equal(callId, "7");
    chat.enqueue(numbered);
    const message = await fx.anthropic.messages
      .stream({ model: "chat", max_tokens: 100, tools: [READ_TOOL], messages: [{ role: "user", content: "read a" }] })
      .finalMessage();
    assert.equal(message.stop_reason, "tool_use");
    assert.match(String(message.content.find((block) => block.type === "tool_use")?.id), /^[a-zA-Z0-9_-]+$/);
    chat.enqueue(numbered);
    const chunks = await fx.openai.chat.completions.create({
      model: "chat",
      stream: true,
      tools: [{ type: "function", function: { name: "read", parameters: READ_TOOL.input_schema } }],
      messages: [{ role: "user", content: "read a" }],
    });
    let finish: string | null | undefined;
    let chatId: unknown;
    for await (const chunk of chunks) {
      finish = chunk.choices[0]?.finish_reason ?? finish;
      chatId = chunk.choices[0]?.delta.tool_calls?.[0]?.id ?? chatId;
    }
    assert.equal(finish, "tool_calls");
    assert.equal(chatId, "7");
  });

  /** A one-line prompt with thinking on, to the route `model`. */
  const thinkingHi = (model: string) => ({
    model,
    max_tokens: 8000,
    thinking: { type: "enabled" as const, budget_tokens: 4000 },
    messages: [{ role: "user" as const, content: "Hi" }],
  });

  it("gives an Anthropic client an OpenAI target's reasoning with an empty signature, an Anthropic target's with its own", async () => {
    chat.enqueue({ thinking: "Let me think.", text: "Done." });
    const fromChat = await fx.anthropic.messages.create(thinkingHi("chat"));
    assert.deepEqual(fromChat.content[0], { type: "thinking", thinking: "Let me think.", signature: "" });
    chat.enqueue({ thinking: "Let me think.", text: "Done." });
    const streamed = await fx.anthropic.messages.stream(thinkingHi("chat")).finalMessage();
    assert.deepEqual(streamed.content[0], { type: "thinking", thinking: "Let me think.", signature: "" });
    claude.enqueue({ thinking: "Let me think.", text: "Done." });
    const fromClaude = await fx.anthropic.messages.stream(thinkingHi("claude")).finalMessage();
    assert.deepEqual(fromClaude.content[0], {
      type: "thinking",
      thinking: "Let me think.",
      signature: "emulated-signature",
    });
  });

  it("streams an Anthropic target's redacted thinking to an Anthropic client as redacted_thinking, as it answers whole", async () => {
    const frame = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const usage = { input_tokens: 9, output_tokens: 1 };
    const message = { id: "msg_1", type: "message", role: "assistant", model: "m", content: [], usage };
    const body = [
      frame("message_start", { message: { ...message, stop_reason: null, stop_sequence: null } }),
      frame("content_block_start", { index: 0, content_block: { type: "redacted_thinking", data: "OPAQUE" } }),
      frame("content_block_stop", { index: 0 }),
      frame("content_block_start", { index: 1, content_block: { type: "thinking", thinking: "", signature: "" } }),
      frame("content_block_delta", { index: 1, delta: { type: "thinking_delta", thinking: "hmm" } }),
      frame("content_block_delta", { index: 1, delta: { type: "signature_delta", signature: "SIG" } }),
      frame("content_block_stop", { index: 1 }),
      frame("content_block_start", { index: 2, content_block: { type: "text", text: "" } }),
      frame("content_block_delta", { index: 2, delta: { type: "text_delta", text: "Done." } }),
      frame("content_block_stop", { index: 2 }),
      frame("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 20 } }),
      frame("message_stop", {}),
    ].join("");
    const expected = [
      { type: "redacted_thinking", data: "OPAQUE" },
      { type: "thinking", thinking: "hmm", signature: "SIG" },
      { type: "text", text: "Done." },
    ];
    const reply = { body, headers: { "content-type": "text/event-stream" } };
    claude.enqueue(reply);
    assert.deepEqual((await fx.anthropic.messages.create(thinkingHi("claude"))).content, expected);
    claude.enqueue(reply);
    assert.deepEqual((await fx.anthropic.messages.stream(thinkingHi("claude")).finalMessage()).content, expected);
    // A Responses client cannot read or send back redacted thinking: it gets the readable reasoning and the text,
    // not pi-ai's "[Reasoning redacted]" stand-in as reasoning the target wrote.
    const asked = { model: "claude", reasoning: { effort: "low" as const }, input: "hi" };
    claude.enqueue(reply);
    const whole = await fx.openai.responses.create(asked);
    claude.enqueue(reply);
    const streamed = await fx.openai.responses.stream(asked).finalResponse();
    for (const response of [whole, streamed]) {
      assert.deepEqual(
        response.output.map((item) => item.type),
        ["reasoning", "message"],
      );
      assert.doesNotMatch(JSON.stringify(response.output), /redacted/i);
      assert.equal(response.output_text, "Done.");
    }
  });

  it("streams a Chat target's reasoning, text and tool call to an Anthropic client one block at a time", async () => {
    // pi-ai's Chat Completions provider ends every block only when the stream ends.
    chat.enqueue({
      thinking: "Let me think.",
      text: "Reading a.",
      toolCall: { name: "read", arguments: { path: "a" } },
    });
    const stream = fx.anthropic.messages.stream({ ...thinkingHi("chat"), tools: [READ_TOOL] });
    const seen: string[] = [];
    let open: number | undefined;
    for await (const event of stream) {
      if (event.type === "content_block_start") {
        assert.equal(open, undefined, `block ${event.index} started while block ${open} is open`);
        open = event.index;
        seen.push(`${event.index}:${event.content_block.type}`);
      } else if (event.type === "content_block_delta") assert.equal(event.index, open);
      else if (event.type === "content_block_stop") {
        assert.equal(event.index, open);
        open = undefined;
      }
    }
    assert.deepEqual(seen, ["0:thinking", "1:text", "2:tool_use"]);
    const final = await stream.finalMessage();
    assert.deepEqual(
      final.content.map((block) => (block.type === "tool_use" ? block.input : block.type)),
      ["thinking", "text", { path: "a" }],
    );
    assert.equal(final.stop_reason, "tool_use");
  });

  it("names a translated answer's mid-stream error by its type and message, ends a Responses item it cut off incomplete, and keeps an overloaded_error's type", async () => {
    claude.enqueue({
      text: ["one ", "two ", "three "],
      streamError: { message: "capacity exceeded", type: "overloaded_error", afterChunks: 1 },
    });
    const stream = fx.openai.chat.completions.stream({ model: "claude", messages: [{ role: "user", content: "Hi" }] });
    await assert.rejects(stream.finalChatCompletion(), (error: any) => {
      assert.match(
        error.message,
        /auto-router: \S+ failed after it had started answering \(overloaded_error: capacity exceeded\); the answer so far stands/,
      );
      assert.doesNotMatch(error.message, /\{"type"/);
      return true;
    });

    // A Responses client: the message being written ends incomplete before the response fails.
    claude.enqueue({
      text: ["one ", "two ", "three "],
      streamError: { message: "capacity exceeded", type: "overloaded_error", afterChunks: 1 },
    });
    const events = await fx.openai.responses.create({ model: "claude", stream: true, input: "Hi" });
    const types: string[] = [];
    let failed: any;
    let done: any;
    for await (const event of events) {
      types.push(event.type);
      if (event.type === "response.output_item.done") done = event.item;
      if (event.type === "response.failed") failed = event.response;
    }
    assert.deepEqual(types.slice(-2), ["response.output_item.done", "response.failed"]);
    assert.deepEqual([done.type, done.status, done.content[0].text], ["message", "incomplete", "one "]);
    assert.deepEqual(
      failed.output.map((item: any) => [item.type, item.status]),
      [["message", "incomplete"]],
    );

    // An Anthropic client gets the target's overloaded_error as its error's type, not api_error.
    claude.enqueue({
      text: ["one ", "two ", "three "],
      streamError: { message: "capacity exceeded", type: "overloaded_error", afterChunks: 1 },
    });
    const anthropic = fx.anthropic.messages.stream({
      model: "claude",
      max_tokens: 100,
      messages: [{ role: "user", content: "Hi" }],
    });
    await assert.rejects(anthropic.finalMessage(), (error: any) => {
      assert.equal(error.error?.error?.type, "overloaded_error");
      assert.match(error.error?.error?.message, /failed after it had started answering \(overloaded_error: capacity/);
      return true;
    });
  });

  it("ends an Anthropic target's model_context_window_exceeded stop as a length stop, not an error", async () => {
    // Claude Sonnet 4.5 and later stop so when the context window fills up mid-answer; pi-ai throws on the value.
    const full = { text: ["one ", "two"], finishReason: "model_context_window_exceeded" };
    claude.enqueue(full);
    const stream = await fx.openai.chat.completions.create({
      model: "claude",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.deepEqual([text, finish], ["one two", "length"]);
    claude.enqueue(full);
    const whole = await fx.openai.responses.create({ model: "claude", input: "Hi" });
    assert.deepEqual(
      [whole.output_text, whole.status, whole.incomplete_details],
      ["one two", "incomplete", { reason: "max_output_tokens" }],
    );
    assert.equal(claude.calls.length, 2, "the whole answer is not asked for again");
  });

  it("counts an Anthropic target's cache reads, not its cache writes, as a Chat client's cached tokens", async () => {
    const usage = { input: 5, output: 7, cacheRead: 20, cacheWrite: 3 };
    claude.enqueue({ text: "Hi.", usage });
    const answer = await fx.openai.chat.completions.create({
      model: "claude",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(answer.usage?.prompt_tokens_details?.cached_tokens, 20);
    assert.equal(answer.usage?.prompt_tokens, 28);
    claude.enqueue({ text: "Hi.", usage });
    const stream = await fx.openai.chat.completions.create({
      model: "claude",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let streamedUsage: any;
    for await (const chunk of stream) if (chunk.usage) streamedUsage = chunk.usage;
    assert.equal(streamedUsage.prompt_tokens_details.cached_tokens, 20);
    assert.equal(streamedUsage.prompt_tokens, 28);
  });

  it("gives a Responses client a Responses target's call_id and item id apart, and sends both back intact", async () => {
    const call = { id: "call_1_2", name: "read", arguments: { path: "a" } };
    const FUNCTION = { type: "function" as const, name: "read", strict: false, parameters: READ_TOOL.input_schema };
    responses.enqueue({ toolCall: call });
    const answer = await fx.openai.responses.create({ model: "resp", input: "Read a", tools: [FUNCTION] });
    const item = answer.output.find((output) => output.type === "function_call")!;
    assert.deepEqual([item.call_id, item.id], ["call_1_2", "fc_emu_1"]);
    responses.enqueue({ toolCall: call });
    const streamed = await fx.openai.responses
      .stream({ model: "resp", input: "Read a", tools: [FUNCTION] })
      .finalResponse();
    const streamedItem = streamed.output.find((output) => output.type === "function_call")!;
    assert.deepEqual([streamedItem.call_id, streamedItem.id], ["call_1_2", "fc_emu_2"]);
    responses.enqueue({ text: "a says hi" });
    await fx.openai.responses.create({
      model: "resp",
      tools: [FUNCTION],
      input: [
        { role: "user", content: "Read a" },
        { type: "function_call", id: "fc_emu_1", call_id: "call_1_2", name: "read", arguments: '{"path":"a"}' },
        { type: "function_call_output", call_id: "call_1_2", output: "hi" },
      ],
    });
    const sent = responses.calls[2]!.body.input;
    const sentCall = sent.find((entry: any) => entry.type === "function_call");
    assert.deepEqual([sentCall.call_id, sentCall.id], ["call_1_2", "fc_emu_1"]);
    assert.equal(sent.find((entry: any) => entry.type === "function_call_output").call_id, "call_1_2");
  });

  it("gives Chat and Anthropic clients a Responses target's call_id alone, never pi-ai's composite id", async () => {
    const call = { id: "call_1_2", name: "read", arguments: { path: "a" } };
    responses.enqueue({ toolCall: call });
    const completion = await fx.openai.chat.completions.create({
      model: "resp",
      messages: [{ role: "user", content: "Read a" }],
      tools: [{ type: "function", function: { name: "read", parameters: READ_TOOL.input_schema } }],
    });
    assert.equal(completion.choices[0]!.message.tool_calls![0]!.id, "call_1_2");
    responses.enqueue({ toolCall: call });
    const streamed = await fx.anthropic.messages
      .stream({ model: "resp", max_tokens: 500, tools: [READ_TOOL], messages: [{ role: "user", content: "Read a" }] })
      .finalMessage();
    assert.equal(streamed.content.find((block) => block.type === "tool_use")?.id, "call_1_2");
  });

  it("keeps an Anthropic target's max_tokens at the client's cap with the thinking budget inside it", async () => {
    claude.enqueue({ text: "a" }, { text: "b" }, { text: "c" }, { text: "d" });
    await fx.anthropic.messages.create({
      model: "claude",
      max_tokens: 8000,
      thinking: { type: "enabled", budget_tokens: 4000 },
      messages: [{ role: "user", content: "Hi" }],
    });
    // Claude Code: the largest cap, adaptive thinking (a budget-based model thinks at pi-ai's medium level).
    await fx.anthropic.messages
      .stream({
        model: "claude",
        max_tokens: 128_000,
        thinking: { type: "adaptive" } as unknown as Anthropic.ThinkingConfigParam,
        messages: [{ role: "user", content: "Hi" }],
      })
      .finalMessage();
    await fx.openai.chat.completions.create({
      model: "claude",
      max_tokens: 20_000,
      reasoning_effort: "high",
      messages: [{ role: "user", content: "Hi" }],
    });
    await fx.openai.responses.create({
      model: "claude",
      max_output_tokens: 5000,
      reasoning: { effort: "low" },
      input: "Hi",
    });
    const sent = claude.calls.map((call) => [call.body.max_tokens, call.body.thinking.budget_tokens]);
    assert.deepEqual(sent, [
      [8000, 4000],
      [128_000, 8192],
      [20_000, 16_384],
      [5000, 2048],
    ]);
  });

  it("turns thinking off, and names it, when the client's cap leaves no room for Anthropic's least budget", async () => {
    claude.enqueue({ text: "Short." });
    const { response } = await fx.openai.chat.completions
      .create({
        model: "claude",
        max_tokens: 333,
        reasoning_effort: "high",
        messages: [{ role: "user", content: "Hi" }],
      })
      .withResponse();
    assert.equal(claude.calls[0]!.body.max_tokens, 333);
    assert.equal(claude.calls[0]!.body.thinking, undefined);
    assert.equal(response.headers.get("x-auto-router-ignored"), "reasoning_effort");
  });

  it("names the document blocks, image detail and metadata a translated request leaves out", async () => {
    chat.enqueue({ text: "Read." });
    const document = {
      type: "document" as const,
      source: { type: "base64" as const, media_type: "application/pdf" as const, data: "JVBERi0xLjQK" },
    };
    const fromAnthropic = await fx.anthropic.messages
      .create({
        model: "chat",
        max_tokens: 100,
        messages: [
          { role: "user", content: [document, { type: "text", text: "Summarise" }] },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "read", input: {} }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [document] }] },
        ],
      })
      .withResponse();
    assert.equal(
      ignored(fromAnthropic.response),
      "messages[0].content[0] (document), messages[2].content[0].content[0] (document)",
    );
    assert.doesNotMatch(chat.calls[0]!.rawBody, /JVBERi0xLjQK/);
    claude.enqueue({ text: "A pixel." });
    const fromChat = await fx.openai.chat.completions
      .create({
        model: "claude",
        metadata: { run: "7" },
        messages: [
          {
            role: "user",
            content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${PNG}`, detail: "high" } }],
          },
        ],
      })
      .withResponse();
    assert.equal(ignored(fromChat.response), "metadata, messages[].content[].image_url.detail");
    claude.enqueue({ text: "A pixel." });
    const fromResponses = await fx.openai.responses
      .create({
        model: "claude",
        metadata: { run: "7" },
        input: [
          {
            role: "user",
            content: [{ type: "input_image", image_url: `data:image/png;base64,${PNG}`, detail: "low" }],
          },
        ],
      })
      .withResponse();
    assert.equal(ignored(fromResponses.response), "metadata, input[].content[].detail");
  });

  it("leaves an Anthropic client's server tools out of a translation and names them, streaming and not", async () => {
    const tools: Anthropic.Messages.ToolUnion[] = [
      READ_TOOL,
      { type: "web_search_20250305", name: "web_search", max_uses: 3 },
      { type: "bash_20250124", name: "bash" },
      { type: "custom", name: "grep", input_schema: { type: "object", properties: { pattern: { type: "string" } } } },
    ];
    const request = { max_tokens: 100, tools, messages: [{ role: "user" as const, content: "Search" }] };
    const named = "web_search_20250305:web_search, bash_20250124:bash";
    chat.enqueue({ text: "Searched." });
    const whole = await fx.anthropic.messages.create({ ...request, model: "chat" }).withResponse();
    assert.equal(whole.response.headers.get("x-auto-router-ignored-tools"), named);
    assert.deepEqual(
      chat.calls[0]!.body.tools.map((tool: any) => tool.function.name),
      ["read", "grep"],
      "no empty function tool stands in for a server tool",
    );
    responses.enqueue({ text: "Searched." });
    const stream = fx.anthropic.messages.stream({ ...request, model: "resp" });
    await stream.finalMessage();
    const { response } = await stream.withResponse();
    assert.equal(response.headers.get("x-auto-router-ignored-tools"), named);
    assert.deepEqual(
      responses.calls[0]!.body.tools.map((tool: any) => tool.name),
      ["read", "grep"],
    );
    // A choice of a server tool would name a tool the target is not sent, which it refuses: named, not sent.
    chat.enqueue({ text: "Searched." });
    const chosen = await fx.anthropic.messages
      .create({ ...request, model: "chat", tool_choice: { type: "tool", name: "web_search" } })
      .withResponse();
    assert.equal(chosen.response.headers.get("x-auto-router-ignored"), "tool_choice");
    assert.equal(chat.calls[1]!.body.tool_choice, undefined);
  });

  it("refuses to translate an Anthropic image by URL, and a Responses image without URL or file id, saying why", async () => {
    const byUrl = await fx.anthropic.messages
      .create({
        model: "claude",
        max_tokens: 100,
        messages: [
          { role: "user", content: [{ type: "image", source: { type: "url", url: "https://example.com/a.png" } }] },
        ],
      })
      .then(
        () => assert.fail("answered"),
        (error: { status: number; error: { error: { message: string } } }) => error,
      );
    assert.equal(byUrl.status, 400);
    assert.equal(
      byUrl.error.error.message,
      "body.messages[0].content[0] (an image by URL) cannot be translated for a target of another API (the routes file sets gateway.passthrough to false)",
    );
    const bare = await fx.openai.responses
      .create({
        model: "claude",
        input: [{ role: "user", content: [{ type: "input_image", detail: "auto" }] }],
      } as never)
      .then(
        () => assert.fail("answered"),
        (error: { status: number; error: { message: string } }) => error,
      );
    assert.equal(bare.status, 400);
    assert.equal(
      bare.error.message,
      "body.input[0].content[0]: an input_image needs image_url (a data: or https: URL) or file_id",
    );
    assert.equal(claude.calls.length, 0);
  });
});
