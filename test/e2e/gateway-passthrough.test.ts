// A streaming request whose target speaks the client's own API is sent as it is (the target's model id and key
// swapped in) and its answer streamed back as the target wrote it, through the real `pi-auto-router serve` and the
// official clients; it still fails over before the commit point, and its usage is booked like any answer's. Shortcuts,
// a target whose compat flags the body does not fit, and `gateway.passthrough: false` take the translating path.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { readLoggedEvents, servedResults, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { answerWords, type Emulator } from "../helpers/sse-emulator-core.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { tokenLogprob, urlCitation } from "../helpers/openai-emulator.ts";

const RATE_LIMITED = { status: 429, errorMessage: "Rate limit reached for requests" };
const PRICE = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };

const EMULATORS = { A: "openai", B: "openai", C: "anthropic", D: "anthropic" } as const;
const PROVIDERS = {
  "oa-a": { emulator: "A", apiKey: "sk-oa-a-key-00000001", models: ["gpt-a", { id: "gpt-small", maxTokens: 4096 }] },
  "oa-b": { emulator: "B", apiKey: "sk-oa-b-key-00000002", models: ["gpt-b", "gpt-b-held"] },
  "an-c": {
    emulator: "C",
    apiKey: "sk-ant-c-key-0000003",
    models: ["claude-c", "claude-retry", { id: "claude-small", maxTokens: 8192 }],
    modelOptions: { cost: PRICE },
  },
  "an-d": { emulator: "D", apiKey: "sk-ant-d-key-0000004", models: ["claude-d"], modelOptions: { cost: PRICE } },
} as const;

const ROUTES = {
  claude: routeInOrder("an-c/claude-c", "an-d/claude-d"),
  chat: routeInOrder("oa-a/gpt-a", "oa-b/gpt-b"),
};
const FAILOVER = {
  cooldownWaitMs: 0,
  kinds: { rate_limit: { cooldownMs: 0 }, empty_response: { cooldownMs: 0 }, timeout: { cooldownMs: 0 } },
};

/** The Anthropic request a client like Claude Code sends: fields pi-ai's translation would not carry over. */
const CLIENT_BODY = {
  model: "auto-router/claude",
  max_tokens: 300,
  temperature: 0.2,
  top_k: 7,
  metadata: { user_id: "user-42" },
  system: [{ type: "text" as const, text: "You are terse.", cache_control: { type: "ephemeral" as const } }],
  messages: [{ role: "user" as const, content: "Say hello" }],
};

describe("gateway passthrough to a target of the client's own API", () => {
  let fx: GatewayFixture<keyof typeof EMULATORS>;
  let a: Emulator, b: Emulator, c: Emulator, d: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: EMULATORS,
      providers: PROVIDERS,
      routes: {
        routes: {
          ...ROUTES,
          slow: { ...ROUTES.claude, timeouts: { firstTokenMs: 300 } },
          // A first-token timeout tried again on the same target (retryBeforeFailover lists timeout), on a model of
          // its own: the timeout counts for the breaker of the model it names.
          slowRetry: {
            sortBy: "config",
            timeouts: { firstTokenMs: 300 },
            targets: [
              {
                provider: "an-c",
                modelId: "claude-retry",
                retryBeforeFailover: { times: 1, kinds: ["timeout"], maxDelayMs: 10 },
              },
              { provider: "an-d", modelId: "claude-d" },
            ],
          },
          stalling: { ...ROUTES.claude, timeouts: { stallMs: 300 } },
          // The non-streaming failovers' cooldowns stay on this route, out of the other tests' way.
          whole: ROUTES.claude,
          // So does the rest of a target that cut its answer off.
          cutoff: ROUTES.claude,
          // A model no other test opens the breaker of.
          history: routeInOrder("an-c/claude-small", "an-d/claude-d"),
          small: routeInOrder("an-c/claude-small"),
          "small-chat": routeInOrder("oa-a/gpt-small"),
          // A rate limit is surfaced as it is, not failed over. A model of its own: a rate limit rests its target on
          // every route naming it, and route chat's tests need gpt-b.
          "no-failover": {
            ...routeInOrder("oa-b/gpt-b-held", "oa-a/gpt-a"),
            failover: { kinds: { rate_limit: { failover: false } } },
          },
        },
        failover: FAILOVER,
      },
    });
    ({ A: a, B: b, C: c, D: d } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("sends an Anthropic stream as the client wrote it after a 429 fails over, streams the target's events back, and books its usage", async () => {
    c.enqueue(RATE_LIMITED);
    d.enqueue({ text: ["Hello ", "there."], usage: { input: 20, output: 5, cacheRead: 100 } });
    const stream = fx.anthropic.messages.stream(CLIENT_BODY, {
      headers: { "anthropic-beta": "prompt-caching-2024-07-31" },
      query: { beta: "true" }, // as Claude Code sends it
    });
    const events: string[] = [];
    stream.on("streamEvent", (event) => events.push(event.type));
    const message = await stream.finalMessage();
    const response = (await stream.withResponse()).response;

    assert.deepEqual(
      message.content.map((block) => (block.type === "text" ? block.text : block.type)),
      ["Hello there."],
    );
    assert.equal(message.model, "auto-router/claude", "the client sees the name it asked for");
    assert.equal(message.usage.output_tokens, 5);
    assert.equal(message.usage.cache_read_input_tokens, 100);
    assert.deepEqual(
      events.filter((type) => type !== "ping"),
      [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
      ],
    );
    assert.equal(response.headers.get("x-auto-router-served-by"), "an-d/claude-d");
    assert.deepEqual(
      JSON.parse(response.headers.get("x-auto-router-attempts")!).map((attempt: any) => [
        attempt.target,
        attempt.kind,
        attempt.status,
      ]),
      [
        ["an-c/claude-c", "rate_limit", 429],
        ["an-d/claude-d", undefined, 200],
      ],
    );
    // Both targets got the client's own body with their own model id and key; nothing of the gateway's token.
    for (const [emulator, model, key] of [
      [c, "claude-c", "sk-ant-c-key-0000003"],
      [d, "claude-d", "sk-ant-d-key-0000004"],
    ] as const) {
      assert.equal(emulator.calls.length, 1);
      assert.equal(emulator.calls[0]!.path, "/v1/messages?beta=true", "the client's query string is kept");
      assert.deepEqual(emulator.calls[0]!.body, { ...CLIENT_BODY, model, stream: true });
      // Byte for byte what the SDK sent, the model id swapped in place (not the parsed body serialised again).
      assert.equal(emulator.calls[0]!.rawBody, JSON.stringify({ ...CLIENT_BODY, stream: true, model }));
      assert.equal(emulator.calls[0]!.headers["x-api-key"], key);
      assert.equal(emulator.calls[0]!.headers["anthropic-beta"], "prompt-caching-2024-07-31");
      assert.equal(emulator.calls[0]!.headers.authorization, undefined);
      assert.ok(!JSON.stringify(emulator.calls[0]!.headers).includes(fx.gateway.token));
    }
    await until(() => readLoggedEvents(fx.agentDir).some((event) => event.type === "final"), "the final event");
    const logged = readLoggedEvents(fx.agentDir);
    const served = logged.filter((event) => event.type === "result" && event.data.outcome === "success");
    assert.equal(served.length, 1);
    // The answer names the request as the event log does, so a client's answer is found there by its id.
    const requestId = response.headers.get("x-auto-router-request-id");
    assert.match(requestId ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(served[0].requestId, requestId);
    assert.deepEqual(
      { ...served[0].data.usage, costUsd: Number(served[0].data.usage.costUsd.toFixed(9)) },
      {
        input: 20,
        output: 5,
        cacheRead: 100,
        cacheWrite: 0,
        costUsd: Number(((20 * 3 + 5 * 15 + 100 * 0.3) / 1e6).toFixed(9)),
      },
    );
    const final = logged.find((event) => event.type === "final");
    assert.equal(final.data.outcome, "success");
    assert.equal(final.data.servedTarget, "an-d/claude-d");
  });

  it("fails over from an empty stream and from a target that stalls before its first token", async () => {
    c.enqueue({ emptyStream: true });
    d.enqueue({ text: "After the empty one." });
    const afterEmpty = await fx.anthropic.messages.stream(CLIENT_BODY).finalMessage();
    assert.deepEqual(
      afterEmpty.content.map((block) => (block.type === "text" ? block.text : "")),
      ["After the empty one."],
    );
    assert.equal(c.calls.length, 1);

    c.enqueue({ text: "never arrives", stallAfterChunks: 0 });
    d.enqueue({ text: "After the stall." });
    const { data, response } = await fx.anthropic.messages.stream({ ...CLIENT_BODY, model: "slow" }).withResponse();
    const text = (await data.finalMessage()).content.map((block) => (block.type === "text" ? block.text : "")).join("");
    assert.equal(text, "After the stall.");
    assert.deepEqual(
      JSON.parse(response.headers.get("x-auto-router-attempts")!).map((attempt: any) => attempt.kind ?? "served"),
      ["timeout", "served"],
    );
    await until(() => c.calls[1]?.closedBeforeEnd === true, "the stalled upstream request to be closed");
  });

  it("tries the target again after its first-token timeout when its retryBeforeFailover lists timeout", async () => {
    c.enqueue({ text: "never arrives", stallAfterChunks: 0 }, { text: "C on its second try." });
    d.enqueue({ text: "D should not answer." });
    const { data, response } = await fx.anthropic.messages
      .stream({ ...CLIENT_BODY, model: "slowRetry" })
      .withResponse();
    const text = (await data.finalMessage()).content.map((block) => (block.type === "text" ? block.text : "")).join("");
    assert.equal(text, "C on its second try.");
    assert.equal(d.calls.length, 0, "no failover");
    assert.deepEqual(
      JSON.parse(response.headers.get("x-auto-router-attempts")!).map((attempt: any) => [
        attempt.target,
        attempt.kind ?? "served",
      ]),
      [
        ["an-c/claude-retry", "timeout"],
        ["an-c/claude-retry", "served"],
      ],
    );
    await until(() => c.calls[0]?.closedBeforeEnd === true, "the stalled upstream request to be closed");
  });

  it("fails over from a 200 answer that is no event stream as an empty answer, passed through and translated alike", async () => {
    // A base URL that reaches a web page (a captive portal, a provider's status page) answers 200 with HTML.
    const page = {
      body: "<html><body>Service temporarily unavailable, connection reset by the portal</body></html>",
      headers: { "content-type": "text/html" },
    };
    const kinds = (response: Response) =>
      JSON.parse(response.headers.get("x-auto-router-attempts")!).map((attempt: any) => attempt.kind ?? "served");
    const pageFailures = () =>
      readLoggedEvents(fx.agentDir).filter(
        (event) =>
          event.type === "result" && event.data.target === "an-c/claude-c" && /text\/html/.test(event.data.message),
      );
    c.enqueue(page);
    d.enqueue({ text: "After the page." });
    const passed = await fx.anthropic.messages.stream({ ...CLIENT_BODY, model: "whole" }).withResponse();
    assert.equal(
      (await passed.data.finalMessage()).content.map((block: any) => block.text).join(""),
      "After the page.",
    );
    assert.deepEqual(kinds(passed.response), ["empty_response", "served"]);
    // The event log is written in the background (an earlier test's lines may still be landing): wait for this one.
    await until(() => pageFailures().length > 0, "the page's failed result");
    const failed = pageFailures().at(-1);
    assert.equal(failed?.data.failureKind, "empty_response");
    assert.equal(failed?.data.message, "an-c/claude-c: answered 200 with text/html, not an event stream");

    // The emulators' providers declare supportsDeveloperRole: false, so this request is translated through pi-ai.
    a.enqueue(page);
    b.enqueue({ text: "Translated after the page." });
    const translated = await fx.openai.chat.completions
      .create({
        model: "chat",
        stream: true,
        messages: [
          { role: "developer", content: "Be brief." },
          { role: "user", content: "Hi" },
        ],
      })
      .withResponse();
    let text = "";
    for await (const chunk of translated.data) text += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(text, "Translated after the page.");
    assert.deepEqual(kinds(translated.response), ["empty_response", "served"]);
  });

  it("serves a conversation with an earlier image on a text-only target, translated without the image, not sent it as is", async () => {
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    c.enqueue({ text: "A plain answer." });
    const message = await fx.anthropic.messages
      .stream({
        ...CLIENT_BODY,
        messages: [
          {
            role: "user",
            content: [
              { type: "image", source: { type: "base64", media_type: "image/png", data: png } },
              { type: "text", text: "What is this?" },
            ],
          },
          { role: "assistant", content: "A red square." },
          { role: "user", content: "Thanks. Now say hello." },
        ],
      })
      .finalMessage();
    assert.equal(message.content.map((block: any) => block.text).join(""), "A plain answer.");
    // The emulators' models take text only: pi-ai's translation, not the client's body with its image.
    assert.doesNotMatch(c.calls[0]!.rawBody, new RegExp(png.slice(0, 20)));
    assert.match(c.calls[0]!.rawBody, /What is this\?/);
  });

  it("ends a committed answer with an error event whose text has the target's key redacted, and ends a stalled one", async () => {
    c.enqueue({
      text: ["one ", "two ", "three "],
      streamError: { message: "upstream failed for key sk-ant-c-key-0000003", type: "api_error", afterChunks: 1 },
    });
    let text = "";
    const failing = fx.anthropic.messages.stream({ ...CLIENT_BODY, model: "cutoff" });
    failing.on("text", (delta) => (text += delta));
    await assert.rejects(failing.finalMessage(), (error: any) => {
      assert.equal(error.error?.error?.type, "api_error");
      assert.doesNotMatch(JSON.stringify(error.error), /sk-ant-c-key-0000003/);
      // The router's record naming the target that broke off, with the target's own type and message inside.
      assert.match(
        error.error.error.message,
        /^auto-router: an-c\/claude-c failed after it had started answering \(api_error: upstream failed for key .*\); the answer so far stands/,
      );
      return true;
    });
    assert.equal(text, "one ");
    assert.equal(d.calls.length, 0, "nothing replayed after the commit point");
    // The target that broke off rests (as one that failed before the commit point would): the client's retry goes on.
    d.enqueue({ text: "D took the retry." });
    const retry = await fx.anthropic.messages.create({ ...CLIENT_BODY, model: "cutoff" });
    assert.deepEqual(retry.content, [{ type: "text", text: "D took the retry." }]);
    assert.equal(c.calls.length, 1, "the resting target is not sent the retry");

    c.enqueue({ text: ["first ", "never "], stallAfterChunks: 1 });
    let stalledText = "";
    const stalled = fx.anthropic.messages.stream({ ...CLIENT_BODY, model: "stalling" });
    stalled.on("text", (delta) => (stalledText += delta));
    await assert.rejects(stalled.finalMessage(), (error: any) => {
      assert.match(error.error?.error?.message, /no data for 300 ms \(stream stalled\).*cut off/);
      return true;
    });
    assert.equal(stalledText, "first ");
    await until(() => c.calls[1]?.closedBeforeEnd === true, "the stalled upstream request to be closed");
    await until(
      () => readLoggedEvents(fx.agentDir).filter((event) => event.data?.outcome === "failed-after-commit").length === 2,
      "both cut-off answers' results",
    );
  });

  it("aborts the upstream stream at once when the client disconnects, without a failover or a failure", async () => {
    c.enqueue({ text: Array.from({ length: 30 }, (_, index) => `word${index} `), chunkDelayMs: 50 });
    const controller = new AbortController();
    const stream = fx.anthropic.messages.stream(CLIENT_BODY, { signal: controller.signal });
    await new Promise<void>((resolve) => stream.once("text", () => resolve()));
    controller.abort();
    await assert.rejects(stream.finalMessage());
    await until(() => c.calls[0]?.closedBeforeEnd === true, "the upstream request to be closed");
    assert.equal(d.calls.length, 0);
    await until(
      () => readLoggedEvents(fx.agentDir).some((event) => event.type === "final" && event.data.outcome === "aborted"),
      "the aborted request's final event",
    );
    const result = readLoggedEvents(fx.agentDir)
      .filter((event) => event.type === "result")
      .at(-1);
    assert.equal(result.data.outcome, "aborted");
  });

  it("resends once on a fresh connection when a kept-alive upstream socket is reset before any answer", async () => {
    c.enqueue({ text: "First, on a new connection." });
    await fx.anthropic.messages.stream(CLIENT_BODY).finalMessage();
    // The next request goes out on the socket the first one left open; the target resets it unanswered.
    c.enqueue({ resetBeforeHeaders: true });
    c.enqueue({ text: "After the resend." });
    const { data, response } = await fx.anthropic.messages.stream(CLIENT_BODY).withResponse();
    const message = await data.finalMessage();
    assert.deepEqual(
      message.content.map((block) => (block.type === "text" ? block.text : block.type)),
      ["After the resend."],
    );
    assert.equal(c.calls.length, 3);
    assert.equal(d.calls.length, 0, "no failover: the resend is part of the same attempt");
    assert.deepEqual(
      JSON.parse(response.headers.get("x-auto-router-attempts")!).map((attempt: any) => [
        attempt.target,
        attempt.status,
      ]),
      [["an-c/claude-c", 200]],
    );
  });

  it("sends an OpenAI stream as it is, asks the target for usage, and drops the usage record the client did not ask for", async () => {
    a.enqueue(RATE_LIMITED);
    b.enqueue({ text: ["One ", "two."], usage: { input: 11, output: 4 } });
    const body = {
      model: "chat",
      stream: true as const,
      temperature: 0.1,
      seed: 5,
      user: "user-42",
      messages: [{ role: "user" as const, content: "Count" }],
    };
    const chunks: any[] = [];
    for await (const chunk of await fx.openai.chat.completions.create(body)) chunks.push(chunk);
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? "").join(""), "One two.");
    assert.ok(
      chunks.every((chunk) => chunk.model === "chat"),
      "every chunk names the model the client asked for",
    );
    assert.ok(
      chunks.every((chunk) => chunk.choices.length > 0 && !chunk.usage),
      "no usage record it did not ask for",
    );
    assert.deepEqual(b.calls[0]!.body, { ...body, model: "gpt-b", stream_options: { include_usage: true } });
    assert.equal(b.calls[0]!.headers.authorization, "Bearer sk-oa-b-key-00000002");

    a.enqueue({ text: "Counted.", usage: { input: 11, output: 2 } });
    const withUsage: any[] = [];
    for await (const chunk of await fx.openai.chat.completions.create({
      ...body,
      stream_options: { include_usage: true },
    }))
      withUsage.push(chunk);
    const usage = withUsage.at(-1).usage;
    assert.deepEqual([usage.prompt_tokens, usage.completion_tokens], [11, 2]);
  });

  it("answers a non-streaming request with the target's own blocks put together, from a stream it asked the target for", async () => {
    c.enqueue(RATE_LIMITED);
    d.enqueue({
      thinking: "Checking the city.",
      text: "Looking it up.",
      toolCall: { id: "toolu_9", name: "get_weather", arguments: { city: "Oslo" } },
      usage: { input: 40, output: 12 },
    });
    const { data: message, response } = await fx.anthropic.messages.create(CLIENT_BODY).withResponse();
    assert.equal(message.model, "auto-router/claude");
    assert.deepEqual(message.content, [
      { type: "thinking", thinking: "Checking the city.", signature: "emulated-signature" },
      { type: "text", text: "Looking it up." },
      { type: "tool_use", id: "toolu_9", name: "get_weather", input: { city: "Oslo" } },
    ]);
    assert.equal(message.stop_reason, "tool_use");
    assert.deepEqual([message.usage.input_tokens, message.usage.output_tokens], [40, 12]);
    assert.equal(response.headers.get("x-auto-router-served-by"), "an-d/claude-d");
    assert.deepEqual(d.calls[0]!.body, { ...CLIENT_BODY, model: "claude-d", stream: true });

    a.enqueue({ toolCall: { id: "call_7", name: "lookup", arguments: { q: "x" } }, usage: { input: 9, output: 3 } });
    const completion = await fx.openai.chat.completions.create({
      model: "chat",
      user: "user-42",
      messages: [{ role: "user", content: "Look it up" }],
    });
    assert.equal(completion.model, "chat");
    assert.equal(completion.object, "chat.completion");
    assert.deepEqual(completion.choices[0]!.message.tool_calls, [
      { id: "call_7", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } },
    ]);
    assert.equal(completion.choices[0]!.finish_reason, "tool_calls");
    assert.deepEqual([completion.usage?.prompt_tokens, completion.usage?.completion_tokens], [9, 3]);
    assert.deepEqual(a.calls[0]!.body, {
      model: "gpt-a",
      user: "user-42",
      messages: [{ role: "user", content: "Look it up" }],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("puts together parts whatever indexes the target gives them, one far beyond the others included", async () => {
    // Kept in arrays by index, a tool call at index 4294967294 made a four-billion-element array that putting the answer
    // together walked: the gateway's one thread stalled and no client was answered. A client timeout makes that a
    // failure here rather than a hang.
    const sse = (chunks: unknown[]) =>
      `${chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join("")}data: [DONE]\n\n`;
    const head = { id: "chatcmpl-9", object: "chat.completion.chunk", model: "gpt-a" };
    const call = (index: number, id: string) => ({
      ...head,
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index, id, type: "function", function: { name: "lookup", arguments: "{}" } }] },
        },
      ],
    });
    const answer = sse([
      call(4294967294, "call_far"),
      call(2, "call_near"),
      { ...head, choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
      { ...head, choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } },
    ]);
    const request = { model: "chat", messages: [{ role: "user" as const, content: "Look it up" }] };
    a.enqueue({ body: answer });
    const whole = await fx.openai.chat.completions.create(request, { timeout: 10_000 });
    assert.deepEqual(
      whole.choices[0]!.message.tool_calls?.map((toolCall) => toolCall.id),
      ["call_near", "call_far"],
    );
    a.enqueue({ body: answer });
    const streamed: string[] = [];
    for await (const chunk of await fx.openai.chat.completions.create(
      { ...request, stream: true },
      { timeout: 10_000 },
    ))
      for (const toolCall of chunk.choices[0]?.delta.tool_calls ?? []) if (toolCall.id) streamed.push(toolCall.id);
    assert.deepEqual(streamed, ["call_far", "call_near"], "a streaming client gets the target's chunks as they came");
  });

  it("keeps the log probabilities a non-streaming Chat client asked for, put together from the target's chunks", async () => {
    a.enqueue({ text: ["Sunny ", "in ", "Oslo."] });
    const completion = await fx.openai.chat.completions.create({
      model: "chat",
      logprobs: true,
      messages: [{ role: "user", content: "Weather?" }],
    });
    assert.equal(completion.choices[0]!.message.content, "Sunny in Oslo.");
    assert.deepEqual(completion.choices[0]!.logprobs, {
      content: ["Sunny ", "in ", "Oslo."].map(tokenLogprob),
      refusal: null,
    });
    assert.equal(a.calls[0]!.body.logprobs, true);
    // Without the request's logprobs there are none, as from api.openai.com.
    a.enqueue({ text: "Rain." });
    const plain = await fx.openai.chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: "And?" }],
    });
    assert.equal(plain.choices[0]!.logprobs, null);
  });

  it("names a put-together answer by the target's completion id, not by Azure's first chunk without one", async () => {
    const chunk = (fields: object) => `data: ${JSON.stringify(fields)}\n\n`;
    const named = { id: "chatcmpl-42", object: "chat.completion.chunk", created: 1_700_000_000, model: "gpt-4o" };
    const filters = [{ prompt_index: 0, content_filter_results: {} }];
    a.enqueue({
      headers: { "content-type": "text/event-stream" },
      body: [
        chunk({ id: "", object: "", created: 0, model: "", choices: [], prompt_filter_results: filters }),
        chunk({ ...named, choices: [{ index: 0, delta: { role: "assistant", content: "Hi." }, finish_reason: null }] }),
        chunk({ ...named, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
        "data: [DONE]\n\n",
      ].join(""),
    });
    const completion: any = await fx.openai.chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.deepEqual(
      [completion.id, completion.created, completion.object, completion.choices[0].message.content],
      ["chatcmpl-42", 1_700_000_000, "chat.completion", "Hi."],
    );
    assert.deepEqual(completion.prompt_filter_results, filters);
  });

  it("serves a legacy function call (a request with `functions`) as an answer, streamed and put together", async () => {
    const request = {
      model: "chat",
      messages: [{ role: "user" as const, content: "Weather in Oslo?" }],
      functions: [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }],
    };
    a.enqueue({ toolCall: { name: "get_weather", arguments: { city: "Oslo" } } });
    const { data: called, response } = await fx.openai.chat.completions.create(request).withResponse();
    assert.deepEqual(called.choices[0]!.message.function_call, { name: "get_weather", arguments: '{"city":"Oslo"}' });
    assert.equal(called.choices[0]!.finish_reason, "function_call");
    assert.equal(response.headers.get("x-auto-router-served-by"), "oa-a/gpt-a");
    a.enqueue({ toolCall: { name: "get_weather", arguments: { city: "Oslo" } } });
    const stream = await fx.openai.chat.completions.create({ ...request, stream: true }).withResponse();
    let args = "";
    for await (const chunk of stream.data) args += chunk.choices[0]?.delta.function_call?.arguments ?? "";
    assert.equal(args, '{"city":"Oslo"}');
    assert.equal(stream.response.headers.get("x-auto-router-served-by"), "oa-a/gpt-a");
    assert.equal(b.calls.length, 0, "a function call is an answer, not an empty one to fail over from");
  });

  it("keeps a non-streaming search answer's citations (annotations), put together from the target's chunks", async () => {
    a.enqueue({ text: ["Sunny ", "in ", "Oslo."] });
    const searched = await fx.openai.chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: "Weather in Oslo?" }],
      web_search_options: {},
    });
    assert.equal(searched.choices[0]!.message.content, "Sunny in Oslo.");
    assert.deepEqual(searched.choices[0]!.message.annotations, [urlCitation("Sunny in Oslo.")]);
  });

  it("fails a non-streaming request over when its target breaks off mid-answer, and answers 503 when the last does", async () => {
    const body = { ...CLIENT_BODY, model: "auto-router/whole" };
    // A client that does not stream has received nothing when its target breaks off mid-answer: the request fails
    // over to the next target, and the client gets that one's whole answer.
    c.enqueue({
      text: ["one ", "two "],
      streamError: { message: "Overloaded mid-stream", type: "overloaded_error", afterChunks: 1 },
    });
    d.enqueue({ text: ["whole ", "answer"] });
    const { data: whole, response } = await fx.anthropic.messages.create(body).withResponse();
    assert.equal(whole.content.map((block) => (block.type === "text" ? block.text : "")).join(""), "whole answer");
    assert.equal(response.headers.get("x-auto-router-served-by"), "an-d/claude-d");
    assert.deepEqual(
      JSON.parse(response.headers.get("x-auto-router-attempts")!).map((a: any) => [a.target, a.kind, a.status]),
      [
        ["an-c/claude-c", "overloaded", undefined],
        ["an-d/claude-d", undefined, 200],
      ],
    );
    await until(
      () =>
        readLoggedEvents(fx.agentDir).some(
          (event) =>
            event.type === "usage" &&
            event.data.target === "an-c/claude-c" &&
            event.data.outcome === "failed" &&
            event.data.costUsd > 0,
        ),
      "the broken-off attempt's partial answer booked",
    );
    assert.equal(d.calls.length, 1);
    assert.equal(
      d.calls[0]!.rawBody,
      c.calls[0]!.rawBody.replace('"claude-c"', '"claude-d"'),
      "the client's own request, resent",
    );

    // an-c rests after its failure; the last target left breaks off too: nothing was sent, so the client gets the
    // every-target-failed answer it may retry, not a 502 for a half answer.
    d.enqueue({ text: ["uno ", "dos ", "tres "], dropAfterChunks: 1 });
    await assert.rejects(fx.anthropic.messages.create(body), (error: any) => {
      assert.equal(error.status, 503);
      assert.equal(error.headers.get("x-should-retry"), "true");
      // The resting target is named too, with when it is back: "every target" covers it.
      assert.match(
        error.error?.error?.message,
        /^auto-router: every target of route whole failed \(an-d\/claude-d: network error; not tried: an-c\/claude-c: resting \(busy\), back at \d\d:\d\d:\d\d \(in \d+s\)\); retrying may succeed once the first target is back, at \d\d:\d\d:\d\d \(in (\d+)s\)\. GET \/health\/providers shows each target's state$/,
      );
      // When the first target is back, in the words as in the Retry-After header.
      const inSeconds = Number(
        /once the first target is back, at \S+ \(in (\d+)s\)/.exec(error.error?.error?.message)![1],
      );
      assert.ok(Math.abs(inSeconds - Number(error.headers.get("retry-after"))) <= 1, error.headers.get("retry-after"));
      return true;
    });
    assert.equal(c.calls.length, 1);
    assert.equal(d.calls.length, 2);
  });

  it("translates when the prompt has a shortcut or the body uses a feature the target's compat flags say it lacks", async () => {
    d.enqueue({ text: "Shortcut served." });
    const shortcut = await fx.anthropic.messages
      .stream({ ...CLIENT_BODY, messages: [{ role: "user", content: "@only=an-d Say hello" }] })
      .finalMessage();
    assert.equal(
      shortcut.content.map((block) => (block.type === "text" ? block.text : "")).join(""),
      "Shortcut served.",
    );
    assert.equal(c.calls.length, 0);
    const translated = d.calls[0]!.body;
    assert.ok(Array.isArray(translated.messages.at(-1).content), "pi-ai's request (content blocks), not the client's");
    assert.equal(translated.top_k, 7, "a translated request keeps top_k");
    assert.match(JSON.stringify(translated.messages.at(-1)), /"Say hello"/, "the shortcut is taken off the prompt");
    assert.doesNotMatch(JSON.stringify(translated.messages), /@only/);

    // The emulators' providers declare supportsDeveloperRole: false, so a developer message is translated.
    a.enqueue({ text: "Developer translated." });
    const chunks: string[] = [];
    for await (const chunk of await fx.openai.chat.completions.create({
      model: "chat",
      stream: true,
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
    }))
      chunks.push(chunk.choices[0]?.delta?.content ?? "");
    assert.equal(chunks.join(""), "Developer translated.");
    assert.ok(!a.calls[0]!.body.messages.some((message: any) => message.role === "developer"));
    assert.equal(a.calls[0]!.body.stream_options?.include_usage, true);
  });

  it("takes an earlier prompt's shortcuts off the history a client sends again, sent as it is and translated", async () => {
    // Claude Code sends its whole conversation with each request, the first prompt as the person typed it.
    const reminder = "<system-reminder>Context.</system-reminder>";
    const history = [
      {
        role: "user" as const,
        content: [
          { type: "text" as const, text: reminder },
          { type: "text" as const, text: "@only=an-d Say hello" },
        ],
      },
      { role: "assistant" as const, content: "Hello." },
    ];
    const body = { ...CLIENT_BODY, model: "auto-router/history" };
    c.enqueue({ text: "Again." });
    await fx.anthropic.messages
      .stream({ ...body, messages: [...history, { role: "user", content: "And again" }] })
      .finalMessage();
    assert.equal(d.calls.length, 0, "an earlier prompt's shortcut routes nothing");
    const sent = c.calls[0]!.body.messages;
    assert.deepEqual(sent[0].content, [
      { type: "text", text: reminder },
      { type: "text", text: "Say hello" },
    ]);
    assert.equal(sent[2].content, "And again", "the rest is sent as the client wrote it");
    // A prompt with its own shortcut is translated: the history's are taken off there too.
    d.enqueue({ text: "Third." });
    await fx.anthropic.messages
      .stream({
        ...body,
        messages: [...history, { role: "user", content: "@only=an-d Once more" }],
      })
      .finalMessage();
    assert.doesNotMatch(JSON.stringify(d.calls[0]!.body.messages), /@only/);
    // Chat Completions: the string content of an earlier prompt.
    a.enqueue({ text: "Chat again." });
    await fx.openai.chat.completions.create({
      model: "chat",
      messages: [
        { role: "user", content: "@only=oa-a  Hi" },
        { role: "assistant", content: "Hello." },
        { role: "user", content: "@mention is text" },
      ],
    });
    assert.deepEqual(
      a.calls[0]!.body.messages.map((message: { content: string }) => message.content),
      ["Hi", "Hello.", "@mention is text"],
    );
  });

  it("sends an Anthropic client's server tools to an Anthropic target as they came, naming none as ignored", async () => {
    c.enqueue({ text: "Searched." });
    d.enqueue({ text: "Searched." });
    const tools = [
      { type: "web_search_20250305" as const, name: "web_search" as const, max_uses: 3 },
      { type: "bash_20250124" as const, name: "bash" as const },
    ];
    const stream = fx.anthropic.messages.stream({ ...CLIENT_BODY, tools });
    await stream.finalMessage();
    const { response } = await stream.withResponse();
    assert.equal(response.headers.get("x-auto-router-ignored-tools"), null);
    // Either Anthropic target (the route may stick to the one that served this prompt before); only one was called.
    const calls = [...c.calls, ...d.calls];
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.body.tools, tools);
  });

  it("caps a request asking for more output than the target gives at its limit, with the thinking budget fitted under it", async () => {
    // Claude Code asks for 64k; a target whose limit is 8192 would refuse that with a 400 and no other target tried.
    c.enqueue({ text: "Capped." });
    const asked = { ...CLIENT_BODY, model: "small", temperature: 1, max_tokens: 64_000 };
    const thinking = { type: "enabled" as const, budget_tokens: 60_000 };
    const stream = fx.anthropic.messages.stream({ ...asked, thinking });
    const message = await stream.finalMessage();
    const { response } = await stream.withResponse();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-auto-router-served-by"), "an-c/claude-small");
    assert.equal(message.content.map((block) => (block.type === "text" ? block.text : "")).join(""), "Capped.");
    assert.deepEqual(c.calls[0]!.body, {
      ...asked,
      model: "claude-small",
      stream: true,
      max_tokens: 8192,
      thinking: { type: "enabled", budget_tokens: 8192 - 1024 },
    });

    a.enqueue({ text: "Capped too." });
    const chunks: string[] = [];
    for await (const chunk of await fx.openai.chat.completions.create({
      model: "small-chat",
      stream: true,
      max_completion_tokens: 32_000,
      messages: [{ role: "user", content: "Count" }],
    }))
      chunks.push(chunk.choices[0]?.delta?.content ?? "");
    assert.equal(chunks.join(""), "Capped too.");
    assert.equal(a.calls[0]!.body.max_completion_tokens, 4096);
    assert.equal(a.calls[0]!.body.messages[0].content, "Count", "the client's own body (not a translation)");
  });

  it("passes a 429 its route does not fail over back with a Retry-After as long as its target now rests", async () => {
    b.enqueue({ ...RATE_LIMITED, retryAfterSeconds: 45 });
    const body = { model: "no-failover", messages: [{ role: "user" as const, content: "hi" }] };
    await assert.rejects(fx.openai.chat.completions.create(body), (error: { status?: number; headers?: Headers }) => {
      assert.equal(error.status, 429, String(error));
      assert.equal(error.headers?.get("x-should-retry"), "true");
      // The header asked for 45 s: the target rests that long, and a retry sooner would only meet that rest.
      assert.equal(error.headers?.get("retry-after"), "45");
      return true;
    });
    assert.equal(a.calls.length, 0, "not failed over");
  });

  it("cools a target down for as long as its 429's Retry-After header asks, over the configured cooldown", async () => {
    // The route's rate_limit cooldown is 0 here; the header asks for 120 s, which only the HTTP response carries.
    const failedOnA = () =>
      readLoggedEvents(fx.agentDir).filter(
        (event) => event.type === "result" && event.data.target === "oa-a/gpt-a" && event.data.outcome === "failed",
      );
    a.enqueue({ ...RATE_LIMITED, retryAfterSeconds: 120 });
    b.enqueue({ text: "First." });
    b.enqueue({ text: "Second." });
    const body = { model: "auto-router/chat", messages: [{ role: "user" as const, content: "hi" }] };
    await fx.openai.chat.completions.create(body);
    await fx.openai.chat.completions.create(body);
    assert.equal(a.calls.length, 1, "the second request skips the cooling target");
    assert.equal(b.calls.length, 2);
    // The event log is written in the background: wait (bounded) for the failure's result with the header's cooldown.
    await until(
      () => failedOnA().some((event) => event.data.cooldownMs === 120_000),
      "a failed result of oa-a with the 120 s cooldown",
    );
    assert.ok(
      failedOnA().every((event) => event.data.usage === undefined),
      "no usage on a failure before the commit point",
    );
  });
});

describe("gateway: every target failed and the failures opened the breakers", () => {
  it("says in Retry-After when the first breaker lets a request through again (no cooldown for the failures' kind)", async () => {
    const fx = await startGatewayFixture({
      emulators: EMULATORS,
      providers: PROVIDERS,
      routes: {
        routes: ROUTES,
        failover: { ...FAILOVER, kinds: { ...FAILOVER.kinds, server: { cooldownMs: 0 } } },
        breaker: { minimumCalls: 2, breakMs: 20_000 },
      },
    });
    try {
      const { A: a, B: b } = fx.emulators;
      const body = { model: "auto-router/chat", messages: [{ role: "user" as const, content: "hi" }] };
      const failed = async () => {
        for (const emulator of [a, b]) emulator.enqueue({ status: 500, errorMessage: "boom" });
        return fx.openai.chat.completions.create(body, { maxRetries: 0 }).then(
          () => assert.fail("served"),
          (error: { status?: number; headers?: Headers }) => error,
        );
      };
      assert.equal((await failed()).status, 503);
      // The second failure of each opens its breaker: the 503 said nothing of when to come back.
      const second = await failed();
      assert.equal(second.status, 503, String(second));
      assert.equal(second.headers?.get("x-should-retry"), "true");
      const retryAfter = Number(second.headers?.get("retry-after"));
      assert.ok(retryAfter >= 19 && retryAfter <= 20, `retry-after ${second.headers?.get("retry-after")}`);
    } finally {
      await fx.stop();
    }
  });
});

describe("gateway with passthrough off", () => {
  it("translates every request through pi-ai when the routes file says gateway.passthrough: false", async () => {
    const fx = await startGatewayFixture({
      emulators: EMULATORS,
      providers: PROVIDERS,
      routes: { routes: ROUTES, failover: FAILOVER, gateway: { passthrough: false } },
    });
    try {
      const { C: c } = fx.emulators;
      c.enqueue({ text: "Translated." });
      const message = await fx.anthropic.messages.stream(CLIENT_BODY).finalMessage();
      assert.equal(message.content.map((block) => (block.type === "text" ? block.text : "")).join(""), "Translated.");
      assert.ok(Array.isArray(c.calls[0]!.body.messages[0].content), "pi-ai's request, not the client's");
      assert.equal(c.calls[0]!.body.model, "claude-c");
    } finally {
      await fx.stop();
    }
  });
});

describe("gateway passthrough of a long answer", () => {
  // A gateway of its own: the other suite's failures and cooldowns do not reach these counts.
  let fx: GatewayFixture<keyof typeof EMULATORS>;
  before(async () => {
    fx = await startGatewayFixture({
      emulators: EMULATORS,
      providers: PROVIDERS,
      routes: { routes: ROUTES, failover: FAILOVER },
    });
  });
  after(() => fx?.stop());

  it("forwards a long answer arriving chunk by chunk in order, and still reads usage, the stop and a late error", async () => {
    // Each delta arrives on its own, so after the commit point most chunks are forwarded unread (unreadLength); a
    // chunk with "error" or "message_" in its text is read block by block, and the client sees no difference.
    const words = answerWords(60, { 20: "error", 40: "message_delta" });
    const successes = () => servedResults(fx.agentDir);
    const before = successes().length;
    fx.emulators.C.enqueue({ text: words, usage: { input: 11, output: 60 }, chunkDelayMs: 1 });
    const stream = fx.anthropic.messages.stream(CLIENT_BODY);
    const deltas: string[] = [];
    stream.on("text", (delta) => deltas.push(delta));
    const message = await stream.finalMessage();
    assert.deepEqual(deltas, words);
    assert.equal(message.stop_reason, "end_turn");
    assert.equal(message.usage.output_tokens, 60);
    await until(() => successes().length > before, "this answer's result");
    assert.equal(
      successes().at(-1).data.usage.output,
      60,
      "the usage of message_delta, read after chunks forwarded unread",
    );

    // The same answer with all but its first two deltas in one chunk of many blocks, after the commit point: the
    // deltas before the first block naming an event the scanner reads go out unread, the rest is read block by block.
    for (const burst of [words, answerWords(60)]) {
      const count = successes().length;
      fx.emulators.C.enqueue({ text: burst, usage: { input: 11, output: 61 }, chunkDelayMs: 5, burstAfterChunks: 2 });
      const fast = fx.anthropic.messages.stream(CLIENT_BODY);
      const received: string[] = [];
      fast.on("text", (delta) => received.push(delta));
      const answer = await fast.finalMessage();
      assert.deepEqual(received, burst);
      assert.equal(answer.usage.output_tokens, 61);
      await until(() => successes().length > count, "the burst's result");
      assert.equal(successes().at(-1).data.usage.output, 61, "message_delta's usage, after a run of unread deltas");
    }

    fx.emulators.C.enqueue({
      text: ["one ", "two ", "three ", "four "],
      chunkDelayMs: 1,
      streamError: { message: "stream broke, key sk-ant-c-key-0000003", type: "api_error", afterChunks: 3 },
    });
    let text = "";
    const failing = fx.anthropic.messages.stream(CLIENT_BODY);
    failing.on("text", (delta) => (text += delta));
    await assert.rejects(failing.finalMessage(), (error: any) => {
      assert.doesNotMatch(JSON.stringify(error.error), /sk-ant-c-key-0000003/);
      assert.match(error.error.error.message, /stream broke, key/);
      return true;
    });
    assert.equal(text, "one two three ");
  });
});
