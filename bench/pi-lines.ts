// The per-request cost on the newer pi lines the repository installs for its version matrix (test/pi-next: 0.87.1,
// test/pi-latest: 1.6.0, each with Node 22; see .ci/run), "as shipped" only: the same bench as the main section, in
// a child process on that line's Node with PI_SDK naming its SDK. A line that is not installed is reported as such.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "./stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LINES = [
  { prefix: "test/pi-next", sdk: "@earendil-works/pi-coding-agent" },
  { prefix: "test/pi-latest", sdk: "@earendil-works/pi-coding-agent" },
];
/** A line's run takes 1-2 minutes; one that hangs is stopped and reported as a crashed bench. */
const LINE_TIMEOUT_MS = 10 * 60_000;
/** Figures of a line are keyed `<host>|<figure>` (host: "pi 0.87.1 / Node 22.23.3"). */
export const LINE_KEY_SEPARATOR = "|";

interface LineResult {
  /** "pi 0.87.1 / Node 22.23.3", as the child saw it. */
  host: string;
  lines: string[];
  figures: Record<string, number>;
}

function runLine(node: string, sdkEntry: string): Promise<LineResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, ["--import", "tsx", fileURLToPath(new URL("./product-cost-line.ts", import.meta.url))], {
      cwd: ROOT,
      env: { ...process.env, PI_SDK: sdkEntry },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: a hung run is stopped with everything it started (the RSS probes).
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), LINE_TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (signal)
        return reject(new Error(`stopped (${signal}) after ${LINE_TIMEOUT_MS / 60_000} minutes without an answer`));
      const lines = stdout.trimEnd().split("\n");
      const last = lines.at(-1) ?? "";
      if (code !== 0 || !last.startsWith("FIGURES "))
        return reject(new Error(`exit ${code}: ${(stderr || stdout).trim().split("\n").slice(-5).join(" | ")}`));
      resolve({ lines: lines.slice(0, -1), ...JSON.parse(last.slice("FIGURES ".length)) });
    });
  });
}

export async function runNewerPiLines(): Promise<BenchResult> {
  const figures: Record<string, number> = {};
  const lines: string[] = [];
  for (const line of LINES) {
    const node = `${ROOT}/${line.prefix}/node_modules/.bin/node`;
    const sdkEntry = `${ROOT}/${line.prefix}/node_modules/${line.sdk}/dist/index.js`;
    if (!existsSync(node) || !existsSync(sdkEntry)) {
      lines.push(`${line.prefix}: not installed (npm ci --prefix ${line.prefix}); skipped`);
      continue;
    }
    const result = await runLine(node, sdkEntry);
    for (const [key, value] of Object.entries(result.figures))
      figures[`${result.host}${LINE_KEY_SEPARATOR}${key}`] = value;
    lines.push(...result.lines, "");
  }
  return { name: "product-cost-newer-pi", figures, lines };
}
