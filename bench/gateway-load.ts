// The streaming client the gateway bench drives both sides with (the gateway, the peer gateway and the emulator
// directly): plain node:http with a keep-alive agent, so the client's own cost is small and identical on every
// side. One request posts an Anthropic Messages body with stream:true and times the first text delta (TTFT) and
// the end of the stream; it only counts when the stream carried its terminal `message_stop` event.
import { Agent, request } from "node:http";
import { readdirSync, readFileSync } from "node:fs";
import { nowMicroseconds } from "./stats.ts";

export interface StreamTarget {
  name: string;
  /** Origin, e.g. http://127.0.0.1:PORT; the client posts to <origin>/v1/messages. */
  origin: string;
  model: string;
  apiKey: string;
}

export interface StreamTiming {
  ttftUs: number;
  totalUs: number;
}

const FIRST_TEXT_MARKER = "content_block_delta";
const TERMINAL_MARKER = "message_stop";

export function makeAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

/**
 * One streaming request; rejects on a non-200 answer or a stream without its terminal event. `extra`: more of a
 * request body (a long history, tools, a system prompt), over the one-prompt default.
 */
export function streamOnce(
  target: StreamTarget,
  agent: Agent,
  prompt = "Say hello",
  extra: Record<string, unknown> = {},
): Promise<StreamTiming> {
  const body = JSON.stringify({
    model: target.model,
    max_tokens: 256,
    stream: true,
    messages: [{ role: "user", content: prompt }],
    ...extra,
  });
  const url = new URL("/v1/messages", target.origin);
  const started = nowMicroseconds();
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "x-api-key": target.apiKey,
          "anthropic-version": "2023-06-01",
        },
      },
      (response) => {
        let ttftUs = Number.NaN;
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
          if (Number.isNaN(ttftUs) && text.includes(FIRST_TEXT_MARKER)) ttftUs = nowMicroseconds() - started;
        });
        response.on("end", () => {
          const totalUs = nowMicroseconds() - started;
          if (response.statusCode !== 200)
            reject(new Error(`${target.name}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
          else if (!text.includes(TERMINAL_MARKER))
            reject(new Error(`${target.name}: stream ended without ${TERMINAL_MARKER}: ${text.slice(-300)}`));
          else resolve({ ttftUs, totalUs });
        });
        response.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

/** `clients` loops each sending one request after another until `durationMs` has passed; counts completed streams. */
export async function closedLoopLoad(
  target: StreamTarget,
  clients: number,
  durationMs: number,
  onTick?: () => void,
): Promise<{ completed: number; failed: number; seconds: number; firstError?: string }> {
  const agent = makeAgent(clients);
  const started = Date.now();
  const deadline = started + durationMs;
  let completed = 0;
  let failed = 0;
  let firstError: string | undefined;
  const ticker = onTick ? setInterval(onTick, 50) : undefined;
  const loop = async () => {
    while (Date.now() < deadline) {
      try {
        await streamOnce(target, agent);
        completed += 1;
      } catch (error) {
        failed += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  if (ticker) clearInterval(ticker);
  const seconds = (Date.now() - started) / 1000;
  agent.destroy();
  return { completed, failed, seconds, firstError };
}

/** utime + stime from a /proc .../stat line, in seconds (clock ticks of 1/100 s on Linux). */
function statCpuSeconds(stat: string): number {
  // The fields after the command name (which may hold spaces) start at ") "; utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds per thread of a live process: the main (JavaScript) thread, whose id is the process id, and the rest
 * together (V8's garbage-collection helpers, libuv's file-system pool); undefined where /proc is missing.
 */
export function threadCpuSeconds(pid: number): { main: number; others: number } | undefined {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const seconds = statCpuSeconds(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8"));
      if (Number(tid) === pid) main += seconds;
      else others += seconds;
    }
    return { main, others };
  } catch {
    return undefined;
  }
}

/** VmRSS and VmHWM (peak) of a live process in MiB, from /proc/<pid>/status; undefined where /proc is missing. */
export function processMemory(pid: number): { rssMiB: number; peakMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) / 1024;
    return { rssMiB: field("VmRSS"), peakMiB: field("VmHWM") };
  } catch {
    return undefined;
  }
}
