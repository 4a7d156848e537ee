import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CommandDeps } from "../../src/commands/command-types.ts";
import type { BalanceSource } from "../../src/budget/balance-book.ts";
import { createBalanceSubcommand, floorSources, parseFloorValue } from "../../src/budget/balance-commands.ts";
import type { BudgetService } from "../../src/budget/budget-service.ts";

const source = (provider: string): BalanceSource => ({
  provider,
  kind: "deepseek",
  endpoint: "http://127.0.0.1:1/user/balance",
  target: { provider, modelId: "m" },
});

describe("balance floor command words", () => {
  it("reads an amount of 0 or more with its currency (USD when none), off and clear, and nothing else", () => {
    const usd = (amount: number) => ({ amount, currency: "USD" });
    assert.deepEqual(parseFloorValue(["5"]), usd(5));
    assert.deepEqual(parseFloorValue(["$2.50"]), usd(2.5));
    assert.deepEqual(parseFloorValue(["0"]), usd(0));
    assert.deepEqual(parseFloorValue(["5usd"]), usd(5));
    assert.deepEqual(parseFloorValue(["30", "CNY"]), { amount: 30, currency: "CNY" });
    assert.deepEqual(parseFloorValue(["30cny"]), { amount: 30, currency: "CNY" });
    assert.equal(parseFloorValue(["OFF"]), null);
    assert.equal(parseFloorValue(["clear"]), "clear");
    for (const bad of [[], [""], ["-1"], ["five"], ["1e3"], ["0x10"], ["5", "daily"], ["$5", "CNY"]])
      assert.match((parseFloorValue(bad) as { problem: string }).problem, /is not an amount/, bad.join(" "));
    assert.match(
      (parseFloorValue(["30", "CYN"]) as { problem: string }).problem,
      /"CYN" is not a currency code \(ISO 4217, such as USD or CNY\); did you mean "CNY"\?/,
    );
    assert.match((parseFloorValue(["5", "off"]) as { problem: string }).problem, /"off" is not a currency code/);
    assert.equal(
      (parseFloorValue(["5", "EURO"]) as { problem: string }).problem,
      '"5 EURO" is not an amount: "EURO" is no currency code; did you mean "EUR"?',
    );
  });

  it("finds the balance source a provider name means in any case, and lists every one", () => {
    const sources = [source("openrouter"), source("deepseek")];
    assert.equal(floorSources(sources, "DeepSeek").source?.provider, "deepseek");
    assert.deepEqual(floorSources(sources, "mock-b"), { source: undefined, names: ["deepseek", "openrouter"] });
  });

  it("completes floor, the providers with a balance source, off and clear, then the currencies of the balance", () => {
    const balances = new Map([["deepseek", { amount: 8, currency: "USD", others: { CNY: 30 } }]]);
    const service = {
      balanceSources: () => [source("openrouter"), source("deepseek")],
      balances: { get: (provider: string) => balances.get(provider) },
    } as unknown as BudgetService;
    const balance = createBalanceSubcommand(service);
    const deps = {} as CommandDeps;
    const values = (prefix: string) => balance.complete!(prefix, deps).map((item) => item.value);
    assert.deepEqual(values("fl"), ["floor"]);
    assert.deepEqual(values("floor "), ["floor deepseek", "floor openrouter"]);
    assert.deepEqual(values("floor deepseek "), ["floor deepseek off", "floor deepseek clear"]);
    assert.deepEqual(values("floor deepseek c"), ["floor deepseek clear"]);
    assert.deepEqual(values("fetch "), []);
    assert.deepEqual(values("floor DeepSeek 30 "), ["floor DeepSeek 30 USD", "floor DeepSeek 30 CNY"]);
    assert.deepEqual(values("floor deepseek 30 c"), ["floor deepseek 30 CNY"]);
    assert.deepEqual(values("floor openrouter 5 "), [], "no balance known: nothing to offer");
    assert.deepEqual(values("floor deepseek off "), []);
  });
});
