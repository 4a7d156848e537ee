// The Responses endpoint's passthrough: a request to a route of `openai-responses` targets is sent as the client
// wrote it (the target's model id and key swapped in), through the real `pi-auto-router serve` and the official
// openai client, streaming and not, with a function-call round trip and a failover before the commit point. A request
// with a hosted tool is translated (the tool left out on every target alike).
import assert from "node:assert/strict";
import OpenAI from "openai";
import { after, before, beforeEach, describe, it } from "node:test";
import { readLoggedEvents, servedResults, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { answerWords, type Emulator } from "../helpers/sse-emulator-core.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";

const PRICE = { input: 2, output: 8, cacheRead: 0.5, cacheWrite: 0 };
const WEATHER = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

describe("gateway passthrough on the Responses endpoint", () => {
  let fx: GatewayFixture<"R1" | "R2">;
  let first: Emulator, second: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { R1: "responses", R2: "responses" },
      providers: {
        "resp-1": { emulator: "R1", apiKey: "sk-resp-1-key-0001", models: ["gpt-r1"], modelOptions: { cost: PRICE } },
        "resp-2": {
          emulator: "R2",
          apiKey: "sk-resp-2-key-0002",
          models: ["gpt-r2", { id: "gpt-small", maxTokens: 4096 }],
          modelOptions: { cost: PRICE },
        },
      },
      routes: {
        routes: {
          gpt: routeInOrder("resp-1/gpt-r1", "resp-2/gpt-r2"),
          small: routeInOrder("resp-2/gpt-small"),
        },
        failover: { cooldownWaitMs: 0, kinds: { rate_limit: { cooldownMs: 0 }, network: { cooldownMs: 0 } } },
      },
    });
    ({ R1: first, R2: second } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("streams the target's own events after a 429 fails over, sends the client's body as it is, and books the usage", async () => {
    first.enqueue({ status: 429, errorMessage: "Rate limit reached for requests" });
    second.enqueue({ text: ["Hello ", "from ", "R2."], usage: { input: 30, output: 6, cacheRead: 10 } });
    const body = {
      model: "gpt",
      stream: true as const,
      instructions: "Be brief.",
      input: "Say hello",
      reasoning: { effort: "low" as const },
      include: ["reasoning.encrypted_content" as const],
      store: false,
      metadata: { ticket: "T-1" },
    };
    const { data: stream, response } = await fx.openai.responses.create(body).withResponse();
    const types: string[] = [];
    let text = "";
    let completed: any;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") completed = event.response;
    }
    assert.equal(text, "Hello from R2.");
    assert.deepEqual(types, [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    assert.equal(completed.model, "gpt", "the client sees the name it asked for");
    assert.equal(completed.usage.input_tokens, 40);
    assert.equal(response.headers.get("x-auto-router-served-by"), "resp-2/gpt-r2");
    assert.deepEqual(second.calls[0]!.body, { ...body, model: "gpt-r2" });
    assert.equal(second.calls[0]!.path, "/v1/responses");
    assert.equal(second.calls[0]!.headers.authorization, "Bearer sk-resp-2-key-0002");

    await until(() => readLoggedEvents(fx.agentDir).some((event) => event.type === "final"), "the final event");
    const served = readLoggedEvents(fx.agentDir).find(
      (event) => event.type === "result" && event.data.outcome === "success",
    );
    assert.deepEqual(
      { ...served.data.usage, costUsd: Number(served.data.usage.costUsd.toFixed(9)) },
      {
        input: 30,
        output: 6,
        cacheRead: 10,
        cacheWrite: 0,
        costUsd: Number(((30 * 2 + 6 * 8 + 10 * 0.5) / 1e6).toFixed(9)),
      },
    );
  });

  it("forwards a long answer arriving chunk by chunk in order, and still renames the model and reads the usage", async () => {
    // After the commit point most chunks go out unread (unreadLength); one whose text names an event the scanner
    // reads ("error", "response.completed") is read block by block, and the client sees no difference. Then the same
    // with all but the first two deltas in one chunk of many blocks: the run of deltas before the first block naming
    // such an event goes out unread, the rest is read.
    const words = answerWords(60, { 20: "error", 40: "response.completed" });
    const successes = () => servedResults(fx.agentDir);
    for (const [text, shape] of [
      [words, { chunkDelayMs: 1 }],
      [words, { chunkDelayMs: 5, burstAfterChunks: 2 }],
      [answerWords(60), { chunkDelayMs: 5, burstAfterChunks: 2 }],
    ] as const) {
      const before = successes().length;
      first.enqueue({ text: [...text], usage: { input: 12, output: 60 }, ...shape });
      const stream = await fx.openai.responses.create({ model: "gpt", stream: true, input: "Count" });
      const deltas: string[] = [];
      let completed: any;
      for await (const event of stream) {
        if (event.type === "response.output_text.delta") deltas.push(event.delta);
        if (event.type === "response.completed") completed = event.response;
      }
      assert.deepEqual(deltas, text);
      assert.equal(completed.model, "gpt", "the terminal event is still read and renamed");
      assert.equal(completed.usage.output_tokens, 60);
      await until(() => successes().length > before, "this answer's result");
      assert.equal(successes().at(-1).data.usage.output, 60, "the usage of response.completed, after unread chunks");
    }
  });

  it("answers a non-streaming function call and takes its output back, the input items passed through unchanged", async () => {
    first.enqueue({ toolCall: { id: "call_w1", name: "get_weather", arguments: { city: "Oslo" } } });
    const called = await fx.openai.responses.create({ model: "gpt", input: "Weather in Oslo?", tools: [WEATHER] });
    assert.equal(called.model, "gpt");
    const call = called.output.find((item) => item.type === "function_call");
    assert.ok(call && call.type === "function_call");
    assert.deepEqual(
      [call.call_id, call.name, JSON.parse(call.arguments)],
      ["call_w1", "get_weather", { city: "Oslo" }],
    );
    assert.equal(first.calls[0]!.body.stream, true, "asked for a stream so the timeouts apply");

    first.enqueue({ text: "Cold, 3 C." });
    const input = [
      { role: "user" as const, content: "Weather in Oslo?" },
      { type: "function_call" as const, call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: "function_call_output" as const, call_id: call.call_id, output: "cold, 3 C" },
    ];
    const answer = await fx.openai.responses.create({ model: "gpt", input, tools: [WEATHER] });
    assert.equal(answer.output_text, "Cold, 3 C.");
    assert.deepEqual(first.calls[1]!.body.input, input);
  });

  it("translates a request with a hosted tool, leaving the tool out and naming it", async () => {
    first.enqueue({ text: "Translated." });
    const { data, response } = await fx.openai.responses
      .create({ model: "gpt", input: "Search", tools: [WEATHER, { type: "web_search" }] })
      .withResponse();
    assert.equal(data.output_text, "Translated.");
    assert.equal(response.headers.get("x-auto-router-ignored-tools"), "web_search");
    const sent = first.calls[0]!.body;
    assert.deepEqual(
      sent.tools.map((tool: any) => tool.type),
      ["function"],
    );
  });

  it("sends a custom (freeform) tool and its call history to a Responses target as they are: the client runs it", async () => {
    const APPLY_PATCH = { type: "custom" as const, name: "apply_patch", description: "Apply a patch" };
    first.enqueue({ text: "Patched." });
    const input = [
      { role: "user" as const, content: "patch it" },
      { type: "custom_tool_call" as const, call_id: "ct1", name: "apply_patch", input: "*** Begin Patch" },
      { type: "custom_tool_call_output" as const, call_id: "ct1", output: "ok" },
    ];
    const { data, response } = await fx.openai.responses
      .create({
        model: "gpt",
        input,
        tools: [WEATHER, APPLY_PATCH],
        tool_choice: { type: "custom", name: "apply_patch" },
      })
      .withResponse();
    assert.equal(data.output_text, "Patched.");
    assert.equal(response.headers.get("x-auto-router-ignored-tools"), null);
    assert.equal(response.headers.get("x-auto-router-ignored"), null);
    const sent = first.calls[0]!.body;
    assert.deepEqual(sent.tools, [WEATHER, APPLY_PATCH]);
    assert.deepEqual(sent.tool_choice, { type: "custom", name: "apply_patch" });
    assert.deepEqual(sent.input, input);
  });

  it("says a hosted tool has the request translated when its history cannot be, not that the route lacks such targets", async () => {
    const input = [
      { role: "user" as const, content: "search" },
      {
        type: "web_search_call" as const,
        id: "ws_1",
        status: "completed" as const,
        action: { type: "search", query: "x" },
      },
    ];
    await assert.rejects(
      fx.openai.responses.create({ model: "gpt", input: input as never, tools: [{ type: "web_search" }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        assert.match(error.message, /body\.input\[1\] \(type "web_search_call"\) cannot be translated/);
        assert.match(error.message, /a hosted tool such as web_search/);
        assert.doesNotMatch(error.message, /has no target of the client's API/);
        return true;
      },
    );
    assert.equal(first.calls.length + second.calls.length, 0);
  });

  it("caps max_output_tokens at the target's output limit, which would refuse more", async () => {
    second.enqueue({ text: "Capped." });
    const body = { model: "small", stream: true as const, input: "Say hello", max_output_tokens: 32_000 };
    let text = "";
    for await (const event of await fx.openai.responses.create(body))
      if (event.type === "response.output_text.delta") text += event.delta;
    assert.equal(text, "Capped.");
    assert.deepEqual(second.calls[0]!.body, { ...body, model: "gpt-small", max_output_tokens: 4096 });
  });

  it("passes a target's 400 on with its param and code, as the openai client reads them", async () => {
    const body = JSON.stringify({
      error: {
        message: "Invalid 'input': empty.",
        type: "invalid_request_error",
        param: "input",
        code: "invalid_value",
      },
    });
    first.enqueue({ status: 400, body });
    await assert.rejects(fx.openai.responses.create({ model: "gpt", input: "" }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.equal(error.message, "400 Invalid 'input': empty.");
      assert.deepEqual([error.param, error.code, error.type], ["input", "invalid_value", "invalid_request_error"]);
      return true;
    });
    assert.equal(second.calls.length, 0, "a client error is not failed over");
  });

  it("passes reasoning effort `none` (a valid OpenAI effort) to the target as the client wrote it", async () => {
    first.enqueue({ text: "No thinking needed." });
    const body = { model: "gpt", input: "Say hi", reasoning: { effort: "none" as const } };
    const answer = await fx.openai.responses.create(body);
    assert.equal(answer.output_text, "No thinking needed.");
    assert.deepEqual(first.calls[0]!.body, { ...body, model: "gpt-r1", stream: true });
  });

  it("ends a function call cut off mid-arguments with its name and the arguments streamed, done first, incomplete", async () => {
    // The call's arguments stream in two halves; the target breaks off after the first.
    first.enqueue({
      toolCall: { id: "call_cut", name: "get_weather", arguments: { city: "Oslo" } },
      dropAfterChunks: 2,
    });
    const stream = await fx.openai.responses.create({
      model: "gpt",
      stream: true,
      input: "Weather?",
      tools: [WEATHER],
    });
    const events: any[] = [];
    for await (const event of stream) events.push(event);
    const streamed = events
      .filter((event) => event.type === "response.function_call_arguments.delta")
      .map((event) => event.delta)
      .join("");
    assert.ok(streamed.length > 0 && streamed.length < JSON.stringify({ city: "Oslo" }).length, streamed);
    assert.deepEqual(
      events.slice(-3).map((event) => event.type),
      ["response.function_call_arguments.done", "response.output_item.done", "response.failed"],
    );
    const [argumentsDone, itemDone, failed] = events.slice(-3);
    // As api.openai.com names the call in its arguments' done event (the openai SDK's type has `name`).
    assert.deepEqual(
      [argumentsDone.item_id, argumentsDone.name, argumentsDone.arguments],
      ["fc_emu_1", "get_weather", streamed],
    );
    const cut = { ...itemDone.item };
    assert.deepEqual(
      [cut.type, cut.status, cut.call_id, cut.name, cut.arguments],
      ["function_call", "incomplete", "call_cut", "get_weather", streamed],
    );
    assert.deepEqual(failed.response.output, [itemDone.item]);
  });

  it("ends a custom tool's call cut off mid-input with the input streamed, done first", async () => {
    // The Codex CLI's apply_patch: its input streams in two halves; the target breaks off after the first.
    const patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch";
    first.enqueue({ customToolCall: { id: "call_patch", name: "apply_patch", input: patch }, dropAfterChunks: 2 });
    const APPLY_PATCH = { type: "custom" as const, name: "apply_patch", description: "Apply a patch" };
    const stream = await fx.openai.responses.create({
      model: "gpt",
      stream: true,
      input: "Patch",
      tools: [APPLY_PATCH],
    });
    const events: any[] = [];
    for await (const event of stream) events.push(event);
    const streamed = patch.slice(0, Math.floor(patch.length / 2));
    assert.deepEqual(
      events.slice(-3).map((event) => event.type),
      ["response.custom_tool_call_input.done", "response.output_item.done", "response.failed"],
    );
    const [inputDone, itemDone, failed] = events.slice(-3);
    assert.deepEqual([inputDone.item_id, inputDone.output_index, inputDone.input], ["ctc_emu_1", 0, streamed]);
    assert.deepEqual(itemDone.item, {
      id: "ctc_emu_1",
      type: "custom_tool_call",
      call_id: "call_patch",
      name: "apply_patch",
      input: streamed,
    });
    assert.deepEqual(failed.response.output, [itemDone.item]);
  });

  it("ends a refusal cut off mid-stream as a refusal part, not as answer text", async () => {
    first.enqueue({ refusal: ["I ", "cannot ", "help ", "with that."], dropAfterChunks: 2 });
    const stream = await fx.openai.responses.create({ model: "gpt", stream: true, input: "Something refused" });
    const events: any[] = [];
    for await (const event of stream) events.push(event);
    assert.deepEqual(
      events.slice(-4).map((event) => event.type),
      ["response.refusal.done", "response.content_part.done", "response.output_item.done", "response.failed"],
    );
    const [refusalDone, partDone, itemDone, failed] = events.slice(-4);
    assert.equal(refusalDone.refusal, "I cannot ");
    assert.deepEqual(partDone.part, { type: "refusal", refusal: "I cannot " });
    assert.deepEqual(
      [itemDone.item.type, itemDone.item.status, itemDone.item.content],
      ["message", "incomplete", [{ type: "refusal", refusal: "I cannot " }]],
    );
    assert.deepEqual(failed.response.output, [itemDone.item]);
  });

  it("ends a reasoning item cut off after the commit point with the summary it streamed, done first, incomplete", async () => {
    // 200 characters of thinking commit the answer; the target breaks off in its reasoning item.
    const streamed = `Weighing sources. ${"x".repeat(200)} `;
    second.enqueue({ thinking: `${streamed}never sent`, text: "Answer.", dropAfterChunks: 3 });
    const stream = await fx.openai.responses.create({ model: "small", stream: true, input: "Think" });
    const types: string[] = [];
    const done: any[] = [];
    let failed: any;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_item.done") done.push(event.item);
      if (event.type === "response.failed") failed = event.response;
    }
    const cut = {
      id: "rs_emu_1",
      type: "reasoning",
      summary: [{ type: "summary_text", text: streamed }],
      status: "incomplete",
    };
    assert.deepEqual(types.slice(-4), [
      "response.reasoning_summary_text.done",
      "response.reasoning_summary_part.done",
      "response.output_item.done",
      "response.failed",
    ]);
    assert.deepEqual(done, [cut]);
    assert.equal(failed.status, "failed");
    assert.deepEqual(failed.output, [cut]);
  });

  it("ends an answer cut off mid-stream with response.failed holding the message streamed so far", async () => {
    first.enqueue({ text: ["Hello ", "from ", "R1, ", "and more."], dropAfterChunks: 2 });
    const stream = await fx.openai.responses.create({ model: "gpt", stream: true, input: "Say hello" });
    let text = "";
    let failed: any;
    const types: string[] = [];
    const done: any[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.output_item.done") done.push(event.item);
      if (event.type === "response.failed") failed = event.response;
    }
    assert.equal(text, "Hello from ");
    assert.equal(failed.status, "failed");
    assert.deepEqual(
      failed.output.map((item: any) => [
        item.type,
        item.status,
        item.content.map((part: any) => [part.type, part.text]),
      ]),
      [["message", "incomplete", [["output_text", "Hello from "]]]],
    );
    // The message the target had not finished is done, incomplete, before the response fails (as api.openai.com ends
    // an item of a response it could not finish), not left in progress.
    assert.deepEqual(types.slice(-4), [
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.failed",
    ]);
    assert.deepEqual(
      done.map((item) => [item.type, item.status, item.content[0].text]),
      [["message", "incomplete", "Hello from "]],
    );
  });
});
