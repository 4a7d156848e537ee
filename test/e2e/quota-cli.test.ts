// Quota pacing through the real pi CLI against emulated providers: rate-limit headers of one response demote that
// provider on the next prompt (a new pi process: the observed windows live in the shared state directory).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type EmulatedAgent, startEmulatedAgent } from "../helpers/emulated-agent.ts";
import { runPi, lastAssistantMessage } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const HOUR_MS = 3_600_000;

describe("quota pacing through the pi CLI", () => {
  let anthropic: Emulator;
  let openai: Emulator;
  let dir: EmulatedAgent<"B" | "C">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { C: "anthropic", B: "openai" },
      providers: {
        "mock-c": { emulator: "C", apiKey: "sk-ant-mock-c", models: ["model-c"] },
        "mock-b": { emulator: "B", apiKey: "sk-mock-b-key", models: ["model-b"] },
      },
      routes: {
        routes: {
          main: {
            sortBy: "config",
            targets: [
              { provider: "mock-c", modelId: "model-c" },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
        },
      },
    });
    ({ C: anthropic, B: openai } = dir.emulators);
  });
  after(() => dir?.stop());

  it("demotes a provider on the next prompt after its response headers report 95% of a window used", async () => {
    // 95% of the 5 h window used with 2 h 15 min left: 55% elapsed, UVI 1.73 -> stressed (demoted, not excluded).
    const resetSeconds = Math.round((Date.now() + 2.25 * HOUR_MS) / 1000);
    anthropic.enqueue({
      text: "Hello from C.",
      headers: {
        "anthropic-ratelimit-unified-5h-utilization": "0.95",
        "anthropic-ratelimit-unified-5h-reset": String(resetSeconds),
      },
    });
    const first = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "--mode", "json", "Say hi"],
    });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(lastAssistantMessage(first.stdout).provider, "mock-c");

    anthropic.enqueue({ text: "C again (should not be used)." });
    openai.enqueue({ text: "Hello from B." });
    const second = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "--mode", "json", "Say hi again"],
    });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(lastAssistantMessage(second.stdout).provider, "mock-b");
    assert.equal(anthropic.calls.length, 1);
    assert.equal(openai.calls.length, 1);

    const shown = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router uvi"],
    });
    assert.match(shown.stdout + shown.stderr, /mock-c\s+5h\s+95%\s+5\d%\s+1\.\d\d\s+stressed/);
  });
});
