// What the earlier pi-auto-router's README documented and its users still type, through real pi (SDK in-process,
// faux targets): `test-resolve`, AUTO_ROUTER_SHADOW=1, and the status line's shadow / UVI-hard marks.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROUTES_FILE_NAME } from "../helpers/agent-dir.ts";
import { harnessPerTest, type SdkHarness } from "../helpers/sdk-harness.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
];
const ROUTES = {
  routes: {
    main: {
      targets: [
        { provider: "mock-a", modelId: "model-a" },
        { provider: "mock-b", modelId: "model-b" },
      ],
      policyRules: [{ id: "prefer-b", type: "prefer-provider", providers: ["mock-b"] }],
    },
  },
  aliases: { quick: "main", bee: "mock-b/model-b" },
};

const harnesses = harnessPerTest();
/** `text` as a literal in a RegExp. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

async function start(env: Record<string, string> = {}): Promise<SdkHarness> {
  const harness = await harnesses.start({ targets: TARGETS, routes: ROUTES, env }, "auto-router-habits");
  await harness.setModel("auto-router", "main");
  return harness;
}

const status = (h: SdkHarness) => h.ui!.statuses.get("auto-router") ?? "";
const complete = async (h: SdkHarness, prefix: string): Promise<string[]> => {
  const items = (await h.session.extensionRunner.getCommand("auto-router").getArgumentCompletions(prefix)) ?? [];
  return items.map((item: { value: string }) => item.value);
};

describe("habits from the earlier pi-auto-router", () => {
  it("answers test-resolve as resolve does, in the name typed, and completes it and its aliases", async () => {
    const h = await start();
    const resolved = await h.command("/auto-router resolve quick");
    assert.match(resolved, /^quick → auto-router\/main \(alias\)/);
    assert.equal(await h.command("/auto-router test-resolve quick"), resolved);
    assert.equal(await h.command("/auto-router test-resolve bee"), await h.command("/auto-router resolve bee"));
    // Its refusals say the name the user typed, not resolve's.
    assert.equal(await h.command("/auto-router test-resolve"), "usage: /auto-router test-resolve <alias>");
    const unknown = await h.command("/auto-router resolve nope");
    assert.match(unknown, /^resolve: "nope" is neither a route, an alias nor provider\/model/);
    assert.equal(await h.command("/auto-router test-resolve nope"), unknown.replace(/^resolve:/, "test-resolve:"));
    assert.deepEqual(await complete(h, "test-r"), ["test-resolve "]);
    assert.deepEqual(await complete(h, "test-resolve q"), ["test-resolve quick "]);
  });

  it("loads the earlier routes file: list aliases take their first usable name, earlier-shape rules apply", async () => {
    const every = [0, 1, 2, 3, 4, 5, 6];
    const h = await harnesses.start(
      {
        targets: TARGETS,
        routes: {
          routes: {
            main: {
              name: "Main",
              targets: [
                { provider: "mock-a", modelId: "model-a", label: "A" },
                { provider: "mock-b", modelId: "model-b", label: "B" },
              ],
            },
          },
          aliases: { premium: ["auto-router/main"], pair: ["mock-a/model-gone", "mock-b/model-b"] },
          policyRules: [
            {
              name: "no-a",
              priority: 10,
              type: "exclude-provider",
              provider: "mock-a",
              condition: { afterTime: "00:00", daysOfWeek: every },
            },
          ],
        },
      },
      "auto-router-habits",
    );
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-b").setResponses([fauxAssistantMessage("B, as the earlier rule says")]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 0);

    const aliases = await h.command("/auto-router aliases");
    assert.match(aliases, /premium +auto-router\/main +auto-router\/main +route, 2 targets$/m);
    assert.match(aliases, /pair +mock-a\/model-gone -> mock-b\/model-b +mock-b\/model-b +model, ready/);
    assert.match(await h.command("/auto-router resolve pair"), /^pair → mock-b\/model-b \(alias\): model, ready/);
    // No "does nothing" finding for an alias that names a route, and the migration is reported, not an error.
    const status = await h.command("/auto-router status");
    assert.doesNotMatch(status, /aliases\.premium/);
    assert.doesNotMatch(status, /INVALID|config invalid/);
    assert.match(await h.command("/auto-router switch pair"), /^switched to mock-b\/model-b \(alias pair\)/);
  });

  it("never applies an earlier rule whose afterTime equals its beforeTime, as the earlier router, and warns at load", async () => {
    const rule = (condition: Record<string, string>) => ({
      name: "no-a",
      priority: 10,
      type: "exclude-provider",
      provider: "mock-a",
      condition,
    });
    const h = await harnesses.start(
      {
        targets: TARGETS,
        routes: {
          routes: {
            main: {
              targets: [
                { provider: "mock-a", modelId: "model-a" },
                { provider: "mock-b", modelId: "model-b" },
              ],
            },
            second: {
              targets: [
                { provider: "mock-a", modelId: "model-a" },
                { provider: "mock-b", modelId: "model-b" },
              ],
              policyRules: [rule({ beforeTime: "0:00" })],
            },
            current: {
              targets: [
                { provider: "mock-a", modelId: "model-a" },
                { provider: "mock-b", modelId: "model-b" },
              ],
              policyRules: [
                {
                  id: "no-a-now",
                  type: "exclude-provider",
                  providers: ["mock-a"],
                  when: { timeWindow: { after: "13:30", before: "13:30" } },
                },
              ],
            },
          },
          policyRules: [{ ...rule({ afterTime: "00:00", beforeTime: "00:00" }), routes: ["main"] }],
        },
      },
      "auto-router-habits",
    );
    const file = join(h.agentDir, "extensions", ROUTES_FILE_NAME);
    const { fauxAssistantMessage } = h.fauxHelpers;
    for (const route of ["main", "second", "current"]) {
      await h.setModel("auto-router", route);
      h.faux("mock-a").setResponses([fauxAssistantMessage(`A on ${route}, as the earlier router served it`)]);
      await h.prompt("hello");
      assert.equal(h.lastAssistant().provider, "mock-a", `${route}: the rule of no length never applies`);
    }
    assert.equal(h.faux("mock-b").state.callCount, 0);
    const notices = h.ui!.textSince(0);
    const never = "a window of no length, so this rule never applies";
    const earlier = "the earlier router never applied it either (give the window a length, or remove the rule)";
    for (const [path, text] of [
      ["policyRules[0].condition", `afterTime equals beforeTime (00:00): ${never}; ${earlier}`],
      [
        "routes.second.policyRules[0].condition",
        `beforeTime 00:00 alone: from midnight to midnight, ${never}; ${earlier}`,
      ],
      [
        "routes.current.policyRules[0].when.timeWindow",
        `after equals before (13:30): ${never} (give the window a length; for a rule that applies all day, remove the timeWindow)`,
      ],
    ] as const)
      assert.match(notices, new RegExp(`${literal(file)}:\\d+:\\d+ at ${literal(path)}: ${literal(text)}`), notices);
    assert.match(
      await h.command("/auto-router explain"),
      /00:00-00:00 is a window of no length|13:30-13:30 is a window of no length/,
    );
  });

  it("names the route in place of the earlier built-in routes and their aliases in switch and show", async () => {
    // No routes file: the built-in routes, where the earlier router's subscription-premium is subscription-reasoning.
    const h = await harnesses.start({ targets: TARGETS }, "auto-router-habits");
    const routes = "(routes: subscription-reasoning, subscription-swe, subscription-long-context, ";
    for (const [typed, said] of [
      [
        "premium",
        '"premium" named the earlier pi-auto-router\'s built-in route subscription-premium; "subscription-reasoning" is the route in its place here ',
      ],
      [
        "auto-router/subscription-coding",
        '"auto-router/subscription-coding" is a built-in route of the earlier pi-auto-router; "subscription-swe" is the route in its place here ',
      ],
    ]) {
      assert.match(await h.command(`/auto-router switch ${typed}`), new RegExp(`^switch: ${literal(said + routes)}`));
      assert.match(await h.command(`/auto-router show ${typed}`), new RegExp(literal(said)));
    }
    // With a routes file of one's own, the names are the file's: no route in place to name.
    const own = await start();
    assert.match(
      await own.command("/auto-router switch premium"),
      /^switch: "premium" is neither a route, an alias nor provider\/model/,
    );
  });

  it("turns shadow mode on with AUTO_ROUTER_SHADOW=1, marks it in the status line and keeps it on", async () => {
    const h = await start({ AUTO_ROUTER_SHADOW: "1" });
    assert.match(status(h), /^⇄ \S+ · 🔬 shadow/, "marked as soon as the route is selected, before any request");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("A in shadow"), fauxAssistantMessage("A again")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B ranked")]);
    await h.prompt("one");
    assert.equal(h.lastAssistant().provider, "mock-a", "declared order, not the ranking (which prefers mock-b)");
    assert.match(status(h), /🔬 shadow/);
    assert.match(await h.command("/auto-router shadow"), /^shadow mode: enabled by AUTO_ROUTER_SHADOW=1/);
    assert.match(await h.command("/auto-router shadow disable"), /AUTO_ROUTER_SHADOW=1 is set/);
    await h.prompt("two");
    assert.equal(h.lastAssistant().provider, "mock-a");
    assert.equal(h.faux("mock-b").state.callCount, 0);
  });

  it("shows neither mark without the switches, and the UVI-hard mark with AUTO_ROUTER_UVI_HARD=1", async () => {
    const plain = await start();
    assert.match(status(plain), /^⇄ /);
    assert.doesNotMatch(status(plain), /🔬|🛡️/);
    const hard = await start({ AUTO_ROUTER_UVI_HARD: "1" });
    assert.match(status(hard), /^⇄ \S+ · 🛡️ uvi-hard/);
    const off = await start({ AUTO_ROUTER_UVI_HARD: "1", AUTO_ROUTER_UVI: "0" });
    assert.doesNotMatch(status(off), /uvi-hard/, "hard mode does nothing while UVI is off, so it is not shown");
  });
});
