// Small helpers several test files need: a fresh temporary directory, and a TypeScript worker process run to its end.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./agent-dir.ts";

export interface WorkerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const madeDirs: string[] = [];
// Every test file runs in a process of its own: what it made is removed when it exits, also by a caller that forgot,
// and also what a store flushed into it on close after the caller's own removal.
process.on("exit", () => {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
});

/** A new empty directory under the system's temporary directory, removed when the test process exits at the latest. */
export function freshDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  madeDirs.push(dir);
  return dir;
}

/** Runs a TypeScript worker (through tsx) from the repository root and collects its output. */
export function runWorker(worker: string, args: string[], env: Record<string, string> = {}): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", worker, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
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
