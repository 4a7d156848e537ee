// A state file of another shape through real pi (SDK harness): the usage ledger and the command-set limits have a
// default for every field, so a file whose keys are none of theirs (`{"v": "1", "entries": [...]}`) read as empty
// state and was overwritten without a word. It is damage: kept aside as `.corrupt-<time>` with a warning naming it.
// A file with the store's keys and others is a newer router version's (one state directory, several versions): kept,
// its other fields with it, when a routed request rewrites it.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const FOREIGN = {
  "auto-router.usage.json": '{"v":"1","entries":[1,2]}',
  "auto-router.budget-limits.json": '{"limits":{"mock-a":5}}',
};

describe("a state file whose keys are none of the store's", () => {
  let harness: SdkHarness | undefined;
  const dir = freshDir("auto-router-state-shapes");
  after(async () => {
    await harness?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is kept aside with a warning naming it, not read as empty state and overwritten", async () => {
    for (const [name, content] of Object.entries(FOREIGN)) writeFileSync(join(dir, name), content);
    harness = await createSdkHarness({
      targets: [{ provider: "mock-a", models: [{ id: "model-a" }] }],
      routes: { routes: { main: routeInOrder("mock-a/model-a") }, budgets: { providers: { "mock-a": { daily: 5 } } } },
      env: { AUTO_ROUTER_LOG_DIR: dir },
    });
    await harness.setModel("auto-router", "main");
    harness.faux("mock-a").setResponses([harness.fauxHelpers.fauxAssistantMessage("served")]);
    await harness.prompt("hello");
    assert.match(await harness.command("/auto-router budget"), /mock-a/);
    const warnings = harness.ui!.notifications.map((notification) => notification.message).join("\n");
    await harness.dispose();
    harness = undefined;
    const files = readdirSync(dir);
    for (const [name, content] of Object.entries(FOREIGN)) {
      const kept = files.filter((file) => file.startsWith(`${name}.corrupt-`));
      assert.equal(kept.length, 1, `${name}: ${files.join(", ")}`);
      assert.equal(readFileSync(join(dir, kept[0]!), "utf8"), content, "the original bytes are kept");
      assert.match(warnings, new RegExp(`${name.replaceAll(".", "\\.")}.*moved aside`), warnings);
    }
  });

  it("keeps what a newer version added to the ledger and the latency file when a routed request rewrites them", async () => {
    for (const file of readdirSync(dir)) rmSync(join(dir, file), { recursive: true, force: true });
    // A newer router (a gateway installed globally) on the same state directory: fields of its own at the top of each
    // file and in their entries, which this version does not know.
    const newer = { markers: ["repair-7"] };
    const keys = calendarKeys(Date.now(), undefined);
    const totals = {
      requests: 1,
      estimated: 0,
      input: 9,
      output: 3,
      cacheRead: 0,
      cacheWrite: 0,
      costUsd: 0.5,
      reasoning: 40,
    };
    const ledger = join(dir, "auto-router.usage.json");
    const latency = join(dir, "auto-router.latency.json");
    writeFileSync(
      ledger,
      JSON.stringify({
        version: 1,
        newer,
        days: { [keys.day]: { other: { m: totals } } },
        months: { [keys.month]: { other: { m: totals } } },
        reservations: {
          "attempt:gw": { provider: "other", amountUsd: 1, expiresAt: Date.now() + 3_600_000, by: "gw" },
        },
      }),
    );
    writeFileSync(
      latency,
      JSON.stringify({
        v: 1,
        newer,
        targets: { "mock-a/model-a": { ttftMs: 900, samples: 2, updatedAt: 1, p95Ms: 1200 } },
      }),
    );
    harness = await createSdkHarness({
      targets: [{ provider: "mock-a", models: [{ id: "model-a" }] }],
      routes: { routes: { main: routeInOrder("mock-a/model-a") } },
      env: { AUTO_ROUTER_LOG_DIR: dir },
    });
    await harness.setModel("auto-router", "main");
    harness.faux("mock-a").setResponses([harness.fauxHelpers.fauxAssistantMessage("served")]);
    await harness.prompt("hello");
    const warnings = harness.ui!.notifications.map((notification) => notification.message).join("\n");
    await harness.dispose();
    harness = undefined;
    assert.deepEqual(
      readdirSync(dir).filter((file) => file.includes(".corrupt-")),
      [],
      `nothing moved aside: ${warnings}`,
    );
    const spent = JSON.parse(readFileSync(ledger, "utf8"));
    assert.equal(spent.months[keys.month]["mock-a"]["model-a"].requests, 1, "the request was booked");
    assert.deepEqual(spent.newer, newer);
    assert.deepEqual(spent.days[keys.day].other.m, totals);
    assert.equal(spent.reservations["attempt:gw"].by, "gw");
    const timed = JSON.parse(readFileSync(latency, "utf8"));
    assert.equal(timed.targets["mock-a/model-a"].samples, 3, "the request was timed");
    assert.equal(timed.targets["mock-a/model-a"].p95Ms, 1200);
    assert.deepEqual(timed.newer, newer);
  });

  it("reads a limit written as text in the limits file (a hand edit) as that number, keeping the original aside", async () => {
    const limits = join(dir, "auto-router.budget-limits.json");
    for (const file of readdirSync(dir)) rmSync(join(dir, file), { recursive: true, force: true });
    const written = '{"version":1,"providers":{"mock-a":{"daily":"3","monthly":12}}}';
    writeFileSync(limits, written);
    harness = await createSdkHarness({
      targets: [{ provider: "mock-a", models: [{ id: "model-a" }] }],
      routes: { routes: { main: routeInOrder("mock-a/model-a") } },
      env: { AUTO_ROUTER_LOG_DIR: dir },
    });
    await harness.setModel("auto-router", "main");
    const table = await harness.command("/auto-router budget");
    assert.match(table, /^mock-a\s+today\s+\$0\.00\s+\$3\.00\s/m, table);
    assert.match(table, /^\s+month\s+\$0\.00\s+\$12\.00\s/m, table);
    await harness.dispose();
    harness = undefined;
    assert.deepEqual(JSON.parse(readFileSync(limits, "utf8")).providers["mock-a"], { daily: 3, monthly: 12 });
    const kept = readdirSync(dir).filter((file) => file.startsWith("auto-router.budget-limits.json.corrupt-"));
    assert.equal(kept.length, 1);
    assert.equal(readFileSync(join(dir, kept[0]!), "utf8"), written, "the file as written is kept");
  });

  it("reads names such as __proto__ and constructor in a state file as names, changing no other object of pi", async () => {
    // A shadow comparison of a route named "__proto__" (a mutated or hand-edited file) was counted on
    // Object.prototype: every object of pi then had `count` and `matches`, and pi's extension loader broke.
    for (const file of readdirSync(dir)) rmSync(join(dir, file), { recursive: true, force: true });
    const comparison = (routeId: string) => ({
      at: Date.now(),
      requestId: `r-${routeId}`,
      routeId,
      declaredOrder: ["mock-a/model-a"],
      routedOrder: ["mock-a/model-a"],
      match: true,
    });
    writeFileSync(
      join(dir, "auto-router.shadow.json"),
      JSON.stringify({ v: 1, enabled: true, comparisons: ["__proto__", "constructor", "main"].map(comparison) }),
    );
    harness = await createSdkHarness({
      targets: [{ provider: "mock-a", models: [{ id: "model-a" }] }],
      routes: { routes: { main: routeInOrder("mock-a/model-a") } },
      env: { AUTO_ROUTER_LOG_DIR: dir },
    });
    const shown = await harness.command("/auto-router shadow");
    const inherited: string[] = [];
    for (const key in {}) inherited.push(key);
    assert.deepEqual(inherited, [], "Object.prototype is unchanged");
    assert.equal(typeof Object.prototype.constructor, "function");
    for (const routeId of ["__proto__", "constructor", "main"])
      assert.match(shown, new RegExp(`^  ${routeId}: 1/1 match \\(100%\\)$`, "m"), shown);
  });
});

describe("a state file holding a time or count no clock or router writes", () => {
  it("keeps it aside, so a health mark dated past the year 9999 or a year-long used-up window keeps no target out", async () => {
    const dir = freshDir("auto-router-state-times");
    // Hand edits of the right type: read as written, each held mock-a out for good (a mark that never lapses; a
    // window used up whose reset, thousands of years away, is believable for a window that long).
    const files = {
      "auto-router.health.json": {
        v: 1,
        providers: { "mock-a": { failures: 1e300, unhealthySince: 1e300, lastError: "edited", lastErrorAt: 1e300 } },
      },
      "auto-router.quota.json": {
        v: 1,
        observed: {
          "mock-a": {
            requests: { name: "requests", usedFraction: 1e9, windowMs: 1e300, resetsAt: 1e14, source: "headers" },
          },
        },
      },
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(content));
    const harness = await createSdkHarness({
      targets: [
        { provider: "mock-a", models: [{ id: "model-a" }] },
        { provider: "mock-b", models: [{ id: "model-b" }] },
      ],
      routes: { routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") } },
      env: { AUTO_ROUTER_LOG_DIR: dir },
    });
    try {
      await harness.setModel("auto-router", "main");
      harness.faux("mock-a").setResponses([harness.fauxHelpers.fauxAssistantMessage("A served")]);
      harness.faux("mock-b").setResponses([harness.fauxHelpers.fauxAssistantMessage("B served")]);
      await harness.prompt("hello");
      assert.equal(harness.lastAssistant().provider, "mock-a", JSON.stringify(harness.lastAssistant()));
      assert.match(await harness.command("/auto-router health"), /mock-a: healthy/);
      const warnings = harness.ui!.notifications.map((notification) => notification.message).join("\n");
      // Each value named with its place in the file, what was expected and what was written.
      for (const expected of [
        /providers\.mock-a\.failures: expected a whole number from 0 to 1000000000000000 \(10\^15\), got 1e\+300/,
        /providers\.mock-a\.unhealthySince: expected a time in epoch ms from 0 to 253402300799999 \(the end of the year 9999\), got 1e\+300/,
        /observed\.mock-a\.requests\.usedFraction: expected a share used from 0 to 1, got 1000000000/,
        /observed\.mock-a\.requests\.windowMs: expected a window length above 0 ms, at most a year \(31622400000 ms\), got 1e\+300/,
      ])
        assert.match(warnings, expected, warnings);
      for (const name of Object.keys(files)) {
        assert.match(warnings, new RegExp(`${name.replaceAll(".", "\\.")}.*kept`, "s"), warnings);
        assert.ok(
          readdirSync(dir).some((file) => file.startsWith(`${name}.corrupt-`)),
          `${name} kept aside: ${readdirSync(dir).join(", ")}`,
        );
      }
    } finally {
      await harness.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
