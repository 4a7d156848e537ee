// failover.revert through real pi (SDK in-process, faux targets): after a failover, when the next prompts go back to
// the first choice. The first choice's failure leaves no cooldown here (cooldownMs 0), so only the policy decides.
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { freshDir } from "../helpers/temp-and-workers.ts";
import { harnessPerTest, type SdkHarness } from "../helpers/sdk-harness.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
  { provider: "mock-c", models: [{ id: "model-c" }] },
];

const harnesses = harnessPerTest();

async function start(
  failover: Record<string, unknown>,
  env?: Record<string, string>,
  third = false,
): Promise<SdkHarness> {
  const harness = await harnesses.start({
    env,
    targets: TARGETS,
    routes: {
      routes: {
        main: {
          sortBy: "config",
          failover: { kinds: { server: { cooldownMs: 0 } }, ...failover },
          targets: [
            { provider: "mock-a", modelId: "model-a" },
            { provider: "mock-b", modelId: "model-b" },
            ...(third ? [{ provider: "mock-c", modelId: "model-c" }] : []),
          ],
        },
      },
    },
  });
  await harness.setModel("auto-router", "main");
  return harness;
}

/** Prompt 1: the first choice answers 503 and B takes over. */
async function failOverOnce(h: SdkHarness, aFollowUps: unknown[], bFollowUps: unknown[]): Promise<void> {
  const { fauxAssistantMessage } = h.fauxHelpers;
  h.faux("mock-a").setResponses([
    fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" }),
    ...aFollowUps,
  ]);
  h.faux("mock-b").setResponses([fauxAssistantMessage("B took over"), ...bFollowUps]);
  await h.prompt("first");
  assert.equal(h.lastAssistant().provider, "mock-b");
}

describe("going back to the first choice after a failover", () => {
  it("goes straight back by default once the first choice is available (cooldown-expiry)", async () => {
    const h = await start({});
    await failOverOnce(h, [h.fauxHelpers.fauxAssistantMessage("A is back")], []);
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-a");
  });

  it("stays on the target that took over with revert never, and explain says why", async () => {
    const h = await start({ revert: "never" });
    const { fauxAssistantMessage } = h.fauxHelpers;
    await failOverOnce(h, [], [fauxAssistantMessage("still B"), fauxAssistantMessage("B again")]);
    assert.match(
      await h.command("/auto-router status"),
      /\n {2}main: on mock-b\/model-b after failing over from mock-a\/model-a; until it fails \(revert: never\)/,
    );
    await h.prompt("second");
    await h.prompt("third");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 1);
    assert.match(
      await h.command("/auto-router explain"),
      /Notes:\n {2}staying on mock-b\/model-b after failing over from mock-a\/model-a \(revert: never\)/,
    );
  });

  it("moves the hold to a third target that takes over when the stand-in fails, and stays there (revert never)", async () => {
    const h = await start({ revert: "never" }, undefined, true);
    const { fauxAssistantMessage } = h.fauxHelpers;
    const failure = () => fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" });
    // Prompt 2 keeps to the stand-in B, which fails, and the first choice fails again: C serves.
    await failOverOnce(
      h,
      [failure(), fauxAssistantMessage("A too early")],
      [failure(), fauxAssistantMessage("B again")],
    );
    h.faux("mock-c").setResponses([fauxAssistantMessage("C took over"), fauxAssistantMessage("still C")]);
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-c");
    assert.match(
      await h.command("/auto-router explain"),
      /revert hold moved: the stand-in mock-b\/model-b failed and mock-c\/model-c served, so the route stays on it/,
    );
    assert.match(
      await h.command("/auto-router status"),
      /\n {2}main: on mock-c\/model-c after failing over from mock-a\/model-a; until it fails \(revert: never\)/,
    );
    // Every target is available again (no cooldowns): the route stays on the target that took over.
    await h.prompt("third");
    assert.equal(h.lastAssistant().provider, "mock-c");
    assert.equal(h.faux("mock-a").state.callCount, 2);
    assert.equal(h.faux("mock-b").state.callCount, 2);
  });

  it("holds off on the stand-in, then probes the first choice with one request and goes back when it answers", async () => {
    const h = await start({ revert: "holdoff", holdoffMs: 3_600_000 });
    const { fauxAssistantMessage } = h.fauxHelpers;
    assert.doesNotMatch(await h.command("/auto-router status"), /revert holds/);
    await failOverOnce(h, [], [fauxAssistantMessage("B during the holdoff")]);
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 1);
    assert.match(
      await h.command("/auto-router status"),
      /\nrevert holds:\n {2}main: on mock-b\/model-b after failing over from mock-a\/model-a; probes the first choice in (59|60)m\n/,
    );
  });

  it("probes the first choice once the holdoff is over and stays back on it after the probe answers", async () => {
    const h = await start({ revert: "holdoff", holdoffMs: 0 });
    const { fauxAssistantMessage } = h.fauxHelpers;
    await failOverOnce(h, [fauxAssistantMessage("A answered the probe"), fauxAssistantMessage("A for good")], []);
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-a");
    assert.match(await h.command("/auto-router explain"), /revert probe: trying mock-a\/model-a again/);
    await h.prompt("third");
    assert.equal(h.lastAssistant().provider, "mock-a");
    assert.equal(h.faux("mock-b").state.callCount, 1);
  });

  it("stays on the stand-in when the probe fails, within the same request", async () => {
    const h = await start({ revert: "holdoff", holdoffMs: 0 });
    const { fauxAssistantMessage } = h.fauxHelpers;
    await failOverOnce(
      h,
      [fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" })],
      [fauxAssistantMessage("B after the failed probe")],
    );
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 2);
  });

  it("keeps a hold across pi processes: the next one starts on the stand-in, until reset all lets it go", async () => {
    const shared = { revert: "holdoff", holdoffMs: 3_600_000 };
    const first = await start(shared, { AUTO_ROUTER_LOG_DIR: freshDir("auto-router-revert") });
    const stateDir = process.env.AUTO_ROUTER_LOG_DIR!;
    await failOverOnce(first, [], []);
    await harnesses.stop(); // pi quits: its state is written out
    const holds = JSON.parse(readFileSync(join(stateDir, "auto-router.revert.json"), "utf8"));
    assert.deepEqual(Object.keys(holds.holds), ["main"]);
    assert.equal(holds.holds.main.standIn, "mock-b/model-b");

    // Another pi window (or the next pi) on the same state: the first choice is available again (no cooldown), but
    // the route holds off on the stand-in as the first window did.
    const next = await start(shared, { AUTO_ROUTER_LOG_DIR: stateDir });
    const { fauxAssistantMessage } = next.fauxHelpers;
    next.faux("mock-a").setResponses([fauxAssistantMessage("A too early")]);
    next.faux("mock-b").setResponses([fauxAssistantMessage("B, held")]);
    await next.prompt("in the next window");
    assert.equal(next.lastAssistant().provider, "mock-b");
    assert.equal(next.faux("mock-a").state.callCount, 0);
    const explain = await next.command("/auto-router explain");
    // When the first choice is probed, as /auto-router status says it: not a raw UTC time.
    assert.match(
      explain,
      /staying on mock-b\/model-b after failing over from mock-a\/model-a \(holdoff: probes the first choice in (59|60)m\)/,
    );
    assert.doesNotMatch(explain, /\d{4}-\d\d-\d\dT\d\d:/, "no raw ISO time");
    next.ui!.confirmAnswer = true;
    assert.match(await next.command("/auto-router reset all"), /1 revert hold cleared/);
    await next.prompt("after the reset");
    assert.equal(next.lastAssistant().provider, "mock-a");
    rmSync(stateDir, { recursive: true, force: true });
  });
});
