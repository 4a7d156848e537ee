// A weekly limit of one model family through the real pi CLI and the gateway, with a Claude subscription login (OAuth
// in auth.json) and pi's built-in anthropic models pointed at a local emulator: the usage API (emulated) says the
// weekly Opus window is used up and the Sonnet one barely touched. The Opus target is skipped with that window named;
// the Sonnet target of the same route serves, and nothing claims the whole provider is out of quota.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, routeInOrder } from "../helpers/agent-dir.ts";
import { startAnthropicEmulator } from "../helpers/anthropic-emulator.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { readLoggedEvents } from "../helpers/event-log.ts";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { runRoutingScript } from "../helpers/routing-script.ts";
import { startQuotaEmulator, type QuotaEmulator } from "../helpers/quota-emulator.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { TEST_GEMINI_PROJECT } from "../fixtures/gemini-cli-login.ts";

const HOUR_MS = 3_600_000;
const USAGE_PATH = "/api/oauth/usage";
const OPUS = "anthropic/claude-opus-4-1";
const SONNET = "anthropic/claude-sonnet-4-5";
const GEMINI_PATH = "/v1internal:retrieveUserQuota";
/** The Gemini CLI OAuth login pi 0.73.1 lacks, as a second extension (see the file). */
const GEMINI_LOGIN = fileURLToPath(new URL("../fixtures/gemini-cli-login.ts", import.meta.url));

describe("model-scoped quota windows through the pi CLI", () => {
  let anthropic: Emulator;
  let quota: QuotaEmulator;
  let dir: ReturnType<typeof makeAgentDir>;
  let home: string;

  before(async () => {
    anthropic = await startAnthropicEmulator({ name: "A" });
    quota = await startQuotaEmulator();
    home = freshDir("auto-router-scope-home");
    // The credential is a /login (OAuth) that has not expired.
    dir = makeAgentDir({
      routes: { routes: { main: routeInOrder(OPUS, SONNET) } },
      oauth: { anthropic: "sk-ant-oat01-emulated-access" },
    });
    // pi's own anthropic models, sent to the emulator.
    writeFileSync(
      join(dir.agentDir, "models.json"),
      JSON.stringify({ providers: { anthropic: { baseUrl: anthropic.url } } }),
    );
  });
  after(async () => {
    await Promise.all([anthropic.close(), quota.close()]);
    dir.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it("skips the Opus target for the used-up weekly Opus window and serves the Sonnet one", async () => {
    const weekly = (utilization: number) => ({
      utilization,
      resets_at: new Date(Date.now() + 96 * HOUR_MS).toISOString(),
    });
    quota.reply(USAGE_PATH, {
      body: {
        five_hour: { utilization: 10, resets_at: new Date(Date.now() + 3 * HOUR_MS).toISOString() },
        seven_day: weekly(20),
        seven_day_opus: weekly(100),
        seven_day_sonnet: weekly(5),
      },
    });
    anthropic.enqueue({ text: "Hello from Sonnet." });
    const run = await runPi({
      agentDir: dir.agentDir,
      env: { HOME: home, AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}` },
      args: [
        "--model",
        "auto-router/main",
        "-p",
        "/auto-router uvi refresh",
        "Say hi",
        "/auto-router explain",
        "/auto-router list",
        "/auto-router status",
        "/auto-router debug",
      ],
    });
    assert.equal(run.code, 0, run.stderr);
    const shown = run.stdout + run.stderr;
    assert.equal(
      quota.calls.at(-1)?.headers.authorization,
      "Bearer sk-ant-oat01-emulated-access",
      "the usage API is read with the login's token",
    );

    // Served by Sonnet, the second target: the one call the emulator saw asked for it.
    assert.match(run.stdout, /Hello from Sonnet\./);
    assert.deepEqual(
      anthropic.calls.map((call) => call.body.model),
      ["claude-sonnet-4-5"],
    );

    // /auto-router uvi: each weekly model window says which models it paces; only Opus' is critical, and decides for
    // those models ("← worst"); Sonnet's does not (the account's 7 day window is fuller).
    assert.match(shown, /anthropic\s+7d opus\s+100%\s+\d+%\s+\d\.\d\d\s+critical\s+.*\s+opus models\s+← worst/);
    assert.match(shown, /anthropic\s+7d sonnet\s+5%[^\n]*\sok\s[^\n]*sonnet models[ \t]*$/m);
    assert.match(shown, /anthropic\s+5h\s+10%\s+\d+%\s+\d\.\d\d\s+ok\s+.*\s+all/);

    // explain: the Opus target skipped with the Opus window named, no quota skip for the Sonnet one.
    assert.match(shown, new RegExp(`${OPUS}.*quota critical: 7d opus window 100% used \\(opus models\\)`));
    assert.doesNotMatch(shown, new RegExp(`${SONNET}[^\\n]*quota`));
    assert.match(shown, /Served by: anthropic\/claude-sonnet-4-5/);

    // list: the Opus target is out of quota, the Sonnet one ready.
    assert.match(shown, new RegExp(`${OPUS}\\s+quota critical\\s+OAuth`));
    assert.match(shown, new RegExp(`${SONNET}\\s+ready\\s+OAuth`));

    // status (the status line's warnings, all of them): the Opus models are critical, not the provider.
    // The Opus window is used up: said so, rather than its pace.
    assert.match(shown, /warnings: [^\n]*quota critical anthropic \(opus models\) used up/);
    assert.doesNotMatch(shown, /quota (critical|stressed) anthropic \d/);

    // debug (the report for bug reports): the provider's windows, then each model scope's.
    assert.match(shown, /uvi anthropic: ok 0\.\d\d, 7d window 20% used/);
    assert.match(shown, /uvi anthropic \(opus models\): critical 2\.3\d, 7d opus window 100% used \(opus models\)/);

    // The UVI timeline: the provider's own point, and one per model scope.
    assert.deepEqual(
      readLoggedEvents(dir.agentDir)
        .filter((event) => event.type === "quota")
        .map((event) => [
          event.data.provider,
          event.data.models,
          event.data.level,
          event.data.window,
          event.data.usedUp,
        ]),
      [
        ["anthropic", undefined, "ok", "7d", undefined],
        ["anthropic", "opus models", "critical", "7d opus", true],
        ["anthropic", "sonnet models", "ok", "7d sonnet", undefined],
      ],
    );
    // routing-session-stats' UVI timeline over that log: the used-up window's last level says so, not only its UVI.
    const report = await runRoutingScript("routing-session-stats", ["--file", join(dir.agentDir, "extensions"), "-v"]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(
      report.stdout,
      /anthropic \(opus models\)\s+\S+\s+1\s+2\.\d\d\s+2\.\d\d\s+2\.\d\d\s+critical \(used up\)/,
    );
    assert.match(report.stdout, /anthropic \(sonnet models\)\s+\S+\s+1\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+ok\s*$/m);
  });

  it("reports the provider-wide quota and the Opus window apart in the gateway's GET /health/providers", async () => {
    const gateway = await startGatewayProcess({
      agentDir: dir.agentDir,
      env: { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}` },
    });
    try {
      // The gateway reads the usage API in the background after it starts: asked again until the reading is in.
      let line: any;
      for (let attempt = 0; attempt < 200 && line?.scopedQuota === undefined; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
        const response = await fetch(`${gateway.url}/health/providers`, { headers: { "x-api-key": gateway.token } });
        line = ((await response.json()) as any).providers.find((entry: any) => entry.provider === "anthropic");
      }
      assert.equal(line.quota.level, "ok", "the account-wide 5 h and 7 day windows are not critical");
      assert.match(line.quota.detail, /^7d window 20% used at/);
      assert.deepEqual(
        line.scopedQuota.map((entry: any) => [entry.models, entry.level]),
        [
          ["opus models", "critical"],
          ["sonnet models", "ok"],
        ],
      );
      assert.match(line.scopedQuota[0].detail, /^7d opus window 100% used \(opus models\)/);
    } finally {
      await gateway.stop();
    }
  });
});

describe("a Gemini CLI bucket whose model id carries a suffix, through the pi CLI", () => {
  let gemini: Emulator;
  let quota: QuotaEmulator;
  let dir: ReturnType<typeof makeAgentDir>;
  let home: string;

  before(async () => {
    gemini = await startOpenAIEmulator({ name: "G" });
    quota = await startQuotaEmulator();
    home = freshDir("auto-router-gemini-home");
    dir = makeAgentDir({
      providers: {
        "google-gemini-cli": {
          baseUrl: gemini.url,
          api: "openai-completions",
          apiKey: "unused-the-login-answers",
          models: [{ id: "gemini-2.5-pro" }, { id: "gemini-2.5-flash" }],
        },
      },
      routes: {
        routes: { main: routeInOrder("google-gemini-cli/gemini-2.5-pro", "google-gemini-cli/gemini-2.5-flash") },
      },
      oauth: { "google-gemini-cli": "ya29.emulated-gemini-access" },
    });
  });
  after(async () => {
    await Promise.all([gemini.close(), quota.close()]);
    dir.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it("skips gemini-2.5-pro while its _vertex bucket is nearly used up, and serves gemini-2.5-flash", async () => {
    // A quarter into the day's buckets: 98% of pro's _vertex bucket used is UVI 3.9, critical. Each model also has its
    // own bucket, as the real API answers; flash-lite's used-up _vertex bucket paces neither pro nor flash.
    const resetTime = new Date(Date.now() + 18 * HOUR_MS).toISOString();
    quota.reply(GEMINI_PATH, {
      body: {
        buckets: [
          { modelId: "gemini-2.5-pro", tokenType: "REQUESTS", remainingFraction: 0.9, resetTime },
          { modelId: "gemini-2.5-pro_vertex", tokenType: "REQUESTS", remainingFraction: 0.02, resetTime },
          { modelId: "gemini-2.5-flash", tokenType: "REQUESTS", remainingFraction: 0.8, resetTime },
          { modelId: "gemini-2.5-flash-lite_vertex", tokenType: "REQUESTS", remainingFraction: 0, resetTime },
        ],
      },
    });
    gemini.enqueue({ text: "Hello from flash." });
    const run = await runPi({
      agentDir: dir.agentDir,
      env: { HOME: home, AUTO_ROUTER_GEMINI_QUOTA_URL: `${quota.url}${GEMINI_PATH}` },
      args: [
        "-e",
        GEMINI_LOGIN,
        "--model",
        "auto-router/main",
        "-p",
        "/auto-router uvi refresh",
        "Say hi",
        "/auto-router explain",
      ],
    });
    assert.equal(run.code, 0, run.stderr);
    const shown = run.stdout + run.stderr;
    const call = quota.calls.at(-1);
    assert.equal(call?.headers.authorization, "Bearer ya29.emulated-gemini-access", "read with the login's token");
    assert.deepEqual(JSON.parse(call!.body), { project: TEST_GEMINI_PROJECT });

    assert.match(run.stdout, /Hello from flash\./);
    assert.deepEqual(
      gemini.calls.map((entry) => entry.body.model),
      ["gemini-2.5-flash"],
      "gemini-2.5-pro is not asked",
    );
    assert.match(
      shown,
      /google-gemini-cli\s+gemini-2\.5-pro_vertex REQUESTS\s+98%\s+\d+%\s+\d\.\d\d\s+critical\s[^\n]*gemini-2\.5-pro only/,
    );
    assert.match(
      shown,
      /google-gemini-cli\/gemini-2\.5-pro[^\n]*quota critical: gemini-2\.5-pro_vertex REQUESTS window 98% used \(gemini-2\.5-pro only\)/,
    );
    assert.match(shown, /Served by: google-gemini-cli\/gemini-2\.5-flash/);
  });
});
