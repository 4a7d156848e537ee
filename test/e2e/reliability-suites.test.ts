// Runs every reliability suite at its reduced CI size (--quick) as its own process, as `npm run reliability` does:
// a suite exits non-zero only when one of its invariants is violated, and prints which.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../helpers/agent-dir.ts";

// Generous: beside other work (load ~10 on 2 cores) the corruption suite ran past 120 s.
const SUITE_TIMEOUT_MS = 300_000;
const SUITES = ["chaos", "soak", "concurrency", "corruption", "secrets"] as const;

function runSuite(name: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "reliability", `${name}.ts`), "--quick"],
      {
        cwd: REPO_ROOT,
        encoding: "utf8",
        timeout: SUITE_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, AUTO_ROUTER_LOG_DIR: "" },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe("reliability suites at the reduced CI size", { concurrency: 2 }, () => {
  for (const name of SUITES) {
    it(`keeps every ${name} invariant`, async () => {
      const run = await runSuite(name);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /\b0 violated\b/);
    });
  }
});
