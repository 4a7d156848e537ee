import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultRouteGoneNotice, resumedRouteGoneNotice, startsOnDefault } from "../../src/ui/missing-route-notice.ts";

const routes = { duo: {}, solo: {} };
const taken = { provider: "mock-a", id: "model-a" };

describe("missing route notices", () => {
  it("names the gone route of a resumed session, the raw model pi is on, and the routes there are", () => {
    assert.equal(
      resumedRouteGoneNotice("pair", "auto-router", taken, routes),
      "auto-router: this session's route auto-router/pair is no longer in the routes file; it continues on mock-a/model-a alone, with no failover, until you pick a route with /model or /auto-router switch (routes: duo, solo)",
    );
    assert.equal(
      resumedRouteGoneNotice("pair", "auto-router", taken, routes, {
        routesFile: "/agent/extensions/auto-router.routes.json",
      }),
      "auto-router: this session's route auto-router/pair is not one of the built-in routes (there is no routes file, /agent/extensions/auto-router.routes.json); it continues on mock-a/model-a alone, with no failover, until you pick a route with /model or /auto-router switch (routes: duo, solo)",
    );
  });

  it("warns about a saved default naming a gone route only", () => {
    const text = defaultRouteGoneNotice({ provider: "auto-router", model: "pair" }, "auto-router", taken, routes);
    assert.match(
      text ?? "",
      /defaultModel "pair"\) names a route that is not in the routes file; pi started on mock-a\/model-a instead/,
    );
    assert.equal(
      defaultRouteGoneNotice({ provider: "auto-router", model: "duo" }, "auto-router", taken, routes),
      undefined,
    );
    assert.equal(
      defaultRouteGoneNotice({ provider: "openai", model: "pair" }, "auto-router", taken, routes),
      undefined,
    );
    assert.equal(defaultRouteGoneNotice({}, "auto-router", taken, routes), undefined);
  });

  it("names the route a misspelt default was probably meant to be, and the defaultModel to write", () => {
    assert.equal(
      defaultRouteGoneNotice({ provider: "auto-router", model: "dou" }, "auto-router", taken, routes),
      'auto-router: pi\'s default model in settings.json (defaultProvider "auto-router", defaultModel "dou") names a route that is not in the routes file; pi started on mock-a/model-a instead. Did you mean "duo"? Write "defaultModel": "duo", or pick a route with /model (routes: duo, solo)',
    );
    assert.match(
      defaultRouteGoneNotice({ provider: "auto-router", model: "auto-router/slo" }, "auto-router", taken, routes) ?? "",
      /Did you mean "solo"\? Write "defaultModel": "solo", or pick a route with \/model/,
    );
  });

  it("says a default naming no built-in route is not one of them when there is no routes file", () => {
    assert.equal(
      defaultRouteGoneNotice({ provider: "auto-router", model: "subscription-premium" }, "auto-router", taken, routes, {
        routesFile: "/agent/extensions/auto-router.routes.json",
      }),
      'auto-router: pi\'s default model in settings.json (defaultProvider "auto-router", defaultModel "subscription-premium") names a route that is not one of the built-in routes (there is no routes file, /agent/extensions/auto-router.routes.json); pi started on mock-a/model-a instead. Pick a route with /model (routes: duo, solo)',
    );
    // A routes file of settings alone: the built-in routes serve, and the file is there.
    assert.match(
      defaultRouteGoneNotice({ provider: "auto-router", model: "mine" }, "auto-router", taken, routes, {
        routesFile: "/agent/extensions/auto-router.routes.json",
        fileHasNoRoutes: true,
      }) ?? "",
      /names a route that is not one of the built-in routes \(the routes file \/agent\/extensions\/auto-router\.routes\.json has no routes of its own\); pi started on/,
    );
  });

  it("names the route to write for a default written as auto-router/<route>, which pi does not read as the route", () => {
    for (const builtIn of [undefined, { routesFile: "/agent/extensions/auto-router.routes.json" }])
      assert.equal(
        defaultRouteGoneNotice(
          { provider: "auto-router", model: "auto-router/duo" },
          "auto-router",
          taken,
          routes,
          builtIn,
        ),
        'auto-router: pi\'s default model in settings.json (defaultProvider "auto-router", defaultModel "auto-router/duo") names route duo with its provider in front, which pi does not read as that route; pi started on mock-a/model-a instead. Write "defaultModel": "duo", or pick the route with /model',
      );
    assert.match(
      defaultRouteGoneNotice({ provider: "auto-router", model: "auto-router/trio" }, "auto-router", taken, routes) ??
        "",
      /defaultModel "auto-router\/trio"\) names a route that is not in the routes file;/,
    );
  });

  it("takes a session with no message yet as one pi started on its default model", () => {
    assert.equal(startsOnDefault([{ type: "model_change" }, { type: "thinking_level_change" }]), true);
    assert.equal(startsOnDefault([{ type: "model_change" }, { type: "message" }]), false);
  });
});
