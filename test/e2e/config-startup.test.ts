// What a user sees when the routes file is broken when pi starts, through the real pi CLI: the router keeps their
// routes (from the last good copy in the state directory, or at least the route ids so pi keeps the selected model),
// errors name file, line and column, and they reach stderr even in `pi --list-models`, where no session starts.
import assert from "node:assert/strict";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, ROUTES_FILE_NAME } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { routeTargetKey } from "../../src/routing/types.ts";

const GOOD_ROUTES = { routes: { mine: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } };
// The same file with one comma missing after the first route (line 4).
const MISSING_COMMA =
  '{\n  "routes": {\n    "mine": { "targets": [{ "provider": "mock-a", "modelId": "model-a" }] }\n    "second": { "targets": [] }\n  }\n}\n';

describe("a routes file that is broken when pi starts", () => {
  let emulator: Emulator;
  const dirs: Array<ReturnType<typeof makeAgentDir>> = [];
  const agentDir = (routes: unknown) => {
    const dir = makeAgentDir({
      providers: {
        "mock-a": {
          baseUrl: emulator.url,
          api: "openai-completions",
          apiKey: "sk-mock-a-key",
          models: [{ id: "model-a" }],
        },
      },
      routes,
    });
    dirs.push(dir);
    return dir.agentDir;
  };
  const routesFile = (dir: string) => join(dir, "extensions", ROUTES_FILE_NAME);
  /**
   * An agent dir on GOOD_ROUTES after a good run of pi, which kept the last good copy in the state directory: one
   * pi process makes it for every test that starts there, and each test gets a copy of that dir of its own.
   */
  let goodRun: Promise<string> | undefined;
  const afterGoodRun = async (): Promise<string> => {
    goodRun ??= (async () => {
      const dir = agentDir(GOOD_ROUTES);
      emulator.enqueue({ text: "First answer." });
      const first = await runPi({ agentDir: dir, args: ["--model", "auto-router/mine", "-p", "Hi"] });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout.trim(), "First answer.");
      assert.ok(existsSync(join(dir, "extensions", "auto-router.routes.last-good.json")));
      return dir;
    })();
    const template = await goodRun;
    const dir = agentDir(undefined);
    cpSync(template, dir, { recursive: true });
    return dir;
  };
  /** A start without a good copy on a routes file missing a comma: one pi process, a prompt then three commands. */
  let noGoodCopy: Promise<{ dir: string; run: Awaited<ReturnType<typeof runPi>>; calls: number }> | undefined;
  const withoutGoodCopy = () =>
    (noGoodCopy ??= (async () => {
      const dir = agentDir(undefined);
      mkdirSync(join(dir, "extensions"), { recursive: true });
      writeFileSync(routesFile(dir), MISSING_COMMA);
      const calls = emulator.calls.length;
      // JSON mode: the prompt's answer (an error) as an event on stdout; the list's output goes to stderr.
      const run = await runPi({
        agentDir: dir,
        args: [
          "--model",
          "auto-router/mine",
          "--mode",
          "json",
          "Hi",
          "/auto-router list",
          "/auto-router aliases",
          "/auto-router models",
          "/auto-router resolve mine",
          "/auto-router health",
        ],
      });
      return { dir, run, calls };
    })());

  before(async () => {
    emulator = await startOpenAIEmulator({ name: "A" });
  });
  after(async () => {
    await emulator.close();
    for (const dir of dirs) dir.cleanup();
  });

  it("starts on the last good copy kept in the state directory, saying where the file is broken", async () => {
    const dir = await afterGoodRun();
    assert.ok(existsSync(join(dir, "extensions", "auto-router.routes.last-good.json")));
    writeFileSync(routesFile(dir), MISSING_COMMA);
    emulator.enqueue({ text: "Still routed." });
    const second = await runPi({ agentDir: dir, args: ["--model", "auto-router/mine", "-p", "Hi again"] });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), "Still routed.");
    assert.ok(second.stderr.includes(`${routesFile(dir)}:4:5: not valid JSON`), second.stderr);
    assert.match(second.stderr, /is invalid; starting on the last good copy/);
  });

  it("keeps the usual file's last good copy through a run on another file (AUTO_ROUTER_CONFIG)", async () => {
    const dir = await afterGoodRun();
    const other = join(dir, "other-routes.json");
    writeFileSync(
      other,
      JSON.stringify({ routes: { elsewhere: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } }),
    );
    emulator.enqueue({ text: "From the other file." });
    const elsewhere = await runPi({
      agentDir: dir,
      args: ["--model", "auto-router/elsewhere", "-p", "Hi"],
      env: { AUTO_ROUTER_CONFIG: other },
    });
    assert.equal(elsewhere.stdout.trim(), "From the other file.", elsewhere.stderr);
    writeFileSync(routesFile(dir), MISSING_COMMA);
    emulator.enqueue({ text: "Still my routes." });
    const broken = await runPi({ agentDir: dir, args: ["--model", "auto-router/mine", "-p", "Hi again"] });
    assert.equal(broken.stdout.trim(), "Still my routes.", broken.stderr);
    assert.match(
      broken.stderr,
      /is invalid; starting on the last good copy \(.*auto-router\.routes\.last-good\.json\)/,
    );
    // And the other file, broken in turn, starts on its own copy.
    writeFileSync(other, "{");
    emulator.enqueue({ text: "Still the other file." });
    const otherBroken = await runPi({
      agentDir: dir,
      args: ["--model", "auto-router/elsewhere", "-p", "Hi"],
      env: { AUTO_ROUTER_CONFIG: other },
    });
    assert.equal(otherBroken.stdout.trim(), "Still the other file.", otherBroken.stderr);
    assert.match(
      otherBroken.stderr,
      /starting on the last good copy \(.*auto-router\.routes\.last-good\.[0-9a-f]{12}\.json\)/,
    );
  });

  it("without a good copy, keeps the declared route selected and fails its requests with the config error", async () => {
    const { dir, run, calls } = await withoutGoodCopy();
    const events = run.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    const answer = events
      .filter((event) => event.type === "message_end" && event.message?.role === "assistant")
      .at(-1)?.message;
    assert.equal(answer?.provider, "auto-router", run.stderr);
    assert.equal(answer?.model, "mine", "pi kept the selected auto-router model");
    assert.equal(
      answer.errorMessage,
      `auto-router: route mine cannot be served: the routes file is invalid (${routesFile(dir)}:4:5: not valid JSON: Expected ',' or '}' after property value). Fix the file; it is re-read automatically.`,
    );
    assert.equal(emulator.calls.length, calls, "no target was called");
    // What pi said at the start, before the list's own output.
    const listed = run.stderr.indexOf("INVALID, no good copy yet");
    assert.match(
      listed < 0 ? run.stderr : run.stderr.slice(0, listed),
      /routes mine, second fail every request until it is fixed/,
    );
  });

  it("without a good copy, answers /auto-router list with why there is nothing to list, and fails", async () => {
    const { dir, run } = await withoutGoodCopy();
    assert.equal(run.code, 1, run.stderr);
    // pi sends an extension's stdout to stderr in print mode.
    assert.ok(
      run.stderr.includes(
        `auto-router: ${routesFile(dir)}:4:5: not valid JSON: Expected ',' or '}' after property value; INVALID, no good copy yet: its routes fail every request until it is fixed`,
      ),
      run.stderr,
    );
    assert.doesNotMatch(run.stderr, /#\s+target\s+provider\/model/, "no empty table");
  });

  it("without a good copy, answers /auto-router models as list, with why there is nothing to list", async () => {
    const { run } = await withoutGoodCopy();
    assert.doesNotMatch(run.stderr, /models? in \d+ routes?/);
    assert.doesNotMatch(run.stderr, /provider\/model\s+name\s+capabilities/, "no empty table");
    const notices = run.stderr.match(/; INVALID, no good copy yet: its routes fail every request until it is fixed$/gm);
    assert.equal(notices?.length, 4, `list's, aliases', models' and health's notices:\n${run.stderr}`);
  });

  it("without a good copy, has no alias of the built-in routes, which are not there", async () => {
    const { run } = await withoutGoodCopy();
    assert.doesNotMatch(run.stderr, /subscription-/);
  });

  it("without a good copy, says in aliases and resolve that the file is invalid, not that nothing is configured", async () => {
    const { run } = await withoutGoodCopy();
    assert.match(run.stderr, /^no aliases are loaded: the file's aliases apply once it is fixed$/m);
    assert.doesNotMatch(run.stderr, /no aliases configured/);
    assert.match(
      run.stderr,
      /^mine → auto-router\/mine: route, failing every request until the routes file is fixed \(it is invalid, with no good copy\)$/m,
    );
    assert.doesNotMatch(run.stderr, /0 targets/);
  });

  it("without a good copy, says in health why there is no target to check", async () => {
    const { run } = await withoutGoodCopy();
    assert.match(run.stderr, /^no target to check: the file's routes have their targets once it is fixed$/m);
    assert.doesNotMatch(run.stderr, /no route has a target/);
  });

  it("without a good copy, says in the debug report as status does that there is no good config to keep, and draws no empty table of its routes", async () => {
    const { dir } = await withoutGoodCopy();
    const run = await runPi({ agentDir: dir, args: ["--model", "auto-router/mine", "-p", "/auto-router debug"] });
    assert.equal(run.code, 0, run.stderr);
    const report = readFileSync(join(dir, "extensions", "auto-router.debug-report.txt"), "utf8");
    assert.ok(
      report.includes(
        `\n${routesFile(dir)}: INVALID, no good copy yet: its routes fail every request until it is fixed\n`,
      ),
      report,
    );
    assert.doesNotMatch(report, /keeping the last good config/);
    const routes = report.slice(report.indexOf("## routes\n"), report.indexOf("## cooldowns"));
    assert.equal(
      routes,
      "## routes\nmine, second: no targets known while the routes file is invalid\n\n",
      "no empty table",
    );
  });

  it("names the last good copy, not the broken file, when it warns about what the copy holds", async () => {
    const dir = agentDir({
      routes: {
        mine: {
          targets: [
            { provider: "mock-a", modelId: "model-a" },
            { provider: "mock-gone", modelId: "model-z" },
          ],
        },
      },
    });
    emulator.enqueue({ text: "First." });
    assert.equal((await runPi({ agentDir: dir, args: ["--model", "auto-router/mine", "-p", "Hi"] })).code, 0);
    writeFileSync(routesFile(dir), MISSING_COMMA);
    const run = await runPi({ agentDir: dir, args: ["--list-models", "auto-router"] });
    const copy = join(dir, "extensions", "auto-router.routes.last-good.json");
    // The place is the copy's own line and column: that is the text the routes in use came from.
    const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    assert.match(
      run.stderr,
      new RegExp(
        `${literal(copy)}:\\d+:\\d+ at routes\\.mine\\.targets\\[1\\]: provider 'mock-gone' is not known to pi`,
      ),
    );
    assert.doesNotMatch(
      run.stderr,
      new RegExp(`${literal(routesFile(dir))}(:\\d+:\\d+)? at routes\\.mine\\.targets\\[1\\]`),
    );
  });

  it("names what a misspelt key was probably meant to be, or the keys known at that place; a limit that cannot block", async () => {
    const dir = agentDir({
      routes: {
        mine: {
          sortby: "cost",
          targets: [
            { provider: "mock-a", modelId: "model-a", labl: "A" },
            { provider: "mock-a", modelId: "model-a" },
          ],
        },
        // A key pasted where the provider id belongs: the warning about it must not print it.
        pasted: { targets: [{ provider: "sk-ant-api03-PastedKey0123456789abcdefghij", modelId: "m" }] },
      },
      budgets: { polcy: "hard", providers: { "mock-a": { daily: 50, monthly: 30 } } },
      providers: { "mock-aa": { endpointPrefixes: ["/v1/embeddings"] } },
      theme: "dark",
      defaultRoute: "mine",
      aliases: { pasted: "mine" },
      // The earlier format's rules are named; one's condition is mistyped.
      policyRules: [
        { name: "g", type: "exclude-provider", providers: ["mock-a"], conditon: { intent: "code" } },
        { name: "g", type: "prefer-provider", providers: ["mock-a"] },
      ],
    });
    const run = await runPi({ agentDir: dir, args: ["--list-models", "auto-router"] });
    assert.equal(run.code, 0, run.stderr);
    const file = routesFile(dir).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    for (const [path, hint] of [
      ["routes\\.mine\\.sortby", 'did you mean "sortBy"\\?'],
      ["routes\\.mine\\.targets\\[0\\]\\.labl", 'did you mean "label"\\?'],
      ["budgets\\.polcy", 'did you mean "policy"\\?'],
      ["theme", "check its spelling and placement \\(known here: .*\\broutes\\b.*\\bbudgets\\b.*\\)"],
    ])
      assert.match(
        run.stderr,
        new RegExp(`^auto-router: warning: ${file}:\\d+:\\d+ at ${path}: unknown key \\(ignored\\); ${hint}`, "m"),
      );
    // A limit that can never block is a warning of the same kind.
    assert.match(
      run.stderr,
      new RegExp(
        `warning: ${file}:\\d+:\\d+ at budgets\\.providers\\.mock-a\\.daily: \\$50.00 a day is more than the monthly limit of \\$30.00`,
      ),
    );
    // Settings under a provider id pi does not know apply to nothing.
    assert.match(
      run.stderr,
      new RegExp(
        `auto-router: warning: ${file}:\\d+:\\d+ at providers\\.mock-aa: provider 'mock-aa' is not known to pi, so these settings apply to nothing; did you mean 'mock-a'\\?`,
      ),
    );
    // A key nothing reads says so, and how pi starts on the route.
    assert.match(
      run.stderr,
      new RegExp(
        `warning: ${file}:\\d+:\\d+ at defaultRoute: has no effect: pi starts on the model its settings\\.json names; to start on a route, set "defaultProvider": "auto-router" and "defaultModel": "mine" there`,
      ),
    );
    assert.match(
      run.stderr,
      new RegExp(
        `warning: ${file}:\\d+:\\d+ at routes\\.pasted\\.targets\\[0\\]: provider '\\[REDACTED\\]' is not known to pi`,
      ),
    );
    assert.doesNotMatch(run.stdout + run.stderr, /PastedKey0123/);
    assert.match(
      run.stderr,
      new RegExp(
        `warning: ${file}:\\d+:\\d+ at policyRules\\[0\\]\\.conditon: unknown key \\(ignored\\); did you mean "condition"\\? Without its condition the rule applies to every request`,
      ),
    );
    assert.match(
      run.stderr,
      new RegExp(`warning: ${file}:\\d+:\\d+ at policyRules\\[1\\]\\.name: "g" is also the name of policyRules\\[0\\]`),
    );
    // The same target twice in a route, and an alias that takes a route's name.
    assert.match(
      run.stderr,
      new RegExp(
        `warning: ${file}:\\d+:\\d+ at routes\\.mine\\.targets\\[1\\]: "mock-a/model-a" is also targets\\[0\\]: .*; remove one`,
      ),
    );
    assert.match(
      run.stderr,
      new RegExp(
        `warning: ${file}:\\d+:\\d+ at aliases\\.pasted: "pasted" is also a route id: .* route pasted is reachable only as auto-router/pasted; rename the alias`,
      ),
    );
    // Only warnings: the route is served.
    assert.match(run.stdout + run.stderr, /auto-router\s+mine/);
  });

  it("names the accepted values and the closest one for a mistyped value, and keeps serving the last good routes", async () => {
    const dir = await afterGoodRun();
    writeFileSync(
      routesFile(dir),
      JSON.stringify({ ...GOOD_ROUTES, quota: { reserve: { "mock-a": { percent: 10, for: ["interactiv"] } } } }),
    );
    emulator.enqueue({ text: "Still routed." });
    const run = await runPi({ agentDir: dir, args: ["--model", "auto-router/mine", "-p", "Hi again"] });
    assert.equal(run.stdout.trim(), "Still routed.", run.stderr);
    const file = routesFile(dir).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    assert.match(
      run.stderr,
      new RegExp(
        `^auto-router: error: ${file}:\\d+:\\d+ at quota\\.reserve\\.mock-a\\.for\\[0\\]: expected one of "reasoning", .*"interactive", got "interactiv"; did you mean "interactive"\\?$`,
        "m",
      ),
    );
    assert.match(run.stderr, /is invalid; starting on the last good copy/);
  });

  it("shows a config error about a credential-named header as it is in /auto-router status: a path is no secret", async () => {
    const target = (headers: Record<string, unknown>) => ({ provider: "mock-a", modelId: "model-a", headers });
    const dir = agentDir({
      routes: { mine: { targets: [target({ "x-auth-token": 123 }), target({ Authorization: "Bearer x" })] } },
    });
    const run = await runPi({ agentDir: dir, args: ["--model", "auto-router/mine", "-p", "/auto-router status"] });
    const shown = run.stdout + run.stderr;
    // The status's own lines ("line 9, column 29 at ..."), not only the start's warning.
    assert.match(
      shown,
      /error: line \d+, column \d+ at routes\.mine\.targets\[0\]\.headers\.x-auth-token: expected a string, got a number/,
    );
    assert.match(
      shown,
      /error: line \d+, column \d+ at routes\.mine\.targets\[1\]\.headers\.Authorization: Authorization: credentials come from pi's login/,
    );
    assert.doesNotMatch(shown, /REDACTED/, "nothing shown was a secret");
  });

  it("rejects contradictory thresholds, break durations, preferences or rule conditions, naming the rule, and keeps serving the last good routes", async () => {
    const dir = await afterGoodRun();
    writeFileSync(
      routesFile(dir),
      JSON.stringify({
        ...GOOD_ROUTES,
        uvi: { thresholds: { stressed: 3, critical: 2 } },
        breaker: { breakMs: 900_000, maxBreakMs: 60_000 },
        // Loaded, these made every request fail ("no target matches the provider preferences") or a rule inert.
        preferences: { only: ["mock-a"], ignore: ["mock-a"] },
        policyRules: [{ type: "exclude-provider", providers: ["mock-a"], when: { minTokens: 5_000, maxTokens: 100 } }],
      }),
    );
    emulator.enqueue({ text: "Still routed." });
    const run = await runPi({ agentDir: dir, args: ["--model", "auto-router/mine", "-p", "Hi again"] });
    assert.equal(run.stdout.trim(), "Still routed.", run.stderr);
    const file = routesFile(dir).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    for (const error of [
      "uvi\\.thresholds\\.stressed: must be below critical \\(2\\), got 3",
      "breaker\\.breakMs: must be at most maxBreakMs \\(60000\\), got 900000",
      'preferences\\.ignore\\[0\\]: "mock-a" is in `only` too: a provider both required and ignored never serves',
      "policyRules\\[0\\]\\.when\\.minTokens: must be at most maxTokens \\(100\\), got 5000: the rule could never apply",
    ])
      assert.match(run.stderr, new RegExp(`error: ${file}:\\d+:\\d+ at ${error}`));
    assert.match(run.stderr, /is invalid; starting on the last good copy/);
  });

  it("says so when AUTO_ROUTER_CONFIG names a file that does not exist", async () => {
    const dir = agentDir(GOOD_ROUTES);
    const missing = join(dir, "no-such-routes.json");
    const run = await runPi({
      agentDir: dir,
      args: ["--list-models", "auto-router"],
      env: { AUTO_ROUTER_CONFIG: missing },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(
      run.stderr.includes(
        `auto-router: AUTO_ROUTER_CONFIG names ${missing}, which does not exist; using the built-in routes`,
      ),
      run.stderr,
    );
  });

  it("says in status and reload that there is no routes file where it is looked for, not only its path", async () => {
    const dir = agentDir(undefined);
    const run = await runPi({ agentDir: dir, args: ["-p", "/auto-router status", "/auto-router reload"] });
    assert.equal(run.code, 0, run.stderr);
    const file = routesFile(dir);
    assert.ok(run.stderr.includes(`config: ${file} (not found: the built-in routes serve)\n`), run.stderr);
    assert.ok(run.stderr.includes(`\n${file}: not found: the built-in routes serve\n`), run.stderr);
  });

  it("prints the config error on stderr for `pi --list-models`, which starts no session, and says what a route id may contain", async () => {
    const dir = agentDir({ routes: { "my route": { targets: [{ provider: "mock-a", modelId: "model-a" }] } } });
    const run = await runPi({ agentDir: dir, args: ["--list-models", "auto-router"] });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(
      run.stderr.includes(
        `error: ${routesFile(dir)}:3:5 at routes.my route: invalid key "my route": a route id may contain only letters, digits, dots, underscores and dashes`,
      ),
      run.stderr,
    );
    // The broken file declares "my route", which pi lists (with its space) so the user sees what it kept.
    assert.match(run.stdout + run.stderr, /auto-router\s+my route/);
  });

  it("names a problem in an earlier router's rule where the user wrote it, and keeps its routes array's ids", async () => {
    const dir = agentDir(GOOD_ROUTES);
    writeFileSync(
      routesFile(dir),
      '{"routes": [{"id": "mine", "targets": ["mock-a/model-a"], "policyRules": [\n  {"id": "r2", "type": "exclude-provider", "provider": "mock-a",\n   "condition": {"afterTime": "25:00"}}]}]}\n',
    );
    const run = await runPi({ agentDir: dir, args: ["--list-models", "auto-router"] });
    assert.ok(
      run.stderr.includes(
        `error: ${routesFile(dir)}:3:31 at routes[0].policyRules[0].condition.afterTime: expected HH:MM (24 h), got "25:00"`,
      ),
      run.stderr,
    );
    assert.match(run.stderr, /routes mine fail every request until it is fixed/);
    assert.match(run.stdout + run.stderr, /auto-router\s+mine/);
  });

  it("says a routes file without its routes is missing them, at the file's start", async () => {
    const dir = agentDir({ route: { mine: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } });
    const run = await runPi({ agentDir: dir, args: ["--list-models", "auto-router"] });
    assert.ok(
      run.stderr.includes(`error: ${routesFile(dir)}:1:1 at routes: missing: this key is required (an object)`),
      run.stderr,
    );
    assert.match(run.stderr, /at route: unknown key \(ignored\); did you mean "routes"\?/);
  });

  it("serves the built-in routes with the settings of a routes file that has no routes of its own", async () => {
    const dir = agentDir({
      budgets: { providers: { anthropic: { daily: 4 } } },
      aliases: { quick: "subscription-economy" },
    });
    const run = await runPi({
      agentDir: dir,
      args: ["-p", "/auto-router status", "/auto-router budget", "/auto-router resolve quick", "/auto-router reload"],
    });
    assert.equal(run.code, 0, run.stderr);
    const shown = run.stdout + run.stderr;
    assert.ok(
      shown.includes(
        `config: ${routesFile(dir)} (loaded: no routes of its own, its settings apply to the built-in routes)`,
      ),
      shown,
    );
    assert.match(shown, /^routes: subscription-reasoning, subscription-swe, /m);
    assert.match(shown, /^anthropic\b.*\$4\.00/m, "the file's budget is in force");
    assert.match(shown, /^quick → auto-router\/subscription-economy \(alias\): route, 4 target/m, "the file's alias");
    assert.match(shown, /reloaded .*: 5 built-in routes/);
    assert.doesNotMatch(shown, /error|warning|missing/i);
  });

  it("says an empty routes file is empty, what a routes file holds, and that without one the built-in routes serve", async () => {
    const dir = agentDir(undefined);
    mkdirSync(join(dir, "extensions"), { recursive: true });
    writeFileSync(routesFile(dir), "\n");
    const run = await runPi({ agentDir: dir, args: ["--list-models", "auto-router"] });
    assert.ok(
      run.stderr.includes(
        `error: ${routesFile(dir)}:1:1: the file is empty: a routes file is a JSON object with its routes ({ "routes": { ... } }); without a routes file the built-in routes serve`,
      ),
      run.stderr,
    );
    assert.doesNotMatch(run.stderr, /end of JSON input/);
  });

  it("takes ~/ in AUTO_ROUTER_LOG_DIR and AUTO_ROUTER_CONFIG as the home dir, as the earlier router did", async () => {
    const dir = agentDir(GOOD_ROUTES);
    const home = join(dir, "home");
    mkdirSync(home);
    writeFileSync(
      join(home, "team-routes.json"),
      JSON.stringify({ routes: { fromhome: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } }),
    );
    emulator.enqueue({ text: "From the home routes." });
    const run = await runPi({
      agentDir: dir,
      env: { HOME: home, AUTO_ROUTER_LOG_DIR: "~/old-router", AUTO_ROUTER_CONFIG: "~/team-routes.json" },
      args: ["--model", "auto-router/fromhome", "-p", "Hi"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "From the home routes.");
    assert.ok(existsSync(join(home, "old-router", "auto-router.events.jsonl")), "the event log is in ~/old-router");
    assert.ok(!existsSync(join(dir, "~")), "no directory named ~ in the working directory");
  });

  it("says a state directory that is a file is not a directory, naming where it was set", async () => {
    const dir = agentDir(GOOD_ROUTES);
    const file = join(dir, "afile");
    writeFileSync(file, "");
    emulator.enqueue({ text: "Served anyway." });
    const run = await runPi({
      agentDir: dir,
      env: { AUTO_ROUTER_LOG_DIR: file },
      args: ["--model", "auto-router/mine", "-p", "Hi"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Served anyway.");
    const lines = run.stderr.split("\n").filter((line) => line.includes("auto-router"));
    assert.deepEqual(lines, [
      `auto-router: warning: state directory ${file} (from AUTO_ROUTER_LOG_DIR) is not usable (it is a file, not a directory); the state it holds is read, but changes to cooldowns and spend and the event log are kept in memory for this session (set AUTO_ROUTER_LOG_DIR or logDir to a writable directory)`,
    ]);
  });

  it("reports an unusable state directory in one line naming the directory and the fallback", async () => {
    const dir = agentDir(GOOD_ROUTES);
    const blocker = join(dir, "not-a-directory");
    writeFileSync(blocker, "");
    emulator.enqueue({ text: "Served anyway." });
    const run = await runPi({
      agentDir: dir,
      env: { AUTO_ROUTER_LOG_DIR: join(blocker, "state") },
      args: ["--model", "auto-router/mine", "-p", "Hi"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Served anyway.");
    const lines = run.stderr.split("\n").filter((line) => line.includes("auto-router"));
    assert.deepEqual(lines, [
      `auto-router: warning: state directory ${join(blocker, "state")} (from AUTO_ROUTER_LOG_DIR) is not usable (${blocker} is a file, not a directory); the state it holds is read, but changes to cooldowns and spend and the event log are kept in memory for this session (set AUTO_ROUTER_LOG_DIR or logDir to a writable directory)`,
    ]);
  });

  it("says a team settings issue on stderr with its level, as the routes file's own issues", async () => {
    const dir = agentDir({ ...GOOD_ROUTES, state: { backend: "redis" } });
    emulator.enqueue({ text: "Served from the file store." });
    const run = await runPi({ agentDir: dir, args: ["--model", "auto-router/mine", "-p", "Hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Served from the file store.");
    const lines = run.stderr.split("\n").filter((line) => line.includes("auto-router"));
    assert.deepEqual(lines, [
      `auto-router: warning: ${routesFile(dir)} at state.url: backend "redis" needs a url (or AUTO_ROUTER_REDIS_URL); using the file store`,
    ]);
  });

  it("says pi could not load models.json when that is why a route's providers are unknown", async () => {
    const dir = agentDir(GOOD_ROUTES);
    // A model cost without cacheRead and cacheWrite: pi leaves the whole file out.
    const models = {
      providers: {
        "mock-a": {
          baseUrl: emulator.url,
          api: "openai-completions",
          apiKey: "sk-mock-a-key",
          models: [{ id: "model-a", cost: { input: 1, output: 2 } }],
        },
      },
    };
    writeFileSync(join(dir, "models.json"), JSON.stringify(models));
    const run = await runPi({ agentDir: dir, args: ["--model", "auto-router/mine", "-p", "Hi"] });
    assert.match(
      run.stderr,
      new RegExp(
        `auto-router: pi could not load ${join(dir, "models.json").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}, so none of its providers is known to pi: \\S`,
      ),
    );
    assert.match(run.stderr, /provider 'mock-a' is not known to pi/);
  });

  it("moves a symbolic link in the event log's place aside, and never writes where it pointed", async () => {
    const dir = agentDir(GOOD_ROUTES);
    const state = join(dir, "state");
    mkdirSync(state, { mode: 0o700 });
    const victim = join(dir, "someone-elses-file.txt");
    writeFileSync(victim, "VICTIM-ORIGINAL\n", { mode: 0o644 });
    symlinkSync(victim, join(state, "auto-router.events.jsonl"));
    emulator.enqueue({ text: "Logged to a file of its own." });
    const run = await runPi({
      agentDir: dir,
      env: { AUTO_ROUTER_LOG_DIR: state },
      args: ["--model", "auto-router/mine", "-p", "Hi"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(readFileSync(victim, "utf8"), "VICTIM-ORIGINAL\n");
    assert.equal(statSync(victim).mode & 0o777, 0o644);
    const log = join(state, "auto-router.events.jsonl");
    assert.ok(!lstatSync(log).isSymbolicLink(), "the log is a file of its own");
    assert.match(readFileSync(log, "utf8"), /"type":"decision"/);
    const aside = readdirSync(state).find((name) => name.startsWith("auto-router.events.jsonl.corrupt-"));
    assert.ok(aside && lstatSync(join(state, aside)).isSymbolicLink(), `the link moved aside: ${readdirSync(state)}`);
    assert.match(
      run.stderr,
      /^auto-router: warning: .*auto-router\.events\.jsonl: the event log was a symbolic link \(to .*someone-elses-file\.txt\); it was moved aside as /m,
    );
  });

  it("never reads or writes a state file through a symbolic link in its place, dangling or not", async () => {
    const dir = agentDir(GOOD_ROUTES);
    const state = join(dir, "state");
    mkdirSync(state, { mode: 0o700 });
    // Someone else's file behind the cooldowns' name holds a cooldown that would keep the only target out for an hour.
    const planted = JSON.stringify({
      v: 1,
      entries: {
        [routeTargetKey("mine", "mock-a/model-a")]: {
          until: Date.now() + 3_600_000,
          kind: "rate_limit",
          message: "planted through a link",
        },
      },
    });
    const victim = join(dir, "someone-elses.json");
    writeFileSync(victim, planted, { mode: 0o644 });
    symlinkSync(victim, join(state, "auto-router.cooldowns.json"));
    const nowhere = join(dir, "not-there", "usage.json");
    symlinkSync(nowhere, join(state, "auto-router.usage.json"));
    emulator.enqueue({ text: "Served despite the planted cooldown." });
    const run = await runPi({
      agentDir: dir,
      env: { AUTO_ROUTER_LOG_DIR: state },
      args: ["--model", "auto-router/mine", "-p", "Hi"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Served despite the planted cooldown.");
    assert.equal(readFileSync(victim, "utf8"), planted);
    assert.equal(statSync(victim).mode & 0o777, 0o644);
    assert.ok(!existsSync(nowhere), "nothing was written where the dangling link pointed");
    const usage = join(state, "auto-router.usage.json");
    assert.ok(!lstatSync(usage).isSymbolicLink(), "the ledger is a file of its own");
    assert.match(readFileSync(usage, "utf8"), /"mock-a"/);
    for (const name of ["auto-router.cooldowns.json", "auto-router.usage.json"]) {
      const aside = readdirSync(state).find((entry) => entry.startsWith(`${name}.corrupt-`));
      assert.ok(
        aside && lstatSync(join(state, aside)).isSymbolicLink(),
        `${name}'s link moved aside: ${readdirSync(state)}`,
      );
    }
    assert.match(
      run.stderr,
      /auto-router\.cooldowns\.json: unreadable \(a symbolic link to .*someone-elses\.json, which is never followed\); moved aside to /,
    );
    assert.match(
      run.stderr,
      /auto-router\.usage\.json: unreadable \(a symbolic link to .*not-there\/usage\.json, which is never followed\)/,
    );
  });
});
