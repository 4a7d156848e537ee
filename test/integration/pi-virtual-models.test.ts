// Can the router use newer pi's own routing surface (registerVirtualModel, pi >= 0.99) so pi's footer shows the
// physical model, without a second routing path? Its route() picks ONE physical model per request; failing over is
// left to pi's agent-level retry (reason "retry"), which pi does not run for quota or usage-limit errors. These
// tests record that on the pi line they run on (test/compat/run-matrix.sh runs them on 0.73.1, 0.87.1 and 1.6.0),
// and that our own provider already reports the physical model that served, which /session groups cost by.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { afterEach, describe, it } from "node:test";
import { EXTENSION_ENTRY } from "../helpers/agent-dir.ts";
import { createSdkHarness, loadPiSdk, type SdkHarness } from "../helpers/sdk-harness.ts";

const VIRTUAL_ROUTER = fileURLToPath(new URL("../fixtures/virtual-router.ts", import.meta.url));
const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
];
const QUOTA_ERROR = "429 You exceeded your current quota, please check your plan and billing details.";
type Globals = { __virtualRouteCalls?: string[]; __virtualModelsSupported?: boolean };
const globals = globalThis as Globals;

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

describe("pi's virtual models next to the router", () => {
  it("leaves a quota error of a virtual model's target unrouted: pi does not retry it, so failover must stay in the router", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: {
        routes: {
          main: {
            targets: [
              { provider: "mock-a", modelId: "model-a" },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
        },
      },
      extensionPaths: [EXTENSION_ENTRY, VIRTUAL_ROUTER],
      // pi's own agent-level retry on, with no wait, as a user has it by default.
      settings: { retry: { enabled: true, maxRetries: 2, baseDelayMs: 1 } },
    });
    const h = harness;
    const { fauxAssistantMessage } = h.fauxHelpers;
    const [major = 0, minor = 0] = String((await loadPiSdk()).VERSION)
      .split(".")
      .map(Number);
    assert.equal(globals.__virtualModelsSupported, major > 0 || minor >= 99, "pi >= 0.99 has registerVirtualModel");
    if (!globals.__virtualModelsSupported) {
      // 0.73.1 and 0.87.1: no such surface; nothing to build on.
      assert.equal(h.session.modelRegistry?.find?.("probe-router", "auto") ?? undefined, undefined);
      return;
    }
    h.faux("mock-a").setResponses([fauxAssistantMessage([], { stopReason: "error", errorMessage: QUOTA_ERROR })]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B would have answered")]);
    await h.setModel("probe-router", "auto");
    await h.prompt("hello");
    assert.deepEqual(
      globals.__virtualRouteCalls,
      ["user"],
      "route() ran once; pi never asked it again after the quota error",
    );
    assert.equal(h.faux("mock-b").state.callCount, 0);
    assert.equal(h.lastAssistant().stopReason, "error");
    assert.equal(h.lastAssistant().errorMessage, QUOTA_ERROR);

    // The router fails the same quota error over within the request, and the answer names the physical model.
    h.faux("mock-a").setResponses([fauxAssistantMessage([], { stopReason: "error", errorMessage: QUOTA_ERROR })]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B answered")]);
    await h.setModel("auto-router", "main");
    await h.prompt("again");
    assert.equal(h.lastAssistant().stopReason, "stop");
    assert.deepEqual([h.lastAssistant().provider, h.lastAssistant().model], ["mock-b", "model-b"]);
  });
});
