// The auto-router models as pi sees them: capabilities derived from the route's resolvable targets, and
// re-registered when the routes file changes (reload command, or an edit on disk), with invalid edits kept out.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { readEventLogFile } from "../helpers/event-log.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { eventually, freshDir } from "../helpers/temp-and-workers.ts";

const TARGETS = [
  {
    provider: "mock-a",
    models: [
      {
        id: "model-a",
        contextWindow: 100_000,
        maxTokens: 8_000,
        reasoning: false,
        input: ["text"] as ("text" | "image")[],
      },
    ],
  },
  {
    provider: "mock-b",
    models: [
      {
        id: "model-b",
        contextWindow: 200_000,
        maxTokens: 32_000,
        reasoning: true,
        input: ["text", "image"] as ("text" | "image")[],
      },
    ],
  },
];
const target = (key: string) => ({ provider: key.split("/")[0]!, modelId: key.split("/")[1]! });

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

const find = (h: SdkHarness, id: string) =>
  h.session.modelRegistry?.find?.("auto-router", id) ?? h.session.modelRuntime?.getModel?.("auto-router", id);

describe("auto-router virtual models", () => {
  it("take the smallest window and output limit of the resolvable targets, reasoning and images if any target has them", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { main: { targets: ["mock-a/model-a", "mock-b/model-b", "nowhere/unknown"].map(target) } } },
    });
    const model = find(harness, "main");
    assert.equal(model.contextWindow, 100_000);
    assert.equal(model.maxTokens, 8_000);
    assert.equal(model.reasoning, true);
    assert.deepEqual(model.input, ["text", "image"]);
  });

  it("use the values a route sets explicitly", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: {
        routes: { main: { contextWindow: 50_000, name: "My route", targets: ["mock-b/model-b"].map(target) } },
      },
    });
    const model = find(harness, "main");
    assert.equal(model.contextWindow, 50_000);
    assert.equal(model.name, "My route");
  });

  it("are re-registered by /auto-router reload, and an invalid edit keeps the last good routes", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { main: { targets: ["mock-a/model-a"].map(target) } } },
    });
    const file = join(harness.agentDir, "extensions", "auto-router.routes.json");
    writeFileSync(
      file,
      JSON.stringify({
        routes: {
          main: { targets: ["mock-a/model-a"].map(target) },
          second: { targets: ["mock-b/model-b"].map(target) },
        },
      }),
    );
    await harness.prompt("/auto-router reload");
    assert.ok(find(harness, "second"), "new route registered");
    writeFileSync(file, '{"routes": {"main": {"targets": 7}}}');
    await harness.prompt("/auto-router reload");
    assert.ok(find(harness, "second"), "last good routes kept");
    await harness.setModel("auto-router", "second");
    harness.faux("mock-b").setResponses([harness.fauxHelpers.fauxAssistantMessage("still routing")]);
    await harness.prompt("hello");
    assert.equal(harness.lastAssistant().provider, "mock-b");
  });

  it("say at a reload that the selected route is gone from the routes file, naming the routes left", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { main: { targets: [target("mock-a/model-a")] } } },
    });
    await harness.setModel("auto-router", "main");
    const file = join(harness.agentDir, "extensions", "auto-router.routes.json");
    writeFileSync(file, JSON.stringify({ routes: { renamed: { targets: [target("mock-a/model-a")] } } }));
    await harness.prompt("/auto-router reload");
    const gone = harness.ui!.notifications.filter((n) => /selected route/.test(n.message));
    assert.deepEqual(
      gone.map((n) => [n.message, n.level]),
      [
        [
          "auto-router: the selected route main is no longer in the routes file; its prompts fail until you pick another with /model or /auto-router switch (routes: renamed)",
          "warning",
        ],
      ],
    );
    // The status line keeps saying it while the gone route stays selected, and stops once another is picked.
    const line = () => harness!.ui!.statuses.get("auto-router") ?? "";
    assert.equal(line(), "⇄ main · ⚠ route not in routes file");
    await harness.prompt("/auto-router status");
    assert.match(line(), /⚠ route not in routes file/, "still there after a command");
    await harness.setModel("auto-router", "renamed");
    assert.doesNotMatch(line(), /route not in routes file/);
  });

  it("come back after pi's own /reload, which loads the extension anew (not taken for a second copy)", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { main: { targets: [target("mock-b/model-b")] } } },
    });
    await harness.session.reload();
    assert.ok(find(harness, "main"), "route registered again");
    await harness.setModel("auto-router", "main");
    harness.faux("mock-b").setResponses([harness.fauxHelpers.fauxAssistantMessage("routed after reload")]);
    await harness.prompt("hello");
    assert.equal(harness.lastAssistant().provider, "mock-b");
    assert.deepEqual(
      harness.ui!.notifications.filter((n) => /loaded twice/.test(n.message)),
      [],
    );
  });

  it("are re-registered when the routes file changes on disk, without a command", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { main: { targets: ["mock-a/model-a"].map(target) } } },
    });
    const file = join(harness.agentDir, "extensions", "auto-router.routes.json");
    writeFileSync(
      file,
      JSON.stringify({
        routes: {
          main: { targets: ["mock-a/model-a"].map(target) },
          edited: { targets: ["mock-b/model-b"].map(target) },
        },
      }),
    );
    const deadline = Date.now() + 10_000;
    while (!find(harness, "edited") && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(find(harness, "edited"), "route from the edited file registered");
  });

  it("keep a route of a file broken at start-up selectable, fail its requests with the error, and serve once the file is fixed", async () => {
    const dir = freshDir("auto-router-broken"); // the harness writes its state here until it is disposed
    try {
      const file = join(dir, "routes.json");
      writeFileSync(
        file,
        '{"routes": {"main": {"targets": [{"provider": "mock-a", "modelId": "model-a"}]} "other": {}}}',
      );
      harness = await createSdkHarness({
        targets: TARGETS,
        env: { AUTO_ROUTER_CONFIG: file, AUTO_ROUTER_LOG_DIR: dir },
      });
      await harness.setModel("auto-router", "main");
      await harness.prompt("hello");
      assert.match(
        harness.lastAssistant().errorMessage ?? "",
        /^auto-router: route main cannot be served: the routes file is invalid \(.*routes\.json:1:81: not valid JSON/,
      );
      assert.equal(harness.faux("mock-a").state.callCount, 0);
      // Refused by the router, which called no target, in the event log (the reports count it apart from failures).
      const finals = () => readEventLogFile(join(dir, "auto-router.events.jsonl")).filter((e) => e.type === "final");
      await eventually(() => finals().length === 1, "the request's final event");
      assert.deepEqual([finals()[0].data.outcome, finals()[0].data.attempts], ["refused", 0]);
      writeFileSync(file, JSON.stringify({ routes: { main: { targets: ["mock-a/model-a"].map(target) } } }));
      const reloaded = () => harness!.ui!.notifications.filter((n) => n.message.includes("routes file reloaded"));
      const deadline = Date.now() + 10_000;
      while (reloaded().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      // A confirmation, not a warning; the broken file at start was an error.
      assert.deepEqual(
        reloaded().map((n) => [n.message, n.level]),
        [[`auto-router: routes file reloaded: ${file} (1 route)`, "info"]],
      );
      assert.deepEqual(
        harness.ui!.notifications.filter((n) => n.message.includes("not valid JSON")).map((n) => n.level),
        ["error"],
      );
      harness.faux("mock-a").setResponses([harness.fauxHelpers.fauxAssistantMessage("fixed")]);
      await harness.prompt("hello again");
      assert.equal(harness.lastAssistant().provider, "mock-a");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
