// Anthropic's stream has one content block open at a time; pi-ai's events need not (its Chat Completions provider
// ends every block when the stream ends and goes back to a text block after a tool call began). Each sequence here
// is encoded and checked frame by frame: one open block, indexes in order, deltas only to the open block, and the
// client's blocks add up to the answer.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AssistantMessage, AssistantMessageEvent } from "@mariozechner/pi-ai";
import { AnthropicStreamEncoder } from "../../src/gateway/anthropic-response.ts";
import { mockAnswer } from "../helpers/assistant-message.ts";

type Block = { type: string; text: string };

/** An answer of a Chat Completions target with these blocks. */
const answer = (content: AssistantMessage["content"]): AssistantMessage => ({
  ...mockAnswer("", "toolUse"),
  api: "openai-completions",
  content,
});

/** Reads the frames as a client that holds the protocol to its word would, and returns the blocks it assembled. */
function clientBlocks(frames: string): Block[] {
  const blocks: Block[] = [];
  let open: number | undefined;
  for (const match of frames.matchAll(/^event: (\S+)\ndata: (.*)$/gm)) {
    const data = JSON.parse(match[2]);
    if (match[1] === "content_block_start") {
      assert.equal(open, undefined, `block ${data.index} started while block ${open} is open`);
      assert.equal(data.index, blocks.length, "block indexes count the blocks written");
      open = data.index;
      blocks.push({ type: data.content_block.type, text: "" });
    } else if (match[1] === "content_block_delta") {
      assert.equal(data.index, open, `a delta for block ${data.index} while block ${open} is open`);
      const delta = data.delta;
      blocks[data.index].text += delta.text ?? delta.thinking ?? delta.partial_json ?? "";
    } else if (match[1] === "content_block_stop") {
      assert.equal(data.index, open, `stop for block ${data.index} while block ${open} is open`);
      open = undefined;
    } else if (match[1] === "message_delta") {
      assert.equal(open, undefined, "message_delta with a block still open");
    }
  }
  return blocks;
}

const encodeAll = (events: AssistantMessageEvent[]) => {
  const encoder = new AnthropicStreamEncoder("route");
  return events.map((event) => encoder.encode(event)).join("");
};

describe("Anthropic stream: one content block at a time", () => {
  const final = answer([
    { type: "thinking", thinking: "think more", thinkingSignature: "reasoning_content" },
    { type: "text", text: "Answer now." },
    { type: "toolCall", id: "call_a", name: "read", arguments: { path: "a" } },
    { type: "toolCall", id: "call_b", name: "read", arguments: { path: "b" } },
  ]);
  const partial = final;

  it("closes each block before the next when pi-ai ends them all at the end (Chat Completions targets)", () => {
    const frames = encodeAll([
      { type: "start", partial },
      { type: "thinking_start", contentIndex: 0, partial },
      { type: "thinking_delta", contentIndex: 0, delta: "think", partial },
      { type: "text_start", contentIndex: 1, partial },
      { type: "text_delta", contentIndex: 1, delta: "Answer", partial },
      // back to the thinking block after the text began: its rest is a block of its own
      { type: "thinking_delta", contentIndex: 0, delta: " more", partial },
      { type: "toolcall_start", contentIndex: 2, partial },
      { type: "toolcall_delta", contentIndex: 2, delta: '{"path":', partial },
      // a second tool call and more text arrive while the first call's input is unfinished: they wait
      { type: "toolcall_start", contentIndex: 3, partial },
      { type: "toolcall_delta", contentIndex: 3, delta: '{"path":"b"}', partial },
      { type: "text_delta", contentIndex: 1, delta: " now.", partial },
      { type: "toolcall_delta", contentIndex: 2, delta: '"a"}', partial },
      { type: "thinking_end", contentIndex: 0, content: "think more", partial },
      { type: "text_end", contentIndex: 1, content: "Answer now.", partial },
      { type: "toolcall_end", contentIndex: 2, toolCall: final.content[2] as never, partial },
      { type: "toolcall_end", contentIndex: 3, toolCall: final.content[3] as never, partial },
      { type: "done", reason: "toolUse", message: final },
    ]);
    assert.deepEqual(clientBlocks(frames), [
      { type: "thinking", text: "think" },
      { type: "text", text: "Answer" },
      { type: "thinking", text: " more" },
      { type: "tool_use", text: '{"path":"a"}' },
      { type: "tool_use", text: '{"path":"b"}' },
      { type: "text", text: " now." },
    ]);
    assert.deepEqual(
      [...frames.matchAll(/"id":"(call_\w)"/g)].map((match) => match[1]),
      ["call_a", "call_b"],
      "each tool call is one tool_use block",
    );
  });

  it("writes an ordered stream as it comes, each block closed by its own end event", () => {
    const encoder = new AnthropicStreamEncoder("route");
    const text = answer([{ type: "text", text: "Hi" }]);
    assert.match(encoder.encode({ type: "text_start", contentIndex: 0, partial: text }), /content_block_start/);
    assert.match(encoder.encode({ type: "text_delta", contentIndex: 0, delta: "Hi", partial: text }), /"text":"Hi"/);
    assert.match(encoder.encode({ type: "text_end", contentIndex: 0, content: "Hi", partial: text }), /_stop/);
  });

  it("closes what is still open or waiting when the answer ends without end events", () => {
    const frames = encodeAll([
      { type: "start", partial },
      { type: "toolcall_start", contentIndex: 2, partial },
      { type: "toolcall_delta", contentIndex: 2, delta: "{}", partial },
      { type: "text_start", contentIndex: 1, partial },
      { type: "text_delta", contentIndex: 1, delta: "late", partial },
      { type: "done", reason: "toolUse", message: final },
    ]);
    assert.deepEqual(clientBlocks(frames), [
      { type: "tool_use", text: "{}" },
      { type: "text", text: "late" },
    ]);
    assert.match(frames, /event: message_stop/);
  });
});
