// The real `pi-auto-router serve` with the official clients: a provider or model id in models.json, or a tool's name,
// outside printable ASCII reaches the routing headers escaped (\u, as JSON writes it). Node refuses such a character
// in a header: the answer failed after its status was chosen (a whole answer came back empty, a stream was cut off).
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";

const FIRST = "mock-ä/modèle-日本";
const SECOND = "ß-provider/b-ü";

describe("gateway: names outside ASCII in the routing headers", () => {
  let fx: GatewayFixture<"A" | "B">;
  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai", B: "openai" },
      providers: {
        "mock-ä": { emulator: "A", apiKey: "sk-intl-key-00000000000001", models: ["modèle-日本"] },
        "ß-provider": { emulator: "B", apiKey: "sk-intl-key-00000000000002", models: ["b-ü"] },
      },
      routes: {
        routes: {
          intl: {
            sortBy: "config",
            targets: [
              { provider: "mock-ä", modelId: "modèle-日本" },
              { provider: "ß-provider", modelId: "b-ü" },
            ],
          },
        },
        failover: { cooldownWaitMs: 0 },
      },
    });
  });
  beforeEach(() => fx.reset());
  after(() => fx?.stop());

  const escaped = (text: string) =>
    text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

  it("answers whole and streamed, naming the targets tried and the one that served, escaped", async () => {
    fx.emulators.A.enqueue({ text: "Whole answer." });
    const whole = await fx.openai.chat.completions
      .create({ model: "intl", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.equal(whole.data.choices[0]!.message.content, "Whole answer.");
    assert.equal(whole.response.headers.get("x-auto-router-served-by"), "mock-\\u00e4/mod\\u00e8le-\\u65e5\\u672c");
    assert.equal(whole.response.headers.get("x-auto-router-served-by"), escaped(FIRST));

    // The first target fails: the attempts header, JSON, parses to both ids as they are.
    fx.emulators.A.enqueue({ status: 503, errorMessage: "overloaded" });
    fx.emulators.B.enqueue({ text: ["Streamed ", "answer."] });
    const { data: stream, response } = await fx.openai.chat.completions
      .create({ model: "intl", stream: true, messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(text, "Streamed answer.");
    assert.equal(response.headers.get("x-auto-router-served-by"), escaped(SECOND));
    const attempts = JSON.parse(response.headers.get("x-auto-router-attempts")!);
    assert.deepEqual(
      attempts.map((attempt: { target: string }) => attempt.target),
      [FIRST, SECOND],
    );
  });

  it("names a server tool it left out by its name, escaped", async () => {
    // Whichever serves (the first target may still rest after the test above).
    fx.emulators.A.enqueue({ text: "No search." });
    fx.emulators.B.enqueue({ text: "No search." });
    const { data, response } = await fx.anthropic.messages
      .create({
        model: "intl",
        max_tokens: 50,
        messages: [{ role: "user", content: "Search" }],
        tools: [{ type: "web_search_20250305", name: "búsqueda_日本" } as never],
      })
      .withResponse();
    assert.deepEqual(
      data.content.map((block) => (block.type === "text" ? block.text : block.type)),
      ["No search."],
    );
    assert.equal(
      response.headers.get("x-auto-router-ignored-tools"),
      "web_search_20250305:b\\u00fasqueda_\\u65e5\\u672c",
    );
  });
});
