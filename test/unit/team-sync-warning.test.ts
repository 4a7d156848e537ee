import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { syncWarning } from "../../src/team/sync-warning.ts";

const URL = "redis://127.0.0.1:6399/0";

describe("what a machine says once its team store connection synced", () => {
  it("blames a flush or an eviction only for a loss seen while connected", () => {
    assert.equal(
      syncWarning(URL, "connected", true),
      "auto-router: team store redis://127.0.0.1:6399/0 lost its data while connected (flushed, or its keys evicted: run Redis with maxmemory-policy noeviction); re-seeded from the machines' views",
    );
  });

  it("names a restart as a cause when the data was lost before this process started", () => {
    const said = syncWarning(URL, "start", true);
    assert.equal(
      said,
      "auto-router: team store redis://127.0.0.1:6399/0 lost its data since this machine last synced (restarted without persistence, flushed or evicted); re-seeded from the machines' views",
    );
    assert.doesNotMatch(said ?? "", /while connected|maxmemory-policy/);
  });

  it("says a store is back after an outage, and whether it came back empty", () => {
    assert.equal(
      syncWarning(URL, "reconnect", false),
      "auto-router: team store redis://127.0.0.1:6399/0 reachable again",
    );
    assert.equal(
      syncWarning(URL, "reconnect", true),
      "auto-router: team store redis://127.0.0.1:6399/0 reachable again; it had lost its data and is re-seeded from the machines' views",
    );
  });

  it("says nothing when a first sync or a resync found the data where it was", () => {
    assert.equal(syncWarning(URL, "start", false), undefined);
    assert.equal(syncWarning(URL, "connected", false), undefined);
  });
});
