// The budget calendar at its edges through real pi: the session's frozen clock (SDK harness `clock: true`) set to
// instants around local midnights, DST changes and month ends in budgets.timeZone.
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it, mock } from "node:test";
import { ROUTES_FILE_NAME, routeInOrder } from "../helpers/agent-dir.ts";
import { until } from "../helpers/event-log.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const PRICED = { input: 100, output: 100, cacheRead: 100, cacheWrite: 100 };
const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a", cost: PRICED }] },
  { provider: "mock-b", models: [{ id: "model-b", cost: PRICED }] },
];
const routes = (budgets: unknown) => ({
  routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") },
  budgets,
});

let harness: SdkHarness | undefined;
const stateDirs: string[] = [];
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
  for (const dir of stateDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A state directory holding `files` (name -> JSON), for a session started on it with `stateDirEnv`. */
function stateDirWith(files: Record<string, unknown>): string {
  const dir = freshDir("auto-router-calendar");
  stateDirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(content));
  return dir;
}
const stateDirEnv = (dir: string) => ({ AUTO_ROUTER_LOG_DIR: dir });

/** A session on route `main` whose clock stands at `iso` from before it starts, on the state directory `dir`. */
async function startOn(dir: string, iso: string, budgets: unknown): Promise<SdkHarness> {
  harness = await createSdkHarness({
    targets: TARGETS,
    routes: routes(budgets),
    clock: Date.parse(iso),
    env: stateDirEnv(dir),
  });
  await harness.setModel("auto-router", "main");
  return harness;
}

/** The spend cell of `provider`'s `period` row in `/auto-router budget` (its month row follows, unnamed). */
const spentCell = (shown: string, provider: string, period: "today" | "month") =>
  new RegExp(`^${provider} +today +(\\S+).*\n +month +(\\S+)`, "m").exec(shown)?.[period === "today" ? 1 : 2];
const PENNY = { requests: 1, estimated: 0, input: 1, output: 1, cacheRead: 0, cacheWrite: 0, costUsd: 0.01 };

/** A session on route `main` whose clock stands at `iso`. */
async function startAt(iso: string, budgets: unknown): Promise<SdkHarness> {
  harness = await createSdkHarness({ targets: TARGETS, routes: routes(budgets), clock: true });
  mock.timers.setTime(Date.parse(iso));
  await harness.setModel("auto-router", "main");
  return harness;
}

/** One prompt; the provider that served it. */
async function serve(h: SdkHarness): Promise<string> {
  h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("from a")]);
  h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("from b")]);
  await h.prompt("hi");
  return h.lastAssistant().provider;
}

/** Fails with every notice shown when none starts with `start`. */
function assertNotice(h: SdkHarness, start: string): void {
  const shown = h.ui!.notifications.map((n) => n.message);
  assert.ok(
    shown.some((message) => message.startsWith(start)),
    shown.join("\n"),
  );
}
const MOVED_FROM_KOLKATA =
  "auto-router: the budget calendar is now America/Los_Angeles (the spend ledger's dates were Asia/Kolkata's)";

const warningsOf = async (h: SdkHarness) => /^warnings: (.*)$/m.exec(await h.command("/auto-router status"))?.[1] ?? "";

describe("the budget calendar at its edges", () => {
  it("ends a daily block at local midnight in budgets.timeZone, in /auto-router status too", async () => {
    // 23:50 in Kolkata (+05:30) is 18:20 UTC.
    const h = await startAt("2026-12-01T18:20:00Z", {
      timeZone: "Asia/Kolkata",
      providers: { "mock-a": { daily: 0.0001 } },
    });
    assert.equal(await serve(h), "mock-a");
    assert.equal(await serve(h), "mock-b", "over its daily budget, mock-a is skipped");
    assert.match(await warningsOf(h), /budget mock-a \S+ blocked/);
    h.advanceClock(9 * 60_000);
    assert.match(await h.command("/auto-router budget"), /today 2026-12-01, month 2026-12 \(Asia\/Kolkata\)/);
    assert.match(await warningsOf(h), /budget mock-a \S+ blocked/, "23:59 is still the same day");
    h.advanceClock(60_000);
    const show = await h.command("/auto-router budget");
    assert.match(show, /today 2026-12-02, month 2026-12 \(Asia\/Kolkata\)/);
    assert.match(show, /^mock-a +today +\$0\.00 +\$0\.0001 \(config\) +0% +0$/m, show);
    assert.doesNotMatch(await warningsOf(h), /budget mock-a/, "yesterday's block is not listed after midnight");
    assert.equal(await serve(h), "mock-a", "served again after local midnight");
  });

  it("takes a daily block off the status line of an idle pi when the day ends, before any prompt", async () => {
    // 23:59:59 in Kolkata (+05:30).
    const h = await startAt("2026-12-01T18:29:59Z", {
      timeZone: "Asia/Kolkata",
      providers: { "mock-a": { daily: 0.0001 } },
    });
    assert.equal(await serve(h), "mock-a");
    assert.equal(await serve(h), "mock-b");
    const line = () => h.ui!.statuses.get("auto-router") ?? "";
    assert.match(line(), /budget mock-a \S+ blocked/);
    // Midnight passes with no prompt: the line is rebuilt at the day's end (its timer waits real time; the frozen
    // clock is moved past midnight meanwhile).
    h.advanceClock(2_000);
    await until(() => !/budget mock-a/.test(line()), `the line without yesterday's block (${line()})`, 6_000);
  });

  it("keeps today's spend today's when budgets.timeZone changes while pi runs", async () => {
    const dir = stateDirWith({});
    // 00:30 on 3 December in Kolkata is 11:00 on 2 December in Los Angeles.
    const h = await startOn(dir, "2026-12-02T19:00:00Z", {
      timeZone: "Asia/Kolkata",
      providers: { "mock-a": { daily: 0.0001 } },
    });
    assert.equal(await serve(h), "mock-a");
    assert.equal(await serve(h), "mock-b", "over its daily budget, mock-a is skipped");
    const before = await h.command("/auto-router budget");
    assert.match(before, /today 2026-12-03, month 2026-12 \(Asia\/Kolkata\)/);
    const spent = spentCell(before, "mock-a", "today");
    assert.notEqual(spent, "$0.00", before);

    const file = join(h.agentDir, "extensions", ROUTES_FILE_NAME);
    writeFileSync(
      file,
      JSON.stringify(routes({ timeZone: "America/Los_Angeles", providers: { "mock-a": { daily: 0.0001 } } })),
    );
    await h.command("/auto-router reload");
    const after = await h.command("/auto-router budget");
    assert.match(after, /today 2026-12-02, month 2026-12 \(America\/Los_Angeles\)/, after);
    assert.equal(spentCell(after, "mock-a", "today"), spent, after);
    assert.equal(spentCell(after, "mock-a", "month"), spent, after);
    assertNotice(h, MOVED_FROM_KOLKATA);
    assert.equal(await serve(h), "mock-b", "still over today's budget on the new calendar");
    await h.dispose();
    harness = undefined;
    const ledger = JSON.parse(readFileSync(join(dir, "auto-router.usage.json"), "utf8"));
    assert.equal(ledger.timeZone, "America/Los_Angeles");
    assert.deepEqual(Object.keys(ledger.days), ["2026-12-02"]);
  });

  it("moves a ledger dated in another zone at the next start, and says so", async () => {
    // Spent on 3 December in Kolkata by an earlier session; pi now starts in Los Angeles' calendar (its 2 December).
    const dir = stateDirWith({
      "auto-router.usage.json": {
        version: 1,
        timeZone: "Asia/Kolkata",
        days: { "2026-12-03": { "mock-a": { "model-a": PENNY } }, "2026-11-20": { "mock-a": { "model-a": PENNY } } },
        months: { "2026-12": { "mock-a": { "model-a": PENNY } }, "2026-11": { "mock-a": { "model-a": PENNY } } },
      },
    });
    const h = await startOn(dir, "2026-12-02T19:00:00Z", {
      timeZone: "America/Los_Angeles",
      providers: { "mock-a": { daily: 0.01 } },
    });
    assert.equal(await serve(h), "mock-b", "today's penny counts today on the new calendar: mock-a is at its limit");
    const shown = await h.command("/auto-router budget");
    assert.match(shown, /today 2026-12-02, month 2026-12 \(America\/Los_Angeles\)/, shown);
    assert.equal(spentCell(shown, "mock-a", "today"), "$0.01", shown);
    assert.equal(spentCell(shown, "mock-a", "month"), "$0.01", shown);
    assertNotice(h, MOVED_FROM_KOLKATA);
    await h.dispose();
    harness = undefined;
    const ledger = JSON.parse(readFileSync(join(dir, "auto-router.usage.json"), "utf8"));
    assert.equal(ledger.timeZone, "America/Los_Angeles");
    assert.deepEqual(
      Object.keys(ledger.days).sort(),
      ["2026-11-19", "2026-12-02"],
      "the 20th's middle is the 19th there",
    );
    assert.deepEqual(Object.keys(ledger.months).sort(), ["2026-11", "2026-12"]);
  });

  it("keeps the earlier router's last month in last month east of UTC", async () => {
    // 10:00 on 3 December in Tokyo; the earlier router booked November under its UTC month.
    const dir = stateDirWith({
      "auto-router.stats.json": {
        version: 2,
        daily: { "2026-11-30": { "mock-a": { inputTokens: 1, outputTokens: 1, estimatedCost: 5 } } },
        monthly: { "2026-11": { "mock-a": { inputTokens: 1, outputTokens: 1, estimatedCost: 5 } } },
      },
    });
    const h = await startOn(dir, "2026-12-03T01:00:00Z", {
      timeZone: "Asia/Tokyo",
      providers: { "mock-a": { monthly: 1 } },
    });
    assert.equal(await serve(h), "mock-a", "December's budget is not November's spend");
    const shown = await h.command("/auto-router budget");
    assert.match(shown, /today 2026-12-03, month 2026-12 \(Asia\/Tokyo\)/, shown);
    assert.notEqual(spentCell(shown, "mock-a", "month"), undefined, shown);
    assert.ok(Number(spentCell(shown, "mock-a", "month")!.slice(1)) < 1, shown);
  });
});
