// pi start-up with and without the extension, through the real CLI: `pi --list-models zzzz` loads everything a
// session needs (settings, models, extensions) and prints nothing. pi loads extensions through jiti, which keeps
// transpiled files in $TMPDIR/jiti: each bench run points TMPDIR at a fresh dir, so the first run with the extension
// is a true first run (empty cache, as after install or an upgrade) and the next ones are warm.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { makeAgentDir } from "../test/helpers/agent-dir.ts";
import { runPi, type PiRun } from "../test/helpers/pi-cli.ts";
import { formatMilliseconds, formatRatio, median, table, verdict, type BenchResult } from "./stats.ts";

// Start-up varies by tens of ms between runs on a shared machine: enough pairs that the median settles.
const WARM_RUNS = 15;
const RUN_TIMEOUT_MS = 30_000;
export const GOAL_ADDED_WARM_MS = 50;
export const GOAL_ADDED_FIRST_RUN_MS = 500;
const LIST_MODELS_ARGS = ["--list-models", "zzzz"];

export async function runStartupBench(): Promise<BenchResult> {
  const { agentDir, cleanup } = makeAgentDir();
  const cacheRoot = mkdtempSync(join(tmpdir(), "pi-auto-router-bench-tmp-"));
  const run = async (withExtension: boolean): Promise<number> => {
    const result: PiRun = await runPi({
      agentDir,
      args: LIST_MODELS_ARGS,
      extension: withExtension ? undefined : false,
      env: { TMPDIR: cacheRoot },
      timeoutMs: RUN_TIMEOUT_MS,
      // As users run pi: the tests' --no-opt would time a pi nobody runs.
      nodeFlags: [],
    });
    if (result.code !== 0)
      throw new Error(
        `pi ${withExtension ? "with" : "without"} the extension exited ${result.code}: ${result.stderr.slice(0, 500)}`,
      );
    return result.durationMs;
  };
  try {
    // Baseline first, so pi's own files are in the OS cache before the extension's first run is timed.
    const baselineFirst = await run(false);
    const extensionFirst = await run(true);
    const jitiCache = join(cacheRoot, "jiti");
    const cachedFiles = existsSync(jitiCache) ? readdirSync(jitiCache).length : 0;
    const baselineWarm: number[] = [];
    const extensionWarm: number[] = [];
    for (let index = 0; index < WARM_RUNS; index++) {
      baselineWarm.push(await run(false));
      extensionWarm.push(await run(true));
    }
    const baselineMedian = median(baselineWarm);
    const extensionMedian = median(extensionWarm);
    // Each pair ran back to back, so a busy machine slows both alike: the median of the pairwise differences.
    const addedWarm = median(extensionWarm.map((duration, index) => duration - baselineWarm[index]!));
    const addedFirst = extensionFirst - baselineMedian;
    const figures = {
      baselineFirstMs: baselineFirst,
      baselineWarmMedianMs: baselineMedian,
      extensionFirstMs: extensionFirst,
      extensionWarmMedianMs: extensionMedian,
      addedWarmMs: addedWarm,
      addedFirstRunMs: addedFirst,
      jitiCachedFiles: cachedFiles,
    };
    const lines = [
      `pi start-up (pi ${LIST_MODELS_ARGS.join(" ")}, offline, no session): first run, then median of ${WARM_RUNS} warm runs each, alternating`,
      ...table(
        ["figure", "without extension", "with extension", "added", "ratio", "goal", "verdict"],
        [
          [
            "warm (jiti cache filled)",
            formatMilliseconds(baselineMedian),
            formatMilliseconds(extensionMedian),
            formatMilliseconds(addedWarm),
            formatRatio(extensionMedian / baselineMedian),
            `<= ${GOAL_ADDED_WARM_MS} ms`,
            verdict(addedWarm <= GOAL_ADDED_WARM_MS),
          ],
          [
            "first run (empty jiti cache)",
            formatMilliseconds(baselineMedian),
            formatMilliseconds(extensionFirst),
            formatMilliseconds(addedFirst),
            formatRatio(extensionFirst / baselineMedian),
            `<= ${GOAL_ADDED_FIRST_RUN_MS} ms`,
            verdict(addedFirst <= GOAL_ADDED_FIRST_RUN_MS),
          ],
        ],
      ).map((line) => `  ${line}`),
      `  runs without: first ${formatMilliseconds(baselineFirst)}, warm ${baselineWarm.map(formatMilliseconds).join(", ")}`,
      `  runs with:    first ${formatMilliseconds(extensionFirst)}, warm ${extensionWarm.map(formatMilliseconds).join(", ")}`,
      "  added warm = median of the pairwise differences (each pair ran back to back)",
      `  the first run with the extension filled the jiti cache with ${cachedFiles} transpiled files; the first run is compared with the warm baseline`,
    ];
    return { name: "startup", figures, lines };
  } finally {
    cleanup();
    rmSync(cacheRoot, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await runStartupBench();
  for (const line of result.lines) console.log(line);
}
