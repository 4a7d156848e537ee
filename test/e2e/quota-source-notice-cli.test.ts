// Quota pacing's notice about a subscription with no quota source yet, through the real pi CLI: it says the provider
// is paced once its answers bring rate-limit headers (they do, from the first answer on), and once headers were seen
// it is not said again, in this process or a later one, even after their windows reset.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type EmulatedAgent, startEmulatedAgent } from "../helpers/emulated-agent.ts";
import { runPi } from "../helpers/pi-cli.ts";

const NOTICE =
  "auto-router: warning: quota pacing is on, but mock-a has no quota source yet (no usage API, and no rate-limit headers seen on its answers): it is not paced until its first rate-limit headers arrive";

/** One subscription target whose answers carry Codex rate-limit headers. */
async function startAgent(): Promise<EmulatedAgent<"A">> {
  const dir = await startEmulatedAgent({
    emulators: { A: "openai" },
    providers: { "mock-a": { emulator: "A", apiKey: "sk-mock-a", models: ["model-a"] } },
    routes: { routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a", billing: "subscription" }] } } },
  });
  dir.emulators.A.setDefault({
    text: "Hello from A.",
    headers: {
      "x-codex-primary-used-percent": "10",
      "x-codex-primary-window-minutes": "300",
      "x-codex-primary-reset-after-seconds": "10800",
    },
  });
  return dir;
}

describe("pi CLI: the notice of a subscription without a quota source yet", () => {
  let dir: EmulatedAgent<"A">;
  before(async () => {
    dir = await startAgent();
  });
  after(() => dir?.stop());
  const pi = (...args: string[]) =>
    runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", ...args] });

  it("says it is paced from its first headers, then no longer lists it once they came", async () => {
    const first = await pi("one", "two", "/auto-router status");
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr.split(NOTICE).length - 1, 1, first.stderr);
    assert.doesNotMatch(first.stderr, /never paced/);
    // The answer's headers made a quota source: status no longer lists the provider as having none.
    assert.doesNotMatch(first.stderr.slice(first.stderr.indexOf("config: ")), /no quota source/);

    // Its windows reset since (none open): headers were seen, so a later process does not say it again.
    const file = join(dir.agentDir, "extensions", "auto-router.quota.json");
    const state = JSON.parse(readFileSync(file, "utf8"));
    assert.ok(state.headersSeen?.["mock-a"], JSON.stringify(state));
    writeFileSync(file, JSON.stringify({ ...state, observed: {} }));
    dir.emulators.A.setDefault({ text: "Hello again." });
    const later = await pi("three", "/auto-router status");
    assert.equal(later.code, 0, later.stderr);
    assert.doesNotMatch(later.stderr, /no quota source/);
  });
});

describe("pi CLI: status after the one prompt whose answer brought the first rate-limit headers", () => {
  let dir: EmulatedAgent<"A">;
  before(async () => {
    dir = await startAgent();
  });
  after(() => dir?.stop());

  it("shows the live quota figure without the 'no quota source' warning the prompt's decision had", async () => {
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "-p", "hi", "/auto-router uvi", "/auto-router status"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr.split(NOTICE).length - 1, 1, run.stderr);
    // uvi reads the window from the answer's headers; status, in the same process, no longer says there is none.
    assert.match(run.stderr, /mock-a\s+primary\s+10%/);
    const status = run.stderr.slice(run.stderr.indexOf("config: "));
    assert.doesNotMatch(status, /no quota source/);
  });
});
