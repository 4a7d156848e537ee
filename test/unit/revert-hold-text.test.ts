// `/auto-router status`'s line about a failover.revert hold: when the first choice is probed, as the next decision
// would have it (a resting first choice is not probed when the holdoff ends).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { holdProbeText } from "../../src/commands/revert-hold-text.ts";
import type { Candidate, SkippedTarget } from "../../src/routing/types.ts";

const NOW = 1_000_000;
const hold = { preferred: "a/1", standIn: "b/1", probing: false, probeAt: NOW + 4_000 };
const candidate = (key: string) => ({ key }) as Candidate;
const skip = (key: string, reason: SkippedTarget["reason"], detail: string, until?: number): SkippedTarget => ({
  key,
  provider: key.split("/")[0]!,
  modelId: key.split("/")[1]!,
  label: key,
  reason,
  detail,
  until,
});
const both = { candidates: [candidate("a/1"), candidate("b/1")], skipped: [] };

describe("holdProbeText", () => {
  it("names the holdoff's end when the first choice can be probed then", () => {
    assert.equal(holdProbeText(hold, both, NOW), "probes the first choice in 4s");
    assert.equal(holdProbeText(hold, both, NOW + 5_000), "the next request probes the first choice");
    assert.equal(holdProbeText({ ...hold, probing: true }, both, NOW), "a probe of the first choice is under way");
    assert.equal(holdProbeText({ ...hold, probeAt: undefined }, both, NOW), "until it fails (revert: never)");
  });

  it("waits for the first choice's cooldown, breaker or quota when it ends after the holdoff", () => {
    const cooling = {
      candidates: [candidate("b/1")],
      skipped: [skip("a/1", "cooldown", "server: HTTP 500", NOW + 27_000)],
    };
    assert.equal(holdProbeText(hold, cooling, NOW), "probes the first choice when its cooldown ends, in 27s");
    assert.equal(holdProbeText(hold, cooling, NOW + 9_000), "probes the first choice when its cooldown ends, in 18s");
    const open = {
      candidates: [candidate("b/1")],
      skipped: [skip("a/1", "circuit-open", "breaker open", NOW + 60_000)],
    };
    assert.equal(
      holdProbeText(hold, open, NOW),
      "probes the first choice when its breaker lets a probe through, in 60s",
    );
    // A rest that ends before the holdoff does changes nothing.
    const short = {
      candidates: [candidate("b/1")],
      skipped: [skip("a/1", "cooldown", "server: HTTP 500", NOW + 1_000)],
    };
    assert.equal(holdProbeText(hold, short, NOW), "probes the first choice in 4s");
  });

  it("says when the first choice is not probed at all, and when the stand-in cannot keep the hold", () => {
    const noKey = { candidates: [candidate("b/1")], skipped: [skip("a/1", "no-credentials", "no API key")] };
    assert.equal(
      holdProbeText(hold, noKey, NOW + 5_000),
      "the first choice is not probed while it is skipped (no API key)",
    );
    const demoted = { candidates: [candidate("b/1"), candidate("a/1")], skipped: [] };
    assert.equal(
      holdProbeText(hold, demoted, NOW + 5_000),
      "the first choice is probed once it ranks first again (b/1 does now)",
    );
    const standInOut = { candidates: [candidate("a/1")], skipped: [skip("b/1", "budget", "over budget")] };
    assert.equal(
      holdProbeText(hold, standInOut, NOW),
      "the stand-in cannot serve now (over budget): the next request lets the hold go",
    );
  });
});
