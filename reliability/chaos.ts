// Chaos suite: prompts through real pi (SDK in-process) and the real pi-ai providers against three emulated providers
// that inject faults drawn from a fixed seed. Prints success whenever a healthy target was available, failovers after
// the commit point, mixed output, hung streams, crashes, attempts per prompt, and how aborted prompts ended.
//   node --import tsx reliability/chaos.ts [--quick] [--seed N] [--size PROMPTS] [--keep]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { makeAgentDir } from "../test/helpers/agent-dir.ts";
import { startAnthropicEmulator } from "../test/helpers/anthropic-emulator.ts";
import { startOpenAIEmulator } from "../test/helpers/openai-emulator.ts";
import type { Emulator, RecordedCall } from "../test/helpers/sse-emulator-core.ts";
import {
  FAULTS,
  SCRIPTED_WORDS,
  DRIP_CHUNK_DELAY_MS,
  replyFor,
  scriptedText,
  type Dialect,
  type Fault,
} from "./chaos-faults.ts";
import { planPrompts, type PromptPlan } from "./chaos-plan.ts";
import { analyseChaos, type PromptRecord, type TargetCall } from "./chaos-analysis.ts";
import { startConnectionGate, type ConnectionGate } from "./connection-gate.ts";
import { groupRequests, readLoggedEvents } from "./event-log-reader.ts";
import { createRealSession } from "./real-session.ts";
import { createRandom } from "./seeded-random.ts";
import { parseSuiteOptions } from "./suite-options.ts";
import { runSuiteMain, SuiteReport } from "./suite-report.ts";

const FULL_PROMPTS = 1_000;
const QUICK_PROMPTS = 120;
const ROUTE_ID = "chaos";
const FIRST_TOKEN_MS = 500;
const STALL_MS = 800;
const COOLDOWN_WAIT_MS = 1_500;
/** Every failure kind rests its target this long (a Retry-After hint of 1 s wins), so cooldowns come and go. */
const SHORT_COOLDOWN_MS = 150;
const MAX_ATTEMPTS = 6;
/** Slack on top of the bound the timeouts give, for a busy machine; a prompt past it counts as hung. */
const WATCHDOG_SLACK_MS = 5_000;
/** The longest a prompt may take: one cooldown wait plus every attempt running into its stall timeout. */
export const PROMPT_BOUND_MS =
  COOLDOWN_WAIT_MS + MAX_ATTEMPTS * (STALL_MS + SCRIPTED_WORDS * DRIP_CHUNK_DELAY_MS) + WATCHDOG_SLACK_MS;

const TARGETS: Array<{ provider: string; modelId: string; dialect: Dialect }> = [
  { provider: "chaos-a", modelId: "model-a", dialect: "openai" },
  { provider: "chaos-b", modelId: "model-b", dialect: "anthropic" },
  { provider: "chaos-c", modelId: "model-c", dialect: "openai" },
];
const keyOf = (target: { provider: string; modelId: string }) => `${target.provider}/${target.modelId}`;
const PROMPT_PATTERN = /chaos prompt (\d+)/g;

function promptIndexOf(call: RecordedCall): number {
  const matches = [...JSON.stringify(call.body ?? "").matchAll(PROMPT_PATTERN)];
  return matches.length ? Number(matches[matches.length - 1]![1]) : -1;
}

function routesConfig() {
  const kinds = Object.fromEntries(
    ["rate_limit", "overloaded", "server", "network", "timeout", "empty_response", "unknown"].map((kind) => [
      kind,
      { cooldownMs: SHORT_COOLDOWN_MS },
    ]),
  );
  return {
    routes: {
      [ROUTE_ID]: {
        sortBy: "config",
        targets: TARGETS.map(({ provider, modelId }) => ({ provider, modelId })),
        timeouts: { firstTokenMs: FIRST_TOKEN_MS, stallMs: STALL_MS },
        failover: { cooldownWaitMs: COOLDOWN_WAIT_MS, maxAttempts: MAX_ATTEMPTS, kinds },
      },
    },
    breaker: { ratio: 0.75, breakMs: 300, maxBreakMs: 1_000, windowMs: 3_000 },
  };
}

async function main(): Promise<number> {
  const options = parseSuiteOptions();
  const report = new SuiteReport("chaos", options.seed);
  const crashes = { unhandledRejections: 0, uncaughtExceptions: 0, first: "" };
  process.on("unhandledRejection", (reason) => {
    crashes.unhandledRejections += 1;
    crashes.first ||= String(reason);
  });
  process.on("uncaughtException", (error) => {
    crashes.uncaughtExceptions += 1;
    crashes.first ||= error.stack ?? String(error);
  });

  // The OpenAI SDK logs every malformed SSE record with console.error; count them instead of flooding the output.
  let parseComplaints = 0;
  const consoleError = console.error;
  console.error = (...parts: unknown[]) => {
    if (String(parts[0]).startsWith("Could not parse message into JSON") || String(parts[0]).startsWith("From chunk"))
      parseComplaints += 1;
    else consoleError(...parts);
  };
  const promptCount = options.size ?? (options.quick ? QUICK_PROMPTS : FULL_PROMPTS);
  const random = createRandom(options.seed);
  const plans = planPrompts(random, promptCount, TARGETS.map(keyOf));
  report.note(
    `${promptCount} prompts, 3 emulated providers (2 OpenAI, 1 Anthropic), firstTokenMs ${FIRST_TOKEN_MS}, stallMs ${STALL_MS}, watchdog ${PROMPT_BOUND_MS} ms`,
  );

  const calls: TargetCall[] = [];
  const emulators: Emulator[] = [];
  const gates: ConnectionGate[] = [];
  const providers: Record<string, any> = {};
  for (const target of TARGETS) {
    const key = keyOf(target);
    const emulator =
      target.dialect === "openai"
        ? await startOpenAIEmulator({ name: target.provider, model: target.modelId })
        : await startAnthropicEmulator({ name: target.provider, model: target.modelId });
    emulator.setDefault((call) => {
      const index = promptIndexOf(call);
      const plan: PromptPlan | undefined = plans[index];
      const fault: Fault = plan?.faults[key] ?? "healthy";
      const text = scriptedText(index, target.provider, call.index);
      calls.push({ prompt: index, target: key, fault, text, receivedAt: call.receivedAt });
      return replyFor(fault, target.dialect, text, plan?.abort ?? false);
    });
    const gate = await startConnectionGate(emulator.port);
    emulators.push(emulator);
    gates.push(gate);
    providers[target.provider] = {
      baseUrl: gate.url(emulator.url),
      api: target.dialect === "openai" ? "openai-completions" : "anthropic-messages",
      apiKey: `chaos-key-${target.provider}`,
      models: [{ id: target.modelId }],
    };
  }
  const dir = makeAgentDir({ providers, routes: routesConfig() });
  const real = await createRealSession({ agentDir: dir.agentDir });
  await real.setModel("auto-router", ROUTE_ID);

  const records: PromptRecord[] = [];
  let current: { deltas: string[]; onFirstText?: () => void } = { deltas: [] };
  real.session.subscribe((event: any) => {
    if (event.type !== "message_update" || event.assistantMessageEvent?.type !== "text_delta") return;
    current.deltas.push(event.assistantMessageEvent.delta);
    if (current.deltas.length === 1) current.onFirstText?.();
  });

  for (const plan of plans) {
    real.clearTranscript();
    const refused = TARGETS.map((target, index) =>
      plan.faults[keyOf(target)] === "connection-refused" ? gates[index]! : undefined,
    ).filter((gate) => gate !== undefined);
    await Promise.all(refused.map((gate) => gate.refuse()));
    const record: PromptRecord = { index: plan.index, deltas: [], hung: false, durationMs: 0 };
    current = { deltas: record.deltas };
    let abortTimer: NodeJS.Timeout | undefined;
    if (plan.abort) {
      current.onFirstText = () => {
        abortTimer = setTimeout(() => {
          record.abortedAt = Date.now();
          void real.session.abort();
        }, plan.abortDelayMs);
      };
    }
    const started = Date.now();
    let watchdog: NodeJS.Timeout | undefined;
    const finished = real.session.prompt(`chaos prompt ${plan.index}: answer with your scripted words`).then(
      () => "done",
      (error: unknown) => {
        record.promptError = String(error);
        return "done";
      },
    );
    const outcome = await Promise.race([
      finished,
      new Promise((resolve) => (watchdog = setTimeout(() => resolve("hung"), PROMPT_BOUND_MS))),
    ]);
    clearTimeout(watchdog);
    if (outcome === "hung") {
      record.hung = true;
      await real.session.abort();
      const settled = await Promise.race([
        finished,
        new Promise((resolve) => setTimeout(() => resolve("stuck"), PROMPT_BOUND_MS)),
      ]);
      if (settled === "stuck") {
        report.note(`prompt ${plan.index} did not end even after abort; stopping the run`);
        records.push(record);
        break;
      }
    }
    clearTimeout(abortTimer); // an abort planned for this prompt must never land in the next one
    record.endedAt = Date.now();
    record.durationMs = record.endedAt - started;
    const message = real.session.messages.filter((entry: any) => entry.role === "assistant").at(-1);
    record.stopReason = message?.stopReason;
    record.servedBy = message ? `${message.provider}/${message.model}` : undefined;
    record.text = (message?.content ?? [])
      .filter((block: any) => block.type === "text")
      .map((block: any) => block.text)
      .join("");
    records.push(record);
    await Promise.all(refused.map((gate) => gate.accept()));
  }

  await real.dispose(); // flushes the event log and the stores
  const stateDir = join(dir.agentDir, "extensions");
  const logged = readLoggedEvents(stateDir);
  const requests = groupRequests(logged.events).filter(
    (request) => request.final !== undefined || request.attempts.length > 0,
  );
  let cooldownFile: any = {};
  try {
    cooldownFile = JSON.parse(readFileSync(join(stateDir, "auto-router.cooldowns.json"), "utf8"));
  } catch {
    // No cooldown file means no cooldown was ever written.
  }
  analyseChaos({
    report,
    plans,
    records,
    calls,
    requests,
    cooldownEntries: cooldownFile.entries ?? {},
    crashes,
    faults: FAULTS,
    boundMs: PROMPT_BOUND_MS,
    parseComplaints,
  });

  await Promise.all([...emulators.map((emulator) => emulator.close()), ...gates.map((gate) => gate.close())]);
  if (options.keep) report.note(`agent dir kept: ${dir.agentDir}`);
  else dir.cleanup();
  return report.finish();
}

runSuiteMain(main);
