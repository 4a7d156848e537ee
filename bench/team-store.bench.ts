// Per-request cost of the state backend: the same routed requests (faux target, no network) with the stores in
// memory, in files, and in the team store on a local redis-server; and how many Redis round trips each request
// makes, on the request path (while the request streams) and in all (the asynchronous writes after it).
// Run alone: node --import tsx bench/team-store.bench.ts
import { fauxAssistantMessage, registerFauxProvider, type Api, type Model } from "@mariozechner/pi-ai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { emptyCooldowns, cooldownStateSchema } from "../src/runtime/cooldown-book.ts";
import { emptyLatency, latencyStateSchema } from "../src/runtime/latency-book.ts";
import { openStateBackend, type StateBackend } from "../src/team/state-backend.ts";
import { resolveTeamSettings } from "../src/team/team-settings.ts";
import { redisAvailable, startRedisServer } from "../test/helpers/redis-server.ts";
import { BENCH_CONTEXT, buildRouter, timeRequest, yieldToEventLoop } from "./router-harness.ts";
import { formatMicroseconds, summarize, table, verdict, type BenchResult } from "./stats.ts";

const WARM_UP_REQUESTS = 200;
const MEASURED_REQUESTS = 1_000;
export const GOAL_REQUEST_PATH_ROUND_TRIPS = 1;
const OPTIONS = { apiKey: "auto-router-virtual" };

type Variant = { label: string; backend?: StateBackend };

export async function runTeamStoreBench(): Promise<BenchResult> {
  if (!redisAvailable()) return { name: "team-store", figures: {}, lines: ["  skipped: redis-server is not installed"] };
  const redis = await startRedisServer();
  const fileDir = mkdtempSync(join(tmpdir(), "pi-auto-router-bench-file-"));
  const teamDir = mkdtempSync(join(tmpdir(), "pi-auto-router-bench-team-"));
  const faux = registerFauxProvider({ api: "bench-team-faux", provider: "bench-team-faux", models: [{ id: "bench-model" }], tokenSize: { min: 3, max: 3 } });
  const warn = () => undefined;
  const fileBackend = openStateBackend({ settings: { backend: "file", machine: "bench" }, stateDir: fileDir, onWarning: warn, warn });
  const teamBackend = openStateBackend({ settings: resolveTeamSettings({ backend: "redis", url: redis.url, keyPrefix: "bench:" }, {}).settings, stateDir: teamDir, onWarning: warn, warn });
  try {
    await teamBackend.ready();
    const model = faux.getModel() as Model<Api>;
    const variants: Variant[] = [{ label: "memory stores" }, { label: "file store", backend: fileBackend }, { label: "redis team store", backend: teamBackend }];
    const rows: string[][] = [];
    const figures: Record<string, number> = {};
    let baseline = 0;
    for (const variant of variants) {
      const router = buildRouter({
        routeId: "bench",
        targets: [model],
        cooldownStore: variant.backend?.open("cooldowns", emptyCooldowns, (raw) => cooldownStateSchema.parse(raw)),
        latencyStore: variant.backend?.open("latency", emptyLatency, (raw) => latencyStateSchema.parse(raw)),
      });
      const roundTrips = () => variant.backend?.describe(Date.now()).roundTrips ?? 0;
      const totals: number[] = [];
      let onPath = 0;
      let maxOnPath = 0;
      const startTrips = roundTrips();
      for (let index = 0; index < WARM_UP_REQUESTS + MEASURED_REQUESTS; index++) {
        faux.appendResponses([fauxAssistantMessage("Hello from the bench target.")]);
        const before = roundTrips();
        const timing = await timeRequest(router.stream, router.routerModel, BENCH_CONTEXT, OPTIONS);
        const during = roundTrips() - before;
        if (timing.stopReason !== "stop") throw new Error(`bench request failed: ${timing.stopReason}`);
        if (index >= WARM_UP_REQUESTS) {
          totals.push(timing.totalUs);
          onPath += during;
          maxOnPath = Math.max(maxOnPath, during);
        }
        await yieldToEventLoop();
      }
      const total = summarize(totals);
      if (!variant.backend) baseline = total.p50;
      const requests = WARM_UP_REQUESTS + MEASURED_REQUESTS;
      const allTrips = (roundTrips() - startTrips) / requests;
      const key = variant.label.split(" ")[0]!;
      Object.assign(figures, { [`${key}TotalP50Us`]: total.p50, [`${key}TotalP99Us`]: total.p99, [`${key}RequestPathRoundTripsMax`]: maxOnPath, [`${key}RoundTripsPerRequest`]: allTrips });
      rows.push([
        variant.label, formatMicroseconds(total.p50), formatMicroseconds(total.p99), variant.backend ? `+${formatMicroseconds(total.p50 - baseline)}` : "baseline",
        String(onPath / MEASURED_REQUESTS), String(maxOnPath), allTrips.toFixed(2),
        variant.backend?.settings.backend === "redis" ? verdict(maxOnPath <= GOAL_REQUEST_PATH_ROUND_TRIPS) : "",
      ]);
    }
    const lines = table(["stores", "p50/request", "p99/request", "vs memory", "RTT on path (mean)", "RTT on path (max)", "RTT in all/request", `goal <= ${GOAL_REQUEST_PATH_ROUND_TRIPS} on path`], rows).map((line) => `  ${line}`);
    lines.push("  RTT in all: the asynchronous compare-and-set writes (batched) and change reads, counted per request");
    return { name: "team-store", figures, lines };
  } finally {
    faux.unregister?.();
    await Promise.allSettled([fileBackend.close(), teamBackend.close()]);
    await redis.stop();
    rmSync(fileDir, { recursive: true, force: true });
    rmSync(teamDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await runTeamStoreBench();
  for (const line of result.lines) console.log(line);
}
