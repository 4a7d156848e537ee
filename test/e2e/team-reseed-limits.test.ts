// Team mode through real pi processes and one redis-server: budget limits set or cleared on one machine after another
// machine's view was last synced survive when Redis comes back empty and that other machine re-seeds it first.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runPi } from "../helpers/pi-cli.ts";
import { startTeam, type Team } from "../helpers/team-machines.ts";

describe("team mode: budget limits across a re-seed from an older view", () => {
  let team: Team;

  before(async () => {
    team = await startTeam();
  });
  after(() => team.close());

  const run = async (agentDir: string, ...args: string[]) => {
    const done = await runPi({ agentDir, args: ["--model", "auto-router/main", "-p", ...args] });
    assert.equal(done.code, 0, done.stderr);
    return done.stdout + done.stderr;
  };
  /** The team's command-set limits, as Redis holds them. */
  const teamLimits = (prefix: string) => {
    const json = team.redis.cli("HGET", `${prefix}state:budget-limits`, "json");
    return json ? JSON.parse(json) : undefined;
  };

  it("keeps a limit set and a limit cleared on another machine after the re-seeding machine's view was synced", async () => {
    const prefix = "par:reseed-limits:";
    const t1 = team.machine("t1", prefix).agentDir;
    const t2 = team.machine("t2", prefix).agentDir;
    await run(t1, "/auto-router budget set mock-b 7");
    // t1's view was last synced here: t2 sets one limit and clears the other after it.
    await run(t2, "/auto-router budget set mock-a 5");
    await run(t2, "/auto-router budget clear mock-b");
    assert.deepEqual(Object.keys(teamLimits(prefix).providers), ["mock-a"]);

    await team.redis.restart(); // it saves nothing: it comes back empty
    assert.match(await run(t1, "/auto-router budget"), /re-seeded from the machines' views/);
    assert.equal(teamLimits(prefix).providers["mock-b"].daily, 7); // t1's view
    assert.equal(teamLimits(prefix).providers["mock-a"], undefined);

    // t2's view is newer: its set and its clear go on top, field by field.
    await run(t2, "/auto-router budget");
    const limits = teamLimits(prefix);
    assert.equal(limits.providers["mock-a"].daily, 5);
    assert.equal(limits.providers["mock-b"], undefined);
    assert.equal(typeof limits.cleared["mock-b"].daily, "number");
    const shown = await run(t1, "/auto-router budget");
    assert.match(shown, /mock-a[^\n]*\$5/);
    assert.doesNotMatch(shown, /\$7/);
    // Once: a further run changes nothing.
    const version = team.redis.cli("HGET", `${prefix}state:budget-limits`, "v");
    await run(t2, "/auto-router budget");
    assert.equal(team.redis.cli("HGET", `${prefix}state:budget-limits`, "v"), version);
  });
});
