// Budgets through real pi (SDK in-process, faux targets that report usage priced by their model cost).
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { until } from "../helpers/event-log.ts";
import { formatMoney } from "../../src/config/floor-amount.ts";

/** `text` matched literally in a RegExp. */
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// $100 per 1M tokens: every token costs exactly $0.0001, so spend is a whole number of ten-thousandths of a dollar.
const PRICED = { input: 100, output: 100, cacheRead: 100, cacheWrite: 100 };
const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a", cost: PRICED }] },
  { provider: "mock-b", models: [{ id: "model-b", cost: PRICED }] },
];

/** Route `main`: mock-a then mock-b; `firstTarget` adds fields to mock-a's target (an authProvider, say). */
function routes(budgets?: unknown, firstTarget: Record<string, unknown> = {}) {
  return {
    routes: {
      main: {
        sortBy: "config",
        targets: [
          { provider: "mock-a", modelId: "model-a", ...firstTarget },
          { provider: "mock-b", modelId: "model-b" },
        ],
      },
    },
    ...(budgets ? { budgets } : {}),
  };
}

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

async function start(budgets?: unknown, firstTarget?: Record<string, unknown>): Promise<SdkHarness> {
  harness = await createSdkHarness({ targets: TARGETS, routes: routes(budgets, firstTarget) });
  await harness.setModel("auto-router", "main");
  return harness;
}

/** Runs a slash command and returns what it showed (the harness's recording UI collects notifications). */
const command = (h: SdkHarness, text: string): Promise<string> => h.command(text);

// pi-ai's faux provider reports real token counts but a zero cost; the ledger prices such tokens with the model's
// cost (and marks them estimated), so the expected spend is tokens x $0.0001.
const USD_PER_TOKEN = 0.0001;
const costOf = (messages: any[], provider: string) =>
  messages
    .filter((m) => m.role === "assistant" && m.provider === provider)
    .reduce(
      (sum, m) => sum + (m.usage.input + m.usage.output + m.usage.cacheRead + m.usage.cacheWrite) * USD_PER_TOKEN,
      0,
    );

/** A new pi session on a state directory's files (an earlier router's among them): `budget show`, and its notices. */
async function budgetShowIn(logDirectory: string): Promise<{ output: string; notices: string }> {
  harness = await createSdkHarness({ targets: TARGETS, routes: routes(), env: { AUTO_ROUTER_LOG_DIR: logDirectory } });
  const output = await command(harness, "/auto-router budget show");
  const notices = harness.ui!.textSince(0);
  await harness.dispose();
  harness = undefined;
  return { output, notices };
}

/** The `spent` cell of a provider's today/month row in `budget show`. */
function spentCell(output: string, provider: string, period: "today" | "month"): string | undefined {
  const lines = output.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`${provider} `));
  if (start < 0) return undefined;
  const line = period === "today" ? lines[start]! : lines[start + 1]!;
  return line
    .trim()
    .split(/\s+/)
    .find((cell) => cell.startsWith("$"));
}

/** deepseek (its balance read from `endpoint`, a $5 floor; priced as the mocks) before mock-b, in declared order. */
const deepseekWithFloor = (endpoint: string) => ({
  targets: [{ provider: "deepseek", models: [{ id: "deepseek-chat", cost: PRICED }] }, TARGETS[1]!],
  routes: {
    routes: {
      main: {
        sortBy: "config",
        targets: [
          { provider: "deepseek", modelId: "deepseek-chat", balanceEndpoint: endpoint },
          { provider: "mock-b", modelId: "model-b" },
        ],
      },
    },
    budgets: { providers: { deepseek: { balanceFloor: 5 } } },
  },
});

describe("budgets through pi", () => {
  it("shows the exact spend of every served prompt per provider for today and this month", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage("first answer"),
      fauxAssistantMessage("second, longer answer"),
      fauxAssistantMessage("third"),
    ]);
    for (const prompt of ["one", "two please", "three"]) await h.prompt(prompt);
    const expected = costOf(h.chat(), "mock-a");
    assert.ok(expected > 0, "faux targets report token usage");
    const output = await command(h, "/auto-router budget show");
    assert.equal(spentCell(output, "mock-a", "today"), `$${expected.toFixed(4).replace(/0{1,2}$/, "")}`, output);
    assert.equal(spentCell(output, "mock-a", "month"), spentCell(output, "mock-a", "today"), output);
    assert.match(output, /policy soft/);
    // The zero cost reported for priced tokens is counted as estimated, today as this month.
    assert.match(output, /^mock-a\s+today\s.*\s3 \(3 estimated\)$/m, output);
    assert.match(output, /^\s+month\s.*\s3 \(3 estimated\)$/m, output);
  });

  it("counts a subscription target's requests and tokens but not its list price as spend, so its budget never blocks it", async () => {
    const h = await start({ policy: "hard", providers: { "mock-a": { daily: 0.0001 } } }, { billing: "subscription" });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("from the plan"), fauxAssistantMessage("and again")]);
    await h.prompt("one");
    await h.prompt("two please");
    assert.equal(h.lastAssistant().provider, "mock-a", "a $0.0001 hard limit does not block a subscription");
    assert.ok(costOf(h.chat(), "mock-a") > 0.0001, "at list price the two answers would be over the limit");
    const output = await command(h, "/auto-router budget show");
    assert.equal(spentCell(output, "mock-a", "today"), "$0.00", output);
    assert.match(output, /mock-a +today +\$0\.00 +\$0\.0001 \(config\) +0% +2 \(2 estimated\)\n/);
  });

  it("lists a config limit switched off by command before its provider spends anything", async () => {
    const h = await start({ providers: { "mock-a": { daily: 5 } } });
    assert.match(await command(h, "/auto-router budget set mock-a off"), /switched off \(also overrides the config\)/);
    await command(h, "/auto-router budget set mock-b off monthly");
    const output = await command(h, "/auto-router budget");
    assert.doesNotMatch(output, /no budget set/, output);
    assert.match(output, /^mock-a\s+today\s+\$0\.00\s+off \(set, config \$5\.00\)\s+-\s+0$/m, output);
    assert.match(output, /^mock-b\s+today\s+\$0\.00\s+-\s+-\s+0\n\s+month\s+\$0\.00\s+off \(set\)\s+-\s+0$/m, output);
  });
  it("skips a provider over its daily budget set by command and serves the next target", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    const setOutput = await command(h, "/auto-router budget set mock-a 0.0001");
    assert.match(setOutput, /daily budget for mock-a set to \$0\.0001/);
    // A smaller amount is shown as it is, not rounded to $0.00.
    assert.match(await command(h, "/auto-router budget set mock-a 0.00001"), /set to \$0\.00001\b/);
    await command(h, "/auto-router budget set mock-a 0.0001");
    assert.doesNotMatch(setOutput, /note: no target/);
    // A provider nothing bills to is accepted but said to do nothing; a bad amount or period is named.
    assert.match(
      await command(h, "/auto-router budget set mock-z 3"),
      /daily budget for mock-z set to \$3\.00?\nnote: no target of any route bills to mock-z \(billed: mock-a, mock-b\)/,
    );
    // A typo of a billed provider's name gets the name it is closest to.
    assert.match(
      await command(h, "/auto-router budget set mokc-b 3"),
      /no target of any route bills to mokc-b \(billed: mock-a, mock-b\); the limit applies once one does\. Did you mean "mock-b"\?/,
    );
    await command(h, "/auto-router budget clear mokc-b");
    assert.match(
      await command(h, "/auto-router budget set mock-a -3"),
      /"-3" is not an amount: expected USD of 0 or more/,
    );
    assert.match(
      await command(h, "/auto-router budget set mock-a 3 weekly"),
      /"weekly" is not a period: expected daily or monthly/,
    );
    assert.match(await command(h, "/auto-router budget set mock-a 0x10"), /"0x10" is not an amount/);
    assert.match(
      await command(h, "/auto-router budget set mock-a"),
      /^budget set: expected an amount after mock-a: USD of 0 or more \(e\.g\. 5 or \$2\.50\), or off$/m,
    );
    // `help budget` gives the whole grammar, as a refusal's usage line does.
    assert.match(
      await command(h, "/auto-router help budget"),
      /^usage: \/auto-router budget \[show\] \| budget set <provider> <usd\|off> \[daily\|monthly\] \| budget clear <provider> \[daily\|monthly\]$/m,
    );
    // The period first, as one says it ("monthly 4"), is the same command.
    assert.match(
      await command(h, "/auto-router budget set mock-y monthly 4"),
      /^monthly budget for mock-y set to \$4\.00\nnote: no target/m,
    );
    await command(h, "/auto-router budget clear mock-y");
    assert.match(
      await command(h, "/auto-router budget set mock-a monthly"),
      /^budget set: expected an amount after mock-a monthly: USD of 0 or more/m,
    );
    assert.match(
      await command(h, "/auto-router budget set mock-a 30 CNY"),
      /^budget set: a budget is in USD, the currency pi's prices count spend in: write 30 without "CNY"/m,
    );
    assert.match(await command(h, "/auto-router budget set mock-a 3 day"), /"day" is not a period/);
    assert.match(await command(h, "/auto-router budget set mock-a 5 monthly extra"), /budget set: unexpected "extra"/);
    assert.match(await command(h, "/auto-router budget clear mock-a yearly"), /"yearly" is not a period/);
    // The period meant, as `reset` names the scope meant (before: only "expected daily or monthly").
    assert.match(
      await command(h, "/auto-router budget set mock-a 5 Monthly"),
      /^budget set: "Monthly" is not a period: expected daily or monthly; did you mean "monthly"\?$/m,
    );
    assert.match(
      await command(h, "/auto-router budget clear mock-a month"),
      /^budget clear: "month" is not a period: expected daily or monthly \(or none for both\); did you mean "monthly"\?$/m,
    );
    h.faux("mock-a").setResponses([fauxAssistantMessage("answer from A"), fauxAssistantMessage("A again")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("answer from B")]);
    await h.prompt("first");
    assert.equal(h.lastAssistant().provider, "mock-a");
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 1);
    const explain = await command(h, "/auto-router explain");
    assert.match(explain, /budget/i);
    assert.match(await command(h, "/auto-router budget"), /BLOCKED/);
  });

  it("counts a target's spend and applies its budget under its authProvider", async () => {
    // mock-a's model is billed to the account "team-account" (a key shared by several providers, say).
    const h = await start({ providers: { "team-account": { daily: 0.0001 } } }, { authProvider: "team-account" });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("answer from A"), fauxAssistantMessage("A again")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("answer from B")]);
    await h.prompt("first");
    assert.equal(h.lastAssistant().provider, "mock-a");
    const shown = await command(h, "/auto-router budget show");
    const spent = costOf(h.chat(), "mock-a");
    assert.equal(spentCell(shown, "team-account", "today"), `$${spent.toFixed(4).replace(/0{1,2}$/, "")}`, shown);
    assert.equal(spentCell(shown, "mock-a", "today"), undefined, "nothing is counted under the target's provider");
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-b", "team-account is over its daily budget");
    assert.equal(h.faux("mock-a").state.callCount, 1);
  });

  it("refuses with the budget message under the hard policy when every provider is over budget", async () => {
    const h = await start({ policy: "hard", providers: { "mock-a": { daily: 0 }, "mock-b": { monthly: 0 } } });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("must not be called")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("must not be called")]);
    await h.prompt("hello");
    const last = h.lastAssistant();
    assert.equal(last.stopReason, "error");
    assert.match(last.errorMessage, /over budget/);
    assert.match(last.errorMessage, /policy is hard/);
    assert.equal(h.faux("mock-a").state.callCount, 0);
    assert.equal(h.faux("mock-b").state.callCount, 0);
    // A request that tried no target still has an outcome (it read "pending" for good).
    assert.match(await command(h, "/auto-router explain"), /outcome: refused/);
    assert.match(await command(h, "/auto-router status"), /last main: refused/);
  });

  it("ends a hard budget's refusal at once with pi's retry on, though its text quotes a number pi reads as a server error", async () => {
    // The route's name holds 503 (an amount such as $500.00 does the same): pi 0.73 retries any text holding it.
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: {
        routes: { "lab-503": routes().routes.main },
        budgets: { policy: "hard", providers: { "mock-a": { daily: 0 }, "mock-b": { daily: 0 } } },
      },
      settings: { retry: { enabled: true, maxRetries: 2, baseDelayMs: 10 } },
    });
    await harness.setModel("auto-router", "lab-503");
    await harness.prompt("hello");
    const last = harness.lastAssistant();
    assert.equal(last.stopReason, "error");
    assert.match(last.errorMessage.replaceAll("\u2060", ""), /^auto-router: .*route lab-503 .*over budget/);
    assert.ok(!harness.events.some((e) => e.type === "auto_retry_start"), "pi did not retry the refusal");
    assert.equal(harness.faux("mock-a").state.callCount + harness.faux("mock-b").state.callCount, 0);
  });

  it("blames the hard budget only for the target it stopped, naming the others' own reasons", async () => {
    const h = await start({ policy: "hard", providers: { "mock-a": { daily: 0 } } });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("must not be called")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("must not be called: ignored by the prompt")]);
    await h.prompt("@ignore=mock-b hello");
    const last = h.lastAssistant();
    assert.equal(last.stopReason, "error");
    assert.match(
      last.errorMessage,
      /^auto-router: the targets of route main left for this request are over budget and the budget policy is hard: mock-a \(daily \$0\.00 of \$0\.00 \(100%\)\); the others were left out for other reasons: mock-b\/model-b: ignored: mock-b\. Raise the budget or set budgets\.policy to "soft"\.$/,
    );
    assert.doesNotMatch(last.errorMessage, /every target of route main is over budget/);
    assert.equal(h.faux("mock-a").state.callCount + h.faux("mock-b").state.callCount, 0);
  });

  it("names a target its hard budget kept out among those not tried when the others fail", async () => {
    // Before, "could not serve" named only the targets that failed and those resting: mock-b, over budget, was unnamed.
    const h = await start({ policy: "hard", providers: { "mock-b": { daily: 0 } } });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "401 Unauthorized" }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("must not be called")]);
    await h.prompt("hello");
    const last = h.lastAssistant();
    assert.equal(last.stopReason, "error");
    assert.match(
      last.errorMessage.replaceAll("\u2060", ""),
      /^auto-router: no target of route main could serve this request \(mock-a\/model-a: credentials rejected; not tried: mock-b\/model-b: budget blocked: daily \$0\.00 of \$0\.00 \(100%\)\)\. See \/auto-router explain main$/,
    );
    assert.equal(h.faux("mock-b").state.callCount, 0);
  });

  it("still serves under the soft policy when every provider is over budget", async () => {
    const h = await start({ providers: { "mock-a": { daily: 0 }, "mock-b": { daily: 0 } } });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("served anyway")]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().stopReason, "stop");
    assert.equal(h.lastAssistant().provider, "mock-a");
    // The status line folds what does not fit into "+N more"; /auto-router status lists every one of them.
    const line = h.ui!.statuses.get("auto-router") ?? "";
    assert.match(line, /⚠/, line);
    const listed = /^warnings: (.*)$/m.exec(await command(h, "/auto-router status"))?.[1]?.split(", ") ?? [];
    assert.ok(listed.includes("budget fallback"), listed.join(" | "));
    const shown = /⚠ (.*?)(?: \+(\d+) more)?(?: · |$)/.exec(line)!;
    for (const warning of shown[1]!.split(", "))
      assert.ok(listed.includes(warning), `${warning} in ${listed.join(" | ")}`);
    assert.ok(listed.length >= shown[1]!.split(", ").length + Number(shown[2] ?? 0), `${line}\n${listed.join(" | ")}`);
  });

  it("names in explain's fallback the targets skipped for other reasons, not only those over budget", async () => {
    const h = await start({ providers: { "mock-b": { daily: 0 } } }, { enabled: false });
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("served anyway")]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().provider, "mock-b");
    const explained = await command(h, "/auto-router explain");
    assert.match(explained, /^ {2}- mock-a\/model-a: disabled/m);
    // mock-a was skipped before any budget was looked at: "every target was excluded by soft reasons" would be untrue.
    assert.match(
      explained,
      /^Fallback: every target not skipped \(disabled\) was excluded by soft reasons \(budget\); budget policy soft: routing on 1 of them in declared order$/m,
    );
  });

  it("keeps applying the budgets and spend of the earlier pi-auto-router's auto-router.stats.json", async () => {
    const logDirectory = freshDir("auto-router-legacy-stats");
    const today = new Date().toISOString().slice(0, 10);
    writeFileSync(
      join(logDirectory, "auto-router.stats.json"),
      JSON.stringify({
        version: 2,
        daily: { [today]: { "mock-a": { inputTokens: 3, outputTokens: 1, estimatedCost: 0.0004 } } },
        monthly: { [today.slice(0, 7)]: { "mock-a": { inputTokens: 3, outputTokens: 1, estimatedCost: 0.0004 } } },
        limits: { "mock-a": { dailyUsd: 0.0003 } },
      }),
    );
    try {
      harness = await createSdkHarness({
        targets: TARGETS,
        routes: routes(),
        env: { AUTO_ROUTER_LOG_DIR: logDirectory },
      });
      const h = harness;
      await h.setModel("auto-router", "main");
      const { fauxAssistantMessage } = h.fauxHelpers;
      h.faux("mock-a").setResponses([fauxAssistantMessage("must not be called: over its old daily budget")]);
      h.faux("mock-b").setResponses([fauxAssistantMessage("B serves")]);
      await h.prompt("hello");
      assert.equal(h.lastAssistant().provider, "mock-b");
      assert.equal(h.faux("mock-a").state.callCount, 0);
      const output = await command(h, "/auto-router budget show");
      assert.equal(spentCell(output, "mock-a", "today"), "$0.0004", output);
      assert.match(output, /0\.0003/, output);
    } finally {
      rmSync(logDirectory, { recursive: true, force: true });
    }
  });

  it("imports the earlier router's daily spend of a provider its monthly spend lacks (subscription use) at $0, saying so", async () => {
    // The earlier router added every answer's cost to `daily` and only per-token targets' to `monthly`: mock-b's day
    // was subscription use, no spend here (it showed as $18.50 today, 92% of a limit no subscription answer reaches).
    const logDirectory = freshDir("auto-router-legacy-stats");
    const file = join(logDirectory, "auto-router.stats.json");
    const today = new Date().toISOString().slice(0, 10);
    const usage = (estimatedCost: number) => ({ inputTokens: 1000, outputTokens: 200, estimatedCost });
    writeFileSync(
      file,
      JSON.stringify({
        version: 2,
        daily: { [today]: { "mock-a": usage(0.5), "mock-b": usage(18.5) } },
        monthly: { [today.slice(0, 7)]: { "mock-a": usage(0.5) } },
        limits: { "mock-b": { dailyUsd: 20 } },
      }),
    );
    try {
      const { output, notices } = await budgetShowIn(logDirectory);
      assert.equal(spentCell(output, "mock-a", "today"), "$0.50", output);
      assert.equal(spentCell(output, "mock-b", "today"), "$0.00", output);
      assert.ok(
        notices.includes(
          `auto-router: ${file}: the daily spend of mock-b ($18.50 over 1 day) is imported as $0, its tokens kept: the file's monthly spend, where the earlier router counted only per-token targets, does not hold it, so it was subscription targets' answers, which are no spend here`,
        ),
        notices,
      );
    } finally {
      rmSync(logDirectory, { recursive: true, force: true });
    }
  });

  it("does not import a stats.json whose cost is not under estimatedCost as $0: it warns, and imports it once fixed", async () => {
    const logDirectory = freshDir("auto-router-legacy-stats");
    const file = join(logDirectory, "auto-router.stats.json");
    const today = new Date().toISOString().slice(0, 10);
    const writeStats = (usage: Record<string, number>) =>
      writeFileSync(
        file,
        JSON.stringify({
          version: 2,
          daily: { [today]: { "mock-a": usage } },
          monthly: { [today.slice(0, 7)]: { "mock-a": usage } },
        }),
      );
    const budgetShow = async () => {
      const { output, notices } = await budgetShowIn(logDirectory);
      return { today: spentCell(output, "mock-a", "today"), output, notices };
    };
    try {
      writeStats({ cost: 1.5, requests: 3, inputTokens: 10, outputTokens: 5 });
      const wrong = await budgetShow();
      assert.ok(
        wrong.notices.includes(
          `auto-router: could not migrate ${file} (kept unchanged): daily.${today}.mock-a: unknown fields "cost", "requests"; expected {inputTokens, outputTokens, estimatedCost} (the cost in USD is estimatedCost)`,
        ),
        wrong.notices,
      );
      assert.equal(wrong.today, undefined, `nothing imported (no mock-a row), not $0 imported: ${wrong.output}`);
      // Not marked as imported: the corrected file is imported at the next start.
      writeStats({ estimatedCost: 1.5, inputTokens: 10, outputTokens: 5 });
      const fixed = await budgetShow();
      assert.equal(fixed.today, "$1.50", fixed.output);
      assert.doesNotMatch(fixed.notices, /could not migrate/);
    } finally {
      rmSync(logDirectory, { recursive: true, force: true });
    }
  });

  it("does not turn an earlier router's limit of 0 into a limit that blocks: to it 0 was no limit", async () => {
    const logDirectory = freshDir("auto-router-legacy-stats");
    const file = join(logDirectory, "auto-router.stats.json");
    writeFileSync(file, JSON.stringify({ version: 2, limits: { "mock-a": { dailyUsd: 0, monthlyUsd: 20 } } }));
    try {
      harness = await createSdkHarness({
        targets: TARGETS,
        routes: routes(),
        env: { AUTO_ROUTER_LOG_DIR: logDirectory },
      });
      const h = harness;
      await h.setModel("auto-router", "main");
      h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("A serves")]);
      h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("B serves")]);
      await h.prompt("hello");
      assert.equal(h.lastAssistant().provider, "mock-a");
      assert.equal(h.faux("mock-b").state.callCount, 0, "mock-a was not skipped for a $0 daily budget");
      const notices = h.ui!.textSince(0);
      assert.ok(
        notices.includes(
          `auto-router: ${file}: limits.mock-a.dailyUsd (0) not imported as a limit: the earlier router read a limit of 0 or less as no limit`,
        ),
        notices,
      );
      const output = await command(h, "/auto-router budget show");
      assert.match(output, /^mock-a\s+today\s+\S+\s+-\s/m, output);
      assert.match(output, /^\s+month\s+\S+\s+\$20\.00\s/m, output);
    } finally {
      rmSync(logDirectory, { recursive: true, force: true });
    }
  });

  it("imports the readable spend and limits of a stats.json with a bad entry, naming the entry, once", async () => {
    const logDirectory = freshDir("auto-router-legacy-stats");
    const file = join(logDirectory, "auto-router.stats.json");
    const today = new Date().toISOString().slice(0, 10);
    const spend = (estimatedCost: number) => ({ inputTokens: 3, outputTokens: 1, estimatedCost });
    const text = JSON.stringify({
      version: 2,
      daily: { [today]: { "mock-a": spend(0.0004), "mock-b": { ...spend(0.5), inputTokens: 1.5 } } },
      monthly: { [today.slice(0, 7)]: { "mock-a": spend(0.0004), "mock-b": { ...spend(0.5), requests: 2 } } },
      limits: { "mock-a": { dailyUsd: 0.0003 } },
    });
    writeFileSync(file, text);
    try {
      const first = await budgetShowIn(logDirectory);
      assert.ok(
        first.notices.includes(
          `auto-router: imported ${file} without 2 entries it could not read (the file is kept unchanged and imported once: they are not counted here):\n` +
            `  daily.${today}.mock-b.inputTokens: expected a whole number of tokens, 0 or more\n` +
            `  monthly.${today.slice(0, 7)}.mock-b: unknown field "requests"; expected {inputTokens, outputTokens, estimatedCost} (the cost in USD is estimatedCost)`,
        ),
        first.notices,
      );
      assert.equal(spentCell(first.output, "mock-a", "today"), "$0.0004", first.output);
      assert.match(first.output, /^mock-a\s+today\s+\$0\.0004\s+\$0\.0003\s+133% BLOCKED/m, first.output);
      assert.equal(spentCell(first.output, "mock-b", "today"), undefined, first.output);
      assert.equal(readFileSync(file, "utf8"), text, "the old file is kept unchanged");
      const again = await budgetShowIn(logDirectory);
      assert.equal(spentCell(again.output, "mock-a", "month"), "$0.0004", "imported once");
      assert.doesNotMatch(again.notices, /could not read|changed after/, again.notices);
    } finally {
      rmSync(logDirectory, { recursive: true, force: true });
    }
  });

  it("names a stats.json limit with a field the earlier router never wrote, rather than importing it as no limit", async () => {
    const logDirectory = freshDir("auto-router-legacy-stats");
    const file = join(logDirectory, "auto-router.stats.json");
    writeFileSync(
      file,
      JSON.stringify({
        version: 2,
        limits: { "mock-a": { daily: 0.0003 }, "mock-b": { monthlyUsd: 20 } },
      }),
    );
    try {
      const { output, notices } = await budgetShowIn(logDirectory);
      assert.ok(
        notices.includes(
          `auto-router: imported ${file} without an entry it could not read (the file is kept unchanged and imported once: it is not counted here):\n` +
            '  limits.mock-a: unknown field "daily"; expected {dailyUsd, monthlyUsd} (limits in USD are dailyUsd and monthlyUsd)',
        ),
        notices,
      );
      assert.match(output, /^\s+month\s+\S+\s+\$20\.00\s/m, output);
    } finally {
      rmSync(logDirectory, { recursive: true, force: true });
    }
  });

  it("says once that a stats.json limit of -1 beside an unknown field is not imported, and names the field", async () => {
    const logDirectory = freshDir("auto-router-legacy-stats");
    const file = join(logDirectory, "auto-router.stats.json");
    writeFileSync(file, JSON.stringify({ version: 2, limits: { "mock-a": { monthlyUsd: -1, weeklyUsd: 9 } } }));
    try {
      const { output, notices } = await budgetShowIn(logDirectory);
      assert.ok(
        notices.includes(
          `auto-router: imported ${file} without an entry it could not read (the file is kept unchanged and imported once: it is not counted here):\n` +
            '  limits.mock-a: unknown field "weeklyUsd"; expected {dailyUsd, monthlyUsd} (limits in USD are dailyUsd and monthlyUsd)',
        ),
        notices,
      );
      assert.ok(
        notices.includes(
          `auto-router: ${file}: limits.mock-a.monthlyUsd (-1) not imported as a limit: the earlier router read a limit of 0 or less as no limit`,
        ),
        notices,
      );
      assert.doesNotMatch(notices, /-1 is imported/, notices);
      assert.equal(notices.match(/monthlyUsd.{0,4}-1/g)?.length, 1, notices);
      assert.match(output, /no budget set/, "neither -1 nor the unknown field became a limit");
    } finally {
      rmSync(logDirectory, { recursive: true, force: true });
    }
  });

  it("keeps the readable period of a stats.json limit whose other period cannot be read, and says which", async () => {
    const logDirectory = freshDir("auto-router-legacy-stats");
    const file = join(logDirectory, "auto-router.stats.json");
    writeFileSync(
      file,
      JSON.stringify({
        version: 2,
        daily: {},
        monthly: {},
        limits: { "mock-a": { dailyUsd: "four", monthlyUsd: 20 } },
      }),
    );
    try {
      const { output, notices } = await budgetShowIn(logDirectory);
      assert.ok(
        notices.includes(
          `auto-router: imported ${file} without an entry it could not read (the file is kept unchanged and imported once: it is not counted here):\n` +
            '  limits.mock-a.dailyUsd: expected USD, a number, got "four"; its monthlyUsd 20 is imported',
        ),
        notices,
      );
      assert.match(output, /^\s+month\s+\S+\s+\$20\.00\s/m, output);
    } finally {
      rmSync(logDirectory, { recursive: true, force: true });
    }
  });

  it("imports the earlier router's auto-router.stats.json once, not again after the earlier router added a day", async () => {
    const logDirectory = freshDir("auto-router-legacy-stats");
    const today = new Date().toISOString().slice(0, 10);
    const spend = (costUsd: number) => ({ "mock-a": { inputTokens: 3, outputTokens: 1, estimatedCost: costUsd } });
    const writeStats = (daily: Record<string, unknown>, monthly: number) =>
      writeFileSync(
        join(logDirectory, "auto-router.stats.json"),
        JSON.stringify({ version: 2, daily, monthly: { [today.slice(0, 7)]: spend(monthly) }, limits: {} }),
      );
    const budgetShow = async () => {
      const { output, notices } = await budgetShowIn(logDirectory);
      return { month: spentCell(output, "mock-a", "month"), notices };
    };
    try {
      writeStats({ "2000-01-01": spend(1) }, 1);
      assert.equal((await budgetShow()).month, "$1.00");
      // The earlier router, used for another day, adds that day to the same file.
      writeStats({ "2000-01-01": spend(1), [today]: spend(0.2) }, 1.2);
      const changed = await budgetShow();
      assert.equal(changed.month, "$1.00", changed.notices);
      assert.match(
        changed.notices,
        /auto-router\.stats\.json changed after its spend was imported; the change is not imported/,
      );
      const next = await budgetShow();
      assert.equal(next.month, "$1.00");
      assert.doesNotMatch(next.notices, /changed after its spend was imported/, "said once");
    } finally {
      rmSync(logDirectory, { recursive: true, force: true });
    }
  });

  it("says a limit changed in the earlier router's stats file after its import is not applied, and how to set it", async () => {
    const logDirectory = freshDir("auto-router-legacy-limit");
    const writeStats = (dailyUsd: number) =>
      writeFileSync(
        join(logDirectory, "auto-router.stats.json"),
        JSON.stringify({ version: 2, daily: {}, monthly: {}, limits: { "mock-a": { dailyUsd } } }),
      );
    try {
      writeStats(5);
      assert.match((await budgetShowIn(logDirectory)).output, /^mock-a\s.*\$5\.00/m);
      // The user lowers the limit with the earlier router, which rewrites its file.
      writeStats(2);
      const { output, notices } = await budgetShowIn(logDirectory);
      assert.match(output, /^mock-a\s.*\$5\.00/m, "the change is not imported");
      assert.doesNotMatch(output, /\$2\.00/);
      assert.match(
        notices,
        /auto-router\.stats\.json changed after its spend was imported; .*and a limit set or changed there since is not applied either: set it with \/auto-router budget set <provider> <usd> \[daily\|monthly\], or in the routes file's budgets\.providers \(a limit imported from this file was set by command and overrides that one: \/auto-router budget clear <provider> removes it\)/,
        notices,
      );
    } finally {
      rmSync(logDirectory, { recursive: true, force: true });
    }
  });

  it("lets a command switch a config limit off and clear restores it", async () => {
    const h = await start({ providers: { "mock-a": { daily: 0 } } });
    const { fauxAssistantMessage } = h.fauxHelpers;
    await command(h, "/auto-router budget set mock-a off daily");
    h.faux("mock-a").setResponses([fauxAssistantMessage("A serves")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B serves")]);
    await h.prompt("one");
    assert.equal(h.lastAssistant().provider, "mock-a");
    assert.match(
      await command(h, "/auto-router budget clear nosuch"),
      /no daily or monthly budget for nosuch was set by command, so nothing changed \(set by command: mock-a\)/,
    );
    assert.match(
      await command(h, "/auto-router budget clear mock-a monthly"),
      /no monthly budget for mock-a was set by command, so nothing changed/,
    );
    // Clearing says what is in force now: the config's limit, or none (not "config limits (if any) apply again").
    assert.match(
      await command(h, "/auto-router budget clear mock-a"),
      /^daily budget set by command for mock-a cleared: the config's daily \$0\.00 applies again$/m,
    );
    await h.prompt("two");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.match(await command(h, "/auto-router budget clear mock-a"), /nothing changed \(set by command: none\)/);
    await command(h, "/auto-router budget set mock-b 5 monthly");
    assert.match(
      await command(h, "/auto-router budget clear mock-b"),
      /^monthly budget set by command for mock-b cleared: no monthly limit now \(the routes file sets none\)$/m,
    );
  });

  it("warns when a daily limit set by command is above the monthly one, as the config check does", async () => {
    const h = await start({ providers: { "mock-a": { monthly: 1 } } });
    const above = await command(h, "/auto-router budget set mock-a 2");
    assert.match(
      above,
      // Its own notification after the table (in pi's TUI, a warning: not a table headed "Warning:").
      /^mock-a: \$2.00 a day is more than the monthly limit of \$1.00, so it never blocks anything \(a typo of one of them\?\)$/m,
      above,
    );
    // The table says which config limit the command-set one overrides.
    assert.match(above, /^mock-a\s+today\s+\S+\s+\$2\.00\s.*\n\s+month\s+\S+\s+\$1\.00 \(config\)/m, above);
    const monthlyBelow = await command(h, "/auto-router budget set mock-a 0.5 monthly");
    assert.match(monthlyBelow, /^\s+month\s+\S+\s+\$0\.50 \(set, config \$1\.00\)/m, monthlyBelow);
    assert.match(monthlyBelow, /^mock-a: \$2.00 a day is more than the monthly limit of \$0.50,/m, monthlyBelow);
    const fits = await command(h, "/auto-router budget set mock-a 0.4");
    assert.doesNotMatch(fits, /never blocks/, fits);
  });

  it("takes a budget warning off the status line as soon as a command clears the budget", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    await command(h, "/auto-router budget set mock-a 0.00001");
    h.faux("mock-a").setResponses([fauxAssistantMessage("A spends")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B serves")]);
    await h.prompt("one");
    await h.prompt("two"); // decided with mock-a over its limit
    const line = () => h.ui!.statuses.get("auto-router") ?? "";
    assert.match(line(), /budget mock-a \d+% blocked/);
    await command(h, "/auto-router budget clear mock-a");
    assert.doesNotMatch(line(), /budget mock-a/);
  });

  it("shows the budget as it is after the request's cost, once per provider, on the line and in status alike", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("A spends"), fauxAssistantMessage("A spends")]);
    await h.prompt("one");
    // A limit the first answer used 90% of: the second is routed with a warning, and its cost passes the limit.
    await command(h, `/auto-router budget set mock-a ${costOf(h.chat(), "mock-a") / 0.9}`);
    await h.prompt("two");
    assert.equal(h.lastAssistant().provider, "mock-a");
    const line = h.ui!.statuses.get("auto-router") ?? "";
    const shown = /⚠ (budget mock-a \d+% blocked)(?: · |$)/.exec(line);
    assert.ok(shown, line);
    const listed = /^warnings: (.*)$/m.exec(await command(h, "/auto-router status"))?.[1]?.split(", ") ?? [];
    assert.deepEqual(
      listed.filter((warning) => warning.includes("mock-a")),
      [shown[1]],
      "one warning for mock-a, the same figure as the line's",
    );
  });

  it("warns in explain when a provider has used 80% of its budget", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("some answer"), fauxAssistantMessage("next")]);
    await h.prompt("first");
    const spent = costOf(h.chat(), "mock-a");
    // A limit that puts the spend at exactly 80%.
    await command(h, `/auto-router budget set mock-a ${spent / 0.8} monthly`);
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-a");
    const explain = await command(h, "/auto-router explain");
    // The limit was set by command, not in the routes file: the warning says where to look.
    assert.match(
      explain,
      /warning: budget: monthly \$[\d.]+ of \$[\d.]+ set with \/auto-router budget set \(80%\)/,
      explain,
    );
  });
});

describe("balances through pi", () => {
  it("fetches a DeepSeek balance from the overridden endpoint and blocks the provider below its floor, counting the spend booked since the fetch", async () => {
    const authorizations: string[] = [];
    let usd = "1.50";
    const server = createServer((request, response) => {
      authorizations.push(String(request.headers.authorization));
      response.setHeader("content-type", "application/json");
      const infos = [
        { currency: "USD", total_balance: usd },
        { currency: "CNY", total_balance: "20.00" },
      ];
      response.end(JSON.stringify({ is_available: true, balance_infos: infos }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/user/balance`;
    try {
      harness = await createSdkHarness(deepseekWithFloor(endpoint));
      const h = harness;
      await h.setModel("auto-router", "main");
      const shown = await command(h, "/auto-router balance fetch");
      assert.match(shown, /deepseek\s+\$1\.50, 20\.00 CNY\s+\$5\.00 \(config\) BLOCKED\s+\d+s ago\s+fresh/, shown);
      assert.equal(authorizations.at(-1), "Bearer faux-key-deepseek");
      // pi's argument completion offers the currencies the balance is in after a floor's amount.
      const completions = await h.session.extensionRunner
        .getCommand("auto-router")
        .getArgumentCompletions("balance floor deepseek 3 ");
      assert.deepEqual(
        completions.map((item: { value: string }) => item.value),
        ["balance floor deepseek 3 USD ", "balance floor deepseek 3 CNY "],
      );
      h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("served by B")]);
      await h.prompt("hello");
      assert.equal(h.lastAssistant().provider, "mock-b");
      assert.equal(h.faux("deepseek").state.callCount, 0);
      // Topped up to a cent above the floor: served until what deepseek's answers cost since the fetch takes the
      // balance below it, without waiting for the next fetch.
      usd = "5.01";
      assert.match(
        await command(h, "/auto-router balance fetch"),
        /deepseek\s+\$5\.01, 20\.00 CNY\s+\$5\.00 \(config\)\s/,
      );
      // A second answer queued: only the floor keeps deepseek from serving the next prompt too.
      h.faux("deepseek").setResponses([
        h.fauxHelpers.fauxAssistantMessage("served by deepseek"),
        h.fauxHelpers.fauxAssistantMessage("served by deepseek again"),
      ]);
      h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("served by B again")]);
      await h.prompt("spend");
      assert.equal(h.lastAssistant().provider, "deepseek");
      const spent = costOf(h.session.messages, "deepseek");
      assert.ok(spent > 0.01, `deepseek's answer cost $${spent}, more than the cent above the floor`);
      await h.prompt("below the floor now");
      assert.equal(h.lastAssistant().provider, "mock-b");
      assert.equal(h.faux("deepseek").state.callCount, 1, "deepseek is skipped, not tried");
      // The balance now, then what was fetched and what was booked since, in explain's reason and the balance table.
      const now = literally(formatMoney(5.01 - spent));
      const since = literally(`${formatMoney(spent)} spent since)`);
      const explain = await command(h, "/auto-router explain");
      assert.match(
        explain,
        new RegExp(`budget blocked: balance ${now} below the floor \\$5\\.00 \\(\\$5\\.01 fetched \\d+s ago, ${since}`),
        explain,
      );
      const table = await command(h, "/auto-router balance");
      assert.match(
        table,
        new RegExp(
          `^deepseek\\s+${now} \\(\\$5\\.01 fetched, ${since}, 20\\.00 CNY\\s+\\$5\\.00 \\(config\\) BLOCKED\\s`,
          "m",
        ),
        table,
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
  it("says a balance below its floor on the status line once the background fetch has it, before any prompt", async () => {
    // The answer comes after the route is selected: only the fetch's end can put the warning on the line.
    const server = createServer((_request, response) => {
      setTimeout(() => {
        response.setHeader("content-type", "application/json");
        response.end(
          JSON.stringify({ is_available: true, balance_infos: [{ currency: "USD", total_balance: "1.50" }] }),
        );
      }, 500);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/user/balance`;
    try {
      harness = await createSdkHarness(deepseekWithFloor(endpoint));
      const h = harness;
      await h.setModel("auto-router", "main");
      const line = () => h.ui!.statuses.get("auto-router") ?? "";
      await until(
        () => /budget deepseek balance low/.test(line()),
        `the balance warning on the line (${line()})`,
        5_000,
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
