// Every event the router writes through pi is a type the readers know: after served prompts, failovers, a breaker
// opening, a provider marked unhealthy and a rating, the log reads back with no unknown type, and the stats script
// reports none either.
import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { EVENT_TYPES } from "../../src/events/event-types.ts";
import { emptyReadStats, findLogFiles, readEvents } from "../../src/events/read-events.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const PRICED = { input: 100, output: 100, cacheRead: 100, cacheWrite: 100 };
const ROUTES = {
  breaker: { minimumCalls: 2, ratio: 0.5 },
  routes: {
    main: {
      sortBy: "config",
      targets: [
        { provider: "mock-a", modelId: "model-a" },
        { provider: "mock-b", modelId: "model-b" },
      ],
      failover: { kinds: { server: { cooldownMs: 0 }, auth: { cooldownMs: 0 } } },
    },
  },
};

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

describe("the event log's types", () => {
  it("reads back every event the router wrote through pi as a known type", async () => {
    harness = await createSdkHarness({
      targets: [
        { provider: "mock-a", models: [{ id: "model-a", cost: PRICED }] },
        { provider: "mock-b", models: [{ id: "model-b", cost: PRICED }] },
      ],
      routes: ROUTES,
    });
    const h = harness;
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    const serverError = () =>
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "500 Internal Server Error" });
    const unauthorized = () =>
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "401 Unauthorized: invalid x-api-key" });
    h.faux("mock-a").setResponses([fauxAssistantMessage("served by a"), serverError(), serverError()]);
    h.faux("mock-b").setResponses(
      Array.from({ length: 4 }, (_, index) => fauxAssistantMessage(`served by b ${index}`)),
    );
    for (const prompt of ["one", "two", "three"]) await h.prompt(prompt);
    await h.command("/auto-router rate bad slow");
    h.faux("mock-a").setResponses([unauthorized(), unauthorized(), unauthorized()]);
    for (let index = 0; index < 3; index++) await h.command("/auto-router health --probe");
    await h.session.extensionRunner.emit({ type: "session_shutdown", reason: "quit" }); // flushes the log

    const stats = emptyReadStats();
    const types = new Set<string>();
    for await (const event of readEvents(findLogFiles(join(h.agentDir, "extensions")), { stats }))
      types.add(event.type);
    assert.deepEqual(stats.unknownTypes, {}, "no written type is unknown to the readers");
    assert.equal(stats.malformed, 0);
    for (const type of [
      "decision",
      "candidates",
      "attempt",
      "result",
      "final",
      "usage",
      "breaker",
      "health",
      "feedback",
    ]) {
      assert.ok(types.has(type), `the scenario wrote a ${type} event (wrote: ${[...types].join(", ")})`);
    }
    assert.ok([...types].every((type) => (EVENT_TYPES as readonly string[]).includes(type)));
  });
});
