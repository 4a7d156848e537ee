// The feature-detecting helpers against both context shapes: 0.73.1's Context fields and new pi's transcript with
// system messages (shapes copied from what 0.87.1 and 1.5.2 hand to a provider's streamSimple).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Context } from "@mariozechner/pi-ai";
import { conversationMessages, currentTools, lastUserText } from "../../src/compat/pi-features.ts";

const ECHO = { name: "echo", description: "Returns the given text unchanged.", parameters: { type: "object" } };
const READ = { name: "read", description: "Reads a file.", parameters: { type: "object" } };

const oldContext = {
  systemPrompt: "You are pi.",
  tools: [ECHO],
  messages: [{ role: "user", content: [{ type: "text", text: "Say hi" }], timestamp: 1 }],
} as unknown as Context;

const transcript = (...messages: unknown[]) => ({ messages }) as unknown as Context;
const system = (fields: Record<string, unknown>) => ({ role: "system", content: "", timestamp: 0, ...fields });
const user = (text: string) => ({ role: "user", content: text, timestamp: 1 });

describe("pi-features on the 0.73.1 context shape", () => {
  it("reads tools and the last user text from the Context fields", () => {
    assert.deepEqual(
      currentTools(oldContext).map((tool) => tool.name),
      ["echo"],
    );
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
    assert.deepEqual(
      currentTools(newContext).map((tool) => tool.name),
      ["echo"],
    );
  });

  it("skips system messages for the last user text and the conversation", () => {
    assert.equal(lastUserText(newContext), "Say hi");
    assert.deepEqual(
      conversationMessages(newContext).map((message) => message.role),
      ["user", "user"],
    );
  });

  it("reports no tools for a transcript whose system message adds none", () => {
    assert.deepEqual(currentTools(transcript(system({ sections: { preamble: "x" } }), user("hi"))), []);
  });
});
