// The circuit breaker through real pi (SDK in-process, faux targets): a target that keeps failing is skipped
// until its break is over, then exactly one request probes it.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
];
/** Cooldowns off, so what keeps mock-a out is the breaker and nothing else. */
const ROUTES = {
  routes: {
    main: {
      sortBy: "config",
      targets: [
        { provider: "mock-a", modelId: "model-a" },
        { provider: "mock-b", modelId: "model-b" },
      ],
      failover: { kinds: { server: { cooldownMs: 0 }, overloaded: { cooldownMs: 0 }, auth: { cooldownMs: 0 } } },
    },
  },
};
const BREAK_MS = 300;
/** The same settings from the environment (AUTO_ROUTER_BREAKER_*) or from the routes file's `breaker` block. */
const ENV = {
  AUTO_ROUTER_BREAKER_MINIMUM_CALLS: "3",
  AUTO_ROUTER_BREAKER_BREAK_MS: String(BREAK_MS),
  AUTO_ROUTER_BREAKER_RATIO: "0.5",
};
const BREAKER_BLOCK = { minimumCalls: 3, breakMs: BREAK_MS, ratio: 0.5 };

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

async function start(settingsFrom: "environment" | "routes file" = "environment") {
  harness = await createSdkHarness(
    settingsFrom === "environment"
      ? { targets: TARGETS, routes: ROUTES, env: ENV, clock: true }
      : { targets: TARGETS, routes: { ...ROUTES, breaker: BREAKER_BLOCK }, clock: true },
  );
  await harness.setModel("auto-router", "main");
  return harness;
}

/** A slash command's output, as the recording UI of the harness collected it. */
const commandOutput = (h: SdkHarness, text: string): Promise<string> => h.command(text);

describe("circuit breaker through pi", () => {
  for (const settingsFrom of ["environment", "routes file"] as const)
    it(`opens the breaker of a target that keeps failing, skips it, and lets one probe through after the break (settings from the ${settingsFrom})`, async () => {
      const h = await start(settingsFrom);
      const { fauxAssistantMessage } = h.fauxHelpers;
      const failing = () => fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" });
      h.faux("mock-a").setResponses([failing(), failing(), failing(), fauxAssistantMessage("A is back")]);
      h.faux("mock-b").setResponses(Array.from({ length: 5 }, (_, i) => fauxAssistantMessage(`B answer ${i + 1}`)));

      await h.prompt("question 1");
      // One failure, still closed: nothing has opened it (the column names what opened a breaker, not a failure).
      const first = await commandOutput(h, "/auto-router circuit");
      assert.match(first, /target\s+state\s+failed\/calls\s+next\s+opened by/);
      assert.match(first, /mock-a\/model-a\s+closed\s+1\/1\s+-\s+-/);
      for (let i = 1; i < 3; i++) await h.prompt(`question ${i + 1}`);
      assert.equal(h.faux("mock-a").state.callCount, 3);
      assert.equal(h.lastAssistant().provider, "mock-b");

      // Open now: the next prompt does not touch mock-a at all.
      await h.prompt("question 4");
      assert.equal(h.faux("mock-a").state.callCount, 3);
      assert.equal(h.lastAssistant().provider, "mock-b");
      const shown = await commandOutput(h, "/auto-router circuit");
      // The 300 ms break is counted down in whole seconds rounded up: 1s, never "probe in 0s" while it runs.
      assert.match(shown, /mock-a\/model-a\s+open\s+-\s+probe in 1s\s+server/);
      // list's availability column names the open breaker (as a notification, or in the widget when it is long).
      const listed = `${await h.command("/auto-router list")}\n${(h.ui!.widgets.get("auto-router") ?? []).join("\n")}`;
      assert.match(listed, /mock-a\/model-a .*breaker open, probe in 1s/);

      h.advanceClock(BREAK_MS + 1);
      await h.prompt("question 5");
      assert.equal(h.faux("mock-a").state.callCount, 4);
      assert.equal(h.lastAssistant().provider, "mock-a");
      const closed = await commandOutput(h, "/auto-router circuit");
      assert.match(closed, /mock-a\/model-a\s+closed/);
    });

  it("says a half-open breaker probes when its target's rest is over, not on the next request, while it rests", async () => {
    // The server failures rest mock-a for 60 s on this route (its only one), past the breaker's 300 ms break.
    const resting = structuredClone(ROUTES);
    resting.routes.main.failover.kinds.server.cooldownMs = 60_000;
    harness = await createSdkHarness({ targets: TARGETS, routes: resting, env: ENV, clock: true });
    const h = harness;
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    const failing = () => fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" });
    h.faux("mock-a").setResponses([failing(), failing(), failing()]);
    h.faux("mock-b").setResponses(Array.from({ length: 4 }, (_, i) => fauxAssistantMessage(`B answer ${i + 1}`)));
    await h.command("/auto-router reset cooldowns");
    await h.prompt("question 1");
    await h.command("/auto-router reset cooldowns");
    await h.prompt("question 2");
    await h.command("/auto-router reset cooldowns");
    await h.prompt("question 3");
    assert.equal(h.faux("mock-a").state.callCount, 3);
    h.advanceClock(BREAK_MS + 1);
    const shown = await commandOutput(h, "/auto-router circuit");
    assert.match(shown, /mock-a\/model-a\s+half-open\s+-\s+probe in \d+s, when its rest after server ends\s+server/);
    // And indeed the next request does not probe it.
    await h.prompt("question 4");
    assert.equal(h.faux("mock-a").state.callCount, 3);
    assert.equal(h.lastAssistant().provider, "mock-b");
  });

  it("counts a rest down in whole seconds rounded up: a rest still running never shows as 0s left", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: "429 Rate limit reached. Please try again in 20s.",
      }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B while A rests")]);
    await h.prompt("question 1");
    assert.equal(h.lastAssistant().provider, "mock-b");
    h.advanceClock(18_600);
    assert.match(await h.command("/auto-router status"), /main mock-a\/model-a: rate_limit, 2s left/);
    h.advanceClock(1_000);
    assert.match(await h.command("/auto-router status"), /main mock-a\/model-a: rate_limit, 1s left/);
    const listed = `${await h.command("/auto-router list")}\n${(h.ui!.widgets.get("auto-router") ?? []).join("\n")}`;
    assert.match(listed, /mock-a\/model-a .*cooldown 1s \(rate_limit\)/);
    assert.match(await h.command("/auto-router health"), /mock-a\/model-a .*main rate_limit 1s/);
  });

  it("re-opens the breaker when the probe fails and keeps serving from the next target", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    const failing = () => fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" });
    h.faux("mock-a").setResponses([failing(), failing(), failing(), failing()]);
    h.faux("mock-b").setResponses(Array.from({ length: 6 }, (_, i) => fauxAssistantMessage(`B answer ${i + 1}`)));
    for (let i = 0; i < 3; i++) await h.prompt(`question ${i + 1}`);
    h.advanceClock(BREAK_MS + 1);
    await h.prompt("probe question");
    assert.equal(h.faux("mock-a").state.callCount, 4); // the probe
    assert.equal(h.lastAssistant().provider, "mock-b");
    await h.prompt("after the failed probe");
    assert.equal(h.faux("mock-a").state.callCount, 4); // open again, with a longer break
    assert.match(await commandOutput(h, "/auto-router circuit"), /mock-a\/model-a\s+open/);
  });

  it("does not count an authentication failure against the breaker", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    const rejected = () => fauxAssistantMessage([], { stopReason: "error", errorMessage: "401 invalid x-api-key" });
    h.faux("mock-a").setResponses([rejected(), rejected(), rejected(), rejected()]);
    h.faux("mock-b").setResponses(Array.from({ length: 4 }, (_, i) => fauxAssistantMessage(`B answer ${i + 1}`)));
    for (let i = 0; i < 4; i++) await h.prompt(`question ${i + 1}`);
    // Every prompt still tried mock-a first: four auth failures did not open its breaker.
    assert.equal(h.faux("mock-a").state.callCount, 4);
    assert.doesNotMatch(await commandOutput(h, "/auto-router circuit"), /mock-a\/model-a\s+(open|half-open)/);
  });

  it("names an environment variable it cannot use, and keeps the routes file's setting in its place", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: { ...ROUTES, breaker: { minimumCalls: 3, breakMs: BREAK_MS } },
      env: {
        AUTO_ROUTER_BREAKER_RATIO: "50%",
        AUTO_ROUTER_BREAKER_MAX_BREAK_MS: "100",
        AUTO_ROUTER_BREAKER: "disabled",
      },
      clock: true,
    });
    const h = harness;
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    const failing = () => fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" });
    h.faux("mock-a").setResponses([failing(), failing(), failing(), fauxAssistantMessage("A is back")]);
    h.faux("mock-b").setResponses(Array.from({ length: 4 }, (_, i) => fauxAssistantMessage(`B answer ${i + 1}`)));
    for (let i = 0; i < 4; i++) await h.prompt(`question ${i + 1}`);
    // The ratio from the routes file (default 0.5) and its breakMs (not above the variable's 100 ms cap) are used,
    // and the breaker stays on: three failures opened it and the fourth prompt did not reach mock-a.
    assert.equal(h.faux("mock-a").state.callCount, 3);
    assert.match(await commandOutput(h, "/auto-router circuit"), /mock-a\/model-a\s+open/);
    const said = h.ui!.notifications.map((n) => n.message).join("\n");
    assert.match(said, /AUTO_ROUTER_BREAKER_RATIO="50%" is not used: expected a number above 0 and at most 1/);
    assert.match(said, /_MAX_BREAK_MS are not used: they would put breakMs \(300\) above maxBreakMs \(100\)/);
    assert.match(said, /AUTO_ROUTER_BREAKER="disabled" is not used: expected 0 \(off\) or 1 \(on\)/);
    // Each is said once, not per request.
    assert.equal(said.match(/AUTO_ROUTER_BREAKER_RATIO/g)?.length, 1);
  });

  it("neither counts a refusal against the breaker nor rests the target: a refusal is about the prompt", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    // pi-ai 0.73.1's words for Anthropic stop_reason "refusal" (newer pi-ai: "The model refused to complete ...").
    const refused = () => fauxAssistantMessage([], { stopReason: "error", errorMessage: "An unknown error occurred" });
    h.faux("mock-a").setResponses([refused(), refused(), refused(), refused(), fauxAssistantMessage("A answers")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B must not answer")]);
    for (let i = 0; i < 4; i++) await h.prompt(`question ${i + 1}`);
    await h.prompt("something else");
    // Each refusal was surfaced (not failed over), and the next prompt went to mock-a again.
    assert.equal(h.faux("mock-a").state.callCount, 5);
    assert.equal(h.faux("mock-b").state.callCount, 0);
    assert.doesNotMatch(await commandOutput(h, "/auto-router circuit"), /mock-a\/model-a\s+(open|half-open)/);
  });
});
