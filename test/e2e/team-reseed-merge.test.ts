// Team mode through real pi processes and one redis-server: spend that must count once in the team's ledger when
// Redis comes back empty and a machine with an older view re-seeds it first, and when a machine whose file store
// imported the earlier router's stats file switches to team mode after that file changed.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { LEGACY_STATS_FILE } from "../../src/budget/legacy-stats.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { startTeam, type Team } from "../helpers/team-machines.ts";
import { eventually } from "../helpers/temp-and-workers.ts";

// The emulator's default usage is 12 input + 7 output tokens; at $1000/$2000 per 1M that is $0.026 per answer.
const COST = { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 };
const KEYS = calendarKeys(Date.now(), "UTC");

describe("team mode: spend counted once across a re-seed and a switch from the file store", () => {
  let team: Team;

  before(async () => {
    team = await startTeam({ cost: COST });
  });
  after(() => team.close());

  /** The team's total of mock-a today and this month, as Redis holds it. */
  const teamSpend = (prefix: string, metric: "requests" | "costUsd") => {
    const read = (hash: string) =>
      Number(team.redis.cli("HGET", `${prefix}usage:${hash}`, `mock-a|*|${metric}`) || "0");
    return { day: read(`day:${KEYS.day}`), month: read(`month:${KEYS.month}`) };
  };
  const run = async (agentDir: string, ...args: string[]) => {
    const done = await runPi({ agentDir, args: ["--model", "auto-router/main", "-p", ...args] });
    assert.equal(done.code, 0, done.stderr);
    return done.stdout + done.stderr;
  };

  it("adds the spend a machine's newer view held to a team store another machine re-seeded from an older one, once", async () => {
    const prefix = "par:reseed-merge:";
    const t1 = team.machine("t1", prefix, { budgets: { timeZone: "UTC" } }).agentDir;
    const t2 = team.machine("t2", prefix, { budgets: { timeZone: "UTC" } }).agentDir;
    await run(t1, "first");
    await eventually(() => teamSpend(prefix, "requests").day === 1, "t1's first answer is in the team store");
    await run(t2, "/auto-router budget"); // t2's view: 1 request
    await run(t1, "second");
    await run(t1, "third");
    await eventually(() => teamSpend(prefix, "requests").day === 3, "t1's answers are in the team store");

    await team.redis.restart(); // it saves nothing: it comes back empty
    assert.match(await run(t2, "/auto-router budget"), /re-seeded from the machines' views/);
    assert.deepEqual(teamSpend(prefix, "requests"), { day: 1, month: 1 });
    // t1's view held its two later answers: they are added to the team's, and its view reads the team's total.
    const shown = await run(t1, "/auto-router budget");
    assert.deepEqual(teamSpend(prefix, "requests"), { day: 3, month: 3 });
    assert.deepEqual(teamSpend(prefix, "costUsd"), { day: 0.078, month: 0.078 });
    assert.equal(Number(team.redis.cli("HGET", `${prefix}usage:day:${KEYS.day}`, "mock-a|model-a|requests")), 3);
    assert.match(shown, /mock-a +today +\$0\.078 .* 3\n +month +\$0\.078 .* 3\n/);
    // Once: neither machine adds it again, and spend recorded since the re-seed is counted on top.
    await run(t1, "/auto-router budget");
    await run(t2, "fourth");
    await run(t1, "/auto-router budget");
    await eventually(() => teamSpend(prefix, "requests").day === 4, "t2's answer is in the team store");
    assert.deepEqual(teamSpend(prefix, "requests"), { day: 4, month: 4 });
    const view = JSON.parse(readFileSync(join(t1, "extensions", "auto-router.team-usage.json"), "utf8"));
    assert.equal(view.days[KEYS.day]["mock-a"]["model-a"].requests, 4);
  });

  it("counts the earlier router's file once when a machine that imported it in file mode switches after it changed", async () => {
    const prefix = "par:legacy-switch:";
    const agentDir = team.machine("l1", prefix, { budgets: { timeZone: "UTC" } }).agentDir;
    const stateDir = join(agentDir, "extensions");
    const routesFile = join(stateDir, "auto-router.routes.json");
    const backend = (name: "file" | "redis") => {
      const routes = JSON.parse(readFileSync(routesFile, "utf8"));
      routes.state.backend = name;
      writeFileSync(routesFile, JSON.stringify(routes));
    };
    const stats = (dailyUsd: number) =>
      writeFileSync(
        join(stateDir, LEGACY_STATS_FILE),
        JSON.stringify({
          version: 2,
          daily: { [KEYS.day]: { "mock-a": { inputTokens: 100, outputTokens: 50, estimatedCost: dailyUsd } } },
          monthly: { [KEYS.month]: { "mock-a": { inputTokens: 400, outputTokens: 200, estimatedCost: 2 } } },
        }),
      );
    backend("file");
    stats(0.5);
    await run(agentDir, "/auto-router budget"); // imported into the file store
    stats(0.9); // the earlier router wrote more
    assert.match(await run(agentDir, "/auto-router budget"), /changed after its spend was imported/);

    backend("redis");
    await run(agentDir, "/auto-router budget");
    assert.deepEqual(teamSpend(prefix, "costUsd"), { day: 0, month: 0 });
    assert.match(await run(agentDir, "/auto-router state push"), /usage: added this machine's spend/);
    // The file store's import, as the file held it then: once.
    assert.deepEqual(teamSpend(prefix, "costUsd"), { day: 0.5, month: 2 });
    await run(agentDir, "/auto-router budget");
    assert.deepEqual(teamSpend(prefix, "costUsd"), { day: 0.5, month: 2 });
  });
});
