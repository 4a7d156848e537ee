// A cooldown, an open breaker's break and a health mark are stored as absolute times. One written while the clock ran
// ahead (a resumed VM, an NTP step, a team machine set wrong) must not keep the target out for as long as the clock was
// off: through real pi, two sessions on one state directory, the first with its clock 10 days ahead.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { afterEach, describe, it } from "node:test";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
];
const routes = (targets: string[]) => ({
  routes: {
    main: {
      sortBy: "config",
      targets: targets.map((target) => ({ provider: target.split("/")[0], modelId: target.split("/")[1] })),
    },
  },
});
const TEN_DAYS_MS = 10 * 24 * 3_600_000;
const BREAKER = { ratio: 0.5, minimumCalls: 2, windowMs: 60_000, breakMs: 2_000, maxBreakMs: 4_000 };
/** A server error rests nothing here, so that the breaker is what keeps the target out. */
const NO_REST = { kinds: { server: { cooldownMs: 0 } }, cooldownWaitMs: 0 };

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

describe("cooldowns and a clock that ran ahead", () => {
  it("rests a target no longer than the cooldown it was given when that cooldown was set with the clock 10 days ahead", async () => {
    const stateDir = freshDir("auto-router-clock-skew");
    try {
      harness = await createSdkHarness({
        targets: TARGETS,
        routes: routes(["mock-a/model-a", "mock-b/model-b"]),
        env: { AUTO_ROUTER_LOG_DIR: stateDir },
        clock: true,
      });
      harness.advanceClock(TEN_DAYS_MS);
      await harness.setModel("auto-router", "main");
      const { fauxAssistantMessage } = harness.fauxHelpers;
      harness.faux("mock-a").setResponses([
        fauxAssistantMessage([], {
          stopReason: "error",
          errorMessage: "429 Rate limit reached. Please try again in 1s.",
        }),
      ]);
      harness.faux("mock-b").setResponses([fauxAssistantMessage("B while A rests")]);
      await harness.prompt("one");
      assert.equal(harness.lastAssistant().provider, "mock-b");
      await harness.dispose();

      // Back at the real time: mock-a is the route's only target, and it rests at most its 1 s.
      harness = await createSdkHarness({
        targets: TARGETS,
        routes: routes(["mock-a/model-a"]),
        env: { AUTO_ROUTER_LOG_DIR: stateDir },
      });
      await harness.setModel("auto-router", "main");
      harness.faux("mock-a").setResponses([harness.fauxHelpers.fauxAssistantMessage("A again")]);
      const status = await harness.command("/auto-router status");
      assert.doesNotMatch(status, /\d{2,}h\d{2}m/, status);
      await harness.prompt("two");
      assert.equal(harness.lastAssistant().provider, "mock-a", JSON.stringify(harness.lastAssistant()));
      assert.equal(harness.faux("mock-a").state.callCount, 1);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
  it("keeps a target's breaker open no longer than its break when it opened with the clock 10 days ahead", async () => {
    const stateDir = freshDir("auto-router-clock-skew-breaker");
    try {
      harness = await createSdkHarness({
        targets: TARGETS,
        routes: { ...routes(["mock-a/model-a", "mock-b/model-b"]), breaker: BREAKER, failover: NO_REST },
        env: { AUTO_ROUTER_LOG_DIR: stateDir },
        clock: true,
        ui: true,
      });
      harness.advanceClock(TEN_DAYS_MS);
      await harness.setModel("auto-router", "main");
      const { fauxAssistantMessage } = harness.fauxHelpers;
      const serverError = () =>
        fauxAssistantMessage([], { stopReason: "error", errorMessage: "500 Internal server error" });
      harness.faux("mock-a").setResponses([serverError(), serverError()]);
      harness.faux("mock-b").setResponses([fauxAssistantMessage("B one"), fauxAssistantMessage("B two")]);
      for (const prompt of ["one", "two"]) {
        await harness.prompt(prompt);
        harness.advanceClock(1);
      }
      assert.match(await harness.command("/auto-router circuit"), /mock-a\/model-a\s+open\b/);
      await harness.dispose();

      // Back at the real time: the break ends at most its 2 s from now, not ten days and 2 s from now.
      harness = await createSdkHarness({
        targets: TARGETS,
        routes: { ...routes(["mock-a/model-a", "mock-b/model-b"]), breaker: BREAKER, failover: NO_REST },
        env: { AUTO_ROUTER_LOG_DIR: stateDir },
        ui: true,
      });
      const circuit = await harness.command("/auto-router circuit");
      assert.match(circuit, /mock-a\/model-a\s+open\b.*probe in [12]s/, circuit);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
  it("holds a provider marked unhealthy with the clock 10 days ahead no longer than a mark's 10 minutes", async () => {
    const stateDir = freshDir("auto-router-clock-skew-health");
    // Cooldowns and the breaker off: the health mark is all that keeps mock-a out.
    const setup = {
      targets: TARGETS,
      routes: { ...routes(["mock-a/model-a", "mock-b/model-b"]), failover: { kinds: { auth: { cooldownMs: 0 } } } },
      env: { AUTO_ROUTER_LOG_DIR: stateDir, AUTO_ROUTER_BREAKER: "0" },
      clock: true,
    };
    try {
      harness = await createSdkHarness(setup);
      harness.advanceClock(TEN_DAYS_MS);
      await harness.setModel("auto-router", "main");
      const { fauxAssistantMessage } = harness.fauxHelpers;
      const unauthorized = () => fauxAssistantMessage([], { stopReason: "error", errorMessage: "401 Unauthorized" });
      harness.faux("mock-a").setResponses([unauthorized(), unauthorized(), unauthorized()]);
      for (let i = 0; i < 3; i++) await harness.command("/auto-router health --probe");
      assert.match(await harness.command("/auto-router health"), /mock-a: UNHEALTHY/);
      await harness.dispose();

      // Back at the real time: the mark holds mock-a out for its 10 minutes from now, not ten days and 10 minutes.
      harness = await createSdkHarness(setup);
      await harness.setModel("auto-router", "main");
      const listed = await harness.command("/auto-router list");
      assert.match(listed, /mock-a\/model-a\s+unhealthy 10m\b/, listed);
      harness.faux("mock-a").setResponses([harness.fauxHelpers.fauxAssistantMessage("A again")]);
      harness.faux("mock-b").setResponses([harness.fauxHelpers.fauxAssistantMessage("B meanwhile")]);
      await harness.prompt("one");
      assert.equal(harness.lastAssistant().provider, "mock-b");
      harness.advanceClock(10 * 60_000 + 1_000);
      await harness.prompt("two");
      assert.equal(harness.lastAssistant().provider, "mock-a", JSON.stringify(harness.lastAssistant()));
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
