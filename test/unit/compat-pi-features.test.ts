// The feature-detecting helpers against both context shapes: 0.73.1's Context fields and new pi's transcript with
// system messages (shapes copied from what 0.87.1 and 1.5.2 hand to a provider's streamSimple).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Context } from "@mariozechner/pi-ai";
import {
  contextShapeOf,
  conversationMessages,
  currentTools,
  isAssistantMessage,
  lastUserText,
  modeOf,
  promptOf,
  refreshRegistry,
  systemPromptText,
} from "../../src/compat/pi-features.ts";

const ECHO = { name: "echo", description: "Returns the given text unchanged.", parameters: { type: "object" } };
const READ = { name: "read", description: "Reads a file.", parameters: { type: "object" } };

const oldContext = {
  systemPrompt: "You are pi.",
  tools: [ECHO],
  messages: [{ role: "user", content: [{ type: "text", text: "Say hi" }], timestamp: 1 }],
} as unknown as Context;

const transcript = (...messages: unknown[]) => ({ messages } as unknown as Context);
const system = (fields: Record<string, unknown>) => ({ role: "system", content: "", timestamp: 0, ...fields });
const user = (text: string) => ({ role: "user", content: text, timestamp: 1 });

describe("pi-features on the 0.73.1 context shape", () => {
  it("reads tools, system prompt and the last user text from the Context fields", () => {
    assert.equal(contextShapeOf(oldContext), "context-fields");
    assert.deepEqual(currentTools(oldContext).map((tool) => tool.name), ["echo"]);
    assert.equal(systemPromptText(oldContext), "You are pi.");
    assert.equal(lastUserText(oldContext), "Say hi");
    assert.equal(conversationMessages(oldContext).length, 1);
  });
});

describe("pi-features on the new pi transcript shape", () => {
  const newContext = transcript(
    system({ sections: { preamble: "You are pi.", tools: "<tools>echo</tools>" }, toolsAdded: [ECHO, READ] }),
    user("first"),
    system({ content: "Be brief.", sections: { tools: null }, toolsRemoved: [{ name: "read" }] }),
    user("Say hi"),
  );

  it("replays toolsAdded and toolsRemoved across system messages", () => {
    assert.equal(contextShapeOf(newContext), "transcript");
    assert.deepEqual(currentTools(newContext).map((tool) => tool.name), ["echo"]);
  });

  it("builds the system prompt from content and named sections, a null section removing it", () => {
    assert.equal(systemPromptText(newContext), "Be brief.\n\nYou are pi.");
  });

  it("skips system messages for the last user text and the conversation", () => {
    assert.equal(lastUserText(newContext), "Say hi");
    assert.deepEqual(conversationMessages(newContext).map((message) => message.role), ["user", "user"]);
  });

  it("reports no tools for a transcript whose system message adds none", () => {
    assert.deepEqual(currentTools(transcript(system({ sections: { preamble: "x" } }), user("hi"))), []);
  });
});

describe("pi-features on events and the extension context", () => {
  it("returns the prompt of a before_agent_start event and undefined for a custom-message run without one", () => {
    assert.equal(promptOf({ type: "before_agent_start", prompt: "Say hi", images: [] }), "Say hi");
    assert.equal(promptOf({ type: "before_agent_start", messageType: "custom" }), undefined);
  });

  it("counts only assistant messages, not the system message_end of new pi", () => {
    assert.equal(isAssistantMessage({ role: "assistant", content: [] }), true);
    assert.equal(isAssistantMessage({ role: "system", content: "" }), false);
    assert.equal(isAssistantMessage(undefined), false);
  });

  it("uses ctx.mode where pi has it and falls back to hasUI on 0.73.1", () => {
    assert.equal(modeOf({ hasUI: true, mode: "rpc" } as { hasUI: boolean }), "rpc");
    assert.equal(modeOf({ hasUI: false, mode: "json" } as { hasUI: boolean }), "json");
    assert.equal(modeOf({ hasUI: true }), "interactive-unknown");
    assert.equal(modeOf({ hasUI: false }), "headless-unknown");
  });

  it("awaits refresh() whether it returns nothing (0.73.1) or a promise (new pi)", async () => {
    const calls: string[] = [];
    await refreshRegistry({ refresh: () => void calls.push("sync") });
    await refreshRegistry({ refresh: async () => void calls.push("async") });
    await refreshRegistry({});
    assert.deepEqual(calls, ["sync", "async"]);
  });
});
