// The real pi CLI against the HTTP emulators, for failures that say something about the target or the account rather
// than the moment (a model the provider has retired), or only seem to (Google's generic "check quota" 429), worded the
// way each provider words it, as pi-ai passes it on.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { type EmulatedAgent, startEmulatedAgent, TWO_OPENAI_PROVIDERS } from "../helpers/emulated-agent.ts";
import { startUpstream, type Upstream } from "../helpers/endpoint-upstream.ts";
import { readLoggedEvents } from "../helpers/event-log.ts";
import { assistantMessages, runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const target = (key: string) => ({ provider: key.split("/")[0], modelId: key.split("/")[1] });

/** Each failed attempt's target and the kind the router gave it. */
function failedKinds(agentDir: string): Array<[string, string]> {
  return readLoggedEvents(agentDir)
    .filter((event: any) => event.type === "result" && event.data.outcome === "failed")
    .map((event: any) => [event.data.target, event.data.failureKind]);
}

/** The cooldowns file's entries: kind and how long from `now` each one lasts. */
function cooldowns(agentDir: string, now: number): Array<{ kind: string; remainingMs: number }> {
  const file = JSON.parse(readFileSync(join(agentDir, "extensions", "auto-router.cooldowns.json"), "utf8"));
  return Object.values(file.entries).map((entry: any) => ({ kind: entry.kind, remainingMs: entry.until - now }));
}

/** The breaker's samples of a target that say it failed (none when the breakers file was never written). */
function failedBreakerSamples(agentDir: string, key: string): number {
  const path = join(agentDir, "extensions", "auto-router.breakers.json");
  if (!existsSync(path)) return 0;
  const samples = JSON.parse(readFileSync(path, "utf8")).breakers[key]?.samples ?? [];
  return samples.filter((sample: { failed: boolean }) => sample.failed).length;
}

/** Groq's answer when its model wrote a tool call it could not parse (a 400, though the request was fine). */
const GROQ_TOOL_USE_FAILED = {
  error: {
    message: "Failed to call a function. Please adjust your prompt. See 'failed_generation' for more details.",
    type: "invalid_request_error",
    code: "tool_use_failed",
    failed_generation:
      'web_search{"query": "SPFMV and SPCSV in the Pearl Of Africa 2016", "filter_year": 2016}</function>',
  },
};

describe("pi CLI: OpenAI-compatible providers' account and model failures", () => {
  let failing: Emulator;
  let healthy: Emulator;
  let dir: EmulatedAgent<"A" | "B">;

  // A fresh agent dir for each test: one test's cooldown and log lines must not meet the next one.
  beforeEach(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers: TWO_OPENAI_PROVIDERS,
      routes: {
        routes: {
          chain: { sortBy: "config", targets: [target("mock-a/model-a"), target("mock-b/model-b")] },
          solo: { targets: [target("mock-a/model-a")] },
        },
      },
    });
    ({ A: failing, B: healthy } = dir.emulators);
  });
  afterEach(() => dir?.stop());

  it("fails over from a model Groq has decommissioned (a 400) and rests it as a missing model", async () => {
    failing.enqueue({
      status: 400,
      errorType: "model_decommissioned",
      errorMessage:
        "The model `mixtral-8x7b-32768` has been decommissioned and is no longer supported. Please refer to https://console.groq.com/docs/deprecations for a recommendation on which model to use instead.",
    });
    healthy.enqueue({ text: "B served." });
    const startedAt = Date.now();
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/chain", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B served.");
    assert.deepEqual(failedKinds(dir.agentDir), [["mock-a/model-a", "model_not_found"]]);
    const [entry] = cooldowns(dir.agentDir, startedAt);
    assert.equal(entry?.kind, "model_not_found");
    assert.ok(entry.remainingMs > 5 * 3_600_000, `rests for hours, not ${entry.remainingMs} ms`);
  });

  it("fails over from a tool call Groq could not parse (400 tool_use_failed), without resting the target", async () => {
    failing.enqueue({ status: 400, body: JSON.stringify(GROQ_TOOL_USE_FAILED) });
    failing.enqueue({ text: "A served." });
    healthy.enqueue({ text: "B served." });
    // Both prompts in one pi process: the second shows whether the first left the target resting.
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/chain", "--mode", "json", "Say hi", "Say hi again"],
    });
    const answers = assistantMessages(run.stdout);
    assert.deepEqual(
      answers.map((message) => [message.stopReason, message.provider, message.content]),
      [
        ["stop", "mock-b", [{ type: "text", text: "B served." }]],
        // No rest: the next prompt goes to the route's first target again.
        ["stop", "mock-a", [{ type: "text", text: "A served." }]],
      ],
      run.stderr,
    );
    assert.deepEqual(failedKinds(dir.agentDir), [["mock-a/model-a", "malformed_output"]]);
    assert.equal(failedBreakerSamples(dir.agentDir, "mock-a/model-a"), 0, "one bad generation is no outage");
    // Nor is a rest kept for the next pi process.
    const cooldownFile = join(dir.agentDir, "extensions", "auto-router.cooldowns.json");
    const kept = existsSync(cooldownFile) ? JSON.parse(readFileSync(cooldownFile, "utf8")).entries : {};
    assert.equal(kept["chain::mock-a/model-a"], undefined, JSON.stringify(kept));
    assert.equal(failing.calls.length, 2);
    assert.equal(healthy.calls.length, 1);
  });

  it("samples the only target of a route again once after a tool call it could not parse, and serves the prompt", async () => {
    failing.enqueue({ status: 400, body: JSON.stringify(GROQ_TOOL_USE_FAILED) });
    failing.enqueue({ text: "A served on its second sample." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/solo", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "A served on its second sample.");
    assert.equal(failing.calls.length, 2);
    assert.deepEqual(failedKinds(dir.agentDir), [["mock-a/model-a", "malformed_output"]]);
    const events = readLoggedEvents(dir.agentDir);
    const final = events.filter((event) => event.type === "final").at(-1);
    assert.deepEqual([final.data.outcome, final.data.attempts, final.data.failovers], ["success", 2, 0]);
    assert.ok(
      final.data.notes?.some((note: string) => note.startsWith("retried mock-a/model-a after malformed_output (0 ms")),
      JSON.stringify(final.data.notes),
    );
  });

  it("fails over from Groq's tool_use_failed sent inside the stream (event: error, no HTTP status)", async () => {
    failing.enqueue({
      body: `event: error\ndata: ${JSON.stringify({ error: { ...GROQ_TOOL_USE_FAILED.error, status_code: 400 } })}\n\n`,
    });
    healthy.enqueue({ text: "B served." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/chain", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B served.");
    assert.deepEqual(failedKinds(dir.agentDir), [["mock-a/model-a", "malformed_output"]]);
  });

  it("reads a per-minute limit as a rate limit though its text links a billing page (Groq, OpenAI free tier)", async () => {
    failing.enqueue({
      status: 429,
      errorType: "rate_limit_exceeded",
      errorMessage:
        "Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_01abc` service tier `on_demand` on tokens per minute (TPM): Limit 12000, Used 11000, Requested 1500. Please try again in 2.5s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing",
    });
    healthy.enqueue({ text: "B served." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/chain", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B served.");
    assert.deepEqual(failedKinds(dir.agentDir), [["mock-a/model-a", "rate_limit"]]);
  });

  it("rests a target an hour on a daily limit that names no retry time (OpenRouter's free models), not a minute", async () => {
    failing.enqueue({
      status: 429,
      body: JSON.stringify({ error: { message: "Rate limit exceeded: free-models-per-day. ", code: 429 } }),
    });
    healthy.enqueue({ text: "B served." });
    const startedAt = Date.now();
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/chain", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B served.");
    assert.deepEqual(failedKinds(dir.agentDir), [["mock-a/model-a", "quota_exhausted"]]);
    const [entry] = cooldowns(dir.agentDir, startedAt);
    assert.ok(entry && entry.remainingMs >= 3_600_000, `rests an hour, not ${entry?.remainingMs} ms`);
  });

  it("reads OpenRouter's 403 for a key past its spending limit as a used-up quota, not rejected credentials", async () => {
    failing.enqueue({
      status: 403,
      body: JSON.stringify({
        error: {
          message: "Key limit exceeded (monthly limit). Manage it using https://openrouter.ai/settings/keys",
          code: 403,
        },
      }),
    });
    healthy.enqueue({ text: "B served." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/chain", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B served.");
    assert.deepEqual(failedKinds(dir.agentDir), [["mock-a/model-a", "quota_exhausted"]]);
    assert.doesNotMatch(run.stderr, /rejected its credentials/);
  });
});

/** Gemini's answer once a free tier's requests per day are used up, as ai.google.dev sends it. */
const DAILY_QUOTA_BODY = {
  error: {
    code: 429,
    message:
      "You exceeded your current quota, please check your plan and billing details.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 250, model: gemini-2.5-flash\nPlease retry in 37.28s.",
    status: "RESOURCE_EXHAUSTED",
    details: [
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [
          {
            quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            quotaDimensions: { location: "global", model: "gemini-2.5-flash" },
            quotaValue: "250",
          },
        ],
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "37s" },
    ],
  },
};

/** Gemini's answer once a free tier's requests per minute are used up (the same words as a used-up quota). */
const PER_MINUTE_LIMIT_BODY = {
  error: {
    code: 429,
    message:
      "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
    status: "RESOURCE_EXHAUSTED",
    details: [
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [
          {
            quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            quotaDimensions: { location: "global", model: "gemini-2.5-flash" },
            quotaValue: "10",
          },
        ],
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "41s" },
    ],
  },
};

/** Milliseconds from `now` to the next midnight in Los Angeles (where Google's daily quotas roll over). */
function msUntilMidnightInLosAngeles(now: number): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: "America/Los_Angeles",
    hourCycle: "h23",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(now);
  const part = (type: string) => Number(parts.find((entry) => entry.type === type)?.value);
  const sinceMidnightMs = ((part("hour") * 60 + part("minute")) * 60 + part("second")) * 1_000 + (now % 1_000);
  return 24 * 3_600_000 - sinceMidnightMs;
}

describe("pi CLI: Google's RESOURCE_EXHAUSTED answers", () => {
  let google: Upstream;
  let healthy: Emulator;
  let dir: EmulatedAgent<"B">;

  before(async () => {
    // Gemini's API answers an error as plain JSON, whatever the path: the stand-in upstream does that.
    google = await startUpstream("G");
  });
  beforeEach(async () => {
    google.calls.length = 0;
    dir = await startEmulatedAgent({
      emulators: { B: "openai" },
      providers: {
        gem: { baseUrl: google.url, api: "google-generative-ai", apiKey: "AIza-gem-key", models: [{ id: "gemini-x" }] },
        "mock-b": { emulator: "B", apiKey: "sk-mock-b", models: ["model-b"] },
      },
      routes: { routes: { chain: { sortBy: "config", targets: [target("gem/gemini-x"), target("mock-b/model-b")] } } },
    });
    healthy = dir.emulators.B;
  });
  afterEach(() => dir?.stop());
  after(() => google?.close());

  it("rests a target for a rate limit's minute, not a quota's hour, on the generic 'check quota' 429", async () => {
    google.replies.push({
      status: 429,
      body: {
        error: { code: 429, message: "Resource has been exhausted (e.g. check quota).", status: "RESOURCE_EXHAUSTED" },
      },
    });
    healthy.enqueue({ text: "B served." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/chain", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B served.");
    assert.equal(google.calls.length, 1);
    assert.deepEqual(failedKinds(dir.agentDir), [["gem/gemini-x", "rate_limit"]]);
    const [entry] = cooldowns(dir.agentDir, Date.now());
    assert.equal(entry?.kind, "rate_limit");
    assert.ok(entry.remainingMs <= 60_000, `rests a minute at most, not ${entry.remainingMs} ms`);
  });

  it("rests a target for a minute on a per-minute quota that names no retry time (Vertex AI)", async () => {
    google.replies.push({
      status: 429,
      body: {
        error: {
          code: 429,
          message:
            "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model with base model: gemini-2.5-pro. Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.",
          status: "RESOURCE_EXHAUSTED",
        },
      },
    });
    healthy.enqueue({ text: "B served." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/chain", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B served.");
    assert.deepEqual(failedKinds(dir.agentDir), [["gem/gemini-x", "rate_limit"]]);
    const [entry] = cooldowns(dir.agentDir, Date.now());
    assert.ok(entry && entry.remainingMs <= 60_000, `rests a minute at most, not ${entry?.remainingMs} ms`);
  });

  it("fails over from a Gemini target that refuses the user's location (a 400) and rests it", async () => {
    google.replies.push({
      status: 400,
      body: {
        error: { code: 400, message: "User location is not supported for the API use.", status: "FAILED_PRECONDITION" },
      },
    });
    healthy.enqueue({ text: "B served." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/chain", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B served.");
    assert.deepEqual(failedKinds(dir.agentDir), [["gem/gemini-x", "auth"]]);
    assert.equal(cooldowns(dir.agentDir, Date.now())[0]?.kind, "auth");
    // The warning carries the provider's words: checking the key would not help here.
    assert.match(
      run.stderr,
      /gem\/gemini-x rejected its credentials or access \(User location is not supported for the API use\.\); it rests for 30 min/,
    );
  });

  it("reads Gemini's per-minute limit as a rate limit resting its retryDelay, and says so, not 'quota used up'", async () => {
    google.replies.push({ status: 429, body: PER_MINUTE_LIMIT_BODY });
    healthy.enqueue({ text: "B served." });
    healthy.enqueue({ text: "B again." });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/chain", "-p", "Say hi", "Say hi again", "/auto-router explain chain"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /B again\./);
    assert.equal(google.calls.length, 1, "the second prompt skips the resting target");
    assert.deepEqual(failedKinds(dir.agentDir), [["gem/gemini-x", "rate_limit"]]);
    const results = readLoggedEvents(dir.agentDir).filter(
      (event: any) => event.type === "result" && event.data.outcome === "failed",
    );
    assert.deepEqual(
      results.map((event: any) => event.data.cooldownMs),
      [41_000],
      "rests the body's retryDelay",
    );
    assert.equal(cooldowns(dir.agentDir, Date.now())[0]?.kind, "rate_limit");
    const text = run.stdout + run.stderr;
    assert.match(text, /gem\/gemini-x[^\n]*resting \(throttled\)/);
    assert.doesNotMatch(text, /quota used up/);
  });

  it("rests a target whose daily quota is used up until Google's midnight, not for the body's retryDelay", async () => {
    google.replies.push({ status: 429, body: DAILY_QUOTA_BODY });
    healthy.enqueue({ text: "B served." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/chain", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B served.");
    const entries = cooldowns(dir.agentDir, Date.now()).filter((entry) => entry.kind === "quota_exhausted");
    assert.equal(entries.length, 1);
    const untilMidnight = msUntilMidnightInLosAngeles(Date.now());
    assert.ok(Math.abs(entries[0]!.remainingMs - untilMidnight) < 60_000, `${entries[0]!.remainingMs} ms`);
  });
});
