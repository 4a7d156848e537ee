import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { auditProvider } from "../../src/budget/budget-audit.ts";
import {
  switchedOff,
  clearLimitOperation,
  effectiveLimits,
  emptyLimits,
  setLimitOperation,
} from "../../src/budget/budget-limits.ts";
import { calendarKeys } from "../../src/budget/calendar.ts";

const daily = (amount: number) => ({ daily: { amount, source: "config" as const } });

describe("budget audit thresholds", () => {
  it("is ok just below 80% of the daily limit", () => {
    assert.equal(auditProvider({ limits: daily(1), spentTodayUsd: 0.79, spentThisMonthUsd: 0.79 }).level, "ok");
  });
  it("warns at exactly 80% of the daily limit, including amounts that are not exact in binary", () => {
    assert.equal(auditProvider({ limits: daily(1), spentTodayUsd: 0.8, spentThisMonthUsd: 0 }).level, "warning");
    const audit = auditProvider({ limits: daily(0.3), spentTodayUsd: 0.24, spentThisMonthUsd: 0 });
    assert.equal(audit.level, "warning");
    assert.match(audit.detail, /daily \$0\.24 of \$0\.30 \(80%\)/);
  });
  it("blocks at exactly 100% of the limit and above", () => {
    assert.equal(
      auditProvider({ limits: daily(0.3), spentTodayUsd: 0.1 + 0.2, spentThisMonthUsd: 0 }).level,
      "blocked",
    );
    assert.equal(auditProvider({ limits: daily(2), spentTodayUsd: 5, spentThisMonthUsd: 5 }).level, "blocked");
  });
  it("treats a zero limit as allowing nothing", () => {
    assert.equal(auditProvider({ limits: daily(0), spentTodayUsd: 0, spentThisMonthUsd: 0 }).level, "blocked");
  });
  it("enforces the daily limit when a monthly limit also exists and is far from reached", () => {
    const limits = {
      daily: { amount: 1, source: "config" as const },
      monthly: { amount: 100, source: "config" as const },
    };
    const audit = auditProvider({ limits, spentTodayUsd: 1.2, spentThisMonthUsd: 10 });
    assert.equal(audit.level, "blocked");
    assert.deepEqual(
      audit.periods.map((p) => [p.period, p.level]),
      [
        ["daily", "blocked"],
        ["monthly", "ok"],
      ],
    );
  });
  it("enforces the monthly limit when today's spend is within the daily limit", () => {
    const limits = {
      daily: { amount: 5, source: "config" as const },
      monthly: { amount: 20, source: "command" as const },
    };
    const audit = auditProvider({ limits, spentTodayUsd: 1, spentThisMonthUsd: 20 });
    assert.equal(audit.level, "blocked");
    assert.match(audit.detail, /monthly \$20\.00 of \$20\.00 set with \/auto-router budget set \(100%\)/);
    assert.doesNotMatch(audit.detail, /daily/);
  });
  it("blocks a provider whose balance is below the floor, and not one at the floor", () => {
    const limits = { balanceFloor: { amount: 2, source: "config" as const } };
    assert.equal(
      auditProvider({ limits, spentTodayUsd: 0, spentThisMonthUsd: 0, balance: { amount: 1.99 } }).level,
      "blocked",
    );
    assert.equal(auditProvider({ limits, spentTodayUsd: 0, spentThisMonthUsd: 0, balance: { amount: 2 } }).level, "ok");
    assert.equal(
      auditProvider({ limits, spentTodayUsd: 0, spentThisMonthUsd: 0 }).level,
      "ok",
      "no reading yet: not blocked",
    );
  });
  it("names a floor or a limit set by command where it blocks, since the routes file does not hold it", () => {
    const balance = { amount: 8 };
    const fromCommand = auditProvider({
      limits: { balanceFloor: { amount: 10, source: "command", overrides: { amount: 5, currency: "USD" } } },
      spentTodayUsd: 0,
      spentThisMonthUsd: 0,
      balance,
    });
    assert.equal(fromCommand.detail, "balance $8.00 below the floor $10.00 set with /auto-router balance floor");
    const fromConfig = auditProvider({
      limits: { balanceFloor: { amount: 10, source: "config" } },
      spentTodayUsd: 0,
      spentThisMonthUsd: 0,
      balance,
    });
    assert.equal(fromConfig.detail, "balance $8.00 below the floor $10.00");
    const daily = auditProvider({
      limits: { daily: { amount: 5, source: "command" }, monthly: { amount: 20, source: "config" } },
      spentTodayUsd: 5,
      spentThisMonthUsd: 20,
    });
    assert.equal(
      daily.detail,
      "daily $5.00 of $5.00 set with /auto-router budget set (100%); monthly $20.00 of $20.00 (100%)",
    );
  });
  it("says what a balance below its floor was fetched at and what was spent since, when spend was taken off", () => {
    const limits = { balanceFloor: { amount: 5, source: "config" as const } };
    const balance = { amount: 4.8, fetchedAgoMs: 180_000, spentSinceUsd: 0.2 };
    const audit = auditProvider({ limits, spentTodayUsd: 0, spentThisMonthUsd: 0, balance });
    assert.equal(audit.level, "blocked");
    assert.equal(audit.detail, "balance $4.80 below the floor $5.00 ($5.00 fetched 3m ago, $0.20 spent since)");
    assert.equal(audit.balance?.spentSinceUsd, 0.2);
    const stale = auditProvider({
      limits,
      spentTodayUsd: 0,
      spentThisMonthUsd: 0,
      balance: { ...balance, stale: true },
    });
    assert.equal(stale.detail, "balance $4.80 below the floor $5.00 (stale, $5.00 fetched 3m ago, $0.20 spent since)");
  });
  it("says how old the balance behind a block is, and that it is stale", () => {
    const limits = { balanceFloor: { amount: 5, source: "config" as const } };
    const balance = { amount: 2, stale: true, fetchedAgoMs: 2 * 3_600_000 };
    const audit = auditProvider({ limits, spentTodayUsd: 0, spentThisMonthUsd: 0, balance });
    assert.equal(audit.detail, "balance $2.00 below the floor $5.00 (stale, fetched 2h00m ago)");
  });
});

describe("budget limit precedence", () => {
  const config = { providers: { deepseek: { daily: 1, monthly: 10 }, openai: { monthly: 50 } } };
  it("uses config limits when no command set one", () => {
    const limits = effectiveLimits(config, emptyLimits());
    assert.deepEqual(limits.deepseek, {
      daily: { amount: 1, source: "config" },
      monthly: { amount: 10, source: "config" },
    });
  });
  it("lets a command-set limit override the config for that provider and period only", () => {
    const state = setLimitOperation("deepseek", "monthly", 3, 0)(emptyLimits());
    const limits = effectiveLimits(config, state);
    // The config's monthly $10 is what the command-set $3 overrides (the budget table names it).
    assert.deepEqual(limits.deepseek, {
      daily: { amount: 1, source: "config" },
      monthly: { amount: 3, source: "command", overrides: { amount: 10, currency: "USD" } },
    });
    assert.deepEqual(limits.openai, { monthly: { amount: 50, source: "config" } });
  });
  it("switches a config limit off with `off` and restores it with clear", () => {
    const off = setLimitOperation("openai", "monthly", null, 0)(emptyLimits());
    assert.equal(effectiveLimits(config, off).openai, undefined);
    const cleared = clearLimitOperation("openai", "monthly", 1)(off);
    assert.deepEqual(effectiveLimits(config, cleared).openai, { monthly: { amount: 50, source: "config" } });
  });
  it("applies a limit whose provider name differs only in case, under the name the targets bill to", () => {
    const cased = { providers: { "Mock-A": { daily: 0.001 }, "mock-b": { monthly: 4 } } };
    const state = setLimitOperation("MOCK-A", "monthly", 3, 0)(emptyLimits());
    assert.deepEqual(effectiveLimits(cased, state, ["mock-a", "Mock-B"]), {
      "mock-a": { daily: { amount: 0.001, source: "config" }, monthly: { amount: 3, source: "command" } },
      "Mock-B": { monthly: { amount: 4, source: "config" } },
    });
    // No target bills to it: one provider all the same, named as first written.
    assert.deepEqual(Object.keys(effectiveLimits(cased, state)), ["Mock-A", "mock-b"]);
  });
  it("keeps one command-set value per provider and period whatever the spelling, and clears every spelling", () => {
    const earlier = { version: 1, providers: { "MOCK-A": { daily: 1, monthly: 3, updatedAt: 1 } } };
    const set = setLimitOperation("mock-a", "daily", 2, 5)(earlier);
    assert.deepEqual(set.providers, {
      "MOCK-A": { monthly: 3, updatedAt: 1 },
      "mock-a": { daily: 2, updatedAt: 5, setAt: { daily: 5 } },
    });
    assert.deepEqual(effectiveLimits(undefined, set, ["mock-a"])["mock-a"], {
      daily: { amount: 2, source: "command" },
      monthly: { amount: 3, source: "command" },
    });
    assert.deepEqual(clearLimitOperation("Mock-A", undefined, 6)(set).providers, {});
  });
});

describe("the trace a clear leaves", () => {
  const config = { providers: { deepseek: { daily: 1, balanceFloor: 5 } } };
  it("keeps each cleared field's time, which is no limit: the config's applies; a value set again removes it", () => {
    const set = setLimitOperation(
      "DeepSeek",
      "balanceFloor",
      10,
      1,
    )(setLimitOperation("deepseek", "daily", 2, 1)(emptyLimits()));
    const cleared = clearLimitOperation(
      "deepseek",
      "balanceFloor",
      7,
    )(clearLimitOperation("deepseek", undefined, 5)(set));
    assert.deepEqual(cleared, {
      version: 1,
      providers: {},
      cleared: { deepseek: { daily: 5, monthly: 5, balanceFloor: 7 } },
    });
    assert.deepEqual(effectiveLimits(config, cleared, ["deepseek"]).deepseek, {
      daily: { amount: 1, source: "config" },
      balanceFloor: { amount: 5, source: "config" },
    });
    assert.equal(switchedOff(config, cleared, "deepseek", "balanceFloor"), undefined);
    assert.deepEqual(effectiveLimits(undefined, cleared), {});
    const again = setLimitOperation("DEEPSEEK", "daily", 3, 9)(cleared);
    assert.deepEqual(again.cleared, { deepseek: { monthly: 5, balanceFloor: 7 } });
    assert.deepEqual(effectiveLimits(config, again, ["deepseek"]).deepseek?.daily, {
      amount: 3,
      source: "command",
      overrides: { amount: 1, currency: "USD" },
    });
    const allSetAgain = setLimitOperation(
      "deepseek",
      "balanceFloor",
      4,
      9,
    )(setLimitOperation("deepseek", "monthly", 4, 9)(again));
    assert.equal(allSetAgain.cleared, undefined, "no trace is left once every cleared field is set again");
  });
});

describe("balance floor precedence", () => {
  const config = { providers: { deepseek: { daily: 1, balanceFloor: 5 } } };
  it("lets a floor set by command override the config's floor, as a command-set limit overrides a period's", () => {
    const state = setLimitOperation("DeepSeek", "balanceFloor", 10, 0)(emptyLimits());
    assert.deepEqual(effectiveLimits(config, state, ["deepseek"]).deepseek, {
      daily: { amount: 1, source: "config" },
      balanceFloor: { amount: 10, source: "command", overrides: { amount: 5, currency: "USD" } },
    });
    assert.equal(switchedOff(config, state, "deepseek", "balanceFloor"), undefined);
  });
  it("switches the config's floor off with off, says which floor it overrides, and restores it with clear", () => {
    const off = setLimitOperation("deepseek", "balanceFloor", null, 0)(emptyLimits());
    assert.deepEqual(effectiveLimits(config, off).deepseek, { daily: { amount: 1, source: "config" } });
    assert.deepEqual(switchedOff(config, off, "DEEPSEEK", "balanceFloor"), { config: { amount: 5, currency: "USD" } });
    assert.deepEqual(switchedOff(undefined, off, "deepseek", "balanceFloor"), {});
    const cleared = clearLimitOperation("deepseek", "balanceFloor", 1)(off);
    assert.deepEqual(cleared.providers, {});
    assert.deepEqual(effectiveLimits(config, cleared).deepseek?.balanceFloor, { amount: 5, source: "config" });
  });
  it("keeps a floor set by command when budget clear removes the provider's daily and monthly limits", () => {
    const state = setLimitOperation(
      "deepseek",
      "daily",
      2,
      1,
    )(setLimitOperation("deepseek", "balanceFloor", 10, 0)(emptyLimits()));
    const cleared = clearLimitOperation("deepseek", undefined, 2)(state);
    // The floor keeps its own set time; the entry's latest is the daily limit's, which is gone.
    assert.deepEqual(cleared.providers, { deepseek: { balanceFloor: 10, updatedAt: 1, setAt: { balanceFloor: 0 } } });
    assert.deepEqual(clearLimitOperation("deepseek", "balanceFloor", 3)(cleared).providers, {});
  });
});

describe("balance floor currency", () => {
  it("keeps a floor's currency from the config and from a command, and drops it with the floor", () => {
    const config = { providers: { deepseek: { balanceFloor: "50 CNY" } } };
    assert.deepEqual(effectiveLimits(config, emptyLimits()).deepseek, {
      balanceFloor: { amount: 50, currency: "CNY", source: "config" },
    });
    const set = setLimitOperation("deepseek", "balanceFloor", 40, 1, "CNY")(emptyLimits());
    assert.deepEqual(set.providers.deepseek, {
      balanceFloor: 40,
      balanceFloorCurrency: "CNY",
      updatedAt: 1,
      setAt: { balanceFloor: 1 },
    });
    assert.deepEqual(effectiveLimits(config, set).deepseek?.balanceFloor, {
      amount: 40,
      currency: "CNY",
      source: "command",
      overrides: { amount: 50, currency: "CNY" },
    });
    // Set again in USD: the earlier floor's currency does not stay behind to turn $5 into 5 CNY.
    const inUsd = setLimitOperation("DeepSeek", "balanceFloor", 5, 2)(set);
    assert.deepEqual(effectiveLimits(undefined, inUsd).DeepSeek?.balanceFloor, { amount: 5, source: "command" });
    assert.deepEqual(
      switchedOff(config, setLimitOperation("deepseek", "balanceFloor", null, 3)(set), "deepseek", "balanceFloor"),
      {
        config: { amount: 50, currency: "CNY" },
      },
    );
    assert.deepEqual(clearLimitOperation("deepseek", "balanceFloor", 4)(set).providers, {});
  });
  it("compares a balance with a floor in the same currency and says both in it", () => {
    const audit = auditProvider({
      limits: { balanceFloor: { amount: 50, currency: "CNY", source: "config" } },
      spentTodayUsd: 0,
      spentThisMonthUsd: 0,
      balance: { amount: 30, currency: "CNY" },
    });
    assert.equal(audit.level, "blocked");
    assert.deepEqual(audit.balance, { amount: 30, floor: 50, currency: "CNY", level: "blocked" });
    assert.match(audit.detail, /balance 30\.00 CNY below the floor 50\.00 CNY/);
  });
});

describe("spend calendar", () => {
  it("puts 23:30 local time on the last day of a month in that month, though it is already the next month in UTC", () => {
    const instant = Date.parse("2025-02-01T04:30:00Z"); // 2025-01-31 23:30 in New York (UTC-5)
    assert.deepEqual(calendarKeys(instant, "America/New_York"), { day: "2025-01-31", month: "2025-01" });
    assert.deepEqual(calendarKeys(instant, "UTC"), { day: "2025-02-01", month: "2025-02" });
  });
  it("starts the new month at local midnight east of UTC while UTC is still in the old month", () => {
    const instant = Date.parse("2025-02-28T15:30:00Z"); // 2025-03-01 00:30 in Tokyo
    assert.deepEqual(calendarKeys(instant, "Asia/Tokyo"), { day: "2025-03-01", month: "2025-03" });
  });
  it("derives day and month from the same local date", () => {
    for (const instant of [Date.parse("2024-12-31T23:59:59Z"), Date.parse("2024-03-10T07:30:00Z")]) {
      const keys = calendarKeys(instant, "America/Los_Angeles");
      assert.equal(keys.day.slice(0, 7), keys.month);
    }
  });
});
