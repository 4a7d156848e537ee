// routing-replay over a log whose plans quota pacing or a soft budget moved without skipping a target: a target
// demoted for a stressed quota window, one promoted for a subscription's surplus, and a request routed in declared order
// because every target was over a soft budget. The replay takes that state as given, as it does the log's skips:
// replayed under the routes file that wrote the log, it reports no request routed differently and counts those the
// state moved apart. The logs are written by the real pi CLI against the local emulators (quota from the Anthropic
// emulator's rate-limit headers, spend from the OpenAI emulator's usage).
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

const HOUR_MS = 3_600_000;

/** A 5 h window `used` (0..1) used that resets in `hours`: the Anthropic emulator's headers for it. */
const fiveHourWindow = (used: number, hours: number) => ({
  "anthropic-ratelimit-unified-5h-utilization": String(used),
  "anthropic-ratelimit-unified-5h-reset": String(Math.round((Date.now() + hours * HOUR_MS) / 1000)),
});

/** One prompt in a new pi process on `route`; the provider that answered. */
async function prompt(agentDir: string, route: string, text: string): Promise<string> {
  const run = await runPi({ agentDir, args: ["--model", `auto-router/${route}`, "--mode", "json", text] });
  assert.equal(run.code, 0, run.stderr);
  return lastAssistantMessage(run.stdout).provider;
}

/** The logged candidates of each request: `key bucket` in the planned order. */
const loggedPlans = (agentDir: string): string[][] =>
  readLoggedEvents(agentDir)
    .filter((event) => event.type === "candidates")
    .map((event) => event.data.candidates.map((candidate: any) => `${candidate.key} ${candidate.bucket ?? "normal"}`));

const replayArgs = (agentDir: string, config: string) => ["--file", join(agentDir, "extensions"), "--config", config];

describe("routing-replay of requests quota pacing or a soft budget moved", () => {
  describe("quota pacing", () => {
    let world: EmulatedAgent<"B" | "C" | "D">;
    const routes = {
      routes: {
        main: routeInOrder("mock-c/model-c", "mock-b/model-b"),
        solo: routeInOrder("mock-d/model-d"),
        // A subscription in surplus goes first; mock-b bills per token (an API key).
        promo: {
          sortBy: "config",
          targets: [
            { provider: "mock-b", modelId: "model-b" },
            { provider: "mock-d", modelId: "model-d", billing: "subscription" },
          ],
        },
      },
    };

    before(async () => {
      world = await startEmulatedAgent({
        emulators: { B: "openai", C: "anthropic", D: "anthropic" },
        providers: {
          "mock-b": { emulator: "B", apiKey: "sk-mock-b-key-0000000002", models: ["model-b"] },
          "mock-c": { emulator: "C", apiKey: "sk-ant-mock-c", models: ["model-c"] },
          "mock-d": { emulator: "D", apiKey: "sk-ant-mock-d", models: ["model-d"] },
        },
        routes,
      });
    });
    after(async () => {
      await world?.stop();
    });

    it("takes a demotion and a promotion as given: its own routes file replays with no difference", async () => {
      const { B, C, D } = world.emulators;
      const env = { PI_CODING_AGENT_DIR: world.agentDir };
      // 95% used with 2 h 15 min left: UVI 1.73, stressed. 10% used with 1 h left: UVI 0.13 late in the window, surplus.
      C.enqueue({ text: "from C", headers: fiveHourWindow(0.95, 2.25) });
      assert.equal(await prompt(world.agentDir, "main", "one"), "mock-c");
      D.enqueue({ text: "from D", headers: fiveHourWindow(0.1, 1) });
      assert.equal(await prompt(world.agentDir, "solo", "two"), "mock-d");
      B.enqueue({ text: "from B" });
      assert.equal(await prompt(world.agentDir, "main", "three"), "mock-b");
      D.enqueue({ text: "from D again" });
      assert.equal(await prompt(world.agentDir, "promo", "four"), "mock-d");
      assert.deepEqual(loggedPlans(world.agentDir), [
        ["mock-c/model-c normal", "mock-b/model-b normal"],
        ["mock-d/model-d normal"],
        ["mock-b/model-b normal", "mock-c/model-c demoted"],
        ["mock-d/model-d promoted", "mock-b/model-b normal"],
      ]);

      const routesFile = join(world.agentDir, "extensions", ROUTES_FILE_NAME);
      const own = (await routingScriptJson("routing-replay", replayArgs(world.agentDir, routesFile), env)).report;
      assert.deepEqual(
        [own.replayed, own.same, own.different, own.movedByState],
        [4, 4, 0, 2],
        JSON.stringify(own.changes),
      );
      const text = await runRoutingScript("routing-replay", replayArgs(world.agentDir, routesFile), env);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^different +0$/m);
      assert.match(
        text.stdout,
        /^moved by state +2 of the 4 replayed: .*demoted or promoted one for its quota's pace/m,
      );

      // mock-b first on main: the first request (planned on a calm mock-c) moves; the third stays on mock-b.
      const reordered = join(freshDir("auto-router-replay-config"), "routes.json");
      writeFileSync(
        reordered,
        JSON.stringify({ routes: { ...routes.routes, main: routeInOrder("mock-b/model-b", "mock-c/model-c") } }),
      );
      const moved = (await routingScriptJson("routing-replay", replayArgs(world.agentDir, reordered), env)).report;
      assert.deepEqual([moved.replayed, moved.same, moved.different, moved.movedByState], [4, 3, 1, 1]);
      assert.deepEqual(moved.changes, [{ from: "mock-c/model-c", to: "mock-b/model-b", requests: 1 }]);
    });
  });

  describe("a soft budget", () => {
    let world: EmulatedAgent<"A" | "B">;
    // The emulator's usage (12 input + 7 output tokens) costs $0.026 on mock-a and $0.0026 on mock-b: one answer puts
    // either over its $0.001 daily limit.
    const routes = {
      routes: {
        main: {
          sortBy: "price",
          targets: [
            { provider: "mock-a", modelId: "model-a" },
            { provider: "mock-b", modelId: "model-b" },
          ],
        },
      },
      budgets: { policy: "soft", providers: { "mock-a": { daily: 0.001 }, "mock-b": { daily: 0.001 } } },
    };

    before(async () => {
      world = await startEmulatedAgent({
        emulators: { A: "openai", B: "openai" },
        providers: {
          "mock-a": {
            emulator: "A",
            apiKey: "sk-mock-a-key-0000000001",
            models: [{ id: "model-a", cost: { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 } }],
          },
          "mock-b": {
            emulator: "B",
            apiKey: "sk-mock-b-key-0000000002",
            models: [{ id: "model-b", cost: { input: 100, output: 200, cacheRead: 0, cacheWrite: 0 } }],
          },
        },
        routes,
      });
    });
    after(async () => {
      await world?.stop();
    });

    it("takes a fallback with every target over budget as given: its own routes file replays with no difference", async () => {
      const { A, B } = world.emulators;
      const env = { PI_CODING_AGENT_DIR: world.agentDir };
      // The cheaper mock-b, then mock-a once mock-b is over budget, then both over: declared order, mock-a first.
      B.enqueue({ text: "from B" });
      assert.equal(await prompt(world.agentDir, "main", "one"), "mock-b");
      A.enqueue({ text: "from A" });
      assert.equal(await prompt(world.agentDir, "main", "two"), "mock-a");
      A.enqueue({ text: "from A again" });
      assert.equal(await prompt(world.agentDir, "main", "three"), "mock-a");
      const decisions = readLoggedEvents(world.agentDir).filter((event) => event.type === "decision");
      assert.match(decisions[2].data.fallback, /every target was excluded by soft reasons \(budget\)/);

      const routesFile = join(world.agentDir, "extensions", ROUTES_FILE_NAME);
      const own = (await routingScriptJson("routing-replay", replayArgs(world.agentDir, routesFile), env)).report;
      assert.deepEqual(
        [own.replayed, own.same, own.different, own.movedByState],
        [3, 3, 0, 2],
        JSON.stringify(own.changes),
      );
    });
  });
});
