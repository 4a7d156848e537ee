// "Spend subscriptions before per-token money" through real pi (SDK in-process, faux targets): a subscription target
// known to be slower than a per-token one still serves first on a route's default ranking; `sortBy: "latency"` ranks
// by speed alone. The two targets' times to first token come from a latency file in the state directory.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { readEventLogFile } from "../helpers/event-log.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const TARGETS = [
  { provider: "mock-sub", models: [{ id: "model-s" }] },
  { provider: "mock-paid", models: [{ id: "model-p" }] },
];
const BOTH = [
  { provider: "mock-sub", modelId: "model-s", billing: "subscription" },
  { provider: "mock-paid", modelId: "model-p", billing: "per-token" },
];

let harness: SdkHarness | undefined;
let stateDir: string | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

/** A state directory whose latency file says the subscription answers in 514 ms, the per-token target in 206 ms. */
function measuredStateDir(): string {
  const dir = freshDir("auto-router-subscription-first");
  const sample = (ms: number) => ({ ttftMs: ms, samples: 5, updatedAt: Date.now() });
  writeFileSync(
    join(dir, "auto-router.latency.json"),
    JSON.stringify({ v: 1, targets: { "mock-sub/model-s": sample(514), "mock-paid/model-p": sample(206) } }),
  );
  return dir;
}

describe("subscriptions before per-token money", () => {
  it("serves from the slower subscription on the default ranking, and from the faster target with sortBy latency", async () => {
    stateDir = measuredStateDir();
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { main: { targets: BOTH }, fast: { sortBy: "latency", targets: BOTH } } },
      env: { AUTO_ROUTER_LOG_DIR: stateDir },
    });
    const { fauxAssistantMessage } = harness.fauxHelpers;
    assert.match(await harness.command("/auto-router show main"), /mock-paid\/model-p[^\n]*206 ms/);
    harness.faux("mock-sub").setResponses([fauxAssistantMessage("from the subscription")]);
    await harness.setModel("auto-router", "main");
    await harness.prompt("hello");
    assert.equal(harness.lastAssistant().provider, "mock-sub");
    assert.match(
      await harness.command("/auto-router explain"),
      /Ranked first: mock-sub\/model-s: subscription before per-token mock-paid\/model-p/,
    );
    harness.faux("mock-paid").setResponses([fauxAssistantMessage("the fast one")]);
    await harness.setModel("auto-router", "fast");
    await harness.prompt("hello again");
    assert.equal(harness.lastAssistant().provider, "mock-paid");
  });

  it("keeps the subscription first late in the month when a per-token target has spent little of its monthly budget", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: {
        routes: { main: { sortBy: "config", targets: [BOTH[1], BOTH[0]] } },
        budgets: { timeZone: "UTC", providers: { "mock-paid": { monthly: 100 } } },
      },
      clock: true,
    });
    // The 28th of this month (or the next), noon UTC: ~90% of the month has passed and nothing of $100 is spent.
    const now = new Date();
    let late = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 28, 12);
    if (late < now.getTime()) late = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 28, 12);
    harness.advanceClock(late - now.getTime());
    const { fauxAssistantMessage } = harness.fauxHelpers;
    harness.faux("mock-sub").setResponses([fauxAssistantMessage("from the subscription")]);
    await harness.setModel("auto-router", "main");
    await harness.prompt("hello");
    assert.equal(harness.lastAssistant().provider, "mock-sub");
    // The budget's pace is shown, but money not spent is saved: no surplus, no promotion.
    assert.match(await harness.command("/auto-router uvi"), /mock-paid\s+monthly budget\s+0%\s+\d+%\s+0\.00\s+ok/);
    assert.doesNotMatch(await harness.command("/auto-router explain"), /promoted|surplus/);
  });

  it("books a subscription's answer at $0 in the final event, and calls two subscriptions' prices list prices", async () => {
    stateDir = freshDir("auto-router-subscription-cost");
    const priced = (output: number) => ({ input: 1, output, cacheRead: 0, cacheWrite: 0 });
    harness = await createSdkHarness({
      targets: [
        { provider: "mock-a", models: [{ id: "model-a", cost: priced(50) }] },
        { provider: "mock-b", models: [{ id: "model-b", cost: priced(8) }] },
      ],
      routes: {
        routes: {
          main: {
            targets: [
              { provider: "mock-a", modelId: "model-a", billing: "subscription" },
              { provider: "mock-b", modelId: "model-b", billing: "subscription" },
            ],
          },
        },
      },
      env: { AUTO_ROUTER_LOG_DIR: stateDir },
    });
    const { fauxAssistantMessage, getApiProvider, registerApiProvider } = harness.fauxHelpers;
    // pi-ai's faux provider reports a zero cost; a real provider's answer carries its list price, as this one does.
    const faux = getApiProvider("faux-mock-b");
    registerApiProvider({
      ...faux,
      streamSimple: (model: unknown, context: unknown, options: unknown) => {
        const inner = faux.streamSimple(model, context, options);
        return {
          end: () => inner.end(),
          async *[Symbol.asyncIterator]() {
            for await (const event of inner) {
              if (event.type === "done") event.message.usage.cost.total = 0.045;
              yield event;
            }
          },
        };
      },
    });
    harness.faux("mock-b").setResponses([fauxAssistantMessage("from the plan with the lower list price")]);
    await harness.setModel("auto-router", "main");
    await harness.prompt("hello");
    assert.equal(harness.lastAssistant().provider, "mock-b");
    assert.equal(harness.lastAssistant().usage.cost.total, 0.045, "the answer carried its list price");
    const explain = await harness.command("/auto-router explain");
    assert.match(explain, /^ {2}1\. mock-b\/model-b \(subscription, list price ~\$[\d.]+\)$/m);
    assert.match(
      explain,
      /^Ranked first: mock-b\/model-b: lower list price \(\$[\d.]+ vs \$[\d.]+ for mock-a\/model-a; both subscriptions, booked at \$0\)$/m,
    );
    assert.doesNotMatch(explain, /cheaper/);
    await harness.dispose();
    harness = undefined;
    const events = readEventLogFile(join(stateDir, "auto-router.events.jsonl"));
    const final = events.find((event) => event.type === "final");
    assert.equal(final.data.servedTarget, "mock-b/model-b");
    assert.equal(final.data.costUsd, 0, "booked as the budget books it");
    assert.equal(events.find((event) => event.type === "usage").data.costUsd, 0);
  });
});

describe("one ranking whatever the declared order", () => {
  it("serves the same target and explains the same order for the same three targets declared in two orders", async () => {
    // Fast and dear (74 ms), not measured yet and mid-priced, slow and cheap (577 ms): compared in pairs these formed
    // a cycle, and the route's declared order picked the winner.
    const price = (output: number) => ({ input: output / 5, output, cacheRead: 0, cacheWrite: 0 });
    const targets = [
      { provider: "mock-dear", models: [{ id: "m", cost: price(30) }] },
      { provider: "mock-new", models: [{ id: "m", cost: price(2) }] },
      { provider: "mock-cheap", models: [{ id: "m", cost: price(0.5) }] },
    ];
    const candidates = (explain: string) =>
      [...explain.matchAll(/^\s+\d+\. (mock-\w+)\/m \(per-token/gm)].map((match) => match[1]);
    // Each declaration in a pi of its own: the first answer measures mock-new, which would decide the second.
    for (const providers of [
      ["mock-dear", "mock-new", "mock-cheap"],
      ["mock-cheap", "mock-new", "mock-dear"],
    ]) {
      stateDir = freshDir("auto-router-one-ranking");
      const sample = (ms: number) => ({ ttftMs: ms, samples: 5, updatedAt: Date.now() });
      writeFileSync(
        join(stateDir, "auto-router.latency.json"),
        JSON.stringify({ v: 1, targets: { "mock-dear/m": sample(74), "mock-cheap/m": sample(577) } }),
      );
      harness = await createSdkHarness({
        targets,
        routes: { routes: { main: { targets: providers.map((provider) => ({ provider, modelId: "m" })) } } },
        env: { AUTO_ROUTER_LOG_DIR: stateDir },
      });
      harness.faux("mock-new").setResponses([harness.fauxHelpers.fauxAssistantMessage("from the new one")]);
      await harness.setModel("auto-router", "main");
      await harness.prompt("hello");
      assert.equal(harness.lastAssistant().provider, "mock-new", providers.join(", "));
      const explain = await harness.command("/auto-router explain");
      // The unmeasured one counts as fast as the fastest, where it is cheaper; the slow one comes last.
      assert.deepEqual(candidates(explain), ["mock-new", "mock-dear", "mock-cheap"], explain);
      await harness.dispose();
      harness = undefined;
    }
  });
});

describe("a subscription and its account's budget", () => {
  it("serves the subscription first when the account's per-token target has spent past its daily limit", async () => {
    // One account, two models: one signed up as a subscription, one billed per token ($100 per 1M tokens); soft
    // policy, so the metered answer is served and booked past the limit.
    const PRICED = { input: 100, output: 100, cacheRead: 0, cacheWrite: 0 };
    harness = await createSdkHarness({
      targets: [
        {
          provider: "mock-acct",
          models: [
            { id: "model-s", cost: PRICED },
            { id: "model-p", cost: PRICED },
          ],
        },
        { provider: "mock-paid", models: [{ id: "model-p", cost: PRICED }] },
      ],
      routes: {
        routes: {
          metered: { targets: [{ provider: "mock-acct", modelId: "model-p", billing: "per-token" }] },
          main: {
            sortBy: "config",
            targets: [
              { provider: "mock-acct", modelId: "model-s", billing: "subscription" },
              { provider: "mock-paid", modelId: "model-p", billing: "per-token" },
            ],
          },
        },
        budgets: { policy: "soft", providers: { "mock-acct": { daily: 0.0001 } } },
      },
    });
    const { fauxAssistantMessage } = harness.fauxHelpers;
    harness
      .faux("mock-acct")
      .setResponses([fauxAssistantMessage("metered answer"), fauxAssistantMessage("from the plan")]);
    await harness.setModel("auto-router", "metered");
    await harness.prompt("hello");
    assert.match(await harness.command("/auto-router budget"), /mock-acct +today +\$0\.0[^\n]*BLOCKED +1\b/);
    // The subscription is not over budget: ready in the listing, first choice, no budget note.
    assert.match(await harness.command("/auto-router show main"), /mock-acct\/model-s[^\n]*ready/);
    await harness.setModel("auto-router", "main");
    await harness.prompt("hello again");
    const last = harness.lastAssistant();
    assert.equal(`${last.provider}/${last.model}`, "mock-acct/model-s");
    assert.equal(harness.faux("mock-paid").state.callCount, 0);
    const explain = await harness.command("/auto-router explain");
    assert.match(explain, /Served by: mock-acct\/model-s \(first choice/);
    assert.doesNotMatch(explain, /budget/);
  });
  it("serves the subscription under a hard budget its account's per-token spend is past, and keeps that budget's refusal shown", async () => {
    // One account: a subscription model and a per-token one ($100 per 1M tokens), under a hard daily limit.
    const PRICED = { input: 100, output: 100, cacheRead: 0, cacheWrite: 0 };
    harness = await createSdkHarness({
      targets: [
        {
          provider: "mock-acct",
          models: [
            { id: "model-s", cost: PRICED },
            { id: "model-p", cost: PRICED },
          ],
        },
      ],
      routes: {
        routes: {
          metered: { targets: [{ provider: "mock-acct", modelId: "model-p", billing: "per-token" }] },
          plan: { targets: [{ provider: "mock-acct", modelId: "model-s", billing: "subscription" }] },
        },
        budgets: { policy: "hard", providers: { "mock-acct": { daily: 10 } } },
      },
    });
    const h = harness;
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-acct").setResponses(["metered", "plan", "plan again"].map((text) => fauxAssistantMessage(text)));
    await h.setModel("auto-router", "metered");
    await h.prompt("hello");
    const spent = Number(/^mock-acct +today +\$(\S+)/m.exec(await h.command("/auto-router budget"))?.[1]);
    assert.ok(spent > 0, "the metered answer was booked");
    // A limit that fits today's spend but not another request like it: the metered route is refused, and said so.
    await h.command(`/auto-router budget set mock-acct ${(spent * 1.5).toFixed(4)}`);
    await h.prompt("hello");
    assert.match(h.lastAssistant().errorMessage ?? "", /over budget and the budget policy is hard/);
    const refusalLine = /^mock-acct: BLOCKED: a request's estimate/m;
    assert.match(await h.command("/auto-router budget"), refusalLine);
    // The plan's answer costs nothing of the budget: served, and the metered target's refusal still stands.
    await h.setModel("auto-router", "plan");
    await h.prompt("hello from the plan");
    assert.equal(h.lastAssistant().model, "model-s", h.lastAssistant().errorMessage);
    assert.match(await h.command("/auto-router budget"), refusalLine);
    // With the day's per-token spend past the limit, the plan still serves.
    await h.command("/auto-router budget set mock-acct 0.0001");
    await h.prompt("and again");
    assert.equal(h.lastAssistant().model, "model-s", h.lastAssistant().errorMessage);
  });
});
