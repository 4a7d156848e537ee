// Runs the real `pi` CLI as a child process against an isolated agent dir. PI_CLI (a cli.js path, run with
// PI_NODE or this node) selects another pi version, so the same tests can run on newer pi lines.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { EXTENSION_ENTRY, REPO_ROOT } from "./agent-dir.ts";

export const DEFAULT_PI_TIMEOUT_MS = 30_000;
export const BUNDLED_PI_CLI = join(REPO_ROOT, "node_modules", "@mariozechner", "pi-coding-agent", "dist", "cli.js");

export interface PiRun {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface PiProcessOptions {
  agentDir: string;
  env?: Record<string, string>;
  /** The extension to load with -e; false for none; "installed" for the packages `pi install` put in the agent dir. */
  extension?: string | false | "installed";
  cwd?: string;
  /** Keep sessions in this directory (for --continue / --session) instead of running without one. */
  sessionDir?: string;
  /** Node's flags for pi (default PI_NODE_FLAGS); a benchmark passes none, to run pi as users do. */
  nodeFlags?: readonly string[];
}

/**
 * V8's optimising compiler off for the pi processes the tests start: each lives for seconds, mostly loading pi's
 * modules, and the optimiser's work on code that runs a few times cost more CPU than it saved (a pi start took ~15%
 * less CPU without it, the four slowest pi CLI files ~6% less with three files at once on two cores, where CI's cores
 * are always busy). It changes how fast code runs, never what it does; pi still runs from its own files. Benchmarks
 * run pi without it, as users do.
 */
export const PI_NODE_FLAGS = ["--no-opt"];

/** The node binary, its flags and the cli.js to run, honouring PI_CLI / PI_NODE. */
export function piCommand(): { node: string; cli: string; nodeFlags: string[] } {
  return {
    node: process.env.PI_NODE || process.execPath,
    cli: process.env.PI_CLI || BUNDLED_PI_CLI,
    nodeFlags: PI_NODE_FLAGS,
  };
}

/** Flags that keep pi offline and away from anything on this machine except the given extension. */
export function basePiArgs(extension: PiProcessOptions["extension"], sessionDir?: string): string[] {
  const session = sessionDir ? ["--session-dir", sessionDir] : ["--no-session"];
  const args = ["--offline", ...session, "-nc", "-ns", "-np", "--no-themes"];
  if (extension === "installed") return args;
  args.push("-ne");
  if (extension !== false) args.push("-e", extension ?? EXTENSION_ENTRY);
  return args;
}

export function piEnvironment(agentDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Only a test that asks for an event log gets one; an inherited value would leak runs into a shared dir.
  delete env.AUTO_ROUTER_LOG_DIR;
  return {
    ...env,
    PI_CODING_AGENT_DIR: agentDir,
    PI_OFFLINE: "1",
    PI_TELEMETRY: "0",
    PI_SKIP_VERSION_CHECK: "1",
    ...extra,
  };
}

export function runPi(
  options: PiProcessOptions & { args: string[]; stdin?: string; timeoutMs?: number },
): Promise<PiRun> {
  const { node, cli, nodeFlags } = piCommand();
  const started = Date.now();
  const child = spawn(
    node,
    [...(options.nodeFlags ?? nodeFlags), cli, ...basePiArgs(options.extension, options.sessionDir), ...options.args],
    {
      cwd: options.cwd ?? options.agentDir,
      env: piEnvironment(options.agentDir, options.env),
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  // Always close stdin: pi reads piped stdin to EOF before it starts.
  child.stdin.on("error", () => {});
  child.stdin.end(options.stdin ?? "");
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? DEFAULT_PI_TIMEOUT_MS);
    const finish = (code: number | null) => {
      clearTimeout(timer);
      const note = timedOut ? `\n[pi-cli helper] killed after ${options.timeoutMs ?? DEFAULT_PI_TIMEOUT_MS} ms` : "";
      resolve({ code: timedOut ? null : code, stdout, stderr: stderr + note, durationMs: Date.now() - started });
    };
    child.on("error", (error) => {
      stderr += `\n[pi-cli helper] ${error.message}`;
      finish(null);
    });
    child.on("close", (code) => finish(code));
  });
}

/** Every assistant message of a `--mode json` run's stdout, in order (its `message_end` events of role assistant). */
export const assistantMessages = (stdout: string): any[] =>
  stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((event) => event.type === "message_end" && event.message?.role === "assistant")
    .map((event) => event.message);

/** The last assistant message of a `--mode json` run's stdout. */
export const lastAssistantMessage = (stdout: string): any => assistantMessages(stdout).at(-1);
