// Pure parts of the provider health rule, the monthly-spend quota window of per-token providers,
// and when a provider's UVI assessment is news for the event log.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { monthBounds, monthlySpendWindows, perTokenProviders } from "../../src/budget/monthly-spend.ts";
import { parseConfigValue } from "../../src/config/parse-config.ts";
import {
  emptyHealth,
  HealthBook,
  healthCheckOf,
  healthStateSchema,
  probeCheckOf,
  reduceHealth,
  unhealthyReason,
  UNHEALTHY_HOLD_MS,
  type HealthRecord,
} from "../../src/health/health-book.ts";
import { assessmentChanged, quotaNews } from "../../src/quota/quota-events.ts";
import { assessQuota } from "../../src/routing/uvi.ts";
import { createMemoryStore } from "../../src/state/memory-store.ts";

const T0 = Date.UTC(2026, 4, 10, 12, 0, 0);
const failed = (at: number) => ({ type: "failed" as const, at, error: "auth: 401" });

describe("provider health rule", () => {
  it("marks a provider unhealthy on the third failed check in a row, not before", () => {
    let record: HealthRecord | undefined;
    record = reduceHealth(record, failed(T0));
    record = reduceHealth(record, failed(T0 + 1));
    assert.equal(unhealthyReason(record, T0 + 2), undefined);
    record = reduceHealth(record, failed(T0 + 2));
    assert.match(unhealthyReason(record, T0 + 3) ?? "", /3 failed checks in a row \(last: auth: 401\)/);
  });

  it("clears the mark on a successful check and keeps the last error for the report", () => {
    let record: HealthRecord | undefined;
    for (let i = 0; i < 3; i++) record = reduceHealth(record, failed(T0 + i));
    record = reduceHealth(record, { type: "ok", at: T0 + 10 });
    assert.equal(unhealthyReason(record, T0 + 11), undefined);
    assert.equal(record.failures, 0);
    assert.equal(record.lastError, "auth: 401");
  });

  it("leaves the count unchanged on a neutral check, so failures around a rate limit still add up", () => {
    let record: HealthRecord | undefined = reduceHealth(undefined, failed(T0));
    record = reduceHealth(record, { type: "neutral", at: T0 + 1 });
    assert.equal(record.failures, 1);
  });

  it("lets the mark lapse after the hold so one real request re-checks, and marks again at once when it fails", () => {
    let record: HealthRecord | undefined;
    for (let i = 0; i < 3; i++) record = reduceHealth(record, failed(T0 + i));
    assert.equal(unhealthyReason(record, T0 + 2 + UNHEALTHY_HOLD_MS), undefined);
    record = reduceHealth(record, failed(T0 + 3 + UNHEALTHY_HOLD_MS));
    assert.ok(unhealthyReason(record, T0 + 4 + UNHEALTHY_HOLD_MS));
  });

  it("remembers auth, network, timeout, server and overloaded failures of real requests without counting them, and ignores rate limits and aborts", () => {
    const observation = (outcome: any) => ({
      requestId: "r",
      routeId: "main",
      attempt: 1,
      candidate: { key: "p/m", provider: "p", modelId: "m" } as any,
      outcome,
      now: T0,
    });
    const failure = (kind: string) =>
      observation({ status: "failed", failure: { kind, message: "x", retryable: true, failover: true }, latencyMs: 1 });
    for (const kind of ["auth", "network", "timeout", "server", "overloaded"])
      assert.equal(healthCheckOf(failure(kind)).type, "error-seen", kind);
    for (const kind of ["rate_limit", "invalid_request", "context_overflow"])
      assert.equal(healthCheckOf(failure(kind)).type, "neutral", kind);
    assert.equal(healthCheckOf(observation({ status: "aborted", latencyMs: 1 })).type, "neutral");
    assert.equal(healthCheckOf(observation({ status: "committed", final: "done", latencyMs: 1 })).type, "ok");
  });

  it("redacts a key that a failure message echoes before it is stored", () => {
    const check = healthCheckOf({
      requestId: "r",
      routeId: "main",
      attempt: 1,
      candidate: { key: "p/m", provider: "p", modelId: "m" } as any,
      now: T0,
      outcome: {
        status: "failed",
        failure: {
          kind: "auth",
          message: "401 Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz123456",
          retryable: false,
          failover: true,
        },
        latencyMs: 1,
      } as any,
    });
    assert.equal(check.type, "error-seen");
    assert.doesNotMatch(check.type === "error-seen" ? check.error : "", /abcdefghijklmnop/);
    const record = reduceHealth({ failures: 2 }, check);
    assert.equal(record.failures, 2, "a real request's failure is not a failed check");
  });

  it("holds a mark set by a clock that ran ahead the hold from now at most, and keeps it so bounded", () => {
    const store = createMemoryStore(emptyHealth());
    // Another machine's clock was a day ahead (or the file was edited): its mark would hold for a day and the hold.
    const ahead = T0 + 24 * 3_600_000;
    store.update(() => ({ v: 1, providers: { p: { failures: 3, unhealthySince: ahead, lastError: "auth: 401" } } }));
    const book = new HealthBook(store);
    assert.equal(book.providerStatus(T0).p?.unhealthyUntil, T0 + UNHEALTHY_HOLD_MS);
    assert.equal(store.read().providers.p!.unhealthySince, T0, "written back bounded, so it runs out from here");
    assert.equal(book.providerStatus(T0 + 1_000).p?.unhealthyUntil, T0 + UNHEALTHY_HOLD_MS, "not bounded anew");
    assert.equal(book.providerStatus(T0 + UNHEALTHY_HOLD_MS).p, undefined);
    // A mark within the clock is read as written.
    store.update(() => ({ v: 1, providers: { p: { failures: 3, unhealthySince: T0 - 1_000 } } }));
    assert.equal(book.providerStatus(T0).p?.unhealthyUntil, T0 - 1_000 + UNHEALTHY_HOLD_MS);
  });

  it("refuses a count or time in the health file that no check writes", () => {
    const parse = (record: Record<string, unknown>) =>
      healthStateSchema
        .safeParse({ v: 1, providers: { p: { failures: 0, ...record } } })
        .error?.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    assert.deepEqual(parse({ failures: 2.5 }), [
      "providers.p.failures: expected a whole number from 0 to 1000000000000000 (10^15), got 2.5",
    ]);
    assert.deepEqual(parse({ failures: 1e300 }), [
      "providers.p.failures: expected a whole number from 0 to 1000000000000000 (10^15), got 1e+300",
    ]);
    assert.deepEqual(parse({ lastOkAt: -1 }), [
      "providers.p.lastOkAt: expected a time in epoch ms from 0 to 253402300799999 (the end of the year 9999), got -1",
    ]);
    assert.equal(parse({ failures: 1e15, unhealthySince: 253402300799999, lastOkAt: 0 }), undefined);
  });

  it("treats a probe that answered as ok, a probe timeout as failed and a rate-limited probe as neutral", () => {
    assert.equal(probeCheckOf({ ok: true, latencyMs: 5, status: 200 }, T0).type, "ok");
    assert.equal(probeCheckOf({ ok: false, latencyMs: 5, failureKind: "timeout" }, T0).type, "failed");
    assert.equal(probeCheckOf({ ok: false, latencyMs: 5, status: 429, failureKind: "rate_limit" }, T0).type, "neutral");
  });
});

describe("monthly spend window of per-token providers", () => {
  it("spans the calendar month in the budget's time zone", () => {
    assert.deepEqual(monthBounds(T0, "UTC"), { start: Date.UTC(2026, 4, 1), end: Date.UTC(2026, 5, 1) });
    // New York is UTC-4 in May: the month starts at 04:00 UTC.
    assert.deepEqual(monthBounds(T0, "America/New_York"), {
      start: Date.UTC(2026, 4, 1, 4),
      end: Date.UTC(2026, 5, 1, 4),
    });
    // March 2026 in Berlin: starts in winter time (UTC+1), ends in summer time (UTC+2).
    assert.deepEqual(monthBounds(Date.UTC(2026, 2, 15), "Europe/Berlin"), {
      start: Date.UTC(2026, 1, 28, 23),
      end: Date.UTC(2026, 2, 31, 22),
    });
  });

  it("gives a per-token provider with a monthly budget a window of spent / budget, and nobody else one", () => {
    const windows = monthlySpendWindows(
      [
        { provider: "deepseek", spentUsd: 3, monthlyUsd: 10 },
        { provider: "anthropic", spentUsd: 50, monthlyUsd: 100 },
        { provider: "openrouter", spentUsd: 2 },
        { provider: "zero", spentUsd: 1, monthlyUsd: 0 },
      ],
      new Set(["deepseek", "openrouter", "zero"]),
      T0,
      "UTC",
    );
    assert.deepEqual(Object.keys(windows), ["deepseek"]);
    const window = windows.deepseek![0]!;
    assert.deepEqual(
      { ...window },
      {
        name: "monthly budget",
        usedFraction: 0.3,
        windowMs: 31 * 86_400_000,
        resetsAt: Date.UTC(2026, 5, 1),
        source: "budget",
      },
    );
    // 30% spent with 9.5 of 31 days gone: UVI ≈ 0.98, on pace.
    assert.equal(assessQuota([window], T0)!.shared!.level, "ok");
  });

  it("takes billing from the target's config, else per-token unless pi uses OAuth for the model", () => {
    const { config } = parseConfigValue({
      routes: {
        main: {
          targets: [
            { provider: "anthropic", modelId: "claude" },
            { provider: "deepseek", modelId: "chat" },
            { provider: "openrouter", modelId: "x", billing: "subscription" },
            { provider: "zai", modelId: "glm", billing: "per-token" },
            { provider: "gone", modelId: "missing" },
          ],
        },
      },
    });
    const registry = {
      find: (provider: string, modelId: string) =>
        provider === "gone" ? undefined : ({ provider, id: modelId } as any),
      hasConfiguredAuth: () => true,
      getApiKeyAndHeaders: async () => ({ ok: true as const }),
      isUsingOAuth: (model: any) => model.provider === "anthropic",
    };
    assert.deepEqual([...perTokenProviders(config!, registry)].sort(), ["deepseek", "zai"]);
  });
});

describe("quota events", () => {
  const assessment = (used: number) =>
    assessQuota([{ name: "5h", usedFraction: used, windowMs: 5 * 3_600_000, resetsAt: T0 + 2.5 * 3_600_000 }], T0)!
      .shared!;

  it("logs a provider's first assessment, a level change and a UVI move of a quarter, but not a small drift", () => {
    assert.equal(assessmentChanged(undefined, assessment(0.5)), true);
    const logged = { level: assessment(0.5).level, uvi: assessment(0.5).uvi, window: "5h" };
    assert.equal(assessmentChanged(logged, assessment(0.55)), false, "UVI 1.0 -> 1.1, still ok");
    assert.equal(assessmentChanged(logged, assessment(0.63)), true, "UVI 1.0 -> 1.26");
    assert.equal(assessmentChanged(logged, assessment(0.9)), true, "ok -> critical");
  });

  it("logs nothing again for what an earlier process logged, and forgets a provider whose windows are gone", () => {
    const first = quotaNews({}, { anthropic: { shared: assessment(0.5), scoped: [] } });
    assert.deepEqual(
      first.news.map((news) => news.provider),
      ["anthropic"],
    );
    // What the first process stored is all the next process knows: the same reading is no news, and no write.
    const again = quotaNews(first.next, { anthropic: { shared: assessment(0.55), scoped: [] } });
    assert.deepEqual(again.news, []);
    assert.equal(again.next, first.next);
    const moved = quotaNews(first.next, { anthropic: { shared: assessment(0.9), scoped: [] } });
    assert.deepEqual(
      moved.news.map((news) => news.assessment.level),
      ["stressed"],
    );
    assert.equal(moved.next.anthropic?.level, "stressed");
    const gone = quotaNews(moved.next, {});
    assert.deepEqual(gone, { news: [], next: {} });
  });
});
