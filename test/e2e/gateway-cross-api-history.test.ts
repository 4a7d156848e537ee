// A tool loop whose turns targets of different APIs served, sent on to an Anthropic target: Anthropic refuses (400, no
// failover gets past it) a thinking block without its signature, a final tool-call turn that does not start with
// thinking while thinking is on, and a tool_use id outside ^[a-zA-Z0-9_-]+$. Through the real gateway with the
// official clients, passthrough (the default) and translated, asserting on the bodies the emulated targets received.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type Anthropic from "@anthropic-ai/sdk";
import { type GatewayFixture, READ_TOOL, startThreeApiGateway } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

/** The client's history after an OpenAI target made the tool call: its reasoning came back with signature "". */
const AFTER_OPENAI_TURN: Anthropic.MessageParam[] = [
  { role: "user", content: "Read a" },
  {
    role: "assistant",
    content: [
      { type: "thinking", thinking: "reasoning of another API", signature: "" },
      { type: "text", text: "Reading a." },
      { type: "tool_use", id: "call_emu_1", name: "read", input: { path: "a" } },
    ],
  },
  { role: "user", content: [{ type: "tool_result", tool_use_id: "call_emu_1", content: "file a" }] },
];

describe("gateway: a tool loop across APIs, on to an Anthropic target", () => {
  let fx: GatewayFixture<"C" | "A" | "R">;
  let claude: Emulator, chat: Emulator, responses: Emulator;

  before(async () => {
    fx = await startThreeApiGateway();
    ({ C: claude, A: chat, R: responses } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("passthrough: leaves the unsigned thinking out and turns thinking (and its clearing edit) off", async () => {
    claude.enqueue({ text: "Read." });
    const body = {
      model: "claude",
      max_tokens: 8000,
      thinking: { type: "enabled" as const, budget_tokens: 4000 },
      tools: [READ_TOOL],
      messages: AFTER_OPENAI_TURN,
      context_management: { edits: [{ type: "clear_thinking_20251015" }, { type: "clear_tool_uses_20250919" }] },
    };
    const answer = await fx.anthropic.messages.create(body as Anthropic.MessageCreateParamsNonStreaming);
    assert.equal((answer.content[0] as Anthropic.TextBlock).text, "Read.");
    const sent = claude.calls[0]!.body;
    assert.equal(sent.thinking, undefined);
    assert.deepEqual(sent.messages[1].content, [
      { type: "text", text: "Reading a." },
      { type: "tool_use", id: "call_emu_1", name: "read", input: { path: "a" } },
    ]);
    assert.deepEqual(sent.context_management, { edits: [{ type: "clear_tool_uses_20250919" }] });
    assert.equal(sent.max_tokens, 8000, "the rest of the client's body as it was");
  });

  it("passthrough: a history that keeps the rules goes as the client sent it", async () => {
    claude.enqueue({ text: "Read." });
    const signed: Anthropic.MessageParam[] = [
      AFTER_OPENAI_TURN[0]!,
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Claude's own", signature: "sig-1" },
          { type: "tool_use", id: "toolu_1", name: "read", input: { path: "a" } },
        ],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "file a" }] },
    ];
    await fx.anthropic.messages.create({
      model: "claude",
      max_tokens: 8000,
      thinking: { type: "enabled", budget_tokens: 4000 },
      tools: [READ_TOOL],
      messages: signed,
    });
    const sent = claude.calls[0]!.body;
    assert.deepEqual(sent.thinking, { type: "enabled", budget_tokens: 4000 });
    assert.deepEqual(sent.messages, JSON.parse(JSON.stringify(signed)));
  });

  it("translated: a Chat client's tool loop with reasoning on gets thinking off for the Anthropic target, and says so", async () => {
    claude.enqueue({ text: "Read." });
    const { response } = await fx.openai.chat.completions
      .create({
        model: "claude",
        max_tokens: 20_000,
        reasoning_effort: "medium",
        tools: [{ type: "function", function: { name: "read", parameters: READ_TOOL.input_schema } }],
        messages: [
          { role: "user", content: "Read a" },
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "call_1", type: "function", function: { name: "read", arguments: '{"path":"a"}' } }],
          },
          { role: "tool", tool_call_id: "call_1", content: "file a" },
        ],
      })
      .withResponse();
    const sent = claude.calls[0]!.body;
    assert.equal(sent.thinking, undefined);
    assert.match(response.headers.get("x-auto-router-ignored") ?? "", /\breasoning_effort\b/);
  });

  it("translated: a conversation of only a system prompt reaches an Anthropic target as the user's one message", async () => {
    // It went as `messages: []`, which Anthropic's API refuses ("messages: at least one message is required").
    claude.enqueue({ text: "Haiku." });
    claude.enqueue({ text: "Haiku again." });
    const chatAnswer = await fx.openai.chat.completions.create({
      model: "claude",
      messages: [{ role: "system", content: "Write a haiku about routers." }],
    });
    assert.equal(chatAnswer.choices[0]!.message.content, "Haiku.");
    const responsesAnswer = await fx.openai.responses.create({
      model: "claude",
      instructions: "Write a haiku about gateways.",
      input: [],
    });
    assert.equal(responsesAnswer.output_text, "Haiku again.");
    const sent = claude.calls.map((call) => ({
      system: call.body.system,
      messages: call.body.messages.map((message: any) => [message.role, message.content.map((b: any) => b.text)]),
    }));
    assert.deepEqual(sent, [
      { system: undefined, messages: [["user", ["Write a haiku about routers."]]] },
      { system: undefined, messages: [["user", ["Write a haiku about gateways."]]] },
    ]);
  });

  it("passthrough: leaves a reasoning item the gateway made out of a Responses target's input, keeps the target's own", async () => {
    responses.enqueue({ text: "Done." });
    const made = {
      id: "rs_0123456789abcdef0123456789abcdef_0",
      type: "reasoning" as const,
      summary: [],
      content: [{ type: "reasoning_text" as const, text: "another API's reasoning" }],
    };
    const own = { id: "rs_68af0c1e", type: "reasoning" as const, summary: [], encrypted_content: "ENC" };
    await fx.openai.responses.create({
      model: "resp",
      input: [
        { role: "user", content: "Read a" },
        made,
        own,
        { role: "assistant", content: "Read." },
        { role: "user", content: "Next" },
      ],
    });
    const input = responses.calls[0]!.body.input;
    assert.deepEqual(
      input.map((item: any) => item.id ?? item.role),
      ["user", "rs_68af0c1e", "assistant", "user"],
    );
  });

  it("gives an Anthropic client another API's tool call id in the form Anthropic accepts, the same on every turn", async () => {
    chat.enqueue({ toolCall: { id: "functions.read:3", name: "read", arguments: { path: "a" } } });
    const answer = await fx.anthropic.messages.create({
      model: "chat",
      max_tokens: 1000,
      tools: [READ_TOOL],
      messages: [{ role: "user", content: "Read a" }],
    });
    const call = answer.content.find((block) => block.type === "tool_use") as Anthropic.ToolUseBlock;
    assert.match(call.id, /^functions_read_3_[0-9a-f]{16}$/);
    chat.enqueue({ toolCall: { id: "functions.read:3", name: "read", arguments: { path: "a" } } });
    const streamed = await fx.anthropic.messages
      .stream({ model: "chat", max_tokens: 1000, tools: [READ_TOOL], messages: [{ role: "user", content: "Read a" }] })
      .finalMessage();
    assert.equal((streamed.content.find((block) => block.type === "tool_use") as Anthropic.ToolUseBlock).id, call.id);
  });
});
