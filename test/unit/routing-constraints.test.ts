import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  checkConstraint,
  meetsConstraint,
  mergeConstraints,
  requestConstraint,
  tierConstraint,
} from "../../src/routing/constraints.ts";
import type { RequestFeatures } from "../../src/routing/types.ts";

const features = (extra: Partial<RequestFeatures> = {}): RequestFeatures => ({
  estimatedTokens: 1_000,
  contextClass: "short",
  hasImages: false,
  hasTools: false,
  intent: "general",
  intentConfidence: 0.5,
  ...extra,
});

describe("constraints", () => {
  it("asks @long for a window of at least 100k tokens, or the estimate when larger", () => {
    assert.deepEqual(tierConstraint("long", 5_000), { minContextWindow: 100_000 });
    assert.deepEqual(tierConstraint("long", 300_000), { minContextWindow: 300_000 });
  });

  it("asks @vision for image input and @reasoning/@swe for reasoning models", () => {
    assert.deepEqual(tierConstraint("vision", 1), { vision: true });
    assert.deepEqual(tierConstraint("reasoning", 1), { reasoning: true });
    assert.deepEqual(tierConstraint("swe", 1), { reasoning: true });
  });

  it("derives vision, tools and window needs from the request, not the output it asks for", () => {
    assert.deepEqual(requestConstraint(features({ hasImages: true, hasTools: true, requestedMaxTokens: 8_000 })), {
      vision: true,
      tools: true,
      minContextWindow: 1_000,
    });
  });

  it("merges requirements by keeping every required capability and the larger minimum", () => {
    const merged = mergeConstraints({ vision: true, minContextWindow: 10 }, { reasoning: true, minContextWindow: 5 });
    assert.deepEqual(merged, { vision: true, reasoning: true, minContextWindow: 10 });
  });

  it("rejects a model known to be too small with context-too-small", () => {
    const violation = checkConstraint(
      { resolvable: true, hasCredentials: true, contextWindow: 8_000 },
      { minContextWindow: 10_000 },
    );
    assert.equal(violation?.reason, "context-too-small");
    const facts = { resolvable: true, hasCredentials: true, contextWindow: 8_000 };
    assert.equal(checkConstraint(facts, { minContextWindow: 10_000 }, 9_000)?.reason, "context-too-small");
  });

  it("calls a window the prompt fits but a tier or rule finds too small a missing capability, not an overflow", () => {
    const facts = { resolvable: true, hasCredentials: true, contextWindow: 32_000 };
    assert.deepEqual(checkConstraint(facts, { minContextWindow: 100_000 }, 300), {
      reason: "capability",
      detail: "context window 32000 < 100000 tokens asked for by the tier or a rule (the prompt needs ~300)",
      need: "minContextWindow",
    });
  });

  it("rejects known missing capabilities with a reason each", () => {
    const facts = {
      resolvable: true,
      hasCredentials: true,
      vision: false,
      reasoning: false,
      tools: false,
      maxTokens: 4_096,
    };
    assert.match(checkConstraint(facts, { vision: true })?.detail ?? "", /image/);
    assert.match(checkConstraint(facts, { reasoning: true })?.detail ?? "", /reasoning/);
    assert.match(checkConstraint(facts, { tools: true })?.detail ?? "", /tool/);
    assert.match(checkConstraint(facts, { minMaxTokens: 8_000 })?.detail ?? "", /max output/);
  });

  it("lets a model with unknown capabilities through", () => {
    const unknown = { resolvable: true, hasCredentials: true };
    assert.equal(
      checkConstraint(unknown, {
        vision: true,
        reasoning: true,
        tools: true,
        minContextWindow: 1e6,
        minMaxTokens: 1e5,
      }),
      undefined,
    );
    assert.equal(meetsConstraint(unknown, { reasoning: true }), true);
  });
});
