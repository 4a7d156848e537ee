import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Context } from "@mariozechner/pi-ai";
import { extractFeatures } from "../../src/routing/features.ts";

describe("extractFeatures", () => {
  it("classifies the intent from the last user message, not earlier ones", () => {
    const context = {
      messages: [
        { role: "user", content: "write a poem about rain", timestamp: 0 },
        { role: "assistant", content: [{ type: "text", text: "..." }] },
        {
          role: "user",
          content: [{ type: "text", text: "now refactor src/app.ts and debug the typescript build" }],
          timestamp: 0,
        },
      ],
    } as unknown as Context;
    assert.equal(extractFeatures(context).intent, "code");
  });

  it("reports images, tools and the requested max tokens", () => {
    const context = {
      messages: [{ role: "user", content: [{ type: "image", data: "AA", mimeType: "image/png" }], timestamp: 0 }],
      tools: [{ name: "read", description: "", parameters: {} }],
    } as unknown as Context;
    const features = extractFeatures(context, { maxTokens: 2048 });
    assert.equal(features.hasImages, true);
    assert.equal(features.hasTools, true);
    assert.equal(features.requestedMaxTokens, 2048);
  });

  it("counts images of the prompt being answered (its tool results too), not those of earlier prompts", () => {
    const image = { type: "image", data: "AA", mimeType: "image/png" };
    const earlier = { role: "user", content: [image, { type: "text", text: "what is it?" }], timestamp: 0 };
    const answer = { role: "assistant", content: [{ type: "text", text: "a square" }], timestamp: 1 };
    const now = { role: "user", content: "read shot.png", timestamp: 2 };
    const call = {
      role: "assistant",
      content: [{ type: "toolCall", id: "t1", name: "read", arguments: {} }],
      timestamp: 3,
    };
    const read = { role: "toolResult", toolCallId: "t1", toolName: "read", content: [image], timestamp: 4 };
    const features = (messages: unknown[]) => extractFeatures({ messages } as unknown as Context).hasImages;
    assert.equal(features([earlier]), true);
    assert.equal(features([earlier, answer, now]), false);
    assert.equal(features([earlier, answer, now, call, read]), true);
    assert.equal(features([now, call, { ...read, content: [{ type: "text", text: "no image" }] }]), false);
  });

  it("sees tools carried by a system message of newer pi (toolsAdded, as 0.87.1 and 1.5.2 send them)", () => {
    const context = {
      messages: [
        {
          role: "system",
          content: "",
          sections: { base: "You are pi." },
          toolsAdded: [{ name: "bash", description: "", parameters: {} }],
        },
        { role: "user", content: "hello", timestamp: 0 },
      ],
    } as unknown as Context;
    const features = extractFeatures(context);
    assert.equal(features.hasTools, true);
    assert.equal(features.hasImages, false);
    assert.equal(features.requestedMaxTokens, undefined);
  });

  it("sees no tools once newer pi removed them again", () => {
    const context = {
      messages: [
        { role: "system", content: "", toolsAdded: [{ name: "bash", description: "", parameters: {} }] },
        { role: "user", content: "hello", timestamp: 0 },
        { role: "system", content: "", toolsRemoved: ["bash"] },
      ],
    } as unknown as Context;
    assert.equal(extractFeatures(context).hasTools, false);
  });

  it("estimates a short plain context as short", () => {
    const features = extractFeatures({
      messages: [{ role: "user", content: "what is the capital of France?", timestamp: 0 }],
    });
    assert.equal(features.contextClass, "short");
    assert.equal(features.intent, "general");
  });
});
