// `/auto-router switch` and `resolve` through real pi (SDK, faux targets): a mistyped name is never told it meant an
// alias that points at nothing (its route removed, or its model unknown to pi), as the gateway never offers one.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { harnessPerTest } from "../helpers/sdk-harness.ts";

const TARGETS = [{ provider: "mock-a", models: [{ id: "model-a" }] }];
const harnesses = harnessPerTest();

describe("a mistyped name after /auto-router switch", () => {
  it("is not told it meant a dead alias, only one that points at something", async () => {
    const h = await harnesses.start({
      targets: TARGETS,
      routes: {
        routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } },
        aliases: { gone: "removed", "old-model": "mock-a/model-gone", quick: "main", mine: "mock-a/model-a" },
      },
    });
    await h.setModel("auto-router", "main");
    // The dead ones are listed apart, so one's owner sees it is there and cannot be used.
    const listed = "(routes: main; aliases: quick, mine; aliases pointing at nothing: gone, old-model)";
    // "gone" (its route removed) and "old-model" (a model pi does not know) are each one letter away.
    assert.equal(
      await h.command("/auto-router switch gonee"),
      `switch: "gonee" is neither a route, an alias nor provider/model ${listed}`,
    );
    assert.equal(
      await h.command("/auto-router resolve old-modell"),
      `resolve: "old-modell" is neither a route, an alias nor provider/model ${listed}`,
    );
    // The live ones still are suggested.
    assert.equal(
      await h.command("/auto-router switch quickk"),
      `switch: "quickk" is neither a route, an alias nor provider/model; did you mean "quick"? ${listed}`,
    );
    assert.match(await h.command("/auto-router switch minee"), /; did you mean "mine"\?/);
    // Nor offered: the picker of a bare `switch` and Tab completion leave the dead aliases out.
    assert.equal(await h.command("/auto-router switch"), "switch cancelled");
    // Each alias says what it points at; one naming a model, that it is not routed.
    assert.deepEqual(h.ui!.selections.at(-1)?.options, [
      "main",
      "quick → auto-router/main",
      "mine → mock-a/model-a (one model, not routed)",
    ]);
    const command = h.session.extensionRunner.getCommand("auto-router");
    const completions = ((await command.getArgumentCompletions("switch ")) ?? []).map((item: any) => item.value);
    assert.ok(completions.includes("switch quick ") && completions.includes("switch mine "), completions.join(", "));
    assert.ok(!completions.some((value: string) => /switch (gone|old-model) /.test(value)), completions.join(", "));
    assert.equal(`${h.session.model.provider}/${h.session.model.id}`, "auto-router/main");
  });
});

describe("completing a name typed in full after /auto-router switch", () => {
  it("offers it first, so Enter keeps the alias `o` rather than the route `other` declared before it", async () => {
    const h = await harnesses.start({
      targets: TARGETS,
      routes: {
        routes: {
          other: { targets: [{ provider: "mock-a", modelId: "model-a" }] },
          main: { targets: [{ provider: "mock-a", modelId: "model-a" }] },
        },
        aliases: { o: "main" },
      },
    });
    await h.setModel("auto-router", "main");
    const command = h.session.extensionRunner.getCommand("auto-router");
    const completions = ((await command.getArgumentCompletions("switch o")) ?? []).map((item: any) => item.value);
    // pi's catalogue models starting with "o" (openai/...) follow.
    assert.deepEqual(completions.slice(0, 2), ["switch o ", "switch other "]);
  });
});
