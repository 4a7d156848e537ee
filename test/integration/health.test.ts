// Provider health and monthly-spend pacing through real pi (SDK in-process, faux targets): a provider whose checks
// keep failing is skipped with the reason until a probe succeeds; a per-token provider spending its monthly budget
// too fast is paced by UVI and shows in the status line.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const PRICED = { input: 100, output: 100, cacheRead: 100, cacheWrite: 100 };
const TARGETS = [
  {
    provider: "mock-a",
    models: [
      { id: "model-a", cost: PRICED },
      { id: "model-a2", cost: PRICED },
    ],
  },
  { provider: "mock-b", models: [{ id: "model-b", cost: PRICED }] },
];
/** Cooldowns off, so what keeps mock-a out is the health mark and nothing else. */
const FAILOVER = { kinds: { auth: { cooldownMs: 0 }, server: { cooldownMs: 0 } } };
const routes = (
  extra: Record<string, unknown> = {},
  targets: Array<Record<string, unknown>> = [
    { provider: "mock-a", modelId: "model-a" },
    { provider: "mock-b", modelId: "model-b" },
  ],
) => ({
  routes: { main: { sortBy: "config", targets, failover: FAILOVER } },
  ...extra,
});
/** The breaker must not be what skips mock-a here. */
const ENV = { AUTO_ROUTER_BREAKER: "0" };

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

async function start(extra?: Record<string, unknown>, env: Record<string, string> = {}): Promise<SdkHarness> {
  harness = await createSdkHarness({ targets: TARGETS, routes: routes(extra), env: { ...ENV, ...env } });
  await harness.setModel("auto-router", "main");
  return harness;
}

function eventsIn(stateDir: string): any[] {
  const found: any[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/events.*\.jsonl$/.test(entry.name))
        found.push(
          ...readFileSync(path, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((line) => JSON.parse(line)),
        );
    }
  };
  walk(stateDir);
  return found;
}

describe("provider health through pi", () => {
  it("skips a provider whose probes failed three times in a row with the reason, and serves it again once a probe succeeds", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    const unauthorized = () =>
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "401 Unauthorized: invalid x-api-key" });
    h.faux("mock-a").setResponses([unauthorized(), unauthorized(), unauthorized()]);
    h.faux("mock-b").setResponses(Array.from({ length: 5 }, (_, i) => fauxAssistantMessage(`B answer ${i + 1}`)));
    for (let i = 1; i <= 3; i++) {
      const probed = await h.command("/auto-router health --probe");
      // The failure's status, not the 200 its answer began with (pi's faux target answers 200 and then fails).
      assert.match(probed, /mock-a\/model-a\s+failed 401 auth \d+ ms: .*\s+yes\s+api-key\s+-\s+closed/);
      assert.match(
        probed,
        i < 3 ? new RegExp(`mock-a: healthy, ${i} failed check${i === 1 ? "" : "s"} in a row`) : /mock-a: UNHEALTHY/,
      );
    }
    await h.prompt("question");
    assert.equal(h.faux("mock-a").state.callCount, 3, "an unhealthy provider gets no request");
    assert.equal(h.lastAssistant().provider, "mock-b");
    const explained = await h.command("/auto-router explain");
    assert.match(explained, /mock-a\/model-a.*unhealthy.*3 failed checks in a row/s);
    assert.match(h.ui!.statuses.get("auto-router") ?? "", /unhealthy mock-a/);

    const report = await h.command("/auto-router health");
    assert.match(report, /mock-a: UNHEALTHY/);
    assert.match(report, /last error .* ago: probe auth:/);
    assert.match(report, /mock-b: healthy; credentials api-key/);

    h.faux("mock-a").setResponses([fauxAssistantMessage("ok"), fauxAssistantMessage("A is back")]);
    const probed = await h.command("/auto-router health --probe");
    // The probe's result comes right after the target (a narrow terminal leaves out the right-most columns first).
    assert.match(probed, /target\s+probe\s+model\s+credentials\s+cooldown\s+breaker/);
    assert.match(probed, /mock-a\/model-a\s+ok (\d{3} )?\d+ ms\s+yes\s+api-key\s+-\s+closed/);
    assert.match(probed, /mock-a: healthy/);
    await h.prompt("question 2");
    assert.equal(h.lastAssistant().provider, "mock-a");
  });

  it("says when a route whose every provider is unhealthy is served again, and that a probe that answers lifts the mark", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    const down = () => fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" });
    for (const provider of ["mock-a", "mock-b"]) h.faux(provider).setResponses([down(), down(), down()]);
    for (let i = 1; i <= 3; i++) await h.command("/auto-router health --probe");
    await h.prompt("question");
    const error = h.lastAssistant().errorMessage ?? "";
    assert.match(error, /no target of route main is available now \(mock-a\/model-a: health: 3 failed checks/);
    assert.match(error, /First available: mock-a\/model-a at \d\d:\d\d:\d\d \(in 10m\)\./);
    assert.match(
      error,
      /A provider marked unhealthy is routed to again when its mark lapses, or at once when \/auto-router health --probe gets an answer from it\./,
    );
    assert.match(await h.command("/auto-router explain"), /mock-a\/model-a: unhealthy for 10m - health: 3 failed/);
    assert.match(await h.command("/auto-router list"), /mock-a\/model-a\s+unhealthy 10m \(health: 3 failed checks/);
  });

  it("counts one --probe run as one check of a provider, however many of its targets fail", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: routes({}, [
        { provider: "mock-a", modelId: "model-a" },
        { provider: "mock-a", modelId: "model-a2" },
        { provider: "mock-b", modelId: "model-b" },
      ]),
      env: ENV,
    });
    await harness.setModel("auto-router", "main");
    const { fauxAssistantMessage } = harness.fauxHelpers;
    const unauthorized = () =>
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "401 Unauthorized: invalid x-api-key" });
    harness.faux("mock-a").setResponses([unauthorized(), unauthorized()]);
    harness.faux("mock-b").setResponses([fauxAssistantMessage("B ok")]);
    const probed = await harness.command("/auto-router health --probe");
    assert.equal(harness.faux("mock-a").state.callCount, 2, "both mock-a targets probed");
    assert.match(probed, /mock-a: healthy, 1 failed check in a row/);
    assert.doesNotMatch(probed, /UNHEALTHY/);
  });

  it("counts what a probe's answer used as the spend of its provider, as a routed answer's", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("ok")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("ok")]);
    await h.command("/auto-router health --probe");
    const budget = await h.command("/auto-router budget");
    for (const provider of ["mock-a", "mock-b"])
      assert.match(
        budget,
        new RegExp(`^${provider}\\s+today\\s+\\$0\\.0*[1-9]\\d*\\s.*\\s1 \\(1 estimated\\)$`, "m"),
        budget,
      );
  });

  it("sends no probe to a per-token target whose account is over its hard budget, and says why", async () => {
    const h = await start({ budgets: { policy: "hard", providers: { "mock-a": { daily: 0 } } } });
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("ok")]);
    const probed = await h.command("/auto-router health --probe");
    assert.equal(h.faux("mock-a").state.callCount, 0, "nothing paid past the hard budget");
    assert.equal(h.faux("mock-b").state.callCount, 1);
    assert.match(probed, /mock-a\/model-a\s+not sent: hard budget: daily \$0\.00 of \$0\.00 \(100%\)\s+yes/, probed);
    assert.match(probed, /mock-a: healthy;/, probed);
  });

  it("holds back a probe whose cost does not fit what is left of a hard budget, and ends the reservation of one sent", async () => {
    // A probe sends ~16 input tokens and 1 output token: at $100 per 1M tokens ~$0.0017, more than $0.001.
    const h = await start({ budgets: { policy: "hard", providers: { "mock-a": { daily: 0.001 } } } });
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("ok")]);
    const probed = await h.command("/auto-router health --probe");
    assert.equal(h.faux("mock-a").state.callCount, 0, "nothing paid past the hard budget");
    assert.match(
      probed,
      /mock-a\/model-a\s+not sent: hard daily budget: spent \$0\.00 \+ in flight \$0\.00 \+ this request ~\$0\.0017 exceeds \$0\.001\s/,
      probed,
    );
    // With room for it, the probe is sent, and its reservation ends with its answer, or with its failure.
    assert.match(await h.command("/auto-router budget set mock-a 1 daily"), /mock-a/);
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage("ok"),
      () => {
        throw new Error("503 Service Unavailable"); // an error without usage: nothing to book, the reservation ends
      },
    ]);
    for (let run = 0; run < 2; run++) await h.command("/auto-router health --probe");
    assert.equal(h.faux("mock-a").state.callCount, 2);
    const budget = await h.command("/auto-router budget");
    assert.doesNotMatch(budget, /in flight/, "no probe's reservation is left in flight");
    assert.match(budget, /^mock-a +today +\$0\.00\d+ +\$1\.00 \(set, config \$0\.001\) +0% +1 /m, budget);
  });

  it("leaves a target with probe: false out of --probe and says so", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: routes({}, [
        { provider: "mock-a", modelId: "model-a", probe: false },
        { provider: "mock-b", modelId: "model-b" },
      ]),
      env: ENV,
    });
    harness.faux("mock-b").setResponses([harness.fauxHelpers.fauxAssistantMessage("B ok")]);
    const probed = await harness.command("/auto-router health --probe");
    assert.equal(harness.faux("mock-a").state.callCount, 0);
    assert.equal(harness.faux("mock-b").state.callCount, 1);
    assert.match(probed, /mock-a\/model-a\b.*off \(probe: false\)/);
  });

  it("remembers the last error of real requests without taking the provider out", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    const unauthorized = () =>
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "401 Unauthorized: invalid x-api-key" });
    h.faux("mock-a").setResponses([unauthorized(), unauthorized(), unauthorized(), unauthorized()]);
    h.faux("mock-b").setResponses(Array.from({ length: 4 }, (_, i) => fauxAssistantMessage(`B answer ${i + 1}`)));
    for (let i = 0; i < 4; i++) await h.prompt(`question ${i + 1}`);
    assert.equal(h.faux("mock-a").state.callCount, 4, "every prompt still tried mock-a first");
    const report = await h.command("/auto-router health");
    assert.match(report, /mock-a: healthy; credentials api-key/);
    assert.match(report, /last error .* ago: auth: 401 Unauthorized/);
  });

  it("reports every routed provider as JSON for scripts with --json", async () => {
    const h = await start();
    const output = await h.command("/auto-router health --json");
    const parsed = JSON.parse(output);
    assert.deepEqual(
      parsed.providers.map((p: any) => [p.provider, p.credentials, p.targets[0].resolvable, p.targets[0].breaker]),
      [
        ["mock-a", "api-key", true, "closed"],
        ["mock-b", "api-key", true, "closed"],
      ],
    );
    assert.equal(parsed.providers[0].unhealthy, undefined);
    assert.equal(parsed.providers[0].quotaSource, undefined, "a faux provider has no usage API");
  });
});

describe("monthly spend pacing through pi", () => {
  it("demotes a per-token provider spending its monthly budget faster than the month passes, and logs a quota event", async () => {
    const stateDir = freshDir("auto-router-health-state");
    const h = await start(
      { budgets: { providers: { "mock-a": { monthly: 0.0001 } } } },
      { AUTO_ROUTER_LOG_DIR: stateDir },
    );
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage("A answer"),
      fauxAssistantMessage("A again (should not be used)"),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B answer")]);
    await h.prompt("first");
    assert.equal(h.lastAssistant().provider, "mock-a");

    // Past its limit: pacing says stressed (a budget window demotes at most), the budget itself skips it.
    const uvi = await h.command("/auto-router uvi");
    assert.match(uvi, /critical ≥ 2 or used up \(excluded\).*a monthly budget's window is at most stressed/);
    assert.match(uvi, /mock-a\s+monthly budget\s+\d+%\s+\d+%\s+[\d.]+\s+stressed\s+in .*budget/);
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 1);
    const explained = await h.command("/auto-router explain");
    assert.match(explained, /mock-a\/model-a.*budget blocked: monthly/s);
    assert.doesNotMatch(explained, /quota critical/);

    await h.dispose();
    harness = undefined;
    const events = eventsIn(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
    const quota = events.filter((event) => event.type === "quota" && event.data.provider === "mock-a");
    assert.ok(quota.length >= 1, "a quota event for mock-a");
    assert.deepEqual(
      { level: quota.at(-1).data.level, window: quota.at(-1).data.window, source: quota.at(-1).data.source },
      { level: "stressed", window: "monthly budget", source: "budget" },
    );
  });

  it("keeps a soft monthly budget soft: past its limit, a route with no other target is still served, as for a daily one", async () => {
    const h = await start({
      routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } },
      budgets: { providers: { "mock-a": { monthly: 0.0001 } } },
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("A answer"), fauxAssistantMessage("A again, over budget")]);
    await h.prompt("first");
    await h.prompt("second");
    assert.equal(h.lastAssistant().stopReason, "stop");
    assert.equal(h.lastAssistant().provider, "mock-a");
    const explained = await h.command("/auto-router explain");
    assert.match(explained, /every target was excluded by soft reasons \(budget\); budget policy soft/);
  });
});
