// The grant a machine advises when Redis refuses its ACL user a command, run as it is written through redis-cli
// against a real redis-server: for a key prefix that holds glob characters (`team[1]:`, which an unescaped `~team[1]:*`
// does not cover), for a user that already has every channel (`&*`, after which Redis refuses any channel pattern) or
// every key (`~*`, after which Redis refuses any key pattern), and for a user refused both the keys and the channel.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { startTeam, type Team } from "../helpers/team-machines.ts";
import { eventually } from "../helpers/temp-and-workers.ts";

describe("team mode: the ACL grant advised for a refused command", () => {
  let team: Team;

  before(async () => {
    team = await startTeam();
  });
  after(() => team.close());

  const userUrl = (user: string, password: string) =>
    team.redis.url.replace("redis://", `redis://${user}:${password}@`);
  const machine = (name: string, prefix: string, url: string) =>
    team.machine(name, prefix, { state: { backend: "redis", url, keyPrefix: prefix, machine: name } });

  /** The gateway's warning about the refusal, and the command it advises (what follows "e.g. "). */
  const advice = async (agentDir: string, expected = /./): Promise<{ warning: string; command: string }> => {
    const gateway = await startGatewayProcess({ agentDir });
    let warning: string | undefined;
    try {
      // The last advice: a grant Redis refuses after the first one is said again with both.
      await eventually(
        () =>
          (warning = [...gateway.stderr().matchAll(/^auto-router: team store .* refused a command.*$/gm)]
            .map((line) => line[0])
            .filter((line) => expected.test(line))
            .at(-1)) !== undefined,
        "the gateway warns",
      );
    } finally {
      assert.equal(await gateway.stop(), 0, gateway.stderr());
    }
    const command = /; grant the user .*?, e\.g\. (ACL SETUSER .*)$/.exec(warning!)?.[1];
    assert.ok(command, warning);
    return { warning: warning!, command };
  };

  /** Types `command` into redis-cli, as an admin pastes it: redis-cli splits and unquotes it itself. */
  const typeIntoRedisCli = (command: string): string => {
    const run = spawnSync("redis-cli", ["-p", String(team.redis.port)], { input: `${command}\n`, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    return run.stdout.trim();
  };

  /** A machine on this user now works: connected, nothing refused (the advice run as it is, then its text). */
  const works = async (name: string, prefix: string, url: string) => {
    const run = await runPi({
      agentDir: machine(name, prefix, url).agentDir,
      args: ["--model", "auto-router/main", "-p", "hello", "/auto-router state"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /connection: connected\n/);
    assert.doesNotMatch(run.stderr, /refused|NOPERM/);
  };

  it("escapes a key prefix's glob characters in the channel it grants", async () => {
    const prefix = "team[1]:";
    // The team's keys granted (escaped), the channel from the unescaped pattern: it covers `team1:changed` only.
    team.redis.cli("ACL", "SETUSER", "globc", "on", ">globc-pass-1", "~team\\[1\\]:*", "&team[1]:changed", "+@all");
    const url = userUrl("globc", "globc-pass-1");
    const { warning, command } = await advice(machine("gc1", prefix, url).agentDir);
    assert.match(warning, /no permissions to access one of the channels/);
    assert.equal(typeIntoRedisCli(command), "OK");
    assert.equal(team.redis.cli("ACL", "DRYRUN", "globc", "PUBLISH", "team[1]:changed", "m"), "OK");
    await works("gc2", prefix, url);
    assert.equal(command, "ACL SETUSER globc '&team\\[1\\]:changed'");
  });

  it("escapes a key prefix's glob characters in the keys it grants, and adds no channel to a user that has every one", async () => {
    const prefix = "team[1]:";
    // Every channel; the keys from the unescaped pattern, which covers `team1:...` only.
    team.redis.cli("ACL", "SETUSER", "globu", "on", ">globu-pass-2", "~team[1]:*", "&*", "+@all");
    assert.match(team.redis.cli("ACL", "DRYRUN", "globu", "HGET", "team[1]:state:breakers", "v"), /no permissions/);
    const url = userUrl("globu", "globu-pass-2");
    const { warning, command } = await advice(machine("gu1", prefix, url).agentDir);
    assert.match(warning, /no permissions to access one of the keys/);
    assert.equal(typeIntoRedisCli(command), "OK");
    assert.equal(team.redis.cli("ACL", "DRYRUN", "globu", "HGET", "team[1]:state:breakers", "v"), "OK");
    await works("gu2", prefix, url);
    assert.equal(command, "ACL SETUSER globu '~team\\[1\\]:*' +@all");
  });

  it("adds no channel to a user that has every one, whatever the prefix", async () => {
    const prefix = "par:nk:";
    team.redis.cli("ACL", "SETUSER", "allch", "on", ">allch-pass-3", "~other:*", "&*", "+@all");
    const url = userUrl("allch", "allch-pass-3");
    const { command } = await advice(machine("nk1", prefix, url).agentDir);
    assert.equal(typeIntoRedisCli(command), "OK");
    await works("nk2", prefix, url);
    assert.equal(command, "ACL SETUSER allch ~par:nk:* +@all");
  });

  it("grants only the channel to a user that has every key", async () => {
    const prefix = "par:ak:";
    // Every key, no channel (what Redis 7 gives a new user): a key pattern added to it makes Redis refuse the command.
    team.redis.cli("ACL", "SETUSER", "allk", "on", ">allk-pass-4", "~*", "resetchannels", "+@all");
    const url = userUrl("allk", "allk-pass-4");
    const { warning, command } = await advice(machine("ak1", prefix, url).agentDir);
    assert.match(warning, /no permissions to access one of the channels/);
    assert.match(warning, /; grant the user the team's channel, e\.g\. /);
    assert.equal(command, "ACL SETUSER allk &par:ak:changed");
    assert.equal(typeIntoRedisCli(command), "OK");
    await works("ak2", prefix, url);
  });

  it("grants both the keys and the channel to a user refused both", async () => {
    const prefix = "par:nb:";
    team.redis.cli("ACL", "SETUSER", "neither", "on", ">neither-pass-5", "~other:*", "resetchannels", "+@all");
    const url = userUrl("neither", "neither-pass-5");
    const { command } = await advice(machine("nb1", prefix, url).agentDir, /&par:nb:changed/);
    assert.equal(command, "ACL SETUSER neither ~par:nb:* &par:nb:changed +@all");
    assert.equal(typeIntoRedisCli(command), "OK");
    await works("nb2", prefix, url);
  });
});
