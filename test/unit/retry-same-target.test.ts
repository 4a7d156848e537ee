import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeFailure } from "../../src/runtime/classify-failure.ts";
import { timeoutFailure } from "../../src/runtime/commit-point.ts";
import {
  DEFAULT_RETRY_MAX_DELAY_MS,
  opensNewWindow,
  RETRY_BASE_DELAY_MS,
  retryDelayMs,
  type RetryQuestion,
} from "../../src/runtime/retry-same-target.ts";

const ask = (overrides: Partial<RetryQuestion>): number | undefined =>
  retryDelayMs({
    config: { times: 2 },
    failure: makeFailure("server", "503 Service Unavailable"),
    retriesDone: 0,
    elapsedOnTargetMs: 0,
    budgetMs: 0,
    random: 0.5,
    ...overrides,
  });

describe("retryDelayMs: staying on a warm target through a blip", () => {
  it("never retries without a retryBeforeFailover block", () => {
    assert.equal(ask({ config: undefined }), undefined);
    assert.equal(ask({ config: undefined, lastTarget: true }), undefined, "a server error on the last target neither");
  });

  it("samples a malformed generation again once, at once, on the only target left, without a block", () => {
    const malformed = makeFailure("malformed_output", "400 Failed to call a function. Please adjust your prompt.");
    assert.equal(ask({ config: undefined, failure: malformed, lastTarget: true }), 0);
    assert.equal(ask({ config: undefined, failure: malformed, lastTarget: true, retriesDone: 1 }), undefined);
    assert.equal(ask({ config: undefined, failure: malformed, lastTarget: false }), undefined, "fails over instead");
    // The target's own block decides when it has one: kinds without malformed_output means no retry.
    assert.equal(ask({ config: { times: 2, kinds: ["server"] }, failure: malformed, lastTarget: true }), undefined);
  });

  it("retries a server error with a jittered backoff that doubles per retry", () => {
    assert.equal(ask({ random: 0 }), RETRY_BASE_DELAY_MS / 2);
    assert.equal(ask({ random: 1 }), RETRY_BASE_DELAY_MS);
    assert.equal(ask({ retriesDone: 1, random: 1 }), RETRY_BASE_DELAY_MS * 2);
  });

  it("stops after the configured number of retries", () => {
    assert.equal(ask({ retriesDone: 2 }), undefined);
  });

  it("moves on at once on a quota or usage-limit failure, whatever the kinds say", () => {
    const quota = makeFailure(
      "quota_exhausted",
      "You have hit your ChatGPT usage limit (plus plan). Try again in ~42 min.",
      { retryAfterMs: 42 * 60_000 },
    );
    assert.equal(ask({ failure: quota }), undefined);
    assert.equal(ask({ failure: quota, config: { times: 2, kinds: ["rate_limit"] } }), undefined);
  });

  it("retries only the kinds listed (default rate_limit, overloaded, server)", () => {
    const network = makeFailure("network", "Connection error.");
    assert.equal(ask({ failure: network }), undefined);
    assert.notEqual(ask({ failure: network, config: { times: 1, kinds: ["network"] } }), undefined);
    assert.equal(
      ask({ failure: makeFailure("invalid_request", "400 bad"), config: { times: 1, kinds: ["server"] } }),
      undefined,
    );
  });

  it("honours a short retry hint exactly and fails over on one longer than maxDelayMs", () => {
    const short = makeFailure("rate_limit", "429 Please try again in 1.2s", { retryAfterMs: 1_200 });
    assert.equal(ask({ failure: short }), 1_200);
    const long = makeFailure("rate_limit", "429 Please try again in 20s", { retryAfterMs: 20_000 });
    assert.equal(ask({ failure: long }), undefined);
    assert.equal(ask({ failure: long, config: { times: 1, maxDelayMs: 30_000 } }), 20_000);
  });

  it("caps the backoff at maxDelayMs", () => {
    assert.equal(ask({ config: { times: 10, maxDelayMs: 800 }, retriesDone: 6, random: 1 }), 800);
    assert.equal(ask({ config: { times: 10 }, retriesDone: 9, random: 1 }), DEFAULT_RETRY_MAX_DELAY_MS);
  });

  it("never lets a retry push the time on this target past the request's first-token budget", () => {
    assert.equal(ask({ budgetMs: 60_000, elapsedOnTargetMs: 59_800, random: 1 }), undefined);
    assert.equal(ask({ budgetMs: 60_000, elapsedOnTargetMs: 1_000, random: 1 }), RETRY_BASE_DELAY_MS);
    // A stall or request timeout before the answer is held to the same budget.
    const stalled = makeFailure("timeout", "mock-a/model-a: no data for 30000 ms (stream stalled)");
    const timeout = { times: 1, kinds: ["timeout" as const] };
    assert.equal(ask({ config: timeout, failure: stalled, budgetMs: 60_000, elapsedOnTargetMs: 59_800 }), undefined);
    assert.equal(
      ask({ config: timeout, failure: stalled, budgetMs: 60_000, elapsedOnTargetMs: 1_000, random: 1 }),
      500,
    );
  });

  it("gives the retry of a first-token timeout a first-token window of its own, when timeout is listed", () => {
    const firstToken = timeoutFailure("mock-a/model-a", "first-token", { firstTokenMs: 60_000 });
    assert.equal(opensNewWindow(firstToken), true);
    assert.equal(opensNewWindow(makeFailure("timeout", "no data for 30000 ms (stream stalled)")), false);
    const timeout = { times: 2, kinds: ["timeout" as const] };
    // The timeout used the whole window: the retry is not counted against it.
    const spent = { failure: firstToken, budgetMs: 60_000, elapsedOnTargetMs: 60_000, random: 1 };
    assert.equal(ask({ ...spent, config: timeout }), RETRY_BASE_DELAY_MS);
    assert.equal(ask({ ...spent, config: timeout, retriesDone: 1 }), RETRY_BASE_DELAY_MS * 2);
    assert.equal(ask({ ...spent, config: timeout, retriesDone: 2 }), undefined, "times still caps the retries");
    assert.equal(ask({ ...spent, config: { times: 2 } }), undefined, "not retried unless timeout is listed");
    // The wait is part of the new window: one as long as the window leaves no time to answer in.
    assert.equal(ask({ ...spent, config: { ...timeout, maxDelayMs: 800 }, budgetMs: 700, retriesDone: 1 }), undefined);
    assert.equal(ask({ ...spent, config: { ...timeout, maxDelayMs: 800 }, budgetMs: 900, retriesDone: 1 }), 800);
  });
});
