// Usage-API readings in team mode, through real pi processes: two machines (own agent dirs) route to anthropic and
// share one redis-server; the emulated usage API counts how often it is polled.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeAgentDir } from "../helpers/agent-dir.ts";
import { startAnthropicEmulator } from "../helpers/anthropic-emulator.ts";
import { startQuotaEmulator, type QuotaEmulator } from "../helpers/quota-emulator.ts";
import { startRedisServer, type RedisServer } from "../helpers/redis-server.ts";
import { startRpc, type RpcClient } from "../helpers/rpc-client.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const HOUR_MS = 3_600_000;
const USAGE_PATH = "/api/oauth/usage";

/** Runs a slash command over RPC and resolves with the text of the notification it showed. */
async function command(rpc: RpcClient, text: string, match: RegExp): Promise<string> {
  const from = rpc.lines.length;
  rpc.send({ type: "prompt", message: text });
  const line = await rpc.waitFor(
    (item) => item.type === "extension_ui_request" && item.method === "notify" && match.test(item.message ?? ""),
    undefined,
    { sinceIndex: from },
  );
  return line.message as string;
}

describe("team mode: one machine's usage-API reading serves the others", () => {
  let redis: RedisServer;
  let anthropic: Emulator;
  let quota: QuotaEmulator;
  const cleanups: Array<() => void> = [];

  before(async () => {
    redis = await startRedisServer();
    anthropic = await startAnthropicEmulator({ name: "A" });
    quota = await startQuotaEmulator();
  });
  after(async () => {
    await Promise.all([anthropic.close(), quota.close()]);
    await redis.stop();
    for (const cleanup of cleanups) cleanup();
  });

  it("polls the usage API once for two machines started together, and both see the reading", async () => {
    quota.reply(USAGE_PATH, {
      body: { five_hour: { utilization: 90, resets_at: new Date(Date.now() + 4 * HOUR_MS).toISOString() } },
    });
    const machines = ["q1", "q2"].map((name) => {
      const dir = makeAgentDir({
        providers: {
          anthropic: {
            baseUrl: anthropic.url,
            api: "anthropic-messages",
            apiKey: "sk-ant-test-override-key",
            models: [{ id: "claude-emulated" }],
          },
        },
        routes: {
          routes: { main: { targets: [{ provider: "anthropic", modelId: "claude-emulated" }] } },
          state: { backend: "redis", url: redis.url, keyPrefix: "par:quota:", machine: name },
        },
        // A Claude subscription (/login): its usage API takes the login's token.
        oauth: { anthropic: "sk-ant-oat01-team-login" },
      });
      cleanups.push(dir.cleanup);
      return dir;
    });
    const env = { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}` };
    const clients = await Promise.all(
      machines.map((dir) => startRpc({ agentDir: dir.agentDir, args: ["--model", "auto-router/main"], env })),
    );
    try {
      for (const rpc of clients) {
        let shown = "";
        // The reading arrives in the background (fetched by one machine, sent to the other through the team store).
        for (let attempt = 0; attempt < 100 && !/anthropic\s+5h\s+90%/.test(shown); attempt++) {
          shown = await command(rpc, "/auto-router uvi", /quota|window/i);
          if (!/anthropic\s+5h\s+90%/.test(shown)) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.match(shown, /anthropic\s+5h\s+90%/);
      }
      assert.equal(quota.calls.filter((call) => call.path === USAGE_PATH).length, 1, "one fetch served both machines");
      // The shared reading holds the windows and their time, never the token that read them.
      const stored = redis.cli("HGET", "par:quota:state:quota", "json");
      assert.match(stored, /"fetchedAt":\d+/);
      assert.doesNotMatch(stored, /sk-ant/);
    } finally {
      await Promise.allSettled(clients.map((rpc) => rpc.close()));
    }
  });
});
