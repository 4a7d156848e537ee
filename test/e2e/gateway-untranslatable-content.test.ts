// Valid client content pi-ai has no place for (Responses file parts, images by file id or URL, item references; Chat
// messages of only file or audio parts, Anthropic messages of only document blocks): a target of the client's own API
// is sent it untouched, a translation would lose it and is refused with a 400 naming where it is. Through the real
// `pi-auto-router serve` with the official openai and Anthropic clients, passthrough on (the default), asserting on
// the bodies the emulated targets received.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

/** A Responses conversation with a file part, an image by file id and a reference to a stored item. */
const WITH_FILES = [
  {
    role: "user" as const,
    content: [
      { type: "input_text" as const, text: "Summarise the report" },
      { type: "input_file" as const, file_id: "file-report" },
      { type: "input_image" as const, file_id: "file-chart", detail: "auto" as const },
    ],
  },
  { type: "item_reference" as const, id: "msg_earlier" },
];

/** The 400 a request gets: its status and message. */
async function refusal(request: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await request;
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, String(error));
    return { status: error.status ?? 0, message: (error.error as { message: string }).message };
  }
  assert.fail("the request was answered");
}

describe("gateway: content only a target of the client's own API can take", () => {
  let fx: GatewayFixture<"A" | "R" | "C">;
  let chat: Emulator, responses: Emulator, anthropic: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai", R: "responses", C: "anthropic" },
      providers: {
        "mock-chat": { emulator: "A", apiKey: "sk-mock-chat-0000000001", models: ["model-chat"] },
        "mock-resp": { emulator: "R", apiKey: "sk-mock-resp-0000000002", models: ["model-resp"] },
        "mock-claude": { emulator: "C", apiKey: "sk-ant-mock-0000000003", models: ["model-claude"] },
      },
      routes: {
        routes: {
          chat: routeInOrder("mock-chat/model-chat"),
          resp: routeInOrder("mock-resp/model-resp"),
          "chat-then-resp": routeInOrder("mock-chat/model-chat", "mock-resp/model-resp"),
          claude: routeInOrder("mock-claude/model-claude"),
        },
      },
    });
    ({ A: chat, R: responses, C: anthropic } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("sends a Responses request's file parts, images by file id and item references to a Responses target untouched", async () => {
    responses.enqueue({ text: "A summary." });
    const answer = await fx.openai.responses.create({ model: "resp", input: WITH_FILES });
    assert.equal(answer.output_text, "A summary.");
    assert.deepEqual(responses.calls[0]!.body.input, WITH_FILES);
  });

  it("tries only the Responses target of a route for such a request, never a translation for the other", async () => {
    responses.enqueue({ text: "A summary." });
    const { response } = await fx.openai.responses
      .create({ model: "chat-then-resp", input: WITH_FILES })
      .withResponse();
    assert.equal(response.headers.get("x-auto-router-served-by"), "mock-resp/model-resp");
    assert.equal(chat.calls.length, 0);
    assert.deepEqual(responses.calls[0]!.body.input, WITH_FILES);
  });

  it("refuses such a request, naming the part's path and type, when the route has no Responses target", async () => {
    const { status, message } = await refusal(fx.openai.responses.create({ model: "chat", input: WITH_FILES }));
    assert.equal(status, 400);
    assert.equal(
      message,
      'body.input[0].content[1] (type "input_file") cannot be translated for a target of another API (route chat has no target of the client\'s API (openai-responses) that is sent its request as is)',
    );
    assert.equal(chat.calls.length, 0);
    // A provider/model request names the model, not a route of targets.
    const direct = await refusal(fx.openai.responses.create({ model: "mock-chat/model-chat", input: WITH_FILES }));
    assert.equal(
      direct.message,
      'body.input[0].content[1] (type "input_file") cannot be translated for a target of another API (model mock-chat/model-chat is not of the client\'s API (openai-responses): only a target of it is sent the request as is)',
    );
    assert.equal(chat.calls.length, 0);
  });

  it("sends a Responses image by URL to a Responses target untouched, and refuses to translate it or one in a developer message, naming its path", async () => {
    const input = [
      {
        role: "user" as const,
        content: [
          { type: "input_text" as const, text: "What is in this chart?" },
          { type: "input_image" as const, image_url: "https://example.com/chart.png", detail: "auto" as const },
        ],
      },
    ];
    responses.enqueue({ text: "A chart." });
    const { data, response } = await fx.openai.responses.create({ model: "chat-then-resp", input }).withResponse();
    assert.equal(data.output_text, "A chart.");
    assert.equal(response.headers.get("x-auto-router-served-by"), "mock-resp/model-resp");
    assert.deepEqual(responses.calls[0]!.body.input, input);
    const { status, message } = await refusal(fx.openai.responses.create({ model: "chat", input }));
    assert.equal(status, 400);
    assert.equal(
      message,
      "body.input[0].content[1] (an input_image by URL) cannot be translated for a target of another API (route chat has no target of the client's API (openai-responses) that is sent its request as is)",
    );
    // An image in a developer message: a translation's system prompt is text, and would leave it out without a word.
    const developer = [
      {
        role: "developer" as const,
        content: [
          { type: "input_text" as const, text: "Answer in the style of" },
          { type: "input_image" as const, image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" as const },
        ],
      },
      { role: "user" as const, content: "hi" },
    ];
    assert.equal(
      (await refusal(fx.openai.responses.create({ model: "chat", input: developer }))).message,
      "body.input[0].content[1] (an input_image in a developer message) cannot be translated for a target of another API (route chat has no target of the client's API (openai-responses) that is sent its request as is)",
    );
    assert.equal(chat.calls.length, 0);
  });

  it("names the path and the accepted types of a misspelt part, and the call_id a function_call_output lacks", async () => {
    const typo = await refusal(
      fx.openai.responses.create({
        model: "resp",
        input: [{ role: "user", content: [{ type: "input_txt", text: "hi" }] }],
      } as never),
    );
    assert.equal(typo.status, 400);
    assert.match(
      typo.message,
      /^body\.input\[0\]\.content\[0\]\.type: expected one of "input_text", .*, got "input_txt"; did you mean "input_text"\?$/,
    );
    const noCallId = await refusal(
      fx.openai.responses.create({
        model: "resp",
        input: [
          { role: "user", content: "read a" },
          { type: "function_call", call_id: "call_1", name: "read", arguments: "{}" },
          { type: "function_call_output", output: "file a" },
        ],
      } as never),
    );
    assert.equal(noCallId.status, 400);
    assert.match(noCallId.message, /^body\.input\[2\]\.call_id: /);
    assert.equal(responses.calls.length, 0);
  });

  it("sends a Chat message of only a file part to a Chat target untouched, and refuses to translate it", async () => {
    const messages = [
      { role: "user" as const, content: [{ type: "file" as const, file: { file_id: "file-report" } }] },
    ];
    chat.enqueue({ text: "A summary." });
    await fx.openai.chat.completions.create({ model: "chat", messages });
    assert.deepEqual(chat.calls[0]!.body.messages, messages);
    const { status, message } = await refusal(fx.openai.chat.completions.create({ model: "resp", messages }));
    assert.equal(status, 400);
    assert.match(
      message,
      /^body\.messages\[0\]\.content \(only file parts, which a translation leaves out\) cannot be translated/,
    );
    assert.equal(responses.calls.length, 0);
  });

  it("sends a conversation of the deprecated functions API to a Chat target untouched, and refuses to translate it", async () => {
    const messages = [
      { role: "user" as const, content: "Weather in Oslo?" },
      {
        role: "assistant" as const,
        content: null,
        function_call: { name: "get_weather", arguments: '{"city":"Oslo"}' },
      },
      { role: "function" as const, name: "get_weather", content: "sunny" },
    ];
    const functions = [{ name: "get_weather", parameters: { type: "object", properties: {} } }];
    chat.enqueue({ text: "Sunny in Oslo." });
    const answer = await fx.openai.chat.completions.create({ model: "chat", messages, functions });
    assert.equal(answer.choices[0]!.message.content, "Sunny in Oslo.");
    assert.deepEqual(chat.calls[0]!.body.messages, messages);
    const { status, message } = await refusal(
      fx.openai.chat.completions.create({ model: "resp", messages, functions }),
    );
    assert.equal(status, 400);
    assert.match(
      message,
      /^body\.messages\[1\]\.function_call \(the deprecated functions API\) cannot be translated for a target of another API/,
    );
    assert.equal(responses.calls.length, 0);
  });

  it("sends Chat custom tools to a Chat target untouched, leaves them out of a translation and names them", async () => {
    const tools = [
      { type: "custom" as const, custom: { name: "apply_patch", description: "Apply a patch" } },
      { type: "function" as const, function: { name: "read", parameters: { type: "object", properties: {} } } },
    ];
    const messages = [{ role: "user" as const, content: "Fix the bug" }];
    chat.enqueue({ text: "Patched." });
    const passed = await fx.openai.chat.completions.create({ model: "chat", messages, tools }).withResponse();
    assert.equal(passed.data.choices[0]!.message.content, "Patched.");
    assert.deepEqual(chat.calls[0]!.body.tools, tools);
    assert.equal(passed.response.headers.get("x-auto-router-ignored-tools"), null);
    responses.enqueue({ text: "Read it." });
    const translated = await fx.openai.chat.completions.create({ model: "resp", messages, tools }).withResponse();
    assert.equal(translated.response.headers.get("x-auto-router-ignored-tools"), "custom:apply_patch");
    assert.deepEqual(
      responses.calls[0]!.body.tools.map((tool: { name: string }) => tool.name),
      ["read"],
    );
    // A custom tool's call in the history has no translation: a Chat target gets it, a translation is refused.
    const history = [
      ...messages,
      {
        role: "assistant" as const,
        content: null,
        tool_calls: [
          { id: "call_1", type: "custom" as const, custom: { name: "apply_patch", input: "*** Begin Patch" } },
        ],
      },
      { role: "tool" as const, tool_call_id: "call_1", content: "applied" },
    ];
    chat.enqueue({ text: "Done." });
    await fx.openai.chat.completions.create({ model: "chat", messages: history, tools });
    assert.deepEqual(chat.calls[1]!.body.messages, history);
    const { status, message } = await refusal(
      fx.openai.chat.completions.create({ model: "resp", messages: history, tools }),
    );
    assert.equal(status, 400);
    assert.match(message, /^body\.messages\[1\]\.tool_calls\[0\] \(a custom tool's call\) cannot be translated/);
    assert.equal(responses.calls.length, 1);
  });

  it("names the Chat file and audio parts a translated request leaves out, and sends the rest", async () => {
    responses.enqueue({ text: "A summary." });
    const { response } = await fx.openai.chat.completions
      .create({
        model: "resp",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "Summarise" },
              { type: "file", file: { file_id: "file-report" } },
              { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
            ],
          },
        ],
      })
      .withResponse();
    assert.equal(
      response.headers.get("x-auto-router-ignored"),
      "messages[0].content[1] (file), messages[0].content[2] (input_audio)",
    );
    assert.doesNotMatch(responses.calls[0]!.rawBody, /file-report|UklGRg/);
    assert.match(responses.calls[0]!.rawBody, /Summarise/);
  });

  it("sends an Anthropic message of only document blocks to an Anthropic target untouched, and refuses to translate it", async () => {
    const document = {
      type: "document" as const,
      source: { type: "text" as const, media_type: "text/plain" as const, data: "The quarterly report." },
    };
    const messages = [
      { role: "user" as const, content: [document] },
      { role: "assistant" as const, content: "I have read it." },
      { role: "user" as const, content: "Summarise it." },
    ];
    anthropic.enqueue({ text: "A summary." });
    await fx.anthropic.messages.create({ model: "claude", max_tokens: 64, messages });
    assert.deepEqual(anthropic.calls[0]!.body.messages[0].content, [document]);
    // Translated, the first message would vanish: the model would summarise a report it never got.
    const refused = await fx.anthropic.messages.create({ model: "chat", max_tokens: 64, messages }).then(
      () => assert.fail("answered"),
      (error: { status: number; message: string }) => error,
    );
    assert.equal(refused.status, 400);
    assert.match(
      refused.message,
      /body\.messages\[0\]\.content \(only document blocks, which a translation leaves out\) cannot be translated for a target of another API \(route chat has no target of the client's API \(anthropic-messages\)/,
    );
    assert.equal(chat.calls.length, 0);
  });
  it("sends an Anthropic image by URL to an Anthropic target untouched, and refuses to translate it, naming its path", async () => {
    const byUrl = { type: "image" as const, source: { type: "url" as const, url: "https://example.com/a.png" } };
    const messages = [{ role: "user" as const, content: [byUrl, { type: "text" as const, text: "What is this?" }] }];
    anthropic.enqueue({ text: "A chart." });
    const answer = await fx.anthropic.messages.create({ model: "claude", max_tokens: 64, messages });
    assert.equal(answer.content.map((block: any) => block.text).join(""), "A chart.");
    assert.deepEqual(anthropic.calls[0]!.body.messages[0].content[0], byUrl);
    const refused = await fx.anthropic.messages.create({ model: "chat", max_tokens: 64, messages }).then(
      () => assert.fail("answered"),
      (error: { status: number; message: string }) => error,
    );
    assert.equal(refused.status, 400);
    assert.match(refused.message, /body\.messages\[0\]\.content\[0\] \(an image by URL\) cannot be translated/);
    assert.equal(chat.calls.length, 0);
  });
  it("sends an Anthropic image by Files API id to an Anthropic target untouched, and refuses to translate it", async () => {
    const byFile = {
      type: "image" as const,
      source: { type: "file" as const, file_id: "file_011CNha8iCJcU1wXNR6q4V8w" },
    };
    const messages = [{ role: "user" as const, content: [{ type: "text" as const, text: "What is this?" }, byFile] }];
    const betas = ["files-api-2025-04-14"];
    anthropic.enqueue({ text: "A diagram." });
    const answer = await fx.anthropic.beta.messages.create({ model: "claude", max_tokens: 64, betas, messages });
    assert.equal(answer.content.map((block: any) => block.text).join(""), "A diagram.");
    assert.deepEqual(anthropic.calls[0]!.body.messages[0].content[1], byFile);
    assert.match(String(anthropic.calls[0]!.headers["anthropic-beta"]), /files-api-2025-04-14/);
    const refused = await fx.anthropic.beta.messages.create({ model: "chat", max_tokens: 64, betas, messages }).then(
      () => assert.fail("answered"),
      (error: { status: number; message: string }) => error,
    );
    assert.equal(refused.status, 400);
    assert.match(
      refused.message,
      /body\.messages\[0\]\.content\[1\] \(an image by file id\) cannot be translated for a target of another API/,
    );
    assert.equal(chat.calls.length, 0);
  });
});
