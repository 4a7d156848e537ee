// What the router adds to one request, in-process, against calling the same target directly in the same run:
// time to first token and total time (p50/p99), back-to-back throughput, and the failover switch time. Targets are
// pi-ai's faux provider (microtask-speed, no network noise) and an OpenAI emulator on 127.0.0.1 (real HTTP + SSE).
import { fauxAssistantMessage, registerFauxProvider, streamSimple, type Api, type Model } from "@mariozechner/pi-ai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { openEventLog } from "../src/state/event-log.ts";
import { OPENAI_EMULATOR_COMPAT } from "../test/helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../test/helpers/openai-emulator.ts";
import {
  BENCH_CONTEXT,
  backToBackRate,
  buildRouter,
  timeRequest,
  yieldToEventLoop,
  type StreamCall,
} from "./router-harness.ts";
import { measureFailoverSwitch } from "./failover-switch.ts";
import {
  formatMicroseconds,
  formatRate,
  formatRatio,
  summarize,
  table,
  verdict,
  type BenchResult,
  type Summary,
} from "./stats.ts";

const FAUX_WARM_UP_REQUESTS = 300;
const FAUX_MEASURED_REQUESTS = 2_000;
const HTTP_WARM_UP_REQUESTS = 50;
const HTTP_MEASURED_REQUESTS = 300;
const THROUGHPUT_REQUESTS = 2_000;
const ANSWER_TEXT = "Hello there, this is a short answer from the target model.";
const DIRECT_OPTIONS = { apiKey: "bench-key", maxRetries: 0 };
/** pi passes the virtual provider's key; the router drops it and uses the target's own. */
const ROUTED_OPTIONS = { apiKey: "auto-router-virtual" };

export const GOAL_ADDED_TTFT_P50_US = 100;
export const GOAL_THROUGHPUT_RATIO = 1 / 3;

export interface Variant {
  label: string;
  call: StreamCall;
  model: Model<Api>;
  options: object;
}

interface VariantTimes {
  label: string;
  ttft: Summary;
  total: Summary;
}

/** Every variant runs once per round, interleaved, so drift (GC, CPU frequency, flushes) hits them alike. */
async function measureVariants(
  variants: Variant[],
  prepare: () => void,
  warmUp: number,
  measured: number,
): Promise<VariantTimes[]> {
  const ttft = variants.map(() => [] as number[]);
  const total = variants.map(() => [] as number[]);
  for (let round = 0; round < warmUp + measured; round++) {
    for (const [index, variant] of variants.entries()) {
      prepare();
      const timing = await timeRequest(variant.call, variant.model, BENCH_CONTEXT, variant.options);
      await yieldToEventLoop();
      if (timing.stopReason !== "stop")
        throw new Error(`bench request (${variant.label}) did not complete: ${timing.stopReason}`);
      if (round < warmUp) continue;
      ttft[index]!.push(timing.ttftUs);
      total[index]!.push(timing.totalUs);
    }
  }
  return variants.map((variant, index) => ({
    label: variant.label,
    ttft: summarize(ttft[index]!),
    total: summarize(total[index]!),
  }));
}

/** Requests per second, back to back, one turn of the event loop between requests (backToBackRate). */
function throughput(variant: Variant, prepare: () => void, count: number): Promise<number> {
  return backToBackRate(count, async () => {
    prepare();
    for await (const _event of variant.call(variant.model, BENCH_CONTEXT, variant.options)) {
      // drain
    }
  });
}

/** One row per variant and figure; the first variant is the direct baseline. */
function latencyTable(times: VariantTimes[]): string[] {
  const [direct, ...routed] = times;
  const rows: string[][] = [];
  for (const figure of ["ttft", "total"] as const) {
    rows.push([
      figure === "ttft" ? "TTFT" : "total",
      direct!.label,
      formatMicroseconds(direct![figure].p50),
      formatMicroseconds(direct![figure].p99),
      "baseline",
      "",
      "",
      "",
      "",
    ]);
    for (const variant of routed) {
      const added = variant[figure].p50 - direct![figure].p50;
      const goal = figure === "ttft" ? `added p50 <= ${GOAL_ADDED_TTFT_P50_US} µs` : "-";
      rows.push([
        "",
        variant.label,
        formatMicroseconds(variant[figure].p50),
        formatMicroseconds(variant[figure].p99),
        formatMicroseconds(added),
        formatMicroseconds(variant[figure].p99 - direct![figure].p99),
        formatRatio(variant[figure].p50 / direct![figure].p50),
        goal,
        figure === "ttft" ? verdict(added <= GOAL_ADDED_TTFT_P50_US) : "",
      ]);
    }
  }
  return table(["figure", "variant", "p50", "p99", "added p50", "added p99", "ratio p50", "goal", "verdict"], rows).map(
    (line) => `  ${line}`,
  );
}

async function throughputTable(
  variants: Variant[],
  prepare: () => void,
  count: number,
): Promise<{ lines: string[]; rates: number[] }> {
  const rates: number[] = [];
  for (const variant of variants) rates.push(await throughput(variant, prepare, count));
  const rows = variants.map((variant, index) => {
    const ratio = rates[index]! / rates[0]!;
    return index === 0
      ? [variant.label, formatRate(rates[index]!), "baseline", "", ""]
      : [
          variant.label,
          formatRate(rates[index]!),
          `${formatRatio(ratio)} (1/${(1 / ratio).toFixed(1)})`,
          `>= 1/${1 / GOAL_THROUGHPUT_RATIO}`,
          verdict(ratio >= GOAL_THROUGHPUT_RATIO),
        ];
  });
  const lines = table(
    [`throughput, ${count} back to back, one event-loop turn each`, "requests/s", "ratio to direct", "goal", "verdict"],
    rows,
  ).map((line) => `  ${line}`);
  return { lines, rates };
}

export async function runRouterOverheadBench(): Promise<BenchResult> {
  const lines: string[] = [];
  const figures: Record<string, number> = {};
  const logDir = mkdtempSync(join(tmpdir(), "pi-auto-router-bench-"));
  // The production extension always has its event log; it is part of the per-request cost (flushed asynchronously).
  const events = openEventLog({ dir: logDir });
  const faux = registerFauxProvider({
    api: "bench-faux",
    provider: "bench-faux",
    models: [{ id: "bench-model" }],
    tokenSize: { min: 3, max: 3 },
  });
  const emulator = await startOpenAIEmulator({ name: "bench-http", model: "bench-gpt" });
  try {
    // ---- faux target: the router's own cost with no network in the way --------------------------------------
    const fauxModel = faux.getModel() as Model<Api>;
    const queueAnswer = () => faux.appendResponses([fauxAssistantMessage(ANSWER_TEXT)]);
    const bare = buildRouter({ routeId: "bench", targets: [fauxModel] });
    const logged = buildRouter({ routeId: "bench", targets: [fauxModel], events });
    const fauxVariants: Variant[] = [
      { label: "direct streamSimple", call: streamSimple, model: fauxModel, options: DIRECT_OPTIONS },
      { label: "routed, memory stores", call: bare.stream, model: bare.routerModel, options: ROUTED_OPTIONS },
      { label: "routed, + file event log", call: logged.stream, model: logged.routerModel, options: ROUTED_OPTIONS },
    ];
    const fauxTimes = await measureVariants(fauxVariants, queueAnswer, FAUX_WARM_UP_REQUESTS, FAUX_MEASURED_REQUESTS);
    const fauxRates = await throughputTable(fauxVariants, queueAnswer, THROUGHPUT_REQUESTS);
    const [fauxDirect, fauxBare, fauxLogged] = fauxTimes as [VariantTimes, VariantTimes, VariantTimes];
    Object.assign(figures, {
      fauxDirectTtftP50Us: fauxDirect.ttft.p50,
      fauxAddedTtftP50Us: fauxBare.ttft.p50 - fauxDirect.ttft.p50,
      fauxAddedTotalP50Us: fauxBare.total.p50 - fauxDirect.total.p50,
      fauxAddedTotalP99Us: fauxBare.total.p99 - fauxDirect.total.p99,
      fauxLoggedAddedTtftP50Us: fauxLogged.ttft.p50 - fauxDirect.ttft.p50,
      fauxLoggedAddedTotalP50Us: fauxLogged.total.p50 - fauxDirect.total.p50,
      fauxLoggedAddedTotalP99Us: fauxLogged.total.p99 - fauxDirect.total.p99,
      fauxDirectRequestsPerSecond: fauxRates.rates[0]!,
      fauxRoutedRequestsPerSecond: fauxRates.rates[1]!,
      fauxLoggedRequestsPerSecond: fauxRates.rates[2]!,
      fauxThroughputRatio: fauxRates.rates[1]! / fauxRates.rates[0]!,
      fauxLoggedThroughputRatio: fauxRates.rates[2]! / fauxRates.rates[0]!,
    });
    lines.push(
      `router overhead, faux in-memory target (microtask-speed stream): ${FAUX_MEASURED_REQUESTS} rounds after ${FAUX_WARM_UP_REQUESTS} warm-up, variants interleaved`,
    );
    lines.push(...latencyTable(fauxTimes), ...fauxRates.lines);

    // ---- HTTP target: the same comparison with a real socket and SSE parsing ----------------------------------
    const httpModel = {
      id: "bench-gpt",
      name: "Bench GPT",
      api: "openai-completions",
      provider: "bench-http",
      baseUrl: emulator.url,
      reasoning: false,
      input: ["text"],
      cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
      contextWindow: 128_000,
      maxTokens: 4_096,
      compat: OPENAI_EMULATOR_COMPAT,
    } as Model<Api>;
    emulator.setDefault({ text: ANSWER_TEXT, usage: { input: 12, output: 12 } });
    const httpBare = buildRouter({ routeId: "bench-http", targets: [httpModel] });
    const httpRouter = buildRouter({ routeId: "bench-http", targets: [httpModel], events });
    const httpVariants: Variant[] = [
      { label: "direct streamSimple", call: streamSimple, model: httpModel, options: DIRECT_OPTIONS },
      { label: "routed, memory stores", call: httpBare.stream, model: httpBare.routerModel, options: ROUTED_OPTIONS },
      {
        label: "routed, + file event log",
        call: httpRouter.stream,
        model: httpRouter.routerModel,
        options: ROUTED_OPTIONS,
      },
    ];
    const forgetCalls = () => void emulator.calls.splice(0);
    const httpTimes = await measureVariants(httpVariants, forgetCalls, HTTP_WARM_UP_REQUESTS, HTTP_MEASURED_REQUESTS);
    const httpRates = await throughputTable(httpVariants, forgetCalls, HTTP_MEASURED_REQUESTS);
    const [httpDirect, httpBareTimes, httpRouted] = httpTimes as [VariantTimes, VariantTimes, VariantTimes];
    Object.assign(figures, {
      httpDirectTtftP50Us: httpDirect.ttft.p50,
      httpAddedTtftP50Us: httpBareTimes.ttft.p50 - httpDirect.ttft.p50,
      httpLoggedAddedTtftP50Us: httpRouted.ttft.p50 - httpDirect.ttft.p50,
      httpLoggedAddedTotalP50Us: httpRouted.total.p50 - httpDirect.total.p50,
      httpThroughputRatio: httpRates.rates[2]! / httpRates.rates[0]!,
    });
    lines.push("");
    lines.push(
      `router overhead, OpenAI emulator on 127.0.0.1 (HTTP + SSE): ${HTTP_MEASURED_REQUESTS} rounds after ${HTTP_WARM_UP_REQUESTS} warm-up`,
    );
    lines.push(...latencyTable(httpTimes), ...httpRates.lines);

    // ---- failover switch --------------------------------------------------------------------------------------
    const switchResult = await measureFailoverSwitch(events);
    Object.assign(figures, switchResult.figures);
    lines.push("");
    lines.push(...switchResult.lines);
  } finally {
    await events.close();
    faux.unregister();
    await emulator.close();
    rmSync(logDir, { recursive: true, force: true });
  }
  return { name: "router-overhead", figures, lines };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await runRouterOverheadBench();
  for (const line of result.lines) console.log(line);
}
