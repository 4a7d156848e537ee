// Runs the corruption reliability suite at its reduced CI size (--quick) as its own process, as `npm run reliability`
// does: the suite exits non-zero only when one of its invariants is violated, and prints which.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { it } from "node:test";
import { REPO_ROOT } from "../helpers/agent-dir.ts";

const SUITE_TIMEOUT_MS = 120_000;

it("keeps every corruption invariant at the reduced CI size", () => {
  const run = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "reliability", "corruption.ts"), "--quick"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    timeout: SUITE_TIMEOUT_MS,
    env: { ...process.env, AUTO_ROUTER_LOG_DIR: "" },
  });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /\b0 violated\b/);
});
