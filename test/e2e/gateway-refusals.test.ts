// A target's refusal (Anthropic `stop_reason: "refusal"`, OpenAI `finish_reason: "content_filter"`) reaching a client
// of another API through the real `pi-auto-router serve` as that client's own refusal signal, not as an error: the
// official openai and @anthropic-ai/sdk clients against the emulated targets, streaming and not.
// On pi 1.6.0 too (its pi-ai words a refusal differently): the gateway as an installed package runs it there, on the
// pi of test/pi-latest (as gateway-installed-package.test.ts does).
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { REPO_ROOT, routeInOrder } from "../helpers/agent-dir.ts";
import {
  CLAUDE_CODE as CLAUDE,
  CLAUDE_CODE_DEFAULT_MODEL as CLAUDE_DEFAULT_MODEL,
  runClientCli,
} from "../helpers/client-cli.ts";
import { until } from "../helpers/event-log.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { installedGatewayPackage } from "../helpers/gateway-process.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const REFUSED_MIDWAY = { text: "I started, but", finishReason: "refusal" };
const REFUSED_AT_ONCE = { emptyStream: true, finishReason: "refusal" };

const attemptsOf = (response: Response) =>
  JSON.parse(response.headers.get("x-auto-router-attempts")!).map((a: { target: string; kind?: string }) => [
    a.target,
    a.kind,
  ]);

const inCi = process.env.CI === "true" || process.env.CI === "1";
const LATEST_BIN = join(REPO_ROOT, "test", "pi-latest", "node_modules", ".bin");
const LINES = [
  { version: "0.73.1", installed: false, missing: false },
  {
    version: "1.6.0",
    installed: true,
    missing: !existsSync(join(LATEST_BIN, "pi")) || !existsSync(join(LATEST_BIN, "node")),
  },
];

for (const line of LINES)
  describe(`gateway on pi ${line.version}: a target's refusal reaches a client of another API as its own refusal`, {
    skip: line.missing && !inCi ? "test/pi-latest is not installed (npm ci --prefix test/pi-latest)" : false,
  }, () => {
    let fx: GatewayFixture<"C" | "A" | "R">;
    let claude: Emulator, chat: Emulator, responses: Emulator;
    let packageDir: string | undefined;
    /** The gateway's access lines of refused answers (its stderr lives as long as the gateway). */
    const refusedLines = () =>
      fx.gateway
        .stderr()
        .split("\n")
        .filter((line) => / refused \d+ms$/.test(line));

    before(async () => {
      assert.ok(!line.missing, "CI must run this test: test/pi-latest is missing");
      packageDir = line.installed ? installedGatewayPackage() : undefined;
      fx = await startGatewayFixture({
        ...(packageDir
          ? {
              gatewayOptions: {
                node: join(LATEST_BIN, "node"),
                bin: join(packageDir, "bin", "pi-auto-router.mjs"),
                env: { PATH: `${LATEST_BIN}:/usr/local/bin:/usr/bin:/bin`, NODE_OPTIONS: undefined },
              },
            }
          : {}),
        emulators: { C: "anthropic", A: "openai", R: "responses" },
        providers: {
          "mock-claude": { emulator: "C", apiKey: "sk-ant-mock-0000000001", models: ["model-claude"] },
          "mock-chat": { emulator: "A", apiKey: "sk-mock-chat-0000000002", models: ["model-chat"] },
          "mock-resp": { emulator: "R", apiKey: "sk-mock-resp-0000000003", models: ["model-resp"] },
        },
        routes: {
          routes: {
            // The second target is there to be left alone: a refusal is surfaced by default.
            claude: routeInOrder("mock-claude/model-claude", "mock-chat/model-chat"),
            chat: routeInOrder("mock-chat/model-chat"),
            lenient: {
              ...routeInOrder("mock-claude/model-claude", "mock-chat/model-chat"),
              failover: { kinds: { content_policy: { failover: true } } },
            },
            "all-refuse": {
              ...routeInOrder("mock-claude/model-claude", "mock-chat/model-chat"),
              failover: { kinds: { content_policy: { failover: true } } },
            },
            // A client of the first target's own API is sent to it as is (passthrough).
            "chat-first": routeInOrder("mock-chat/model-chat", "mock-claude/model-claude"),
            "resp-first": routeInOrder("mock-resp/model-resp", "mock-claude/model-claude"),
          },
        },
      });
      ({ C: claude, A: chat, R: responses } = fx.emulators);
    });
    after(async () => {
      await fx?.stop();
      if (packageDir) rmSync(packageDir, { recursive: true, force: true });
    });
    beforeEach(() => fx.reset());

    it("gives an OpenAI Chat client finish_reason content_filter and the text so far for an Anthropic refusal", async () => {
      claude.enqueue(REFUSED_MIDWAY);
      const { data, response } = await fx.openai.chat.completions
        .create({ model: "claude", messages: [{ role: "user", content: "Write it" }] })
        .withResponse();
      assert.equal(response.status, 200);
      assert.equal(data.choices[0]!.finish_reason, "content_filter");
      assert.equal(data.choices[0]!.message.content, "I started, but");
      assert.equal(response.headers.get("x-auto-router-served-by"), "mock-claude/model-claude");
      assert.equal(chat.calls.length, 0);
      await until(() => refusedLines().length === 1, `the refusal's access line in\n${fx.gateway.stderr()}`);
      assert.match(
        refusedLines()[0]!,
        /^POST \/v1\/chat\/completions route=claude 200 served-by=mock-claude\/model-claude refused \d+ms$/,
      );
    });

    it("ends an OpenAI Chat stream with finish_reason content_filter after the text an Anthropic target refused", async () => {
      claude.enqueue(REFUSED_MIDWAY);
      const stream = await fx.openai.chat.completions.create({
        model: "claude",
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: "Write it" }],
      });
      let text = "";
      const finishes: Array<string | null> = [];
      let usage = 0;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
        if (chunk.usage) usage += 1;
      }
      assert.equal(text, "I started, but");
      assert.deepEqual(finishes, ["content_filter"]);
      assert.equal(usage, 1);
      // The answer had started: the access line says refused, not failed-after-start.
      await until(() => refusedLines().length === 2, `the refusals' access lines in\n${fx.gateway.stderr()}`);
      assert.equal(fx.gateway.stderr().includes("failed-after-start"), false);
    });

    it("gives an OpenAI Chat client an empty content_filter answer for a refusal before any text, streamed or not, and never calls the next target", async () => {
      claude.enqueue(REFUSED_AT_ONCE);
      const { data, response } = await fx.openai.chat.completions
        .create({ model: "claude", messages: [{ role: "user", content: "Write it" }] })
        .withResponse();
      assert.equal(response.status, 200);
      assert.equal(data.choices[0]!.finish_reason, "content_filter");
      assert.equal(data.choices[0]!.message.content, "");
      assert.deepEqual(attemptsOf(response), [["mock-claude/model-claude", "content_policy"]]);

      claude.enqueue(REFUSED_AT_ONCE);
      const stream = await fx.openai.chat.completions.create({
        model: "claude",
        stream: true,
        messages: [{ role: "user", content: "Write it" }],
      });
      let text = "";
      const finishes: Array<string | null> = [];
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      }
      assert.equal(text, "");
      assert.deepEqual(finishes, ["content_filter"]);
      // A refusal is about the prompt: the target does not rest, and the second request went to it again.
      assert.equal(claude.calls.length, 2);
      assert.equal(chat.calls.length, 0);
    });

    it("moves a refusal before any text to the next target when the route fails over on content_policy", async () => {
      claude.enqueue(REFUSED_AT_ONCE);
      chat.enqueue({ text: "Chat wrote it." });
      const { data, response } = await fx.openai.chat.completions
        .create({ model: "lenient", messages: [{ role: "user", content: "Write it" }] })
        .withResponse();
      assert.equal(data.choices[0]!.finish_reason, "stop");
      assert.equal(data.choices[0]!.message.content, "Chat wrote it.");
      assert.equal(response.headers.get("x-auto-router-served-by"), "mock-chat/model-chat");
    });

    it("gives a refusal when every target of a route that fails over on content_policy refused", async () => {
      // A Responses client: neither target is of its API, so both answers are translated.
      claude.enqueue(REFUSED_AT_ONCE);
      chat.enqueue({ emptyStream: true, finishReason: "content_filter" });
      const { data, response } = await fx.openai.responses
        .create({ model: "all-refuse", input: "Write it" })
        .withResponse();
      assert.equal(response.status, 200);
      assert.equal(data.status, "incomplete");
      assert.deepEqual(data.incomplete_details, { reason: "content_filter" });
      assert.equal(response.headers.get("x-auto-router-served-by"), "mock-chat/model-chat");
      assert.deepEqual(attemptsOf(response), [
        ["mock-claude/model-claude", "content_policy"],
        ["mock-chat/model-chat", "content_policy"],
      ]);
    });

    it("gives a Responses client status incomplete with incomplete_details content_filter, streamed or not", async () => {
      claude.enqueue(REFUSED_MIDWAY);
      const body = await fx.openai.responses.create({ model: "claude", input: "Write it" });
      assert.equal(body.status, "incomplete");
      assert.deepEqual(body.incomplete_details, { reason: "content_filter" });
      assert.equal(body.output_text, "I started, but");
      assert.equal(body.error, null);

      claude.enqueue(REFUSED_MIDWAY);
      const stream = await fx.openai.responses.create({ model: "claude", input: "Write it", stream: true });
      const types: string[] = [];
      let last: any;
      let text = "";
      for await (const event of stream) {
        types.push(event.type);
        if (event.type === "response.output_text.delta") text += event.delta;
        last = event;
      }
      assert.equal(text, "I started, but");
      assert.equal(last.type, "response.incomplete");
      assert.equal(last.response.status, "incomplete");
      assert.deepEqual(last.response.incomplete_details, { reason: "content_filter" });
      assert.equal(last.response.output_text, "I started, but");
      assert.equal(types.includes("response.failed"), false);
      assert.equal(types.includes("error"), false);
    });

    it("ends the open output item before response.incomplete when a Chat target's filter stops its text", async () => {
      chat.enqueue({ text: "Partly", finishReason: "content_filter" });
      const stream = await fx.openai.responses.create({ model: "chat", input: "Write it", stream: true });
      const types: string[] = [];
      let last: any;
      for await (const event of stream) {
        types.push(event.type);
        last = event;
      }
      assert.deepEqual(
        types.filter((type) => type.startsWith("response.output_item.")),
        ["response.output_item.added", "response.output_item.done"],
      );
      assert.equal(last.type, "response.incomplete");
      assert.deepEqual(last.response.incomplete_details, { reason: "content_filter" });
      assert.equal(last.response.output_text, "Partly");
    });

    it("gives a Responses client an incomplete content_filter response for a refusal before any text", async () => {
      claude.enqueue(REFUSED_AT_ONCE);
      const body = await fx.openai.responses.create({ model: "claude", input: "Write it" });
      assert.equal(body.status, "incomplete");
      assert.deepEqual(body.incomplete_details, { reason: "content_filter" });
      assert.equal(body.output_text, "");

      claude.enqueue(REFUSED_AT_ONCE);
      const stream = await fx.openai.responses.create({ model: "claude", input: "Write it", stream: true });
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      assert.deepEqual(types, ["response.created", "response.in_progress", "response.incomplete"]);
      assert.equal(responses.calls.length, 0);
    });

    it("gives an Anthropic client stop_reason refusal for an OpenAI target's content_filter, streamed or not", async () => {
      chat.enqueue({ text: "Partly", finishReason: "content_filter" });
      const message = await fx.anthropic.messages.create({
        model: "chat",
        max_tokens: 100,
        messages: [{ role: "user", content: "Write it" }],
      });
      assert.equal(message.stop_reason, "refusal");
      assert.deepEqual(message.content, [{ type: "text", text: "Partly" }]);

      chat.enqueue({ text: "Partly", finishReason: "content_filter" });
      const stream = fx.anthropic.messages.stream({
        model: "chat",
        max_tokens: 100,
        messages: [{ role: "user", content: "Write it" }],
      });
      const final = await stream.finalMessage();
      assert.equal(final.stop_reason, "refusal");
      assert.deepEqual(final.content, [{ type: "text", text: "Partly" }]);

      chat.enqueue({ emptyStream: true, finishReason: "content_filter" });
      const empty = await fx.anthropic.messages.create({
        model: "chat",
        max_tokens: 100,
        messages: [{ role: "user", content: "Write it" }],
      });
      assert.equal(empty.stop_reason, "refusal");
      assert.deepEqual(empty.content, []);
    });

    it("surfaces a refusal before any output of a target of the client's own API, without failing over or resting it", async () => {
      chat.enqueue({ emptyStream: true, finishReason: "content_filter" });
      const { data, response } = await fx.openai.chat.completions
        .create({ model: "chat-first", messages: [{ role: "user", content: "Write it" }] })
        .withResponse();
      assert.equal(response.status, 200);
      assert.equal(data.choices[0]!.finish_reason, "content_filter");
      assert.deepEqual(attemptsOf(response), [["mock-chat/model-chat", "content_policy"]]);

      chat.enqueue({ emptyStream: true, finishReason: "content_filter" });
      const stream = await fx.openai.chat.completions.create({
        model: "chat-first",
        stream: true,
        messages: [{ role: "user", content: "Write it" }],
      });
      const finishes: Array<string | null> = [];
      for await (const chunk of stream)
        if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      assert.deepEqual(finishes, ["content_filter"]);

      claude.enqueue(REFUSED_AT_ONCE);
      const message = await fx.anthropic.messages.create({
        model: "claude",
        max_tokens: 100,
        messages: [{ role: "user", content: "Write it" }],
      });
      assert.equal(message.stop_reason, "refusal");
      claude.enqueue(REFUSED_AT_ONCE);
      const final = await fx.anthropic.messages
        .stream({ model: "claude", max_tokens: 100, messages: [{ role: "user", content: "Write it" }] })
        .finalMessage();
      assert.equal(final.stop_reason, "refusal");

      responses.enqueue({ emptyStream: true, finishReason: "content_filter" });
      const body = await fx.openai.responses.create({ model: "resp-first", input: "Write it" });
      assert.equal(body.status, "incomplete");
      assert.deepEqual(body.incomplete_details, { reason: "content_filter" });

      // Nothing failed over, and no target rests: each serves its next request.
      assert.deepEqual([chat.calls.length, claude.calls.length, responses.calls.length], [2, 2, 1]);
      chat.enqueue({ text: "Chat is back." });
      const next = await fx.openai.chat.completions.create({
        model: "chat-first",
        messages: [{ role: "user", content: "Something else" }],
      });
      assert.equal(next.choices[0]!.message.content, "Chat is back.");
      assert.equal(claude.calls.length, 2);
    });

    it("gives Chat and Anthropic clients their refusal for a Responses target's content filter", {
      skip:
        line.version === "0.73.1"
          ? "pi-ai 0.73.1 reads no response.incomplete: the answer ends as a normal finish (ROADMAP.md)"
          : false,
    }, async () => {
      responses.enqueue({ text: "Partly", finishReason: "content_filter" });
      const completion = await fx.openai.chat.completions.create({
        model: "resp-first",
        messages: [{ role: "user", content: "Write it" }],
      });
      assert.equal(completion.choices[0]!.finish_reason, "content_filter");
      assert.equal(completion.choices[0]!.message.content, "Partly");

      responses.enqueue({ emptyStream: true, finishReason: "content_filter" });
      const message = await fx.anthropic.messages.create({
        model: "resp-first",
        max_tokens: 100,
        messages: [{ role: "user", content: "Write it" }],
      });
      assert.equal(message.stop_reason, "refusal");
      assert.deepEqual(message.content, []);
      assert.equal(claude.calls.length, 0);
    });

    it("keeps a content policy HTTP error an error: the provider's own status, not a refusal", async () => {
      claude.enqueue({
        status: 400,
        errorType: "invalid_request_error",
        errorMessage: "Your prompt was flagged as potentially violating our usage policy",
      });
      const error = await fx.openai.chat.completions
        .create({ model: "claude", messages: [{ role: "user", content: "Write it" }] })
        .then(
          () => undefined,
          (caught: unknown) => caught as { status?: number; message?: string },
        );
      assert.equal(error?.status, 400);
      assert.match(error?.message ?? "", /usage policy/);
    });
  });

const claudeMissing = !existsSync(CLAUDE);

describe("Claude Code through the gateway: an OpenAI target's content filter", {
  skip: claudeMissing && !inCi ? `Claude Code is not installed in ${CLAUDE} (.ci/run installs it)` : false,
}, () => {
  let fx: GatewayFixture<"A">;
  let home: string;

  before(async () => {
    assert.ok(!claudeMissing, `CI must run this test: ${CLAUDE} is missing`);
    fx = await startGatewayFixture({
      emulators: { A: "openai" },
      providers: { "mock-chat": { emulator: "A", apiKey: "sk-mock-chat-0000000002", models: ["model-chat"] } },
      routes: {
        routes: { chat: routeInOrder("mock-chat/model-chat") },
        gateway: { models: { [CLAUDE_DEFAULT_MODEL]: "auto-router/chat" } },
      },
    });
    home = freshDir("pi-auto-router-claude-home");
  });
  after(async () => {
    await fx?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("ends `claude -p` with Claude Code's own refusal, not an API error", async () => {
    // Every call Claude Code makes for the prompt is filtered.
    fx.emulators.A.setDefault({ text: "Partly", finishReason: "content_filter", usage: { input: 40, output: 12 } });
    const run = await runClientCli(CLAUDE, ["-p", "--output-format", "json", "Write it"], {
      timeoutMs: 90_000,
      env: {
        HOME: home,
        PI_CODING_AGENT_DIR: fx.agentDir,
        ANTHROPIC_BASE_URL: fx.gateway.url,
        ANTHROPIC_API_KEY: fx.gateway.token,
        DISABLE_TELEMETRY: "1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
      },
    });
    const result = JSON.parse(run.output.slice(run.output.indexOf("{")));
    assert.equal(result.stop_reason, "refusal", run.output);
    assert.equal(result.api_error_status, null, run.output);
    assert.equal(result.usage.input_tokens, 40 * fx.emulators.A.calls.length);
  });
});
