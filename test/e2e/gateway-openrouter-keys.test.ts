// OpenRouter's own provider preferences (data_collection, zdr, quantizations, ...) in a request's `provider` object or
// X-Provider header reach an OpenRouter target's body, whether it is sent the client's own request (passthrough) or a
// translation, and an answer served by any other target names them in `x-auto-router-ignored`. Through the real
// `pi-auto-router serve` with the official openai and @anthropic-ai/sdk clients; asserted on the bodies the emulated
// targets received.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type OpenAI from "openai";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const ignored = (response: Response) => response.headers.get("x-auto-router-ignored");
const PRIVACY = { data_collection: "deny", zdr: true };

describe("gateway: OpenRouter's own provider preferences", () => {
  let fx: GatewayFixture<"O" | "A">;
  let openrouter: Emulator, chat: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { O: "openai", A: "openai" },
      providers: {
        openrouter: { emulator: "O", apiKey: "sk-or-v1-mock-0000000001", models: ["anthropic/claude-x"] },
        "mock-chat": { emulator: "A", apiKey: "sk-mock-chat-0000000002", models: ["model-chat"] },
      },
      routes: {
        routes: {
          or: routeInOrder("openrouter/anthropic/claude-x", "mock-chat/model-chat"),
          direct: routeInOrder("mock-chat/model-chat"),
        },
        // No pin lookups against the emulator (the pin has its own test, upstream-pin.test.ts), and no rest after the
        // 503 of one test for the next.
        failover: {
          pinUpstream: false,
          cooldownWaitMs: 0,
          kinds: { overloaded: { cooldownMs: 0 }, server: { cooldownMs: 0 } },
        },
        providers: { openrouter: { endpointPrefixes: ["/v1/embeddings"] } },
      },
    });
    ({ O: openrouter, A: chat } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("sends them to an OpenRouter target sent the client's own body, without the router's own keys", async () => {
    openrouter.enqueue({ text: "private answer" });
    const { data, response } = await fx.openai.chat.completions
      .create({
        model: "or",
        messages: [{ role: "user", content: "hello" }],
        provider: { ...PRIVACY, only: ["openrouter"], quantizations: ["fp8"] },
      } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    assert.equal(data.choices[0]!.message.content, "private answer");
    assert.equal(openrouter.calls.length, 1);
    assert.deepEqual(openrouter.calls[0]!.body.provider, { ...PRIVACY, quantizations: ["fp8"] });
    assert.equal(response.headers.get("x-auto-router-served-by"), "openrouter/anthropic/claude-x");
    assert.equal(ignored(response), null);
  });

  it("writes them into a translated request's body, from the X-Provider header", async () => {
    openrouter.enqueue({ text: "translated" });
    const { response } = await fx.anthropic.messages
      .create(
        { model: "or", max_tokens: 64, messages: [{ role: "user", content: "hello" }] },
        { headers: { "X-Provider": JSON.stringify(PRIVACY) } },
      )
      .withResponse();
    assert.equal(openrouter.calls.length, 1);
    assert.deepEqual(openrouter.calls[0]!.body.provider, PRIVACY);
    assert.equal(ignored(response), null);
  });

  it("names them as ignored when another target serves, after a failover or on a route without OpenRouter", async () => {
    openrouter.enqueue({ status: 503, body: "overloaded" });
    chat.enqueue({ text: "from the fallback" });
    const failedOver = await fx.openai.chat.completions
      .create({
        model: "or",
        messages: [{ role: "user", content: "hello" }],
        provider: PRIVACY,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    assert.equal(failedOver.data.choices[0]!.message.content, "from the fallback");
    assert.deepEqual(openrouter.calls[0]!.body.provider, PRIVACY, "the OpenRouter attempt had them");
    assert.equal(chat.calls[0]!.body.provider, undefined, "another target is never sent OpenRouter's block");
    assert.equal(ignored(failedOver.response), "provider.data_collection, provider.zdr");

    chat.enqueue({ text: "direct" });
    const stream = await fx.openai.chat.completions
      .create(
        { model: "direct", messages: [{ role: "user", content: "hi" }], stream: true },
        { headers: { "X-Provider": '{"zdr": true}' } },
      )
      .withResponse();
    let text = "";
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(text, "direct");
    assert.equal(chat.calls[1]!.body.provider, undefined);
    assert.equal(ignored(stream.response), "provider.zdr");
  });

  it("sends them with a proxied request (embeddings) to an OpenRouter target", async () => {
    // The emulator serves chat only: it records the request and answers 404, which is passed back as it came.
    await assert.rejects(
      fx.openai.embeddings.create({
        model: "or",
        input: "embed me",
        provider: PRIVACY,
      } as OpenAI.EmbeddingCreateParams),
      (error: any) => error.status === 404,
    );
    assert.equal(openrouter.calls.length, 1);
    assert.equal(openrouter.calls[0]!.path, "/v1/embeddings");
    assert.equal(openrouter.calls[0]!.body.model, "anthropic/claude-x");
    assert.deepEqual(openrouter.calls[0]!.body.provider, PRIVACY);
  });

  it("refuses a value OpenRouter would refuse, naming where it came from, before any target is tried", async () => {
    await assert.rejects(
      fx.openai.chat.completions.create({
        model: "or",
        messages: [{ role: "user", content: "hello" }],
        provider: { data_collection: "never" },
      } as OpenAI.ChatCompletionCreateParamsNonStreaming),
      (error: any) => {
        assert.equal(error.status, 400);
        assert.match(
          error.message,
          /body\.provider\.data_collection: expected one of "allow", "deny", got "never" \(OpenRouter's own key, sent to OpenRouter targets\)/,
        );
        return true;
      },
    );
    assert.equal(openrouter.calls.length + chat.calls.length, 0);
  });

  it("refuses a quantization level OpenRouter has not and a negative latency or throughput", async () => {
    const refusal = (pattern: RegExp) => (error: any) => {
      assert.equal(error.status, 400);
      assert.match(error.message, pattern);
      return true;
    };
    const hello = { model: "or", messages: [{ role: "user" as const, content: "hello" }] };
    await assert.rejects(
      fx.openai.chat.completions.create(hello, { headers: { "X-Provider": '{"quantizations": ["FP8", "fp7"]}' } }),
      refusal(/X-Provider header\.quantizations\[0\]: expected one of "int4"\|.*"unknown"; did you mean "fp8"\?/),
    );
    await assert.rejects(
      fx.openai.chat.completions.create({
        ...hello,
        provider: { preferred_max_latency: -5 },
      } as OpenAI.ChatCompletionCreateParamsNonStreaming),
      refusal(/body\.provider\.preferred_max_latency: expected a number >= 0, got -5 \(OpenRouter's own key/),
    );
    await assert.rejects(
      fx.anthropic.messages.create(
        { model: "or", max_tokens: 64, messages: [{ role: "user", content: "hello" }] },
        { headers: { "X-Provider": '{"preferred_min_throughput": {"p90": -1}}' } },
      ),
      refusal(/X-Provider header\.preferred_min_throughput\.p90: expected a number >= 0, got -1/),
    );
    assert.equal(openrouter.calls.length + chat.calls.length, 0);
  });
});
