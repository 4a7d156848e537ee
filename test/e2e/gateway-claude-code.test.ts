// The real Claude Code CLI (`claude -p`, pinned 2.1.337, installed by .ci/run into .tmp/claude-code) answering
// through the gateway: its default model id is mapped onto a route whose first target answers 429; and a prompt
// whose tool-result turn stays on the target that served its first turn. Skipped on a developer machine without that
// folder; under CI a missing CLI fails the test.
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, routeInOrder } from "../helpers/agent-dir.ts";
import {
  CLAUDE_CODE as CLAUDE,
  CLAUDE_CODE_DEFAULT_MODEL as CLAUDE_DEFAULT_MODEL,
  runClientCli,
} from "../helpers/client-cli.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const CLAUDE_TIMEOUT_MS = 90_000;
const inCi = process.env.CI === "true" || process.env.CI === "1";
const missing = !existsSync(CLAUDE);

describe("Claude Code through the gateway", {
  skip: missing && !inCi ? `Claude Code is not installed in ${CLAUDE} (.ci/run installs it)` : false,
}, () => {
  let fx: GatewayFixture<"A" | "B" | "C">;
  let first: Emulator, second: Emulator, chat: Emulator;
  let home: string;

  before(async () => {
    assert.ok(!missing, `CI must run this test: ${CLAUDE} is missing`);
    fx = await startGatewayFixture({
      emulators: { A: "anthropic", B: "anthropic", C: "openai" },
      providers: PROVIDERS,
      routes: routes(),
    });
    ({ A: first, B: second, C: chat } = fx.emulators);
    home = freshDir("pi-auto-router-claude-home");
  });
  after(async () => {
    await fx?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const claude = (
    args: string[],
    url: string,
    token: string,
    agentDir: string,
    cwd?: string,
    extraEnv: Record<string, string> = {},
  ) =>
    runClientCli(CLAUDE, args, {
      timeoutMs: CLAUDE_TIMEOUT_MS,
      cwd,
      env: {
        ...extraEnv,
        HOME: home,
        PI_CODING_AGENT_DIR: agentDir,
        ANTHROPIC_BASE_URL: url,
        ANTHROPIC_API_KEY: token,
        DISABLE_TELEMETRY: "1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
      },
    });

  it("answers `claude -p` from the second target after the first answers 429", async () => {
    first.enqueue({
      status: 429,
      errorMessage: "Number of request tokens has exceeded your per-minute rate limit",
      retryAfterSeconds: 30,
    });
    second.enqueue({ text: "Hello from the second target." });
    const run = await claude(["-p", "Say hi"], fx.gateway.url, fx.gateway.token, fx.agentDir);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Hello from the second target\./);
    assert.equal(first.calls.length, 1);
    assert.equal(second.calls.length, 1);
    // Claude Code's system prompt and tools arrived; its gateway token did not travel upstream.
    assert.ok(second.calls[0]!.body.tools.length > 0);
    assert.equal(second.calls[0]!.headers["x-api-key"], "sk-ant-mock-b-key-000001");
    assert.match(fx.gateway.stderr(), /POST \/v1\/messages route=main 200 served-by=mock-b\/model-b/);
  });

  it("keeps the tool-result turn of a `claude -p` prompt on the target that served its first turn", async () => {
    first.reset();
    second.reset();
    // Its own gateway: a server error cools the first target for 0 ms, so it is the route's first choice again by
    // the tool-result turn, and only the prompt's stickiness keeps that turn on the second target.
    const turnsDir = makeAgentDir({
      providers: fx.providers,
      routes: routes({ kinds: { server: { cooldownMs: 0 } }, cooldownWaitMs: 0 }),
    });
    const turnsGateway = await startGatewayProcess({ agentDir: turnsDir.agentDir });
    const work = freshDir("pi-auto-router-claude-work");
    try {
      first.enqueue({ status: 500, errorMessage: "Internal server error" });
      // Glob is read-only: `claude -p` runs it without asking, then sends its result back.
      second.enqueue({ toolCall: { id: "toolu_glob_1", name: "Glob", arguments: { pattern: "*.nothing" } } });
      second.enqueue({ text: "No such files here." });
      const run = await claude(
        ["-p", "List the .nothing files"],
        turnsGateway.url,
        turnsGateway.token,
        turnsDir.agentDir,
        work,
      );
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, /No such files here\./);
      assert.equal(first.calls.length, 1);
      assert.equal(second.calls.length, 2);
      const toolTurn = second.calls[1]!.body.messages.at(-1);
      assert.ok(
        toolTurn.content.some((block: any) => block.type === "tool_result" && block.tool_use_id === "toolu_glob_1"),
      );
      assert.match(turnsGateway.stderr(), /POST \/v1\/messages route=main 200 served-by=mock-b\/model-b/);
      assert.doesNotMatch(turnsGateway.stderr(), /served-by=mock-a/);
    } finally {
      await turnsGateway.stop();
      turnsDir.cleanup();
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("runs a tool an OpenAI Chat target calls for `claude -p` and sends its result back, translated both ways", async () => {
    chat.reset();
    const work = freshDir("pi-auto-router-claude-chat-work");
    try {
      const notes = join(work, "notes.txt");
      writeFileSync(notes, "chat-target-read-this\n");
      // Read is read-only: `claude -p` runs it without asking, then sends the file's text back.
      chat.enqueue({ toolCall: { id: "call_read_1", name: "Read", arguments: { file_path: notes } } });
      chat.enqueue({ text: "The notes say chat-target-read-this." });
      const run = await claude(
        ["-p", "--model", "chat", "What do my notes say?"],
        fx.gateway.url,
        fx.gateway.token,
        fx.agentDir,
        work,
      );
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, /The notes say chat-target-read-this\./);
      assert.equal(chat.calls.length, 2, run.output);
      // Claude Code's tools reached the Chat target as functions; its tool_result came back as a tool message.
      assert.ok(chat.calls[0]!.body.tools.some((tool: any) => tool.function?.name === "Read"));
      const toolMessage = chat.calls[1]!.body.messages.find((message: any) => message.role === "tool");
      assert.equal(toolMessage?.tool_call_id, "call_read_1", JSON.stringify(chat.calls[1]!.body.messages));
      assert.match(JSON.stringify(toolMessage.content), /chat-target-read-this/);
      assert.equal(chat.calls[1]!.headers.authorization, "Bearer sk-mock-c-key-0000000001");
      assert.match(fx.gateway.stderr(), /POST \/v1\/messages route=chat 200 served-by=mock-c\/model-c/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("takes a shortcut typed in `claude -p` after Claude Code's system-reminder blocks, and strips it", async () => {
    chat.reset();
    chat.enqueue({ text: "Fast hello." });
    const run = await claude(["-p", "@fast Say hi"], fx.gateway.url, fx.gateway.token, fx.agentDir);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Fast hello\./);
    assert.equal(chat.calls.length, 1, "the tier's route served");
    const prompt = JSON.stringify(chat.calls[0]!.body.messages.filter((message: any) => message.role === "user"));
    assert.match(prompt, /Say hi/);
    assert.doesNotMatch(prompt, /@fast/, "the shortcut is not sent to the model");
    assert.match(prompt, /system-reminder/, "Claude Code's reminders still are");
    assert.match(fx.gateway.stderr(), /POST \/v1\/messages route=chat 200 served-by=mock-c\/model-c/);
  });

  it("stops at once on a spent hard budget (402 billing_error, not retried) and shows the budget message", async () => {
    first.reset();
    second.reset();
    const budgetDir = makeAgentDir({
      providers: fx.providers,
      routes: {
        ...routes(),
        budgets: { policy: "hard", providers: { "mock-a": { daily: 0 }, "mock-b": { daily: 0 } } },
      },
    });
    const budgetGateway = await startGatewayProcess({ agentDir: budgetDir.agentDir });
    try {
      const run = await claude(["-p", "Say hi"], budgetGateway.url, budgetGateway.token, budgetDir.agentDir);
      assert.notEqual(run.code, 0, run.output);
      assert.match(run.output, /402/);
      assert.match(run.output, /every target of route main is over budget/);
      assert.equal(first.calls.length + second.calls.length, 0);
      // Claude Code retries an overloaded answer (it did, with the 503 this used to be); a billing error it does not.
      const answers = budgetGateway.stderr().match(/POST \/v1\/messages\S* route=main \d+/g) ?? [];
      assert.deepEqual(answers, ["POST /v1/messages route=main 402"]);
    } finally {
      await budgetGateway.stop();
      budgetDir.cleanup();
    }
  });

  it("says at once that every target failed, with CLAUDE_CODE_MAX_RETRIES=0 as README advises", async () => {
    first.reset();
    second.reset();
    // No wait for the cooling targets (cooldownWaitMs, 30 s by default): the 503 comes at once.
    const failingDir = makeAgentDir({ providers: fx.providers, routes: routes({ cooldownWaitMs: 0 }) });
    const failingGateway = await startGatewayProcess({ agentDir: failingDir.agentDir });
    try {
      // Enough for the router's retry of each target; reset() drops what is left.
      const broken = { status: 500, errorMessage: "Internal server error" };
      for (let index = 0; index < 3; index++) {
        first.enqueue(broken);
        second.enqueue(broken);
      }
      const run = await claude(
        ["-p", "Say hi"],
        failingGateway.url,
        failingGateway.token,
        failingDir.agentDir,
        undefined,
        { CLAUDE_CODE_MAX_RETRIES: "0" },
      );
      assert.notEqual(run.code, 0, run.output);
      assert.match(run.output, /every target of route main failed/);
      // Its own retries would each wait for the 503's Retry-After (the targets' 30 s rest): minutes of silence.
      const answers = failingGateway.stderr().match(/POST \/v1\/messages\S* route=main \d+/g) ?? [];
      assert.deepEqual(answers, ["POST /v1/messages route=main 503"]);
    } finally {
      await failingGateway.stop();
      failingDir.cleanup();
    }
  });

  it("stops at once when no target of the route has credentials (500 api_error, not retried) and says why", async () => {
    first.reset();
    second.reset();
    // A route whose only target is pi's built-in Anthropic provider, with no key in the environment or auth.json.
    const keylessDir = makeAgentDir({
      providers: fx.providers,
      routes: { ...routes(), routes: { main: { targets: [{ provider: "anthropic", modelId: "claude-sonnet-4-6" }] } } },
    });
    const keylessGateway = await startGatewayProcess({
      agentDir: keylessDir.agentDir,
      env: { ANTHROPIC_API_KEY: undefined, ANTHROPIC_OAUTH_TOKEN: undefined },
    });
    try {
      const run = await claude(["-p", "Say hi"], keylessGateway.url, keylessGateway.token, keylessDir.agentDir);
      assert.notEqual(run.code, 0, run.output);
      assert.match(run.output, /anthropic\/claude-sonnet-4-6: no credentials/);
      assert.equal(first.calls.length + second.calls.length, 0);
      // It used to be a 503 overloaded_error, which Claude Code retried for minutes.
      const answers = keylessGateway.stderr().match(/POST \/v1\/messages\S* route=main \d+/g) ?? [];
      assert.deepEqual(answers, ["POST /v1/messages route=main 500"]);
    } finally {
      await keylessGateway.stop();
      keylessDir.cleanup();
    }
  });
});

// Claude Code asks for up to 128k output tokens; targets with a smaller limit would be ruled out by the router.
const PROVIDERS = {
  "mock-a": { emulator: "A", apiKey: "sk-ant-mock-a-key-000001", models: [{ id: "model-a", maxTokens: 128_000 }] },
  "mock-b": { emulator: "B", apiKey: "sk-ant-mock-b-key-000001", models: [{ id: "model-b", maxTokens: 128_000 }] },
  // An OpenAI Chat Completions target: Claude Code's requests are translated for it.
  "mock-c": { emulator: "C", apiKey: "sk-mock-c-key-0000000001", models: [{ id: "model-c", maxTokens: 128_000 }] },
} as const;

/** Claude Code's default model on a route of the two emulators (with the given failover settings). */
function routes(failover?: Record<string, unknown>) {
  return {
    routes: {
      main: routeInOrder("mock-a/model-a", "mock-b/model-b"),
      chat: routeInOrder("mock-c/model-c"),
    },
    gateway: { models: { [CLAUDE_DEFAULT_MODEL]: "auto-router/main" } },
    // `@fast` typed in Claude Code moves its request to the Chat target's route.
    tiers: { fast: { route: "chat" } },
    ...(failover ? { failover } : {}),
  };
}
