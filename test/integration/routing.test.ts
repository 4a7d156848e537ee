// The decision core through real pi (SDK, faux targets): shortcuts are stripped before the model sees the prompt,
// per-prompt preferences and policy rules steer the choice, and explain prints the recorded decision.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { readLoggedEvents } from "../helpers/event-log.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { eventually } from "../helpers/temp-and-workers.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a", input: ["text"] as ("text" | "image")[] }] },
  { provider: "mock-b", models: [{ id: "model-b", input: ["text"] as ("text" | "image")[] }] },
  { provider: "mock-v", models: [{ id: "model-v", input: ["text", "image"] as ("text" | "image")[] }] },
];
const ONE_PIXEL_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const target = (key: string) => ({ provider: key.split("/")[0]!, modelId: key.split("/")[1]! });

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

async function start(route: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  harness = await createSdkHarness({ targets: TARGETS, routes: { routes: { main: route }, ...extra } });
  await harness.setModel("auto-router", "main");
  return harness;
}

/** A faux reply that echoes the last user text the target received. */
const echoPrompt = (h: SdkHarness) => (context: any) => {
  const user = [...context.messages].reverse().find((m: any) => m.role === "user");
  const text =
    typeof user.content === "string"
      ? user.content
      : user.content
          .filter((b: any) => b.type === "text")
          .map((b: any) => b.text)
          .join("");
  return h.fauxHelpers.fauxAssistantMessage(`received: ${text}`);
};
/** Each logged request's outcome and attempt count, once `count` requests have ended. */
async function loggedEnds(h: SdkHarness, count: number): Promise<Array<[string, number]>> {
  const finals = () => readLoggedEvents(h.agentDir).filter((event) => event.type === "final");
  await eventually(() => finals().length === count, "the requests' final events");
  return finals().map((event) => [event.data.outcome, event.data.attempts]);
}
const textOf = (message: any) =>
  (message?.content ?? [])
    .filter((b: any) => b.type === "text")
    .map((b: any) => b.text)
    .join("");

describe("routing through real pi", () => {
  it("routes `@vision describe` to the one vision target, and the model never sees `@vision`", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a", "mock-v/model-v"].map(target) });
    h.faux("mock-v").setResponses([echoPrompt(h)]);
    await h.prompt("@vision describe the screenshot");
    assert.equal(h.lastAssistant().provider, "mock-v");
    assert.equal(textOf(h.lastAssistant()), "received: describe the screenshot");
    assert.equal(h.faux("mock-a").state.callCount, 0);
    const user = h.chat().find((m: any) => m.role === "user");
    assert.doesNotMatch(JSON.stringify(user.content), /@vision/);
  });

  it("asks for a vision target only while the prompt being answered has an image, not for the rest of the session", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a", "mock-v/model-v"].map(target) });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-v").setResponses([fauxAssistantMessage("a red square")]);
    let sentToA: unknown;
    h.faux("mock-a").setResponses([
      (context: unknown) => {
        sentToA = context;
        return fauxAssistantMessage("text answered by a");
      },
    ]);
    const image = { type: "image", data: ONE_PIXEL_PNG, mimeType: "image/png" };
    await h.prompt("what is this?", { images: [image] });
    assert.equal(h.lastAssistant().provider, "mock-v", "the image needs the vision target");
    await h.prompt("and now a plain question");
    assert.equal(h.lastAssistant().provider, "mock-a", "the earlier image does not");
    assert.equal(textOf(h.lastAssistant()), "text answered by a");
    // The history the text-only target got still holds the first prompt (pi-ai's faux provider, like a real one,
    // leaves out or replaces what its model cannot read).
    assert.match(JSON.stringify(sentToA), /what is this\?/);
  });

  it("goes on with a tool loop whose tool read an image on a route without image targets, as pi leaves it out", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { main: { sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) } } },
      tools: ["read"],
    });
    const h = harness;
    await h.setModel("auto-router", "main");
    writeFileSync(join(h.agentDir, "shot.png"), Buffer.from(ONE_PIXEL_PNG, "base64"));
    const { fauxAssistantMessage, fauxToolCall } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage(fauxToolCall("read", { path: "shot.png" }), { stopReason: "toolUse" }),
      fauxAssistantMessage("read it: the image was left out"),
    ]);
    await h.prompt("look at shot.png");
    // The route takes no images: pi-ai sends the target a note in the image's place, as on a plain model.
    const result = h.chat().find((m: any) => m.role === "toolResult");
    assert.match(JSON.stringify(result.content), /"type":"image"/);
    assert.equal(h.lastAssistant().errorMessage, undefined);
    assert.equal(textOf(h.lastAssistant()), "read it: the image was left out");
    assert.equal(h.faux("mock-a").state.callCount, 2);
  });

  it("goes on without image input when the only vision target rests in a tool loop whose tool read an image", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { main: { sortBy: "config", targets: ["mock-v/model-v", "mock-a/model-a"].map(target) } } },
      tools: ["read"],
    });
    const h = harness;
    await h.setModel("auto-router", "main");
    writeFileSync(join(h.agentDir, "shot.png"), Buffer.from(ONE_PIXEL_PNG, "base64"));
    const { fauxAssistantMessage, fauxToolCall } = h.fauxHelpers;
    h.faux("mock-v").setResponses([
      fauxAssistantMessage(fauxToolCall("read", { path: "shot.png" }), { stopReason: "toolUse" }),
      // Rests for longer than a request waits for a resting target (failover.cooldownWaitMs).
      fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: "429 Rate limit reached. Please try again in 10m.",
      }),
    ]);
    h.faux("mock-a").setResponses([fauxAssistantMessage("read it without the image")]);
    await h.prompt("look at shot.png");
    assert.equal(h.lastAssistant().errorMessage, undefined, JSON.stringify(h.lastAssistant()));
    assert.equal(textOf(h.lastAssistant()), "read it without the image");
    assert.equal(h.lastAssistant().provider, "mock-a");
    const said = h.ui!.notifications.map((notification) => notification.message).join("\n");
    assert.match(
      said,
      /no target of route main that takes images is available now; the tool result's image goes to a target without image input, as a note in its place/,
    );
  });

  it("names the request's own asks when some targets lack what it needs and the others are outside its @only=", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a", "mock-v/model-v"].map(target) });
    await h.prompt("@vision @only=mock-a describe the screenshot");
    const error = h.lastAssistant().errorMessage ?? "";
    assert.equal(
      error,
      "auto-router: no target of route main both can do what this request needs and matches its provider preferences (mock-a/model-a: no image input; mock-v/model-v: not in only: mock-a). Waiting will not change this: check what the request asks for together (the prompt's shortcuts such as @reasoning, @vision, @only=, @ignore= or @max-price=, a gateway request's X-Provider or provider field, or the route's preferences and rules), or choose another route.",
    );
    assert.doesNotMatch(error, /credentials/);
    assert.equal(h.faux("mock-a").state.callCount + h.faux("mock-v").state.callCount, 0);
  });

  it("says an @only= request tried only the targets it allows, and names the ones it left out, when they all failed", async () => {
    // No wait for the resting target to come back (failover.cooldownWaitMs, 30 s by default): it failed either way.
    const h = await start(
      { sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) },
      { failover: { cooldownWaitMs: 0 } },
    );
    const { fauxAssistantMessage } = h.fauxHelpers;
    const broken = () => fauxAssistantMessage([], { stopReason: "error", errorMessage: "529 overloaded" });
    h.faux("mock-a").setResponses([broken, broken, broken, broken]);
    await h.prompt("@only=mock-a hello");
    const error = h.lastAssistant().errorMessage ?? "";
    assert.match(
      error,
      /^auto-router: (every|no) target of route main the provider preferences allow (failed|could serve this request) \(mock-a\/model-a: [^)]*\)[^;]*; the provider preferences left out the route's other targets \(mock-b\/model-b: not in only: mock-a\)/,
    );
    assert.equal(h.faux("mock-b").state.callCount, 0);
  });

  it("refuses `@vision` on a route without image targets by saying so, not as a temporary unavailability", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) });
    await h.prompt("@vision describe the screenshot");
    const error = h.lastAssistant().errorMessage ?? "";
    assert.equal(
      error,
      "auto-router: route main has no target that accepts images (mock-a/model-a: no image input; mock-b/model-b: no image input), which the @vision shortcut asks for. Waiting will not change this: send the prompt without it, choose a route with such a target, or add one to this route.",
    );
    assert.doesNotMatch(error, /available now/);
    assert.equal(h.faux("mock-a").state.callCount + h.faux("mock-b").state.callCount, 0);
    await harness!.dispose();
    // The same when the route also holds a target that could never serve here (a model pi lacks, as the built-in
    // routes do on some pi lines): it is named, and does not turn the answer into "not available now".
    const withInert = await start({
      sortBy: "config",
      targets: ["mock-a/model-a", "mock-a/model-gone", "mock-b/model-b"].map(target),
    });
    await withInert.prompt("@vision describe the screenshot");
    const inert = withInert.lastAssistant().errorMessage ?? "";
    assert.match(inert, /^auto-router: route main has no target that accepts images \(.*mock-a\/model-gone: /, inert);
    assert.match(inert, /Waiting will not change this/);
    assert.doesNotMatch(inert, /available now/);
    // @reasoning on a route without a reasoning model names the shortcut too: the prompt can go without it.
    await withInert.prompt("@reasoning think hard");
    assert.match(
      withInert.lastAssistant().errorMessage ?? "",
      /^auto-router: route main has no target that can do what this request needs \(.*mock-b\/model-b: not a reasoning model\), which the @reasoning shortcut asks for\. Waiting will not change this: send the prompt without it,/,
    );
    await withInert.prompt("@only=mock-zz hello there");
    const preference = withInert.lastAssistant().errorMessage ?? "";
    assert.match(preference, /^auto-router: no target of route main matches the provider preferences \(/, preference);
    assert.doesNotMatch(preference, /available now/);
    // No target was called: each is the router's refusal in the event log (as route()'s own are), not a failure.
    assert.deepEqual(await loggedEnds(withInert, 3), [
      ["refused", 0],
      ["refused", 0],
      ["refused", 0],
    ]);
  });

  it("says a prompt too long for the one target its @reasoning leaves can go without the shortcut", async () => {
    harness = await createSdkHarness({
      targets: [
        { provider: "mock-r", models: [{ id: "model-r", reasoning: true, contextWindow: 1_000 }] },
        { provider: "mock-b", models: [{ id: "model-b" }] },
      ],
      routes: { routes: { main: { targets: ["mock-r/model-r", "mock-b/model-b"].map(target) } } },
    });
    await harness.setModel("auto-router", "main");
    await harness.prompt(`@reasoning ${"word ".repeat(2_000)}`);
    assert.match(
      harness.lastAssistant().errorMessage ?? "",
      /^auto-router: the prompt is too long for every target of route main \(mock-r\/model-r: context window 1000 < \d+ tokens needed; mock-b\/model-b: not a reasoning model \(asked for by the @reasoning shortcut\)\)\. Waiting will not change this: compact the conversation, send the prompt without the @reasoning shortcut, or choose a route with a larger window\.$/,
    );
    assert.equal(harness.faux("mock-b").state.callCount, 0);
  });

  it("says a route whose targets pi does not know can serve nothing, and that waiting will not change it", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-aa/model-a", "mock-b/model-bb"].map(target) });
    await h.prompt("hello there");
    const error = h.lastAssistant().errorMessage ?? "";
    assert.equal(
      error,
      "auto-router: no target of route main can serve this request (mock-aa/model-a: not in pi's model registry; mock-b/model-bb: not in pi's model registry). Waiting will not change this: fix the targets named (their credentials, provider and model ids), or choose another route. See /auto-router list",
    );
    assert.equal(h.faux("mock-a").state.callCount + h.faux("mock-b").state.callCount, 0);
    assert.deepEqual(await loggedEnds(h, 1), [["refused", 0]]);
    assert.match(await h.command("/auto-router explain"), /outcome: refused/);
  });

  it("routes only to the providers named by `@only=`", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) });
    h.faux("mock-b").setResponses([echoPrompt(h)]);
    await h.prompt("@only=mock-b hello there");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(textOf(h.lastAssistant()), "received: hello there");
    assert.equal(h.faux("mock-a").state.callCount, 0);
  });

  it("applies a rule whose when.tier names the tier a force-tier rule set", async () => {
    const h = await start(
      { sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) },
      {
        policyRules: [
          { id: "to-fast", type: "force-tier", tier: "fast" },
          { id: "fast-no-a", type: "exclude-provider", providers: ["mock-a"], when: { tier: "fast" } },
        ],
      },
    );
    h.faux("mock-b").setResponses([echoPrompt(h)]);
    await h.prompt("hello there");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 0);
    assert.match(await h.command("/auto-router explain"), /\+ fast-no-a \(global\): tier fast => /);
  });

  it("says an `@only=` that names no target of the route is the cause, not that no target is available now", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) });
    await h.prompt("@only=mock-zz hello there");
    const error = h.lastAssistant().errorMessage ?? "";
    assert.match(
      error,
      /^auto-router: no target of route main matches the provider preferences \(mock-a\/model-a: not in only: mock-zz; mock-b\/model-b: not in only: mock-zz\)\. Waiting will not change this/,
    );
    assert.doesNotMatch(error, /available now/);
    assert.match(
      error,
      /check the provider names and price limit asked for \(the prompt's @only=, @ignore= or @max-price=, a gateway request's X-Provider or provider field, or the route's preferences\)\.$/,
    );
    assert.equal(h.faux("mock-a").state.callCount + h.faux("mock-b").state.callCount, 0);
    // A name a letter away from a provider of the route is a typo: the answer names the provider meant.
    await h.prompt("@only=mock-bb hello there");
    assert.match(
      h.lastAssistant().errorMessage ?? "",
      /^auto-router: "mock-bb" \(only\) is no provider of route main; did you mean "mock-b"\? Nothing was sent/,
    );
  });

  it("refuses an @ignore=, or one name of an @only=, a letter away from a provider of the route, naming the one meant", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) });
    // Served anyway, the request went to the very provider it meant to leave out, without a word.
    for (const shortcut of ["@ignore=mock-aa", "@only=mock-b,mock-aa", "@ignore=mockaa"]) {
      await h.prompt(`${shortcut} hello there`);
      const error = h.lastAssistant().errorMessage ?? "";
      assert.match(
        error,
        /^auto-router: "mock-?aa" \((ignore|only)\) is no provider of route main; did you mean "mock-a"\? Nothing was sent/,
        shortcut,
      );
      assert.doesNotMatch(error, /available now/);
    }
    assert.equal(h.faux("mock-a").state.callCount + h.faux("mock-b").state.callCount, 0);
    // A name far from every provider of the route is no typo: it changes nothing.
    h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("from a")]);
    await h.prompt("@ignore=deepinfra hello there");
    assert.equal(textOf(h.lastAssistant()), "from a", JSON.stringify(h.lastAssistant()));
  });

  it("refuses a provider both in @only= and @ignore= of one prompt, naming it, and sends nothing", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) });
    // `@only=mock-a @ignore=mock-a` got the general "no target matches", `@only=mock-a,mock-b @ignore=mock-a` was
    // served by mock-b without a word.
    for (const shortcuts of ["@only=mock-a @ignore=mock-a", "@only=mock-a,mock-b @ignore=MOCK-A"]) {
      await h.prompt(`${shortcuts} hello there`);
      assert.match(
        h.lastAssistant().errorMessage ?? "",
        /^auto-router: "mock-a" is in both only and ignore; keep it in one of them\. Nothing was sent: correct the name in the request's provider preferences \(@only=\/@ignore=/,
        shortcuts,
      );
    }
    assert.equal(h.faux("mock-a").state.callCount + h.faux("mock-b").state.callCount, 0);
  });

  it("takes a prompt sent again within the same millisecond for a new prompt, with its own shortcuts", async () => {
    // A frozen clock stamps every message alike: the second "hello there" is told from the first by the first's
    // presence in the context (it was taken for the first's next turn, and served with its @only=).
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { main: { sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) } } },
      clock: true,
    });
    const h = harness;
    await h.setModel("auto-router", "main");
    h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("from a")]);
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("from b")]);
    await h.prompt("@only=mock-b hello there");
    assert.equal(h.lastAssistant().provider, "mock-b");
    await h.prompt("hello there");
    assert.equal(h.lastAssistant().provider, "mock-a", JSON.stringify(h.lastAssistant()));
    assert.equal(textOf(h.lastAssistant()), "from a");
  });

  it("follows the route's preferences block: order first, no fallbacks beyond it when allowFallbacks is false", async () => {
    // The default ranking (not sortBy: "config", which keeps the declared order) puts `order`'s providers first.
    const three = ["mock-a/model-a", "mock-b/model-b", "mock-v/model-v"].map(target);
    const h = await start({ targets: three, preferences: { order: ["mock-v"] } });
    h.faux("mock-v").setResponses([echoPrompt(h)]);
    await h.prompt("first");
    assert.equal(h.lastAssistant().provider, "mock-v", "order puts mock-v before the configured first target");
    // Served first, not after the others failed (their faux targets have no answer queued).
    assert.equal(h.faux("mock-a").state.callCount + h.faux("mock-b").state.callCount, 0);
    assert.match(
      await h.command("/auto-router explain"),
      /mock-v\/model-v \([^)]*\) - preferred provider \(order #1\)/,
    );
    await harness!.dispose();

    // sortBy config keeps the declared order: the order provider is neither first nor said to be preferred.
    const declared = await start({ sortBy: "config", targets: three, preferences: { order: ["mock-v"] } });
    declared.faux("mock-a").setResponses([echoPrompt(declared)]);
    await declared.prompt("in order");
    assert.equal(declared.lastAssistant().provider, "mock-a");
    assert.doesNotMatch(await declared.command("/auto-router explain"), /preferred provider/);
    await harness!.dispose();

    // No wait for the one allowed target to come back from its cooldown: the request ends at once.
    const strict = await start(
      { targets: three, preferences: { order: ["mock-v"], allowFallbacks: false } },
      { failover: { cooldownWaitMs: 0 } },
    );
    const failing = strict.fauxHelpers.fauxAssistantMessage([], {
      stopReason: "error",
      errorMessage: "503 Service Unavailable",
    });
    strict.faux("mock-v").setResponses([failing]);
    strict.faux("mock-a").setResponses([echoPrompt(strict)]);
    await strict.prompt("second");
    assert.equal(strict.lastAssistant().stopReason, "error");
    assert.equal(strict.faux("mock-a").state.callCount + strict.faux("mock-b").state.callCount, 0);
    assert.match(
      await strict.command("/auto-router explain"),
      /mock-a is not in order \(mock-v\) and fallbacks beyond it are off/,
    );
  });

  it("skips a target with enabled: false and says so in explain", async () => {
    const h = await start({
      sortBy: "config",
      targets: [{ ...target("mock-a/model-a"), enabled: false }, target("mock-b/model-b")],
    });
    h.faux("mock-b").setResponses([echoPrompt(h)]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 0);
    assert.match(await h.command("/auto-router explain"), /mock-a\/model-a.*enabled: false in the config/);
  });

  it("keeps to the billing kind a force-billing rule names, by each target's billing", async () => {
    const h = await start({
      sortBy: "config",
      targets: [
        { ...target("mock-a/model-a"), billing: "subscription" },
        { ...target("mock-b/model-b"), billing: "per-token" },
      ],
      policyRules: [{ id: "metered-only", type: "force-billing", billing: "per-token" }],
    });
    h.faux("mock-b").setResponses([echoPrompt(h)]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 0, "the subscription target is left out");
  });

  it("orders by price with preferences.sort and leaves out a target above preferences.maxPrice", async () => {
    const priced = (output: number) => ({ input: 1, output, cacheRead: 0, cacheWrite: 0 });
    const pricedTargets = [
      { provider: "mock-a", models: [{ id: "model-a", cost: priced(50) }] },
      { provider: "mock-b", models: [{ id: "model-b", cost: priced(2) }] },
      { provider: "mock-v", models: [{ id: "model-v", cost: priced(8) }] },
    ];
    // A route's own sortBy ranks before preferences.sort, so the first route leaves it at its default; there, without
    // an explicit sort, mock-a (a subscription) would come first: subscriptions rank before per-token targets.
    const route = (preferences: Record<string, unknown>, sortBy?: string) => ({
      routes: {
        main: {
          sortBy,
          targets: [
            { ...target("mock-a/model-a"), billing: "subscription" },
            target("mock-v/model-v"),
            target("mock-b/model-b"),
          ],
          preferences,
        },
      },
    });
    harness = await createSdkHarness({ targets: pricedTargets, routes: route({ sort: "price" }) });
    await harness.setModel("auto-router", "main");
    harness.faux("mock-b").setResponses([echoPrompt(harness)]);
    await harness.prompt("cheapest first");
    assert.equal(harness.lastAssistant().provider, "mock-b", "$2 per 1M output tokens is the cheapest");
    assert.equal(harness.faux("mock-a").state.callCount + harness.faux("mock-v").state.callCount, 0, "tried first");
    await harness.dispose();

    harness = await createSdkHarness({ targets: pricedTargets, routes: route({ maxPrice: 10 }, "config") });
    const h = harness;
    await h.setModel("auto-router", "main");
    h.faux("mock-v").setResponses([echoPrompt(h)]);
    await h.prompt("within the price");
    assert.equal(h.lastAssistant().provider, "mock-v", "the configured first target costs $50, above maxPrice 10");
    assert.equal(h.faux("mock-a").state.callCount + h.faux("mock-b").state.callCount, 0);
  });

  it("ranks a sortBy config route by a prompt's @sort=price, never by the `order` that route leaves out", async () => {
    const priced = (output: number) => ({ input: 1, output, cacheRead: 0, cacheWrite: 0 });
    harness = await createSdkHarness({
      targets: [
        { provider: "mock-a", models: [{ id: "model-a", cost: priced(50) }] },
        { provider: "mock-b", models: [{ id: "model-b", cost: priced(8) }] },
        { provider: "mock-v", models: [{ id: "model-v", cost: priced(2) }] },
      ],
      routes: {
        routes: {
          main: {
            sortBy: "config",
            preferences: { order: ["mock-b"] },
            targets: ["mock-a/model-a", "mock-b/model-b", "mock-v/model-v"].map(target),
          },
        },
      },
    });
    const h = harness;
    await h.setModel("auto-router", "main");
    h.faux("mock-a").setResponses([echoPrompt(h)]);
    h.faux("mock-v").setResponses([echoPrompt(h)]);
    await h.prompt("declared order");
    assert.equal(h.lastAssistant().provider, "mock-a", "sortBy config: the declared first, `order` ranks nothing");
    await h.prompt("@sort=price cheapest");
    assert.equal(h.lastAssistant().provider, "mock-v", "$2 per 1M output tokens, not mock-b of `order`");
    assert.equal(h.faux("mock-b").state.callCount, 0);
  });

  it("applies the top-level preferences block to a route without its own", async () => {
    const h = await start(
      { sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) },
      { preferences: { ignore: ["mock-a"] } },
    );
    h.faux("mock-b").setResponses([echoPrompt(h)]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 0);
  });

  it("keeps a provider the route ignores out when a prompt's @ignore= names another", async () => {
    const h = await start({
      sortBy: "config",
      preferences: { ignore: ["mock-a"] },
      targets: ["mock-a/model-a", "mock-b/model-b", "mock-v/model-v"].map(target),
    });
    h.faux("mock-v").setResponses([echoPrompt(h)]);
    await h.prompt("@ignore=mock-b no b today");
    assert.equal(h.lastAssistant().provider, "mock-v", "mock-a stays ignored, mock-b is ignored too");
    assert.equal(h.faux("mock-a").state.callCount + h.faux("mock-b").state.callCount, 0);
  });

  it("applies a prompt's shortcuts to that prompt only", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) });
    h.faux("mock-b").setResponses([echoPrompt(h)]);
    h.faux("mock-a").setResponses([echoPrompt(h)]);
    await h.prompt("@only=mock-b first");
    assert.equal(h.lastAssistant().provider, "mock-b");
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-a");
    assert.equal(textOf(h.lastAssistant()), "received: second");
  });

  it("sends nothing for a prompt that is only a shortcut, and says what the shortcut does", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) });
    h.faux("mock-a").setResponses([echoPrompt(h), echoPrompt(h)]);
    await h.prompt("first question");
    const messagesBefore = h.chat().length;
    const notesBefore = h.ui!.notifications.length;
    await h.prompt("@fast @only=mock-b");
    assert.equal(
      h.faux("mock-a").state.callCount + h.faux("mock-b").state.callCount,
      1,
      "no request for the shortcut-only prompt",
    );
    assert.equal(h.chat().length, messagesBefore, "no empty user turn in the session");
    const notice = h.ui!.textSince(notesBefore);
    assert.match(notice, /nothing was sent/);
    assert.match(notice, /@fast: use the fast tier; @only=mock-b: only mock-b/);
    // The shortcuts were not kept for the next prompt either.
    await h.prompt("second question");
    assert.equal(h.lastAssistant().provider, "mock-a");
    assert.equal(textOf(h.lastAssistant()), "received: second question");
  });

  it("leaves an email address and unknown @words in the prompt untouched", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a"].map(target) });
    h.faux("mock-a").setResponses([echoPrompt(h)]);
    await h.prompt("mail bob@example.com about @someone");
    assert.equal(textOf(h.lastAssistant()), "received: mail bob@example.com about @someone");
  });

  it("warns about a mistyped shortcut and sends it as part of the prompt; file mentions get no warning", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) });
    h.faux("mock-a").setResponses([echoPrompt(h), echoPrompt(h), echoPrompt(h)]);
    let notesBefore = h.ui!.notifications.length;
    await h.prompt("@fast @reasonig why is this slow");
    assert.equal(textOf(h.lastAssistant()), "received: @reasonig why is this slow");
    assert.equal(
      h.ui!.textSince(notesBefore),
      'auto-router: "@reasonig" is not a shortcut, so it was sent as part of the prompt: did you mean "@reasoning"? (/auto-router shortcuts lists them)',
    );
    notesBefore = h.ui!.notifications.length;
    await h.prompt("@sort=latncy hello");
    assert.equal(textOf(h.lastAssistant()), "received: @sort=latncy hello");
    assert.match(
      h.ui!.textSince(notesBefore),
      /"@sort=latncy" is not a shortcut.*@sort= takes one of price, latency, throughput; did you mean "@sort=latency"\?/,
    );
    notesBefore = h.ui!.notifications.length;
    await h.prompt("@src/index.ts @README.md explain these");
    assert.equal(textOf(h.lastAssistant()), "received: @src/index.ts @README.md explain these");
    assert.equal(h.ui!.textSince(notesBefore), "", "a file mention is no shortcut attempt");
  });

  it("says in explain that the requested route's rules did not apply after a tier switched the route", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: {
        routes: {
          main: {
            sortBy: "config",
            targets: [target("mock-a/model-a")],
            policyRules: [{ id: "no-b", type: "exclude-provider", providers: ["mock-b"] }],
          },
          quick: { sortBy: "config", targets: [target("mock-b/model-b")] },
        },
        tiers: { fast: { route: "quick" } },
      },
    });
    const h = harness;
    await h.setModel("auto-router", "main");
    h.faux("mock-b").setResponses([echoPrompt(h)]);
    await h.prompt("@fast hello");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.match(
      await h.command("/auto-router explain"),
      /- no-b \(route\): not applied: tier fast switched from route main to quick, whose rules apply/,
    );
    // Explained under the tier's route too: the request that route served, not "nothing routed through quick".
    // Before: "last main: served by mock-b/model-b", not saying the request went to quick.
    assert.match(await h.command("/auto-router status"), /^last main -> quick: served by mock-b\/model-b, \d+s ago$/m);
    const throughTier = await h.command("/auto-router explain quick");
    assert.match(throughTier, /^Route main -> quick/m);
    assert.doesNotMatch(throughTier, /no request has been routed/);
    // Still after main's next request of its own: before, quick's was looked for among each route's last request only.
    h.faux("mock-a").setResponses([echoPrompt(h)]);
    await h.prompt("hello again");
    assert.equal(h.lastAssistant().provider, "mock-a");
    const afterMain = await h.command("/auto-router explain quick");
    assert.match(afterMain, /^Route main -> quick/m);
    assert.doesNotMatch(afterMain, /no request has been routed/);
  });

  it("keeps a provider out with an exclude-provider rule", async () => {
    const h = await start({
      sortBy: "config",
      targets: ["mock-a/model-a", "mock-b/model-b"].map(target),
      policyRules: [{ id: "no-a", type: "exclude-provider", providers: ["mock-a"] }],
    });
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("from B")]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 0);
  });

  it("explains an intent hint as unused on a sortBy config route, which keeps its declared order", async () => {
    const h = await start({ sortBy: "config", targets: ["mock-a/model-a", "mock-b/model-b"].map(target) });
    h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("from A")]);
    await h.prompt("Fix the bug in this function:\n```ts\nfunction add(a: number, b: number) { return a - b; }\n```");
    assert.equal(h.lastAssistant().provider, "mock-a");
    const output = await h.command("/auto-router explain main");
    assert.match(
      output,
      /intent code \([\d.]+\) hints tier swe: unused, route main keeps its declared order \(sortBy "config"\)/,
    );
    assert.doesNotMatch(output, /first in their bucket/);
  });

  it("lets a lower-priority rule that would leave no target yield to the higher one, and explain says so", async () => {
    const h = await start({
      sortBy: "config",
      targets: ["mock-a/model-a", "mock-b/model-b"].map(target),
      policyRules: [
        { id: "never-b", type: "exclude-provider", providers: ["mock-b"] },
        {
          id: "only-b-for-code",
          type: "require-provider",
          providers: ["mock-b"],
          priority: 5,
          when: { intent: "code" },
        },
      ],
    });
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("from B")]);
    await h.prompt("Fix the bug in this function:\n```ts\nfunction add(a: number, b: number) { return a - b; }\n```");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 0);
    const output = await h.command("/auto-router explain main");
    assert.match(output, /\+ only-b-for-code \(route\): intent code => only mock-b/);
    assert.match(
      output,
      /\+ never-b \(route\): .* => none: yields to only-b-for-code \(applied after it, it would leave no target\)/,
    );
    assert.doesNotMatch(output, /fallback/);
    // Without the higher rule's condition, the lower one applies as usual.
    h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("from A")]);
    await h.prompt("write me a haiku about the sea");
    assert.equal(h.lastAssistant().provider, "mock-a");
  });

  it("names the force-constraint rule that left no target on the rules before it in explain's list", async () => {
    const h = await start({
      sortBy: "config",
      targets: ["mock-a/model-a", "mock-b/model-b"].map(target),
      policyRules: [
        { id: "demote-a", type: "demote-target", targets: ["mock-a/model-a"] },
        { id: "vision-all", type: "force-constraint", constraint: { vision: true } },
      ],
    });
    await h.prompt("write me a haiku about the sea");
    assert.equal(h.faux("mock-a").state.callCount + h.faux("mock-b").state.callCount, 0);
    const output = await h.command("/auto-router explain main");
    assert.match(
      output,
      /\+ demote-a \(route\): .* => none: the requirement of rule vision-all left every target out before the rules applied/,
    );
    assert.doesNotMatch(output, /no target was left for it/);
  });

  it("explains a matched rule that changed no target as having no effect, and says why", async () => {
    // Ranked (not sortBy "config", where a prefer-provider rule never has an effect): no-b leaves mock-a to serve.
    const h = await start({
      targets: ["mock-a/model-a", "mock-b/model-b"].map(target),
      policyRules: [
        { id: "no-c", type: "exclude-provider", providers: ["mock-c"] },
        { id: "prefer-c", type: "prefer-provider", providers: ["mock-c"] },
        { id: "a-or-b", type: "require-provider", providers: ["mock-a", "mock-b"] },
        { id: "no-b", type: "exclude-provider", providers: ["mock-b"] },
      ],
    });
    h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("from A")]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().provider, "mock-a");
    const output = await h.command("/auto-router explain main");
    assert.match(output, /\+ no-c \(route\): [^\n]* => none: no target left is from mock-c\n/);
    assert.match(output, /\+ prefer-c \(route\): [^\n]* => none: no target left is from mock-c\n/);
    assert.match(output, /\+ a-or-b \(route\): [^\n]* => none: every target left is from mock-a, mock-b\n/);
    assert.match(output, /\+ no-b \(route\): [^\n]* => exclude mock-b\n/, "a rule that acted keeps its effect");
  });

  it("prints the recorded decision with `/auto-router explain`, naming skipped targets and the rule", async () => {
    const h = await start({
      sortBy: "config",
      targets: ["mock-a/model-a", "mock-b/model-b"].map(target),
      policyRules: [{ id: "no-a", type: "exclude-provider", providers: ["mock-a"] }],
    });
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("from B")]);
    await h.prompt("hello");
    const output = await h.command("/auto-router explain main");
    assert.match(output, /served by mock-b\/model-b/);
    assert.match(output, /mock-a\/model-a/);
    assert.match(output, /no-a/);
    // Commands never reach the model.
    assert.equal(h.faux("mock-b").state.callCount, 1);
    // A name that is no route is said to be one, not "nothing routed through it yet".
    assert.equal(
      await h.command("/auto-router explain mian"),
      'explain: "mian" is not a route; did you mean "main"? (routes: main)',
    );
  });

  it("answers an unknown subcommand with an error and the list of subcommands", async () => {
    const h = await start({ targets: ["mock-a/model-a"].map(target) });
    const output = await h.command("/auto-router frobnicate");
    assert.match(output, /unknown subcommand "frobnicate"/);
    assert.match(output, /explain \[route\]/);
  });
});
