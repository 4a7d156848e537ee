import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ABANDONED_PROBE_MS, emptyReverts, RevertBook, type RevertSettings } from "../../src/runtime/revert-policy.ts";
import { createMemoryStore } from "../../src/state/memory-store.ts";

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
    const held = book.order("r", HOLDOFF, [A, B], 30_000);
    assert.deepEqual(keys(held.candidates), ["b/1", "a/1"]);
    assert.equal(held.note, "staying on b/1 after failing over from a/1 (holdoff: probes the first choice in 30s)");
    assert.deepEqual(keys(book.order("r", HOLDOFF, [A, B], 59_999).candidates), ["b/1", "a/1"]);
    const probe = book.order("r", HOLDOFF, [A, B], 60_000);
    assert.equal(probe.probe, true);
    assert.deepEqual(keys(probe.candidates), ["a/1", "b/1"]);
    assert.deepEqual(
      keys(book.order("r", HOLDOFF, [A, B], 60_001).candidates),
      ["b/1", "a/1"],
      "a second request while the probe runs",
    );
    assert.equal(
      book.order("r", HOLDOFF, [A, B], 60_001).note,
      "staying on b/1 after failing over from a/1 (holdoff: a probe of the first choice is under way)",
    );
    // Over, but the decision does not put the first choice first (it rests, say): no probe yet.
    const other = new RevertBook();
    other.onFinished("r", HOLDOFF, "a/1", "b/1", false, 0);
    assert.equal(
      other.order("r", HOLDOFF, [C, B], 70_000).note,
      "staying on b/1 after failing over from a/1 (holdoff over: the first choice is probed once the decision puts it first)",
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

  it("says the hold ended when the stand-in failed and the first choice served; nothing when the hold starts or a probe ends", () => {
    const book = new RevertBook();
    assert.equal(book.onFinished("r", HOLDOFF, "a/1", "b/1", false, 0, new Set(["a/1"])), undefined, "hold starts");
    assert.match(book.order("r", HOLDOFF, [A, B], 1_000).note ?? "", /^staying on b\/1 after failing over from a\/1/);
    assert.equal(
      book.onFinished("r", HOLDOFF, "b/1", "a/1", false, 2_000, new Set(["b/1"])),
      "revert hold ended: the stand-in b/1 failed and the first choice a/1 served, so the route is back on it",
    );
    assert.equal(book.order("r", HOLDOFF, [A, B], 3_000).note, undefined, "no hold left");
    // Kept to the stand-in, which answered: the hold stays and nothing is said.
    book.onFinished("r", NEVER, "a/1", "b/1", false, 4_000);
    assert.equal(book.onFinished("r", NEVER, "b/1", "b/1", false, 5_000), undefined);
    assert.equal(
      book.onFinished("r", NEVER, "b/1", "a/1", false, 6_000),
      "revert hold ended: the stand-in b/1 did not serve and the first choice a/1 served, so the route is back on it",
    );
    // A probe that is served says so with its own note.
    book.onFinished("r", HOLDOFF, "a/1", "b/1", false, 10_000);
    assert.equal(book.order("r", HOLDOFF, [A, B], 70_000).probe, true);
    assert.equal(book.onFinished("r", HOLDOFF, "a/1", "a/1", true, 70_500), undefined);
  });

  it("moves the hold to a third target that serves when the stand-in fails, keeping the holdoff unless the first choice failed too", () => {
    const book = new RevertBook();
    book.onFinished("r", HOLDOFF, "a/1", "b/1", false, 0, new Set(["a/1"]));
    assert.equal(
      book.onFinished("r", HOLDOFF, "b/1", "c/1", false, 10_000, new Set(["b/1"])),
      "revert hold moved: the stand-in b/1 failed and c/1 served, so the route stays on it",
    );
    const order = book.order("r", HOLDOFF, [A, B, C], 20_000);
    assert.deepEqual(keys(order.candidates), ["c/1", "a/1", "b/1"]);
    assert.match(
      order.note ?? "",
      /^staying on c\/1 after failing over from a\/1 \(holdoff: probes the first choice in 40s\)/,
    );
    // The first choice failed again in the request the third target served: its holdoff starts then.
    book.onFinished("r", HOLDOFF, "c/1", "b/1", false, 30_000, new Set(["c/1", "a/1"]));
    assert.match(
      book.order("r", HOLDOFF, [A, B, C], 40_000).note ?? "",
      /^staying on b\/1 .*probes the first choice in 50s/,
    );
    // A probe a third target served: the hold moves there and the holdoff starts again.
    assert.equal(book.order("r", HOLDOFF, [A, B, C], 90_000).probe, true);
    book.onFinished("r", HOLDOFF, "a/1", "c/1", true, 91_000, new Set(["a/1", "b/1"]));
    const after = book.order("r", HOLDOFF, [A, B, C], 92_000);
    assert.equal(after.probe, undefined);
    assert.deepEqual(keys(after.candidates), ["c/1", "a/1", "b/1"]);
  });

  it("shares holds and the probe between books on one store (pi windows, gateways, team machines)", () => {
    const store = createMemoryStore(emptyReverts());
    const windowA = new RevertBook(() => store);
    const windowB = new RevertBook(() => store);
    windowA.onFinished("r", HOLDOFF, "a/1", "b/1", false, 0);
    assert.deepEqual(keys(windowB.order("r", HOLDOFF, [A, B], 10).candidates), ["b/1", "a/1"], "B holds as A does");
    assert.equal(windowA.order("r", HOLDOFF, [A, B], 60_000).probe, true);
    const meanwhile = windowB.order("r", HOLDOFF, [A, B], 60_001);
    assert.equal(meanwhile.probe, undefined, "one probe for both windows");
    assert.deepEqual(keys(meanwhile.candidates), ["b/1", "a/1"]);
    // Window A ended while probing: after a while the probe counts as abandoned and B probes.
    assert.equal(windowB.order("r", HOLDOFF, [A, B], 60_000 + ABANDONED_PROBE_MS - 1).probe, undefined);
    assert.equal(windowB.order("r", HOLDOFF, [A, B], 60_000 + ABANDONED_PROBE_MS).probe, true);
    windowB.onFinished("r", HOLDOFF, "a/1", "a/1", true, 60_000 + ABANDONED_PROBE_MS + 1);
    assert.deepEqual(store.read().holds, {});
    assert.deepEqual(keys(windowA.order("r", HOLDOFF, [A, B], 60_000 + ABANDONED_PROBE_MS + 2).candidates), [
      "a/1",
      "b/1",
    ]);
  });

  it("never opens its store for a route on cooldown-expiry, and writes nothing when the order stays", () => {
    let opened = 0;
    let writes = 0;
    const store = createMemoryStore(emptyReverts());
    const counted = {
      ...store,
      update: (operation: Parameters<typeof store.update>[0]) => {
        writes++;
        store.update(operation);
      },
    };
    const book = new RevertBook(() => {
      opened++;
      return counted;
    });
    const EXPIRY: RevertSettings = { mode: "cooldown-expiry", holdoffMs: 0 };
    book.order("r", EXPIRY, [A, B], 0);
    book.onFinished("r", EXPIRY, "a/1", "b/1", false, 0);
    assert.equal(opened, 0);
    book.onFinished("r", HOLDOFF, "a/1", "a/1", false, 1);
    book.order("r", HOLDOFF, [A, B], 2);
    assert.equal(opened, 1);
    assert.equal(writes, 0, "no failover, no hold: nothing written");
    book.onFinished("r", HOLDOFF, "a/1", "b/1", false, 3);
    for (let now = 4; now < 100; now++) book.order("r", HOLDOFF, [A, B], now);
    assert.equal(writes, 1, "the hold, once; the requests that keep to the stand-in write nothing");
  });
});
