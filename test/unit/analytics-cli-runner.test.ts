// The routing-* scripts' shared frame, its pure parts: what it says about the files it read and the flags it got.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { routingStatsCommand, sessionStatsCommand } from "../../src/analytics/cli-commands.ts";
import {
  CliError,
  dashValueProblem,
  defaultLogDirectory,
  formatReadLine,
  helpText,
  logSummary,
  notAnEventLog,
  optionValueProblem,
  parseSince,
  runCli,
} from "../../src/analytics/cli-runner.ts";
import { emptyJoinStats } from "../../src/analytics/request-join.ts";
import {
  readRoutesView,
  resolvedRouteNote,
  resolveRouteFilter,
  unknownRouteNote,
} from "../../src/analytics/route-names.ts";
import type { RouterConfig } from "../../src/config/schema.ts";
import { CUT_OFF_REASON, emptyReadStats } from "../../src/events/read-events.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/events/${name}`, import.meta.url));

describe("the scripts' notes on what they read", () => {
  it("names a file none of whose lines is an event, with its first line, and leaves a log with bad lines alone", () => {
    const stats = emptyReadStats();
    stats.byFile = {
      "/logs/auto-router.events.jsonl": {
        eventLines: 40,
        malformed: 3,
        firstMalformed: { line: 7, reason: "not JSON" },
      },
      "README.md": { eventLines: 0, malformed: 1570, firstMalformed: { line: 1, reason: "not JSON" } },
    };
    assert.equal(
      notAnEventLog(stats),
      "README.md is not an event log: none of its 1,570 non-blank lines is an event (line 1: not JSON); pass an auto-router.events*.jsonl file or the directory holding them",
    );
    delete stats.byFile["README.md"];
    assert.equal(notAnEventLog(stats), undefined);
  });

  it("writes the reading summary's counts with thousands separators, as every report writes its counts", () => {
    const stats = emptyReadStats();
    Object.assign(stats, {
      files: ["a.jsonl"],
      lines: 33_520,
      events: 79_808,
      legacyEvents: 1_200,
      malformed: 1_001,
      unknownTypes: { "config-reloaded": 2_500 },
      filteredOut: 12_345,
    });
    const join = { ...emptyJoinStats(), repeatedRequests: 4_096 };
    assert.equal(
      formatReadLine(logSummary(stats, join, Date.parse("2026-05-02T00:00:00.000Z"))),
      "read 33,520 lines from 1 file: 79,808 events, 1,200 in the earlier format, 1,001 malformed lines skipped, 2,500 of unknown types, 12,345 before --since 2026-05-02T00:00:00.000Z, 4,096 requests read again from another file counted once",
    );
  });

  it("takes an empty file, or a live log whose only line is still being written, for a log", () => {
    const stats = emptyReadStats();
    stats.byFile = {
      "/logs/auto-router.events.1.jsonl": { eventLines: 0, malformed: 0 },
      "/logs/auto-router.events.jsonl": {
        eventLines: 0,
        malformed: 1,
        firstMalformed: { line: 1, reason: CUT_OFF_REASON },
      },
    };
    assert.equal(notAnEventLog(stats), undefined);
  });

  it("says which routes the log has when --route matches none, with the one probably meant", () => {
    const routes = new Set(["r-fail", "subscription-swe", "subscription-fast"]);
    const asked = (name: string) => ({ asked: name, routeId: name });
    assert.equal(
      unknownRouteNote(asked("r-fial"), routes, false),
      '--route r-fial: no requests for route r-fial in the log; did you mean "r-fail"? (routes in the log: r-fail, subscription-fast, subscription-swe)',
    );
    assert.equal(
      unknownRouteNote(asked("nightly"), routes, true),
      "--route nightly: no requests for route nightly in the log at or after --since (routes in the log at or after --since: r-fail, subscription-fast, subscription-swe)",
    );
    assert.equal(
      unknownRouteNote(asked("r-fial"), new Set(), false),
      "--route r-fial: no requests for route r-fial in the log (routes in the log: none)",
    );
    const many = new Set(Array.from({ length: 12 }, (_, index) => `route-${String(index).padStart(2, "0")}`));
    assert.match(unknownRouteNote(asked("other"), many, false), /route-09, \+2 more\)$/);
    assert.match(
      unknownRouteNote(asked("nightly"), routes, true, undefined, true),
      /^--route nightly: no requests for route nightly in the log between --since and --until \(routes in the log between --since and --until: /,
    );
    assert.match(
      unknownRouteNote(asked("nightly"), routes, false, undefined, true),
      /^--route nightly: no requests for route nightly in the log before --until \(routes in the log before --until: /,
    );
  });
});

describe("--route names", () => {
  const file = "/agent/extensions/auto-router.routes.json";
  const config = {
    routes: {
      main: { targets: [{ provider: "a", modelId: "x" }] },
      fast: { targets: [{ provider: "b", modelId: "y" }] },
    },
    aliases: { m: "main" },
    gateway: {
      models: {
        "claude-sonnet-4-5": "auto-router/main",
        "claude-haiku-4-5": "m",
        "gpt-4o": "fast",
        "gpt-4.1": "b/gpt-4.1",
        main: "fast",
      },
    },
  } as unknown as RouterConfig;
  const view = { file, config };

  it("resolves a gateway.models name as the gateway does: mapped first, then a route, an alias or a real target", () => {
    assert.deepEqual(resolveRouteFilter("claude-sonnet-4-5", view), {
      asked: "claude-sonnet-4-5",
      routeId: "main",
      via: "gateway-model",
      mapped: "auto-router/main",
    });
    assert.equal(resolveRouteFilter("claude-haiku-4-5", view).routeId, "main", "mapped to an alias");
    assert.equal(resolveRouteFilter("gpt-4o", view).routeId, "fast", "mapped to a route id");
    // The gateway serves a provider/model through the one-target route of that name, which the log records.
    assert.equal(resolveRouteFilter("gpt-4.1", view).routeId, "b/gpt-4.1");
    // The gateway maps before it looks for a route of the name.
    assert.equal(resolveRouteFilter("main", view).routeId, "fast");
    assert.equal(
      resolvedRouteNote(resolveRouteFilter("claude-sonnet-4-5", view), view),
      `--route claude-sonnet-4-5 is mapped by gateway.models to auto-router/main (the routes file ${file}): showing the requests of route main`,
    );
  });

  it("names the gateway.models names, and the mapping, when --route matches no request", () => {
    assert.equal(
      unknownRouteNote(resolveRouteFilter("gpt-4o", view), new Set(["main"]), false, view),
      `--route gpt-4o: no requests for route fast (what gateway.models maps gpt-4o to: fast) in the log (routes in the log: main; routes in ${file}: fast, main; aliases: m; gateway.models: claude-haiku-4-5, claude-sonnet-4-5, gpt-4.1, gpt-4o, main)`,
    );
    assert.match(
      unknownRouteNote(resolveRouteFilter("claude-sonet-4-5", view), new Set(["main"]), false, view),
      /^--route claude-sonet-4-5: no requests for route claude-sonet-4-5 in the log; did you mean "claude-sonnet-4-5"\?/,
    );
  });
});

describe("--route under a routes file without routes of its own", () => {
  it("resolves the built-in aliases and names the built-in routes, saying the file has none", () => {
    const dir = freshDir("auto-router-route-names");
    try {
      const file = join(dir, "auto-router.routes.json");
      writeFileSync(file, JSON.stringify({ budgets: { providers: { anthropic: { daily: 5 } } } }));
      const view = readRoutesView(file);
      assert.equal(view.builtIn, "no-routes");
      assert.equal(
        resolvedRouteNote(resolveRouteFilter("fast", view), view),
        `--route fast is an alias of route subscription-fast (the built-in routes with the settings of ${file}, which has no routes of its own): showing that route's requests`,
      );
      assert.match(
        unknownRouteNote(resolveRouteFilter("mian", view), new Set(["x"]), false, view),
        /; built-in routes \(\S+ has no routes of its own\): subscription-economy, /,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the scripts' help", () => {
  it("names every place the default log comes from, in the order the router picks it", () => {
    const text = helpText(routingStatsCommand).replace(/\s+/g, " ");
    assert.match(
      text,
      /Default: where the router writes it, \$AUTO_ROUTER_LOG_DIR, else the routes file's logDir, else \$PI_CODING_AGENT_DIR\/extensions, else ~\/\.pi\/agent\/extensions/,
    );
  });
});

describe("the scripts' flags", () => {
  it("says in its own words why a value starting with '-' is not taken, naming the option and what it takes", () => {
    const since =
      "<when>: only events at or after an ISO date/time, a Unix time in ms, or a relative age: 30m, 12h, 7d, 2w";
    assert.equal(
      dashValueProblem(routingStatsCommand, ["--since", "-3d"]),
      `--since: negative values are not accepted ("-3d"); expected ${since}`,
    );
    assert.equal(
      dashValueProblem(routingStatsCommand, ["--until", "-2d"]),
      '--until: negative values are not accepted ("-2d"); expected <when>: only events before an instant, in any form --since takes (the instant itself left out)',
    );
    assert.equal(
      dashValueProblem(sessionStatsCommand, ["--file", "log", "--daily-top", "-1"]),
      '--daily-top: negative values are not accepted ("-1"); expected <n>: models named per day, the rest summed as "other" (default 5)',
    );
    assert.equal(
      dashValueProblem(routingStatsCommand, ["--file", "--json"]),
      "--file needs a value, got the option --json next; expected <path>: event log file or directory (repeatable)",
    );
    assert.equal(
      dashValueProblem(sessionStatsCommand, ["--since", "-v"]),
      `--since needs a value, got the option -v next; expected ${since}`,
    );
    assert.equal(
      dashValueProblem(routingStatsCommand, ["--route", "-x"]),
      '--route: "-x" starts with "-" and is read as an option; expected <route>: only requests of this route (requested or served) (write --route=-x for a value that does start with "-")',
    );
  });

  it("says what a flag whose --help entry runs over two lines takes in a whole clause, not cut mid-sentence", () => {
    const html = "<file>: also write one self-contained HTML report with charts";
    assert.equal(
      optionValueProblem(sessionStatsCommand, [{ kind: "option", name: "html", value: "" }]),
      `--html: empty value; expected ${html}`,
    );
    assert.equal(
      dashValueProblem(sessionStatsCommand, ["--html", "-v"]),
      `--html needs a value, got the option -v next; expected ${html}`,
    );
  });

  it("names an unknown short option as the long ones are named, the first one typed, with the advice quoted evenly", async () => {
    const refusal = async (command: typeof routingStatsCommand, argv: string[]) => {
      const stderr: string[] = [];
      const code = await runCli(command, argv, {
        stdout: () => {},
        stderr: (text) => stderr.push(text),
        processEnv: {},
        home: freshDir("auto-router-short-option"),
        now: () => Date.now(),
      });
      assert.equal(code, 1);
      return stderr.join("").split("\n")[0];
    };
    const advice = (option: string, arg = option) =>
      `Unknown option '${option}'; a file name that starts with "-" goes after "--" (-- ${arg})`;
    assert.equal(await refusal(routingStatsCommand, ["-j"]), `routing-stats: ${advice("-j")}`);
    // -v is session-stats' own: routing-stats has none.
    assert.equal(await refusal(routingStatsCommand, ["-v", "--json"]), `routing-stats: ${advice("-v")}`);
    assert.equal(await refusal(sessionStatsCommand, ["-vx"]), `routing-session-stats: ${advice("-x", "-vx")}`);
    assert.equal(await refusal(sessionStatsCommand, ["-j", "--bogus"]), `routing-session-stats: ${advice("-j")}`);
    assert.equal(await refusal(sessionStatsCommand, ["--bogus", "-j"]), `routing-session-stats: ${advice("--bogus")}`);
  });

  it("says what a flag given last without its value takes, as for one followed by another option", async () => {
    const stderr: string[] = [];
    const io = {
      stdout: () => {},
      stderr: (text: string) => stderr.push(text),
      processEnv: {},
      home: freshDir("auto-router-missing-value"),
      now: () => Date.now(),
    };
    assert.equal(await runCli(routingStatsCommand, ["--json", "--since"], io), 1);
    assert.equal(await runCli(sessionStatsCommand, ["--html"], io), 1);
    assert.deepEqual(stderr, [
      "routing-stats: --since needs a value; expected <when>: only events at or after an ISO date/time, a Unix time in ms, or a relative age: 30m, 12h, 7d, 2w\nRun with --help for usage.",
      "routing-session-stats: --html needs a value; expected <file>: also write one self-contained HTML report with charts\nRun with --help for usage.",
    ]);
  });

  it("leaves values parseArgs takes alone: plain ones, a lone '-', --name=-value and anything after --", () => {
    for (const argv of [["--since", "7d", "--limit", "3"], ["--file", "-"], ["--since=-3d"], ["--", "--since", "-3d"]])
      assert.equal(dashValueProblem(routingStatsCommand, argv), undefined, argv.join(" "));
  });

  it("refuses an age beyond a century and a day its month does not have, instead of a stack trace or another day", () => {
    const now = Date.parse("2026-05-04T00:00:00Z");
    const refused = (value: string, message: string) =>
      assert.throws(
        () => parseSince(value, now),
        (error: unknown) => error instanceof CliError && error.message === message,
        value,
      );
    // Beyond any date, and beyond a century (which printed `before --since -271764-03-24T...`): a slip, said so.
    for (const age of ["99999999999d", "99999999d", "36525.5d", "5300w"])
      refused(
        age,
        `--since: "${age}" reaches back more than 100 years; expected an age such as 30d or 2w, or an ISO date/time such as 2026-05-04`,
      );
    assert.equal(parseSince("36524d", now), now - 36_524 * 86_400_000, "an age within a century is taken");
    for (const day of ["2026-02-30", "2026-04-31", "2026-02-29T10:00"])
      refused(day, `--since: "${day}" names a day its month does not have; expected an ISO date such as 2026-05-04`);
    assert.equal(parseSince("2028-02-29", now), Date.parse("2028-02-29T00:00:00Z"), "a leap day is a day");
  });

  it("takes a Unix time in milliseconds, as the event log's `time` writes it", () => {
    const now = Date.parse("2026-12-06T00:00:00Z");
    assert.equal(parseSince("1796533994292", now), 1_796_533_994_292);
    // A number of another length is neither: one of ten digits is a Unix time in seconds (`date +%s`).
    assert.throws(
      () => parseSince("1796533994", now),
      (error: unknown) =>
        error instanceof CliError &&
        error.message ===
          '--since: "1796533994" is a Unix time in seconds; expected milliseconds (13 digits, as the event log\'s `time`: 1796533994000), an ISO date/time such as 2026-05-04 or an age such as 7d',
    );
    for (const digits of ["179653399", "99999999999999999"])
      assert.throws(
        () => parseSince(digits, now),
        (error: unknown) =>
          error instanceof CliError &&
          error.message ===
            `--since: "${digits}" is no Unix time in milliseconds (13 digits, as the event log's \`time\`) and no age (it has no unit); expected one of those or an ISO date/time such as 2026-05-04`,
      );
    // A short number is an age whose unit was left out.
    assert.throws(() => parseSince("30", now), /"30" has no unit; expected an age such as 30d/);
  });

  it("refuses a negative --since given as --since=-3d, saying what it takes", () => {
    assert.throws(
      () => parseSince("-3d", Date.parse("2026-05-04T00:00:00Z")),
      (error: unknown) =>
        error instanceof CliError &&
        error.message ===
          '--since: negative values are not accepted ("-3d"); expected an ISO date/time or an age like 7d, 12h or 30m',
    );
  });
});

/** routing-session-stats --html over the fixture log with `args`, on 2026-05-05: the page it wrote. */
async function htmlReport(dir: string, args: string[]): Promise<string> {
  const report = join(dir, "report.html");
  const stderr: string[] = [];
  const code = await runCli(sessionStatsCommand, ["--file", fixture("ours.jsonl"), ...args, "--html", report], {
    stdout: () => {},
    stderr: (text) => stderr.push(text),
    processEnv: { PI_CODING_AGENT_DIR: join(dir, "agent") },
    home: dir,
    now: () => Date.parse("2026-05-05T00:00:00.000Z"),
  });
  assert.equal(code, 0, stderr.join("\n"));
  return readFileSync(report, "utf8");
}

describe("the HTML report's scope", () => {
  it("says in the page which route and since when its requests are, and what was read, as the text report does", async () => {
    const dir = freshDir("auto-router-html-scope");
    try {
      const html = await htmlReport(dir, ["--route", "subscription-swe", "--since", "2026-05-02"]);
      assert.match(
        html,
        /<p id="generated">2026-05-05T00:00:00\.000Z · 2 requests of route subscription-swe since 2026-05-02T00:00:00\.000Z, 1 unfinished<\/p>/,
      );
      assert.match(
        html,
        /<p id="read" class="note">read 45 lines from 1 file: .*, 16 before --since 2026-05-02T00:00:00\.000Z<\/p>/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the HTML report's window", () => {
  it("says the end of the window --until set beside its start, and what it left out", async () => {
    const dir = freshDir("auto-router-html-until");
    try {
      const html = await htmlReport(dir, ["--since", "2026-05-02", "--until", "2026-05-03"]);
      assert.match(
        html,
        /<p id="generated">2026-05-05T00:00:00\.000Z · 3 requests since 2026-05-02T00:00:00\.000Z, before 2026-05-03T00:00:00\.000Z<\/p>/,
      );
      assert.match(
        html,
        /<p id="read" class="note">read 45 lines from 1 file: .*, 16 before --since 2026-05-02T00:00:00\.000Z, 8 at or after --until 2026-05-03T00:00:00\.000Z<\/p>/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the route, then the window, in every combination of --route, --since and --until", async () => {
    const dir = freshDir("auto-router-html-scopes");
    const since = "2026-05-01T00:00:00.000Z";
    const until = "2026-05-03T00:00:00.000Z";
    try {
      const cases: Array<[string[], string]> = [
        [[], "6 requests, 1 unfinished"],
        [["--until", "2026-05-03"], `5 requests before ${until}`],
        [["--route", "subscription-swe"], "4 requests of route subscription-swe, 1 unfinished"],
        [
          ["--route", "subscription-swe", "--until", "2026-05-03"],
          `3 requests of route subscription-swe before ${until}`,
        ],
        [
          ["--route", "subscription-swe", "--since", "2026-05-01", "--until", "2026-05-03"],
          `3 requests of route subscription-swe since ${since}, before ${until}`,
        ],
        [
          ["--route", "subscription-swe", "--since", "2026-05-02", "--until", "2026-05-03"],
          `1 request of route subscription-swe since 2026-05-02T00:00:00.000Z, before ${until}`,
        ],
      ];
      const generated: Array<string | undefined> = [];
      for (const [args] of cases) {
        const html = await htmlReport(dir, args);
        generated.push(/<p id="generated">2026-05-05T00:00:00\.000Z · ([^<]*)<\/p>/.exec(html)?.[1]);
      }
      assert.deepEqual(
        generated,
        cases.map(([, expected]) => expected),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the HTML report's recent drift", () => {
  it("shows each row's time in UTC to the second and the failures that moved it, as the text report does", async () => {
    const dir = freshDir("auto-router-html-drift");
    try {
      const html = await htmlReport(dir, []);
      const table = /<table id="table-recent-drift">(.*?)<\/table>/.exec(html)?.[1] ?? "";
      assert.match(
        table,
        /<thead><tr><th>time \(UTC\)<\/th><th>route<\/th><th>planned<\/th><th>served<\/th><th>kind<\/th><th>failures<\/th><\/tr><\/thead>/,
      );
      assert.match(
        table,
        /<tr><td>2026-05-01 10:00:03<\/td><td>subscription-swe<\/td><td>anthropic\/claude-sonnet-4-6<\/td><td>openai-codex\/gpt-5\.3-codex<\/td><td>failover-after-error<\/td><td>rate_limit<\/td><\/tr>/,
      );
      assert.doesNotMatch(table, /\d{4}-\d\d-\d\dT/, "no raw ISO time");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("--route", () => {
  it("takes a route written with spaces around it (a quoted variable) as that route", async () => {
    const dir = freshDir("auto-router-route-spaces");
    try {
      const run = async (route: string) => {
        const out: string[] = [];
        const stderr: string[] = [];
        const code = await runCli(routingStatsCommand, ["--file", fixture("ours.jsonl"), "--route", route, "--json"], {
          stdout: (text) => out.push(text),
          stderr: (text) => stderr.push(text),
          processEnv: { PI_CODING_AGENT_DIR: join(dir, "agent") },
          home: dir,
          now: () => Date.parse("2026-05-05T00:00:00.000Z"),
        });
        assert.equal(code, 0, stderr.join("\n"));
        return JSON.parse(out.join("")).stats.requests as number;
      };
      const requests = await run("subscription-swe");
      assert.ok(requests > 0);
      assert.equal(await run(" subscription-swe "), requests);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the scripts' default log", () => {
  it("reads a relative logDir of the routes file from the routes file's directory, as the router writes it there", () => {
    const dir = freshDir("auto-router-relative-logdir");
    try {
      const agentDir = join(dir, "agent");
      mkdirSync(join(agentDir, "extensions"), { recursive: true });
      writeFileSync(join(agentDir, "extensions", "auto-router.routes.json"), '{ "logDir": "router-state" }');
      assert.equal(
        defaultLogDirectory({ PI_CODING_AGENT_DIR: agentDir }, dir),
        join(agentDir, "extensions", "router-state"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
