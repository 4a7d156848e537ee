// The event log as pi really writes it: a few prompts with failovers through the real CLI against emulators, then
// every stats script over the produced log; and secrets in provider errors never reach the log.
import { EVENT_SCHEMA_VERSION } from "../../src/events/event-types.ts";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { REPO_ROOT, routeInOrder } from "../helpers/agent-dir.ts";
import { type EmulatedAgent, startEmulatedAgent } from "../helpers/emulated-agent.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { readEventLogFile } from "../helpers/event-log.ts";
import { startRpc } from "../helpers/rpc-client.ts";

const run = promisify(execFile);
// Built at run time so no key-shaped literal sits in the repository.
const OPENAI_KEY = ["sk", "proj", "Zx81QmT4vLr9WbN2kJd7Hs3Pq6Yc0Fa5Ue1Gt8Ri"].join("-");
// Keys of other providers an upstream error may quote (a proxy's or an aggregator's): not this router's own keys.
const GROQ_KEY = ["gsk", "Rk2Lw9Xc4Vb7Nm1Qs5Df8Gh3Jk6Lp0Zt2Wy4Ue7Io9Pa1Sd3F"].join("_");
const AWS_KEY_ID = ["AKIA", "Q2W3E4R5T6Y7U8I9"].join("");
const BEARER = ["eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiJ1c2VyLTEyMyJ9", "c2lnbmF0dXJlLXZhbHVl"].join(".");

async function script(name: string, args: string[]) {
  const { stdout } = await run(process.execPath, [join(REPO_ROOT, "scripts", name), ...args], { cwd: REPO_ROOT });
  return JSON.parse(stdout);
}

describe("the event log written by pi and read by the scripts", () => {
  let a: Emulator;
  let b: Emulator;
  let dir: EmulatedAgent<"A" | "B">;
  let logFile: string;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers: {
        "mock-a": {
          emulator: "A",
          apiKey: "sk-mock-a",
          models: ["model-a"],
          modelOptions: { cost: { input: 1, output: 2, cacheRead: 0, cacheWrite: 0 } },
        },
        "mock-b": {
          emulator: "B",
          apiKey: "sk-mock-b",
          models: ["model-b"],
          modelOptions: { cost: { input: 3, output: 15, cacheRead: 0, cacheWrite: 0 } },
        },
      },
      routes: {
        routes: {
          logged: {
            sortBy: "config",
            failover: { kinds: { rate_limit: { cooldownMs: 0 } } },
            targets: [
              { provider: "mock-a", modelId: "model-a" },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
        },
      },
    });
    ({ A: a, B: b } = dir.emulators);
    logFile = join(dir.agentDir, "extensions", "auto-router.events.jsonl");
    // Prompt 1: A fails with a secret in its error text, B serves. Prompt 2: A serves. Prompt 3: A fails again, B serves.
    a.enqueue(
      {
        status: 429,
        errorMessage: `Rate limit for key ${OPENAI_KEY} (Authorization: Bearer ${BEARER}); see https://x.invalid/v1?key=${OPENAI_KEY}; upstream ${GROQ_KEY} via ${AWS_KEY_ID}`,
      },
      { text: "A answers." },
      { status: 503, errorMessage: "Service Unavailable" },
    );
    b.setDefault({ text: "B answers.", usage: { input: 100, output: 50 } });
    const result = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/logged", "-p", "one", "two", "three"],
    });
    assert.equal(result.code, 0, result.stderr);
  });
  after(() => dir?.stop());

  it("writes one versioned envelope per line, with mode 0600 and no prompt text", () => {
    const lines = readFileSync(logFile, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    for (const line of lines) {
      assert.equal(line.v, EVENT_SCHEMA_VERSION);
      assert.ok(line.type && line.ts && line.data);
    }
    // A request's candidates, attempts, results and usage ride on its decision and final lines: counted as read.
    const events = readEventLogFile(logFile);
    assert.ok(events.length >= 3 * 5, `${events.length} events`);
    assert.equal(statSync(logFile).mode & 0o777, 0o600);
    const text = readFileSync(logFile, "utf8");
    assert.doesNotMatch(text, /"(one|two|three)"/);
  });

  it("never writes the key, the bearer token or the URL secret from a provider's error text", () => {
    const text = readFileSync(logFile, "utf8");
    assert.ok(!text.includes(OPENAI_KEY), "API key redacted");
    assert.ok(!text.includes(BEARER), "bearer token redacted");
    assert.ok(!text.includes(GROQ_KEY), "a Groq key quoted by the upstream redacted");
    assert.ok(!text.includes(AWS_KEY_ID), "an AWS access key id quoted by the upstream redacted");
    assert.match(text, /\[REDACTED\]/);
  });

  it("routing-stats counts the requests, failovers and served providers", async () => {
    const { stats } = await script("routing-stats.mjs", ["--file", logFile, "--json"]);
    assert.equal(stats.requests, 3);
    assert.equal(stats.outcomes.success, 3);
    assert.equal(stats.failovers, 2);
    const byProvider = Object.fromEntries(stats.byServedProvider.map((row: any) => [row.key, row.requests]));
    assert.deepEqual(byProvider, { "mock-a": 1, "mock-b": 2 });
  });

  it("routing-session-stats and routing-quality-stats read the same log", async () => {
    const session = await script("routing-session-stats.mjs", ["--file", logFile, "--json"]);
    assert.equal(session.log.malformed, 0);
    assert.ok(JSON.stringify(session.stats).includes("mock-b/model-b"));
    const quality = await script("routing-quality-stats.mjs", ["--file", logFile, "--json"]);
    assert.equal(quality.log.malformed, 0);
  });

  it("routing-replay re-runs the logged decisions under another config without calling a model", async () => {
    const other = join(dir.agentDir, "other-routes.json");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      other,
      JSON.stringify({
        routes: {
          logged: routeInOrder("mock-b/model-b", "mock-a/model-a"),
        },
      }),
    );
    const replay = await script("routing-replay.mjs", ["--file", logFile, "--config", other, "--json"]);
    const callsBefore = a.calls.length + b.calls.length;
    assert.ok(JSON.stringify(replay).includes("mock-b/model-b"));
    assert.equal(a.calls.length + b.calls.length, callsBefore);
  });
});

describe("routing-replay of a log pi wrote with shortcuts on models.json models", () => {
  let dir: EmulatedAgent<"A">;

  before(async () => {
    const priced = (output: number) => ({ cost: { input: 1, output, cacheRead: 0, cacheWrite: 0 } });
    dir = await startEmulatedAgent({
      emulators: { A: "openai" },
      providers: {
        "mock-dear": { emulator: "A", apiKey: "sk-mock-dear", models: ["dear"], modelOptions: priced(15) },
        "mock-cheap": { emulator: "A", apiKey: "sk-mock-cheap", models: ["cheap"], modelOptions: priced(2) },
      },
      routes: {
        routes: {
          main: routeInOrder("mock-dear/dear", "mock-cheap/cheap"),
        },
      },
    });
    dir.emulators.A.setDefault({ text: "ok" });
    // What the router measured before: the dear target answers its first token in 900 ms, the cheap one in 100 ms.
    const sample = (ms: number) => ({ ttftMs: ms, samples: 5, updatedAt: Date.now() });
    writeFileSync(
      join(dir.agentDir, "extensions", "auto-router.latency.json"),
      JSON.stringify({ v: 1, targets: { "mock-dear/dear": sample(900), "mock-cheap/cheap": sample(100) } }),
    );
    const rpc = await startRpc({ agentDir: dir.agentDir, args: ["--model", "auto-router/main"] });
    try {
      // A shortcut-only run in print mode would be a file include for pi: prompts go through RPC.
      for (const message of ["@sort=latency quick", "@sort=price hi", "@vision look", "plain"]) {
        await rpc.request({ type: "prompt", message });
        await rpc.waitFor((line) => line.type === "agent_end", 60_000);
      }
    } finally {
      await rpc.close();
    }
  });
  after(() => dir?.stop());

  it("finds no difference under the routes file the log was written with: facts from models.json, latency from the log", async () => {
    const { stdout } = await run(
      process.execPath,
      [
        join(REPO_ROOT, "scripts", "routing-replay.mjs"),
        "--json",
        "--config",
        join(dir.agentDir, "extensions", "auto-router.routes.json"),
      ],
      { cwd: REPO_ROOT, env: { ...process.env, PI_CODING_AGENT_DIR: dir.agentDir, AUTO_ROUTER_LOG_DIR: "" } },
    );
    const { report } = JSON.parse(stdout);
    assert.equal(report.decisions, 4);
    assert.equal(report.replayed, 4);
    assert.deepEqual(
      report.changes,
      [],
      "the fastest as the log measured it for @sort=latency, the cheapest for @sort=price, no candidate for @vision",
    );
    assert.equal(report.different, 0);
  });
});
