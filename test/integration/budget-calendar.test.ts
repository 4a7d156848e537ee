// The budget calendar at its edges through real pi: the session's frozen clock (SDK harness `clock: true`) set to
// instants around local midnights, DST changes and month ends in budgets.timeZone.
import assert from "node:assert/strict";
import { afterEach, describe, it, mock } from "node:test";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const PRICED = { input: 100, output: 100, cacheRead: 100, cacheWrite: 100 };
const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a", cost: PRICED }] },
  { provider: "mock-b", models: [{ id: "model-b", cost: PRICED }] },
];
const routes = (budgets: unknown) => ({
  routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") },
  budgets,
});

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

/** A session on route `main` whose clock stands at `iso`. */
async function startAt(iso: string, budgets: unknown): Promise<SdkHarness> {
  harness = await createSdkHarness({ targets: TARGETS, routes: routes(budgets), clock: true });
  mock.timers.setTime(Date.parse(iso));
  await harness.setModel("auto-router", "main");
  return harness;
}

/** One prompt; the provider that served it. */
async function serve(h: SdkHarness): Promise<string> {
  h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("from a")]);
  h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("from b")]);
  await h.prompt("hi");
  return h.lastAssistant().provider;
}

const warningsOf = async (h: SdkHarness) => /^warnings: (.*)$/m.exec(await h.command("/auto-router status"))?.[1] ?? "";

describe("the budget calendar at its edges", () => {
  it("ends a daily block at local midnight in budgets.timeZone, in /auto-router status too", async () => {
    // 23:50 in Kolkata (+05:30) is 18:20 UTC.
    const h = await startAt("2026-12-01T18:20:00Z", {
      timeZone: "Asia/Kolkata",
      providers: { "mock-a": { daily: 0.0001 } },
    });
    assert.equal(await serve(h), "mock-a");
    assert.equal(await serve(h), "mock-b", "over its daily budget, mock-a is skipped");
    assert.match(await warningsOf(h), /budget mock-a \S+ blocked/);
    h.advanceClock(9 * 60_000);
    assert.match(await h.command("/auto-router budget"), /today 2026-12-01, month 2026-12 \(Asia\/Kolkata\)/);
    assert.match(await warningsOf(h), /budget mock-a \S+ blocked/, "23:59 is still the same day");
    h.advanceClock(60_000);
    const show = await h.command("/auto-router budget");
    assert.match(show, /today 2026-12-02, month 2026-12 \(Asia\/Kolkata\)/);
    assert.match(show, /^mock-a +today +\$0\.00 +\$0\.0001 \(config\) +0% +0$/m, show);
    assert.doesNotMatch(await warningsOf(h), /budget mock-a/, "yesterday's block is not listed after midnight");
    assert.equal(await serve(h), "mock-a", "served again after local midnight");
  });
});
