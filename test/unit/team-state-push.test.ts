// `state push` (pure parts): what of a machine's file ledger is its own spend and what it imported from the earlier
// router's stats file, the machine's mark, what the push says, and which command-set limits go into the team's.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { emptyLimits, type LimitsState, pushLimits } from "../../src/budget/budget-limits.ts";
import {
  addMarkerOperation,
  importLegacyOperation,
  LEGACY_MODEL_ID,
  LEGACY_STATS_FILE,
  legacyOwnerMarker,
  parseLegacyStats,
} from "../../src/budget/legacy-stats.ts";
import { emptyLedger, emptyTotals, type UsageLedger } from "../../src/budget/usage-ledger.ts";
import { ledgerPushPlan, pushMarker } from "../../src/team/ledger-hashes.ts";
import { describeLedgerPush, describeLimitsPush, pushedContent } from "../../src/team/state-backend.ts";

const day = "2026-11-29";
const month = "2026-11";

function withSpend(ledger: UsageLedger, provider: string, modelId: string, costUsd: number): UsageLedger {
  const next = structuredClone(ledger);
  const totals = { ...emptyTotals(), requests: 1, costUsd };
  for (const [period, key] of [
    ["days", day],
    ["months", month],
  ] as const)
    ((next[period][key] ??= {})[provider] ??= {})[modelId] = totals;
  return next;
}

const OLD_STATS = {
  version: 2,
  daily: { [day]: { "mock-a": { inputTokens: 10, outputTokens: 5, estimatedCost: 1 } } },
  monthly: { [month]: { "mock-a": { inputTokens: 10, outputTokens: 5, estimatedCost: 1 } } },
  limits: {},
};

describe("state push: the usage ledger", () => {
  it("adds all of a ledger that imported no stats file as its own spend, a model named (legacy) too", () => {
    const ledger = withSpend(withSpend(emptyLedger(), "p", "m", 0.5), "p", LEGACY_MODEL_ID, 1);
    const plan = ledgerPushPlan(ledger);
    assert.equal(plan.own.length, 4);
    assert.deepEqual(plan.legacy, []);
    assert.deepEqual(plan.legacyMarkers, []);
  });

  it("keeps the imported stats file's spend apart, with the file's content marker and not the machine's marker", () => {
    const legacy = parseLegacyStats(OLD_STATS);
    const scope = { machine: "laptop", teamMode: false };
    const imported = addMarkerOperation(legacyOwnerMarker(LEGACY_STATS_FILE, scope))(
      importLegacyOperation(LEGACY_STATS_FILE, legacy, scope)(emptyLedger()),
    );
    const plan = ledgerPushPlan(withSpend(imported, "p", "m", 0.5));
    assert.deepEqual(
      plan.own.map((change) => [change.period, change.provider, change.modelId]),
      [
        ["days", "p", "m"],
        ["months", "p", "m"],
      ],
    );
    assert.deepEqual(
      plan.legacy.map((change) => [change.period, change.provider, change.modelId, change.totals.costUsd]),
      [
        ["days", "mock-a", LEGACY_MODEL_ID, 1],
        ["months", "mock-a", LEGACY_MODEL_ID, 1],
      ],
    );
    assert.equal(plan.legacyMarkers.length, 1);
    assert.match(plan.legacyMarkers[0]!, /^auto-router\.stats\.json#/);
  });

  it("marks the machine with the push's time, and says what happened", () => {
    assert.equal(pushMarker("laptop@home", 1_764_000_000_000), "state-push:1764000000000@laptop@home");
    assert.equal(
      describeLedgerPush({ added: true, entries: 4, importedSkipped: false }),
      "added this machine's spend (4 entries)",
    );
    assert.equal(
      describeLedgerPush({ added: true, entries: 1, importedSkipped: true }),
      "added this machine's spend (1 entry; the auto-router.stats.json spend it imported was in the team's already, not added again)",
    );
    // Only the earlier router's spend, which the team holds already: nothing was added (it read "added ... (0 entries").
    assert.equal(
      describeLedgerPush({ added: true, entries: 0, importedSkipped: true }),
      "nothing to add: this machine's spend is the auto-router.stats.json spend it imported, which was in the team's already (not added again)",
    );
    assert.equal(
      describeLedgerPush({ added: false, pushedAt: Date.UTC(2026, 11, 2, 9, 30) }),
      "this machine's spend was pushed before (2026-12-02T09:30:00.000Z)",
    );
  });
});

describe("state push: limits by their set time", () => {
  const limits = (providers: LimitsState["providers"]): LimitsState => ({ version: 1, providers });

  it("pushes a limit set later than the team's and one the team does not have, keeps the team's other periods", () => {
    const team = limits({ "mock-a": { daily: 5, monthly: 50, updatedAt: 100 } });
    const local = limits({ "MOCK-A": { daily: 9, updatedAt: 200 }, "mock-b": { monthly: 20, updatedAt: 1 } });
    const { state, pushed } = pushLimits(team, local);
    assert.deepEqual(pushed, ["MOCK-A", "mock-b"]);
    assert.deepEqual(state.providers["mock-a"], team.providers["mock-a"], "the team's spelling is left for the newer");
    assert.deepEqual(state.providers["MOCK-A"], { daily: 9, updatedAt: 200 });
    assert.deepEqual(state.providers["mock-b"], { monthly: 20, updatedAt: 1 });
  });

  it("merges a newer limit into the team's entry of the same spelling", () => {
    const team = limits({ "mock-a": { daily: 5, monthly: 50, updatedAt: 100 } });
    const { state } = pushLimits(team, limits({ "mock-a": { daily: null, updatedAt: 200 } }));
    assert.deepEqual(state.providers["mock-a"], { daily: null, monthly: 50, updatedAt: 200 });
  });

  it("pushes a floor with its currency, and a floor in USD takes the team's currency away", () => {
    const team = limits({ deepseek: { balanceFloor: 40, balanceFloorCurrency: "CNY", updatedAt: 100 } });
    const inUsd = pushLimits(team, limits({ deepseek: { balanceFloor: 5, updatedAt: 200 } }));
    assert.deepEqual(inUsd.state.providers.deepseek, { balanceFloor: 5, updatedAt: 200 });
    const inCny = pushLimits(
      inUsd.state,
      limits({ deepseek: { balanceFloor: 30, balanceFloorCurrency: "CNY", updatedAt: 300 } }),
    );
    assert.deepEqual(inCny.state.providers.deepseek, {
      balanceFloor: 30,
      balanceFloorCurrency: "CNY",
      updatedAt: 300,
    });
  });

  it("compares each field's own set time: a period the team set later does not hide an older one it set earlier", () => {
    // The team set mock-a's daily limit at 50 and its monthly at 300; this machine set its daily at 100: newer.
    const team = limits({ "mock-a": { daily: 5, monthly: 50, updatedAt: 300, setAt: { daily: 50, monthly: 300 } } });
    const local = limits({
      "mock-a": { daily: 9, monthly: 70, updatedAt: 250, setAt: { daily: 100, monthly: 250 } },
      // The team has no floor for mock-a at all: this machine's goes in, whenever the team set its other fields.
      "Mock-A": { balanceFloor: 4, updatedAt: 20, setAt: { balanceFloor: 20 } },
    });
    const { state, pushed } = pushLimits(team, local);
    assert.deepEqual(pushed, ["mock-a", "Mock-A"]);
    assert.deepEqual(state.providers["mock-a"], {
      daily: 9,
      monthly: 50,
      updatedAt: 300,
      setAt: { daily: 100, monthly: 300 },
    });
    assert.deepEqual(state.providers["Mock-A"], { balanceFloor: 4, updatedAt: 20, setAt: { balanceFloor: 20 } });
    // A team entry written before fields had their own times: its latest stands for each field, so 100 is older.
    const older = pushLimits(limits({ "mock-a": { daily: 5, monthly: 50, updatedAt: 300 } }), local);
    assert.deepEqual(older.pushed, ["Mock-A"]);
    assert.equal(older.state.providers["mock-a"]?.daily, 5);
  });

  it("pushes nothing older, as old, without a set time against the team's, or without a value", () => {
    const team = limits({ "mock-a": { daily: 5, updatedAt: 100 }, "mock-b": { daily: 3 } });
    for (const local of [
      limits({ "mock-a": { daily: 1, updatedAt: 99 } }),
      limits({ "mock-a": { daily: 1, updatedAt: 100 } }),
      limits({ "mock-a": { daily: 1 } }),
      limits({ "mock-b": { daily: 1, updatedAt: 500 } }),
      limits({ "mock-c": { updatedAt: 500 } }),
    ]) {
      const { state, pushed } = pushLimits(team, local);
      assert.deepEqual(pushed, [], JSON.stringify(local));
      assert.equal(state, team);
    }
  });

  it("leaves out the fields the team cleared after this machine set them, a balance floor too, and says which", () => {
    const team: LimitsState = {
      version: 1,
      providers: { "mock-a": { monthly: 50, updatedAt: 100 } },
      cleared: { "mock-a": { daily: 300 }, "mock-b": { daily: 300, monthly: 300 }, deepseek: { balanceFloor: 300 } },
    };
    const local = limits({
      "mock-a": { daily: 9, monthly: 60, updatedAt: 200 },
      "MOCK-B": { daily: 1, updatedAt: 300 },
      deepseek: { balanceFloor: 10, updatedAt: 299 },
    });
    const push = pushLimits(team, local);
    assert.deepEqual(push.pushed, ["mock-a"]);
    assert.deepEqual(push.clearedLater, [
      { provider: "mock-a", fields: ["daily"] },
      { provider: "MOCK-B", fields: ["daily"] },
      { provider: "deepseek", fields: ["balanceFloor"] },
    ]);
    assert.deepEqual(push.state.providers, { "mock-a": { monthly: 60, updatedAt: 200 } });
    assert.deepEqual(push.state.cleared, team.cleared, "the clears stay: nothing was set after them");
    const onlyCleared = pushLimits(team, limits({ "mock-b": { daily: 1, monthly: 2, updatedAt: 1 } }));
    assert.equal(onlyCleared.state, team);
    assert.deepEqual(onlyCleared.clearedLater, [{ provider: "mock-b", fields: ["daily", "monthly"] }]);
  });

  it("pushes a limit set after the team's clear, and its clear time goes; one without a set time stays cleared", () => {
    const team: LimitsState = { version: 1, providers: {}, cleared: { "mock-b": { daily: 300, monthly: 300 } } };
    const later = pushLimits(team, limits({ "MOCK-B": { daily: 1, updatedAt: 301 } }));
    assert.deepEqual(later.pushed, ["MOCK-B"]);
    assert.deepEqual(later.clearedLater, []);
    assert.deepEqual(later.state, {
      version: 1,
      providers: { "MOCK-B": { daily: 1, updatedAt: 301 } },
      cleared: { "mock-b": { monthly: 300 } },
    });
    const undated = pushLimits(team, limits({ "mock-b": { monthly: 1 } }));
    assert.deepEqual([undated.pushed, undated.clearedLater], [[], [{ provider: "mock-b", fields: ["monthly"] }]]);
  });

  it("says what was pushed and what the team cleared after this machine set it", () => {
    const cleared = [{ provider: "mock-b", fields: ["daily" as const, "monthly" as const] }];
    assert.equal(
      describeLimitsPush({ pushed: [], clearedLater: cleared }),
      "nothing pushed: cleared in the team store after this machine set it: mock-b (daily, monthly)",
    );
    assert.equal(
      describeLimitsPush({ pushed: ["mock-a"], clearedLater: cleared }),
      "pushed the limits of mock-a (set here later than the team's, or the team had none); not pushed, cleared in the team store after this machine set it: mock-b (daily, monthly)",
    );
    assert.equal(
      describeLimitsPush({ pushed: [], clearedLater: [] }),
      "the team's limits are as new as this machine's or newer: nothing pushed",
    );
  });

  it("has nothing to push of a limits file that holds only clear times", () => {
    const onlyCleared: LimitsState = { version: 1, providers: {}, cleared: { "mock-a": { daily: 5 } } };
    assert.deepEqual(pushedContent("budget-limits", onlyCleared), emptyLimits());
    assert.deepEqual(pushedContent("cooldowns", onlyCleared), onlyCleared);
  });

  it("fills a team store without limits with every one of this machine's", () => {
    const local = limits({ "mock-a": { daily: 1 }, "mock-b": { monthly: 2, updatedAt: 3 } });
    assert.deepEqual(pushLimits(emptyLimits(), local).state, local);
  });
});
