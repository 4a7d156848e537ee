// Per-request cost of the state backend: the same routed requests (faux target, no network) with the stores in
// memory, in files, and in the team store on a local redis-server, each with the budget feature counting spend;
// the last variant adds a HARD budget, whose check-and-reserve is the one Redis round trip a request waits for.
// Counted per request: round trips the request waited for (the reservation), every command sent while it ran
// (the spend record goes out at once but is not waited for), and in all, cross-checked with redis-server's own
// INFO commandstats.
// Run alone: node --import tsx bench/team-store.bench.ts
import { fauxAssistantMessage, registerFauxProvider, type Api, type Model } from "@mariozechner/pi-ai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createBudgetPlugin } from "../src/budget/budget-plugin.ts";
import type { RouterConfig } from "../src/config/schema.ts";
import type { RouterPlugin } from "../src/runtime/plugin.ts";
import type { RouterRuntime } from "../src/runtime/router-runtime.ts";
import { createMemoryStore } from "../src/state/memory-store.ts";
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

type Variant = { label: string; key: string; backend?: StateBackend; hardBudget?: boolean };

/** The budget plugin as the engine makes it, on `backend`'s stores; counts the reservations a request waits for. */
function budgetPlugins(backend: StateBackend | undefined, stateDir: string, counter: { awaited: number }) {
  return (parts: { config: () => RouterConfig; runtime: () => RouterRuntime }): RouterPlugin[] => {
    const plugin = createBudgetPlugin({
      stateDir,
      config: parts.config,
      registry: () => parts.runtime().registry(),
      openStore: (name, defaults, parse, salvage) =>
        backend ? backend.open(name, defaults, parse, salvage) : createMemoryStore(defaults()),
      record: () => undefined,
      claim: (name, ttlMs) => (backend ? backend.claim(name, ttlMs) : Promise.resolve(true)),
      warn: () => undefined,
      processEnv: {},
      now: () => Date.now(),
    });
    const reserve = plugin.reserveAttempt!.bind(plugin);
    plugin.reserveAttempt = (attempt) => {
      const answer = reserve(attempt);
      if (answer instanceof Promise) counter.awaited++;
      return answer;
    };
    return [plugin];
  };
}

/** Commands redis-server has run so far (INFO commandstats), for the cross-check of the client's count. */
function serverCommands(cli: (...args: string[]) => string): number {
  let calls = 0;
  for (const match of cli("INFO", "commandstats").matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    if (!["info", "subscribe", "ping", "client", "hello", "select", "auth"].includes(match[1]!))
      calls += Number(match[2]);
  }
  return calls;
}

export async function runTeamStoreBench(): Promise<BenchResult> {
  if (!redisAvailable())
    return { name: "team-store", figures: {}, lines: ["  skipped: redis-server is not installed"] };
  const redis = await startRedisServer();
  const fileDir = mkdtempSync(join(tmpdir(), "pi-auto-router-bench-file-"));
  const teamDir = mkdtempSync(join(tmpdir(), "pi-auto-router-bench-team-"));
  const faux = registerFauxProvider({
    api: "bench-team-faux",
    provider: "bench-team-faux",
    models: [{ id: "bench-model" }],
    tokenSize: { min: 3, max: 3 },
  });
  const warn = () => undefined;
  const fileBackend = openStateBackend({
    settings: { backend: "file", machine: "bench" },
    stateDir: fileDir,
    onWarning: warn,
    warn,
  });
  const teamBackend = openStateBackend({
    settings: resolveTeamSettings({ backend: "redis", url: redis.url, keyPrefix: "bench:" }, {}).settings,
    stateDir: teamDir,
    onWarning: warn,
    warn,
  });
  const hardDir = mkdtempSync(join(tmpdir(), "pi-auto-router-bench-hard-"));
  const hardBackend = openStateBackend({
    settings: resolveTeamSettings({ backend: "redis", url: redis.url, keyPrefix: "bench-hard:" }, {}).settings,
    stateDir: hardDir,
    onWarning: warn,
    warn,
  });
  try {
    await Promise.all([teamBackend.ready(), hardBackend.ready()]);
    const model = faux.getModel() as Model<Api>;
    const variants: Variant[] = [
      { label: "memory stores", key: "memory" },
      { label: "file store", key: "file", backend: fileBackend },
      { label: "redis team store", key: "redis", backend: teamBackend },
      { label: "redis + hard budget", key: "redisHard", backend: hardBackend, hardBudget: true },
    ];
    const rows: string[][] = [];
    const figures: Record<string, number> = {};
    let baseline = 0;
    for (const variant of variants) {
      const counter = { awaited: 0 };
      const router = buildRouter({
        routeId: "bench",
        targets: [model],
        // A limit never reached: every request pays the reservation, none is refused.
        config: variant.hardBudget
          ? { budgets: { policy: "hard", providers: { [model.provider]: { daily: 1_000_000 } } } }
          : undefined,
        plugins: budgetPlugins(variant.backend, fileDir, counter),
        cooldownStore: variant.backend?.open("cooldowns", emptyCooldowns, (raw) => cooldownStateSchema.parse(raw)),
        latencyStore: variant.backend?.open("latency", emptyLatency, (raw) => latencyStateSchema.parse(raw)),
      });
      const roundTrips = () => variant.backend?.describe(Date.now()).roundTrips ?? 0;
      const totals: number[] = [];
      let onPath = 0;
      let maxOnPath = 0;
      let awaited = 0;
      let maxAwaited = 0;
      const startTrips = roundTrips();
      const startServer = variant.backend?.settings.backend === "redis" ? serverCommands(redis.cli) : 0;
      for (let index = 0; index < WARM_UP_REQUESTS + MEASURED_REQUESTS; index++) {
        faux.appendResponses([fauxAssistantMessage("Hello from the bench target.")]);
        const before = roundTrips();
        const awaitedBefore = counter.awaited;
        const timing = await timeRequest(router.stream, router.routerModel, BENCH_CONTEXT, OPTIONS);
        const during = roundTrips() - before;
        const waited = counter.awaited - awaitedBefore;
        if (timing.stopReason !== "stop") throw new Error(`bench request failed: ${timing.stopReason}`);
        if (index >= WARM_UP_REQUESTS) {
          totals.push(timing.totalUs);
          onPath += during;
          maxOnPath = Math.max(maxOnPath, during);
          awaited += waited;
          maxAwaited = Math.max(maxAwaited, waited);
        }
        await yieldToEventLoop();
      }
      const total = summarize(totals);
      if (!variant.backend) baseline = total.p50;
      const requests = WARM_UP_REQUESTS + MEASURED_REQUESTS;
      const allTrips = (roundTrips() - startTrips) / requests;
      const serverPerRequest =
        variant.backend?.settings.backend === "redis" ? (serverCommands(redis.cli) - startServer) / requests : 0;
      const key = variant.key;
      Object.assign(figures, {
        [`${key}TotalP50Us`]: total.p50,
        [`${key}TotalP99Us`]: total.p99,
        [`${key}AwaitedRoundTripsMax`]: maxAwaited,
        [`${key}SentDuringRequestMax`]: maxOnPath,
        [`${key}RoundTripsPerRequest`]: allTrips,
        [`${key}ServerCommandsPerRequest`]: serverPerRequest,
      });
      const ratio = baseline > 0 ? `${(total.p50 / baseline).toFixed(2)}x` : "";
      rows.push([
        variant.label,
        formatMicroseconds(total.p50),
        formatMicroseconds(total.p99),
        variant.backend ? `+${formatMicroseconds(total.p50 - baseline)} (${ratio})` : "baseline",
        `${(awaited / MEASURED_REQUESTS).toFixed(2)} / ${maxAwaited}`,
        `${(onPath / MEASURED_REQUESTS).toFixed(2)} / ${maxOnPath}`,
        allTrips.toFixed(2),
        variant.backend?.settings.backend === "redis" ? serverPerRequest.toFixed(2) : "",
        variant.backend?.settings.backend === "redis" ? verdict(maxAwaited <= GOAL_REQUEST_PATH_ROUND_TRIPS) : "",
      ]);
    }
    const lines = table(
      [
        "stores",
        "p50/request",
        "p99/request",
        "vs memory",
        "RTT waited (mean/max)",
        "RTT sent during (mean/max)",
        "RTT in all/request",
        "server cmds/request*",
        `goal <= ${GOAL_REQUEST_PATH_ROUND_TRIPS} waited`,
      ],
      rows,
    ).map((line) => `  ${line}`);
    lines.push(
      "  RTT waited: the hard budget's check-and-reserve; sent during: also the spend record issued at the end of the answer, not waited for",
    );
    lines.push("  RTT in all: those plus the compare-and-set writes of the other stores (batched) and change reads");
    lines.push(
      "  * INFO commandstats: every command redis-server ran, including those inside the scripts (HINCRBYFLOAT per field)",
    );
    return { name: "team-store", figures, lines };
  } finally {
    faux.unregister?.();
    await Promise.allSettled([fileBackend.close(), teamBackend.close(), hardBackend.close()]);
    await redis.stop();
    rmSync(fileDir, { recursive: true, force: true });
    rmSync(teamDir, { recursive: true, force: true });
    rmSync(hardDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await runTeamStoreBench();
  for (const line of result.lines) console.log(line);
}
