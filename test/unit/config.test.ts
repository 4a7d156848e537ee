import assert from "node:assert/strict";
import { readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { getModel } from "@mariozechner/pi-ai";
import { Ajv2020 } from "ajv/dist/2020.js";
import { defaultConfig } from "../../src/config/defaults.ts";
import { routesJsonSchemaText, SCHEMA_FILE_NAME } from "../../src/config/json-schema.ts";
import { parseConfigText } from "../../src/config/parse-config.ts";
import { closestKey } from "../../src/config/key-suggestions.ts";
import { findSilentStrategies } from "../../src/config/silent-strategies.ts";
import { ConfigHolder } from "../../src/runtime/services.ts";
import { configErrorText, describeLoad, describeOrigin, loadConfigFile } from "../../src/state/config-file.ts";
import { REPO_ROOT } from "../helpers/agent-dir.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const parse = (value: unknown) => parseConfigText(JSON.stringify(value));

describe("routes file parsing", () => {
  it("accepts the built-in defaults without any issue", () => {
    const result = parse(defaultConfig());
    assert.deepEqual(result.issues, []);
    assert.ok(result.config);
  });

  it("uses only model ids that exist in pi 0.73.1's catalogue for the built-in routes", () => {
    const expected = [
      "subscription-reasoning",
      "subscription-swe",
      "subscription-long-context",
      "subscription-economy",
      "subscription-fast",
    ];
    const config = defaultConfig();
    assert.deepEqual(Object.keys(config.routes).sort(), [...expected].sort());
    for (const route of Object.values(config.routes)) {
      for (const target of route.targets) {
        assert.ok(
          getModel(target.provider as never, target.modelId as never),
          `${target.provider}/${target.modelId} is in the catalogue`,
        );
      }
    }
  });

  it("takes each built-in slot's first model id the running pi knows, and 0.73.1's when it knows none", () => {
    const newer = new Set(["openai-codex/gpt-6.2-sol", "openai-codex/gpt-6-sol", "deepseek/deepseek-flash"]);
    const swe = defaultConfig((provider, modelId) => newer.has(`${provider}/${modelId}`)).routes["subscription-swe"]!;
    assert.deepEqual(swe.targets[1], {
      provider: "openai-codex",
      modelId: "gpt-6.2-sol",
      label: "GPT-6.2 Sol (Codex)",
    });
    const economy = defaultConfig((provider, modelId) => newer.has(`${provider}/${modelId}`)).routes[
      "subscription-economy"
    ]!;
    assert.deepEqual(
      economy.targets.map((target) => `${target.provider}/${target.modelId}`),
      [
        "openai-codex/gpt-5.4-mini",
        "google/gemini-3-flash-preview",
        "deepseek/deepseek-flash",
        "anthropic/claude-haiku-4-5",
      ],
    );
    const long = defaultConfig().routes["subscription-long-context"]!;
    assert.equal(long.targets[0]!.label, "Claude Sonnet 4.6 (1M)");
  });

  it("loads the earlier public file format unchanged: _comment and _example keys are ignored silently", () => {
    const result = parse({
      _comment: "routes for my subscriptions",
      _comment_2: "second note",
      routes: {
        "subscription-swe": {
          _comment: "coding",
          name: "Coding",
          reasoning: true,
          input: ["text", "image"],
          contextWindow: 200000,
          maxTokens: 32000,
          sortBy: "config",
          targets: [
            {
              provider: "anthropic",
              modelId: "claude-sonnet-4-6",
              label: "Sonnet",
              authProvider: "anthropic",
              billing: "subscription",
            },
            {
              provider: "deepseek",
              modelId: "deepseek-v4-pro",
              billing: "per-token",
              balanceEndpoint: "https://api.deepseek.com/user/balance",
              _example: "x",
            },
          ],
        },
      },
      aliases: { swe: "subscription-swe" },
      logDir: "~/.pi/agent/auto-router",
      _example_rule: { type: "exclude-provider" },
    });
    assert.deepEqual(result.issues, []);
    assert.equal(result.config?.routes["subscription-swe"]?.targets[1]?.billing, "per-token");
  });

  it("reports unknown keys with their path and keeps the rest of the file", () => {
    const result = parse({ routes: { a: { targets: [{ provider: "x", modelId: "y", wieght: 2 }] } }, budgetz: {} });
    assert.ok(result.config);
    assert.deepEqual(
      result.issues.map((i) => [i.severity, i.path]),
      [
        ["warning", "routes.a.targets[0].wieght"],
        ["warning", "budgetz"],
      ],
    );
  });

  it("suggests the known key closest to a misspelt one, read from the schema at the key's place", () => {
    const result = parse({
      routes: {
        a: {
          sortby: "cost",
          targets: [{ provider: "x", modelId: "y", lable: "q" }],
          policyRules: [{ type: "exclude-provider", providers: ["x"], priorty: 1 }],
        },
      },
      failover: { kinds: { rate_limit: { cooldownMS: 1 } } },
      zzz: 1,
    });
    assert.deepEqual(
      result.issues.map((i) => [i.path, i.message.replace(/^unknown key \(ignored\); /, "")]).slice(0, 4),
      [
        ["routes.a.targets[0].lable", 'did you mean "label"?'],
        ["routes.a.policyRules[0].priorty", 'did you mean "priority"?'],
        ["routes.a.sortby", 'did you mean "sortBy"?'],
        ["failover.kinds.rate_limit.cooldownMS", 'did you mean "cooldownMs"?'],
      ],
    );
    // Nothing close: the keys known at that place.
    assert.match(result.issues[4]!.message, /known here: \$schema, version, defaultRoute, routes, /);
    assert.deepEqual([closestKey("zzz", ["routes", "tiers"]), closestKey("wieght", ["weight"])], [undefined, "weight"]);
    assert.deepEqual(closestKey("ab", ["abc", "xy"]), "abc");
  });

  it("warns about a gateway.models mapping to a route that is not there, with the route meant", () => {
    const result = parse({
      routes: { main: { targets: [{ provider: "x", modelId: "y" }] } },
      aliases: { quick: "main" },
      gateway: { models: { a: "auto-router/mian", b: "auto-router/main", c: "quick", d: "x/y", e: "nothing-like-it" } },
    });
    assert.deepEqual(
      result.issues.map((i) => [i.path, i.message]),
      [
        ["gateway.models.a", '"auto-router/mian" is not a route or alias; did you mean "auto-router/main"?'],
        ["gateway.models.e", '"nothing-like-it" is not a route or alias (routes: main)'],
      ],
    );
  });

  it("warns about a gateway.models name that is also a route or an alias, which the mapping hides", () => {
    const result = parse({
      routes: {
        chat: { targets: [{ provider: "x", modelId: "y" }] },
        embed: { targets: [{ provider: "x", modelId: "e" }] },
      },
      aliases: { quick: "chat" },
      gateway: {
        models: { chat: "auto-router/embed", quick: "embed", embed: "auto-router/embed", "auto-router/chat": "chat" },
      },
    });
    assert.deepEqual(
      result.issues.map((i) => [i.path, i.message]),
      [
        [
          "gateway.models.chat",
          '"chat" is also the route auto-router/chat, which gateway clients can no longer reach by that name: they get "auto-router/embed" instead (map another name, or remove this entry)',
        ],
        [
          "gateway.models.quick",
          '"quick" is also the alias "quick", which gateway clients can no longer reach by that name: they get "embed" instead (map another name, or remove this entry)',
        ],
      ],
    );
  });

  it("warns about a daily budget above the monthly one, which can never block", () => {
    const result = parse({
      routes: { a: { targets: [{ provider: "x", modelId: "y" }] } },
      budgets: { providers: { x: { daily: 50, monthly: 30 }, y: { daily: 5, monthly: 30 } } },
    });
    assert.ok(result.config);
    assert.deepEqual(
      result.issues.map((i) => [i.severity, i.path, i.message]),
      [
        [
          "warning",
          "budgets.providers.x.daily",
          "$50.00 a day is more than the monthly limit of $30.00, so it never blocks anything (a typo of one of them?)",
        ],
      ],
    );
  });

  it("says when a // or /* */ comment is what makes the file invalid JSON, wherever it is", () => {
    const note = '(comments are not allowed in this JSON file; write a note as a "_comment" key)';
    const cases: Array<[string, [number, number]]> = [
      // The README's example as it once was: a comment after an array element.
      ['{"routes": {"a": {"targets": [\n  {"provider": "x", "modelId": "y"}   // from models.json\n]}}}', [2, 39]],
      ['// my routes\n{"routes": {}}', [1, 1]],
      ['{\n  /* old */ "routes": {}}', [2, 3]],
      ['{"routes": {}}\n// the end', [2, 1]],
    ];
    for (const [text, [line, column]] of cases) {
      const [issue] = parseConfigText(text).issues;
      assert.deepEqual([issue!.line, issue!.column], [line, column], text);
      assert.ok(issue!.message.startsWith("not valid JSON: "), issue!.message);
      assert.ok(issue!.message.endsWith(note), issue!.message);
      // The position V8 gives is in the line and column, not repeated in the message.
      assert.doesNotMatch(issue!.message, /at position/);
    }
    // "//" inside a string is no comment.
    assert.doesNotMatch(parseConfigText('{"routes": {"a": "http://x", }}').issues[0]!.message, /comment/);
  });

  it("rejects eventLog.keepFiles below 1, naming the path and what is expected", () => {
    const result = parseConfigText(
      '{"routes": {"a": {"targets": [{"provider": "x", "modelId": "y"}]}},\n "eventLog": {"keepFiles": 0}}',
    );
    assert.equal(result.config, undefined);
    assert.deepEqual(
      result.issues.map((issue) => [issue.severity, issue.path, issue.line, issue.column, issue.message]),
      [
        [
          "error",
          "eventLog.keepFiles",
          2,
          28,
          "expected at least 1: how many rotated files are kept (set `enabled: false` for no event log)",
        ],
      ],
    );
    assert.ok(
      parse({ routes: { a: { targets: [{ provider: "x", modelId: "y" }] } }, eventLog: { keepFiles: 1 } }).config,
    );
  });

  it("takes a balance floor in USD or with its currency, and names the path and a currency code's likely spelling", () => {
    const route = { targets: [{ provider: "deepseek", modelId: "y" }] };
    const floor = (balanceFloor: unknown) =>
      parse({ routes: { a: route }, budgets: { providers: { deepseek: { balanceFloor } } } });
    assert.deepEqual(
      [5, "$2.50", "30 CNY", "30cny"].map((value) => floor(value).config?.budgets?.providers?.deepseek?.balanceFloor),
      [5, "$2.50", "30 CNY", "30cny"],
    );
    const path = "budgets.providers.deepseek.balanceFloor";
    const errors = (value: unknown) =>
      floor(value)
        .issues.filter((issue) => issue.severity === "error")
        .map((issue) => [issue.path, issue.message]);
    assert.deepEqual(errors("30 CYN"), [
      [path, '"CYN" is not a currency code (ISO 4217, such as USD or CNY); did you mean "CNY"?'],
    ]);
    assert.deepEqual(errors("$30 CNY"), [[path, '"$30 CNY" is not an amount: "$" is for USD; write "30 CNY"']]);
    assert.deepEqual(errors("thirty"), [
      [
        path,
        '"thirty" is not an amount: expected an amount of 0 or more in USD (5 or $2.50) or with its currency ("30 CNY")',
      ],
    ]);
    assert.deepEqual(errors(-1), [
      [path, 'expected an amount of 0 or more in USD (5 or $2.50) or with its currency ("30 CNY")'],
    ]);
  });

  it("takes only http(s) URLs without credentials in them for the balance and usage APIs", () => {
    const route = (balanceEndpoint: string) => ({
      targets: [{ provider: "openrouter", modelId: "m", balanceEndpoint }],
    });
    const issues = (config: unknown) => parse(config).issues.map((issue) => [issue.path, issue.message]);
    assert.deepEqual(issues({ routes: { a: route("https://openrouter.ai/api/v1/credits") } }), []);
    assert.deepEqual(issues({ routes: { a: route("openrouter.ai/api/v1/credits") } }), [
      [
        "routes.a.targets[0].balanceEndpoint",
        'expected an http:// or https:// URL, got "openrouter.ai/api/v1/credits"',
      ],
    ]);
    assert.deepEqual(
      issues({
        routes: { a: route("https://me:hunter2@proxy.example/credits") },
        uvi: { endpoints: { codex: "ftp://x" } },
      }),
      [
        [
          "routes.a.targets[0].balanceEndpoint",
          "a URL with a user name or password in it: the request carries the provider's own credentials, and the URL is shown in status and logs; remove the part before @",
        ],
        ["uvi.endpoints.codex", 'expected an http:// or https:// URL, got "ftp://x"'],
      ],
    );
  });

  it("says which text was written where a number is expected, and the number to write", () => {
    const route = { targets: [{ provider: "x", modelId: "y" }] };
    const result = parse({ routes: { a: route }, budgets: { providers: { x: { daily: "$5", monthly: "20 EUR" } } } });
    assert.deepEqual(
      result.issues.map((issue) => [issue.path, issue.message]),
      [
        ["budgets.providers.x.daily", 'expected a number, got the text "$5": write 5, without quotes'],
        ["budgets.providers.x.monthly", 'expected a number, got the text "20 EUR"'],
      ],
    );
  });

  it("names a value of the wrong shape in plain words, without quoting it (a header's value may be a credential)", () => {
    const target = { provider: "x", modelId: "y" };
    const result = parse({
      routes: {
        a: { targets: [{ ...target, provider: 5 }] },
        b: { targets: "x/y" },
        c: { targets: [{ ...target, headers: { "x-auth-token": 1234567890123 } }], reasoning: "yes" },
      },
      aliases: [],
      gateway: { models: { m: null } },
    });
    assert.deepEqual(
      result.issues.map((issue) => [issue.path, issue.message]),
      [
        ["routes.a.targets[0].provider", "expected a string, got a number"],
        ["routes.b.targets", "expected an array, got a string"],
        ["routes.c.reasoning", "expected true or false, got a string"],
        ["routes.c.targets[0].headers.x-auth-token", "expected a string, got a number"],
        ["aliases", "expected an object, got an array"],
        ["gateway.models.m", "expected a string, got null"],
      ],
    );
    assert.equal(result.config, undefined, "a wrong type is an error: the file is not used");
  });

  it("says a number out of range or with decimals in words, with what was written, not in zod's", () => {
    const route = { targets: [{ provider: "x", modelId: "y" }] };
    const eventLog = (value: unknown) =>
      parse({ routes: { a: route }, eventLog: { maxBytes: value } }).issues.map((issue) => [issue.path, issue.message]);
    assert.deepEqual(eventLog(0), [["eventLog.maxBytes", "expected a number above 0, got 0"]]);
    assert.deepEqual(eventLog(1.5), [["eventLog.maxBytes", "expected a whole number, got 1.5"]]);
    // Beyond a whole number's safe range (zod: "Too big: expected int to be <=9007199254740991").
    assert.deepEqual(eventLog(1e300), [
      ["eventLog.maxBytes", "expected a whole number of at most 9007199254740991, got 1e+300"],
    ]);
  });

  it("refuses a gateway or route timeout longer than Node's longest timer, which would fire at once", () => {
    const route = { targets: [{ provider: "x", modelId: "y" }] };
    const names = ["headersTimeoutMs", "idleTimeoutMs", "keepAliveMs", "drainTimeoutMs"];
    const result = parse({ routes: { a: route }, gateway: Object.fromEntries(names.map((name) => [name, 3e9])) });
    assert.deepEqual(
      result.issues.map((issue) => [issue.severity, issue.path, issue.message]),
      names.map((name) => [
        "error",
        `gateway.${name}`,
        "expected a number of at most 2147483647 (ms, about 24.8 days: the longest timer Node keeps), got 3000000000",
      ]),
    );
    const timeouts = parse({
      routes: { a: { ...route, timeouts: { requestMs: 3e9 } } },
      failover: { cooldownWaitMs: 3e9 },
      breaker: { breakMs: 3e9, maxBreakMs: 3e9 },
    });
    assert.deepEqual(
      timeouts.issues.map((issue) => [issue.severity, issue.path, issue.message]),
      ["routes.a.timeouts.requestMs", "failover.cooldownWaitMs", "breaker.breakMs", "breaker.maxBreakMs"].map(
        (path) => [
          "error",
          path,
          "expected a number of at most 2147483647 (ms, about 24.8 days: the longest timer Node keeps), got 3000000000",
        ],
      ),
    );
    const longest = parse({
      routes: { a: route },
      // keepAliveMs one below: at idleTimeoutMs itself it is warned about (it would come too late).
      gateway: { ...Object.fromEntries(names.map((name) => [name, 2_147_483_647])), keepAliveMs: 2_147_483_646 },
    });
    assert.deepEqual(longest.issues, []);
  });

  it("warns when the gateway's keep-alive is not sent before its idle timeout would close a silent stream", () => {
    const route = { targets: [{ provider: "x", modelId: "y" }] };
    const issues = (gateway: object) =>
      parse({ routes: { a: route }, gateway }).issues.map((issue) => [issue.severity, issue.path, issue.message]);
    assert.deepEqual(issues({ idleTimeoutMs: 10_000 }), [
      [
        "warning",
        "gateway.idleTimeoutMs",
        "keepAliveMs (15000, the default) is not below idleTimeoutMs (10000): a streamed answer silent for 10000 ms (a model thinking) is closed as idle before its keep-alive is sent; set keepAliveMs below idleTimeoutMs",
      ],
    ]);
    assert.deepEqual(issues({ keepAliveMs: 120_000 }), [
      [
        "warning",
        "gateway.keepAliveMs",
        "keepAliveMs (120000) is not below idleTimeoutMs (120000, the default): a streamed answer silent for 120000 ms (a model thinking) is closed as idle before its keep-alive is sent; set keepAliveMs below idleTimeoutMs",
      ],
    ]);
    assert.deepEqual(issues({ idleTimeoutMs: 10_000, keepAliveMs: 5_000 }), []);
    assert.deepEqual(issues({ idleTimeoutMs: 10_000, keepAliveMs: 0 }), [], "keep-alives turned off on purpose");
    assert.ok(parse({ routes: { a: route }, gateway: { idleTimeoutMs: 1_000 } }).config, "a warning: the file is used");
  });

  it("rejects a unit price that is no number of 0 or more, naming the path and what is expected", () => {
    const route = { targets: [{ provider: "x", modelId: "y" }] };
    const priced = (unitPrices: unknown) => parse({ routes: { a: route }, providers: { cohere: { unitPrices } } });
    assert.deepEqual(
      [priced({ search_units: -1 }), priced({ search_units: "0.002" })].map((result) =>
        result.issues.map((issue) => [issue.severity, issue.path, issue.message]),
      ),
      [
        [["error", "providers.cohere.unitPrices.search_units", "expected a price of 0 or more: USD per unit"]],
        [
          [
            "error",
            "providers.cohere.unitPrices.search_units",
            'expected a number, got the text "0.002": write 0.002, without quotes',
          ],
        ],
      ],
    );
    assert.deepEqual(priced({ search_units: 0.002 }).config?.providers, {
      cohere: { unitPrices: { search_units: 0.002 } },
    });
  });

  it("accepts route ids with capital letters, as pi's /model auto-router/<id> does", () => {
    const result = parse({
      routes: { MyRoute: { targets: [{ provider: "x", modelId: "y" }] } },
    });
    assert.deepEqual(result.issues, []);
    assert.deepEqual(Object.keys(result.config!.routes), ["MyRoute"]);
  });

  it("warns about an alias naming auto-router/<route> for a route that is not there", () => {
    const result = parse({
      routes: { main: { targets: [{ provider: "x", modelId: "y" }] } },
      aliases: { a: "auto-router/mian", b: ["auto-router/main", "x/y"], c: "mian" },
    });
    assert.deepEqual(
      result.issues.map((issue) => [issue.path, issue.message]),
      [
        ["aliases.a", '"auto-router/mian" is not a route; did you mean "auto-router/main"?'],
        ["aliases.c", '"mian" is neither a route id nor provider/model; did you mean "main"?'],
      ],
    );
  });

  it("says a required key is missing, where the object that should hold it is, not zod's 'received undefined'", () => {
    const issues = (text: string) =>
      parseConfigText(text).issues.map((issue) => [issue.path, issue.line, issue.column, issue.message]);
    assert.deepEqual(issues('{"route": {}}'), [
      ["route", 1, 2, 'unknown key (ignored); did you mean "routes"?'],
      ["routes", 1, 1, "missing: this key is required (an object)"],
    ]);
    assert.deepEqual(issues('{"routes": {"a": {"targets": [\n  {"provider": "x", "modelID": "y"}]}}}'), [
      ["routes.a.targets[0].modelID", 2, 21, 'unknown key (ignored); did you mean "modelId"?'],
      ["routes.a.targets[0].modelId", 2, 3, "missing: this key is required (a string)"],
    ]);
  });

  it("puts the built-in routes under a file of settings alone, its own aliases and tiers over theirs", () => {
    const builtIn = defaultConfig();
    const settings = parseConfigText(
      JSON.stringify({
        budgets: { providers: { anthropic: { daily: 5 } } },
        aliases: { fast: "subscription-economy", mine: "anthropic/claude-sonnet-4-5" },
      }),
    );
    assert.deepEqual(settings.issues, []);
    assert.equal(settings.builtInRoutes, true);
    assert.deepEqual({ ...settings.config?.routes }, builtIn.routes);
    assert.deepEqual({ ...settings.config?.tiers }, builtIn.tiers);
    assert.deepEqual(settings.config?.budgets, { providers: { anthropic: { daily: 5 } } });
    // Records of names own only their keys (no prototype): compared as plain objects.
    assert.deepEqual(
      { ...settings.config?.aliases },
      {
        ...builtIn.aliases,
        fast: "subscription-economy",
        mine: "anthropic/claude-sonnet-4-5",
      },
    );
    // The file's tier wins over the built-in one of its name; `{}` is the built-in routes with nothing added.
    const tiers = parseConfigText('{"tiers": {"fast": {"route": "subscription-economy"}}}').config?.tiers;
    assert.deepEqual({ ...tiers }, { ...builtIn.tiers, fast: { route: "subscription-economy" } });
    assert.deepEqual({ ...parseConfigText("{}").config?.routes }, builtIn.routes);
    // A file with its own routes is not one of them, nor a file whose aliases are of the wrong type (still refused).
    assert.equal(parse({ routes: { a: { targets: [{ provider: "x", modelId: "y" }] } } }).builtInRoutes, undefined);
    const wrong = parseConfigText('{"aliases": "fast"}');
    assert.equal(wrong.config, undefined);
    assert.deepEqual(
      wrong.issues.map((issue) => issue.path),
      ["aliases"],
    );
  });

  it("names the accepted values and the closest one for a value outside a fixed set, in unions too", () => {
    const route = { targets: [{ provider: "x", modelId: "y" }] };
    const errors = (value: Record<string, unknown>) =>
      parse({ routes: { a: route }, ...value }).issues.filter((issue) => issue.severity === "error");
    const reserve = errors({ quota: { reserve: { "claude-sub": { percent: 10, for: ["interactiv"] } } } });
    assert.deepEqual(
      reserve.map((issue) => [issue.path, issue.message]),
      [
        [
          "quota.reserve.claude-sub.for[0]",
          'expected one of "reasoning", "swe", "long", "vision", "fast", "interactive", got "interactiv"; did you mean "interactive"?',
        ],
      ],
    );
    // The value written is quoted, redacted: a key pasted into the wrong field stays out of the message.
    const pasted = errors({ routes: { a: { ...route, sortBy: "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789" } } });
    assert.match(pasted[0]!.message, /got "\[REDACTED\]"$/);
    const sortBy = errors({ routes: { a: { ...route, sortBy: "confg" } } });
    assert.match(sortBy[0]!.message, /^expected one of "auto", .*, got "confg"; did you mean "config"\?$/);
    // A tier condition takes one tier or a list: a typo inside the list is reported at its place in the list.
    const tiers = errors({ policyRules: [{ type: "force-tier", tier: "swe", when: { tier: ["swe", "fsat"] } }] });
    assert.deepEqual(
      tiers.map((issue) => [issue.path, /did you mean "fast"\?$/.test(issue.message)]),
      [["policyRules[0].when.tier[1]", true]],
    );
    const alias = errors({ aliases: { quick: 5 } });
    assert.deepEqual(
      alias.map((issue) => [issue.path, issue.message]),
      [["aliases.quick", "expected string or array, got number"]],
    );
  });

  it("warns of a uvi.ttlMs below a second, read as milliseconds (5 meant as minutes polls every second)", () => {
    const route = { targets: [{ provider: "x", modelId: "y" }] };
    const said = (ttlMs: number) =>
      parse({ routes: { a: route }, uvi: { ttlMs } }).issues.map(
        (issue) => `${issue.severity} ${issue.path}: ${issue.message}`,
      );
    assert.deepEqual(said(5), [
      "warning uvi.ttlMs: 5 is milliseconds: the usage APIs would be read every second (the shortest interval); the default is 300000 (5 minutes)",
    ]);
    assert.deepEqual(said(1_000), []);
  });

  it("rejects thresholds and break durations that contradict each other, naming the rule and the other value", () => {
    const route = { targets: [{ provider: "x", modelId: "y" }] };
    const errors = (value: Record<string, unknown>) =>
      parse({ routes: { a: route }, ...value })
        .issues.filter((issue) => issue.severity === "error")
        .map((issue) => `${issue.path}: ${issue.message}`);
    assert.deepEqual(errors({ uvi: { thresholds: { stressed: 3, critical: 2 } } }), [
      "uvi.thresholds.stressed: must be below critical (2), got 3",
    ]);
    assert.deepEqual(errors({ uvi: { thresholds: { stressed: 2.5 } } }), [
      "uvi.thresholds.stressed: must be below critical (2, the default), got 2.5",
    ]);
    assert.deepEqual(errors({ uvi: { thresholds: { critical: 1.2 } } }), [
      "uvi.thresholds.critical: must be above stressed (1.5, the default), got 1.2",
    ]);
    assert.deepEqual(errors({ uvi: { thresholds: { surplus: 1.6, stressed: 1.5 } } }), [
      "uvi.thresholds.surplus: must be at most stressed (1.5), got 1.6",
    ]);
    assert.deepEqual(errors({ breaker: { breakMs: 900_000, maxBreakMs: 60_000 } }), [
      "breaker.breakMs: must be at most maxBreakMs (60000), got 900000",
    ]);
    assert.deepEqual(errors({ uvi: { thresholds: { stressed: 1.2, critical: 3 } }, breaker: { breakMs: 60_000 } }), []);
  });

  it("rejects a provider both in only and ignore, a rule whose minTokens is above its maxTokens, and an empty providers list", () => {
    const targets = [{ provider: "x", modelId: "y" }];
    const errors = (value: Record<string, unknown>) =>
      parse(value)
        .issues.filter((issue) => issue.severity === "error")
        .map((issue) => `${issue.path}: ${issue.message}`);
    assert.deepEqual(
      errors({
        preferences: { only: ["x", "z"], ignore: ["Z"] },
        routes: { a: { targets, preferences: { only: ["x"], ignore: ["x"] } } },
      }),
      [
        'preferences.ignore[0]: "Z" is in `only` too: a provider both required and ignored never serves',
        'routes.a.preferences.ignore[0]: "x" is in `only` too: a provider both required and ignored never serves',
      ],
    );
    // Preferences name providers: a provider/model there matches none (an ignored model would serve), and an empty
    // `only` leaves every target out.
    assert.deepEqual(errors({ routes: { a: { targets, preferences: { ignore: ["x/y"], only: [] } } } }), [
      'routes.a.preferences.only: expected at least one provider (an empty "only" leaves every target out; leave it out to allow all)',
      'routes.a.preferences.ignore[0]: expected a provider name, not provider/model (preferences name providers), got "x/y"',
    ]);
    // A blank name matches no provider, and an empty `order` ranks none (with allowFallbacks false it leaves all out).
    assert.deepEqual(errors({ preferences: { order: [], ignore: [" "] }, routes: { a: { targets } } }), [
      'preferences.order: expected at least one provider (an empty "order" ranks none; leave it out to keep the route\'s order)',
      "preferences.ignore[0]: expected a provider name, got a blank string",
    ]);
    // The same provider/model twice in a route; an alias that takes a route's name (one naming that route is fine).
    const twice = { provider: "x", modelId: "m" };
    assert.deepEqual(
      parse({
        routes: { a: { targets: [twice, { provider: "y", modelId: "m" }, twice] }, b: { targets } },
        aliases: { b: "a", a: "auto-router/a" },
      }).issues.map((issue) => `${issue.path}: ${issue.message}`),
      [
        'routes.a.targets[2]: "x/m" is also targets[0]: a route\'s targets are told apart by provider/model, so the two share one cooldown, breaker and place in explain, and a request tries them once; remove one',
        'aliases.b: "b" is also a route id: the name "b" (in /auto-router switch, show and resolve, and as a gateway model) means this alias, so route b is reachable only as auto-router/b; rename the alias',
      ],
    );
    // A prefer-provider rule on a route whose declared order stands does nothing.
    assert.deepEqual(
      parse({
        routes: { a: { sortBy: "config", targets, policyRules: [{ type: "prefer-provider", providers: ["x"] }] } },
      }).issues.map((issue) => `${issue.path}: ${issue.message}`),
      [
        'routes.a.policyRules[0]: a prefer-provider rule does nothing on a route with sortBy "config", whose declared order stands: list the provider\'s targets first, or drop sortBy "config"',
      ],
    );
    // Spaces around a name are not part of it (kept, " x" would match no provider and an ignore of it do nothing).
    const spaced = parse({
      preferences: { ignore: [" x "] },
      routes: { a: { targets, preferences: { only: ["z\t"] } } },
    });
    assert.deepEqual(spaced.config?.preferences?.ignore, ["x"]);
    assert.deepEqual(spaced.config?.routes.a?.preferences?.only, ["z"]);
    const rule = (when: Record<string, unknown>) => ({ type: "exclude-provider", providers: ["x"], when });
    assert.deepEqual(
      errors({
        routes: {
          a: {
            targets,
            policyRules: [rule({ minTokens: 5_000, maxTokens: 100 }), rule({ any: [{ minTokens: 9, maxTokens: 8 }] })],
          },
        },
      }),
      [
        "routes.a.policyRules[0].when.minTokens: must be at most maxTokens (100), got 5000: the rule could never apply",
        "routes.a.policyRules[1].when.any[0].minTokens: must be at most maxTokens (8), got 9: the rule could never apply",
      ],
    );
    // A condition the request does not decide: `not` of an empty one never matches (an error, as above), an empty
    // `any` or `all` asks for nothing and always does (a warning: the file still serves).
    assert.deepEqual(
      errors({
        routes: {
          a: {
            targets,
            policyRules: [
              rule({ not: {} }),
              rule({ intent: "code", all: [{ tier: "fast" }, { not: { any: [] } }] }),
              rule({ any: [{ not: {} }, { not: { all: [] } }] }),
              rule({ not: { not: {} } }),
              rule({ any: [{ not: {} }, { intent: "code" }] }),
              rule({ not: { minRatings: 3 } }),
            ],
          },
        },
      }),
      [
        "routes.a.policyRules[0].when: never matches: routes.a.policyRules[0].when.not holds a condition every request matches (routes.a.policyRules[0].when.not is empty); the rule could never apply",
        "routes.a.policyRules[1].when: never matches: routes.a.policyRules[1].when.all[1].not holds a condition every request matches (routes.a.policyRules[1].when.all[1].not.any is empty, which asks for nothing); the rule could never apply",
        "routes.a.policyRules[2].when: never matches: no condition in routes.a.policyRules[2].when.any can match (routes.a.policyRules[2].when.any[0].not holds a condition every request matches (routes.a.policyRules[2].when.any[0].not is empty)); the rule could never apply",
      ],
    );
    const always = parse({
      routes: {
        a: {
          targets,
          policyRules: [
            rule({ any: [] }),
            rule({}),
            rule({ all: [{ intent: "code" }, { any: [] }] }),
            rule({ all: [] }),
          ],
        },
      },
    });
    assert.ok(always.config, "the file still loads");
    assert.deepEqual(
      always.issues.map((issue) => `${issue.severity} ${issue.path}: ${issue.message}`),
      [
        "warning routes.a.policyRules[0].when: matches every request: routes.a.policyRules[0].when.any is empty, which asks for nothing; the rule always applies (leave `when` out to say so)",
        "warning routes.a.policyRules[3].when: matches every request: routes.a.policyRules[3].when.all is empty; the rule always applies (leave `when` out to say so)",
      ],
    );
    assert.deepEqual(
      errors({ routes: { a: { targets, policyRules: [{ type: "require-provider", providers: [] }] } } }),
      [
        "routes.a.policyRules[0].providers: a require-provider rule needs at least one of `providers`: with none it leaves no target",
      ],
    );
    // One that would do nothing is a warning: the rest of the file still serves.
    const noop = parse({ routes: { a: { targets, policyRules: [{ type: "exclude-provider", providers: [] }] } } });
    assert.ok(noop.config, "the file still loads");
    assert.deepEqual(
      noop.issues.map((issue) => `${issue.severity} ${issue.path}: ${issue.message}`),
      [
        "warning routes.a.policyRules[0].providers: an exclude-provider rule needs at least one of `providers`: with none it does nothing",
      ],
    );
    assert.deepEqual(
      errors({
        preferences: { only: ["x"], ignore: ["z"] },
        routes: { a: { targets, policyRules: [rule({ minTokens: 100, maxTokens: 100 })] } },
      }),
      [],
    );
    const lone = parse({
      routes: {
        a: {
          targets,
          policyRules: [
            {
              type: "demote-target",
              when: { any: [{ minRatings: 3 }, { ratingMaxAgeDays: 30 }, { ratingHalfLifeDays: 14 }] },
            },
          ],
        },
      },
    });
    assert.deepEqual(
      lone.issues.map((issue) => `${issue.severity} ${issue.path}: ${issue.message}`),
      [
        "warning routes.a.policyRules[0].when.any[0].minRatings: does nothing without `badRatingShareAbove` beside it (the ratings a bad-rating share needs)",
        "warning routes.a.policyRules[0].when.any[1].ratingMaxAgeDays: does nothing without `badRatingShareAbove` beside it (how old a rating that share counts may be)",
        "warning routes.a.policyRules[0].when.any[2].ratingHalfLifeDays: does nothing without `badRatingShareAbove` beside it (how fast a rating's weight in that share fades)",
      ],
    );
    // A field another rule type reads does nothing here: a warning naming the types that read it.
    const stray = parse({
      routes: {
        a: {
          targets,
          policyRules: [
            { type: "exclude-provider", providers: ["x"], tier: "fast" },
            { type: "force-tier", tier: "swe", providers: ["x"], billing: "subscription" },
            { type: "demote-target", targets: ["x/m"] },
          ],
        },
      },
    });
    assert.ok(stray.config, "the file still loads");
    assert.deepEqual(
      stray.issues.map((issue) => `${issue.severity} ${issue.path}: ${issue.message}`),
      [
        "warning routes.a.policyRules[0].tier: does nothing on an exclude-provider rule (it is read by force-tier rules); to apply the rule on a tier only, write `when: { tier: ... }`",
        "warning routes.a.policyRules[1].providers: does nothing on a force-tier rule (it is read by prefer-provider, exclude-provider, require-provider rules)",
        "warning routes.a.policyRules[1].billing: does nothing on a force-tier rule (it is read by force-billing rules)",
      ],
    );
  });

  it("warns that failover.holdoffMs does nothing where revert is not holdoff", () => {
    const targets = [{ provider: "x", modelId: "y" }];
    const lines = (value: unknown) =>
      parse(value).issues.map((issue) => `${issue.severity} ${issue.path}: ${issue.message}`);
    assert.deepEqual(
      lines({
        failover: { holdoffMs: 60_000 },
        routes: { a: { targets, failover: { revert: "never", holdoffMs: 1000 } }, b: { targets } },
      }),
      [
        'warning routes.a.failover.holdoffMs: does nothing without `revert: "holdoff"` (revert is never: there is no hold to time)',
        'warning failover.holdoffMs: does nothing without `revert: "holdoff"` (revert is cooldown-expiry, the default: there is no hold to time)',
      ],
    );
    assert.deepEqual(
      lines({
        failover: { holdoffMs: 60_000 },
        routes: { a: { targets, failover: { revert: "holdoff", holdoffMs: 1000 } } },
      }),
      ['warning failover.holdoffMs: does nothing: every route with `revert: "holdoff"` sets its own holdoffMs'],
    );
    // Read: a route inherits the top-level holdoff, or a holdoff route inherits the top-level holdoffMs.
    assert.deepEqual(lines({ failover: { revert: "holdoff", holdoffMs: 60_000 }, routes: { a: { targets } } }), []);
    assert.deepEqual(
      lines({ failover: { holdoffMs: 60_000 }, routes: { a: { targets, failover: { revert: "holdoff" } } } }),
      [],
    );
  });

  it("says when a route has no targets", () => {
    const result = parse({ routes: { a: { targets: [] } } });
    assert.equal(result.config, undefined);
    assert.equal(result.issues[0]?.path, "routes.a.targets");
  });

  it("migrates daysOfWeek written at rule level into the rule's condition, with a warning", () => {
    const result = parse({
      routes: {
        a: {
          targets: [{ provider: "x", modelId: "y" }],
          policyRules: [{ type: "exclude-provider", providers: ["x"], daysOfWeek: ["sat", "sun"] }],
        },
      },
    });
    assert.deepEqual(result.config?.routes.a?.policyRules?.[0]?.when, { daysOfWeek: ["sat", "sun"] });
    assert.equal(result.issues[0]?.severity, "warning");
    assert.equal(result.issues[0]?.path, "routes.a.policyRules[0].daysOfWeek");
  });

  it("loads the earlier implementation's list aliases and its policy rules, migrating the rules with warnings", () => {
    const result = parse({
      routes: { "subscription-premium": { targets: [{ provider: "x", modelId: "y", label: "Y" }] } },
      aliases: { premium: ["auto-router/subscription-premium"], claude: ["x/opus-4-6", "x/opus-4-5"], y: "x/y" },
      policyRules: [
        {
          name: "weekend-nights-no-x",
          priority: 10,
          type: "exclude-provider",
          provider: "x",
          condition: { afterTime: "22:00", beforeTime: "6:00", daysOfWeek: [0, 6], estimatedTokensMin: 1000 },
        },
        { name: "cheap-evenings", priority: 5, type: "force-tier", tier: "economy", condition: { afterTime: "18:00" } },
        { name: "both", priority: 1, type: "prefer-provider", provider: ["x", "z"], condition: { intent: "code" } },
      ],
    });
    assert.ok(result.config, JSON.stringify(result.issues));
    assert.deepEqual(
      result.issues.filter((issue) => issue.severity === "error"),
      [],
    );
    assert.deepEqual(
      { ...result.config.aliases },
      {
        premium: ["auto-router/subscription-premium"],
        claude: ["x/opus-4-6", "x/opus-4-5"],
        y: "x/y",
      },
    );
    const [nights, evenings, both] = result.config.policyRules!;
    assert.deepEqual(nights!.providers, ["x"]);
    assert.deepEqual(nights!.when, {
      minTokens: 1000,
      timeWindow: { after: "22:00", before: "06:00" },
      daysOfWeek: ["sun", "sat"],
    });
    assert.equal(evenings!.tier, "fast");
    assert.deepEqual(evenings!.when, { timeWindow: { after: "18:00", before: "00:00" } });
    assert.deepEqual(both!.providers, ["x", "z"]);
    // Nothing the earlier file said is dropped: each change is a warning naming where it was, in the order of the
    // rule's fields in the file (`provider` is written before `condition`, `tier` too).
    assert.deepEqual(
      result.issues.map((issue) => issue.path),
      [
        "policyRules[0].provider",
        "policyRules[0].condition",
        "policyRules[0].condition.estimatedTokensMin",
        "policyRules[0].condition",
        "policyRules[0].condition.daysOfWeek",
        "policyRules[1].tier",
        "policyRules[1].condition",
        "policyRules[1].condition",
        "policyRules[2].provider",
        "policyRules[2].condition",
      ],
    );
  });

  it("migrates the earlier router's time bounds as it read them: a window of no length never matches, 00:00 alone is all day", () => {
    const rule = (condition: Record<string, string>) =>
      parse({
        routes: { mine: { targets: ["x/y"] } },
        policyRules: [{ name: "r", type: "exclude-provider", provider: "x", condition }],
      });
    const warnings = (result: ReturnType<typeof parse>) =>
      result.issues.filter((issue) => issue.severity === "warning").map((issue) => [issue.path, issue.message]);
    const noLength =
      "a window of no length, so this rule never applies; the earlier router never applied it either (give the window a length, or remove the rule)";
    const equal = rule({ afterTime: "07:00", beforeTime: "7:00" });
    assert.deepEqual(equal.config!.policyRules![0]!.when, { timeWindow: { after: "07:00", before: "07:00" } });
    assert.deepEqual(warnings(equal).at(-1), [
      "policyRules[0].condition",
      `afterTime equals beforeTime (07:00): ${noLength}`,
    ]);
    const midnight = rule({ beforeTime: "00:00" });
    assert.deepEqual(midnight.config!.policyRules![0]!.when, { timeWindow: { after: "00:00", before: "00:00" } });
    assert.deepEqual(warnings(midnight).at(-1), [
      "policyRules[0].condition",
      `beforeTime 00:00 alone: from midnight to midnight, ${noLength}`,
    ]);
    const allDay = rule({ afterTime: "0:00" });
    assert.deepEqual(allDay.config!.policyRules![0]!.when, {});
    assert.deepEqual(warnings(allDay).at(-1), [
      "policyRules[0].condition.afterTime",
      "afterTime 00:00 alone is the whole day, as the earlier router read it: no time window (the rule applies at any time)",
    ]);
    // Today's format: warned the same way, in its own words, wherever the window is in the condition.
    const current = parse({
      routes: { mine: { targets: [{ provider: "x", modelId: "y" }] } },
      policyRules: [
        {
          id: "r",
          type: "exclude-provider",
          providers: ["x"],
          when: { timeWindow: { after: "22:00", before: "22:00" } },
        },
        {
          id: "s",
          type: "exclude-provider",
          providers: ["x"],
          when: { not: { timeWindow: { after: "01:00", before: "01:00" } } },
        },
      ],
    });
    assert.deepEqual(warnings(current), [
      [
        "policyRules[0].when.timeWindow",
        "after equals before (22:00): a window of no length, so this rule never applies (give the window a length; for a rule that applies all day, remove the timeWindow)",
      ],
      [
        "policyRules[1].when.not.timeWindow",
        "after equals before (01:00): a window of no length, which matches no time (give the window a length; for a rule that applies all day, remove the timeWindow)",
      ],
    ]);
  });

  it("names a problem in a migrated rule at the path and the line:column the user wrote, quoting the value", () => {
    const errors = (text: string) =>
      parseConfigText(text)
        .issues.filter((issue) => issue.severity === "error")
        .map((issue) => [issue.path, issue.line, issue.column, issue.message]);
    const rules = (condition: string) =>
      `{"routes":{"mine":{"targets":["mock-a/model-a"],"policyRules":[\n {"id":"r2","type":"exclude-provider","provider":"mock-a",\n  "condition":${condition}}]}}}`;
    assert.deepEqual(errors(rules('{"afterTime":"25:00"}')), [
      ["routes.mine.policyRules[0].condition.afterTime", 3, 28, 'expected HH:MM (24 h), got "25:00"'],
    ]);
    assert.deepEqual(errors(rules('{"estimatedTokensMax":5,"estimatedTokensMin":10}')), [
      [
        "routes.mine.policyRules[0].condition.estimatedTokensMin",
        3,
        60,
        "must be at most estimatedTokensMax (5), got 10: the rule could never apply",
      ],
    ]);
    // Only the sibling the migration renamed is named as written; a key written under today's name stays.
    assert.deepEqual(errors(rules('{"maxTokens":5,"estimatedTokensMin":10}')), [
      [
        "routes.mine.policyRules[0].condition.estimatedTokensMin",
        3,
        51,
        "must be at most maxTokens (5), got 10: the rule could never apply",
      ],
    ]);
    assert.deepEqual(errors(rules('{"daysOfWeek":[0,7]}')), [
      [
        "routes.mine.policyRules[0].condition.daysOfWeek[1]",
        3,
        32,
        'expected one of "sun", "mon", "tue", "wed", "thu", "fri", "sat", got 7',
      ],
    ]);
    // A routes array, a rule-level field and a provider list: each at the place it was written.
    const array = `{"routes":[{"id":"mine","targets":["mock-a/model-a", 7],"policyRules":[\n {"type":"exclude-provider","provider":["mock-a", 3],"intent":"codee"}]}]}`;
    assert.deepEqual(
      errors(array).map(([path, line, column]) => [path, line, column]),
      [
        ["routes[0].targets[1]", 1, 54],
        ["routes[0].policyRules[0].provider[1]", 2, 51],
        ["routes[0].policyRules[0].intent", 2, 63],
      ],
    );
    // A current-format file is named as before.
    const current = `{"routes":{"mine":{"targets":[{"provider":"mock-a","modelId":"model-a"}],"policyRules":[\n {"type":"exclude-provider","providers":["mock-a"],"when":{"timeWindow":{"after":"25:00","before":"01:00"}}}]}}}`;
    assert.deepEqual(errors(current), [
      ["routes.mine.policyRules[0].when.timeWindow.after", 2, 82, 'expected HH:MM (24 h), got "25:00"'],
    ]);
    // A tier written as its route's name: the error shows the object it takes.
    assert.deepEqual(
      errors(
        '{"routes":{"mine":{"targets":[{"provider":"mock-a","modelId":"model-a"}]}},\n"tiers":{"reasoning":"mine"}}',
      ),
      [["tiers.reasoning", 2, 22, 'expected an object, got a string; write { "route": "mine" }']],
    );
    // "24:00" reads as a 24-hour time and "9:00" nearly is one: the error says what to write instead.
    const nearly = `{"routes":{"mine":{"targets":[{"provider":"mock-a","modelId":"model-a"}],"policyRules":[\n {"type":"exclude-provider","providers":["mock-a"],"when":{"timeWindow":{"after":"9:00","before":"24:00"}}}]}}}`;
    assert.deepEqual(errors(nearly), [
      ["routes.mine.policyRules[0].when.timeWindow.after", 2, 82, 'expected HH:MM (24 h), got "9:00"; write "09:00"'],
      [
        "routes.mine.policyRules[0].when.timeWindow.before",
        2,
        98,
        'expected HH:MM (24 h), got "24:00"; midnight is "00:00" (a window to the end of the day ends at "00:00")',
      ],
    ]);
  });

  it("locates a migrated path for warnings made after loading at the place the user wrote it", () => {
    const parsed = parseConfigText('{"routes":[\n {"id":"mine","targets":["mock-a/model-a",\n  "mock-b/model-b"]}]}');
    assert.deepEqual(parsed.locate?.("routes.mine.targets[1].provider"), { line: 3, column: 3 });
  });

  it("keeps the route ids of a broken routes array, so the selected route stays", () => {
    const dir = freshDir("auto-router-config");
    const file = join(dir, "auto-router.routes.json");
    writeFileSync(file, '{"routes":[{"id":"mine","targets":["mock-a/model-a"],"policyRules":[{"after":"25:00"}]}]}');
    try {
      const loaded = loadConfigFile(file);
      assert.deepEqual(Object.keys(loaded.config.routes), ["mine"]);
      assert.match(describeLoad(loaded).at(-1)!, /routes mine fail every request until it is fixed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("migrates a routes array and provider/model strings into the current shape", () => {
    const result = parse({ routes: [{ id: "fast", targets: ["google/gemini-3-flash-preview"] }] });
    assert.deepEqual(result.config?.routes.fast?.targets, [{ provider: "google", modelId: "gemini-3-flash-preview" }]);
    assert.ok(result.issues.every((i) => i.severity === "warning"));
  });

  it("points a routes array's migration warnings at the place in the file where the user wrote each target", () => {
    const text =
      '{\n  "routes": [\n    {\n      "id": "main",\n      "targets": [\n        "alpha/alpha-1",\n        "beta/beta-1"\n      ]\n    }\n  ]\n}\n';
    const migrated = parseConfigText(text).issues.filter((issue) =>
      /migrated to \{provider, modelId\}/.test(issue.message),
    );
    assert.deepEqual(
      migrated.map((issue) => [issue.path, issue.line, issue.column]),
      [
        ["routes[0].targets[0]", 6, 9],
        ["routes[0].targets[1]", 7, 9],
      ],
    );
  });

  it("warns that defaultRoute has no effect and says how pi starts on a route, whatever it names", () => {
    const routes = { a: { targets: [{ provider: "x", modelId: "y" }] } };
    const named = parse({ defaultRoute: "a", routes });
    assert.ok(named.config, "the file stays valid");
    assert.deepEqual(
      named.issues.map((issue) => [issue.severity, issue.path, issue.message]),
      [
        [
          "warning",
          "defaultRoute",
          'has no effect: pi starts on the model its settings.json names; to start on a route, set "defaultProvider": "auto-router" and "defaultModel": "a" there (or pick auto-router/a in /model), and remove this key',
        ],
      ],
    );
    const unknown = parse({ defaultRoute: "nope", routes });
    assert.ok(unknown.config);
    assert.match(unknown.issues[0]!.message, /"defaultModel": "<route>"/);
  });

  it("says an empty file is empty, not only that its JSON input ended", () => {
    for (const text of ["", "\n", " \r\n\t", "\uFEFF"]) {
      const result = parseConfigText(text);
      assert.equal(result.config, undefined);
      assert.equal(
        result.issues[0]!.message,
        'the file is empty: a routes file is a JSON object with its routes ({ "routes": { ... } }); without a routes file the built-in routes serve',
        JSON.stringify(text),
      );
      assert.deepEqual([result.issues[0]!.line, result.issues[0]!.column], [1, 1]);
    }
  });

  it("says where a file cut short ends", () => {
    const result = parseConfigText('{\n  "routes": {\n    "a": {"targets": [\n\n');
    assert.match(result.issues[0]!.message, /not valid JSON: Unexpected end of JSON input/);
    assert.deepEqual([result.issues[0]!.line, result.issues[0]!.column], [3, 23], "just after the last character");
  });

  it("gives every JSON syntax error on one line with its line and column, saying when a trailing comma is the problem", () => {
    const cases: Array<[string, [number, number], RegExp]> = [
      // V8 says no position for these: only an excerpt of the file, which may span lines.
      [
        '{"routes": {"a": {"targets": [\n  {"provider": "x", "modelId": "model-a"}, ]}}}',
        [2, 44],
        /^not valid JSON: Unexpected token '\]' \(JSON allows no comma before it\)$/,
      ],
      [
        '{\n  "routes": {\n    "a": 1,\n  }\n}',
        [4, 3],
        /^not valid JSON: Expected double-quoted property name \(JSON allows no comma before it\)$/,
      ],
      ['{"a": tru}', [1, 7], /^not valid JSON: Unexpected token '\}'$/],
      ['{\n  "routes" {}\n}', [2, 12], /^not valid JSON: Expected ':' after property name$/],
    ];
    for (const [text, [line, column], message] of cases) {
      const [issue] = parseConfigText(text).issues;
      assert.deepEqual([issue!.line, issue!.column], [line, column], text);
      assert.match(issue!.message, message, text);
    }
  });

  it("warns about a key written twice in one object at the later definition, the one used, naming the line of the first", () => {
    const text = [
      "{",
      '  "_comment": "documentation keys may repeat", "_comment": "silently",',
      '  "routes": {',
      '    "newr": {"targets": [{"provider": "x", "modelId": "first"}]},',
      '    "other": {"targets": [{"provider": "x", "modelId": "y", "label": "a", "label": "b"}]},',
      '    "newr": {"targets": [{"provider": "x", "modelId": "second", "lable": 1}]}',
      "  }",
      "}",
    ].join("\n");
    const result = parseConfigText(text);
    assert.equal(result.config?.routes.newr?.targets[0]?.modelId, "second");
    assert.deepEqual(
      result.issues.map((issue) => [issue.severity, issue.path, issue.line, issue.column, issue.message]),
      [
        // Issues inside the key written twice point into the definition that is used.
        ["warning", "routes.newr.targets[0].lable", 6, 65, 'unknown key (ignored); did you mean "label"?'],
        [
          "warning",
          "routes.other.targets[0].label",
          5,
          75,
          "defined twice (first at line 5); the later definition is used and the first is ignored",
        ],
        [
          "warning",
          "routes.newr",
          6,
          5,
          "defined twice (first at line 4); the later definition is used and the first is ignored",
        ],
      ],
    );
  });

  it("warns about a route id given twice in a routes array, and a policy rule id used twice for one route", () => {
    const text = '{"routes": [\n  {"id": "old", "targets": ["x/a"]},\n  {"id": "old", "targets": ["x/b"]}\n]}';
    const duplicate = parseConfigText(text).issues.find((issue) => issue.path === "routes[1].id");
    assert.deepEqual(
      [duplicate?.line, duplicate?.column, duplicate?.message],
      [3, 10, 'route id "old" is also the id of routes[0]; the later definition is used and the first is ignored'],
    );
    const rule = (id: string, provider: string) => ({ id, type: "exclude-provider", providers: [provider] });
    const rules = parse({
      routes: {
        a: { targets: [{ provider: "x", modelId: "y" }], policyRules: [rule("c", "q")] },
        b: { targets: [{ provider: "x", modelId: "y" }], policyRules: [rule("d", "q"), rule("d", "r")] },
      },
      policyRules: [rule("c", "x"), rule("c", "y")],
    });
    assert.ok(rules.config, "a warning, not an error");
    assert.deepEqual(
      rules.issues.map((issue) => [issue.path, issue.message.replace(/;.*/, "")]),
      [
        ["policyRules[1].id", '"c" is also the id of policyRules[0]'],
        ["routes.a.policyRules[0].id", '"c" is also the id of policyRules[0]'],
        ["routes.b.policyRules[1].id", '"d" is also the id of routes.b.policyRules[0]'],
      ],
    );
    // The earlier format's rules have a name and no id: the name is what names them.
    const named = (name: string) => ({ name, type: "exclude-provider", providers: ["q"] });
    assert.deepEqual(
      parse({
        routes: { a: { targets: [{ provider: "x", modelId: "y" }] } },
        policyRules: [named("g"), named("g")],
      }).issues.map((issue) => [issue.path, issue.message.replace(/;.*/, "")]),
      [["policyRules[1].name", '"g" is also the name of policyRules[0]']],
    );
  });

  it("names the condition a rule's mistyped key was meant to be, and says the rule then applies always", () => {
    const targets = [{ provider: "x", modelId: "y" }];
    const rule = (key: string) => ({ type: "exclude-provider", providers: ["q"], [key]: { intent: "code" } });
    for (const [key, meant] of [
      ["conditon", "condition"],
      ["whem", "when"],
    ])
      assert.deepEqual(
        parse({ routes: { a: { targets, policyRules: [rule(key!)] } } }).issues.map((i) => `${i.path}: ${i.message}`),
        [
          `routes.a.policyRules[0].${key}: unknown key (ignored); did you mean "${meant}"? Without its condition the rule applies to every request`,
        ],
      );
  });

  it("rejects a time zone that does not exist, in a rule's time window and in budgets, with the closest real one", () => {
    const window = (timeZone: string) => ({ after: "09:00", before: "17:00", timeZone });
    const result = parse({
      routes: { a: { targets: [{ provider: "x", modelId: "y" }] } },
      policyRules: [{ type: "force-tier", tier: "fast", when: { timeWindow: window("Mars/Olympus") } }],
      budgets: { timeZone: "Europe/Berln" },
    });
    assert.equal(result.config, undefined);
    assert.deepEqual(
      result.issues.map((issue) => [issue.severity, issue.path, issue.message]),
      [
        [
          "error",
          "policyRules[0].when.timeWindow.timeZone",
          'unknown time zone "Mars/Olympus"; expected an IANA name such as "Europe/Berlin" or "UTC"',
        ],
        ["error", "budgets.timeZone", 'unknown time zone "Europe/Berln"; did you mean "Europe/Berlin"?'],
      ],
    );
    const valid = parse({
      routes: { a: { targets: [{ provider: "x", modelId: "y" }] } },
      policyRules: [{ type: "force-tier", tier: "fast", when: { timeWindow: window("America/New_York") } }],
      budgets: { timeZone: "UTC" },
    });
    assert.deepEqual(valid.issues, []);
  });

  it("suggests the closest key, or lists the known ones, inside objects whose keys are a fixed set (failure kinds, tiers)", () => {
    const result = parse({
      routes: { a: { targets: [{ provider: "x", modelId: "y" }] } },
      failover: { kinds: { ratelimit: { cooldownMs: 1000 } } },
      tiers: { turbo: {} },
    });
    assert.deepEqual(
      result.issues.map((issue) => [issue.path, issue.message]),
      [
        [
          "tiers.turbo",
          "unknown key (ignored); check its spelling and placement (known here: reasoning, swe, long, vision, fast)",
        ],
        ["failover.kinds.ratelimit", 'unknown key (ignored); did you mean "rate_limit"?'],
      ],
    );
  });

  it("locates a path of a loaded file for warnings made after loading", () => {
    const parsed = parseConfigText(
      '{\n  "routes": {"a": {"targets": [{"provider": "x", "modelId": "y"}]}},\n  "policyRules": [{"type": "exclude-provider", "providers": ["x", "q"]}]\n}',
    );
    assert.deepEqual(parsed.locate?.("policyRules[0].providers[1]"), { line: 3, column: 67 });
  });

  it("reports invalid JSON instead of throwing", () => {
    const result = parseConfigText("{ routes: ");
    assert.equal(result.config, undefined);
    assert.match(result.issues[0]!.message, /not valid JSON/);
  });
});

describe("routes file loading", () => {
  const dir = freshDir("auto-router-config");
  const file = join(dir, "auto-router.routes.json");
  const good = { routes: { mine: { targets: [{ provider: "x", modelId: "y" }] } } };

  it("uses the built-in routes when the file is missing", () => {
    const loaded = loadConfigFile(join(dir, "missing.json"));
    assert.equal(loaded.origin, "defaults");
    assert.ok(loaded.config.routes["subscription-swe"]);
  });

  it("keeps the last good config when an edit makes the file invalid", () => {
    writeFileSync(file, JSON.stringify(good));
    const first = loadConfigFile(file);
    assert.equal(first.origin, "file");
    writeFileSync(file, '{"routes": {"mine": {"targets": "oops"}}}');
    const second = loadConfigFile(file, { lastGood: first.config });
    assert.equal(second.origin, "last-good");
    assert.ok(second.config.routes.mine);
    assert.equal(second.issues[0]?.path, "routes.mine.targets");
  });

  it("falls back to the built-in routes when the very first load is invalid", () => {
    writeFileSync(file, "not json");
    const loaded = loadConfigFile(file);
    assert.equal(loaded.origin, "defaults");
    assert.equal(loaded.issues[0]?.severity, "error");
  });

  it("reports a routes path it cannot read instead of throwing, and keeps the last good config", () => {
    // A directory where the file should be: unreadable for every user, root included (EISDIR).
    const loaded = loadConfigFile(dir, {
      lastGood: { routes: { kept: { targets: [{ provider: "x", modelId: "y" }] } } },
    });
    assert.equal(loaded.issues[0]!.message, "cannot read the file: it is a directory, not a file (EISDIR)");
    assert.equal(loaded.origin, "last-good");
    assert.ok(loaded.config.routes.kept);
  });

  it("starts on the copy of the last good file kept in the state directory when the file is broken at start-up", () => {
    const copy = join(dir, "state", "auto-router.routes.last-good.json");
    writeFileSync(file, JSON.stringify(good));
    assert.equal(loadConfigFile(file, { copyPath: () => copy }).origin, "file");
    assert.deepEqual(JSON.parse(readFileSync(copy, "utf8")), good, "a valid file is copied");
    writeFileSync(file, '{\n  "routes": {\n    "mine": {"targets": []}\n    "other": {}\n  }\n}\n');
    const loaded = loadConfigFile(file, { copyPath: () => copy });
    assert.equal(loaded.origin, "last-good");
    assert.equal(loaded.copy, copy);
    assert.deepEqual(Object.keys(loaded.config.routes), ["mine"]);
    assert.deepEqual([loaded.issues[0]!.line, loaded.issues[0]!.column], [4, 5]);
    assert.match(
      describeLoad(loaded).join("\n"),
      /^auto-router: error: .*auto-router\.routes\.json:4:5: not valid JSON: Expected ',' or '}' after property value\nauto-router: .* is invalid; starting on the last good copy/,
    );
    assert.deepEqual(JSON.parse(readFileSync(copy, "utf8")), good, "a broken file never replaces the copy");
  });

  it("without a good copy, registers the route ids the broken file declares and fails their requests with the error", () => {
    writeFileSync(
      file,
      '{\n  "routes": {\n    "mine": {"targets": [{"provider": "x", "modelId": "y"}]}\n    "second": {}\n  }\n}\n',
    );
    const loaded = loadConfigFile(file, { copyPath: () => join(dir, "nowhere", "copy.json") });
    assert.equal(loaded.origin, "declared");
    assert.deepEqual(Object.keys(loaded.config.routes), ["mine", "second"]);
    assert.equal(
      configErrorText(loaded, "mine"),
      `auto-router: route mine cannot be served: the routes file is invalid (${file}:4:5: not valid JSON: Expected ',' or '}' after property value). Fix the file; it is re-read automatically.`,
    );
  });

  it("on the last good routes, says a route only the broken file has is unknown because the file is invalid", () => {
    const good = { routes: { mine: { targets: [{ provider: "x", modelId: "y" }] } } };
    writeFileSync(file, JSON.stringify(good));
    const first = loadConfigFile(file);
    writeFileSync(file, '{ "routes": { "mine": {}, "ghost": {} ');
    const loaded = loadConfigFile(file, { lastGood: first.config });
    assert.equal(loaded.origin, "last-good");
    assert.match(
      configErrorText(loaded, "ghost") ?? "",
      /^auto-router: route ghost is not in the last good routes the router runs on while the routes file is invalid \(.*not valid JSON.*\)\. Fix the file/,
    );
    assert.equal(configErrorText(loaded, "mine"), undefined, "a route of the last good routes is served");
    assert.equal(configErrorText(loaded, "x/y"), undefined, "a gateway's one-target route is no route of the file");
    assert.equal(configErrorText(first, "ghost"), undefined, "a valid file: the usual unknown-route answer");
  });

  it("keeps the routes of a file removed while running, says so once naming it, and loads the file again once it is back", () => {
    writeFileSync(file, JSON.stringify(good));
    const said: Array<[string, string | undefined]> = [];
    const holder = new ConfigHolder(file, (text, level) => said.push([text, level]));
    assert.equal(holder.state.origin, "file");
    unlinkSync(file);
    holder.reload(); // what the watcher does when the file's signature changes
    assert.equal(holder.state.origin, "missing");
    assert.deepEqual(Object.keys(holder.current.routes), ["mine"]);
    assert.deepEqual(said, [
      [`auto-router: ${file} was removed; keeping the routes it had (1 route) until it is back`, "warning"],
    ]);
    assert.equal(
      describeOrigin(holder.state),
      "REMOVED, keeping the last good config (1 route) until the file is back",
    );
    holder.reload(); // /auto-router reload while it is still gone
    assert.deepEqual(Object.keys(holder.current.routes), ["mine"], "still the file's routes, not the built-in ones");
    writeFileSync(file, JSON.stringify({ routes: { back: good.routes.mine } }));
    holder.reload();
    assert.equal(holder.state.origin, "file");
    assert.deepEqual(Object.keys(holder.current.routes), ["back"]);
  });

  it("says so when a file that gave no usable routes is removed, and serves the built-in routes", () => {
    writeFileSync(file, '{"routes": {"broken": {"targets": 1}}');
    const said: string[] = [];
    const holder = new ConfigHolder(file, (text) => said.push(text));
    unlinkSync(file);
    holder.reload();
    assert.equal(holder.state.origin, "defaults");
    assert.ok(holder.current.routes["subscription-swe"]);
    assert.equal(said.at(-1), `auto-router: ${file} was removed; using the built-in routes until it is back`);
  });

  it("cleans up", () => rmSync(dir, { recursive: true, force: true }));
});

describe("JSON Schema", () => {
  it("is checked in and in sync with the zod schema (run `npm run schema` after changing it)", () => {
    const checkedIn = readFileSync(join(REPO_ROOT, SCHEMA_FILE_NAME), "utf8");
    assert.equal(checkedIn, routesJsonSchemaText());
  });

  it("accepts and rejects what the router does, wherever JSON Schema can say it", () => {
    // ajv (fastify's validator) stands in for an editor checking the file against the checked-in schema.
    const validate = new Ajv2020({ strict: false }).compile(
      JSON.parse(readFileSync(join(REPO_ROOT, SCHEMA_FILE_NAME), "utf8")),
    );
    const target = (extra: Record<string, unknown> = {}) => ({ provider: "ollama", modelId: "qwen3-coder", ...extra });
    const file = (route: Record<string, unknown>, rest: Record<string, unknown> = {}, id = "r") => ({
      routes: { [id]: { targets: [target()], ...route } },
      ...rest,
    });
    const cases: Array<[string, unknown, "valid" | "invalid"]> = [
      ["a route id with capitals", file({}, {}, "MyRoute"), "valid"],
      ["a route id with a space", file({}, {}, "my route"), "invalid"],
      ["an extra header", file({ targets: [target({ headers: { "anthropic-beta": "x" } })] }), "valid"],
      ["an Authorization header", file({ targets: [target({ headers: { Authorization: "Bearer x" } })] }), "invalid"],
      ["an x-api-key header", file({ targets: [target({ headers: { "x-api-key": "x" } })] }), "invalid"],
      ["an X-Goog-Api-Key header", file({ targets: [target({ headers: { "X-Goog-Api-Key": "x" } })] }), "invalid"],
      ["a header name with a space", file({ targets: [target({ headers: { "my header": "x" } })] }), "invalid"],
      ["a force-tier rule with its tier", file({ policyRules: [{ type: "force-tier", tier: "fast" }] }), "valid"],
      ["a force-tier rule without tier", file({ policyRules: [{ id: "a", type: "force-tier" }] }), "invalid"],
      ["a prefer-provider rule without providers", file({}, { policyRules: [{ type: "prefer-provider" }] }), "invalid"],
      ["a force-billing rule without billing", file({ policyRules: [{ type: "force-billing" }] }), "invalid"],
      ["a demote-target rule without targets", file({ policyRules: [{ type: "demote-target" }] }), "valid"],
      ["eventLog.keepFiles 0", file({}, { eventLog: { keepFiles: 0 } }), "invalid"],
      ["eventLog.keepFiles 1", file({}, { eventLog: { keepFiles: 1 } }), "valid"],
    ];
    for (const [what, value, expected] of cases) {
      const router = parse(value).issues.some((issue) => issue.severity === "error") ? "invalid" : "valid";
      const schema = validate(value) ? "valid" : "invalid";
      assert.deepEqual([router, schema], [expected, expected], `${what}: router ${router}, schema ${schema}`);
    }
  });

  it("is referenced by the example routes file, which itself loads without issues", () => {
    const example = JSON.parse(readFileSync(join(REPO_ROOT, "auto-router.routes.example.json"), "utf8"));
    assert.equal(example.$schema, `./${SCHEMA_FILE_NAME}`);
    const result = parse(example);
    assert.deepEqual(result.issues, []);
    // Nor does anything in it silently do nothing (a preference naming a provider no route has, say).
    const findings = findSilentStrategies({
      config: result.config!,
      models: {},
      quotaPacing: { enabled: true, hard: false },
      quotaSources: new Set(["anthropic", "openai-codex", "google-gemini-cli"]),
    });
    assert.deepEqual(findings, []);
  });
});
