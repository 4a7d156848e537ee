// POST /v1/responses driven by the official OpenAI npm client's responses.create, through the real
// `pi-auto-router serve`: the first target answers 429 and the second serves, in the same request.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";

const RATE_LIMITED = { status: 429, errorMessage: "Rate limit reached for requests", retryAfterSeconds: 20 };
const WEATHER_TOOL = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather for a city",
  strict: false,
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

describe("gateway /v1/responses with the official OpenAI client", () => {
  let fx: GatewayFixture<"A" | "B">;
  let first: Emulator, second: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai", B: "openai" },
      providers: {
        "mock-a": { emulator: "A", apiKey: "sk-mock-a-key-000000000001", models: ["model-a"] },
        "mock-b": { emulator: "B", apiKey: "sk-mock-b-key-000000000002", models: ["model-b"] },
      },
      routes: {
        routes: {
          chat: routeInOrder("mock-a/model-a", "mock-b/model-b"),
        },
        failover: { cooldownWaitMs: 0, kinds: { rate_limit: { cooldownMs: 0 } } },
      },
    });
    ({ A: first, B: second } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("answers a non-streaming response from the second target after a 429, with instructions as the system prompt", async () => {
    first.enqueue(RATE_LIMITED);
    second.enqueue({ text: "Hello from B." });
    const { data, response } = await fx.openai.responses
      .create({ model: "auto-router/chat", instructions: "Be brief.", input: "Say hi" })
      .withResponse();
    assert.equal(data.status, "completed");
    assert.equal(data.output_text, "Hello from B.");
    assert.equal(data.usage?.output_tokens, 7);
    assert.equal(response.headers.get("x-auto-router-served-by"), "mock-b/model-b");
    assert.deepEqual(
      JSON.parse(response.headers.get("x-auto-router-attempts")!).map((a: { kind?: string }) => a.kind),
      ["rate_limit", undefined],
    );
    assert.equal(second.calls[0]!.body.messages[0].content, "Be brief.");
    assert.equal(second.calls[0]!.headers.authorization, "Bearer sk-mock-b-key-000000000002");
  });

  it("gives another API's thinking as the reasoning summary the client asked for, its item done before the answer's", async () => {
    first.enqueue({ thinking: "Two and two make four.", text: "4." });
    const whole = await fx.openai.responses.create({
      model: "auto-router/chat",
      input: "2+2?",
      reasoning: { summary: "auto" },
    });
    assert.deepEqual(
      whole.output.map((item) => item.type),
      ["reasoning", "message"],
    );
    assert.deepEqual(whole.output[0]!.type === "reasoning" && whole.output[0]!.summary, [
      { type: "summary_text", text: "Two and two make four." },
    ]);

    first.enqueue({ thinking: "Two and two make four.", text: "4." });
    const stream = fx.openai.responses.stream({
      model: "auto-router/chat",
      input: "2+2?",
      reasoning: { summary: "auto" },
    });
    let summary = "";
    const order: string[] = [];
    stream.on("response.reasoning_summary_text.delta", (event) => (summary += event.delta));
    stream.on("response.output_item.added", (event) => order.push(`added ${event.item.type}`));
    stream.on("response.output_item.done", (event) => order.push(`done ${event.item.type}`));
    const final = await stream.finalResponse();
    assert.equal(summary, "Two and two make four.");
    assert.equal(final.output_text, "4.");
    assert.deepEqual(order, ["added reasoning", "done reasoning", "added message", "done message"]);

    // Without a summary asked for, the thinking stays reasoning text, as before.
    first.enqueue({ thinking: "Two and two make four.", text: "4." });
    const plain = await fx.openai.responses.create({ model: "auto-router/chat", input: "2+2?" });
    const item = plain.output[0] as { summary: unknown[]; content?: unknown[] };
    assert.deepEqual(item.summary, []);
    assert.deepEqual(item.content, [{ type: "reasoning_text", text: "Two and two make four." }]);

    // A length stop cuts the message: its done event says incomplete, as the terminal response lists it.
    first.enqueue({ text: "Four, because", finishReason: "length" });
    const cut = await fx.openai.responses.create({ model: "auto-router/chat", input: "2+2?", stream: true });
    const ends: string[] = [];
    for await (const event of cut) {
      if (event.type === "response.output_item.done" && event.item.type === "message")
        ends.push(`done ${event.item.status}`);
      if (event.type === "response.incomplete")
        ends.push(`${event.type} ${event.response.output.map((output) => output.type === "message" && output.status)}`);
    }
    assert.deepEqual(ends, ["done incomplete", "response.incomplete incomplete"]);
  });

  it("streams a function call through a failover, then takes the function_call_output back and streams the answer", async () => {
    first.enqueue(RATE_LIMITED);
    second.enqueue({ toolCall: { id: "call_1", name: "get_weather", arguments: { city: "Paris" } } });
    const stream = fx.openai.responses.stream({
      model: "chat",
      input: [{ role: "user", content: "Weather in Paris?" }],
      tools: [WEATHER_TOOL],
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const first_ = await stream.finalResponse();
    assert.equal(types[0], "response.created");
    assert.equal(types.at(-1), "response.completed");
    assert.ok(types.includes("response.function_call_arguments.delta"));
    const call = first_.output.find((item) => item.type === "function_call");
    assert.ok(call && call.type === "function_call");
    assert.equal(call.name, "get_weather");
    assert.deepEqual(JSON.parse(call.arguments), { city: "Paris" });
    assert.equal(second.calls[0]!.body.tools[0].function.name, "get_weather");

    first.enqueue(RATE_LIMITED);
    second.enqueue({ text: "Sunny, 21 C." });
    const answer = fx.openai.responses.stream({
      model: "chat",
      tools: [WEATHER_TOOL],
      input: [
        { role: "user", content: "Weather in Paris?" },
        { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: "function_call_output", call_id: call.call_id, output: "sunny, 21 C" },
      ],
    });
    let text = "";
    answer.on("response.output_text.delta", (event) => (text += event.delta));
    const final = await answer.finalResponse();
    assert.equal(text, "Sunny, 21 C.");
    assert.equal(final.output_text, "Sunny, 21 C.");
    const sent = second.calls[1]!.body.messages;
    assert.equal(sent.find((m: { role: string }) => m.role === "tool").content, "sunny, 21 C");
    assert.equal(sent.find((m: { role: string }) => m.role === "assistant").tool_calls[0].function.name, "get_weather");
  });

  it("streams parallel calls whose argument deltas the target interleaves, each item whole and done before the next", async () => {
    // An OpenAI-compatible server that starts both calls in one chunk and finishes the first after the second.
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "model-a", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const call = (index: number, args: string, id?: string) => ({
      index,
      ...(id
        ? { id, type: "function", function: { name: "get_weather", arguments: args } }
        : { function: { arguments: args } }),
    });
    first.enqueue({
      body: [
        chunk({ role: "assistant", tool_calls: [call(0, '{"city":', "call_a"), call(1, '{"ci', "call_b")] }),
        chunk({ tool_calls: [call(1, 'ty":"Rome"}')] }),
        chunk({ tool_calls: [call(0, '"Paris"}')] }),
        chunk({}, "tool_calls"),
        "data: [DONE]\n\n",
      ].join(""),
    });
    const stream = await fx.openai.responses.create({
      model: "chat",
      input: [{ role: "user", content: "Weather in Paris and Rome?" }],
      tools: [WEATHER_TOOL],
      stream: true,
    });
    const events: Array<{ type: string; output_index?: number; item?: { type: string; arguments?: string } }> = [];
    for await (const event of stream) events.push(event as (typeof events)[number]);
    const done = events.filter((event) => event.type === "response.output_item.done");
    assert.deepEqual(
      done.map((event) => JSON.parse(event.item!.arguments!)),
      [{ city: "Paris" }, { city: "Rome" }],
    );
    // One item at a time: nothing of an item after its done, nothing of the next before it.
    let current = -1;
    for (const event of events) {
      if (event.output_index === undefined) continue;
      if (event.type === "response.output_item.added") {
        assert.equal(event.output_index, current + 1, JSON.stringify(events.map((e) => [e.type, e.output_index])));
        current = event.output_index;
      } else assert.equal(event.output_index, current, JSON.stringify(events.map((e) => [e.type, e.output_index])));
    }
    const completed = events.at(-1) as unknown as { type: string; response: { output: Array<{ arguments: string }> } };
    assert.equal(completed.type, "response.completed");
    assert.deepEqual(
      completed.response.output.map((item) => JSON.parse(item.arguments)),
      [{ city: "Paris" }, { city: "Rome" }],
    );
  });

  it("answers a route whose every target failed with a 503 in OpenAI's error shape naming each failure", async () => {
    first.enqueue(RATE_LIMITED);
    second.enqueue(RATE_LIMITED);
    await assert.rejects(
      fx.openai.responses.create({ model: "chat", input: "hi" }),
      (error: unknown) =>
        error instanceof OpenAI.InternalServerError &&
        error.status === 503 &&
        /mock-a\/model-a: rate limit; mock-b\/model-b: rate limit/.test(error.message),
    );
  });

  it("refuses a stored-conversation request with a 400 naming the field, and a stored response's retrieval with a 404 saying none is kept", async () => {
    await assert.rejects(
      fx.openai.responses.create({ model: "chat", input: "hi", previous_response_id: "resp_123" }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && /body\.previous_response_id/.test(error.message),
    );
    assert.equal(first.calls.length + second.calls.length, 0);
    // Nor is a stored response read back: the 404 says the gateway keeps none, not only where prefixes are set.
    const keepsNone = (error: unknown) =>
      error instanceof OpenAI.NotFoundError && /The gateway keeps no responses/.test(error.message);
    await assert.rejects(fx.openai.responses.retrieve("resp_123"), keepsNone);
    await assert.rejects(fx.openai.responses.delete("resp_123"), keepsNone);
    await assert.rejects(fx.openai.responses.cancel("resp_123"), keepsNone);
    await assert.rejects(fx.openai.responses.inputItems.list("resp_123"), keepsNone);
    assert.equal(first.calls.length + second.calls.length, 0);
  });
});
