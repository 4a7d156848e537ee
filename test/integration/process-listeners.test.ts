// SDK users open many sessions in one process: the extension must not add a process listener per session (it once
// did: each session ran the bundle again, and with it its dependencies' signal hooks).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSdkHarness } from "../helpers/sdk-harness.ts";

const EVENTS = [
  "SIGHUP",
  "SIGINT",
  "SIGTERM",
  "exit",
  "beforeExit",
  "uncaughtException",
  "unhandledRejection",
] as const;
const SESSIONS = 6;

const listenerCounts = () => Object.fromEntries(EVENTS.map((event) => [event, process.listenerCount(event)]));

describe("many SDK sessions in one process", () => {
  it("add no process listeners after the first session", async () => {
    const counts: Array<Record<string, number>> = [];
    for (let session = 0; session < SESSIONS; session++) {
      const harness = await createSdkHarness({
        targets: [{ provider: "mock-a", models: [{ id: "model-a" }] }],
        routes: { routes: { r: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } },
      });
      try {
        await harness.setModel("auto-router", "r");
        harness.faux("mock-a").setResponses([harness.fauxHelpers.fauxAssistantMessage("ok")]);
        await harness.prompt("hello");
        assert.equal(harness.lastAssistant()?.stopReason, "stop");
      } finally {
        await harness.dispose();
      }
      counts.push(listenerCounts());
    }
    for (const later of counts.slice(1)) assert.deepEqual(later, counts[0]);
  });
});
