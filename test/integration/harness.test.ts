// Proves the test infrastructure against real pi without the router: the CLI in print/json mode and RPC mode
// against the HTTP emulators, and the in-process SDK harness with faux targets and the echo tool.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, OPENAI_EMULATOR_COMPAT, type ProviderSpec } from "../helpers/agent-dir.ts";
import { startAnthropicEmulator } from "../helpers/anthropic-emulator.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { startRpc } from "../helpers/rpc-client.ts";
import { createSdkHarness } from "../helpers/sdk-harness.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

describe("makeAgentDir", () => {
  it("writes models.json with compat flags for openai providers, the routes file and merged settings", () => {
    const { agentDir, cleanup } = makeAgentDir({
      providers: {
        "mock-a": {
          baseUrl: "http://127.0.0.1:1/v1",
          api: "openai-completions",
          apiKey: "sk-a",
          models: [{ id: "model-a" }],
        },
        "mock-b": {
          baseUrl: "http://127.0.0.1:2",
          api: "anthropic-messages",
          apiKey: "sk-b",
          models: [{ id: "model-b" }],
        },
      },
      routes: { routes: { demo: { targets: ["mock-a/model-a"] } } },
      settings: { retry: { maxRetries: 1 }, defaultThinkingLevel: "off" },
    });
    try {
      const models = JSON.parse(readFileSync(join(agentDir, "models.json"), "utf8"));
      assert.deepEqual(models.providers["mock-a"].compat, OPENAI_EMULATOR_COMPAT);
      assert.equal(models.providers["mock-b"].compat, undefined);
      const routes = JSON.parse(readFileSync(join(agentDir, "extensions", "auto-router.routes.json"), "utf8"));
      assert.deepEqual(routes, { routes: { demo: { targets: ["mock-a/model-a"] } } });
      const settings = JSON.parse(readFileSync(join(agentDir, "settings.json"), "utf8"));
      assert.deepEqual(settings, { retry: { enabled: false, maxRetries: 1 }, defaultThinkingLevel: "off" });
    } finally {
      cleanup();
    }
    assert.equal(existsSync(agentDir), false);
  });
});

describe("the pi CLI and RPC mode against the emulators (no router)", () => {
  let openai: Emulator;
  let anthropic: Emulator;
  let agentDir: string;
  let cleanup: () => void;
  before(async () => {
    openai = await startOpenAIEmulator({ name: "A" });
    anthropic = await startAnthropicEmulator({ name: "B" });
    ({ agentDir, cleanup } = makeAgentDir(emulatorAgent()));
  });
  /** The agent dir's settings: both emulators as providers. */
  const emulatorAgent = (): { providers: Record<string, ProviderSpec> } => ({
    providers: {
      "mock-a": {
        baseUrl: openai.url,
        api: "openai-completions",
        apiKey: "sk-mock-a",
        models: [{ id: "model-a", contextWindow: 128000, maxTokens: 4096 }],
      },
      "mock-b": {
        baseUrl: anthropic.url,
        api: "anthropic-messages",
        apiKey: "sk-mock-b",
        models: [{ id: "model-b", contextWindow: 200000, maxTokens: 8192 }],
      },
    },
  });
  after(async () => {
    await Promise.all([openai.close(), anthropic.close()]);
    cleanup();
  });

  it("prints the emulator's answer in print mode and sends the provider's own key", async () => {
    openai.reset();
    const run = await runPi({ agentDir, extension: false, args: ["--model", "mock-a/model-a", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Hello from A (call 1).");
    assert.equal(openai.calls[0].headers.authorization, "Bearer sk-mock-a");
  });

  it("emits JSONL whose assistant message_end names the anthropic target in json mode", async () => {
    anthropic.reset();
    const run = await runPi({
      agentDir,
      extension: false,
      args: ["--model", "mock-b/model-b", "--mode", "json", "Say hi"],
    });
    assert.equal(run.code, 0, run.stderr);
    const events = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const end = events.find((event) => event.type === "message_end" && event.message.role === "assistant");
    assert.equal(end.message.provider, "mock-b");
    assert.equal(end.message.model, "model-b");
    assert.equal(end.message.content[0].text, "Hello from B (call 1).");
    assert.equal(anthropic.calls[0].headers["x-api-key"], "sk-mock-b");
  });

  it("exits with code 1 and the provider error on stderr when the target answers 401", async () => {
    openai.reset();
    openai.enqueue({ status: 401 });
    const run = await runPi({ agentDir, extension: false, args: ["--model", "mock-a/model-a", "-p", "Say hi"] });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /401\b.*Incorrect API key provided/);
  });

  it("kills pi at the timeout and resolves with what was captured", async () => {
    openai.reset();
    openai.setDefault({ text: "never finished", stallAfterChunks: 0 });
    // An agent dir of its own: pi 1.6.0 holds a lock file in its agent dir, which a killed pi leaves behind, and the
    // next pi started there would find it held (ELOCKED) until it goes stale.
    const own = makeAgentDir(emulatorAgent());
    try {
      const run = await runPi({
        agentDir: own.agentDir,
        extension: false,
        args: ["--model", "mock-a/model-a", "-p", "Say hi"],
        timeoutMs: 1500,
      });
      assert.equal(run.code, null);
      assert.match(run.stderr, /killed after 1500 ms/);
    } finally {
      openai.reset();
      own.cleanup();
    }
  });

  it("drives a prompt to agent_end over RPC and keeps U+2028 inside one JSON line", async () => {
    openai.reset();
    openai.enqueue({ text: ["line\u2028separator", " and more"] });
    const rpc = await startRpc({ agentDir, extension: false, args: ["--model", "mock-a/model-a"] });
    try {
      const accepted = await rpc.request({ type: "prompt", message: "Say hi" });
      assert.equal(accepted.success, true);
      const end = await rpc.waitFor((line) => line.type === "agent_end");
      const assistant = end.messages.find((message: any) => message.role === "assistant");
      assert.equal(assistant.content[0].text, "line\u2028separator and more");
      assert.equal(
        rpc.lines.some((line) => line.type === "unparsed_line"),
        false,
      );

      const models = await rpc.request({ type: "get_available_models" });
      const ids = models.data.models.map((model: any) => `${model.provider}/${model.id}`);
      assert.ok(ids.includes("mock-a/model-a") && ids.includes("mock-b/model-b"), ids.join(", "));

      const commands = await rpc.request({ type: "get_commands" });
      assert.equal(commands.success, true);
      assert.ok(Array.isArray(commands.data.commands));
    } finally {
      const { code } = await rpc.close();
      assert.equal(code, 0, rpc.stderr);
    }
  });

  it("waits only for lines after the latest command, so a second prompt gets its own agent_end", async () => {
    openai.reset();
    openai.enqueue({ text: "first answer" }, { text: "second answer" });
    const rpc = await startRpc({ agentDir, extension: false, args: ["--model", "mock-a/model-a"] });
    try {
      await rpc.request({ type: "prompt", message: "one" });
      await rpc.waitFor((line) => line.type === "agent_end");
      await rpc.request({ type: "prompt", message: "two" });
      const second = await rpc.waitFor((line) => line.type === "agent_end");
      assert.equal(second.messages.at(-1).content[0].text, "second answer");
    } finally {
      await rpc.close();
    }
  });
});

describe("the SDK harness with faux targets (no router)", () => {
  const targets = [
    { provider: "mock-a", models: [{ id: "model-a" }] },
    { provider: "mock-b", models: [{ id: "model-b", contextWindow: 32000 }] },
  ];

  it("answers a prompt from the faux model and records its provider and model", async () => {
    const harness = await createSdkHarness({ targets, extensionPaths: [] });
    try {
      await harness.setModel("mock-a", "model-a");
      harness.faux("mock-a").setResponses([harness.fauxHelpers.fauxAssistantMessage("hi")]);
      await harness.prompt("Say hi");
      const last = harness.lastAssistant();
      assert.deepEqual(last.content, [{ type: "text", text: "hi" }]);
      assert.equal(last.provider, "mock-a");
      assert.equal(last.model, "model-a");
      assert.equal(harness.faux("mock-a").state.callCount, 1);
      assert.ok(harness.events.some((event) => event.type === "agent_end"));
    } finally {
      await harness.dispose();
    }
  });

  it("runs an echo tool call and a second turn that sees the tool result", async () => {
    const harness = await createSdkHarness({ targets, extensionPaths: [], tools: ["echo"] });
    try {
      await harness.setModel("mock-b", "model-b");
      const { fauxAssistantMessage, fauxToolCall } = harness.fauxHelpers;
      let secondTurnSaw: unknown;
      harness.faux("mock-b").setResponses([
        fauxAssistantMessage(fauxToolCall("echo", { text: "ping" }, { id: "call-1" }), { stopReason: "toolUse" }),
        (context: any) => {
          secondTurnSaw = context.messages.at(-1);
          return fauxAssistantMessage("done");
        },
      ]);
      await harness.prompt("Use echo");
      assert.deepEqual(
        harness.chat().map((message) => message.role),
        ["user", "assistant", "toolResult", "assistant"],
      );
      assert.equal((secondTurnSaw as any).role, "toolResult");
      assert.deepEqual((secondTurnSaw as any).content, [{ type: "text", text: "ping" }]);
      assert.equal(harness.lastAssistant().content[0].text, "done");
    } finally {
      await harness.dispose();
    }
  });

  it("points PI_CODING_AGENT_DIR at its temp dir while alive and restores it and removes the dir on dispose", async () => {
    const previous = process.env.PI_CODING_AGENT_DIR;
    const harness = await createSdkHarness({ targets, extensionPaths: [], env: { AUTO_ROUTER_TEST_MARKER: "on" } });
    assert.equal(process.env.PI_CODING_AGENT_DIR, harness.agentDir);
    assert.equal(process.env.AUTO_ROUTER_TEST_MARKER, "on");
    await harness.dispose();
    assert.equal(process.env.PI_CODING_AGENT_DIR, previous);
    assert.equal(process.env.AUTO_ROUTER_TEST_MARKER, undefined);
    assert.equal(existsSync(harness.agentDir), false);
  });

  it("rejects an extension that fails to load with its path in the message", async () => {
    await assert.rejects(
      createSdkHarness({ targets, extensionPaths: ["/nonexistent/auto-router-missing.ts"] }),
      /auto-router-missing\.ts/,
    );
  });
});
