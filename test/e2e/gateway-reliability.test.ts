// The gateway load-and-faults suite at its reduced CI size (`npm run reliability:gateway` is the full 200 clients x
// 60 s): it exits non-zero only when one of its invariants is violated, and prints which. Timings are never judged.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../helpers/agent-dir.ts";

const SUITE_TIMEOUT_MS = 240_000;

describe("gateway under load and faults (reduced size)", () => {
  it("keeps every invariant: all answered, nothing lost or duplicated, terminal events, usage once, disconnects aborted", async () => {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", join(REPO_ROOT, "reliability", "gateway-faults.ts"), "--quick"],
        {
          cwd: REPO_ROOT,
          encoding: "utf8",
          timeout: SUITE_TIMEOUT_MS,
          maxBuffer: 64 * 1024 * 1024,
          env: {
            ...process.env,
            AUTO_ROUTER_LOG_DIR: "",
            GATEWAY_RELIABILITY_CLIENTS: "",
            GATEWAY_RELIABILITY_SECONDS: "",
            GATEWAY_RELIABILITY_DISCONNECTS: "",
          },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /\b0 violated\b/);
    // The faults were really injected and the healthy target really served.
    for (const fault of [
      "429\\+retry-after",
      "529",
      "500",
      "503",
      "reset",
      "stall-before-first-token",
      "drop-after-text",
      "empty-stream-200",
      "empty-body-200",
    ]) {
      assert.match(run.stdout, new RegExp(`\\b${fault}\\s+[1-9]`), `fault ${fault} never injected:\n${run.stdout}`);
    }
    assert.match(run.stdout, /steady\s+ok\s+[1-9]/);
  });
});
