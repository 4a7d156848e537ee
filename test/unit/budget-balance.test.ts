import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BALANCE_STALE_AFTER_MS,
  BALANCE_TTL_MS,
  BalanceBook,
  balanceIn,
  balanceSources,
  emptyBalances,
  formatBalances,
  isStale,
  lessSpend,
  parseBalances,
  storeReadingOperation,
  type StoredBalance,
} from "../../src/budget/balance-book.ts";
import { formatMoney } from "../../src/config/floor-amount.ts";
import { parseDeepSeekBalance } from "../../src/quota/balance-deepseek.ts";
import { fetchJsonWithRetry, type FetchLike } from "../../src/quota/fetch-json.ts";
import { parseOpenRouterBalance } from "../../src/quota/balance-openrouter.ts";

const json = (status: number, body: unknown) => ({ ok: status < 300, status, json: async () => body });
const noSleep = async () => {};

describe("balance parsers", () => {
  it("reads DeepSeek's USD balance from its string amounts, and keeps one in another currency beside it", () => {
    const body = {
      is_available: true,
      balance_infos: [
        { currency: "CNY", total_balance: "70.00" },
        { currency: "USD", total_balance: "10.50" },
        { currency: "EUR", total_balance: "" },
      ],
    };
    const parsed = parseDeepSeekBalance(body);
    assert.deepEqual(parsed, { amount: 10.5, currency: "USD", others: { CNY: 70 } });
    assert.equal(balanceIn(parsed), 10.5);
    assert.equal(balanceIn(parsed, "CNY"), 70);
    assert.equal(balanceIn(parsed, "EUR"), undefined, "an empty amount is no balance");
    assert.equal(formatBalances(parsed), "$10.50, 70.00 CNY");
  });
  it("keeps a DeepSeek balance that is only in CNY in CNY, never as dollars", () => {
    const body = { is_available: true, balance_infos: [{ currency: "cny", total_balance: "30.00" }] };
    assert.deepEqual(parseDeepSeekBalance(body), { amount: 30, currency: "CNY" });
  });
  it("refuses a DeepSeek answer whose amount is empty instead of reading it as a spent $0 balance", () => {
    for (const total_balance of ["", "  ", null, undefined, "n/a"]) {
      const body = { is_available: true, balance_infos: [{ currency: "USD", total_balance }] };
      assert.throws(() => parseDeepSeekBalance(body), /no numeric total_balance/, String(total_balance));
    }
    assert.deepEqual(
      parseDeepSeekBalance({ balance_infos: [{ currency: "USD", total_balance: "0.00" }] }),
      { amount: 0, currency: "USD" },
      "a real zero stays zero",
    );
  });
  it("shows dollars with a $ and any other currency by its code, without one", () => {
    assert.equal(formatMoney(12.5, "USD"), "$12.50");
    assert.equal(formatMoney(30, "CNY"), "30.00 CNY");
  });
  it("reads OpenRouter credits minus usage, or the key's remaining limit", () => {
    assert.deepEqual(parseOpenRouterBalance({ data: { total_credits: 50, total_usage: 42.5 } }), {
      amount: 7.5,
      currency: "USD",
    });
    assert.deepEqual(parseOpenRouterBalance({ data: { limit: 10, usage: 2, limit_remaining: 8 } }), {
      amount: 8,
      currency: "USD",
    });
    assert.throws(() => parseOpenRouterBalance({ error: "nope" }));
  });
  it("says which OpenRouter field is not a number, and that a key without a limit has no balance of its own", () => {
    assert.throws(
      () => parseOpenRouterBalance({ data: { total_credits: "10", total_usage: 2 } }),
      /^Error: OpenRouter balance answer: total_credits is "10", expected a number of USD$/,
    );
    assert.throws(
      () => parseOpenRouterBalance({ data: { limit: null, usage: 5, limit_remaining: null } }),
      /^Error: OpenRouter's key answer has limit_remaining null: the key has no credit limit, so no balance of its own; point balanceEndpoint at \/api\/v1\/credits/,
    );
  });
});

describe("balance fetch", () => {
  it("retries a 503 with backoff and returns the next answer", async () => {
    const answers = [json(503, {}), json(200, { ok: 1 })];
    const waits: number[] = [];
    const fetch: FetchLike = async () => answers.shift()!;
    const body = await fetchJsonWithRetry("http://127.0.0.1:1/balance", {
      headers: {},
      fetch,
      sleep: async (ms) => {
        waits.push(ms);
      },
      backoffMs: 100,
    });
    assert.deepEqual(body, { ok: 1 });
    assert.deepEqual(waits, [100]);
  });
  it("says an answer that is not JSON is not JSON, not 'SyntaxError reaching'", async () => {
    const fetch: FetchLike = async () => ({
      ok: true,
      status: 200,
      json: async () => JSON.parse("<html>login</html>"),
    });
    await assert.rejects(
      fetchJsonWithRetry("http://127.0.0.1:1/usage?token=x", { headers: {}, fetch, sleep: noSleep }),
      (error: Error) => {
        assert.equal(error.message, "the answer from http://127.0.0.1:1/usage (HTTP 200) is not JSON");
        return true;
      },
    );
  });
  it("gives up after the bounded number of retries and never puts the key in the error", async () => {
    let calls = 0;
    const fetch: FetchLike = async () => {
      calls += 1;
      return json(500, {});
    };
    await assert.rejects(
      fetchJsonWithRetry("http://127.0.0.1:1/balance?x=1", {
        headers: { Authorization: "Bearer sk-secret" },
        fetch,
        sleep: noSleep,
        retries: 2,
      }),
      (error: Error) => !error.message.includes("sk-secret") && /HTTP 500/.test(error.message),
    );
    assert.equal(calls, 3);
  });
  it("names why a request got no answer (a refused connection, a host not found), not 'TypeError reaching'", async () => {
    const fetch: FetchLike = async () => {
      throw new TypeError("fetch failed", {
        cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      });
    };
    await assert.rejects(
      fetchJsonWithRetry("http://127.0.0.1:1/b?key=secret", { headers: {}, fetch, sleep: noSleep, retries: 0 }),
      (error: Error) => error.message === "could not reach http://127.0.0.1:1/b (ECONNREFUSED)",
    );
  });
  it("tries a reset connection (a keep-alive one the server closed) once more at once, even with no retries", async () => {
    const reset = () =>
      new TypeError("fetch failed", { cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }) });
    let calls = 0;
    const waits: number[] = [];
    const sleep = async (ms: number) => void waits.push(ms);
    const resetOnce: FetchLike = async () => {
      calls += 1;
      if (calls === 1) throw reset();
      return json(200, { ok: 1 });
    };
    assert.deepEqual(
      await fetchJsonWithRetry("http://127.0.0.1:1/u", { headers: {}, fetch: resetOnce, sleep, retries: 0 }),
      {
        ok: 1,
      },
    );
    assert.equal(calls, 2);
    assert.deepEqual(waits, [], "no backoff before the new connection");

    // Only once: a server that resets every connection is named after the second.
    calls = 0;
    const resetAlways: FetchLike = async () => {
      calls += 1;
      throw reset();
    };
    await assert.rejects(
      fetchJsonWithRetry("http://127.0.0.1:1/u", { headers: {}, fetch: resetAlways, sleep, retries: 0 }),
      (error: Error) => error.message === "could not reach http://127.0.0.1:1/u (ECONNRESET)",
    );
    assert.equal(calls, 2);
    // With retries, the reset's own try does not use one up, and the retries still back off.
    calls = 0;
    await assert.rejects(
      fetchJsonWithRetry("http://127.0.0.1:1/u", {
        headers: {},
        fetch: resetAlways,
        sleep,
        retries: 2,
        backoffMs: 100,
      }),
    );
    assert.equal(calls, 4);
    assert.deepEqual(waits, [100, 200]);
  });
  it("does not retry a try that timed out: the answer comes after one timeout, not three", async () => {
    let calls = 0;
    const fetch: FetchLike = (_url, init) => {
      calls += 1;
      return new Promise((_resolve, reject) =>
        init.signal.addEventListener("abort", () => reject(new Error("aborted"))),
      );
    };
    await assert.rejects(
      fetchJsonWithRetry("http://127.0.0.1:1/b", { headers: {}, fetch, sleep: noSleep, timeoutMs: 20 }),
      (error: Error) => error.message === "timed out after 20 ms (http://127.0.0.1:1/b)",
    );
    assert.equal(calls, 1);
  });
  it("does not retry a 401", async () => {
    let calls = 0;
    const fetch: FetchLike = async () => {
      calls += 1;
      return json(401, {});
    };
    await assert.rejects(fetchJsonWithRetry("http://127.0.0.1:1/b", { headers: {}, fetch, sleep: noSleep }));
    assert.equal(calls, 1);
  });
  it("aborts a try that exceeds the timeout", async () => {
    const fetch: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => init.signal.addEventListener("abort", () => reject(new Error("aborted"))));
    await assert.rejects(
      fetchJsonWithRetry("http://127.0.0.1:1/b", { headers: {}, fetch, sleep: noSleep, retries: 0, timeoutMs: 5 }),
      /timed out/,
    );
  });
  it("stops at once, without retrying, when the caller's own signal aborts", async () => {
    let calls = 0;
    const fetch: FetchLike = (_url, init) => {
      calls += 1;
      return new Promise((_resolve, reject) =>
        init.signal.addEventListener("abort", () => reject(new Error("aborted"))),
      );
    };
    const caller = new AbortController();
    const pending = fetchJsonWithRetry("http://127.0.0.1:1/b", {
      headers: {},
      fetch,
      sleep: noSleep,
      retries: 3,
      timeoutMs: 60_000,
      signal: caller.signal,
    });
    caller.abort();
    await assert.rejects(pending, /cancelled/);
    assert.equal(calls, 1);
  });
  it("ends its own wait between tries at once when the caller's signal aborts (a closing owner)", async () => {
    let calls = 0;
    const fetch: FetchLike = async () => {
      calls += 1;
      return json(503, {});
    };
    const caller = new AbortController();
    // The default wait, an hour long: only the abort can end it.
    const pending = fetchJsonWithRetry("http://127.0.0.1:1/b", {
      headers: {},
      fetch,
      backoffMs: 3_600_000,
      signal: caller.signal,
    });
    await new Promise((resolve) => setImmediate(resolve));
    caller.abort();
    await assert.rejects(pending, /HTTP 503/);
    assert.equal(calls, 1);
  });
  it("sends the method and body it is given (the Gemini quota API is a POST)", async () => {
    let seen: { method?: string; body?: string } = {};
    const fetch: FetchLike = async (_url, init) => {
      seen = { method: init.method, body: init.body };
      return json(200, {});
    };
    await fetchJsonWithRetry("http://127.0.0.1:1/q", { headers: {}, fetch, method: "POST", body: "{}" });
    assert.deepEqual(seen, { method: "POST", body: "{}" });
  });
});

describe("balance book", () => {
  const config: any = {
    routes: {
      main: {
        targets: [
          { provider: "deepseek", modelId: "deepseek-chat", balanceEndpoint: "http://127.0.0.1:9/user/balance" },
          { provider: "openai", modelId: "gpt" },
        ],
      },
    },
  };
  const registry: any = {
    find: () => ({ id: "m" }),
    hasConfiguredAuth: () => true,
    getApiKeyAndHeaders: async () => ({ ok: true, apiKey: "sk-test" }),
  };

  it("finds providers with a balance API and honours the per-target endpoint override", () => {
    assert.deepEqual(balanceSources(config), [
      {
        provider: "deepseek",
        kind: "deepseek",
        endpoint: "http://127.0.0.1:9/user/balance",
        target: { provider: "deepseek", modelId: "deepseek-chat" },
      },
    ]);
  });
  it("shares one request between concurrent refreshes and keeps the last value marked stale when a fetch fails", async () => {
    let calls = 0;
    let fail = false;
    let seenAuthorization = "";
    const fetch: FetchLike = async (_url, init) => {
      calls += 1;
      seenAuthorization = init.headers.Authorization ?? "";
      return fail ? json(500, {}) : json(200, { balance_infos: [{ currency: "USD", total_balance: "3.25" }] });
    };
    let now = 0;
    const book = new BalanceBook({ registry: () => registry, now: () => now, fetch, retries: 0 });
    const [source] = balanceSources(config);
    const [first, second] = await Promise.all([book.refresh(source!), book.refresh(source!)]);
    assert.equal(calls, 1);
    assert.equal(first, second);
    assert.equal(seenAuthorization, "Bearer sk-test");
    assert.equal(book.get("deepseek")!.amount, 3.25);
    await book.refresh(source!);
    assert.equal(calls, 1, "fresh value within the TTL is not fetched again");
    fail = true;
    now = 10 * 60_000;
    const stale = await book.refresh(source!);
    assert.equal(calls, 2);
    assert.equal(stale.amount, 3.25);
    assert.equal(stale.stale, true);
  });
  it("never sends a key meant for another host (a proxy, a self-hosted server) to the vendor's balance API", async () => {
    let calls = 0;
    const fetch: FetchLike = async () => {
      calls += 1;
      return json(200, { balance_infos: [{ currency: "USD", total_balance: "1.00" }] });
    };
    const elsewhere: any = { ...registry, find: () => ({ id: "m", baseUrl: "http://127.0.0.1:9/v1" }) };
    const official: any = { ...registry, find: () => ({ id: "m", baseUrl: "https://api.deepseek.com/v1" }) };
    const noOverride: any = { routes: { main: { targets: [{ provider: "deepseek", modelId: "deepseek-chat" }] } } };
    const [source] = balanceSources(noOverride);
    const refused = await new BalanceBook({ registry: () => elsewhere, now: () => 0, fetch, retries: 0 }).refresh(
      source!,
    );
    assert.equal(calls, 0);
    assert.equal(
      refused.error,
      "deepseek's baseUrl is 127.0.0.1:9, not api.deepseek.com: its key is not sent to api.deepseek.com; set balanceEndpoint on its target to fetch its balance",
    );
    // The vendor's own host, or a balanceEndpoint named for it: fetched.
    await new BalanceBook({ registry: () => official, now: () => 0, fetch, retries: 0 }).refresh(source!);
    await new BalanceBook({ registry: () => elsewhere, now: () => 0, fetch, retries: 0 }).refresh(
      balanceSources(config)[0]!,
    );
    assert.equal(calls, 2);
  });
  it("cancels a fetch still running when it closes, so a finished pi -p is not kept alive by it", async () => {
    const fetch: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => init.signal.addEventListener("abort", () => reject(new Error("aborted"))));
    const book = new BalanceBook({ registry: () => registry, now: () => 0, fetch, timeoutMs: 3_600_000 });
    const pending = book.refresh(balanceSources(config)[0]!);
    await new Promise((resolve) => setImmediate(resolve));
    await book.close();
    const entry = await pending;
    assert.equal(entry.stale, true);
    assert.match(entry.error ?? "", /cancelled/);
  });
  it("starts from the stored reading of an earlier process, does not fetch it again within the TTL, and stores its own", async () => {
    let calls = 0;
    const fetch: FetchLike = async () => {
      calls += 1;
      return json(200, { balance_infos: [{ currency: "USD", total_balance: "4.00" }] });
    };
    const stored = new Map<string, StoredBalance>([["deepseek", { amount: 2, currency: "USD", fetchedAt: 1_000 }]]);
    const shared = {
      read: (provider: string) => stored.get(provider),
      write: (p: string, r: StoredBalance) => void stored.set(p, r),
    };
    let now = 61_000;
    const book = new BalanceBook({ registry: () => registry, now: () => now, fetch, retries: 0, shared });
    const [source] = balanceSources(config);
    assert.deepEqual(book.get("deepseek"), { amount: 2, currency: "USD", fetchedAt: 1_000 });
    await book.refresh(source!);
    assert.equal(calls, 0, "a minute-old stored reading is fresh");
    now = 1_000 + BALANCE_TTL_MS;
    await book.refresh(source!);
    assert.equal(calls, 1);
    assert.deepEqual(stored.get("deepseek"), { amount: 4, currency: "USD", fetchedAt: now });
    assert.equal(book.get("deepseek")!.amount, 4);
  });
  it("keeps the provider's ledger spend at the fetch with each reading, in the store too, and reads it back", async () => {
    const stored = new Map<string, StoredBalance>();
    const shared = {
      read: (provider: string) => stored.get(provider),
      write: (p: string, r: StoredBalance) => void stored.set(p, r),
    };
    let spentThisMonth = 0.25;
    const asked: string[] = [];
    const fetch: FetchLike = async () => {
      // Booked while the answer is awaited: after the mark, so taken off this reading.
      spentThisMonth = 0.5;
      return json(200, { balance_infos: [{ currency: "USD", total_balance: "4.00" }] });
    };
    const spendMark = (provider: string) => {
      asked.push(provider);
      return { month: "2026-12", usd: spentThisMonth };
    };
    const book = new BalanceBook({ registry: () => registry, now: () => 7, fetch, retries: 0, shared, spendMark });
    await book.refresh(balanceSources(config)[0]!);
    assert.deepEqual(asked, ["deepseek"]);
    const reading = { amount: 4, currency: "USD", fetchedAt: 7, spentMark: { month: "2026-12", usd: 0.25 } };
    assert.deepEqual(stored.get("deepseek"), reading);
    // The stored state (a file, or the team's store) keeps the mark through its schema; a reading without one parses.
    const state = parseBalances(
      JSON.parse(JSON.stringify(storeReadingOperation("deepseek", reading)(emptyBalances()))),
    );
    assert.deepEqual(state.readings.deepseek, reading);
    const older = { amount: 2, currency: "USD", fetchedAt: 1 };
    assert.deepEqual(parseBalances({ v: 1, readings: { deepseek: older } }).readings.deepseek, older);
    // Another process's book starts from the stored reading, mark and all.
    const other = new BalanceBook({ registry: () => registry, now: () => 8, fetch, retries: 0, shared });
    assert.deepEqual(other.get("deepseek"), reading);
  });
  it("takes the USD spend booked since the fetch off a USD balance, never off one in CNY or a reading without a mark", () => {
    const mark = { month: "2026-12", usd: 1 };
    const since = (spent: number) => (seen: typeof mark) => {
      assert.deepEqual(seen, mark);
      return spent;
    };
    const usd = { amount: 5, currency: "USD", fetchedAt: 0, spentMark: mark };
    const now = lessSpend(usd, since(0.2))!;
    assert.deepEqual(now, { ...usd, amount: 4.8, spentSinceUsd: 0.2 });
    assert.equal(formatBalances(now), "$4.80 ($5.00 fetched, $0.20 spent since)");
    assert.equal(lessSpend(usd, since(0)), usd, "nothing spent since: the reading as fetched");
    // An account with USD and CNY: the USD balance only.
    const both = { amount: 70, currency: "CNY", others: { USD: 10 }, spentMark: mark };
    const bothNow = lessSpend(both, since(0.5))!;
    assert.deepEqual([balanceIn(bothNow), balanceIn(bothNow, "CNY")], [9.5, 70]);
    assert.equal(formatBalances(bothNow), "70.00 CNY, $9.50 ($10.00 fetched, $0.50 spent since)");
    const never = () => assert.fail("no USD balance, or no mark: the ledger is not asked");
    const cny = { amount: 30, currency: "CNY", spentMark: mark };
    assert.equal(lessSpend(cny, never), cny);
    const unmarked = { amount: 5, currency: "USD", fetchedAt: 0 };
    assert.equal(lessSpend(unmarked, never), unmarked, "a reading stored by an earlier version");
    assert.equal(lessSpend(undefined, never), undefined);
  });
  it("stores a reading unless the store holds a newer one (another window's fetch that ended first)", () => {
    const newer = { amount: 3, currency: "USD", fetchedAt: 2_000 };
    const state = storeReadingOperation("deepseek", newer)(emptyBalances());
    assert.deepEqual(state.readings.deepseek, newer);
    assert.equal(storeReadingOperation("deepseek", { amount: 9, currency: "USD", fetchedAt: 1_000 })(state), state);
    const newest = { amount: 1, currency: "USD", fetchedAt: 3_000 };
    assert.deepEqual(storeReadingOperation("deepseek", newest)(state).readings.deepseek, newest);
  });
  it("calls a reading stale when its fetch failed or when it missed a refresh, whatever its source", () => {
    assert.equal(isStale({ amount: 1, fetchedAt: 0 }, BALANCE_STALE_AFTER_MS - 1), false);
    assert.equal(isStale({ amount: 1, fetchedAt: 0 }, BALANCE_STALE_AFTER_MS), true);
    assert.equal(isStale({ amount: 1, fetchedAt: 0, stale: true, error: "HTTP 503" }, 1), true);
  });
  it("waits for the first fetch of a provider with no known balance, and not at all once every balance is known", async () => {
    let answer: (value: Awaited<ReturnType<FetchLike>>) => void = () => {};
    const fetch: FetchLike = () => new Promise((resolve) => (answer = resolve));
    const book = new BalanceBook({ registry: () => registry, now: () => 0, fetch, retries: 0 });
    const sources = balanceSources(config);
    let done = false;
    const waiting = book.firstReadings(sources, 3_600_000).then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, false, "no balance known: waits for the fetch");
    answer(json(200, { balance_infos: [{ currency: "USD", total_balance: "1.00" }] }));
    await waiting;
    assert.equal(book.get("deepseek")!.amount, 1);
    let fetchedAgain = false;
    const known = new BalanceBook({
      registry: () => registry,
      now: () => 0,
      fetch: async () => {
        fetchedAgain = true;
        return json(200, {});
      },
      shared: { read: () => ({ amount: 9, currency: "USD", fetchedAt: 0 }), write: () => {} },
    });
    await known.firstReadings(sources, 3_600_000);
    assert.equal(fetchedAgain, false);
  });
  it("stops waiting for a first balance after the longest wait it is given", async () => {
    const hanging: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => init.signal.addEventListener("abort", () => reject(new Error("aborted"))));
    const book = new BalanceBook({ registry: () => registry, now: () => 0, fetch: hanging, timeoutMs: 3_600_000 });
    await book.firstReadings(balanceSources(config), 1);
    assert.equal(book.get("deepseek"), undefined, "still unknown: the prompt routes without it");
    await book.close();
  });
});
