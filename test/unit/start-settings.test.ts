// Which settings read at start an edit of the routes file changed: leaf by leaf, never one an environment variable
// decides, and worded for the reload's confirmation.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  changedSettings,
  restartNote,
  START_SETTINGS,
  settingsTheEnvironmentDecides,
} from "../../src/config/start-settings.ts";

const GATEWAY = [...START_SETTINGS, "gateway.bodyLimitBytes", "gateway.headersTimeoutMs", "gateway.idleTimeoutMs"];

describe("settings read at start", () => {
  it("names each changed leaf under a start setting, a block added or removed included, and nothing else (the event log's apply at once)", () => {
    const before = {
      routes: {},
      eventLog: { maxBytes: 1000 },
      gateway: { idleTimeoutMs: 5000, maxConcurrentRequests: 4 },
    };
    const after = {
      routes: { main: {} },
      eventLog: { maxBytes: 2000, keepFiles: 3 },
      state: { keyPrefix: "team:" },
      gateway: { idleTimeoutMs: 5000, maxConcurrentRequests: 8, bodyLimitBytes: 10 },
    };
    assert.deepEqual(changedSettings(before, after, GATEWAY), ["state.keyPrefix", "gateway.bodyLimitBytes"]);
    assert.deepEqual(changedSettings(after, before, GATEWAY).sort(), ["gateway.bodyLimitBytes", "state.keyPrefix"]);
    assert.deepEqual(changedSettings(before, structuredClone(before), GATEWAY), []);
  });

  it("leaves out the settings an environment variable decides", () => {
    const ignored = settingsTheEnvironmentDecides({ AUTO_ROUTER_LOG_DIR: "/state", AUTO_ROUTER_REDIS_URL: " " });
    assert.deepEqual(ignored, ["logDir"]);
    assert.deepEqual(
      changedSettings({ logDir: "/a" }, { logDir: "/b", state: { machine: "m" } }, START_SETTINGS, ignored),
      ["state.machine"],
    );
    assert.deepEqual(settingsTheEnvironmentDecides({ AUTO_ROUTER_REDIS_URL: "redis://h", AUTO_ROUTER_MACHINE: "m" }), [
      "state.backend",
      "state.url",
      "state.machine",
    ]);
  });

  it("says when the changed settings take effect, or nothing when none changed", () => {
    assert.equal(restartNote([], "a restart"), undefined);
    assert.equal(
      restartNote(["gateway.idleTimeoutMs"], "a restart of the gateway"),
      "gateway.idleTimeoutMs changed: it takes effect after a restart of the gateway",
    );
    assert.equal(
      restartNote(["state.machine", "gateway.idleTimeoutMs"], "a restart of the gateway"),
      "state.machine, gateway.idleTimeoutMs changed: they take effect after a restart of the gateway",
    );
  });
});
