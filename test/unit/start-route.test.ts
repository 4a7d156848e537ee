import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { earlierRouteCounterpart } from "../../src/ui/start-route.ts";

const builtIn = { routesFile: "/agent/extensions/auto-router.routes.json" };
const routes = { "subscription-reasoning": {}, "subscription-swe": {}, "subscription-fast": {} };

describe("the earlier pi-auto-router's built-in route ids", () => {
  it("are the built-in routes in their place, written bare or with the provider in front", () => {
    assert.equal(earlierRouteCounterpart("subscription-premium", routes, builtIn), "subscription-reasoning");
    assert.equal(earlierRouteCounterpart("auto-router/subscription-coding", routes, builtIn), "subscription-swe");
  });

  it("are nothing with a routes file, for another id, or when the route in place is not there", () => {
    assert.equal(earlierRouteCounterpart("subscription-premium", routes, undefined), undefined);
    assert.equal(earlierRouteCounterpart("subscription-fast", routes, builtIn), undefined);
    assert.equal(earlierRouteCounterpart("toString", routes, builtIn), undefined);
    assert.equal(earlierRouteCounterpart("subscription-premium", { "subscription-swe": {} }, builtIn), undefined);
  });
});
