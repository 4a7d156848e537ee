import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CooldownEntry, SkippedTarget } from "../../src/routing/types.ts";
import {
  cooldownWaitOf,
  describeWait,
  earliestQuotaReset,
  waitNoteText,
  waitUntilReset,
} from "../../src/runtime/wait-for-reset.ts";

const NOW = 1_800_000_000_000;
const skip = (key: string, reason: SkippedTarget["reason"], until?: number): SkippedTarget => ({
  key,
  provider: key.split("/")[0]!,
  modelId: key.split("/")[1]!,
  label: key,
  reason,
  detail: reason,
  until,
});
const quotaCooldown = (until: number, resetKnown = true): CooldownEntry => ({
  until,
  kind: "quota_exhausted",
  resetKnown,
});

const ask = (skipped: SkippedTarget[], cooldowns: Record<string, CooldownEntry>, maxMs = 600_000, candidates = 0) =>
  earliestQuotaReset({ routeId: "r", candidates, skipped, cooldowns, maxMs, now: NOW });

describe("earliestQuotaReset", () => {
  it("picks the earliest named reset when every target is out of quota", () => {
    const wait = ask([skip("a/1", "cooldown", NOW + 300_000), skip("b/2", "cooldown", NOW + 120_000)], {
      "r::a/1": quotaCooldown(NOW + 300_000),
      "r::b/2": quotaCooldown(NOW + 120_000),
    });
    assert.deepEqual(wait, { key: "b/2", until: NOW + 120_000 });
  });

  it("does not wait beyond maxMs", () => {
    assert.equal(ask([skip("a/1", "cooldown")], { "r::a/1": quotaCooldown(NOW + 300_000) }, 299_999), undefined);
  });

  it("never waits when a target is cooling down from a transient error", () => {
    const cooldowns = { "r::a/1": quotaCooldown(NOW + 60_000), "r::b/2": { until: NOW + 90_000, kind: "rate_limit" } };
    assert.equal(ask([skip("a/1", "cooldown"), skip("b/2", "cooldown")], cooldowns), undefined);
  });

  it("never waits for a quota cooldown whose reset time the provider did not name", () => {
    assert.equal(ask([skip("a/1", "cooldown")], { "r::a/1": quotaCooldown(NOW + 60_000, false) }), undefined);
  });

  it("never waits while something can still serve, or for a breaker", () => {
    assert.equal(ask([skip("a/1", "cooldown")], { "r::a/1": quotaCooldown(NOW + 60_000) }, 600_000, 1), undefined);
    assert.equal(
      ask([skip("a/1", "cooldown"), skip("b/2", "circuit-open", NOW + 10_000)], {
        "r::a/1": quotaCooldown(NOW + 60_000),
      }),
      undefined,
    );
  });

  it("waits for a quota-paced window that excludes a target, by the time route() gives, and not without one", () => {
    const wait = ask([skip("a/1", "quota", NOW + 240_000), skip("b/2", "cooldown")], {
      "r::b/2": quotaCooldown(NOW + 300_000),
    });
    assert.deepEqual(wait, { key: "a/1", until: NOW + 240_000 });
    assert.equal(ask([skip("a/1", "quota")], {}), undefined);
    assert.equal(ask([skip("a/1", "quota", NOW + 240_000)], {}, 239_999), undefined);
  });

  it("ignores targets that could never serve this route (no credentials, missing model)", () => {
    const wait = ask([skip("a/1", "cooldown"), skip("b/2", "no-credentials"), skip("c/3", "missing-model")], {
      "r::a/1": quotaCooldown(NOW + 60_000),
    });
    assert.deepEqual(wait, { key: "a/1", until: NOW + 60_000 });
    assert.equal(ask([skip("b/2", "no-credentials")], {}), undefined);
  });
});

describe("waitUntilReset", () => {
  it("ticks the countdown once per second until the reset and resolves true", async () => {
    let now = NOW;
    const ticks: number[] = [];
    const done = await waitUntilReset(
      {
        now: () => now,
        sleep: async (ms) => {
          now += ms;
          return true;
        },
        onTick: () => void ticks.push(now),
      },
      { key: "a/1", until: NOW + 3_000 },
      undefined,
    );
    assert.equal(done, true);
    assert.ok(now >= NOW + 3_000);
    assert.equal(ticks.length, 4); // 0 s, 1 s, 2 s, then the 250 ms margin past the reset
  });

  it("resolves false as soon as the sleep is aborted", async () => {
    let sleeps = 0;
    const done = await waitUntilReset(
      {
        now: () => NOW,
        sleep: async () => {
          sleeps += 1;
          return false;
        },
        onTick: () => {},
      },
      { key: "a/1", until: NOW + 60_000 },
      undefined,
    );
    assert.equal(done, false);
    assert.equal(sleeps, 1);
  });
});

describe("a short wait (cooldownWaitMs) in words", () => {
  it("calls a wait for a quota cooldown with a named reset a quota reset, and says how long it waited", () => {
    const wait = cooldownWaitOf(skip("b/2", "cooldown", NOW + 20_000), quotaCooldown(NOW + 20_000));
    assert.deepEqual(wait, { reason: "quota-reset" });
    assert.equal(waitNoteText("waited", 20_400, "b/2", wait), "waited 20 s for b/2's quota reset");
  });

  it("calls a transient cooldown, an unnamed quota reset and an open breaker what they are", () => {
    const transient = cooldownWaitOf(
      { reason: "cooldown", detail: "rate_limit: 429 slow down" },
      { until: NOW + 3_000, kind: "rate_limit" },
    );
    assert.deepEqual(transient, { reason: "cooldown", kind: "rate_limit" });
    assert.equal(
      waitNoteText("stopped after waiting", 2_000, "a/1", transient),
      "stopped after waiting 2 s for a/1 to come back (resting after rate_limit)",
    );
    assert.equal(cooldownWaitOf(skip("b/2", "cooldown"), quotaCooldown(NOW + 20_000, false)).reason, "cooldown");
    assert.deepEqual(cooldownWaitOf(skip("c/3", "circuit-open"), undefined), { reason: "circuit-open" });
  });
});

describe("describeWait", () => {
  const line = (ms: number) => describeWait("main", { key: "a/1", until: 10_000 + ms }, 10_000);
  it("counts as the status line does: whole seconds rounded up, tenths under a second, minutes from two on", () => {
    assert.equal(
      line(3_200),
      "auto-router: every target of main is out of quota; waiting 4s for a/1 to reset (Esc stops)",
    );
    assert.match(line(400), /waiting 0\.4s for a\/1/);
    assert.match(line(119_000), /waiting 119s for a\/1/);
    assert.match(line(600_000), /waiting 10m for a\/1/);
  });
});
