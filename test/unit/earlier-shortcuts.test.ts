import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stripEarlierShortcuts, strippedConversation } from "../../src/gateway/earlier-shortcuts.ts";

describe("earlier prompts' shortcuts in a client's history", () => {
  it("takes them off a Responses input's user items, and leaves everything else as it came", () => {
    const input = [
      { type: "message", role: "user", content: [{ type: "input_text", text: "@reasoning  Plan it" }] },
      { type: "function_call_output", call_id: "c1", output: "@only=x is output" },
      { role: "user", content: "@mention is a name" },
      { role: "user", content: "@fast" },
    ];
    const edit = strippedConversation({ input }, "input") as { input: unknown[] };
    assert.deepEqual(edit.input[0], {
      type: "message",
      role: "user",
      content: [{ type: "input_text", text: "Plan it" }],
    });
    // Not a user's prompt, not a shortcut, and a prompt of nothing but a shortcut (refused when sent): as they came.
    assert.equal(edit.input[1], input[1]);
    assert.equal(edit.input[2], input[2]);
    assert.equal(edit.input[3], input[3]);
    assert.equal(strippedConversation({ input: [input[1], input[2]] }, "input"), undefined, "nothing to change");
    assert.equal(strippedConversation({ input: "@fast hi" }, "input"), undefined, "a string input is the prompt");
  });

  it("leaves out a text block the shortcuts empty beside an image, and stops at the current prompt", () => {
    const image = { type: "image" as const, data: "AAAA", mimeType: "image/png" };
    const context = {
      messages: [
        { role: "user" as const, content: [{ type: "text" as const, text: "@vision" }, image], timestamp: 1 },
        { role: "user" as const, content: "@fast now", timestamp: 2 },
      ],
    };
    stripEarlierShortcuts(context, 1);
    assert.deepEqual(context.messages[0]!.content, [image]);
    assert.equal(context.messages[1]!.content, "@fast now", "the current prompt is takeShortcuts' to read");
  });
});
