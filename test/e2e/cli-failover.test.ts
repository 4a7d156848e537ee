// The real pi CLI with the extension against local HTTP emulators of the OpenAI and Anthropic streaming APIs:
// failover on real provider failures (HTTP status, refused connection, stall, empty 200), and cooldowns that
// survive a restart of pi because they live in the shared state directory.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type EmulatedAgent, startEmulatedAgent, TWO_OPENAI_PROVIDERS } from "../helpers/emulated-agent.ts";
import { assistantMessages, type PiRun, runPi, lastAssistantMessage } from "../helpers/pi-cli.ts";
import type { AnthropicReply } from "../helpers/anthropic-emulator.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { readLoggedEvents } from "../helpers/event-log.ts";
import { freePort } from "../helpers/free-port.ts";

describe("pi CLI with auto-router against emulated providers", () => {
  let openai: Emulator;
  let anthropic: Emulator;
  let healthy: Emulator;
  let deadPort: number;
  let dir: EmulatedAgent<"A" | "B" | "C">;

  before(async () => {
    deadPort = await freePort();
    dir = await startEmulatedAgent({
      emulators: { A: "openai", C: "anthropic", B: "openai" },
      providers: {
        "mock-a": {
          emulator: "A",
          apiKey: "sk-mock-a-key",
          models: ["model-a", "chain-a", { id: "thinker-a", reasoning: true }],
        },
        "mock-c": {
          emulator: "C",
          apiKey: "sk-ant-mock-c",
          models: [
            "model-c",
            "chain-c",
            { id: "thinker-c", reasoning: true },
            // An adaptive-thinking Claude (pi-ai sends an effort; 0.73.1 knows it by its id, 1.6.0 by the compat
            // flag), whose xhigh is Anthropic's "max".
            {
              id: "claude-opus-4-6",
              reasoning: true,
              thinkingLevelMap: { xhigh: "max" },
              compat: { forceAdaptiveThinking: true },
            },
          ],
        },
        "mock-dead": {
          baseUrl: `http://127.0.0.1:${deadPort}/v1`,
          api: "openai-completions",
          apiKey: "sk-dead",
          models: [{ id: "model-dead" }],
        },
        "mock-b": { emulator: "B", apiKey: "sk-mock-b-key", models: ["model-b"] },
      },
      routes: {
        routes: {
          chain: {
            sortBy: "config",
            // Rests long enough to outlast the next test's pi start on a loaded machine (the default is 30 s).
            failover: { kinds: { overloaded: { cooldownMs: 600_000 } } },
            // Models of their own: a rate limit and an overload rest a target on every route naming it.
            targets: ["mock-dead/model-dead", "mock-a/chain-a", "mock-c/chain-c", "mock-b/model-b"].map((t) => ({
              provider: t.split("/")[0],
              modelId: t.split("/")[1],
            })),
          },
          stall: {
            sortBy: "config",
            timeouts: { firstTokenMs: 400 },
            targets: [
              { provider: "mock-a", modelId: "model-a" },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
          // A stall deadline shorter than a silent thinking block (pi-ai passes the target's pings on as nothing).
          silentThinking: { ...routeInOrder("mock-c/model-c", "mock-b/model-b"), timeouts: { stallMs: 600 } },
          slowHeaders: {
            sortBy: "config",
            timeouts: { requestMs: 500 },
            targets: [
              { provider: "mock-a", modelId: "model-a" },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
          empty: routeInOrder("mock-c/model-c", "mock-b/model-b"),
          toolLoop: routeInOrder("mock-a/thinker-a", "mock-c/thinker-c"),
          xhigh: routeInOrder("mock-c/claude-opus-4-6", "mock-b/model-b"),
          // Rests long enough to outlast the second pi process's start on a loaded machine (the default is 15 s).
          dropped: {
            ...routeInOrder("mock-a/model-a", "mock-b/model-b"),
            failover: { kinds: { network: { cooldownMs: 600_000 } } },
          },
        },
      },
    });
    ({ A: openai, C: anthropic, B: healthy } = dir.emulators);
  });
  after(() => dir?.stop());

  const reset = () => dir.reset();

  it("fails over through a refused connection, a 429 and a 529 to the healthy target in one request", async () => {
    reset();
    openai.enqueue({
      status: 429,
      errorMessage: "Rate limit reached for gpt. Please try again in 10m0s.",
      retryAfterSeconds: 600,
    });
    anthropic.enqueue({ status: 529, errorType: "overloaded_error", errorMessage: "Overloaded" });
    healthy.enqueue({ text: "Hello from B." });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/chain", "--mode", "json", "Say hi"],
    });
    assert.equal(run.code, 0, run.stderr);
    const message = lastAssistantMessage(run.stdout);
    assert.equal(message.provider, "mock-b");
    assert.equal(message.model, "model-b");
    assert.equal(message.content.find((b: any) => b.type === "text").text, "Hello from B.");
    assert.equal(openai.calls.length, 1);
    assert.equal(anthropic.calls.length, 1);
    assert.equal(healthy.calls.length, 1);
    // Each target got its own key, never the router's.
    assert.equal(openai.calls[0]!.headers.authorization, "Bearer sk-mock-a-key");
    assert.equal(healthy.calls[0]!.headers.authorization, "Bearer sk-mock-b-key");
  });

  it("remembers those cooldowns in the next pi process and goes straight to the healthy target", async () => {
    reset();
    healthy.enqueue({ text: "Straight to B." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/chain", "-p", "Again"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Straight to B.");
    assert.equal(openai.calls.length, 0, "rate-limited target rests for its 10 min hint");
    assert.equal(anthropic.calls.length, 0, "overloaded target rests");
    const cooldownFile = join(dir.agentDir, "extensions", "auto-router.cooldowns.json");
    assert.ok(existsSync(cooldownFile));
    assert.equal(statSync(cooldownFile).mode & 0o777, 0o600);
    const cooldowns = JSON.parse(readFileSync(cooldownFile, "utf8"));
    assert.equal(cooldowns.entries["chain::mock-a/chain-a"].kind, "rate_limit");
  });

  it("fails over when a target accepts the request but sends nothing before the first-token timeout", async () => {
    reset();
    openai.enqueue({ text: "never arrives", stallAfterChunks: 0 });
    healthy.enqueue({ text: "B was quick." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/stall", "-p", "Quick"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B was quick.");
  });

  it("waits through a thinking block silent for longer than stallMs, as its target's pings keep it alive", async () => {
    reset();
    anthropic.enqueue({
      omittedThinking: { pings: 15, redacted: true },
      chunkDelayMs: 100,
      text: "Thought it through.",
    } as AnthropicReply);
    healthy.enqueue({ text: "B, after a stall." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/silentThinking", "-p", "Plan"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Thought it through.");
    assert.equal(healthy.calls.length, 0, "no failover");
  });

  it("fails over when a target sends no response headers within timeouts.requestMs (the SDK's HTTP timeout)", async () => {
    reset();
    openai.enqueue({ text: "too late", delayBeforeHeadersMs: 5_000 });
    healthy.enqueue({ text: "B answered in time." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/slowHeaders", "-p", "Quick"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B answered in time.");
    assert.equal(openai.calls.length, 1, "one attempt on A, no SDK retry");
    const cooldowns = JSON.parse(readFileSync(join(dir.agentDir, "extensions", "auto-router.cooldowns.json"), "utf8"));
    assert.equal(cooldowns.entries["slowHeaders::mock-a/model-a"].kind, "timeout");
  });

  it("treats an empty 200 as a failure and fails over", async () => {
    reset();
    anthropic.enqueue({ emptyStream: true });
    healthy.enqueue({ text: "B filled in." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/empty", "-p", "Anything"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B filled in.");
  });

  it("fails over in the middle of a tool loop with thinking on to an Anthropic target, which gets thinking off", async () => {
    reset();
    openai.enqueue(
      { thinking: "The files will tell.", toolCall: { name: "ls", arguments: { path: "." } } },
      { status: 429, errorMessage: "Rate limit reached for requests. Please try again in 10m0s." },
    );
    // api.anthropic.com's refusal when the tool calls the last turn answers do not start with a thinking block.
    anthropic.setDefault((call) => {
      const calls = call.body.messages.at(-2);
      return call.body.thinking?.type === "enabled" && calls?.content?.[0]?.type !== "thinking"
        ? {
            status: 400,
            errorMessage: `messages.1.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${calls?.content?.[0]?.type}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`.`,
          }
        : { text: "Listed after the tool." };
    });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/toolLoop", "--thinking", "high", "--tools", "ls", "--mode", "json", "List"],
    });
    const [calls, answer] = assistantMessages(run.stdout);
    assert.equal(calls?.provider, "mock-a", run.stdout + run.stderr);
    assert.equal(answer?.provider, "mock-c", run.stdout + run.stderr);
    assert.equal(answer.errorMessage, undefined);
    assert.deepEqual(answer.content, [{ type: "text", text: "Listed after the tool." }]);
    assert.equal(anthropic.calls.length, 1);
    const sent = anthropic.calls[0]!.body;
    assert.equal(sent.thinking, undefined);
    assert.equal(sent.messages.at(-1).content[0].type, "tool_result");
    assert.equal(sent.messages.at(-1).content[0].tool_use_id, calls.content.at(-1).id);
    // pi says so (a warning, on stderr without a UI), and the event log on the request's final line (the gateway says
    // it in x-auto-router-ignored).
    assert.match(
      run.stderr,
      /auto-router: thinking off for mock-c\/thinker-c: the tool calls this turn answers were made by another API or model/,
    );
    const served = readLoggedEvents(dir.agentDir).find(
      (event) => event.type === "final" && event.data.servedTarget === "mock-c/thinker-c",
    );
    assert.ok(
      served?.data.notes?.some((note: string) =>
        /^thinking off for mock-c\/thinker-c: the tool calls this turn answers were made by another API or model/.test(
          note,
        ),
      ),
      JSON.stringify(served),
    );
  });

  it("offers the xhigh thinking level on a route whose target has it, and that target gets it", async () => {
    reset();
    anthropic.enqueue({ text: "Thought hard." });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/xhigh", "--thinking", "xhigh", "-p", "Think"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Thought hard.");
    // pi had lowered the route's xhigh to high: the target got effort "high", not its xhigh ("max").
    assert.deepEqual(anthropic.calls[0]!.body.output_config, { effort: "max" });
  });

  it("surfaces a connection dropped after text and never calls the next target", async () => {
    reset();
    // mock-a may still be cooling from the first test in route "chain"; cooldowns are per route, "dropped" is fresh.
    openai.enqueue({ text: ["one ", "two ", "three"], dropAfterChunks: 2 });
    healthy.enqueue({ text: "B took the retry." });
    // Both prompts in one pi process: the first is cut off, the second is the next prompt after it.
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/dropped", "--mode", "json", "Count", "Count again"],
    });
    const answers = assistantMessages(run.stdout);
    assert.equal(answers.length, 2, run.stdout + run.stderr);
    const [dropped, again] = answers;
    assert.equal(dropped.stopReason, "error");
    assert.equal(dropped.provider, "mock-a");
    // B's only call is the second prompt's: the cut-off answer was not failed over.
    assert.equal(healthy.calls.length, 1);
    const asked = (healthy.calls[0]!.body.messages as Array<{ role: string }>).filter((m) => m.role === "user");
    assert.match(JSON.stringify(asked.at(-1)), /Count again/);
    // Not failed over, but the target that cut its answer off rests like one that failed before the commit point:
    // the next request (pi's own retry of this one, or the next prompt) goes to B, not into the same failure.
    const cooldowns = JSON.parse(readFileSync(join(dir.agentDir, "extensions", "auto-router.cooldowns.json"), "utf8"));
    assert.equal(cooldowns.entries["dropped::mock-a/model-a"]?.kind, "network");
    assert.equal(again.stopReason, "stop", again.errorMessage);
    assert.equal(again.provider, "mock-b");
    assert.deepEqual(again.content, [{ type: "text", text: "B took the retry." }]);
    assert.equal(openai.calls.length, 1, "A is not called again while it rests");
  });
});

describe("pi CLI: pi's own retry of an answer cut off on a route's only target", () => {
  let dir: EmulatedAgent<"A">;
  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai" },
      providers: { "mock-a": { emulator: "A", apiKey: "sk-mock-a-key", models: ["model-a"] } },
      routes: {
        routes: {
          only: {
            ...routeInOrder("mock-a/model-a"),
            timeouts: { stallMs: 400 },
          },
        },
      },
      settings: { retry: { enabled: true, maxRetries: 1, baseDelayMs: 10 } },
    });
  });
  after(() => dir?.stop());

  it("goes to the target again at once: the route's only target does not rest for the stall", async () => {
    dir.emulators.A.enqueue({ text: ["one ", "two ", "three"], stallAfterChunks: 2 }, { text: "Whole answer." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/only", "-p", "Go"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Whole answer.");
    assert.equal(dir.emulators.A.calls.length, 2);
    // The cut-off answer's error reached pi, whose retry was served without a wait for a rest.
    assert.doesNotMatch(run.stderr, /resting|waiting/);
    const status = await runPi({ agentDir: dir.agentDir, args: ["-p", "/auto-router status"] });
    assert.match(status.stdout + status.stderr, /^cooldowns: none$/m);
  });
});

describe("pi CLI: pi's retry delay from the project's .pi/settings.json", () => {
  let dir: EmulatedAgent<"A" | "B">;
  let project: string;
  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers: TWO_OPENAI_PROVIDERS,
      routes: {
        routes: { pair: { ...routeInOrder("mock-a/model-a", "mock-b/model-b"), failover: { cooldownWaitMs: 0 } } },
      },
      // The global retry comes late; the project's, which pi reads over it, at once.
      settings: { retry: { enabled: true, maxRetries: 1, baseDelayMs: 10_000 } },
    });
    project = join(dir.agentDir, "project");
    mkdirSync(join(project, ".pi"), { recursive: true });
    writeFileSync(
      join(project, ".pi", "settings.json"),
      JSON.stringify({ retry: { baseDelayMs: 10 }, autoRouterUviEnabled: false }),
    );
  });
  after(() => dir?.stop());

  it("asks for no retry that would come before every target is back, and says when the first is", async () => {
    const limited = { status: 429, errorMessage: "Rate limit reached for requests. Please try again in 2s." };
    dir.emulators.A.enqueue(limited);
    dir.emulators.B.enqueue(limited);
    const run = await runPi({
      agentDir: dir.agentDir,
      cwd: project,
      args: ["--model", "auto-router/pair", "--mode", "json", "Go"],
    });
    const error = lastAssistantMessage(run.stdout)?.errorMessage ?? "";
    // Read as the global 10 s, the error would have asked for pi's retry, which came 10 ms later and met both resting.
    assert.match(
      error,
      /^auto-router: every target of route pair failed .*; the first back is mock-a\/model-a at /,
      run.stdout + run.stderr,
    );
    assert.doesNotMatch(run.stdout, /available now/);
    assert.equal(dir.emulators.A.calls.length + dir.emulators.B.calls.length, 2);
  });

  it("names the project's file as where quota pacing was switched off (the earlier router's switch)", async () => {
    const run = await runPi({ agentDir: dir.agentDir, cwd: project, args: ["-p", "/auto-router uvi"] });
    assert.equal(run.code, 0, run.stderr);
    const file = join(project, ".pi", "settings.json").replaceAll(".", "\\.");
    assert.match(
      run.stdout + run.stderr,
      new RegExp(
        `disabled by autoRouterUviEnabled: false in the project's ${file} \\(the earlier pi-auto-router's switch\\)`,
      ),
    );
  });
});

describe("pi CLI: the circuit breaker counts every pi process's successes", () => {
  let dir: EmulatedAgent<"A" | "B">;
  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers: TWO_OPENAI_PROVIDERS,
      routes: {
        routes: {
          // No cooldown: what could keep mock-a out is the breaker alone.
          pair: {
            ...routeInOrder("mock-a/model-a", "mock-b/model-b"),
            failover: { kinds: { server: { cooldownMs: 0 } } },
          },
        },
        breaker: { minimumCalls: 2, ratio: 0.5 },
      },
    });
  });
  after(() => dir?.stop());

  it("keeps a breaker closed at 2 failures in 5 calls when the 3 successes came from another pi process", async () => {
    const { A: a, B: b } = dir.emulators;
    const pi = (...prompts: string[]) =>
      runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/pair", "-p", ...prompts] });
    // One process, three answers from mock-a: a quiet closed breaker, nothing it decides changes.
    const good = await pi("one", "two", "three");
    assert.equal(good.code, 0, good.stderr);
    assert.equal(a.calls.length, 3);
    // Two more processes, each with mock-a failing (a counted failure) and mock-b answering.
    for (const prompt of ["four", "five"]) {
      a.enqueue({ status: 500, errorMessage: "upstream exploded" });
      const failed = await pi(prompt, ...(prompt === "five" ? ["/auto-router circuit"] : []));
      assert.equal(failed.code, 0, failed.stderr);
      if (prompt === "five") assert.match(failed.stdout + failed.stderr, /mock-a\/model-a\s+closed\s+2\/5\s/);
    }
    assert.equal(a.calls.length, 5);
    assert.equal(b.calls.length, 2);
    const breakers = JSON.parse(readFileSync(join(dir.agentDir, "extensions", "auto-router.breakers.json"), "utf8"));
    const record = breakers.breakers["mock-a/model-a"];
    assert.equal(record.state, "closed", "2 of 5 calls failed, under the 0.5 ratio");
    assert.deepEqual(
      record.samples.map((sample: { failed: boolean }) => sample.failed),
      [false, false, false, true, true],
    );
  });
});

describe("pi CLI: a prompt too long for every target of a route", () => {
  let dir: EmulatedAgent<"A" | "B" | "C">;
  // ~20k tokens against 4k windows: no target can take it, whatever it is doing.
  const longPrompt = "word ".repeat(20_000);
  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai", C: "openai" },
      providers: {
        "emu-a": { emulator: "A", apiKey: "sk-emu-a", models: [{ id: "m", contextWindow: 4_000 }] },
        "emu-b": { emulator: "B", apiKey: "sk-emu-b", models: [{ id: "m", contextWindow: 4_000 }] },
        "emu-c": { emulator: "C", apiKey: "sk-emu-c", models: [{ id: "m", contextWindow: 4_000 }] },
      },
      routes: {
        routes: {
          main: routeInOrder("emu-a/m", "emu-b/m", "emu-c/m"),
          alt: routeInOrder("emu-a/m", "emu-c/m"),
          fresh: routeInOrder("emu-b/m", "emu-c/m"),
        },
      },
    });
  });
  after(() => dir?.stop());
  const pi = (route: string, ...prompts: string[]) =>
    runPi({ agentDir: dir.agentDir, args: ["--model", `auto-router/${route}`, "-p", ...prompts] });
  const tooLong = (route: string) => new RegExp(`the prompt is too long for every target of route ${route} \\(`, "g");
  const log = () => join(dir.agentDir, "extensions", "auto-router.events.jsonl");
  // The print-mode run of a prompt too long for route fresh: one pi process, which two tests read (what it printed,
  // and what it logged), started by whichever of them runs first.
  let freshLongRun: Promise<{ run: PiRun; logged: string }> | undefined;
  const runFreshLong = () =>
    (freshLongRun ??= (async () => {
      const before = existsSync(log()) ? readFileSync(log(), "utf8").length : 0;
      const run = await pi("fresh", longPrompt);
      return { run, logged: readFileSync(log(), "utf8").slice(before) };
    })());

  it("says the prompt is too long, not that no target is available, while a target that cannot fit rests", async () => {
    dir.reset();
    dir.emulators.A.enqueue({ status: 401 });
    assert.equal((await pi("main", "hi")).code, 0);
    const run = await pi("main", longPrompt);
    assert.match(run.stderr, tooLong("main"));
    assert.match(run.stderr, /emu-a\/m: context window 4000 < \d+ tokens needed/);
    assert.doesNotMatch(run.stderr, /is available now|First available/);
  });

  it("does not wait for a resting target that could not take the prompt anyway", async () => {
    dir.reset();
    // Back in 5 s, well within the 30 s a request waits for a resting target.
    dir.emulators.A.enqueue({ status: 429, retryAfterSeconds: 5 });
    assert.equal((await pi("alt", "hi")).code, 0);
    const run = await pi("alt", longPrompt);
    assert.match(run.stderr, tooLong("alt"));
    assert.equal(run.code, 1);
    assert.doesNotMatch(run.stderr, /waiting [\d.]+s for|First available/);
  });

  it("in print mode, writes the refusal to stderr once and exits 1 when pi's compaction cannot recover", async () => {
    dir.reset();
    const { run } = await runFreshLong();
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, "");
    assert.equal(run.stderr.match(tooLong("fresh"))?.length, 1, run.stderr);
  });

  it("says a window smaller than @long asks for is missing, not that the prompt is too long, and pi sends no summary", async () => {
    dir.reset();
    // A short prompt that fits every 4k window; @long asks for 100k. "prompt is too long" here made pi compact the
    // conversation, which sent a summary request (billed) that could not help: no target grows by compacting.
    // On stdin: pi reads an argument starting with @ as a file to attach.
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/fresh", "-p"],
      stdin: "@long summarise this short note",
    });
    const said = run.stdout + run.stderr;
    assert.match(
      said,
      /route fresh has no target that can do what this request needs \(emu-b\/m: context window 4000 < 100000 tokens asked for by the tier or a rule \(the prompt needs ~\d+\)/,
    );
    assert.doesNotMatch(said, /too long/);
    assert.equal(dir.emulators.B.calls.length + dir.emulators.C.calls.length, 0, "no summary request was sent");
    assert.equal(run.code, 1, said);
  });

  it("logs every request of the run to its end, those still in flight when pi shuts down included", async () => {
    dir.reset();
    const { run, logged } = await runFreshLong();
    assert.doesNotMatch(run.stderr, /after close/);
    const lines = logged.split("\n").filter(Boolean);
    const events = lines.map((line) => JSON.parse(line));
    const decided = new Set(events.filter((e) => e.type === "decision").map((e) => e.requestId));
    const ended = new Set(events.filter((e) => e.type === "final").map((e) => e.requestId));
    assert.ok(decided.size > 0);
    assert.deepEqual(
      [...decided].filter((id) => !ended.has(id)),
      [],
      "a request without its final line",
    );
  });
});
