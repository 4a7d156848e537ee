import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyRequestPatch, mergeBody } from "../../src/runtime/request-patch.ts";

describe("per-target request patches", () => {
  it("merges body objects key by key and replaces everything else", () => {
    const payload = { model: "m", provider: { sort: "price" }, stop: ["a"], stream: true };
    const merged = mergeBody(payload, { provider: { order: ["fireworks"] }, stop: ["b"], metadata: { team: "core" } });
    assert.deepEqual(merged, {
      model: "m",
      provider: { sort: "price", order: ["fireworks"] },
      stop: ["b"],
      stream: true,
      metadata: { team: "core" },
    });
    // The payload pi-ai built is not changed in place.
    assert.deepEqual(payload.provider, { sort: "price" });
  });

  it("adds headers on top of the target's credential headers", () => {
    const options = applyRequestPatch({ headers: { "anthropic-beta": "oauth" } }, { headers: { "x-extra": "1" } });
    assert.deepEqual(options.headers, { "anthropic-beta": "oauth", "x-extra": "1" });
  });

  it("runs an existing onPayload hook first and patches what it returns", async () => {
    const options = applyRequestPatch(
      { onPayload: (payload: any) => ({ ...payload, hooked: true }) },
      { body: { extra: 1 } },
    );
    assert.deepEqual(await options.onPayload!({ model: "m" }, {} as any), { model: "m", hooked: true, extra: 1 });
  });

  it("leaves the options untouched without a patch", () => {
    const original = { headers: { a: "b" } };
    assert.equal(applyRequestPatch(original, undefined), original);
    assert.equal(applyRequestPatch(original, {}), original);
  });
});
