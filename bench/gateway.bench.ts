// The gateway's speed: the REAL `pi-auto-router serve` process (the shipped bin -> dist/gateway.mjs, file stores
// and event log on, default plugins) in front of the local Anthropic streaming emulator, against calling the
// emulator directly, in the same run and interleaved request by request. The same node:http client drives both
// sides (and the peer gateway, when it can be installed), on the Anthropic Messages protocol. A bare byte-forwarding
// node:http proxy (gateway-floor-proxy.mjs) runs beside them: the floor any Node gateway starts from on this machine.
//   GATEWAY_BENCH_REQUESTS   1-client requests per side (default 300), measured twice: on fresh processes, and
//                            after every side has served GATEWAY_BENCH_WARM_SECONDS (default 2) of load
//   GATEWAY_BENCH_SECONDS    seconds per throughput phase (default 3; two phases per side)
//   GATEWAY_BENCH_PEER=0     skip the peer gateway
//   GATEWAY_BENCH_NODE_ARGS  node options for the gateway process only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
//                            (a profile is written when the bench stops the gateway)
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { makeAgentDir, REPO_ROOT } from "../test/helpers/agent-dir.ts";
import { startAnthropicEmulator } from "../test/helpers/anthropic-emulator.ts";
import { startGatewayProcess, type GatewayProcess } from "../test/helpers/gateway-process.ts";
import type { Emulator } from "../test/helpers/sse-emulator-core.ts";
import {
  closedLoopLoad,
  makeAgent,
  processCpuSeconds,
  processMemory,
  streamOnce,
  threadCpuSeconds,
  type StreamTarget,
  type StreamTiming,
} from "./gateway-load.ts";
import { installPeer, PEER_PACKAGE, PEER_VERSION, startPeer, type PeerGateway } from "./gateway-peer.ts";
import { formatMicroseconds, formatRate, formatRatio, summarize, table, verdict, type BenchResult } from "./stats.ts";

export const GOAL_GATEWAY_ADDED_P50_US = 1_000;
export const GOAL_GATEWAY_ADDED_P99_US = 3_000;
export const GOAL_GATEWAY_THROUGHPUT_RATIO = 0.8;
const LOAD_CLIENTS = 64;
const EMULATOR_KEY = "sk-ant-bench-emulator-key";
const FLOOR = "bare node:http proxy";
const WARMUP_REQUESTS = 30;
/** Clients of the load each side serves between the fresh and the warm latency measurement. */
const WARM_CLIENTS = 8;
/** Twelve text deltas per answer: a short but real streamed reply. */
const REPLY_TEXT = "The quick brown fox jumps over the lazy dog and runs far away again.";
const LONG_REPLY_WORDS = 200;
const LONG_REPLY_TEXT = Array.from({ length: LONG_REPLY_WORDS }, (_, index) => `word${index}`).join(" ");

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

async function startSides(
  emulator: Emulator,
): Promise<{ gateway: GatewayProcess; cleanup: () => void; direct: StreamTarget; routed: StreamTarget }> {
  const dir = makeAgentDir({
    providers: {
      emulator: {
        baseUrl: emulator.url,
        api: "anthropic-messages",
        apiKey: EMULATOR_KEY,
        models: [{ id: "emulated-claude" }],
      },
    },
    routes: {
      routes: { bench: { targets: [{ provider: "emulator", modelId: "emulated-claude" }] } },
      gateway: { maxConcurrentRequests: 256 },
    },
  });
  const nodeArgs = process.env.GATEWAY_BENCH_NODE_ARGS?.split(" ").filter(Boolean);
  const gateway = await startGatewayProcess({
    agentDir: dir.agentDir,
    env: { AUTO_ROUTER_LOG_DIR: undefined },
    nodeArgs,
  });
  return {
    gateway,
    cleanup: dir.cleanup,
    direct: { name: "direct", origin: emulator.url, model: "emulated-claude", apiKey: EMULATOR_KEY },
    routed: { name: "pi-auto-router", origin: gateway.url, model: "auto-router/bench", apiKey: gateway.token },
  };
}

/** The floor proxy as its own process (its CPU is measured like the gateway's). */
async function startFloor(emulator: Emulator): Promise<{ target: StreamTarget; pid: number; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, "bench", "gateway-floor-proxy.mjs"), emulator.url, EMULATOR_KEY],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let output = "";
  const origin = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      const match = /listening on (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the floor proxy exited with ${code} before listening`)));
  });
  return {
    target: { name: FLOOR, origin, model: "emulated-claude", apiKey: "unused" },
    pid: child.pid!,
    stop: () => child.kill("SIGTERM"),
  };
}

async function tryPeer(emulator: Emulator, lines: string[]): Promise<PeerGateway | undefined> {
  if (process.env.GATEWAY_BENCH_PEER === "0") {
    lines.push(`  peer ${PEER_PACKAGE}: skipped (GATEWAY_BENCH_PEER=0)`);
    return undefined;
  }
  const installed = installPeer();
  if (!installed.ok) {
    lines.push(
      `  peer ${PEER_PACKAGE}@${PEER_VERSION}: skipped, not installable here (registry unreachable?): ${installed.reason}`,
    );
    return undefined;
  }
  try {
    return await startPeer(emulator.url);
  } catch (error) {
    lines.push(
      `  peer ${PEER_PACKAGE}@${PEER_VERSION}: skipped, it did not start offline: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
}

/**
 * A request the size of Claude Code's (~100 KB): a long system prompt, 20 tools with JSON schemas, 60 turns of history.
 * A gateway that parses and re-serialises bodies pays for their size on every request.
 */
export function claudeCodeSizedBody(): Record<string, unknown> {
  const tools = Array.from({ length: 20 }, (_, index) => ({
    name: `tool_${index}`,
    description: `Runs step ${index} of the task. `.repeat(40),
    input_schema: {
      type: "object",
      properties: { path: { type: "string", description: "The file to work on. ".repeat(10) } },
      required: ["path"],
    },
  }));
  const history = Array.from({ length: 60 }, (_, index) =>
    index % 2 === 0
      ? { role: "user", content: [{ type: "text", text: `Look at src/file-${index}.ts and explain it. `.repeat(20) }] }
      : {
          role: "assistant",
          content: [{ type: "text", text: "Here is what that file does, line by line. ".repeat(30) }],
        },
  );
  return {
    system: [{ type: "text", text: "You are a coding agent working in a repository. ".repeat(200) }],
    tools,
    messages: [...history, { role: "user", content: "Say hello" }],
  };
}

/** 1 client, one request per side per round, the order rotating each round so no side always goes first. */
async function interleavedLatency(
  targets: StreamTarget[],
  rounds: number,
  extra?: Record<string, unknown>,
): Promise<Map<string, StreamTiming[]>> {
  const agents = new Map(targets.map((target) => [target.name, makeAgent(1)]));
  const samples = new Map<string, StreamTiming[]>(targets.map((target) => [target.name, []]));
  for (let round = 0; round < WARMUP_REQUESTS + rounds; round++) {
    for (let offset = 0; offset < targets.length; offset++) {
      const target = targets[(round + offset) % targets.length]!;
      const timing = await streamOnce(target, agents.get(target.name)!, undefined, extra);
      if (round >= WARMUP_REQUESTS) samples.get(target.name)!.push(timing);
    }
  }
  for (const agent of agents.values()) agent.destroy();
  return samples;
}

const LATENCY_COLUMNS = [
  "side",
  "TTFT p50",
  "TTFT p99",
  "total p50",
  "total p99",
  "added TTFT p50",
  "added TTFT p99",
  "added total p50",
  "added total p99",
  "TTFT / total p50 vs direct",
];

interface AddedLatency {
  ttftP50: number;
  ttftP99: number;
  totalP50: number;
  totalP99: number;
}

/** One table row per side, and what each side adds to calling the emulator directly. */
function latencyRows(samples: Map<string, StreamTiming[]>): { rows: string[][]; added: Map<string, AddedLatency> } {
  const base = {
    ttft: summarize(samples.get("direct")!.map((s) => s.ttftUs)),
    total: summarize(samples.get("direct")!.map((s) => s.totalUs)),
  };
  const rows: string[][] = [];
  const added = new Map<string, AddedLatency>();
  for (const [name, list] of samples) {
    const ttft = summarize(list.map((s) => s.ttftUs));
    const total = summarize(list.map((s) => s.totalUs));
    const side = {
      ttftP50: ttft.p50 - base.ttft.p50,
      ttftP99: ttft.p99 - base.ttft.p99,
      totalP50: total.p50 - base.total.p50,
      totalP99: total.p99 - base.total.p99,
    };
    if (name !== "direct") added.set(name, side);
    rows.push([
      name,
      formatMicroseconds(ttft.p50),
      formatMicroseconds(ttft.p99),
      formatMicroseconds(total.p50),
      formatMicroseconds(total.p99),
      ...(name === "direct"
        ? ["-", "-", "-", "-", "-"]
        : [
            ...[side.ttftP50, side.ttftP99, side.totalP50, side.totalP99].map(formatMicroseconds),
            `${formatRatio(ttft.p50 / base.ttft.p50)} / ${formatRatio(total.p50 / base.total.p50)}`,
          ]),
    ]);
  }
  return { rows, added };
}

export async function runGatewayBench(): Promise<BenchResult> {
  if (!existsSync(join(REPO_ROOT, "dist", "gateway.mjs")))
    throw new Error("dist/gateway.mjs is missing: run `npm run build` first");
  const rounds = envNumber("GATEWAY_BENCH_REQUESTS", 300);
  const phaseMs = envNumber("GATEWAY_BENCH_SECONDS", 3) * 1000;
  const warmMs = envNumber("GATEWAY_BENCH_WARM_SECONDS", 2) * 1000;
  const emulator = await startAnthropicEmulator({ name: "bench" });
  emulator.setDefault({ text: REPLY_TEXT, usage: { input: 12, output: 14 } });
  const lines: string[] = [
    "  client: node:http keep-alive agent, Anthropic Messages protocol, stream:true, 14 SSE text deltas per answer; loopback",
  ];
  const figures: Record<string, number> = {};
  const { gateway, cleanup, direct, routed } = await startSides(emulator);
  const floor = await startFloor(emulator);
  const peer = await tryPeer(emulator, lines);
  try {
    const pid = gateway.child.pid!;
    const idle = processMemory(pid);
    const peerTarget: StreamTarget | undefined = peer && {
      name: peer.label,
      origin: peer.origin,
      model: "claude-sonnet-4-5",
      apiKey: peer.apiKey,
    };
    const latencySides = [direct, routed, floor.target, ...(peerTarget ? [peerTarget] : [])];
    // First on fresh processes: a new gateway's code still runs in V8's first tiers (interpreter, baseline).
    const fresh = latencyRows(await interleavedLatency(latencySides, rounds));
    // Then as a gateway that has been running: every side serves a short load first, so the optimising compiler has
    // seen its hot code (the floor and the peer alike). The goals are read on these figures.
    let warmRequests = 0;
    for (const side of latencySides) {
      const warmed = await closedLoopLoad(side, WARM_CLIENTS, warmMs);
      if (side === routed) warmRequests = warmed.completed;
    }
    const warm = latencyRows(await interleavedLatency(latencySides, rounds));
    const routedAdded = warm.added.get(routed.name)!;
    Object.assign(figures, {
      gatewayAddedTtftP50Us: routedAdded.ttftP50,
      gatewayAddedTtftP99Us: routedAdded.ttftP99,
      gatewayAddedTotalP50Us: routedAdded.totalP50,
      gatewayAddedTotalP99Us: routedAdded.totalP99,
      gatewayFreshAddedTtftP50Us: fresh.added.get(routed.name)!.ttftP50,
      gatewayFreshAddedTtftP99Us: fresh.added.get(routed.name)!.ttftP99,
      floorAddedTtftP50Us: warm.added.get(FLOOR)!.ttftP50,
      floorAddedTtftP99Us: warm.added.get(FLOOR)!.ttftP99,
    });
    if (peerTarget)
      Object.assign(figures, {
        peerAddedTtftP50Us: warm.added.get(peerTarget.name)!.ttftP50,
        peerAddedTtftP99Us: warm.added.get(peerTarget.name)!.ttftP99,
        peerFreshAddedTtftP50Us: fresh.added.get(peerTarget.name)!.ttftP50,
      });
    lines.push(
      `  1 client, ${rounds} streamed requests per side (after ${WARMUP_REQUESTS} warm-up), interleaved, once every side has served ${warmMs / 1000} s of ${WARM_CLIENTS}-client load (the gateway: ${warmRequests} requests):`,
    );
    lines.push(...table(LATENCY_COLUMNS, warm.rows).map((line) => `    ${line}`));
    lines.push(
      `    goal (pi-auto-router): added <= ${formatMicroseconds(GOAL_GATEWAY_ADDED_P50_US)} p50 ${verdict(figures.gatewayAddedTtftP50Us! <= GOAL_GATEWAY_ADDED_P50_US)}, <= ${formatMicroseconds(GOAL_GATEWAY_ADDED_P99_US)} p99 ${verdict(figures.gatewayAddedTtftP99Us! <= GOAL_GATEWAY_ADDED_P99_US)} (TTFT)`,
    );
    lines.push(
      `  the same on fresh processes, measured first (each side's first ${WARMUP_REQUESTS + rounds} requests; an extra figure):`,
    );
    lines.push(...table(LATENCY_COLUMNS, fresh.rows).map((line) => `    ${line}`));

    // The same with a Claude Code-sized body: what a gateway's body handling costs (the peer is left out).
    const extra = claudeCodeSizedBody();
    const bigRounds = Math.max(20, Math.round(rounds / 2));
    const big = await interleavedLatency([direct, routed, floor.target], bigRounds, extra);
    const bigBase = summarize(big.get("direct")!.map((s) => s.ttftUs));
    const bigRows = [...big].map(([name, list]) => {
      const ttft = summarize(list.map((s) => s.ttftUs));
      if (name === routed.name)
        Object.assign(figures, {
          gatewayBigBodyAddedTtftP50Us: ttft.p50 - bigBase.p50,
          gatewayBigBodyAddedTtftP99Us: ttft.p99 - bigBase.p99,
        });
      return [
        name,
        formatMicroseconds(ttft.p50),
        formatMicroseconds(ttft.p99),
        name === "direct" ? "-" : formatMicroseconds(ttft.p50 - bigBase.p50),
        name === "direct" ? "-" : formatMicroseconds(ttft.p99 - bigBase.p99),
      ];
    });
    const bigKiB = (Buffer.byteLength(JSON.stringify({ model: routed.model, ...extra })) / 1024).toFixed(0);
    lines.push(
      `  1 client, a Claude Code-sized body (${bigKiB} KiB: system prompt, 20 tools, 60 turns), ${bigRounds} requests per side, interleaved:`,
    );
    lines.push(
      ...table(["side", "TTFT p50", "TTFT p99", "added TTFT p50", "added TTFT p99"], bigRows).map(
        (line) => `    ${line}`,
      ),
    );

    // Throughput: phases alternate direct / routed / floor so drift in the machine's load hits every side alike.
    const sides = { direct, routed, floor: floor.target } as const;
    type Side = keyof typeof sides;
    let peakSampled = idle?.rssMiB ?? Number.NaN;
    const sample = () => {
      const now = processMemory(pid);
      if (now) peakSampled = Math.max(peakSampled, now.rssMiB);
    };
    const errors: string[] = [];
    const load = async (replyText: string) => {
      emulator.setDefault({ text: replyText, usage: { input: 12, output: replyText.split(" ").length } });
      const totals = Object.fromEntries(
        Object.keys(sides).map((side) => [side, { completed: 0, failed: 0, seconds: 0 }]),
      ) as Record<Side, { completed: number; failed: number; seconds: number }>;
      const cpu = { gateway: { main: 0, others: 0 }, floor: 0 };
      for (const side of ["direct", "routed", "floor", "direct", "routed", "floor"] as const) {
        const gatewayBefore = threadCpuSeconds(pid);
        const floorBefore = processCpuSeconds(floor.pid);
        const result = await closedLoopLoad(sides[side], LOAD_CLIENTS, phaseMs, side === "routed" ? sample : undefined);
        const gatewayAfter = threadCpuSeconds(pid);
        const floorAfter = processCpuSeconds(floor.pid);
        if (side === "routed" && gatewayBefore && gatewayAfter) {
          cpu.gateway.main += gatewayAfter.main - gatewayBefore.main;
          cpu.gateway.others += gatewayAfter.others - gatewayBefore.others;
        }
        if (side === "floor" && floorBefore !== undefined && floorAfter !== undefined)
          cpu.floor += floorAfter - floorBefore;
        totals[side].completed += result.completed;
        totals[side].failed += result.failed;
        totals[side].seconds += result.seconds;
        if (result.firstError) errors.push(`${side}: ${result.firstError}`);
      }
      const rate = (side: Side) => totals[side].completed / totals[side].seconds;
      // CPU per request depends far less on the machine's load than the rates do: the gateway's own cost.
      const perRequest = (seconds: number, side: Side) => (seconds / totals[side].completed) * 1e6;
      return {
        totals,
        rate,
        routedRatio: rate("routed") / rate("direct"),
        floorRatio: rate("floor") / rate("direct"),
        gatewayCpuUs: perRequest(cpu.gateway.main + cpu.gateway.others, "routed"),
        gatewayMainCpuUs: perRequest(cpu.gateway.main, "routed"),
        gatewayOthersCpuUs: perRequest(cpu.gateway.others, "routed"),
        floorCpuUs: perRequest(cpu.floor, "floor"),
      };
    };
    const short = await load(REPLY_TEXT);
    const { totals, rate } = short;
    figures.gatewayThroughputRatio = short.routedRatio;
    figures.floorThroughputRatio = short.floorRatio;
    lines.push(`  ${LOAD_CLIENTS} concurrent streaming clients, 2 x ${phaseMs / 1000} s per side, alternating:`);
    lines.push(
      `    direct ${formatRate(rate("direct"))} (${totals.direct.failed} failed), routed ${formatRate(rate("routed"))} (${totals.routed.failed} failed): ratio ${formatRatio(figures.gatewayThroughputRatio)}, goal >= ${GOAL_GATEWAY_THROUGHPUT_RATIO}x ${verdict(figures.gatewayThroughputRatio >= GOAL_GATEWAY_THROUGHPUT_RATIO)}`,
    );
    lines.push(
      `    ${FLOOR} ${formatRate(rate("floor"))} (${totals.floor.failed} failed): ratio ${formatRatio(figures.floorThroughputRatio)}`,
    );
    if (Number.isFinite(short.gatewayCpuUs) && short.gatewayCpuUs > 0) {
      Object.assign(figures, {
        gatewayCpuPerRequestUs: short.gatewayCpuUs,
        gatewayMainThreadCpuPerRequestUs: short.gatewayMainCpuUs,
        floorCpuPerRequestUs: short.floorCpuUs,
      });
      lines.push(
        `    gateway process CPU per routed request under this load: ${formatMicroseconds(short.gatewayCpuUs)} (user + system, /proc): main thread ${formatMicroseconds(short.gatewayMainCpuUs)}, other threads (V8's garbage-collection helpers, libuv's pool) ${formatMicroseconds(short.gatewayOthersCpuUs)}`,
      );
      lines.push(`    ${FLOOR} CPU per request: ${formatMicroseconds(short.floorCpuUs)}`);
    }
    // A coding agent's answers are longer: the cost per streamed event, besides the cost per request.
    const long = await load(LONG_REPLY_TEXT);
    Object.assign(figures, {
      gatewayLongAnswerThroughputRatio: long.routedRatio,
      floorLongAnswerThroughputRatio: long.floorRatio,
      gatewayLongAnswerCpuPerRequestUs: long.gatewayCpuUs,
    });
    lines.push(
      `  the same with a ${LONG_REPLY_WORDS}-delta answer (an extra figure; the goal is read on the ${REPLY_TEXT.split(" ").length}-delta one above):`,
    );
    lines.push(
      `    direct ${formatRate(long.rate("direct"))} (${long.totals.direct.failed} failed), routed ${formatRate(long.rate("routed"))} (${long.totals.routed.failed} failed): ratio ${formatRatio(long.routedRatio)}; ${FLOOR} ratio ${formatRatio(long.floorRatio)}`,
    );
    lines.push(
      `    gateway process CPU per routed request: ${formatMicroseconds(long.gatewayCpuUs)}; ${FLOOR}: ${formatMicroseconds(long.floorCpuUs)}`,
    );
    const after = processMemory(pid);
    for (const error of errors) lines.push(`    first error, ${error}`);
    if (idle && after) {
      Object.assign(figures, {
        gatewayRssIdleMiB: idle.rssMiB,
        gatewayRssPeakMiB: Math.max(peakSampled, after.peakMiB),
      });
      lines.push(
        `  gateway RSS: idle ${idle.rssMiB.toFixed(1)} MiB, peak under the ${LOAD_CLIENTS}-client load ${Math.max(peakSampled, after.peakMiB).toFixed(1)} MiB (VmHWM), after ${after.rssMiB.toFixed(1)} MiB`,
      );
    } else {
      lines.push("  gateway RSS: not measured (no /proc on this system)");
    }
  } finally {
    await peer?.stop();
    floor.stop();
    await gateway.stop();
    await emulator.close();
    cleanup();
  }
  return { name: "gateway", figures, lines };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runGatewayBench();
  for (const line of result.lines) console.log(line);
}
