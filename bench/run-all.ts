// `npm run bench`: every bench, each figure next to its baseline from the same run, its goal and the earlier
// implementation's figure. Verdicts are text; the process only fails when a bench crashes, never on timing.
//   --all (or BENCH_ALL=1)   also run the slow session-stats bench (1M events)
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { hostDescription } from "./extension-harness.ts";
import { GOALS, runProductCostBench } from "./product-cost.bench.ts";
import { LINE_KEY_SEPARATOR, runNewerPiLines } from "./pi-lines.ts";
import { runRequestPathChecks } from "./request-path-checks.ts";
import { GOAL_ADDED_TTFT_P50_US, GOAL_THROUGHPUT_RATIO, runRouterOverheadBench } from "./router-overhead.bench.ts";
import { GOAL_SWITCH_P99_US } from "./failover-switch.ts";
import {
  GOAL_GATEWAY_ADDED_P50_US,
  GOAL_GATEWAY_ADDED_P99_US,
  GOAL_GATEWAY_THROUGHPUT_RATIO,
  runGatewayBench,
} from "./gateway.bench.ts";
import { GOAL_ADDED_FIRST_RUN_MS, GOAL_ADDED_WARM_MS, runStartupBench } from "./startup.bench.ts";
import { formatMicroseconds, formatMilliseconds, formatRatio, table, verdict, type BenchResult } from "./stats.ts";

type BenchRunner = () => Promise<BenchResult>;

/** Benches other files may provide: run when their file exists (dynamic import, so a missing one is no error). */
const OPTIONAL_BENCHES = [
  { file: "decision.bench.ts", exportName: "runDecisionBench", slow: false },
  { file: "session-stats.bench.ts", exportName: "runSessionStatsBench", slow: true },
  { file: "team-store.bench.ts", exportName: "runTeamStoreBench", slow: false },
  { file: "stats-scripts.bench.ts", exportName: "runStatsScriptsBench", slow: true },
];

async function runSection(
  title: string,
  runner: BenchRunner,
  results: BenchResult[],
  failures: string[],
): Promise<void> {
  console.log(`\n== ${title}`);
  const startedAt = Date.now();
  try {
    const result = await runner();
    results.push(result);
    for (const line of result.lines) console.log(line);
    console.log(`  (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
  } catch (error) {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    failures.push(`${title}: ${text.split("\n")[0]}`);
    console.log(`  FAILED: ${text}`);
  }
}

async function optionalRunner(file: string, exportName: string): Promise<BenchRunner | undefined> {
  const path = fileURLToPath(new URL(`./${file}`, import.meta.url));
  if (!existsSync(path)) return undefined;
  const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const runner = module[exportName];
  if (typeof runner !== "function") throw new Error(`${file} does not export ${exportName}()`);
  return runner as BenchRunner;
}

function summary(results: BenchResult[]): string[] {
  const figures: Record<string, number> = Object.assign({}, ...results.map((result) => result.figures));
  const has = (key: string) => typeof figures[key] === "number";
  const rows: string[][] = [];
  const add = (
    label: string,
    key: string,
    format: (value: number) => string,
    goal: string,
    pass: ((value: number) => boolean) | undefined,
    earlier: string,
  ) => {
    if (has(key)) rows.push([label, format(figures[key]!), goal, earlier, pass ? verdict(pass(figures[key]!)) : ""]);
  };
  const ratio = (value: number) => `${formatRatio(value)} (1/${(1 / value).toFixed(1)})`;
  const bytes = (value: number) => `${value.toFixed(0)} B`;
  const mib = (value: number) => `${value.toFixed(1)} MiB`;
  const atMost = (goal: number) => (value: number) => value <= goal;
  // The as-shipped group: label, figure key, format, goal, pass, the earlier implementation's figure.
  const shipped: Array<[string, string, (value: number) => string, string, (value: number) => boolean, string]> = [
    [
      "added TTFT p50",
      "shippedAddedTtftP50Us",
      formatMicroseconds,
      `<= ${GOALS.addedTtftP50Us} µs`,
      atMost(GOALS.addedTtftP50Us),
      "+0.93-0.98 ms",
    ],
    [
      "added CPU per request",
      "shippedAddedCpuUs",
      formatMicroseconds,
      `<= ${GOALS.addedCpuUs} µs`,
      atMost(GOALS.addedCpuUs),
      "+1.94-2.00 ms",
    ],
    [
      "throughput routed/direct",
      "shippedThroughputRatio",
      ratio,
      ">= 1/3",
      (v) => v >= GOALS.throughputRatio,
      "918 req/s",
    ],
    [
      "failover switch p50",
      "shippedSwitchP50Us",
      formatMicroseconds,
      `<= ${GOALS.switchP50Us} µs`,
      atMost(GOALS.switchP50Us),
      "0.26 ms",
    ],
    [
      "failover switch p99",
      "shippedSwitchP99Us",
      formatMicroseconds,
      `<= ${GOALS.switchP99Us} µs`,
      atMost(GOALS.switchP99Us),
      "0.47 ms",
    ],
    [
      "RSS added by the extension",
      "addedRssMiB",
      mib,
      `<= ${GOALS.addedRssMiB} MiB`,
      atMost(GOALS.addedRssMiB),
      "+3-8 MiB",
    ],
    [
      "bytes written per request, 1 req/s",
      "shippedBytesPerRequest",
      bytes,
      `<= ${GOALS.bytesPerRequest} B`,
      atMost(GOALS.bytesPerRequest),
      "5.6 KB",
    ],
    [
      "event log bytes per request",
      "shippedEventLogBytesPerRequest",
      bytes,
      `<= ${GOALS.eventLogBytesPerRequest} B`,
      atMost(GOALS.eventLogBytesPerRequest),
      "-",
    ],
  ];
  /** The as-shipped group, for the repository's pi (keys as they are) or a newer line (keys `<host>|<key>`). */
  const shippedGroup = (prefix: string, on: (key: string) => string) => {
    for (const [label, key, format, goal, pass, earlier] of shipped)
      add(`${prefix}: ${label}`, on(key), format, goal, pass, earlier);
  };
  shippedGroup("as shipped", (key) => key);
  // The same figures on the newer pi lines (bench/pi-lines.ts), one group per line.
  const hosts = [...new Set(Object.keys(figures).flatMap((key) => key.split(LINE_KEY_SEPARATOR).slice(0, -1)))];
  for (const host of hosts) shippedGroup(host, (key) => `${host}${LINE_KEY_SEPARATOR}${key}`);
  // The other configurations of the same section: their added CPU (and, for the event log off, what the log costs
  // back to back).
  for (const [label, key] of [
    ["budgets set", "budgets"],
    ["quota pacing on", "pacing"],
    ["breaker configured", "breaker"],
    ["event log off", "nolog"],
  ]) {
    add(
      `${label}: added CPU per request`,
      `${key}AddedCpuUs`,
      formatMicroseconds,
      `<= ${GOALS.addedCpuUs} µs`,
      (v) => v <= GOALS.addedCpuUs,
      "-",
    );
  }
  add(
    "event log off: throughput routed/direct",
    "nologThroughputRatio",
    ratio,
    ">= 1/3",
    (v) => v >= GOALS.throughputRatio,
    "-",
  );
  add(
    "stripped router (no plugins): added TTFT p50",
    "fauxAddedTtftP50Us",
    formatMicroseconds,
    `<= ${GOAL_ADDED_TTFT_P50_US} µs`,
    (v) => v <= GOAL_ADDED_TTFT_P50_US,
    "~1 ms",
  );
  add(
    "stripped router + event log: added TTFT p50",
    "fauxLoggedAddedTtftP50Us",
    formatMicroseconds,
    `<= ${GOAL_ADDED_TTFT_P50_US} µs`,
    (v) => v <= GOAL_ADDED_TTFT_P50_US,
    "~1 ms",
  );
  add(
    "stripped router + event log: added total p50",
    "fauxLoggedAddedTotalP50Us",
    formatMicroseconds,
    "-",
    undefined,
    "~2.5 ms",
  );
  add(
    "stripped router: throughput routed/direct",
    "fauxThroughputRatio",
    ratio,
    `>= 1/${1 / GOAL_THROUGHPUT_RATIO}`,
    (v) => v >= GOAL_THROUGHPUT_RATIO,
    "1/15",
  );
  add(
    "stripped router + event log: throughput",
    "fauxLoggedThroughputRatio",
    ratio,
    `>= 1/${1 / GOAL_THROUGHPUT_RATIO}`,
    (v) => v >= GOAL_THROUGHPUT_RATIO,
    "1/15",
  );
  add(
    "stripped router: throughput, HTTP target",
    "httpThroughputRatio",
    ratio,
    `>= 1/${1 / GOAL_THROUGHPUT_RATIO}`,
    (v) => v >= GOAL_THROUGHPUT_RATIO,
    "-",
  );
  add(
    "gateway added TTFT p50 (real process)",
    "gatewayAddedTtftP50Us",
    formatMicroseconds,
    `<= ${formatMicroseconds(GOAL_GATEWAY_ADDED_P50_US)}`,
    (v) => v <= GOAL_GATEWAY_ADDED_P50_US,
    "-",
  );
  add(
    "gateway added TTFT p99 (real process)",
    "gatewayAddedTtftP99Us",
    formatMicroseconds,
    `<= ${formatMicroseconds(GOAL_GATEWAY_ADDED_P99_US)}`,
    (v) => v <= GOAL_GATEWAY_ADDED_P99_US,
    "-",
  );
  add(
    "gateway added TTFT p50 / p99, fresh process (extra)",
    "gatewayFreshAddedTtftP50Us",
    (v) => `${formatMicroseconds(v)} / ${formatMicroseconds(figures.gatewayFreshAddedTtftP99Us ?? Number.NaN)}`,
    "-",
    undefined,
    "-",
  );
  add("peer gateway added TTFT p50 (same run)", "peerAddedTtftP50Us", formatMicroseconds, "-", undefined, "-");
  add(
    "gateway throughput routed/direct, 64 clients",
    "gatewayThroughputRatio",
    ratio,
    `>= ${GOAL_GATEWAY_THROUGHPUT_RATIO}x`,
    (v) => v >= GOAL_GATEWAY_THROUGHPUT_RATIO,
    "-",
  );
  add("bare node:http proxy throughput/direct (floor, same run)", "floorThroughputRatio", ratio, "-", undefined, "-");
  add("gateway throughput, 200-delta answers (extra)", "gatewayLongAnswerThroughputRatio", ratio, "-", undefined, "-");
  add("floor throughput, 200-delta answers (extra)", "floorLongAnswerThroughputRatio", ratio, "-", undefined, "-");
  add(
    "failover switch p99",
    "switchP99Us",
    formatMicroseconds,
    `<= ${formatMicroseconds(GOAL_SWITCH_P99_US)}`,
    (v) => v <= GOAL_SWITCH_P99_US,
    "~0.4 ms",
  );
  add(
    "added start-up, warm",
    "addedWarmMs",
    formatMilliseconds,
    `<= ${GOAL_ADDED_WARM_MS} ms`,
    (v) => v <= GOAL_ADDED_WARM_MS,
    "~70 ms",
  );
  add(
    "added start-up, first run",
    "addedFirstRunMs",
    formatMilliseconds,
    `<= ${GOAL_ADDED_FIRST_RUN_MS} ms`,
    (v) => v <= GOAL_ADDED_FIRST_RUN_MS,
    "~1.3 s",
  );
  add(
    "sync disk writes on the request path",
    "syncDiskWrites",
    String,
    "0",
    (v) => v === 0 && figures.syncWriteCounterWorks === 1,
    "-",
  );
  add(
    "system prompt with router == without",
    "systemPromptEqual",
    (v) => (v === 1 ? "equal" : "different"),
    "equal",
    (v) => v === 1,
    "-",
  );
  return table(["figure", "this run", "goal", "earlier implementation", "verdict"], rows).map((line) => `  ${line}`);
}

async function main(): Promise<number> {
  const all = process.argv.includes("--all") || process.env.BENCH_ALL === "1";
  const startedAt = Date.now();
  const [oneMinuteLoad] = loadavg();
  console.log(
    `pi-auto-router bench: ${hostDescription()}, ${cpus().length} CPUs, load average ${oneMinuteLoad!.toFixed(2)}`,
  );
  if (oneMinuteLoad! > cpus().length)
    console.log("  note: the machine is busy (load above the CPU count); timings will be noisy");
  const results: BenchResult[] = [];
  const failures: string[] = [];
  await runSection(
    "per-request cost as users run it (pi SDK + the real extension entry)",
    runProductCostBench,
    results,
    failures,
  );
  await runSection(
    "per-request cost as users run it on the newer pi lines (as shipped; Node 22)",
    runNewerPiLines,
    results,
    failures,
  );
  await runSection(
    "stripped router (no plugins, hand-built runtime; NOT the product, for locating costs)",
    runRouterOverheadBench,
    results,
    failures,
  );
  await runSection("request path checks", runRequestPathChecks, results, failures);
  await runSection("pi start-up (real CLI)", runStartupBench, results, failures);
  await runSection("gateway (real process) vs direct and a peer gateway", runGatewayBench, results, failures);
  for (const bench of OPTIONAL_BENCHES) {
    const title = bench.file.replace(/\.bench\.ts$/, "");
    if (bench.slow && !all) {
      console.log(`\n== ${title}: skipped (slow; run with --all or BENCH_ALL=1)`);
      continue;
    }
    let runner: BenchRunner | undefined;
    try {
      runner = await optionalRunner(bench.file, bench.exportName);
    } catch (error) {
      failures.push(`${title}: ${error instanceof Error ? error.message : String(error)}`);
      console.log(`\n== ${title}\n  FAILED to load: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (runner) await runSection(title, runner, results, failures);
    else console.log(`\n== ${title}: not present (bench/${bench.file})`);
  }
  console.log("\n== summary (PASS/MISS are information; timings never fail the run)");
  for (const line of summary(results)) console.log(line);
  console.log(
    `\nbench finished in ${((Date.now() - startedAt) / 1000).toFixed(1)} s${failures.length ? `; ${failures.length} bench(es) crashed:` : ""}`,
  );
  for (const failure of failures) console.log(`  ${failure}`);
  return failures.length ? 1 : 0;
}

process.exitCode = await main();
