// Prepaid balances shared between processes (the balances store, the team store in team mode): a background refresh
// fetches only for the process holding the provider's claim for the TTL; the others use its reading.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BALANCE_TTL_MS,
  BalanceBook,
  balanceSources,
  type SharedBalances,
  type StoredBalance,
} from "../../src/budget/balance-book.ts";
import type { FetchLike } from "../../src/quota/fetch-json.ts";

const json = (status: number, body: unknown) => ({ ok: status < 300, status, json: async () => body });
const deepseek = (usd: string) => json(200, { balance_infos: [{ currency: "USD", total_balance: usd }] });
const config: any = {
  routes: { main: { targets: [{ provider: "deepseek", modelId: "m", balanceEndpoint: "http://127.0.0.1:9/b" }] } },
};
const [source] = balanceSources(config);
const registry: any = {
  find: () => ({ id: "m" }),
  getApiKeyAndHeaders: async () => ({ ok: true, apiKey: "sk-test" }),
};

/** A store and claims every book shares (as machines share the team store), on one clock, and the claims asked. */
function team(now: () => number) {
  const readings = new Map<string, StoredBalance>();
  const claims = new Map<string, { holder: number; until: number }>();
  const asked: string[] = [];
  const sharedFor = (holder: number): SharedBalances => ({
    read: (provider) => readings.get(provider),
    write: (provider, reading) => void readings.set(provider, reading),
    claim: async (name, ttlMs) => {
      asked.push(name);
      const held = claims.get(name);
      if (held && held.until > now() && held.holder !== holder) return false;
      claims.set(name, { holder, until: now() + ttlMs });
      return true;
    },
  });
  return { readings, claims, asked, sharedFor };
}

describe("shared balances", () => {
  it("lets one of two processes fetch a balance per TTL; the other uses its reading", async () => {
    let clock = 1_000;
    const now = () => clock;
    const { sharedFor, asked } = team(now);
    let calls = 0;
    const fetch: FetchLike = async () => {
      calls += 1;
      return deepseek("8.00");
    };
    const books = [1, 2].map(
      (holder) => new BalanceBook({ registry: () => registry, now, fetch, retries: 0, shared: sharedFor(holder) }),
    );
    await Promise.all(books.map((book) => book.refresh(source!)));
    assert.equal(calls, 1);
    assert.deepEqual(asked, ["balance-fetch:deepseek", "balance-fetch:deepseek"]);
    for (const book of books) assert.equal(book.get("deepseek")?.amount, 8);
    clock += BALANCE_TTL_MS - 1;
    await Promise.all(books.map((book) => book.refresh(source!)));
    assert.equal(calls, 1, "a fresh shared reading is not fetched again");
    clock += 2;
    await Promise.all(books.map((book) => book.refresh(source!)));
    assert.equal(calls, 2, "after the TTL one process fetches again");
  });

  it("lets another process fetch once a claim expires without a reading (its holder died)", async () => {
    let clock = 0;
    const now = () => clock;
    const { sharedFor, claims } = team(now);
    claims.set("balance-fetch:deepseek", { holder: 9, until: BALANCE_TTL_MS });
    let calls = 0;
    const fetch: FetchLike = async () => {
      calls += 1;
      return deepseek("4.00");
    };
    const book = new BalanceBook({ registry: () => registry, now, fetch, retries: 0, shared: sharedFor(1) });
    assert.deepEqual(await book.refresh(source!), {});
    assert.equal(calls, 0, "the claim's holder fetches in its TTL");
    clock = BALANCE_TTL_MS;
    assert.equal((await book.refresh(source!)).amount, 4);
    assert.equal(calls, 1);
  });

  it("fetches on `balance fetch` (force) whatever is claimed or shared", async () => {
    const { sharedFor, claims, readings, asked } = team(() => 10);
    claims.set("balance-fetch:deepseek", { holder: 9, until: BALANCE_TTL_MS });
    readings.set("deepseek", { amount: 2, currency: "USD", fetchedAt: 5 });
    const fetch: FetchLike = async () => deepseek("6.00");
    const book = new BalanceBook({ registry: () => registry, now: () => 10, fetch, retries: 0, shared: sharedFor(1) });
    assert.equal((await book.refresh(source!, true)).amount, 6);
    assert.deepEqual(asked, []);
    assert.equal(readings.get("deepseek")?.amount, 6);
  });

  it("does not take the claim when it has no key to fetch with, so a process that has one fetches", async () => {
    const { sharedFor, asked } = team(() => 0);
    const keyless: any = { ...registry, getApiKeyAndHeaders: async () => ({ ok: false }) };
    const fetch: FetchLike = async () => deepseek("1.00");
    const book = new BalanceBook({ registry: () => keyless, now: () => 0, fetch, retries: 0, shared: sharedFor(1) });
    const entry = await book.refresh(source!);
    assert.equal(entry.error, "no API key for deepseek");
    assert.deepEqual(asked, []);
  });

  it("makes a first prompt that lost the claim wait for the holder's reading, and no longer than it is told", async () => {
    const { sharedFor } = team(() => 0);
    let answer: (value: Awaited<ReturnType<FetchLike>>) => void = () => {};
    let calls = 0;
    const fetch: FetchLike = () => {
      calls += 1;
      return new Promise((resolve) => (answer = resolve));
    };
    const options = { registry: () => registry, now: () => 0, fetch, retries: 0 };
    const holder = new BalanceBook({ ...options, shared: sharedFor(1) });
    const other = new BalanceBook({ ...options, shared: sharedFor(2) });
    const fetching = holder.refresh(source!);
    await new Promise((resolve) => setImmediate(resolve));
    let done = false;
    const waiting = other.firstReadings([source!], 3_600_000).then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(done, false, "waits for the reading the claim's holder is fetching");
    answer(deepseek("3.00"));
    await Promise.all([fetching, waiting]);
    assert.equal(other.get("deepseek")?.amount, 3);
    assert.equal(calls, 1);
    const dead = team(() => 0);
    dead.claims.set("balance-fetch:deepseek", { holder: 9, until: BALANCE_TTL_MS });
    const late = new BalanceBook({ ...options, shared: dead.sharedFor(3) });
    await late.firstReadings([source!], 1);
    assert.equal(late.get("deepseek"), undefined, "its holder never wrote one: routes without it after the wait");
    assert.equal(calls, 1);
  });
});
