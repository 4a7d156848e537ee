// A tool call's id as an Anthropic client gets it: an id Anthropic accepts stays as it is; any other becomes a valid
// one that is the same for the same id (the client sends it back in later requests) and distinct for distinct ids.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { anthropicToolUseId } from "../../src/gateway/client-messages.ts";

const VALID = /^[a-zA-Z0-9_-]{1,64}$/;

describe("anthropicToolUseId", () => {
  it("keeps an id Anthropic accepts as it is, and a Responses call id without its item id", () => {
    for (const id of ["toolu_01AbC", "call_abc-123", "x".repeat(64)]) assert.equal(anthropicToolUseId(id), id);
    assert.equal(anthropicToolUseId("call_1|fc_2"), "call_1");
  });

  it("maps distinct ids that need changing to distinct valid ids, the same each time", () => {
    const long = `call_${"x".repeat(70)}`;
    const ids = [`${long}1`, `${long}2`, "a.b", "a:b", "a_b_", "functions.read:3", "functions.read:4", "", "é"];
    const mapped = ids.map(anthropicToolUseId);
    for (const id of mapped) assert.match(id, VALID);
    assert.equal(new Set(mapped).size, ids.length, JSON.stringify(mapped));
    assert.deepEqual(ids.map(anthropicToolUseId), mapped, "the same id maps to the same one");
    // A readable prefix of the id stays.
    assert.ok(mapped[5]!.startsWith("functions_read_3_"), mapped[5]);
    assert.ok(mapped[0]!.startsWith("call_xxx"), mapped[0]);
  });
});
