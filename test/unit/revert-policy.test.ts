import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RevertBook, type RevertSettings } from "../../src/runtime/revert-policy.ts";

const A = { key: "a/1" };
const B = { key: "b/1" };
const C = { key: "c/1" };
const keys = (list: { key: string }[]) => list.map((c) => c.key);
const NEVER: RevertSettings = { mode: "never", holdoffMs: 0 };
const HOLDOFF: RevertSettings = { mode: "holdoff", holdoffMs: 60_000 };

describe("RevertBook", () => {
  it("keeps the decision's order without a failover, and always with cooldown-expiry", () => {
    const book = new RevertBook();
    assert.deepEqual(keys(book.order("r", NEVER, [A, B], 0).candidates), ["a/1", "b/1"]);
    book.onFinished("r", { mode: "cooldown-expiry", holdoffMs: 0 }, "a/1", "b/1", false, 0);
    assert.deepEqual(keys(book.order("r", { mode: "cooldown-expiry", holdoffMs: 0 }, [A, B], 1).candidates), [
      "a/1",
      "b/1",
    ]);
  });

  it("puts the stand-in first with never, and lets the hold go when the stand-in is not a candidate", () => {
    const book = new RevertBook();
    book.onFinished("r", NEVER, "a/1", "b/1", false, 0);
    assert.deepEqual(keys(book.order("r", NEVER, [A, C, B], 10).candidates), ["b/1", "a/1", "c/1"]);
    assert.deepEqual(keys(book.order("r", NEVER, [A, C], 20).candidates), ["a/1", "c/1"]);
    assert.deepEqual(keys(book.order("r", NEVER, [A, C, B], 30).candidates), ["a/1", "c/1", "b/1"], "hold dropped");
  });

  it("lets exactly one request probe after the holdoff; others keep to the stand-in until it is served", () => {
    const book = new RevertBook();
    book.onFinished("r", HOLDOFF, "a/1", "b/1", false, 0);
    assert.deepEqual(keys(book.order("r", HOLDOFF, [A, B], 59_999).candidates), ["b/1", "a/1"]);
    const probe = book.order("r", HOLDOFF, [A, B], 60_000);
    assert.equal(probe.probe, true);
    assert.deepEqual(keys(probe.candidates), ["a/1", "b/1"]);
    assert.deepEqual(
      keys(book.order("r", HOLDOFF, [A, B], 60_001).candidates),
      ["b/1", "a/1"],
      "a second request while the probe runs",
    );
    book.onFinished("r", HOLDOFF, "a/1", "a/1", true, 60_500);
    assert.deepEqual(keys(book.order("r", HOLDOFF, [A, B], 60_600).candidates), ["a/1", "b/1"]);
    assert.equal(book.order("r", HOLDOFF, [A, B], 60_600).note, undefined);
  });

  it("restarts the holdoff when the probe is not served by the first choice", () => {
    const book = new RevertBook();
    book.onFinished("r", HOLDOFF, "a/1", "b/1", false, 0);
    assert.equal(book.order("r", HOLDOFF, [A, B], 60_000).probe, true);
    book.onFinished("r", HOLDOFF, "a/1", "b/1", true, 61_000);
    assert.deepEqual(keys(book.order("r", HOLDOFF, [A, B], 120_000).candidates), ["b/1", "a/1"]);
    assert.equal(book.order("r", HOLDOFF, [A, B], 121_000).probe, true);
  });
});
