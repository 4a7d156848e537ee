// Team mode through real pi processes and gateways when the team store is misconfigured (a malformed URL, a database
// Redis lacks, a server that is not Redis, an eviction policy) or misbehaves (flushed while connected, hung): each
// machine has its own agent dir, all share one redis-server started by the test (test/e2e/team-mode.test.ts has the
// normal operation).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { STORE_DOWN_REFUSAL } from "../../src/team/redis-ledger.ts";
import { TEAM_MIRROR_PREFIX } from "../../src/team/state-backend.ts";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { opensslAvailable, startRedisServer } from "../helpers/redis-server.ts";
import { startTeam, type Team } from "../helpers/team-machines.ts";
import { eventually } from "../helpers/temp-and-workers.ts";

// The emulator's default usage is 12 input + 7 output tokens; at $1000/$2000 per 1M that is $0.026 per answer.
const COST_PER_ANSWER_USD = 0.026;
const COST = { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 };

describe("team mode: a team store that is misconfigured or misbehaves", () => {
  let team: Team;

  before(async () => {
    team = await startTeam({ cost: COST });
  });
  after(() => team.close());

  it("masks the whole login of a malformed state.url or AUTO_ROUTER_REDIS_URL, whatever the password holds", async () => {
    const port = team.redis.port;
    const malformed = [
      `redis://:Pa ss/wordSECRET@127.0.0.1:${port}/0`,
      `redis://router:my pass#wordSECRET@127.0.0.1:${port}/0`,
      `redis://router:12/wordSECRET@127.0.0.1:${port}/0`,
      // without "://": a typo that leaves no URL to parse
      `redis//router:wordSECRET@127.0.0.1:${port}/0`,
      `redis:/router:wordSECRET@127.0.0.1:${port}/0`,
    ];
    const fromFile = async (url: string) => {
      const dir = team.machine("leak1", "par:leak:", {
        state: { backend: "redis", url, keyPrefix: "par:leak:", machine: "leak1" },
      });
      const run = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router state", "/auto-router debug"],
      });
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      assert.match(
        shown,
        new RegExp(`state\\.url: expected .*got "redis(://)?\\*\\*\\*@127\\.0\\.0\\.1:${port}/0"`),
        url,
      );
      assert.match(shown, /not the team store: /, url);
      assert.doesNotMatch(shown, /wordSECRET|Pa ss|my pass/, url);
      // The debug report, made to be attached to a bug report, holds the config: its state.url masked too.
      const report = readFileSync(join(dir.agentDir, "extensions", "auto-router.debug-report.txt"), "utf8");
      assert.match(report, /"url":"redis(:\/\/)?\*\*\*@127/, url);
      // It says the file store serves, and why: the team store asked for is not used.
      assert.match(
        report,
        /## state\nstate backend: file store \(machine leak1\)\n {2}not the team store: \S+ at state\.url: expected /,
        url,
      );
      assert.doesNotMatch(report, /wordSECRET|Pa ss|my pass/, url);
    };
    const fromEnv = async (url: string) => {
      const run = await runPi({
        agentDir: team.machine("leak2", "par:leak:").agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router state"],
        env: { AUTO_ROUTER_REDIS_URL: url },
      });
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      assert.match(shown, /AUTO_ROUTER_REDIS_URL: expected .*got "redis(:\/\/)?\*\*\*@127/, url);
      assert.doesNotMatch(shown, /wordSECRET|Pa ss|my pass/, url);
    };
    // Every shape is masked by one function, unit-tested on all of them and from both sources
    // (test/unit/team-settings.test.ts); through pi, one shape with a parseable URL from the routes file and one
    // without "://" from the environment (a pi run costs seconds of CPU, and CI's time is near its limit).
    await fromFile(malformed[1]!);
    await fromEnv(malformed[3]!);
    const gateway = await startGatewayProcess({
      agentDir: team.machine("leak3", "par:leak:").agentDir,
      env: { AUTO_ROUTER_REDIS_URL: malformed[0] },
    });
    const health = await (
      await fetch(`${gateway.url}/health/providers`, { headers: { "x-api-key": gateway.token } })
    ).text();
    assert.equal(await gateway.stop(), 0, gateway.stderr());
    assert.match(gateway.stderr(), /AUTO_ROUTER_REDIS_URL: expected .*got "redis:\/\/\*\*\*@127/);
    for (const text of [gateway.stderr(), gateway.stdout(), health]) assert.doesNotMatch(text, /wordSECRET|Pa ss/);
  });

  it('says that a state.url without backend "redis" is not used, instead of silently sharing nothing', async () => {
    const prefix = "par:nobackend:";
    const dir = team.machine("nb1", prefix, { state: { url: team.redis.url, keyPrefix: prefix, machine: "nb1" } });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router state", "hello"],
    });
    assert.equal(run.code, 0, run.stderr);
    const warning =
      'auto-router.routes.json at state.url: names a team store, but state.backend is not "redis": using the file store; add "backend": "redis" to the state block to use it (or set AUTO_ROUTER_REDIS_URL)';
    assert.ok(run.stderr.includes(`auto-router: warning: ${join(dir.agentDir, "extensions", warning)}`), run.stderr);
    assert.match(run.stderr, /state backend: file store \(machine nb1\)\n {2}not the team store: .*names a team store/);
    assert.equal(team.redis.cli("KEYS", `${prefix}*`), "", "nothing was written to the team store");
    // "backend": "file" next to a URL is a choice (team mode switched off): nothing to say.
    const off = team.machine("nb2", prefix, {
      state: { backend: "file", url: team.redis.url, keyPrefix: prefix, machine: "nb2" },
    });
    const quiet = await runPi({
      agentDir: off.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router state"],
    });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /names a team store|not the team store/);
  });

  it("works quietly for an ACL user refused INFO (-@dangerous): no ioredis line on pi's screen, no warning", async () => {
    const prefix = "par:no-info:";
    team.redis.cli("ACL", "SETUSER", "careful", "on", ">careful-pass-2", `~${prefix}*`, `&${prefix}changed`);
    team.redis.cli("ACL", "SETUSER", "careful", "+@all", "-@dangerous");
    const url = team.redis.url.replace("redis://", "redis://careful:careful-pass-2@");
    const dir = team.machine("ni1", prefix, { state: { backend: "redis", url, keyPrefix: prefix, machine: "ni1" } });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "hello", "/auto-router state"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /connection: connected\n/);
    assert.doesNotMatch(run.stderr, /ready check|NOPERM|refused|auto-router: team store/);
    await eventually(() => teamRequests(prefix) === 1, "the answer is in the team store");
  });

  it("says that state push pushed nothing while Redis refuses the login, not that it is unreachable", async () => {
    const prefix = "par:push-refused:";
    team.redis.cli("ACL", "SETUSER", "pusher", "on", ">right-pass-4", `~${prefix}*`, `&${prefix}changed`, "+@all");
    const url = team.redis.url.replace("redis://", "redis://pusher:wrong-pass-4@");
    const dir = team.machine("pr1", prefix, { state: { backend: "redis", url, keyPrefix: prefix, machine: "pr1" } });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router state push"],
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      /\/auto-router state push failed: the team store redis:\/\/pusher:\*\*\*@127\.0\.0\.1:\d+\/0 is not connected \(WRONGPASS [^)]*: check the user and password in state\.url \(or AUTO_ROUTER_REDIS_URL\)\): nothing was pushed; run it again once \/auto-router state shows it connected/,
    );
    assert.doesNotMatch(run.stderr, /not reachable|unreachable|wrong-pass-4/);
    assert.equal(team.redis.cli("KEYS", `${prefix}*`), "");
  });

  it("says that Redis refuses the login when a password changed on the server breaks a running gateway's connection", async () => {
    const prefix = "par:changed-pass:";
    team.redis.cli("ACL", "SETUSER", "changer", "on", ">first-pass-6", `~${prefix}*`, `&${prefix}changed`, "+@all");
    const url = team.redis.url.replace("redis://", "redis://changer:first-pass-6@");
    const masked = url.replace("first-pass-6", "***");
    const dir = team.machine("cp1", prefix, { state: { backend: "redis", url, keyPrefix: prefix, machine: "cp1" } });
    const gateway = await startGatewayProcess({ agentDir: dir.agentDir });
    try {
      await askGateway(gateway, "hello");
      await eventually(async () => (await stateBackend(gateway)).connection === "connected", "connected");
      // The password changes on the server; the running connections stay logged in until they are cut.
      team.redis.cli("ACL", "SETUSER", "changer", "resetpass", ">second-pass-6");
      team.redis.cli("CLIENT", "KILL", "USER", "changer");
      const refused = `auto-router: team store ${masked} refuses this machine's login (WRONGPASS`;
      const times = () => gateway.stderr().split(refused).length - 1;
      await eventually(() => times() >= 1, "the refusal's own warning");
      assert.match(gateway.stderr(), /check the user and password in state\.url \(or AUTO_ROUTER_REDIS_URL\)/);
      // Said once, however often the reconnects are refused.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(times(), 1, gateway.stderr());
    } finally {
      assert.equal(await gateway.stop(), 0, gateway.stderr());
    }
    for (const text of [gateway.stderr(), gateway.stdout()]) assert.doesNotMatch(text, /first-pass-6|second-pass-6/);
  });

  it("masks a login written without its colon (a password where the user name goes), which Redis refuses", async () => {
    const prefix = "par:lone-login:";
    const url = team.redis.url.replace("redis://", "redis://Lone-Secret-5@");
    const dir = team.machine("ll1", prefix, { state: { backend: "redis", url, keyPrefix: prefix, machine: "ll1" } });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router state"],
    });
    const shown = run.stdout + run.stderr;
    assert.match(shown, /team store redis:\/\/\*\*\*@127\.0\.0\.1:\d+\/0 refuses this machine's login/, shown);
    assert.doesNotMatch(shown, /Lone-Secret-5/);
  });

  it("says in budget and list that a hard budget's spend is unknown while the team store is down (onStoreDown block)", async () => {
    const prefix = "par:down-block:";
    const dir = team.machine("db1", prefix, {
      // Nothing listens on port 1: the team store is down from the start.
      state: {
        backend: "redis",
        url: "redis://127.0.0.1:1/0",
        keyPrefix: prefix,
        machine: "db1",
        onStoreDown: "block",
      },
      budgets: { policy: "hard", providers: { "mock-a": { daily: 5 } } },
    });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router budget", "/auto-router list"],
    });
    const shown = run.stdout + run.stderr;
    // The table shows this machine's view ($0.00 of $5.00); the line under it says the budget blocks anyway.
    assert.match(
      shown,
      /^mock-a: BLOCKED, spend unknown: the team store is down .*state\.onStoreDown: block\)$/m,
      shown,
    );
    assert.match(shown, /^\d+\s+\S+\s+mock-a\/model-a\s+spend unknown \(team store down\)\s+API key/m, shown);
    assert.doesNotMatch(shown, /over budget/);
  });

  it("says once, in its own words, that Redis asks for no password although the URL gives one", async () => {
    const prefix = "par:needless-password:";
    const url = team.redis.url.replace("redis://", "redis://:Needless-Pass-7@");
    const dir = team.machine("np1", prefix, { state: { backend: "redis", url, keyPrefix: prefix, machine: "np1" } });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "hello", "/auto-router state"],
    });
    assert.equal(run.code, 0, run.stderr);
    const masked = url.replace("Needless-Pass-7", "***");
    const warning = `auto-router: team store ${masked} asks for no password, but state.url (or AUTO_ROUTER_REDIS_URL) gives one: connected without it (anyone who reaches this Redis can read and change the team's state); set requirepass or an ACL user on the server, or take the password out of the URL`;
    assert.equal(run.stderr.split(warning).length, 2, run.stderr);
    // Not ioredis' own line, printed raw on pi's screen once per connection.
    assert.doesNotMatch(run.stderr, /\[WARN\]|does not require a password/);
    assert.match(run.stderr, /connection: connected/);
    assert.doesNotMatch(run.stdout + run.stderr, /Needless-Pass-7/);
  });

  /** The team's requests of one provider today, as Redis holds them. */
  const teamRequests = (keyPrefix: string, provider = "mock-a") =>
    Number(
      team.redis.cli(
        "HGET",
        `${keyPrefix}usage:day:${calendarKeys(Date.now(), undefined).day}`,
        `${provider}|*|requests`,
      ) || "0",
    );
  const askGateway = async (gateway: { url: string; token: string }, prompt: string) => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${gateway.token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "main", messages: [{ role: "user", content: prompt }] }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    await response.json();
  };
  const providersHealth = async (gateway: { url: string; token: string }) =>
    (await (await fetch(`${gateway.url}/health/providers`, { headers: { "x-api-key": gateway.token } })).json()) as any;
  const stateBackend = async (gateway: { url: string; token: string }) => (await providersHealth(gateway)).stateBackend;

  it("notices a FLUSHDB of the live Redis while gateways stay connected, and re-seeds the team's spend", async () => {
    const prefix = "par:flushed:";
    const machines = ["fl1", "fl2"].map((name) => team.machine(name, prefix));
    const gateways = await Promise.all(machines.map(({ agentDir }) => startGatewayProcess({ agentDir })));
    /** A gateway's view of the team's requests today, as its mirror file holds it. */
    const viewRequests = (agentDir: string) => {
      try {
        const ledger = JSON.parse(
          readFileSync(join(agentDir, "extensions", `auto-router.${TEAM_MIRROR_PREFIX}usage.json`), "utf8"),
        );
        const models = ledger.days[calendarKeys(Date.now(), undefined).day]?.["mock-a"] ?? {};
        return Object.values(models).reduce((sum: number, totals: any) => sum + totals.requests, 0);
      } catch {
        return 0; // not written yet
      }
    };
    try {
      for (const gateway of gateways)
        await eventually(async () => (await stateBackend(gateway)).connection === "connected", "connected");
      for (let i = 0; i < 5; i++) for (const gateway of gateways) await askGateway(gateway, `before ${i}`);
      await eventually(() => teamRequests(prefix) === 10, "the 10 answers are in the team store");
      // Both gateways' views hold the 10 answers before Redis is emptied under them (no reconnect): what one wrote in
      // the moment before the flush and the other had not yet read is what README says can be lost.
      for (const { agentDir } of machines)
        await eventually(() => viewRequests(agentDir) === 10, `the view of ${agentDir} holds the 10 answers`);
      team.redis.cli("FLUSHDB");
      for (let i = 0; i < 5; i++) for (const gateway of gateways) await askGateway(gateway, `after ${i}`);
      await eventually(() => teamRequests(prefix) === 20, "the team store holds all 20 answers again").catch(
        (error: Error) => {
          throw new Error(
            `${error.message} (it holds ${teamRequests(prefix)})\n${gateways.map((g) => g.stderr()).join("\n")}`,
          );
        },
      );
      assert.ok(
        Math.abs(
          Number(
            team.redis.cli("HGET", `${prefix}usage:day:${calendarKeys(Date.now(), undefined).day}`, "mock-a|*|costUsd"),
          ) -
            20 * COST_PER_ANSWER_USD,
        ) < 1e-9,
      );
      assert.match(
        gateways.map((g) => g.stderr()).join("\n"),
        /team store redis:\/\/127\.0\.0\.1:\d+\/0 lost its data while connected/,
      );
      // And a pi started now sees the team's whole spend.
      const shown = await runPi({
        agentDir: team.machine("fl3", prefix).agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router budget"],
      });
      // The month's row: a run across midnight UTC shows the same spend under yesterday, and today's row empty.
      assert.match(shown.stdout + shown.stderr, /^mock-a +today .*\n +month +\$\S+ +\S+ +\S+ +20$/m);
    } finally {
      for (const gateway of gateways) assert.equal(await gateway.stop(), 0, gateway.stderr());
    }
  });

  it("says a Redis restarted without persistence between two runs lost its data since the last sync, not while connected", async () => {
    const prefix = "par:restarted:";
    const dir = team.machine("rs1", prefix);
    const first = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", "spend once"] });
    assert.equal(first.code, 0, first.stderr);
    await eventually(() => teamRequests(prefix) === 1, "the first answer is in the team store");
    await team.redis.restart(); // it saves nothing: it comes back empty
    const next = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router budget"],
    });
    assert.equal(next.code, 0, next.stderr);
    const shown = next.stdout + next.stderr;
    assert.match(
      shown,
      /team store redis:\/\/127\.0\.0\.1:\d+\/0 lost its data since this machine last synced \(restarted without persistence, flushed or evicted\); re-seeded from the machines' views/,
    );
    assert.doesNotMatch(shown, /while connected|maxmemory-policy/);
    await eventually(() => teamRequests(prefix) === 1, "the machine's view is written back");
  });

  it("says when Redis is full and refuses writes, keeps the spend meanwhile, and counts it exactly once it has room", async () => {
    const prefix = "par:full:";
    const gateway = await startGatewayProcess({ agentDir: team.machine("full-gw", prefix).agentDir });
    const piMachine = team.machine("full-pi", prefix);
    const costOf = () =>
      Number(
        team.redis.cli("HGET", `${prefix}usage:day:${calendarKeys(Date.now(), undefined).day}`, "mock-a|*|costUsd"),
      );
    try {
      await eventually(async () => (await stateBackend(gateway)).connection === "connected", "connected");
      await askGateway(gateway, "before");
      await eventually(() => teamRequests(prefix) === 1, "the first answer is in the team store");
      // Full under noeviction (the setting the README asks for): every write is refused, reads still work.
      team.redis.cli("CONFIG", "SET", "maxmemory", "1");
      let fromPi: Awaited<ReturnType<typeof runPi>>;
      try {
        // A gateway connected before Redis filled up: its write waits, and its status says why.
        await askGateway(gateway, "while full");
        await eventually(
          async () => /Redis is out of memory and refuses writes/.test((await stateBackend(gateway)).lastError ?? ""),
          "the gateway's status names the full Redis",
        );
        // A pi started while Redis is full: it answers, and says so once, and its status too.
        fromPi = await runPi({
          agentDir: piMachine.agentDir,
          args: ["--model", "auto-router/main", "-p", "while full, from pi", "/auto-router state"],
        });
      } finally {
        team.redis.cli("CONFIG", "SET", "maxmemory", "0");
      }
      assert.equal(fromPi.code, 0, fromPi.stderr);
      const shown = fromPi.stdout + fromPi.stderr;
      assert.equal(
        shown.match(
          /team store redis:\/\/127\.0\.0\.1:\d+\/0: Redis is out of memory and refuses writes \(used memory > maxmemory, with maxmemory-policy noeviction\): raise maxmemory or free memory in Redis; this machine keeps its spend and state changes/g,
        )?.length,
        1,
        shown,
      );
      assert.match(shown, /connection: \w+ \(Redis is out of memory and refuses writes/);
      assert.match(gateway.stderr(), /Redis is out of memory and refuses writes/);
      // Room again: whatever waited is written (a ledger script whose first write Redis lets through runs whole, so
      // some spend may already be in), the pi machine's at its next start; each answer counted once.
      await eventually(() => teamRequests(prefix) >= 2, "the gateway's answers are in the team store");
      const next = await runPi({ agentDir: piMachine.agentDir, args: ["--model", "auto-router/main", "-p", "after"] });
      assert.equal(next.code, 0, next.stderr);
      await eventually(() => teamRequests(prefix) === 4, "the pi machine wrote what waited, and its new answer");
      assert.ok(Math.abs(costOf() - 4 * COST_PER_ANSWER_USD) < 1e-9, String(costOf()));
      assert.doesNotMatch(next.stderr, /another machine changed/);
    } finally {
      assert.equal(await gateway.stop(), 0, gateway.stderr());
    }
  });

  it("lets a pi -p run exit while Redis hangs, and its next start writes the spend it could not", async () => {
    const prefix = "par:hungpi:";
    const dir = team.machine("hp1", prefix);
    const first = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", "before"] });
    assert.equal(first.code, 0, first.stderr);
    await eventually(() => teamRequests(prefix) === 1, "the first answer is in the team store");
    team.redis.pause();
    let during: Awaited<ReturnType<typeof runPi>>;
    try {
      // Redis stays stopped until pi has exited: a pi waiting for it would be killed by the run's timeout.
      during = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "during the hang"],
        timeoutMs: 60_000,
      });
    } finally {
      team.redis.resume();
    }
    assert.equal(during.code, 0, during.stderr);
    assert.match(during.stdout, /./);
    assert.doesNotMatch(during.stderr, /MaxListenersExceeded/);
    assert.equal(teamRequests(prefix), 1, "the answer given during the hang was not written");
    const next = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router budget"],
    });
    assert.equal(next.code, 0, next.stderr);
    await eventually(() => teamRequests(prefix) === 2, "the next start writes the kept answer");
  });

  it("says what to change when state.url's TLS does not match the server's, not that Redis is unreachable", {
    skip: !opensslAvailable() && "openssl is not installed (it makes the TLS Redis's certificate)",
  }, async () => {
    const prefix = "par:tls:";
    const tlsRedis = await startRedisServer({ tls: true });
    const machine = (name: string, url: string) =>
      team.machine(name, prefix, { state: { backend: "redis", url, keyPrefix: prefix, machine: name } });
    const state = (agentDir: string, env: Record<string, string> = {}) =>
      runPi({ agentDir, args: ["--model", "auto-router/main", "-p", "/auto-router state"], env });
    try {
      // Its certificate is self-signed: not trusted, until Node is given it as a CA, as the warning says.
      const dir = machine("tls1", tlsRedis.url).agentDir;
      const untrusted = await state(dir);
      assert.equal(untrusted.code, 0, untrusted.stderr);
      const notTrusted =
        "self-signed certificate: give Node the CA that signed it, NODE_EXTRA_CA_CERTS=<ca.pem> in the environment of pi (or the gateway)";
      assert.ok(
        untrusted.stderr.includes(
          `auto-router: team store ${tlsRedis.url} has a TLS certificate this machine does not trust (${notTrusted})`,
        ),
        untrusted.stderr,
      );
      assert.ok(untrusted.stderr.includes(`connection: down (${notTrusted})`), untrusted.stderr);
      assert.doesNotMatch(untrusted.stderr, /unreachable/);
      const trusted = await state(dir, { NODE_EXTRA_CA_CERTS: tlsRedis.caFile! });
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.match(trusted.stderr, /connection: connected/);

      // redis:// for a Redis that takes only TLS: it closes the connection at the first command.
      const plainUrl = tlsRedis.url.replace("rediss://", "redis://");
      const plain = await state(machine("tls2", plainUrl).agentDir);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(
        plain.stderr,
        new RegExp(
          `team store ${plainUrl.replaceAll(".", "\\.")} closes the connection before answering \\((read|write) ECONNRESET: a Redis that takes only TLS does so; if it does, use rediss:// in state\\.url \\(or AUTO_ROUTER_REDIS_URL\\)\\)`,
        ),
      );
      assert.doesNotMatch(plain.stderr, /unreachable/);
    } finally {
      await tlsRedis.stop();
    }

    // rediss:// for the team's Redis, which has no TLS: it never answers the TLS hello.
    const tlsUrl = team.redis.url.replace("redis://", "rediss://");
    const gateway = await startGatewayProcess({ agentDir: machine("tls3", tlsUrl).agentDir });
    try {
      const noTls = `connect ETIMEDOUT: no TLS handshake within 2 s; if this Redis does not take TLS, use redis:// in state.url (or AUTO_ROUTER_REDIS_URL)`;
      await eventually(async () => (await stateBackend(gateway)).lastError === noTls, "the gateway says why");
      await eventually(
        () => gateway.stderr().includes(`team store ${tlsUrl} does not answer (${noTls})`),
        "the gateway warns",
      );
      assert.doesNotMatch(gateway.stderr(), /unreachable/);
    } finally {
      assert.equal(await gateway.stop(), 0, gateway.stderr());
    }
  });

  it("says that Redis refuses the URL's ACL user its change notices (Redis 7 grants a new user no channel), and the grant that fixes it", async () => {
    const prefix = "par:acl:";
    // The user an admin makes from the README's advice: every command on the team's keys; Redis 7 adds no channel.
    team.redis.cli("ACL", "SETUSER", "router", "on", ">router-pass-5", `~${prefix}*`, "+@all");
    const url = team.redis.url.replace("redis://", "redis://router:router-pass-5@");
    const masked = url.replace("router-pass-5", "***");
    const machine = (name: string) =>
      team.machine(name, prefix, { state: { backend: "redis", url, keyPrefix: prefix, machine: name } });
    const refused = `refused a command to this machine's Redis user (NOPERM this user has no permissions to access one of the channels used as arguments): the team's changes reach the machines only at their re-check every 5 s, not at once; grant the user the team's channel, e.g. ACL SETUSER router &${prefix}changed`;
    const gateway = await startGatewayProcess({ agentDir: machine("acl1").agentDir });
    try {
      await askGateway(gateway, "hello");
      await eventually(async () => (await stateBackend(gateway)).lastError === refused, "the health page says why");
      assert.equal((await stateBackend(gateway)).connection, "connected");
      assert.equal(gateway.stderr().split(`auto-router: team store ${masked} ${refused}`).length, 2, gateway.stderr());
      // The grant the warning names is enough, with the gateway left running: its re-check (every 5 s) subscribes
      // again, and the status stops advising it (before, only a reconnect subscribed, and the advice stayed).
      team.redis.cli("ACL", "SETUSER", "router", `&${prefix}changed`);
      await eventually(
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 250)); // the re-check comes every 5 s: asked less often
          return (await stateBackend(gateway)).lastError === undefined;
        },
        "the advice ends once the channel is granted",
        40,
      );
      assert.equal(team.redis.cli("PUBSUB", "NUMSUB", `${prefix}changed`).split("\n")[1], "1", "subscribed");
    } finally {
      assert.equal(await gateway.stop(), 0, gateway.stderr());
    }
    for (const text of [gateway.stderr(), gateway.stdout()]) assert.doesNotMatch(text, /router-pass-5/);
    const granted = await runPi({
      agentDir: machine("acl2").agentDir,
      args: ["--model", "auto-router/main", "-p", "hello", "/auto-router state"],
    });
    assert.equal(granted.code, 0, granted.stderr);
    assert.match(granted.stderr, /connection: connected\n/);
    assert.doesNotMatch(granted.stderr, /refused|NOPERM/);
  });

  it("says that Redis answers but refuses a user without @write, not that it is still connecting, and syncs once granted", async () => {
    const prefix = "par:nowrite:";
    const url = team.redis.aclUser("nowrite", "nowrite-pass-6", prefix, "+@all", "-@write");
    // A hard budget that fails closed while the team's spend is unknown, which it is while Redis refuses the writes.
    const machine = (name: string) =>
      team.machine(name, prefix, {
        state: { backend: "redis", url, keyPrefix: prefix, machine: name, onStoreDown: "block" },
        budgets: { policy: "hard", providers: { "mock-a": { daily: 5 } } },
      });
    const gateway = await startGatewayProcess({ agentDir: machine("nw1").agentDir });
    const mockA = async () =>
      (await providersHealth(gateway)).providers.find((line: any) => line.provider === "mock-a").budget;
    try {
      await eventually(async () => (await stateBackend(gateway)).connection === "refused", "the state says refused");
      assert.equal(
        (await stateBackend(gateway)).lastError,
        "Redis answers, but refused a command to this machine's Redis user (NOPERM this user has no permissions to run the 'set' command); grant the user the commands, e.g. ACL SETUSER nowrite +@all; the sync is tried again every 1 s, so the grant needs no restart",
      );
      // Blocked as while the store is down (a reservation is refused so meanwhile), and marked on pi's status line
      // (`status` lists its warnings); before, neither said so.
      assert.deepEqual(await mockA(), { level: "blocked", detail: STORE_DOWN_REFUSAL });
      const refused = await runPi({
        agentDir: machine("nw2").agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router state", "/auto-router status"],
      });
      assert.match(refused.stderr, /^ {2}connection: refused \(Redis answers, but refused/m, refused.stderr);
      assert.match(refused.stderr, /^warnings: team store down(, |$)/m, refused.stderr);
      // The grant it names, with the gateway left running: no request, no restart.
      team.redis.cli("ACL", "SETUSER", "nowrite", "+@all");
      await eventually(async () => (await stateBackend(gateway)).connection === "connected", "connected once granted");
      assert.notEqual(team.redis.cli("GET", `${prefix}epoch`), "", "the sync wrote the team's epoch");
      // Granted: the status no longer advises the grant, and the budget counts the team's spend again.
      assert.equal((await stateBackend(gateway)).lastError, undefined);
      assert.equal((await mockA()).level, "ok");
    } finally {
      assert.equal(await gateway.stop(), 0, gateway.stderr());
    }
  });

  it("says why a server that accepts the connection and drops it is down, not in ioredis' words", async () => {
    // A TCP proxy whose Redis is gone: it accepts each connection and closes it at once.
    let accepted = 0;
    const dropping = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => dropping.listen(0, "127.0.0.1", resolve));
    const url = `redis://127.0.0.1:${(dropping.address() as AddressInfo).port}/0`;
    const gateway = await startGatewayProcess({
      agentDir: team.machine("drop1", "par:drop:").agentDir,
      env: { AUTO_ROUTER_REDIS_URL: url },
    });
    try {
      await eventually(async () => (await stateBackend(gateway)).lastError !== undefined, "the gateway says why");
      // Several reconnects: each says why, none "Stream isn't writeable and enableOfflineQueue options is false".
      const reasons = new Set<string>();
      for (let sample = 0; sample < 40; sample++) {
        const status = await stateBackend(gateway);
        assert.equal(status.connection, "down");
        reasons.add(status.lastError);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (const reason of reasons) assert.match(reason, /^(read ECONNRESET|write EPIPE|write ECONNRESET)\b/, reason);
      // Said once, however many reconnects reset or break the pipe (it was said again each time the two alternated).
      await eventually(() => accepted >= 8, "the gateway reconnected several times");
      const warning = new RegExp(
        `team store ${url.replaceAll(".", "\\.")} closes the connection before answering`,
        "g",
      );
      assert.equal(gateway.stderr().match(warning)?.length, 1, gateway.stderr());
      assert.doesNotMatch(gateway.stderr(), /enableOfflineQueue|Stream isn't writeable/);
    } finally {
      assert.equal(await gateway.stop(), 0, gateway.stderr());
      await new Promise<void>((resolve) => dropping.close(() => resolve()));
    }
  });

  it("says a connection that answered and closed under the first sync was lost, not that Redis is unreachable", async () => {
    // A proxy to the live Redis that closes the connection as the team's epoch is written: the handshake passed.
    const prefix = "par:dropsync:";
    let dropped = 0;
    const proxy = createServer((socket) => {
      const upstream = connect(team.redis.port, "127.0.0.1");
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
      socket.on("data", (chunk) => {
        if (!chunk.includes(`${prefix}epoch`)) return upstream.write(chunk);
        dropped++;
        socket.destroy();
        upstream.destroy();
      });
      upstream.on("data", (chunk) => socket.write(chunk));
      upstream.on("close", () => socket.destroy());
      socket.on("close", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const url = `redis://127.0.0.1:${(proxy.address() as AddressInfo).port}/0`;
    const gateway = await startGatewayProcess({
      agentDir: team.machine("ds1", prefix).agentDir,
      env: { AUTO_ROUTER_REDIS_URL: url },
    });
    try {
      await eventually(() => dropped >= 2, "the sync was sent and dropped again after the reconnect");
      assert.match(gateway.stderr(), new RegExp(`team store ${url.replaceAll(".", "\\.")} lost;`));
      assert.doesNotMatch(gateway.stderr(), /unreachable/);
    } finally {
      assert.equal(await gateway.stop(), 0, gateway.stderr());
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it("counts a Redis that accepts connections but never answers as down, says so once, and syncs once it answers", async () => {
    const prefix = "par:silent:";
    const dir = team.machine("sl1", prefix, { budgets: { policy: "hard", providers: { "mock-a": { daily: 5 } } } });
    const silent = /no answer from 127\.0\.0\.1:\d+ within 2 s: connected, but the server never answered/;
    // Stopped before pi starts: the kernel accepts the connections, redis-server never answers them.
    team.redis.pause();
    let during: Awaited<ReturnType<typeof runPi>>;
    try {
      during = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "while silent", "/auto-router state", "/auto-router explain"],
        timeoutMs: 60_000,
      });
    } finally {
      team.redis.resume();
    }
    assert.equal(during.code, 0, during.stderr);
    const shown = during.stdout + during.stderr;
    assert.equal(
      shown.match(new RegExp(`team store redis://127\\.0\\.0\\.1:\\d+/0 does not answer \\(${silent.source}\\)`, "g"))
        ?.length,
      1,
      shown,
    );
    assert.match(shown, new RegExp(`connection: down \\(${silent.source}\\)`));
    // The hard budget's check agrees with the state: the spend is unknown because the store is down.
    assert.match(shown, /mock-a\/model-a[^\n]*the team store is down/);
    assert.match(during.stdout, /Hello from B/);
    assert.equal(teamRequests(prefix, "mock-b"), 0, "nothing was written while Redis was silent");
    // A gateway started while Redis is silent shows it down, and syncs once Redis answers again.
    team.redis.pause();
    const gateway = await startGatewayProcess({ agentDir: dir.agentDir });
    try {
      await eventually(async () => (await stateBackend(gateway)).connection === "down", "the gateway counts it down");
      assert.match((await stateBackend(gateway)).lastError, silent);
      team.redis.resume();
      await eventually(async () => (await stateBackend(gateway)).connection === "connected", "the gateway syncs");
      await eventually(() => teamRequests(prefix, "mock-b") === 1, "the pi run's answer is written by the gateway");
      // Said once the views are synced, which is after the replayed answer is written: it may reach stderr just after.
      await eventually(() => /reachable again/.test(gateway.stderr()), "the gateway says Redis is reachable again");
      assert.equal(gateway.stderr().match(/does not answer/g)?.length, 1, gateway.stderr());
    } finally {
      team.redis.resume();
      assert.equal(await gateway.stop(), 0, gateway.stderr());
    }
  });

  it("refuses a database number the Redis does not have, says so, and writes nothing to another database", async () => {
    const prefix = "par:wrongdb:";
    const url = `redis://127.0.0.1:${team.redis.port}/99`; // redis-server has 16 databases
    const dir = team.machine("db99", prefix, { state: { backend: "redis", url, keyPrefix: prefix, machine: "db99" } });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "spend on db 99", "/auto-router state"],
    });
    assert.equal(run.code, 0, run.stderr);
    const shown = run.stdout + run.stderr;
    assert.match(
      shown,
      /team store redis:\/\/127\.0\.0\.1:\d+\/99 cannot be used: state\.url \(or AUTO_ROUTER_REDIS_URL\) names database 99, which this Redis does not have \(ERR DB index is out of range\)/,
    );
    assert.match(shown, /connection: down \(state\.url .*names database 99/);
    assert.doesNotMatch(shown, /reachable again|connection: connected/);
    for (const db of ["0", "15"])
      assert.equal(team.redis.cli("-n", db, "--scan", "--pattern", `${prefix}*`), "", `db ${db}`);
  });

  it("says that the server at state.url is not a Redis server when it answers with another protocol", async () => {
    const prefix = "par:notredis:";
    const port = new URL(team.primary.url).port; // the emulated provider: an HTTP server
    const url = `redis://127.0.0.1:${port}/0`;
    const dir = team.machine("nr1", prefix, { state: { backend: "redis", url, keyPrefix: prefix, machine: "nr1" } });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "hi", "/auto-router state"],
    });
    assert.equal(run.code, 0, run.stderr);
    const shown = run.stdout + run.stderr;
    assert.match(
      shown,
      new RegExp(`the server at redis://127\\.0\\.0\\.1:${port}/0 is not a Redis server \\(it answered with "H"`),
    );
    assert.match(shown, /connection: down \(the server at .* is not a Redis server/);
    assert.doesNotMatch(shown, /Protocol error|Please report this|Stream isn't writeable/);
  });

  it("warns at connect that a Redis with maxmemory and an eviction policy may evict the team state", async () => {
    const dir = team.machine("ev1", "par:evict:");
    team.redis.cli("CONFIG", "SET", "maxmemory", "200mb");
    team.redis.cli("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
    let run: Awaited<ReturnType<typeof runPi>>;
    try {
      run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", "/auto-router state"] });
    } finally {
      team.redis.cli("CONFIG", "SET", "maxmemory-policy", "noeviction");
      team.redis.cli("CONFIG", "SET", "maxmemory", "0");
    }
    assert.equal(run.code, 0, run.stderr);
    const shown = run.stdout + run.stderr;
    assert.match(
      shown,
      /runs with maxmemory-policy allkeys-lru \(maxmemory 209715200 bytes\): Redis may evict the team state/,
    );
    assert.match(shown, /run it with maxmemory-policy noeviction/);
    assert.match(shown, /connection: connected/);
    const quiet = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router state"],
    });
    assert.doesNotMatch(quiet.stdout + quiet.stderr, /maxmemory-policy/);
  });
});
