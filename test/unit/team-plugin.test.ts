import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouterConfig } from "../../src/config/schema.ts";
import type { StateBackend } from "../../src/team/state-backend.ts";
import type { BackendStatus } from "../../src/team/team-connection.ts";
import { createTeamPlugin, describeBackendLines, STORE_DOWN_MARK } from "../../src/team/team-plugin.ts";
import { resolveTeamSettings } from "../../src/team/team-settings.ts";

function fakeBackend(connection: BackendStatus["connection"], onStoreDown: "local" | "block" = "block"): StateBackend {
  const { settings } = resolveTeamSettings(
    { backend: "redis", url: "redis://:pw@team-host:6379/0", onStoreDown, machine: "m1" },
    {},
  );
  return {
    settings,
    open: () => {
      throw new Error("not used");
    },
    describe: () => ({
      backend: "redis",
      url: "redis://:***@team-host:6379/0",
      machine: "m1",
      connection,
      lagMs: 4_000,
      pendingWrites: 3,
      batchedWrites: 0,
      roundTrips: 12,
    }),
    claim: async () => true,
    ready: async () => undefined,
    pushLocal: async () => [],
    close: async () => undefined,
  };
}

const config = (policy: "soft" | "hard"): RouterConfig => ({
  routes: { main: { targets: [{ provider: "deepseek", modelId: "chat" }] } },
  budgets: { policy, providers: { deepseek: { daily: 5 }, openrouter: { balanceFloor: 1 } } },
});

/** What the budget plugin gives: the providers with a daily or monthly limit (config's or command-set). */
const limited = () => ["deepseek"];

describe("team plugin", () => {
  it("marks the status line while the team store is down or refuses this machine's writes, and only then", () => {
    assert.deepEqual(createTeamPlugin(fakeBackend("down"), () => config("soft"), limited).statusWarnings!(0), [
      STORE_DOWN_MARK,
    ]);
    // Before: no mark while refused, though a reservation is refused as "the team store is down" meanwhile.
    assert.deepEqual(createTeamPlugin(fakeBackend("refused"), () => config("soft"), limited).statusWarnings!(0), [
      STORE_DOWN_MARK,
    ]);
    assert.deepEqual(createTeamPlugin(fakeBackend("connecting"), () => config("soft"), limited).statusWarnings!(0), []);
    assert.deepEqual(createTeamPlugin(fakeBackend("connected"), () => config("soft"), limited).statusWarnings!(0), []);
  });

  it("fails a hard budget closed while the team store is down or refused (onStoreDown block), for providers with a spend limit", () => {
    for (const connection of ["down", "refused"] as const) {
      const status = createTeamPlugin(fakeBackend(connection), () => config("hard"), limited).providerStatus!(0);
      assert.deepEqual(Object.keys(status), ["deepseek"], connection);
      assert.equal(status.deepseek?.budget?.level, "blocked", connection);
      assert.match(status.deepseek!.budget!.detail, /team store is down/);
      assert.equal(status.deepseek?.budget?.spendUnknown, true, connection);
    }
  });

  it("blocks the providers the budget's limits name, a limit set by command included, not only the routes file's", () => {
    const status = createTeamPlugin(
      fakeBackend("down"),
      () => config("hard"),
      () => ["deepseek", "mock-a"],
    ).providerStatus!(0);
    assert.deepEqual(Object.keys(status), ["deepseek", "mock-a"]);
    assert.equal(status["mock-a"]?.budget?.spendUnknown, true);
  });

  it("routes on the local view instead when onStoreDown is local, when the budget is soft, or while connected", () => {
    assert.deepEqual(
      createTeamPlugin(fakeBackend("down", "local"), () => config("hard"), limited).providerStatus!(0),
      {},
    );
    assert.deepEqual(createTeamPlugin(fakeBackend("down"), () => config("soft"), limited).providerStatus!(0), {});
    assert.deepEqual(createTeamPlugin(fakeBackend("connected"), () => config("hard"), limited).providerStatus!(0), {});
  });

  it("describes the backend with its URL without the password, connection state and lag", () => {
    const text = describeBackendLines(fakeBackend("down").describe(0)).join("\n");
    assert.match(text, /redis redis:\/\/:\*\*\*@team-host:6379\/0 \(machine m1\)/);
    assert.match(text, /connection: down/);
    assert.match(text, /3 writes waiting, oldest 4 s/);
    assert.doesNotMatch(text, /:pw@/);
  });

  it("says that writes waiting for their store's batch are not late, and when they are due", () => {
    const status = { ...fakeBackend("connected").describe(0), lagMs: 0, batchedWrites: 3, batchDueMs: 4_200 };
    assert.match(
      describeBackendLines(status).join("\n"),
      /\n {2}lag: none late, 3 writes batched or being sent \(sent within 5 s\), as usual right after an answer\n/,
    );
    const mixed = describeBackendLines({ ...status, lagMs: 9_000, batchedWrites: 1 }).join("\n");
    assert.match(mixed, /\n {2}lag: 2 writes waiting, oldest 9 s; 1 more batched \(sent within 5 s\)\n/);
    const one = describeBackendLines({ ...status, pendingWrites: 1, batchedWrites: 1 }).join("\n");
    assert.match(one, /\n {2}lag: none late, 1 write batched or being sent \(sent within 5 s\)/);
    const late = describeBackendLines({ ...status, lagMs: 9_000, pendingWrites: 1, batchedWrites: 0 }).join("\n");
    assert.match(late, /\n {2}lag: 1 write waiting, oldest 9 s\n/);
  });
});
