import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fallbackKey } from "../../src/runtime/env-key-fallback.ts";

describe("environment key fallbacks", () => {
  it("names the first fallback variable set for a provider that has them", () => {
    assert.deepEqual(fallbackKey("google", { GOOGLE_API_KEY: " ", GOOGLE_KEY: "g-key" }), {
      name: "GOOGLE_KEY",
      value: "g-key",
    });
    assert.equal(fallbackKey("anthropic", { GOOGLE_KEY: "g-key" }), undefined);
  });

  it("has none for a provider named like a member of every object (it threw 'function is not iterable')", () => {
    for (const provider of ["constructor", "toString", "__proto__"])
      assert.equal(fallbackKey(provider, { GOOGLE_KEY: "g-key" }), undefined);
  });
});
