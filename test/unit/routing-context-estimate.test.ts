import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Context, UserMessage } from "@mariozechner/pi-ai";
import { IMAGE_TOKENS, classifyContext, estimateTokens } from "../../src/routing/context-estimate.ts";

const user = (content: UserMessage["content"]): UserMessage => ({ role: "user", content, timestamp: 0 });

describe("estimateTokens", () => {
  it("counts the system prompt, messages and tool schemas at about four characters per token", () => {
    const base: Context = { systemPrompt: "x".repeat(400), messages: [user("y".repeat(400))] };
    const withTools: Context = {
      ...base,
      tools: [{ name: "read", description: "d".repeat(400), parameters: { type: "object" } as never }],
    };
    const plain = estimateTokens(base);
    assert.ok(plain >= 200 && plain <= 220, `estimate ${plain}`);
    assert.ok(estimateTokens(withTools) - plain >= 100);
  });

  it("counts an image as a flat amount instead of its base64 size", () => {
    const context: Context = {
      messages: [user([{ type: "image", data: "A".repeat(400_000), mimeType: "image/png" }])],
    };
    const estimate = estimateTokens(context);
    assert.ok(estimate >= IMAGE_TOKENS && estimate < IMAGE_TOKENS + 50, `estimate ${estimate}`);
  });

  it("counts tool calls, tool results and thinking of earlier turns", () => {
    const context = {
      messages: [
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "t".repeat(400) },
            { type: "toolCall", id: "1", name: "read", arguments: { path: "p".repeat(400) } },
          ],
        },
        {
          role: "toolResult",
          toolCallId: "1",
          toolName: "read",
          content: [{ type: "text", text: "r".repeat(400) }],
          isError: false,
          timestamp: 0,
        },
      ],
    } as unknown as Context;
    assert.ok(estimateTokens(context) >= 300);
  });

  it("counts the prompt and tools inside a leading system message of newer pi", () => {
    const context = {
      messages: [
        {
          role: "system",
          sections: [
            { type: "text", text: "s".repeat(4000) },
            { type: "tools", tools: [{ name: "bash", parameters: { description: "q".repeat(4000) } }] },
          ],
        },
        user("hi"),
      ],
    } as unknown as Context;
    assert.ok(estimateTokens(context) >= 2000, `estimate ${estimateTokens(context)}`);
  });
});

describe("classifyContext", () => {
  it("puts the class boundaries at 4k, 32k and 128k tokens", () => {
    assert.equal(classifyContext(3_999), "short");
    assert.equal(classifyContext(4_000), "medium");
    assert.equal(classifyContext(32_000), "long");
    assert.equal(classifyContext(128_000), "epic");
  });
});

describe("jsonLength", () => {
  it("equals the length of JSON.stringify for tool arguments and schemas, without building the text", async () => {
    const { jsonLength } = await import("../../src/routing/context-estimate.ts");
    const values: unknown[] = [
      {},
      [],
      "text",
      42,
      -1.5,
      true,
      null,
      [1, "a", null, false],
      { path: "src/index.ts", content: "line one, line two", lines: [1, 2, 3], options: { dryRun: false, depth: 3 } },
      { type: "object", properties: { text: { type: "string", description: "what to echo" } }, required: ["text"] },
      { skipped: undefined, kept: 1 },
    ];
    for (const value of values) assert.equal(jsonLength(value), JSON.stringify(value).length, JSON.stringify(value));
  });
});
