// The one line a print-mode run gets while the router waits for a cooling target.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { overBudgetText } from "../../src/routing/soft-fallback.ts";
import {
  allFailedText,
  noCapableTargetText,
  noMatchingTargetText,
  noTargetText,
  promptTooLongText,
  unservableText,
  waitingText,
} from "../../src/runtime/final-error.ts";
import { waitSeconds } from "../../src/runtime/wait-for-reset.ts";
import { StatusLine } from "../../src/ui/status-line.ts";

describe("waiting notice", () => {
  it("names every failed target, the target waited for and the whole seconds of the wait", () => {
    const failures = [
      { key: "a/x", kind: "rate_limit" as const },
      { key: "b/y", kind: "server" as const },
    ];
    assert.equal(
      waitingText("main", failures, "a/x", 28_200, false),
      "auto-router: every target of route main failed (a/x: throttled; b/y: provider fault); waiting 29s for a/x to come back, then trying again",
    );
    // With pi's retry allowed, the final error names these failures in the words pi retries on: the wait line too.
    assert.equal(
      waitingText("main", failures, "a/x", 28_200, true),
      "auto-router: every target of route main failed (a/x: rate limit; b/y: server error); waiting 29s for a/x to come back, then trying again",
    );
    assert.match(allFailedText("main", failures, true).text, /\(a\/x: rate limit; b\/y: server error\)/);
  });

  it("names the targets not tried with why, and the wait that did not help", () => {
    const failures = [
      { key: "b/y", kind: "server" as const },
      { key: "b/y", kind: "server" as const },
    ];
    const context = {
      notTried: ["a/x: resting (throttled), back at 10:01:40 (in 95s)"],
      waited: { key: "b/y", ms: 29_500 },
    };
    assert.equal(
      allFailedText("main", failures, true, true, context).text,
      "auto-router: every target of route main failed (b/y: server error (2 attempts); not tried: a/x: resting (throttled), back at 10:01:40 (in 95s)) after waiting 30s for b/y; retrying later may succeed. GET /health/providers shows each target's state",
    );
    assert.equal(
      allFailedText("main", failures, false, false, context).text,
      "auto-router: no target of route main could serve this request (b/y: provider fault (2 attempts); not tried: a/x: resting (throttled), back at 10:01:40 (in 95s)) after waiting 30s for b/y. See /auto-router explain main",
    );
  });

  it("asks pi for no retry when the first target back is past the wait a retry could make, and says when it is back", () => {
    const failures = [
      { key: "a/x", kind: "rate_limit" as const },
      { key: "b/y", kind: "server" as const },
    ];
    const now = Date.UTC(2026, 0, 1, 10, 0, 0);
    const firstBack = { key: "a/x", until: now + 95_000, now, waitLimitMs: 30_000 };
    const { text, agentRetry } = allFailedText("main", failures, true, false, { firstBack });
    assert.equal(agentRetry, false);
    assert.match(
      text,
      /^auto-router: every target of route main failed \(a\/x: throttled; b\/y: provider fault\); the first back is a\/x at \d\d:\d\d:\d\d \(in 95s\), later than failover\.cooldownWaitMs \(30s\) lets a request wait: sent again before then, it finds every target still resting\. See \/auto-router explain main$/,
    );
    assert.doesNotMatch(text, /pi may retry|rate limit|server error/);
    // A failure that is not transient reads as before: nothing to come back from.
    assert.match(
      allFailedText("main", [{ key: "a/x", kind: "auth" }], true, false, { firstBack }).text,
      /^auto-router: no target of route main could serve this request \(a\/x: credentials rejected\)\. See/,
    );
  });

  it("names a gateway request's provider/model as the model, not as a route of targets", () => {
    const failures = [{ key: "a/x", kind: "server" as const }];
    assert.equal(
      allFailedText("a/x", failures, true, true).text,
      "auto-router: model a/x failed (a/x: server error); retrying later may succeed. GET /health/providers shows each target's state",
    );
    // A target resting after its failure: the client is told when it is back, as its Retry-After says.
    const now = Date.UTC(2026, 0, 1, 10, 0, 0);
    assert.match(
      allFailedText("a/x", [{ key: "a/x", kind: "rate_limit" }], true, true, { backAt: { until: now + 95_000, now } })
        .text,
      /^auto-router: model a\/x failed \(a\/x: rate limit\); retrying may succeed once the first target is back, at \d\d:\d\d:\d\d \(in 95s\)\. GET \/health\/providers shows each target's state$/,
    );
    assert.equal(
      allFailedText("a/x", [{ key: "a/x", kind: "auth" }], false, true).text,
      "auto-router: model a/x could not serve this request (a/x: credentials rejected). GET /health/providers shows each target's state",
    );
    assert.equal(
      waitingText("a/x", failures, "a/x", 2_000, false),
      "auto-router: model a/x failed (a/x: provider fault); waiting 2s for a/x to come back, then trying again",
    );
    assert.match(waitingText("a/x", [], "a/x", 2_000, false), /^auto-router: model a\/x is resting; waiting 2s/);
    assert.match(
      noTargetText("a/x", ["a/x: resting (busy)"], undefined, 0, true),
      /^auto-router: model a\/x is not available now \(a\/x: resting \(busy\)\)\./,
    );
    assert.match(
      unservableText("a/x", ["a/x: no credentials"], true),
      /^auto-router: model a\/x cannot serve this request \(a\/x: no credentials\)\./,
    );
    // Turned away for what the request asks: the model lacks it, not "route a/x has no target that ...".
    const noImages = [{ key: "a/x", detail: "no image input", reason: "capability" }];
    assert.equal(
      noCapableTargetText("a/x", noImages),
      "auto-router: model a/x does not accept images (a/x: no image input). Waiting will not change this: choose another model.",
    );
    assert.match(
      noCapableTargetText("a/x", [
        { ...noImages[0]!, detail: "not a reasoning model", requiredBy: "the @reasoning shortcut" },
      ]),
      /^auto-router: model a\/x cannot do what this request needs \(.*\), which the @reasoning shortcut asks for\. Waiting will not change this: send the prompt without it, or choose another model\.$/,
    );
    assert.match(
      promptTooLongText("a/x", [{ key: "a/x", detail: "context window 2000 < 5000 tokens needed" }]),
      /^auto-router: the prompt is too long for model a\/x \(a\/x: context window .*\)\. Waiting will not change this: compact the conversation, or choose a model with a larger window\.$/,
    );
    assert.match(
      noMatchingTargetText("a/x", [{ key: "a/x", detail: "not in only: b" }]),
      /^auto-router: model a\/x does not match the provider preferences \(a\/x: not in only: b\)\./,
    );
    assert.equal(
      overBudgetText("a/x", ["a (hard daily budget: spent $2.00 exceeds $1.00)"], []),
      'auto-router: model a/x is over budget and the budget policy is hard: a (hard daily budget: spent $2.00 exceeds $1.00). Raise the budget or set budgets.policy to "soft".',
    );
    // A route of the routes file, and a tier's route named after the one asked for, keep the route's words.
    assert.match(
      noTargetText("think (the tier route of main)", []),
      /^auto-router: no target of route think \(the tier route of main\) is available now/,
    );
    assert.match(noCapableTargetText("main", noImages), /^auto-router: route main has no target that accepts images/);
    assert.match(overBudgetText("main", ["a (over)"], []), /^auto-router: every target of route main is over budget/);
  });

  it("names a target that failed the same way twice once, with the count", () => {
    const failures = [
      { key: "a/x", kind: "rate_limit" as const },
      { key: "b/y", kind: "server" as const },
      { key: "a/x", kind: "rate_limit" as const },
    ];
    assert.equal(
      allFailedText("main", failures, false).text,
      "auto-router: no target of route main could serve this request (a/x: throttled (2 attempts); b/y: provider fault). See /auto-router explain main",
    );
  });

  it("says which targets the provider preferences allow and names the others, in the final error's words", () => {
    const failures = [{ key: "a/x", kind: "server" as const }];
    const leftOut = ["b/y: not in only: a"];
    const preferences =
      "every target of route main the provider preferences allow failed (a/x: server error); the provider preferences left out the route's other targets (b/y: not in only: a)";
    assert.equal(
      waitingText("main", failures, "a/x", 2_000, true, leftOut),
      `auto-router: ${preferences}; waiting 2s for a/x to come back, then trying again`,
    );
    assert.ok(allFailedText("main", failures, true, false, { leftOut }).text.startsWith(`auto-router: ${preferences}`));
    assert.equal(
      waitingText("main", [], "a/x", 2_000, true, leftOut),
      "auto-router: every target of route main the provider preferences allow is resting; the provider preferences left out the route's other targets (b/y: not in only: a); waiting 2s for a/x to come back, then trying again",
    );
  });

  it("says the targets are resting when they were cooled down by earlier requests", () => {
    assert.equal(
      waitingText("main", [], "a/x", 1_400, true),
      "auto-router: every target of route main is resting; waiting 2s for a/x to come back, then trying again",
    );
    // Why, when the resting targets are known: a cooldown by its failure's neutral label, anything else as skipped.
    const resting = [
      { key: "a/x", reason: "cooldown", detail: "timeout: a/x: no data for 400 ms (stream stalled)" },
      { key: "b/y", reason: "circuit-open", detail: "circuit breaker open" },
    ];
    assert.equal(
      waitingText("main", [], "a/x", 1_400, true, undefined, resting),
      "auto-router: every target of route main is resting (a/x: no answer in time; b/y: circuit breaker open); waiting 2s for a/x to come back, then trying again",
    );
    // A failure in this request says it all: the rests it started are not named twice.
    assert.equal(
      waitingText("main", [{ key: "a/x", kind: "timeout" }], "a/x", 1_400, false, undefined, resting.slice(0, 1)),
      "auto-router: every target of route main failed (a/x: no answer in time); waiting 2s for a/x to come back, then trying again",
    );
  });

  it("shows a wait under a second in tenths, not as a whole second", () => {
    assert.match(waitingText("main", [], "a/x", 1, true), /; waiting 0\.1s for a\/x/);
    assert.match(waitingText("main", [], "a/x", 400, true), /; waiting 0\.4s for a\/x/);
    assert.match(waitingText("main", [], "a/x", 950, true), /; waiting 1s for a\/x/);
    assert.equal(waitSeconds(1_001), "2");
    assert.equal(waitSeconds(0), "0");
    assert.equal(waitSeconds(30, "nearest"), "0");
    assert.equal(waitSeconds(260, "nearest"), "0.3");
    assert.equal(waitSeconds(20_400, "nearest"), "20");
    const published: Array<string | undefined> = [];
    const status = new StatusLine(
      (text) => published.push(text),
      () => 1_000,
    );
    status.onWaiting("main", "a/x", 1_300);
    assert.match(published.at(-1)!, /waiting 0\.3s for a\/x/);
  });

  it("is announced once per wait by the status line, next to the status text", () => {
    const published: Array<string | undefined> = [];
    const announced: string[] = [];
    const status = new StatusLine(
      (text) => published.push(text),
      () => 1_000,
      (text) => announced.push(text),
    );
    status.onWaiting("main", "a/x", 11_000, "the notice");
    status.onWaiting("main", "a/x", 11_000);
    assert.deepEqual(announced, ["the notice"]);
    assert.match(published.at(-1)!, /waiting 10s for a\/x/);
  });

  it("says a route that cannot serve for lasting reasons cannot, with no word of a wait or of pi's retry", () => {
    const reasons = ["a/x: not in pi's model registry", "b/y: no credentials", "c/z: resting (credentials rejected)"];
    const inPi = unservableText("typo", reasons);
    assert.equal(
      inPi,
      "auto-router: no target of route typo can serve this request (a/x: not in pi's model registry; b/y: no credentials; c/z: resting (credentials rejected)). Waiting will not change this: fix the targets named (their credentials, provider and model ids), or choose another route. See /auto-router list",
    );
    const overHttp = unservableText("typo", reasons, true);
    assert.match(overHttp, /Waiting will not change this: .* GET \/health\/providers shows each target's state$/);
    for (const text of [inPi, overHttp]) {
      assert.doesNotMatch(text, /available now|First available/);
      // pi's retry regex (pi-extension-api.md §6): a match would have pi run the route again, to the same end.
      assert.doesNotMatch(text, /overloaded|rate.?limit|429|500|502|503|504|server.?error|timeout|terminated/i);
    }
  });

  it("never gives a first-available time that has passed (a breaker's probe still out): 'any moment now'", () => {
    const now = Date.parse("2026-11-30T13:13:50Z");
    const past = noTargetText(
      "main",
      ["a/x: half-open: a probe is already in flight"],
      { key: "a/x", until: now - 8000 },
      now,
    );
    assert.match(past, /First available: a\/x, any moment now\./);
    assert.doesNotMatch(past, /\(in 0s\)/);
    const future = noTargetText("main", [], { key: "a/x", until: now + 30_000 }, now);
    assert.match(future, /First available: a\/x at \d\d:\d\d:\d\d \(in 30s\)\./);
  });
});
