// What subscription users ask for, through the real pi CLI against the HTTP emulators: refusals that fail over
// only when configured, per-target request patches that follow their target, and retrying a warm target through a
// blip before failing over.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type EmulatedAgent, startEmulatedAgent } from "../helpers/emulated-agent.ts";
import { assistantMessages, runPi, lastAssistantMessage } from "../helpers/pi-cli.ts";
import { startRpc } from "../helpers/rpc-client.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { readEventLogFile } from "../helpers/event-log.ts";

/** A GitLab-style token in a target header: a plain shape that no key pattern matches. */
const HEADER_TOKEN = "glpat-team-token-of-plain-shape";

const target = (key: string, extra: Record<string, unknown> = {}) => ({
  provider: key.split("/")[0],
  modelId: key.split("/")[1],
  ...extra,
});

const retryRoute = (warm = "mock-warm") => ({
  sortBy: "config",
  targets: [
    target(`${warm}/warm`, {
      retryBeforeFailover: { times: 2, kinds: ["rate_limit", "server", "overloaded"], maxDelayMs: 200 },
    }),
    target("mock-spare/spare"),
  ],
});

/**
 * A used-up quota rests its target on every route naming it: the routes whose tests use one up name the emulators
 * under accounts of their own (`mock-warm-r/warm` is the warm emulator under account r), out of the other tests' way.
 */
const quotaAccounts = (suffix: string) => ({
  [`mock-warm-${suffix}`]: { emulator: "warm", apiKey: `sk-warm-${suffix}-key`, models: ["warm"] },
  [`mock-spare-${suffix}`]: { emulator: "spare", apiKey: `sk-spare-${suffix}-key`, models: ["spare"] },
});
const quotaRoute = (suffix: string, maxMs: number) => ({
  sortBy: "config",
  failover: { cooldownWaitMs: 0, waitForReset: { maxMs } },
  targets: [target(`mock-warm-${suffix}/warm`), target(`mock-spare-${suffix}/spare`)],
});

describe("subscription features through the pi CLI", () => {
  let claude: Emulator;
  let warm: Emulator;
  let spare: Emulator;
  let dir: EmulatedAgent<"claude" | "warm" | "spare">;
  let logFile: string;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { claude: "anthropic", warm: "openai", spare: "openai" },
      providers: {
        "mock-claude": { emulator: "claude", apiKey: "sk-ant-claude", models: ["claude"] },
        "mock-warm": { emulator: "warm", apiKey: "sk-warm-key", models: ["warm"] },
        "mock-spare": { emulator: "spare", apiKey: "sk-spare-key", models: ["spare"] },
        // The warm emulator again, as a reasoning model: the target of the reserved tier.
        "mock-thinker": { emulator: "warm", apiKey: "sk-thinker-key", models: [{ id: "thinker", reasoning: true }] },
        // And once more: a subscription whose reserve is kept for prompts a person types.
        "mock-typist": { emulator: "warm", apiKey: "sk-typist-key", models: ["typist"] },
        ...quotaAccounts("q"),
        ...quotaAccounts("r"),
        ...quotaAccounts("s"),
        ...quotaAccounts("t"),
      },
      routes: {
        // Several tests fail the same target on purpose; the breaker would take it out of the later ones.
        breaker: { enabled: false },
        quota: {
          reserve: {
            "mock-thinker": { percent: 15, for: ["reasoning"] },
            "mock-typist": { percent: 15, for: ["interactive"] },
          },
        },
        routes: {
          strict: { sortBy: "config", targets: [target("mock-claude/claude"), target("mock-spare/spare")] },
          lenient: {
            sortBy: "config",
            failover: { kinds: { content_policy: { failover: true } } },
            targets: [target("mock-claude/claude"), target("mock-spare/spare")],
          },
          patched: {
            sortBy: "config",
            targets: [
              target("mock-warm/warm", {
                headers: { "x-plan-beta": "context-1m", "private-token": HEADER_TOKEN },
                body: { provider: { order: ["fireworks"] }, metadata: { team: "core" } },
              }),
              target("mock-spare/spare"),
            ],
          },
          blip: retryRoute(),
          // Its own account, so the quota cooldown it leaves does not touch the other retry tests.
          "quota-blip": retryRoute("mock-warm-q"),
          // cooldownWaitMs 0: only the reset wait may wait here.
          "wait-reset": quotaRoute("r", 20_000),
          // A fresh route with the same settings, on accounts of its own.
          "wait-transient": quotaRoute("t", 20_000),
          reserved: { sortBy: "config", targets: [target("mock-thinker/thinker"), target("mock-spare/spare")] },
          typed: { sortBy: "config", targets: [target("mock-typist/typist"), target("mock-spare/spare")] },
          "wait-short": quotaRoute("s", 500),
        },
      },
    });
    ({ claude, warm, spare } = dir.emulators);
    logFile = join(dir.agentDir, "extensions", "auto-router.events.jsonl");
  });
  after(() => dir?.stop());

  const reset = () => dir.reset();
  const events = () => readEventLogFile(logFile);

  it("surfaces a refusal before any output by default and never calls the next target", async () => {
    reset();
    claude.enqueue({ emptyStream: true, finishReason: "refusal" });
    spare.enqueue({ text: "must not be used" });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/strict", "--mode", "json", "Write it", "/auto-router debug"],
    });
    const message = lastAssistantMessage(run.stdout);
    assert.equal(message.stopReason, "error");
    assert.equal(message.provider, "mock-claude");
    // Told as a refusal, with pi-ai's own words after it (0.73.1: "An unknown error occurred").
    assert.match(message.errorMessage, /^auto-router: mock-claude\/claude refused to answer \(.+\)$/);
    assert.equal(spare.calls.length, 0);
    const result = events()
      .filter((event) => event.type === "result")
      .at(-1);
    assert.equal(result.data.outcome, "failed");
    assert.equal(result.data.failureKind, "content_policy");
    // The request ends as the target's refusal, not as a failure, in the log and in the debug report's last decisions.
    const final = events()
      .filter((event) => event.type === "final")
      .at(-1);
    assert.deepEqual([final.data.outcome, final.data.refusedBy], ["refused", "mock-claude/claude"]);
    const report = readFileSync(join(dir.agentDir, "extensions", "auto-router.debug-report.txt"), "utf8");
    assert.match(report, /: refused by mock-claude\/claude \(the target refused to answer\) \[content_policy\]$/m);
  });

  it("moves a refusal before any output to the next target when content_policy failover is on", async () => {
    reset();
    claude.enqueue({ emptyStream: true, finishReason: "refusal" });
    spare.enqueue({ text: "Spare wrote it." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/lenient", "-p", "Write it"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Spare wrote it.");
    assert.equal(claude.calls.length, 1);
    const failed = events()
      .filter((event) => event.type === "result" && event.data.target === "mock-claude/claude")
      .at(-1);
    assert.equal(failed.data.failureKind, "content_policy");
  });

  it("keeps a refusal after output final even when content_policy failover is on", async () => {
    reset();
    claude.enqueue({ text: "I started, but", finishReason: "refusal" });
    spare.enqueue({ text: "must not be used" });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/lenient", "--mode", "json", "Write it"],
    });
    const message = lastAssistantMessage(run.stdout);
    assert.equal(message.stopReason, "error");
    assert.equal(message.provider, "mock-claude");
    assert.deepEqual(message.content, [{ type: "text", text: "I started, but" }]);
    assert.match(message.errorMessage, /^auto-router: mock-claude\/claude refused to answer \(.+\)$/);
    assert.equal(spare.calls.length, 0);
    assert.equal(
      events()
        .filter((event) => event.type === "result")
        .at(-1).data.outcome,
      "failed-after-commit",
    );
  });

  it("sends a target's own headers and body fields with it and never to the next target", async () => {
    reset();
    // The target quotes the token of its header back: no pattern knows its shape, its header's name says what it is.
    warm.enqueue({ status: 503, errorMessage: `upstream busy for private-token ${HEADER_TOKEN}` });
    spare.enqueue({ text: "Spare answered." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/patched", "-p", "Hello"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Spare answered.");
    const patched = warm.calls[0]!;
    assert.equal(patched.headers["x-plan-beta"], "context-1m");
    assert.equal(patched.headers["private-token"], HEADER_TOKEN);
    assert.match(readFileSync(logFile, "utf8"), /upstream busy for private-token \[REDACTED\]/);
    assert.ok(!`${run.stdout}${run.stderr}${readFileSync(logFile, "utf8")}`.includes(HEADER_TOKEN));
    assert.deepEqual(patched.body.provider, { order: ["fireworks"] });
    assert.deepEqual(patched.body.metadata, { team: "core" });
    // pi-ai's own fields survive the merge, and the credentials are still the target's own.
    assert.equal(patched.body.model, "warm");
    assert.equal(patched.headers.authorization, "Bearer sk-warm-key");
    const other = spare.calls[0]!;
    assert.equal(other.headers["x-plan-beta"], undefined);
    assert.equal(other.body.provider, undefined);
    assert.equal(other.body.metadata, undefined);
    // The candidates event (and so explain) names the patch, never its values.
    const listed = events()
      .filter((event) => event.type === "candidates")
      .at(-1).data.candidates;
    assert.deepEqual(listed[0].reasons, [
      "request patch: header x-plan-beta, header private-token, body.provider, body.metadata",
    ]);
    assert.doesNotMatch(JSON.stringify(listed), /context-1m|fireworks/);
  });

  it("retries a warm target through two blips and serves from it without failing over", async () => {
    reset();
    warm.enqueue(
      { status: 503, errorMessage: "Service unavailable" },
      { status: 429, errorMessage: "Rate limit reached. Please try again in 0.1s." },
    );
    warm.enqueue({ text: "Warm again." });
    spare.enqueue({ text: "must not be used" });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/blip", "-p", "Hello"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Warm again.");
    assert.equal(warm.calls.length, 3);
    assert.equal(spare.calls.length, 0);
    const requestId = events()
      .filter((event) => event.type === "final")
      .at(-1).requestId;
    const attempts = events().filter((event) => event.type === "attempt" && event.requestId === requestId);
    assert.deepEqual(
      attempts.map((event) => [event.data.target, event.data.retry]),
      [
        ["mock-warm/warm", undefined],
        ["mock-warm/warm", 1],
        ["mock-warm/warm", 2],
      ],
    );
    const final = events()
      .filter((event) => event.type === "final")
      .at(-1);
    assert.equal(final.data.attempts, 3);
    assert.equal(final.data.failovers, 0, "retries of the same target are not failovers");
    assert.equal(final.data.servedTarget, "mock-warm/warm");
  });

  it("fails over after the configured number of retries", async () => {
    reset();
    warm.enqueue({ status: 503 }, { status: 503 }, { status: 503 });
    spare.enqueue({ text: "Spare took over." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/blip", "-p", "Hello"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Spare took over.");
    assert.equal(warm.calls.length, 3);
    assert.equal(spare.calls.length, 1);
    const final = events()
      .filter((event) => event.type === "final")
      .at(-1);
    assert.deepEqual([final.data.attempts, final.data.failovers], [4, 1]);
  });

  it("moves on at once when the warm target's quota is exhausted", async () => {
    reset();
    warm.enqueue({
      status: 429,
      errorType: "insufficient_quota",
      errorMessage: "You exceeded your current quota, please check your plan and billing details.",
    });
    spare.enqueue({ text: "Spare covered the quota." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/quota-blip", "-p", "Hello"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Spare covered the quota.");
    assert.equal(warm.calls.length, 1);
    assert.equal(spare.calls.length, 1);
  });

  const quotaReply = (seconds: number) => ({
    status: 429,
    errorType: "insufficient_quota",
    errorMessage: `You exceeded your current quota, please check your plan and billing details. Please try again in ${seconds}s.`,
  });

  it("waits for the earliest quota reset when every target is out of quota, then serves the same request", async () => {
    reset();
    warm.enqueue(quotaReply(30));
    spare.enqueue(quotaReply(1), { text: "After the reset." });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/wait-reset", "-p", "Keep going"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "After the reset.");
    assert.equal(warm.calls.length, 1, "the later reset is not waited for");
    assert.equal(spare.calls.length, 2);
    const waitLines = run.stderr.split("\n").filter((line) => /out of quota; waiting/.test(line));
    assert.equal(waitLines.length, 1, run.stderr);
    assert.match(
      waitLines[0]!,
      /every target of wait-reset is out of quota; waiting \d+s for mock-spare-r\/spare to reset/,
    );
    const wait = events()
      .filter((event) => event.type === "wait")
      .at(-1);
    assert.equal(wait.data.reason, "quota-reset");
    assert.equal(wait.data.target, "mock-spare-r/spare");
    assert.equal(
      events()
        .filter((event) => event.type === "final")
        .at(-1).data.outcome,
      "success",
    );
  });

  it("does not wait when the earliest reset is further away than maxMs", async () => {
    reset();
    warm.enqueue(quotaReply(30));
    spare.enqueue(quotaReply(20));
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/wait-short", "-p", "Keep going"],
    });
    assert.notEqual(run.code, 0);
    assert.doesNotMatch(run.stderr, /out of quota; waiting/);
    assert.equal(warm.calls.length, 1);
    assert.equal(spare.calls.length, 1);
    assert.equal(
      events()
        .filter((event) => event.type === "final")
        .at(-1).data.outcome,
      "failed",
    );
  });

  it("does not wait for a reset while a target is only cooling down from a transient error", async () => {
    reset();
    warm.enqueue({ status: 503, errorMessage: "Service unavailable" });
    spare.enqueue(quotaReply(1));
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/wait-transient", "-p", "Keep going"],
    });
    assert.notEqual(run.code, 0);
    assert.doesNotMatch(run.stderr, /out of quota; waiting/);
    assert.equal(warm.calls.length, 1);
    assert.equal(spare.calls.length, 1);
  });

  it("keeps the last part of a subscription's quota window for the reserved tier", async () => {
    reset();
    // Codex-style usage headers: 88% of a 5 h window used with 10 min left (on pace, so pacing itself is calm).
    const usage = {
      "x-codex-primary-used-percent": "88",
      "x-codex-primary-window-minutes": "300",
      "x-codex-primary-reset-after-seconds": "600",
    };
    warm.enqueue({ text: "Warm, reporting its usage.", headers: usage });
    spare.enqueue({ text: "Spare, since warm is reserved." });
    // One pi process: the first prompt's answer reports the usage, the second is routed by it.
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/reserved", "--mode", "json", "Hello", "Hello again"],
    });
    assert.deepEqual(
      assistantMessages(run.stdout).map((message) => [message.stopReason, message.content]),
      [
        ["stop", [{ type: "text", text: "Warm, reporting its usage." }]],
        ["stop", [{ type: "text", text: "Spare, since warm is reserved." }]],
      ],
      run.stderr,
    );
    const skipped = events()
      .filter((event) => event.type === "candidates")
      .at(-1).data.skipped;
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0].key, "mock-thinker/thinker");
    assert.equal(skipped[0].reason, "quota");
    assert.match(skipped[0].detail, /^reserved for reasoning: \w+ window 88% used, last 15% kept$/);
    // Out until the window resets (600 s after the first answer): what waits and a gateway's Retry-After read.
    const reported = events()
      .filter((event) => event.type === "usage" && event.data.target === "mock-thinker/thinker")
      .at(-1);
    const resetIn = skipped[0].until - Date.parse(reported.ts);
    assert.ok(resetIn > 590_000 && resetIn <= 600_000, `until ${skipped[0].until}: ${resetIn} ms after the usage`);

    warm.enqueue({ text: "Warm, from the reserve." });
    const third = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/reserved", "-p"],
      stdin: "@reasoning prove it",
    }); // as an argument, pi reads @x as a file
    assert.equal(third.stdout.trim(), "Warm, from the reserve.", third.stderr);
    const chosen = events()
      .filter((event) => event.type === "candidates")
      .at(-1).data.candidates[0];
    assert.equal(chosen.key, "mock-thinker/thinker");
    assert.ok(
      chosen.reasons.some((reason: string) => /^uses the reserve for reasoning/.test(reason)),
      chosen.reasons.join("; "),
    );
  });

  it("says a reserve never applies while quota pacing is off (AUTO_ROUTER_UVI=0)", async () => {
    reset();
    const off = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/reserved", "-p", "/auto-router status"],
      env: { AUTO_ROUTER_UVI: "0" },
    });
    assert.equal(off.code, 0, off.stderr);
    assert.match(
      off.stdout + off.stderr,
      /quota\.reserve\.mock-thinker is set, but quota pacing is off .*: the reserve never applies/,
    );
    const on = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/reserved", "-p", "/auto-router status"],
    });
    assert.doesNotMatch(on.stdout + on.stderr, /the reserve never applies/);
  });

  it("keeps a reserve for interactive prompts: typed prompts use it, prompts from an RPC client do not", async () => {
    reset();
    const usage = {
      "x-codex-primary-used-percent": "90",
      "x-codex-primary-window-minutes": "300",
      "x-codex-primary-reset-after-seconds": "600",
    };
    warm.enqueue({ text: "Typist, reporting its usage.", headers: usage });
    spare.enqueue({ text: "Spare, for the script." });
    // One RPC client: its first prompt (no usage known yet, so no reserve) gets the usage reported; its second is not
    // typed by a person, so the reserved subscription is skipped.
    const rpc = await startRpc({ agentDir: dir.agentDir, args: ["--model", "auto-router/typed"] });
    const answers: any[] = [];
    try {
      for (const message of ["Hello", "from a script"]) {
        await rpc.request({ type: "prompt", message });
        const end = await rpc.waitFor((line) => line.type === "agent_end", 60_000);
        answers.push(end.messages.filter((m: any) => m.role === "assistant").at(-1));
      }
    } finally {
      await rpc.close();
    }
    assert.deepEqual(
      answers.map((message) => [message.stopReason, message.provider, message.content]),
      [
        ["stop", "mock-typist", [{ type: "text", text: "Typist, reporting its usage." }]],
        ["stop", "mock-spare", [{ type: "text", text: "Spare, for the script." }]],
      ],
      rpc.stderr,
    );
    assert.equal(spare.calls.length, 1);
    const skipped = events()
      .filter((event) => event.type === "candidates")
      .at(-1).data.skipped;
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0].key, "mock-typist/typist");
    assert.match(skipped[0].detail, /^reserved for interactive prompts: \w+ window 90% used, last 15% kept$/);

    // pi -p is pi's interactive input source too: a person at a terminal typed it.
    warm.enqueue({ text: "Typist, from the reserve." });
    const third = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/typed", "-p", "typed by hand"],
    });
    assert.equal(third.stdout.trim(), "Typist, from the reserve.", third.stderr);
    const chosen = events()
      .filter((event) => event.type === "candidates")
      .at(-1).data.candidates[0];
    assert.equal(chosen.key, "mock-typist/typist");
    assert.ok(
      chosen.reasons.some((reason: string) => /^uses the reserve for interactive prompts/.test(reason)),
      chosen.reasons.join("; "),
    );
  });
});
