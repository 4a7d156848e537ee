import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { misspelledProviderNames } from "../../src/routing/misspelled-providers.ts";

const targets = [{ provider: "alpha" }, { provider: "beta", authProvider: "gamma" }];
const routes = { main: { targets }, other: { targets: [{ provider: "alpho" }] } };

describe("provider names misspelled in a request's preferences", () => {
  it("names an only none of whose names the route has, where one is a letter from a provider of the route", () => {
    assert.deepEqual(misspelledProviderNames({ only: ["alpah", "deepinfra"] }, "main", targets, routes), [
      '"alpah" (only) is no provider of route main; did you mean "alpha"?',
    ]);
  });

  it("names an ignore, order or partly matching only name a letter from a provider of the route", () => {
    assert.deepEqual(misspelledProviderNames({ ignore: ["alpah"] }, "main", targets, routes), [
      '"alpah" (ignore) is no provider of route main; did you mean "alpha"?',
    ]);
    assert.deepEqual(misspelledProviderNames({ only: ["beta", "gama"], order: ["Bta"] }, "main", targets, routes), [
      '"gama" (only) is no provider of route main; did you mean "gamma"?',
      '"Bta" (order) is no provider of route main; did you mean "beta"?',
    ]);
  });

  it("names one two edits from a provider of the route, as the routes file's provider ids are matched", () => {
    assert.deepEqual(misspelledProviderNames({ ignore: ["alfa"] }, "main", targets, routes), [
      '"alfa" (ignore) is no provider of route main; did you mean "alpha"?',
    ]);
    assert.deepEqual(misspelledProviderNames({ only: ["btaa"] }, "main", targets, routes), [
      '"btaa" (only) is no provider of route main; did you mean "beta"?',
    ]);
  });

  it("leaves alone names of the route in any case, names another route has, and names far from all", () => {
    assert.deepEqual(misspelledProviderNames({ ignore: ["ALPHA", "gamma"] }, "main", targets, routes), []);
    assert.deepEqual(misspelledProviderNames({ ignore: ["alpho"] }, "main", targets, routes), []);
    assert.deepEqual(misspelledProviderNames({ ignore: ["deepinfra"] }, "main", targets, routes), []);
    // As near to beta as to gamma: a guess, not a typo of one of them.
    assert.deepEqual(
      misspelledProviderNames({ ignore: ["gema"] }, "main", [{ provider: "beta" }, { provider: "gamma" }], routes),
      [],
    );
    assert.deepEqual(misspelledProviderNames(undefined, "main", targets, routes), []);
    assert.deepEqual(misspelledProviderNames({ sort: "price" }, "main", targets, routes), []);
  });
});
