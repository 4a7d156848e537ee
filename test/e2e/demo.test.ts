// `npm run demo` as a user runs it: a child process that drives the real pi CLI against local emulators.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../helpers/agent-dir.ts";

const DEMO_TIMEOUT_MS = 60_000;

function runDemo(args: string[]) {
  const environment = { ...process.env };
  delete environment.AUTO_ROUTER_LOG_DIR;
  delete environment.AUTO_ROUTER_CONFIG;
  return spawnSync(process.execPath, ["--import", "tsx", "demo/run-demo.ts", ...args], {
    cwd: REPO_ROOT,
    env: environment,
    encoding: "utf8",
    timeout: DEMO_TIMEOUT_MS,
  });
}

describe("npm run demo", () => {
  it("prints its usage for --help, and refuses a mistyped option before it starts anything", () => {
    const help = runDemo(["--help"]);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^usage: npm run demo \[-- --cleanup\]/);
    assert.doesNotMatch(help.stdout, /same-request failover/, "the demo did not run");
    const typo = runDemo(["--clenaup"]);
    assert.equal(typo.status, 2, typo.stdout);
    assert.match(typo.stderr, /npm run demo: unknown option "--clenaup"\nusage: npm run demo/);
    assert.doesNotMatch(typo.stdout, /same-request failover|agent dir kept/, "the demo did not run");
  });

  it("prints pi commands that run as shown from the package directory after npm install", () => {
    const run = runDemo([]);
    const agentDir = /agent dir kept for inspection; remove it with: rm -rf (\S+)/.exec(run.stdout)?.[1];
    try {
      assert.equal(run.status, 0, `demo failed:\n${run.stdout}\n${run.stderr}`);
      const listCommand = run.stdout
        .split("\n")
        .find((line) => line.includes("/auto-router list") && line.trim().startsWith("$ "));
      assert.ok(listCommand, run.stdout);
      assert.match(
        listCommand,
        /^ {2}\$ PI_CODING_AGENT_DIR=\/\S+ \.\/node_modules\/\.bin\/pi /,
        "no placeholder, no bare `pi` that is not on the PATH",
      );
      const environment: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: "/usr/bin:/bin",
        PI_OFFLINE: "1",
        PI_TELEMETRY: "0",
      };
      delete environment.AUTO_ROUTER_LOG_DIR;
      const pasted = spawnSync("sh", ["-c", listCommand.trim().slice(2)], {
        cwd: REPO_ROOT,
        env: environment,
        encoding: "utf8",
        timeout: DEMO_TIMEOUT_MS,
      });
      assert.equal(pasted.status, 0, pasted.stderr);
      // The demo's own route and providers: the pasted command ran pi with this extension on the demo's agent dir.
      assert.match(pasted.stdout + pasted.stderr, /auto-router\/demo-swe/);
      assert.match(
        pasted.stdout + pasted.stderr,
        /demo-deepseek\/deepseek-v4-pro\s+(ready|cooldown \S+ \(\w+\))\s+API key/,
      );
    } finally {
      if (agentDir) rmSync(agentDir, { recursive: true, force: true });
    }
  });

  it("shows a prompt failing over twice, later prompts skipping the cooling providers, and exits 0", () => {
    const environment = { ...process.env };
    delete environment.AUTO_ROUTER_LOG_DIR;
    delete environment.AUTO_ROUTER_CONFIG;
    const run = spawnSync(process.execPath, ["--import", "tsx", "demo/run-demo.ts", "--cleanup"], {
      cwd: REPO_ROOT,
      env: environment,
      encoding: "utf8",
      timeout: DEMO_TIMEOUT_MS,
    });
    assert.equal(run.status, 0, `demo failed:\n${run.stdout}\n${run.stderr}`);
    const output = run.stdout;
    assert.match(output, /attempt 1 demo-codex\/gpt-5\.3-codex: rate_limit, cooldown 50 s/);
    assert.match(output, /attempt 2 demo-claude\/claude-sonnet-4-6: overloaded/);
    assert.match(output, /final {5}success, served by demo-deepseek\/deepseek-v4-pro, 2 failovers,/);
    assert.match(output, /pi-ai drops response headers on errors/);
    assert.equal(output.match(/skipped {3}demo-codex\/gpt-5\.3-codex: cooldown/g)?.length, 2);
    assert.match(output, /demo-codex +1 call  \(/);
    assert.match(output, /demo-claude +1 call  \(/);
    assert.match(output, /demo-deepseek +3 calls  \(/);
    assert.match(output, /cooldown \d+s \(rate_limit\)/, "the /auto-router list table shows the cooldown");
    assert.match(output, /final #1: servedTarget demo-deepseek\/deepseek-v4-pro, failovers 2/);
    assert.match(output, /DEMO OK/);
    // --cleanup removed the temporary agent dir, event log included.
    const logPath = /path: (\S+auto-router\.events\.jsonl)/.exec(output)?.[1];
    assert.ok(logPath, "the demo printed the event log path");
    assert.equal(existsSync(logPath), false);
  });
});
