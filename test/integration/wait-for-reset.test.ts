// failover.waitForReset through real pi (SDK in-process, faux targets): the countdown in the status line, and Esc
// (the request's AbortSignal) ends the wait at once.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { harnessPerTest } from "../helpers/sdk-harness.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
];

const harnesses = harnessPerTest();

const quota = (seconds: number) =>
  `429 You exceeded your current quota, please check your plan and billing details. Please try again in ${seconds}s.`;

/** Resolves once `check` holds, polling on the event loop (the test runner's timeout bounds it). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("waiting for the earliest quota reset", () => {
  it("counts down in the status line and stops waiting when the user aborts", async () => {
    const h = await harnesses.start({
      targets: TARGETS,
      routes: {
        routes: {
          main: {
            sortBy: "config",
            failover: { cooldownWaitMs: 0, waitForReset: { maxMs: 120_000 } },
            targets: [
              { provider: "mock-a", modelId: "model-a" },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
        },
      },
    });
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage([], { stopReason: "error", errorMessage: quota(50) })]);
    h.faux("mock-b").setResponses([fauxAssistantMessage([], { stopReason: "error", errorMessage: quota(40) })]);

    const seen = new Set<string>();
    const running = h.prompt("Long agent run");
    await until(() => {
      const text = h.ui!.statuses.get("auto-router") ?? "";
      if (/waiting \d+s for mock-b\/model-b/.test(text)) seen.add(text);
      return seen.size >= 2;
    });
    // One notice, naming the target whose reset comes first.
    const notices = h.ui!.notifications.filter((n) => /out of quota; waiting/.test(n.message));
    assert.equal(notices.length, 1);
    assert.match(notices[0]!.message, /waiting \d+ s for mock-b\/model-b to reset \(Esc stops\)/);
    await h.session.abort();
    await running;
    assert.equal(h.lastAssistant().stopReason, "aborted");
    assert.equal(h.faux("mock-a").state.callCount, 1);
    assert.equal(h.faux("mock-b").state.callCount, 1);
    assert.match(h.ui!.statuses.get("auto-router") ?? "", /aborted/);
    const explain = await h.command("/auto-router explain");
    assert.match(
      explain,
      /Notes:\n {2}every target out of quota: waiting for the reset of mock-b\/model-b, \d+ s away/,
    );
    // Stopped by the user, as the status line says: not a failure.
    assert.match(explain, /outcome: aborted/);
    assert.doesNotMatch(explain, /outcome: failed|none \(failed\)/);
  });
});
