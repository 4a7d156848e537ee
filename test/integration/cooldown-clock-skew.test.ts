// A cooldown is stored as an absolute time. One written while the clock ran ahead (a resumed VM, an NTP step, a team
// machine set wrong) must not rest the target for as long as the clock was off: through real pi, two sessions on one
// state directory, the first with its clock 10 days ahead.
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
});
