// Runs one of scripts/routing-*.mjs with plain node (no loader flag: they must register tsx themselves), as an
// operator does, in a fresh HOME and without the agent dir or log dir of the test process unless `env` sets them.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
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

/** The event logs the scripts' tests read (current and earlier formats). */
export const EVENT_FIXTURES = join(REPO_ROOT, "test", "fixtures", "events");

type Targets = Array<{ provider: string; modelId: string }>;

/** A routes file in a fresh directory; the default reorders the fixture's routes. */
export function replayConfig(routes?: Record<string, { targets: Targets }>): string {
  const directory = freshDir("auto-router-cli-config");
  const path = join(directory, "routes.json");
  writeFileSync(
    path,
    JSON.stringify({
      routes: routes ?? {
        "subscription-swe": {
          targets: [
            { provider: "openai-codex", modelId: "gpt-5.3-codex" },
            { provider: "anthropic", modelId: "claude-sonnet-4-6" },
          ],
        },
        "subscription-fast": {
          targets: [
            { provider: "google", modelId: "gemini-3-flash-preview" },
            { provider: "openai-codex", modelId: "gpt-5.4-mini" },
          ],
        },
        swe: { targets: [{ provider: "anthropic", modelId: "claude-sonnet-4-6" }] },
      },
    }),
  );
  return path;
}

/** A script run's stdout as JSON, once it exited 0 (its stderr otherwise). */
export const scriptJson = (run: ScriptRun) => {
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
};
