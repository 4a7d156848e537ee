// A user switching from the earlier public pi-auto-router points the log directory at its old one: its files
// (shared/docs/legacy-formats.md, written here by hand) must keep working through real pi, none moved aside.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const TARGETS = [{ provider: "mock-a", models: [{ id: "model-a" }] }, { provider: "mock-b", models: [{ id: "model-b" }] }];
const ROUTES = { routes: { main: { sortBy: "config", targets: [{ provider: "mock-a", modelId: "model-a" }, { provider: "mock-b", modelId: "model-b" }] } } };

let harness: SdkHarness | undefined;
let logDirectory: string | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
  if (logDirectory) rmSync(logDirectory, { recursive: true, force: true });
  logDirectory = undefined;
});

function oldLogDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), "auto-router-old-logdir-"));
  writeFileSync(join(directory, "auto-router.ratings.json"), JSON.stringify([
    { provider: "mock-a", modelId: "model-a", routeId: "main", rating: "good", reason: "fine", tags: ["code"], tier: "swe", intent: "code", requestId: "r1", conversationId: "c1", timestamp: 1777626000000 },
    { provider: "mock-a", modelId: "model-a", routeId: "main", rating: "bad", requestId: "r2", timestamp: 1777626060000 },
    { provider: "mock-b", modelId: "model-b", routeId: "main", rating: "good", timestamp: "2026-05-01T09:02:00.000Z" },
  ]));
  writeFileSync(join(directory, "auto-router.latency.json"), JSON.stringify({
    "mock-a": { count: 4, totalMs: 6000, lastMs: 1200, updatedAt: 1777626000000 },
  }));
  return directory;
}

describe("the earlier pi-auto-router's state files", () => {
  it("keeps the old ratings and reads the old latency file without moving anything aside", async () => {
    logDirectory = oldLogDirectory();
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, env: { AUTO_ROUTER_LOG_DIR: logDirectory } });
    await harness.setModel("auto-router", "main");
    const { fauxAssistantMessage } = harness.fauxHelpers;
    harness.faux("mock-a").setResponses([fauxAssistantMessage("served")]);
    await harness.prompt("hello");
    assert.equal(harness.lastAssistant().provider, "mock-a");
    const ratings = await harness.command("/auto-router rate");
    assert.match(ratings, /mock-a\/model-a: 1 bad, 1 good of the last 2 rating\(s\)/);
    assert.match(ratings, /mock-b\/model-b: 0 bad, 1 good of the last 1 rating\(s\)/);
    await harness.dispose();
    harness = undefined;
    const warnings = (name: string) => readdirSync(logDirectory!).filter((file) => file.startsWith(name) && file.includes(".corrupt-"));
    assert.deepEqual([...warnings("auto-router.ratings.json"), ...warnings("auto-router.latency.json")], []);
  });

  it("keeps UVI off when pi's settings.json says autoRouterUviEnabled: false, as the earlier router stored it", async () => {
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, settings: { autoRouterUviEnabled: false } });
    assert.match(await harness.command("/auto-router uvi"), /^quota pacing \(UVI[^)]*\): disabled/);
    await harness.dispose();
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, settings: { autoRouterUviEnabled: true } });
    assert.match(await harness.command("/auto-router uvi"), /^quota pacing \(UVI[^)]*\): enabled/);
  });
});
