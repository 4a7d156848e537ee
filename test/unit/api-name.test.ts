import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { claimApiName } from "../../src/runtime/api-name.ts";

describe("claimApiName", () => {
  it("gives each live instance its own name and frees a name when its instance ends", () => {
    const first = claimApiName("unit-api");
    const second = claimApiName("unit-api");
    const third = claimApiName("unit-api");
    assert.deepEqual([first.name, second.name, third.name], ["unit-api", "unit-api-2", "unit-api-3"]);
    second.release();
    const again = claimApiName("unit-api");
    assert.equal(again.name, "unit-api-2");
    first.release();
    assert.equal(claimApiName("unit-api").name, "unit-api");
  });
});
