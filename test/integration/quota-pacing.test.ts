// Quota pacing from a subscription usage API through real pi (SDK in-process): the faux target provider is named
// `anthropic` and logged in with OAuth, so the UVI plugin reads its usage from the (emulated) Anthropic usage API with
// the login's token.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { readEventLogFile, until } from "../helpers/event-log.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { startQuotaEmulator, type QuotaEmulator } from "../helpers/quota-emulator.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";

const HOUR_MS = 3_600_000;
const OAUTH_TOKEN = "sk-ant-oat01-pacing-login";
const TARGETS = [
  { provider: "anthropic", models: [{ id: "claude-faux" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
];
const ROUTES = {
  routes: {
    main: routeInOrder("anthropic/claude-faux", "mock-b/model-b"),
  },
};

let quota: QuotaEmulator;
let harness: SdkHarness | undefined;
before(async () => {
  quota = await startQuotaEmulator();
});
after(() => quota.close());
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

/** The 5 h window `usedPercent` used with `hoursLeft` to go. */
const usage = (usedPercent: number, hoursLeft: number) => ({
  five_hour: { utilization: usedPercent, resets_at: new Date(Date.now() + hoursLeft * HOUR_MS).toISOString() },
});

/** The usage API's URL comes from the environment unless `endpointFromRoutes` (then the `uvi` block names it). */
async function start(uvi?: Record<string, unknown>, endpointFromRoutes = false): Promise<SdkHarness> {
  harness = await createSdkHarness({
    targets: TARGETS,
    routes: uvi ? { ...ROUTES, uvi } : ROUTES,
    env: endpointFromRoutes ? {} : { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}/api/oauth/usage` },
    // A Claude subscription (/login): its usage API takes the login's token.
    oauth: { anthropic: OAUTH_TOKEN },
  });
  await harness.setModel("auto-router", "main");
  return harness;
}

describe("quota pacing from a usage API through pi", () => {
  it("skips a provider whose usage API reports a critical window, serves the next target, and shows it in the status line", async () => {
    // 90% of the 5 h window used with 4 h left: 20% elapsed, UVI 4.5 -> critical.
    quota.reply("/api/oauth/usage", { body: usage(90, 4) });
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("anthropic").setResponses([fauxAssistantMessage("should not be used")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("Hello from B.")]);

    const shown = await h.command("/auto-router uvi refresh");
    assert.match(shown, /anthropic\s+5h\s+90%\s+20%\s+4\.[45]\d\s+critical/);
    assert.match(shown, /anthropic-usage \(anthropic\): ok, 1 window/);
    assert.equal(
      quota.calls.at(-1)?.headers.authorization,
      `Bearer ${OAUTH_TOKEN}`,
      "the usage API is read with the login's OAuth token from pi",
    );

    await h.prompt("Say hi");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("anthropic").state.callCount, 0);
    assert.match(
      await h.command("/auto-router explain"),
      /anthropic\/claude-faux.*quota critical: 5h window 90% used/s,
    );
    assert.match(h.ui!.statuses.get("auto-router") ?? "", /quota critical anthropic 4\.[45]/);
  });

  it("says a used-up window is used up in the status line, not its UVI (below critical)", async () => {
    // 100% of the 5 h window used with 1.5 h left: 70% elapsed, UVI 1.42, critical only because nothing is left.
    quota.reply("/api/oauth/usage", { body: usage(100, 1.5) });
    const h = await start();
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("Hello from B.")]);
    assert.match(await h.command("/auto-router uvi refresh"), /anthropic\s+5h\s+100%\s+70%\s+1\.42\s+critical/);
    await h.prompt("Say hi");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.match(h.ui!.statuses.get("auto-router") ?? "", /⚠ quota critical anthropic used up · /);
  });

  /**
   * Serves the solo route's one target after its used-up 5 h window resets `resetMs` from now, having shown the wait
   * in the status line (which cuts the target's name short); returns /auto-router explain's text.
   */
  async function servesAfterReset(resetMs: number, failover?: Record<string, unknown>): Promise<string> {
    harness = await createSdkHarness({
      targets: TARGETS,
      clock: true,
      routes: { routes: { solo: routeInOrder("anthropic/claude-faux") }, ...(failover ? { failover } : {}) },
      env: { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}/api/oauth/usage` },
      oauth: { anthropic: OAUTH_TOKEN },
    });
    const h = harness;
    await h.setModel("auto-router", "solo");
    quota.reply("/api/oauth/usage", {
      body: { five_hour: { utilization: 100, resets_at: new Date(Date.now() + resetMs).toISOString() } },
    });
    assert.match(await h.command("/auto-router uvi refresh"), /anthropic\s+5h\s+100%.*critical/);
    h.faux("anthropic").setResponses([h.fauxHelpers.fauxAssistantMessage("After the reset.")]);
    let ended = false;
    const running = h.prompt("Keep going").finally(() => {
      ended = true;
    });
    // A prompt that ends without waiting ends the wait at once (its error is then shown).
    const waiting = () =>
      new RegExp(`waiting ${resetMs / 1000}s for anthropic/`).test(h.ui!.statuses.get("auto-router") ?? "");
    await until(() => ended || waiting(), "the wait for the reset");
    assert.ok(waiting(), h.lastAssistant()?.errorMessage);
    // A wait for a reset ends a moment past it (RESET_MARGIN_MS), so the provider's own clock has rolled over too.
    h.advanceClock(resetMs + 1_000);
    await running;
    assert.equal(h.lastAssistant().content[0]?.text, "After the reset.");
    return h.command("/auto-router explain");
  }

  it("waits for a used-up window's reset within cooldownWaitMs when no other target can serve, then serves", async () => {
    // Resetting in 20 s: within the default short wait (30 s).
    // The frozen clock moved on 21 s at once: that is the wait explain names.
    assert.match(await servesAfterReset(20_000), /waited 21 s for anthropic\/claude-faux's quota reset/);
  });

  it("with failover.waitForReset, waits minutes for a used-up window's reset when no other target can serve", async () => {
    // Resetting in 4 min: beyond the short wait (30 s), within waitForReset's 10 min.
    const explained = await servesAfterReset(240_000, { waitForReset: { maxMs: 600_000 } });
    assert.match(explained, /waiting for the reset of anthropic\/claude-faux, 240 s away/);
  });

  it("takes a UVI exactly on the critical threshold as critical, as it shows it (2.00)", async () => {
    // 60% of the 5 h window used 1.5 h in (30% elapsed, on a frozen clock): UVI 2 exactly, not 1.9999999999999996.
    harness = await createSdkHarness({
      targets: TARGETS,
      clock: true,
      routes: ROUTES,
      env: { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}/api/oauth/usage` },
      oauth: { anthropic: OAUTH_TOKEN },
    });
    const h = harness;
    await h.setModel("auto-router", "main");
    quota.reply("/api/oauth/usage", { body: usage(60, 3.5) });
    assert.match(await h.command("/auto-router uvi refresh"), /anthropic\s+5h\s+60%\s+30%\s+2\.00\s+critical/);
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("Hello from B.")]);
    await h.prompt("Say hi");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.match(
      await h.command("/auto-router explain"),
      /quota critical: 5h window 60% used at 30% elapsed, UVI 2\.00/,
    );
  });

  it("logs a quota event when a critical window becomes used up at the same pace, so the timeline says used up", async (t) => {
    const stateDir = freshDir("auto-router-quota-events");
    t.after(() => rmSync(stateDir, { recursive: true, force: true }));
    harness = await createSdkHarness({
      targets: TARGETS,
      clock: true,
      routes: ROUTES,
      env: { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}/api/oauth/usage`, AUTO_ROUTER_LOG_DIR: stateDir },
      oauth: { anthropic: OAUTH_TOKEN },
    });
    const h = harness;
    // 50% used 1 h into 5 h: UVI 2.5, critical; an hour later 100% used 2 h in: UVI 2.5 still, but now used up.
    const resetsAt = new Date(Date.now() + 4 * HOUR_MS).toISOString();
    quota.reply("/api/oauth/usage", { body: { five_hour: { utilization: 50, resets_at: resetsAt } } });
    assert.match(await h.command("/auto-router uvi refresh"), /anthropic\s+5h\s+50%\s+20%\s+2\.50\s+critical/);
    h.advanceClock(HOUR_MS);
    quota.reply("/api/oauth/usage", { body: { five_hour: { utilization: 100, resets_at: resetsAt } } });
    assert.match(await h.command("/auto-router uvi refresh"), /anthropic\s+5h\s+100%\s+40%\s+2\.50\s+critical/);
    await h.dispose(); // flushes the event log
    harness = undefined;
    const logged = readEventLogFile(join(stateDir, "auto-router.events.jsonl"))
      .filter((event) => event.type === "quota" && event.data.provider === "anthropic")
      .map((event) => [event.data.level, event.data.uvi, event.data.usedUp ?? false]);
    assert.deepEqual(logged, [
      ["critical", 2.5, false],
      ["critical", 2.5, true],
    ]);
  });

  it("in hard mode, waits (failover.waitForReset) for a stressed window's pace to ease when nothing else can serve", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      clock: true,
      routes: {
        routes: { solo: routeInOrder("anthropic/claude-faux") },
        uvi: { hard: true },
        failover: { waitForReset: { maxMs: 900_000 } },
      },
      env: { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}/api/oauth/usage` },
      oauth: { anthropic: OAUTH_TOKEN },
    });
    const h = harness;
    await h.setModel("auto-router", "solo");
    // 95% used 3 h into 5 h: UVI 1.58, stressed (excluded in hard mode); below 1.5 from 3 h 10 min in, 600 s away (rounded up to the second, plus one).
    quota.reply("/api/oauth/usage", { body: usage(95, 2) });
    assert.match(await h.command("/auto-router uvi refresh"), /anthropic\s+5h\s+95%\s+60%\s+1\.58\s+stressed/);
    h.faux("anthropic").setResponses([h.fauxHelpers.fauxAssistantMessage("Paced again.")]);
    let ended = false;
    const running = h.prompt("Keep going").finally(() => {
      ended = true;
    });
    // The line is too short for the target's name beside the hard-mode mark and the warning: the wait is shortened
    // at a word, never cut inside the name (`for ant…`).
    const waiting = () => /waiting 60[12]s for(…| anthropic\/)/.test(h.ui!.statuses.get("auto-router") ?? "");
    await until(() => ended || waiting(), "the wait for the pace to ease");
    assert.ok(waiting(), h.lastAssistant()?.errorMessage);
    h.advanceClock(605_000); // past the eased time, and past the wait's margin after it
    await running;
    assert.equal(h.lastAssistant().content[0]?.text, "Paced again.");
    assert.match(
      await h.command("/auto-router explain"),
      /waiting for the reset of anthropic\/claude-faux, 60[12] s away/,
    );
  });

  it("shows a stressed provider in the status line and still serves it after the others", async () => {
    // 95% of the 5 h window used with 2 h left: 60% elapsed, UVI 1.58 (shown rounded down: 1.5) -> stressed (demoted, not excluded).
    quota.reply("/api/oauth/usage", { body: usage(95, 2) });
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-b").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" }),
    ]);
    h.faux("anthropic").setResponses([fauxAssistantMessage("Hello from the stressed one.")]);
    await h.command("/auto-router uvi refresh");
    await h.prompt("Say hi");
    assert.equal(h.lastAssistant().provider, "anthropic", "demoted, not excluded: it serves when the other fails");
    assert.equal(h.faux("mock-b").state.callCount, 1);
    // Warnings come right after the route, whole: the quota's as it is now, once (the candidate's demotion reason,
    // from when the request was routed, is explain's, not a second warning about the same window).
    assert.match(h.ui!.statuses.get("auto-router") ?? "", /^⇄ main · ⚠ quota stressed anthropic 1\.5 · /);
    // Explain gives the demotion's reason once (it is also the status line's warning, not a second one).
    const candidate = (await h.command("/auto-router explain"))
      .split("\n")
      .find((line) => /^ {2}\d+\. .*anthropic\/claude-faux/.test(line));
    assert.match(candidate ?? "", /demoted.* - quota stressed: 5h window 95% used/);
    assert.equal((candidate ?? "").split("quota stressed").length - 1, 1, candidate);
  });

  it("reads the usage API at the URL the routes file's uvi.endpoints names", async () => {
    quota.reply("/api/oauth/usage", { body: usage(90, 4) });
    const calls = quota.calls.length;
    const h = await start({ endpoints: { anthropic: `${quota.url}/api/oauth/usage` } }, true);
    assert.match(await h.command("/auto-router uvi refresh"), /anthropic\s+5h\s+90%\s+20%\s+4\.[45]\d\s+critical/);
    assert.ok(quota.calls.length > calls, "the emulated usage API was asked");
  });

  it("reads a usage API through a connection the server reset (a closed keep-alive one) instead of going stale", async () => {
    quota.reply("/api/oauth/usage", { body: usage(10, 4) });
    const h = await start();
    // The session's own first read is over (a forced refresh joins one in flight): the reset meets the next.
    assert.match(await h.command("/auto-router uvi refresh"), /anthropic\s+5h\s+10%/);
    quota.reply("/api/oauth/usage", { body: usage(90, 4), resets: 1 });
    const calls = quota.calls.length;
    const shown = await h.command("/auto-router uvi refresh");
    assert.match(shown, /anthropic-usage \(anthropic\): ok, 1 window/);
    assert.match(shown, /anthropic\s+5h\s+90%\s+20%\s+4\.[45]\d\s+critical/);
    assert.equal(quota.calls.length, calls + 2, "the reset request and the one on a new connection");
  });

  it("reads the usage API again every uvi.ttlMs by itself", async () => {
    quota.reply("/api/oauth/usage", { body: usage(10, 4) });
    const asked = () => quota.calls.filter((call) => call.path === "/api/oauth/usage").length;
    const before = asked();
    await start({ ttlMs: 1_000 });
    // The first read comes with the session; with the default (5 min) the next would be minutes away.
    await until(() => asked() >= before + 3, "three reads of the usage API, one a second");
  });

  it("takes a critical quota off the status line when a background refresh of the usage API finds it eased, before any prompt", async () => {
    quota.reply("/api/oauth/usage", { body: usage(90, 4) });
    const h = await start({ ttlMs: 1_000 });
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("Hello from B.")]);
    await h.command("/auto-router uvi refresh");
    await h.prompt("Say hi");
    assert.equal(h.lastAssistant().provider, "mock-b");
    const line = () => h.ui!.statuses.get("auto-router") ?? "";
    assert.match(line(), /quota critical anthropic/);
    // The usage API now says the window is barely used: the next background read (every second here) clears the line.
    quota.reply("/api/oauth/usage", { body: usage(5, 4) });
    await until(() => !/quota critical/.test(line()), `the status line without its quota warning (${line()})`, 5_000);
  });

  it("reads the levels with the routes file's uvi.thresholds", async () => {
    // The first test's reading (UVI 4.5, critical by default) is only stressed under a critical threshold of 5, and
    // a 20%-used window half through (UVI 0.4, ok by default: surplus needs 70% elapsed) is surplus from 50%.
    quota.reply("/api/oauth/usage", { body: usage(90, 4) });
    const h = await start({ thresholds: { critical: 5, surplusElapsed: 0.5 } });
    const { fauxAssistantMessage } = h.fauxHelpers;
    assert.match(await h.command("/auto-router uvi refresh"), /anthropic\s+5h\s+90%\s+20%\s+4\.[45]\d\s+stressed/);
    h.faux("mock-b").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" }),
    ]);
    h.faux("anthropic").setResponses([fauxAssistantMessage("Hello from the stressed one.")]);
    await h.prompt("Say hi");
    assert.equal(h.lastAssistant().provider, "anthropic", "stressed, so demoted but not excluded");

    quota.reply("/api/oauth/usage", { body: usage(20, 2.5) });
    assert.match(await h.command("/auto-router uvi refresh"), /anthropic\s+5h\s+20%\s+(49|50)%\s+0\.(39|40)\s+surplus/);
  });
});
