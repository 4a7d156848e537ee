// Pinning OpenRouter's upstream when the gateway passes the client's own Chat Completions request through to an
// OpenRouter target (no translation through pi-ai): the answer's id (its chunks' `id`) is looked up with the target's
// own key, a `pin` event is logged and the next request carries the pin; after a pin break the next answer pins again.
// Through the real `pi-auto-router serve` with the official openai client, against the OpenRouter emulator.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type OpenAI from "openai";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { type OpenRouterEmulator, startOpenRouterEmulator } from "../helpers/openrouter-emulator.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const OPENROUTER_KEY = "sk-or-v1-gateway-pin-key-0123456789";
const TARGET = "openrouter/moonshotai/kimi-k2";

describe("gateway: an OpenRouter target sent the client's own chat request pins its upstream", () => {
  let openrouter: OpenRouterEmulator;
  let fx: GatewayFixture<"S">;
  let spare: Emulator;

  before(async () => {
    openrouter = await startOpenRouterEmulator();
    fx = await startGatewayFixture({
      emulators: { S: "openai" },
      providers: {
        openrouter: {
          baseUrl: openrouter.url,
          api: "openai-completions",
          apiKey: OPENROUTER_KEY,
          models: [{ id: "moonshotai/kimi-k2" }],
        },
        "mock-spare": { emulator: "S", apiKey: "sk-spare-key-0000000001", models: ["spare"] },
      },
      routes: {
        breaker: { enabled: false },
        routes: { agg: routeInOrder(TARGET, "mock-spare/spare") },
        // The OpenRouter target that failed for the pin break serves the next request at once.
        failover: { cooldownWaitMs: 0, kinds: { server: { cooldownMs: 0 } } },
      },
    });
    spare = fx.emulators.S;
  });
  after(async () => {
    await fx?.stop();
    await openrouter?.close();
  });

  const pinEvents = () => readLoggedEvents(fx.agentDir).filter((event) => event.type === "pin");
  const lastBody = () => openrouter.chat.calls.at(-1)!.body;
  /** A streamed chat answer: its text and the id its chunks carried. */
  const ask = async (content: string) => {
    const stream = await fx.openai.chat.completions.create({
      model: "agg",
      messages: [{ role: "user", content }],
      stream: true,
      // A field of the client's own that pi-ai's translation would not send: it reaches the target only passed through.
      metadata: { run: "pin-test" },
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let text = "";
    let id: string | undefined;
    for await (const chunk of stream) {
      id ??= chunk.id;
      text += chunk.choices[0]?.delta?.content ?? "";
    }
    return { text, id };
  };

  it("looks a passed-through answer up with the target's key, logs the pin, and sends the next request pinned", async () => {
    openrouter.chat.enqueue({ text: "first answer" });
    const first = await ask("first");
    assert.equal(first.text, "first answer");
    assert.equal(openrouter.chat.calls.length, 1);
    assert.deepEqual(lastBody().metadata, { run: "pin-test" }, "the client's own body was passed through");
    assert.equal(lastBody().provider, undefined, "the first request goes out unpinned");

    await until(() => pinEvents().length === 1, "the pin event");
    assert.deepEqual(openrouter.lookups, [{ id: first.id, authorization: `Bearer ${OPENROUTER_KEY}` }]);
    assert.deepEqual(pinEvents()[0].data, { action: "pinned", target: TARGET, upstream: "Anthropic" });

    openrouter.chat.enqueue({ text: "second answer" });
    assert.equal((await ask("second")).text, "second answer");
    assert.deepEqual(lastBody().provider, { order: ["Anthropic"], allow_fallbacks: false });
    assert.equal(openrouter.lookups.length, 1, "a pinned target is not looked up again");
  });

  it("pins again after a pin break, from the next passed-through answer", async () => {
    openrouter.chat.enqueue({
      status: 503,
      errorMessage: "No endpoints found that can handle the requested parameters",
    });
    spare.enqueue({ text: "spare took over" });
    assert.equal((await ask("third")).text, "spare took over");
    assert.deepEqual(
      lastBody().provider,
      { order: ["Anthropic"], allow_fallbacks: false },
      "the pinned attempt failed",
    );
    await until(() => pinEvents().length === 2, "the pin break");
    assert.deepEqual(pinEvents()[1].data, {
      action: "broken",
      target: TARGET,
      upstream: "Anthropic",
      reason: "server",
    });

    openrouter.setUpstream("Google Vertex");
    openrouter.chat.enqueue({ text: "fourth answer" });
    const fourth = await ask("fourth");
    assert.equal(fourth.text, "fourth answer");
    assert.deepEqual(lastBody().metadata, { run: "pin-test" });
    assert.equal(lastBody().provider, undefined, "unpinned after the break");
    await until(() => pinEvents().length === 3, "the new pin");
    assert.deepEqual(openrouter.lookups.at(-1), { id: fourth.id, authorization: `Bearer ${OPENROUTER_KEY}` });
    assert.deepEqual(pinEvents()[2].data, { action: "pinned", target: TARGET, upstream: "Google Vertex" });

    openrouter.chat.enqueue({ text: "fifth answer" });
    await ask("fifth");
    assert.deepEqual(lastBody().provider, { order: ["Google Vertex"], allow_fallbacks: false });
  });
});
