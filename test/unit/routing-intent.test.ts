import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { INTENT_HINT_CONFIDENCE, classifyIntent } from "../../src/routing/intent.ts";

describe("classifyIntent", () => {
  it("classifies a geography question as general, not code (no substring matches)", () => {
    const result = classifyIntent("what is the capital of France?");
    assert.equal(result.intent, "general");
  });

  it("classifies a prompt with a code fence as code with enough confidence for a hint", () => {
    const result = classifyIntent("Why does this throw?\n```ts\nconst x = foo();\n```");
    assert.equal(result.intent, "code");
    assert.ok(result.confidence >= INTENT_HINT_CONFIDENCE, `confidence ${result.confidence}`);
  });

  it("classifies a refactoring request on a source file as code", () => {
    const result = classifyIntent("refactor src/router.ts to remove the global state");
    assert.equal(result.intent, "code");
    assert.ok(result.confidence >= INTENT_HINT_CONFIDENCE);
  });

  it("gives a single everyday word a confidence below the hint threshold", () => {
    const result = classifyIntent("run a test of the new oven");
    assert.equal(result.intent, "code");
    assert.ok(result.confidence < INTENT_HINT_CONFIDENCE, `confidence ${result.confidence}`);
  });

  it("classifies a poem request as creative", () => {
    assert.equal(classifyIntent("write a haiku about autumn rain").intent, "creative");
  });

  it("classifies a comparison of trade-offs as analysis", () => {
    const result = classifyIntent("compare the tradeoffs of the two pricing strategies and evaluate the risks");
    assert.equal(result.intent, "analysis");
    assert.ok(result.confidence >= INTENT_HINT_CONFIDENCE);
  });

  it("lowers the confidence when signals are mixed", () => {
    const pure = classifyIntent("debug the compiler crash in python");
    const mixed = classifyIntent("debug the compiler crash in python and write a poem about it");
    assert.ok(mixed.confidence < pure.confidence);
  });

  it("returns general for an empty prompt", () => {
    assert.equal(classifyIntent("").intent, "general");
  });
});
