// Team mode through real pi processes: each pi runs with its own agent dir (a machine of its own), all share one
// redis-server started by the test. Spend, cooldowns and the fault behaviour are checked on what the team store
// holds and what the emulated providers served.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { parseLedger, providerSpend } from "../../src/budget/usage-ledger.ts";
import OpenAI from "openai";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import { REPO_ROOT } from "../helpers/agent-dir.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { RedisServer } from "../helpers/redis-server.ts";
import { promptAtOnce, startRpc, type RpcClient } from "../helpers/rpc-client.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { startTeam, type Team } from "../helpers/team-machines.ts";
import { eventually } from "../helpers/temp-and-workers.ts";
import { readLoggedEvents } from "../helpers/event-log.ts";

// The emulator's default usage is 12 input + 7 output tokens; at $1000/$2000 per 1M that is $0.026 per answer.
const COST_PER_ANSWER_USD = 0.026;
const COST = { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 };

describe("team mode: several pi machines share one Redis", () => {
  let team: Team;
  let redis: RedisServer;
  let primary: Emulator;
  let secondary: Emulator;

  before(async () => {
    team = await startTeam({ password: "team-pass-9", cost: COST });
    ({ redis, primary, secondary } = team);
  });
  after(() => team.close());
  const machine: Team["machine"] = (...args) => team.machine(...args);

  /** The team's totals of one provider today and this month, as Redis holds them: one field per period hash. */
  const teamSpend = (keyPrefix: string, provider: string) => {
    const keys = calendarKeys(Date.now(), undefined);
    const read = (hash: string, metric: string) =>
      Number(redis.cli("HGET", `${keyPrefix}usage:${hash}`, `${provider}|*|${metric}`) || "0");
    const period = (hash: string) => ({ requests: read(hash, "requests"), costUsd: read(hash, "costUsd") });
    return { day: period(`day:${keys.day}`), month: period(`month:${keys.month}`) };
  };
  const spendOf = (ledger: ReturnType<typeof parseLedger>, provider: string) =>
    providerSpend(ledger, calendarKeys(Date.now(), undefined), provider);
  /** A machine's events as the analytics scripts read them (a request's follow-up lines get its decision's machine). */
  const events = (agentDir: string): any[] => readLoggedEvents(agentDir);

  it("adds up the spend of 3 pi machines and 1 gateway x 10 prompts to the cent, and names the machine in each machine's events", async () => {
    primary.reset();
    const prefix = "par:spend:";
    const machines = ["m1", "m2", "m3", "g1"].map((name) => ({ name, dir: machine(name, prefix) }));
    const gatewayMachine = machines[3]!;
    const gateway = await startGatewayProcess({ agentDir: gatewayMachine.dir.agentDir });
    try {
      const prompts = Array.from({ length: 10 }, (_, index) => `prompt ${index + 1}`);
      const viaGateway = async () => {
        for (const prompt of prompts) {
          const response = await fetch(`${gateway.url}/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${gateway.token}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "main", messages: [{ role: "user", content: prompt }] }),
          });
          assert.equal(response.status, 200, await response.clone().text());
          assert.equal(response.headers.get("x-auto-router-served-by"), "mock-a/model-a");
          await response.json();
        }
      };
      const runs = await Promise.all([
        ...machines.slice(0, 3).map((m) =>
          runPi({
            agentDir: m.dir.agentDir,
            args: ["--model", "auto-router/main", "-p", ...prompts],
            timeoutMs: 120_000,
          }),
        ),
        viaGateway(),
      ]);
      for (const run of runs) if (run) assert.equal(run.code, 0, run.stderr);
      // The gateway's health page shows the team store it shares with the pi machines, without the password.
      const health = (await (
        await fetch(`${gateway.url}/health/providers`, { headers: { "x-api-key": gateway.token } })
      ).json()) as any;
      assert.equal(health.stateBackend.backend, "redis");
      assert.equal(health.stateBackend.machine, "g1");
      assert.equal(health.stateBackend.connection, "connected");
      assert.equal(health.stateBackend.url, `redis://:***@127.0.0.1:${redis.port}/0`);
      assert.doesNotMatch(JSON.stringify(health), /team-pass-9/);
    } finally {
      assert.equal(await gateway.stop(), 0, gateway.stderr());
    }
    assert.equal(primary.calls.length, 40);
    const spend = teamSpend(prefix, "mock-a");
    assert.equal(spend.day.requests, 40);
    assert.equal(spend.month.requests, 40);
    assert.equal(spend.day.costUsd.toFixed(2), (40 * COST_PER_ANSWER_USD).toFixed(2));
    assert.ok(Math.abs(spend.day.costUsd - 40 * COST_PER_ANSWER_USD) < 1e-9, String(spend.day.costUsd));
    assert.ok(Math.abs(spend.month.costUsd - 40 * COST_PER_ANSWER_USD) < 1e-9, String(spend.month.costUsd));
    for (const m of machines) {
      const own = events(m.dir.agentDir);
      assert.ok(own.length > 0);
      assert.ok(
        own.every((event) => event.machine === m.name),
        `${m.name}'s events name it`,
      );
      assert.equal(own.filter((event) => event.type === "usage").length, 10);
    }
    // The event logs stay one file per machine; the analytics scripts merge them with several --file arguments.
    const merged = spawnSync(
      process.execPath,
      [
        join(REPO_ROOT, "scripts", "routing-stats.mjs"),
        "--json",
        ...machines.flatMap((m) => ["--file", join(m.dir.agentDir, "extensions", "auto-router.events.jsonl")]),
      ],
      { encoding: "utf8", env: { ...process.env, HOME: machines[0]!.dir.agentDir } },
    );
    assert.equal(merged.status, 0, merged.stderr);
    assert.equal(JSON.parse(merged.stdout).stats.requests, 40);
    // A fresh machine whose first act is a command sees the team's spend, not its empty local view.
    const fresh = await runPi({
      agentDir: machine("m4", prefix).agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router budget"],
    });
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stdout + fresh.stderr, /mock-a\b[^\n]*\b40\b/);
    // No secret reaches the team store: neither the provider keys nor the Redis password.
    const everything = redis.cli(
      "--no-raw",
      "EVAL",
      "local out = {} for _, k in ipairs(redis.call('KEYS', ARGV[1])) do table.insert(out, k) if redis.call('TYPE', k).ok == 'hash' then for _, v in ipairs(redis.call('HGETALL', k)) do table.insert(out, v) end end end return table.concat(out, '\\n')",
      "0",
      `${prefix}*`,
    );
    assert.match(everything, /mock-a/);
    assert.doesNotMatch(everything, /sk-mock|team-pass-9|Bearer/);
  });

  it("makes the other machines skip a target that one machine found rate-limited", async () => {
    primary.reset();
    secondary.reset();
    const prefix = "par:cooldown:";
    const [one, two, three] = ["c1", "c2", "c3"].map((name) => machine(name, prefix));
    primary.enqueue({ status: 429, errorMessage: "rate limited", retryAfterSeconds: 600 });
    const first = await runPi({ agentDir: one!.agentDir, args: ["--model", "auto-router/main", "-p", "hello"] });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(primary.calls.length, 1, "machine 1 tried mock-a once");
    assert.equal(secondary.calls.length, 1, "and failed over to mock-b");
    const others = await Promise.all(
      [two!, three!].map((dir) =>
        runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", "hello again"] }),
      ),
    );
    for (const run of others) assert.equal(run.code, 0, run.stderr);
    assert.equal(primary.calls.length, 1, "machines 2 and 3 never called the cooled-down target");
    assert.equal(secondary.calls.length, 3);
    for (const dir of [two!, three!]) {
      const skipped = events(dir.agentDir).find((event) => event.type === "candidates")?.data.skipped ?? [];
      assert.ok(
        skipped.some((entry: any) => entry.key === "mock-a/model-a" && entry.reason === "cooldown"),
        JSON.stringify(skipped),
      );
    }
  });

  it("sends exactly one probe across all machines while a breaker is half-open", async () => {
    primary.reset();
    secondary.reset();
    const prefix = "par:breaker:";
    // A 1 ms break: the breaker is half-open as soon as it opened. Server errors cool nothing down here, so only
    // the breaker keeps the machines off mock-a.
    const extra = {
      breaker: { minimumCalls: 2, ratio: 0.5, breakMs: 1 },
      failover: { kinds: { server: { cooldownMs: 0 } } },
    };
    const [one, ...others] = ["b1", "b2", "b3", "b4"].map((name) => machine(name, prefix, extra));
    primary.enqueue({ status: 500, errorMessage: "boom" }, { status: 500, errorMessage: "boom" });
    const opening = await runPi({
      agentDir: one!.agentDir,
      args: ["--model", "auto-router/main", "-p", "first", "second"],
    });
    assert.equal(opening.code, 0, opening.stderr);
    assert.equal(primary.calls.length, 2);
    const breakerState = JSON.parse(redis.cli("HGET", `${prefix}state:breakers`, "json")).breakers["mock-a/model-a"];
    assert.equal(breakerState.state, "open", JSON.stringify(breakerState));
    // Three machines already running send their prompts in the same instant; the probe answers slowly, so every
    // machine decides while it is still in flight.
    const clients = await Promise.all(
      others.map((dir) => startRpc({ agentDir: dir.agentDir, args: ["--model", "auto-router/main"] })),
    );
    try {
      await Promise.all(clients.map((rpc) => rpc.request({ type: "get_state" })));
      primary.setDefault({ delayBeforeHeadersMs: 5_000, text: "probe answer" });
      await promptAtOnce(clients, "at once");
      assert.equal(primary.calls.length - 2, 1, "exactly one machine probed mock-a");
      assert.equal(
        secondary.calls.length,
        2 + 2,
        "the other two went to mock-b (after the two failovers of the opening run)",
      );
    } finally {
      await Promise.allSettled(clients.map((rpc) => rpc.close()));
    }
    primary.setDefault({});
  });

  it("lets exactly one of two machines sending at once through a hard budget that fits one more request", async () => {
    primary.reset();
    secondary.reset();
    const prefix = "par:hard:";
    const [one, two] = ["h1", "h2"].map((name) => machine(name, prefix, { budgets: { policy: "hard" } }));
    // One answer costs $0.026: after the first, $0.06 a day fits exactly one more ($0.052), not two ($0.078). The
    // limit is set by command on one machine, in the process of its first answer; the team store gives it to the
    // other, which has not run before the two send at once.
    const first = await runPi({
      agentDir: one!.agentDir,
      args: ["--model", "auto-router/main", "-p", "first", "/auto-router budget set mock-a 0.06 daily"],
    });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(primary.calls.length, 1);
    // A print-mode run may exit before its asynchronous team write: the change is kept in its view file and written
    // by the machine's next start.
    const shown = await runPi({
      agentDir: one!.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router budget"],
    });
    assert.match(shown.stdout + shown.stderr, /mock-a.*\$0\.06/);
    await eventually(
      () => /"daily":0\.06/.test(redis.cli("HGET", `${prefix}state:budget-limits`, "json")),
      "the limit is in the team store",
    );
    const clients = await Promise.all(
      [one!, two!].map((dir) => startRpc({ agentDir: dir.agentDir, args: ["--model", "auto-router/main"] })),
    );
    try {
      await Promise.all(clients.map((rpc) => rpc.request({ type: "get_state" })));
      // Slow answers: both machines decide and start while neither one's spend has been recorded.
      primary.setDefault({ delayBeforeHeadersMs: 2_000 });
      await promptAtOnce(clients, "at once");
    } finally {
      await Promise.allSettled(clients.map((rpc) => rpc.close()));
      primary.setDefault({});
    }
    assert.equal(primary.calls.length - 1, 1, "exactly one machine was let through to mock-a");
    assert.equal(secondary.calls.length, 1, "the other was refused by the budget and went to mock-b");
    const finals = [one!, two!].flatMap((dir) => events(dir.agentDir).filter((event) => event.type === "final"));
    const refused = finals.filter((event) =>
      (event.data.notes ?? []).some((note: string) =>
        /skipped mock-a\/model-a: hard daily budget: spent \$0\.026 \+ in flight \$0\.026/.test(note),
      ),
    );
    assert.equal(refused.length, 1, JSON.stringify(finals.map((event) => event.data)));
    const spend = teamSpend(prefix, "mock-a");
    assert.equal(spend.day.requests, 2);
    assert.equal(
      redis.cli("HLEN", `${prefix}usage:reserved:mock-a`),
      "0",
      "the served attempt's reservation ended with its usage",
    );
  });

  // DeepSeek's balance API answers 30.00 for an account in CNY: above no config floor (there is none) and below the
  // floor the command sets, which the other machine reads with its currency. (A floor in USD, the default currency,
  // is shared the same way; balance-cli.test.ts covers USD floors on one machine.)
  it("blocks a provider on every machine below a balance floor in CNY one machine set by command", async () => {
    const currency = "CNY";
    const row = /^deepseek\s+30\.00 CNY\s+40\.00 CNY \(set\) BLOCKED/m;
    primary.reset();
    secondary.reset();
    const balanceApi = createServer((_request, response) => {
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ is_available: true, balance_infos: [{ currency, total_balance: "30.00" }] }));
    });
    await new Promise<void>((resolve) => balanceApi.listen(0, "127.0.0.1", resolve));
    const balanceEndpoint = `http://127.0.0.1:${(balanceApi.address() as AddressInfo).port}/user/balance`;
    try {
      const prefix = `par:floor:${currency}:`;
      const routes = {
        routes: {
          main: {
            sortBy: "config",
            targets: [
              { provider: "deepseek", modelId: "deepseek-model", balanceEndpoint },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
        },
      };
      const deepseek = { deepseek: team.provider(primary, "sk-deepseek-key", "deepseek-model") };
      const [one, two] = [`f1${currency}`, `f2${currency}`].map((name) => machine(name, prefix, routes, deepseek));
      const set = await runPi({
        agentDir: one!.agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router balance floor deepseek 40 CNY"],
      });
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout + set.stderr, row);
      // A print-mode run may exit before its asynchronous team write: the machine's next start writes it.
      await runPi({ agentDir: one!.agentDir, args: ["--model", "auto-router/main", "-p", "/auto-router balance"] });
      await eventually(
        () =>
          /"balanceFloor":40,"balanceFloorCurrency":"CNY"/.test(
            redis.cli("HGET", `${prefix}state:budget-limits`, "json"),
          ),
        "the floor is in the team store",
      );
      const other = await runPi({
        agentDir: two!.agentDir,
        args: ["--model", "auto-router/main", "-p", "Say hi", "/auto-router balance"],
      });
      assert.equal(other.code, 0, other.stderr);
      assert.equal(primary.calls.length, 0, "deepseek was skipped on the other machine");
      assert.equal(secondary.calls.length, 1);
      assert.match(other.stdout + other.stderr, row);
    } finally {
      balanceApi.closeAllConnections();
      await new Promise<void>((resolve) => balanceApi.close(() => resolve()));
    }
  });

  it("shows the backend in /auto-router status and adds a machine's file-store spend to the team store once with state push", async () => {
    primary.reset();
    const prefix = "par:push:";
    const dir = machine("p1", prefix);
    // Spend this machine recorded before team mode, in its file store.
    const before = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "one", "two"],
      // Unparsable: its password holds a `/` (generated passwords often do) that is not percent-encoded.
      env: { AUTO_ROUTER_REDIS_URL: "redis://router:Xk9/qLr+Zs8TopSecret=@127.0.0.1:6399/0" },
    });
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stderr, /AUTO_ROUTER_REDIS_URL: expected .*got "redis:\/\/\*\*\*@127\.0\.0\.1:6399\/0"/);
    assert.match(before.stderr, /must be percent-encoded \(`\/` as %2F\).*using the file store/);
    assert.doesNotMatch(before.stderr, /TopSecret|qLr/);
    // The status, the debug report, the state and the push in one pi process (print mode runs them in order); each
    // command's lines are matched in its own part of the output: the status's before the debug report's first line,
    // the state's from its "state backend:" line (the last one before the push) to the push's first line.
    const status = await runPi({
      agentDir: dir.agentDir,
      args: [
        "--model",
        "auto-router/main",
        "-p",
        "/auto-router status",
        "/auto-router debug",
        "/auto-router state",
        "/auto-router state push",
      ],
    });
    assert.equal(status.code, 0, status.stderr);
    const shown = status.stdout + status.stderr;
    const debugAt = shown.indexOf("report written to ");
    const pushAt = shown.indexOf("state push:", debugAt);
    assert.ok(debugAt >= 0 && pushAt > debugAt, shown);
    assert.match(
      shown.slice(0, debugAt),
      new RegExp(`state backend: redis redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}/0 \\(machine p1\\)`),
    );
    assert.ok(shown.slice(0, debugAt).includes(`  team keys: ${prefix}*`), shown);
    // The debug report a user attaches to a bug shows the routes file's state.url without its password.
    const report = readFileSync(join(dir.agentDir, "extensions", "auto-router.debug-report.txt"), "utf8");
    // (masked as the status shows it)
    assert.ok(report.includes(`redis://:***@127.0.0.1:${redis.port}/0`), report);
    // and where the state lives: the files it lists are this machine's views of the team store.
    assert.ok(
      report.includes(
        `## state\nstate backend: redis redis://:***@127.0.0.1:${redis.port}/0 (machine p1)\n  connection: connected\n`,
      ),
      report,
    );
    for (const text of [shown, report]) assert.doesNotMatch(text, /team-pass-9/);
    const stateAt = shown.lastIndexOf("state backend:", pushAt);
    assert.ok(stateAt > debugAt, shown);
    assert.match(shown.slice(stateAt, pushAt), /^state backend: [^\n]*\n {2}connection: connected\n {2}lag: none/);
    assert.match(shown.slice(pushAt), /usage: added this machine's spend \(2 entries\)/);
    assert.equal(teamSpend(prefix, "mock-a").day.requests, 2);
    const again = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router state push"],
    });
    assert.match(again.stdout + again.stderr, /usage: this machine's spend was pushed before \(/);
    assert.equal(teamSpend(prefix, "mock-a").day.requests, 2);
  });

  it("says that Redis refuses a wrong password (not that it is unreachable), names what to fix, and still answers", async () => {
    primary.reset();
    primary.enqueue({ text: "Answered on the local view." });
    const prefix = "par:wrongpass:";
    const wrongUrl = redis.url.replace("team-pass-9", "not-the-pass-3");
    assert.notEqual(wrongUrl, redis.url);
    const dir = machine("w1", prefix, { state: { backend: "redis", url: wrongUrl, keyPrefix: prefix, machine: "w1" } });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router state", "hello"],
    });
    assert.equal(run.code, 0, run.stderr);
    const shown = run.stdout + run.stderr;
    assert.match(
      shown,
      /team store redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0 refuses this machine's login \(WRONGPASS [^)]*: check the user and password in state\.url/,
    );
    assert.match(shown, /connection: down \(WRONGPASS .*check the user and password/);
    assert.doesNotMatch(shown, /unreachable/);
    assert.match(run.stdout, /Answered on the local view\./);
    assert.doesNotMatch(shown, /not-the-pass-3/);
  });

  it("never shows a Redis password given as ?password=: in pi's warning and state, the state file or the gateway's health page", async () => {
    primary.reset();
    const prefix = "par:querypass:";
    const url = `redis://127.0.0.1:${redis.port}/0?password=team-pass-9`;
    const masked = `redis://127.0.0.1:${redis.port}/0?password=***`;
    const wrong = machine("qp0", prefix, {
      state: { backend: "redis", url: url.replace("team-pass-9", "not-the-pass-3"), keyPrefix: prefix, machine: "qp0" },
    });
    const refused = await runPi({ agentDir: wrong.agentDir, args: ["--model", "auto-router/main", "-p", "hello"] });
    assert.equal(refused.code, 0, refused.stderr);
    assert.ok(refused.stderr.includes(`team store ${masked} refuses this machine's login`), refused.stderr);
    assert.doesNotMatch(refused.stdout + refused.stderr, /not-the-pass-3/);
    // The right one logs in, as ioredis takes it; the epoch the machine remembers names the team store masked too.
    const dir = machine("qp1", prefix, { state: { backend: "redis", url, keyPrefix: prefix, machine: "qp1" } });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "hello", "/auto-router state"],
    });
    assert.equal(run.code, 0, run.stderr);
    const shown = run.stdout + run.stderr;
    assert.ok(shown.includes(`state backend: redis ${masked} (machine qp1)`), shown);
    assert.match(shown, /connection: connected/);
    // Right after an answer its latency waits for its 5 s batch: said as batching, not as a lag.
    assert.match(
      shown,
      /\n {2}lag: none late, (?:1 write|\d+ writes) batched or being sent \(sent within [1-5] s\), as usual right after an answer\n/,
    );
    const marker = readFileSync(join(dir.agentDir, "extensions", "auto-router.team-unwritten.json"), "utf8");
    assert.ok(marker.includes(`${masked} ${prefix}`), marker);
    const gateway = await startGatewayProcess({
      agentDir: machine("qp2", prefix).agentDir,
      env: { AUTO_ROUTER_REDIS_URL: url },
    });
    try {
      const health = await (
        await fetch(`${gateway.url}/health/providers`, { headers: { "x-api-key": gateway.token } })
      ).text();
      assert.equal(JSON.parse(health).stateBackend.url, masked);
      for (const text of [shown, marker, health, gateway.stderr()]) assert.doesNotMatch(text, /team-pass-9/);
    } finally {
      assert.equal(await gateway.stop(), 0, gateway.stderr());
    }
  });

  it("answers every prompt while Redis is killed for 4 s and restarted empty, and the ledger then equals the served usage", async () => {
    primary.reset();
    const prefix = "par:fault:";
    const dirs = ["f1", "f2", "f3"].map((name) => machine(name, prefix));
    const clients: RpcClient[] = await Promise.all(
      dirs.map((dir) => startRpc({ agentDir: dir.agentDir, args: ["--model", "auto-router/main"] })),
    );
    let answered = 0;
    const ask = async (rpc: RpcClient, text: string) => {
      await rpc.request({ type: "prompt", message: text });
      const end = await rpc.waitFor((line) => line.type === "agent_end", 60_000);
      const last = end.messages?.filter((message: any) => message.role === "assistant").at(-1);
      assert.equal(last?.stopReason, "stop", JSON.stringify(last));
      answered++;
    };
    const round = (label: string) =>
      Promise.all(clients.map((rpc, index) => ask(rpc, `${label} from machine ${index + 1}`)));
    try {
      for (let i = 0; i < 3; i++) await round(`before ${i}`);
      // Every machine's view (mirrored to its own file) holds the 9 answers before Redis goes away.
      const mirror = (agentDir: string) => join(agentDir, "extensions", "auto-router.team-usage.json");
      await eventually(
        () =>
          dirs.every(
            (dir) =>
              existsSync(mirror(dir.agentDir)) &&
              spendOf(parseLedger(JSON.parse(readFileSync(mirror(dir.agentDir), "utf8"))), "mock-a").day.requests === 9,
          ),
        "every machine saw 9 answers",
      );
      await redis.kill();
      let outageOver = false;
      const outage = setTimeout(() => (outageOver = true), 4_000);
      let during = 0;
      while (!outageOver) await round(`during ${during++}`);
      clearTimeout(outage);
      await redis.restart();
      for (let i = 0; i < 3; i++) await round(`after ${i}`);
      const teamRequests = () => teamSpend(prefix, "mock-a").day.requests;
      await eventually(
        () => teamRequests() === answered,
        `the team ledger reaches ${answered} answers (it has ${teamRequests()})`,
      ).catch((error: Error) => {
        // What the machines said and what Redis holds, to tell a lost replay from a Redis that never came back.
        const said = clients.map((rpc, index) => `machine ${index + 1} stderr:\n${rpc.stderr.slice(-2000)}`).join("\n");
        throw new Error(`${error.message}\nkeys: ${redis.cli("KEYS", `${prefix}*`)}\n${said}`);
      });
      for (const rpc of clients) {
        const { code } = await rpc.close();
        assert.equal(code, 0, rpc.stderr);
      }
      assert.ok(during > 0, "prompts were answered while Redis was down");
      assert.equal(answered, primary.calls.length);
      const spend = teamSpend(prefix, "mock-a");
      assert.equal(spend.day.requests, answered);
      assert.ok(
        Math.abs(spend.day.costUsd - answered * COST_PER_ANSWER_USD) < 1e-9,
        `${spend.day.costUsd} vs ${answered} answers`,
      );
      assert.ok(
        clients.some((rpc) => /team store .* lost/.test(rpc.stderr + JSON.stringify(rpc.uiRequests()))),
        "a warning said the team store was lost",
      );
    } finally {
      await Promise.allSettled(clients.map((rpc) => rpc.close()));
    }
  });

  it("bounds a hard budget's check when Redis hangs with its connections open: 503 spend unknown, not a hang or a 402", async () => {
    primary.reset();
    const prefix = "par:hung:";
    const dir = machine("hung1", prefix, {
      routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } },
      budgets: { policy: "hard", providers: { "mock-a": { daily: 5 } } },
    });
    const gateway = await startGatewayProcess({ agentDir: dir.agentDir });
    const backend = async () =>
      (
        (await (
          await fetch(`${gateway.url}/health/providers`, { headers: { "x-api-key": gateway.token } })
        ).json()) as any
      ).stateBackend;
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.token, maxRetries: 0, timeout: 60_000 });
    const ask = () => openai.chat.completions.create({ model: "main", messages: [{ role: "user", content: "hi" }] });
    try {
      await eventually(async () => (await backend()).connection === "connected", "the gateway is connected");
      assert.match((await ask()).choices[0]!.message.content ?? "", /./);
      assert.equal(primary.calls.length, 1);
      // A stuck server (or a partition): the TCP connection stays open and no answer ever comes. The decision still
      // sees the connection up; the reservation's round trip is what finds it gone.
      redis.pause();
      const messages: string[] = [];
      const spendUnknown = (error: any) => {
        messages.push(error.message);
        assert.equal(error.status, 503, error.message);
        assert.equal(error.headers.get("x-should-retry"), "true");
        assert.match(
          error.message,
          /no target of route main can be checked against its hard budget now: mock-a \(the team store is down \(see \/auto-router state or GET \/health\/providers\), so the team's spend is unknown .*Retry once the team store answers again/,
        );
        assert.doesNotMatch(error.message, /over budget|exceeds/);
        assert.equal(error.message.split("mock-a").length, 2, `the target is named once: ${error.message}`);
        return true;
      };
      await assert.rejects(ask(), spendUnknown);
      const down = await backend();
      assert.equal(down.connection, "down", JSON.stringify(down));
      assert.match(down.lastError, /timed out/i);
      // Known to be down now: the next request is refused from the local view without another round trip.
      await assert.rejects(ask(), spendUnknown);
      assert.equal((await backend()).roundTrips, down.roundTrips);
      assert.equal(primary.calls.length, 1, "nothing reached the target while the spend was unknown");
      // The request that found the store gone at its reservation is told what the next one, refused at once, is told.
      assert.equal(messages.length, 2);
      assert.equal(messages[0], messages[1]);
      redis.resume();
      await eventually(async () => (await backend()).connection === "connected", "the gateway reconnects");
      assert.match((await ask()).choices[0]!.message.content ?? "", /./);
      assert.equal(primary.calls.length, 2);
    } finally {
      redis.resume();
      await gateway.stop();
    }
  });

  it("writes a machine's views back when Redis lost its data while none of the team's processes ran", async () => {
    primary.reset();
    const prefix = "par:forgot:";
    const dir = machine("fg1", prefix);
    const first = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", "spend once"] });
    assert.equal(first.code, 0, first.stderr);
    await eventually(() => teamSpend(prefix, "mock-a").day.requests === 1, "the spend is in the team store");
    // Redis comes back empty (restarted without persistence) while no process of this team runs.
    redis.cli("EVAL", `for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`, "0", `${prefix}*`);
    assert.equal(redis.cli("EXISTS", `${prefix}epoch`), "0");
    // The next start remembers the epoch its views were synced with: the store is not a new team, it lost its data.
    const next = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router budget"],
    });
    assert.equal(next.code, 0, next.stderr);
    assert.doesNotMatch(next.stdout + next.stderr, /no spend recorded/);
    assert.match(next.stdout + next.stderr, /mock-a/);
    await eventually(() => teamSpend(prefix, "mock-a").day.requests === 1, "the machine's view is written back");
    assert.ok(Math.abs(teamSpend(prefix, "mock-a").day.costUsd - COST_PER_ANSWER_USD) < 1e-9);
  });

  it("counts the team's budgets on one calendar (UTC unless budgets.timeZone is set), whatever each machine's zone", async () => {
    const prefix = "par:zones:";
    const dir = machine("z1", prefix);
    const show = async (tz: string, agentDir: string) => {
      const run = await runPi({
        agentDir,
        env: { TZ: tz },
        args: ["--model", "auto-router/main", "-p", "/auto-router budget"],
      });
      assert.equal(run.code, 0, run.stderr);
      return run.stdout + run.stderr;
    };
    const utc = calendarKeys(Date.now(), "UTC");
    // UTC+14 and UTC-10: on no day of the year do both share a date with each other.
    for (const tz of ["Pacific/Kiritimati", "Pacific/Honolulu"]) {
      const shown = await show(tz, dir.agentDir);
      assert.match(shown, new RegExp(`today ${utc.day}, month ${utc.month} \\(UTC\\)`), tz);
      assert.doesNotMatch(shown, /counts the team's budgets on/, "one machine, one calendar");
    }
    // A machine whose routes file sets another zone counts other days: it says so, naming the machine on the other.
    const zoned = machine("z2", prefix, { budgets: { timeZone: "Pacific/Kiritimati" } });
    const kiritimati = calendarKeys(Date.now(), "Pacific/Kiritimati");
    const shown = await show("UTC", zoned.agentDir);
    assert.match(shown, new RegExp(`today ${kiritimati.day}, month ${kiritimati.month} \\(Pacific/Kiritimati\\)`));
    assert.match(
      shown,
      /auto-router: this machine \(z2\) counts the team's budgets on Pacific\/Kiritimati's calendar, z1 on UTC's \(said \d+s ago\): the team's daily spend is then split between their days and a daily limit can be passed; set the same budgets\.timeZone in every machine's routes file/,
    );
    // `/auto-router budget` lists the other calendars under its own, on either machine (a process that started before
    // the other machine appeared was never warned).
    assert.match(
      shown,
      /\(Pacific\/Kiritimati\); policy soft\n {2}the team's budgets are also counted on other calendars: z1 on UTC's \(said \d+s ago\), so/,
    );
    assert.match(
      await show("UTC", dir.agentDir),
      /\(UTC\); policy soft\n {2}the team's budgets are also counted on other calendars: z2 on Pacific\/Kiritimati's \(said \d+s ago\), so the team's daily spend is split between their days and a daily limit can be passed; set the same budgets\.timeZone in every machine's routes file/,
    );
  });

  it("says in /auto-router state why the file store serves when state.url is invalid, not only once at start", async () => {
    const dir = machine("bad1", "par:bad:", {
      state: { backend: "redis", url: "redis//127.0.0.1:6391", machine: "bad1" },
    });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router state"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout + run.stderr,
      /state backend: file store \(machine bad1\)\n\s+not the team store: .*auto-router\.routes\.json at state\.url: expected redis:\/\/host:port\/db \(user:password@ before the host when Redis asks for a login\).*got "redis\/\/127\.0\.0\.1:6391"; using the file store/,
    );
  });
});
