// A user switching from the earlier public pi-auto-router points the log directory at its old one: its files
// (shared/docs/legacy-formats.md, written here by hand) must keep working through real pi, none moved aside.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
];
const BOTH = [
  { provider: "mock-a", modelId: "model-a" },
  { provider: "mock-b", modelId: "model-b" },
];
const ROUTES = { routes: { main: { sortBy: "config", targets: BOTH }, fast: { sortBy: "latency", targets: BOTH } } };

let harness: SdkHarness | undefined;
let logDirectory: string | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
  if (logDirectory) rmSync(logDirectory, { recursive: true, force: true });
  logDirectory = undefined;
});

function oldLogDirectory(): string {
  const directory = freshDir("auto-router-old-logdir");
  writeFileSync(
    join(directory, "auto-router.ratings.json"),
    JSON.stringify([
      {
        provider: "mock-a",
        modelId: "model-a",
        routeId: "main",
        rating: "good",
        reason: "fine",
        tags: ["code"],
        tier: "swe",
        intent: "code",
        requestId: "r1",
        conversationId: "c1",
        timestamp: 1777626000000,
      },
      {
        provider: "mock-a",
        modelId: "model-a",
        routeId: "main",
        rating: "bad",
        requestId: "r2",
        timestamp: 1777626060000,
      },
      {
        provider: "mock-b",
        modelId: "model-b",
        routeId: "main",
        rating: "good",
        timestamp: "2026-05-01T09:02:00.000Z",
      },
    ]),
  );
  writeFileSync(
    join(directory, "auto-router.latency.json"),
    JSON.stringify({
      "mock-a": { count: 4, totalMs: 6000, lastMs: 1200, updatedAt: 1777626000000 },
      "mock-b": { count: 3, totalMs: 900, lastMs: 250, updatedAt: 1777626000000 },
    }),
  );
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
    assert.match(ratings, /mock-a\/model-a: 1 bad, 1 good of the last 2 ratings /);
    assert.match(ratings, /mock-b\/model-b: 0 bad, 1 good of the last 1 rating /);
    // A new rating rewrites the file in our shape: what the old ratings said is kept with them.
    assert.match(await harness.command("/auto-router rate bad too slow --tags latency"), /rated/i);
    await harness.dispose();
    harness = undefined;
    const rewritten = JSON.parse(readFileSync(join(logDirectory, "auto-router.ratings.json"), "utf8"));
    const [first, second, mine] = rewritten.targets["mock-a/model-a"];
    assert.deepEqual(first, {
      at: 1777626000000,
      rating: "good",
      requestId: "r1",
      routeId: "main",
      reason: "fine",
      tags: ["code"],
      tier: "swe",
      intent: "code",
      conversationId: "c1",
    });
    assert.deepEqual(second, { at: 1777626060000, rating: "bad", requestId: "r2", routeId: "main" });
    assert.equal(mine.rating, "bad");
    assert.equal(mine.reason, "too slow");
    assert.deepEqual(mine.tags, ["latency"]);
    assert.equal(mine.routeId, "main");
    const warnings = (name: string) =>
      readdirSync(logDirectory!).filter((file) => file.startsWith(name) && file.includes(".corrupt-"));
    assert.deepEqual([...warnings("auto-router.ratings.json"), ...warnings("auto-router.latency.json")], []);
  });

  it("keeps every old rating that reads when one entry of the array does not, and keeps the damaged file aside", async () => {
    logDirectory = oldLogDirectory();
    const file = join(logDirectory, "auto-router.ratings.json");
    const old = JSON.parse(readFileSync(file, "utf8"));
    old.push({ provider: "mock-b", modelId: "model-b", routeId: "main", rating: "meh", timestamp: 1777626120000 });
    writeFileSync(file, JSON.stringify(old));
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, env: { AUTO_ROUTER_LOG_DIR: logDirectory } });
    const ratings = await harness.command("/auto-router rate");
    assert.match(ratings, /mock-a\/model-a: 1 bad, 1 good of the last 2 ratings /);
    assert.match(ratings, /mock-b\/model-b: 0 bad, 1 good of the last 1 rating /);
    const notices = harness.ui!.notifications.map((n) => n.message).join("\n");
    assert.match(notices, /auto-router\.ratings\.json[^\n]*3\.rating/, notices);
    assert.equal(
      readdirSync(logDirectory).filter((name) => name.startsWith("auto-router.ratings.json.corrupt-")).length,
      1,
    );
  });

  it("keeps every old provider average that reads when one entry of the latency file does not, naming it in the old file's terms", async () => {
    logDirectory = oldLogDirectory();
    const file = join(logDirectory, "auto-router.latency.json");
    writeFileSync(
      file,
      JSON.stringify({
        "mock-a": { count: 4, totalMs: 6000, lastMs: 1200, updatedAt: 1777626000000 },
        "mock-b": { count: 2, totalMs: 5000, lastMs: 2500 },
      }),
    );
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, env: { AUTO_ROUTER_LOG_DIR: logDirectory } });
    const listing = await harness.command("/auto-router show fast");
    assert.match(listing, /mock-a\/model-a.*1500 ms \(earlier router\)/, "mock-a's average is kept");
    assert.doesNotMatch(listing, /mock-b\/model-b.*earlier router/);
    const notices = harness.ui!.notifications.map((n) => n.message).join("\n");
    assert.match(
      notices,
      /auto-router\.latency\.json: partly unreadable \(invalid content: the earlier router's latency file has an entry \(mock-b\.updatedAt: missing: this key is required \(a number\)\) that cannot be read\); moved aside to \S+ and kept every value that could be read/,
      notices,
    );
    assert.doesNotMatch(notices, /\bv: /, "no field the old file never had");
    assert.equal(
      readdirSync(logDirectory).filter((name) => name.startsWith("auto-router.latency.json.corrupt-")).length,
      1,
    );
  });

  it("leaves the old ratings and latency files as they were while the router has nothing of its own to write", async () => {
    logDirectory = oldLogDirectory();
    const names = ["auto-router.ratings.json", "auto-router.latency.json"];
    const before = names.map((name) => readFileSync(join(logDirectory!, name), "utf8"));
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, env: { AUTO_ROUTER_LOG_DIR: logDirectory } });
    assert.match(await harness.command("/auto-router rate"), /mock-a\/model-a: 1 bad, 1 good/);
    assert.match(await harness.command("/auto-router show fast"), /1500 ms \(earlier router\)/);
    await harness.dispose();
    harness = undefined;
    assert.deepEqual(
      names.map((name) => readFileSync(join(logDirectory!, name), "utf8")),
      before,
    );
  });

  it("keeps UVI off when pi's settings.json says autoRouterUviEnabled: false, as the earlier router stored it", async () => {
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, settings: { autoRouterUviEnabled: false } });
    const off = await harness.command("/auto-router uvi");
    // Said where it was switched off: the user never ran `uvi disable` here.
    assert.match(
      off,
      /^quota pacing \(UVI[^)]*\): disabled by autoRouterUviEnabled: false in pi's settings\.json \(the earlier pi-auto-router's switch\),/,
      off,
    );
    await harness.command("/auto-router uvi enable");
    await harness.command("/auto-router uvi disable");
    assert.match(await harness.command("/auto-router uvi"), /: disabled by \/auto-router uvi disable,/);
    await harness.dispose();
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, settings: { autoRouterUviEnabled: true } });
    assert.match(await harness.command("/auto-router uvi"), /^quota pacing \(UVI[^)]*\): enabled/);
  });

  it("carries the old per-provider response times over: a latency route prefers the provider that was faster until it measures its own", async () => {
    logDirectory = oldLogDirectory();
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, env: { AUTO_ROUTER_LOG_DIR: logDirectory } });
    await harness.setModel("auto-router", "fast");
    const listing = await harness.command("/auto-router show fast");
    assert.match(listing, /mock-a\/model-a.*1500 ms \(earlier router\)/);
    assert.match(listing, /mock-b\/model-b.*300 ms \(earlier router\)/);
    const { fauxAssistantMessage } = harness.fauxHelpers;
    harness.faux("mock-b").setResponses([fauxAssistantMessage("fast one")]);
    await harness.prompt("hello");
    assert.equal(harness.lastAssistant().provider, "mock-b", "mock-b averaged 300 ms before, mock-a 1500 ms");
    const explain = await harness.command("/auto-router explain");
    // The old averages were of whole responses: marked as /auto-router list marks them, in the ranking's reason too.
    assert.match(explain, /mock-b\/model-b[^\n]*ttft 300 ms \(earlier router\)/, explain);
    assert.match(explain, /mock-a\/model-a[^\n]*ttft 1500 ms \(earlier router\)/, explain);
    assert.match(explain, /first token \(earlier router's 300 ms/, explain);
    assert.doesNotMatch(explain, /first token \(300 ms/, explain);
    await harness.dispose();
    harness = undefined;
    const state = JSON.parse(readFileSync(join(logDirectory, "auto-router.latency.json"), "utf8"));
    assert.equal(state.v, 1);
    assert.equal(state.targets["mock-b/model-b"].samples, 1, "mock-b measured its own first-token time");
    assert.deepEqual(
      Object.keys(state.imported),
      ["mock-a"],
      "mock-b's carried-over average is done; mock-a's still stands in",
    );
    assert.equal(state.imported["mock-a"].averageMs, 1500);
  });
});
