// Quota pacing through the real pi CLI against emulated providers: rate-limit headers of one response demote that
// provider on the next prompt (a new pi process: the observed windows live in the shared state directory).
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { type EmulatedAgent, startEmulatedAgent } from "../helpers/emulated-agent.ts";
import { assistantMessages, runPi, lastAssistantMessage } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { readLoggedEvents } from "../helpers/event-log.ts";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import OpenAI from "openai";

const HOUR_MS = 3_600_000;

describe("quota pacing through the pi CLI", () => {
  let anthropic: Emulator;
  let openai: Emulator;
  let dir: EmulatedAgent<"B" | "C">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { C: "anthropic", B: "openai" },
      providers: {
        "mock-c": { emulator: "C", apiKey: "sk-ant-mock-c", models: ["model-c"] },
        "mock-b": { emulator: "B", apiKey: "sk-mock-b-key", models: ["model-b", "model-b2"] },
      },
      routes: {
        routes: {
          main: routeInOrder("mock-c/model-c", "mock-b/model-b"),
          trio: routeInOrder("mock-c/model-c", "mock-b/model-b", "mock-b/model-b2"),
        },
      },
    });
    ({ C: anthropic, B: openai } = dir.emulators);
  });
  after(() => dir?.stop());

  it("demotes a provider on the next prompt after its response headers report 95% of a window used", async () => {
    // 95% of the 5 h window used with 2 h 15 min left: 55% elapsed, UVI 1.73 -> stressed (demoted, not excluded).
    const resetSeconds = Math.round((Date.now() + 2.25 * HOUR_MS) / 1000);
    anthropic.enqueue({
      text: "Hello from C.",
      headers: {
        "anthropic-ratelimit-unified-5h-utilization": "0.95",
        "anthropic-ratelimit-unified-5h-reset": String(resetSeconds),
      },
    });
    const first = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "--mode", "json", "Say hi"],
    });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(lastAssistantMessage(first.stdout).provider, "mock-c");

    anthropic.enqueue({ text: "C again (should not be used)." });
    openai.enqueue({ text: "Hello from B." });
    // The uvi table in the same (second) process: pi writes a command's output to stderr, the JSON events to stdout.
    const second = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "--mode", "json", "Say hi again", "/auto-router uvi"],
    });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(lastAssistantMessage(second.stdout).provider, "mock-b");
    assert.equal(anthropic.calls.length, 1);
    assert.equal(openai.calls.length, 1);
    assert.match(second.stderr, /mock-c\s+5h\s+95%\s+5\d%\s+1\.\d\d\s+stressed/);
  });

  it("logs a quota event only when a provider's assessment changed, not again in every new pi process", async () => {
    const quotaEvents = () => readLoggedEvents(dir.agentDir).filter((event) => event.type === "quota");
    // mock-c's stressed 5h window of the first test was logged when it was first seen.
    const before = quotaEvents();
    assert.deepEqual(
      before.map((event) => [event.data.provider, event.data.level]),
      [["mock-c", "stressed"]],
    );
    for (let run = 0; run < 3; run++) {
      const status = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router circuit"],
      });
      assert.equal(status.code, 0, status.stderr);
    }
    assert.equal(quotaEvents().length, before.length);
  });

  it("says in list and uvi that hard mode excludes a stressed provider, as routing then does", async () => {
    // Both commands in one pi process: list's output ends where uvi's first line begins.
    const run = await runPi({
      agentDir: dir.agentDir,
      env: { AUTO_ROUTER_UVI_HARD: "1" },
      args: ["--model", "auto-router/main", "-p", "/auto-router list", "/auto-router uvi"],
    });
    assert.equal(run.code, 0, run.stderr);
    const uviStart = "quota pacing (UVI = ";
    assert.equal(run.stderr.split(uviStart).length, 2, run.stderr);
    const list = run.stderr.slice(0, run.stderr.indexOf(uviStart));
    const uvi = run.stderr.slice(run.stderr.indexOf(uviStart));
    // mock-c's 5h window of the first test is stressed.
    assert.match(list, /mock-c\/model-c\s.*quota stressed \(excluded in hard mode\)/);
    assert.match(list, /mock-b\/model-b\s.*\bready\b/);
    assert.match(uvi, /hard mode: stressed providers are excluded/);
    assert.match(uvi, /stressed ≥ 1\.5 \(excluded\)/);
  });

  it("explains the winner of a declared-order route by the demotion of the declared first target", async () => {
    openai.enqueue({ text: "Hello from B." });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/trio", "-p", "Say hi", "/auto-router explain"],
    });
    assert.equal(run.code, 0, run.stderr);
    // mock-c's 5h window of the first test is stressed: demoted behind both mock-b targets.
    assert.match(
      run.stderr,
      /Ranked first: \S*model-b: \S*model-c demoted \(quota stressed\); then first in declared order \(sortBy config\)/,
    );
  });

  it("keeps quota pacing off under AUTO_ROUTER_UVI=0 whatever a stored `uvi enable` says, says so, and stores an enable given under it", async () => {
    const uvi = (command: string, env?: Record<string, string>) =>
      runPi({
        agentDir: dir.agentDir,
        env,
        args: ["--model", "auto-router/main", "-p", `/auto-router uvi ${command}`],
      });
    // `off` and `on` are `disable` and `enable`, as `budget set ... off` reads.
    const disabled = await uvi("off");
    assert.match(disabled.stdout + disabled.stderr, /quota pacing disabled/);
    // Under the variable the enable is stored all the same: the variable overrides it in its own process only.
    const forced = await uvi("enable", { AUTO_ROUTER_UVI: "0" });
    assert.match(
      forced.stdout + forced.stderr,
      /quota pacing enabled \(stored\), but it stays off in this pi process: AUTO_ROUTER_UVI=0 is set in its environment/,
    );
    const shown = await uvi("show");
    assert.match(shown.stdout + shown.stderr, /quota pacing \(UVI[^)]*\): enabled,/);
    // Stored without the variable (in team mode, by any teammate).
    const enabled = await uvi("on");
    assert.match(enabled.stdout + enabled.stderr, /quota pacing enabled/);
    // mock-c's window is stressed (the first test): with pacing on it would be demoted behind mock-b. The show and
    // the prompt run in one pi process, under the same variable.
    const before = { c: anthropic.calls.length, b: openai.calls.length };
    const prompt = await runPi({
      agentDir: dir.agentDir,
      env: { AUTO_ROUTER_UVI: "0" },
      args: ["--model", "auto-router/main", "-p", "/auto-router uvi show", "hello"],
    });
    assert.equal(prompt.code, 0, prompt.stderr);
    assert.match(prompt.stdout + prompt.stderr, /quota pacing \(UVI[^)]*\): disabled by AUTO_ROUTER_UVI=0/);
    assert.deepEqual({ c: anthropic.calls.length - before.c, b: openai.calls.length - before.b }, { c: 1, b: 0 });
  });

  it("reads the switch as people write it (off, no, false) and names a value or a variable it does not use", async () => {
    const run = (env: Record<string, string>) =>
      runPi({ agentDir: dir.agentDir, env, args: ["--model", "auto-router/main", "-p", "/auto-router uvi show"] });
    const off = await run({ AUTO_ROUTER_UVI: "off" });
    assert.equal(off.code, 0, off.stderr);
    assert.match(off.stdout + off.stderr, /quota pacing \(UVI[^)]*\): disabled by AUTO_ROUTER_UVI=off,/);
    assert.doesNotMatch(off.stderr, /is not used|not read/);
    const wrong = await run({ AUTO_ROUTER_UVI: "maybe", AUTO_ROUTER_UVI_HARD: "yes", AUTO_ROUTER_LOGDIR: "/tmp/x" });
    assert.equal(wrong.code, 0, wrong.stderr);
    assert.match(wrong.stdout + wrong.stderr, /quota pacing \(UVI[^)]*\): enabled, hard mode/, "yes is on");
    assert.match(wrong.stderr, /auto-router: AUTO_ROUTER_UVI="maybe" is not used: expected 0 \(off\) or 1 \(on\)/);
    assert.match(
      wrong.stderr,
      /auto-router: AUTO_ROUTER_LOGDIR is set but not read by pi-auto-router; did you mean AUTO_ROUTER_LOG_DIR\?/,
    );
  });
});

describe("quota figures through the pi CLI", () => {
  let dir: EmulatedAgent<"C">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { C: "anthropic" },
      providers: { "mock-c": { emulator: "C", apiKey: "sk-ant-mock-c", models: ["model-c"] } },
      routes: { routes: { main: routeInOrder("mock-c/model-c") } },
    });
  });
  after(() => dir?.stop());

  it("rounds a UVI just under critical down everywhere it is shown, never up to the threshold", async () => {
    // A 5h window that resets in 5 h has just started: elapsed counts as 5%, so 9.99% used is UVI 1.998, stressed.
    dir.emulators.C.enqueue({
      text: "Hello from C.",
      headers: {
        "anthropic-ratelimit-unified-5h-utilization": "0.0999",
        "anthropic-ratelimit-unified-5h-reset": String(Math.ceil((Date.now() + 5 * HOUR_MS) / 1000)),
      },
    });
    const run = (...args: string[]) =>
      runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", ...args] });
    // The prompt that brings the headers, then both views of them, in one pi process.
    const shown = await run("-p", "Say hi", "/auto-router uvi", "/auto-router status");
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stderr, /mock-c\s+5h\s+9%\s+5%\s+1\.99\s+stressed/);
    assert.match(shown.stderr, /warnings: [^\n]*quota stressed mock-c 1\.9\b/);
  });
});

describe("impossible quota resets through the pi CLI", () => {
  let dir: EmulatedAgent<"C">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { C: "anthropic" },
      providers: { "mock-c": { emulator: "C", apiKey: "sk-ant-mock-c", models: ["model-c"] } },
      routes: { routes: { main: routeInOrder("mock-c/model-c") } },
    });
  });
  after(() => dir?.stop());

  it("ignores a 5h window whose reset lies days ahead, says so once, and keeps routing to the target", async () => {
    // A 5 h window said to reset in 10 days cannot be right: believed, it would be 30% used at the floor of 5% elapsed,
    // critical, and the only target of the route shut out until then. (Epoch milliseconds are read as such now.)
    const headers = {
      "anthropic-ratelimit-unified-5h-utilization": "0.3",
      "anthropic-ratelimit-unified-5h-reset": String(Math.round((Date.now() + 240 * HOUR_MS) / 1000)),
    };
    dir.emulators.C.enqueue({ text: "Hello from C.", headers });
    dir.emulators.C.enqueue({ text: "C again.", headers });
    const run = (...args: string[]) =>
      runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", ...args] });
    const first = await run("-p", "Say hi", "Say hi again");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /C again\./);
    const warnings = first.stderr.match(/anthropic-ratelimit-unified-5h-reset says the 5h window resets in \d+h/g);
    assert.equal(warnings?.length, 1, first.stderr);
    assert.match(first.stderr, /expected epoch seconds\): window ignored/);

    dir.emulators.C.enqueue({ text: "Still C." });
    // A new pi process: the ignored window was not kept in the state directory either.
    const next = await run("-p", "One more", "/auto-router uvi");
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /Still C\./);
    assert.equal(dir.emulators.C.calls.length, 3);
    assert.match(next.stdout + next.stderr, /no quota windows known yet/);
  });
});

describe("a used-up rate-limit window through the pi CLI and the gateway", () => {
  let dir: EmulatedAgent<"B">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { B: "openai" },
      providers: { "mock-b": { emulator: "B", apiKey: "sk-mock-b-key", models: ["model-b"] } },
      // No short wait: the request is answered at once, with when the target is back.
      routes: { routes: { g: { ...routeInOrder("mock-b/model-b"), failover: { cooldownWaitMs: 0 } } } },
    });
  });
  after(() => dir?.stop());

  it("says when the target is back, in pi's error and in the gateway's Retry-After", async () => {
    // The last request of the window: used up until it resets in 100 s (long enough for the second prompt and the
    // gateway below on a loaded machine, short enough to read in seconds).
    dir.emulators.B.enqueue({
      text: "Hello from B.",
      headers: {
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "100s",
      },
    });
    // Both prompts in one pi process, in JSON mode: each prompt's own answer or error.
    const runs = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/g", "--mode", "json", "Say hi", "Say hi again"],
    });
    const [first, refused, ...more] = assistantMessages(runs.stdout);
    assert.equal(first?.stopReason, "stop", runs.stderr);
    assert.equal(more.length, 0, runs.stdout);
    assert.equal(refused?.stopReason, "error", runs.stdout);
    // What print mode shows of the refused prompt: its error (on stderr), and what pi said on stderr.
    const text = `${runs.stderr}\n${refused.errorMessage}`;
    assert.match(
      text,
      /mock-b\/model-b: quota critical: requests window 100% used \(model-b only\) at \d+% elapsed: used up until its reset/,
    );
    assert.doesNotMatch(text, /requests window 100% used[^)]*UVI/);
    assert.match(text, /First available: mock-b\/model-b at \d\d:\d\d:\d\d \(in \d+s\)/);

    const gateway = await startGatewayProcess({ agentDir: dir.agentDir });
    try {
      const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.token, maxRetries: 0 });
      await assert.rejects(
        openai.chat.completions.create({ model: "g", messages: [{ role: "user", content: "hi" }] }),
        (error: any) => {
          assert.equal(error.status, 429);
          const seconds = Number(error.headers.get("retry-after"));
          assert.ok(seconds >= 1 && seconds <= 101, String(error.headers.get("retry-after")));
          return true;
        },
      );
    } finally {
      await gateway.stop();
    }
    assert.equal(dir.emulators.B.calls.length, 1);
  });
});

describe("a model's own rate-limit window through the pi CLI", () => {
  let dir: EmulatedAgent<"B">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { B: "openai" },
      providers: { "mock-b": { emulator: "B", apiKey: "sk-mock-b-key", models: ["model-b", "model-b2"] } },
      routes: {
        routes: { pair: { ...routeInOrder("mock-b/model-b", "mock-b/model-b2"), failover: { cooldownWaitMs: 0 } } },
      },
    });
  });
  after(() => dir?.stop());

  it("reads a per-minute request limit as a bucket that refills: 70% used keeps the model first", async () => {
    // OpenAI's (and Anthropic's) request limits refill continuously; the reset is when the bucket is full again. Read as
    // a fixed minute, 70% used with 42 s to go was UVI 2.33, critical, and model-b was skipped for model-b2.
    dir.emulators.B.enqueue({
      text: "From model-b.",
      headers: {
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": "3",
        "x-ratelimit-reset-requests": "42s",
      },
    });
    dir.emulators.B.enqueue({ text: "From model-b again." });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/pair", "--mode", "json", "Say hi", "Say hi again", "/auto-router uvi"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      dir.emulators.B.calls.map((call) => call.body.model),
      ["model-b", "model-b"],
      "model-b serves again: 70% of a bucket used is no reason to skip or demote it",
    );
    // Used now (what refilled since counted) at most 70%, UVI at most 1.40: ok, full again in under 42 s.
    assert.match(
      run.stderr,
      /\nmock-b\s+requests\s+[67]\d%\s+refills\s+1\.[0-4]\d\s+ok\s+full in [1-4]?\ds\s+headers\s+model-b only/,
    );
    dir.reset();
  });

  it("skips only the model whose requests are used up, and serves the provider's other model", async () => {
    // Request and token limits are per model (OpenAI's x-ratelimit-*, Anthropic's anthropic-ratelimit-requests-*).
    dir.emulators.B.enqueue({
      text: "From model-b.",
      headers: {
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": "0",
        // Ten minutes: the second prompt and the uvi table below still see it on a loaded machine.
        "x-ratelimit-reset-requests": "10m",
      },
    });
    dir.emulators.B.enqueue({ text: "From model-b2." });
    // Both prompts and the uvi table in one pi process (JSON events on stdout, the command's output on stderr).
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/pair", "--mode", "json", "Say hi", "Say hi again", "/auto-router uvi"],
    });
    assert.equal(run.code, 0, run.stderr);
    const [first, answer, ...more] = assistantMessages(run.stdout);
    assert.equal(more.length, 0, run.stdout);
    assert.equal(first?.stopReason, "stop", run.stderr);
    assert.equal(first.model, "model-b");
    assert.equal(answer?.stopReason, "stop", run.stderr);
    assert.equal(answer.provider, "mock-b", "the same provider serves");
    assert.equal(answer.model, "model-b2");
    assert.deepEqual(
      dir.emulators.B.calls.map((call) => call.body.model),
      ["model-b", "model-b2"],
      "model-b is not asked while its window is used up",
    );

    assert.match(run.stderr, /\nmock-b\s+requests\s+100%\s.*\bcritical\b.*\bheaders\s+model-b only\b/);
  });
});

describe("reset headers other OpenAI-compatible providers send, through the pi CLI", () => {
  let dir: EmulatedAgent<"B">;

  beforeEach(async () => {
    dir = await startEmulatedAgent({
      emulators: { B: "openai" },
      providers: {
        "mock-b": { emulator: "B", apiKey: "sk-mock-b-key", models: ["model-b", "llama:free", "qwen:free"] },
      },
      routes: {
        routes: {
          g: { ...routeInOrder("mock-b/model-b"), failover: { cooldownWaitMs: 0 } },
          // OpenRouter's free variants first, then a paid model.
          free: {
            ...routeInOrder("mock-b/llama:free", "mock-b/qwen:free", "mock-b/model-b"),
            failover: { cooldownWaitMs: 0 },
          },
        },
      },
    });
  });
  afterEach(() => dir?.stop());
  const run = (...args: string[]) => runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/g", ...args] });

  it("reads a bare number of seconds in x-ratelimit-reset-requests: a used-up window holds the target until then", async () => {
    dir.emulators.B.enqueue({
      text: "Hello from B.",
      headers: {
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": "0",
        // Seconds as a bare number (OpenAI itself would say "100s"); long enough for the second prompt below.
        "x-ratelimit-reset-requests": "100",
      },
    });
    // Both prompts in one pi process, in JSON mode: each prompt's own answer or error.
    const runs = await run("--mode", "json", "Say hi", "Say hi again");
    const [first, refused, ...more] = assistantMessages(runs.stdout);
    assert.equal(first?.stopReason, "stop", runs.stderr);
    assert.equal(more.length, 0, runs.stdout);
    assert.doesNotMatch(runs.stderr, /cannot be read/);
    assert.equal(refused?.stopReason, "error", runs.stdout);
    // What print mode shows of the refused prompt: its error (on stderr), and what pi said on stderr.
    const text = `${runs.stderr}\n${refused.errorMessage}`;
    assert.match(
      text,
      /mock-b\/model-b: quota critical: requests window 100% used \(model-b only\)[^\n]*used up until its reset/,
    );
    assert.match(text, /First available: mock-b\/model-b at \d\d:\d\d:\d\d \(in \d+s\)/);
    assert.equal(dir.emulators.B.calls.length, 1);
  });

  it("reads OpenRouter's unsuffixed x-ratelimit-* (reset in epoch ms): a free variant's window holds every free variant, a paid model's only it", async () => {
    // OpenRouter sends the reset in epoch milliseconds. Ten minutes: still ahead for the later prompts on a loaded
    // machine.
    const usedUp = (limit: string) => ({
      "X-RateLimit-Limit": limit,
      "X-RateLimit-Remaining": "0",
      "X-RateLimit-Reset": String(Date.now() + 10 * 60_000),
    });
    // The last of the account's free-model requests today, answered by one free variant.
    dir.emulators.B.enqueue({ text: "Hello from a free model.", headers: usedUp("50") });
    // The paid model's own last request of its window.
    dir.emulators.B.enqueue({ text: "Hello from the paid model.", headers: usedUp("20") });
    dir.emulators.B.enqueue({ text: "B again (should not be used)." });
    const runs = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/free", "-p", "Say hi", "/auto-router uvi", "Say hi again", "Once more"],
    });
    assert.equal(runs.code, 1, "the third prompt finds no target");
    const text = runs.stdout + runs.stderr;
    assert.doesNotMatch(text, /cannot be read|window ignored/);
    assert.deepEqual(
      dir.emulators.B.calls.map((call) => call.body.model),
      ["llama:free", "model-b"],
      "the other free variant is not asked once the free models' window is used up, nor the paid model after its own",
    );
    // uvi names whose window it is: every free variant's.
    assert.match(text, /\nmock-b\s+requests\s+100%\s.*\bcritical\b.*\bheaders\s+:free models\b/);
    // The third prompt: both free variants held by the free models' window, the paid model by its own.
    for (const model of ["llama:free", "qwen:free"])
      assert.match(
        text,
        new RegExp(
          `mock-b/${model}: quota critical: requests window 100% used \\(:free models\\)[^\\n]*used up until its reset`,
        ),
      );
    assert.match(
      text,
      /mock-b\/model-b: quota critical: requests window 100% used \(model-b only\)[^\n]*used up until its reset/,
    );
  });

  it("says once which reset header it cannot read, with its value's shape and what it expected, never the value", async () => {
    const headers = {
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "100",
      "x-ratelimit-reset-tokens": "12:30",
      // ChatGPT/Codex subscription windows: a reset that is no number is said too.
      "x-codex-primary-used-percent": "40",
      "x-codex-primary-window-minutes": "300",
      "x-codex-primary-reset-after-seconds": "in-a-bit",
    };
    dir.emulators.B.enqueue({ text: "One.", headers });
    dir.emulators.B.enqueue({ text: "Two.", headers });
    const first = await run("-p", "Say hi", "Say hi again");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Two\./);
    const warnings = first.stderr.match(
      /quota pacing of mock-b: x-ratelimit-reset-tokens has a value shaped 99:99, which cannot be read as a reset \(expected seconds from now \("59\.5"\), epoch seconds or milliseconds, or a duration such as "6m0s"\): its window is ignored/g,
    );
    assert.equal(warnings?.length, 1, first.stderr);
    assert.doesNotMatch(first.stderr, /12:30/);
    const codex = first.stderr.match(
      /quota pacing of mock-b: x-codex-primary-reset-after-seconds has a value shaped aa-a-aaa, which cannot be read as a reset \(expected seconds\): its window is ignored/g,
    );
    assert.equal(codex?.length, 1, first.stderr);
    assert.doesNotMatch(first.stderr, /in-a-bit/);
  });
});
