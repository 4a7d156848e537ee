// `npm run demo` as a user runs it: a child process that drives the real pi CLI against local emulators.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../helpers/agent-dir.ts";

const DEMO_TIMEOUT_MS = 60_000;

describe("npm run demo", () => {
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
    assert.match(output, /attempt 1 demo-codex\/gpt-5\.3-codex: rate_limit, cooldown 20 s/);
    assert.match(output, /attempt 2 demo-claude\/claude-sonnet-4-6: overloaded/);
    assert.match(output, /final {5}success, served by demo-deepseek\/deepseek-v4-pro, 2 failover\(s\)/);
    assert.match(output, /pi-ai drops response headers on errors/);
    assert.equal(output.match(/skipped {3}demo-codex\/gpt-5\.3-codex: cooldown/g)?.length, 2);
    assert.match(output, /demo-codex +1 call\(s\)/);
    assert.match(output, /demo-claude +1 call\(s\)/);
    assert.match(output, /demo-deepseek +3 call\(s\)/);
    assert.match(output, /cooldown \d+s \(rate_limit\)/, "the /auto-router list table shows the cooldown");
    assert.match(output, /final #1: servedTarget demo-deepseek\/deepseek-v4-pro, failovers 2/);
    assert.match(output, /DEMO OK/);
    // --cleanup removed the temporary agent dir, event log included.
    const logPath = /path: (\S+auto-router\.events\.jsonl)/.exec(output)?.[1];
    assert.ok(logPath, "the demo printed the event log path");
    assert.equal(existsSync(logPath), false);
  });
});
