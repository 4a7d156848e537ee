// A gateway client's history turns fitted to each target (runtime/client-history.ts): the same API keeps signed and
// redacted thinking under the target's own name, another API gets no thinking, and pi's own contexts pass untouched.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Api, AssistantMessage, Context, Message, Model } from "@mariozechner/pi-ai";
import { historyAssistant } from "../../src/gateway/client-messages.ts";
import { contextForTarget, markClientHistory, withoutReplayedReasoning } from "../../src/runtime/client-history.ts";
import { reasoningKey } from "../../src/runtime/reasoning-key.ts";

const NOW = 1_800_000_000_000;
const target = (api: Api, provider = "anthropic", id = "claude-x") => ({ api, provider, id }) as Model<Api>;

const CONTENT: AssistantMessage["content"] = [
  { type: "thinking", thinking: "plan", thinkingSignature: "sig" },
  { type: "thinking", thinking: "", thinkingSignature: "opaque", redacted: true },
  { type: "thinking", thinking: "unsigned" },
  { type: "text", text: "Calling." },
  { type: "toolCall", id: "t1", name: "read", arguments: {} },
];

function clientContext(): Context {
  const context: Context = {
    messages: [{ role: "user", content: "go", timestamp: NOW }, historyAssistant(CONTENT, "anthropic-messages", NOW)],
  };
  markClientHistory(context);
  return context;
}

describe("client history fitted to a target", () => {
  it("stamps the client's turns with a same-API target's name and keeps signed and redacted thinking only", () => {
    const context = clientContext();
    const fitted = contextForTarget(context, target("anthropic-messages"));
    const turn = fitted.messages[1] as AssistantMessage;
    assert.deepEqual([turn.provider, turn.api, turn.model], ["anthropic", "anthropic-messages", "claude-x"]);
    assert.deepEqual(turn.content, [CONTENT[0], CONTENT[1], CONTENT[3], CONTENT[4]]);
    assert.equal(fitted.messages[0], context.messages[0]);
    assert.equal((context.messages[1] as AssistantMessage).content.length, 5, "the client's context is not changed");
  });

  it("drops every thinking block for a target of another API and leaves the turn unnamed", () => {
    const turn = contextForTarget(clientContext(), target("openai-completions", "openai", "gpt")).messages[1];
    assert.equal((turn as AssistantMessage).provider, "gateway-client");
    assert.deepEqual((turn as AssistantMessage).content, [CONTENT[3], CONTENT[4]]);
  });

  it("returns pi's own context object itself, and a marked context without client turns itself", () => {
    const own: Context = { messages: [{ role: "user", content: "hi", timestamp: NOW }] };
    assert.equal(contextForTarget(own, target("anthropic-messages")), own);
    markClientHistory(own);
    assert.equal(contextForTarget(own, target("anthropic-messages")), own);
  });

  it("leaves out every thinking block and the Responses item ids of tool calls for a target that refused them", () => {
    const responses = target("openai-responses", "acct-b", "gpt");
    const reasoning = { type: "thinking", thinking: "plan", thinkingSignature: '{"type":"reasoning"}' } as const;
    const call = { type: "toolCall", id: "call_1|fc_1", name: "read", arguments: {} } as const;
    const own = { ...historyAssistant([reasoning, call], "openai-responses", NOW), provider: "acct-a", model: "gpt" };
    const context: Context = {
      messages: [
        { role: "user", content: "go", timestamp: NOW },
        historyAssistant([reasoning, { type: "text", text: "Calling." }, call], "openai-responses", NOW),
        {
          role: "toolResult",
          toolCallId: "call_1|fc_1",
          toolName: "read",
          content: [],
          isError: false,
          timestamp: NOW,
        },
        own,
      ],
    };
    markClientHistory(context);
    const sent = contextForTarget(withoutReplayedReasoning(context), responses);
    const client = sent.messages[1] as AssistantMessage;
    assert.equal(client.provider, "acct-b", "still fitted to the target");
    assert.deepEqual(client.content, [
      { type: "text", text: "Calling." },
      { ...call, id: "call_1" },
    ]);
    assert.equal((sent.messages[2] as { toolCallId: string }).toolCallId, "call_1");
    assert.deepEqual((sent.messages[3] as AssistantMessage).content, [{ ...call, id: "call_1" }], "pi's own turns too");
    const again = contextForTarget(context, responses).messages[1] as AssistantMessage;
    assert.deepEqual(again.content[0], reasoning, "the context itself keeps its reasoning for other targets");
  });

  it("leaves out only the reasoning items of the keys given, and the item ids of the tool calls after them in their turn", () => {
    const responses = target("openai-responses", "acct-b", "gpt");
    const thinking = (id: string) =>
      ({
        type: "thinking",
        thinking: id,
        thinkingSignature: JSON.stringify({ type: "reasoning", id, encrypted_content: `gAAA-${id}` }),
      }) as const;
    const call = (id: string) => ({ type: "toolCall", id: `${id}|fc_${id}`, name: "read", arguments: {} }) as const;
    const result = (id: string): Message => ({
      role: "toolResult",
      toolCallId: `${id}|fc_${id}`,
      toolName: "read",
      content: [],
      isError: false,
      timestamp: NOW,
    });
    const context: Context = {
      messages: [
        { role: "user", content: "go", timestamp: NOW },
        historyAssistant([thinking("rs_a"), call("call_1"), call("call_2")], "openai-responses", NOW),
        result("call_1"),
        result("call_2"),
        historyAssistant([thinking("rs_b"), call("call_3")], "openai-responses", NOW),
        result("call_3"),
      ],
    };
    markClientHistory(context);
    const sent = contextForTarget(
      withoutReplayedReasoning(context, new Set([reasoningKey("gAAA-rs_a")])),
      responses,
    ).messages;
    assert.deepEqual((sent[1] as AssistantMessage).content, [
      { ...call("call_1"), id: "call_1" },
      { ...call("call_2"), id: "call_2" },
    ]);
    assert.deepEqual(
      sent.slice(2, 4).map((message) => (message as { toolCallId: string }).toolCallId),
      ["call_1", "call_2"],
    );
    assert.deepEqual(
      (sent[4] as AssistantMessage).content,
      [thinking("rs_b"), call("call_3")],
      "the other stays whole",
    );
    assert.equal((sent[5] as { toolCallId: string }).toolCallId, "call_3|fc_call_3");
  });
});
