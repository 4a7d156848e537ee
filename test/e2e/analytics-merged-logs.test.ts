// Logs of two machines read together (`--file laptop --file ci`, as README's team mode says to merge them): what the
// session report calls recent or last is the latest in time, whichever file it came from and in whatever order the
// files are named. The logs are written by the real pi CLI against the local emulators, one agent dir per machine.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, routeInOrder } from "../helpers/agent-dir.ts";
import { type EmulatedAgent, startEmulatedAgent } from "../helpers/emulated-agent.ts";
import { readLoggedEvents } from "../helpers/event-log.ts";
import { routingScriptJson } from "../helpers/routing-script.ts";
import { lastAssistantMessage, runPi } from "../helpers/pi-cli.ts";

const HOUR_MS = 3_600_000;

const sessionStats = (files: string[], extra: string[] = []): Promise<any> =>
  routingScriptJson("routing-session-stats", [...files.flatMap((file) => ["--file", file]), ...extra]);

/** Response headers of an answer that used `used` of a 5 h window with `left` of it to go. */
const windowHeaders = (used: number, leftMs: number) => ({
  "anthropic-ratelimit-unified-5h-utilization": String(used),
  "anthropic-ratelimit-unified-5h-reset": String(Math.round((Date.now() + leftMs) / 1000)),
});

describe("routing-session-stats over the logs of two machines", () => {
  let world: EmulatedAgent<"C" | "B">;
  let newer: ReturnType<typeof makeAgentDir>;
  // An overloaded target is asked again at once: each machine's next prompt reads mock-c's window from its answer.
  const routes = {
    routes: { main: routeInOrder("mock-c/model-c", "mock-b/model-b") },
    failover: { kinds: { overloaded: { cooldownMs: 0 } } },
  };

  before(async () => {
    world = await startEmulatedAgent({
      emulators: { C: "anthropic", B: "openai" },
      providers: {
        "mock-c": { emulator: "C", apiKey: "sk-ant-mock-c-0000000001", models: ["model-c"] },
        "mock-b": { emulator: "B", apiKey: "sk-mock-b-key-0000000002", models: ["model-b"] },
      },
      routes,
    });
    newer = makeAgentDir({ providers: world.providers, routes });
  });
  after(async () => {
    newer?.cleanup();
    await world?.stop();
  });

  const prompt = async (agentDir: string, text: string, served: string) => {
    const run = await runPi({ agentDir, args: ["--model", "auto-router/main", "--mode", "json", text] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(lastAssistantMessage(run.stdout).provider, served, text);
  };

  it("shows the latest drift, masked error message and quota level first, whatever the order of --file", async () => {
    const { C, B } = world.emulators;
    // The older machine: a failover with one message, then mock-c reports its 5 h window stressed (95% used at 55%).
    C.enqueue({ status: 529, errorMessage: "older machine overloaded" });
    B.enqueue({ text: "from B" });
    await prompt(world.agentDir, "one", "mock-b");
    C.enqueue({ text: "from C", headers: windowHeaders(0.95, 2.25 * HOUR_MS) });
    await prompt(world.agentDir, "two", "mock-c");
    // Then the newer machine: a failover with another message, and the window critical (99% used at 45%).
    C.enqueue({ status: 529, errorMessage: "newer machine overloaded" });
    B.enqueue({ text: "from B" });
    await prompt(newer.agentDir, "three", "mock-b");
    C.enqueue({ text: "from C", headers: windowHeaders(0.99, 2.75 * HOUR_MS) });
    await prompt(newer.agentDir, "four", "mock-c");

    const older = join(world.agentDir, "extensions");
    const latest = join(newer.agentDir, "extensions");
    const levels = (dir: string) =>
      readLoggedEvents(join(dir, "..")).flatMap((event) => (event.type === "quota" ? [event] : []));
    assert.deepEqual(
      levels(older).map((event) => event.data.level),
      ["stressed"],
    );
    const [newerQuota] = levels(latest);
    assert.equal(newerQuota.data.level, "critical");
    const failoverOf = (agentDir: string) => readLoggedEvents(agentDir).find((event) => event.type === "final");
    const [olderFinal, newerFinal] = [failoverOf(world.agentDir), failoverOf(newer.agentDir)];
    assert.deepEqual([olderFinal.data.failovers, newerFinal.data.failovers], [1, 1]);

    for (const files of [
      [older, latest],
      [latest, older],
    ]) {
      const { stats } = await sessionStats(files);
      assert.equal(stats.requests, 4);
      assert.deepEqual(
        stats.recentDrift.map((row: any) => row.requestId),
        [newerFinal.requestId, olderFinal.requestId],
        `the newer machine's failover first (files ${files.join(", ")})`,
      );
      const masked = stats.maskedErrors.find((row: any) => row.target === "mock-c/model-c");
      assert.equal(masked.count, 2);
      assert.match(masked.lastMessage, /newer machine overloaded/);
      const day = new Date(newerQuota.ts).toISOString().slice(0, 10);
      const uvi = stats.uviTimeline.find((row: any) => row.provider === "mock-c" && row.day === day);
      assert.equal(uvi.lastLevel, "critical");
      // Room for one row: it is the latest.
      const one = await sessionStats(files, ["--limit", "1"]);
      assert.deepEqual(
        one.stats.recentDrift.map((row: any) => row.requestId),
        [newerFinal.requestId],
      );
    }
  });
});
