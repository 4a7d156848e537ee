// Files a Windows editor saved start with a UTF-8 byte order mark (EF BB BF): the routes file, the earlier router's
// ratings, latency and stats files and an event log are read through real pi and the routing-* scripts as if they
// had none, nothing moved aside, no request's line lost.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { routingScriptJson } from "../helpers/routing-script.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const BOM = "\ufeff";
const fixtures = fileURLToPath(new URL("../fixtures/events/", import.meta.url));
const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
];
const BOTH = routeInOrder("mock-a/model-a", "mock-b/model-b");

/** `value` as a Windows editor saves it: a byte order mark, then the JSON with CRLF line breaks. */
const windowsJson = (value: unknown): string => BOM + JSON.stringify(value, null, 2).replaceAll("\n", "\r\n");

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

describe("a byte order mark at the start of a file", () => {
  it("serves the routes of a routes file that starts with one", async () => {
    const routesFile = join(freshDir("auto-router-bom-routes"), "routes.json");
    writeFileSync(routesFile, windowsJson({ routes: { second: routeInOrder("mock-b/model-b") } }));
    harness = await createSdkHarness({ targets: TARGETS, env: { AUTO_ROUTER_CONFIG: routesFile } });
    await harness.setModel("auto-router", "second");
    harness.faux("mock-b").setResponses([harness.fauxHelpers.fauxAssistantMessage("from the file's route")]);
    await harness.prompt("hello");
    assert.equal(harness.lastAssistant().provider, "mock-b");
    const notices = harness.ui!.notifications.map((n) => n.message).join("\n");
    assert.doesNotMatch(notices, /not valid JSON/, notices);
  });

  it("reads the earlier router's ratings, latency and stats files that start with one, moving none aside", async () => {
    const logDirectory = freshDir("auto-router-bom-old-logdir");
    const today = new Date().toISOString().slice(0, 10);
    const files = {
      "auto-router.ratings.json": [
        { provider: "mock-a", modelId: "model-a", routeId: "main", rating: "good", timestamp: 1777626000000 },
        { provider: "mock-a", modelId: "model-a", routeId: "main", rating: "bad", timestamp: 1777626060000 },
      ],
      "auto-router.latency.json": {
        "mock-a": { count: 4, totalMs: 6000, lastMs: 1200, updatedAt: 1777626000000 },
        "mock-b": { count: 3, totalMs: 900, lastMs: 250, updatedAt: 1777626000000 },
      },
      "auto-router.stats.json": {
        version: 2,
        daily: { [today]: { "mock-a": { inputTokens: 3, outputTokens: 1, estimatedCost: 0.0004 } } },
        monthly: { [today.slice(0, 7)]: { "mock-a": { inputTokens: 3, outputTokens: 1, estimatedCost: 0.0004 } } },
        limits: { "mock-a": { dailyUsd: 0.0003 } },
      },
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(logDirectory, name), windowsJson(content));
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { main: BOTH, fast: { ...BOTH, sortBy: "latency" } } },
      env: { AUTO_ROUTER_LOG_DIR: logDirectory },
    });
    assert.match(await harness.command("/auto-router rate"), /mock-a\/model-a: 1 bad, 1 good of the last 2 ratings /);
    const listing = await harness.command("/auto-router show fast");
    assert.match(listing, /mock-a\/model-a.*1500 ms \(earlier router\)/, listing);
    assert.match(listing, /mock-b\/model-b.*300 ms \(earlier router\)/, listing);
    assert.match(await harness.command("/auto-router budget show"), /0\.0003/, "the old daily limit is imported");
    const notices = harness.ui!.notifications.map((n) => n.message).join("\n");
    assert.doesNotMatch(notices, /unreadable|could not import|invalid JSON/, notices);
    assert.deepEqual(
      readdirSync(logDirectory).filter((name) => name.includes(".corrupt-")),
      [],
    );
  });

  for (const fixture of ["ours.jsonl", "legacy.jsonl"])
    it(`counts the first request of an event log that starts with one, with its decision (${fixture})`, async () => {
      const directory = freshDir("auto-router-bom-log");
      // From its first decision on, so the line the mark stands before is that request's decision.
      const lines = readFileSync(join(fixtures, fixture), "utf8").split("\n");
      const fromDecision = lines
        .slice(lines.findIndex((line) => /"type":"(routing\.)?decision"/.test(line)))
        .join("\n");
      writeFileSync(join(directory, "plain.jsonl"), fromDecision);
      writeFileSync(join(directory, "bom.jsonl"), BOM + fromDecision);
      const plain = await routingScriptJson("routing-stats", ["--file", join(directory, "plain.jsonl")]);
      const marked = await routingScriptJson("routing-stats", ["--file", join(directory, "bom.jsonl")]);
      assert.equal(marked.log.malformed, 0, JSON.stringify(marked.log));
      assert.deepEqual(marked.stats, plain.stats);
    });
});
