// A hard budget refuses a request whose expected cost does not fit what is left of the limit, even while the spend
// alone is under it. Through the real pi CLI: `/auto-router budget` and `/auto-router status` in a later pi process
// say the provider is refusing requests, from the refusal the budget made.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, routeInOrder } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

describe("a hard budget refusing requests under its limit, through the pi CLI", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startOpenAIEmulator({ name: "A" });
  });
  after(() => emulator.close());

  it("shows the provider BLOCKED in the budget table and status while a request's estimate does not fit", async () => {
    // ~1,250 prompt tokens and an assumed 1,000 output tokens at $1000/$2000 per 1M: ~$3.27 a request, $0.05 a day.
    const cost = { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 };
    const provider = (key: string, id: string) => ({
      baseUrl: emulator.url,
      api: "openai-completions" as const,
      apiKey: key,
      models: [{ id, cost }],
    });
    const dir = makeAgentDir({
      providers: { "mock-a": provider("sk-mock-a-key", "model-a"), "mock-b": provider("sk-mock-b-key", "model-b") },
      routes: {
        routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") },
        budgets: { policy: "hard", providers: { "mock-a": { daily: 0.05 }, "mock-b": { daily: 0.05 } } },
      },
    });
    try {
      const refused = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", "one"] });
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /every target of route main is over budget and the budget policy is hard/);
      assert.equal(emulator.calls.length, 0);

      const shown = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router budget", "/auto-router status"],
      });
      assert.equal(shown.code, 0, shown.stderr);
      const text = shown.stdout + shown.stderr;
      assert.match(text, /^mock-a +today +\$0\.00 +\$0\.05 \(config\) +0% BLOCKED +0$/m);
      assert.match(
        text,
        /^mock-a: BLOCKED: a request's estimate ~\$3\.2\d+ does not fit the \$0\.05 left of its hard daily limit \$0\.05 \(spent \$0\.00, in flight \$0\.00; last refused \d+s ago\)$/m,
      );
      assert.match(
        text,
        /^warnings: .*budget mock-a blocked: a request's estimate ~\$3\.2\d+ does not fit the \$0\.05 left/m,
      );

      // A limit the request fits lifts it at once: the same check, on the limit now in force.
      const raised = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router budget set mock-a 10"],
      });
      assert.equal(raised.code, 0, raised.stderr);
      assert.match(raised.stderr, /^mock-a +today +\$0\.00 +\$10\.00 \(set, config \$0\.05\) +0% +0$/m);
      assert.doesNotMatch(raised.stderr, /^mock-a: BLOCKED/m);
      assert.match(raised.stderr, /^mock-b: BLOCKED/m);
    } finally {
      dir.cleanup();
    }
  });
});
