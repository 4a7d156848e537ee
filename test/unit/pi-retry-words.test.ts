// A router-made error that must not make pi run the prompt again stays out of pi's retry check whatever it quotes
// (amounts, times, ids), checked with each pi line's own check: pi 0.73's agent session and the newer lines' pi-ai
// `isRetryableAssistantError` (installed under test/pi-next and test/pi-latest, as .ci/run does before the tests).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import type { AssistantMessage } from "@mariozechner/pi-ai";
import { AgentSession } from "@mariozechner/pi-coding-agent";
import { outOfPiRetry } from "../../src/runtime/final-error.ts";
import { REPO_ROOT } from "../helpers/agent-dir.ts";

type RetryCheck = (message: AssistantMessage) => boolean;

const erred = (text: string) => ({ role: "assistant", stopReason: "error", errorMessage: text }) as AssistantMessage;

/** pi 0.73's check is a method of its agent session; it reads only the session's model (for the overflow check). */
const pi073: RetryCheck = (message) =>
  (AgentSession.prototype as any)._isRetryableError.call({ model: undefined }, message);

async function newerLine(folder: string): Promise<RetryCheck | undefined> {
  const file = join(REPO_ROOT, "test", folder, "node_modules", "@earendil-works", "pi-ai", "dist", "utils", "retry.js");
  if (!existsSync(file)) {
    const inCi = process.env.CI === "true" || process.env.CI === "1";
    assert.ok(!inCi, `CI installs test/${folder}: ${file} is missing`);
    return undefined;
  }
  return (await import(pathToFileURL(file).href)).isRetryableAssistantError;
}

const QUOTING = [
  "auto-router: route main: budget alpha monthly $500.00 is spent ($498.12 spent; this request ~$1230.00 exceeds $500.00). Raise the budget",
  "auto-router: no target of route main is available now (a/x: resting). First available: a/x at 14:29:03 (in 429s).",
  "auto-router: estimate ~$0.0504, ~$0.0429 and $1502 of 2,503 tokens",
  "auto-router: no target of route gpt-timeout-test can serve this request (rate-limit-lab/m503: no credentials)",
  "auto-router: route server-error-drill: the network-error/connection-refused model ended without a message",
  "auto-router: route http2-overloaded: service is temporarily unavailable-tier, ECONNRESET-free, terminated-flag",
];

describe("router errors out of pi's retry check", () => {
  it("keeps every quoted amount, time and id from reading as a transient error on every pi line, the text unchanged to read", async () => {
    const checks: Array<[string, RetryCheck]> = [["pi 0.73", pi073]];
    for (const folder of ["pi-next", "pi-latest"]) {
      const check = await newerLine(folder);
      if (check) checks.push([folder, check]);
    }
    for (const text of QUOTING) {
      // The texts as they were: each line's own check would retry at least one of them, so the test can fail.
      assert.ok(
        checks.some(([, check]) => check(erred(text))),
        `no pi line retries the unchanged text, so it proves nothing: ${text}`,
      );
      const shown = outOfPiRetry(text);
      for (const [line, check] of checks) assert.equal(check(erred(shown)), false, `${line} retries: ${shown}`);
      assert.equal(shown.replaceAll("\u2060", ""), text);
    }
    const plain = "auto-router: no target of route main can serve this request (a/x: no credentials)";
    assert.equal(outOfPiRetry(plain), plain, "a text with nothing to hide is left as it is");
  });
});
