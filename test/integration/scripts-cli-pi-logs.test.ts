// The routing-* scripts over event logs real pi writes (the SDK with the real extension and faux targets): spend,
// aliases, redaction, steps and outcomes from newer versions, logs read twice. The pi version matrix runs this file on
// every pi line; the scripts' other tests (scripts-cli.test.ts) read fixtures and do not depend on pi.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatUsd } from "../../src/analytics/text-format.ts";
import { REPO_ROOT, routeInOrder } from "../helpers/agent-dir.ts";
import { readEventLogFile } from "../helpers/event-log.ts";
import { replayConfig, runRoutingScript as runScript, scriptJson as json } from "../helpers/routing-script.ts";
import { harnessPerTest, type SdkHarness } from "../helpers/sdk-harness.ts";
import { freshDir } from "../helpers/temp-and-workers.ts";

const SCRIPTS = ["routing-stats", "routing-quality-stats", "routing-session-stats", "routing-replay"] as const;

const harnesses = harnessPerTest();
/** Two faux targets and a route trying mock-a, then mock-b: what the tests whose log real pi writes use. */
const TWO_TARGETS = {
  targets: [
    { provider: "mock-a", models: [{ id: "model-a" }] },
    { provider: "mock-b", models: [{ id: "model-b" }] },
  ],
  routes: { routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") } },
};

/** Real pi (SDK, one faux target) answers one prompt; returns the state directory its flushed event log is in. */
async function logOfOneAnswer(name: string): Promise<string> {
  const h = await harnesses.start(
    {
      targets: [{ provider: "mock-a", models: [{ id: "model-a" }] }],
      routes: { routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } },
    },
    name,
  );
  await h.setModel("auto-router", "main");
  h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("an answer")]);
  await h.prompt("one");
  await harnesses.stop(); // flushes the event log
  return harnesses.stateDir;
}

/** Two prompts on `main`: mock-a serves the first, fails the second with a 503, mock-b serves it; the flushed log. */
async function servedThenFailedOver(h: SdkHarness): Promise<string> {
  await h.setModel("auto-router", "main");
  const { fauxAssistantMessage } = h.fauxHelpers;
  h.faux("mock-a").setResponses([
    fauxAssistantMessage("served by a"),
    fauxAssistantMessage("", { stopReason: "error", errorMessage: "503 service unavailable" }),
  ]);
  h.faux("mock-b").setResponses([fauxAssistantMessage("served by b")]);
  await h.prompt("one");
  await h.prompt("two");
  await harnesses.stop(); // flushes the event log
  return join(harnesses.stateDir, "auto-router.events.jsonl");
}

describe("routing scripts over logs real pi writes", () => {
  it("redacts a key an error message of a current-format log holds, in text, JSON and HTML, as for the earlier format", async () => {
    // Real pi (SDK, faux targets) writes a v3 log with a failover; then the message of its failed attempt holds a key,
    // as one written by an earlier version or edited by hand may.
    const h = await harnesses.start({ ...TWO_TARGETS }, "auto-router-cli-message-key");
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("", { stopReason: "error", errorMessage: "503 unavailable" })]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("served by b")]);
    await h.prompt("one");
    await harnesses.stop(); // flushes the event log
    const written = readFileSync(join(harnesses.stateDir, "auto-router.events.jsonl"), "utf8");
    assert.ok(written.includes('"v":3') && written.includes('"message":"503 unavailable"'), written);
    const key = ["sk-ant-api03-", "AbCdEf1234567890", "xyzLEAK"].join("");
    const opaque = ["Zq9xW2", "vB7nM4kL0pR8", "tY6uI3oP"].join("");
    const directory = freshDir("auto-router-cli-message-key-log");
    writeFileSync(
      join(directory, "auto-router.events.jsonl"),
      written.replace('"message":"503 unavailable"', `"message":"503 unavailable: ${key} (api_key=${opaque})"`),
    );
    const html = join(directory, "report.html");
    const text = await runScript("routing-session-stats", ["--file", directory, "--html", html]);
    assert.equal(text.code, 0, text.stderr);
    const outputs = [
      text.stdout,
      readFileSync(html, "utf8"),
      (await runScript("routing-session-stats", ["--file", directory, "--json"])).stdout,
      (await runScript("routing-stats", ["--file", directory, "--json"])).stdout,
    ];
    for (const output of outputs) {
      assert.doesNotMatch(output, /AbCdEf1234567890xyzLEAK|vB7nM4kL0pR8/);
    }
    assert.match(text.stdout, /^mock-a\/model-a +server +1 +503 unavailable: \[REDACTED\] \(api_key=\[REDACTED\]/m);
  });

  it("counts the spend /auto-router budget counts, a cut-off answer's estimated cost and a health probe's included, in every report", async () => {
    // Real pi (SDK, priced faux target) writes the log: one answer, then one that breaks off after it started. The
    // cut-off one reports no usage: its result says $0, the budget counts an estimate (its usage step). Then a
    // `health --probe`, whose answer is spend of no request.
    const priced = { input: 100, output: 100, cacheRead: 100, cacheWrite: 100 };
    const h = await harnesses.start(
      {
        targets: [{ provider: "mock-a", models: [{ id: "model-a", cost: priced }] }],
        routes: { routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } },
      },
      "auto-router-cli-spend",
    );
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage("a whole answer"),
      fauxAssistantMessage("an answer that breaks off", { stopReason: "error", errorMessage: "terminated" }),
      fauxAssistantMessage("ok"),
    ]);
    await h.prompt("one");
    await h.prompt("two");
    assert.equal(h.lastAssistant().errorMessage, "terminated");
    await h.command("/auto-router health --probe");
    assert.equal(h.faux("mock-a").state.callCount, 3, "the probe was sent");
    const budget = await h.command("/auto-router budget");
    await harnesses.stop(); // flushes the event log
    const directory = harnesses.stateDir;
    const events = readEventLogFile(join(directory, "auto-router.events.jsonl"));
    const usage = events.filter((e) => e.type === "usage" && !e.data.probe);
    const probes = events.filter((e) => e.type === "usage" && e.data.probe);
    assert.equal(probes.length, 1, "the probe's spend is logged");
    assert.equal(probes[0].requestId, undefined, "a probe is no request");
    assert.equal(probes[0].data.target, "mock-a/model-a");
    const probeUsd = probes[0].data.costUsd;
    assert.ok(probeUsd > 0, "the probe's answer is priced");
    const cutOffResult = events.find((e) => e.type === "result" && e.data.outcome === "failed-after-commit");
    assert.ok(!cutOffResult.data.usage?.costUsd, "the cut-off answer's result reports no cost");
    // Why it broke off, as a failure before the commit point is logged (its target rests as well).
    assert.equal(cutOffResult.data.failureKind, "network");
    assert.equal(cutOffResult.data.message, "terminated");
    assert.deepEqual(
      usage.map((e) => e.data.outcome),
      ["committed", "committed"],
    );
    assert.equal(usage[1].data.estimated, true, "the cut-off answer's spend is an estimate");
    const estimated = usage.filter((e) => e.data.estimated).length;
    const spent = usage.reduce((sum, e) => sum + e.data.costUsd, 0);
    assert.ok(usage[1].data.costUsd > 0, "the cut-off answer's estimate is not zero");
    const ledger = spent + probeUsd;
    assert.match(budget, new RegExp(`^mock-a +today +${formatUsd(ledger, "spend").replace(/[$.]/g, "\\$&")} `, "m"));
    assert.match(
      budget,
      new RegExp(`^ +month .* 3 \\(${estimated + (probes[0].data.estimated ? 1 : 0)} estimated\\)$`, "m"),
      budget,
    );

    const sessionStats = json(await runScript("routing-session-stats", ["--json", "--file", directory]));
    const model = sessionStats.stats.models.find((row: any) => row.model === "mock-a/model-a");
    assert.deepEqual([model.attempts, model.estimated], [2, estimated]);
    assert.ok(Math.abs(model.costUsd.total - spent) < 1e-12, `${model.costUsd.total} != ${spent}`);
    const sessionText = await runScript("routing-session-stats", ["-v", "--file", directory]);
    assert.match(
      sessionText.stdout,
      new RegExp(`^mock-a/model-a .* ${formatUsd(spent).replace(/[$.]/g, "\\$&")} +${estimated}$`, "m"),
      sessionText.stdout,
    );

    const routingStats = json(await runScript("routing-stats", ["--json", "--file", directory]));
    assert.ok(
      Math.abs(routingStats.stats.totalCostUsd - ledger) < 1e-12,
      `${routingStats.stats.totalCostUsd} != ${ledger}`,
    );
    assert.deepEqual(routingStats.stats.probes, { count: 1, costUsd: probeUsd });
    const provider = routingStats.stats.byServedProvider.find((row: any) => row.key === "mock-a");
    assert.ok(Math.abs(provider.costUsd - ledger) < 1e-12, `${provider.costUsd} != ${ledger}`);
    assert.equal(routingStats.stats.byRoute[0].costUsd, spent, "a probe is no route's");
    assert.equal(routingStats.stats.estimatedCosts, estimated);
    assert.equal(routingStats.stats.requests, 2, "a probe is no request");
    const routeOnly = json(await runScript("routing-stats", ["--json", "--route", "main", "--file", directory]));
    assert.equal(routeOnly.stats.totalCostUsd, spent);
    const routingText = await runScript("routing-stats", ["--file", directory]);
    assert.match(
      routingText.stdout,
      new RegExp(
        `^cost +${formatUsd(ledger).replace(/[$.]/g, "\\$&")} \\(estimated for ${estimated} attempts?; 1 health probe ${formatUsd(probeUsd).replace(/[$.]/g, "\\$&")}\\)$`,
        "m",
      ),
    );
  });

  it("resolves a --route alias or gateway.models name of the routes file to its route id, and names what exists when a name has no requests", async () => {
    // Real pi (SDK, faux targets) writes the log of route main; the routes file gives it an alias.
    const routes = { ...TWO_TARGETS.routes, aliases: { m: "main", second: "mock-b/model-b" } };
    const h = await harnesses.start({ ...TWO_TARGETS, routes }, "auto-router-cli-route-alias");
    await h.setModel("auto-router", "main");
    h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("one")]);
    await h.prompt("one");
    await harnesses.stop(); // flushes the event log
    const log = join(harnesses.stateDir, "auto-router.events.jsonl");
    const agentDir = freshDir("auto-router-cli-route-alias-agent");
    const routesFile = join(agentDir, "extensions", "auto-router.routes.json");
    mkdirSync(join(agentDir, "extensions"));
    // A client of the gateway knows the route by the name gateway.models maps to it.
    writeFileSync(routesFile, JSON.stringify({ ...routes, gateway: { models: { "claude-sonnet-4-5": "m" } } }));
    const env = { PI_CODING_AGENT_DIR: agentDir };
    const [byId, byAlias, byModelName, aliasOfModel, unknown, byGatewayName] = await Promise.all(
      [["main"], ["m"], ["auto-router/main"], ["second"], ["mian"], ["claude-sonnet-4-5"]].map(([route]) =>
        runScript("routing-stats", ["--json", "--route", route!, "--file", log], env),
      ),
    );
    assert.equal(json(byId).stats.requests, 1);
    assert.equal(byId.stderr, "");
    const aliased = json(byAlias);
    assert.deepEqual(aliased.stats, json(byId).stats, "the alias's report is its route's");
    assert.deepEqual(aliased.log.route, { asked: "m", routeId: "main" });
    assert.equal(
      byAlias.stderr.trim(),
      `routing-stats: --route m is an alias of route main (the routes file ${routesFile}): showing that route's requests`,
    );
    assert.deepEqual(json(byModelName).stats, json(byId).stats, "auto-router/<route> is the route");
    const gatewayNamed = json(byGatewayName);
    assert.deepEqual(gatewayNamed.stats, json(byId).stats, "the gateway.models name's report is its route's");
    assert.deepEqual(gatewayNamed.log.route, { asked: "claude-sonnet-4-5", routeId: "main" });
    assert.equal(
      byGatewayName.stderr.trim(),
      `routing-stats: --route claude-sonnet-4-5 is mapped by gateway.models to m (the routes file ${routesFile}): showing the requests of route main`,
    );
    assert.equal(json(aliasOfModel).stats.requests, 0);
    assert.equal(
      aliasOfModel.stderr.trim(),
      `routing-stats: --route second: no requests for route second: it is an alias of the model mock-b/model-b, not of a route, and the log records route ids (routes in the log: main; routes in ${routesFile}: main; aliases: m, second; gateway.models: claude-sonnet-4-5)`,
    );
    assert.equal(json(unknown).stats.requests, 0);
    assert.equal(
      unknown.stderr.trim(),
      `routing-stats: --route mian: no requests for route mian in the log; did you mean "main"? (routes in the log: main; routes in ${routesFile}: main; aliases: m, second; gateway.models: claude-sonnet-4-5)`,
    );
    // A routes file that cannot be read: the alias cannot be resolved, and the note says why instead of an empty report.
    writeFileSync(routesFile, "{ not json");
    const unreadable = await runScript("routing-stats", ["--route", "m", "--file", log], env);
    assert.equal(unreadable.code, 0, unreadable.stderr);
    assert.equal(
      unreadable.stderr.trim(),
      `routing-stats: --route m: no requests for route m in the log (routes in the log: main; ${routesFile} is unreadable or invalid, so no alias is known)`,
    );
    // Another agent dir's log, named by path: its own routes file (beside the log) names the routes, not the default
    // agent dir's.
    const other = join(freshDir("auto-router-cli-route-beside"), "extensions");
    mkdirSync(other);
    copyFileSync(log, join(other, "auto-router.events.jsonl"));
    writeFileSync(join(other, "auto-router.routes.json"), JSON.stringify({ ...routes, aliases: { theirs: "main" } }));
    const beside = await runScript("routing-stats", ["--json", "--route", "theirs", other], env);
    assert.equal(json(beside).stats.requests, 1, beside.stderr);
    assert.equal(
      beside.stderr.trim(),
      `routing-stats: --route theirs is an alias of route main (the routes file ${join(other, "auto-router.routes.json")}): showing that route's requests`,
    );
  });

  it("writes no --html report when a --file is not an event log: an earlier report stays, none is created", async () => {
    // Real pi (SDK, faux target) writes the log, and the report of it is written as usual.
    const directory = await logOfOneAnswer("auto-router-cli-html-not-log");
    const reports = freshDir("auto-router-cli-html-reports");
    const report = join(reports, "report.html");
    const first = await runScript("routing-session-stats", ["--file", directory, "--html", report]);
    assert.equal(first.code, 0, first.stderr);
    const earlier = readFileSync(report, "utf8");
    assert.match(earlier, /· 1 request</);

    // The same run with README.md named beside the log (a slip of the shell's completion) is refused as bad input,
    // and a refused run leaves the files it names as they were.
    const readme = join(REPO_ROOT, "README.md");
    const fresh = join(reports, "fresh.html");
    for (const target of [report, fresh]) {
      const run = await runScript("routing-session-stats", ["--file", directory, "--file", readme, "--html", target]);
      assert.equal(run.code, 1, run.stdout);
      assert.equal(run.stdout, "");
      assert.ok(run.stderr.startsWith(`routing-session-stats: ${readme} is not an event log: `), run.stderr);
      assert.doesNotMatch(run.stderr, /wrote the HTML report/);
    }
    assert.equal(readFileSync(report, "utf8"), earlier, "the earlier report is not replaced by one of the refused run");
    assert.equal(existsSync(fresh), false, "no report is created by a refused run");
  });

  it("counts a request whose final line carries a step of a type from a newer version, leaving out only that step", async () => {
    // Real pi (SDK, faux targets) writes the log: one request served at once, one after a failover.
    const h = await harnesses.start(
      {
        ...TWO_TARGETS,
      },
      "auto-router-cli-newer-step",
    );
    const log = await servedThenFailedOver(h);
    const written = readFileSync(log, "utf8");
    const finals = written.split("\n").filter((line) => line.includes('"type":"final"'));
    assert.equal(finals.length, 2);
    assert.ok(
      finals.every((line) => JSON.parse(line).steps?.length > 0),
      "the finals carry their steps",
    );
    const expected = json(await runScript("routing-stats", ["--json", "--file", log]));
    assert.deepEqual(expected.stats.outcomes, { success: 2 });
    assert.equal(expected.stats.requestsFailedOver, 1);

    // The same log as a newer writer might fold it: an event of a type this version does not know among the steps.
    const newer = join(freshDir("auto-router-cli-newer-step-log"), "auto-router.events.jsonl");
    const withNewStep = (line: string) => {
      if (!line.includes('"type":"final"')) return line;
      const record = JSON.parse(line);
      record.v = 4;
      // A type named like a member of every object counted as any other (it was counted on Object's constructor).
      record.steps.splice(
        1,
        0,
        { type: "hedge", data: { target: "mock-b/model-b" }, ms: -1 },
        { type: "constructor", data: {}, ms: -1 },
      );
      return JSON.stringify(record);
    };
    writeFileSync(newer, written.split("\n").map(withNewStep).join("\n"));
    const stats = json(await runScript("routing-stats", ["--json", "--file", newer]));
    assert.deepEqual(stats.stats, expected.stats, "the requests count as in the log without the new step");
    assert.equal(stats.log.malformed, 0);
    assert.deepEqual(stats.log.unknownTypes, { hedge: 2, constructor: 2 });
    assert.equal(stats.log.completedRequests, 2);
    const session = json(await runScript("routing-session-stats", ["--json", "--file", newer]));
    const sessionExpected = json(await runScript("routing-session-stats", ["--json", "--file", log]));
    assert.deepEqual(session.stats.models, sessionExpected.stats.models, "every attempt of the requests counted");
    const text = await runScript("routing-stats", ["--file", newer]);
    assert.match(text.stdout, /^requests {7}2$/m);
    assert.match(text.stdout, /0 malformed lines skipped, 4 of unknown types$/m);
  });

  it("counts a request whose final line has an outcome from a newer version, showing that outcome as written", async () => {
    // Real pi (SDK, faux targets) writes the log: two requests served at once.
    const h = await harnesses.start({ ...TWO_TARGETS }, "auto-router-cli-newer-outcome");
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("one"), fauxAssistantMessage("two")]);
    await h.prompt("one");
    await h.prompt("two");
    await harnesses.stop(); // flushes the event log
    const written = readFileSync(join(harnesses.stateDir, "auto-router.events.jsonl"), "utf8");
    // The same log as a newer writer might end its second request: an outcome this version does not know (one named
    // like a member of every object too: it was counted on Object's constructor).
    for (const outcome of ["hedged", "constructor"]) {
      const newer = join(freshDir("auto-router-cli-newer-outcome-log"), "auto-router.events.jsonl");
      let finals = 0;
      const withNewOutcome = (line: string) => {
        if (!line.includes('"type":"final"') || ++finals !== 2) return line;
        const record = JSON.parse(line);
        record.data.outcome = outcome;
        return JSON.stringify(record);
      };
      writeFileSync(newer, written.split("\n").map(withNewOutcome).join("\n"));
      assert.equal(finals, 2);
      const stats = json(await runScript("routing-stats", ["--json", "--file", newer]));
      assert.equal(stats.log.malformed, 0, "not dropped as malformed");
      assert.equal(stats.log.completedRequests, 2);
      assert.equal(stats.stats.requests, 2);
      assert.deepEqual(stats.stats.outcomes, { success: 1, [outcome]: 1 });
      const text = await runScript("routing-stats", ["--file", newer]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^outcomes {7}(success 1, ${outcome} 1|${outcome} 1, success 1)$`, "m"));
      assert.match(text.stdout, /0 malformed lines skipped/);
      const session = json(await runScript("routing-session-stats", ["--json", "--file", newer]));
      assert.equal(session.log.completedRequests, 2);
    }
  });

  it("counts no breaker event as a request event without an id (log.orphanEvents)", async () => {
    // Real pi (SDK, faux targets) writes the log: mock-a fails once, which opens its breaker (one call is enough here).
    const h = await harnesses.start(
      {
        ...TWO_TARGETS,
        env: { AUTO_ROUTER_BREAKER_MINIMUM_CALLS: "1" },
      },
      "auto-router-cli-orphans",
    );
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage("", { stopReason: "error", errorMessage: "503 service unavailable" }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("served by b")]);
    await h.prompt("one");
    await harnesses.stop(); // flushes the event log
    const log = join(harnesses.stateDir, "auto-router.events.jsonl");
    const breakerLines = readFileSync(log, "utf8")
      .split("\n")
      .filter((line) => line.includes('"type":"breaker"'));
    assert.equal(breakerLines.length, 1, "the breaker opened and was logged");
    const stats = json(await runScript("routing-stats", ["--json", "--file", log]));
    assert.equal(stats.log.completedRequests, 1);
    assert.equal(stats.log.orphanEvents, 0);
  });

  it("counts the bad lines of a damaged rotated file found in a directory, with a warning naming it, instead of refusing the log", async () => {
    // Real pi (SDK, faux target) writes the live log; a crash left its rotated file as one NUL-filled line.
    const directory = await logOfOneAnswer("auto-router-cli-damaged-rotated");
    const damaged = join(directory, "auto-router.events.1.jsonl");
    writeFileSync(damaged, `${"\0".repeat(4096)}\n`);
    const live = join(directory, "auto-router.events.jsonl");
    for (const script of SCRIPTS.filter((name) => name !== "routing-replay")) {
      // The directory, and the live file whose rotated sibling it is.
      for (const file of [directory, live]) {
        const run = await runScript(script, ["--file", file]);
        assert.equal(run.code, 0, `${script} ${file}: ${run.stderr}`);
        assert.equal(
          run.stderr,
          `${script}: warning: ${damaged} holds no event: its 1 non-blank line is counted as malformed and skipped (line 1: not JSON); the other files are read\n`,
        );
        assert.match(run.stdout, /read \d+ lines from 2 files: \d+ events, 1 malformed line skipped/);
        assert.ok(run.stdout.includes(`malformed: ${damaged}:1 (not JSON)`), run.stdout);
      }
    }
    const stats = json(await runScript("routing-stats", ["--json", "--file", directory]));
    assert.equal(stats.stats.requests, 1);
    assert.equal(stats.log.malformed, 1);
    const report = join(freshDir("auto-router-cli-damaged-report"), "report.html");
    const html = await runScript("routing-session-stats", ["--file", directory, "--html", report]);
    assert.equal(html.code, 0, html.stderr);
    assert.match(readFileSync(report, "utf8"), /· 1 request</);
    // Named by --file itself, a file without an event is still refused, as README.md would be.
    const named = await runScript("routing-stats", ["--file", damaged]);
    assert.equal(named.code, 1, named.stdout);
    assert.ok(named.stderr.startsWith(`routing-stats: ${damaged} is not an event log: `), named.stderr);
  });

  it("counts a request once when it is in several files read (a log and its backup, overlapping merged logs)", async () => {
    // Real pi (SDK, priced faux targets) writes the log: one request served at once, one after a failover.
    const priced = { input: 100, output: 100, cacheRead: 100, cacheWrite: 100 };
    const h = await harnesses.start(
      {
        targets: [
          { provider: "mock-a", models: [{ id: "model-a", cost: priced }] },
          { provider: "mock-b", models: [{ id: "model-b", cost: priced }] },
        ],
        routes: TWO_TARGETS.routes,
      },
      "auto-router-cli-overlap",
    );
    const log = await servedThenFailedOver(h);
    const backup = join(freshDir("auto-router-cli-overlap-backup"), "backup.jsonl");
    copyFileSync(log, backup);
    const once = json(await runScript("routing-stats", ["--json", "--file", log]));
    assert.equal(once.stats.requests, 2);
    assert.ok(once.stats.totalCostUsd > 0, "the faux targets are priced");
    const twice = json(await runScript("routing-stats", ["--json", "--file", log, "--file", backup]));
    assert.deepEqual(twice.stats, once.stats, "the backup's copies are not counted again");
    assert.equal(twice.log.files.length, 2);
    assert.equal(twice.log.repeatedRequests, 2);
    const session = json(await runScript("routing-session-stats", ["--json", "--file", log]));
    const sessionTwice = json(await runScript("routing-session-stats", ["--json", "--file", backup, "--file", log]));
    assert.deepEqual(sessionTwice.stats, session.stats);
    const quality = json(await runScript("routing-quality-stats", ["--json", "--file", log]));
    const qualityTwice = json(await runScript("routing-quality-stats", ["--json", "--file", log, "--file", backup]));
    assert.deepEqual(qualityTwice.stats, quality.stats);
    const config = replayConfig({ main: { targets: [{ provider: "mock-b", modelId: "model-b" }] } });
    const replay = json(await runScript("routing-replay", ["--json", "--config", config, "--file", log]));
    const replayTwice = json(
      await runScript("routing-replay", ["--json", "--config", config, "--file", log, "--file", backup]),
    );
    assert.deepEqual(replayTwice.report, replay.report);
    const text = await runScript("routing-stats", ["--file", log, "--file", backup]);
    assert.match(text.stdout, /^requests {7}2$/m);
    assert.match(text.stdout, /, 2 requests read again from another file counted once$/m);
  });
});
