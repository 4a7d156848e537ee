// Corruption suite: every state file, the event log and the routes file, damaged each way (corruption-cases.ts),
// then one real `pi -p`: it must exit 0 and serve an answer, warn exactly once naming the file when there is
// something to say, keep a `.corrupt-<ts>` copy with the damaged bytes for state files, never move the routes file
// (an invalid one falls back to the last good copy in the state directory), and never crash. Also a missing and an unwritable state dir.
//   node --import tsx reliability/corruption.ts [--quick] [--seed N] [--keep]
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { makeAgentDir } from "../test/helpers/agent-dir.ts";
import { runPi, type PiRun } from "../test/helpers/pi-cli.ts";
import { emptyLimits } from "../src/budget/budget-limits.ts";
import { emptyBreakers } from "../src/breaker/breaker-book.ts";
import { emptyHealth } from "../src/health/health-book.ts";
import { emptyQuotaState } from "../src/quota/uvi-plugin.ts";
import { emptyRatings } from "../src/ratings/ratings-book.ts";
import { emptyShadow } from "../src/shadow/shadow-history.ts";
import { RequestEnvelopes } from "../src/events/compact-events.ts";
import { parseEventLine } from "../src/events/read-events.ts";
import type { RecordedCall } from "../test/helpers/sse-emulator-core.ts";
import { lastUserText, routeOf, startCliTargets, type CliTargets } from "./cli-fixture.ts";
import {
  applyDamage,
  EVENT_LOG_FILE,
  expectationFor,
  MODES,
  ROUTES_FILE,
  SUBJECTS,
  type Mode,
  type Subject,
} from "./corruption-cases.ts";
import { createRandom } from "./seeded-random.ts";
import { parseSuiteOptions } from "./suite-options.ts";
import { runSuiteMain, SuiteReport, type Row } from "./suite-report.ts";

/** A route id the built-in routes have too, whose first built-in target is the (overridden) anthropic provider. */
const ROUTE_ID = "subscription-swe";
const WARM_UP_ROUTE_ID = "warm-up";
const PARALLEL_RUNS = 2;
const FROM_FILE = "Served by the routes file";
const FROM_DEFAULTS = "Served by the built-in routes";
/** Stores a normal run may not create; seeded with their empty state so every store has a file to damage. */
// Files a normal run need not write: breakers and health stay unwritten while every counted attempt succeeded.
const EMPTY_STATES: Record<string, () => unknown> = {
  "budget-limits": emptyLimits,
  quota: emptyQuotaState,
  ratings: emptyRatings,
  shadow: emptyShadow,
  breakers: emptyBreakers,
  health: emptyHealth,
};

interface Case {
  id: string;
  subject: Subject | undefined;
  mode: Mode | "state-dir-missing" | "state-dir-unwritable";
}

interface Outcome {
  row: Row;
  problems: string[];
}

function writeModels(agentDir: string, fixture: CliTargets): void {
  // The built-in anthropic provider pointed at emulator B: what the built-in routes reach when the file is invalid.
  const providers = {
    ...fixture.providers(),
    anthropic: { baseUrl: fixture.targets.b.emulator.url, apiKey: "placeholder-anthropic" },
  };
  writeFileSync(join(agentDir, "models.json"), JSON.stringify({ providers }, null, 2));
}

function newAgentDir(fixture: CliTargets) {
  const routes = {
    routes: {
      [ROUTE_ID]: routeOf(["a", "c"], fixture.targets),
      [WARM_UP_ROUTE_ID]: routeOf(["a", "c"], fixture.targets),
    },
  };
  const dir = makeAgentDir({ providers: fixture.providers(), routes });
  writeModels(dir.agentDir, fixture);
  return dir;
}

/** A normal run's state: a failover (cooldown, breaker, health), a rating and a budget limit, then empty seeds. */
async function baselineState(fixture: CliTargets): Promise<Map<string, Buffer>> {
  const dir = newAgentDir(fixture);
  try {
    fixture.targets.a.emulator.enqueue({ status: 429, retryAfterSeconds: 600 });
    const runs = [
      await runPi({
        agentDir: dir.agentDir,
        args: ["--model", `auto-router/${WARM_UP_ROUTE_ID}`, "-p", "warm up", "/auto-router rate bad too slow"],
      }),
      await runPi({
        agentDir: dir.agentDir,
        args: ["--model", `auto-router/${WARM_UP_ROUTE_ID}`, "-p", "/auto-router budget set corr-a 5"],
      }),
    ];
    for (const run of runs) if (run.code !== 0) throw new Error(`baseline pi run failed (${run.code}): ${run.stderr}`);
    const stateDir = join(dir.agentDir, "extensions");
    for (const [name, empty] of Object.entries(EMPTY_STATES)) {
      const file = join(stateDir, `auto-router.${name}.json`);
      if (!existsSync(file)) writeFileSync(file, JSON.stringify(empty(), null, 2), { mode: 0o600 });
    }
    return new Map(
      readdirSync(stateDir)
        .filter((name) => name.startsWith("auto-router."))
        .map((name) => [name, readFileSync(join(stateDir, name))]),
    );
  } finally {
    dir.cleanup();
  }
}

function stderrLinesNaming(run: PiRun, fileName: string): string[] {
  return run.stderr.split("\n").filter((line) => line.includes(fileName));
}

async function runCase(
  testCase: Case,
  fixture: CliTargets,
  baseline: Map<string, Buffer>,
  seed: number,
  keep: boolean,
): Promise<Outcome> {
  const dir = newAgentDir(fixture);
  const stateDir = join(dir.agentDir, "extensions");
  for (const [name, bytes] of baseline) writeFileSync(join(stateDir, name), bytes, { mode: 0o600 });
  const problems: string[] = [];
  const env: Record<string, string> = {};
  let damaged: Buffer | undefined;
  const { subject, mode } = testCase;
  if (mode === "state-dir-missing") env.AUTO_ROUTER_LOG_DIR = join(dir.agentDir, "fresh", "state");
  else if (mode === "state-dir-unwritable") {
    writeFileSync(join(dir.agentDir, "blocked"), "a file where the state directory's parent should be");
    env.AUTO_ROUTER_LOG_DIR = join(dir.agentDir, "blocked", "state");
  } else {
    damaged = applyDamage(
      join(stateDir, subject!.file),
      mode,
      subject!,
      baseline.get(subject!.file)!,
      createRandom(seed),
    );
  }
  const prompt = `corruption case ${testCase.id}`;
  const run = await runPi({ agentDir: dir.agentDir, env, args: ["--model", `auto-router/${ROUTE_ID}`, "-p", prompt] });
  const answer = run.stdout.trim();
  // Each emulator echoes the prompt after its prefix, so an answer to another run cannot count.
  const servedBy = !answer.includes(prompt)
    ? "none"
    : answer.startsWith(FROM_FILE)
      ? "file"
      : answer.startsWith(FROM_DEFAULTS)
        ? "defaults"
        : "none";
  if (run.code !== 0) problems.push(`exit ${run.code}`);
  if (/^\s+at /m.test(run.stderr)) problems.push("stack trace on stderr");
  let warnings = "-";
  let copy = "-";
  if (subject && mode !== "state-dir-missing" && mode !== "state-dir-unwritable") {
    const expected = expectationFor(subject, mode);
    if (servedBy !== (expected.servedByDefaults ? "defaults" : "file")) problems.push(`served by ${servedBy}`);
    const named =
      subject.kind === "routes"
        ? stderrLinesNaming(run, subject.file).filter((line) => line.includes("is invalid"))
        : stderrLinesNaming(run, subject.file);
    warnings = String(named.length);
    if (named.length !== expected.warnings)
      problems.push(`${named.length} warnings naming the file (expected ${expected.warnings}): ${named.join(" | ")}`);
    const copies = readdirSync(stateDir).filter((name) => name.startsWith(`${subject.file}.corrupt-`));
    copy =
      copies.length === 0
        ? "none"
        : copies.length === 1 && damaged && readFileSync(join(stateDir, copies[0]!)).equals(damaged)
          ? "exact"
          : "WRONG";
    if (expected.corruptCopy ? copy !== "exact" : copies.length !== 0) problems.push(`corrupt copy: ${copy}`);
    if (subject.kind === "routes" && damaged && !readFileSync(join(stateDir, ROUTES_FILE)).equals(damaged))
      problems.push("routes file changed");
    if (subject.kind === "events" && mode !== "unreadable") problems.push(...checkEventLog(stateDir, subject.file));
  } else {
    if (servedBy !== "file") problems.push(`served by ${servedBy}`);
    const router = run.stderr.split("\n").filter((line) => line.startsWith("auto-router:"));
    warnings = String(router.length);
    if (mode === "state-dir-missing") {
      const created = env.AUTO_ROUTER_LOG_DIR!;
      if (router.length !== 0) problems.push(`${router.length} warnings`);
      if (!existsSync(created) || (statSync(created).mode & 0o777) !== 0o700)
        problems.push("state dir not created 0700");
      else
        for (const name of readdirSync(created))
          if ((statSync(join(created, name)).mode & 0o777) !== 0o600) problems.push(`${name} not 0600`);
    } else {
      const repeated = router.filter((line, index) => router.indexOf(line) !== index);
      if (router.length === 0) problems.push("no warning");
      if (repeated.length) problems.push(`${repeated.length} repeated warnings`);
    }
  }
  if (keep) process.stdout.write(`kept ${testCase.id}: ${dir.agentDir}\n`);
  else dir.cleanup();
  return {
    row: {
      file: subject?.file ?? "(state dir)",
      mode,
      exit: run.code ?? "killed",
      served: servedBy,
      warnings,
      "corrupt copy": copy,
      result: problems.length ? `FAIL: ${problems.join("; ")}` : "ok",
    },
    problems,
  };
}

/** The router's lines for this run must be intact JSON after whatever the damage left at the end of the file
 *  (a line cut by a crash must not swallow the next writer's first line). Only this run uses ROUTE_ID; a request's
 *  follow-up lines name their route through its decision line, as the readers see them. */
function checkEventLog(stateDir: string, file: string): string[] {
  const path = join(stateDir, file);
  if (!existsSync(path)) return ["event log missing"];
  const requests = new RequestEnvelopes();
  const events = readFileSync(path, "utf8")
    .split("\n")
    .flatMap((line) => {
      const outcome = parseEventLine(line);
      if (!("event" in outcome)) return [];
      requests.fill(outcome.event);
      return [outcome.event];
    });
  const intact = (type: string) => events.filter((event) => event.type === type && event.routeId === ROUTE_ID).length;
  return ["decision", "final"]
    .filter((type) => intact(type) !== 1)
    .map((type) => `${intact(type)} intact ${type} lines for this run (expected 1)`);
}

/**
 * --quick (CI): every damage once, each on another kind of file: the spend ledger, the command-set limits, a store
 * written under the file lock, one of the plain stores, the event log and the routes file. Every store reads its file
 * through the same JSON store, whose damage handling is unit-tested (test/unit/json-store.test.ts).
 */
const QUICK_CASES: ReadonlyArray<readonly [file: string, mode: Mode]> = [
  ["auto-router.usage.json", "truncated"],
  ["auto-router.budget-limits.json", "garbage"],
  ["auto-router.breakers.json", "unreadable"],
  ["auto-router.cooldowns.json", "read-only"],
  ["auto-router.latency.json", "emptied"],
  [EVENT_LOG_FILE, "wrong-types"],
  [ROUTES_FILE, "unreadable"],
];

function casesFor(quick: boolean): Case[] {
  const cases: Case[] = [];
  for (const subject of SUBJECTS) {
    const modes = quick ? QUICK_CASES.filter(([file]) => file === subject.file).map(([, mode]) => mode) : MODES;
    for (const mode of modes) cases.push({ id: `${basename(subject.file, ".json")}-${mode}`, subject, mode });
  }
  if (quick && cases.length !== QUICK_CASES.length) throw new Error("a --quick case names a file that is no subject");
  cases.push({ id: "state-dir-missing", subject: undefined, mode: "state-dir-missing" });
  cases.push({ id: "state-dir-unwritable", subject: undefined, mode: "state-dir-unwritable" });
  return cases;
}

async function main(): Promise<number> {
  const options = parseSuiteOptions();
  const report = new SuiteReport("corruption", options.seed);
  const fixture = await startCliTargets("corr");
  const answer = (text: string) => (call: RecordedCall) => ({ text: `${text}: ${lastUserText(call)}` });
  fixture.targets.a.emulator.setDefault(answer(FROM_FILE));
  fixture.targets.c.emulator.setDefault(answer(FROM_FILE));
  fixture.targets.b.emulator.setDefault(answer(FROM_DEFAULTS));
  try {
    const baseline = await baselineState(fixture);
    report.note(`baseline state files: ${[...baseline.keys()].join(", ")}`);
    const cases = casesFor(options.quick);
    const outcomes: Outcome[] = new Array(cases.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL_RUNS }, async () => {
        while (next < cases.length) {
          const index = next++;
          outcomes[index] = await runCase(cases[index]!, fixture, baseline, options.seed + index, options.keep);
        }
      }),
    );
    const matrix = SUBJECTS.map((subject): Row => {
      const row: Row = { file: subject.file };
      for (const mode of MODES) {
        const index = cases.findIndex((testCase) => testCase.subject === subject && testCase.mode === mode);
        row[mode] = index < 0 ? "-" : outcomes[index]!.problems.length ? "FAIL" : "ok";
      }
      return row;
    });
    report.table("file x damage -> result (ok: exit 0, answer served, warnings/copy as expected)", matrix);
    report.table(
      "Every run",
      outcomes.map((outcome) => outcome.row),
    );
    for (const [index, outcome] of outcomes.entries()) {
      report.check(`${cases[index]!.id}`, outcome.problems.length === 0, outcome.problems.join("; "));
    }
  } finally {
    await fixture.close();
  }
  return report.finish();
}

runSuiteMain(main);
