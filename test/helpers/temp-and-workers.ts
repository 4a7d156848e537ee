// Small helpers several test files need: a fresh temporary directory, and a TypeScript worker process run to its end.
import { spawn } from "node:child_process";
import { REPO_ROOT } from "./agent-dir.ts";

export { freshDir } from "./fresh-dir.ts";

export interface WorkerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript worker (through tsx) from the repository root and collects its output. */
export const runWorker = (worker: string, args: string[], env: Record<string, string> = {}): Promise<WorkerResult> =>
  runNode(["--import", "tsx", worker, ...args], { ...process.env, ...env });

/** Runs node with `args` from the repository root, in exactly `env`, and collects its output. */
export function runNode(args: string[], env: Record<string, string | undefined>): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: env as NodeJS.ProcessEnv });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Polls `condition` every 25 ms until it holds; fails the test naming `what` after `attempts` polls (30 s). */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  attempts = 1_200,
): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never happened: ${what}`);
}
