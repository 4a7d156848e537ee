// A translated request keeps the client's tool choice, structured output, strict tools and sampling settings: each
// client API (official openai and @anthropic-ai/sdk clients, through the real `pi-auto-router serve`) to a target of
// another API, asserting on the body the emulated target received. What the target's API cannot take is named in
// `x-auto-router-ignored`, never faked; a passthrough answer names nothing.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type OpenAI from "openai";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";

const PARAMETERS = {
  type: "object" as const,
  properties: { city: { type: "string" } },
  required: ["city"],
  additionalProperties: false,
};
/** What the answer says the serving target did not honour. */
const ignored = (response: Response) => response.headers.get("x-auto-router-ignored");
const SCHEMA = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] };

describe("gateway: settings a translated request keeps", () => {
  let fx: GatewayFixture<"A" | "R" | "C">;
  let chat: Emulator, responses: Emulator, anthropic: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai", R: "responses", C: "anthropic" },
      providers: {
        "mock-chat": { emulator: "A", apiKey: "sk-mock-chat-0000000001", models: ["model-chat"] },
        "mock-resp": {
          emulator: "R",
          apiKey: "sk-mock-resp-0000000002",
          models: ["model-resp", { id: "model-resp-think", reasoning: true }],
        },
        "mock-claude": {
          emulator: "C",
          apiKey: "sk-ant-mock-0000000003",
          models: [{ id: "model-claude", reasoning: true }],
        },
      },
      routes: {
        routes: {
          swe: routeInOrder("mock-chat/model-chat"),
          resp: routeInOrder("mock-resp/model-resp"),
          "resp-think": routeInOrder("mock-resp/model-resp-think"),
          claude: routeInOrder("mock-claude/model-claude"),
          mixed: routeInOrder("mock-claude/model-claude", "mock-chat/model-chat"),
        },
        failover: { cooldownWaitMs: 0, kinds: { rate_limit: { cooldownMs: 0 } } },
      },
    });
    ({ A: chat, R: responses, C: anthropic } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  it("sends a Responses request's required tool choice, strict tool and JSON mode to a Chat Completions target", async () => {
    chat.enqueue({ text: '{"ok":true}' });
    const { response } = await fx.openai.responses
      .create({
        model: "swe",
        input: "json please",
        tool_choice: "required",
        parallel_tool_calls: false,
        tools: [{ type: "function", name: "f", strict: true, parameters: PARAMETERS }],
        text: { format: { type: "json_object" } },
        top_p: 0.5,
        user: "end-user-7",
      })
      .withResponse();
    const body = chat.calls[0]!.body;
    assert.equal(body.tool_choice, "required");
    assert.equal(body.parallel_tool_calls, false);
    assert.deepEqual(body.response_format, { type: "json_object" });
    assert.equal(body.tools[0].function.strict, true);
    assert.equal(body.top_p, 0.5);
    assert.equal(body.user, "end-user-7");
    assert.equal(ignored(response), null);
  });

  it("sends a Responses function tool that leaves `strict` out as strict, Responses' default, when its schema is strict-ready", async () => {
    chat.enqueue({ text: "ok" });
    anthropic.enqueue({ text: "ok" });
    const loose = { type: "object" as const, properties: { city: { type: "string" } } };
    const tools = [
      { type: "function", name: "left_out", parameters: PARAMETERS },
      { type: "function", name: "null", strict: null, parameters: PARAMETERS },
      { type: "function", name: "opted_out", strict: false, parameters: PARAMETERS },
      // api.openai.com would close this schema and require its fields; sent strict as it is, it would be refused.
      { type: "function", name: "loose", parameters: loose },
    ] as OpenAI.Responses.FunctionTool[];
    const { response } = await fx.openai.responses.create({ model: "swe", input: "hi", tools }).withResponse();
    assert.deepEqual(
      chat.calls[0]!.body.tools.map((tool: any) => [tool.function.name, tool.function.strict]),
      [
        ["left_out", true],
        ["null", true],
        ["opted_out", false],
        ["loose", false],
      ],
    );
    assert.equal(ignored(response), null);
    // A target that takes no strict tools says nothing of a default the client did not set.
    const claude = await fx.openai.responses.create({ model: "claude", input: "hi", tools }).withResponse();
    assert.equal(anthropic.calls[0]!.body.tools.length, 4);
    assert.equal(ignored(claude.response), null);
  });

  it("sends a Chat Completions request's named tool choice and json_schema format to a Responses target", async () => {
    responses.enqueue({ text: '{"answer":"yes"}' });
    const { response } = await fx.openai.chat.completions
      .create({
        model: "resp",
        messages: [{ role: "user", content: "answer in JSON" }],
        tools: [{ type: "function", function: { name: "get_weather", parameters: PARAMETERS, strict: true } }],
        tool_choice: { type: "function", function: { name: "get_weather" } },
        response_format: { type: "json_schema", json_schema: { name: "reply", schema: SCHEMA, strict: true } },
        stop: ["END"],
        seed: 7,
      })
      .withResponse();
    const body = responses.calls[0]!.body;
    assert.deepEqual(body.tool_choice, { type: "function", name: "get_weather" });
    assert.deepEqual(body.text.format, { type: "json_schema", name: "reply", schema: SCHEMA, strict: true });
    assert.equal(body.tools[0].strict, true);
    // The Responses API has no stop sequences and no seed: named, not faked.
    assert.equal(body.stop, undefined);
    assert.equal(body.seed, undefined);
    assert.equal(ignored(response), "stop, seed");
  });

  it("sends an Anthropic request's `any` tool choice, stop sequences and user id to a Chat Completions target", async () => {
    chat.enqueue({ toolCall: { id: "call_1", name: "get_weather", arguments: { city: "Paris" } } });
    const { response } = await fx.anthropic.messages
      .create({
        model: "swe",
        max_tokens: 256,
        messages: [{ role: "user", content: "Weather in Paris?" }],
        tools: [{ name: "get_weather", input_schema: PARAMETERS }],
        tool_choice: { type: "any", disable_parallel_tool_use: true },
        stop_sequences: ["STOP"],
        top_k: 5,
        metadata: { user_id: "end-user-8" },
      })
      .withResponse();
    const body = chat.calls[0]!.body;
    assert.equal(body.tool_choice, "required");
    assert.equal(body.parallel_tool_calls, false);
    assert.deepEqual(body.stop, ["STOP"]);
    assert.equal(body.user, undefined, "an Anthropic account's user id is not passed to another provider");
    assert.equal(body.top_k, undefined);
    assert.equal(ignored(response), "top_k");
  });

  it("sends a Chat Completions target the first 4 of an Anthropic request's stop sequences, the most it takes, and names them", async () => {
    chat.enqueue({ text: "one" });
    const { response } = await fx.anthropic.messages
      .create({
        model: "swe",
        max_tokens: 256,
        messages: [{ role: "user", content: "Count." }],
        stop_sequences: ["5", "6", "7", "8", "9"],
      })
      .withResponse();
    assert.deepEqual(chat.calls[0]!.body.stop, ["5", "6", "7", "8"]);
    assert.equal(ignored(response), "stop_sequences");
    // An Anthropic target takes them all (a prompt shortcut has the request translated).
    anthropic.enqueue({ text: "one" });
    const whole = await fx.anthropic.messages
      .create({
        model: "claude",
        max_tokens: 256,
        messages: [{ role: "user", content: "@only=mock-claude Count." }],
        stop_sequences: ["5", "6", "7", "8", "9"],
      })
      .withResponse();
    assert.deepEqual(anthropic.calls[0]!.body.stop_sequences, ["5", "6", "7", "8", "9"]);
    assert.equal(ignored(whole.response), null);
  });

  it("sends an Anthropic request's structured output (output_config.format) to Chat and Responses targets as theirs", async () => {
    const request = {
      max_tokens: 256,
      messages: [{ role: "user" as const, content: "Answer in JSON." }],
      output_config: { format: { type: "json_schema" as const, schema: SCHEMA } },
    };
    chat.enqueue({ text: '{"answer":"yes"}' });
    const toChat = await fx.anthropic.messages.create({ ...request, model: "swe" }).withResponse();
    assert.deepEqual(chat.calls[0]!.body.response_format, {
      type: "json_schema",
      json_schema: { name: "response", schema: SCHEMA },
    });
    assert.equal(ignored(toChat.response), null);
    responses.enqueue({ text: '{"answer":"yes"}' });
    const toResponses = await fx.anthropic.messages
      .create({ ...request, model: "resp", output_config: { ...request.output_config, effort: "low" } })
      .withResponse();
    assert.deepEqual(responses.calls[0]!.body.text.format, { type: "json_schema", name: "response", schema: SCHEMA });
    assert.equal(ignored(toResponses.response), "output_config.effort");
  });

  it("sends the structured-outputs beta's output_format to a Chat target as its own, and names one it cannot", async () => {
    // The beta's own field, which a client sends as it is (@anthropic-ai/sdk's beta.messages moves it to
    // output_config.format itself since late 2025; an older one, or a client of its own, does not).
    const beta = { headers: { "anthropic-beta": "structured-outputs-2025-11-13" } };
    const request = {
      model: "swe",
      max_tokens: 256,
      messages: [{ role: "user" as const, content: "Answer in JSON." }],
    };
    chat.enqueue({ text: '{"answer":"yes"}' });
    const { response } = await fx.anthropic.messages
      .create({ ...request, output_format: { type: "json_schema", schema: SCHEMA } } as never, beta)
      .withResponse();
    assert.deepEqual(chat.calls[0]!.body.response_format, {
      type: "json_schema",
      json_schema: { name: "response", schema: SCHEMA },
    });
    assert.equal(ignored(response), null);
    // A format a target of another API has no form for is named by the field the client wrote.
    chat.enqueue({ text: "plain" });
    const other = await fx.anthropic.messages
      .create({ ...request, output_format: { type: "xml" } } as never, beta)
      .withResponse();
    assert.equal(chat.calls[1]!.body.response_format, undefined);
    assert.equal(ignored(other.response), "output_format");
  });

  it("names JSON mode and strict tools in x-auto-router-ignored when an Anthropic target streams, and still forces the tool", async () => {
    anthropic.enqueue({ text: "{}" });
    const { data: stream, response } = await fx.openai.chat.completions
      .create({
        model: "claude",
        stream: true,
        messages: [{ role: "user", content: "answer in JSON" }],
        tools: [{ type: "function", function: { name: "get_weather", parameters: PARAMETERS, strict: true } }],
        tool_choice: { type: "function", function: { name: "get_weather" } },
        parallel_tool_calls: false,
        response_format: { type: "json_schema", json_schema: { name: "reply", schema: SCHEMA, strict: true } },
        stop: "END",
        presence_penalty: 1,
        user: "end-user-9",
      })
      .withResponse();
    for await (const _chunk of stream);
    const body = anthropic.calls[0]!.body;
    assert.deepEqual(body.tool_choice, { type: "tool", name: "get_weather", disable_parallel_tool_use: true });
    assert.deepEqual(body.stop_sequences, ["END"]);
    assert.deepEqual(body.metadata, { user_id: "end-user-9" });
    assert.equal(body.response_format, undefined);
    assert.equal(body.tools[0].strict, undefined);
    assert.equal(body.presence_penalty, undefined);
    assert.equal(ignored(response), "response_format, tools[].function.strict, presence_penalty");
  });

  it("leaves the tool choice free, and says so, when an Anthropic target thinks (it refuses a forced call then)", async () => {
    anthropic.enqueue({ text: "thought" });
    const { response } = await fx.openai.chat.completions
      .create({
        model: "claude",
        reasoning_effort: "high",
        messages: [{ role: "user", content: "Weather in Paris?" }],
        tools: [{ type: "function", function: { name: "get_weather", parameters: PARAMETERS } }],
        tool_choice: "required",
      })
      .withResponse();
    const body = anthropic.calls[0]!.body;
    assert.notEqual(body.thinking?.type, undefined);
    assert.notEqual(body.thinking.type, "disabled");
    assert.equal(body.tool_choice, undefined);
    assert.equal(ignored(response), "tool_choice");
  });

  it("leaves out and names the temperature, top_p and top_k an Anthropic target refuses while it thinks", async () => {
    anthropic.enqueue({ text: "thought" });
    anthropic.enqueue({ text: "plain" });
    const thinking = await fx.openai.chat.completions
      .create({
        model: "claude",
        reasoning_effort: "high",
        temperature: 0.2,
        top_p: 0.5,
        messages: [{ role: "user", content: "Think, then answer." }],
      })
      .withResponse();
    const body = anthropic.calls[0]!.body;
    assert.equal(body.thinking?.type, "enabled");
    assert.deepEqual([body.temperature, body.top_p], [undefined, undefined]);
    assert.equal(ignored(thinking.response), "top_p, temperature");
    // Without thinking, both reach the target and nothing is named.
    const plain = await fx.openai.chat.completions
      .create({ model: "claude", temperature: 0.2, top_p: 0.5, messages: [{ role: "user", content: "Answer." }] })
      .withResponse();
    const plainBody = anthropic.calls[1]!.body;
    assert.deepEqual([plainBody.temperature, plainBody.top_p], [0.2, 0.5]);
    assert.equal(ignored(plain.response), null);
  });

  it("leaves out and names an OpenAI temperature above 1, which an Anthropic target refuses, and keeps it for a Chat target", async () => {
    anthropic.enqueue({ text: "warm" });
    const hot = await fx.openai.chat.completions
      .create({ model: "claude", temperature: 1.5, messages: [{ role: "user", content: "Be creative." }] })
      .withResponse();
    assert.equal(anthropic.calls[0]!.body.temperature, undefined);
    assert.equal(ignored(hot.response), "temperature");
    anthropic.enqueue({ text: "warm" });
    const hottest = await fx.openai.responses
      .create({ model: "claude", temperature: 2, input: "Be creative." })
      .withResponse();
    assert.equal(anthropic.calls[1]!.body.temperature, undefined);
    assert.equal(ignored(hottest.response), "temperature");
    // 1 is within Anthropic's range; a Chat target takes OpenAI's whole range.
    anthropic.enqueue({ text: "warm" });
    const one = await fx.openai.chat.completions
      .create({ model: "claude", temperature: 1, messages: [{ role: "user", content: "Be creative." }] })
      .withResponse();
    assert.equal(anthropic.calls[2]!.body.temperature, 1);
    assert.equal(ignored(one.response), null);
    chat.enqueue({ text: "warm" });
    const chatHot = await fx.openai.chat.completions
      .create({ model: "swe", temperature: 1.5, messages: [{ role: "user", content: "@only=mock-chat be creative" }] })
      .withResponse();
    assert.equal(chat.calls[0]!.body.temperature, 1.5);
    assert.equal(ignored(chatHot.response), null);
  });

  it("keeps a Chat request's penalties when a prompt shortcut has it translated for a Chat target, and names n and logprobs", async () => {
    chat.enqueue({ text: "hi" });
    const { response } = await fx.openai.chat.completions
      .create({
        model: "swe",
        messages: [{ role: "user", content: "@only=mock-chat say hi" }],
        frequency_penalty: 0.5,
        presence_penalty: 0.25,
        n: 2,
        logprobs: true,
      })
      .withResponse();
    const body = chat.calls[0]!.body;
    assert.doesNotMatch(JSON.stringify(body.messages), /@only/, "translated, not passed through");
    assert.equal(body.frequency_penalty, 0.5);
    assert.equal(body.presence_penalty, 0.25);
    assert.equal(body.n, undefined);
    assert.equal(ignored(response), "n, logprobs");
  });

  it("names the reasoning a client asked for when the serving target's request asks for none", async () => {
    // model-chat takes no reasoning_effort (its compat says so): pi-ai leaves the effort out.
    chat.enqueue({ text: "hi" });
    const fromChat = await fx.openai.chat.completions
      .create({ model: "swe", messages: [{ role: "user", content: "hi" }], reasoning_effort: "high" })
      .withResponse();
    assert.equal(chat.calls[0]!.body.reasoning_effort, undefined);
    assert.equal(ignored(fromChat.response), "reasoning_effort");
    chat.enqueue({ text: "hi" });
    const fromResponses = await fx.openai.responses
      .create({ model: "swe", input: "hi", reasoning: { effort: "high" } })
      .withResponse();
    assert.equal(ignored(fromResponses.response), "reasoning.effort");
    chat.enqueue({ text: "hi" });
    const fromMessages = await fx.anthropic.messages
      .create({
        model: "swe",
        max_tokens: 4000,
        thinking: { type: "enabled", budget_tokens: 2000 },
        messages: [{ role: "user", content: "hi" }],
      })
      .withResponse();
    assert.equal(ignored(fromMessages.response), "thinking");
    // A target that thinks takes it: nothing named. "none" asks for no reasoning: nothing to name either.
    anthropic.enqueue({ text: "hi" });
    const thinking = await fx.openai.chat.completions
      .create({ model: "claude", messages: [{ role: "user", content: "hi" }], reasoning_effort: "high" })
      .withResponse();
    assert.equal(anthropic.calls[0]!.body.thinking?.type, "enabled");
    assert.equal(ignored(thinking.response), null);
    chat.enqueue({ text: "hi" });
    const none = await fx.openai.chat.completions
      .create({ model: "swe", messages: [{ role: "user", content: "@only=mock-chat hi" }], reasoning_effort: "none" })
      .withResponse();
    assert.equal(ignored(none.response), null);
  });

  it("sends a Responses request with reasoning effort `none` to a target that thinks without thinking, naming nothing", async () => {
    anthropic.enqueue({ text: "hi" });
    const { response } = await fx.openai.responses
      .create({ model: "claude", input: "hi", reasoning: { effort: "none" }, max_output_tokens: 4000 })
      .withResponse();
    assert.notEqual(anthropic.calls[0]!.body.thinking?.type, "enabled");
    assert.equal(anthropic.calls[0]!.body.max_tokens, 4000);
    assert.equal(ignored(response), null);
  });

  it("gives a translated Responses request that asks for a reasoning summary without an effort the default reasoning", async () => {
    // What the Codex CLI sends by default; its hosted web_search tool has the request translated.
    const codexLike = {
      input: "hi",
      reasoning: { summary: "auto" as const },
      include: ["reasoning.encrypted_content" as const],
      store: false,
      tools: [{ type: "web_search" as const }],
    };
    responses.enqueue({ text: "hi" });
    const fromResponses = await fx.openai.responses.create({ model: "resp-think", ...codexLike }).withResponse();
    assert.deepEqual(responses.calls[0]!.body.reasoning, { effort: "medium", summary: "auto" });
    assert.equal(ignored(fromResponses.response), null);
    anthropic.enqueue({ text: "hi" });
    const fromAnthropic = await fx.openai.responses.create({ model: "claude", ...codexLike }).withResponse();
    assert.equal(anthropic.calls[0]!.body.thinking?.type, "enabled");
    assert.equal(ignored(fromAnthropic.response), null);
    // A target without reasoning cannot give the summary asked for: named by the field the client sent.
    chat.enqueue({ text: "hi" });
    const fromChat = await fx.openai.responses.create({ model: "swe", ...codexLike }).withResponse();
    assert.equal(ignored(fromChat.response), "reasoning.summary");
    // No `reasoning` at all asks for none.
    anthropic.enqueue({ text: "hi" });
    await fx.openai.responses.create({ model: "claude", input: "hi" });
    assert.notEqual(anthropic.calls[1]!.body.thinking?.type, "enabled");
  });

  it("names each Responses field a translated request does not carry, and none the Codex CLI sends at its default", async () => {
    chat.enqueue({ text: "hi" });
    const { response } = await fx.openai.responses
      .create({
        model: "swe",
        input: "hi",
        store: true,
        background: true,
        service_tier: "flex",
        top_logprobs: 2,
        prompt_cache_key: "conversation-1",
        safety_identifier: "user-hash",
        text: { verbosity: "low" },
        truncation: "auto",
        max_tool_calls: 3,
        include: ["message.output_text.logprobs"],
        client_metadata: { origin: "cli" },
      } as never)
      .withResponse();
    assert.equal(
      ignored(response),
      "store, background, service_tier, top_logprobs, prompt_cache_key, safety_identifier, text.verbosity, " +
        "truncation, max_tool_calls, client_metadata, include[0] (message.output_text.logprobs)",
    );
    chat.enqueue({ text: "hi" });
    const defaults = await fx.openai.responses
      .create({
        model: "swe",
        input: "hi",
        store: false,
        service_tier: "auto",
        text: { verbosity: "medium" },
        truncation: "disabled",
        include: ["reasoning.encrypted_content"],
      })
      .withResponse();
    assert.equal(ignored(defaults.response), null);
  });

  it("names a Chat request's prompt cache key and retention and its safety identifier when translated", async () => {
    anthropic.enqueue({ text: "hi" });
    const { response } = await fx.openai.chat.completions
      .create({
        model: "claude",
        messages: [{ role: "user", content: "hi" }],
        prompt_cache_key: "conversation-1",
        prompt_cache_retention: "24h",
        safety_identifier: "user-hash",
      })
      .withResponse();
    assert.equal(ignored(response), "prompt_cache_key, prompt_cache_retention, safety_identifier");
    chat.enqueue({ text: "hi" });
    const fromResponses = await fx.openai.responses
      .create({ model: "swe", input: "hi", prompt_cache_retention: "24h" })
      .withResponse();
    assert.equal(ignored(fromResponses.response), "prompt_cache_retention");
    // The default retention is no setting.
    anthropic.enqueue({ text: "hi" });
    const plain = await fx.openai.chat.completions
      .create({ model: "claude", messages: [{ role: "user", content: "hi" }], prompt_cache_retention: "in-memory" })
      .withResponse();
    assert.equal(ignored(plain.response), null);
  });

  it("names an xhigh effort a target gets lowered to high (its model maps no xhigh)", async () => {
    const translated = { tools: [{ type: "web_search" as const }], input: "hi" };
    responses.enqueue({ text: "hi" });
    const xhigh = await fx.openai.responses
      .create({ model: "resp-think", ...translated, reasoning: { effort: "xhigh" } })
      .withResponse();
    assert.equal(responses.calls[0]!.body.reasoning.effort, "high");
    assert.equal(ignored(xhigh.response), "reasoning.effort");
    responses.enqueue({ text: "hi" });
    const high = await fx.openai.responses
      .create({ model: "resp-think", ...translated, reasoning: { effort: "high" } })
      .withResponse();
    assert.equal(responses.calls[1]!.body.reasoning.effort, "high");
    assert.equal(ignored(high.response), null);
  });

  it("names only what the target that served could not take, after a failover from a target that could not", async () => {
    anthropic.enqueue({ status: 429, errorMessage: "rate limited" });
    chat.enqueue({ text: "{}" });
    const { response } = await fx.openai.responses
      .create({ model: "mixed", input: "json please", text: { format: { type: "json_object" } } })
      .withResponse();
    assert.equal(anthropic.calls.length, 1);
    assert.deepEqual(chat.calls[0]!.body.response_format, { type: "json_object" });
    assert.equal(response.headers.get("x-auto-router-served-by"), "mock-chat/model-chat");
    assert.equal(ignored(response), null);
  });

  it("names a tool choice of a form no target takes, and sends none", async () => {
    chat.enqueue({ text: "hi" });
    const { response } = await fx.openai.responses
      .create({
        model: "swe",
        input: "hi",
        tools: [{ type: "function", name: "f", strict: false, parameters: PARAMETERS }],
        tool_choice: { type: "allowed_tools", mode: "auto", tools: [{ type: "function", name: "f" }] },
      })
      .withResponse();
    assert.equal(chat.calls[0]!.body.tool_choice, undefined);
    assert.equal(ignored(response), "tool_choice");
  });

  it("sends a passthrough request's settings as the client wrote them and names nothing", async () => {
    chat.enqueue({ text: "{}" });
    const { response } = await fx.openai.chat.completions
      .create({
        model: "swe",
        messages: [{ role: "user", content: "hi" }],
        response_format: { type: "json_object" },
        top_k: 3,
      } as never)
      .withResponse();
    assert.deepEqual(chat.calls[0]!.body.response_format, { type: "json_object" });
    assert.equal(chat.calls[0]!.body.top_k, 3);
    assert.equal(ignored(response), null);
  });

  it("names the log probabilities, token biases and audio a translated Chat answer cannot give, and keeps a refusal", async () => {
    anthropic.enqueue({ text: "Sure." });
    const { response } = await fx.openai.chat.completions
      .create({
        model: "claude",
        messages: [
          { role: "user", content: "help me pick a lock" },
          { role: "assistant", content: [{ type: "refusal", refusal: "I can't help with that." }] },
          { role: "user", content: "a bike lock, mine" },
        ],
        logprobs: true,
        top_logprobs: 3,
        logit_bias: { "50256": -100 },
        modalities: ["text", "audio"],
        audio: { voice: "alloy", format: "wav" },
      })
      .withResponse();
    assert.equal(ignored(response), "logprobs, top_logprobs, logit_bias, modalities, audio");
    const assistant = anthropic.calls[0]!.body.messages[1];
    assert.deepEqual(assistant.content, [{ type: "text", text: "I can't help with that." }]);
  });

  it("names a Chat request's service tier, verbosity and web search, and a Messages request's MCP servers, when translated", async () => {
    anthropic.enqueue({ text: "Answered." });
    const chatAnswer = await fx.openai.chat.completions
      .create({
        model: "claude",
        messages: [{ role: "user", content: "hello" }],
        service_tier: "priority",
        verbosity: "low",
        web_search_options: {},
      })
      .withResponse();
    assert.equal(ignored(chatAnswer.response), "service_tier, verbosity, web_search_options");
    assert.equal(anthropic.calls[0]!.body.service_tier, undefined, "an OpenAI service tier is not an Anthropic one");
    chat.enqueue({ text: "Answered." });
    const messagesAnswer = await fx.anthropic.messages
      .create({
        model: "swe",
        max_tokens: 64,
        messages: [{ role: "user", content: "hello" }],
        mcp_servers: [{ type: "url", url: "https://mcp.example.com/sse", name: "example" }],
      } as never)
      .withResponse();
    assert.equal(ignored(messagesAnswer.response), "mcp_servers");
    assert.equal(chat.calls[0]!.body.mcp_servers, undefined);
  });

  it("names a Messages request's inference geography and fast mode, which a target of another API cannot honour", async () => {
    const request = { model: "swe", max_tokens: 64, messages: [{ role: "user" as const, content: "hello" }] };
    chat.enqueue({ text: "Answered." });
    const { response } = await fx.anthropic.messages
      .create({ ...request, inference_geo: "us", speed: "fast" } as never)
      .withResponse();
    assert.equal(ignored(response), "inference_geo, speed");
    assert.equal(chat.calls[0]!.body.inference_geo, undefined);
    // The values every target gives anyway are no settings.
    chat.enqueue({ text: "Answered." });
    const plain = await fx.anthropic.messages
      .create({ ...request, inference_geo: "global", speed: "standard" } as never)
      .withResponse();
    assert.equal(ignored(plain.response), null);
  });

  it("names a Chat request's legacy functions and its participants' names, which a translation leaves out", async () => {
    anthropic.enqueue({ text: "No function to call." });
    const { data, response } = await fx.openai.chat.completions
      .create({
        model: "claude",
        messages: [
          { role: "system", content: "You moderate.", name: "house-rules" },
          { role: "user", content: "What is the weather in Oslo?", name: "alice" },
        ],
        functions: [{ name: "get_weather", parameters: PARAMETERS }],
        function_call: { name: "get_weather" },
      })
      .withResponse();
    assert.equal(data.choices[0]!.message.content, "No function to call.");
    assert.equal(ignored(response), "functions, function_call, messages[].name");
    const body = anthropic.calls[0]!.body;
    assert.deepEqual([body.tools, body.tool_choice], [undefined, undefined]);
    // A tool result's name is its tool's, which the call it answers carries: nothing is lost.
    anthropic.enqueue({ text: "Sunny." });
    const toolTurn = await fx.openai.chat.completions
      .create({
        model: "claude",
        tools: [{ type: "function", function: { name: "get_weather", parameters: PARAMETERS } }],
        messages: [
          { role: "user", content: "Weather in Oslo?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
            ],
          },
          { role: "tool", tool_call_id: "call_1", content: "sunny", name: "get_weather" } as never,
        ],
      })
      .withResponse();
    assert.equal(ignored(toolTurn.response), null);
  });

  it("names a Messages request's context editing, which only Anthropic's servers run, when translated", async () => {
    chat.enqueue({ text: "Answered." });
    const { response } = await fx.anthropic.messages
      .create({
        model: "swe",
        max_tokens: 64,
        messages: [{ role: "user", content: "hello" }],
        context_management: { edits: [{ type: "clear_tool_uses_20250919" }] },
      } as never)
      .withResponse();
    assert.equal(ignored(response), "context_management");
    assert.equal(chat.calls[0]!.body.context_management, undefined);
  });

  it("refuses a Responses request on a stored conversation, naming the field", async () => {
    const refused = await fx.openai.responses.create({ model: "resp", input: "go on", conversation: "conv_1" }).then(
      () => assert.fail("answered"),
      (error: { status: number; error: { message: string } }) => error,
    );
    assert.equal(refused.status, 400);
    assert.match(refused.error.message, /^body\.conversation: stored conversations are not kept/);
    assert.equal(responses.calls.length, 0);
  });
});
