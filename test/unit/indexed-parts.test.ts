import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { IndexedParts } from "../../src/gateway/indexed-parts.ts";

describe("parts kept by the index a target gives them", () => {
  it("reads them back in index order, without gaps, a far index included", () => {
    const parts = new IndexedParts<string>();
    parts.set(4294967294, "far");
    parts.at(3, () => "three");
    assert.equal(
      parts.at(3, () => "not made again"),
      "three",
    );
    parts.set(0, "zero");
    assert.deepEqual(parts.inOrder(), ["zero", "three", "far"]);
    assert.equal(parts.size, 3);
    assert.equal(parts.next(), 4294967295, "a part without an index goes after the highest");
  });

  it("puts a part in place of the one at its index, or among them, for one reading only", () => {
    const parts = new IndexedParts<string>();
    parts.set(1, "one");
    parts.set(5, "five");
    assert.deepEqual(parts.inOrder({ index: 5, part: "five so far" }), ["one", "five so far"]);
    assert.deepEqual(parts.inOrder({ index: 3, part: "three so far" }), ["one", "three so far", "five"]);
    assert.deepEqual(parts.inOrder(), ["one", "five"]);
    assert.equal(new IndexedParts().next(), 0);
  });
});
