// SDK users open many sessions in one process: the extension must not add a process listener per session (it once
// did: each session ran the bundle again, and with it its dependencies' signal hooks), and each session's requests must
// go through its own router (pi 0.73's api registry is process-wide: a second session's "auto-router" registration
// once took over the first session's requests).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

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

/** A session whose route `r` has one target, `<provider>/model`. */
const sessionOn = (provider: string) =>
  createSdkHarness({
    targets: [{ provider, models: [{ id: "model" }] }],
    routes: { routes: { r: { targets: [{ provider, modelId: "model" }] } } },
  });

interface TwoSessions {
  a: SdkHarness;
  /** Session A's faux target, taken before B was made (the harness's handles are the newest session's). */
  fauxA: any;
  b: SdkHarness;
  disposeB(): Promise<void>;
}

/** Sessions A (its route on mock-a) and B (on mock-b) open at once in this process; both disposed at the end. */
async function withTwoSessions(run: (sessions: TwoSessions) => Promise<void>): Promise<void> {
  const a = await sessionOn("mock-a");
  const fauxA = a.faux("mock-a");
  let b: SdkHarness | undefined;
  try {
    b = await sessionOn("mock-b");
    const opened = b;
    await a.setModel("auto-router", "r");
    await b.setModel("auto-router", "r");
    await run({
      a,
      fauxA,
      b,
      disposeB: async () => {
        b = undefined;
        await opened.dispose();
      },
    });
  } finally {
    await b?.dispose();
    await a.dispose();
  }
}

const served = (session: SdkHarness) => {
  const answer = session.lastAssistant();
  return { error: answer?.errorMessage, provider: answer?.provider, content: answer?.content };
};

describe("two SDK sessions open at once in one process", () => {
  it("each routes through its own routes file, also after the other is disposed", async () => {
    await withTwoSessions(async ({ a, fauxA, b, disposeB }) => {
      const { fauxAssistantMessage } = a.fauxHelpers;
      fauxA.setResponses([fauxAssistantMessage("from a")]);
      b.faux("mock-b").setResponses([fauxAssistantMessage("from b")]);
      await a.prompt("hello a");
      assert.deepEqual(served(a), {
        error: undefined,
        provider: "mock-a",
        content: [{ type: "text", text: "from a" }],
      });
      await b.prompt("hello b");
      assert.deepEqual(served(b), {
        error: undefined,
        provider: "mock-b",
        content: [{ type: "text", text: "from b" }],
      });
      await disposeB();
      fauxA.setResponses([fauxAssistantMessage("still a")]);
      await a.prompt("again a");
      assert.deepEqual(served(a), {
        error: undefined,
        provider: "mock-a",
        content: [{ type: "text", text: "still a" }],
      });
    });
  });

  it("registers a session's routes again when another session's model registry was refreshed (pi 0.73)", async (t) => {
    await withTwoSessions(async ({ a, fauxA, b }) => {
      // pi 0.73's refresh (as an extension's unregisterProvider runs it) empties pi-ai's process-wide api registry and
      // registers only its own session's providers again. The newer lines keep providers per model runtime.
      const refresh = b.session.modelRegistry?.refresh;
      if (typeof refresh !== "function" || b.session.modelRuntime) return t.skip("no process-wide refresh on this pi");
      // The faux target's api goes with the refresh too (as every extension's provider of another session does): it is
      // put back here, so that what the test sees is the router's own registration.
      const fauxApi = a.fauxHelpers.getApiProvider("faux-mock-a");
      refresh.call(b.session.modelRegistry);
      a.fauxHelpers.registerApiProvider(fauxApi);
      fauxA.setResponses([a.fauxHelpers.fauxAssistantMessage("from a, registered again")]);
      await a.prompt("hello a");
      assert.deepEqual(served(a), {
        error: undefined,
        provider: "mock-a",
        content: [{ type: "text", text: "from a, registered again" }],
      });
    });
  });
});
