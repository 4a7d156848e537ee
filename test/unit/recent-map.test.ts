// The map of the most recently set keys (log readers, the gateway's reasoning memory): it drops the least recently set
// key beyond its limit, in the same order as a plain Map whose oldest key is deleted, whatever mix of new keys, keys
// set again, deletions and explicit drops comes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecentMap } from "../../src/recent-map.ts";

/** The reference: a plain Map, its oldest key found afresh each time. */
class PlainRecent {
  readonly map = new Map<string, number>();
  constructor(private readonly limit: number) {}
  set(key: string, value: number): [string, number] | undefined {
    this.map.delete(key);
    this.map.set(key, value);
    return this.map.size > this.limit ? this.shift() : undefined;
  }
  shift(): [string, number] | undefined {
    const first = this.map.entries().next();
    if (first.done) return undefined;
    this.map.delete(first.value[0]);
    return first.value;
  }
}

describe("RecentMap", () => {
  it("drops the least recently set key beyond its limit and returns it", () => {
    const recent = new RecentMap<string, number>(2);
    assert.equal(recent.set("a", 1), undefined);
    assert.equal(recent.set("b", 2), undefined);
    assert.equal(recent.set("a", 3), undefined, "a known key set again moves to the newest place");
    assert.deepEqual(recent.set("c", 4), ["b", 2]);
    assert.deepEqual(
      [...recent.entries()],
      [
        ["a", 3],
        ["c", 4],
      ],
    );
    assert.equal(recent.get("b"), undefined);
    assert.equal(recent.size, 2);
  });

  it("keeps the plain Map's order through a long random mix of sets, sets again, deletions and drops", () => {
    let seed = 7;
    const random = (below: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return Math.floor((seed / 2_147_483_648) * below);
    };
    for (const limit of [1, 5, 64]) {
      const recent = new RecentMap<string, number>(limit);
      const plain = new PlainRecent(limit);
      for (let step = 0; step < 50_000; step++) {
        const key = `k${random(limit * 3)}`;
        const action = random(10);
        if (action < 7) assert.deepEqual(recent.set(key, step), plain.set(key, step), `set ${key} at ${step}`);
        else if (action < 9) assert.equal(recent.delete(key), plain.map.delete(key));
        else assert.deepEqual(recent.shift(), plain.shift(), `shift at ${step}`);
        if (step % 997 === 0) assert.deepEqual([...recent.entries()], [...plain.map.entries()], `at ${step}`);
      }
      assert.deepEqual([...recent.entries()], [...plain.map.entries()]);
    }
  });

  it("drops nothing from an empty map, and starts again after one was emptied", () => {
    const recent = new RecentMap<string, number>(1);
    assert.equal(recent.shift(), undefined);
    recent.set("a", 1);
    assert.deepEqual(recent.shift(), ["a", 1]);
    assert.equal(recent.shift(), undefined);
    recent.set("b", 2);
    assert.deepEqual(recent.set("c", 3), ["b", 2]);
  });
});
