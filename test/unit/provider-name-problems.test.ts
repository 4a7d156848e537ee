import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { providerNameProblems } from "../../src/routing/provider-name-problems.ts";

const targets = [{ provider: "alpha" }, { provider: "beta", authProvider: "gamma" }];
const routes = { main: { targets }, other: { targets: [{ provider: "alpho" }] } };

describe("provider names misspelled in a request's preferences", () => {
  it("names an only none of whose names the route has, where one is a letter from a provider of the route", () => {
    assert.deepEqual(providerNameProblems({ only: ["alpah", "deepinfra"] }, "main", targets, routes), [
      '"alpah" (only) is no provider of route main; did you mean "alpha"?',
    ]);
  });

  it("names an ignore, order or partly matching only name a letter from a provider of the route", () => {
    assert.deepEqual(providerNameProblems({ ignore: ["alpah"] }, "main", targets, routes), [
      '"alpah" (ignore) is no provider of route main; did you mean "alpha"?',
    ]);
    // A gateway request's `provider/model` is one model, not a route of targets.
    const direct = [{ provider: "alpha", modelId: "m" }];
    assert.deepEqual(providerNameProblems({ ignore: ["alpah"] }, "alpha/m", direct, routes), [
      '"alpah" (ignore) is no provider of model alpha/m; did you mean "alpha"?',
    ]);
    assert.deepEqual(providerNameProblems({ only: ["beta", "gama"], order: ["Bta"] }, "main", targets, routes), [
      '"gama" (only) is no provider of route main; did you mean "gamma"?',
      '"Bta" (order) is no provider of route main; did you mean "beta"?',
    ]);
  });

  it("names one two edits from a provider of the route, as the routes file's provider ids are matched", () => {
    assert.deepEqual(providerNameProblems({ ignore: ["alfa"] }, "main", targets, routes), [
      '"alfa" (ignore) is no provider of route main; did you mean "alpha"?',
    ]);
    assert.deepEqual(providerNameProblems({ only: ["btaa"] }, "main", targets, routes), [
      '"btaa" (only) is no provider of route main; did you mean "beta"?',
    ]);
  });

  it("names a provider both in only and in ignore, in any case, whatever else only holds", () => {
    assert.deepEqual(providerNameProblems({ only: ["alpha", "beta"], ignore: ["ALPHA"] }, "main", targets, routes), [
      '"alpha" is in both only and ignore; keep it in one of them.',
    ]);
    assert.deepEqual(providerNameProblems({ only: ["beta"], ignore: ["alpha"] }, "main", targets, routes), []);
  });

  it("leaves alone names of the route in any case, names another route has, and names far from all", () => {
    assert.deepEqual(providerNameProblems({ ignore: ["ALPHA", "gamma"] }, "main", targets, routes), []);
    assert.deepEqual(providerNameProblems({ ignore: ["alpho"] }, "main", targets, routes), []);
    assert.deepEqual(providerNameProblems({ ignore: ["deepinfra"] }, "main", targets, routes), []);
    // As near to beta as to gamma: a guess, not a typo of one of them.
    assert.deepEqual(
      providerNameProblems({ ignore: ["gema"] }, "main", [{ provider: "beta" }, { provider: "gamma" }], routes),
      [],
    );
    assert.deepEqual(providerNameProblems(undefined, "main", targets, routes), []);
    assert.deepEqual(providerNameProblems({ sort: "price" }, "main", targets, routes), []);
  });
});
