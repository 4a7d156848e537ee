// The /auto-router subcommands that take a route (show, rules, explain) through real pi (SDK, faux targets): a route is
// named as `switch` takes one (its id, `auto-router/<route>`, an alias of it), a model or a typo is refused with what
// it is; and a mistyped provider/model after `switch` or `resolve` gets the model the gateway would suggest.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { harnessPerTest } from "../helpers/sdk-harness.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
  { provider: "mock-c", models: [{ id: "model-c" }] },
];
const target = (key: string) => ({ provider: key.split("/")[0]!, modelId: key.split("/")[1]! });
const ROUTES = {
  routes: {
    main: { name: "Main route", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) },
    think: {
      name: "Thinking",
      targets: ["mock-c/model-c"].map(target),
      policyRules: [{ id: "no-b", type: "exclude-provider", providers: ["mock-b"] }],
    },
  },
  aliases: { t: "think", m: "auto-router/main", bee: "mock-b/model-b", broken: "nowhere", old: "mock-a/model-aa" },
};
const KNOWN = "(routes: main, think; aliases: t, m)";
const harnesses = harnessPerTest();

describe("a route named after /auto-router show, rules and explain", () => {
  it("is its id, auto-router/<route> or an alias of it; a model, a dead alias or a typo is refused with what it is", async () => {
    const h = await harnesses.start({ targets: TARGETS, routes: ROUTES });
    await h.setModel("auto-router", "think");
    h.faux("mock-c").setResponses([h.fauxHelpers.fauxAssistantMessage("from C")]);
    await h.prompt("hello");
    for (const name of ["think", "t", "auto-router/think"]) {
      assert.match(await h.command(`/auto-router explain ${name}`), /on think, .*served by mock-c\/model-c/);
      assert.match(await h.command(`/auto-router show ${name}`), /^auto-router\/think — Thinking/);
      assert.match(
        await h.command(`/auto-router rules ${name}`),
        /^Rules of route think, in the order they run .*\n {2}no-b: /,
      );
    }
    for (const name of ["m", "auto-router/main"]) {
      assert.match(await h.command(`/auto-router show ${name}`), /^auto-router\/main — Main route/);
      assert.equal(await h.command(`/auto-router rules ${name}`), "no policy rules apply to route main");
      assert.match(
        await h.command(`/auto-router explain ${name}`),
        /^no request has been routed through main in this pi process yet \(/,
      );
    }
    // A typo gets the route meant, by its route part after auto-router/.
    assert.equal(
      await h.command("/auto-router show mian"),
      `show: "mian" is not a route; did you mean "main"? ${KNOWN}`,
    );
    assert.equal(
      await h.command("/auto-router rules auto-router/thnik"),
      `rules: "auto-router/thnik" is not a route; did you mean "think"? ${KNOWN}`,
    );
    assert.equal(await h.command("/auto-router explain zzz"), `explain: "zzz" is not a route ${KNOWN}`);
    // A model, by alias or by itself, is no route.
    assert.equal(
      await h.command("/auto-router explain bee"),
      `explain: "bee" is an alias of the model mock-b/model-b, not of a route ${KNOWN}`,
    );
    assert.equal(
      await h.command("/auto-router show mock-b/model-b"),
      `show: "mock-b/model-b" names a model, not a route ${KNOWN}`,
    );
    assert.equal(
      await h.command("/auto-router rules broken"),
      'rules: alias broken points at "nowhere", which is neither a route nor provider/model (routes: main, think)',
    );
  });
});

describe("a mistyped provider/model after /auto-router switch and resolve", () => {
  it("gets the closest model pi knows, as the gateway suggests it", async () => {
    const h = await harnesses.start({ targets: TARGETS, routes: ROUTES });
    await h.setModel("auto-router", "main");
    assert.equal(
      await h.command("/auto-router switch mock-b/model-bb"),
      'cannot switch to mock-b/model-bb: pi does not know that model; did you mean "mock-b/model-b"?',
    );
    assert.equal(
      await h.command("/auto-router switch mokc-b/model-b"),
      'cannot switch to mokc-b/model-b: pi does not know that model; did you mean "mock-b/model-b"?',
    );
    assert.equal(
      await h.command("/auto-router switch old"),
      'cannot switch to mock-a/model-aa (alias old): pi does not know that model; did you mean "mock-a/model-a"?',
    );
    assert.equal(
      await h.command("/auto-router switch nosuch/thing"),
      "cannot switch to nosuch/thing: pi does not know that model",
    );
    assert.equal(
      await h.command("/auto-router resolve mock-b/model-bb"),
      'mock-b/model-bb → mock-b/model-bb: unknown model; did you mean "mock-b/model-b"?',
    );
    assert.equal(h.ui!.notifications.at(-1)?.level, "error", "an unknown model is an error, as an unknown name is");
    assert.equal(`${h.session.model.provider}/${h.session.model.id}`, "auto-router/main");
  });

  it("says a route switched to fails every request while the routes file is invalid with no good copy", async () => {
    const invalid = {
      routes: { main: { targets: [target("mock-a/model-a")], policyRules: [{ id: "x", type: "nope" }] } },
    };
    const h = await harnesses.start({ targets: TARGETS, routes: invalid });
    // Before: a bare "switched to auto-router/main", as if the route would answer.
    assert.match(
      await h.command("/auto-router switch main"),
      /^switched to auto-router\/main, but its requests fail until the routes file is fixed: \S+auto-router\.routes\.json:\d+:\d+ at routes\.main\.policyRules\[0\]\.type: .*INVALID, no good copy yet/,
    );
    assert.equal(`${h.session.model.provider}/${h.session.model.id}`, "auto-router/main");
    assert.equal(await h.command("/auto-router switch mock-b/model-b"), "switched to mock-b/model-b");
  });
});
