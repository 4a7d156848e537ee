// Quota pacing and provider health through the real pi CLI (RPC mode). models.json points pi's built-in `anthropic`
// provider at a local Anthropic emulator with an API key, and AUTO_ROUTER_ANTHROPIC_USAGE_URL points the usage
// source at the quota emulator: a critical window skips anthropic and the next target serves; when the window
// recovers anthropic serves again; each change is a `quota` event that routing-session-stats shows as the UVI
// timeline; `/auto-router health --probe` reaches both providers.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, REPO_ROOT, routeInOrder } from "../helpers/agent-dir.ts";
import { startAnthropicEmulator } from "../helpers/anthropic-emulator.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { startQuotaEmulator, type QuotaEmulator } from "../helpers/quota-emulator.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { startRpc, type RpcClient } from "../helpers/rpc-client.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { readEventLogFile } from "../helpers/event-log.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const HOUR_MS = 3_600_000;
const USAGE_PATH = "/api/oauth/usage";
const OAUTH_TOKEN = "sk-ant-oat01-quota-health-login";
const usage = (usedPercent: number, hoursLeft: number) => ({
  five_hour: { utilization: usedPercent, resets_at: new Date(Date.now() + hoursLeft * HOUR_MS).toISOString() },
});

/** Runs a slash command over RPC and resolves with the text of the notification it showed. */
async function command(rpc: RpcClient, text: string, match: RegExp): Promise<string> {
  const from = rpc.lines.length;
  rpc.send({ type: "prompt", message: text });
  const line = await rpc.waitFor(
    (item) => item.type === "extension_ui_request" && item.method === "notify" && match.test(item.message ?? ""),
    undefined,
    { sinceIndex: from },
  );
  return line.message as string;
}

async function prompt(rpc: RpcClient, text: string): Promise<any> {
  await rpc.request({ type: "prompt", message: text });
  const end = await rpc.waitFor((line) => line.type === "agent_end");
  return end.messages.filter((message: any) => message.role === "assistant").at(-1);
}

describe("quota pacing and health through the pi CLI", () => {
  let anthropic: Emulator;
  let openai: Emulator;
  let quota: QuotaEmulator;
  let dir: ReturnType<typeof makeAgentDir>;
  let stateDir: string;

  before(async () => {
    anthropic = await startAnthropicEmulator({ name: "A" });
    openai = await startOpenAIEmulator({ name: "B" });
    quota = await startQuotaEmulator();
    stateDir = freshDir("auto-router-quota-state");
    dir = makeAgentDir(agentOptions());
  });
  /** The emulated anthropic subscription and mock-b on route main. */
  const agentOptions = (): Parameters<typeof makeAgentDir>[0] => ({
    providers: {
      anthropic: {
        baseUrl: anthropic.url,
        api: "anthropic-messages",
        apiKey: "sk-ant-test-override-key",
        models: [{ id: "claude-emulated" }],
      },
      "mock-b": {
        baseUrl: openai.url,
        api: "openai-completions",
        apiKey: "sk-mock-b-key",
        models: [{ id: "model-b" }],
      },
    },
    routes: {
      routes: {
        main: routeInOrder("anthropic/claude-emulated", "mock-b/model-b"),
      },
    },
    // A Claude subscription (/login): its usage API takes the login's token.
    oauth: { anthropic: OAUTH_TOKEN },
  });
  after(async () => {
    await Promise.all([anthropic.close(), openai.close(), quota.close()]);
    dir.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("skips anthropic while its usage API reports a critical window, serves it again after, and logs the UVI timeline", async () => {
    quota.reply(USAGE_PATH, { body: usage(90, 4) });
    const rpc = await startRpc({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main"],
      env: { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}`, AUTO_ROUTER_LOG_DIR: stateDir },
    });
    try {
      const critical = await command(rpc, "/auto-router uvi refresh", /anthropic-usage/);
      assert.match(critical, /anthropic\s+5h\s+90%\s+20%\s+4\.[45]\d\s+critical/);
      assert.equal(
        quota.calls.at(-1)?.headers.authorization,
        `Bearer ${OAUTH_TOKEN}`,
        "read with the login's OAuth token pi resolves",
      );

      openai.enqueue({ text: "Hello from B." });
      const first = await prompt(rpc, "Say hi");
      assert.equal(first.provider, "mock-b");
      assert.equal(anthropic.calls.length, 0);

      quota.reply(USAGE_PATH, { body: usage(10, 4) });
      await command(rpc, "/auto-router uvi refresh", /anthropic-usage/);
      anthropic.enqueue({ text: "Hello from A." });
      const second = await prompt(rpc, "Say hi again");
      assert.equal(second.provider, "anthropic");

      anthropic.enqueue({ text: "ok" });
      openai.enqueue({ text: "ok" });
      const health = await command(rpc, "/auto-router health --probe", /credentials/);
      assert.match(health, /anthropic: healthy; credentials oauth/);
      assert.match(health, /quota source: anthropic-usage reachable, \d+ ms, 1 window/);
      assert.match(health, /anthropic\/claude-emulated\s+ok 200 \d+ ms\s+yes\s+oauth\s+-\s+closed/);
      assert.match(health, /mock-b\/model-b\s+ok 200 \d+ ms\s+yes\s+api-key\s+-\s+closed/);
      assert.doesNotMatch(health, /sk-ant-test-override-key|quota-health-login/);
    } finally {
      const { code } = await rpc.close();
      assert.equal(code, 0, rpc.stderr);
    }

    const logFile = join(stateDir, "auto-router.events.jsonl");
    const events = readEventLogFile(logFile);
    const timeline = events
      .filter((event) => event.type === "quota" && event.data.provider === "anthropic")
      .map((event) => [event.data.level, event.data.window, event.data.source]);
    assert.deepEqual(timeline, [
      ["critical", "5h", "usage-api"],
      ["ok", "5h", "usage-api"],
    ]);

    const stats = spawnSync(
      process.execPath,
      [join(REPO_ROOT, "scripts", "routing-session-stats.mjs"), "--file", logFile],
      { encoding: "utf8" },
    );
    assert.equal(stats.status, 0, stats.stderr);
    assert.match(stats.stdout, /anthropic\s+\d{4}-\d\d-\d\d\s+2\s+0\.[45]\d\s+2\.\d\d\s+4\.[45]\d\s+ok/);
  });

  it("shows a usage API that fails after a restart as stale, with the age of the last good reading", async () => {
    const env = { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}` };
    const refresh = async () => {
      const run = await runPi({
        agentDir: dir.agentDir,
        args: ["-p", "/auto-router uvi refresh", "/auto-router health"],
        env,
      });
      assert.equal(run.code, 0, run.stderr);
      return run.stdout + run.stderr;
    };
    quota.reply(USAGE_PATH, { body: usage(30, 4) });
    const good = await refresh();
    assert.match(good, /anthropic-usage \(anthropic\): ok, 1 window, fetched \d+s ago in \d+ ms/);
    // The health check reports that reading; it does not fetch the usage API again without --probe.
    assert.match(good, /quota source: anthropic-usage ok, 1 window, fetched \d+s ago \(--probe fetches it now\)/);
    // A new process whose own fetch fails: the reading the first one stored is the last good one, not "ok".
    quota.reply(USAGE_PATH, { status: 500, body: { error: "usage API down" } });
    const failing = await refresh();
    assert.match(failing, /anthropic-usage \(anthropic\): stale \(.*500.*\); last good reading \d+s ago/);
    assert.doesNotMatch(failing, /anthropic-usage \(anthropic\): ok/);
    assert.match(failing, /quota source: anthropic-usage failing: .*500.*; last good reading \d+s ago/);
  });

  it("keeps the last critical reading, stale, when the usage API answers without readable windows", async () => {
    const env = { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}` };
    const run = async (...args: string[]) => {
      const result = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", ...args], env });
      assert.equal(result.code, 0, result.stderr);
      return result.stdout + result.stderr;
    };
    quota.reply(USAGE_PATH, { body: usage(90, 4) });
    assert.match(await run("/auto-router uvi refresh"), /anthropic\s+5h\s+90%\s+20%\s+4\.[45]\d\s+critical/);
    // Utilization as a string: no window could be read, which is no reason to forget the critical one.
    quota.reply(USAGE_PATH, {
      body: { five_hour: { utilization: "85", resets_at: new Date(Date.now() + 4 * HOUR_MS).toISOString() } },
    });
    const calls = anthropic.calls.length;
    openai.enqueue({ text: "Hello from B." });
    const shown = await run("/auto-router uvi refresh", "Say hi", "/auto-router health");
    assert.match(
      shown,
      /anthropic-usage \(anthropic\): stale \([^)]*five_hour\.utilization: expected a number, got "85"/,
    );
    assert.doesNotMatch(shown, /anthropic-usage \(anthropic\): ok/);
    assert.match(shown, /Hello from B\./);
    assert.equal(anthropic.calls.length, calls, "the critical subscription was not routed to");
  });

  it("says the usage API answered with no open window, in uvi's table line, its source line and health alike", async () => {
    const env = { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}` };
    const answers = {
      "a window absent from the plan and one not started": {
        five_hour: null,
        seven_day: { utilization: 0, resets_at: null },
      },
      "a window whose reset has passed": {
        five_hour: { utilization: 50, resets_at: new Date(Date.now() - HOUR_MS).toISOString() },
      },
    };
    for (const [what, body] of Object.entries(answers)) {
      quota.reply(USAGE_PATH, { body });
      const run = await runPi({
        agentDir: dir.agentDir,
        args: ["-p", "/auto-router uvi refresh", "/auto-router health"],
        env,
      });
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      assert.match(shown, /no open quota window: anthropic-usage answered with no open window/, what);
      assert.doesNotMatch(shown, /usage APIs not fetched/, what);
      assert.match(shown, /anthropic-usage \(anthropic\): ok, no open window, fetched \d+s ago in \d+ ms/, what);
      assert.match(shown, /quota source: anthropic-usage ok, no open window, fetched \d+s ago/, what);
    }
  });

  it("does not say the usage API was not fetched when its answer was unusable", async () => {
    const env = { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}` };
    const fresh = makeAgentDir(agentOptions());
    try {
      quota.reply(USAGE_PATH, { body: { five_hour: { utilization: "85", resets_at: null } } });
      const run = await runPi({ agentDir: fresh.agentDir, args: ["-p", "/auto-router uvi refresh"], env });
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      assert.match(shown, /anthropic-usage \(anthropic\): stale \(unusable usage API answer/);
      assert.match(
        shown,
        /no quota windows known yet \(no usable usage-API answer \(see sources\), no rate-limit headers seen\)/,
      );
      assert.doesNotMatch(shown, /usage APIs not fetched/);
    } finally {
      fresh.cleanup();
    }
  });

  it("has the debug report say a failing usage API beside the reading it keeps, and not list the previous report", async () => {
    const env = { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}` };
    const debug = async () => {
      const run = await runPi({
        agentDir: dir.agentDir,
        args: ["-p", "/auto-router uvi refresh", "/auto-router debug"],
        env,
      });
      assert.equal(run.code, 0, run.stderr);
      return readFileSync(join(dir.agentDir, "extensions", "auto-router.debug-report.txt"), "utf8");
    };
    quota.reply(USAGE_PATH, { body: usage(90, 4) });
    const good = await debug();
    assert.match(good, /^ {2}uvi anthropic: critical 4\.\d\d, 5h window 90% used/m);
    assert.match(good, /^ {2}quota source anthropic: anthropic-usage ok, 1 window, fetched \d+s ago$/m);
    quota.reply(USAGE_PATH, { status: 401, body: { error: { message: "invalid token" } } });
    const failing = await debug();
    // The UVI reading is the last good one; the line under it says the source fails and how old that reading is.
    assert.match(failing, /^ {2}uvi anthropic: critical 4\.\d\d, 5h window 90% used/m);
    assert.match(
      failing,
      /^ {2}quota source anthropic: anthropic-usage failing: HTTP 401 [^\n]*; last good reading \d+s ago$/m,
    );
    // The report replaces the previous one: that file is no state of the router's.
    assert.doesNotMatch(failing, /auto-router\.debug-report\.txt: \d+ bytes/);
    assert.match(failing, /^ {2}auto-router\.quota\.json: \d+ bytes, ok$/m);
  });

  it("never sends an API key to the OAuth usage API: a key-only provider is paced from headers and budgets", async () => {
    const keyOnly = makeAgentDir({
      providers: {
        anthropic: {
          baseUrl: anthropic.url,
          api: "anthropic-messages",
          apiKey: "sk-ant-api03-key-only-user",
          models: [{ id: "claude-emulated" }],
        },
      },
      routes: { routes: { main: routeInOrder("anthropic/claude-emulated") } },
    });
    try {
      const before = quota.calls.length;
      const run = await runPi({
        agentDir: keyOnly.agentDir,
        args: ["-p", "/auto-router uvi refresh", "/auto-router health"],
        env: { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}` },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(quota.calls.length, before, "the usage API was not called with the key");
      assert.match(run.stdout + run.stderr, /anthropic: healthy; credentials api-key/);
      assert.match(run.stdout + run.stderr, /quota source: none \(pacing from response headers and budgets only\)/);
    } finally {
      keyOnly.cleanup();
    }
  });
});
