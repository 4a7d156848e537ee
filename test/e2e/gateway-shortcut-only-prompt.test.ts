// The real `pi-auto-router serve` with the official clients: a prompt that is nothing but shortcuts (`@fast`) is a 400
// with pi's notice on every front door, and nothing reaches a target (sent, it would be an empty user turn, which an
// Anthropic model takes as a cue to continue its previous answer). Shortcuts beside an image send the image alone.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";

const PNG = "iVBORw0KGgo=";
const refusal = (shortcuts: string, described: string) =>
  `the prompt (the last user message) is only shortcuts, so nothing was sent: ${shortcuts} only says how the prompt after it is routed (${described}). Type the prompt after the shortcut, e.g. "${shortcuts} explain this error".`;

/** The error body's message of an OpenAI client's 400. */
const openAIRefused = (message: string) => (error: unknown) => {
  assert.ok(error instanceof OpenAI.BadRequestError, String(error));
  assert.equal((error.error as { message: string }).message, message);
  return true;
};

describe("gateway: a prompt that is only shortcuts", () => {
  // One target per API, each taking images: routes claude, chat and resp.
  let fixture: GatewayFixture<"C" | "A" | "R"> | undefined;
  before(async () => {
    const vision = (id: string) => [{ id, input: ["text" as const, "image" as const] }];
    fixture = await startGatewayFixture({
      emulators: { C: "anthropic", A: "openai", R: "responses" },
      providers: {
        "mock-claude": { emulator: "C", apiKey: "sk-ant-mock-0000000001", models: vision("model-claude") },
        "mock-chat": { emulator: "A", apiKey: "sk-mock-chat-0000000002", models: vision("model-chat") },
        "mock-resp": { emulator: "R", apiKey: "sk-mock-resp-0000000003", models: vision("model-resp") },
      },
      routes: {
        routes: {
          claude: { targets: [{ provider: "mock-claude", modelId: "model-claude" }] },
          chat: { targets: [{ provider: "mock-chat", modelId: "model-chat" }] },
          resp: { targets: [{ provider: "mock-resp", modelId: "model-resp" }] },
        },
      },
    });
  });
  after(() => fixture?.stop());
  beforeEach(() => fixture!.reset());
  const fx = () => fixture!;
  const targetCalls = () => Object.values(fx().emulators).reduce((sum, emulator) => sum + emulator.calls.length, 0);

  it("is a 400 with pi's notice on all three endpoints, streaming or not, and nothing is sent or counted", async () => {
    await assert.rejects(
      fx().openai.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "@long" }] }),
      openAIRefused(refusal("@long", "@long: only targets with a long context window")),
    );
    await assert.rejects(
      fx().openai.chat.completions.create({
        model: "chat",
        stream: true,
        messages: [
          { role: "user", content: "first question" },
          { role: "assistant", content: "first answer" },
          { role: "user", content: [{ type: "text", text: "@fast \n" }] },
        ],
      }),
      openAIRefused(refusal("@fast", "@fast: use the fast tier")),
    );
    for (const content of ["@fast", [{ type: "text" as const, text: "@only=mock-claude @sort=price" }]])
      await assert.rejects(
        fx().anthropic.messages.create({ model: "claude", max_tokens: 50, messages: [{ role: "user", content }] }),
        (error: unknown) => {
          assert.ok(error instanceof Anthropic.BadRequestError, String(error));
          const body = error.error as { error: { type: string; message: string } };
          assert.equal(body.error.type, "invalid_request_error");
          assert.equal(
            body.error.message,
            typeof content === "string"
              ? refusal("@fast", "@fast: use the fast tier")
              : refusal(
                  "@only=mock-claude @sort=price",
                  "@only=mock-claude: only mock-claude; @sort=price: rank by price",
                ),
          );
          return true;
        },
      );
    await assert.rejects(
      fx().openai.responses.create({ model: "resp", input: "@fast" }),
      openAIRefused(refusal("@fast", "@fast: use the fast tier")),
    );
    assert.equal(targetCalls(), 0);

    // No decision or attempt was recorded for them: the log's first is the next request's, which is served.
    fx().emulators.A.enqueue({ text: "answered" });
    const served = await fx().openai.chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: "@fast what is 2+2" }],
    });
    assert.equal(served.choices[0]!.message.content, "answered");
    assert.deepEqual(fx().emulators.A.calls[0]!.body.messages, [
      { role: "user", content: [{ type: "text", text: "what is 2+2" }] },
    ]);
    await until(
      () => readLoggedEvents(fx().agentDir).some((event) => event.type === "result"),
      "the served request's result",
    );
    const events = readLoggedEvents(fx().agentDir);
    assert.equal(events.filter((event) => event.type === "decision").length, 1);
    assert.equal(events.filter((event) => event.type === "result").length, 1);
  });

  it("sends shortcuts beside an image as the image alone, with no empty text block", async () => {
    const image = { type: "image_url" as const, image_url: { url: `data:image/png;base64,${PNG}` } };
    const { A, R, C } = fx().emulators;
    A.enqueue({ text: "A pixel." });
    A.enqueue({ text: "A pixel." });
    await fx().openai.chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: [{ type: "text", text: "@vision" }, image] }],
    });
    await fx().openai.chat.completions.create({
      model: "chat",
      messages: [
        { role: "user", content: [{ type: "text", text: "@fast" }, image, { type: "text", text: "what is this?" }] },
      ],
    });
    assert.deepEqual(
      A.calls.map((call) => call.body.messages[0].content.map((part: any) => part.text ?? part.type)),
      [["image_url"], ["image_url", "what is this?"]],
    );

    R.enqueue({ text: "A pixel." });
    await fx().openai.responses.create({
      model: "resp",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "@vision" },
            { type: "input_image", image_url: `data:image/png;base64,${PNG}`, detail: "auto" },
          ],
        },
      ],
    });
    assert.deepEqual(
      R.calls[0]!.body.input[0].content.map((part: any) => part.type),
      ["input_image"],
    );

    C.enqueue({ text: "A pixel." });
    await fx().anthropic.messages.create({
      model: "claude",
      max_tokens: 50,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "@vision" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
          ],
        },
      ],
    });
    assert.deepEqual(
      C.calls[0]!.body.messages[0].content.map((block: any) => block.type),
      ["image"],
    );
  });
});
