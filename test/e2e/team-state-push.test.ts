// `/auto-router state push` when a team switches over machine by machine: each machine's file-store spend (its own
// auto-router.usage.json, written here as file mode leaves it) is added to the team's ledger once per machine, and
// its command-set limits go in by their set time. Real pi processes share one redis-server; each machine has its own
// agent dir. The team's totals are read from Redis, one field per period hash.
import assert from "node:assert/strict";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { LimitsState } from "../../src/budget/budget-limits.ts";
import { calendarKeys } from "../../src/budget/calendar.ts";
import {
  addMarkerOperation,
  importLegacyOperation,
  LEGACY_STATS_FILE,
  legacyOwnerMarker,
  parseLegacyStats,
} from "../../src/budget/legacy-stats.ts";
import { emptyLedger, emptyTotals, type UsageLedger } from "../../src/budget/usage-ledger.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { RedisServer } from "../helpers/redis-server.ts";
import { startTeam, type Team } from "../helpers/team-machines.ts";

const PREFIX = "par:push-add:";
// The machines' calendar is UTC (budgets.timeZone), so the keys written here are the ones the team uses.
const KEYS = calendarKeys(Date.now(), "UTC");
const T0 = Date.now() - 86_400_000;

/** A file ledger holding `requests` requests costing `costUsd` of one model, today and this month. */
function spent(
  provider: string,
  modelId: string,
  requests: number,
  costUsd: number,
  base = emptyLedger(),
): UsageLedger {
  const totals = { ...emptyTotals(), requests, input: 100 * requests, output: 50 * requests, costUsd };
  const ledger: UsageLedger = structuredClone(base);
  for (const [period, key] of [
    ["days", KEYS.day],
    ["months", KEYS.month],
  ] as const) {
    const bucket = (ledger[period][key] ??= {});
    (bucket[provider] ??= {})[modelId] = totals;
  }
  return ledger;
}

/** The earlier router's stats file, last written two days ago: $1 of mock-a today (UTC), and a limit for mock-b. */
const OLD_STATS = {
  version: 2,
  daily: { [KEYS.day]: { "mock-a": { inputTokens: 1000, outputTokens: 500, estimatedCost: 1 } } },
  monthly: { [KEYS.month]: { "mock-a": { inputTokens: 1000, outputTokens: 500, estimatedCost: 1 } } },
  limits: { "mock-b": { monthlyUsd: 7 } },
};

describe("team mode: state push adds each machine's file-store spend once and newer limits", () => {
  let team: Team;
  let redis: RedisServer;

  before(async () => {
    team = await startTeam();
    ({ redis } = team);
  });
  after(() => team.close());

  /** A machine in team mode whose state dir holds what it recorded in file mode. */
  function machine(name: string, files: { usage: UsageLedger; limits?: LimitsState; oldStats?: unknown }) {
    const dir = team.machine(name, PREFIX, { budgets: { timeZone: "UTC" } });
    const stateDir = join(dir.agentDir, "extensions");
    writeFileSync(join(stateDir, "auto-router.usage.json"), JSON.stringify(files.usage));
    if (files.limits) writeFileSync(join(stateDir, "auto-router.budget-limits.json"), JSON.stringify(files.limits));
    if (files.oldStats) {
      const file = join(stateDir, LEGACY_STATS_FILE);
      writeFileSync(file, JSON.stringify(files.oldStats));
      utimesSync(file, new Date(T0 - 86_400_000), new Date(T0 - 86_400_000));
    }
    return {
      /** `state push`, after the commands in `before` and followed by those in `after`, in one pi run. */
      push: async (before: string[] = [], after: string[] = []) => {
        const done = await runPi({
          agentDir: dir.agentDir,
          args: ["--model", "auto-router/main", "-p", ...before, "/auto-router state push", ...after],
        });
        assert.equal(done.code, 0, done.stderr);
        return done.stdout + done.stderr;
      },
    };
  }
  /** The team's total of one provider this month (and today), as Redis holds it. */
  const teamSpend = (provider: string, metric: "requests" | "costUsd") => {
    const read = (hash: string) =>
      Number(redis.cli("HGET", `${PREFIX}usage:${hash}`, `${provider}|*|${metric}`) || "0");
    return { day: read(`day:${KEYS.day}`), month: read(`month:${KEYS.month}`) };
  };
  const teamLimits = (): LimitsState => JSON.parse(redis.cli("HGET", `${PREFIX}state:budget-limits`, "json"));

  it("adds two machines' spend to the team's, counts a machine's second push and two concurrent pushes once, and pushes limits set later than the team's", async () => {
    // Machine a switches first: its spend and limits set a day ago.
    const a = machine("a", {
      usage: spent("mock-a", "model-a", 2, 0.5),
      limits: {
        version: 1,
        providers: { "mock-a": { daily: 5, updatedAt: T0 }, "mock-b": { monthly: 3, updatedAt: T0 - 120_000 } },
      },
    });
    assert.match(await a.push(), /usage: added this machine's spend \(2 entries\)/);
    assert.deepEqual(teamSpend("mock-a", "costUsd"), { day: 0.5, month: 0.5 });
    assert.equal(teamLimits().providers["mock-a"]?.daily, 5);

    // Machine b ran this router in file mode after importing the earlier router's stats file, which is still in its
    // state dir: its first team start imports that file into the team, so its push adds only its own spend. It set
    // mock-a's limit after a did (its wins), and raised mock-b's from the old file's $7 to $20 in file mode: the
    // team's import of the old file at b's first team start puts $7 in, which must not win over the raise.
    const legacy = parseLegacyStats(OLD_STATS);
    const scope = { machine: "b", teamMode: false };
    const imported = addMarkerOperation(legacyOwnerMarker(LEGACY_STATS_FILE, scope))(
      importLegacyOperation(LEGACY_STATS_FILE, legacy, scope)(emptyLedger()),
    );
    const b = machine("b", {
      usage: spent("mock-a", "model-a", 3, 0.25, imported),
      limits: {
        version: 1,
        providers: {
          "mock-a": { daily: 9, updatedAt: T0 + 60_000 },
          "mock-b": { monthly: 20, updatedAt: T0 - 60_000 },
        },
      },
      oldStats: OLD_STATS,
    });
    const pushedB = await b.push();
    assert.match(
      pushedB,
      /usage: added this machine's spend \(2 entries; the auto-router\.stats\.json spend it imported was in the team's already, not added again\)/,
    );
    assert.match(pushedB, /budget-limits: pushed the limits of mock-a, mock-b/);
    // a's $0.50 + b's $0.25 + the old file's $1 once.
    assert.deepEqual(teamSpend("mock-a", "costUsd"), { day: 1.75, month: 1.75 });
    assert.deepEqual(teamSpend("mock-a", "requests"), { day: 5, month: 5 });
    assert.equal(teamLimits().providers["mock-a"]?.daily, 9);
    assert.equal(teamLimits().providers["mock-b"]?.monthly, 20);

    // a again (a restart): counted before, said with its time. The team clears mock-b's limit (from a, in team mode)
    // first: a's file store still holds the one it set before the clear, which stays cleared.
    const clearedFrom = Date.now();
    const pushedAgain = await a.push(["/auto-router budget clear mock-b"]);
    assert.match(pushedAgain, /usage: this machine's spend was pushed before \(\d{4}-\d\d-\d\dT[\d:.]+Z\)/);
    assert.deepEqual(teamSpend("mock-a", "costUsd"), { day: 1.75, month: 1.75 });
    assert.match(pushedAgain, /monthly budget set by command for mock-b cleared/);
    assert.match(
      pushedAgain,
      /budget-limits: nothing pushed: cleared in the team store after this machine set it: mock-b \(monthly\)/,
    );
    assert.equal(teamLimits().providers["mock-b"], undefined);
    const clearedAt = teamLimits().cleared?.["mock-b"];
    assert.ok(clearedAt?.monthly && clearedAt.monthly >= clearedFrom, JSON.stringify(teamLimits()));

    // Machine c's two windows push at once: one adds, the other finds it pushed. Its daily limit is older than the
    // team's; its monthly one, which the team has none of, goes in (each field is compared on its own).
    // One window then sets mock-b's limit again, after the team's clear: it applies, and the clear's trace goes.
    const c = machine("c", {
      usage: spent("mock-b", "model-b", 1, 0.125),
      limits: {
        version: 1,
        providers: { "mock-a": { daily: 1, monthly: 6, updatedAt: T0 - 1, setAt: { daily: T0 - 2, monthly: T0 - 1 } } },
      },
    });
    const both = await Promise.all([c.push(), c.push([], ["/auto-router budget set mock-b 4 monthly"])]);
    assert.match(both[1]!, /monthly budget for mock-b set to \$4\.00/);
    assert.equal(teamLimits().providers["mock-b"]?.monthly, 4);
    // `budget clear mock-b` cleared both periods: the daily one's trace stays.
    assert.deepEqual(teamLimits().cleared, { "mock-b": { daily: clearedAt.daily } });
    assert.equal(
      both.filter((text) => /usage: added this machine's spend \(2 entries\)/.test(text)).length,
      1,
      both.join("\n"),
    );
    assert.equal(
      both.filter((text) => /usage: this machine's spend was pushed before/.test(text)).length,
      1,
      both.join("\n"),
    );
    assert.deepEqual(teamSpend("mock-b", "costUsd"), { day: 0.125, month: 0.125 });
    assert.deepEqual(teamSpend("mock-a", "costUsd"), { day: 1.75, month: 1.75 });
    const limitLines = both.map((text) => /^\s*budget-limits: (.*)$/m.exec(text)?.[1]).sort();
    assert.deepEqual(limitLines, [
      "pushed the limits of mock-a (set here later than the team's, or the team had none)",
      "the team's limits are as new as this machine's or newer: nothing pushed",
    ]);
    assert.equal(teamLimits().providers["mock-a"]?.daily, 9);
    assert.equal(teamLimits().providers["mock-a"]?.monthly, 6);
  });
});
