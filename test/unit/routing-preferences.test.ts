import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkPreferences, mergePreferences, providerIndex } from "../../src/routing/preferences.ts";

const facts = (output?: number) => ({
  resolvable: true,
  hasCredentials: true,
  ...(output !== undefined ? { pricing: { input: 1, output } } : {}),
});

describe("provider preferences", () => {
  it("lets the prompt's preferences override the route's, field by field", () => {
    const merged = mergePreferences({
      global: { sort: "latency" },
      route: { only: ["a", "b"], maxPrice: 5 },
      prompt: { only: ["c"] },
    });
    assert.deepEqual(merged, { sort: "latency", only: ["c"], maxPrice: 5 });
  });

  it("adds the layers' ignore lists up: a prompt's @ignore= never brings back a provider the route ignores", () => {
    assert.deepEqual(
      mergePreferences({
        global: { ignore: ["x"] },
        route: { ignore: ["deepseek"] },
        prompt: { ignore: ["openai", "X"] },
      }).ignore,
      ["x", "deepseek", "openai"],
    );
    assert.deepEqual(mergePreferences({ route: { ignore: ["deepseek"] }, prompt: { only: ["a"] } }), {
      ignore: ["deepseek"],
      only: ["a"],
    });
  });

  it("rejects providers outside `only` and inside `ignore`, case-insensitively", () => {
    assert.equal(checkPreferences({ only: ["Anthropic"] }, "anthropic", undefined, facts()), undefined);
    assert.equal(
      checkPreferences({ only: ["anthropic"] }, "google", undefined, facts())?.reason,
      "provider-preference",
    );
    assert.equal(
      checkPreferences({ ignore: ["deepseek"] }, "deepseek", undefined, facts())?.reason,
      "provider-preference",
    );
  });

  it("matches the auth provider too", () => {
    assert.equal(checkPreferences({ only: ["openrouter"] }, "custom", "openrouter", facts()), undefined);
  });

  it("stops after the ordered providers when allowFallbacks is false", () => {
    assert.equal(
      checkPreferences({ order: ["a"], allowFallbacks: false }, "b", undefined, facts())?.reason,
      "provider-preference",
    );
    assert.equal(checkPreferences({ order: ["a"] }, "b", undefined, facts()), undefined);
  });

  it("rejects a known output price above max-price and lets unknown prices through", () => {
    assert.equal(checkPreferences({ maxPrice: 10 }, "a", undefined, facts(15))?.reason, "price");
    assert.equal(checkPreferences({ maxPrice: 10 }, "a", undefined, facts(10)), undefined);
    assert.equal(checkPreferences({ maxPrice: 10 }, "a", undefined, facts()), undefined);
  });

  it("finds a provider's position in the order list", () => {
    assert.equal(providerIndex(["x", "Y"], "y"), 1);
    assert.equal(providerIndex(["x"], "z"), -1);
  });
});
