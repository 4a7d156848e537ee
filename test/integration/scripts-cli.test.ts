// Spawns each routing-* script with plain node (no loader flag): they must register tsx themselves, over the logs in
// test/fixtures/events and ones written here. The tests over logs real pi writes are in scripts-cli-pi-logs.test.ts
// (which the pi version matrix runs on every line; these do not depend on pi).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  EVENT_FIXTURES as fixtures,
  replayConfig,
  runRoutingScript,
  scriptJson as json,
} from "../helpers/routing-script.ts";
import { REPO_ROOT } from "../helpers/agent-dir.ts";
import { freshDir } from "../helpers/temp-and-workers.ts";

const SCRIPTS = ["routing-stats", "routing-quality-stats", "routing-session-stats", "routing-replay"] as const;

const runScript = runRoutingScript;

describe("routing scripts from the command line", () => {
  for (const script of SCRIPTS) {
    it(`${script} prints its usage with --help and exits 0`, async () => {
      const run = await runScript(script, ["--help"]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`Usage: node scripts/${script}\\.mjs`));
      for (const flag of ["--file", "--route", "--since", "--until", "--json"])
        assert.ok(run.stdout.includes(flag), `${flag} documented`);
      assert.match(
        run.stdout.replace(/\s+/g, " "),
        /\$AUTO_ROUTER_LOG_DIR, else the routes file's logDir, else \$PI_CODING_AGENT_DIR\/extensions, else ~\/\.pi\/agent\/extensions/,
        "the default log's places, as README and the code have them",
      );
    });
  }

  it("analytics-cli.mjs, the scripts' shared loader, says what it is and names the scripts when run directly", async () => {
    for (const args of [[], ["--help"]]) {
      const run = await runScript("analytics-cli", args);
      assert.equal(run.code, 2);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, /analytics-cli\.mjs is the loader the routing-\*\.mjs scripts share, not a script/);
      for (const script of SCRIPTS) assert.ok(run.stderr.includes(`node scripts/${script}.mjs`), run.stderr);
    }
  });

  it("names a --limit that is no whole number, or one too large to count with, in its own words", async () => {
    const file = join(fixtures, "ours.jsonl");
    const [text, huge] = await Promise.all([
      runScript("routing-session-stats", ["--file", file, "--limit", "ten"]),
      runScript("routing-session-stats", ["--file", file, "--limit", "99999999999999999999"]),
    ]);
    assert.match(text.stderr, /--limit: expected a whole number \(0 or more\), got "ten"/);
    // A whole number, too large: "expected a whole number" told the user it was not one.
    assert.match(huge.stderr, /--limit: expected at most 9007199254740991, got 99999999999999999999/);
    assert.notEqual(huge.code, 0);
  });

  it("routing-stats --json gives the fixture's counts and the reading summary", async () => {
    const output = json(await runScript("routing-stats", ["--json", "--file", join(fixtures, "ours.jsonl")]));
    assert.deepEqual(
      [output.stats.requests, output.stats.incomplete, output.stats.successRate, output.stats.failoverRate],
      [6, 1, 0.8, 0.4],
    );
    assert.deepEqual(
      [output.log.lines, output.log.events, output.log.malformed, output.log.unknownTypes],
      [45, 44, 0, { "config-reloaded": 1 }],
    );
  });

  it("reads a log given as an argument as --file reads it, and points a --log-dir at --file", async () => {
    const config = replayConfig();
    for (const script of SCRIPTS) {
      const common = script === "routing-replay" ? ["--json", "--config", config] : ["--json"];
      const positional = json(await runScript(script, [...common, join(fixtures, "ours.jsonl")]));
      const flagged = json(await runScript(script, [...common, "--file", join(fixtures, "ours.jsonl")]));
      assert.deepEqual(positional.log.files, [join(fixtures, "ours.jsonl")], script);
      assert.deepEqual(positional, flagged, script);
    }
    const run = await runScript("routing-stats", ["--log-dir", fixtures]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^routing-stats: Unknown option '--log-dir'; name the event log with --file <path> \(a file or directory\), or give its path as an argument\n/,
    );
  });

  it("routing-quality-stats --json joins the fixture's ratings", async () => {
    const output = json(await runScript("routing-quality-stats", ["--json", "--file", join(fixtures, "ours.jsonl")]));
    assert.deepEqual([output.stats.ratings, output.stats.good, output.stats.bad, output.stats.unjoined], [5, 3, 2, 1]);
    assert.equal(output.stats.failover.failoverShare, 0.25);
  });

  it("routing-quality-stats counts a rating in the window of the request it rates, not as unmatched", async () => {
    const file = join(fixtures, "ours.jsonl");
    // r1 and r2 run on May 1st before 11:00, rated at 11:30 and 11:31; r4 and r5 on May 2nd before 11:30, rated at
    // 12:00 and 12:01; the fifth rating is of a request the log does not have.
    const [since, sinceText, until] = await Promise.all([
      runScript("routing-quality-stats", ["--json", "--since", "2026-05-01T11:00", "--file", file]),
      runScript("routing-quality-stats", ["--since", "2026-05-01T11:00", "--file", file]),
      runScript("routing-quality-stats", [
        "--json",
        "--since",
        "2026-05-02",
        "--until",
        "2026-05-02T11:30",
        "--file",
        file,
      ]),
    ]);
    const before = json(since).stats;
    assert.deepEqual(
      [before.ratings, before.unjoined, before.ofRequestsBeforeSince],
      [3, 1, 2],
      "the ratings of r1 and r2 are left out with their requests, not reported as not matched",
    );
    assert.equal(sinceText.code, 0, sinceText.stderr);
    assert.match(
      sinceText.stdout,
      /^ratings {10}3 \(good 2, bad 1\), 1 not matched to a request; 2 left out: their requests are before --since$/m,
    );
    const after = json(until).stats;
    assert.deepEqual(
      [after.ratings, after.good, after.bad, after.unjoined, after.ofRequestsBeforeSince],
      [2, 1, 1, 0, 0],
      "r4 and r5, in the window, keep their ratings given after --until; the unknown request's is outside it",
    );
  });

  it("routing-session-stats --json --html writes the chart page and reports drift", async () => {
    const html = join(freshDir("auto-router-cli-html"), "report.html");
    const run = await runScript("routing-session-stats", [
      "--json",
      "--file",
      join(fixtures, "ours.jsonl"),
      "--html",
      html,
      "--daily-top",
      "1",
      "--limit",
      "2",
    ]);
    assert.equal(run.stderr.trim(), `wrote the HTML report to ${html}`);
    const output = json(run);
    assert.deepEqual(
      output.stats.days.map((day: { day: string }) => day.day),
      ["2026-05-02", "2026-05-03"],
    );
    assert.equal(output.stats.drift.plannerDrift, 1);
    assert.equal(output.html, html);
    assert.equal(statSync(html).mode & 0o777, 0o600, "the report is for its owner only");
    const page = readFileSync(html, "utf8");
    for (const id of ["chart-daily-composition", "chart-latency", "chart-cost", "chart-failovers"])
      assert.match(page, new RegExp(`<svg id="${id}"`));
  });

  it("routing-session-stats --html into a FIFO writes the page and leaves the FIFO's mode alone", async () => {
    // A path that is no regular file (a FIFO here, /dev/null or /dev/stdout for a user) is not the report's to chmod.
    const fifo = join(freshDir("auto-router-cli-fifo"), "report.pipe");
    execFileSync("mkfifo", ["-m", "644", fifo]);
    const page = new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      createReadStream(fifo)
        .on("data", (chunk) => chunks.push(chunk as Buffer))
        .on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
        .on("error", reject);
    });
    const run = await runScript("routing-session-stats", ["--file", join(fixtures, "ours.jsonl"), "--html", fifo]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(await page, /^<!doctype html>/);
    assert.equal(statSync(fifo).mode & 0o777, 0o644);
  });

  it("session and quality stats say how many rows --limit left out of each list", async () => {
    const file = join(fixtures, "ours.jsonl");
    const [session, quality, none] = await Promise.all([
      runScript("routing-session-stats", ["--file", file, "--limit", "1"]),
      runScript("routing-quality-stats", ["--file", file, "--limit", "1"]),
      runScript("routing-quality-stats", ["--file", file, "--limit", "0"]),
    ]);
    for (const run of [session, quality, none]) assert.equal(run.code, 0, run.stderr);
    // A section runs from its title to the next title (a line underlined with "="), blank lines inside included; the
    // last one ends where the line saying what was read begins.
    const section = (text: string, title: string) =>
      text
        .split(/\n\n(?=[^\n]+\n=+\n)/)
        .find((part) => part.startsWith(`${title}\n`))!
        .split("\n\nread ")[0]!
        .trimEnd();
    // The fixture has 3 UTC days, 2 drifted requests (one planner drift, one failover), 3 good and 2 bad ratings.
    assert.match(
      section(session.stdout, "Daily composition by served model (UTC days, 6 requests, 1 unfinished)"),
      /\(2 more; --limit 3 shows all\)$/,
    );
    assert.match(section(session.stdout, "Failovers per day"), /\(2 more; --limit 3 shows all\)$/);
    assert.match(section(session.stdout, "Recent drift"), /\(1 more; --limit 2 shows all\)$/);
    assert.doesNotMatch(
      section(session.stdout, "Top errors masked by failover"),
      /more;/,
      "the one masked error is shown",
    );
    assert.match(section(quality.stdout, "Recent good"), /\(2 more; --limit 3 shows all\)$/);
    assert.match(section(quality.stdout, "Recent bad"), /\(1 more; --limit 2 shows all\)$/);
    assert.equal(section(none.stdout, "Recent bad"), "Recent bad\n==========\n(2 more; --limit 2 shows all)");
  });

  it("routing-session-stats -v prints the bucket tables", async () => {
    const run = await runScript("routing-session-stats", ["-v", "--file", join(fixtures, "ours.jsonl")]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Latency buckets per model$/m);
    assert.match(run.stdout, /^Cost buckets per model$/m);
  });

  it("names the unit of every failover count, requests failed over apart from target switches and refusals", async () => {
    // r2 moved twice (two target switches, one request failed over); r3 was refused by a hard budget.
    const directory = freshDir("auto-router-cli-units");
    const original = readFileSync(join(fixtures, "ours.jsonl"), "utf8");
    const log = original
      .replace(
        '"attempts":2,"failovers":1,"latencyMs":3300,"failureKinds":["rate_limit"]',
        '"attempts":3,"failovers":2,"latencyMs":3300,"failureKinds":["rate_limit","server"]',
      )
      .replace(
        '"outcome":"failed","plannedTarget":"anthropic/claude-sonnet-4-6","attempts":2,"failovers":1',
        '"outcome":"refused","plannedTarget":"anthropic/claude-sonnet-4-6","attempts":0,"failovers":0',
      );
    writeFileSync(join(directory, "auto-router.events.jsonl"), log);
    const [routingText, routingJson, sessionText, sessionJson] = await Promise.all([
      runScript("routing-stats", ["--file", directory]),
      runScript("routing-stats", ["--json", "--file", directory]),
      runScript("routing-session-stats", ["--file", directory]),
      runScript("routing-session-stats", ["--json", "--file", directory]),
    ]);
    assert.match(
      routingText.stdout,
      /^failover rate {2}20\.0% of requests \(1 request failed over, 2 target switches\)$/m,
    );
    const routing = json(routingJson).stats;
    assert.deepEqual([routing.failovers, routing.requestsFailedOver, routing.targetSwitches], [1, 1, 2]);
    assert.match(sessionText.stdout, /^day +requests +failed over +target switches +failed +refused +target refused$/m);
    assert.match(sessionText.stdout, /^2026-05-01 +2 +1 +2 +0 +0 /m);
    assert.match(sessionText.stdout, /^2026-05-02 +3 +0 +0 +0 +1 +0$/m);
    assert.deepEqual(
      json(sessionJson).stats.days.map((day: Record<string, unknown>) => [
        day.day,
        day.requestsFailedOver,
        day.targetSwitches,
        day.failovers,
        day.failed,
        day.refused,
      ]),
      [
        ["2026-05-01", 1, 2, 2, 0, 0],
        ["2026-05-02", 0, 0, 0, 0, 1],
        ["2026-05-03", 0, 0, 0, 0, 0],
      ],
    );
  });

  it("shows an upstream error holding line breaks and escape sequences on one line, without them, in text and HTML", async () => {
    const directory = freshDir("auto-router-control-characters");
    writeFileSync(
      join(directory, "auto-router.events.jsonl"),
      readFileSync(join(fixtures, "ours.jsonl"), "utf8").replace(
        '"message":"429 rate limited, retry in 20s"',
        `"message":${JSON.stringify("429 rate limited\nline two\r\n\u001b[2J\u001b]0;pwned\u0007 end")}`,
      ),
    );
    const html = join(directory, "report.html");
    const run = await runScript("routing-session-stats", ["--file", directory, "--html", html]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^anthropic\/claude-sonnet-4-6 +rate_limit +1 +429 rate limited line two \?\[2J\?\]0;pwned\? end$/m,
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape character is what must not be printed.
    for (const text of [run.stdout, readFileSync(html, "utf8")]) assert.doesNotMatch(text, /\u001b|\u0007/);
  });

  it("routing-session-stats shows costs below $0.0001 to two significant digits, not as $0.0000", async () => {
    // The fixture's costs ($0.001-$0.02 an attempt) made a thousand times smaller.
    const directory = freshDir("auto-router-small-costs");
    writeFileSync(
      join(directory, "auto-router.events.jsonl"),
      readFileSync(join(fixtures, "ours.jsonl"), "utf8").replace(
        /"costUsd":([0-9.]+)/g,
        (_match, cost: string) => `"costUsd":${Number(cost) / 1000}`,
      ),
    );
    const run = await runScript("routing-session-stats", ["--file", directory]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^openai-codex\/gpt-5\.3-codex .* \$0\.00002 \/ \$0\.00002 +\$0\.00002 /m);
    assert.match(run.stdout, /^google\/gemini-3-flash-preview .* \$0\.000002 \/ \$0\.000002 +\$0\.000002 /m);
    assert.doesNotMatch(run.stdout, /\$0\.0000(?![0-9])/);
  });

  it("routing-replay --json counts the requests a reordered config would route differently", async () => {
    const output = json(
      await runScript("routing-replay", ["--json", "--file", join(fixtures, "ours.jsonl"), "--config", replayConfig()]),
    );
    assert.deepEqual([output.report.replayed, output.report.same, output.report.different], [7, 2, 5]);
    assert.deepEqual([output.report.missingTargets, output.report.targetsChecked], [[], true]);
  });

  it("routing-replay reads a request known only by a candidates line without its list, or skips one of null entries (it crashed)", async () => {
    // The decision and final lines of the request skipped as malformed; its candidates line without the list, which
    // the format may leave out: the planned target was read as the list's first entry ("reading '0'"). A list holding
    // null was read entry by entry ("reading 'key'"): that line is malformed.
    const file = join(freshDir("auto-router-cli-replay-no-list"), "auto-router.events.jsonl");
    const lone = { v: 1, type: "candidates", ts: "2026-05-04T09:00:00.001Z", routeId: "subscription-swe" };
    const extra = [
      { ...lone, requestId: "r9", data: {} },
      { ...lone, requestId: "r10", data: { candidates: [null], skipped: [] } },
      { ...lone, requestId: "r11", data: { candidates: [], skipped: [null] } },
    ];
    writeFileSync(
      file,
      `${readFileSync(join(fixtures, "ours.jsonl"), "utf8")}${extra.map((line) => JSON.stringify(line)).join("\n")}\n`,
    );
    const run = await runScript("routing-replay", ["--json", "--file", file, "--config", replayConfig()]);
    assert.equal(run.code, 0, run.stderr);
    const output = json(run);
    assert.equal(output.report.replayed, 7);
    assert.equal(output.log.malformedByReason["candidates with candidates not a list of objects"], 1);
    assert.equal(output.log.malformedByReason["candidates with skipped not a list of objects"], 1);
  });

  it("routing-replay skips a target it cannot find as missing, as the router does, and names it once at the top", async () => {
    // claude-sonnet-4-66 is a typo (in neither pi's catalogue nor a models.json, never in the log); gpt-5.3-codex is
    // in both; zz/nope is the only target of its route.
    const config = replayConfig({
      "subscription-swe": {
        targets: [
          { provider: "anthropic", modelId: "claude-sonnet-4-66" },
          { provider: "openai-codex", modelId: "gpt-5.3-codex" },
        ],
      },
      "subscription-fast": { targets: [{ provider: "zz", modelId: "nope" }] },
    });
    const file = join(fixtures, "ours.jsonl");
    const [text, output] = await Promise.all([
      runScript("routing-replay", ["--file", file, "--config", config]),
      runScript("routing-replay", ["--json", "--file", file, "--config", config]).then(json),
    ]);
    assert.equal(text.code, 0, text.stderr);
    const [warning, rest] = text.stdout.split("\n\nReplay\n");
    assert.match(
      warning!,
      /^Warning: 2 targets in .*routes\.json were not found in pi's model catalogue, .*models\.json or the log/,
    );
    assert.match(warning!, /^ {2}anthropic\/claude-sonnet-4-66 +skipped in 5 replayed requests$/m);
    assert.match(warning!, /^ {2}zz\/nope +skipped in 2 replayed requests$/m);
    assert.ok(!rest!.includes("claude-sonnet-4-66") && !rest!.includes("zz/nope"), rest);
    assert.match(rest!, /^anthropic\/claude-sonnet-4-6 +openai-codex\/gpt-5\.3-codex +5$/m);
    assert.match(rest!, /^google\/gemini-3-flash-preview +\(no candidate\) +2$/m);
    assert.deepEqual(output.report.missingTargets, [
      { key: "anthropic/claude-sonnet-4-66", requests: 5 },
      { key: "zz/nope", requests: 2 },
    ]);
  });

  it("routing-replay names the line and column of a --config that is not valid JSON, as pi does for its routes file", async () => {
    const config = join(freshDir("auto-router-cli-bad-config"), "routes.json");
    writeFileSync(config, '{\n  "routes": {\n    "swe": { "targets": [] },\n  }\n}\n');
    const run = await runScript("routing-replay", ["--config", config, "--file", join(fixtures, "ours.jsonl")]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.ok(
      run.stderr.startsWith(
        `routing-replay: invalid config: ${config}:4:3: not valid JSON: Expected double-quoted property name (JSON allows no comma before it)\n`,
      ),
      run.stderr,
    );
  });

  it("routing-replay says what pi would warn about in --config (an unknown key), with its line and column", async () => {
    const config = join(freshDir("auto-router-cli-warned-config"), "routes.json");
    writeFileSync(
      config,
      JSON.stringify({ routes: { swe: { targets: [{ provider: "anthropic", modelId: "m" }] } }, state: { urll: "x" } }),
    );
    const run = await runScript("routing-replay", ["--config", config, "--file", join(fixtures, "ours.jsonl")]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `^routing-replay: warning: ${config.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:1:\\d+ at state\\.urll: unknown key \\(ignored\\); did you mean "url"\\?$`,
        "m",
      ),
    );
  });

  it("routing-replay finds a target in the agent dir's models.json, as pi would", async () => {
    const agentDirectory = freshDir("auto-router-cli-agent");
    writeFileSync(
      join(agentDirectory, "models.json"),
      JSON.stringify({
        providers: { zz: { baseUrl: "http://127.0.0.1:9", api: "openai-completions", models: [{ id: "nope" }] } },
      }),
    );
    const config = replayConfig({ "subscription-fast": { targets: [{ provider: "zz", modelId: "nope" }] } });
    const output = json(
      await runScript("routing-replay", ["--json", "--file", join(fixtures, "ours.jsonl"), "--config", config], {
        PI_CODING_AGENT_DIR: agentDirectory,
      }),
    );
    assert.deepEqual(output.report.missingTargets, []);
    assert.deepEqual(output.report.changes, [{ from: "google/gemini-3-flash-preview", to: "zz/nope", requests: 2 }]);
  });

  it("every script reads a log in the earlier public format", async () => {
    const file = join(fixtures, "legacy.jsonl");
    const [stats, quality, session, replay] = await Promise.all([
      runScript("routing-stats", ["--json", "--file", file]),
      runScript("routing-quality-stats", ["--json", "--file", file]),
      runScript("routing-session-stats", ["--json", "--file", file]),
      runScript("routing-replay", ["--json", "--file", file, "--config", replayConfig()]),
    ]);
    assert.equal(json(stats).stats.requests, 4);
    assert.equal(json(quality).stats.ratings, 2);
    assert.equal(json(session).stats.drift.failoverAfterError, 1);
    const report = json(replay).report;
    // Five decisions; L4 is on "cheap", a route this config lacks; the four on "swe" plan Sonnet as before.
    assert.deepEqual([report.decisions, report.replayed, report.same], [5, 4, 4]);
    assert.equal(json(stats).log.legacyEvents, 25);
  });

  it("reads an old log directory that we kept appending to as one history, each request counted once", async () => {
    const directory = freshDir("auto-router-merged-log");
    const oldLines = readFileSync(join(fixtures, "legacy.jsonl"), "utf8");
    const newLines = readFileSync(join(fixtures, "ours.jsonl"), "utf8");
    writeFileSync(join(directory, "auto-router.events.jsonl"), oldLines + newLines);
    const output = json(await runScript("routing-stats", ["--json"], { AUTO_ROUTER_LOG_DIR: directory }));
    // Finished requests: 4 in legacy.jsonl and 6 in ours.jsonl; each file also ends with one unfinished request.
    assert.equal(output.stats.requests, 4 + 6);
    assert.equal(output.stats.incomplete, 1 + 1);
    assert.equal(output.log.legacyEvents, 25);
  });

  it("reads the log where the routes file's logDir puts it, as the router writes it there", async () => {
    const agentDirectory = freshDir("auto-router-cli-agent");
    const logs = freshDir("auto-router-cli-logdir");
    mkdirSync(join(agentDirectory, "extensions"), { recursive: true });
    // With a comment and a trailing comma, as the router accepts the file.
    writeFileSync(
      join(agentDirectory, "extensions", "auto-router.routes.json"),
      `{\n  // the logs live elsewhere\n  "logDir": ${JSON.stringify(logs)},\n  "routes": {},\n}\n`,
    );
    writeFileSync(join(logs, "auto-router.events.jsonl"), readFileSync(join(fixtures, "ours.jsonl"), "utf8"));
    const output = json(await runScript("routing-stats", ["--json"], { PI_CODING_AGENT_DIR: agentDirectory }));
    assert.equal(output.stats.requests, 6);
  });

  it("counts malformed lines in the output instead of failing", async () => {
    const output = json(await runScript("routing-stats", ["--json", "--file", join(fixtures, "malformed.jsonl")]));
    assert.equal(output.log.malformed, 7);
    assert.equal(output.stats.requests, 1);
    const text = await runScript("routing-stats", ["--file", join(fixtures, "malformed.jsonl")]);
    assert.match(text.stdout, /7 malformed lines skipped/);
  });

  it("says --route matched no request, naming the log's routes and the one probably meant, on stderr", async () => {
    const file = join(fixtures, "ours.jsonl");
    const [typo, unknown, known] = await Promise.all([
      runScript("routing-stats", ["--json", "--route", "subscription-fsat", "--file", file]),
      runScript("routing-session-stats", ["--route", "nightly", "--file", file]),
      runScript("routing-stats", ["--route", "subscription-fast", "--file", file]),
    ]);
    assert.equal(json(typo).stats.requests, 0, "stdout stays the (empty) report");
    // No routes file in the fresh HOME: the router's built-in routes and aliases are the ones in force.
    assert.match(
      typo.stderr.trim(),
      /^routing-stats: --route subscription-fsat: no requests for route subscription-fsat in the log; did you mean "subscription-fast"\? \(routes in the log: subscription-fast, subscription-swe; built-in routes \(no routes file at \S+auto-router\.routes\.json\): subscription-economy, subscription-fast, [^;]+; aliases: economy, fast, long, reasoning, swe\)$/,
    );
    assert.equal(unknown.code, 0, unknown.stderr);
    assert.match(
      unknown.stderr,
      /^routing-session-stats: --route nightly: no requests for route nightly in the log \(routes in the log: subscription-fast, subscription-swe; built-in routes /m,
    );
    assert.equal(known.code, 0);
    assert.equal(known.stderr, "");
  });

  it("exits 1 saying a file is not an event log, naming it and its first line, instead of counting its lines", async () => {
    const readme = join(REPO_ROOT, "README.md");
    const run = await runScript("routing-stats", ["--file", readme]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.ok(run.stderr.startsWith(`routing-stats: ${readme} is not an event log: `), run.stderr);
    assert.match(
      run.stderr,
      /none of its \d{1,3}(?:,\d{3})* non-blank lines is an event \(line 1: not JSON\); pass an auto-router/,
    );
    // A live log whose only line is still being written is a log, read as one.
    const directory = freshDir("auto-router-first-line");
    const line = readFileSync(join(fixtures, "ours.jsonl"), "utf8").split("\n")[0]!;
    writeFileSync(join(directory, "auto-router.events.jsonl"), line.slice(0, 50));
    const live = await runScript("routing-stats", ["--file", directory]);
    assert.equal(live.code, 0, live.stderr);
    assert.match(live.stdout, /1 malformed line skipped/);
  });

  it("says a last line was cut off when the log is read while its writer is mid-line", async () => {
    const directory = freshDir("auto-router-live-log");
    const lines = readFileSync(join(fixtures, "ours.jsonl"), "utf8");
    writeFileSync(join(directory, "auto-router.events.jsonl"), lines + lines.split("\n")[0]!.slice(0, 50));
    const text = await runScript("routing-stats", [], { AUTO_ROUTER_LOG_DIR: directory });
    assert.match(text.stdout, /1 malformed line skipped/);
    assert.match(
      text.stdout,
      /malformed: .*auto-router\.events\.jsonl:\d+ \(cut off at the end of the file \(still being written/,
    );
  });

  it("reads the rotated and live files of $AUTO_ROUTER_LOG_DIR when --file is absent", async () => {
    const output = json(await runScript("routing-stats", ["--json"], { AUTO_ROUTER_LOG_DIR: fixtures }));
    assert.deepEqual(
      output.log.files.map((file: string) => file.slice(fixtures.length + 1)),
      ["auto-router.events.1.jsonl", "auto-router.events.jsonl"],
    );
    assert.equal(output.stats.requests, 2);
  });

  it("exits 1 with a clear message on an unknown flag", async () => {
    const run = await runScript("routing-stats", ["--bogus"]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /routing-stats: Unknown option '--bogus'; a file name that starts with "-" goes after "--" \(-- --bogus\)\n/,
    );
    assert.doesNotMatch(run.stderr, /did you mean/);
    assert.equal(run.stdout, "");
    // A mistyped option is named with the one meant, a script's own (--config) as the common ones (--json).
    for (const [script, args, said] of [
      [
        "routing-replay",
        ["--confg", "new-routes.json"],
        /^routing-replay: Unknown option '--confg'; did you mean --config\?\n/,
      ],
      ["routing-stats", ["--jsno"], /^routing-stats: Unknown option '--jsno'; did you mean --json\?\n/],
      [
        "routing-session-stats",
        ["--sicne=7d"],
        /^routing-session-stats: Unknown option '--sicne'; did you mean --since\?\n/,
      ],
    ] as const) {
      const typo = await runScript(script, [...args]);
      assert.equal(typo.code, 1, script);
      assert.match(typo.stderr, said);
      assert.equal(typo.stdout, "");
    }
  });

  it("exits 1 naming the path when the log file cannot be read", async () => {
    const missing = join(tmpdir(), "auto-router-no-such-dir", "auto-router.events.jsonl");
    const run = await runScript("routing-session-stats", ["--file", missing]);
    assert.equal(run.code, 1);
    assert.ok(run.stderr.includes(`cannot read ${missing}: no such file or directory\n`), run.stderr);
  });

  it("exits 1 when the default log directory has no event log", async () => {
    const agentDirectory = freshDir("auto-router-cli-agent");
    const run = await runScript("routing-quality-stats", [], { PI_CODING_AGENT_DIR: agentDirectory });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot read .*extensions: no such file or directory\n/);
  });

  it("exits 1 saying so when auto-router.events.jsonl in the directory is not a file", async () => {
    const directory = freshDir("auto-router-cli-dir-log");
    mkdirSync(join(directory, "auto-router.events.jsonl"));
    const run = await runScript("routing-stats", ["--file", directory]);
    assert.equal(run.code, 1);
    assert.ok(
      run.stderr.includes(
        `${join(directory, "auto-router.events.jsonl")} exists but is not a file (a directory): no event log to read in ${directory}`,
      ),
      run.stderr,
    );
  });

  it("skips and names a final line whose outcome or counts the reports would print as garbage (02, NaN, undefined)", async () => {
    const file = join(freshDir("auto-router-cli-final"), "auto-router.events.jsonl");
    const line = (requestId: string, data: Record<string, unknown>) =>
      JSON.stringify({ v: 1, type: "final", ts: "2026-05-04T10:00:01.000Z", requestId, routeId: "r1", data });
    const served = { outcome: "success", servedTarget: "p/m", attempts: 1, failovers: 0 };
    writeFileSync(
      file,
      `${[
        line("good", served),
        line("text-count", { ...served, attempts: "3", failovers: "2" }),
        line("no-count", { outcome: "success", servedTarget: "p/m" }),
        line("no-outcome", { ...served, outcome: undefined }),
      ].join("\n")}\n`,
    );
    for (const script of ["routing-stats", "routing-session-stats"]) {
      const run = await runScript(script, ["--file", file]);
      assert.equal(run.code, 0, run.stderr);
      assert.doesNotMatch(run.stdout, /NaN|undefined/, `${script}: ${run.stdout}`);
      assert.match(run.stdout, /read 4 lines from 1 file: 1 event, 3 malformed lines skipped/);
      assert.ok(run.stdout.includes(`${file}:2 (final without attempts as a whole number)`), run.stdout);
      assert.ok(run.stdout.includes(`${file}:3 (final without attempts as a whole number)`), run.stdout);
      assert.ok(run.stdout.includes(`${file}:4 (final without an outcome)`), run.stdout);
    }
    const json = JSON.parse((await runScript("routing-stats", ["--file", file, "--json"])).stdout);
    assert.equal(json.stats.requests, 1);
    assert.equal(json.stats.targetSwitches, 0);
  });

  it("skips and names a line holding what a report reads in another kind, rather than failing with a TypeError", async () => {
    const file = join(freshDir("auto-router-cli-kinds"), "auto-router.events.jsonl");
    const at = "2026-05-04T10:00:01.000Z";
    const served = { outcome: "success", servedTarget: "p/m", attempts: 1, failovers: 0 };
    const line = (record: Record<string, unknown>) => JSON.stringify({ v: 3, ts: at, routeId: "r1", ...record });
    writeFileSync(
      file,
      `${[
        line({ type: "final", requestId: "good", data: served }),
        // A hand edit: each stopped every script with "TypeError: ... is not a function".
        line({ type: "decision", requestId: "d", data: { routeId: "r1" }, candidates: { candidates: { key: "p/m" } } }),
        line({ type: "final", requestId: "f", data: { ...served, failureKinds: "rate_limit" } }),
        line({ type: "final", requestId: "s", data: served, steps: [{ type: "attempt", data: { target: 5 }, ms: 0 }] }),
        // A route id that is no string ("text.replace is not a function" printing its table).
        line({ type: "final", requestId: "u", data: served, routeId: ["r1"] }),
        // A step's time no date has ("RangeError: Invalid time value").
        line({
          type: "final",
          requestId: "t",
          data: served,
          steps: [{ type: "attempt", data: { target: "p/m" }, ms: 1e20 }],
        }),
      ].join("\n")}\n`,
    );
    for (const script of ["routing-stats", "routing-session-stats", "routing-quality-stats"]) {
      const run = await runScript(script, ["--file", file]);
      assert.equal(run.code, 0, `${script}: ${run.stderr}`);
      assert.doesNotMatch(run.stdout + run.stderr, /TypeError|unexpected error/, script);
      assert.match(run.stdout, /read 6 lines from 1 file: 1 event, 5 malformed lines skipped/, script);
      assert.ok(run.stdout.includes(`${file}:2 (candidates with candidates not a list of objects)`), run.stdout);
      assert.ok(run.stdout.includes(`${file}:3 (final with failureKinds not a list of strings)`), run.stdout);
      assert.ok(run.stdout.includes(`${file}:4 (attempt with target not a string)`), run.stdout);
      assert.ok(run.stdout.includes(`${file}:5 (final with routeId not a string)`), run.stdout);
      assert.ok(run.stdout.includes(`${file}:6 (a step without a valid ms)`), run.stdout);
    }
    // A quota event without its level stopped session stats printing its UVI timeline ("Cannot read properties of
    // undefined").
    const quotaFile = join(freshDir("auto-router-cli-kinds"), "auto-router.events.jsonl");
    const quota = (data: Record<string, unknown>) => line({ type: "quota", routeId: null, sessionId: "s", data });
    writeFileSync(
      quotaFile,
      `${[quota({ provider: "p", uvi: 0.5, level: "ok", source: "x" }), quota({ provider: "p", uvi: 0.7, source: "x" })].join("\n")}\n`,
    );
    const run = await runScript("routing-session-stats", ["--file", quotaFile]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /read 2 lines from 1 file: 1 event, 1 malformed line skipped/);
    assert.ok(run.stdout.includes(`${quotaFile}:2 (quota without level)`), run.stdout);
    assert.match(run.stdout, /^p +\S+ +1 +0\.50 +0\.50 +0\.50 +ok$/m);
  });

  it('skips and names a line whose cost or time no request has (1e308, negative, "NaN"), rather than summing it', async () => {
    const file = join(freshDir("auto-router-cli-figures"), "auto-router.events.jsonl");
    const line = (type: string, requestId: string | undefined, data: Record<string, unknown>) =>
      JSON.stringify({
        v: 1,
        type,
        ts: "2026-05-04T10:00:01.000Z",
        ...(requestId && { requestId }),
        routeId: "r1",
        data,
      });
    const usage = {
      target: "p/m",
      provider: "p",
      outcome: "success",
      input: 10,
      output: 5,
      cacheRead: 0,
      cacheWrite: 0,
      costUsd: 0.25,
      estimated: false,
      day: "2026-05-04",
      month: "2026-05",
    };
    const served = {
      outcome: "success",
      servedTarget: "p/m",
      attempts: 1,
      failovers: 0,
      latencyMs: 900,
      failureKinds: [],
    };
    writeFileSync(
      file,
      `${[
        line("usage", "good", usage),
        line("usage", "good", { ...usage, costUsd: -5 }),
        line("result", "good", { attempt: 1, target: "p/m", outcome: "success", latencyMs: "NaN" }),
        line("final", "good", { ...served, costUsd: 0.25 }),
        line("final", "huge", { ...served, costUsd: 1e308 }),
        line("usage", undefined, { ...usage, costUsd: "12", probe: true }),
        // A v3 final line whose failed attempt carries implausible figures: that step's figures alone are left out.
        JSON.stringify({
          v: 3,
          type: "final",
          ts: "2026-05-04T10:00:02.000Z",
          requestId: "v3",
          routeId: "r1",
          data: { ...served, attempts: 2, failovers: 1, failureKinds: ["rate_limit"], costUsd: 0.5 },
          steps: [
            { type: "attempt", ms: -900, data: { attempt: 1, target: "q/n" } },
            {
              type: "result",
              ms: -800,
              data: { attempt: 1, target: "q/n", outcome: "failed", failureKind: "rate_limit", latencyMs: 1e308 },
            },
            { type: "usage", ms: -800, data: { ...usage, target: "q/n", provider: "q", attempt: 1, costUsd: 1e308 } },
            { type: "attempt", ms: -800, data: { attempt: 2, target: "p/m" } },
            { type: "result", ms: -1, data: { attempt: 2, target: "p/m", outcome: "success", latencyMs: 799 } },
            { type: "usage", ms: -1, data: { ...usage, attempt: 2, costUsd: 0.5 } },
          ],
        }),
      ].join("\n")}\n`,
    );
    const [run, text] = await Promise.all([
      runScript("routing-stats", ["--file", file, "--json"]),
      runScript("routing-stats", ["--file", file]),
    ]);
    const output = json(run);
    assert.deepEqual([output.log.events, output.log.malformed, output.log.droppedFigures], [9, 4, 2]);
    assert.deepEqual(output.log.malformedSamples, [
      `${file}:2 (usage with costUsd not an amount from 0 to 1,000,000)`,
      `${file}:3 (result with latencyMs not a number of milliseconds up to 1,000,000,000,000)`,
      `${file}:5 (final with costUsd not an amount from 0 to 1,000,000)`,
      `${file}:6 (usage with costUsd not an amount from 0 to 1,000,000)`,
    ]);
    const dropped = [
      `${file}:7 (result with latencyMs not a number of milliseconds up to 1,000,000,000,000)`,
      `${file}:7 (usage with costUsd not an amount from 0 to 1,000,000)`,
    ];
    assert.deepEqual(output.log.droppedFigureSamples, dropped);
    assert.deepEqual([output.stats.requests, output.stats.failovers], [2, 1], "the v3 line's request is kept");
    assert.equal(output.stats.totalCostUsd, 0.75, "the good requests' costs alone, not 1e308");
    assert.equal(text.code, 0, text.stderr);
    assert.ok(text.stdout.includes("9 events, 4 malformed lines skipped, 2 implausible figures left out\n"));
    assert.ok(
      text.stdout.includes(
        `${output.log.malformedSamples.map((sample: string) => `  malformed: ${sample}\n`).join("")}${dropped.map((sample) => `  figure left out: ${sample}\n`).join("")}`,
      ),
      text.stdout,
    );
    assert.deepEqual(output.stats.probes, { count: 0, costUsd: 0 }, 'a probe costing "12" is not summed as text');
  });

  it("shows no day for --limit 0 in routing-session-stats, as for its other lists, not every day", async () => {
    const file = join(fixtures, "ours.jsonl");
    const [none, one] = await Promise.all([
      runScript("routing-session-stats", ["--file", file, "--limit", "0", "--json"]),
      runScript("routing-session-stats", ["--file", file, "--limit", "1", "--json"]),
    ]);
    assert.equal(none.code, 0, none.stderr);
    const stats = JSON.parse(none.stdout).stats;
    assert.deepEqual(stats.days, []);
    assert.deepEqual(stats.recentDrift, []);
    assert.equal(JSON.parse(one.stdout).stats.days.length, 1);
    const text = await runScript("routing-session-stats", ["--file", file, "--limit", "0"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /\(UTC days, 6 requests, 1 unfinished\)\n=+\n\(no day shown: --limit 0\)\n/);
    // The HTML report's charts say the same, not that no request finished.
    const html = join(freshDir("auto-router-cli-html-limit0"), "report.html");
    const page = await runScript("routing-session-stats", ["--file", file, "--limit", "0", "--html", html]);
    assert.equal(page.code, 0, page.stderr);
    const written = readFileSync(html, "utf8");
    assert.equal(written.split(">no day shown: --limit 0</text>").length, 3, "both day charts");
    assert.doesNotMatch(written, /no finished requests/);
  });

  it("refuses --html naming an event log it reads, which the report would replace, and leaves the log as it was", async () => {
    const directory = freshDir("auto-router-cli-html-over-log");
    for (const name of ["auto-router.events.1.jsonl", "auto-router.events.jsonl"])
      copyFileSync(join(fixtures, name), join(directory, name));
    for (const name of ["auto-router.events.jsonl", "auto-router.events.1.jsonl"]) {
      const log = join(directory, name);
      const before = readFileSync(log, "utf8");
      // The default log (the state directory's) and the log named by --file alike.
      for (const args of [
        ["--html", log],
        ["--file", directory, "--html", `${directory}/./${name}`],
      ]) {
        const run = await runScript("routing-session-stats", args, {
          PI_CODING_AGENT_DIR: freshDir("auto-router-cli-agent"),
          AUTO_ROUTER_LOG_DIR: directory,
        });
        assert.equal(run.code, 1, run.stdout);
        assert.equal(
          run.stderr,
          `routing-session-stats: --html ${args.at(-1)}: that is the event log ${log}, which this report reads and would replace; name another file for the report\nRun with --help for usage.\n`,
        );
        assert.equal(readFileSync(log, "utf8"), before);
      }
    }
    const report = join(directory, "report.html");
    const written = await runScript("routing-session-stats", ["--file", directory, "--html", report]);
    assert.equal(written.code, 0, written.stderr);
    assert.match(readFileSync(report, "utf8"), /^<!doctype html>/);
  });

  it("reads a log named twice (its directory and its file, another spelling, a symbolic link) once, not counting it twice", async () => {
    const directory = freshDir("auto-router-cli-twice");
    const logs = join(directory, "logs");
    mkdirSync(logs);
    for (const name of ["auto-router.events.1.jsonl", "auto-router.events.jsonl"])
      copyFileSync(join(fixtures, name), join(logs, name));
    symlinkSync(logs, join(directory, "link"));
    const once = await runScript("routing-stats", ["--file", logs, "--json"]);
    assert.equal(once.code, 0, once.stderr);
    const expected = JSON.parse(once.stdout);
    assert.equal(expected.stats.requests, 2);
    for (const twice of [
      [logs, join(logs, "auto-router.events.jsonl")],
      [logs, `${directory}/./logs/`],
      [logs, join(directory, "link")],
    ]) {
      const run = await runScript("routing-stats", [...twice.flatMap((file) => ["--file", file]), "--json"]);
      assert.equal(run.code, 0, run.stderr);
      const result = JSON.parse(run.stdout);
      assert.deepEqual(result.stats, expected.stats, twice.join(" + "));
      assert.deepEqual(result.log.files, expected.log.files, twice.join(" + "));
    }
  });

  it("refuses a --since that Date.parse would read as a day in 2001: an age without its unit, a date without its year", async () => {
    const file = join(fixtures, "ours.jsonl");
    const [bareNumber, noYear, year] = await Promise.all([
      runScript("routing-stats", ["--since", "7", "--file", file]),
      runScript("routing-session-stats", ["--since", "Dec 1", "--file", file]),
      runScript("routing-stats", ["--since", "2026", "--file", file, "--json"]),
    ]);
    assert.equal(bareNumber.code, 1, bareNumber.stdout);
    assert.equal(
      bareNumber.stderr,
      'routing-stats: --since: "7" has no unit; expected an age such as 7d (days), 7h, 7m or 7w, or an ISO date/time such as 2026-05-04\nRun with --help for usage.\n',
    );
    assert.equal(noYear.code, 1, noYear.stdout);
    assert.equal(
      noYear.stderr,
      'routing-session-stats: --since: "Dec 1" names no year (it would be read as 2001); expected an ISO date/time such as 2026-05-04 or an age like 7d, 12h or 30m\nRun with --help for usage.\n',
    );
    // A four-digit number is a year, as ISO reads it.
    assert.equal(year.code, 0, year.stderr);
    assert.ok(JSON.parse(year.stdout).log.lines > 0);
  });

  it("reads a --since date or date-time without a zone as UTC, as the day buckets are, and says the instant", async () => {
    // The child runs in New York: a local reading would move every bound 4 hours later (EDT in May).
    const file = join(fixtures, "ours.jsonl");
    const newYork = { TZ: "America/New_York" };
    const [day, dayTime, spaced, zoned, utc] = await Promise.all([
      runScript("routing-session-stats", ["--json", "--since", "2026-05-02", "--file", file], newYork),
      runScript("routing-stats", ["--json", "--since", "2026-05-02T09:30", "--file", file], newYork),
      runScript("routing-stats", ["--since", "2026-05-02 09:30", "--file", file], newYork),
      runScript("routing-stats", ["--json", "--since", "2026-05-02T05:30-04:00", "--file", file], newYork),
      runScript("routing-stats", ["--json", "--since", "2026-05-02T09:30", "--file", file], { TZ: "UTC" }),
    ]);
    const sessions = json(day);
    assert.equal(sessions.log.since, "2026-05-02T00:00:00.000Z", "a date alone is the UTC day");
    assert.deepEqual(
      sessions.stats.days.map((row: { day: string }) => row.day).sort(),
      ["2026-05-02", "2026-05-03"],
      "the first day shown is the day asked for, whole",
    );
    const atNineThirty = json(dayTime);
    assert.equal(atNineThirty.log.since, "2026-05-02T09:30:00.000Z", "a date-time without a zone is UTC");
    assert.deepEqual(atNineThirty, json(utc), "the same report whatever the machine's zone");
    assert.deepEqual(json(zoned).stats, atNineThirty.stats, "a date-time naming its zone keeps it");
    assert.equal(spaced.code, 0, spaced.stderr);
    assert.match(spaced.stdout, / before --since 2026-05-02T09:30:00\.000Z$/m, "the text report says the instant");
    // The fixture's requests after 09:30 UTC on May 2nd: 10:00 and 11:00 that day, 09:00 on May 3rd (and one unfinished).
    assert.equal(atNineThirty.stats.requests, 3);
  });

  it("closes the window with --until (left out itself), reads a request begun before it to its end, and refuses one not after --since", async () => {
    const file = join(fixtures, "ours.jsonl");
    const [straddling, day, reversed, badUntil] = await Promise.all([
      // r3 runs from 09:00:00.000 to its final at 09:00:00.754 on May 2nd.
      runScript("routing-stats", [
        "--json",
        "--since",
        "2026-05-02",
        "--until",
        "2026-05-02T09:00:00.100",
        "--file",
        file,
      ]),
      runScript("routing-quality-stats", ["--since", "2026-05-02", "--until", "2026-05-03", "--file", file]),
      runScript("routing-session-stats", ["--since", "2026-05-02", "--until", "2026-05-01T12:00", "--file", file]),
      runScript("routing-replay", ["--until", "7", "--file", file, "--config", file]),
    ]);
    const window = json(straddling);
    assert.equal(window.log.since, "2026-05-02T00:00:00.000Z");
    assert.equal(window.log.until, "2026-05-02T09:00:00.100Z", "a date-time without a zone is UTC, as for --since");
    assert.equal(window.log.filteredOut, 16);
    // Lines 24-45 but r3's last 4 events (after 09:00:00.100): 21 events, the config-reloaded line is no event.
    assert.equal(window.log.filteredOutUntil, 21);
    assert.deepEqual(
      [window.stats.requests, window.log.completedRequests, window.log.incompleteRequests],
      [1, 1, 0],
      "the request begun before --until is read to its final, not counted unfinished",
    );
    assert.equal(day.code, 0, day.stderr);
    assert.match(
      day.stdout,
      /, 16 before --since 2026-05-02T00:00:00\.000Z, 8 at or after --until 2026-05-03T00:00:00\.000Z$/m,
      "the reading summary says the window's end and what it left out",
    );
    assert.equal(reversed.code, 1);
    assert.equal(
      reversed.stderr,
      "routing-session-stats: --until 2026-05-01T12:00 (2026-05-01T12:00:00.000Z) is before --since 2026-05-02 (2026-05-02T00:00:00.000Z): the window would hold no event; --until must be after --since\nRun with --help for usage.\n",
    );
    assert.equal(
      badUntil.stderr,
      'routing-replay: --until: "7" has no unit; expected an age such as 7d (days), 7h, 7m or 7w, or an ISO date/time such as 2026-05-04\nRun with --help for usage.\n',
    );
  });

  it("exits 1 on a bad --since, a bad --limit, or replay without --config", async () => {
    const file = join(fixtures, "ours.jsonl");
    const [since, limit, replay, negativeAge, valueMissing] = await Promise.all([
      runScript("routing-stats", ["--since", "last tuesday", "--file", file]),
      runScript("routing-session-stats", ["--limit", "-3", "--file", file]),
      runScript("routing-replay", ["--file", file]),
      runScript("routing-stats", ["--since", "-3d", "--file", file]),
      runScript("routing-quality-stats", ["--file", "--json"]),
    ]);
    assert.deepEqual([since.code, limit.code, replay.code, negativeAge.code, valueMissing.code], [1, 1, 1, 1, 1]);
    assert.match(since.stderr, /--since: "last tuesday"/);
    assert.match(replay.stderr, /--config <routes\.json> is required/);
    // The scripts' own words, not parseArgs' "argument is ambiguous. Did you forget to specify the option argument".
    assert.equal(
      limit.stderr,
      'routing-session-stats: --limit: negative values are not accepted ("-3"); expected <n>: days, error rows and drift rows shown (default 14)\nRun with --help for usage.\n',
    );
    assert.equal(
      negativeAge.stderr,
      'routing-stats: --since: negative values are not accepted ("-3d"); expected <when>: only events at or after an ISO date/time, a Unix time in ms, or a relative age: 30m, 12h, 7d, 2w\nRun with --help for usage.\n',
    );
    assert.match(
      valueMissing.stderr,
      /^routing-quality-stats: --file needs a value, got the option --json next; expected <path>/,
    );
  });

  it("refuses --html naming any event log, read or not (a rotated name, another directory's log, a copy), and leaves it as it was", async () => {
    const directory = freshDir("auto-router-cli-html-any-log");
    const other = freshDir("auto-router-cli-html-other-log");
    for (const name of ["auto-router.events.1.jsonl", "auto-router.events.jsonl"])
      copyFileSync(join(fixtures, name), join(directory, name));
    copyFileSync(join(fixtures, "auto-router.events.jsonl"), join(other, "auto-router.events.jsonl"));
    // A log under another name (a backup, a merged copy), and one in the earlier public format.
    copyFileSync(join(fixtures, "ours.jsonl"), join(other, "backup.jsonl"));
    copyFileSync(join(fixtures, "legacy.jsonl"), join(other, "old.log"));
    const env = { PI_CODING_AGENT_DIR: freshDir("auto-router-cli-agent"), AUTO_ROUTER_LOG_DIR: directory };
    const byName = "its name is an event log's (auto-router.events*.jsonl)";
    for (const [target, why] of [
      [join(directory, "auto-router.events.3.jsonl"), byName], // a rotated name not (yet) there
      [join(other, "auto-router.events.jsonl"), byName], // another directory's live log, not read by this run
      [join(other, "auto-router.events.2.jsonl"), byName],
      [join(other, "backup.jsonl"), "it holds event log lines"],
      [join(other, "old.log"), "it holds event log lines"],
    ] as const) {
      const before = existsSync(target) ? readFileSync(target, "utf8") : undefined;
      for (const args of [
        ["--html", target],
        ["--file", directory, "--html", target],
      ]) {
        const run = await runScript("routing-session-stats", args, env);
        assert.equal(run.code, 1, run.stdout);
        assert.equal(
          run.stderr,
          `routing-session-stats: --html ${target}: ${why}, and the report would replace it; name another file for the report\nRun with --help for usage.\n`,
        );
        assert.equal(existsSync(target) ? readFileSync(target, "utf8") : undefined, before, target);
      }
    }
    // Every log is still read as one.
    for (const file of [directory, other, join(other, "backup.jsonl")])
      assert.equal((await runScript("routing-stats", ["--file", file], env)).code, 0, file);
    // An earlier report is a report: written over, as before.
    const report = join(other, "report.html");
    writeFileSync(report, "<!doctype html>\n<p>an earlier report</p>\n");
    const written = await runScript("routing-session-stats", ["--file", directory, "--html", report], env);
    assert.equal(written.code, 0, written.stderr);
    assert.match(readFileSync(report, "utf8"), /^<!doctype html>\n<html/);
  });

  it("refuses --html naming the router's state files, its routes file or a file that is no HTML page, and leaves them as they were", async () => {
    const agentDir = freshDir("auto-router-cli-html-owned-agent");
    const extensions = join(agentDir, "extensions");
    mkdirSync(extensions);
    const stateDir = freshDir("auto-router-cli-html-owned-state");
    const logs = freshDir("auto-router-cli-html-owned-logs");
    copyFileSync(join(fixtures, "auto-router.events.jsonl"), join(logs, "auto-router.events.jsonl"));
    const routesFile = join(freshDir("auto-router-cli-html-owned-config"), "my-routes.json");
    const files: Record<string, string> = {
      [join(stateDir, "auto-router.stats.json")]: '{"version":2,"daily":{},"monthly":{},"limits":{}}\n',
      [join(stateDir, "auto-router.usage.json")]: '{"version":1}\n',
      [join(extensions, "auto-router.stats.json")]: '{"version":2,"daily":{},"monthly":{},"limits":{}}\n',
      [join(logs, "auto-router.latency.json")]: "{}\n",
      [routesFile]: '{ "routes": {} }\n',
      [join(logs, "notes.txt")]: "my notes\n",
    };
    for (const [file, text] of Object.entries(files)) writeFileSync(file, text);
    const env = { PI_CODING_AGENT_DIR: agentDir, AUTO_ROUTER_LOG_DIR: stateDir, AUTO_ROUTER_CONFIG: routesFile };
    const stateWhy = (directory: string) =>
      `it is the router's own file (auto-router.* in its state directory ${directory})`;
    for (const [target, why] of [
      [join(stateDir, "auto-router.stats.json"), stateWhy(stateDir)],
      [join(stateDir, "auto-router.usage.json"), stateWhy(stateDir)],
      [join(stateDir, "auto-router.budget-limits.json"), stateWhy(stateDir)], // not there (yet): still the router's
      [join(extensions, "auto-router.stats.json"), stateWhy(extensions)], // the earlier router's, in pi's extensions dir
      [join(logs, "auto-router.latency.json"), stateWhy(logs)], // beside the log read
      [routesFile, "it is the routes file the router reads"],
      [join(logs, "notes.txt"), "it exists and is not an earlier report (an HTML page)"],
    ] as const) {
      const before = existsSync(target) ? readFileSync(target, "utf8") : undefined;
      const run = await runScript("routing-session-stats", ["--file", logs, "--html", target], env);
      assert.equal(run.code, 1, run.stdout);
      assert.equal(
        run.stderr,
        `routing-session-stats: --html ${target}: ${why}, and the report would replace it; name another file for the report\nRun with --help for usage.\n`,
      );
      assert.equal(existsSync(target) ? readFileSync(target, "utf8") : undefined, before, target);
    }
    // A report of the script's own is replaced, an empty file is filled, and a name of the router's elsewhere is free.
    const report = join(logs, "report.html");
    const empty = join(logs, "empty.html");
    writeFileSync(empty, "");
    const elsewhere = join(freshDir("auto-router-cli-html-owned-free"), "auto-router.report.html");
    for (const target of [report, report, empty, elsewhere]) {
      const written = await runScript("routing-session-stats", ["--file", logs, "--html", target], env);
      assert.equal(written.code, 0, written.stderr);
      assert.match(readFileSync(target, "utf8"), /^<!doctype html>\n<html/);
    }
  });

  it("refuses a one-value flag given twice and an empty value, instead of silently taking the last or none", async () => {
    const file = join(fixtures, "ours.jsonl");
    const config = replayConfig();
    const route = "<route>: only requests of this route (requested or served)";
    for (const [script, args, said] of [
      [
        "routing-stats",
        ["--route", "swe", "--route", "cheap"],
        `--route given more than once ("swe", "cheap"); it takes one value: ${route}`,
      ],
      [
        "routing-session-stats",
        ["--since", "7d", "--since=2026-05-01"],
        '--since given more than once ("7d", "2026-05-01"); it takes one value: <when>: only events at or after an ISO date/time, a Unix time in ms, or a relative age: 30m, 12h, 7d, 2w',
      ],
      [
        "routing-replay",
        ["--config", config, "--config", config],
        `--config given more than once ("${config}", "${config}"); it takes one value: <file>: routes file to replay under (required)`,
      ],
      ["routing-stats", ["--route", ""], `--route: empty value; expected ${route}`],
      ["routing-quality-stats", ["--route="], `--route: empty value; expected ${route}`],
    ] as const) {
      const run = await runScript(script, ["--file", file, ...args]);
      assert.equal(run.code, 1, `${script} ${args.join(" ")}: ${run.stdout}`);
      assert.equal(run.stdout, "");
      assert.equal(run.stderr, `${script}: ${said}\nRun with --help for usage.\n`);
    }
    // --file takes several, as README says.
    assert.equal((await runScript("routing-stats", ["--file", file, "--file", file])).code, 0);
  });

  it("refuses a --since age beyond a century, which named a date before year 0", async () => {
    const run = await runScript("routing-stats", ["--since", "99999999d", "--file", join(fixtures, "ours.jsonl")]);
    assert.equal(run.code, 1, run.stdout);
    assert.equal(
      run.stderr,
      'routing-stats: --since: "99999999d" reaches back more than 100 years; expected an age such as 30d or 2w, or an ISO date/time such as 2026-05-04\nRun with --help for usage.\n',
    );
  });

  it("says why a file cannot be read or written in words, not as a bare code", async () => {
    const directory = freshDir("auto-router-cli-error-words");
    const html = await runScript("routing-session-stats", [
      "--file",
      join(fixtures, "ours.jsonl"),
      "--html",
      directory,
    ]);
    assert.equal(html.code, 1, html.stdout);
    assert.equal(
      html.stderr,
      `routing-session-stats: cannot write ${directory}: is a directory\nRun with --help for usage.\n`,
    );
    const missing = join(directory, "new-routes.json");
    const replay = await runScript("routing-replay", ["--file", join(fixtures, "ours.jsonl"), "--config", missing]);
    assert.equal(replay.code, 1, replay.stdout);
    assert.equal(
      replay.stderr,
      `routing-replay: cannot read ${missing}: no such file or directory\nRun with --help for usage.\n`,
    );
  });

  /** Hand-written lines in the current format over 31 days, and the session report of them (text and HTML). */
  let monthReport: Promise<{ stdout: string; page: string }> | undefined;
  const longModel = "openrouter/meta-llama/llama-4-maverick-instruct-long-context-experimental";
  const readMonthReport = () =>
    (monthReport ??= (async () => {
      // v3: a decision line, then a final line carrying its steps. 2,500 requests on the last of 31 days, two on each
      // other day, half of them served by a model whose name is longer than a legend column.
      const lines: string[] = [];
      let id = 0;
      for (let day = 0; day < 31; day++) {
        for (let index = 0; index < (day === 30 ? 2500 : 2); index++) {
          const requestId = `q${id++}`;
          const ts = new Date(Date.UTC(2026, 4, 1 + day, 9, 0, 0, index)).toISOString();
          const target = index % 2 ? longModel : "mock-a/model-a";
          lines.push(
            JSON.stringify({
              v: 3,
              type: "decision",
              ts,
              requestId,
              sessionId: "s",
              routeId: "main",
              machine: "m",
              data: { routeId: "main", plannedTarget: target },
            }),
            JSON.stringify({
              v: 3,
              type: "final",
              ts,
              requestId,
              data: { outcome: "success", servedTarget: target, attempts: 1, failovers: 0, latencyMs: 5 },
              steps: [
                { type: "attempt", ms: 0, data: { attempt: 1, target } },
                { type: "result", ms: 0, data: { attempt: 1, target, outcome: "success", latencyMs: 5 } },
              ],
            }),
          );
        }
      }
      const directory = freshDir("auto-router-cli-html-31-days");
      writeFileSync(join(directory, "auto-router.events.jsonl"), `${lines.join("\n")}\n`);
      const report = join(directory, "report.html");
      const run = await runScript("routing-session-stats", ["--file", directory, "--html", report]);
      assert.equal(run.code, 0, run.stderr);
      return { stdout: run.stdout, page: readFileSync(report, "utf8") };
    })());

  it("says under the HTML report's per-day charts and table how many days --limit left out, as the text report does", async () => {
    const { stdout, page } = await readMonthReport();
    assert.match(stdout, /\(17 more; --limit 31 shows all\)/, "the text report's note");
    // Under both day charts and the per-day table, as under the text report's lists.
    assert.equal(page.split('<p class="note">17 more; --limit 31 shows all</p>').length - 1, 3, page);
    const dayCharts = page.slice(page.indexOf('<svg id="chart-daily-composition"'), page.indexOf("<h2>Latency"));
    assert.match(
      dayCharts,
      /<\/svg>\n<p class="note">17 more; --limit 31 shows all<\/p>\n<h2>Requests failed over per day/,
    );
  });

  it("shows the HTML report's counts with thousands separators, as the text report does", async () => {
    const { stdout, page } = await readMonthReport();
    assert.match(stdout, /^2026-05-31 {3}2,500 /m);
    assert.match(page, / · 2,560 requests</);
    assert.match(page, /<td>2026-05-31<\/td><td>2,500<\/td>/);
    assert.match(page, /class="value-label" data-day="2026-05-31"[^>]*>2,500</);
    assert.match(page, /class="axis-tick"[^>]*>3,000<\/text>/, "the axis too");
  });

  it("shortens a model name too long for its column of the composition chart's legend, the whole name on hover", async () => {
    const { page } = await readMonthReport();
    const legend =
      /<g class="legend-item" data-model="([^"]+)"><title>([^<]+)<\/title><rect [^>]*\/><text [^>]*>([^<]+)<\/text><\/g>/.exec(
        page,
      );
    assert.ok(legend, page);
    assert.deepEqual([legend[1], legend[2]], [longModel, longModel]);
    assert.ok(legend[3]!.endsWith("…") && longModel.startsWith(legend[3]!.slice(0, -1)), legend[3]);
    assert.ok(legend[3]!.length * 7 <= 250 - 14, "the name fits its 250 px column");
  });

  it("makes the HTML report fit a narrow window: a viewport, charts that shrink, tables that scroll in their box", async () => {
    const { page } = await readMonthReport();
    assert.match(page, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(page, /svg\.chart\{[^}]*max-width:100%;height:auto/);
    assert.match(page, /\.table-wrap\{[^}]*overflow-x:auto/);
    for (const id of ["table-failovers", "table-drift", "table-masked-errors", "table-recent-drift"])
      assert.match(page, new RegExp(`<div class="table-wrap"><table id="${id}">`));
  });
});
