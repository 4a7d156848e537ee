// Checks the OpenAI and Anthropic emulators against the real pi-ai clients, and pins the exact error messages
// pi-ai produces for each failure (test/fixtures/pi-ai-error-messages.json, the failure classifier's examples).
// RECORD_PI_AI_ERRORS=1 rewrites the fixture's errorMessage/stopReason from what pi-ai does now.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  type Api,
  type AssistantMessageEvent,
  type Context,
  type Model,
  type SimpleStreamOptions,
  streamSimple,
} from "@mariozechner/pi-ai";
import { startAnthropicEmulator } from "../helpers/anthropic-emulator.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import type { Emulator, EmulatorReply, RecordedCall } from "../helpers/sse-emulator-core.ts";

type EmulatedApi = "openai-completions" | "anthropic-messages";
const API_KEY = "sk-emulator-test";
const FIXTURE_PATH = fileURLToPath(new URL("../fixtures/pi-ai-error-messages.json", import.meta.url));
const RECORD_FIXTURE = process.env.RECORD_PI_AI_ERRORS === "1";
const CONTEXT: Context = { messages: [{ role: "user", content: "Say hi", timestamp: 0 }] };

interface Dialect {
  api: EmulatedApi;
  provider: string;
  start: (options?: { name?: string }) => Promise<Emulator>;
  authOf: (call: RecordedCall) => unknown;
  expectedAuth: string;
  path: string;
  statusMessages: Record<number, string>;
}

const anthropicError = (status: number, type: string, message: string) =>
  `${status} ${JSON.stringify({ type: "error", error: { type, message } })}`;

const DIALECTS: Dialect[] = [
  {
    api: "openai-completions",
    provider: "emu-openai",
    start: startOpenAIEmulator,
    path: "/v1/chat/completions",
    authOf: (call) => call.headers.authorization,
    expectedAuth: `Bearer ${API_KEY}`,
    statusMessages: {
      429: "429 Rate limit reached for requests",
      529: "529 Overloaded",
      503: "503 The engine is currently overloaded, please try again later",
      400: "400 Invalid request: messages must not be empty",
      401: "401 Incorrect API key provided",
    },
  },
  {
    api: "anthropic-messages",
    provider: "emu-anthropic",
    start: startAnthropicEmulator,
    path: "/v1/messages",
    authOf: (call) => call.headers["x-api-key"],
    expectedAuth: API_KEY,
    statusMessages: {
      429: anthropicError(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
      529: anthropicError(529, "overloaded_error", "Overloaded"),
      503: anthropicError(503, "api_error", "Service unavailable"),
      400: anthropicError(400, "invalid_request_error", "messages: at least one message is required"),
      401: anthropicError(401, "authentication_error", "invalid x-api-key"),
    },
  },
];

function modelFor(dialect: Dialect, baseUrl: string): Model<Api> {
  const compat = { supportsDeveloperRole: false, supportsReasoningEffort: false, supportsStore: false };
  return {
    id: "emulated-model",
    name: "Emulated model",
    api: dialect.api,
    provider: dialect.provider,
    baseUrl,
    reasoning: false,
    input: ["text"],
    cost: { input: 1, output: 2, cacheRead: 0.1, cacheWrite: 1.25 },
    contextWindow: 128000,
    maxTokens: 4096,
    ...(dialect.api === "openai-completions" ? { compat } : {}),
  } as Model<Api>;
}

async function collect(model: Model<Api>, options: Partial<SimpleStreamOptions> & { abortOnFirstText?: boolean } = {}) {
  const { abortOnFirstText, ...streamOptions } = options;
  const controller = new AbortController();
  const events: AssistantMessageEvent[] = [];
  for await (const event of streamSimple(model, CONTEXT, {
    apiKey: API_KEY,
    maxRetries: 0,
    signal: controller.signal,
    ...streamOptions,
  })) {
    events.push(event);
    if (abortOnFirstText && event.type === "text_delta") controller.abort();
  }
  return events;
}

const textOf = (events: AssistantMessageEvent[]) =>
  events.flatMap((event) => (event.type === "text_delta" ? [event.delta] : [])).join("");
const terminal = (events: AssistantMessageEvent[]) =>
  events.filter((event) => event.type === "done" || event.type === "error");

function onlyError(events: AssistantMessageEvent[]) {
  assert.deepEqual(
    events.map((event) => event.type),
    ["error"],
  );
  const event = events[0];
  assert.ok(event.type === "error");
  return event.error;
}

for (const dialect of DIALECTS) {
  describe(`${dialect.api} emulator through pi-ai`, () => {
    let emulator: Emulator;
    let model: Model<Api>;
    const fresh = async () => {
      emulator ??= await dialect.start({ name: "Emu" });
      emulator.reset();
      model = modelFor(dialect, emulator.url);
    };
    after(() => emulator?.close());

    it("streams the default text in several deltas and reports its usage on done", async () => {
      await fresh();
      const events = await collect(model);
      assert.ok(events.filter((event) => event.type === "text_delta").length > 1);
      assert.equal(textOf(events), "Hello from Emu (call 1).");
      const done = events.at(-1);
      assert.ok(done?.type === "done");
      assert.equal(done.reason, "stop");
      assert.deepEqual([done.message.usage.input, done.message.usage.output], [12, 7]);
    });

    it("records the request path, the parsed body and the api key in the auth header", async () => {
      await fresh();
      await collect(model);
      assert.equal(emulator.calls.length, 1);
      const call = emulator.calls[0];
      assert.equal(call.path, dialect.path);
      assert.equal(call.body.model, "emulated-model");
      assert.equal(call.body.stream, true);
      assert.equal(dialect.authOf(call), dialect.expectedAuth);
    });

    it("streams thinking before the answer as a thinking block", async () => {
      await fresh();
      emulator.enqueue({ thinking: "let me think", text: "Answer." });
      const events = await collect(model);
      const done = events.at(-1);
      assert.ok(done?.type === "done");
      assert.deepEqual(
        done.message.content.map((block) => block.type),
        ["thinking", "text"],
      );
      assert.ok(
        events.findIndex((event) => event.type === "thinking_delta") <
          events.findIndex((event) => event.type === "text_delta"),
      );
    });

    it("delivers a tool call as a toolCall content block with parsed arguments", async () => {
      await fresh();
      emulator.enqueue({ toolCall: { id: "tool-1", name: "echo", arguments: { text: "ping" } } });
      const done = (await collect(model)).at(-1);
      assert.ok(done?.type === "done");
      assert.equal(done.reason, "toolUse");
      assert.deepEqual(done.message.content, [
        { type: "toolCall", id: "tool-1", name: "echo", arguments: { text: "ping" } },
      ]);
    });

    it("passes cache read and cache write tokens through to pi-ai's usage", async () => {
      await fresh();
      emulator.enqueue({ text: "cached", usage: { input: 5, output: 3, cacheRead: 100, cacheWrite: 20 } });
      const done = (await collect(model)).at(-1);
      assert.ok(done?.type === "done");
      const { input, output, cacheRead, cacheWrite } = done.message.usage;
      assert.deepEqual(
        { input, output, cacheRead, cacheWrite },
        { input: 5, output: 3, cacheRead: 100, cacheWrite: 20 },
      );
    });

    it("reports zero usage when the reply's usage is null", async () => {
      await fresh();
      emulator.enqueue({ text: "no usage", usage: null });
      const done = (await collect(model)).at(-1);
      assert.ok(done?.type === "done");
      assert.equal(done.message.usage.totalTokens, 0);
    });

    for (const status of [429, 529, 503, 400, 401]) {
      it(`turns HTTP ${status} into a single error event carrying pi-ai's status-first message`, async () => {
        await fresh();
        emulator.enqueue({ status });
        const error = onlyError(await collect(model));
        assert.equal(error.stopReason, "error");
        assert.equal(error.errorMessage, dialect.statusMessages[status]);
      });
    }

    it("reports a socket reset before any headers as a connection error", async () => {
      await fresh();
      emulator.enqueue({ resetBeforeHeaders: true });
      assert.equal(onlyError(await collect(model)).errorMessage, "Connection error.");
    });

    it("delivers the text sent before a mid-stream drop, then a terminated error", async () => {
      await fresh();
      emulator.enqueue({ text: "one two three four", dropAfterChunks: 2 });
      const events = await collect(model);
      assert.equal(textOf(events), "one two ");
      const [end] = terminal(events);
      assert.ok(end.type === "error");
      assert.equal(end.error.errorMessage, "terminated");
    });

    it("ends a stalled stream as aborted when the caller aborts", async () => {
      await fresh();
      emulator.enqueue({ text: "one two three", stallAfterChunks: 1 });
      const events = await collect(model, { abortOnFirstText: true });
      assert.equal(textOf(events), "one ");
      const [end] = terminal(events);
      assert.ok(end.type === "error");
      assert.equal(end.reason, "aborted");
      assert.equal(end.error.stopReason, "aborted");
    });

    it("ends a stalled stream with an error when the emulator is closed", async () => {
      const stalling = await dialect.start({ name: "Stalling" });
      stalling.enqueue({ text: "one two three", stallAfterChunks: 1 });
      const events: AssistantMessageEvent[] = [];
      for await (const event of streamSimple(modelFor(dialect, stalling.url), CONTEXT, {
        apiKey: API_KEY,
        maxRetries: 0,
      })) {
        events.push(event);
        if (event.type === "text_delta") await stalling.close();
      }
      assert.equal(terminal(events)[0]?.type, "error");
    });

    it("ends an empty stream as done with no content (a fake 200)", async () => {
      await fresh();
      emulator.enqueue({ emptyStream: true });
      const done = (await collect(model)).at(-1);
      assert.ok(done?.type === "done");
      assert.deepEqual(done.message.content, []);
    });

    it("turns a malformed SSE body into an error after start", async () => {
      await fresh();
      emulator.enqueue({ malformedSse: true });
      const events = await collect(model);
      assert.deepEqual(
        events.map((event) => event.type),
        ["start", "error"],
      );
    });

    it("still streams the whole text when chunks drip slowly", async () => {
      await fresh();
      emulator.enqueue({ text: ["a", "b", "c"], chunkDelayMs: 5 });
      assert.equal(textOf(await collect(model)), "abc");
    });

    it("answers queued replies in order, then falls back to the default reply", async () => {
      await fresh();
      emulator.enqueue({ status: 429 }, { text: "second" });
      assert.equal(onlyError(await collect(model)).errorMessage, dialect.statusMessages[429]);
      assert.equal(textOf(await collect(model)), "second");
      assert.equal(textOf(await collect(model)), "Hello from Emu (call 3).");
      assert.deepEqual(
        emulator.calls.map((call) => call.index),
        [0, 1, 2],
      );
    });

    it("uses a default reply function that sees the recorded call", async () => {
      await fresh();
      emulator.setDefault((call) => ({ text: `model was ${call.body.model}` }));
      assert.equal(textOf(await collect(model)), "model was emulated-model");
      emulator.reset();
      assert.equal(textOf(await collect(model)), "Hello from Emu (call 1).");
    });

    it("sends retry-after and extra headers with an error status", async () => {
      await fresh();
      emulator.enqueue({ status: 429, retryAfterSeconds: 7, headers: { "x-ratelimit-remaining-requests": "0" } });
      const response = await fetch(`http://127.0.0.1:${emulator.port}${dialect.path}`, { method: "POST", body: "{}" });
      assert.equal(response.status, 429);
      assert.equal(response.headers.get("retry-after"), "7");
      assert.equal(response.headers.get("x-ratelimit-remaining-requests"), "0");
      assert.deepEqual(emulator.calls[0].body, {});
    });
  });
}

interface FixtureCase {
  case: string;
  api: EmulatedApi;
  status: number | null;
  errorMessage: string;
  stopReason: "error" | "aborted";
  reply?: EmulatorReply;
  streamOptions?: Partial<SimpleStreamOptions>;
  setup?: "connection-refused" | "abort-after-first-text" | "no-api-key";
  stablePrefix?: string; // for messages whose tail depends on the Node version (JSON.parse wording)
}

describe("pi-ai error messages fixture", () => {
  const cases = JSON.parse(readFileSync(FIXTURE_PATH, "utf8")) as FixtureCase[];
  const emulators = new Map<EmulatedApi, Emulator>();
  after(async () => {
    await Promise.all([...emulators.values()].map((emulator) => emulator.close()));
    if (RECORD_FIXTURE) writeFileSync(FIXTURE_PATH, `${JSON.stringify(cases, null, 2)}\n`);
  });

  async function observe(entry: FixtureCase) {
    const dialect = DIALECTS.find((candidate) => candidate.api === entry.api)!;
    if (entry.setup === "connection-refused") {
      const closed = await dialect.start();
      await closed.close();
      return terminal(await collect(modelFor(dialect, closed.url)))[0];
    }
    let emulator = emulators.get(entry.api);
    if (!emulator) emulators.set(entry.api, (emulator = await dialect.start({ name: "Fixture" })));
    emulator.reset();
    if (entry.reply) emulator.enqueue(entry.reply);
    const options = { ...entry.streamOptions, abortOnFirstText: entry.setup === "abort-after-first-text" };
    if (entry.setup === "no-api-key") Object.assign(options, { apiKey: undefined });
    return terminal(await collect(modelFor(dialect, emulator.url), options))[0];
  }

  for (const entry of cases) {
    it(`pi-ai reports "${entry.case}" with the message recorded in the fixture`, async () => {
      const end = await observe(entry);
      assert.ok(end?.type === "error", `expected an error event, got ${end?.type}`);
      if (RECORD_FIXTURE)
        Object.assign(entry, { errorMessage: end.error.errorMessage, stopReason: end.error.stopReason });
      assert.equal(end.error.stopReason, entry.stopReason);
      if (entry.stablePrefix) assert.ok(end.error.errorMessage?.startsWith(entry.stablePrefix), end.error.errorMessage);
      else assert.equal(end.error.errorMessage, entry.errorMessage);
    });
  }
});
