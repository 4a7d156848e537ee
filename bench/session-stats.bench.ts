// Bench: routing-session-stats over a generated 1,000,000-event log, run as a child process like an operator would.
// Prints wall time and peak RSS (reported by the child itself through the hidden --bench-rss flag, since
// /usr/bin/time may be absent), and the ratio to a baseline measured in the same run: a plain streaming line count
// of the same file with node. The targets (<= 10 s, <= 200 MB) are printed next to the figures, never asserted.
// Run: node --import tsx bench/session-stats.bench.ts
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const BENCH_EVENT_COUNT = 1_000_000;
const TARGET_WALL_MS = 10_000;
const TARGET_PEAK_RSS_MB = 200;
const WRITE_BATCH_LINES = 20_000;
const START_TIME_MS = Date.parse("2026-04-01T00:00:00.000Z");
const REQUEST_SPACING_MS = 7_000;

const repository = fileURLToPath(new URL("../", import.meta.url));
const TARGETS = [
  "anthropic/claude-sonnet-4-6",
  "openai-codex/gpt-5.3-codex",
  "google/gemini-3.1-pro-preview",
  "deepseek/deepseek-v4-pro",
  "moonshotai/kimi-k2.6",
];
const ROUTES = ["subscription-swe", "subscription-reasoning", "subscription-fast"];
const KINDS = ["rate_limit", "overloaded", "server", "timeout"];

/** Deterministic pseudo-random numbers so every run measures the same log. */
export function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** Writes a realistic mix (decision, candidates, attempts, results, final; some failovers, ratings and quota events). */
export function generateEventLog(path: string, eventCount = BENCH_EVENT_COUNT): number {
  const random = generator(42);
  const descriptor = openSync(path, "w");
  let lines: string[] = [];
  let written = 0;
  const push = (
    type: string,
    time: number,
    requestId: string | undefined,
    routeId: string | undefined,
    data: object,
  ) => {
    lines.push(
      JSON.stringify({ v: 1, type, ts: new Date(time).toISOString(), requestId, sessionId: "bench", routeId, data }),
    );
    written++;
    if (lines.length >= WRITE_BATCH_LINES) {
      writeSync(descriptor, `${lines.join("\n")}\n`);
      lines = [];
    }
  };
  for (let index = 0; written < eventCount; index++) {
    const time = START_TIME_MS + index * REQUEST_SPACING_MS;
    const requestId = `req-${index}`;
    const route = ROUTES[index % ROUTES.length]!;
    const planned = TARGETS[Math.floor(random() * 3)]!;
    push("decision", time, requestId, route, {
      requestedRouteId: route,
      routeId: route,
      tier: "swe",
      tierSource: "intent",
      intent: "code",
      intentConfidence: 0.7,
      features: {
        estimatedTokens: 1000 + Math.floor(random() * 50_000),
        contextClass: "short",
        hasImages: false,
        hasTools: true,
        intent: "code",
        intentConfidence: 0.7,
      },
      shortcutTokens: [],
      plannedTarget: planned,
      rules: [],
      hints: [],
    });
    push("candidates", time + 1, requestId, route, {
      candidates: TARGETS.slice(0, 3).map((key, rank) => ({
        key,
        rank: rank + 1,
        bucket: "normal",
        billing: "subscription",
        reasons: [],
        warnings: [],
        estimatedCostUsd: 0.01 * (rank + 1),
      })),
      skipped: [{ key: TARGETS[4], reason: "no-credentials", detail: "no API key" }],
    });
    const failover = random() < 0.1;
    let served = planned;
    let attempt = 1;
    if (failover) {
      push("attempt", time + 2, requestId, route, { attempt, target: planned });
      push("result", time + 300, requestId, route, {
        attempt,
        target: planned,
        outcome: "failed",
        failureKind: KINDS[Math.floor(random() * KINDS.length)],
        message: "429 Too Many Requests",
        latencyMs: 298,
      });
      served = TARGETS[3]!;
      attempt++;
    }
    const latency = 500 + Math.floor(random() * 20_000);
    push("attempt", time + 301, requestId, route, { attempt, target: served });
    push("result", time + 301 + latency, requestId, route, {
      attempt,
      target: served,
      outcome: "success",
      latencyMs: latency,
      ttftMs: Math.floor(latency / 4),
      usage: { input: 5000, output: 800, cacheRead: 1000, cacheWrite: 0, costUsd: random() * 0.2 },
    });
    push("final", time + 302 + latency, requestId, route, {
      outcome: "success",
      servedTarget: served,
      plannedTarget: planned,
      attempts: attempt,
      failovers: attempt - 1,
      latencyMs: latency + 301,
      costUsd: 0.05,
      failureKinds: failover ? ["rate_limit"] : [],
    });
    if (index % 50 === 0)
      push("feedback", time + 60_000, `fb-${index}`, route, {
        rating: random() < 0.8 ? "good" : "bad",
        ratedRequestId: requestId,
        servedTarget: served,
        routeId: route,
      });
    if (index % 20 === 0)
      push("quota", time, undefined, undefined, { provider: "anthropic", uvi: random(), level: "ok", source: "bench" });
  }
  if (lines.length > 0) writeSync(descriptor, `${lines.join("\n")}\n`);
  closeSync(descriptor);
  return written;
}

function runNode(args: string[]): Promise<{ code: number | null; wallMs: number; stderr: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repository, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, wallMs: performance.now() - started, stderr }));
  });
}

/** The baseline: count lines of the same file with node's streaming readline, nothing parsed. */
const LINE_COUNT_SOURCE = `
const { createReadStream } = require("node:fs");
const { createInterface } = require("node:readline");
let lines = 0;
createInterface({ input: createReadStream(process.argv[1], { highWaterMark: 1 << 20 }), crlfDelay: Infinity })
  .on("line", () => lines++)
  .on("close", () => process.stderr.write("lines " + lines + " bench-max-rss-kb " + process.resourceUsage().maxRSS + "\\n"));
`;

const rssMegabytes = (stderr: string): number | undefined => {
  const match = /bench-max-rss-kb (\d+)/.exec(stderr);
  return match ? Number(match[1]) / 1024 : undefined;
};

export async function runSessionStatsBench(
  eventCount = BENCH_EVENT_COUNT,
): Promise<{ name: string; figures: Record<string, number>; lines: string[] }> {
  const directory = mkdtempSync(join(tmpdir(), "auto-router-bench-"));
  try {
    const file = join(directory, "auto-router.events.jsonl");
    const generationStarted = performance.now();
    const events = generateEventLog(file, eventCount);
    const generationMs = performance.now() - generationStarted;
    const fileBytes = statSync(file).size;
    const baseline = await runNode(["-e", LINE_COUNT_SOURCE, file]);
    const stats = await runNode([
      join(repository, "scripts/routing-session-stats.mjs"),
      "--file",
      file,
      "--json",
      "--bench-rss",
    ]);
    if (stats.code !== 0) throw new Error(`routing-session-stats exited ${stats.code}: ${stats.stderr}`);
    const peakRssMb = rssMegabytes(stats.stderr) ?? Number.NaN;
    const figures = {
      events,
      fileMegabytes: fileBytes / 1024 / 1024,
      generationMs,
      baselineLineCountMs: baseline.wallMs,
      sessionStatsMs: stats.wallMs,
      ratioToLineCount: stats.wallMs / baseline.wallMs,
      peakRssMb,
      baselinePeakRssMb: rssMegabytes(baseline.stderr) ?? Number.NaN,
    };
    const verdict = (value: number, limit: number) => (value <= limit ? "within" : "OVER");
    const lines = [
      `session-stats bench: ${events.toLocaleString("en-US")} events, ${figures.fileMegabytes.toFixed(0)} MB log (generated in ${(generationMs / 1000).toFixed(1)} s)`,
      `  baseline line count     ${(figures.baselineLineCountMs / 1000).toFixed(2)} s, peak RSS ${figures.baselinePeakRssMb.toFixed(0)} MB`,
      `  routing-session-stats   ${(figures.sessionStatsMs / 1000).toFixed(2)} s (${verdict(figures.sessionStatsMs, TARGET_WALL_MS)} the ${TARGET_WALL_MS / 1000} s target), ` +
        `peak RSS ${peakRssMb.toFixed(0)} MB (${verdict(peakRssMb, TARGET_PEAK_RSS_MB)} the ${TARGET_PEAK_RSS_MB} MB target)`,
      `  ratio to line count     ${figures.ratioToLineCount.toFixed(2)}x`,
    ];
    return { name: "session-stats", figures, lines };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runSessionStatsBench();
  for (const line of result.lines) console.log(line);
}
