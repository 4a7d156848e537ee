// The /auto-router subcommands through real pi (SDK in-process, faux targets): switching models, completion,
// ratings that feed routing, shadow mode, resets, long listings in the widget.
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { WIDGET_KEY } from "../../src/commands/output.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { harnessPerTest, type SdkHarness } from "../helpers/sdk-harness.ts";
import { readEventLogFile, until } from "../helpers/event-log.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
  { provider: "mock-c", models: [{ id: "model-c", reasoning: true }] },
];
const target = (key: string) => ({ provider: key.split("/")[0]!, modelId: key.split("/")[1]! });

function routes(extra: Record<string, unknown> = {}, mainExtra: Record<string, unknown> = {}) {
  return {
    routes: {
      main: { name: "Main route", targets: ["mock-a/model-a", "mock-b/model-b"].map(target), ...mainExtra },
      deep: { name: "Deep thinking", sortBy: "config", targets: ["mock-c/model-c", "mock-a/model-a"].map(target) },
    },
    aliases: { quick: "main", think: "deep", bee: "mock-b/model-b", broken: "nowhere" },
    ...extra,
  };
}

/** A rule that demotes a target whose ratings of the last 30 days are mostly bad. */
const RECENT_BAD_DEMOTES = {
  policyRules: [
    {
      id: "demote-recent-bad",
      type: "demote-target",
      when: { badRatingShareAbove: 0.5, minRatings: 1, ratingMaxAgeDays: 30 },
    },
  ],
};

const harnesses = harnessPerTest();

interface Started {
  h: SdkHarness;
  /** Runs a command; returns its notifications plus the widget lines it set, if any. */
  run(text: string): Promise<string>;
  widgets: Map<string, string[] | undefined>;
}

async function start(
  options: { routes?: unknown; env?: Record<string, string>; clock?: number } = {},
): Promise<Started> {
  const h = await harnesses.start(
    { targets: TARGETS, routes: options.routes ?? routes(), env: options.env, clock: options.clock },
    "auto-router-commands",
  );
  const widgets = h.ui!.widgets;
  await h.setModel("auto-router", "main");
  const run = async (text: string) => {
    widgets.delete(WIDGET_KEY);
    const notice = await h.command(text);
    const widget = widgets.get(WIDGET_KEY);
    return widget ? `${notice}\n${widget.join("\n")}` : notice;
  };
  return { h, run, widgets };
}

const complete = async (h: SdkHarness, prefix: string): Promise<string[]> => {
  const command = h.session.extensionRunner.getCommand("auto-router");
  const items = (await command.getArgumentCompletions(prefix)) ?? [];
  return items.map((item: { value: string }) => item.value);
};

const readEvents = (dir: string): any[] => readEventLogFile(join(dir, "auto-router.events.jsonl"));

describe("/auto-router subcommands through pi", () => {
  it("switches pi's model to a route by alias and to a provider/model directly, and refuses unknown names", async () => {
    const { h, run } = await start();
    assert.match(await run("/auto-router switch think"), /switched to auto-router\/deep \(alias think\)/);
    assert.equal(`${h.session.model.provider}/${h.session.model.id}`, "auto-router/deep");
    assert.match(await run("/auto-router switch bee"), /switched to mock-b\/model-b/);
    assert.equal(`${h.session.model.provider}/${h.session.model.id}`, "mock-b/model-b");
    assert.match(await run("/auto-router switch main"), /switched to auto-router\/main$/);
    assert.match(
      await run("/auto-router switch nosuch/model"),
      /cannot switch to nosuch\/model: pi does not know that model/,
    );
    assert.equal(
      await run("/auto-router switch nowhere"),
      'switch: "nowhere" is neither a route, an alias nor provider/model (routes: main, deep; aliases: quick, think, bee; aliases pointing at nothing: broken)',
    );
    // A misspelt route gets the one meant; an alias whose name is no route says so, not that the alias is unknown.
    assert.match(
      await run("/auto-router switch deeq"),
      /^switch: "deeq" is neither a route, an alias nor provider\/model; did you mean "deep"\?/,
    );
    assert.equal(
      await run("/auto-router switch broken"),
      'switch: alias broken points at "nowhere", which is neither a route nor provider/model (routes: main, deep)',
    );
    assert.equal(
      await run("/auto-router resolve broken"),
      'resolve: alias broken points at "nowhere", which is neither a route nor provider/model (routes: main, deep)',
    );
    assert.equal(`${h.session.model.provider}/${h.session.model.id}`, "auto-router/main");
    // The pickers of switch and show closed without a choice (this UI's select answers like Esc).
    assert.equal(await run("/auto-router switch"), "switch cancelled");
    assert.equal(await run("/auto-router show"), "show cancelled");
    assert.equal(`${h.session.model.provider}/${h.session.model.id}`, "auto-router/main");
  });

  it("completes subcommand names and their arguments: routes, aliases, provider/model ids, scopes and flags", async () => {
    const { h } = await start();
    // A subcommand's name comes with the space after it: what is typed next is its argument.
    assert.deepEqual(await complete(h, "sh"), ["show ", "shortcuts ", "shadow "]);
    // The aliases of routes too (show, explain and rules take them): bee names a model, broken nothing.
    assert.deepEqual(await complete(h, "show "), ["show main ", "show deep ", "show quick ", "show think "]);
    assert.deepEqual(await complete(h, "explain th"), ["explain think "]);
    const switchItems = await complete(h, "switch ");
    for (const expected of [
      "switch main ",
      "switch deep ",
      "switch quick ",
      "switch bee ",
      "switch mock-a/model-a ",
      "switch mock-c/model-c ",
    ]) {
      assert.ok(switchItems.includes(expected), `${expected} in ${switchItems.join(", ")}`);
    }
    assert.deepEqual(await complete(h, "switch mock-b/"), ["switch mock-b/model-b "]);
    assert.deepEqual(await complete(h, "resolve t"), ["resolve think "]);
    // Aliases first, then the route ids resolve takes too (aliases alone were offered while one existed).
    assert.deepEqual(await complete(h, "resolve "), [
      "resolve quick ",
      "resolve think ",
      "resolve bee ",
      "resolve broken ",
      "resolve main ",
      "resolve deep ",
    ]);
    assert.deepEqual(await complete(h, "reset b"), ["reset breakers "]);
    assert.deepEqual(await complete(h, "rate "), ["rate good ", "rate bad "]);
    assert.deepEqual(await complete(h, "rate bad too slow --t"), ["rate bad too slow --tags "]);
    assert.deepEqual(await complete(h, "shadow e"), ["shadow enable "]);
    // The words before the one completed stay (a chosen value replaces the whole argument text).
    assert.deepEqual(await complete(h, "budget se"), ["budget set "]);
    assert.deepEqual(await complete(h, "budget set mock-"), [
      "budget set mock-a ",
      "budget set mock-b ",
      "budget set mock-c ",
    ]);
    assert.deepEqual(await complete(h, "budget clear mock-a m"), ["budget clear mock-a monthly "]);
    assert.deepEqual(await complete(h, "budget set mock-a 5 d"), ["budget set mock-a 5 daily "]);
    assert.deepEqual(await complete(h, "rules d"), ["rules deep "]);
    assert.deepEqual(await complete(h, "search mock-"), ["search mock-a ", "search mock-b ", "search mock-c "]);
  });

  it("answers an unknown subcommand with an error and the list of subcommands, the plugins' included", async () => {
    const { h, run } = await start();
    const output = await run("/auto-router frobnicate");
    assert.match(output, /unknown subcommand "frobnicate"/);
    assert.equal(h.ui!.notifications.at(-1)!.level, "error");
    for (const name of [
      "status",
      "switch",
      "search",
      "aliases",
      "resolve",
      "models",
      "shortcuts",
      "rules",
      "reset",
      "budget",
      "circuit",
      "uvi",
      "rate",
      "shadow",
      "help",
    ]) {
      assert.match(output, new RegExp(`^  ${name}\\b`, "m"), name);
    }
  });

  it("prints aliases, resolve, search, models, shortcuts and rules from the config and pi's registry", async () => {
    const { run } = await start({
      routes: routes({
        policyRules: [
          {
            id: "no-c-at-night",
            type: "exclude-provider",
            providers: ["mock-c"],
            when: { timeWindow: { after: "22:00", before: "06:00" } },
          },
          { id: "b-first", type: "prefer-provider", providers: ["mock-b"], priority: 7 },
          { id: "off", type: "exclude-provider", providers: ["mock-a"], priority: 9, enabled: false },
        ],
      }),
    });
    const aliases = await run("/auto-router aliases");
    assert.match(aliases, /quick\s+main\s+auto-router\/main\s+route, 2 targets$/m);
    assert.match(aliases, /bee\s+mock-b\/model-b\s+mock-b\/model-b\s+model, ready/);
    assert.match(aliases, /broken\s+nowhere\s+-\s+unresolved/);
    assert.match(
      await run("/auto-router resolve think"),
      /think → auto-router\/deep \(alias\): route, 2 targets\n.*Deep thinking\n  1\. mock-c\/model-c/,
    );
    assert.match(await run("/auto-router resolve broken"), /alias broken points at "nowhere"/);
    const search = await run("/auto-router search model-c");
    assert.match(search, /models \(1\):/);
    assert.match(search, /mock-c\/model-c\s+model-c\s+yes\s+128k\s+0\/0\s+deep/);
    assert.match(await run("/auto-router search deep thinking"), /routes \(1\):\n  auto-router\/deep — Deep thinking/);
    assert.match(await run("/auto-router search zzz"), /nothing matches "zzz"/);
    const models = await run("/auto-router models");
    assert.match(models, /^3 models in 2 routes$/m);
    assert.match(models, /mock-a\/model-a\s+model-a\s+-\s+128k\s+8k\s+API key\s+0\/0\s+main,deep/);
    assert.match(models, /mock-c\/model-c\s+model-c\s+reasoning/);
    assert.match(await run("/auto-router shortcuts"), /@reasoning[\s\S]*@only=a,b/);
    assert.match(
      await run("/auto-router rules"),
      /no-c-at-night: when 22:00-06:00 => exclude mock-c \(priority 0, all routes\)/,
    );
    // For one route, the rules in the order they run (they were listed as declared under "Higher priority runs
    // first"), the disabled last.
    assert.match(
      await run("/auto-router rules main"),
      /^Rules of route main, in the order they run \(higher priority first; ties as declared, global rules first\):\n  b-first: when always => prefer mock-b \(priority 7, all routes\)\n  no-c-at-night: .* \(priority 0, all routes\)\n  off: .* \(priority 9, all routes, disabled\)\n/,
    );
  });

  it("counts a bad-rating share only once a target has minRatings ratings (5 unless set), and explain says so", async () => {
    const demoteBadTargets = {
      policyRules: [{ id: "demote-bad", type: "demote-target", when: { badRatingShareAbove: 0.5 } }],
    };
    const { h, run } = await start({ routes: routes(demoteBadTargets) });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("A answers"), fauxAssistantMessage("A again")]);
    await h.prompt("first");
    assert.match(
      await run("/auto-router rate bad"),
      /mock-a\/model-a: 1 bad, 0 good of the last 1 rating \(100% bad\)/,
    );
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-a");
    const explain = await run("/auto-router explain");
    assert.match(
      explain,
      /- demote-bad \(global\): matched no eligible target \(mock-a\/model-a: 1 rating, fewer than the 5 a bad-rating share needs; mock-b\/model-b: no ratings\)\n/,
    );
    assert.doesNotMatch(explain, /demoted by demote-bad/);
  });

  it("says in explain that a prefer-provider rule does nothing on a sortBy config route, and serves in declared order", async () => {
    const preferB = { policyRules: [{ id: "pref-b", type: "prefer-provider", providers: ["mock-b"] }] };
    const { h, run } = await start({ routes: routes({}, { sortBy: "config", ...preferB }) });
    h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("A answers")]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().provider, "mock-a");
    const explain = await run("/auto-router explain");
    assert.match(
      explain,
      /\+ pref-b \(route\): no condition => none: the route keeps its declared order \(sortBy "config"\), which preferences do not change\n/,
    );
    assert.doesNotMatch(explain, /preferred by pref-b/);
  });

  it("counts only the ratings of the last ratingMaxAgeDays days when a rule says so", async () => {
    // mock-a's one rating is 60 days old: kept (a target's last 50 stay), but not counted by this rule.
    const stateDir = freshDir("auto-router-old-ratings");
    after(() => rmSync(stateDir, { recursive: true, force: true }));
    const longAgo = Date.now() - 60 * 86_400_000;
    writeFileSync(
      join(stateDir, "auto-router.ratings.json"),
      JSON.stringify({ v: 1, targets: { "mock-a/model-a": [{ at: longAgo, rating: "bad", requestId: "old-1" }] } }),
    );
    const { h, run } = await start({ routes: routes(RECENT_BAD_DEMOTES), env: { AUTO_ROUTER_LOG_DIR: stateDir } });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("A answers")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B answers")]);
    await h.prompt("first");
    assert.equal(h.lastAssistant().provider, "mock-a", "an old bad rating does not demote mock-a");
    assert.match(
      await run("/auto-router explain"),
      /- demote-recent-bad \(global\): matched no eligible target \(mock-a\/model-a: no ratings in the last 30 days; mock-b\/model-b: no ratings in the last 30 days\)\n/,
    );
    // `down` is `bad` (as `up`, `+1` and a thumb up are `good`).
    assert.match(await run("/auto-router rate down"), /mock-a\/model-a: 2 bad, 0 good of the last 2 ratings /);
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-b", "a bad rating given now demotes mock-a");
    const explain = await run("/auto-router explain");
    assert.match(explain, /demoted by demote-recent-bad/);
    assert.match(explain, /bad ratings in the last 30 days 100% > 50%/);
  });

  it("weighs older ratings less with ratingHalfLifeDays when a rule says so", async () => {
    const fading = {
      policyRules: [
        {
          id: "demote-fading-bad",
          type: "demote-target",
          when: { badRatingShareAbove: 0.5, minRatings: 1, ratingHalfLifeDays: 30 },
        },
      ],
    };
    // mock-a: two bad ratings 60 days old (a quarter each) and a good one today: 67% counted alike, a third weighed.
    const stateDir = freshDir("auto-router-fading-ratings");
    after(() => rmSync(stateDir, { recursive: true, force: true }));
    const longAgo = Date.now() - 60 * 86_400_000;
    const mark = (at: number, rating: string, requestId: string) => ({ at, rating, requestId });
    writeFileSync(
      join(stateDir, "auto-router.ratings.json"),
      JSON.stringify({
        v: 1,
        targets: {
          "mock-a/model-a": [
            mark(longAgo, "bad", "old-1"),
            mark(longAgo, "bad", "old-2"),
            mark(Date.now(), "good", "new-1"),
          ],
        },
      }),
    );
    const { h, run } = await start({ routes: routes(fading), env: { AUTO_ROUTER_LOG_DIR: stateDir } });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("A answers")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B answers")]);
    await h.prompt("first");
    assert.equal(h.lastAssistant().provider, "mock-a", "old bad ratings weigh too little to demote mock-a");
    assert.match(
      await run("/auto-router explain"),
      /mock-a\/model-a: bad ratings \(weighed with a 30-day half-life\) 33\.3% <= 50%/,
    );
    await run("/auto-router rate bad");
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-b", "a bad rating given now outweighs the good one");
    assert.match(
      await run("/auto-router explain"),
      /mock-a\/model-a \(bad ratings \(weighed with a 30-day half-life\) 60% > 50%\)/,
    );
  });

  it("dates a rating stamped ahead of the clock at the time it is read, so that it ages from then", async () => {
    // mock-a's one rating is stamped 1,000 days ahead (a clock that ran ahead, a hand edit).
    const stateDir = freshDir("auto-router-future-rating");
    after(() => rmSync(stateDir, { recursive: true, force: true }));
    const start0 = Date.UTC(2026, 5, 1);
    const file = join(stateDir, "auto-router.ratings.json");
    const ahead = start0 + 1000 * 86_400_000;
    writeFileSync(
      file,
      JSON.stringify({ v: 1, targets: { "mock-a/model-a": [{ at: ahead, rating: "bad", requestId: "r-1" }] } }),
    );
    const { h, run } = await start({
      routes: routes(RECENT_BAD_DEMOTES),
      env: { AUTO_ROUTER_LOG_DIR: stateDir },
      clock: start0,
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("A answers")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B answers"), fauxAssistantMessage("B answers")]);
    await h.prompt("first");
    assert.equal(h.lastAssistant().provider, "mock-b", "the rating counts as one given now");
    assert.match(await run("/auto-router explain"), /bad ratings in the last 30 days 100% > 50%/);
    const stored = () => JSON.parse(readFileSync(file, "utf8")).targets["mock-a/model-a"];
    await until(() => stored()[0].at !== ahead, "the ratings file written back");
    assert.deepEqual(stored(), [{ at: start0, rating: "bad", requestId: "r-1" }], "dated when it was read");
    // 31 days on it is out of the rule's 30 days; stamped as written, it would count until the year 2029.
    h.advanceClock(31 * 86_400_000);
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-a", "a month later the rating no longer demotes mock-a");
    assert.match(await run("/auto-router explain"), /mock-a\/model-a: no ratings in the last 30 days/);
  });

  it("rates the last answered request, logs feedback, shows the stats in explain and demotes the target by rule", async () => {
    const demoteBadTargets = {
      // One rating is enough here (the default needs five: see the test above).
      policyRules: [{ id: "demote-bad", type: "demote-target", when: { badRatingShareAbove: 0.5, minRatings: 1 } }],
    };
    const { h, run } = await start({ routes: routes(demoteBadTargets) });
    const { fauxAssistantMessage } = h.fauxHelpers;
    assert.match(await run("/auto-router rate bad"), /nothing to rate yet/);
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" }),
      fauxAssistantMessage("A answers"),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B answers"), fauxAssistantMessage("B again")]);
    await h.prompt("first");
    assert.equal(h.lastAssistant().provider, "mock-b", "mock-a failed over to mock-b");
    const rated = await run('/auto-router rate bad "made things up" --tags wrong,made-up');
    assert.match(rated, /rated request \w{8} on main bad \("made things up", tags wrong,made-up\)/);
    assert.match(rated, /mock-b\/model-b: 1 bad, 0 good of the last 1 rating \(100% bad\)/);
    // Rated again: the one rating of the request is replaced, and the answer says so.
    const again = await run('/auto-router rate bad "made things up" --tags wrong,made-up');
    assert.match(
      again,
      /rated request \w{8} on main bad \("made things up", tags wrong,made-up\), in place of its earlier rating \(bad\)$/m,
    );
    assert.match(again, /mock-b\/model-b: 1 bad, 0 good of the last 1 rating /);
    assert.match(await run("/auto-router reset cooldowns"), /^1 cooldown cleared\. /, "mock-a's 503 cooldown");
    await h.prompt("second");
    assert.equal(h.lastAssistant().provider, "mock-a", "the badly rated mock-b is demoted below mock-a");
    const explain = await run("/auto-router explain");
    assert.match(explain, /demoted by demote-bad/);
    assert.match(explain, /Ratings:\n  mock-b\/model-b: 1 bad, 0 good of the last 1 \(100% bad\)/);
    assert.match(await run("/auto-router rate good"), /mock-a\/model-a: 0 bad, 1 good/);
    const dir = harnesses.stateDir;
    await harnesses.stop(); // flushes the event log
    const feedback = readEvents(dir).filter((event) => event.type === "feedback");
    assert.equal(feedback.length, 3, "each rating is logged, the repeated one too (the stats take the last)");
    assert.equal(feedback[1].data.ratedRequestId, feedback[0].data.ratedRequestId);
    const firstDecision = readEvents(dir).find((event) => event.type === "decision");
    assert.deepEqual(feedback[0].data, {
      rating: "bad",
      reason: "made things up",
      tags: ["wrong", "made-up"],
      ratedRequestId: firstDecision.requestId,
      servedTarget: "mock-b/model-b",
      routeId: "main",
    });
    assert.notEqual(feedback[0].requestId, firstDecision.requestId, "a feedback event has its own request id");
  });

  it("says a later answer of a model chosen directly is not the one rated, and which routed request is", async () => {
    const { h, run } = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("A answers")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B first"), fauxAssistantMessage("B answers directly")]);
    // A direct answer before any routed one: no "no answer in this session yet" under the line naming that answer.
    await h.setModel("mock-b", "model-b");
    await h.prompt("direct first");
    const none = await run("/auto-router rate");
    assert.match(
      none,
      /came from mock-b\/model-b chosen directly \(not through auto-router\) and is not rated\nno routed answer in this session yet/,
    );
    assert.match(
      await run("/auto-router rate good"),
      /^nothing to rate yet: no request of this pi session has been answered through auto-router \(the last answer, \S+ ago, came from mock-b\/model-b/,
    );
    await h.setModel("auto-router", "main");
    await h.prompt("routed");
    assert.equal(h.lastAssistant().provider, "mock-a");
    await h.setModel("mock-b", "model-b");
    await h.prompt("direct");
    assert.equal(h.lastAssistant().provider, "mock-b");
    // Before: "last answer: request ... served by mock-a/model-a" and a bare "rated request ...", as if the direct answer
    // from mock-b had been the one rated.
    const shown = await run("/auto-router rate");
    assert.match(
      shown,
      /the last answer, \S+ ago, came from mock-b\/model-b chosen directly \(not through auto-router\)/,
    );
    assert.match(shown, /^last routed answer: request \w{8} on main, served by mock-a\/model-a/m);
    const rated = await run("/auto-router rate bad");
    assert.match(rated, /^rated request \w{8} on main bad$/m);
    assert.match(
      rated,
      /^note: the last answer, \S+ ago, came from mock-b\/model-b chosen directly \(not through auto-router\) and is not rated: this rating is for the routed request before it/m,
    );
  });

  it("words a count of one in the singular: one route searched, a breaker that opens at one call", async () => {
    const { run } = await start({
      routes: { routes: { main: { targets: [target("mock-a/model-a")] } }, breaker: { minimumCalls: 1 } },
    });
    // Before: "searched 1 routes", "≥ 1 calls" (counts pluralized by hand, not with the one plural helper).
    assert.match(
      await run("/auto-router search zzz"),
      /^nothing matches "zzz" \(searched 1 route and [\d,]+ models\)$/m,
    );
    assert.match(await run("/auto-router circuit"), /^circuit breakers: open at ≥ 50% failures of ≥ 1 call in /m);
  });

  it("shows a route chosen again after a direct model without its request from before (nothing stale)", async () => {
    const { h } = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B answers"), fauxAssistantMessage("B directly")]);
    await h.prompt("routed");
    const line = () => h.ui!.statuses.get("auto-router");
    assert.match(line() ?? "", /^⇄ main · → mock-b\/model-b \(1 failover\) · general /);
    await h.setModel("mock-b", "model-b");
    await h.prompt("direct");
    assert.equal(line(), undefined, "no auto-router line beside a model chosen directly");
    // Back on the route: before, "→ mock-b/model-b (1 failover)" came back, the request from before the direct turn.
    await h.setModel("auto-router", "main");
    assert.equal(line(), "⇄ main");
    // Its next request shows itself only (mock-a rests after its 503: no attempt there, no failover).
    h.faux("mock-b").setResponses([fauxAssistantMessage("B again")]);
    await h.prompt("routed again");
    assert.match(line() ?? "", /^⇄ main · → mock-b\/model-b · general /);
  });

  it("explains a failover: every attempt with its outcome, kind, status and time, and which target served and why", async () => {
    const { h, run } = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B answers")]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().provider, "mock-b");
    const explain = await run("/auto-router explain");
    assert.doesNotMatch(explain, /^Winner: /m, "the ranking's first choice is not who served");
    assert.match(explain, /^Ranked first: mock-a\/model-a/m);
    assert.match(
      explain,
      /^Attempts:\n  1\. mock-a\/model-a: failed \(server, HTTP 503, \d+ ms\)\n  2\. mock-b\/model-b: success \(\d+ ms\)$/m,
    );
    assert.match(explain, /^Served by: mock-b\/model-b \(after mock-a\/model-a failed \(server\)\)$/m);
  });

  it("explains an answer that broke off after it started as cut off, not answered, and the status line agrees", async () => {
    const { h, run } = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage("partial answer", { stopReason: "error", errorMessage: "terminated" }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("should not be used")]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().errorMessage, "terminated", "pi shows the target's own error");
    const explain = await run("/auto-router explain");
    assert.match(
      explain,
      /^request \w{8} on main, .* ago, cut off: the answer from mock-a\/model-a broke off after it started \(network\)$/m,
    );
    assert.match(explain, /^Attempts:\n {2}1\. mock-a\/model-a: failed-after-commit \(network, \d+ ms\)$/m);
    assert.match(
      explain,
      /^Served by: mock-a\/model-a \(first choice; its answer broke off after it started \(network\), so the request failed\)$/m,
    );
    assert.doesNotMatch(explain, /answered/);
    const status = h.ui!.statuses.get("auto-router") ?? "";
    assert.match(status, /^⇄ main · → mock-a\/model-a cut off( ·|$)/, status);
    assert.doesNotMatch(status, /no target served/);
  });

  it("says a cut-off answer was cut off in status too, not that its target served", async () => {
    const { h, run } = await start();
    h.faux("mock-a").setResponses([
      h.fauxHelpers.fauxAssistantMessage("partial answer", { stopReason: "error", errorMessage: "terminated" }),
    ]);
    await h.prompt("hello");
    const status = await run("/auto-router status");
    assert.match(
      status,
      /^last main: cut off: the answer from mock-a\/model-a broke off after it started \(network\), \d+s ago$/m,
    );
    assert.doesNotMatch(status, /served by/);
  });

  it("explains an answer aborted after it started as aborted, not answered, in explain and status", async () => {
    const { h, run } = await start();
    // The target had started answering when the stream ended aborted (Esc in pi, after the commit point).
    h.faux("mock-a").setResponses([
      h.fauxHelpers.fauxAssistantMessage("half an answer", {
        stopReason: "aborted",
        errorMessage: "Request was aborted",
      }),
    ]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().stopReason, "aborted");
    const explain = await run("/auto-router explain");
    assert.match(
      explain,
      /^request \w{8} on main, .* ago, aborted: the answer from mock-a\/model-a was stopped after it started$/m,
    );
    assert.match(explain, /^Attempts:\n {2}1\. mock-a\/model-a: aborted \(\d+ ms\)$/m);
    assert.match(explain, /^Served by: mock-a\/model-a \(first choice; its answer was aborted after it started\)$/m);
    assert.doesNotMatch(explain, /answered|served by/);
    const status = await run("/auto-router status");
    assert.match(
      status,
      /^last main: aborted: the answer from mock-a\/model-a was stopped after it started, \d+s ago$/m,
    );
  });

  it("explains a failover whose answer then broke off: the failure before, and the cut-off answer after", async () => {
    const { h, run } = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" }),
    ]);
    h.faux("mock-b").setResponses([
      fauxAssistantMessage("half of it", { stopReason: "error", errorMessage: "terminated" }),
    ]);
    await h.prompt("hello");
    const explain = await run("/auto-router explain");
    assert.match(
      explain,
      /cut off: the answer from mock-b\/model-b broke off after it started \(network\) after 1 failover$/m,
    );
    assert.match(
      explain,
      /^Served by: mock-b\/model-b \(after mock-a\/model-a failed \(server\); its answer broke off after it started \(network\), so the request failed\)$/m,
    );
    assert.match(h.ui!.statuses.get("auto-router") ?? "", /^⇄ main · → mock-b\/model-b cut off \(1 failover\)/);
  });

  it("routes in declared order in shadow mode, records both orders and reports the match rate", async () => {
    const { h, run } = await start({
      routes: routes({}, { policyRules: [{ id: "prefer-b", type: "prefer-provider", providers: ["mock-b"] }] }),
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("A in shadow")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B ranked")]);
    // `on` and `off` are `enable` and `disable`, as for `uvi`.
    assert.match(await run("/auto-router shadow on"), /shadow mode enabled/);
    await h.prompt("one");
    assert.equal(h.lastAssistant().provider, "mock-a", "declared order, not the ranking (which prefers mock-b)");
    assert.match(h.ui!.statuses.get("auto-router") ?? "", /^⇄ main · 🔬 shadow/);
    const shown = await run("/auto-router shadow show");
    assert.match(shown, /shadow mode: enabled/);
    assert.match(
      shown,
      /last 1 request: the ranking chose the declared first target in 0 \(0%\), the same whole order in 0 \(0%\)/,
    );
    assert.match(shown, /main: 0\/1 match/);
    assert.match(shown, /main: mock-a\/model-a vs mock-b\/model-b/);
    assert.match(
      await run("/auto-router explain"),
      /Hint: shadow mode: routed in declared order; the ranking chose mock-b\/model-b/,
    );
    assert.match(await run("/auto-router shadow off"), /shadow mode disabled/);
    await h.prompt("two");
    assert.equal(h.lastAssistant().provider, "mock-b");
    const dir = harnesses.stateDir;
    await harnesses.stop();
    const decisions = readEvents(dir).filter((event) => event.type === "decision");
    assert.deepEqual(decisions[0].data.shadow, {
      enabled: true,
      declaredOrder: ["mock-a/model-a", "mock-b/model-b"],
      routedOrder: ["mock-b/model-b", "mock-a/model-a"],
      match: false,
    });
    assert.equal(decisions[0].data.plannedTarget, "mock-a/model-a");
    assert.equal(decisions[1].data.shadow, undefined);
  });

  it("closes open breakers with reset breakers and asks before reset all (declined in this UI)", async () => {
    const { h, run } = await start({ env: { AUTO_ROUTER_BREAKER_MINIMUM_CALLS: "1" } });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B")]);
    await h.prompt("trip the breaker");
    assert.match(await run("/auto-router circuit"), /mock-a\/model-a\s+open/);
    assert.match(await run("/auto-router reset all"), /reset cancelled/, "the recording UI declines confirmations");
    assert.match(await run("/auto-router circuit"), /mock-a\/model-a\s+open/);
    assert.match(
      await run("/auto-router reset breakers"),
      /^1 open breaker closed\. The event log is never deleted\.$/,
    );
    assert.match(await run("/auto-router circuit"), /every breaker is closed/);
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" }),
    ]);
    // B answers again (with nothing queued it failed too, and the request waited for a target to come back).
    h.faux("mock-b").setResponses([fauxAssistantMessage("B again")]);
    await run("/auto-router reset cooldowns");
    await h.prompt("trip it again");
    assert.equal(h.lastAssistant().content[0]?.text, "B again");
    assert.equal(
      await run("/auto-router circuit reset mock-a/modl-a"),
      'circuit reset: "mock-a/modl-a" is not a target of any route; did you mean "mock-a/model-a"? (see /auto-router circuit)\n' +
        "usage: /auto-router circuit [reset [provider/model]]",
    );
    // Before: "'mock-a' is not a target of any route", not saying a target is provider/model nor which mock-a has.
    assert.equal(
      await run("/auto-router circuit reset mock-a"),
      'circuit reset: "mock-a" is a provider, not a target: a breaker is per provider/model (mock-a/model-a)\n' +
        "usage: /auto-router circuit [reset [provider/model]]",
    );
    assert.match(
      await run("/auto-router circuit reset Mock-A"),
      /^circuit reset: "Mock-A" is a provider, not a target: .*\(mock-a\/model-a\)\nusage: /,
    );
    assert.match(await run("/auto-router circuit"), /mock-a\/model-a\s+open/, "a mistyped reset closes nothing");
    assert.equal(await run("/auto-router circuit reset mock-a/model-a"), "breaker of mock-a/model-a closed");
    assert.equal(
      await run("/auto-router circuit reset mock-a/model-a"),
      "the breaker of mock-a/model-a was already closed; its recent results are cleared",
    );
    assert.equal(await run("/auto-router circuit reset"), "every breaker was already closed");
    assert.match(
      await run("/auto-router reset everything"),
      /usage: \/auto-router reset \[cooldowns\|breakers\|latency\|all\]/,
    );
  });

  it("names a target by its label in /auto-router list and in explain", async () => {
    const { h, run } = await start({
      routes: routes({}, { targets: [{ ...target("mock-a/model-a"), label: "Alpha" }, target("mock-b/model-b")] }),
    });
    assert.match(await run("/auto-router list"), /1\s+Alpha\s+mock-a\/model-a/);
    h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("hello")]);
    await h.prompt("hi");
    assert.match(await run("/auto-router explain"), /Alpha/);
  });

  it("shows a listing longer than a notification in the widget with a short notice, and clear removes it", async () => {
    const wide = { name: "Wide", targets: ["mock-a/model-a", "mock-b/model-b", "mock-c/model-c"].map(target) };
    const { h, run, widgets } = await start({ routes: { ...routes(), routes: { ...routes().routes, wide } } });
    const from = h.ui!.notifications.length;
    await run("/auto-router list");
    const notice = h
      .ui!.notifications.slice(from)
      .map((n) => n.message)
      .join("\n");
    assert.match(
      notice,
      /^auto-router\/main — Main route … \(\d+ lines shown above the editor; \/auto-router clear hides them\)$/,
    );
    const lines = widgets.get(WIDGET_KEY)!;
    assert.ok(lines.length > 12, String(lines.length));
    assert.ok(
      lines.some((line) => /^2\s+model-b\s+mock-b\/model-b\s+ready\s+API key/.test(line)),
      lines.join("\n"),
    );
    await run("/auto-router clear");
    assert.ok(widgets.has(WIDGET_KEY) && widgets.get(WIDGET_KEY) === undefined, "widget removed");
    assert.doesNotMatch(
      await run("/auto-router aliases"),
      /lines shown above the editor/,
      "short output stays a notification",
    );
  });
});
