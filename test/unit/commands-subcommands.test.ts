// The /auto-router subcommands added for operators: argument parsing, completion and formatting, against a stub of
// the command dependencies (no pi).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { reloadCommand } from "../../src/commands/admin-commands.ts";
import { aliasesCommand, resolveCommand } from "../../src/commands/alias-commands.ts";
import { matchesQuery, modelsCommand, searchCommand } from "../../src/commands/catalogue-commands.ts";
import type { CommandDeps, CommandOutput, Subcommand } from "../../src/commands/command-types.ts";
import { circuitCommand } from "../../src/breaker/circuit-command.ts";
import { BreakerBook, emptyBreakers } from "../../src/breaker/breaker-book.ts";
import { DEFAULT_BREAKER_SETTINGS, type BreakerEvent } from "../../src/breaker/breaker.ts";
import { debugCommand } from "../../src/commands/debug-command.ts";
import { uviCommand } from "../../src/quota/uvi-command.ts";
import { stateCommand } from "../../src/team/team-plugin.ts";
import {
  completeCommand,
  extraArgumentsError,
  HELP_COLUMNS,
  helpText,
  runCommand,
  SUBCOMMANDS,
  splitArguments,
  withHelp,
} from "../../src/commands/dispatch.ts";
import { exactFirst, nameCompletions, resolveName, MAX_MODEL_COMPLETIONS } from "../../src/commands/name-resolution.ts";
import { commandOutput, MAX_NOTIFY_LINES, WIDGET_KEY } from "../../src/commands/output.ts";
import { completeRate, parseRateArguments, rateCommand } from "../../src/ratings/rate-command.ts";
import { describeCondition, rulesText, shortcutsText } from "../../src/commands/reference-commands.ts";
import { configIssueLines, quotaAvailability, servedText } from "../../src/commands/route-commands.ts";
import { shadowCommand } from "../../src/shadow/shadow-command.ts";
import { showCommand } from "../../src/commands/route-commands.ts";
import { switchCommand } from "../../src/commands/switch-command.ts";
import type { RouterConfig } from "../../src/config/schema.ts";
import type { AttemptRecord, LastDecision } from "../../src/runtime/router-runtime.ts";
import {
  addRating,
  createRatingService,
  emptyRatings,
  RATING_WINDOW,
  summarizeRatings,
} from "../../src/ratings/ratings-book.ts";
import {
  addComparison,
  createShadowService,
  emptyShadow,
  SHADOW_HISTORY,
  summarizeShadow,
  type ShadowRecord,
} from "../../src/shadow/shadow-history.ts";
import { createMemoryStore } from "../../src/state/memory-store.ts";

const NOW = Date.UTC(2026, 4, 2, 12, 0, 0);

const CONFIG: RouterConfig = {
  routes: {
    main: {
      name: "Main",
      targets: [
        { provider: "mock-a", modelId: "model-a" },
        { provider: "mock-b", modelId: "model-b" },
      ],
    },
    deep: {
      targets: [{ provider: "mock-c", modelId: "org/model-c" }],
      policyRules: [{ type: "demote-target", when: { badRatingShareAbove: 0.4 } }],
    },
  },
  aliases: { quick: "main", bee: "mock-b/model-b", dead: "nowhere" },
  tiers: { reasoning: { route: "deep" } },
  policyRules: [
    {
      id: "night",
      type: "exclude-provider",
      providers: ["mock-c"],
      routes: ["main"],
      priority: 5,
      when: { timeWindow: { after: "22:00", before: "06:00" } },
    },
  ],
};

interface FakeModel {
  provider: string;
  id: string;
  name: string;
  contextWindow: number;
  maxTokens: number;
  reasoning: boolean;
  cost?: { input: number; output: number };
}
const model = (provider: string, id: string, extra: Partial<FakeModel> = {}): FakeModel => ({
  provider,
  id,
  name: `${id} name`,
  contextWindow: 200_000,
  maxTokens: 8192,
  reasoning: false,
  cost: { input: 3, output: 15 },
  ...extra,
});

function fakeDeps(
  options: { models?: FakeModel[]; withoutAuth?: string[]; switched?: string[]; switchResult?: boolean } = {},
): CommandDeps {
  const models = options.models ?? [
    model("mock-a", "model-a"),
    model("mock-b", "model-b"),
    model("mock-c", "org/model-c", { reasoning: true }),
    model("auto-router", "main"),
  ];
  const withoutAuth = new Set(options.withoutAuth ?? []);
  const registry = {
    find: (provider: string, id: string) => models.find((m) => m.provider === provider && m.id === id),
    hasConfiguredAuth: (m: FakeModel) => !withoutAuth.has(`${m.provider}/${m.id}`),
    getAll: () => models,
    getAvailable: () => models.filter((m) => !withoutAuth.has(`${m.provider}/${m.id}`)),
  };
  const runtime = {
    registry: () => registry,
    currentFacts: () =>
      Object.fromEntries(
        models.map((m) => [
          `${m.provider}/${m.id}`,
          {
            resolvable: true,
            hasCredentials: !withoutAuth.has(`${m.provider}/${m.id}`),
            usesOAuth: false,
            contextWindow: m.contextWindow,
            maxTokens: m.maxTokens,
            reasoning: m.reasoning,
            vision: false,
            pricing: m.cost,
          },
        ]),
      ),
    plugins: [],
  };
  return {
    runtime: runtime as unknown as CommandDeps["runtime"],
    // A routes file loaded as written (switch says when it is invalid with no good copy).
    services: {
      config: { state: { origin: "file", issues: [], file: "/fake/auto-router.routes.json" } },
    } as unknown as CommandDeps["services"],
    config: () => CONFIG,
    reload: () => [],
    unknownTargets: () => [],
    switchModel: async (provider, modelId) => {
      options.switched?.push(`${provider}/${modelId}`);
      return options.switchResult ?? true;
    },
    now: () => NOW,
  };
}

interface Recorded {
  level: string;
  text: string;
}
function recordingOutput(
  choice?: string,
): CommandOutput & { lines: Recorded[]; text(): string; titles: string[]; choices: string[][] } {
  const lines: Recorded[] = [];
  const titles: string[] = [];
  const choices: string[][] = [];
  return {
    lines,
    titles,
    choices,
    info: (text) => void lines.push({ level: "info", text }),
    warn: (text) => void lines.push({ level: "warning", text }),
    error: (text) => void lines.push({ level: "error", text }),
    select: async (title, options) => {
      titles.push(title);
      choices.push(options);
      return choice;
    },
    text: () => lines.map((line) => line.text).join("\n"),
  };
}

const values = (items: Array<{ value: string }> | null) => (items ?? []).map((item) => item.value);

describe("name resolution for switch and resolve", () => {
  it("resolves aliases one level deep, route ids, auto-router/<route> and provider/model with slashes in the model id", () => {
    assert.deepEqual(resolveName("quick", CONFIG), { kind: "route", routeId: "main", alias: "quick" });
    assert.deepEqual(resolveName("bee", CONFIG), {
      kind: "model",
      provider: "mock-b",
      modelId: "model-b",
      alias: "bee",
    });
    assert.deepEqual(resolveName("deep", CONFIG), { kind: "route", routeId: "deep" });
    assert.deepEqual(resolveName("auto-router/main", CONFIG), { kind: "route", routeId: "main" });
    assert.deepEqual(resolveName("openrouter/anthropic/claude", CONFIG), {
      kind: "model",
      provider: "openrouter",
      modelId: "anthropic/claude",
    });
    assert.equal(resolveName("auto-router/nope", CONFIG), undefined);
    assert.equal(resolveName("dead", CONFIG), undefined);
    assert.equal(resolveName("plain", CONFIG), undefined);
    assert.equal(resolveName("trailing/", CONFIG), undefined);
  });

  it("completes routes, aliases that point at something and, for an empty prefix, only models that have credentials, never the router's own", () => {
    const deps = fakeDeps({ withoutAuth: ["mock-b/model-b"] });
    // "dead" points at nothing: switching to it would fail, so it is not offered.
    assert.deepEqual(values(nameCompletions("", deps)), [
      "main",
      "deep",
      "quick",
      "bee",
      "mock-a/model-a",
      "mock-c/org/model-c",
    ]);
    assert.deepEqual(
      values(nameCompletions("mock-b", deps)),
      ["mock-b/model-b"],
      "a typed prefix reaches models without credentials too",
    );
    assert.deepEqual(values(nameCompletions("auto", deps)), []);
  });

  it("offers the name typed in full first, so Enter keeps an alias `o` rather than the route `other` listed before it", () => {
    const item = (value: string) => ({ value, label: value, description: "" });
    assert.deepEqual(values(exactFirst([item("other"), item("one"), item("o")], "o")), ["o", "other", "one"]);
    assert.deepEqual(values(exactFirst([item("other"), item("one")], "o")), ["other", "one"]);
    assert.deepEqual(values(nameCompletions("main", fakeDeps())), ["main"]);
  });

  it("caps model completions for a large catalogue", () => {
    const many = Array.from({ length: MAX_MODEL_COMPLETIONS + 20 }, (_, index) => model("big", `m${index}`));
    assert.equal(nameCompletions("big/", fakeDeps({ models: many })).length, MAX_MODEL_COMPLETIONS);
  });
});

describe("switch", () => {
  it("switches to the route an alias names, or straight to a provider/model", async () => {
    const switched: string[] = [];
    const deps = fakeDeps({ switched });
    const output = recordingOutput();
    await switchCommand.run(["quick"], deps, output);
    await switchCommand.run(["mock-c/org/model-c"], deps, output);
    assert.deepEqual(switched, ["auto-router/main", "mock-c/org/model-c"]);
    assert.equal(output.text(), "switched to auto-router/main (alias quick)\nswitched to mock-c/org/model-c");
  });

  it("opens a picker of routes and aliases without an argument, and reports a model pi cannot use", async () => {
    const switched: string[] = [];
    const picked = recordingOutput("deep");
    await switchCommand.run([], fakeDeps({ switched }), picked);
    assert.deepEqual(picked.titles, ["Switch to which route?"]);
    assert.deepEqual(switched, ["auto-router/deep"]);
    // Aliases say what they point at; one naming a model says it leaves the router. Picking one switches to it.
    assert.deepEqual(picked.choices, [
      ["main", "deep", "quick → auto-router/main", "bee → mock-b/model-b (one model, not routed)"],
    ]);
    const alias = recordingOutput("bee → mock-b/model-b (one model, not routed)");
    await switchCommand.run([], fakeDeps({ switched }), alias);
    assert.deepEqual(switched, ["auto-router/deep", "mock-b/model-b"]);
    assert.equal(alias.text(), "switched to mock-b/model-b (alias bee)");
    const refused = recordingOutput();
    await switchCommand.run(["bee"], fakeDeps({ switchResult: false }), refused);
    assert.deepEqual(refused.lines, [
      { level: "error", text: "cannot switch to mock-b/model-b (alias bee): pi has no credentials for it" },
    ]);
    const unknown = recordingOutput();
    await switchCommand.run(["x/y"], fakeDeps({ switchResult: false }), unknown);
    assert.match(unknown.text(), /pi does not know that model/);
    const noPicker = recordingOutput();
    delete noPicker.select;
    await switchCommand.run([], fakeDeps(), noPicker);
    assert.match(noPicker.text(), /^usage: \/auto-router switch/);
  });

  it("says a picker closed without a choice (Esc) was cancelled, for switch and show", async () => {
    const switched: string[] = [];
    const closed = recordingOutput(undefined);
    await switchCommand.run([], fakeDeps({ switched }), closed);
    await showCommand.run([], fakeDeps(), closed);
    assert.deepEqual(closed.titles, ["Switch to which route?", "Show which route?"]);
    assert.deepEqual(closed.lines, [
      { level: "info", text: "switch cancelled" },
      { level: "info", text: "show cancelled" },
    ]);
    assert.deepEqual(switched, []);
  });
});

describe("aliases, resolve, search, models", () => {
  it("tabulates aliases with what each resolves to and whether it is usable", async () => {
    const output = recordingOutput();
    await aliasesCommand.run([], fakeDeps({ withoutAuth: ["mock-b/model-b"] }), output);
    assert.match(output.text(), /quick\s+main\s+auto-router\/main\s+route, 2 targets$/m);
    assert.match(output.text(), /bee\s+mock-b\/model-b\s+mock-b\/model-b\s+model, no credentials/);
    assert.match(output.text(), /dead\s+nowhere\s+-\s+unresolved/);
  });

  it("resolves a model alias with the model's facts, and completes aliases first", async () => {
    const output = recordingOutput();
    await resolveCommand.run(["bee"], fakeDeps(), output);
    assert.equal(
      output.text(),
      "bee → mock-b/model-b (alias): model, ready\n  model-b name: context 200000, max output 8192, $3.00/15 per 1M in/out",
    );
    assert.deepEqual(values(resolveCommand.complete!("b", fakeDeps())), ["bee"]);
    assert.deepEqual(
      values(resolveCommand.complete!("mai", fakeDeps())),
      ["main"],
      "no alias matches: routes and models",
    );
  });

  it("searches routes and the catalogue for every word of the query", async () => {
    assert.equal(matchesQuery("mock-c/org/model-c Model C", "ORG model"), true);
    assert.equal(matchesQuery("mock-c/org/model-c", "org nope"), false);
    const output = recordingOutput();
    await searchCommand.run(["org", "model"], fakeDeps(), output);
    assert.match(
      output.text(),
      /^models \(1\):\nprovider\/model\s+name\s+credentials\s+context\s+\$\/1M in\/out\s+in routes\nmock-c\/org\/model-c\s+org\/model-c name\s+yes\s+200k\s+3\.00\/15\s+deep$/,
    );
    const empty = recordingOutput();
    await searchCommand.run([], fakeDeps(), empty);
    assert.equal(empty.lines[0]!.level, "error");
    assert.deepEqual(values(searchCommand.complete!("mock-", fakeDeps())), ["mock-a", "mock-b", "mock-c"]);
  });

  it("lists every distinct target of the routes once, with the routes that use it", async () => {
    const output = recordingOutput();
    await modelsCommand.run([], fakeDeps(), output);
    const text = output.text();
    assert.match(text, /^3 models in 2 routes\n/);
    assert.match(text, /mock-c\/org\/model-c\s+org\/model-c name\s+reasoning\s+200k\s+8k\s+API key\s+3\.00\/15\s+deep/);
  });
});

describe("shortcuts and rules", () => {
  it("lists the tier shortcuts with the route each switches to, and the preference shortcuts", () => {
    const text = shortcutsText(CONFIG);
    assert.match(text, /@reasoning\s+hard problems: reasoning models only \(route deep\)/);
    assert.match(text, /@fast\s+.*\(the active route\)/);
    assert.match(text, /@sort=KEY\s+rank by price \| latency \| throughput/);
    // A tier naming a route the file does not have serves on the active route, as the load warning says.
    const missing = shortcutsText({ ...CONFIG, tiers: { reasoning: { route: "dep" } } });
    assert.match(
      missing,
      /@reasoning\s+hard problems: reasoning models only \(the active route: tiers\.reasoning\.route "dep" is no route\)/,
    );
  });

  it("describes each rule's condition, effect, priority and scope, optionally for one route", () => {
    assert.equal(
      describeCondition({
        any: [{ intent: ["code", "analysis"] }, { minTokens: 1000 }],
        not: { daysOfWeek: ["sat", "sun"] },
      }),
      "any(intent code|analysis; ≥ 1000 tokens) and not(sat,sun)",
    );
    assert.deepEqual(
      [1, 30].map((ratingMaxAgeDays) => describeCondition({ badRatingShareAbove: 0.4, ratingMaxAgeDays })),
      ["bad ratings > 40% of ≥ 5 in the last 1 day", "bad ratings > 40% of ≥ 5 in the last 30 days"],
    );
    const all = rulesText(CONFIG);
    assert.match(all, /Global rules:\n  night: when 22:00-06:00 => exclude mock-c \(priority 5, routes main\)/);
    assert.match(
      all,
      /Route deep:\n  routes\.deep\.policyRules\[0\] demote-target: when bad ratings > 40% of ≥ 5 => demote each matching target \(priority 0, this route\)/,
    );
    assert.doesNotMatch(rulesText(CONFIG, "deep"), /night/, "a global rule scoped to other routes does not apply");
    assert.match(all, /\nListed as declared\. \/auto-router rules <route> lists a route's rules in the order they run/);
    const ordered = rulesText(
      {
        ...CONFIG,
        routes: {
          main: {
            ...CONFIG.routes.main!,
            policyRules: [{ id: "own", type: "exclude-provider", providers: ["x"], priority: 9 }],
          },
        },
        policyRules: [
          ...CONFIG.policyRules!,
          { id: "tie", type: "exclude-provider", providers: ["y"], priority: 5 },
          { id: "low", type: "exclude-provider", providers: ["z"], priority: -1 },
        ],
      } as RouterConfig,
      "main",
    );
    assert.deepEqual(
      ordered.split("\n").map((line) => line.trim().split(":")[0]),
      [
        "Rules of route main, in the order they run (higher priority first; ties as declared, global rules first)",
        "own",
        "night",
        "tie",
        "low",
        "/auto-router explain shows which rules matched the last request.",
      ],
    );
    assert.match(rulesText({ routes: CONFIG.routes } as RouterConfig, "main"), /no policy rules apply to route main/);
  });
});

describe("rate", () => {
  it("parses the rating, a reason of several words and tags in both flag forms", () => {
    assert.deepEqual(
      parseRateArguments(splitArguments('bad "made it up" again --tags wrong,made-up --tags=wrong,slow')),
      { rating: "bad", reason: "made it up again", tags: ["wrong", "made-up", "slow"] },
    );
    // A quote left open takes the rest of the line, without the quote.
    assert.deepEqual(parseRateArguments(splitArguments('good "unterminated reason')), {
      rating: "good",
      reason: "unterminated reason",
    });
    assert.deepEqual(splitArguments("explain don't 'open"), ["explain", "don't", "open"]);
    assert.deepEqual(parseRateArguments(["GOOD"]), { rating: "good" });
    for (const word of ["up", "Up", "+", "+1", "👍"]) assert.deepEqual(parseRateArguments([word]), { rating: "good" });
    for (const word of ["constructor", "toString"])
      assert.match(parseRateArguments([word]) as string, /is not a rating/);
    for (const word of ["down", "-", "-1", "👎"])
      assert.deepEqual(parseRateArguments([word, "slow"]), { rating: "bad", reason: "slow" });
    assert.equal(
      parseRateArguments(["meh", "so-so"]),
      '"meh" is not a rating: expected good or bad (or up/down, +1/-1)\nusage: /auto-router rate <good|bad> [reason] [--tags a,b]',
    );
    assert.match(parseRateArguments([]) as string, /^usage: \/auto-router rate <good\|bad>/);
    assert.match(parseRateArguments(["bad", "--tags"]) as string, /--tags needs a value/);
  });

  it("takes `--tags a, b` (a space after the comma) as both tags, not b as the reason, and refuses an empty list", () => {
    // Before: reason "slow answer b", tags ["a"].
    assert.deepEqual(parseRateArguments(splitArguments("bad slow answer --tags a, b")), {
      rating: "bad",
      reason: "slow answer",
      tags: ["a", "b"],
    });
    assert.deepEqual(parseRateArguments(splitArguments("bad --tags=a, b, c too slow")), {
      rating: "bad",
      reason: "too slow",
      tags: ["a", "b", "c"],
    });
    for (const args of ['good --tags ""', "good --tags ,,", "good --tags="])
      assert.match(parseRateArguments(splitArguments(args)) as string, /--tags needs a value/, args);
  });

  it("completes the rating, then the --tags flag once", () => {
    assert.deepEqual(values(completeRate("")), ["good", "bad"]);
    assert.deepEqual(values(completeRate("g")), ["good"]);
    assert.deepEqual(values(completeRate("bad slow -")), ["bad slow --tags "]);
    assert.deepEqual(values(completeRate("bad --tags a --t")), []);
    assert.deepEqual(values(completeRate("bad slow")), []);
  });

  it("keeps the last RATING_WINDOW ratings per target and lets a second rating of a request replace the first", () => {
    let state = emptyRatings();
    for (let index = 0; index < RATING_WINDOW + 5; index++)
      state = addRating(state, "a/1", { at: index, rating: index < 10 ? "bad" : "good", requestId: `r${index}` });
    const { marks, ...totals } = summarizeRatings(state)["a/1"]!;
    assert.deepEqual(totals, { good: RATING_WINDOW - 5, bad: 5, count: RATING_WINDOW, badShare: 5 / RATING_WINDOW });
    // Each kept rating's time and verdict, oldest first (ratings 5..54 of the 55 given; 5..9 bad).
    assert.deepEqual(
      marks,
      Array.from({ length: RATING_WINDOW }, (_, index) => ({ at: index + 5, bad: index + 5 < 10 })),
    );
    state = addRating(state, "a/1", { at: 99, rating: "bad", requestId: `r${RATING_WINDOW + 4}` });
    assert.equal(summarizeRatings(state)["a/1"]!.bad, 6);
    assert.equal(summarizeRatings(state)["a/1"]!.count, RATING_WINDOW);
  });

  it("rates the remembered request, records a feedback event and says so; refuses when nothing was answered", async () => {
    const recorded: Array<{ type: string; data: object; ids?: { requestId?: string; routeId?: string } }> = [];
    const service = createRatingService(
      createMemoryStore(emptyRatings()),
      (type, data, ids) => void recorded.push({ type, data, ids }),
    );
    const command = rateCommand(service);
    const before = recordingOutput();
    await command.run(["bad"], fakeDeps(), before);
    assert.deepEqual(before.lines, [
      { level: "error", text: "nothing to rate yet: no request of this pi session has been answered" },
    ]);
    service.remember({
      requestId: "0123456789abcdef",
      routeId: "main",
      servedTarget: "mock-b/model-b",
      at: NOW - 5000,
    });
    const output = recordingOutput();
    await command.run(["bad", "slow", "--tags", "latency"], fakeDeps(), output);
    assert.equal(
      output.text(),
      'rated request 01234567 on main bad ("slow", tags latency)\nmock-b/model-b: 1 bad, 0 good of the last 1 rating (100% bad)',
    );
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]!.type, "feedback");
    assert.deepEqual(recorded[0]!.data, {
      rating: "bad",
      ratedRequestId: "0123456789abcdef",
      servedTarget: "mock-b/model-b",
      routeId: "main",
      reason: "slow",
      tags: ["latency"],
    });
    assert.equal(recorded[0]!.ids?.routeId, "main");
    assert.notEqual(recorded[0]!.ids?.requestId, "0123456789abcdef");
    const summary = recordingOutput();
    await command.run([], fakeDeps(), summary);
    assert.match(
      summary.text(),
      /last answer: request 01234567 on main, served by mock-b\/model-b, 5s ago\n  mock-b\/model-b: 1 bad/,
    );
  });
});

describe("shadow", () => {
  const record = (index: number, routeId: string, declared: string[], routed: string[]): ShadowRecord => ({
    at: NOW - (10 - index) * 60_000,
    requestId: `r${index}`,
    routeId,
    declaredOrder: declared,
    routedOrder: routed,
    match: declared[0] === routed[0],
  });

  it("summarizes first-target and whole-order agreement per route over the last N, newest disagreement first", () => {
    const records = [
      record(1, "main", ["a", "b"], ["b", "a"]),
      record(2, "main", ["a", "b"], ["a", "b"]),
      record(3, "deep", ["c", "a", "b"], ["c", "b", "a"]),
      record(4, "main", ["a", "b"], ["b", "a"]),
    ];
    const summary = summarizeShadow(records);
    assert.deepEqual(
      { count: summary.count, matches: summary.matches, sameOrder: summary.sameOrder },
      { count: 4, matches: 2, sameOrder: 1 },
    );
    assert.deepEqual(summary.byRoute, { main: { count: 3, matches: 1 }, deep: { count: 1, matches: 1 } });
    assert.deepEqual(
      summary.mismatches.map((m) => m.requestId),
      ["r4", "r1"],
    );
    assert.equal(summarizeShadow(records, 2).count, 2);
  });

  it("keeps only the last SHADOW_HISTORY comparisons", () => {
    let state = emptyShadow();
    for (let index = 0; index < SHADOW_HISTORY + 3; index++)
      state = addComparison(state, record(index, "main", ["a"], ["a"]));
    assert.equal(state.comparisons.length, SHADOW_HISTORY);
    assert.equal(state.comparisons[0]!.requestId, "r3");
  });

  it("enables, disables and shows the match rate; rejects a bad N", async () => {
    const service = createShadowService(createMemoryStore(emptyShadow()));
    const command = shadowCommand(service);
    const output = recordingOutput();
    await command.run([], fakeDeps(), output);
    assert.equal(
      output.text(),
      "shadow mode: disabled (requests are routed by the full ranking)\nno comparisons recorded (/auto-router shadow enable starts recording)",
    );
    await command.run(["enable"], fakeDeps(), output);
    assert.equal(service.enabled(), true);
    (service as unknown as { comparisons(): ShadowRecord[] }).comparisons = () => [
      record(8, "main", ["a", "b"], ["b", "a"]),
      record(9, "main", ["a", "b"], ["a", "b"]),
    ];
    const shown = recordingOutput();
    await command.run(["show", "10"], fakeDeps(), shown);
    assert.equal(
      shown.text(),
      [
        "shadow mode: enabled (requests are routed in declared order; the full ranking is only recorded)",
        "last 2 requests: the ranking chose the declared first target in 1 (50%), the same whole order in 1 (50%)",
        "  main: 1/2 match (50%)",
        "recent disagreements (declared first vs ranked first):",
        "  2m ago main: a vs b",
      ].join("\n"),
    );
    const bad = recordingOutput();
    await command.run(["show", "0"], fakeDeps(), bad);
    assert.equal(bad.lines[0]!.level, "error");
    await command.run(["disable"], fakeDeps(), output);
    assert.equal(service.enabled(), false);
    assert.deepEqual(values(command.complete!("", fakeDeps())), ["show", "enable", "disable"]);
  });
});

describe("dispatch and output", () => {
  it("completes subcommand names with the built-in and plugin tables, and full values for nested arguments", () => {
    const deps = fakeDeps();
    assert.deepEqual(values(completeCommand("sh", deps)), ["show ", "shortcuts "]);
    assert.deepEqual(values(completeCommand("switch qu", deps)), ["switch quick "]);
    assert.deepEqual(values(completeCommand("reset ", deps)), [
      "reset cooldowns ",
      "reset breakers ",
      "reset latency ",
      "reset all ",
    ]);
    assert.equal(completeCommand("nothing", deps), null);
  });

  it("ends a completed subcommand name with a space, so what is typed next is its argument and completes as one", () => {
    const deps = fakeDeps();
    // pi puts an argument completion's value in place of the argument text as is (no space of its own).
    const [switchName] = values(completeCommand("swi", deps));
    assert.equal(switchName, "switch ");
    assert.deepEqual(values(completeCommand(`${switchName}qu`, deps)), ["switch quick "]);
    assert.deepEqual(values(completeCommand("switch", deps)), ["switch "], "a complete name still gets its space");
  });

  it("ends a completed argument with a space too, so the next argument is not glued to it", () => {
    const deps = fakeDeps();
    const scoped: Subcommand = {
      name: "circuit",
      usage: "circuit [reset [target]]",
      description: "breakers",
      complete: (prefix) =>
        (prefix.startsWith("reset ") ? ["reset mock-a/model-a"] : ["reset"])
          .filter((word) => word.startsWith(prefix))
          .map((word) => ({ value: word, label: word })),
      run: async () => {},
    };
    const [action] = values(completeCommand("circuit r", deps, [scoped]));
    assert.equal(action, "circuit reset ");
    assert.deepEqual(values(completeCommand(`${action}mo`, deps, [scoped])), ["circuit reset mock-a/model-a "]);
  });

  it("lists circuit reset's targets by their provider/model, in order, each completing the whole argument text", () => {
    const book = new BreakerBook(createMemoryStore(emptyBreakers()), () => DEFAULT_BREAKER_SETTINGS);
    // A breaker the book holds for a target no route names any more comes first in the book, not in the popup.
    book.apply("zeta/model-z", { type: "failure", at: NOW, kind: "server_error" } satisfies BreakerEvent);
    const command = circuitCommand(book, () => ({ ...DEFAULT_BREAKER_SETTINGS, enabled: true }));
    const items = completeCommand("circuit reset ", fakeDeps(), [command]) ?? [];
    assert.deepEqual(
      items.map((item) => item.label),
      ["mock-a/model-a", "mock-b/model-b", "mock-c/org/model-c", "zeta/model-z"],
    );
    assert.deepEqual(values(completeCommand("circuit reset mock-b", fakeDeps(), [command])), [
      "circuit reset mock-b/model-b ",
    ]);
    assert.deepEqual(values(completeCommand("circuit re", fakeDeps(), [command])), ["circuit reset "]);
    assert.equal(completeCommand("circuit x", fakeDeps(), [command]), null);
  });

  it("counts the breakers circuit reset closes, singular for one", async () => {
    const settings = () => ({ ...DEFAULT_BREAKER_SETTINGS, minimumCalls: 1 });
    const book = new BreakerBook(createMemoryStore(emptyBreakers()), settings);
    const command = circuitCommand(book, () => ({ ...settings(), enabled: true }));
    const closed = async (keys: string[]) => {
      for (const key of keys)
        book.apply(key, { type: "failure", at: NOW, kind: "server_error" } satisfies BreakerEvent);
      const output = recordingOutput();
      await command.run(["reset"], fakeDeps(), output);
      return output.text();
    };
    assert.equal(await closed(["mock-a/model-a"]), "1 breaker closed");
    assert.equal(await closed(["mock-a/model-a", "mock-b/model-b"]), "2 breakers closed");
  });

  it("fits every help line in the columns given, continuing a long description under itself without cutting a word", () => {
    const long: Subcommand = {
      name: "long",
      usage: "long [a|b|c]",
      description: `A description ${"with many words ".repeat(12)}that ends here`,
      run: async () => {},
    };
    const lines = helpText([...SUBCOMMANDS, long], HELP_COLUMNS).split("\n");
    for (const line of lines) assert.ok(line.length <= HELP_COLUMNS, line);
    const descriptionColumn = lines.find((line) => line.includes("long [a|b|c]"))!.indexOf("A description");
    const continued = lines.slice(lines.findIndex((line) => line.includes("long [a|b|c]")) + 1);
    assert.ok(continued.length >= 2);
    for (const line of continued) assert.equal(line.search(/\S/), descriptionColumn, line);
    assert.equal(
      lines.join(" ").replace(/\s+/g, " "),
      `/auto-router subcommands: ${[...SUBCOMMANDS, long].map((s) => `${s.usage} ${s.description}`).join(" ")}`.replace(
        /\s+/g,
        " ",
      ),
      "every word whole, in order",
    );
  });

  it("gives the help unwrapped where the display wraps it (the TUI), wrapped to HELP_COLUMNS where it does not (print mode)", async () => {
    const long: Subcommand = {
      name: "long",
      usage: "long",
      description: `A description ${"with many words ".repeat(12)}that ends here`,
      run: async () => {},
    };
    const subcommands = [...SUBCOMMANDS, long];
    const wrapping = { ...recordingOutput(), wrapsLines: true };
    await runCommand("help", fakeDeps(), wrapping, subcommands);
    assert.equal(wrapping.text().split("\n").length, subcommands.length + 2, "one line per subcommand, help's own too");
    const printed = recordingOutput();
    await runCommand("help", fakeDeps(), printed, subcommands);
    assert.ok(printed.text().split("\n").length > subcommands.length + 2);
    for (const line of printed.text().split("\n")) assert.ok(line.length <= HELP_COLUMNS, line);
    assert.equal(commandOutput({ hasUI: true, ui: { notify: () => {} } }).wrapsLines, true);
    assert.equal(commandOutput({ hasUI: false, ui: { notify: () => {} } }).wrapsLines, undefined);
  });

  it("answers an unknown subcommand with an error that lists the subcommands", async () => {
    const output = recordingOutput();
    await runCommand("nope", fakeDeps(), output);
    assert.equal(output.lines.length, 1);
    assert.equal(output.lines[0]!.level, "error");
    assert.match(output.text(), /^unknown subcommand "nope"\n\/auto-router subcommands:\n  status/);
    assert.match(output.text(), /^  switch <route\|alias\|provider\/model>\s+Switch pi/m);
  });

  it("names the subcommand a mistyped one was probably meant to be, help included", async () => {
    for (const [typed, meant] of [
      ["statuss", "status"],
      ["lsit", "list"],
      ["hepl", "help"],
    ]) {
      const output = recordingOutput();
      await runCommand(typed!, fakeDeps(), output);
      assert.match(
        output.text(),
        new RegExp(`^unknown subcommand "${typed}"; did you mean "${meant}"\\?\n/auto-router subcommands:`),
      );
    }
  });

  it("refuses words past the most a subcommand takes, per action where it has actions; free text has no limit", () => {
    const run = async () => {};
    const counted: Subcommand = { name: "one", usage: "one [route]", maxArguments: 1, description: "", run };
    assert.equal(extraArgumentsError(counted, ["main"]), undefined);
    assert.equal(
      extraArgumentsError(counted, ["main", "extra", "words"]),
      'one: unexpected "extra words"\nusage: /auto-router one [route]',
    );
    const actions: Subcommand = {
      ...counted,
      name: "acts",
      usage: "acts [show [N]|enable]",
      maxArguments: { show: 2, enable: 1 },
    };
    assert.equal(extraArgumentsError(actions, ["show", "5"]), undefined);
    assert.match(extraArgumentsError(actions, ["enable", "now"])!, /^acts: unexpected "now"\n/);
    assert.equal(
      extraArgumentsError(actions, ["bogus", "x"]),
      undefined,
      "an unknown action is the subcommand's to refuse",
    );
    assert.equal(extraArgumentsError(actions, ["constructor", "x"]), undefined, "not a key of the object's prototype");
    assert.equal(extraArgumentsError({ ...counted, maxArguments: undefined }, ["a", "b", "c"]), undefined);
  });

  it("names a failure by the subcommand and the actions typed, up to the first word that is a value", async () => {
    const failing: Subcommand = {
      name: "acts",
      usage: "acts [show [N]|floor <provider|all> <usd>] [--json]",
      description: "",
      async run() {
        throw new Error("boom");
      },
    };
    for (const [typed, named] of [
      ["acts", "acts"],
      ["acts show 5", "acts show"],
      ["acts floor mock-a 5", "acts floor"],
      ["acts floor all 5", "acts floor"],
      ["acts --json", "acts"],
    ]) {
      const output = recordingOutput();
      const services = { backend: { ready: async () => {} } } as unknown as CommandDeps["services"];
      await runCommand(typed!, { ...fakeDeps(), services }, output, [failing]);
      assert.equal(output.text(), `/auto-router ${named} failed: boom`, typed);
    }
  });

  it("has every subcommand refuse an extra word with its usage before it runs, plugins' included", async () => {
    const stub = {} as never;
    const plugins = [
      uviCommand(stub),
      stateCommand(stub),
      circuitCommand(stub, stub),
      shadowCommand(stub),
      rateCommand(stub),
      debugCommand(() => stub),
    ];
    const valid: Record<string, string> = {
      show: "main",
      explain: "main",
      rules: "main",
      switch: "quick",
      resolve: "quick",
      "test-resolve": "quick",
      reset: "cooldowns",
      uvi: "enable",
      state: "push",
      circuit: "reset mock-a/model-a",
      shadow: "show 5",
      help: "switch",
    };
    const table = withHelp([...SUBCOMMANDS, ...plugins]);
    for (const subcommand of table) {
      if (subcommand.maxArguments === undefined) continue;
      const output = recordingOutput();
      await runCommand(`${subcommand.name} ${valid[subcommand.name] ?? ""} extra`, fakeDeps(), output, table);
      assert.deepEqual(
        output.lines,
        [{ level: "error", text: `${subcommand.name}: unexpected "extra"\nusage: /auto-router ${subcommand.usage}` }],
        subcommand.name,
      );
    }
    assert.deepEqual(
      table.filter((s) => s.maxArguments === undefined).map((s) => s.name),
      ["search", "rate"],
      "only search's query and rate's reason are free text",
    );
    const shadow = recordingOutput();
    await runCommand("shadow enable extra", fakeDeps(), shadow, table);
    assert.match(
      shadow.text(),
      /^shadow: unexpected "extra"\nusage: \/auto-router shadow \[show \[N\]\|enable\|disable\]$/,
    );
  });

  it("lists help itself in the help and completes it, as one of the subcommands", async () => {
    for (const typed of ["help", "--help"]) {
      const output = recordingOutput();
      await runCommand(typed, fakeDeps(), { ...output, wrapsLines: true });
      assert.match(
        output.text(),
        /^  help \[subcommand\]\s+This list of the subcommands, or one subcommand's usage$/m,
        typed,
      );
      assert.equal(output.lines[0]!.level, "info");
    }
    assert.deepEqual(values(completeCommand("he", fakeDeps())), ["help "]);
  });

  it("answers --help (or -h) after a subcommand, and help <subcommand>, with that subcommand's usage, never as its argument", async () => {
    const switchUsage =
      /^usage: \/auto-router switch <route\|alias\|provider\/model>\nSwitch pi to an auto-router route/;
    for (const typed of ["switch --help", "switch -h", "help switch"]) {
      const output = recordingOutput();
      await runCommand(typed, fakeDeps(), output);
      assert.match(output.text(), switchUsage, typed);
      assert.equal(output.lines.length, 1, typed);
      assert.equal(output.lines[0]!.level, "info", typed);
    }
    // A subcommand whose argument is free text or a route name: --help is not searched for nor taken as a route.
    for (const [typed, usage] of [
      ["search --help", /^usage: \/auto-router search <query>\n/],
      ["show --help", /^usage: \/auto-router show <route>\n/],
      ["list -h", /^usage: \/auto-router list\n/],
    ] as const) {
      const output = recordingOutput();
      await runCommand(typed, fakeDeps(), output);
      assert.match(output.text(), usage, typed);
      assert.equal(output.lines[0]!.level, "info", typed);
    }
    const top = recordingOutput();
    await runCommand("-h", fakeDeps(), top);
    assert.match(top.text(), /^\/auto-router subcommands:/);
    const unknown = recordingOutput();
    await runCommand("help swtich", fakeDeps(), unknown);
    assert.equal(unknown.lines[0]!.level, "error");
    assert.match(
      unknown.text(),
      /^help: unknown subcommand "swtich"; did you mean "switch"\? \(subcommands: status, switch, /,
    );
    assert.deepEqual(values(completeCommand("help sw", fakeDeps())), ["help switch "]);
  });

  it("puts more than MAX_NOTIFY_LINES lines into the widget with a one-line notice; short text and errors stay notifications", () => {
    const notified: Array<[string, string | undefined]> = [];
    const widgets: Array<[string, string[] | undefined]> = [];
    const components: string[][] = [];
    const setWidget = (key: string, content: string[] | (() => { render(width: number): string[] }) | undefined) =>
      void (typeof content === "function" ? components.push(content().render(80)) : widgets.push([key, content]));
    const output = commandOutput({
      hasUI: true,
      ui: { notify: (text, level) => void notified.push([text, level]), setWidget },
    });
    const long = Array.from({ length: MAX_NOTIFY_LINES + 1 }, (_, index) => `line ${index + 1}`).join("\n");
    output.info(long);
    assert.deepEqual(widgets, [[WIDGET_KEY, long.split("\n")]], "RPC clients get the lines");
    assert.deepEqual(
      components,
      [long.split("\n").map((line) => ` ${line}`)],
      "the TUI gets every line as a component, not cut after 10",
    );
    assert.deepEqual(notified, [
      [`line 1 … (${MAX_NOTIFY_LINES + 1} lines shown above the editor; /auto-router clear hides them)`, "info"],
    ]);
    output.warn(Array.from({ length: MAX_NOTIFY_LINES }, () => "x").join("\n"));
    assert.equal(widgets.length, 1, "exactly MAX_NOTIFY_LINES lines still fit a notification");
    assert.equal(notified[1]![1], "warning");
    output.error(long);
    assert.deepEqual(notified[2], [long, "error"], "an error is shown whole, never moved into the widget");
    assert.equal(widgets.length, 1);
    output.clear!();
    assert.deepEqual(widgets[1], [WIDGET_KEY, undefined]);
  });

  it("puts a long listing into the chat where pi gives a listing sink (newer pi's TUI), never into the widget", () => {
    const notified: Array<[string, string | undefined]> = [];
    const widgets: unknown[] = [];
    const listed: Array<[string[], string]> = [];
    const output = commandOutput(
      {
        hasUI: true,
        ui: {
          notify: (text, level) => void notified.push([text, level]),
          setWidget: (...call) => void widgets.push(call),
        },
      },
      (lines, level) => void listed.push([lines, level]),
    );
    const long = Array.from({ length: MAX_NOTIFY_LINES + 1 }, (_, index) => `line ${index + 1}`);
    output.warn(long.join("\n"));
    assert.deepEqual(listed, [[long, "warning"]], "every line, with its level");
    assert.deepEqual(widgets, [], "no widget: newer pi clips it, and the footer under it");
    assert.deepEqual(notified, [], "the listing itself is in the chat: no notice pointing elsewhere");
    output.info("short");
    assert.deepEqual(notified, [["short", "info"]]);
    assert.equal(output.clear, undefined, "nothing above the editor to clear");
  });

  it("says how many issues a reload found instead of repeating the ones the reload already reported", async () => {
    const output = recordingOutput();
    let reloads = 0;
    const deps = {
      ...fakeDeps(),
      reload: () => {
        reloads += 1;
        return ["warning: /x/auto-router.routes.json:2:3 at shortcuts: unknown key (ignored)"];
      },
      services: {
        config: {
          state: {
            origin: "file",
            file: "/x/auto-router.routes.json",
            config: CONFIG,
            issues: [{ severity: "warning", path: "shortcuts", message: "unknown key (ignored)" }],
          },
          restartNote: () => undefined,
        },
      } as unknown as CommandDeps["services"],
    };
    await reloadCommand.run([], deps, output);
    assert.equal(reloads, 1);
    assert.deepEqual(output.lines, [
      { level: "info", text: "reloaded /x/auto-router.routes.json: 2 routes; 1 warning (shown above)" },
    ]);
  });
});

describe("what came of the last request (explain's first line, status)", () => {
  const last = (servedKey: string | undefined, ...attempts: AttemptRecord[]): LastDecision =>
    ({ requestId: "r1", at: NOW, decision: {} as LastDecision["decision"], servedKey, attempts }) as LastDecision;
  const attempt = (key: string, outcome: string, failureKind?: string): AttemptRecord => ({
    key,
    outcome,
    failureKind,
    latencyMs: 5,
  });

  it("says served by the target that answered, and nothing when none served", () => {
    assert.equal(
      servedText(
        last("mock-b/model-b", attempt("mock-a/model-a", "failed", "server"), attempt("mock-b/model-b", "success")),
      ),
      "served by mock-b/model-b",
    );
    assert.equal(servedText(last(undefined, attempt("mock-a/model-a", "aborted"))), undefined);
  });

  it("says cut off or aborted when the served target's answer did not end, not served by", () => {
    assert.equal(
      servedText(last("mock-a/model-a", attempt("mock-a/model-a", "failed-after-commit", "network"))),
      "cut off: the answer from mock-a/model-a broke off after it started (network)",
    );
    assert.equal(
      servedText(
        last("mock-b/model-b", attempt("mock-a/model-a", "failed", "rate_limit"), attempt("mock-b/model-b", "aborted")),
      ),
      "aborted: the answer from mock-b/model-b was stopped after it started",
    );
  });
});

describe("list's availability of a target paced by quota", () => {
  it("says a critical target is excluded, and a stressed one only in hard mode (soft mode demotes it: ready)", () => {
    assert.equal(quotaAvailability("critical", false), "quota critical");
    assert.equal(quotaAvailability("stressed", true), "quota stressed (excluded in hard mode)");
    assert.equal(quotaAvailability("stressed", false), undefined);
    assert.equal(quotaAvailability("ok", true), undefined);
    assert.equal(quotaAvailability(undefined, true), undefined);
  });
});

describe("the config's problems (status and the debug report)", () => {
  const withConfig = (origin: string, unknown: Array<{ key: string; path: string; message: string }>): CommandDeps => ({
    ...fakeDeps(),
    unknownTargets: () => unknown,
    services: {
      config: {
        state: {
          origin,
          file: "/x/auto-router.routes.json",
          config: CONFIG,
          issues: [
            { severity: "warning", path: "routes.r.sortby", message: "unknown key (ignored)", line: 1, column: 17 },
            { severity: "error", path: "", message: "not valid JSON" },
          ],
          locate: (path: string) => (path === "aliases.x" ? { line: 3, column: 9 } : undefined),
        },
      },
    } as unknown as CommandDeps["services"],
  });

  it("gives each issue with its line and column, then every provider/model id pi does not know, where it is", () => {
    const unknown = [
      {
        key: "antropic",
        path: "aliases.x",
        message: "provider 'antropic' is not known to pi; did you mean 'anthropic'?",
      },
      { key: "mock-z", path: "routes.r.targets[1]", message: "provider 'mock-z' is not known to pi" },
    ];
    assert.deepEqual(configIssueLines(withConfig("file", unknown)), [
      "  warning: line 1, column 17 at routes.r.sortby: unknown key (ignored)",
      "  error: not valid JSON",
      "  warning: line 3, column 9 at aliases.x: provider 'antropic' is not known to pi; did you mean 'anthropic'?",
      "  warning: at routes.r.targets[1]: provider 'mock-z' is not known to pi",
    ]);
  });

  it("names the built-in routes' unknown targets as skipped, not as warnings of a file", () => {
    const lines = configIssueLines(withConfig("defaults", [{ key: "antropic/x", path: "routes.r", message: "m" }]));
    assert.equal(lines.at(-1), "  built-in targets this pi does not know (skipped when routing): antropic/x");
  });
});
