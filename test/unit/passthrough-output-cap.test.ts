// A passthrough body asking for more output than its target gives is capped at the target's limit in each API's own
// field, with an Anthropic thinking budget fitted under the cap as the translating path fits it.
import type { Api, Model } from "@mariozechner/pi-ai";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { outputCapEdits } from "../../src/gateway/passthrough-output-cap.ts";

const target = (api: string, maxTokens: number) =>
  ({ id: "m", provider: "p", api, maxTokens }) as unknown as Model<Api>;

describe("the output cap of a passthrough body", () => {
  it("caps each API's output field at the target's limit", () => {
    assert.deepEqual(outputCapEdits(target("anthropic-messages", 8192), { max_tokens: 64_000 }), { max_tokens: 8192 });
    assert.deepEqual(
      outputCapEdits(target("openai-completions", 4096), { max_completion_tokens: 9000, max_tokens: 5000 }),
      {
        max_completion_tokens: 4096,
        max_tokens: 4096,
      },
    );
    assert.deepEqual(outputCapEdits(target("openai-responses", 4096), { max_output_tokens: 32_000 }), {
      max_output_tokens: 4096,
    });
  });

  it("leaves a request within the limit, and a target without a known limit, as they are", () => {
    assert.deepEqual(outputCapEdits(target("anthropic-messages", 8192), { max_tokens: 8192 }), {});
    assert.deepEqual(outputCapEdits(target("openai-responses", 4096), {}), {});
    assert.deepEqual(outputCapEdits(target("anthropic-messages", 0), { max_tokens: 64_000 }), {});
  });

  it("fits an Anthropic thinking budget under the cap, and keeps one that fits already", () => {
    const thinking = (budget_tokens: number) => ({ type: "enabled", budget_tokens });
    assert.deepEqual(
      outputCapEdits(target("anthropic-messages", 8192), { max_tokens: 64_000, thinking: thinking(60_000) }),
      {
        max_tokens: 8192,
        thinking: thinking(8192 - 1024),
      },
    );
    assert.deepEqual(
      outputCapEdits(target("anthropic-messages", 8192), { max_tokens: 64_000, thinking: thinking(4000) }),
      {
        max_tokens: 8192,
      },
    );
  });

  it("gives no body when the cap leaves no room for the least thinking budget (the translation names it)", () => {
    const body = { max_tokens: 64_000, thinking: { type: "enabled", budget_tokens: 2000 } };
    assert.equal(outputCapEdits(target("anthropic-messages", 1024), body), undefined);
    assert.deepEqual(outputCapEdits(target("anthropic-messages", 1024), { max_tokens: 64_000 }), { max_tokens: 1024 });
  });
});
