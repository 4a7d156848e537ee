// routing-replay over a log whose plans a cooldown moved: the replay cannot know the state at a request's time, so it
// takes the log's own skips for it as given. Replayed under the routes file that wrote the log, it reports no request
// routed differently, and counts the one the cooldown moved apart; only a change of the config counts. The log is
// written by the real pi CLI against the local emulators.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ROUTES_FILE_NAME, routeInOrder } from "../helpers/agent-dir.ts";
import { type EmulatedAgent, startEmulatedAgent } from "../helpers/emulated-agent.ts";
import { readLoggedEvents } from "../helpers/event-log.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { lastAssistantMessage, runPi } from "../helpers/pi-cli.ts";
import { routingScriptJson, runRoutingScript } from "../helpers/routing-script.ts";

const TEN_MINUTES_MS = 600_000;

describe("routing-replay of requests a cooldown moved", () => {
  let world: EmulatedAgent<"A" | "B">;
  // A rate-limited target rests ten minutes: the next pi process skips it for its cooldown.
  const routes = {
    routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") },
    failover: { kinds: { rate_limit: { cooldownMs: TEN_MINUTES_MS } } },
  };

  before(async () => {
    world = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers: {
        "mock-a": { emulator: "A", apiKey: "sk-mock-a-key-0000000001", models: ["model-a"] },
        "mock-b": { emulator: "B", apiKey: "sk-mock-b-key-0000000002", models: ["model-b"] },
      },
      routes,
    });
  });
  after(async () => {
    await world?.stop();
  });

  const prompt = async (text: string) => {
    const run = await runPi({
      agentDir: world.agentDir,
      args: ["--model", "auto-router/main", "--mode", "json", text],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(lastAssistantMessage(run.stdout).provider, "mock-b", text);
  };
  const env = () => ({ PI_CODING_AGENT_DIR: world.agentDir });
  const args = (config: string) => ["--file", join(world.agentDir, "extensions"), "--config", config];

  it("takes the log's cooldown skip as given: its own routes file replays with no difference, a reorder with one", async () => {
    const { A, B } = world.emulators;
    A.enqueue({ status: 429, errorMessage: "slow down" });
    B.enqueue({ text: "from B" });
    await prompt("one");
    B.enqueue({ text: "from B again" });
    await prompt("two");
    const skipped = readLoggedEvents(world.agentDir)
      .filter((event) => event.type === "candidates")
      .map((event) => event.data.skipped.map((entry: any) => `${entry.key} ${entry.reason}`));
    assert.deepEqual(skipped, [[], ["mock-a/model-a cooldown"]]);

    const routesFile = join(world.agentDir, "extensions", ROUTES_FILE_NAME);
    const own = (await routingScriptJson("routing-replay", args(routesFile), env())).report;
    assert.deepEqual(
      [own.replayed, own.same, own.different, own.movedByState],
      [2, 2, 0, 1],
      JSON.stringify(own.changes),
    );
    const text = await runRoutingScript("routing-replay", args(routesFile), env());
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^different +0$/m);
    assert.match(
      text.stdout,
      /^moved by state +1 of the 2 replayed: the state at the time moved the config's first choice .*cooldown/m,
    );

    // mock-b first: the first request (planned on mock-a) moves; the second stays on mock-b, cooldown or not.
    const reordered = join(freshDir("auto-router-replay-config"), "routes.json");
    writeFileSync(
      reordered,
      JSON.stringify({ ...routes, routes: { main: routeInOrder("mock-b/model-b", "mock-a/model-a") } }),
    );
    const moved = (await routingScriptJson("routing-replay", args(reordered), env())).report;
    assert.deepEqual([moved.replayed, moved.same, moved.different, moved.movedByState], [2, 1, 1, 0]);
    assert.deepEqual(moved.changes, [{ from: "mock-a/model-a", to: "mock-b/model-b", requests: 1 }]);
  });
});
