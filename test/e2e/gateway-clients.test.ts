// The gateway driven by the official OpenAI and Anthropic npm clients, against the emulators: in every request the
// first target answers 429 and the second serves, in the same request, through the real `pi-auto-router serve`.
import Anthropic from "@anthropic-ai/sdk";
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { eventually } from "../helpers/temp-and-workers.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";

// No Retry-After header: the gateway's passthrough would cool the target for as long as it asks, and every test
// here starts with the first target answering (the header's cooldown is tested in gateway-passthrough.test.ts).
const RATE_LIMITED = { status: 429, errorMessage: "Rate limit reached for requests" };
const WEATHER_TOOL = {
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

describe("gateway with the official OpenAI and Anthropic clients", () => {
  let fx: GatewayFixture<"A" | "B" | "C" | "D">;
  let first: Emulator, second: Emulator, firstAnthropic: Emulator, secondAnthropic: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai", B: "openai", C: "anthropic", D: "anthropic" },
      providers: {
        "mock-a": {
          emulator: "A",
          apiKey: "sk-mock-a-key-000000000001",
          models: ["model-a", { id: "model-s", contextWindow: 2_000 }],
        },
        "mock-b": { emulator: "B", apiKey: "sk-mock-b-key-000000000002", models: ["model-b"] },
        "mock-c": { emulator: "C", apiKey: "sk-ant-mock-c-key-0000001", models: ["model-c"] },
        "mock-d": { emulator: "D", apiKey: "sk-ant-mock-d-key-0000002", models: ["model-d"] },
        // Emulator A again under another account: a rejected key rests a target on every route naming it.
        "mock-e": { emulator: "A", apiKey: "sk-mock-e-key-000000000005", models: ["model-a"] },
      },
      routes: {
        routes: {
          chat: routeInOrder("mock-a/model-a", "mock-b/model-b"),
          claude: routeInOrder("mock-c/model-c", "mock-d/model-d"),
          // A non-streaming failover's cooldown stays on this route, out of the other tests' way.
          "claude-whole": routeInOrder("mock-c/model-c", "mock-d/model-d"),
          mixed: routeInOrder("mock-a/model-a", "mock-d/model-d"),
          tiny: routeInOrder("mock-a/model-s"),
          hidden: routeInOrder("mock-a/model-a"),
          // A target resting here (a rejected key rests it for its kind's default, on every route naming it) is an
          // account no other route has, out of the other tests' way.
          resting: routeInOrder("mock-e/model-a", "mock-b/model-b"),
        },
        aliases: { fast: "chat" },
        // The second mapping names a route that is not there (a typo); the third hides the route of its name.
        gateway: {
          models: {
            "claude-sonnet-4-5": "auto-router/claude",
            "claude-haiku-9": "auto-router/claud",
            hidden: "auto-router/claude",
          },
        },
        // Cooldowns (and waiting for one to end) would carry one test's failures into the next; each test here
        // wants the failover within its own request.
        failover: {
          cooldownWaitMs: 0,
          kinds: {
            rate_limit: { cooldownMs: 0 },
            server: { cooldownMs: 0 },
            overloaded: { cooldownMs: 0 },
            // an answer cut off after the commit point rests its target too
            network: { cooldownMs: 0 },
          },
        },
      },
    });
    ({ A: first, B: second, C: firstAnthropic, D: secondAnthropic } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("answers an OpenAI chat completion from the second target after the first answers 429, with the retry headers", async () => {
    first.enqueue(RATE_LIMITED);
    second.enqueue({ text: "Hello from B." });
    const { data, response } = await fx.openai.chat.completions
      .create({
        model: "auto-router/chat",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Say hi" },
        ],
      })
      .withResponse();
    assert.equal(data.choices[0]!.message.content, "Hello from B.");
    assert.equal(data.choices[0]!.finish_reason, "stop");
    assert.equal(data.usage?.completion_tokens, 7);
    assert.equal(response.headers.get("x-auto-router-route"), "chat");
    assert.equal(response.headers.get("x-auto-router-served-by"), "mock-b/model-b");
    const attempts = JSON.parse(response.headers.get("x-auto-router-attempts")!);
    assert.deepEqual(
      attempts.map((a: any) => [a.target, a.kind, a.status]),
      [
        ["mock-a/model-a", "rate_limit", 429],
        ["mock-b/model-b", undefined, 200],
      ],
    );
    assert.equal(first.calls.length, 1);
    assert.equal(second.calls.length, 1);
    // Each target got its own key from pi's registry, never the client's gateway token.
    assert.equal(second.calls[0]!.headers.authorization, "Bearer sk-mock-b-key-000000000002");
    assert.equal(second.calls[0]!.body.messages[0].content, "Be brief.");
  });

  it("streams an OpenAI tool call with usage through a failover, then takes the tool result back", async () => {
    first.enqueue(RATE_LIMITED);
    second.enqueue({ toolCall: { id: "call_1", name: "get_weather", arguments: { city: "Paris" } } });
    const stream = await fx.openai.chat.completions.create({
      model: "fast",
      stream: true,
      stream_options: { include_usage: true },
      tools: [{ type: "function", function: WEATHER_TOOL }],
      messages: [{ role: "user", content: "Weather in Paris?" }],
    });
    let name = "";
    let args = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        name += call.function?.name ?? "";
        args += call.function?.arguments ?? "";
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.equal(name, "get_weather");
    assert.deepEqual(JSON.parse(args), { city: "Paris" });
    assert.equal(finish, "tool_calls");
    assert.equal(usage?.completion_tokens, 7);
    assert.equal(second.calls[0]!.body.tools[0].function.name, "get_weather");

    first.enqueue(RATE_LIMITED);
    second.enqueue({ text: "Sunny, 21 C." });
    const answer = await fx.openai.chat.completions.create({
      model: "fast",
      tools: [{ type: "function", function: WEATHER_TOOL }],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "sunny, 21 C" },
      ],
    });
    assert.equal(answer.choices[0]!.message.content, "Sunny, 21 C.");
    const sent = second.calls[1]!.body.messages;
    assert.equal(sent.find((m: any) => m.role === "tool").content, "sunny, 21 C");
    assert.equal(sent.find((m: any) => m.role === "assistant").tool_calls[0].function.name, "get_weather");
  });

  it("answers an Anthropic message with a tool round trip, mapping Claude Code's model name onto a route", async () => {
    firstAnthropic.enqueue(RATE_LIMITED);
    secondAnthropic.enqueue({ toolCall: { id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } } });
    const tools = [
      {
        name: WEATHER_TOOL.name,
        description: WEATHER_TOOL.description,
        input_schema: WEATHER_TOOL.parameters as Anthropic.Tool.InputSchema,
      },
    ];
    const message = await fx.anthropic.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 200,
      system: "You check the weather.",
      tools,
      messages: [{ role: "user", content: "Weather in Oslo?" }],
    });
    assert.equal(message.stop_reason, "tool_use");
    const toolUse = message.content.find((block) => block.type === "tool_use");
    assert.ok(toolUse && toolUse.type === "tool_use");
    assert.equal(toolUse.name, "get_weather");
    assert.deepEqual(toolUse.input, { city: "Oslo" });
    assert.equal(secondAnthropic.calls[0]!.headers["x-api-key"], "sk-ant-mock-d-key-0000002");

    firstAnthropic.enqueue(RATE_LIMITED);
    secondAnthropic.enqueue({ text: "Cold, 3 C." });
    const answer = await fx.anthropic.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 200,
      tools,
      messages: [
        { role: "user", content: "Weather in Oslo?" },
        { role: "assistant", content: message.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: toolUse.id, content: "cold, 3 C" }] },
      ],
    });
    assert.deepEqual(answer.content, [{ type: "text", text: "Cold, 3 C." }]);
    assert.equal(answer.usage.output_tokens, 7);
    const sent = secondAnthropic.calls[1]!.body.messages;
    const result = sent.at(-1).content.find((block: any) => block.type === "tool_result");
    assert.equal(result.tool_use_id, toolUse.id);
  });

  it("streams an Anthropic message with the real event sequence across protocols (OpenAI target serving an Anthropic client)", async () => {
    first.enqueue(RATE_LIMITED);
    secondAnthropic.enqueue({ thinking: "Let me think.", text: "Streamed answer." });
    const stream = fx.anthropic.messages.stream({
      model: "auto-router/mixed",
      max_tokens: 4096,
      thinking: { type: "enabled", budget_tokens: 2048 },
      messages: [{ role: "user", content: "Hi" }],
    });
    const types: string[] = [];
    stream.on("streamEvent", (event) => types.push(event.type));
    const final = await stream.finalMessage();
    assert.equal(types[0], "message_start");
    assert.deepEqual(types.slice(-2), ["message_delta", "message_stop"]);
    assert.ok(
      types.includes("content_block_start") &&
        types.includes("content_block_delta") &&
        types.includes("content_block_stop"),
    );
    assert.deepEqual(
      final.content.map((block) => block.type),
      ["thinking", "text"],
    );
    assert.equal(final.content[1]!.type === "text" && final.content[1]!.text, "Streamed answer.");
    assert.equal(final.usage.output_tokens, 7);
    assert.equal(first.calls.length, 1);
  });

  it("pages /v1/models for the Anthropic SDK by limit, after_id and before_id; OpenAI's list has no paging", async () => {
    const listed = [
      "auto-router/chat",
      "auto-router/claude",
      "auto-router/claude-whole",
      "auto-router/mixed",
      "auto-router/tiny",
      "auto-router/hidden",
      "auto-router/resting",
      "fast",
    ];
    const pageOf = (page: {
      data: { id: string }[];
      has_more: boolean;
      first_id: string | null;
      last_id: string | null;
    }) => ({
      ids: page.data.map((model) => model.id),
      has_more: page.has_more,
      first_id: page.first_id,
      last_id: page.last_id,
    });
    const first3 = await fx.anthropic.models.list({ limit: 3 });
    assert.deepEqual(pageOf(first3), {
      ids: listed.slice(0, 3),
      has_more: true,
      first_id: "auto-router/chat",
      last_id: "auto-router/claude-whole",
    });
    // The SDK's own paging (after_id: the page's last_id) walks every name once, ending on has_more false.
    const walked: string[] = [];
    for await (const model of fx.anthropic.models.list({ limit: 3 })) walked.push(model.id);
    assert.deepEqual(walked, listed);
    const last = await fx.anthropic.models.list({ limit: 3, after_id: "auto-router/tiny" });
    assert.deepEqual(pageOf(last), {
      ids: listed.slice(5),
      has_more: false,
      first_id: "auto-router/hidden",
      last_id: "fast",
    });
    // before_id: the names just before it, has_more saying whether more lie before them.
    const back = await fx.anthropic.models.list({ limit: 2, before_id: "auto-router/tiny" });
    assert.deepEqual(pageOf(back), {
      ids: ["auto-router/claude-whole", "auto-router/mixed"],
      has_more: true,
      first_id: "auto-router/claude-whole",
      last_id: "auto-router/mixed",
    });
    const start = await fx.anthropic.models.list({ limit: 5, before_id: "auto-router/claude-whole" });
    assert.deepEqual(pageOf(start), {
      ids: listed.slice(0, 2),
      has_more: false,
      first_id: listed[0],
      last_id: listed[1],
    });
    // Without a limit, every name on one page, as before.
    assert.deepEqual(pageOf(await fx.anthropic.models.list()), {
      ids: listed,
      has_more: false,
      first_id: "auto-router/chat",
      last_id: "fast",
    });
    for (const [query, expected] of [
      [{ limit: 0 }, 'query.limit: expected an integer from 1 to 1000 (got "0")'],
      [{ after_id: "auto-router/nope" }, 'query.after_id: "auto-router/nope" is not a model this list has'],
    ] as const)
      await assert.rejects(fx.anthropic.models.list(query), (error: any) => {
        assert.equal(error.status, 400);
        assert.equal(error.error?.error?.type, "invalid_request_error");
        assert.equal(error.error?.error?.message, expected);
        return true;
      });
    // OpenAI's list has no paging: a query there changes nothing.
    const openAI = await fx.openai.models.list({ query: { limit: 1, after_id: "fast" } });
    assert.deepEqual(
      openAI.data.map((model) => model.id),
      listed,
    );
  });

  it("lists routes and aliases, counts tokens, and names the known routes for an unknown model", async () => {
    const models = await fx.openai.models.list();
    assert.deepEqual(
      models.data.map((model) => model.id),
      [
        "auto-router/chat",
        "auto-router/claude",
        "auto-router/claude-whole",
        "auto-router/mixed",
        "auto-router/tiny",
        "auto-router/hidden",
        "auto-router/resting",
        "fast",
      ],
    );
    const counted = await fx.anthropic.messages.countTokens({
      model: "auto-router/claude",
      messages: [{ role: "user", content: "x".repeat(400) }],
    });
    assert.ok(counted.input_tokens >= 100, `estimate ${counted.input_tokens}`);
    // What a translation leaves out but Anthropic reads counts too: a document (a text's characters, a PDF's data), in
    // a tool result as well, and an image by URL (as any image). They counted as nothing.
    const withLeftOut = await fx.anthropic.messages.countTokens({
      model: "auto-router/claude",
      messages: [
        {
          role: "user",
          content: [
            { type: "document", source: { type: "text", media_type: "text/plain", data: "x".repeat(4_000) } },
            { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
          ],
        },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "read", input: {} }] },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_1",
              content: [
                {
                  type: "document",
                  source: { type: "base64", media_type: "application/pdf", data: "J".repeat(8_000) },
                },
              ],
            },
          ],
        },
      ],
    });
    assert.ok(withLeftOut.input_tokens >= 1_000 + 1_200 + 2_000, `estimate ${withLeftOut.input_tokens}`);
    // OpenAI's count for a Responses request, by the same estimate (it was proxied, and no provider advertises it).
    const responsesCount = await fx.openai.responses.inputTokens.count({
      model: "auto-router/chat",
      instructions: "Be brief.",
      input: [{ role: "user", content: "x".repeat(400) }],
    });
    assert.equal(responsesCount.object, "response.input_tokens");
    assert.ok(responsesCount.input_tokens >= 100, `estimate ${responsesCount.input_tokens}`);
    await assert.rejects(
      fx.openai.responses.inputTokens.count({ model: "no-such-model", input: "hi" }),
      (error: any) => {
        assert.equal(error.status, 404);
        assert.match(error.message, /no-such-model.*auto-router\/chat, auto-router\/claude/);
        return true;
      },
    );
    // Counting for a model no request could use is the same 404 as asking it.
    await assert.rejects(
      fx.anthropic.messages.countTokens({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 404);
        assert.equal(error.error?.error?.type, "not_found_error");
        assert.match(error.message, /no-such-model.*auto-router\/chat, auto-router\/claude/);
        return true;
      },
    );
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 404);
        assert.match(error.message, /no-such-model.*auto-router\/chat, auto-router\/claude/);
        return true;
      },
    );
    await assert.rejects(
      fx.anthropic.messages.create({
        model: "no-such-model",
        max_tokens: 10,
        messages: [{ role: "user", content: "hi" }],
      }),
      (error: any) => {
        assert.equal(error.status, 404);
        assert.equal(error.error?.error?.type, "not_found_error");
        return true;
      },
    );
    assert.equal(first.calls.length + second.calls.length, 0);
  });

  it("warns at start that a gateway.models name which is also a route hides it, and maps it as written", async () => {
    assert.match(
      fx.gateway.stderr(),
      /^auto-router: warning: \S*auto-router\.routes\.json:\d+:\d+ at gateway\.models\.hidden: "hidden" is also the route auto-router\/hidden, which gateway clients can no longer reach by that name: they get "auto-router\/claude" instead/m,
    );
    const { response } = await fx.anthropic.messages
      .create({ model: "hidden", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(response.headers.get("x-auto-router-route"), "claude");
  });

  it("reports a gateway.models mapping to a route that is not there, at start and in the 404", async () => {
    assert.match(
      fx.gateway.stderr(),
      /^auto-router: warning: \S*auto-router\.routes\.json:\d+:\d+ at gateway\.models\.claude-haiku-9: "auto-router\/claud" is not a route or alias; did you mean "auto-router\/claude"\?/m,
    );
    await assert.rejects(
      fx.anthropic.messages.create({
        model: "claude-haiku-9",
        max_tokens: 10,
        messages: [{ role: "user", content: "hi" }],
      }),
      (error: any) => {
        assert.equal(error.status, 404);
        assert.match(
          error.error?.error?.message,
          /model "claude-haiku-9" is mapped by gateway\.models to "auto-router\/claud", which is not a route, an alias or a model pi knows; did you mean "auto-router\/claude"\?; known routes: auto-router\/chat/,
        );
        return true;
      },
    );
  });

  it("takes the model from X-Model and provider preferences from X-Provider, and refuses invalid X-Provider JSON", async () => {
    second.enqueue({ text: "Only B." });
    const data = await fx.openai.chat.completions.create(
      { model: "auto-router/claude", messages: [{ role: "user", content: "hi" }] },
      { headers: { "X-Model": "chat", "X-Provider": JSON.stringify({ only: ["mock-b"] }) } },
    );
    assert.equal(data.choices[0]!.message.content, "Only B.");
    assert.equal(first.calls.length, 0);
    await assert.rejects(
      fx.openai.chat.completions.create(
        { model: "chat", messages: [{ role: "user", content: "hi" }] },
        { headers: { "X-Provider": "{only:" } },
      ),
      (error: any) => {
        assert.equal(error.status, 400);
        assert.match(
          error.message,
          /X-Provider header: not valid JSON.*expected a JSON object in OpenRouter's provider grammar/,
        );
        return true;
      },
    );
    // A misspelt key would otherwise be ignored and the preference silently lost.
    await assert.rejects(
      fx.openai.chat.completions.create(
        { model: "chat", messages: [{ role: "user", content: "hi" }] },
        { headers: { "X-Provider": JSON.stringify({ ignor: ["mock-a"] }) } },
      ),
      (error: any) => {
        assert.equal(error.status, 400);
        assert.match(error.message, /X-Provider header: unknown key "ignor"; did you mean "ignore"\?/);
        return true;
      },
    );
    // So would a price cap: a misspelt key inside max_price, or a price the router cannot cap, is refused too.
    for (const [maxPrice, expected] of [
      [{ completon: 3 }, /X-Provider header\.max_price: unknown key "completon"; did you mean "completion"\?/],
      [{ prompt: 0.2 }, /X-Provider header\.max_price: "prompt" cannot be capped here; only "completion"/],
    ] as const)
      await assert.rejects(
        fx.openai.chat.completions.create(
          { model: "chat", messages: [{ role: "user", content: "hi" }] },
          { headers: { "X-Provider": JSON.stringify({ max_price: maxPrice }) } },
        ),
        (error: any) => {
          assert.equal(error.status, 400);
          assert.match(error.message, expected);
          return true;
        },
      );
    // The body's provider is an object: a provider's name given there as a string is the wrong type, said as such
    // (it was parsed as JSON text and reported "not valid JSON" of a body that is).
    await assert.rejects(
      fx.openai.chat.completions.create({
        model: "chat",
        messages: [{ role: "user", content: "hi" }],
        provider: "mock-b",
      } as any),
      (error: any) => {
        assert.equal(error.status, 400);
        assert.match(error.message, /body\.provider: expected a JSON object in OpenRouter's provider grammar/);
        assert.match(error.message, /got a string \("mock-b"\)/);
        assert.doesNotMatch(error.message, /not valid JSON/);
        return true;
      },
    );
    // A provider name a letter away from one of the route's is a typo: in `ignore` it would otherwise send the
    // request to the very provider the client meant to leave out.
    const sentBefore = first.calls.length + second.calls.length;
    await assert.rejects(
      fx.openai.chat.completions.create(
        { model: "chat", messages: [{ role: "user", content: "hi" }] },
        { headers: { "X-Provider": JSON.stringify({ ignore: ["mock-aa"] }) } },
      ),
      (error: any) => {
        assert.equal(error.status, 400);
        assert.match(error.message, /"mock-aa" \(ignore\) is no provider of route chat; did you mean "mock-a"\?/);
        assert.equal(error.headers.get("x-should-retry"), "false");
        return true;
      },
    );
    assert.equal(first.calls.length + second.calls.length, sentBefore, "nothing was sent");
    // Two edits off is a typo too (as for the routes file's provider ids).
    await assert.rejects(
      fx.openai.chat.completions.create(
        { model: "chat", messages: [{ role: "user", content: "hi" }] },
        { headers: { "X-Provider": JSON.stringify({ ignore: ["moc-aa"] }) } },
      ),
      (error: any) => {
        assert.equal(error.status, 400);
        assert.match(error.message, /"moc-aa" \(ignore\) is no provider of route chat; did you mean "mock-a"\?/);
        return true;
      },
    );
    assert.equal(first.calls.length + second.calls.length, sentBefore, "nothing was sent");
    // Spaces around a name are not part of it: `ignore` of " mock-a " leaves mock-a out, in the header and the body.
    second.enqueue({ text: "B, not the ignored A." });
    const spaced = await fx.openai.chat.completions.create(
      { model: "chat", messages: [{ role: "user", content: "hi" }] },
      { headers: { "X-Provider": JSON.stringify({ ignore: ["  mock-a "] }) } },
    );
    assert.equal(spaced.choices[0]!.message.content, "B, not the ignored A.");
    second.enqueue({ text: "B again." });
    const spacedBody = await fx.openai.chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: "hi" }],
      provider: { ignore: ["mock-a\t"] },
    } as any);
    assert.equal(spacedBody.choices[0]!.message.content, "B again.");
    assert.equal(first.calls.length, 0, "mock-a was never asked");
    // OpenRouter keys the router has no counterpart for, and keys far from any it knows, are ignored.
    second.enqueue({ text: "Still only B." });
    const body = { provider: { only: ["mock-b"], data_collection: "deny", some_future_option: true } };
    const kept = await fx.openai.chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: "hi" }],
      ...body,
    } as any);
    assert.equal(kept.choices[0]!.message.content, "Still only B.");
    assert.equal(first.calls.length, 0);
    // A filter that leaves no target is the request's own doing, not an outage: 400, never retried.
    const calls = first.calls.length + second.calls.length;
    await assert.rejects(
      fx.openai.chat.completions.create(
        { model: "chat", messages: [{ role: "user", content: "hi" }] },
        { headers: { "X-Provider": JSON.stringify({ only: ["mock-zz"] }) } },
      ),
      (error: any) => {
        assert.equal(error.status, 400);
        assert.equal(error.headers.get("x-should-retry"), "false");
        assert.match(
          error.message,
          /no target of route chat matches the provider preferences \(mock-a\/model-a: not in only: mock-zz; mock-b\/model-b: not in only: mock-zz\)/,
        );
        return true;
      },
    );
    assert.equal(first.calls.length + second.calls.length, calls);
  });

  it("answers 400, not 429, to provider preferences that exclude every target, also when one of them rests", async () => {
    first.enqueue({ status: 401, errorMessage: "Incorrect API key provided" });
    second.enqueue({ text: "B served." });
    const served = await fx.openai.chat.completions.create({
      model: "resting",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(served.choices[0]!.message.content, "B served.");
    await assert.rejects(
      fx.openai.chat.completions.create(
        { model: "resting", messages: [{ role: "user", content: "hi" }] },
        { headers: { "X-Provider": JSON.stringify({ ignore: ["mock-e", "mock-b"] }) } },
      ),
      (error: any) => {
        // Told to retry later, a client would wait for a target its own preferences leave out.
        assert.equal(error.status, 400, error.message);
        assert.equal(error.headers.get("x-should-retry"), "false");
        assert.equal(error.headers.get("retry-after"), null);
        assert.match(
          error.message,
          /no target of route resting matches the provider preferences \(mock-e\/model-a: ignored: mock-e; mock-b\/model-b: ignored: mock-b\)/,
        );
        return true;
      },
    );
    assert.equal(first.calls.length + second.calls.length, 2, "only the first request reached the targets");
  });

  it("refuses a tool whose schema is no JSON Schema object with a 400 naming its path, in each client's API", async () => {
    // The Anthropic SDK's message quotes the error body as JSON (its quotes escaped): the words before them.
    const expected = "expected a JSON Schema object (";
    for (const [ask, path] of [
      [
        () =>
          fx.openai.chat.completions.create({
            model: "mixed",
            messages: [{ role: "user", content: "hi" }],
            tools: [{ type: "function", function: { name: "lookup", parameters: "not a schema" as any } }],
          }),
        "tools[0].function.parameters",
      ],
      [
        () =>
          fx.anthropic.messages.create({
            model: "mixed",
            max_tokens: 100,
            messages: [{ role: "user", content: "hi" }],
            tools: [{ name: "lookup", input_schema: "not a schema" as any }],
          }),
        "tools[0].input_schema",
      ],
      [
        () =>
          fx.openai.responses.create({
            model: "mixed",
            input: "hi",
            tools: [{ type: "function", name: "lookup", parameters: ["not", "a", "schema"] as any, strict: false }],
          }),
        "tools[0].parameters",
      ],
    ] as const)
      await assert.rejects(ask(), (error: any) => {
        assert.equal(error.status, 400);
        assert.ok(error.message.includes(`${path}: ${expected}`), error.message);
        return true;
      });
    assert.equal(first.calls.length + secondAnthropic.calls.length, 0, "no target was asked");
  });

  it("refuses with a 400 naming the field what the client's own API refuses: no max_tokens, n, out-of-range sampling, a non-object tool schema", async () => {
    const user = [{ role: "user" as const, content: "hi" }];
    // Anthropic's SDK keeps the whole error body, OpenAI's its `error` object.
    const messageOf = (error: any): string => error.error?.error?.message ?? error.error?.message;
    for (const [ask, expected] of [
      // Anthropic's API requires max_tokens: no cap of the gateway's choosing, none sent on without it.
      [
        () => fx.anthropic.messages.create({ model: "mixed", messages: user } as any),
        "body.max_tokens: required (the most tokens to generate, an integer above 0)",
      ],
      // Anthropic's temperature stops at 1: an OpenAI target of the route would have taken 5.
      [
        () => fx.anthropic.messages.create({ model: "mixed", max_tokens: 100, temperature: 5, messages: user }),
        "body.temperature: expected a number from 0 to 1",
      ],
      [
        () => fx.anthropic.messages.create({ model: "mixed", max_tokens: 100, top_p: 1.5, messages: user }),
        "body.top_p: expected a number from 0 to 1",
      ],
      [
        () =>
          fx.anthropic.messages.create({
            model: "mixed",
            max_tokens: 100,
            messages: user,
            tools: [{ name: "lookup", input_schema: { type: "string" } as any }],
          }),
        'body.tools[0].input_schema.type: expected "object" (got "string"): a JSON Schema object ({"type": "object", ...})',
      ],
      [
        () => fx.openai.chat.completions.create({ model: "mixed", n: 0, messages: user }),
        "body.n: expected an integer from 1 to 128",
      ],
      [
        () => fx.openai.chat.completions.create({ model: "mixed", n: "x" as any, messages: user }),
        "body.n: expected an integer from 1 to 128",
      ],
      [
        () => fx.openai.chat.completions.create({ model: "mixed", temperature: 2.5, messages: user }),
        "body.temperature: expected a number from 0 to 2",
      ],
      [
        () => fx.openai.chat.completions.create({ model: "mixed", top_p: 1.5, messages: user }),
        "body.top_p: expected a number from 0 to 1",
      ],
      [
        () => fx.openai.responses.create({ model: "mixed", temperature: 3, input: "hi" }),
        "body.temperature: expected a number from 0 to 2",
      ],
      [
        () => fx.openai.responses.create({ model: "mixed", top_p: -0.5, input: "hi" }),
        "body.top_p: expected a number from 0 to 1",
      ],
    ] as const)
      await assert.rejects(ask(), (error: any) => {
        assert.equal(error.status, 400, error.message);
        assert.equal(messageOf(error), expected);
        return true;
      });
    assert.equal(first.calls.length + secondAnthropic.calls.length, 0, "no target was asked");
    // The ends of each range are the API's own values, and served.
    first.enqueue({ text: "Anthropic's ends." });
    first.enqueue({ text: "OpenAI's ends." });
    const anthropicEnds = await fx.anthropic.messages.create({
      model: "mixed",
      max_tokens: 100,
      temperature: 1,
      top_p: 0,
      messages: user,
      tools: [{ name: "lookup", input_schema: { type: "object", properties: {} } }],
    });
    assert.deepEqual(anthropicEnds.content, [{ type: "text", text: "Anthropic's ends." }]);
    const openAIEnds = await fx.openai.chat.completions.create({
      model: "mixed",
      n: 1,
      temperature: 2,
      top_p: 1,
      messages: user,
    });
    assert.equal(openAIEnds.choices[0]!.message.content, "OpenAI's ends.");
    assert.deepEqual(
      first.calls.map((call) => call.body.temperature),
      [1, 2],
    );
  });

  it("answers a prompt longer than every target's window with a 400 that says the prompt is too long", async () => {
    const long = "word ".repeat(4_000);
    for (const ask of [
      () => fx.openai.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: long }] }),
      () =>
        fx.anthropic.messages.create({ model: "tiny", max_tokens: 100, messages: [{ role: "user", content: long }] }),
    ])
      await assert.rejects(ask(), (error: any) => {
        assert.equal(error.status, 400);
        assert.equal(error.headers.get("x-should-retry"), "false");
        assert.match(
          error.message,
          /the prompt is too long for every target of route tiny \(mock-a\/model-s: context window 2000 < \d+ tokens needed\)\. Waiting will not change this/,
        );
        return true;
      });
    assert.equal(first.calls.length, 0);
    // The operator reads why on the gateway's stderr (a client may show its own words for a 400).
    await until(
      () =>
        (
          fx.gateway
            .stderr()
            .match(/^error POST \/v1\/messages: auto-router: the prompt is too long for every target/gm) ?? []
        ).length > 0,
      "the 400's error line",
    );
    assert.match(
      fx.gateway.stderr(),
      /^error POST \/v1\/chat\/completions: auto-router: the prompt is too long for every target/m,
    );
  });

  it("serves one real target named provider/model, and applies @shortcuts at the start of the last user message", async () => {
    second.enqueue({ text: "Direct." });
    const direct = await fx.openai.chat.completions
      .create({ model: "mock-b/model-b", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(direct.data.choices[0]!.message.content, "Direct.");
    assert.equal(direct.response.headers.get("x-auto-router-served-by"), "mock-b/model-b");
    second.enqueue({ text: "Shortcut." });
    const shortcut = await fx.openai.chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: "@only=mock-b tell me" }],
    });
    assert.equal(shortcut.choices[0]!.message.content, "Shortcut.");
    assert.equal(first.calls.length, 0);
    assert.deepEqual(second.calls[1]!.body.messages.at(-1).content, [{ type: "text", text: "tell me" }]);
    // Its failure names the model asked for, not "every target of route mock-b/model-b".
    second.enqueue({ status: 500 });
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "mock-b/model-b", messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 503);
        assert.match(error.message, /auto-router: model mock-b\/model-b failed \(mock-b\/model-b: server error\)/);
        return true;
      },
    );
    // So does a refusal without an attempt: an image the model does not take, a prompt longer than its window, a
    // provider filter it does not match.
    const refusedWith = (pattern: RegExp) => (error: any) => {
      assert.equal(error.status, 400);
      assert.match(error.message, pattern);
      return true;
    };
    const calledBefore = first.calls.length + second.calls.length;
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    const image = { type: "image_url" as const, image_url: { url: `data:image/png;base64,${png}` } };
    await assert.rejects(
      fx.openai.chat.completions.create({
        model: "mock-b/model-b",
        messages: [{ role: "user", content: [{ type: "text", text: "what is it?" }, image] }],
      }),
      refusedWith(
        /^400 auto-router: model mock-b\/model-b does not accept images \(mock-b\/model-b: no image input\)\./,
      ),
    );
    await assert.rejects(
      fx.openai.chat.completions.create({
        model: "mock-a/model-s",
        messages: [{ role: "user", content: "word ".repeat(4_000) }],
      }),
      refusedWith(
        /^400 auto-router: the prompt is too long for model mock-a\/model-s \(mock-a\/model-s: context window/,
      ),
    );
    await assert.rejects(
      fx.openai.chat.completions.create(
        { model: "mock-b/model-b", messages: [{ role: "user", content: "hi" }] },
        { headers: { "X-Provider": JSON.stringify({ only: ["deepinfra"] }) } },
      ),
      refusedWith(/^400 auto-router: model mock-b\/model-b does not match the provider preferences \(/),
    );
    await assert.rejects(
      fx.openai.chat.completions.create(
        { model: "mock-b/model-b", messages: [{ role: "user", content: "hi" }] },
        { headers: { "X-Provider": JSON.stringify({ only: ["mock-zz"] }) } },
      ),
      refusedWith(
        /^400 auto-router: "mock-zz" \(only\) is no provider of model mock-b\/model-b; did you mean "mock-b"\?/,
      ),
    );
    assert.equal(first.calls.length + second.calls.length, calledBefore, "no target called for the refused ones");
  });

  it("passes a single non-retryable upstream 400 through with its status and x-should-retry: false", async () => {
    first.enqueue({ status: 400, errorMessage: "messages: roles must alternate" });
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 400);
        assert.equal(error.headers.get("x-should-retry"), "false");
        assert.match(error.message, /roles must alternate/);
        return true;
      },
    );
    assert.equal(second.calls.length, 0);
  });

  it("passes a translated target's 400 through as the target's own message, not its raw error body", async () => {
    // An OpenAI client on a route of Anthropic targets: the request is translated, and pi-ai words the target's
    // error as `400 {"type":"error","error":{...}}`; the client gets the message inside.
    firstAnthropic.enqueue({ status: 400, errorMessage: "messages: roles must alternate" });
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "claude", messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 400);
        assert.equal(error.message, "400 messages: roles must alternate");
        return true;
      },
    );
    assert.equal(secondAnthropic.calls.length, 0);
  });

  it("passes a translated OpenAI target's 400 through as the target's own message, its status only once", async () => {
    // An Anthropic client on a route of an OpenAI target: the request is translated, and the OpenAI SDK inside pi-ai
    // words the target's error as `400 <message>`; the client gets the message, its status in the HTTP status alone.
    first.enqueue({ status: 400, errorMessage: "Invalid value for 'messages[0].content': bad" });
    await assert.rejects(
      fx.anthropic.messages.create({ model: "mixed", max_tokens: 100, messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 400);
        assert.equal(error.error?.error?.type, "invalid_request_error");
        assert.equal(error.error?.error?.message, "Invalid value for 'messages[0].content': bad");
        return true;
      },
    );
    first.enqueue({ status: 400, errorMessage: "Invalid value for 'input': bad" });
    await assert.rejects(fx.openai.responses.create({ model: "chat", input: "hi" }), (error: any) => {
      assert.equal(error.status, 400);
      assert.equal(error.message, "400 Invalid value for 'input': bad");
      return true;
    });
    assert.equal(second.calls.length + secondAnthropic.calls.length, 0, "a request's own 400 is not failed over");
  });

  it("ends a stream that fails after the commit point with each protocol's error event", async () => {
    secondAnthropic.enqueue({ text: ["one ", "two ", "three ", "four "], dropAfterChunks: 2 });
    firstAnthropic.enqueue(RATE_LIMITED);
    const stream = fx.anthropic.messages.stream({
      model: "claude",
      max_tokens: 100,
      messages: [{ role: "user", content: "count" }],
    });
    let text = "";
    stream.on("text", (delta) => (text += delta));
    await assert.rejects(stream.finalMessage(), (error: any) => {
      // The SDK raises the gateway's `event: error` record as an APIError carrying its body.
      assert.equal(error.constructor.name, "APIError");
      assert.equal(error.error?.error?.type, "api_error");
      // The same words as for a translated answer: which target broke off, and that nothing is sent again.
      assert.match(
        error.error?.error?.message,
        /^auto-router: mock-d\/model-d failed after it had started answering \(connection lost, ECONNRESET\); the answer so far stands/,
      );
      return true;
    });
    assert.equal(text, "one two ");
    assert.equal(secondAnthropic.calls.length, 1, "no replay after the commit point");

    first.enqueue(RATE_LIMITED);
    second.enqueue({ text: ["alpha ", "beta ", "gamma "], dropAfterChunks: 1 });
    const chunks = await fx.openai.chat.completions.create({
      model: "chat",
      stream: true,
      messages: [{ role: "user", content: "go" }],
    });
    let streamed = "";
    await assert.rejects(
      (async () => {
        for await (const chunk of chunks) streamed += chunk.choices[0]?.delta.content ?? "";
      })(),
      (error: any) => {
        // The SDK raises the gateway's `data: {"error": ...}` record as an APIError.
        assert.equal(error.constructor.name, "APIError");
        assert.equal(error.error?.type, "api_error");
        return true;
      },
    );
    assert.equal(streamed, "alpha ");
    assert.equal(second.calls.length, 1);
  });

  it("names the target that broke off a streamed translated answer, and fails a non-streaming one over", async () => {
    // An Anthropic client on an OpenAI target (route "mixed"), cut after its first chunk.
    first.enqueue({ text: ["uno ", "dos ", "tres "], dropAfterChunks: 1 });
    const stream = fx.anthropic.messages.stream({
      model: "mixed",
      max_tokens: 100,
      messages: [{ role: "user", content: "count" }],
    });
    let text = "";
    stream.on("text", (delta) => (text += delta));
    await assert.rejects(stream.finalMessage(), (error: any) => {
      assert.equal(error.error?.error?.type, "api_error");
      assert.match(
        error.error?.error?.message,
        /^auto-router: mock-a\/model-a failed after it had started answering \(terminated\); the answer so far stands/,
      );
      return true;
    });
    assert.equal(text, "uno ");
    assert.equal(secondAnthropic.calls.length, 0, "no replay after the commit point");

    // An OpenAI client on an Anthropic target (route "claude-whole"), not streaming: it has received nothing when the target
    // breaks off, so the request fails over and the client gets the next target's whole answer.
    firstAnthropic.enqueue({ text: ["eins ", "zwei ", "drei "], dropAfterChunks: 1 });
    secondAnthropic.enqueue({ text: ["vier ", "fünf"] });
    const { data: whole, response } = await fx.openai.chat.completions
      .create({ model: "claude-whole", messages: [{ role: "user", content: "count" }] })
      .withResponse();
    assert.equal(whole.choices[0]!.message.content, "vier fünf");
    assert.equal(response.headers.get("x-auto-router-served-by"), "mock-d/model-d");
    assert.deepEqual(
      JSON.parse(response.headers.get("x-auto-router-attempts")!).map((a: any) => [a.target, a.kind, a.status]),
      [
        ["mock-c/model-c", "network", undefined],
        ["mock-d/model-d", undefined, 200],
      ],
    );
    assert.equal(secondAnthropic.calls.length, 1);
  });

  it("answers 503 in the client's format when every target fails", async () => {
    firstAnthropic.enqueue({ status: 500 });
    secondAnthropic.enqueue({ status: 529, errorType: "overloaded_error", errorMessage: "Overloaded" });
    await assert.rejects(
      fx.anthropic.messages.create({ model: "claude", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 503);
        assert.equal(error.error?.type, "error");
        assert.equal(error.headers.get("x-should-retry"), "true");
        // Worded for an HTTP client: nothing about pi's retry or pi's commands.
        assert.match(
          error.message,
          /every target of route claude failed \(.*\); retrying later may succeed\. GET \/health\/providers shows each target's state"/,
        );
        // Which targets failed and how, as on a served answer.
        const attempts = JSON.parse(error.headers.get("x-auto-router-attempts"));
        assert.deepEqual(
          attempts.map((attempt: { kind: string; status: number }) => [attempt.kind, attempt.status]),
          [
            ["server", 500],
            ["overloaded", 529],
          ],
        );
        assert.equal(error.headers.get("x-auto-router-route"), "claude");
        assert.doesNotMatch(error.message, /\bpi\b|\/auto-router/);
        return true;
      },
    );
  });
});

describe("gateway: a hard budget below what a client's output cap would cost", () => {
  it("lets a model without history serve its first request at an assumed output, not the 128k asked for", async () => {
    // Claude Code asks for 128k output tokens: ~$1.92 at $15 per 1M, above the whole $1 limit, so with that estimate
    // the provider was skipped on every request and never gained the history that would let it in.
    const price = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
    const fx = await startGatewayFixture({
      emulators: { P: "anthropic", Q: "anthropic" },
      providers: {
        "mock-p": {
          emulator: "P",
          apiKey: "sk-ant-mock-p-key-0000001",
          models: ["model-p"],
          modelOptions: { cost: price },
        },
        "mock-q": {
          emulator: "Q",
          apiKey: "sk-ant-mock-q-key-0000002",
          models: ["model-q"],
          modelOptions: { cost: price },
        },
      },
      routes: {
        routes: { big: routeInOrder("mock-p/model-p", "mock-q/model-q") },
        budgets: { policy: "hard", providers: { "mock-p": { daily: 1 } } },
      },
    });
    try {
      fx.emulators.P.enqueue({ text: "From p." });
      // Streamed, as Claude Code asks (the SDK refuses an output cap this large unstreamed).
      const answer = await fx.anthropic.messages
        .stream({ model: "big", max_tokens: 128_000, messages: [{ role: "user", content: "hi" }] })
        .finalMessage();
      assert.deepEqual(
        answer.content.map((block) => (block.type === "text" ? block.text : block.type)),
        ["From p."],
      );
      assert.equal(fx.emulators.Q.calls.length, 0);
    } finally {
      await fx.stop();
    }
  });
});

describe("gateway: a hard budget that is spent, with the official clients", () => {
  let fx: GatewayFixture<"A" | "B" | "C">;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai", B: "openai", C: "anthropic" },
      providers: {
        "mock-a": { emulator: "A", apiKey: "sk-mock-a-key-000000000001", models: ["model-a"] },
        "mock-b": { emulator: "B", apiKey: "sk-mock-b-key-000000000002", models: ["model-b"] },
        "mock-c": { emulator: "C", apiKey: "sk-ant-mock-c-key-0000001", models: ["model-c"] },
      },
      routes: {
        routes: {
          chat: { targets: [{ provider: "mock-a", modelId: "model-a" }] },
          claude: { targets: [{ provider: "mock-c", modelId: "model-c" }] },
          // mock-b has no budget: once it rests, the route is not "over budget", only waiting for it.
          split: routeInOrder("mock-b/model-b", "mock-a/model-a"),
        },
        budgets: { policy: "hard", providers: { "mock-a": { daily: 0 }, "mock-c": { monthly: 0 } } },
      },
    });
  });
  after(() => fx?.stop());

  it("answers 402 in each client's billing format, which neither SDK retries, and names the budget", async () => {
    // The SDKs' default retries on: a budget that is spent must not be asked again.
    const openai = new OpenAI({ baseURL: `${fx.gateway.url}/v1`, apiKey: fx.gateway.token });
    const anthropic = new Anthropic({ baseURL: fx.gateway.url, apiKey: fx.gateway.token });
    await assert.rejects(
      openai.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 402);
        assert.equal(error.type, "insufficient_quota");
        assert.equal(error.code, "insufficient_quota");
        assert.equal(error.headers.get("x-should-retry"), "false");
        assert.equal(error.headers.get("x-auto-router-route"), "chat");
        assert.match(
          error.message,
          /every target of route chat is over budget.*mock-a \(.*daily.*\).*Raise the budget/,
        );
        return true;
      },
    );
    await assert.rejects(
      anthropic.messages.create({ model: "claude", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 402);
        assert.equal(error.error?.error?.type, "billing_error");
        assert.match(error.message, /every target of route claude is over budget.*mock-c \(.*monthly.*\)/);
        return true;
      },
    );
    assert.equal(fx.emulators.A.calls.length + fx.emulators.C.calls.length, 0);
    // One request each reached the gateway: no retry by either client. A later request's access line marks the
    // point by which any retry (sent before the client gave up) has its line too.
    await openai.models.list();
    await until(() => /GET \/v1\/models /.test(fx.gateway.stderr()), "the sentinel's access line");
    const lines = fx.gateway.stderr().split("\n");
    assert.equal(lines.filter((line) => /POST \/v1\/chat\/completions route=chat 402 /.test(line)).length, 1);
    assert.equal(lines.filter((line) => /POST \/v1\/messages route=claude 402 /.test(line)).length, 1);
    // The operator's health page says why: the budget, per provider (not a health problem: ok stays true).
    const health = (await (
      await fetch(`${fx.gateway.url}/health/providers`, { headers: { "x-api-key": fx.gateway.token } })
    ).json()) as any;
    const a = health.providers.find((p: any) => p.provider === "mock-a");
    assert.equal(a.ok, true);
    assert.equal(a.budget.level, "blocked");
    assert.match(a.budget.detail, /daily/);
    assert.equal(health.providers.find((p: any) => p.provider === "mock-c").budget.level, "blocked");
  });

  it("answers 429 with Retry-After, not 402, while the target within budget only rests", async () => {
    fx.emulators.B.enqueue({ status: 429, errorMessage: "Rate limit reached", retryAfterSeconds: 90 });
    const openai = new OpenAI({ baseURL: `${fx.gateway.url}/v1`, apiKey: fx.gateway.token, maxRetries: 0 });
    const ask = () => openai.chat.completions.create({ model: "split", messages: [{ role: "user", content: "hi" }] });
    await assert.rejects(ask(), (error: any) => error.status === 503); // mock-b's own 429, mock-a over budget
    await assert.rejects(ask(), (error: any) => {
      assert.equal(error.status, 429);
      assert.ok(Number(error.headers.get("retry-after")) > 60, error.headers.get("retry-after"));
      assert.doesNotMatch(error.message, /every target of route split is over budget/);
      assert.match(
        error.message,
        /no target of route split is available now \(.*mock-b\/model-b.*mock-a\/model-a: budget/,
      );
      return true;
    });
    assert.equal(fx.emulators.B.calls.length, 1);
    assert.equal(fx.emulators.A.calls.length, 0);
  });
});

describe("gateway: a prompt's @reasoning tier, with the official OpenAI client", () => {
  let fx: GatewayFixture<"A" | "C">;
  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai", C: "anthropic" },
      providers: {
        "mock-a": { emulator: "A", apiKey: "sk-mock-a-key-000000000001", models: ["model-a"] },
        "mock-c": {
          emulator: "C",
          apiKey: "sk-ant-mock-c-key-0000001",
          models: [{ id: "model-c", reasoning: true }],
        },
      },
      routes: {
        routes: {
          chat: { targets: [{ provider: "mock-a", modelId: "model-a" }] },
          deep: { targets: [{ provider: "mock-c", modelId: "model-c" }] },
        },
        tiers: { reasoning: { route: "deep" } },
        failover: { cooldownWaitMs: 0 },
      },
    });
  });
  after(() => fx?.stop());

  it("names the tier's route in its header, its log line and its errors, not the route the client asked for", async () => {
    const ask = (options?: { maxRetries: number }) =>
      fx.openai.chat.completions.create(
        { model: "chat", messages: [{ role: "user", content: "@reasoning think" }] },
        options,
      );
    fx.emulators.C.enqueue({ text: "Thought about it." });
    const { data, response } = await ask().withResponse();
    assert.equal(data.choices[0]!.message.content, "Thought about it.");
    assert.equal(response.headers.get("x-auto-router-route"), "deep");
    assert.equal(response.headers.get("x-auto-router-served-by"), "mock-c/model-c");
    const logged = /POST \/v1\/chat\/completions route=deep 200 served-by=mock-c\/model-c/;
    await eventually(() => logged.test(fx.gateway.stderr()), "the access line names the tier's route");
    fx.emulators.C.enqueue({ status: 401, errorMessage: "invalid x-api-key" });
    await assert.rejects(ask(), (error: any) => {
      assert.match(error.message, /route deep \(the tier route of chat\)/);
      assert.doesNotMatch(error.message, /route chat\b(?! \))/);
      assert.equal(error.headers.get("x-auto-router-route"), "deep");
      return true;
    });
    assert.equal(fx.emulators.A.calls.length, 0);
    // Its target now rests for 30 minutes for the rejected key: no retry within seconds can change that, so the
    // client is not told to retry (a 429 would have the SDKs and Claude Code retry it again and again).
    const calls = fx.emulators.C.calls.length;
    await assert.rejects(ask({ maxRetries: 2 }), (error: any) => {
      assert.equal(error.status, 500);
      assert.equal(error.headers.get("x-should-retry"), "false");
      assert.match(error.message, /mock-c\/model-c: resting \(credentials rejected\)/);
      return true;
    });
    assert.equal(fx.emulators.C.calls.length, calls, "the resting target is not called");
  });
});

describe("gateway: a route none of whose targets pi knows, with the official clients", () => {
  let fx: GatewayFixture<"A">;
  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai" },
      providers: { "mock-a": { emulator: "A", apiKey: "sk-mock-a-key-000000000002", models: ["model-a"] } },
      // A typo in the provider and one in the model: no wait and no retry can make either serve.
      routes: { routes: { typo: routeInOrder("mock-aa/model-a", "mock-a/model-aa") } },
    });
  });
  after(() => fx?.stop());

  it("answers 500 saying no target can serve and that waiting will not change it, in each client's format", async () => {
    const said =
      /^auto-router: no target of route typo can serve this request \(mock-aa\/model-a: not in pi's model registry; mock-a\/model-aa: not in pi's model registry\)\. Waiting will not change this: .*GET \/health\/providers shows each target's state$/;
    // The message inside each protocol's error body: OpenAI's `error.message`, Anthropic's `error.error.message`.
    const unservable = (message: (error: any) => string) => (error: any) => {
      assert.equal(error.status, 500);
      assert.equal(error.headers.get("x-should-retry"), "false");
      assert.equal(error.headers.get("retry-after"), null);
      assert.match(message(error), said);
      return true;
    };
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "typo", messages: [{ role: "user", content: "hi" }] }),
      unservable((error) => error.error.message),
    );
    await assert.rejects(
      fx.anthropic.messages.create({ model: "typo", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
      unservable((error) => error.error.error.message),
    );
    assert.equal(fx.emulators.A.calls.length, 0);
  });
});
