// Two promises of the issue checked by counting, not timing:
// 1. No synchronous disk write on the request path: node:fs's sync writers are wrapped while routed requests
//    (half of them failing over, so cooldowns are written too) run against the real file-backed stores.
// 2. The extension adds nothing to the system prompt: one SDK prompt through pi with and without the router, and
//    the system prompt the faux target received is compared.
import { fauxAssistantMessage, registerFauxProvider, type Api, type Model } from "@mariozechner/pi-ai";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEventLog } from "../src/state/event-log.ts";
import { openJsonStore } from "../src/state/json-store.ts";
import { stateFile } from "../src/state/state-paths.ts";
import { cooldownStateSchema, emptyCooldowns } from "../src/runtime/cooldown-book.ts";
import { emptyLatency, latencyStateSchema } from "../src/runtime/latency-book.ts";
import { countSyncWrites, SYNC_WRITERS } from "../test/helpers/request-cost-counters.ts";
import { createSdkHarness } from "../test/helpers/sdk-harness.ts";
import { BENCH_CONTEXT, buildRouter, timeRequest, yieldToEventLoop } from "./router-harness.ts";
import { table, verdict, type BenchResult } from "./stats.ts";

const MINIMUM_REQUESTS = 400;
/** Longer than the stores' and the log's flush delays (250 / 200 ms), so their flushes happen inside the window. */
const MINIMUM_WINDOW_MS = 1_200;
async function diskWriteCheck(): Promise<{ lines: string[]; figures: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), "pi-auto-router-bench-state-"));
  const failing = registerFauxProvider({ api: "bench-disk-a", provider: "bench-disk-a", models: [{ id: "model-a" }] });
  const healthy = registerFauxProvider({ api: "bench-disk-b", provider: "bench-disk-b", models: [{ id: "model-b" }] });
  const cooldownStore = openJsonStore({
    file: stateFile(dir, "cooldowns"),
    defaults: emptyCooldowns,
    parse: (raw) => cooldownStateSchema.parse(raw),
  });
  const latencyStore = openJsonStore({
    file: stateFile(dir, "latency"),
    defaults: emptyLatency,
    parse: (raw) => latencyStateSchema.parse(raw),
  });
  const events = openEventLog({ dir });
  // The clock jumps a minute per request so each 429 cooldown has expired by the next one: every other request
  // fails over and writes a cooldown, the rest are served by the first target and write latency.
  let clockOffsetMs = 0;
  const router = buildRouter({
    routeId: "bench-disk",
    targets: [failing.getModel() as Model<Api>, healthy.getModel() as Model<Api>],
    cooldownStore,
    latencyStore,
    events,
    now: () => Date.now() + clockOffsetMs,
  });
  let requests = 0;
  const counter = countSyncWrites();
  const { counts, firstCaller } = counter;
  // The counter must see a named ESM import too, or a 0 below would prove nothing.
  appendFileSync(join(dir, "probe.txt"), "probe");
  const probeSeen = counts.appendFileSync === 1;
  counter.reset();
  const startedAt = Date.now();
  try {
    while (requests < MINIMUM_REQUESTS || Date.now() - startedAt < MINIMUM_WINDOW_MS) {
      const failsOver = requests % 2 === 0;
      failing.appendResponses([
        failsOver
          ? fauxAssistantMessage([], { stopReason: "error", errorMessage: "429 Too Many Requests" })
          : fauxAssistantMessage("ok"),
      ]);
      if (failsOver) healthy.appendResponses([fauxAssistantMessage("served after failover")]);
      const result = await timeRequest(router.stream, router.routerModel, BENCH_CONTEXT, {
        apiKey: "auto-router-virtual",
      });
      if (result.stopReason !== "stop") throw new Error(`disk check request failed: ${result.stopReason}`);
      requests += 1;
      clockOffsetMs += 61_000;
      await yieldToEventLoop();
    }
  } finally {
    counter.stop();
  }
  const windowMs = Date.now() - startedAt;
  await Promise.all([cooldownStore.close(), latencyStore.close(), events.close()]);
  const loggedEvents = existsSync(events.path)
    ? readFileSync(events.path, "utf8").split("\n").filter(Boolean).length
    : 0;
  const cooldownFile = stateFile(dir, "cooldowns");
  const persistedCooldowns = existsSync(cooldownFile)
    ? Object.keys(JSON.parse(readFileSync(cooldownFile, "utf8") || "{}").entries ?? {}).length
    : 0;
  const latencyFile = stateFile(dir, "latency");
  const persistedLatency = existsSync(latencyFile)
    ? Object.keys(JSON.parse(readFileSync(latencyFile, "utf8") || "{}").targets ?? {}).length
    : 0;
  failing.unregister();
  healthy.unregister();
  rmSync(dir, { recursive: true, force: true });

  const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
  const lines = [
    `no synchronous disk write on the request path: ${requests} routed requests over ${windowMs} ms (half fail over), real file stores + event log`,
    ...table(
      ["figure", "count", "expected", "verdict"],
      [
        ["counter self-test: a probe appendFileSync was seen", probeSeen ? "1" : "0", "1", verdict(probeSeen)],
        ["sync fs writes during the requests", String(total), "0", verdict(total === 0)],
        ["event log lines on disk after close (async flushes)", String(loggedEvents), `> 0`, verdict(loggedEvents > 0)],
        [
          "cooldown entries in the cooldowns file after close",
          String(persistedCooldowns),
          "> 0",
          verdict(persistedCooldowns > 0),
        ],
        ["targets in the latency file after close", String(persistedLatency), "> 0", verdict(persistedLatency > 0)],
      ],
    ).map((line) => `  ${line}`),
    `  (counted: ${[...SYNC_WRITERS, "openSync with a write flag"].join(", ")})`,
    ...Object.entries(counts).map(([name, count]) => `  ${name} x${count}, first from: ${firstCaller[name]}`),
  ];
  return {
    lines,
    figures: {
      syncDiskWrites: total,
      syncWriteCounterWorks: probeSeen ? 1 : 0,
      diskCheckRequests: requests,
      loggedEvents,
    },
  };
}

/** The system prompt a faux target receives for one prompt, with or without the router in front of it. */
async function capturedSystemPrompt(withRouter: boolean): Promise<string> {
  const harness = await createSdkHarness({
    targets: [{ provider: "bench-prompt", models: [{ id: "model-p" }] }],
    routes: { routes: { main: { targets: [{ provider: "bench-prompt", modelId: "model-p" }] } } },
    extensionPaths: withRouter ? undefined : [],
  });
  try {
    let systemPrompt = "<target not called>";
    harness.faux("bench-prompt").setResponses([
      (context: { systemPrompt?: string }) => {
        systemPrompt = context.systemPrompt ?? "";
        return harness.fauxHelpers.fauxAssistantMessage("ok");
      },
    ]);
    await harness.setModel(withRouter ? "auto-router" : "bench-prompt", withRouter ? "main" : "model-p");
    await harness.prompt("Say hi");
    // Each harness has its own temporary cwd; that path is the only expected difference.
    return systemPrompt.split(harness.agentDir).join("<cwd>");
  } finally {
    await harness.dispose();
  }
}

async function systemPromptCheck(): Promise<{ lines: string[]; figures: Record<string, number> }> {
  const without = await capturedSystemPrompt(false);
  const routed = await capturedSystemPrompt(true);
  const equal = without === routed;
  const lines = [
    "the extension adds nothing to the system prompt: one SDK prompt to the same faux target, without and with the router",
    ...table(
      ["figure", "without router", "with router", "result", "verdict"],
      [
        [
          "system prompt the target received",
          `${without.length} chars`,
          `${routed.length} chars`,
          equal ? "equal" : "different",
          verdict(equal),
        ],
      ],
    ).map((line) => `  ${line}`),
  ];
  if (!equal) {
    const index = [...without].findIndex((character, position) => routed[position] !== character);
    lines.push(
      `  first difference at char ${index}: without "${without.slice(index, index + 60)}" / with "${routed.slice(index, index + 60)}"`,
    );
  }
  return { lines, figures: { systemPromptEqual: equal ? 1 : 0 } };
}

export async function runRequestPathChecks(): Promise<BenchResult> {
  const disk = await diskWriteCheck();
  const prompt = await systemPromptCheck();
  return {
    name: "request-path",
    figures: { ...disk.figures, ...prompt.figures },
    lines: [...disk.lines, "", ...prompt.lines],
  };
}
