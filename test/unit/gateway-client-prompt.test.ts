// The gateway's idea of a client's prompt: which message it is in each protocol, the identity its tool-call turns
// share (stickiness and the intent cache depend on it), and the shortcuts typed at its start.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { anthropicToContext, parseAnthropicRequest } from "../../src/gateway/anthropic-request.ts";
import { clientPrompt, takeShortcuts } from "../../src/gateway/client-prompt.ts";
import { textHash } from "../../src/text-hash.ts";
import { openAIToContext, parseOpenAIRequest } from "../../src/gateway/openai-request.ts";
import { parseResponsesRequest, responsesToContext } from "../../src/gateway/responses-request.ts";

const anthropic = (messages: unknown[], system = "You are an agent.", now = 1) =>
  anthropicToContext(parseAnthropicRequest({ model: "m", max_tokens: 100, system, messages }), now);
const identity = (client: { context: Parameters<typeof clientPrompt>[0]; promptIndex?: number }) =>
  clientPrompt(client.context, client.promptIndex)?.id;

const PROMPT = { role: "user", content: "@reasoning fix the failing test" };
const TOOL_USE = { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "bash", input: { cmd: "ls" } }] };
// Claude Code sends its reminders as text blocks next to the tool results.
const TOOL_TURN = {
  role: "user",
  content: [
    { type: "tool_result", tool_use_id: "t1", content: "a.ts b.ts" },
    { type: "text", text: "<system-reminder>The todo list changed.</system-reminder>" },
  ],
};

describe("the client's prompt", () => {
  it("is the last user message that is not a tool-result turn (Anthropic)", () => {
    const first = anthropic([PROMPT]);
    const toolTurn = anthropic([PROMPT, TOOL_USE, TOOL_TURN], "You are an agent.", 2);
    assert.equal(first.promptIndex, 0);
    assert.equal(toolTurn.promptIndex, 0);
    // The reminder still reaches the model as user text after the tool result.
    assert.deepEqual(
      toolTurn.context.messages.map((m) => m.role),
      ["user", "assistant", "toolResult", "user"],
    );
    assert.equal(identity(first), identity(toolTurn));
    assert.match(identity(first)!, /^client:0:/);
    // The first turn is decided afresh; the tool-result turn follows the target that served it.
    assert.equal(clientPrompt(first.context, first.promptIndex)?.followUp, false);
    assert.equal(clientPrompt(toolTurn.context, toolTurn.promptIndex)?.followUp, true);
  });

  it("is a new prompt when the user writes again, or when the conversation differs", () => {
    const base = [PROMPT, TOOL_USE, TOOL_TURN, { role: "assistant", content: "Fixed." }];
    const next = anthropic([...base, { role: "user", content: "now run the linter" }]);
    assert.equal(next.promptIndex, 5);
    assert.notEqual(identity(next), identity(anthropic([PROMPT])));
    assert.notEqual(identity(anthropic([PROMPT], "Another agent's system prompt")), identity(anthropic([PROMPT])));
    assert.notEqual(
      identity(anthropic([{ role: "user", content: "fix the other test" }])),
      identity(anthropic([PROMPT])),
    );
    assert.equal(anthropic([TOOL_USE, TOOL_TURN]).promptIndex, undefined);
    assert.equal(identity(anthropic([TOOL_USE, TOOL_TURN])), undefined);
  });

  it("tells long prompts apart by either end and their length", () => {
    const long = "x".repeat(50_000);
    const ids = [`${long}a`, `a${long}`, `${long}`, `${long}b`].map((text) =>
      identity(anthropic([{ role: "user", content: text }])),
    );
    assert.equal(new Set(ids).size, 4);
  });

  it("hashes the prompt's text: equal texts alike, any changed character apart, a long text's middle skipped", () => {
    assert.equal(textHash("fix the failing test"), textHash("fix the failing test"));
    const variants = ["fix the failing test", "fix the failing tesT", "fix the failing tes", "", "a", "b", "ab", "ba"];
    assert.equal(new Set(variants.map((text) => textHash(text))).size, variants.length);
    // Only a long prompt's ends are hashed: its middle (from 3 to 7 here) does not count, its ends do.
    assert.equal(textHash("abcXXXXdef", 3, 7), textHash("abcYYYYdef", 3, 7));
    assert.notEqual(textHash("abcXXXXdef", 3, 7), textHash("abdXXXXdef", 3, 7));
    assert.notEqual(textHash("abcXXXXdef", 3, 7), textHash("abcXXXXdeg", 3, 7));
  });

  it("is the last user message in OpenAI Chat Completions and Responses, whose tool results are their own items", () => {
    const chat = openAIToContext(
      parseOpenAIRequest({
        model: "m",
        messages: [
          { role: "system", content: "sys" },
          { role: "user", content: "list files" },
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "c1", type: "function", function: { name: "ls", arguments: "{}" } }],
          },
          { role: "tool", tool_call_id: "c1", content: "a.ts" },
        ],
      }),
      1,
    );
    assert.equal(chat.promptIndex, 0);
    const responses = responsesToContext(
      parseResponsesRequest({
        model: "m",
        input: [
          { role: "user", content: "list files" },
          { type: "function_call", call_id: "c1", name: "ls", arguments: "{}" },
          { type: "function_call_output", call_id: "c1", output: "a.ts" },
        ],
      }),
      1,
    );
    assert.equal(responses.promptIndex, 0);
    assert.equal(responsesToContext(parseResponsesRequest({ model: "m", input: "hi" }), 1).promptIndex, 0);
  });

  it("keeps its typed shortcuts on its tool-call turns, and they are stripped from the prompt", () => {
    const toolTurn = anthropic([PROMPT, TOOL_USE, TOOL_TURN]);
    assert.deepEqual(takeShortcuts(toolTurn.context, toolTurn.promptIndex)?.tiers, ["reasoning"]);
    assert.deepEqual(toolTurn.context.messages[0]!.content, [{ type: "text", text: "fix the failing test" }]);
    // The reminder text of the tool-result turn is not where shortcuts are read.
    const reminderShortcut = anthropic([
      { role: "user", content: "fix it" },
      TOOL_USE,
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "t1", content: "ok" },
          { type: "text", text: "@fast" },
        ],
      },
    ]);
    assert.equal(takeShortcuts(reminderShortcut.context, reminderShortcut.promptIndex), undefined);
  });

  it("reads shortcuts after Claude Code's <system-reminder> blocks, in a block of their own or at the text's start", () => {
    const REMINDER = "<system-reminder>\nAs you answer, use the context below.\n</system-reminder>";
    const own = anthropic([
      {
        role: "user",
        content: [
          { type: "text", text: REMINDER },
          { type: "text", text: "@reasoning fix the failing test" },
        ],
      },
    ]);
    assert.deepEqual(takeShortcuts(own.context, own.promptIndex)?.tiers, ["reasoning"]);
    assert.deepEqual(own.context.messages[0]!.content, [
      { type: "text", text: REMINDER },
      { type: "text", text: "fix the failing test" },
    ]);
    const joined = anthropic([{ role: "user", content: [{ type: "text", text: `${REMINDER}\n\n@fast say hi` }] }]);
    assert.deepEqual(takeShortcuts(joined.context, joined.promptIndex)?.tiers, ["fast"]);
    assert.deepEqual(joined.context.messages[0]!.content, [{ type: "text", text: `${REMINDER}\n\nsay hi` }]);
    // A prompt of reminders and shortcuts only is refused as a shortcut-only prompt is: the reminder is not a prompt.
    const only = anthropic([
      {
        role: "user",
        content: [
          { type: "text", text: REMINDER },
          { type: "text", text: "@fast" },
        ],
      },
    ]);
    assert.throws(() => takeShortcuts(only.context, only.promptIndex), /is only shortcuts/);
  });
});
