// The gateway's memory of who issued each encrypted reasoning item it handed a client, and which providers refused
// whose: bounded (the least recently used item goes first), and a target's own provider's items are never left out.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReasoningIssuers } from "../../src/gateway/reasoning-issuers.ts";
import type { Candidate } from "../../src/routing/types.ts";

const on = (provider: string) => ({ key: `${provider}/gpt`, provider, modelId: "gpt" }) as Candidate;

describe("reasoning issuers", () => {
  it("keeps at most its capacity, dropping the item least recently issued or sent back", () => {
    const memory = new ReasoningIssuers(3);
    memory.issued(["rs_1", "rs_2", "rs_3"], "acct-a");
    assert.equal(memory.issuer("rs_1"), "acct-a", "sent back: used again");
    memory.issued(["rs_4"], "acct-b");
    assert.equal(memory.size, 3);
    assert.equal(memory.issuer("rs_2"), undefined, "the least recently used went");
    assert.deepEqual(
      ["rs_1", "rs_3", "rs_4"].map((id) => memory.issuer(id)),
      ["acct-a", "acct-a", "acct-b"],
    );
  });

  it("knows nothing of a request whose items it never handed out", () => {
    const memory = new ReasoningIssuers();
    memory.issued(["rs_1"], "acct-a");
    assert.equal(memory.replayed(["rs_other"]), undefined);
    assert.equal(memory.replayed([]), undefined);
  });

  it("leaves out, for a target, the items of the issuers it refused before, never its own provider's", () => {
    const memory = new ReasoningIssuers();
    memory.issued(["rs_a1", "rs_a2"], "acct-a");
    memory.issued(["rs_b"], "acct-b");
    memory.issued(["rs_c"], "acct-c");
    const replayed = memory.replayed(["rs_a1", "rs_b", "rs_a2", "rs_c", "rs_unknown"])!;
    assert.equal(replayed.refusedBefore(on("acct-b")), undefined, "no refusal learnt yet");

    replayed.refused(on("acct-b"));
    assert.equal(memory.hasRefused("acct-a", "acct-b"), true);
    assert.equal(memory.hasRefused("acct-c", "acct-b"), true);
    assert.equal(memory.hasRefused("acct-b", "acct-b"), false, "its own account's reasoning is always kept");
    const leftOut = memory.replayed(["rs_a1", "rs_b", "rs_a2", "rs_unknown"])!.refusedBefore(on("acct-b"))!;
    assert.deepEqual([...leftOut.ids], ["rs_a1", "rs_a2"]);
    assert.deepEqual(leftOut.issuers, ["acct-a"]);
    assert.equal(replayed.refusedBefore(on("acct-a")), undefined, "a pair never refused keeps its items");
  });
});
