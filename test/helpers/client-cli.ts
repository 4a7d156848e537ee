// Runs a real client CLI (Claude Code, Codex) to completion with only the given environment (plus PATH), output
// captured; killed after `timeoutMs` so a hanging client fails its test instead of the whole run.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./agent-dir.ts";

/** The real Claude Code CLI, pinned 2.1.337 and installed by .ci/run into .tmp/claude-code. */
export const CLAUDE_CODE = join(REPO_ROOT, ".tmp", "claude-code", "node_modules", ".bin", "claude");
/** The model id that Claude Code (2.1.332 to 2.1.337) sends when none is chosen. */
export const CLAUDE_CODE_DEFAULT_MODEL = "claude-opus-5-5";

export function runClientCli(
  binary: string,
  args: string[],
  options: { cwd?: string; env: Record<string, string>; timeoutMs: number },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? "", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
