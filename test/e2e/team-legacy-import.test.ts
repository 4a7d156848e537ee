// A team's first machine is typically someone's existing install: the earlier pi-auto-router's ratings and latency
// files in its state dir (shared/docs/legacy-formats.md, written here by hand) must reach the team store as they
// reach the file store, through real pi processes sharing one redis-server. Each machine has its own agent dir.
import assert from "node:assert/strict";
import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runPi } from "../helpers/pi-cli.ts";
import type { RedisServer } from "../helpers/redis-server.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { startTeam, type Team } from "../helpers/team-machines.ts";

const T0 = 1777626000000;
const badRating = (requestId: string | undefined, minute: number) => ({
  provider: "mock-a",
  modelId: "model-a",
  routeId: "main",
  rating: "bad",
  ...(requestId ? { requestId } : {}),
  timestamp: T0 + minute * 60_000,
});
/** Two bad ratings of mock-a, and mock-a's whole-response average of 1500 ms. */
const FIRST_INSTALL = {
  ratings: [badRating("r1", 1), badRating(undefined, 2)],
  latency: { "mock-a": { count: 2, totalMs: 3000, lastMs: 1400, updatedAt: T0 } },
};

describe("team mode: the earlier pi-auto-router's ratings and latency", () => {
  let team: Team;
  let redis: RedisServer;
  let primary: Emulator;
  let secondary: Emulator;

  before(async () => {
    team = await startTeam();
    ({ redis, primary, secondary } = team);
  });
  after(() => team.close());

  /** A machine in team mode whose state dir holds the earlier router's files, unchanged at the end (`unchanged`). */
  function machine(name: string, keyPrefix: string, old: { ratings: unknown; latency: unknown }) {
    const dir = team.machine(name, keyPrefix, {
      // The old file holds two ratings of the target: enough here (the default needs five).
      policyRules: [
        { id: "demote-badly-rated", type: "demote-target", when: { badRatingShareAbove: 0.3, minRatings: 2 } },
      ],
    });
    const files = {
      ratings: join(dir.agentDir, "extensions", "auto-router.ratings.json"),
      latency: join(dir.agentDir, "extensions", "auto-router.latency.json"),
    };
    const text = { ratings: JSON.stringify(old.ratings), latency: JSON.stringify(old.latency) };
    writeFileSync(files.ratings, text.ratings);
    writeFileSync(files.latency, text.latency);
    const unchanged = () => {
      assert.equal(readFileSync(files.ratings, "utf8"), text.ratings, "the old ratings file is left as it was");
      assert.equal(readFileSync(files.latency, "utf8"), text.latency, "the old latency file is left as it was");
    };
    const run = async (...args: string[]) => {
      const done = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", ...args] });
      assert.equal(done.code, 0, done.stderr);
      return done;
    };
    const pi = async (...args: string[]) => {
      const done = await run(...args);
      assert.doesNotMatch(done.stderr, /could not import|moved aside|corrupt/);
      return done.stdout + done.stderr;
    };
    return { run, pi, unchanged, files };
  }
  const teamState = (prefix: string, name: string) => JSON.parse(redis.cli("HGET", `${prefix}state:${name}`, "json"));

  it("carries a machine's old ratings and latency into the team store once: the badly rated target is demoted, the old average outlives a request, a reset stays reset", async () => {
    primary.reset();
    secondary.reset();
    const prefix = "par:legacy-first:";
    const first = machine("first", prefix, FIRST_INSTALL);
    // One pi process (print mode runs the messages in order): the imported ratings and average, then an answer and
    // its rating; each part is matched on what its commands printed ("rated request" begins the rating's output).
    const firstRun = await first.pi("/auto-router rate", "/auto-router show main", "hello", "/auto-router rate good");
    const ratedAt = firstRun.indexOf("rated request ");
    assert.ok(ratedAt >= 0, firstRun);
    const shown = firstRun.slice(0, ratedAt);
    assert.match(shown, /mock-a\/model-a: 2 bad, 0 good of the last 2 ratings \(100% bad\)/);
    assert.match(shown, /mock-a\/model-a.*1500 ms \(earlier router\)/);
    assert.match(firstRun.slice(ratedAt), /mock-b\/model-b: 0 bad, 1 good/);
    assert.equal(primary.calls.length, 0, "mock-a is demoted by its old bad ratings");
    assert.equal(secondary.calls.length, 1);
    const versions = () => ["ratings", "latency"].map((name) => redis.cli("HGET", `${prefix}state:${name}`, "v"));
    const written = versions();
    // The next start reads the team store (the old average still stands in for mock-a, which was not measured) and
    // imports nothing again: it writes nothing. Already in the team store: nothing for a push (in the same process)
    // to add either.
    const again = await first.pi("/auto-router rate", "/auto-router show main", "/auto-router state push");
    assert.match(again, /mock-a\/model-a: 2 bad, 0 good of the last 2 rating/);
    assert.match(again, /mock-a\/model-a.*1500 ms \(earlier router\)/);
    assert.deepEqual(versions(), written);
    const push = again.slice(again.indexOf("state push:"));
    assert.match(push, /^state push:\n/);
    assert.match(push, /ratings: team store not empty/);
    assert.match(push, /latency: team store not empty/);
    // A reset of the latency averages is not undone by the old file at the next start.
    await first.pi("/auto-router reset latency");
    assert.doesNotMatch(await first.pi("/auto-router show main"), /earlier router/);
    first.unchanged();
  });

  it("imports the same old file copied to a second machine once, and adds a third machine's own ratings without replacing the team's latency", async () => {
    const prefix = "par:legacy-team:";
    const first = machine("first", prefix, FIRST_INSTALL);
    assert.match(await first.pi("/auto-router rate"), /mock-a\/model-a: 2 bad, 0 good of the last 2 rating/);
    const copy = machine("copy", prefix, FIRST_INSTALL);
    assert.match(await copy.pi("/auto-router rate"), /mock-a\/model-a: 2 bad, 0 good of the last 2 rating/);
    const own = machine("own", prefix, {
      // r1 is a rating the team holds already; the other is this install's own.
      ratings: [badRating("r1", 1), { ...badRating(undefined, 3), rating: "good" }],
      latency: {
        "mock-a": { count: 1, totalMs: 900, lastMs: 900, updatedAt: T0 },
        "mock-b": { count: 4, totalMs: 1200, lastMs: 300, updatedAt: T0 },
      },
    });
    const shown = await own.pi("/auto-router rate", "/auto-router show main");
    assert.match(shown, /mock-a\/model-a: 2 bad, 1 good of the last 3 ratings \(67% bad\)/);
    assert.match(shown, /mock-a\/model-a.*1500 ms \(earlier router\)/, "the team's carried-over average is kept");
    assert.match(shown, /mock-b\/model-b.*300 ms \(earlier router\)/);
    // A restart of any of them imports nothing again.
    assert.match(await first.pi("/auto-router rate"), /mock-a\/model-a: 2 bad, 1 good of the last 3 rating/);
    assert.equal(teamState(prefix, "ratings").legacyImports.length, 2, "one mark per distinct old file");
    for (const each of [first, copy, own]) each.unchanged();
  });

  it("says that an old ratings file it cannot read was not imported, and leaves it as it was", async () => {
    const damaged = machine("damaged", "par:legacy-damaged:", {
      ratings: [{ provider: "mock-a", modelId: "model-a", timestamp: T0 }],
      latency: FIRST_INSTALL.latency,
    });
    const { stdout, stderr } = await damaged.run("/auto-router rate", "/auto-router show main");
    assert.equal(stderr.split(`could not import ${damaged.files.ratings} (kept unchanged)`).length, 2, stderr);
    assert.doesNotMatch(stdout + stderr, /mock-a\/model-a: \d+ bad/);
    assert.match(
      stdout + stderr,
      /mock-a\/model-a.*1500 ms \(earlier router\)/,
      "the latency file is read all the same",
    );
    damaged.unchanged();
  });

  it("counts the same old auto-router.stats.json copied to two machines once, two machines' own files both, a changed one not again, and does not bring back a limit the team cleared", async () => {
    const day = new Date().toISOString().slice(0, 10);
    const stats = (costUsd: number) => ({
      version: 2,
      daily: { [day]: { "mock-a": { inputTokens: 100, outputTokens: 50, estimatedCost: costUsd } } },
      monthly: { [day.slice(0, 7)]: { "mock-a": { inputTokens: 100, outputTokens: 50, estimatedCost: costUsd } } },
      limits: { "mock-b": { monthlyUsd: 7 } },
    });
    const prefix = "par:legacy-stats:";
    const teamLimits = () => JSON.parse(redis.cli("HGET", `${prefix}state:budget-limits`, "json"));
    const dayAgo = new Date(Date.now() - 86_400_000);
    const teamCost = () => Number(redis.cli("HGET", `${prefix}usage:day:${day}`, "mock-a|*|costUsd") || "0");
    const withStats = (name: string, costUsd: number) => {
      const dir = team.machine(name, prefix, { budgets: { timeZone: "UTC" } });
      const file = join(dir.agentDir, "extensions", "auto-router.stats.json");
      writeFileSync(file, JSON.stringify(stats(costUsd)));
      utimesSync(file, dayAgo, dayAgo); // the earlier router last wrote it (and set its limit) a day ago
      return dir;
    };
    const budget = async (agentDir: string, before: string[] = []) => {
      const done = await runPi({
        agentDir,
        args: ["--model", "auto-router/main", "-p", ...before, "/auto-router budget"],
      });
      assert.equal(done.code, 0, done.stderr);
      return done.stdout + done.stderr;
    };
    // The same file on two fresh machines (a copied home directory): once. The first imports its limit, and the team
    // clears it: the second machine's import of the same old limit (set before the clear) does not bring it back.
    const first = await budget(withStats("s1", 0.5).agentDir, ["/auto-router budget clear mock-b"]);
    assert.match(first, /monthly budget set by command for mock-b cleared/);
    await budget(withStats("s2", 0.5).agentDir);
    assert.ok(Math.abs(teamCost() - 0.5) < 1e-9, `counted once: ${teamCost()}`);
    assert.equal(teamLimits().providers["mock-b"], undefined, JSON.stringify(teamLimits()));
    // Another machine's own file: added.
    const s3 = withStats("s3", 0.25).agentDir;
    await budget(s3);
    assert.ok(Math.abs(teamCost() - 0.75) < 1e-9, `both files: ${teamCost()}`);
    // The earlier router on s3 adds to its file: not imported again (its whole content would count twice).
    writeFileSync(join(s3, "extensions", "auto-router.stats.json"), JSON.stringify(stats(0.4)));
    await budget(s3);
    assert.ok(Math.abs(teamCost() - 0.75) < 1e-9, `a changed file is not imported again: ${teamCost()}`);
  });
});
