// The per-request cost as users run it: pi's SDK loads the real extension entry (pi-extension.ts -> the shipped
// bundle, every plugin, file stores and the event log in a temporary agent dir), and the routed model is called the
// way pi calls models (the session agent's stream function, see extension-harness.ts) on an in-memory faux target,
// interleaved with direct calls to the same target in the same run. One section per configuration: as shipped,
// budgets set, quota pacing on, a breaker configured.
import type { Api, ApiProvider, Context } from "@mariozechner/pi-ai";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { USAGE_FLUSH_DELAY_MS } from "../src/budget/budget-plugin.ts";
import { fileURLToPath } from "node:url";
import {
  EXTENSION_BACKUP_PROVIDER,
  EXTENSION_TARGET_PROVIDER,
  hostDescription,
  loadExtension,
  type ExtensionSetup,
  type ExtensionSetupOptions,
} from "./extension-harness.ts";
import { countFileBytes } from "../test/helpers/request-cost-counters.ts";
import { onErrorEvent } from "./failover-switch.ts";
import { backToBackRate, yieldToEventLoop } from "./router-harness.ts";
import {
  formatMicroseconds,
  formatRate,
  formatRatio,
  median,
  nowMicroseconds,
  summarize,
  table,
  verdict,
  type BenchResult,
} from "./stats.ts";

const WARM_UP_ROUNDS = 200;
/** Routed and direct calls on a throwaway setup before the first configuration is measured (see runProductCostBench). */
const JIT_WARM_UP_CALLS = 3_000;
const MEASURED_ROUNDS = 1_500;
const CPU_BLOCKS = 20;
const CPU_BLOCK_REQUESTS = 50;
const THROUGHPUT_REQUESTS = 1_500;
const THROUGHPUT_RUNS = 5;
const SWITCH_REQUESTS = 600;
const PACED_REQUESTS = 8;
const PACE_MS = 1_000;
const QUIET_WAIT_MS = 15_000;
/**
 * Pairs of fresh processes (without, with the extension), their order alternating from pair to pair. A fresh pi
 * process's RSS alone varies by ~6 MiB (standard deviation, same build, nothing changed), so the added figure of one
 * pair varies by ~8 MiB: the median of 10 pairs was still uncertain by ~3 MiB, that of 24 by ~2 (~70 s per pi line).
 */
const RSS_PAIRS = 24;
const ANSWER_TEXT = "Hello there, this is a short answer from the target model.";
const FIRST_TARGET_ERROR = "429 Too Many Requests";

export const GOALS = {
  addedTtftP50Us: 100,
  addedCpuUs: 200,
  throughputRatio: 1 / 3,
  switchP50Us: 100,
  switchP99Us: 300,
  addedRssMiB: 5,
  bytesPerRequest: 2_500,
  eventLogBytesPerRequest: 2_000,
};

/** Every variant fails over afresh on a 429 (no cooldown), so the switch can be measured back to back. */
const ROUTE = { failover: { kinds: { rate_limit: { cooldownMs: 0 } } } };
const VARIANTS: Array<{ label: string; key: string; options: ExtensionSetupOptions }> = [
  { label: "as shipped (default config)", key: "shipped", options: {} },
  {
    label: "budgets set (daily + monthly, time zone)",
    key: "budgets",
    options: {
      config: {
        budgets: {
          timeZone: "Europe/Berlin",
          providers: {
            [EXTENSION_TARGET_PROVIDER]: { daily: 50, monthly: 500 },
            [EXTENSION_BACKUP_PROVIDER]: { monthly: 100 },
          },
        },
      },
    },
  },
  { label: "quota pacing on (hard)", key: "pacing", options: { config: { uvi: { enabled: true, hard: true } } } },
  {
    label: "breaker configured",
    key: "breaker",
    options: { config: { breaker: { enabled: true, ratio: 0.5, minimumCalls: 3, windowMs: 60_000 } } },
  },
  // Everything as shipped but the event log, which a user can turn off: what the audit trail costs per request.
  {
    label: "event log off (eventLog.enabled: false)",
    key: "nolog",
    options: { config: { eventLog: { enabled: false } } },
  },
];

/** What pi's agent loop passes on (no key: pi looks the model's credentials up, routed or direct). */
const CALL_OPTIONS = {};

interface Caller {
  setup: ExtensionSetup;
  /** Each call is a new prompt (the router keys stickiness and intent on the last user message). */
  context(): Context;
}

function caller(setup: ExtensionSetup): Caller {
  let prompt = 0;
  return {
    setup,
    context: () => ({
      systemPrompt: "You are a helpful coding assistant.",
      messages: [{ role: "user", content: "Say hello in five words.", timestamp: ++prompt }],
    }),
  };
}

async function call(c: Caller, routed: boolean): Promise<{ ttftUs: number; stop: string }> {
  const { setup } = c;
  setup.queue(EXTENSION_TARGET_PROVIDER, setup.fauxAssistantMessage(ANSWER_TEXT));
  const model = routed ? setup.routerModel : setup.targetModel;
  const startedAt = nowMicroseconds();
  let ttftUs = Number.NaN;
  let stop = "none";
  for await (const event of await setup.callModel(model, c.context(), CALL_OPTIONS)) {
    if (event.type === "text_delta" && Number.isNaN(ttftUs)) ttftUs = nowMicroseconds() - startedAt;
    else if (event.type === "done") stop = event.message.stopReason;
    else if (event.type === "error") stop = `${event.reason}: ${event.error.errorMessage ?? ""}`;
  }
  if (stop !== "stop") throw new Error(`bench request (${routed ? "routed" : "direct"}) did not complete: ${stop}`);
  return { ttftUs, stop };
}

async function ttft(c: Caller): Promise<{ direct: number[]; routed: number[] }> {
  const direct: number[] = [];
  const routed: number[] = [];
  for (let round = 0; round < WARM_UP_ROUNDS + MEASURED_ROUNDS; round++) {
    const a = await call(c, false);
    await yieldToEventLoop();
    const b = await call(c, true);
    await yieldToEventLoop();
    if (round < WARM_UP_ROUNDS) continue;
    direct.push(a.ttftUs);
    routed.push(b.ttftUs);
  }
  return { direct, routed };
}

const cpuMicroseconds = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

/** CPU per request, in alternating blocks so background work (flushes) lands in both alike. */
async function cpuPerRequest(c: Caller): Promise<{ directUs: number; routedUs: number }> {
  const totals = { direct: 0, routed: 0 };
  for (let block = 0; block < CPU_BLOCKS * 2; block++) {
    const routed = block % 2 === 1;
    const before = cpuMicroseconds();
    for (let index = 0; index < CPU_BLOCK_REQUESTS; index++) {
      await call(c, routed);
      await yieldToEventLoop();
    }
    totals[routed ? "routed" : "direct"] += cpuMicroseconds() - before;
  }
  const requests = CPU_BLOCKS * CPU_BLOCK_REQUESTS;
  return { directUs: totals.direct / requests, routedUs: totals.routed / requests };
}

const backToBack = (c: Caller, routed: boolean): Promise<number> =>
  backToBackRate(THROUGHPUT_REQUESTS, () => call(c, routed));

/**
 * Requests per second back to back, direct and routed in alternating runs, the median run of each: one run of each
 * swung by a factor of 1.5 from one bench to the next on a shared machine (a collection or another process landing
 * in one of them).
 */
async function throughput(c: Caller): Promise<{ direct: number; routed: number }> {
  const direct: number[] = [];
  const routed: number[] = [];
  for (let run = 0; run < THROUGHPUT_RUNS; run++) {
    direct.push(await backToBack(c, false));
    await yieldToEventLoop();
    routed.push(await backToBack(c, true));
    await yieldToEventLoop();
  }
  return { direct: median(direct), routed: median(routed) };
}

/** From the router seeing the first target's error event to the second target's stream function being invoked. */
async function failoverSwitch(c: Caller): Promise<number[]> {
  const { setup } = c;
  const firstApi = setup.targetModel.api;
  const secondApi = setup.backupModel.api;
  const first = setup.getApiProvider(firstApi)!;
  const second = setup.getApiProvider(secondApi)!;
  let errorSeenAt = Number.NaN;
  let secondInvokedAt = Number.NaN;
  setup.registerApiProvider({
    ...first,
    streamSimple: (model, context, options) =>
      onErrorEvent(first.streamSimple(model, context, options), () => (errorSeenAt = nowMicroseconds())),
  } as ApiProvider<Api>);
  setup.registerApiProvider({
    ...second,
    streamSimple: (model, context, options) => {
      secondInvokedAt = nowMicroseconds();
      return second.streamSimple(model, context, options);
    },
  } as ApiProvider<Api>);
  const samples: number[] = [];
  try {
    for (let index = 0; index < SWITCH_REQUESTS; index++) {
      setup.queue(
        EXTENSION_TARGET_PROVIDER,
        setup.fauxAssistantMessage([], { stopReason: "error", errorMessage: FIRST_TARGET_ERROR }),
      );
      setup.queue(EXTENSION_BACKUP_PROVIDER, setup.fauxAssistantMessage("served by the second target"));
      errorSeenAt = secondInvokedAt = Number.NaN;
      let stop = "none";
      for await (const event of await setup.callModel(setup.routerModel, c.context(), CALL_OPTIONS))
        if (event.type === "done") stop = event.message.stopReason;
      await yieldToEventLoop();
      if (stop !== "stop" || Number.isNaN(errorSeenAt) || Number.isNaN(secondInvokedAt))
        throw new Error(`failover request did not fail over: ${stop}`);
      if (index >= SWITCH_REQUESTS / 5) samples.push(secondInvokedAt - errorSeenAt);
    }
  } finally {
    setup.registerApiProvider(first);
    setup.registerApiProvider(second);
  }
  return samples;
}

/** Bytes this process passed to write system calls (files, pipes, the event loop's eventfd), from /proc/self/io. */
function bytesWritten(): number {
  const match = /^wchar:\s*(\d+)$/m.exec(readFileSync("/proc/self/io", "utf8"));
  return match ? Number(match[1]) : Number.NaN;
}

function eventLogBytes(setup: ExtensionSetup): number {
  try {
    return readFileSync(`${setup.agentDir}/extensions/auto-router.events.jsonl`).length;
  } catch {
    return 0;
  }
}

/**
 * Routed requests one second apart (every store flush and log append happens between them): bytes written to files
 * per request (counted at node:fs's API), the event log's share, and every write system call of the process per
 * request (/proc's wchar, which also counts the event loop's wake-ups).
 */
async function pacedBytes(c: Caller): Promise<{ total: number; eventLog: number; syscalls: number }> {
  const pace = () => new Promise((resolve) => setTimeout(resolve, PACE_MS));
  const files = countFileBytes();
  try {
    // The earlier sections' writes land before the count: the usage ledger's delay is the longest, and on a busy
    // machine the backlog of thousands of back-to-back requests can take longer, so the count starts once no file
    // has been written for two paces in a row (at most QUIET_WAIT_MS).
    await new Promise((resolve) => setTimeout(resolve, USAGE_FLUSH_DELAY_MS + PACE_MS));
    const waitUntil = Date.now() + QUIET_WAIT_MS;
    for (let quiet = 0, last = files.bytes(); quiet < 2 && Date.now() < waitUntil; ) {
      await pace();
      quiet = files.bytes() === last ? quiet + 1 : 0;
      last = files.bytes();
    }
    const logBefore = eventLogBytes(c.setup);
    const before = files.bytes();
    const syscallsBefore = bytesWritten();
    for (let index = 0; index < PACED_REQUESTS; index++) {
      await call(c, true);
      await pace();
    }
    return {
      total: (files.bytes() - before) / PACED_REQUESTS,
      eventLog: (eventLogBytes(c.setup) - logBefore) / PACED_REQUESTS,
      syscalls: (bytesWritten() - syscallsBefore) / PACED_REQUESTS,
    };
  } finally {
    files.stop();
  }
}

/** Median and spread (lowest, highest) of samples, in MiB. */
interface Spread {
  median: number;
  min: number;
  max: number;
}

function spread(bytes: number[]): Spread {
  const mib = bytes.map((value) => value / 2 ** 20);
  return { median: median(mib), min: Math.min(...mib), max: Math.max(...mib) };
}

const formatSpread = (value: Spread) =>
  `${value.median.toFixed(1)} MiB (${value.min.toFixed(1)}-${value.max.toFixed(1)})`;

interface MemoryFigures {
  rssWithout: Spread;
  rssWith: Spread;
  /** Per pair: with minus without. */
  rssAdded: Spread;
  heapWithout: Spread;
  heapWith: Spread;
  heapAdded: Spread;
}

/**
 * RSS and V8 heap of fresh processes once pi's SDK session is up, without and with the extension: RSS_PAIRS pairs,
 * alternating which of the two runs first, so a machine that drifts during the run weighs on both alike.
 */
function addedMemory(): MemoryFigures {
  const probe = fileURLToPath(new URL("./rss-probe.ts", import.meta.url));
  // tsx's ESM hooks only: the bundle is then loaded by Node's own require, as under pi (see rss-probe.ts).
  const run = (mode: "with" | "without") => {
    const [rss, heap] = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx/esm", probe, mode], {
      encoding: "utf8",
    })
      .trim()
      .split("\n")
      .at(-1)!
      .split(" ")
      .map(Number);
    return { rss: rss!, heap: heap! };
  };
  const pairs: Array<{ without: { rss: number; heap: number }; with: { rss: number; heap: number } }> = [];
  for (let index = 0; index < RSS_PAIRS; index++) {
    if (index % 2 === 0) {
      const without = run("without");
      pairs.push({ without, with: run("with") });
    } else {
      const withExtension = run("with");
      pairs.push({ without: run("without"), with: withExtension });
    }
  }
  return {
    rssWithout: spread(pairs.map((pair) => pair.without.rss)),
    rssWith: spread(pairs.map((pair) => pair.with.rss)),
    rssAdded: spread(pairs.map((pair) => pair.with.rss - pair.without.rss)),
    heapWithout: spread(pairs.map((pair) => pair.without.heap)),
    heapWith: spread(pairs.map((pair) => pair.with.heap)),
    heapAdded: spread(pairs.map((pair) => pair.with.heap - pair.without.heap)),
  };
}

export interface ProductCostOptions {
  /** Only these configurations (keys of VARIANTS); PRODUCT_BENCH_VARIANTS=shipped,budgets does the same. */
  variants?: string[];
}

export async function runProductCostBench(options: ProductCostOptions = {}): Promise<BenchResult> {
  const figures: Record<string, number> = {};
  const rows: string[][] = [];
  const row: RowAdder = (variant, figure, direct, routed, added, ratio, goal, pass) =>
    rows.push([variant, figure, direct, routed, added, ratio, goal, pass === undefined ? "" : verdict(pass)]);
  // Every configuration runs the same bundle, pi-ai and SDK code. Without a common warm-up the first one measured
  // would also pay for V8 optimising that code and the later ones would not: the same build measured +162 µs of CPU
  // per request as shipped when it came first, and +116 µs in a second pass in the same process.
  const warm = await loadExtension({ route: ROUTE });
  try {
    const c = caller(warm);
    for (let index = 0; index < JIT_WARM_UP_CALLS; index++) {
      await call(c, true);
      await call(c, false);
      await yieldToEventLoop();
    }
  } finally {
    await warm.dispose();
  }
  // PRODUCT_BENCH_VARIANTS=shipped,budgets runs only those sections (e.g. while working on one of them).
  const only = options.variants ?? process.env.PRODUCT_BENCH_VARIANTS?.split(",").map((key) => key.trim());
  for (const variant of VARIANTS.filter((item) => !only || only.includes(item.key))) {
    const setup = await loadExtension({ ...variant.options, route: ROUTE });
    try {
      const c = caller(setup);
      const times = await ttft(c);
      const direct = summarize(times.direct);
      const routed = summarize(times.routed);
      const cpu = await cpuPerRequest(c);
      const { direct: directRate, routed: routedRate } = await throughput(c);
      const switched = summarize(await failoverSwitch(c));
      const bytes = await pacedBytes(c);
      const k = variant.key;
      Object.assign(figures, {
        [`${k}AddedTtftP50Us`]: routed.p50 - direct.p50,
        [`${k}AddedCpuUs`]: cpu.routedUs - cpu.directUs,
        [`${k}ThroughputRatio`]: routedRate / directRate,
        [`${k}RoutedRequestsPerSecond`]: routedRate,
        [`${k}DirectRequestsPerSecond`]: directRate,
        [`${k}SwitchP50Us`]: switched.p50,
        [`${k}SwitchP99Us`]: switched.p99,
        [`${k}BytesPerRequest`]: bytes.total,
        [`${k}EventLogBytesPerRequest`]: bytes.eventLog,
      });
      const label = variant.label;
      row(
        label,
        "TTFT p50",
        formatMicroseconds(direct.p50),
        formatMicroseconds(routed.p50),
        formatMicroseconds(routed.p50 - direct.p50),
        formatRatio(routed.p50 / direct.p50),
        `added <= ${GOALS.addedTtftP50Us} µs`,
        routed.p50 - direct.p50 <= GOALS.addedTtftP50Us,
      );
      row(
        "",
        "TTFT p99",
        formatMicroseconds(direct.p99),
        formatMicroseconds(routed.p99),
        formatMicroseconds(routed.p99 - direct.p99),
        formatRatio(routed.p99 / direct.p99),
        "-",
        undefined,
      );
      row(
        "",
        "CPU per request",
        formatMicroseconds(cpu.directUs),
        formatMicroseconds(cpu.routedUs),
        formatMicroseconds(cpu.routedUs - cpu.directUs),
        formatRatio(cpu.routedUs / cpu.directUs),
        `added <= ${GOALS.addedCpuUs} µs`,
        cpu.routedUs - cpu.directUs <= GOALS.addedCpuUs,
      );
      row(
        "",
        `throughput, ${THROUGHPUT_REQUESTS} back to back, one event-loop turn each (median of ${THROUGHPUT_RUNS} runs)`,
        formatRate(directRate),
        formatRate(routedRate),
        "",
        `${formatRatio(routedRate / directRate)} (1/${(directRate / routedRate).toFixed(1)})`,
        ">= 1/3 of direct",
        routedRate / directRate >= GOALS.throughputRatio,
      );
      row(
        "",
        "failover switch p50 / p99",
        "",
        `${formatMicroseconds(switched.p50)} / ${formatMicroseconds(switched.p99)}`,
        "",
        "",
        `<= ${GOALS.switchP50Us} / ${GOALS.switchP99Us} µs`,
        switched.p50 <= GOALS.switchP50Us && switched.p99 <= GOALS.switchP99Us,
      );
      row(
        "",
        `bytes written to files per request at 1 req/s (${PACED_REQUESTS} requests)`,
        "",
        `${bytes.total.toFixed(0)} B (write calls: ${bytes.syscalls.toFixed(0)} B)`,
        "",
        "",
        `<= ${GOALS.bytesPerRequest} B`,
        bytes.total <= GOALS.bytesPerRequest,
      );
      row(
        "",
        "  of which event log",
        "",
        `${bytes.eventLog.toFixed(0)} B`,
        "",
        "",
        `<= ${GOALS.eventLogBytesPerRequest} B`,
        bytes.eventLog <= GOALS.eventLogBytesPerRequest,
      );
    } finally {
      await setup.dispose();
    }
  }
  addMemoryRows(figures, row);
  const lines = [
    `per-request cost as users run it on ${hostDescription()}: pi SDK + the real extension entry (bundle, every plugin,`,
    `file stores, event log), faux in-memory target, routed calls interleaved with direct calls to the same target`,
    `(${MEASURED_ROUNDS} rounds after ${WARM_UP_ROUNDS} warm-up), every configuration after the same ${JIT_WARM_UP_CALLS} routed and direct calls on a`,
    "throwaway setup (V8 has optimised the shared code for all of them alike)",
    ...table(["configuration", "figure", "direct", "routed", "added", "ratio", "goal", "verdict"], rows).map(
      (line) => `  ${line}`,
    ),
  ];
  return { name: "product-cost", figures, lines };
}

type RowAdder = (
  variant: string,
  figure: string,
  direct: string,
  routed: string,
  added: string,
  ratio: string,
  goal: string,
  pass: boolean | undefined,
) => void;

function addMemoryRows(figures: Record<string, number>, row: RowAdder): void {
  const memory = addedMemory();
  figures.addedRssMiB = memory.rssAdded.median;
  figures.addedRssMinMiB = memory.rssAdded.min;
  figures.addedRssMaxMiB = memory.rssAdded.max;
  figures.addedHeapMiB = memory.heapAdded.median;
  row(
    "(separate processes)",
    `RSS after session start, median (lowest-highest) of ${RSS_PAIRS} pairs`,
    formatSpread(memory.rssWithout),
    formatSpread(memory.rssWith),
    formatSpread(memory.rssAdded),
    "",
    `added <= ${GOALS.addedRssMiB} MiB`,
    memory.rssAdded.median <= GOALS.addedRssMiB,
  );
  row(
    "",
    "  V8 heap used (after gc, steadier)",
    formatSpread(memory.heapWithout),
    formatSpread(memory.heapWith),
    formatSpread(memory.heapAdded),
    "",
    "",
    undefined,
  );
}
