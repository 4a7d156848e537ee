// A misspelled provider or model id in the routes, through real pi (SDK in-process, faux targets registered by
// another extension): one warning per unknown id at session start with the closest id pi knows, none for ids that
// only another extension provides, none repeated on reload, and `/auto-router status` lists them; the built-in
// routes name only models the running pi line knows.
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

let harness: SdkHarness | undefined;
after(async () => harness?.dispose());

it("warns once per unknown provider or model with the closest known id, and status lists them", async () => {
  harness = await createSdkHarness({
    targets: [
      { provider: "mock-alpha", models: [{ id: "model-a" }] },
      { provider: "mock-b", models: [{ id: "model-b" }] },
    ],
    routes: {
      routes: {
        main: {
          targets: [
            { provider: "mock-alpah", modelId: "model-a" },
            { provider: "mock-b", modelId: "modle-b" },
            { provider: "mock-alpha", modelId: "model-a" },
          ],
        },
      },
    },
  });
  const unknown = () =>
    harness!.ui!.notifications.map((n) => n.message).filter((text) => text.includes("is not known to pi"));
  assert.deepEqual(
    unknown().map((text) => text.replace(/^.* at /, "")),
    [
      "routes.main.targets[0]: provider 'mock-alpah' is not known to pi; did you mean 'mock-alpha'?",
      "routes.main.targets[1]: model 'modle-b' is not known to pi for provider 'mock-b'; did you mean 'model-b'?",
    ],
  );
  await harness.command("/auto-router reload");
  assert.equal(unknown().length, 2, "not repeated");
  const status = await harness.command("/auto-router status");
  assert.match(
    status,
    /^ {2}warning: line \d+, column \d+ at routes\.main\.targets\[0\]: provider 'mock-alpah' is not known to pi; did you mean 'mock-alpha'\?$/m,
  );
  assert.match(
    status,
    /^ {2}warning: line \d+, column \d+ at routes\.main\.targets\[1\]: model 'modle-b' is not known to pi for provider 'mock-b'; did you mean 'model-b'\?$/m,
  );
});

it("picks the built-in routes' model ids of the running pi's line: none is unknown on any line", async () => {
  await harness?.dispose();
  // No routes file: the built-in routes, whose Codex and DeepSeek Flash slots name each pi line's own ids.
  harness = await createSdkHarness({ targets: [{ provider: "mock-b", models: [{ id: "model-b" }] }] });
  const notified = harness.ui!.notifications.map((n) => n.message);
  assert.deepEqual(
    notified.filter((text) => text.includes("is not known to pi")),
    [],
    "no warning about routes the user never wrote",
  );
  const status = await harness.command("/auto-router status");
  assert.doesNotMatch(status, /^ {2}warning: .*is not known to pi/m);
  assert.doesNotMatch(status, /built-in targets this pi does not know/, status);
  const list = await harness.command("/auto-router list");
  assert.match(list, /openai-codex\/gpt-[\w.-]+/, list);
});
