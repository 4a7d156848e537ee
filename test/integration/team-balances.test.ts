// Prepaid balances in team mode, against a real redis-server: two engines in one process (as the gateway builds one,
// with pi's registry on its agent dir) stand for two machines; the emulated DeepSeek balance API counts its requests.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { CommandOutput } from "../../src/commands/command-types.ts";
import { runCommand } from "../../src/commands/dispatch.ts";
import { createEngine, type Engine } from "../../src/engine.ts";
import { openRegistry } from "../../src/gateway/credentials.ts";
import { makeAgentDir } from "../helpers/agent-dir.ts";
import { startQuotaEmulator, type QuotaEmulator } from "../helpers/quota-emulator.ts";
import { startRedisServer, type RedisServer } from "../helpers/redis-server.ts";
import { eventually } from "../helpers/temp-and-workers.ts";

const BALANCE_PATH = "/user/balance";

describe("team balances on Redis", () => {
  let redis: RedisServer;
  let api: QuotaEmulator;
  const engines: Engine[] = [];
  const cleanups: Array<() => void> = [];
  const warnings: string[] = [];

  before(async () => {
    redis = await startRedisServer();
    api = await startQuotaEmulator();
    api.reply(BALANCE_PATH, {
      body: { is_available: true, balance_infos: [{ currency: "USD", total_balance: "8.00" }] },
    });
  });
  after(async () => {
    await Promise.allSettled(engines.map((engine) => engine.close()));
    await api.close();
    await redis.stop();
    for (const cleanup of cleanups) cleanup();
  });

  /** A machine routing to deepseek (a $5 floor) with the team store at `keyPrefix`, started as the gateway starts. */
  async function machine(name: string, keyPrefix: string): Promise<Engine> {
    const dir = makeAgentDir({
      providers: {
        deepseek: {
          baseUrl: "http://127.0.0.1:9/v1",
          api: "openai-completions",
          apiKey: "sk-deepseek-team-key",
          models: [{ id: "deepseek-chat" }],
        },
      },
      routes: {
        routes: {
          main: {
            targets: [{ provider: "deepseek", modelId: "deepseek-chat", balanceEndpoint: `${api.url}${BALANCE_PATH}` }],
          },
        },
        budgets: { providers: { deepseek: { balanceFloor: 5 } } },
        state: { backend: "redis", url: redis.url, keyPrefix, machine: name },
      },
    });
    cleanups.push(dir.cleanup);
    const engine = createEngine({ agentDir: dir.agentDir, processEnv: {}, warn: (text) => warnings.push(text) });
    engines.push(engine);
    engine.runtime.attachRegistry(await openRegistry(dir.agentDir));
    engine.start();
    return engine;
  }

  /** What `/auto-router <text>` shows on a machine. */
  async function command(engine: Engine, text = "balance"): Promise<string> {
    let shown = "";
    const output: CommandOutput = {
      info: (said) => void (shown = said),
      warn: (said) => void (shown = said),
      error: (said) => void (shown = said),
    };
    await runCommand(text, engine.commandDeps(), output, engine.subcommands);
    return shown;
  }

  const balanceRequests = () => api.calls.filter((call) => call.path === BALANCE_PATH).length;

  it("fetches a balance once for two machines refreshing in the same period, and both show it from their first prompt", async () => {
    const before = balanceRequests();
    const machines = await Promise.all([machine("b1", "par:balance:"), machine("b2", "par:balance:")]);
    // What the first prompt waits for: the machine that lost the claim waits for the other's reading.
    await Promise.all(machines.map((engine) => engine.ready()));
    assert.equal(balanceRequests() - before, 1);
    for (const engine of machines) assert.match(await command(engine), /^deepseek\s+\$8\.00\s+\$5\.00\s/m);
    assert.ok(Number(redis.cli("PTTL", "par:balance:claim:balance-fetch:deepseek")) > 0, "the claim has an expiry");
    // An explicit fetch always fetches, claim or not.
    assert.match(await command(machines[1]!, "balance fetch"), /^deepseek\s+\$8\.00\s+\$5\.00\s.*fresh$/m);
    assert.equal(balanceRequests() - before, 2);
    assert.equal(
      api.calls.every((call) => call.headers.authorization === "Bearer sk-deepseek-team-key"),
      true,
      "each machine's own key",
    );
    assert.deepEqual(warnings, []);
  });

  it("lets another machine fetch once a claim expires without a reading (the machine holding it died)", async () => {
    const prefix = "par:balance-dead:";
    // The dead machine's claim, held until it is deleted below: what Redis does when its expiry (PTTL, checked in the
    // test above) passes. An expiry of its own here would race the machine's start on a busy host.
    const claimKey = `${prefix}claim:balance-fetch:deepseek`;
    redis.cli("SET", claimKey, "a-machine-that-died");
    const before = balanceRequests();
    const waiting = await machine("d1", prefix);
    await waiting.ready(); // bounded: no reading comes
    assert.equal(balanceRequests() - before, 0, "the claim's holder fetches in its period");
    assert.match(await command(waiting), /^deepseek\s+unknown\s/m);
    redis.cli("DEL", claimKey); // the claim expires
    const next = await machine("d2", prefix);
    await next.ready();
    assert.equal(balanceRequests() - before, 1);
    // The reading reaches the machine that waited through the team store.
    await eventually(async () => /^deepseek\s+\$8\.00\s/m.test(await command(waiting)), "the waiting machine shows it");
  });
});
