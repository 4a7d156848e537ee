import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ownEntry, ownRecord } from "../../src/own-record.ts";

describe("records keyed by outside names", () => {
  it("answers no member of Object.prototype for a name it does not hold", () => {
    const routes = ownRecord({ main: 1 });
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"])
      assert.equal(routes[name], undefined);
    assert.equal(routes.main, 1);
    assert.deepEqual(Object.keys(routes), ["main"]);
    assert.equal(JSON.stringify(routes), '{"main":1}');
  });

  it("gathers under __proto__ and constructor as under any name, touching no other object", () => {
    const gathered: Record<string, number[]> = {};
    for (const name of ["__proto__", "constructor", "__proto__", "x"]) ownEntry(gathered, name, () => []).push(1);
    assert.deepEqual(Object.keys(gathered), ["__proto__", "constructor", "x"]);
    assert.deepEqual(Object.getOwnPropertyDescriptor(gathered, "__proto__")?.value, [1, 1]);
    assert.equal(Object.getPrototypeOf(gathered), Object.prototype);
    assert.equal(typeof Object.prototype.constructor, "function");
    assert.equal(JSON.stringify(gathered), '{"__proto__":[1,1],"constructor":[1],"x":[1]}');
  });
});
