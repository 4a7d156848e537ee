// The earlier public pi-auto-router wrote its event log unredacted: a key a provider echoed in an error, one pasted
// into a rating's reason. Our scripts read that log as it is kept after the switch: no key may reach their text,
// JSON or HTML output.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { freshDir } from "../helpers/fresh-dir.ts";

const repository = fileURLToPath(new URL("../../", import.meta.url));
const KEY = "sk-ant-api03-AbCdEf1234567890xyzLEAK";
const AT = "2026-12-01T10:00:00.000Z";

const line = (type: string, data: unknown) =>
  JSON.stringify({
    type: `routing.${type}`,
    timestamp: AT,
    requestId: "r1",
    conversationId: "c",
    routeId: "swe",
    version: 1,
    data,
  });

function legacyLog(): string {
  const b = { provider: "b", modelId: "m", label: "B" };
  const a = { provider: "a", modelId: "m", label: "A" };
  return `${[
    line("decision", { tier: "swe", phase: "default", plannedTarget: b, reasoning: `asked with key=${KEY}` }),
    line("candidates", { candidates: [{ ...b, status: "budget_rejected", reasons: [`rejected for ${KEY}`] }] }),
    line("attempt", { index: 1, ...b }),
    line("result", {
      index: 1,
      outcome: "retryable_failure",
      ...b,
      latencyMs: 5,
      ttftMs: 0,
      error: `401 invalid x-api-key: ${KEY}`,
    }),
    line("attempt", { index: 2, ...a }),
    line("result", { index: 2, outcome: "success", ...a, latencyMs: 5, ttftMs: 1, costUsd: 0.01 }),
    line("final", { outcome: "success", selectedTarget: "A", actualTarget: a }),
    line("feedback", {
      ...a,
      rating: "bad",
      reason: `pasted my key ${KEY}`,
      tags: [],
      tier: "swe",
      intent: "code",
      outcome: "success",
    }),
  ].join("\n")}\n`;
}

function run(script: string, args: string[]): string {
  const result = spawnSync(process.execPath, [join(repository, "scripts", `${script}.mjs`), ...args], {
    cwd: repository,
    encoding: "utf8",
    env: { ...process.env, HOME: freshDir("auto-router-cli-home"), PI_CODING_AGENT_DIR: undefined },
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout + result.stderr;
}

describe("scripts over a log of the earlier pi-auto-router", () => {
  it("print no key the earlier router wrote into an error, a reason or a rating, in text, JSON or HTML", () => {
    const dir = freshDir("auto-router-legacy-keys");
    const file = join(dir, "auto-router.events.jsonl");
    writeFileSync(file, legacyLog());
    const html = join(dir, "report.html");
    const outputs = [
      run("routing-session-stats", ["--file", file, "-v"]),
      run("routing-session-stats", ["--file", file, "--json"]),
      run("routing-session-stats", ["--file", file, "--html", html]),
      readFileSync(html, "utf8"),
      run("routing-quality-stats", ["--file", file]),
      run("routing-quality-stats", ["--file", file, "--json"]),
      run("routing-stats", ["--file", file, "--json"]),
    ];
    for (const output of outputs) assert.doesNotMatch(output, /AbCdEf1234567890xyzLEAK/);
    // The texts are still shown, with the key replaced.
    assert.match(outputs[0]!, /401 invalid x-api-key: \[REDACTED\]/);
    assert.match(outputs[4]!, /pasted my key \[REDACTED\]/);
  });
});
