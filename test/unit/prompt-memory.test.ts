// What the runtime remembers per prompt: the target that served it (stickiness) and the intent it was classified
// with. A gateway serves many clients at once, so prompts interleave on one route and neither may forget the other.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PromptMemory } from "../../src/runtime/prompt-memory.ts";
import { REMEMBERED_PROMPTS, Stickiness } from "../../src/runtime/stickiness.ts";
import type { Candidate } from "../../src/routing/types.ts";

const candidates = (...keys: string[]) => keys.map((key) => ({ key }) as Candidate);
const order = (sticky: Stickiness, prompt: string) =>
  sticky.order("main", prompt, candidates("a/1", "b/1", "c/1")).map((c) => c.key);

describe("per-prompt memory", () => {
  it("keeps each interleaved prompt on the target that served it", () => {
    const sticky = new Stickiness();
    sticky.remember("main", "client-x", "b/1");
    sticky.remember("main", "client-y", "c/1");
    assert.deepEqual(order(sticky, "client-x"), ["b/1", "a/1", "c/1"]);
    assert.deepEqual(order(sticky, "client-y"), ["c/1", "a/1", "b/1"]);
    assert.deepEqual(order(sticky, "a new prompt"), ["a/1", "b/1", "c/1"]);
    // Another route with the same prompt identity is its own decision.
    assert.equal(sticky.stickyKey("other", "client-x"), undefined);
    assert.equal(sticky.stickyKey("main", undefined), undefined);
  });

  it("remembers at least its last REMEMBERED_PROMPTS prompts and forgets older ones", () => {
    const sticky = new Stickiness();
    const total = 3 * REMEMBERED_PROMPTS;
    for (let index = 0; index < total; index++) sticky.remember("main", `p${index}`, "b/1");
    for (let index = total - REMEMBERED_PROMPTS; index < total; index++)
      assert.equal(sticky.stickyKey("main", `p${index}`), "b/1", `p${index}`);
    assert.equal(sticky.stickyKey("main", "p0"), undefined);
    assert.equal(sticky.stickyKey("main", `p${REMEMBERED_PROMPTS - 1}`), undefined);
  });

  it("remembers the intent of each prompt", () => {
    const memory = new PromptMemory();
    memory.rememberIntent({ prompt: "x", intent: "code", confidence: 0.9 });
    memory.rememberIntent({ prompt: "y", intent: "creative", confidence: 0.5 });
    assert.equal(memory.knownIntent("x")?.intent, "code");
    assert.equal(memory.knownIntent("y")?.intent, "creative");
    assert.equal(memory.knownIntent("z"), undefined);
    assert.equal(memory.knownIntent(undefined), undefined);
  });
});
