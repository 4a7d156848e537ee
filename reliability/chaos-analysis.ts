// Compares what the chaos run produced (pi's messages and streamed deltas, the router's event log, the calls each
// emulator received) with the plan's ground truth, prints the figures and records the invariants.
import { ANSWERING_FAULTS, type Fault } from "./chaos-faults.ts";
import { expectedOutcome, percentiles, type PromptPlan } from "./chaos-plan.ts";
import type { LoggedRequest } from "./event-log-reader.ts";
import type { Row, SuiteReport } from "./suite-report.ts";

export interface TargetCall {
  prompt: number;
  target: string;
  fault: Fault;
  text: string;
  receivedAt: number;
}

export interface PromptRecord {
  index: number;
  deltas: string[];
  hung: boolean;
  durationMs: number;
  endedAt?: number;
  stopReason?: string;
  servedBy?: string;
  text?: string;
  abortedAt?: number;
  promptError?: string;
}

export interface ChaosData {
  report: SuiteReport;
  plans: PromptPlan[];
  records: PromptRecord[];
  calls: TargetCall[];
  requests: LoggedRequest[];
  cooldownEntries: Record<string, { kind: string }>;
  crashes: { unhandledRejections: number; uncaughtExceptions: number; first: string };
  faults: readonly Fault[];
  boundMs: number;
  parseComplaints: number;
}

const COMMITTED_OUTCOMES = new Set(["success", "failed-after-commit", "aborted"]);
const MAX_EXAMPLES = 5;

function examples(list: string[]): string {
  return list.length === 0 ? "" : `e.g. ${list.slice(0, MAX_EXAMPLES).join("; ")}`;
}

export function analyseChaos(data: ChaosData): void {
  const { report, plans, records, calls, requests } = data;
  const callsByPrompt = new Map<number, TargetCall[]>();
  for (const call of calls) callsByPrompt.set(call.prompt, [...(callsByPrompt.get(call.prompt) ?? []), call]);
  const oneRequestPerPrompt = requests.length === records.length;

  const counts = {
    eligible: 0,
    servedAsExpected: 0,
    noHealthy: 0,
    failedAfterCommit: 0,
    timing: 0,
    hung: 0,
    mixedOutput: 0,
    failoverAfterCommit: 0,
    emulatorFailoverAfterCommit: 0,
  };
  const abort = {
    planned: 0,
    performed: 0,
    endedAborted: 0,
    callsAfterAbort: 0,
    cooldownAfterAbort: 0,
    finalNotAborted: 0,
  };
  const problems = {
    served: [] as string[],
    mixed: [] as string[],
    afterCommit: [] as string[],
    abort: [] as string[],
  };
  const attemptsHistogram = new Map<number, number>();

  records.forEach((record, position) => {
    const plan = plans[record.index]!;
    const request = oneRequestPerPrompt ? requests[position] : undefined;
    const promptCalls = callsByPrompt.get(record.index) ?? [];
    const attempts = request?.attempts.length ?? promptCalls.length;
    attemptsHistogram.set(attempts, (attemptsHistogram.get(attempts) ?? 0) + 1);
    if (record.hung) counts.hung += 1;

    // Output integrity: what pi streamed is what it stored, and it is a prefix of exactly one call's scripted text.
    const text = record.text ?? "";
    const servedCall = [...promptCalls].reverse().find((call) => call.target === record.servedBy);
    const streamed = record.deltas.join("");
    const markers = (text.match(/\[p\d+ /g) ?? []).length;
    if (streamed !== text || markers > 1 || (text !== "" && !servedCall?.text.startsWith(text))) {
      counts.mixedOutput += 1;
      problems.mixed.push(`prompt ${record.index}: "${text.slice(0, 60)}"`);
    }

    // No attempt after one that committed (event log), and no emulator call after a stream that delivered text.
    if (request) {
      const committedAt = request.results.findIndex((result) => COMMITTED_OUTCOMES.has(result.outcome));
      if (committedAt !== -1 && request.attempts.length > committedAt + 1) {
        counts.failoverAfterCommit += 1;
        problems.afterCommit.push(`prompt ${record.index}: ${request.attempts.map((a) => a.target).join(" -> ")}`);
      }
    }
    const dropped = promptCalls.findIndex((call) => call.fault === "drop-after-text");
    if (dropped !== -1 && promptCalls.length > dropped + 1) counts.emulatorFailoverAfterCommit += 1;

    const timingAffected =
      request?.results.some(
        (result) => result.failureKind === "timeout" && ANSWERING_FAULTS.has(plan.faults[result.target]!),
      ) ?? false;
    const abortPerformed =
      plan.abort &&
      record.abortedAt !== undefined &&
      record.endedAt !== undefined &&
      record.abortedAt <= record.endedAt;
    if (plan.abort) abort.planned += 1;
    if (abortPerformed) {
      abort.performed += 1;
      const late = promptCalls.filter((call) => call.receivedAt > record.abortedAt!).length;
      const cooled =
        request?.results.some((result) => result.outcome === "aborted" && result.cooldownMs !== undefined) ?? false;
      if (record.stopReason === "aborted") abort.endedAborted += 1;
      else problems.abort.push(`prompt ${record.index}: ended ${record.stopReason}`);
      if (late > 0) abort.callsAfterAbort += 1;
      if (cooled) abort.cooldownAfterAbort += 1;
      if (request?.final?.outcome !== "aborted") abort.finalNotAborted += 1;
      return;
    }
    if (timingAffected) {
      counts.timing += 1;
      return;
    }
    const candidateOrder = request
      ? request.candidates.flatMap((entry) => entry.candidates.map((candidate) => candidate.key))
      : [];
    const expected = expectedOutcome(plan, candidateOrder);
    if (expected.kind === "no-healthy-target") counts.noHealthy += 1;
    if (expected.kind === "failed-after-commit") counts.failedAfterCommit += 1;
    if (expected.kind !== "served") return;
    counts.eligible += 1;
    const ok =
      record.stopReason === "stop" &&
      record.servedBy === expected.target &&
      servedCall !== undefined &&
      text === servedCall.text;
    if (ok) counts.servedAsExpected += 1;
    else
      problems.served.push(
        `prompt ${record.index}: expected ${expected.target}, got ${record.stopReason} from ${record.servedBy}`,
      );
  });
  const abortedCooldownEntries = Object.values(data.cooldownEntries).filter((entry) => entry.kind === "aborted").length;

  const faultRows: Row[] = data.faults.map((fault) => {
    const attempted = requests.flatMap((request, position) =>
      request.attempts.filter((attempt) => plans[records[position]?.index ?? -1]?.faults[attempt.target] === fault),
    ).length;
    return {
      fault,
      "calls received": calls.filter((call) => call.fault === fault).length,
      "attempts (event log)": attempted,
    };
  });
  report.table("Faults injected (per target call)", faultRows);
  report.table(
    "Attempts per prompt",
    [...attemptsHistogram.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([attempts, prompts]) => ({
        attempts,
        prompts,
        share: `${((100 * prompts) / records.length).toFixed(1)}%`,
      })),
  );
  // Skips are the router's own state (cooldowns, breaker, provider health), legitimate by design; printed so a
  // reader sees how many planned-healthy answers the router never asked for.
  const skipReasons = new Map<string, { times: number; healthySkipped: number }>();
  requests.forEach((request, position) => {
    const plan = plans[records[position]?.index ?? -1];
    const first = request.candidates[0];
    for (const skipped of first?.skipped ?? []) {
      const entry = skipReasons.get(skipped.reason) ?? { times: 0, healthySkipped: 0 };
      entry.times += 1;
      if (plan && ANSWERING_FAULTS.has(plan.faults[skipped.key]!)) entry.healthySkipped += 1;
      skipReasons.set(skipped.reason, entry);
    }
  });
  report.table(
    "Targets skipped by the router's first decision",
    [...skipReasons.entries()].map(([reason, entry]) => ({
      reason,
      times: entry.times,
      "of which planned healthy": entry.healthySkipped,
    })),
  );
  const durations = percentiles(records.map((record) => record.durationMs));
  const successRate =
    counts.eligible === 0 ? "n/a" : `${((100 * counts.servedAsExpected) / counts.eligible).toFixed(2)}%`;
  report.table("Figures", [
    { figure: "prompts run", value: records.length, goal: "" },
    { figure: "prompts with a healthy target available (not aborted)", value: counts.eligible, goal: "" },
    { figure: "success rate when a healthy target was available", value: successRate, goal: "100%" },
    { figure: "prompts with no healthy target (all failed or cooling)", value: counts.noHealthy, goal: "" },
    {
      figure: "prompts whose answer dropped after text (surfaced, not replayed)",
      value: counts.failedAfterCommit,
      goal: "",
    },
    { figure: "prompts where a healthy answer hit a timeout (timing, not judged)", value: counts.timing, goal: "" },
    {
      figure: "failovers after commit (event log / emulators)",
      value: `${counts.failoverAfterCommit} / ${counts.emulatorFailoverAfterCommit}`,
      goal: "0",
    },
    { figure: "duplicated or interleaved output", value: counts.mixedOutput, goal: "0" },
    { figure: `hung streams (over ${data.boundMs} ms)`, value: counts.hung, goal: "0" },
    {
      figure: "unhandled rejections / uncaught exceptions",
      value: `${data.crashes.unhandledRejections} / ${data.crashes.uncaughtExceptions}`,
      goal: "0",
    },
    {
      figure: "aborts planned / performed mid-stream / ended aborted",
      value: `${abort.planned} / ${abort.performed} / ${abort.endedAborted}`,
      goal: "",
    },
    {
      figure: "aborted prompts with a later target call / a cooldown",
      value: `${abort.callsAfterAbort} / ${abort.cooldownAfterAbort + abortedCooldownEntries}`,
      goal: "0",
    },
    { figure: "provider SDK parse complaints on stderr (malformed SSE)", value: data.parseComplaints, goal: "" },
    {
      figure: "prompt duration p50 / p90 / p99 / max (ms)",
      value: `${durations.p50} / ${durations.p90} / ${durations.p99} / ${durations.max}`,
      goal: "",
    },
  ]);

  report.check(
    "one routed request per prompt in the event log",
    oneRequestPerPrompt,
    `${requests.length} requests for ${records.length} prompts`,
  );
  report.check(
    "served by the expected target whenever a healthy target was available",
    counts.servedAsExpected === counts.eligible && counts.eligible > 0,
    `${counts.servedAsExpected}/${counts.eligible} ${examples(problems.served)}`,
  );
  report.check(
    "no failover after the commit point",
    counts.failoverAfterCommit === 0 && counts.emulatorFailoverAfterCommit === 0,
    examples(problems.afterCommit),
  );
  report.check("no duplicated or interleaved output", counts.mixedOutput === 0, examples(problems.mixed));
  report.check("no hung stream", counts.hung === 0, `${counts.hung} prompts over ${data.boundMs} ms`);
  report.check(
    "no unhandled rejection or uncaught exception",
    data.crashes.unhandledRejections + data.crashes.uncaughtExceptions === 0,
    data.crashes.first.slice(0, 200),
  );
  report.check(
    "aborted prompts end aborted, with no further call and no cooldown",
    abort.endedAborted === abort.performed &&
      abort.callsAfterAbort === 0 &&
      abort.cooldownAfterAbort === 0 &&
      abort.finalNotAborted === 0 &&
      abortedCooldownEntries === 0,
    `${abort.endedAborted}/${abort.performed} aborted ${examples(problems.abort)}`,
  );
}
