// Gateway load-and-faults suite: the real `pi-auto-router serve` process, many concurrent streaming clients (a third
// each: the official Anthropic SDK's Messages, the OpenAI SDK's Chat Completions and Responses) for a while against a
// route whose first two targets inject 429+Retry-After, 529, 5xx, resets, stalls before the first token, drops after
// text and empty 200s, with one healthy target last; then clients that disconnect at random moments from slow streams.
// Afterwards the gateway is stopped (it flushes its stores) and its state directory is read through the product's own
// readers.
//   npm run reliability:gateway            (200 clients x 60 s, 50 disconnecting clients)
//   node --import tsx reliability/gateway-faults.ts --quick   (20 clients x 8 s, 20 disconnecting; what CI runs)
//   GATEWAY_RELIABILITY_CLIENTS / _SECONDS / _DISCONNECTS override the sizes.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { addTotals, emptyTotals, parseLedger, type UsageTotals } from "../src/budget/usage-ledger.ts";
import type { EventOf, NormalizedEvent } from "../src/events/event-types.ts";
import { findLogFiles, readEvents } from "../src/events/read-events.ts";
import { processMemory } from "../bench/gateway-load.ts";
import { startGatewayProcess } from "../test/helpers/gateway-process.ts";
import {
  answerFor,
  CALM_ROUTE,
  CALM_STREAM_MS,
  CALM_TEXT,
  nonceOf,
  ROUTE,
  startFaultWorld,
  streamWith,
  type ClientOutcome,
  type ClientProtocol,
  type StreamOptions,
  type ClientResult,
  type FaultName,
} from "./gateway-fault-plan.ts";
import { readLoggedEvents } from "./event-log-reader.ts";
import { createRandom } from "./seeded-random.ts";
import { parseSuiteOptions } from "./suite-options.ts";
import { runSuiteMain, SuiteReport, type Row } from "./suite-report.ts";

/** A request still unanswered after this long is a hang (the slowest legitimate one waits for one stall timeout). */
const HANG_MS = 30_000;
const SETTLE_MS = 10_000;
/** A reduced run ends only after this many load requests, and once every fault has come up. */
const QUICK_MIN_REQUESTS = 200;
/** ... but never runs longer than this many times its planned duration. */
const QUICK_OVERTIME_FACTOR = 10;
/** How long a client's leaving may take to reach the upstream call (client -> gateway -> upstream, on a busy machine). */
const ABORT_PROPAGATION_MS = 250;
/** The disconnecting clients leave within 0.7 s of sending a ~0.4 s stream: most in the middle, some after its end. */
const LEAVE_WITHIN_MS = 700;

function size(name: string, full: number, quick: number, isQuick: boolean): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : isQuick ? quick : full;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

const CLIENT_NAMES: Record<ClientProtocol, string> = {
  anthropic: "Anthropic Messages",
  openai: "OpenAI Chat Completions",
  responses: "OpenAI Responses",
};

const count = <T>(items: T[], test: (item: T) => boolean) => items.reduce((sum, item) => sum + (test(item) ? 1 : 0), 0);

async function main(): Promise<number> {
  const options = parseSuiteOptions();
  const clients = size("GATEWAY_RELIABILITY_CLIENTS", 200, 20, options.quick);
  const seconds = size("GATEWAY_RELIABILITY_SECONDS", 60, 8, options.quick);
  const disconnects = size("GATEWAY_RELIABILITY_DISCONNECTS", 50, 20, options.quick);
  const report = new SuiteReport("gateway load and faults", options.seed);
  report.note(
    `${clients} streaming clients for ${seconds} s, then ${disconnects} clients disconnecting at random moments (a third each: the official Anthropic SDK's Messages, the OpenAI SDK's Chat Completions and Responses, against the real gateway process)`,
  );
  const random = createRandom(options.seed);
  const world = await startFaultWorld(random);
  const gateway = await startGatewayProcess({ agentDir: world.agentDir, env: { AUTO_ROUTER_LOG_DIR: undefined } });
  const stateDir = join(world.agentDir, "extensions");
  try {
    const pid = gateway.child.pid!;
    const memory = { start: processMemory(pid)?.rssMiB ?? Number.NaN, peak: 0, end: Number.NaN };
    const sampler = setInterval(() => (memory.peak = Math.max(memory.peak, processMemory(pid)?.rssMiB ?? 0)), 100);
    const anthropic = new Anthropic({
      baseURL: gateway.url,
      apiKey: gateway.token,
      maxRetries: 0,
      timeout: HANG_MS * 2,
    });
    const openai = new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: gateway.token,
      maxRetries: 0,
      timeout: HANG_MS * 2,
    });
    const protocols: ClientProtocol[] = ["anthropic", "openai", "responses"];
    /** Client `index` speaks Anthropic Messages, OpenAI Chat Completions or OpenAI Responses, in turn. */
    const stream = (index: number, model: string, nonce: string, options?: StreamOptions) =>
      streamWith(protocols[index % 3]!, { anthropic, openai }, model, nonce, HANG_MS, options);

    // Phase 1: the load. Each client sends one request after another until the time is up.
    const results: ClientResult[] = [];
    // The reduced run also goes on until it has seen enough requests and every fault has come up, however slow a busy
    // machine makes it and however few calls the first target gets while it rests after a Retry-After (bounded); the
    // full run is time-bound only.
    const deadline = Date.now() + seconds * 1000;
    const minRequests = options.quick ? QUICK_MIN_REQUESTS : 0;
    const hardStop = deadline + seconds * 1000 * QUICK_OVERTIME_FACTOR;
    const unfinished = () =>
      options.quick === true && (results.length < minRequests || world.faultsNotYetInjected().length > 0);
    const going = () => (Date.now() < deadline || unfinished()) && Date.now() < hardStop;
    await Promise.all(
      Array.from({ length: clients }, async (_, index) => {
        for (let request = 0; going(); request++)
          results.push(await stream(index, `auto-router/${ROUTE}`, `c${index}-r${request}`));
      }),
    );
    const loadSettled = await waitFor(
      () => [world.flakyA, world.flakyB, world.steady].every((emulator) => emulator.openCalls() === 0),
      SETTLE_MS,
    );

    // Phase 2: clients that leave at random moments.
    const leaveAfter = Array.from({ length: disconnects }, () => random.integer(0, LEAVE_WITHIN_MS));
    const left = await Promise.all(
      leaveAfter.map((ms, index) =>
        stream(index, `auto-router/${CALM_ROUTE}`, `leave-${index}`, { expected: CALM_TEXT, abortAfterMs: ms }),
      ),
    );
    const calmSettled = await waitFor(() => world.calm.openCalls() === 0, SETTLE_MS);
    clearInterval(sampler);
    memory.end = processMemory(pid)?.rssMiB ?? Number.NaN;
    memory.peak = Math.max(memory.peak, processMemory(pid)?.peakMiB ?? 0);
    const exitCode = await gateway.stop();

    // What the clients saw.
    const outcomes = new Map<ClientOutcome, number>();
    const byProtocol = new Map<string, number>();
    for (const result of results) {
      outcomes.set(result.outcome, (outcomes.get(result.outcome) ?? 0) + 1);
      const key = `${result.protocol}\u0000${result.outcome}`;
      byProtocol.set(key, (byProtocol.get(key) ?? 0) + 1);
    }
    report.table(
      "Load: client outcomes",
      [...byProtocol].map(([key, n]) => {
        const [protocol, outcome] = key.split("\u0000");
        return {
          client: CLIENT_NAMES[protocol as ClientProtocol],
          outcome,
          requests: n,
        };
      }),
    );
    const faultRows: Row[] = [];
    for (const [name, list] of world.faults) {
      const byFault = new Map<FaultName, number>();
      for (const fault of list) if (fault) byFault.set(fault, (byFault.get(fault) ?? 0) + 1);
      for (const [fault, n] of byFault) faultRows.push({ target: name, fault, calls: n });
    }
    report.table("Load: injected (emulator calls by fault)", faultRows);
    report.table("Gateway memory (RSS, MiB)", [
      { start: memory.start.toFixed(1), peak: memory.peak.toFixed(1), end: memory.end.toFixed(1) },
    ]);

    // What the gateway recorded, through the product's readers.
    const events: NormalizedEvent[] = [];
    for await (const event of readEvents(findLogFiles(stateDir))) events.push(event);
    const results_ = events.filter((event): event is EventOf<"result"> => event.type === "result");
    const finals = events.filter((event): event is EventOf<"final"> => event.type === "final");
    const ledger = parseLedger(JSON.parse(readFileSync(join(stateDir, "auto-router.usage.json"), "utf8")));
    let ledgerTotals: UsageTotals = emptyTotals();
    for (const providers of Object.values(ledger.months))
      for (const models of Object.values(providers))
        for (const totals of Object.values(models)) ledgerTotals = addTotals(ledgerTotals, totals);
    // The budget plugin's `usage` lines (what it added to the ledger, estimates included) are not among the event
    // types the product's reader yields, so they are read as raw lines.
    const usageEvents = readLoggedEvents(stateDir).events.filter((event) => event.type === "usage");
    const logged = usageEvents.reduce(
      (sum, event) => ({ input: sum.input + event.data.input, output: sum.output + event.data.output }),
      { input: 0, output: 0 },
    );
    const usageKeys = new Map<string, number>();
    for (const event of usageEvents)
      usageKeys.set(
        `${event.requestId}#${event.data.attempt}`,
        (usageKeys.get(`${event.requestId}#${event.data.attempt}`) ?? 0) + 1,
      );
    const doubleRecorded = [...usageKeys.values()].filter((n) => n > 1).length;
    const unrecordedSuccesses = results_.filter(
      (event) => event.data.outcome === "success" && usageKeys.get(`${event.requestId}#${event.data.attempt}`) !== 1,
    ).length;
    const served = results
      .filter((result) => result.outcome === "success")
      .reduce(
        (sum, result) => ({
          input: sum.input + (result.usage?.input ?? 0),
          output: sum.output + (result.usage?.output ?? 0),
        }),
        { input: 0, output: 0 },
      );
    const loadResults = results_.filter((event) => event.routeId === ROUTE);
    const successResults = loadResults.filter((event) => event.data.outcome === "success");
    const successUsage = successResults.reduce(
      (sum, event) => ({
        input: sum.input + (event.data.usage?.input ?? 0),
        output: sum.output + (event.data.usage?.output ?? 0),
      }),
      { input: 0, output: 0 },
    );
    report.table("Usage (tokens in+out)", [
      {
        source: "served to clients (successful streams)",
        requests: count(results, (r) => r.outcome === "success"),
        tokens: `${served.input}+${served.output}`,
      },
      {
        source: "event log, successful attempts",
        requests: successResults.length,
        tokens: `${successUsage.input}+${successUsage.output}`,
      },
      {
        source: "event log, usage lines (every attempt that used tokens)",
        requests: usageEvents.length,
        tokens: `${logged.input}+${logged.output}`,
      },
      {
        source: "usage ledger (state dir)",
        requests: ledgerTotals.requests,
        tokens: `${ledgerTotals.input}+${ledgerTotals.output}`,
      },
    ]);

    // Invariants.
    const total = results.length;
    const drops = count(world.faults.get("flaky-b")!, (fault) => fault === "drop-after-text");
    const success = outcomes.get("success") ?? 0;
    const errorEvents = results.filter((result) => result.outcome === "error-event");
    // A drop the gateway met after its first text (committed) is surfaced as an error event; one it met later than
    // the first-token timeout was already abandoned and failed over. The gateway's own record says which.
    const committedDrops = loadResults.filter((event) => event.data.outcome === "failed-after-commit");
    report.check(
      "every request answered: success, or an error event for an answer committed before its target dropped it",
      success + errorEvents.length === total &&
        errorEvents.length === committedDrops.length &&
        committedDrops.every((event) => event.data.target.startsWith("flaky-b/")) &&
        committedDrops.length <= drops,
      `${success} success + ${errorEvents.length} error events of ${total}; ${committedDrops.length} failed-after-commit results; ${drops} drops after text injected`,
    );
    report.check(
      "an error event only follows part of the request's own answer (nothing replayed after the commit)",
      errorEvents.every((result) => answerFor(result.nonce).startsWith(result.text) && result.text.length > 0),
      errorEvents
        .filter((result) => !answerFor(result.nonce).startsWith(result.text))
        .slice(0, 2)
        .map((r) => JSON.stringify(r.text))
        .join("; "),
    );
    report.check(
      "0 responses lost or duplicated: every text is exactly its own answer; one final event per request",
      (outcomes.get("wrong-text") ?? 0) === 0 && finals.filter((event) => event.routeId === ROUTE).length === total,
      `${outcomes.get("wrong-text") ?? 0} wrong texts; ${finals.filter((event) => event.routeId === ROUTE).length} final events for ${total} requests`,
    );
    report.check(
      "0 streams without a terminal event",
      (outcomes.get("no-terminal") ?? 0) === 0,
      `${outcomes.get("no-terminal") ?? 0}`,
    );
    report.check(
      "0 hangs (client side) and 0 upstream streams left open",
      (outcomes.get("hang") ?? 0) === 0 && loadSettled,
      `${outcomes.get("hang") ?? 0} hangs; upstream settled: ${loadSettled}`,
    );
    report.check(
      "0 HTTP errors or broken connections with a healthy target",
      (outcomes.get("http-error") ?? 0) + (outcomes.get("connection-error") ?? 0) === 0,
      results
        .filter((r) => r.outcome === "http-error" || r.outcome === "connection-error")
        .slice(0, 2)
        .map((r) => r.detail)
        .join("; "),
    );
    report.check(
      "each served answer's usage logged exactly once (successful attempts = served streams, same tokens)",
      successResults.length === success && successUsage.input === served.input && successUsage.output === served.output,
      `${successResults.length} vs ${success}; ${successUsage.input}+${successUsage.output} vs ${served.input}+${served.output}`,
    );
    report.check(
      "every attempt's usage recorded exactly once: one usage line per successful attempt, none twice",
      doubleRecorded === 0 && unrecordedSuccesses === 0,
      `${doubleRecorded} attempts with more than one usage line; ${unrecordedSuccesses} successful attempts without exactly one`,
    );
    report.check(
      "usage ledger totals = the usage lines in the event log (0 lost or double updates)",
      ledgerTotals.requests === usageEvents.length &&
        ledgerTotals.input === logged.input &&
        ledgerTotals.output === logged.output,
      `ledger ${ledgerTotals.requests} records ${ledgerTotals.input}+${ledgerTotals.output}, log ${usageEvents.length} lines ${logged.input}+${logged.output}`,
    );

    const calmCalls = world.calm.calls;
    const completedClients = count(left, (result) => result.outcome === "success");
    const leftClients = count(left, (result) => result.outcome === "left");
    const calmEvents = results_.filter((event) => event.routeId === CALM_ROUTE);
    const calmFailures = calmEvents.filter(
      (event) =>
        event.data.outcome === "failed" ||
        event.data.outcome === "failed-after-commit" ||
        event.data.cooldownMs !== undefined,
    );
    const breakers = readJson(join(stateDir, "auto-router.breakers.json"))?.breakers ?? {};
    const calmBreakerFailures = Object.entries<any>(breakers)
      .filter(([key]) => key.startsWith("calm/"))
      .flatMap(([, entry]) => entry.samples ?? [])
      .filter((sample: { failed?: boolean }) => sample.failed).length;
    const calmCooldowns = JSON.stringify(readJson(join(stateDir, "auto-router.cooldowns.json")) ?? {}).includes(
      "calm/",
    );
    report.table("Disconnecting clients", [
      {
        clients: disconnects,
        "left early": leftClients,
        "finished first": completedClients,
        "upstream calls": calmCalls.length,
        "upstream aborted": count(calmCalls, (call) => call.closedBeforeEnd === true),
        "upstream open": world.calm.openCalls(),
      },
    ]);
    report.check(
      "every disconnecting client either left or finished (no other outcome)",
      leftClients + completedClients === disconnects,
      left
        .filter((r) => r.outcome !== "left" && r.outcome !== "success")
        .slice(0, 2)
        .map((r) => `${r.outcome} ${r.detail ?? ""}`)
        .join("; "),
    );
    // A client that leaves while the gateway already holds the whole upstream answer (a busy machine delivers it late)
    // leaves nothing to abort; one that leaves clearly before its upstream answer could have ended must see the call
    // aborted.
    const leftAtByNonce = new Map(
      left.filter((r) => r.outcome === "left" && r.leftAt !== undefined).map((r) => [r.nonce, r.leftAt!]),
    );
    const decisive = calmCalls.filter((call) => {
      const leftAt = leftAtByNonce.get(nonceOf(call));
      return leftAt !== undefined && leftAt < call.receivedAt + CALM_STREAM_MS - ABORT_PROPAGATION_MS;
    });
    const notAborted = decisive.filter((call) => call.closedBeforeEnd !== true);
    report.check(
      "every upstream call still streaming when its client left was aborted; none left open",
      calmSettled && decisive.length > 0 && notAborted.length === 0,
      `${decisive.length - notAborted.length} of ${decisive.length} calls whose client left more than ${ABORT_PROPAGATION_MS} ms before their answer could end were aborted ` +
        `(${count(calmCalls, (call) => call.closedBeforeEnd === true)} aborted, ${count(calmCalls, (call) => call.closedBeforeEnd !== true)} completed of ${calmCalls.length}); settled: ${calmSettled}`,
    );
    report.check(
      "a disconnect counts as no failure (no failed result, cooldown or failed breaker sample)",
      calmFailures.length === 0 && calmBreakerFailures === 0 && !calmCooldowns,
      `${calmFailures.length} failure results; ${calmBreakerFailures} failed breaker samples; cooldown for calm: ${calmCooldowns}`,
    );
    report.check("the gateway stopped cleanly (exit 0) after the run", exitCode === 0, `exit ${exitCode}`);
    return report.finish();
  } finally {
    await gateway.stop();
    if (!options.keep) await world.cleanup();
    else report.note(`kept ${world.agentDir}`);
  }
}

/** A state file as JSON; undefined when it was never written (nothing to record). */
function readJson(path: string): any {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

runSuiteMain(main);
