// Memory soak: many prompts in ONE in-process pi session (faux targets, fast), with a failover every tenth prompt,
// the event log on (it rotates) and the transcript cleared between prompts so pi's own history does not grow.
// Prints RSS and heap (after GC) at start, middle and end, the process listener and handle counts, and fails only
// when growth is clearly unbounded (heap after GC more than doubles between the middle and the end).
//   node --import tsx reliability/soak.ts [--quick] [--size PROMPTS] [--seed N]
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { createSdkHarness } from "../test/helpers/sdk-harness.ts";
import { createRandom } from "./seeded-random.ts";
import { parseSuiteOptions } from "./suite-options.ts";
import { runSuiteMain, SuiteReport, type Row } from "./suite-report.ts";

const FULL_PROMPTS = 10_000;
const QUICK_PROMPTS = 1_000;
/** Prompts before the first measurement, so lazy initialisation (jiti, first stores) is not counted as growth. */
const WARM_UP_SHARE = 0.1;
const FAILOVER_EVERY = 10;
/** Heap after GC may grow up to this factor between the middle and the end before it counts as unbounded. */
const UNBOUNDED_GROWTH_FACTOR = 2;
const MEGABYTE = 1024 * 1024;

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

interface Sample {
  label: string;
  prompt: number;
  rssMb: number;
  heapMb: number;
  exitListeners: number;
  handles: number;
}

function sample(label: string, prompt: number): Sample {
  collectGarbage();
  collectGarbage();
  const memory = process.memoryUsage();
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.().length ?? -1;
  return {
    label,
    prompt,
    rssMb: memory.rss / MEGABYTE,
    heapMb: memory.heapUsed / MEGABYTE,
    exitListeners: process.listenerCount("exit"),
    handles,
  };
}

async function main(): Promise<number> {
  const options = parseSuiteOptions();
  const report = new SuiteReport("soak", options.seed);
  const promptCount = options.size ?? (options.quick ? QUICK_PROMPTS : FULL_PROMPTS);
  const random = createRandom(options.seed);
  const h = await createSdkHarness({
    targets: [
      { provider: "soak-a", models: [{ id: "model-a" }] },
      { provider: "soak-b", models: [{ id: "model-b" }] },
    ],
    routes: {
      routes: {
        soak: {
          sortBy: "config",
          targets: [
            { provider: "soak-a", modelId: "model-a" },
            { provider: "soak-b", modelId: "model-b" },
          ],
          failover: { kinds: { server: { cooldownMs: 1 } } },
        },
      },
    },
  });
  const { fauxAssistantMessage } = h.fauxHelpers;
  await h.setModel("auto-router", "soak");
  const warmUp = Math.max(1, Math.floor(promptCount * WARM_UP_SHARE));
  const middle = Math.floor((warmUp + promptCount) / 2);
  const samples: Sample[] = [sample("before", 0)];
  let served = 0;
  let failovers = 0;
  let startedOnPreviousTarget = 0;
  const startedAt = Date.now();
  for (let index = 1; index <= promptCount; index++) {
    h.session.agent?.reset?.();
    h.session.sessionManager?.newSession?.();
    h.events.length = 0; // the harness keeps every session event for assertions; a soak must not
    const failFirst = index % FAILOVER_EVERY === 0;
    const words = `answer ${index} ${"word ".repeat(random.integer(1, 20)).trim()}`;
    // Both targets can answer every prompt, so a prompt that starts on the wrong target still shows up as such
    // (counted below) instead of as a missing faux response.
    h.faux("soak-a").setResponses([
      failFirst
        ? fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" })
        : fauxAssistantMessage(words),
    ]);
    h.faux("soak-b").setResponses([fauxAssistantMessage(words)]);
    await h.prompt(`soak prompt ${index}`);
    // Faux targets answer on microtasks only; without one timer turn between prompts Node never reaches its timer and
    // I/O phases, so the stores' and the event log's background flushes could not run and their buffers would grow.
    // A real user (and a real provider's network I/O) always gives the loop that turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const last = h.lastAssistant();
    const text = (last?.content ?? [])
      .filter((block: any) => block.type === "text")
      .map((block: any) => block.text)
      .join("");
    if (last?.stopReason === "stop" && text === words) served += 1;
    if (failFirst && last?.provider === "soak-b") failovers += 1;
    if (!failFirst && last?.provider === "soak-b") startedOnPreviousTarget += 1;
    if (index === warmUp) samples.push(sample("start (after warm-up)", index));
    if (index === middle) samples.push(sample("middle", index));
  }
  samples.push(sample("end", promptCount));
  const elapsedMs = Date.now() - startedAt;
  await h.dispose();
  samples.push(sample("after dispose", promptCount));

  report.table(
    "Memory (after GC)",
    samples.map(
      (entry): Row => ({
        point: entry.label,
        prompt: entry.prompt,
        "rss MB": Number(entry.rssMb.toFixed(1)),
        "heap MB": Number(entry.heapMb.toFixed(1)),
        "exit listeners": entry.exitListeners,
        "active handles": entry.handles,
      }),
    ),
  );
  const byLabel = (label: string) => samples.find((entry) => entry.label === label)!;
  const growth = byLabel("end").heapMb / byLabel("middle").heapMb;
  report.table("Figures", [
    { figure: "prompts", value: promptCount },
    { figure: "served with the scripted text", value: served },
    { figure: "failovers (every tenth prompt)", value: `${failovers} of ${Math.floor(promptCount / FAILOVER_EVERY)}` },
    {
      figure: "prompts served by soak-b though soak-a was healthy (stickiness kept from the previous prompt)",
      value: startedOnPreviousTarget,
    },
    { figure: "prompts per second", value: ((promptCount * 1000) / elapsedMs).toFixed(0) },
    { figure: "heap after GC, end / middle", value: growth.toFixed(2) },
    {
      figure: "rss start -> end (MB)",
      value: `${byLabel("start (after warm-up)").rssMb.toFixed(1)} -> ${byLabel("end").rssMb.toFixed(1)}`,
    },
  ]);
  report.check("every prompt served with its scripted text", served === promptCount, `${served}/${promptCount}`);
  report.check(
    "every planned failover went to the second target",
    failovers === Math.floor(promptCount / FAILOVER_EVERY),
    `${failovers}`,
  );
  report.check(
    `heap after GC grows less than ${UNBOUNDED_GROWTH_FACTOR}x between middle and end`,
    growth < UNBOUNDED_GROWTH_FACTOR,
    growth.toFixed(2),
  );
  report.check(
    "process exit listeners do not grow with prompts",
    byLabel("end").exitListeners === byLabel("start (after warm-up)").exitListeners,
    `${byLabel("start (after warm-up)").exitListeners} -> ${byLabel("end").exitListeners}`,
  );
  return report.finish();
}

runSuiteMain(main);
