// The gateway's parser of OpenRouter's provider grammar (X-Provider header, body `provider`): a preference the router
// cannot apply as written is refused with the path inside it and what is expected, never taken and lost.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseProviderPreferences } from "../../src/gateway/provider-preferences.ts";
import { refusedPreferences as refused } from "../helpers/preference-refusal.ts";

describe("provider preferences the router cannot apply as written", () => {
  it("sends no key pasted into a preference back in its error", () => {
    const key = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv";
    for (const value of [{ only: key }, { ignore: [`${key}/x`] }, { sort: key }, { max_price: key }]) {
      const message = refused(value);
      assert.doesNotMatch(message, /AbCdEfGhIj/, message);
      assert.match(message, /\[REDACTED\]|\*\*\*/, message);
    }
  });

  it("refuses a provider/model where a provider name is meant, naming the entry and the provider", () => {
    assert.equal(
      refused({ ignore: ["alpha/alpha-large"] }),
      'body.provider.ignore[0]: "alpha/alpha-large" names a model; expected a provider name, not provider/model; did you mean "alpha"?',
    );
    assert.match(refused({ only: ["beta", "alpha\\x"] }), /^body\.provider\.only\[1\]: .*did you mean "alpha"\?$/);
    assert.equal(
      refused({ order: ["/x"] }),
      'body.provider.order[0]: "/x" names a model; expected a provider name, not provider/model',
    );
    assert.equal(
      refused({ only: ["a", 3] }),
      "body.provider.only[1]: expected a provider name (a non-empty string), got a number (3)",
    );
    // "an object", not "a object".
    assert.match(
      refused({ order: { x: 1 } }),
      /^body\.provider\.order: expected an array of provider names .*, got an object \(\{"x":1\}\)$/,
    );
  });

  it("takes a name with spaces around it as the name, so an ignore of it leaves that provider out", () => {
    const { preferences } = parseProviderPreferences(
      { ignore: ["  alpha"], only: ["beta\t", " gamma "], order: ["\nbeta"] },
      "body.provider",
    );
    assert.deepEqual(preferences.ignore, ["alpha"]);
    assert.deepEqual(preferences.only, ["beta", "gamma"]);
    assert.deepEqual(preferences.order, ["beta"]);
    assert.match(refused({ ignore: ["  "] }), /^body\.provider\.ignore\[0\]: expected a provider name/);
  });

  it("refuses an empty only or order, and takes an empty ignore", () => {
    assert.equal(
      refused({ only: [] }),
      'body.provider.only: expected a non-empty array of provider names, got []; leave "only" out to allow every provider',
    );
    assert.match(
      refused({ order: [] }),
      /^body\.provider\.order: expected a non-empty array of provider names, got \[\]/,
    );
    assert.deepEqual(parseProviderPreferences({ ignore: [] }, "body.provider").preferences, { ignore: [] });
  });

  it("names the accepted sort values, the one meant, and the price form", () => {
    assert.equal(
      refused({ sort: "latncy" }),
      'body.provider.sort: expected one of "price", "latency", "throughput", or {"by": one of them}, got a string ("latncy"); did you mean "latency"?',
    );
    assert.match(refused({ sort: "price " }), /did you mean "price"\?$/);
    assert.equal(
      refused({ sort: {} }),
      'body.provider.sort.by: expected one of "price", "latency", "throughput", got nothing',
    );
    assert.equal(
      refused({ max_price: -1 }),
      'body.provider.max_price: expected a number >= 0 (USD per 1M output tokens, e.g. 15), or {"completion": such a number}, got a number (-1)',
    );
    assert.match(refused({ max_price: "1e3" }), /^body\.provider\.max_price: expected .*, got a string \("1e3"\)$/);
    assert.equal(
      refused({ max_price: { completion: "free" } }),
      'body.provider.max_price.completion: expected a number >= 0 (USD per 1M output tokens, e.g. 15), got a string ("free")',
    );
    assert.equal(
      refused({ allow_fallbacks: "no" }),
      'body.provider.allow_fallbacks: expected true or false, got a string ("no")',
    );
    assert.deepEqual(
      parseProviderPreferences({ sort: { by: "latency" }, max_price: "1.5" }, "body.provider").preferences,
      { sort: "latency", maxPrice: 1.5 },
    );
  });

  it("names a header sent twice, whose two JSON objects arrive joined by a comma", () => {
    assert.equal(refused('{"only":["a"]}, {"ignore":["b"]}', true), "X-Provider header sent twice; send it once");
    assert.match(refused('{"only":["a"]} x', true), /^X-Provider header: not valid JSON/);
  });

  it("writes an OpenRouter key's array index as one", () => {
    assert.match(refused({ quantizations: ["fp8", 2] }), /^body\.provider\.quantizations\[1\]: /);
  });
});
