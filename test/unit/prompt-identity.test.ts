import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Context } from "@mariozechner/pi-ai";
import { isPiSummaryRequest } from "../../src/compat/pi-features.ts";
import { PromptMemory } from "../../src/runtime/prompt-memory.ts";
import { promptIdentity } from "../../src/runtime/stickiness.ts";

const user = (content: string, timestamp?: number) => ({ role: "user", content, timestamp });
const assistant = { role: "assistant", content: [{ type: "text", text: "ok" }], timestamp: 5 };
const context = (messages: unknown[], systemPrompt?: string) => ({ systemPrompt, messages }) as unknown as Context;
const SUMMARY = "You are a context summarization assistant. Your task is to read a conversation ...";

describe("promptIdentity", () => {
  it("stays the same when compaction moves the prompt to another position", () => {
    const before = context([user("first", 1), assistant, user("the prompt", 9)]);
    const after = context([user("summary of the conversation", 20), user("the prompt", 9)]);
    assert.equal(promptIdentity(before), promptIdentity(after));
  });
  it("tells apart two prompts stamped in the same millisecond, and falls back to the position without a stamp", () => {
    assert.notEqual(promptIdentity(context([user("question 1", 7)])), promptIdentity(context([user("question 2", 7)])));
    assert.notEqual(promptIdentity(context([user("a")])), promptIdentity(context([user("a"), assistant, user("a")])));
  });
  it("gives pi's own summary request no identity, on either context shape", () => {
    assert.equal(promptIdentity(context([user("<conversation>...", 3)], SUMMARY)), undefined);
    const newShape = context([{ role: "system", content: SUMMARY, timestamp: 0 }, user("<conversation>...", 3)]);
    assert.equal(isPiSummaryRequest(newShape), true);
    assert.equal(promptIdentity(newShape), undefined);
    assert.equal(isPiSummaryRequest(context([user("hi", 3)], "You are pi, a coding agent.")), false);
  });
});

describe("PromptMemory after pi summarised the conversation", () => {
  const reasoning = { shortcuts: { tiers: ["reasoning"], preferences: {}, tokens: ["@reasoning"] }, interactive: true };
  it("gives the prompt pi retries in the compacted context the shortcuts of the prompt it was", () => {
    const memory = new PromptMemory();
    memory.setPending(reasoning.shortcuts as never, true);
    assert.deepEqual(memory.factsFor("t1"), reasoning);
    memory.noteSummary();
    assert.deepEqual(memory.factsFor("t2"), reasoning, "no new input: the same prompt, retried");
  });
  it("gives a new prompt typed after a compaction its own facts, and none without a compaction", () => {
    const memory = new PromptMemory();
    memory.setPending(reasoning.shortcuts as never, true);
    memory.factsFor("t1");
    memory.noteSummary();
    memory.setPending(undefined, true);
    assert.deepEqual(memory.factsFor("t2"), { shortcuts: undefined, interactive: true });
    assert.equal(memory.factsFor("t3"), undefined);
  });
});
