// failover.waitForReset through real pi (SDK in-process, faux targets): the countdown in the status line, and Esc
// (the request's AbortSignal) ends the wait at once.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { readEventLogFile } from "../helpers/event-log.ts";
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
    assert.match(notices[0]!.message, /waiting \d+s for mock-b\/model-b to reset \(Esc stops\)/);
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

  it("waits for the reset when the quota failures used up maxAttempts, and tries again after it", async () => {
    const h = await harnesses.start({
      targets: TARGETS,
      clock: true,
      routes: {
        routes: {
          main: {
            sortBy: "config",
            // As many attempts as targets: both run out in this request, and the wait still carries the run on.
            failover: { cooldownWaitMs: 0, maxAttempts: 2, waitForReset: { maxMs: 120_000 } },
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
    h.faux("mock-b").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: quota(40) }),
      fauxAssistantMessage("After the reset."),
    ]);
    let ended = false;
    const running = h.prompt("Long agent run").finally(() => {
      ended = true;
    });
    await until(() => ended || /waiting \d+s for mock-b\/model-b/.test(h.ui!.statuses.get("auto-router") ?? ""));
    if (ended) assert.fail(`no wait: ${h.lastAssistant().errorMessage}`);
    h.advanceClock(41_000);
    await running;
    assert.equal(h.lastAssistant().content[0]?.text, "After the reset.");
    assert.equal(h.faux("mock-b").state.callCount, 2);
    assert.match(await h.command("/auto-router explain"), /Attempts:\n {2}3\. mock-b\/model-b: success/);
  });

  it("explains a wait for a quota reset within cooldownWaitMs: both decisions in order, the wait noted and logged", async () => {
    const h = await harnesses.start(
      {
        targets: TARGETS,
        clock: true,
        routes: {
          routes: {
            main: {
              sortBy: "config",
              // The resets below are within the default cooldownWaitMs (30 s): the short wait, not waitForReset's.
              failover: { waitForReset: { maxMs: 120_000 } },
              targets: [
                { provider: "mock-a", modelId: "model-a" },
                { provider: "mock-b", modelId: "model-b" },
              ],
            },
          },
        },
      },
      "auto-router-wait-explain-",
    );
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage([], { stopReason: "error", errorMessage: quota(25) })]);
    h.faux("mock-b").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: quota(20) }),
      fauxAssistantMessage("After the reset."),
    ]);
    const running = h.prompt("Keep going");
    await until(() => /waiting \d+s for mock-b\/model-b/.test(h.ui!.statuses.get("auto-router") ?? ""));
    h.advanceClock(20_000);
    await running;
    assert.equal(h.lastAssistant().content[0]?.text, "After the reset.");
    assert.equal(h.faux("mock-b").state.callCount, 2);

    const explain = await h.command("/auto-router explain");
    // One failover (a -> b); trying b again after waiting for it is none.
    assert.match(explain, /^request \w+ on main, .* ago, served by mock-b\/model-b after 1 failover$/m);
    const first = explain.indexOf("Decision 1 of 2:");
    const second = explain.indexOf("Decision 2 of 2, made again 20s after the first:");
    assert.ok(first >= 0 && second > first, explain);
    const [before, after] = [explain.slice(first, second), explain.slice(second)];
    // The decision the request began with: both targets, a first; its two attempts; then the wait.
    assert.match(before, /Candidates:\n {2}1\. mock-a\/model-a .*\n {2}2\. mock-b\/model-b /);
    assert.match(before, /Ranked first: mock-a\/model-a/);
    assert.match(
      before,
      /Attempts:\n {2}1\. mock-a\/model-a: failed \(quota_exhausted.*\n {2}2\. mock-b\/model-b: failed \(quota_exhausted.*\nNotes:\n {2}waited 20 s for mock-b\/model-b's quota reset\n/,
    );
    // The decision made after the wait: a still resting (in plain words, no provider text or raw time), b served.
    assert.match(after, /Skipped:\n {2}- mock-a\/model-a: cooldown for 5s - resting \(quota used up\)\n/);
    // Later, the same decision gives the rest as it stood then and what is left of it now (not as of now alone).
    h.advanceClock(2_000);
    assert.match(
      await h.command("/auto-router explain"),
      /Skipped:\n {2}- mock-a\/model-a: cooldown for 5s then, 3s left now - resting \(quota used up\)\n/,
    );
    // Once that rest has ended, it says so (not "cooldown for 0 s").
    h.advanceClock(4_000);
    assert.match(
      await h.command("/auto-router explain"),
      /Skipped:\n {2}- mock-a\/model-a: cooldown for 5s then, ended since - resting \(quota used up\)\n/,
    );
    assert.doesNotMatch(explain, /\d{4}-\d\d-\d\dT\d\d:/, "no raw ISO time");
    assert.doesNotMatch(explain, /You exceeded your current quota/, "no provider text");
    assert.match(after, /Attempts:\n {2}3\. mock-b\/model-b: success/);
    assert.match(
      after,
      /^Served by: mock-b\/model-b \(after mock-a\/model-a failed \(quota_exhausted\), mock-b\/model-b failed \(quota_exhausted\)\)$/m,
    );

    await harnesses.stop();
    const events = readEventLogFile(join(harnesses.stateDir, "auto-router.events.jsonl"));
    const waits = events.filter((event) => event.type === "wait");
    assert.equal(waits.length, 1, JSON.stringify(waits));
    assert.equal(waits[0].data.reason, "quota-reset");
    assert.equal(waits[0].data.target, "mock-b/model-b");
    // In the log's order, as they happened: the two failed attempts, then the wait they led to, then the attempt after.
    const steps = events
      .filter((event) => ["attempt", "result", "wait"].includes(event.type))
      .map((event) => `${event.type}${event.type === "result" ? ` ${event.data.outcome}` : ""} ${event.data.target}`);
    assert.deepEqual(steps, [
      "attempt mock-a/model-a",
      "result failed mock-a/model-a",
      "attempt mock-b/model-b",
      "result failed mock-b/model-b",
      "wait mock-b/model-b",
      "attempt mock-b/model-b",
      "result success mock-b/model-b",
    ]);
    const final = events.find((event) => event.type === "final");
    assert.equal(final.data.failovers, 1);
    assert.deepEqual(final.data.notes, ["waited 20 s for mock-b/model-b's quota reset"]);
  });
});
