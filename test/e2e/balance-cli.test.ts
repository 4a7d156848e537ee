// Prepaid balances through the real pi CLI in print mode, against a local balance API whose answer each test sets:
// what `/auto-router balance` prints when the API fails or hangs, and how a balance below its floor steers routing.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { makeAgentDir } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

/** What the balance API does with the next requests: answer with a status and body, or never answer. */
type BalanceAnswer = { status: number; body: unknown } | "hang";

const openRouterCredits = (credits: number, usage: number): BalanceAnswer => ({
  status: 200,
  body: { data: { total_credits: credits, total_usage: usage } },
});

describe("balances through the pi CLI", () => {
  let chat: Emulator;
  let balanceApi: Server;
  let answer: BalanceAnswer = openRouterCredits(10, 0);
  let balanceRequests = 0;
  let balanceEndpoint = "";

  before(async () => {
    chat = await startOpenAIEmulator({ name: "chat" });
    balanceApi = createServer((_request, response) => {
      balanceRequests += 1;
      if (answer === "hang") return;
      response.statusCode = answer.status;
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => balanceApi.listen(0, "127.0.0.1", resolve));
    balanceEndpoint = `http://127.0.0.1:${(balanceApi.address() as AddressInfo).port}/api/v1/credits`;
  });
  after(async () => {
    balanceApi.closeAllConnections();
    await new Promise<void>((resolve) => balanceApi.close(() => resolve()));
    await chat.close();
  });
  beforeEach(() => {
    chat.reset();
    balanceRequests = 0;
  });

  /**
   * An agent dir (and HOME) whose route tries `provider` (openrouter or deepseek: a provider with a balance API)
   * first, then mock-b; `provider` has a $5 floor unless `floor` says another (null: none).
   */
  function agent(
    provider: "openrouter" | "deepseek" = "openrouter",
    { endpoint = true, floor = 5 as number | string | null } = {},
  ) {
    const spec = (apiKey: string, model: string) => ({
      baseUrl: chat.url,
      api: "openai-completions" as const,
      apiKey,
      models: [{ id: model }],
    });
    const dir = makeAgentDir({
      providers: {
        [provider]: spec("sk-balance-test-key", `${provider}-model`),
        "mock-b": spec("sk-mock-b-key", "model-b"),
      },
      routes: {
        routes: {
          main: {
            sortBy: "config",
            targets: [
              { provider, modelId: `${provider}-model`, ...(endpoint ? { balanceEndpoint } : {}) },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
        },
        ...(floor === null ? {} : { budgets: { providers: { [provider]: { balanceFloor: floor } } } }),
      },
    });
    const home = join(dir.agentDir, "home");
    mkdirSync(home);
    const pi = (args: string[]) =>
      runPi({
        agentDir: dir.agentDir,
        env: { HOME: home },
        args: ["--model", "auto-router/main", ...args],
        timeoutMs: 60_000,
      });
    return { ...dir, pi };
  }

  /** The model of each chat request, in order: which target served each prompt. */
  const servedModels = () => chat.calls.map((call) => call.body.model);

  it("says nothing of a floor waiting for a balance when the provider has none", async () => {
    answer = { status: 503, body: { error: "unavailable" } };
    const dir = agent("openrouter", { floor: null });
    try {
      const run = await dir.pi(["-p", "/auto-router balance fetch"]);
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      assert.match(shown, /^openrouter\s+unknown\s+-\s+.*fetch failed: HTTP 503 from /m, shown);
      assert.doesNotMatch(shown, /no balance yet|floor applies/, shown);
    } finally {
      dir.cleanup();
    }
  });

  it("does not send the key of a provider pointed at another host to the vendor's balance API, and says why", async () => {
    const dir = agent("openrouter", { endpoint: false });
    try {
      const run = await dir.pi(["-p", "/auto-router balance fetch"]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stdout + run.stderr,
        /^openrouter\s+unknown\s+.*openrouter's baseUrl is 127\.0\.0\.1:\d+, not openrouter\.ai: its key is not sent to openrouter\.ai; set balanceEndpoint on its target to fetch its balance/m,
      );
      assert.doesNotMatch(run.stdout + run.stderr, /sk-balance-test-key/);
    } finally {
      dir.cleanup();
    }
  });

  it("prints the failed fetch after the retries when the balance API answers 503, and exits 0", async () => {
    answer = { status: 503, body: { error: "unavailable" } };
    const dir = agent();
    try {
      const run = await dir.pi(["-p", "/auto-router balance fetch", "/auto-router balance show"]);
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      const rows = shown.match(
        /^openrouter\s+unknown\s+\$5\.00\s+.*fetch failed: HTTP 503 from http:\/\/127\.0\.0\.1:\d+\/api\/v1\/credits$/gm,
      );
      assert.equal(rows?.length, 2, shown);
      // No reading is there to be stale, nor a floor compared with one.
      assert.doesNotMatch(shown, /stale|last reading/, shown);
      assert.match(shown, /^no balance yet for openrouter: its floor applies once a fetch succeeds$/m, shown);
      assert.ok(
        balanceRequests >= 3 && balanceRequests % 3 === 0,
        `1 try and 2 retries per fetch, got ${balanceRequests}`,
      );
    } finally {
      dir.cleanup();
    }
  });

  it("prints the failed fetch when the balance API never answers, and exits 0", async () => {
    answer = "hang";
    const dir = agent();
    try {
      // A floor set while no balance is known waits for the first fetch only briefly, and says it is under way; the
      // fetch after it (the same request, shared) then times out.
      const run = await dir.pi(["-p", "/auto-router balance floor openrouter 3", "/auto-router balance fetch"]);
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      const [said, floorPart, fetchPart] = shown.split(/^provider\s+balance\s+floor\s+fetched\s+state$/m);
      assert.match(said ?? "", /^balance floor for openrouter set to \$3\.00$/m, shown);
      assert.match(
        floorPart ?? "",
        /^openrouter\s+unknown\s+\$3\.00.*\s+never\s+fetching \(the floor applies once the balance is known\)$/m,
        shown,
      );
      assert.match(fetchPart ?? "", /^openrouter\s+unknown\s+\$3\.00.*fetch failed: timed out after 5000 ms/m, shown);
    } finally {
      dir.cleanup();
    }
  });

  it("shows a DeepSeek balance held in CNY in CNY, and never compares it with the floor in USD", async () => {
    answer = { status: 200, body: { is_available: true, balance_infos: [{ currency: "CNY", total_balance: "3.00" }] } };
    const dir = agent("deepseek");
    try {
      const run = await dir.pi(["-p", "/auto-router balance fetch", "Say hi", "Say hi again"]);
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      assert.match(shown, /^deepseek\s+3\.00 CNY\s+\$5\.00 \(config\), not applied: balance in CNY\s/m, shown);
      assert.doesNotMatch(shown, /\$3\.00/);
      // Read as dollars, 3.00 would be below the $5 floor and deepseek skipped.
      assert.deepEqual(servedModels(), ["deepseek-model", "deepseek-model"]);
      const warnings = shown.match(
        /deepseek's balance is 3\.00 CNY; its floor \(\$5\.00, balanceFloor in the routes file\) is in USD and is not applied to a balance in CNY: write it in CNY \("balanceFloor": "<amount> CNY" in the routes file, or \/auto-router balance floor deepseek <amount> CNY\)/g,
      );
      assert.equal(warnings?.length, 1, shown);
    } finally {
      dir.cleanup();
    }
  });

  const deepSeekCny = (amount: string): BalanceAnswer => ({
    status: 200,
    body: { is_available: true, balance_infos: [{ currency: "CNY", total_balance: amount }] },
  });

  it("blocks a DeepSeek balance in CNY below a floor written in CNY, in the config and by command, in a new process too", async () => {
    answer = deepSeekCny("30.00");
    const dir = agent("deepseek", { floor: "50 CNY" });
    try {
      const config = await dir.pi(["-p", "Say hi", "/auto-router explain", "/auto-router balance"]);
      assert.equal(config.code, 0, config.stderr);
      const shown = config.stdout + config.stderr;
      assert.deepEqual(servedModels(), ["model-b"]);
      assert.match(shown, /deepseek-model\]?: budget - budget blocked: balance 30\.00 CNY below the floor 50\.00 CNY/);
      assert.match(shown, /^deepseek\s+30\.00 CNY\s+50\.00 CNY \(config\) BLOCKED\s+\d+s ago\s+fresh$/m, shown);
      assert.doesNotMatch(shown, /not applied|\$30|\$50/, shown);

      // A floor in CNY set by command overrides the config's and is kept with its currency for the next process.
      chat.reset();
      const set = await dir.pi(["-p", "/auto-router balance floor deepseek 40cny", "Say hi"]);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stderr, /^balance floor for deepseek set to 40\.00 CNY$/m, set.stderr);
      assert.match(set.stderr, /^deepseek\s+30\.00 CNY\s+40\.00 CNY \(set, config 50\.00 CNY\) BLOCKED/m, set.stderr);
      assert.deepEqual(servedModels(), ["model-b"]);

      chat.reset();
      const later = await dir.pi([
        "-p",
        "Say hi",
        "/auto-router explain",
        "/auto-router balance floor deepseek 20 CNY",
        "Say hi",
      ]);
      assert.equal(later.code, 0, later.stderr);
      // Read as $40, the floor would not apply to a balance in CNY and deepseek would serve the first prompt.
      assert.deepEqual(servedModels(), ["model-b", "deepseek-model"]);
      assert.match(
        later.stdout + later.stderr,
        /balance 30\.00 CNY below the floor 40\.00 CNY set with \/auto-router balance floor/,
      );
      assert.match(later.stderr, /^deepseek\s+30\.00 CNY\s+20\.00 CNY \(set, config 50\.00 CNY\)\s+\d+s ago\s+fresh$/m);
    } finally {
      dir.cleanup();
    }
  });

  it("compares a floor with the balance in its currency when the account holds USD and CNY, and shows both", async () => {
    answer = {
      status: 200,
      body: {
        is_available: true,
        balance_infos: [
          { currency: "CNY", total_balance: "30.00" },
          { currency: "USD", total_balance: "8.00" },
        ],
      },
    };
    const dir = agent("deepseek", { floor: "40 CNY" });
    try {
      const run = await dir.pi([
        "-p",
        "Say hi",
        "/auto-router explain",
        "/auto-router balance floor deepseek 5",
        "Say hi",
      ]);
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      // 30 CNY is below the 40 CNY floor; $8 is above the $5 one set next.
      assert.deepEqual(servedModels(), ["model-b", "deepseek-model"]);
      assert.match(shown, /budget blocked: balance 30\.00 CNY below the floor 40\.00 CNY/);
      assert.match(
        shown,
        /^deepseek\s+\$8\.00, 30\.00 CNY\s+\$5\.00 \(set, config 40\.00 CNY\)\s+\d+s ago\s+fresh$/m,
        shown,
      );
      assert.doesNotMatch(shown, /not applied/);

      // A new process with the balance API down has both balances from the state file: the config's floor in CNY
      // applies again once the command's is cleared.
      answer = { status: 503, body: {} };
      chat.reset();
      const later = await dir.pi([
        "-p",
        "/auto-router balance floor deepseek clear",
        "Say hi",
        "/auto-router balance floor deepseek 5 EUR",
        "Say hi",
      ]);
      assert.equal(later.code, 0, later.stderr);
      assert.match(later.stderr, /^deepseek\s+\$8\.00, 30\.00 CNY\s+40\.00 CNY \(config\) BLOCKED/m, later.stderr);
      // A floor in EUR compares with neither balance: not applied, and the warning names both currencies it could be in.
      assert.deepEqual(servedModels(), ["model-b", "deepseek-model"]);
      assert.ok(
        later.stderr.includes(
          "deepseek's balance is $8.00, 30.00 CNY; its floor (5.00 EUR, set with /auto-router balance floor) is in EUR and is not applied to a balance in USD or CNY: write it in USD or CNY (/auto-router balance floor deepseek <amount> USD)",
        ),
        later.stderr,
      );
    } finally {
      dir.cleanup();
    }
  });

  it("shows when each balance was fetched", async () => {
    answer = openRouterCredits(10, 8);
    const dir = agent();
    try {
      // Both commands in one pi process: each prints one table, the fetch's second.
      const run = await dir.pi(["-p", "/auto-router balance", "/auto-router balance fetch"]);
      assert.equal(run.code, 0, run.stderr);
      const tables = (run.stdout + run.stderr).split(/^provider\s+balance\s+floor\s+fetched\s+state$/m);
      assert.equal(tables.length, 3, run.stdout + run.stderr);
      assert.match(tables[2]!, /^openrouter\s+\$2\.00\s+\$5\.00 \(config\) BLOCKED\s+\d+s ago\s+fresh$/m);
    } finally {
      dir.cleanup();
    }
  });

  it("skips a provider on a new process's first prompt when its last known balance is below the floor", async () => {
    answer = openRouterCredits(10, 8);
    const dir = agent();
    try {
      const fetched = await dir.pi(["-p", "/auto-router balance fetch"]);
      assert.equal(fetched.code, 0, fetched.stderr);
      assert.match(fetched.stdout + fetched.stderr, /^openrouter\s+\$2\.00\s+\$5\.00 \(config\) BLOCKED/m);
      // The balance API is down for the next process: it has only the balance the first one fetched.
      answer = { status: 503, body: {} };
      const run = await dir.pi(["-p", "Say hi", "/auto-router explain"]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(servedModels(), ["model-b"]);
      assert.match(
        run.stdout + run.stderr,
        /openrouter-model\]?: budget - budget blocked: balance \$2\.00 below the floor \$5\.00 \((stale, )?fetched \d+s ago\)/,
      );
    } finally {
      dir.cleanup();
    }
  });

  it("says a balance kept from long ago is stale and how old it is, and still applies its floor", async () => {
    answer = { status: 503, body: {} };
    const dir = agent();
    try {
      const twoHoursAgo = Date.now() - 2 * 3_600_000;
      writeFileSync(
        join(dir.agentDir, "extensions", "auto-router.balances.json"),
        JSON.stringify({ v: 1, readings: { openrouter: { amount: 2, currency: "USD", fetchedAt: twoHoursAgo } } }),
      );
      const run = await dir.pi(["-p", "/auto-router balance", "Say hi", "/auto-router explain"]);
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      assert.match(shown, /^openrouter\s+\$2\.00\s+\$5\.00 \(config\) BLOCKED\s+2h00m ago\s+stale: /m, shown);
      assert.deepEqual(servedModels(), ["model-b"]);
      assert.match(shown, /balance \$2\.00 below the floor \$5\.00 \(stale, fetched 2h00m ago\)/);
    } finally {
      dir.cleanup();
    }
  });

  const deepSeekUsd = (usd: string): BalanceAnswer => ({
    status: 200,
    body: { is_available: true, balance_infos: [{ currency: "USD", total_balance: usd }] },
  });

  it("blocks a provider below a floor set by command from the next prompt on, in a new process too, until cleared", async () => {
    // $8: above the config's $5 floor, below the $10 one the command sets.
    answer = deepSeekUsd("8.00");
    const dir = agent("deepseek");
    try {
      const set = await dir.pi([
        "-p",
        "/auto-router balance floor deepseek 10",
        "Say hi",
        "/auto-router explain",
        "/auto-router balance",
      ]);
      assert.equal(set.code, 0, set.stderr);
      const shown = set.stdout + set.stderr;
      assert.match(shown, /^balance floor for deepseek set to \$10\.00$/m, shown);
      assert.deepEqual(servedModels(), ["model-b"]);
      assert.match(
        shown,
        /deepseek-model\]?: budget - budget blocked: balance \$8\.00 below the floor \$10\.00 set with \/auto-router balance floor/,
        shown,
      );
      assert.match(shown, /^deepseek\s+\$8\.00\s+\$10\.00 \(set, config \$5\.00\) BLOCKED\s+\d+s ago\s+fresh$/m, shown);

      // A new pi process: the floor set by the earlier one still applies, until cleared (in this process too).
      chat.reset();
      const later = await dir.pi([
        "-p",
        "Say hi",
        "/auto-router balance",
        "/auto-router balance floor deepseek clear",
        "Say hi",
      ]);
      assert.equal(later.code, 0, later.stderr);
      assert.deepEqual(
        servedModels(),
        ["model-b", "deepseek-model"],
        "the floor set by the earlier process still applies, and no longer once cleared",
      );
      const clearedAt = later.stderr.indexOf("balance floor set by command for deepseek cleared");
      assert.ok(clearedAt > 0, later.stderr);
      assert.match(later.stderr.slice(0, clearedAt), /^deepseek\s+\$8\.00\s+\$10\.00 \(set, config \$5\.00\) BLOCKED/m);
      const said = later.stderr.slice(clearedAt);
      assert.match(
        said,
        /^balance floor set by command for deepseek cleared; the config's floor \(if any\) applies again: the floor is now \$5\.00 \(config\)$/m,
        said,
      );
      assert.match(said, /^deepseek\s+\$8\.00\s+\$5\.00 \(config\)\s+\d+s ago\s+fresh$/m, said);
    } finally {
      dir.cleanup();
    }
  });

  it("switches the config's floor off with off, and clear puts it back at once", async () => {
    // $2: below the config's $5 floor.
    answer = deepSeekUsd("2.00");
    const dir = agent("deepseek");
    try {
      const run = await dir.pi([
        "-p",
        "/auto-router balance floor deepseek off",
        "Say hi",
        "/auto-router balance floor deepseek clear",
        "Say hi",
      ]);
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      assert.match(shown, /^balance floor for deepseek switched off \(also overrides the config\)$/m, shown);
      assert.match(shown, /^deepseek\s+\$2\.00\s+off \(set, config \$5\.00\)\s/m, shown);
      assert.match(shown, /^deepseek\s+\$2\.00\s+\$5\.00 \(config\) BLOCKED\s/m, shown);
      assert.deepEqual(servedModels(), ["deepseek-model", "model-b"]);
    } finally {
      dir.cleanup();
    }
  });

  it("refuses a floor for a provider without a balance source, an amount that is not one, and extra words, with exit 1", async () => {
    answer = deepSeekUsd("8.00");
    const dir = agent("deepseek");
    try {
      const usage = "usage: /auto-router balance [show|fetch] | balance floor <provider> <amount [currency]|off|clear>";
      // All refused in one pi process (print mode goes on after a failing command and exits 1 at the end): each
      // refusal is its own lines on stderr.
      const bad = await dir.pi([
        "-p",
        "/auto-router balance floor mock-b 5",
        "/auto-router balance floor deepseek -1",
        "/auto-router balance floor deepseek five",
        "/auto-router balance floor deepseek 5 daily",
        "/auto-router balance floor deepseek 30 CYN",
        "/auto-router balance floor deepseek 30 CNY now",
        "/auto-router balance",
      ]);
      assert.equal(bad.code, 1, bad.stdout + bad.stderr);
      const expected =
        'expected an amount of 0 or more in USD (5 or $2.50) or with its currency ("30 CNY"), off or clear';
      for (const message of [
        `balance floor: mock-b has no balance source (providers with one: deepseek)\n${usage}`,
        `balance floor: "-1" is not an amount: ${expected}\n${usage}`,
        `balance floor: "five" is not an amount: ${expected}\n${usage}`,
        `balance floor: "5 daily" is not an amount: ${expected}\n${usage}`,
        `balance floor: "CYN" is not a currency code (ISO 4217, such as USD or CNY); did you mean "CNY"?\n${usage}`,
        `balance floor: unexpected "now"\n${usage}`,
      ])
        assert.ok(bad.stderr.includes(message), `${message}\n---\n${bad.stderr}`);
      assert.match(bad.stdout + bad.stderr, /^deepseek\s+\S+\s+\$5\.00 \(config\)\s/m, "nothing was changed");
    } finally {
      dir.cleanup();
    }
  });

  it("waits for the first balance when none is known yet, so a new install's first prompt already skips", async () => {
    answer = openRouterCredits(10, 8);
    const dir = agent();
    try {
      const run = await dir.pi(["-p", "Say hi"]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(servedModels(), ["model-b"]);
    } finally {
      dir.cleanup();
    }
  });
});
