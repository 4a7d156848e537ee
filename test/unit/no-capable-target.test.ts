// The error of a request no target of its route can take for a missing capability: it names what asked for it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { noCapableTargetText } from "../../src/runtime/final-error.ts";

describe("no capable target", () => {
  it("names the rule that asked for a capability no target has, not only the route", () => {
    const skipped = [
      { key: "a/1", reason: "capability", detail: "no image input", requiredBy: "rule vision-all" },
      { key: "b/1", reason: "capability", detail: "no image input", requiredBy: "rule vision-all" },
    ];
    assert.equal(
      noCapableTargetText("ruled2", skipped),
      "auto-router: route ruled2 has no target that accepts images (a/1: no image input; b/1: no image input), which rule vision-all asks for. Waiting will not change this: change that rule (or its condition), or add such a target to this route.",
    );
  });

  it("blames the route when the request itself needs the capability", () => {
    assert.equal(
      noCapableTargetText("main", [{ key: "a/1", reason: "capability", detail: "no image input" }]),
      "auto-router: route main has no target that accepts images (a/1: no image input). Waiting will not change this: choose a route with such a target, or add one to this route.",
    );
  });
});
