// Concurrency suite: N real `pi -p` processes, several prompts each, all at once against one agent dir (one state
// dir). Target A and B answer 429 (with a Retry-After hint) or 503 for some prompts, drawn from the seed; C always
// answers. Afterwards the shared state must hold exactly what the emulators' call logs say happened: the usage
// ledger (requests and tokens per target), the latency sample counts, one cooldown per (route, target) a failure
// reaches (a 429's or an overload's: every route naming the target; a server error's: its own route), and
// the event log's attempt/result/final lines. Any difference is a lost (or invented) update.
//   node --import tsx reliability/concurrency.ts [--quick] [--seed N] [--size PROCESSES] [--keep]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { makeAgentDir } from "../test/helpers/agent-dir.ts";
import { runPi, type PiRun } from "../test/helpers/pi-cli.ts";
import type { EmulatorReply, RecordedCall } from "../test/helpers/sse-emulator-core.ts";
import {
  assistantTexts,
  lastUserText,
  routeOf,
  startCliTargets,
  TARGET_NAMES,
  type CliTargets,
  type TargetName,
} from "./cli-fixture.ts";
import { readLoggedEvents } from "./event-log-reader.ts";
import { createRandom } from "./seeded-random.ts";
import { parseSuiteOptions } from "./suite-options.ts";
import { runSuiteMain, SuiteReport, type Row } from "./suite-report.ts";

const FULL_PROCESSES = 8;
const QUICK_PROCESSES = 4;
const FULL_PROMPTS_PER_PROCESS = 5;
const QUICK_PROMPTS_PER_PROCESS = 3;
/** Longer than any run, so no cooldown expires (and is pruned) before the suite reads the file. */
const COOLDOWN_SECONDS = 600;
const PI_TIMEOUT_MS = 180_000;
const PROMPT_PATTERN = /concurrency process (\d+) prompt (\d+)/;

type Fault = "ok" | "rate-limit-429" | "unavailable-503";
/** The failure kind the router records: Anthropic's 503 body says "api_error", which is a server fault, not overload. */
const FAULT_KIND: Record<"a" | "b", Record<Exclude<Fault, "ok">, string>> = {
  a: { "rate-limit-429": "rate_limit", "unavailable-503": "overloaded" },
  b: { "rate-limit-429": "rate_limit", "unavailable-503": "server" },
};
/** C always answers, so every prompt has a healthy target and must be served. */
const FAULT_WEIGHTS: Record<"a" | "b", Record<Fault, number>> = {
  a: { ok: 40, "rate-limit-429": 35, "unavailable-503": 25 },
  b: { ok: 55, "rate-limit-429": 20, "unavailable-503": 25 },
};

interface CallRecord {
  target: TargetName;
  process: number;
  prompt: number;
  fault: Fault;
  text?: string;
  usage?: { input: number; output: number };
}

const routeIdOf = (process: number) => `proc-${process}`;
const promptText = (process: number, prompt: number) => `concurrency process ${process} prompt ${prompt}`;

function replyFor(record: CallRecord): EmulatorReply {
  if (record.fault === "rate-limit-429") {
    return {
      status: 429,
      retryAfterSeconds: COOLDOWN_SECONDS,
      errorMessage: `Rate limit reached. Please try again in ${COOLDOWN_SECONDS}s.`,
    };
  }
  if (record.fault === "unavailable-503") return { status: 503 };
  return { text: record.text!, usage: record.usage! };
}

async function main(): Promise<number> {
  const options = parseSuiteOptions();
  const processes = options.size ?? (options.quick ? QUICK_PROCESSES : FULL_PROCESSES);
  const promptsPerProcess = options.quick ? QUICK_PROMPTS_PER_PROCESS : FULL_PROMPTS_PER_PROCESS;
  const report = new SuiteReport("concurrency", options.seed);
  const random = createRandom(options.seed);
  // The plan is drawn before anything runs: the order in which processes reach the emulators must not change it.
  const plan = new Map<string, Fault>();
  for (let process = 0; process < processes; process++) {
    for (let prompt = 0; prompt < promptsPerProcess; prompt++) {
      plan.set(`a:${process}:${prompt}`, random.weighted(FAULT_WEIGHTS.a));
      plan.set(`b:${process}:${prompt}`, random.weighted(FAULT_WEIGHTS.b));
    }
  }
  const fixture = await startCliTargets("conc");
  const calls: CallRecord[] = [];
  for (const name of TARGET_NAMES) {
    fixture.targets[name].emulator.setDefault((call: RecordedCall) => {
      const match = PROMPT_PATTERN.exec(lastUserText(call));
      const process = match ? Number(match[1]) : -1;
      const prompt = match ? Number(match[2]) : -1;
      const fault = name === "c" ? "ok" : (plan.get(`${name}:${process}:${prompt}`) ?? "ok");
      const record: CallRecord = { target: name, process, prompt, fault };
      if (fault === "ok") {
        record.text = `Answer to ${process}.${prompt} from ${name.toUpperCase()} (call ${call.index + 1}).`;
        record.usage = { input: 100 + process * 10 + prompt, output: 5 + prompt };
      }
      calls.push(record);
      return replyFor(record);
    });
  }
  const kinds = Object.fromEntries(
    ["rate_limit", "overloaded", "server"].map((kind) => [kind, { cooldownMs: COOLDOWN_SECONDS * 1000 }]),
  );
  const routes = Object.fromEntries(
    Array.from({ length: processes }, (_, process) => [
      routeIdOf(process),
      routeOf(["a", "b", "c"], fixture.targets, { failover: { kinds } }),
    ]),
  );
  const dir = makeAgentDir({ providers: fixture.providers(), routes: { routes } });
  const stateDir = join(dir.agentDir, "extensions");
  try {
    report.note(
      `${processes} pi processes x ${promptsPerProcess} prompts, all started at once, sharing ${dir.agentDir}`,
    );
    const runs: PiRun[] = await Promise.all(
      Array.from({ length: processes }, (_, process) =>
        runPi({
          agentDir: dir.agentDir,
          timeoutMs: PI_TIMEOUT_MS,
          args: [
            "--model",
            `auto-router/${routeIdOf(process)}`,
            "--mode",
            "json",
            "-p",
            ...Array.from({ length: promptsPerProcess }, (_, prompt) => promptText(process, prompt)),
          ],
        }),
      ),
    );
    checkProcesses(report, runs, calls, promptsPerProcess);
    checkState(report, stateDir, calls, processes * promptsPerProcess, fixture.targets, processes);
  } finally {
    await fixture.close();
    if (options.keep) report.note(`kept ${dir.agentDir}`);
    else dir.cleanup();
  }
  return report.finish();
}

function checkProcesses(report: SuiteReport, runs: PiRun[], calls: CallRecord[], promptsPerProcess: number): void {
  let served = 0;
  const wrong: string[] = [];
  runs.forEach((run, process) => {
    const texts = assistantTexts(run.stdout);
    for (let prompt = 0; prompt < promptsPerProcess; prompt++) {
      const expected = calls.find(
        (call) => call.process === process && call.prompt === prompt && call.fault === "ok",
      )?.text;
      if (expected !== undefined && texts[prompt] === expected) served += 1;
      else wrong.push(`${process}.${prompt}`);
    }
  });
  const failedExits = runs.map((run, process) => ({ process, run })).filter(({ run }) => run.code !== 0);
  report.check(
    "every pi process exits 0",
    failedExits.length === 0,
    failedExits.map(({ process, run }) => `#${process} exit ${run.code}: ${run.stderr.slice(0, 200)}`).join("; "),
  );
  report.check(
    "every prompt is served with exactly its healthy call's text",
    wrong.length === 0,
    `${served} / ${served + wrong.length}${wrong.length ? `, wrong: ${wrong.slice(0, 10).join(" ")}` : ""}`,
  );
}

function readJson(file: string): any {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

function checkState(
  report: SuiteReport,
  stateDir: string,
  calls: CallRecord[],
  prompts: number,
  targets: CliTargets["targets"],
  processes: number,
): void {
  const ledger = readJson(join(stateDir, "auto-router.usage.json"));
  const latency = readJson(join(stateDir, "auto-router.latency.json"));
  const cooldowns = readJson(join(stateDir, "auto-router.cooldowns.json"));
  const { events, malformed, lines } = readLoggedEvents(stateDir);
  const rows: Row[] = [];
  let ledgerMismatches = 0;
  let latencyMismatches = 0;
  let logMismatches = 0;
  for (const name of TARGET_NAMES) {
    const target = targets[name];
    const mine = calls.filter((call) => call.target === name);
    const answered = mine.filter((call) => call.fault === "ok");
    const truth = {
      requests: answered.length,
      input: answered.reduce((sum, call) => sum + call.usage!.input, 0),
      output: answered.reduce((sum, call) => sum + call.usage!.output, 0),
    };
    const recorded = { requests: 0, input: 0, output: 0 };
    for (const day of Object.values<any>(ledger?.days ?? {})) {
      const totals = day?.[target.provider]?.[target.modelId];
      if (!totals) continue;
      recorded.requests += totals.requests;
      recorded.input += totals.input;
      recorded.output += totals.output;
    }
    const samples = latency?.targets?.[target.key]?.samples ?? 0;
    const attempts = events.filter((event) => event.type === "attempt" && event.data.target === target.key).length;
    const successes = events.filter(
      (event) => event.type === "result" && event.data.target === target.key && event.data.outcome === "success",
    ).length;
    if (recorded.requests !== truth.requests || recorded.input !== truth.input || recorded.output !== truth.output)
      ledgerMismatches += 1;
    if (samples !== answered.length) latencyMismatches += 1;
    if (attempts !== mine.length || successes !== answered.length) logMismatches += 1;
    rows.push({
      target: target.key,
      calls: mine.length,
      "429s": mine.filter((call) => call.fault === "rate-limit-429").length,
      "503s": mine.filter((call) => call.fault === "unavailable-503").length,
      answered: answered.length,
      "ledger requests": `${recorded.requests} / ${truth.requests}`,
      "ledger tokens in+out": `${recorded.input}+${recorded.output} / ${truth.input}+${truth.output}`,
      "latency samples": `${samples} / ${answered.length}`,
      "log attempts": `${attempts} / ${mine.length}`,
    });
  }
  report.table("Per target: recorded / ground truth from the emulators' call logs", rows);

  // A rate limit and an overload are the target's, not the route's: they rest it on every route naming it (each
  // process's route names A, B and C); a server error (B's 503) rests it on the failing route only. Every route's entry
  // is the latest of the failures that reach it (all rest 600 s), so its kind is one of theirs: which one depends on
  // the order the processes met them. The keys are exact: a lost write of one process leaves one missing.
  const expectedCooldowns = new Map<string, Set<string>>();
  const allowKind = (key: string, kind: string) => {
    const kinds = expectedCooldowns.get(key) ?? new Set<string>();
    expectedCooldowns.set(key, kinds.add(kind));
  };
  for (const call of calls) {
    if (call.fault === "ok" || call.target === "c") continue;
    const kind = FAULT_KIND[call.target][call.fault];
    const targetWide = kind !== "server";
    for (let process = 0; process < processes; process++)
      if (targetWide || process === call.process) allowKind(`${routeIdOf(process)}::${targets[call.target].key}`, kind);
  }
  const recordedCooldowns: Record<string, { kind: string }> = cooldowns?.entries ?? {};
  const missing = [...expectedCooldowns.keys()].filter((key) => !(key in recordedCooldowns));
  const extra = Object.keys(recordedCooldowns).filter((key) => !expectedCooldowns.has(key));
  const wrongKind = [...expectedCooldowns].filter(
    ([key, kinds]) => key in recordedCooldowns && !kinds.has(recordedCooldowns[key]!.kind),
  );

  const count = (type: string, outcome?: string) =>
    events.filter((event) => event.type === type && (outcome === undefined || event.data.outcome === outcome)).length;
  const failedCalls = calls.filter((call) => call.fault !== "ok").length;
  report.table("Event log lines: recorded / ground truth", [
    { line: "final (one per prompt)", recorded: count("final"), truth: prompts },
    { line: "attempt (one per emulator call)", recorded: count("attempt"), truth: calls.length },
    { line: "result failed (429/503 calls)", recorded: count("result", "failed"), truth: failedCalls },
    {
      line: "result success (answered calls)",
      recorded: count("result", "success"),
      truth: calls.length - failedCalls,
    },
    { line: "malformed lines", recorded: malformed, truth: 0 },
  ]);
  report.table("Cooldowns (one per route a failure reaches and target)", [
    {
      expected: expectedCooldowns.size,
      recorded: Object.keys(recordedCooldowns).length,
      missing: missing.length,
      extra: extra.length,
      "wrong kind": wrongKind.length,
    },
  ]);
  report.note(`event log: ${lines} lines`);

  report.check(
    "usage ledger equals the answered calls per target (0 lost updates)",
    ledger !== undefined && ledgerMismatches === 0,
    `${ledgerMismatches} targets differ`,
  );
  report.check(
    "latency sample counts equal the answered calls per target",
    latency !== undefined && latencyMismatches === 0,
    `${latencyMismatches} targets differ`,
  );
  report.check(
    "one cooldown per route the failures reach (a target-wide one: every route naming it), of one of their kinds",
    missing.length + extra.length + wrongKind.length === 0,
    `missing ${missing.join(" ") || "none"}; extra ${extra.join(" ") || "none"}; wrong kind ${wrongKind.map(([key, kinds]) => `${key} ${recordedCooldowns[key]!.kind} not ${[...kinds].join("/")}`).join(", ") || "none"}`,
  );
  report.check(
    "event log: one attempt and one result per call, one final per prompt, nothing torn",
    logMismatches === 0 &&
      malformed === 0 &&
      count("final") === prompts &&
      count("result", "failed") === failedCalls &&
      count("attempt") === calls.length,
    `${lines} lines, ${malformed} malformed`,
  );
  report.check("some prompts failed over (the faults were exercised)", failedCalls > 0, `${failedCalls} failed calls`);
}

runSuiteMain(main);
