// A Responses target's reasoning item carried both ways on the translated path (gateway/responses-reasoning.ts): out
// with its own id and encrypted_content, in as the thinking block pi-ai replays to the same API and only to it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Api, AssistantMessage, AssistantMessageEvent, Model, ThinkingContent } from "@mariozechner/pi-ai";
import { parseResponsesRequest, responsesToContext } from "../../src/gateway/responses-request.ts";
import { isGatewayItemId } from "../../src/gateway/responses-response.ts";
import { reasoningInputBlock, targetReasoningItem } from "../../src/gateway/responses-reasoning.ts";
import { ResponsesStreamWriter } from "../../src/gateway/responses-stream.ts";
import { contextForTarget, markClientHistory } from "../../src/runtime/client-history.ts";

const ITEM = {
  id: "rs_68af0c1e2b",
  type: "reasoning",
  summary: [{ type: "summary_text", text: "Plan." }],
  encrypted_content: "ENC",
};
const signed = (item: object = ITEM): ThinkingContent => ({
  type: "thinking",
  thinking: "Plan.",
  thinkingSignature: JSON.stringify(item),
});
const meta = {
  id: "resp_0123456789abcdef0123456789abcdef",
  model: "auto-router/swe",
  createdAtSeconds: 0,
  summary: false,
};
const partial = (api: Api, content: AssistantMessage["content"]) => ({ api, content }) as AssistantMessage;

describe("a Responses target's reasoning item", () => {
  it("is the client's item only from an openai-responses target, with encrypted content", () => {
    assert.deepEqual(targetReasoningItem(signed(), "openai-responses"), ITEM);
    assert.equal(targetReasoningItem(signed(), "openai-codex-responses"), undefined);
    assert.equal(targetReasoningItem(signed(), "azure-openai-responses"), undefined);
    assert.equal(targetReasoningItem(signed({ ...ITEM, encrypted_content: undefined }), "openai-responses"), undefined);
    const anthropic: ThinkingContent = { type: "thinking", thinking: "x", thinkingSignature: "EqQBCkYIBx" };
    assert.equal(targetReasoningItem(anthropic, "openai-responses"), undefined);
  });

  it("is held while streamed and sent whole with the target's id; another API's reasoning streams as it comes", () => {
    const writer = new ResponsesStreamWriter(meta);
    const started = partial("openai-responses", [{ type: "thinking", thinking: "" }]);
    assert.deepEqual(writer.push({ type: "thinking_start", contentIndex: 0, partial: started }), []);
    assert.deepEqual(writer.push({ type: "thinking_delta", contentIndex: 0, delta: "Plan.", partial: started }), []);
    const ended = partial("openai-responses", [signed()]);
    const out = writer.push({ type: "thinking_end", contentIndex: 0, content: "Plan.", partial: ended });
    assert.deepEqual(
      out.map((event) => [event.type, (event.item as { id?: string } | undefined)?.id ?? event.item_id]),
      [
        ["response.output_item.added", ITEM.id],
        ["response.reasoning_summary_part.added", ITEM.id],
        ["response.reasoning_summary_text.delta", ITEM.id],
        ["response.reasoning_summary_text.done", ITEM.id],
        ["response.reasoning_summary_part.done", ITEM.id],
        ["response.output_item.done", ITEM.id],
      ],
    );
    assert.deepEqual(out[0]!.item, { ...ITEM, summary: [] });
    assert.deepEqual(out.at(-1)!.item, ITEM);

    const other = new ResponsesStreamWriter(meta);
    const thinking = partial("anthropic-messages", [{ type: "thinking", thinking: "" }]);
    const [added] = other.push({ type: "thinking_start", contentIndex: 0, partial: thinking });
    assert.ok(isGatewayItemId((added!.item as { id: string }).id, "rs"));
    assert.equal(other.push({ type: "thinking_delta", contentIndex: 0, delta: "x", partial: thinking }).length, 1);
  });

  it("without encrypted content comes from an openai-responses target as the gateway's own item, at its end", () => {
    const writer = new ResponsesStreamWriter(meta);
    const plain = partial("openai-responses", [{ type: "thinking", thinking: "Plan." }]);
    const events: AssistantMessageEvent[] = [
      { type: "thinking_start", contentIndex: 0, partial: plain },
      { type: "thinking_delta", contentIndex: 0, delta: "Plan.", partial: plain },
      { type: "thinking_end", contentIndex: 0, content: "Plan.", partial: plain },
    ];
    const out = events.flatMap((event) => writer.push(event));
    const done = out.at(-1)!.item as Record<string, unknown>;
    assert.equal(out[0]!.type, "response.output_item.added");
    assert.ok(isGatewayItemId(done.id, "rs"));
    assert.deepEqual(done.content, [{ type: "reasoning_text", text: "Plan." }]);
    assert.equal(done.encrypted_content, undefined);
  });

  it("sent back, becomes thinking before its turn's function call, replayed to openai-responses only", () => {
    const request = parseResponsesRequest({
      input: [
        { role: "user", content: "read a" },
        ITEM,
        { type: "reasoning", id: "rs_plain", summary: [{ type: "summary_text", text: "no state" }] },
        { type: "function_call", id: "fc_1", call_id: "call_1", name: "read", arguments: "{}" },
        { type: "function_call_output", call_id: "call_1", output: "file" },
      ],
    });
    const { context } = responsesToContext(request, 0);
    const turn = context.messages[1] as AssistantMessage;
    const [thinking, call] = turn.content as [ThinkingContent, AssistantMessage["content"][number]];
    assert.equal(turn.content.length, 2, "the item without encrypted content is left out");
    assert.deepEqual([thinking.type, thinking.thinking], ["thinking", "Plan."]);
    assert.deepEqual(JSON.parse(thinking.thinkingSignature!), ITEM);
    assert.deepEqual(call, { type: "toolCall", id: "call_1|fc_1", name: "read", arguments: {} });
    markClientHistory(context);
    const kinds = (api: Api) =>
      (contextForTarget(context, { api, provider: "p", id: "m" } as Model<Api>).messages[1] as AssistantMessage).content
        .map((block) => block.type)
        .join(",");
    assert.equal(kinds("openai-responses"), "thinking,toolCall");
    for (const api of ["azure-openai-responses", "openai-codex-responses", "openai-completions", "anthropic-messages"])
      assert.equal(kinds(api), "toolCall", api);
  });

  it("reads the summary, else the reasoning text, as the block's thinking", () => {
    const content = { type: "reasoning", encrypted_content: "E", summary: [], content: [{ text: "raw" }] };
    assert.equal(reasoningInputBlock(content)?.thinking, "raw");
    assert.equal(reasoningInputBlock({ ...ITEM, encrypted_content: "" }), undefined);
  });
});
