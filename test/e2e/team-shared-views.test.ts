// Team mode through real pi processes and a gateway: what a machine reads of the team's state at its first decision
// (a revert hold another machine made), an ACL user without the change channel (writes land, nothing is said to have
// failed), and the views of a hard budget (list, budget, /health/providers) agreeing with what routing does, for a
// limit set by command while the team store is down and for a limit whose reservation refuses every request.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../helpers/free-port.ts";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { startTeam, type Team } from "../helpers/team-machines.ts";

// The emulator's default usage is 12 input + 7 output tokens; at $1000/$2000 per 1M that is $0.026 per answer.
const COST = { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 };

/** The gateway's `/health/providers` on the same agent dir reads mock-a's budget as blocked, for `why`. */
async function assertGatewaySeesBlocked(agentDir: string, why: RegExp, env?: Record<string, string>): Promise<void> {
  const gateway = await startGatewayProcess({ agentDir, ...(env && { env }) });
  try {
    const health = (await (
      await fetch(`${gateway.url}/health/providers`, { headers: { "x-api-key": gateway.token } })
    ).json()) as { providers: Array<{ provider: string; budget?: { level: string; detail: string } }> };
    const mockA = health.providers.find((line) => line.provider === "mock-a");
    assert.equal(mockA?.budget?.level, "blocked", JSON.stringify(mockA));
    assert.match(mockA!.budget!.detail, why);
  } finally {
    assert.equal(await gateway.stop(), 0, gateway.stderr());
  }
}

describe("team mode: what each machine reads of the team's state", () => {
  let team: Team;

  before(async () => {
    team = await startTeam({ cost: COST });
  });
  after(() => team.close());

  const pi = async (agentDir: string, ...args: string[]) => {
    const run = await runPi({ agentDir, args: ["--model", "auto-router/main", "-p", ...args] });
    assert.equal(run.code, 0, run.stderr);
    return run;
  };

  it("keeps a fresh pi on another machine on the stand-in of a revert hold the team holds, and the hold stays", async () => {
    const prefix = "par:hold:";
    const { primary, secondary } = team;
    primary.reset();
    secondary.reset();
    primary.setDefault({ text: "Hello from A." });
    secondary.setDefault({ text: "Hello from B." });
    // The first choice rests 0.5 s after a server error; the hold keeps to the stand-in for a minute.
    const failover = { revert: "holdoff", holdoffMs: 60_000, kinds: { server: { cooldownMs: 500 } } };
    const [h4, h5] = ["h4", "h5"].map((name) => team.machine(name, prefix, { failover }));
    primary.enqueue({ status: 500, errorMessage: "boom" });
    assert.equal((await pi(h4!.agentDir, "hi")).stdout.trim(), "Hello from B.");
    const holds = () => JSON.parse(team.redis.cli("HGET", `${prefix}state:revert`, "json") || "{}").holds;
    assert.equal(holds()?.main?.standIn, "mock-b/model-b", "machine h4's hold is in the team store");
    await sleep(700); // the first choice's rest is over: only the hold keeps the stand-in first
    const callsA = primary.calls.length;
    const other = await pi(h5!.agentDir, "say hi", "/auto-router explain");
    assert.equal(other.stdout.trim(), "Hello from B.", other.stderr);
    assert.equal(primary.calls.length, callsA, "machine h5 did not go back to the first choice");
    assert.match(other.stderr, /staying on mock-b\/model-b after failing over from mock-a\/model-a/);
    assert.doesNotMatch(other.stderr, /revert hold ended/);
    assert.equal(holds()?.main?.standIn, "mock-b/model-b", "the team's hold was not ended");
  });

  it("counts a machine's spend on a ledger field another tool left without a number, and writes over a version that is none", async () => {
    const prefix = "par:nan:";
    const { primary } = team;
    primary.reset();
    primary.setDefault({ text: "Hello from A." });
    const [n1, n2] = ["n1", "n2"].map((name) => team.machine(name, prefix));
    await pi(n1!.agentDir, "hi");
    const day = team.redis.cli("KEYS", `${prefix}usage:day:*`).trim();
    team.redis.cli("HSET", day, "mock-a|model-a|costUsd", "oops");
    // And a team value's version: every write compared against it conflicted, so none landed, and nothing was said.
    team.redis.cli("HSET", `${prefix}state:latency`, "v", "v7");
    // Before, the script adding the second answer stopped at that field after setting the attempt's marker: the answer
    // never counted, on any machine, and nothing was said.
    const run = await pi(n2!.agentDir, "hi");
    assert.match(
      run.stderr,
      /the spend ledger's par:nan:usage:day:\S+ field mock-a\|model-a\|costUsd holds "oops", not a number: read as nothing/,
    );
    assert.match(
      run.stderr,
      /field mock-a\|model-a\|costUsd held "oops", not a number, and is kept aside in \S+:corrupt/,
    );
    assert.equal(team.redis.cli("HGET", day, "mock-a|*|requests"), "2", "both answers counted");
    assert.equal(Number(team.redis.cli("HGET", day, "mock-a|model-a|costUsd")), 0.026, "counted again from the second");
    assert.equal(Number(team.redis.cli("HGET", day, "mock-a|*|costUsd")), 0.052);
    assert.equal(team.redis.cli("HGET", `${day}:corrupt`, "mock-a|model-a|costUsd"), "oops");
    assert.match(
      run.stderr,
      /team store key par:nan:state:latency holds version "v7", not a whole number: read as 0 \(the next write replaces it\)/,
    );
    // Written, with a version past any a machine may hold (the server's time in ms).
    assert.ok(Number(team.redis.cli("HGET", `${prefix}state:latency`, "v")) > 1e12, "the second machine's latency");
  });

  it("writes with an ACL user refused the change channel without a false warning, and state push says what it did", async () => {
    const prefix = "par:acl-quiet:";
    team.primary.reset();
    team.primary.setDefault({ text: "Hello from A." });
    // The README's user without `&<prefix>changed`: Redis 7 grants it no channel, so every PUBLISH is refused.
    team.redis.cli("ACL", "SETUSER", "quiet", "on", ">QuietPw12345", `~${prefix}*`, "+@all");
    const url = team.redis.url.replace("redis://", "redis://quiet:QuietPw12345@");
    // Its file-store state first (spend, latency), then the team store through the environment.
    const dir = team.machine("aq1", prefix, { state: { backend: "file", keyPrefix: prefix, machine: "aq1" } });
    const firstDay = new Date().toISOString().slice(0, 10);
    await pi(dir.agentDir, "hello");
    const env = { AUTO_ROUTER_REDIS_URL: url };
    const pushed = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router state push", "hello again"],
      env,
    });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stderr, /\n {2}usage: added this machine's spend \(\d+ entries\)\n/);
    // The stores after the usage ledger are pushed too (a failed push of the ledger ended the command there).
    assert.match(pushed.stderr, /usage: added [^\n]+\n(?: {2}[\w-]+: [^\n]+\n)* {2}breakers: pushed\n/);
    assert.doesNotMatch(pushed.stderr, /failed|can't publish/);
    // The writes landed: the next run finds them written, not "dropped".
    const next = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", "third"], env });
    assert.equal(next.code, 0, next.stderr);
    assert.doesNotMatch(next.stderr, /were not written|can't publish/);
    // The three requests' UTC days: one, or two when the runs crossed midnight UTC.
    const days = new Set([firstDay, new Date().toISOString().slice(0, 10)]);
    const requests = [...days].reduce(
      (sum, day) => sum + Number(team.redis.cli("HGET", `${prefix}usage:day:${day}`, "mock-a|*|requests") || "0"),
      0,
    );
    assert.equal(requests, 3);
  });

  it("shows a provider with a hard limit set by command as blocked, spend unknown, in every view while the team store is down", async () => {
    const url = `redis://127.0.0.1:${await freePort()}/0`;
    const dir = team.machine("down1", "par:down:", { budgets: { policy: "hard" } });
    const env = { AUTO_ROUTER_REDIS_URL: url };
    const run = await runPi({
      agentDir: dir.agentDir,
      args: [
        "--model",
        "auto-router/main",
        "-p",
        "/auto-router budget set mock-a 1",
        "/auto-router list",
        "/auto-router budget",
      ],
      env,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /mock-a\/model-a\s.*\bspend unknown \(team store down\)/);
    assert.match(run.stderr, /mock-a: BLOCKED, spend unknown: /);
    await assertGatewaySeesBlocked(dir.agentDir, /team store is down/, env);
  });

  it("says on another machine that the hard limit refusing a request was set by command, not in the routes file", async () => {
    team.primary.reset();
    team.secondary.reset();
    team.primary.setDefault({ text: "Hello from A." });
    team.secondary.setDefault({ text: "Hello from B." });
    const prefix = "par:refused-set:";
    const [ev, ev2] = ["ev", "ev2"].map((name) => team.machine(name, prefix, { budgets: { policy: "hard" } }));
    // Two answers at $0.026, then $0.06 a day: the next request's estimate ($0.026) does not fit the $0.008 left.
    await pi(ev!.agentDir, "one", "two", "/auto-router budget set mock-a 0.06");
    const run = await pi(ev2!.agentDir, "three", "/auto-router budget", "/auto-router status");
    assert.equal(run.stdout.trim(), "Hello from B.");
    assert.match(
      run.stderr,
      /^mock-a: BLOCKED: a request's estimate ~\$0\.026 does not fit the \$0\.008 left of its hard daily limit \$0\.06 set with \/auto-router budget set \(spent \$0\.052, /m,
    );
    assert.match(
      run.stderr,
      /^warnings: .*budget mock-a blocked: a request's estimate ~\$0\.026 does not fit the \$0\.008 left of its daily limit set with \/auto-router budget set/m,
    );
    await assertGatewaySeesBlocked(ev2!.agentDir, /left of its daily limit set with \/auto-router budget set/);
  });

  for (const backend of ["redis", "file"] as const)
    it(`lists a provider whose hard budget refuses every request as over budget (${backend} store)`, async () => {
      team.primary.reset();
      team.secondary.reset();
      team.secondary.setDefault({ text: "Hello from B." });
      const prefix = `par:refused-${backend}:`;
      // $0.01 a day: a request's estimate (its prompt and 1,000 output tokens at $2000/1M) does not fit.
      const dir = team.machine(`rf-${backend}`, prefix, {
        budgets: { policy: "hard", providers: { "mock-a": { daily: 0.01 } } },
        ...(backend === "file" ? { state: { backend: "file" } } : {}),
      });
      const run = await pi(dir.agentDir, "hello", "/auto-router budget", "/auto-router list");
      assert.equal(run.stdout.trim(), "Hello from B.");
      assert.equal(team.primary.calls.length, 0, "the hard budget refused mock-a's attempt");
      assert.match(run.stderr, /mock-a: BLOCKED: a request's estimate/);
      assert.match(run.stderr, /mock-a\/model-a\s.*\bover budget/);
      assert.match(run.stderr, /mock-b\/model-b\s.*\bready/);
      // The gateway's health page reads it as routing does: blocked, with the shortfall as the reason.
      await assertGatewaySeesBlocked(dir.agentDir, /a request's estimate .* does not fit/);
    });
});
