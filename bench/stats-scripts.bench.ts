// Bench: the three stats scripts (routing-stats, routing-quality-stats, routing-session-stats) on a generated
// 1,000,000-event log in OUR format and in the earlier public pi-auto-router's format (shared/docs/legacy-formats.md),
// each run as a child process like an operator would. Prints wall time and peak RSS (reported by the child itself
// through a preloaded exit hook, since /usr/bin/time may be absent) next to the goals (<= 10 s, <= 200 MB each) and
// the earlier implementation's own scripts on the same file (14-18 s, 1.4-1.6 GB). Never asserts timing.
// Run: node --import tsx bench/stats-scripts.bench.ts
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BENCH_EVENT_COUNT, generateEventLog, generator } from "./session-stats.bench.ts";
import type { BenchResult } from "./stats.ts";

const GOAL_WALL_MS = 10_000;
const GOAL_PEAK_RSS_MB = 200;
const WRITE_BATCH_LINES = 20_000;
const START_TIME_MS = Date.parse("2026-04-01T00:00:00.000Z");
const REQUEST_SPACING_MS = 7_000;
/** About 6% of requests failed over in the log the issue describes. */
const FAILOVER_SHARE = 0.06;
const SCRIPTS = ["routing-stats", "routing-quality-stats", "routing-session-stats"] as const;

const repository = fileURLToPath(new URL("../", import.meta.url));
const TARGETS = [
  { provider: "anthropic", modelId: "claude-sonnet-4-6", label: "Sonnet" },
  { provider: "openai-codex", modelId: "gpt-5.3-codex", label: "Codex" },
  { provider: "google", modelId: "gemini-3.1-pro-preview", label: "Gemini" },
  { provider: "deepseek", modelId: "deepseek-v4-pro", label: "DeepSeek" },
];
const ROUTES = ["subscription-swe", "subscription-reasoning", "subscription-fast"];
const ERRORS = [
  '429 {"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}',
  '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
  "500 The server had an error while processing your request",
  "Request timed out.",
];

/** A log exactly as the earlier implementation wrote it: decision, candidates, attempt/result pairs, final, ratings. */
export function generateLegacyEventLog(path: string, eventCount = BENCH_EVENT_COUNT): number {
  const random = generator(7);
  const descriptor = openSync(path, "w");
  let lines: string[] = [];
  let written = 0;
  const push = (type: string, time: number, requestId: string, routeId: string, data: object) => {
    lines.push(
      JSON.stringify({
        type: `routing.${type}`,
        timestamp: new Date(time).toISOString(),
        requestId,
        conversationId: "bench",
        routeId,
        sessionId: "bench",
        version: 1,
        data,
      }),
    );
    written++;
    if (lines.length >= WRITE_BATCH_LINES) {
      writeSync(descriptor, `${lines.join("\n")}\n`);
      lines = [];
    }
  };
  for (let index = 0; written < eventCount; index++) {
    const time = START_TIME_MS + index * REQUEST_SPACING_MS;
    const requestId = `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`;
    const route = ROUTES[index % ROUTES.length]!;
    const planned = TARGETS[Math.floor(random() * 3)]!;
    push("decision", time, requestId, route, {
      tier: "swe",
      phase: "default",
      plannedTarget: planned,
      reasoning: "code intent (0.70) -> swe tier",
      reasoningStructured: {
        intent: { category: "code", confidence: 0.7, reasons: ["keyword"] },
        requestedTier: "swe",
        effectiveTier: "swe",
        classification: "code",
        estimatedTokens: 1000 + Math.floor(random() * 50_000),
        fallback: { constraintFallback: false, budgetFallback: false },
        counts: { eligible: 3 },
        warnings: { budget: [], uvi: [] },
      },
      estimatedTokens: 1000 + Math.floor(random() * 50_000),
      budgetRemaining: 0,
      confidence: 0.7,
    });
    push("candidates", time + 1, requestId, route, {
      candidates: TARGETS.map((target, rank) => ({
        ...target,
        billing: "subscription",
        configRank: rank + 1,
        finalRank: rank + 1,
        status: rank === 0 ? "selected" : rank === 3 ? "budget_rejected" : "eligible",
        reasons: [],
        avgLatencyMs: 1500,
        estimatedCostUsd: 0.01 * (rank + 1),
        uvi: 0.2,
        uviStatus: "ok",
      })),
    });
    const attempts = random() < FAILOVER_SHARE ? [planned, TARGETS[3]!] : [planned];
    const errors: string[] = [];
    attempts.forEach((target, position) => {
      const attempt = position + 1;
      push("attempt", time + 2 + position, requestId, route, { index: attempt, ...target });
      if (attempt < attempts.length) {
        const error = ERRORS[Math.floor(random() * ERRORS.length)]!;
        errors.push(`${target.label}: ${error}`);
        push("result", time + 300, requestId, route, {
          index: attempt,
          outcome: "retryable_failure",
          ...target,
          latencyMs: 298,
          ttftMs: 0,
          error,
        });
        return;
      }
      const latency = 500 + Math.floor(random() * 20_000);
      push("result", time + 301 + latency, requestId, route, {
        index: attempt,
        outcome: "success",
        ...target,
        latencyMs: latency,
        ttftMs: Math.floor(latency / 4),
        inputTokens: 5000,
        outputTokens: 800,
        costUsd: random() * 0.2,
      });
    });
    const served = attempts.at(-1)!;
    push("final", time + 25_000, requestId, route, {
      outcome: "success",
      selectedTarget: served.label,
      actualTarget: served,
    });
    if (index % 50 === 0)
      push("feedback", time + 60_000, requestId, route, {
        ...served,
        rating: random() < 0.8 ? "good" : "bad",
        reason: "",
        tags: [],
        tier: "swe",
        intent: "code",
        outcome: "success",
      });
  }
  if (lines.length > 0) writeSync(descriptor, `${lines.join("\n")}\n`);
  closeSync(descriptor);
  return written;
}

/** Preloaded into each script's process: reports its own peak RSS on exit. */
// CPU time is printed too: on a busy machine the wall time says more about the neighbours than about the script.
const RSS_HOOK =
  'process.on("exit", () => { const usage = process.resourceUsage(); process.stderr.write("\\nbench-max-rss-kb " + usage.maxRSS + " bench-cpu-us " + (usage.userCPUTime + usage.systemCPUTime) + "\\n"); });\n';

function runScript(
  hook: string,
  script: string,
  file: string,
): Promise<{ wallMs: number; cpuMs: number; peakRssMb: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--require", hook, join(repository, "scripts", `${script}.mjs`), "--file", file, "--json"],
      { cwd: repository, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${script} exited ${code}: ${stderr.slice(0, 500)}`));
      const match = /bench-max-rss-kb (\d+) bench-cpu-us (\d+)/.exec(stderr);
      resolve({
        wallMs: performance.now() - started,
        cpuMs: match ? Number(match[2]) / 1000 : Number.NaN,
        peakRssMb: match ? Number(match[1]) / 1024 : Number.NaN,
      });
    });
  });
}

export async function runStatsScriptsBench(eventCount = BENCH_EVENT_COUNT): Promise<BenchResult> {
  const directory = mkdtempSync(join(tmpdir(), "auto-router-stats-bench-"));
  const figures: Record<string, number> = {};
  const lines: string[] = [];
  const within = (value: number, goal: number) => (value <= goal ? "within" : "OVER");
  try {
    const hook = join(directory, "rss-hook.cjs");
    writeFileSync(hook, RSS_HOOK);
    for (const [format, generate] of [
      ["ours", generateEventLog],
      ["earlier", generateLegacyEventLog],
    ] as const) {
      const file = join(directory, `${format}.jsonl`);
      const events = generate(file, eventCount);
      lines.push(
        `${format} format: ${events.toLocaleString("en-US")} events, ${(statSync(file).size / 1024 / 1024).toFixed(0)} MB`,
      );
      for (const script of SCRIPTS) {
        const run = await runScript(hook, script, file);
        figures[`${script}:${format}:ms`] = run.wallMs;
        figures[`${script}:${format}:cpuMs`] = run.cpuMs;
        figures[`${script}:${format}:rssMb`] = run.peakRssMb;
        lines.push(
          `  ${script.padEnd(22)} ${(run.wallMs / 1000).toFixed(2)} s wall, ${(run.cpuMs / 1000).toFixed(2)} s CPU (${within(run.cpuMs, GOAL_WALL_MS)} ${GOAL_WALL_MS / 1000} s), ` +
            `peak RSS ${run.peakRssMb.toFixed(0)} MB (${within(run.peakRssMb, GOAL_PEAK_RSS_MB)} ${GOAL_PEAK_RSS_MB} MB)`,
        );
      }
      rmSync(file, { force: true });
    }
    lines.push(
      "  the earlier implementation's own scripts on such a file: 14-18 s and 1.4-1.6 GB each (one quadratic: 18 min)",
    );
    return { name: "stats-scripts", figures, lines };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const count = process.argv[2] ? Number(process.argv[2]) : BENCH_EVENT_COUNT;
  const result = await runStatsScriptsBench(count);
  for (const line of result.lines) console.log(line);
}
