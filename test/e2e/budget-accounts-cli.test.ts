// Budgets through the real pi CLI: an account spelled in two cases is one account (its hard limit holds for both
// targets), several processes on one agent dir book on the ledger's calendar, and the budget commands' words.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { makeAgentDir } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { startRpc, type RpcClient } from "../helpers/rpc-client.ts";
import { startTeam } from "../helpers/team-machines.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

// At $1000/$2000 per 1M tokens an answer of 12 input + 1000 output tokens costs $2.012.
const ANSWER = { text: "hello", usage: { input: 12, output: 1000 } };
const COST = { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 };
// 25 hours apart: their dates differ at any instant.
const WEST = "Pacific/Pago_Pago";
const EAST = "Pacific/Kiritimati";

describe("budget accounts and calendars through the pi CLI", () => {
  let first: Emulator;
  let second: Emulator;
  before(async () => {
    first = await startOpenAIEmulator({ name: "A" });
    second = await startOpenAIEmulator({ name: "B" });
    first.setDefault(ANSWER);
    second.setDefault(ANSWER);
  });
  after(async () => {
    await first.close();
    await second.close();
  });

  const setup = (routes: unknown) =>
    makeAgentDir({
      providers: {
        "mock-a": {
          baseUrl: first.url,
          api: "openai-completions",
          apiKey: "sk-mock-a-key",
          models: [{ id: "model-a", cost: COST }],
        },
        "mock-b": {
          baseUrl: second.url,
          api: "openai-completions",
          apiKey: "sk-mock-b-key",
          models: [{ id: "model-b", cost: COST }],
        },
      },
      routes,
    });
  const twoTargets = (budgets: unknown, accounts: [string, string] = ["mock-a", "mock-b"]) => ({
    ...(budgets ? { budgets } : {}),
    routes: {
      main: {
        sortBy: "config",
        targets: [
          { provider: "mock-a", modelId: "model-a", authProvider: accounts[0] },
          { provider: "mock-b", modelId: "model-b", authProvider: accounts[1] },
        ],
      },
    },
  });
  const pi = (agentDir: string, args: string[], env?: Record<string, string>) =>
    runPi({ agentDir, env, args: ["--model", "auto-router/main", "-p", ...args] });

  it("holds a hard limit for one account its targets spell in two cases, in one row, and warns at load", async () => {
    const dir = setup(twoTargets({ policy: "hard", providers: { Acct: { daily: 5 } } }, ["acct", "ACCT"]));
    const calls = () => first.calls.length + second.calls.length;
    const before = calls();
    try {
      // Two answers ($4.024) leave no room for a third under $5: the second target is the same account.
      const run = await pi(dir.agentDir, ["one", "two", "three", "four", "/auto-router budget"]);
      const shown = run.stdout + run.stderr;
      assert.equal(calls() - before, 2, shown);
      assert.match(shown, /^acct +today +\$4\.024 +\$5\.00 \(config\) +80%/m, shown);
      assert.doesNotMatch(shown, /^ACCT /m, shown);
      assert.match(
        shown,
        /routes\.main\.targets\[1\]\.authProvider: "ACCT" is the account "acct" of another target in another case: budgets count both as one account, "acct"/,
        shown,
      );
      const ledger = JSON.parse(readFileSync(join(dir.agentDir, "extensions", "auto-router.usage.json"), "utf8"));
      assert.deepEqual(Object.keys(Object.values(ledger.days)[0] as object), ["acct"]);
    } finally {
      dir.cleanup();
    }
  });

  it("paces both spellings of the account by its monthly budget's window", async () => {
    // One answer ($2.012) is past a $3 monthly budget's pace on any day of the month: the window is stressed.
    const dir = setup(twoTargets({ providers: { Acct: { monthly: 3 } } }, ["acct", "ACCT"]));
    try {
      const run = await pi(dir.agentDir, ["one", "/auto-router uvi"]);
      const shown = run.stdout + run.stderr;
      assert.match(shown, /^acct +monthly budget +\d+% +\d+% +[\d.]+ +stressed/m, shown);
      assert.match(shown, /^ACCT +monthly budget +\d+% +\d+% +[\d.]+ +stressed/m, shown);
    } finally {
      dir.cleanup();
    }
  });

  it("holds that limit in team mode too: the team's ledger reserves and counts the account under one name", async () => {
    const team = await startTeam({ cost: COST });
    try {
      team.primary.setDefault(ANSWER);
      team.secondary.setDefault(ANSWER);
      const routes = twoTargets({ policy: "hard", providers: { Acct: { daily: 5 } } }, ["acct", "ACCT"]);
      const { agentDir } = team.machine("m1", "hb-accounts", routes);
      const run = await pi(agentDir, ["one", "two", "three", "four", "/auto-router budget"]);
      const shown = run.stdout + run.stderr;
      assert.equal(team.primary.calls.length + team.secondary.calls.length, 2, shown);
      assert.match(shown, /^acct +today +\$4\.024 +\$5\.00 \(config\) +80%/m, shown);
      assert.doesNotMatch(shown, /^ACCT /m, shown);
    } finally {
      await team.close();
    }
  });

  it("says an off overrides the config only when one is there, shows it as off (set), and clears a stored spelling", async () => {
    const dir = setup(twoTargets({ providers: { "mock-a": { daily: 1 } } }));
    try {
      // The first answer ($2.012) blocks mock-a's $1 daily limit: the second is mock-b's, so both have a row.
      const run = await pi(dir.agentDir, [
        "one",
        "two",
        "/auto-router budget set mock-b off",
        "/auto-router budget set mock-a off",
        "/auto-router budget",
        "/auto-router budget set mokc-a 5",
        "/auto-router budget clear MOKC-A",
      ]);
      const shown = run.stdout + run.stderr;
      assert.match(shown, /^daily budget for mock-b switched off$/m, shown);
      assert.match(shown, /^daily budget for mock-a switched off \(also overrides the config\)$/m, shown);
      assert.match(shown, /^mock-a +today +\$2\.012 +off \(set, config \$1\.00\) +- +1$/m, shown);
      assert.match(shown, /^mock-b +today +\$2\.012 +off \(set\) +- +1$/m, shown);
      assert.match(
        shown,
        /^daily budget set by command for mokc-a cleared: no daily limit now \(the routes file sets none\)$/m,
        shown,
      );
      const limits = JSON.parse(
        readFileSync(join(dir.agentDir, "extensions", "auto-router.budget-limits.json"), "utf8"),
      );
      assert.deepEqual(Object.keys(limits.cleared), ["mokc-a"]);
    } finally {
      dir.cleanup();
    }
  });

  it("books on the ledger's calendar after another process in another zone moved it", async () => {
    const dir = setup(twoTargets(undefined));
    const ledgerFile = join(dir.agentDir, "extensions", "auto-router.usage.json");
    const penny = { input: 1, output: 1, cacheRead: 0, cacheWrite: 0, costUsd: 0.01, requests: 1, estimated: 0 };
    const west = calendarKeys(Date.now(), WEST);
    writeFileSync(
      ledgerFile,
      JSON.stringify({
        version: 1,
        timeZone: WEST,
        days: { [west.day]: { "mock-a": { "model-a": penny } } },
        months: { [west.month]: { "mock-a": { "model-a": penny } } },
      }),
    );
    let rpc: RpcClient | undefined;
    try {
      rpc = await startRpc({ agentDir: dir.agentDir, env: { TZ: WEST }, args: ["--model", "auto-router/main"] });
      const budgetOf = async (client: RpcClient) => {
        const from = client.lines.length;
        client.send({ type: "prompt", message: "/auto-router budget" });
        await client.waitFor((line) => line.method === "notify", undefined, { sinceIndex: from });
        return JSON.stringify(client.lines.slice(from));
      };
      assert.match(await budgetOf(rpc), new RegExp(`today ${west.day}, month ${west.month} \\(${WEST}\\)`));
      const moved = await pi(dir.agentDir, ["/auto-router budget"], { TZ: EAST });
      assert.match(moved.stdout + moved.stderr, /the budget calendar is now Pacific\/Kiritimati/);
      // The running process reads the moved ledger at its next refresh; from then it counts on that calendar.
      let shown = await budgetOf(rpc);
      for (let tries = 1; !shown.includes(`(${EAST})`); tries++) {
        assert.ok(tries < 100, `the ${WEST} process still counts on its own calendar: ${shown}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
        shown = await budgetOf(rpc);
      }
      rpc.send({ type: "prompt", message: "hello" });
      await rpc.waitFor((line) => line.type === "agent_end");
      await rpc.close();
      rpc = undefined;
      const ledger = JSON.parse(readFileSync(ledgerFile, "utf8"));
      const east = calendarKeys(Date.now(), EAST);
      assert.equal(ledger.timeZone, EAST);
      assert.deepEqual(Object.keys(ledger.days), [east.day], JSON.stringify(ledger.days));
      assert.equal(ledger.days[east.day]["mock-a"]["model-a"].requests, 2);
    } finally {
      await rpc?.close();
      dir.cleanup();
    }
  });
});
