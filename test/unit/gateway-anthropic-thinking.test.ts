import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fitAnthropicThinking, withoutThinkingEdits } from "../../src/runtime/anthropic-thinking.ts";
import { anthropicToolUseId } from "../../src/gateway/client-messages.ts";

const call = { type: "tool_use", id: "c1", name: "read", input: {} };
const result = { role: "user", content: [{ type: "tool_result", tool_use_id: "c1", content: "x" }] };
const thinking = { type: "enabled", budget_tokens: 2000 };

describe("fitAnthropicThinking", () => {
  it("changes nothing (same objects) for a history that keeps the rules", () => {
    const body = {
      thinking,
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: [{ type: "thinking", thinking: "t", signature: "s" }, call] },
        result,
      ],
    };
    assert.equal(fitAnthropicThinking(body), undefined);
    assert.equal(fitAnthropicThinking({ messages: [{ role: "user", content: "hi" }] }), undefined);
  });
  it("leaves unsigned thinking out, keeping a word for a turn that had nothing else", () => {
    const body = {
      messages: [
        { role: "user", content: "hi" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "t", signature: "" },
            { type: "text", text: "a" },
          ],
        },
        { role: "user", content: "more" },
        { role: "assistant", content: [{ type: "thinking", thinking: "only" }] },
      ],
    };
    const fit = fitAnthropicThinking(body)!;
    assert.equal(fit.thinkingOff, false);
    assert.deepEqual(fit.messages![1].content, [{ type: "text", text: "a" }]);
    assert.deepEqual(fit.messages![3].content, [{ type: "text", text: "(reasoning left out)" }]);
    assert.equal(fit.messages![0], body.messages[0]);
  });
  it("turns thinking off when the tool calls the last turn answers do not start with thinking", () => {
    const body = {
      thinking,
      messages: [{ role: "user", content: "hi" }, { role: "assistant", content: [call] }, result],
    };
    assert.deepEqual(fitAnthropicThinking(body), { thinkingOff: true });
    assert.deepEqual(fitAnthropicThinking({ ...body, thinking: { type: "adaptive" } }), { thinkingOff: true });
    assert.equal(fitAnthropicThinking({ ...body, thinking: undefined }), undefined, "thinking already off");
    const redacted = { role: "assistant", content: [{ type: "redacted_thinking", data: "d" }, call] };
    assert.equal(fitAnthropicThinking({ ...body, messages: [body.messages[0], redacted, result] }), undefined);
    const newPrompt = [
      ...body.messages,
      { role: "assistant", content: [{ type: "text", text: "ok" }] },
      { role: "user", content: "next" },
    ];
    assert.equal(fitAnthropicThinking({ ...body, messages: newPrompt }), undefined, "a new prompt, not a tool result");
  });
});

describe("withoutThinkingEdits", () => {
  it("takes out the thinking-clearing edits only, and the member when none is left", () => {
    const both = { edits: [{ type: "clear_thinking_20251015" }, { type: "clear_tool_uses_20250919" }] };
    assert.deepEqual(withoutThinkingEdits(both), { edits: [{ type: "clear_tool_uses_20250919" }] });
    assert.equal(withoutThinkingEdits({ edits: [{ type: "clear_thinking_20251015" }] }), undefined);
    const none = { edits: [{ type: "clear_tool_uses_20250919" }] };
    assert.equal(withoutThinkingEdits(none), none);
    assert.equal(withoutThinkingEdits(undefined), undefined);
  });
});

describe("anthropicToolUseId", () => {
  it("maps any id to Anthropic's ^[a-zA-Z0-9_-]{1,64}$, the same way every time, the call id of a composite", () => {
    assert.equal(anthropicToolUseId("functions.read:3"), "functions_read_3_3c34ba4da2463a87");
    assert.equal(anthropicToolUseId("call_1|fc_1"), "call_1");
    assert.equal(anthropicToolUseId("x".repeat(80)).length, 64);
    assert.equal(anthropicToolUseId("toolu_01A"), "toolu_01A");
  });
});
