// What a routed request must not cost, counted (never timed) through real pi: after warm-up, a prompt through the
// extension builds no Intl.DateTimeFormat and performs no synchronous disk write, with budgets, a time-window rule,
// quota pacing and the breaker all configured, on a served request and on one that fails over.
import assert from "node:assert/strict";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { countDateTimeFormats, countSyncWrites, type CallCounter } from "../helpers/request-cost-counters.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const PRICED = { input: 100, output: 100, cacheRead: 100, cacheWrite: 100 };
const ROUTES = {
  budgets: {
    timeZone: "Europe/Berlin",
    providers: { "mock-a": { daily: 50, monthly: 500 }, "mock-b": { monthly: 100 } },
  },
  uvi: { enabled: true },
  breaker: { enabled: true, minimumCalls: 3 },
  routes: {
    main: {
      sortBy: "config",
      targets: [
        { provider: "mock-a", modelId: "model-a" },
        { provider: "mock-b", modelId: "model-b" },
      ],
      policyRules: [
        {
          id: "night",
          type: "exclude-provider",
          providers: ["mock-c"],
          when: { timeWindow: { after: "22:00", before: "06:00" } },
        },
      ],
    },
  },
};

let harness: SdkHarness | undefined;
const counters: CallCounter[] = [];
afterEach(async () => {
  for (const counter of counters.splice(0)) counter.stop();
  await harness?.dispose();
  harness = undefined;
});

function describeCalls(counter: CallCounter): string {
  return Object.entries(counter.counts)
    .map(([name, count]) => `${name} x${count} (first: ${counter.firstCaller[name]})`)
    .join("; ");
}

/** pi's SDK with the extension and two priced faux targets behind the route `main`. */
const twoTargetHarness = () =>
  createSdkHarness({
    targets: [
      { provider: "mock-a", models: [{ id: "model-a", cost: PRICED }] },
      { provider: "mock-b", models: [{ id: "model-b", cost: PRICED }] },
    ],
    routes: ROUTES,
  });

describe("the cost of a routed request", () => {
  it("builds no Intl.DateTimeFormat and writes nothing synchronously once warm, served or failed over", async () => {
    harness = await twoTargetHarness();
    await harness.setModel("auto-router", "main");
    const { fauxAssistantMessage } = harness.fauxHelpers;
    const served = (count: number) =>
      Array.from({ length: count }, (_, index) => fauxAssistantMessage(`answer ${index}`));
    harness.faux("mock-a").setResponses(served(8));
    for (const prompt of ["warm one", "warm two"]) await harness.prompt(prompt);

    const formats = countDateTimeFormats();
    const writes = countSyncWrites();
    counters.push(formats, writes);
    // The counters must see what they count, or a 0 below would prove nothing.
    new Intl.DateTimeFormat("en-US", { timeZone: "UTC" });
    appendFileSync(join(harness.agentDir, "probe.txt"), "probe");
    assert.equal(formats.total(), 1, "the Intl counter sees a construction");
    assert.equal(writes.counts.appendFileSync, 1, "the sync-write counter sees a named ESM import");
    formats.reset();
    writes.reset();

    for (let index = 0; index < 6; index++) await harness.prompt(`served ${index}`);
    harness
      .faux("mock-a")
      .setResponses([fauxAssistantMessage([], { stopReason: "error", errorMessage: "500 Internal Server Error" })]);
    harness.faux("mock-b").setResponses([fauxAssistantMessage("served after failover")]);
    await harness.prompt("fails over");

    const answers = harness.chat().filter((message: any) => message.role === "assistant");
    assert.equal(answers.length, 9);
    assert.equal(answers.at(-1).provider, "mock-b", "the last prompt failed over to the second target");
    assert.ok(
      answers.slice(2, 8).every((message: any) => message.provider === "mock-a" && message.stopReason === "stop"),
    );
    assert.equal(formats.total(), 0, `Intl.DateTimeFormat built on the request path: ${describeCalls(formats)}`);
    assert.equal(writes.total(), 0, `synchronous disk writes on the request path: ${describeCalls(writes)}`);
  });

  it("writes two event-log lines per request, its decision and its final, which the readers expand into every event", async () => {
    harness = await twoTargetHarness();
    await harness.setModel("auto-router", "main");
    const { fauxAssistantMessage } = harness.fauxHelpers;
    harness
      .faux("mock-a")
      .setResponses([
        fauxAssistantMessage("answer one"),
        fauxAssistantMessage("answer two"),
        fauxAssistantMessage([], { stopReason: "error", errorMessage: "500 Internal Server Error" }),
      ]);
    harness.faux("mock-b").setResponses([fauxAssistantMessage("served after failover")]);
    for (const prompt of ["one", "two", "fails over"]) await harness.prompt(prompt);

    const agentDir = harness.agentDir;
    const finals = () => readLoggedEvents(agentDir).filter((event) => event.type === "final");
    await until(() => finals().length === 3, "the final events of the three requests");
    const lines = readFileSync(join(agentDir, "extensions", "auto-router.events.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean);
    const requestIds = finals().map((event) => event.requestId);
    for (const [index, requestId] of requestIds.entries()) {
      const own = lines.filter((line) => JSON.parse(line).requestId === requestId);
      assert.deepEqual(
        own.map((line) => JSON.parse(line).type),
        ["decision", "final"],
      );
      // A served request, budgets, pacing, a rule and the breaker configured: within the event log's 2 KB.
      const bytes = own.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
      if (index < 2) assert.ok(bytes <= 2048, `${bytes} bytes of event log for one request`);
    }
    const typesOf = (requestId: string) =>
      readLoggedEvents(agentDir)
        .filter((event) => event.requestId === requestId)
        .map((event) => event.type);
    assert.deepEqual(typesOf(requestIds[0]), ["decision", "candidates", "attempt", "result", "usage", "final"]);
    assert.deepEqual(typesOf(requestIds[2]), [
      "decision",
      "candidates",
      "attempt",
      "result",
      "usage",
      "attempt",
      "result",
      "usage",
      "final",
    ]);
  });

  it("looks each target up in pi's model registry once, not on every request", async (t) => {
    harness = await twoTargetHarness();
    const registry = harness.session.modelRegistry;
    if (typeof registry?.find !== "function") {
      // Newer pi lines have a ModelRuntime that lists its models as a fresh copy each time: nothing tells when a
      // remembered lookup went stale, so the router asks it every time there (src/runtime/model-lookup.ts).
      t.skip("this pi line has no ModelRegistry whose model list can be watched");
      return;
    }
    const find = registry.find;
    const lookups: string[] = [];
    registry.find = function (provider: string, modelId: string) {
      if (provider.startsWith("mock-")) lookups.push(`${provider}/${modelId}`);
      return find.call(this, provider, modelId);
    };
    await harness.setModel("auto-router", "main");
    const { fauxAssistantMessage } = harness.fauxHelpers;
    harness
      .faux("mock-a")
      .setResponses(Array.from({ length: 6 }, (_, index) => fauxAssistantMessage(`answer ${index}`)));
    for (let index = 0; index < 6; index++) await harness.prompt(`served ${index}`);
    const answers = harness.chat().filter((message: any) => message.role === "assistant");
    assert.equal(answers.length, 6);
    assert.ok(answers.every((message: any) => message.provider === "mock-a" && message.stopReason === "stop"));
    assert.equal(lookups.length, 0, `no registry scan for a target already looked up at session start: ${lookups}`);

    // pi replaces its model list when models.json or a login changes it: the next request looks its target up again.
    registry.models = [...registry.models];
    harness.faux("mock-a").setResponses([fauxAssistantMessage("after the list changed")]);
    await harness.prompt("after a models change");
    assert.equal(harness.chat().at(-1).provider, "mock-a");
    assert.ok(lookups.includes("mock-a/model-a"), `the counter sees a lookup once the list changed: ${lookups}`);
  });
});
