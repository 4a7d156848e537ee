// The gateway's memory of who issued each encrypted reasoning item it handed a client (known by a hash of its
// encrypted content, which every client sends back, with or without the item's id) and which providers refused
// whose: bounded (the least recently used item goes first), and a target's own provider's items are never left out.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReasoningIssuers } from "../../src/gateway/reasoning-issuers.ts";
import type { Candidate } from "../../src/routing/types.ts";
import { reasoningKey } from "../../src/runtime/reasoning-key.ts";

const on = (provider: string) => ({ key: `${provider}/gpt`, provider, modelId: "gpt" }) as Candidate;
const key = (content: string) => reasoningKey(content);

describe("reasoning issuers", () => {
  it("keeps at most its capacity, dropping the item least recently issued or sent back", () => {
    const memory = new ReasoningIssuers(3);
    memory.issued(["gAAA-1", "gAAA-2", "gAAA-3"], "acct-a");
    assert.equal(memory.issuer(key("gAAA-1")), "acct-a", "sent back: used again");
    memory.issued(["gAAA-4"], "acct-b");
    assert.equal(memory.size, 3);
    assert.equal(memory.issuer(key("gAAA-2")), undefined, "the least recently used went");
    assert.deepEqual(
      ["gAAA-1", "gAAA-3", "gAAA-4"].map((content) => memory.issuer(key(content))),
      ["acct-a", "acct-a", "acct-b"],
    );
  });

  it("reads a request's items only for a target that refused some provider's before, or once it refuses", () => {
    const memory = new ReasoningIssuers();
    memory.issued(["gAAA-a"], "acct-a");
    let reads = 0;
    const request = memory.forRequest(() => {
      reads += 1;
      return ["gAAA-a", "gAAA-unknown"];
    });
    assert.equal(request.refusedBefore(on("acct-b")), undefined);
    assert.equal(reads, 0, "no look-up while nothing was refused");
    request.refused(on("acct-b"));
    assert.equal(reads, 1);
    assert.deepEqual(request.refusedBefore(on("acct-b"))?.issuers, ["acct-a"]);
    assert.equal(reads, 1, "read once per request");
  });

  it("leaves out, for a target, the items of the issuers it refused before, never its own provider's", () => {
    const memory = new ReasoningIssuers();
    memory.issued(["gAAA-a1", "gAAA-a2"], "acct-a");
    memory.issued(["gAAA-b"], "acct-b");
    memory.issued(["gAAA-c"], "acct-c");
    memory.forRequest(() => ["gAAA-a1", "gAAA-b", "gAAA-c", "gAAA-unknown"]).refused(on("acct-b"));
    assert.equal(memory.hasRefused("acct-a", "acct-b"), true);
    assert.equal(memory.hasRefused("acct-c", "acct-b"), true);
    assert.equal(memory.hasRefused("acct-b", "acct-b"), false, "its own account's reasoning is always kept");

    const later = memory.forRequest(() => ["gAAA-a1", "gAAA-b", "gAAA-a2", "gAAA-unknown"]);
    const leftOut = later.refusedBefore(on("acct-b"))!;
    assert.deepEqual([...leftOut.keys], [key("gAAA-a1"), key("gAAA-a2")]);
    assert.deepEqual(leftOut.issuers, ["acct-a"]);
    assert.equal(later.refusedBefore(on("acct-a")), undefined, "a pair never refused keeps its items");
  });

  it("holds items of an issuer it does not know against a target only when no known other issuer's explain the refusal", () => {
    const memory = new ReasoningIssuers();
    memory.issued(["gAAA-a"], "acct-a");
    memory.issued(["gAAA-b"], "acct-b");
    // A known other issuer's item was sent: that is what B refused; the unknown item may be B's own from before.
    memory.forRequest(() => ["gAAA-a", "gAAA-b", "gAAA-old"]).refused(on("acct-b"));
    assert.equal(memory.hasRefused("acct-a", "acct-b"), true);
    assert.equal(memory.hasRefusedItem(key("gAAA-old"), "acct-b"), false);

    // A's items left out, B refused again: the unknown item is what it cannot read.
    const next = memory.forRequest(() => ["gAAA-a", "gAAA-b", "gAAA-old"]);
    assert.deepEqual(next.refusedBefore(on("acct-b")), {
      keys: new Set([key("gAAA-a")]),
      issuers: ["acct-a"],
      unknownIssuer: 0,
    });
    next.refused(on("acct-b"));
    assert.equal(memory.hasRefusedItem(key("gAAA-old"), "acct-b"), true);
    assert.equal(memory.hasRefusedItem(key("gAAA-old"), "acct-a"), false, "held against B only");

    const later = memory.forRequest(() => ["gAAA-old", "gAAA-b", "gAAA-new"]);
    assert.deepEqual(later.refusedBefore(on("acct-b")), {
      keys: new Set([key("gAAA-old")]),
      issuers: [],
      unknownIssuer: 1,
    });
    assert.equal(later.refusedBefore(on("acct-c")), undefined, "C never refused anything");
  });
});
