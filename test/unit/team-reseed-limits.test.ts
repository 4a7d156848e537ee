// After Redis came back empty and another machine re-seeded it: a machine's view of the command-set limits put into the
// team's, per provider and field, the newest set or clear winning.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  clearLimitOperation,
  emptyLimits,
  type LimitsState,
  setLimitOperation,
} from "../../src/budget/budget-limits.ts";
import { mergeLimitsAfterReseed } from "../../src/team/state-backend.ts";

const set = (
  state: LimitsState,
  provider: string,
  field: "daily" | "monthly" | "balanceFloor",
  usd: number,
  at: number,
) => setLimitOperation(provider, field, usd, at)(state);
const clear = (state: LimitsState, provider: string, field: "daily" | "monthly" | "balanceFloor", at: number) =>
  clearLimitOperation(provider, field, at)(state);

describe("mergeLimitsAfterReseed", () => {
  it("takes the view's later set and later clear, and keeps the team's later ones", () => {
    let team = set(emptyLimits(), "a", "daily", 5, 100);
    team = set(team, "b", "daily", 7, 100);
    team = set(team, "c", "monthly", 30, 400);
    team = clear(team, "d", "daily", 400);
    let view = set(emptyLimits(), "a", "daily", 6, 200); // later than the team's: wins
    view = clear(view, "b", "daily", 200); // the team's value was set before: cleared
    view = clear(view, "c", "monthly", 300); // the team set it again after: stays
    view = set(view, "d", "daily", 9, 300); // the team cleared it after: stays cleared
    const merged = mergeLimitsAfterReseed(team, view);
    assert.equal(merged.providers.a?.daily, 6);
    assert.equal(merged.providers.b, undefined);
    assert.equal(merged.cleared?.b?.daily, 200);
    assert.equal(merged.providers.c?.monthly, 30);
    assert.equal(merged.providers.d, undefined);
    assert.equal(merged.cleared?.d?.daily, 400);
  });

  it("keeps a clear the team does not hold, and a team value without a set time", () => {
    const team: LimitsState = { version: 1, providers: { Mock: { daily: 4 } } };
    const view = clear(clear(emptyLimits(), "mock", "daily", 500), "other", "balanceFloor", 500);
    const merged = mergeLimitsAfterReseed(team, view);
    assert.equal(merged.providers.Mock?.daily, 4);
    assert.equal(merged.cleared?.other?.balanceFloor, 500);
    // Merging again changes nothing.
    assert.deepEqual(mergeLimitsAfterReseed(merged, view), merged);
  });
});
