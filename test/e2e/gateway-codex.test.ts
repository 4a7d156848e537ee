// The real Codex CLI (`codex exec`, pinned 0.171.0, installed by .ci/run into .tmp/codex) answering through the
// gateway's /v1/responses as a custom model provider: the route's first target answers 429, the second serves.
// Skipped on a developer machine without that folder; under CI a missing CLI fails the test.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO_ROOT, routeInOrder } from "../helpers/agent-dir.ts";
import { runClientCli } from "../helpers/client-cli.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const CODEX = join(REPO_ROOT, ".tmp", "codex", "node_modules", ".bin", "codex");
const CODEX_TIMEOUT_MS = 90_000;
const inCi = process.env.CI === "true" || process.env.CI === "1";
const missing = !existsSync(CODEX);

describe("Codex CLI through the gateway's Responses endpoint", {
  skip: missing && !inCi ? `Codex is not installed in ${CODEX} (.ci/run installs it)` : false,
}, () => {
  let fx: GatewayFixture<"A" | "B" | "R">;
  let first: Emulator, second: Emulator, responses: Emulator;
  let home: string;

  before(async () => {
    assert.ok(!missing, `CI must run this test: ${CODEX} is missing`);
    fx = await startGatewayFixture({
      emulators: { A: "openai", B: "openai", R: "responses" },
      providers: {
        "mock-a": {
          emulator: "A",
          apiKey: "sk-mock-a-key-000000000001",
          models: [{ id: "model-a", maxTokens: 128_000 }],
        },
        "mock-b": {
          emulator: "B",
          apiKey: "sk-mock-b-key-000000000002",
          models: [{ id: "model-b", maxTokens: 128_000 }],
        },
        "mock-r": {
          emulator: "R",
          apiKey: "sk-mock-r-key-000000000003",
          models: [{ id: "model-r", maxTokens: 128_000 }],
        },
      },
      routes: {
        routes: {
          // No wait for a resting target: the last test wants the every-target-resting answer at once.
          codex: { ...routeInOrder("mock-a/model-a", "mock-b/model-b"), failover: { cooldownWaitMs: 0 } },
          // A Responses target: Codex's requests are passed through as they are.
          responses: routeInOrder("mock-r/model-r"),
        },
      },
    });
    ({ A: first, B: second, R: responses } = fx.emulators);
    home = freshDir("pi-auto-router-codex-home");
    mkdirSync(join(home, ".codex"));
    writeFileSync(
      join(home, ".codex", "config.toml"),
      [
        'model = "auto-router/codex"',
        'model_provider = "auto_router"',
        "[model_providers.auto_router]",
        'name = "pi-auto-router gateway"',
        `base_url = "${fx.gateway.url}/v1"`,
        'env_key = "AUTO_ROUTER_GATEWAY_TOKEN"',
        'wire_api = "responses"',
        "request_max_retries = 0",
        "stream_max_retries = 0",
        "",
      ].join("\n"),
    );
  });
  after(async () => {
    await fx?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("answers `codex exec` from the second target after the first answers 429", async () => {
    first.enqueue({ status: 429, errorMessage: "Rate limit reached for requests", retryAfterSeconds: 30 });
    second.enqueue({ text: "Hello from the second target." });
    const run = await runClientCli(CODEX, ["exec", "--skip-git-repo-check", "Say hi"], {
      cwd: home,
      timeoutMs: CODEX_TIMEOUT_MS,
      env: {
        HOME: home,
        CODEX_HOME: join(home, ".codex"),
        AUTO_ROUTER_GATEWAY_TOKEN: fx.gateway.token,
      },
    });
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Hello from the second target\./);
    assert.equal(first.calls.length, 1);
    assert.equal(second.calls.length, 1);
    // Codex's instructions and function tools arrived; its hosted web_search tool was left out and named.
    assert.ok(
      second.calls[0]!.body.tools.some((tool: { function: { name: string } }) => tool.function.name === "exec_command"),
    );
    assert.equal(second.calls[0]!.headers.authorization, "Bearer sk-mock-b-key-000000000002");
    assert.match(fx.gateway.stderr(), /POST \/v1\/responses route=codex 200 served-by=mock-b\/model-b/);
  });

  it("answers `codex exec` with reasoning effort `none`, which asks the target for no reasoning", async () => {
    // The first target may still rest from the test above: whichever serves gets the same answer.
    const before = [first.calls.length, second.calls.length];
    first.enqueue({ text: "Answered without reasoning." });
    second.enqueue({ text: "Answered without reasoning." });
    const run = await runClientCli(
      CODEX,
      ["exec", "--skip-git-repo-check", "-c", 'model_reasoning_effort="none"', "Say hi"],
      {
        cwd: home,
        timeoutMs: CODEX_TIMEOUT_MS,
        env: { HOME: home, CODEX_HOME: join(home, ".codex"), AUTO_ROUTER_GATEWAY_TOKEN: fx.gateway.token },
      },
    );
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Answered without reasoning\./);
    const sent = [...first.calls.slice(before[0]!), ...second.calls.slice(before[1]!)];
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.body.reasoning_effort, undefined);
  });

  it("runs the command of an exec_command call a Responses target makes, and sends its output back through the gateway", async () => {
    // Codex's own tool: the target asks it to run a command, Codex runs it and sends the output as the next turn.
    responses.enqueue({ toolCall: { name: "exec_command", arguments: { cmd: "echo codex-ran-this" } } });
    responses.enqueue({ text: "The command printed codex-ran-this." });
    const run = await runClientCli(
      CODEX,
      [
        "exec",
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",
        "-m",
        "auto-router/responses",
        "Run echo",
      ],
      {
        cwd: home,
        timeoutMs: CODEX_TIMEOUT_MS,
        env: { HOME: home, CODEX_HOME: join(home, ".codex"), AUTO_ROUTER_GATEWAY_TOKEN: fx.gateway.token },
      },
    );
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /The command printed codex-ran-this\./);
    assert.equal(responses.calls.length, 2, run.output);
    const [asked, answered] = responses.calls;
    assert.equal(asked!.headers.authorization, "Bearer sk-mock-r-key-000000000003");
    assert.equal(answered!.body.model, "model-r");
    const output = answered!.body.input.find((item: { type?: string }) => item.type === "function_call_output");
    assert.ok(output, JSON.stringify(answered!.body.input));
    assert.match(JSON.stringify(output.output), /codex-ran-this/);
    assert.match(fx.gateway.stderr(), /POST \/v1\/responses route=responses 200 served-by=mock-r\/model-r/);
  });

  it("shows the gateway's reason when every target rests: a 503 for Codex, which hides a 429's message", async () => {
    const codex = () =>
      runClientCli(CODEX, ["exec", "--skip-git-repo-check", "Say hi"], {
        cwd: home,
        timeoutMs: CODEX_TIMEOUT_MS,
        env: { HOME: home, CODEX_HOME: join(home, ".codex"), AUTO_ROUTER_GATEWAY_TOKEN: fx.gateway.token },
      });
    // Both targets rate-limit for 5 minutes (the first may rest already from the first test).
    first.enqueue({ status: 429, errorMessage: "Rate limit reached for requests", retryAfterSeconds: 300 });
    second.enqueue({ status: 429, errorMessage: "Rate limit reached for requests", retryAfterSeconds: 300 });
    const failing = await codex();
    assert.notEqual(failing.code, 0, failing.output);
    const calls = first.calls.length + second.calls.length;
    const resting = await codex();
    assert.notEqual(resting.code, 0, resting.output);
    assert.equal(first.calls.length + second.calls.length, calls, "no target is called while every one rests");
    assert.match(
      resting.output,
      /unexpected status 503 Service Unavailable: auto-router: no target of route codex is available now \(mock-a\/model-a: resting \(throttled\); mock-b\/model-b: resting \(throttled\)\)\. First available: mock-a\/model-a at /,
    );
    assert.doesNotMatch(resting.output, /exceeded retry limit/);
  });
});
