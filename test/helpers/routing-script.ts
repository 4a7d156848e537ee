// Runs one of scripts/routing-*.mjs with plain node (no loader flag: they must register tsx themselves), as an
// operator does, in a fresh HOME and without the agent dir or log dir of the test process unless `env` sets them.
import { join } from "node:path";
import { REPO_ROOT } from "./agent-dir.ts";
import { freshDir, runNode, type WorkerResult } from "./temp-and-workers.ts";

export type ScriptRun = WorkerResult;

export function runRoutingScript(
  script: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<ScriptRun> {
  const environment: Record<string, string | undefined> = {
    ...process.env,
    HOME: freshDir("auto-router-cli-home"),
    AUTO_ROUTER_LOG_DIR: undefined,
    PI_CODING_AGENT_DIR: undefined,
    NODE_OPTIONS: undefined,
    ...env,
  };
  return runNode([join(REPO_ROOT, "scripts", `${script}.mjs`), ...args], environment);
}

/** The script's `--json` output (`script`: "routing-stats", ...); rejects with its stderr when it exits non-zero. */
export async function routingScriptJson(
  script: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<any> {
  const run = await runRoutingScript(script, [...args, "--json"], env);
  if (run.code !== 0) throw new Error(`${script} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}
