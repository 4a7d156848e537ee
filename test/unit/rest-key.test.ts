// Where a target's rests are kept: on its route, and for a proxied request without a model (its pseudo-route over
// the targets advertising the path) on the first configured route naming the target, where routed requests keep them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouteConfig } from "../../src/config/schema.ts";
import { noModelRouteId, restKey, restSteers } from "../../src/routing/rest-key.ts";

const routes = {
  chat: { targets: [{ provider: "c", modelId: "m" }] },
  embed: {
    targets: [
      { provider: "pa", modelId: "emb-a" },
      { provider: "pb", modelId: "emb-b" },
    ],
  },
  uploads: { targets: [{ provider: "pb", modelId: "emb-b" }] },
  // A `provider/model` route of the gateway: no route of record for another's rests.
  "pb/emb-b": { targets: [{ provider: "pb", modelId: "emb-b" }] },
} as unknown as Record<string, RouteConfig>;

describe("restKey", () => {
  it("keeps a routed request's rests on its own route", () => {
    assert.equal(restKey(routes, "uploads", "pb/emb-b"), "uploads::pb/emb-b");
    assert.equal(restKey(routes, "pb/emb-b", "pb/emb-b"), "pb/emb-b::pb/emb-b");
  });

  it("keeps a request without a model's rests on the first configured route naming the target", () => {
    const noModel = noModelRouteId(["pb/emb-b", "pa/emb-a"]);
    assert.equal(noModel, "(no-model: pb/emb-b, pa/emb-a)");
    assert.equal(restKey(routes, noModel, "pb/emb-b"), "embed::pb/emb-b");
    assert.equal(restKey(routes, noModel, "pa/emb-a"), "embed::pa/emb-a");
    // A target no configured route names keeps them on the pseudo-route itself.
    assert.equal(restKey(routes, noModel, "x/y"), `${noModel}::x/y`);
  });
});

describe("restSteers", () => {
  const steering = {
    ...routes,
    twice: {
      targets: [
        { provider: "c", modelId: "m" },
        { provider: "c", modelId: "m", label: "again" },
      ],
    },
    offOther: {
      targets: [
        { provider: "c", modelId: "m" },
        { provider: "d", modelId: "n", enabled: false },
      ],
    },
  } as unknown as Record<string, RouteConfig>;

  it("says a route with another target to send its requests to gains from resting one", () => {
    assert.equal(restSteers(steering, "embed", "pa/emb-a"), true);
    // A request without a model rests where the first configured route naming the target does: embed has another.
    assert.equal(restSteers(steering, noModelRouteId(["pb/emb-b"]), "pb/emb-b"), true);
    // A route the config does not hold: nothing known, so the rest is kept as before.
    assert.equal(restSteers(steering, "gone", "c/m"), true);
  });

  it("says a route with no other target gains nothing: one target, one listed twice, the others disabled", () => {
    assert.equal(restSteers(steering, "chat", "c/m"), false);
    assert.equal(restSteers(steering, "uploads", "pb/emb-b"), false);
    assert.equal(restSteers(steering, "pb/emb-b", "pb/emb-b"), false);
    assert.equal(restSteers(steering, "twice", "c/m"), false);
    assert.equal(restSteers(steering, "offOther", "c/m"), false);
    // The pseudo-route of a path one provider serves, whose target no configured route names.
    assert.equal(
      restSteers(
        { ...steering, [noModelRouteId(["x/y"])]: { targets: [{ provider: "x", modelId: "y" }] } } as never,
        noModelRouteId(["x/y"]),
        "x/y",
      ),
      false,
    );
  });
});
