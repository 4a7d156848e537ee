// Usage-API sources against a local emulator, the fetch cache (TTL, de-duplication, stale on failure), and the
// passive rate-limit header parser.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  windowKey,
  windowsFromHeaders,
  parseResetDuration,
  parseResetTime,
  valueShape,
  type RejectedHeader,
} from "../../src/quota/header-windows.ts";
import { SourceCache, type QuotaSource } from "../../src/quota/source-cache.ts";
import { anthropicUsageWindows, createUsageSource, registryLogins } from "../../src/quota/usage-sources.ts";
import { startQuotaEmulator, type QuotaEmulator } from "../helpers/quota-emulator.ts";
import { describeScope, scopeCovers } from "../../src/routing/uvi.ts";

const HOUR_MS = 3_600_000;
const NOW = Date.parse("2026-03-04T12:00:00Z");

describe("usage API sources", () => {
  let emulator: QuotaEmulator;
  before(async () => {
    emulator = await startQuotaEmulator();
  });
  after(async () => {
    await emulator.close();
  });
  const token = async (provider: string) => `token-for-${provider}`;
  const signal = () => new AbortController().signal;

  it("reads Anthropic's 5 h and 7 day windows with the OAuth token from pi's registry", async () => {
    emulator.reply("/api/oauth/usage", {
      body: {
        five_hour: { utilization: 40, resets_at: new Date(NOW + 3 * HOUR_MS).toISOString() },
        seven_day: { utilization: 12.5, resets_at: new Date(NOW + 96 * HOUR_MS).toISOString() },
      },
    });
    const source = createUsageSource({
      provider: "anthropic",
      endpoint: `${emulator.url}/api/oauth/usage`,
      token,
      now: () => NOW,
    });
    const windows = await source.fetch(signal());
    assert.deepEqual(
      windows.map((w) => [w.name, w.usedFraction, w.windowMs]),
      [
        ["5h", 0.4, 5 * HOUR_MS],
        ["7d", 0.125, 168 * HOUR_MS],
      ],
    );
    assert.equal(emulator.calls.at(-1)!.headers.authorization, "Bearer token-for-anthropic");
  });

  it("scopes Anthropic's weekly Opus and Sonnet windows to those models; 5 h and 7 day stay account-wide", async () => {
    const resetsAt = new Date(NOW + 96 * HOUR_MS).toISOString();
    emulator.reply("/api/oauth/usage", {
      body: {
        five_hour: { utilization: 10, resets_at: new Date(NOW + 3 * HOUR_MS).toISOString() },
        seven_day: { utilization: 20, resets_at: resetsAt },
        seven_day_opus: { utilization: 100, resets_at: resetsAt },
        seven_day_sonnet: { utilization: 5, resets_at: resetsAt },
      },
    });
    const source = createUsageSource({
      provider: "anthropic",
      endpoint: `${emulator.url}/api/oauth/usage`,
      token,
      now: () => NOW,
    });
    const windows = await source.fetch(signal());
    assert.deepEqual(
      windows.map((w) => [w.name, w.usedFraction, w.models]),
      [
        ["5h", 0.1, undefined],
        ["7d", 0.2, undefined],
        ["7d opus", 1, { family: "opus" }],
        ["7d sonnet", 0.05, { family: "sonnet" }],
      ],
    );
  });

  it("reads Codex primary and secondary windows", async () => {
    emulator.reply("/backend-api/wham/usage", {
      body: {
        rate_limit: {
          primary_window: { used_percent: 80, limit_window_seconds: 18_000, reset_after_seconds: 3_600 },
          secondary_window: { used_percent: 30, limit_window_seconds: 604_800, reset_at: (NOW + 48 * HOUR_MS) / 1000 },
        },
      },
    });
    const source = createUsageSource({
      provider: "openai-codex",
      endpoint: `${emulator.url}/backend-api/wham/usage`,
      token,
      now: () => NOW,
    });
    const windows = await source.fetch(signal());
    assert.deepEqual(
      windows.map((w) => [w.name, w.usedFraction, w.windowMs, w.resetsAt]),
      [
        ["primary", 0.8, 5 * HOUR_MS, NOW + HOUR_MS],
        ["secondary", 0.3, 168 * HOUR_MS, NOW + 48 * HOUR_MS],
      ],
    );
  });

  it("reads Gemini CLI buckets as daily windows and sends the project of the credential", async () => {
    emulator.reply("/v1internal:retrieveUserQuota", {
      body: {
        buckets: [
          {
            modelId: "gemini-2.5-pro",
            tokenType: "REQUESTS",
            remainingFraction: 0.25,
            resetTime: new Date(NOW + 12 * HOUR_MS).toISOString(),
          },
        ],
      },
    });
    const geminiToken = async () => JSON.stringify({ token: "g-token", projectId: "proj-1" });
    const source = createUsageSource({
      provider: "google-gemini-cli",
      endpoint: `${emulator.url}/v1internal:retrieveUserQuota`,
      token: geminiToken,
      now: () => NOW,
    });
    const windows = await source.fetch(signal());
    assert.deepEqual(
      windows.map((w) => [w.name, w.usedFraction, w.windowMs, w.models]),
      [["gemini-2.5-pro REQUESTS", 0.75, 24 * HOUR_MS, { id: "gemini-2.5-pro" }]],
    );
    const call = emulator.calls.at(-1)!;
    assert.equal(call.method, "POST");
    assert.equal(call.headers.authorization, "Bearer g-token");
    assert.deepEqual(JSON.parse(call.body), { project: "proj-1" });
  });

  it("tells a login whose token could not be refreshed from no login at all", async () => {
    const calls = emulator.calls.length;
    const source = (hasLogin: boolean) =>
      createUsageSource({
        provider: "anthropic",
        endpoint: `${emulator.url}/api/oauth/usage`,
        token: async () => undefined, // what pi's registry gives for an expired login it could not refresh
        hasLogin: () => hasLogin,
        now: () => NOW,
      });
    await assert.rejects(source(true).fetch(signal()), {
      message:
        "pi has a login for anthropic, but its OAuth token has expired and could not be refreshed (offline, or the login was revoked?): /login again",
    });
    await assert.rejects(source(false).fetch(signal()), { message: "no OAuth credentials for anthropic (/login)" });
    assert.equal(emulator.calls.length, calls, "the usage API is not asked without a token");
  });

  it("reads whether pi stores a login for a provider from its registry's auth status", () => {
    const logins = registryLogins(() => ({
      getApiKeyForProvider: async () => undefined,
      getProviderAuthStatus: (provider: string) =>
        provider === "anthropic"
          ? { configured: true, source: "stored" }
          : { configured: false, source: "environment" },
    }));
    assert.equal(logins.hasLogin?.("anthropic"), true);
    assert.equal(logins.hasLogin?.("openai-codex"), false, "a key in the environment is no /login");
    assert.equal(registryLogins(() => undefined).hasLogin?.("anthropic"), false);
  });

  it("fails a fetch whose answer puts a reset further away than its window, naming the field", async () => {
    emulator.reply("/api/oauth/usage", {
      body: {
        five_hour: { utilization: 40, resets_at: "2099-01-01T00:00:00Z" },
        seven_day: { utilization: 12.5, resets_at: new Date(NOW + 96 * HOUR_MS).toISOString() },
      },
    });
    const anthropic = createUsageSource({
      provider: "anthropic",
      endpoint: `${emulator.url}/api/oauth/usage`,
      token,
      now: () => NOW,
    });
    await assert.rejects(
      anthropic.fetch(signal()),
      /five_hour\.resets_at: the 5h window resets in \d+h, but the window is 5h long/,
    );
    emulator.reply("/backend-api/wham/usage", {
      body: {
        rate_limit: { primary_window: { used_percent: 10, limit_window_seconds: 18_000, reset_at: NOW + HOUR_MS } },
      },
    });
    const codex = createUsageSource({
      provider: "openai-codex",
      endpoint: `${emulator.url}/backend-api/wham/usage`,
      token,
      now: () => NOW,
    });
    await assert.rejects(codex.fetch(signal()), /rate_limit\.primary_window\.reset_at: the primary window resets in/);
  });

  it("fails a fetch whose answer has none of the expected windows or a field of the wrong type, naming it", async () => {
    const anthropic = createUsageSource({
      provider: "anthropic",
      endpoint: `${emulator.url}/api/oauth/usage`,
      token,
      now: () => NOW,
    });
    const resetsAt = new Date(NOW + 3 * HOUR_MS).toISOString();
    const cases: Array<[unknown, RegExp]> = [
      [{}, /the answer: expected an object with five_hour, seven_day, seven_day_opus, seven_day_sonnet, got an object/],
      [
        { five_hour: { utilization: "85", resets_at: resetsAt } },
        /five_hour\.utilization: expected a number, got "85"/,
      ],
      [{ five_hour: { utilization: 85, resets_at: 1_800_000_000 } }, /five_hour\.resets_at: expected an ISO 8601 time/],
      [{ seven_day: [] }, /seven_day: expected an object \{utilization, resets_at\}, got an array/],
    ];
    for (const [body, expected] of cases) {
      emulator.reply("/api/oauth/usage", { body });
      await assert.rejects(anthropic.fetch(signal()), expected, JSON.stringify(body));
    }
    const problems: string[] = [];
    assert.deepEqual(anthropicUsageWindows(null, NOW, problems), []);
    assert.match(problems.join(), /the answer: expected an object with five_hour, .*, got null/);
    // Documented shapes without a window: one not started yet (no reset) and a scoped limit the plan lacks (null).
    emulator.reply("/api/oauth/usage", {
      body: {
        five_hour: { utilization: 0, resets_at: null },
        seven_day: { utilization: 3, resets_at: resetsAt },
        seven_day_opus: null,
      },
    });
    assert.deepEqual(
      (await anthropic.fetch(signal())).map((w) => w.name),
      ["7d"],
    );
  });

  it("fails an unreadable Codex or Gemini answer too, and reads their documented empty shapes as no windows", async () => {
    const codex = createUsageSource({
      provider: "openai-codex",
      endpoint: `${emulator.url}/backend-api/wham/usage`,
      token,
      now: () => NOW,
    });
    emulator.reply("/backend-api/wham/usage", { body: {} });
    await assert.rejects(codex.fetch(signal()), /the answer: expected an object with rate_limit/);
    emulator.reply("/backend-api/wham/usage", {
      body: {
        rate_limit: { primary_window: { used_percent: "80", limit_window_seconds: 18_000, reset_after_seconds: 60 } },
      },
    });
    await assert.rejects(
      codex.fetch(signal()),
      /rate_limit\.primary_window\.used_percent: expected a number, got "80"/,
    );
    // A window longer than any provider's (a year) is a broken answer, not a window to pace by for years.
    emulator.reply("/backend-api/wham/usage", {
      body: {
        rate_limit: { primary_window: { used_percent: 100, limit_window_seconds: 1e12, reset_after_seconds: 60 } },
      },
    });
    await assert.rejects(
      codex.fetch(signal()),
      /rate_limit\.primary_window\.limit_window_seconds: expected a number above 0, at most a year \(31622400\), got 1000000000000/,
    );
    emulator.reply("/backend-api/wham/usage", { body: { rate_limit: null } });
    assert.deepEqual(await codex.fetch(signal()), []);
    const gemini = createUsageSource({
      provider: "google-gemini-cli",
      endpoint: `${emulator.url}/v1internal:retrieveUserQuota`,
      token,
      now: () => NOW,
    });
    emulator.reply("/v1internal:retrieveUserQuota", { body: { quota: [] } });
    await assert.rejects(gemini.fetch(signal()), /the answer: expected an object with a buckets array/);
    emulator.reply("/v1internal:retrieveUserQuota", {
      body: { buckets: [{ remainingFraction: "0.5", resetTime: "x" }] },
    });
    await assert.rejects(
      gemini.fetch(signal()),
      /buckets\[0\]\.remainingFraction: expected a number.*buckets\[0\]\.resetTime: expected an ISO 8601 time, got "x"/,
    );
    emulator.reply("/v1internal:retrieveUserQuota", { body: { buckets: [] } });
    assert.deepEqual(await gemini.fetch(signal()), []);
  });

  it("fails without leaking the token when the API answers an error", async () => {
    emulator.reply("/api/oauth/usage", { status: 401, body: { error: "bad token token-for-anthropic" } });
    const source = createUsageSource({
      provider: "anthropic",
      endpoint: `${emulator.url}/api/oauth/usage`,
      token,
      now: () => NOW,
    });
    await assert.rejects(
      source.fetch(signal()),
      (error: Error) => error.message.includes("HTTP 401") && !error.message.includes("token-for"),
    );
  });
});

describe("source cache", () => {
  const window = { name: "5h", usedFraction: 0.5, windowMs: HOUR_MS, resetsAt: NOW + HOUR_MS };

  it("keeps the last windows marked stale when a later fetch fails", async () => {
    let fail = false;
    const source: QuotaSource = {
      id: "s",
      provider: "p",
      fetch: async () => {
        if (fail) throw new Error("down");
        return [window];
      },
    };
    const cache = new SourceCache(
      [source],
      () => NOW,
      () => 1_000,
    );
    await cache.refresh(true);
    fail = true;
    await cache.refresh(true);
    assert.deepEqual(cache.reading("s")?.windows, [window]);
    assert.equal(cache.reading("s")?.stale, true);
    assert.equal(cache.reading("s")?.error, "down");
    assert.deepEqual(cache.windowsByProvider(), { p: [window] });
  });

  it("de-duplicates fetches in flight and reuses a fresh reading within the TTL", async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const source: QuotaSource = {
      id: "s",
      provider: "p",
      fetch: () => {
        calls += 1;
        return new Promise((resolve) => {
          release = () => resolve([window]);
        });
      },
    };
    const cache = new SourceCache(
      [source],
      () => NOW,
      () => 60_000,
    );
    const first = cache.refresh(true);
    const second = cache.refresh(true);
    release();
    await Promise.all([first, second]);
    assert.equal(calls, 1);
    await cache.refresh();
    assert.equal(calls, 1);
  });
});

describe("rate-limit headers", () => {
  it("reads Anthropic unified 5 h and 7 day utilisation", () => {
    const windows = windowsFromHeaders(
      {
        "anthropic-ratelimit-unified-5h-utilization": "0.95",
        "anthropic-ratelimit-unified-5h-reset": String((NOW + HOUR_MS) / 1000),
        "anthropic-ratelimit-unified-7d-utilization": "0.2",
        "anthropic-ratelimit-unified-7d-reset": String((NOW + 24 * HOUR_MS) / 1000),
      },
      NOW,
    );
    assert.deepEqual(
      windows.map((w) => [w.name, w.usedFraction, w.windowMs]),
      [
        ["5h", 0.95, 5 * HOUR_MS],
        ["7d", 0.2, 168 * HOUR_MS],
      ],
    );
  });
  it("scopes an Anthropic unified window named for a model family (7d_opus) to that family", () => {
    const windows = windowsFromHeaders(
      {
        "anthropic-ratelimit-unified-7d-utilization": "0.2",
        "anthropic-ratelimit-unified-7d-reset": String((NOW + 24 * HOUR_MS) / 1000),
        "anthropic-ratelimit-unified-7d_opus-utilization": "0.99",
        "anthropic-ratelimit-unified-7d_opus-reset": String((NOW + 24 * HOUR_MS) / 1000),
      },
      NOW,
    );
    assert.deepEqual(
      windows.map((w) => [w.name, w.models]),
      [
        ["7d", undefined],
        ["7d_opus", { family: "opus" }],
      ],
    );
  });
  it("scopes request and token limits to the model that answered, and subscription windows to none", () => {
    const windows = windowsFromHeaders(
      {
        "anthropic-ratelimit-unified-5h-utilization": "0.2",
        "anthropic-ratelimit-unified-5h-reset": String((NOW + HOUR_MS) / 1000),
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "10",
        "anthropic-ratelimit-requests-reset": new Date(NOW + 30_000).toISOString(),
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "500",
        "x-ratelimit-reset-tokens": "30s",
      },
      NOW,
      [],
      "Claude-Sonnet-4-5",
    );
    assert.deepEqual(
      windows.map((w) => [windowKey(w), w.models]),
      [
        ["5h", undefined],
        ["requests claude-sonnet-4-5", { id: "claude-sonnet-4-5" }],
        ["tokens claude-sonnet-4-5", { id: "claude-sonnet-4-5" }],
      ],
    );
  });
  it("reads Anthropic per-minute request limits", () => {
    const windows = windowsFromHeaders(
      {
        "Anthropic-Ratelimit-Requests-Limit": "50",
        "anthropic-ratelimit-requests-remaining": "5",
        "anthropic-ratelimit-requests-reset": new Date(NOW + 30_000).toISOString(),
      },
      NOW,
    );
    assert.deepEqual(
      windows.map((w) => [w.name, w.usedFraction, w.windowMs, w.resetsAt, w.refills]),
      [["requests", 0.9, 60_000, NOW + 30_000, true]],
      "a token bucket: it refills continuously",
    );
  });
  it("reads OpenAI x-ratelimit headers with their duration resets", () => {
    assert.equal(parseResetDuration("6m0s"), 360_000);
    assert.equal(parseResetDuration("20ms"), 20);
    const windows = windowsFromHeaders(
      { "x-ratelimit-limit-tokens": "1000", "x-ratelimit-remaining-tokens": "250", "x-ratelimit-reset-tokens": "30s" },
      NOW,
    );
    assert.deepEqual(
      windows.map((w) => [w.name, w.usedFraction, w.resetsAt, w.refills]),
      [["tokens", 0.75, NOW + 30_000, true]],
    );
  });
  it("reads Codex primary/secondary percentages", () => {
    const windows = windowsFromHeaders(
      {
        "x-codex-primary-used-percent": "60",
        "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-after-seconds": "600",
      },
      NOW,
    );
    assert.deepEqual(
      windows.map((w) => [w.name, w.usedFraction, w.windowMs, w.resetsAt]),
      [["primary", 0.6, 300 * 60_000, NOW + 600_000]],
    );
  });
  it("leaves out a Codex window longer than a year", () => {
    const headers = (minutes: string) => ({
      "x-codex-primary-used-percent": "100",
      "x-codex-primary-window-minutes": minutes,
      "x-codex-primary-reset-after-seconds": "600",
    });
    assert.deepEqual(windowsFromHeaders(headers(String(1e12)), NOW), []);
    assert.equal(windowsFromHeaders(headers(String(366 * 24 * 60)), NOW).length, 1);
  });
  it("leaves out a window whose reset header lies further away than the window, naming the header", () => {
    const rejected: RejectedHeader[] = [];
    const windows = windowsFromHeaders(
      {
        "anthropic-ratelimit-unified-5h-utilization": "0.3",
        "anthropic-ratelimit-unified-5h-reset": String((NOW + 240 * HOUR_MS) / 1000), // 10 days ahead for a 5 h window
        "anthropic-ratelimit-unified-7d-utilization": "0.1",
        "anthropic-ratelimit-unified-7d-reset": String((NOW + 48 * HOUR_MS) / 1000),
        "x-codex-primary-used-percent": "60",
        "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-at": String(NOW + HOUR_MS),
      },
      NOW,
      rejected,
    );
    assert.deepEqual(
      windows.map((w) => w.name),
      ["7d"],
    );
    assert.deepEqual(
      rejected.map((r) => r.header),
      ["anthropic-ratelimit-unified-5h-reset", "x-codex-primary-reset-at"],
    );
    assert.match(
      rejected[0]!.text,
      /the 5h window resets in \d+h, but the window is 5h long \(expected epoch seconds\)/,
    );
  });
  it("reads a bare number in a reset header as seconds from now, epoch seconds from 1e9 on, epoch ms from 1e12 on", () => {
    assert.equal(parseResetTime("1", NOW), NOW + 1_000);
    assert.equal(parseResetTime("59.5", NOW), NOW + 59_500);
    assert.equal(parseResetTime(" 6m0s ", NOW), NOW + 360_000);
    assert.equal(parseResetTime(String(NOW / 1000 + 30), NOW), NOW + 30_000);
    assert.equal(parseResetTime("999999999", NOW), NOW + 999_999_999_000, "just under 1e9: still seconds from now");
    assert.equal(parseResetTime(String(NOW + 30_000), NOW), NOW + 30_000, "OpenRouter's epoch milliseconds");
    assert.equal(parseResetTime("999999999999", NOW), 999_999_999_999_000, "just under 1e12: still epoch seconds");
    for (const unreadable of ["12:30", "soon", "-5", "", "5 minutes", "1s later"])
      assert.equal(parseResetTime(unreadable, NOW), undefined, unreadable);
    assert.equal(parseResetDuration("at 5s"), undefined, "a duration is the whole value, not a part of it");
  });
  it("reads x-ratelimit windows whose reset is a bare number of seconds (OpenAI-compatible providers)", () => {
    const rejected: RejectedHeader[] = [];
    const windows = windowsFromHeaders(
      {
        "x-ratelimit-limit-requests": "30",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "59.5",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "250",
        "x-ratelimit-reset-tokens": String(NOW / 1000 + 20),
      },
      NOW,
      rejected,
    );
    assert.deepEqual(
      windows.map((w) => [w.name, w.usedFraction, w.windowMs, w.resetsAt]),
      [
        ["requests", 1, 60_000, NOW + 59_500],
        ["tokens", 0.75, 60_000, NOW + 20_000],
      ],
    );
    assert.deepEqual(rejected, []);
  });
  it("reads unsuffixed x-ratelimit-* as the model's requests window: OpenRouter's epoch ms, others' seconds", () => {
    const read = (headers: Record<string, string>, rejected: RejectedHeader[] = []) =>
      windowsFromHeaders(headers, NOW, rejected, "Model-X").map((w) => [
        w.name,
        w.usedFraction,
        w.windowMs,
        w.resetsAt,
      ]);
    // OpenRouter: a free model's daily limit, reset at midnight UTC in epoch milliseconds.
    const openrouter = {
      "X-RateLimit-Limit": "50",
      "X-RateLimit-Remaining": "10",
      "X-RateLimit-Reset": String(NOW + 12 * HOUR_MS),
    };
    assert.deepEqual(read(openrouter), [["requests", 0.8, 24 * HOUR_MS, NOW + 12 * HOUR_MS]]);
    assert.deepEqual(windowsFromHeaders(openrouter, NOW, [], "Model-X")[0]!.models, { id: "model-x" });
    // A free variant's limit is the account's, shared by every free variant: it paces them all, and no paid model.
    const [free] = windowsFromHeaders(openrouter, NOW, [], "meta-llama/Llama-3.3-70b-instruct:FREE");
    assert.deepEqual(free!.models, { family: ":free" });
    assert.equal(scopeCovers(free!.models!, "qwen/qwen3-coder:free"), true);
    assert.equal(scopeCovers(free!.models!, "qwen/qwen3-coder"), false);
    assert.equal(describeScope(free!.models!), ":free models");
    // Together: seconds until the reset, and the token limit, which that reset applies to as well.
    assert.deepEqual(
      read({
        "x-ratelimit-limit": "10",
        "x-ratelimit-remaining": "5",
        "x-ratelimit-reset": "1",
        "x-tokenlimit-limit": "4000",
        "x-tokenlimit-remaining": "1000",
      }),
      [
        ["requests", 0.5, 60_000, NOW + 1_000],
        ["tokens", 0.75, 60_000, NOW + 1_000],
      ],
    );
    // Epoch seconds (GitHub-style APIs).
    assert.deepEqual(
      read({ "x-ratelimit-limit": "60", "x-ratelimit-remaining": "30", "x-ratelimit-reset": String(NOW / 1000 + 30) }),
      [["requests", 0.5, 60_000, NOW + 30_000]],
    );
    // No reset, or no limit: no window, and nothing to say.
    const quiet: RejectedHeader[] = [];
    assert.deepEqual(read({ "x-ratelimit-limit": "60", "x-ratelimit-remaining": "30" }, quiet), []);
    assert.deepEqual(read({ "x-ratelimit-reset": "30", "x-tokenlimit-remaining": "5" }, quiet), []);
    assert.deepEqual(quiet, []);
  });
  it("reads an unsuffixed limit only when the provider sends no suffixed one of its kind", () => {
    const windows = windowsFromHeaders(
      {
        "x-ratelimit-limit": "100",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "30",
        "x-ratelimit-limit-requests": "100",
        "x-ratelimit-remaining-requests": "50",
        "x-ratelimit-reset-requests": "30s",
        "x-tokenlimit-limit": "1000",
        "x-tokenlimit-remaining": "0",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "500",
        "x-ratelimit-reset-tokens": "30s",
      },
      NOW,
    );
    assert.deepEqual(
      windows.map((w) => [w.name, w.usedFraction]),
      [
        ["requests", 0.5],
        ["tokens", 0.5],
      ],
    );
  });
  it("names an unreadable or unbelievable unsuffixed reset header with the value's shape, never the value", () => {
    const rejected: RejectedHeader[] = [];
    const unreadable = windowsFromHeaders(
      {
        "x-ratelimit-limit": "20",
        "x-ratelimit-remaining": "1",
        "x-ratelimit-reset": "Tue, 03 Mar 2026 17:00:00 GMT",
        "x-tokenlimit-limit": "1000",
        "x-tokenlimit-remaining": "10",
      },
      NOW,
      rejected,
    );
    assert.deepEqual(unreadable, []);
    assert.deepEqual(
      rejected.map((r) => r.header),
      ["x-ratelimit-reset", "x-ratelimit-reset"],
      "one warning per provider and header is shown (uvi-plugin)",
    );
    assert.match(
      rejected[0]!.text,
      /^x-ratelimit-reset has a value shaped aaa, 99 aaa 9999 99:99:99 aaa, which cannot be read as a reset \(expected seconds from now \("59\.5"\), epoch seconds or milliseconds, or a duration such as "6m0s"\)/,
    );
    assert.doesNotMatch(rejected[0]!.text, /GMT|Mar/);
    const far: RejectedHeader[] = [];
    const years = windowsFromHeaders(
      {
        "x-ratelimit-limit": "20",
        "x-ratelimit-remaining": "1",
        "x-ratelimit-reset": String(NOW + 400 * 24 * HOUR_MS),
      },
      NOW,
      far,
    );
    assert.deepEqual(years, []);
    assert.match(
      far[0]!.text,
      /^x-ratelimit-reset says the requests window resets in \d+h, but the window is 24h long/,
    );
  });
  it("reads Cerebras's windows named for their length, with resets in seconds", () => {
    const windows = windowsFromHeaders(
      {
        "x-ratelimit-limit-requests-day": "14400",
        "x-ratelimit-remaining-requests-day": "3600",
        "x-ratelimit-reset-requests-day": "33011.382867097855",
        "x-ratelimit-limit-tokens-minute": "60000",
        "x-ratelimit-remaining-tokens-minute": "30000",
        "x-ratelimit-reset-tokens-minute": "11.382867097854614",
      },
      NOW,
    );
    assert.deepEqual(
      windows.map((w) => [w.name, w.usedFraction, w.windowMs, Math.round(w.resetsAt - NOW)]),
      [
        ["requests-day", 0.75, 24 * HOUR_MS, 33_011_383],
        ["tokens-minute", 0.5, 60_000, 11_383],
      ],
    );
  });
  it("names an unreadable reset header with the shape of its value and what was expected, never the value", () => {
    const rejected: RejectedHeader[] = [];
    const windows = windowsFromHeaders(
      {
        "x-ratelimit-limit-requests": "30",
        "x-ratelimit-remaining-requests": "3",
        "x-ratelimit-reset-requests": "12:30",
        "anthropic-ratelimit-unified-5h-utilization": "0.4",
        "anthropic-ratelimit-unified-5h-reset": "Tue, 03 Mar 2026 17:00:00 GMT",
      },
      NOW,
      rejected,
    );
    assert.deepEqual(windows, []);
    assert.deepEqual(
      rejected.map((r) => r.header),
      ["anthropic-ratelimit-unified-5h-reset", "x-ratelimit-reset-requests"],
    );
    assert.match(
      rejected[0]!.text,
      /has a value shaped aaa, 99 aaa 9999 99:99:99 aaa, which cannot be read as a reset \(expected epoch seconds\)/,
    );
    assert.match(
      rejected[1]!.text,
      /has a value shaped 99:99, which cannot be read as a reset \(expected seconds from now/,
    );
    assert.doesNotMatch(rejected.map((r) => r.text).join(" "), /12:30|GMT|Mar/);
    assert.equal(
      valueShape("sk-live-0123456789abcdefghijklmnop"),
      "a value shaped aa-aaaa-9999999999aaaaaaaaaaaaaa... (34 characters)",
    );
  });
  it("reads a duration in an Anthropic unified reset header as time from now", () => {
    const windows = windowsFromHeaders(
      {
        "anthropic-ratelimit-unified-5h-utilization": "0.4",
        "anthropic-ratelimit-unified-5h-reset": "2h30m",
      },
      NOW,
    );
    assert.deepEqual(
      windows.map((w) => [w.name, w.resetsAt]),
      [["5h", NOW + 2.5 * HOUR_MS]],
    );
  });
  it("finds nothing in responses without rate-limit headers", () => {
    assert.deepEqual(windowsFromHeaders({ "content-type": "text/event-stream" }, NOW), []);
  });
});
