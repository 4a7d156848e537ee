// Which problem of a request's provider preferences is named when it has several, and the shapes `sort` and
// `max_price` take (a value, or an object of it): the one schema that checks them reports what the hand-written
// checks before it did, so these pin the order and the paths.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseProviderPreferences } from "../../src/gateway/provider-preferences.ts";
import { refusedPreferences as refused } from "../helpers/preference-refusal.ts";

describe("provider preferences with several problems", () => {
  it("names a mistyped key first, then a price that cannot be capped, then the values in a fixed order", () => {
    assert.equal(refused({ only: [], ignor: ["a"] }), 'body.provider: unknown key "ignor"; did you mean "ignore"?');
    assert.match(refused({ only: [], max_price: { prompt: 1 } }), /^body\.provider\.max_price: "prompt" cannot be/);
    assert.match(refused({ sort: "x", zdr: "yes", ignore: ["a/b"], order: [3] }), /^body\.provider\.order\[0\]: /);
    assert.match(refused({ zdr: "yes", max_price: -1, allow_fallbacks: 1 }), /^body\.provider\.allow_fallbacks: /);
    assert.match(refused({ zdr: "yes", max_price: -1 }), /^body\.provider\.max_price: /);
    assert.match(refused({ unknownthing: 1, zdr: "yes" }), /^body\.provider\.zdr: .*\(OpenRouter's own key/);
  });

  it("names the value inside an object of it, and any other shape as a whole", () => {
    assert.equal(
      refused({ sort: { by: "latncy" } }),
      'body.provider.sort.by: expected one of "price", "latency", "throughput", got a string ("latncy"); did you mean "latency"?',
    );
    assert.match(
      refused({ sort: ["price"] }),
      /^body\.provider\.sort: expected .*, or \{"by": one of them\}, got an array$/,
    );
    assert.match(refused({ max_price: { completion: null } }), /^body\.provider\.max_price\.completion: .*, got null$/);
    assert.match(refused({ max_price: [1] }), /^body\.provider\.max_price: .*such a number\}, got an array$/);
    assert.equal(
      refused({ ignore: ["a", "  "] }),
      'body.provider.ignore[1]: expected a provider name (a non-empty string), got a string ("  ")',
    );
    assert.deepEqual(parseProviderPreferences({ max_price: {}, sort: { by: "price", x: 1 } }, "body.provider"), {
      preferences: { sort: "price" },
      openRouter: undefined,
    });
  });
});
