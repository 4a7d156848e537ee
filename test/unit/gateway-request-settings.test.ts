// The client settings pi-ai's context has no place for, read from each client API into one form and written into
// each target API's body: tool choice, parallel tool calls, structured output, strict tools, stop, top_p/top_k, seed,
// end user. What a target's API lacks is named in the client's own words.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  anthropicSettings,
  anthropicToolChoice,
  chatSettings,
  outputFormat,
  responsesSettings,
} from "../../src/gateway/client-settings.ts";
import { settingsCarrier, strictReady, writeSettings } from "../../src/gateway/target-settings.ts";
import { openAIToolChoice } from "../../src/gateway/tool-turns.ts";

const SCHEMA = { type: "object", properties: { a: { type: "string" } } };
const chatTool = (strict?: boolean) => ({ type: "function", function: { name: "f", parameters: {}, strict } });

describe("client settings: reading each client API", () => {
  it("reads tool choices of all three APIs into one form", () => {
    assert.equal(openAIToolChoice("required"), "required");
    assert.deepEqual(openAIToolChoice({ type: "function", function: { name: "f" } }), { name: "f" });
    assert.deepEqual(openAIToolChoice({ type: "function", name: "f" }), { name: "f" });
    assert.equal(openAIToolChoice({ type: "allowed_tools" }), undefined);
    assert.equal(anthropicToolChoice({ type: "any" }), "required");
    assert.equal(anthropicToolChoice({ type: "none" }), "none");
    assert.deepEqual(anthropicToolChoice({ type: "tool", name: "f" }), { name: "f" });
  });

  it("reads Chat's response_format and Responses' text.format into one form; plain text is no setting", () => {
    const strictSchema = { type: "json_schema", name: "r", schema: SCHEMA, strict: true };
    assert.deepEqual(
      outputFormat({ type: "json_schema", json_schema: { name: "r", schema: SCHEMA, strict: true } }),
      strictSchema,
    );
    assert.deepEqual(outputFormat(strictSchema), strictSchema);
    assert.deepEqual(outputFormat({ type: "json_object" }), { type: "json_object" });
    assert.equal(outputFormat({ type: "text" }), "text");
    assert.deepEqual(chatSettings({ response_format: { type: "text" } }).values, {});
  });

  it("keeps what each API gave and names a setting given in an unreadable form", () => {
    const chat = chatSettings({
      tool_choice: "bogus",
      stop: "END",
      seed: 3,
      tools: [chatTool(true)],
      parallel_tool_calls: true,
    });
    assert.deepEqual(chat.values, { stop: ["END"], seed: 3, strictTools: ["f"] });
    assert.deepEqual(chat.unsupported, ["tool_choice"]);
    const responses = responsesSettings({ tool_choice: "none", text: { format: { type: "json_object" } }, user: "u" });
    assert.deepEqual(responses.values, { toolChoice: "none", output: { type: "json_object" }, user: "u" });
    const anthropic = anthropicSettings({
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
      stop_sequences: ["S"],
      top_k: 4,
      metadata: { user_id: "u" },
    });
    // `auto` is every API's default: no setting (the Codex CLI sends it with every request).
    assert.deepEqual(anthropic.values, { parallelToolCalls: false, stop: ["S"], topK: 4 });
    // Effort `none` asks for no reasoning: nothing to carry, no thinking cap to keep.
    assert.deepEqual(responsesSettings({ reasoning: { effort: "none" }, max_output_tokens: 500 }).values, {});
    // A summary without an effort asks for reasoning, named by the field the client sent.
    const summary = responsesSettings({ reasoning: { summary: "auto" }, max_output_tokens: 500 });
    assert.deepEqual(summary.values, { reasoning: "medium", thinkingLimit: { maxTokens: 500 } });
    assert.equal(summary.names.reasoning, "reasoning.summary");
    assert.deepEqual(responsesSettings({ tool_choice: "auto" }).values, {});
    assert.deepEqual(responsesSettings({ tool_choice: "auto" }).unsupported, []);
    // The structured-outputs beta's output_format, read as output_config.format (which wins when both are sent).
    const schema = { type: "object" };
    const beta = anthropicSettings({ output_format: { type: "json_schema", schema } });
    assert.deepEqual(beta.values, { output: { type: "json_schema", name: "response", schema } });
    assert.equal(beta.names.output, "output_format");
    const both = anthropicSettings({
      output_format: { type: "json_schema", schema: { type: "string" } },
      output_config: { format: { type: "json_schema", schema } },
    });
    assert.deepEqual(both.values, { output: { type: "json_schema", name: "response", schema } });
    assert.equal(both.names.output, "output_config.format");
    assert.deepEqual(anthropicSettings({ output_format: { type: "xml" } }).unsupported, ["output_format"]);
  });
});

describe("client settings: content pi-ai has no place for", () => {
  it("names Anthropic documents by path, and Chat's and Responses' image detail and metadata once each", () => {
    const document = { type: "document", source: { type: "text", media_type: "text/plain", data: "x" } };
    const anthropic = anthropicSettings({
      messages: [
        { role: "user", content: [{ type: "text", text: "a" }, document] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: [document] }] },
      ],
    });
    assert.deepEqual(anthropic.unsupported, [
      "messages[0].content[1] (document)",
      "messages[1].content[0].content[0] (document)",
    ]);
    const image = (detail: string) => ({ type: "image_url", image_url: { url: "data:x", detail } });
    const chat = chatSettings({ metadata: { a: "1" }, messages: [{ content: [image("high"), image("low")] }] });
    assert.deepEqual(chat.unsupported, ["metadata", "messages[].content[].image_url.detail"]);
    assert.deepEqual(chatSettings({ metadata: {}, messages: [{ content: [image("auto")] }] }).unsupported, []);
    const responses = responsesSettings({ input: [{ content: [{ type: "input_image", detail: "low" }] }] });
    assert.deepEqual(responses.unsupported, ["input[].content[].detail"]);
  });

  it("names Chat's log probabilities, token biases and audio output, which a translated answer cannot give", () => {
    const chat = chatSettings({
      messages: [{ role: "user", content: "hi" }],
      logprobs: true,
      top_logprobs: 3,
      logit_bias: { "50256": -100 },
      modalities: ["text", "audio"],
      audio: { voice: "alloy", format: "wav" },
    });
    assert.deepEqual(chat.unsupported, ["logprobs", "top_logprobs", "logit_bias", "modalities", "audio"]);
    const plain = chatSettings({ messages: [], top_logprobs: 0, logit_bias: {}, modalities: ["text"], audio: null });
    assert.deepEqual(plain.unsupported, []);
  });

  it("names Chat's and Messages' service tiers, stored completions, verbosity, predictions, web search and MCP servers", () => {
    const chat = chatSettings({
      messages: [],
      store: true,
      service_tier: "priority",
      verbosity: "low",
      prediction: { type: "content", content: "old code" },
      web_search_options: {},
    });
    assert.deepEqual(chat.unsupported, ["store", "service_tier", "verbosity", "prediction", "web_search_options"]);
    const defaults = chatSettings({ messages: [], store: false, service_tier: "auto", verbosity: "medium" });
    assert.deepEqual(defaults.unsupported, [], "the values the target gets anyway are no settings");
    const messages = anthropicSettings({
      messages: [],
      service_tier: "standard_only",
      container: "container_1",
      mcp_servers: [{ type: "url", url: "https://mcp.example.com/sse", name: "example" }],
    });
    assert.deepEqual(messages.unsupported, ["service_tier", "container", "mcp_servers"]);
    assert.deepEqual(anthropicSettings({ messages: [], service_tier: "auto", mcp_servers: [] }).unsupported, []);
    const elsewhere = anthropicSettings({ messages: [], inference_geo: "us", speed: "fast" });
    assert.deepEqual(elsewhere.unsupported, ["inference_geo", "speed"]);
    const anywhere = anthropicSettings({ messages: [], inference_geo: "global", speed: "standard" });
    assert.deepEqual(anywhere.unsupported, [], "Anthropic's defaults are no settings");
  });

  it("names what a translated Responses request does not carry, but not the values the target gets anyway", () => {
    const responses = responsesSettings({
      store: true,
      background: true,
      service_tier: "flex",
      top_logprobs: 2,
      prompt_cache_key: "conversation-1",
      safety_identifier: "user-hash",
      text: { verbosity: "low" },
      truncation: "auto",
      max_tool_calls: 3,
      client_metadata: { origin: "cli" },
      include: ["reasoning.encrypted_content", "message.output_text.logprobs"],
    });
    assert.deepEqual(responses.unsupported, [
      "store",
      "background",
      "service_tier",
      "top_logprobs",
      "prompt_cache_key",
      "safety_identifier",
      "text.verbosity",
      "truncation",
      "max_tool_calls",
      "client_metadata",
      "include[1] (message.output_text.logprobs)",
    ]);
    const defaults = responsesSettings({
      store: false,
      background: false,
      service_tier: "auto",
      top_logprobs: 0,
      text: { verbosity: "medium" },
      truncation: "disabled",
      client_metadata: {},
      include: ["reasoning.encrypted_content"],
    });
    assert.deepEqual(defaults.unsupported, []);
    assert.deepEqual(responsesSettings({ include: [] }).unsupported, []);
  });

  it("names each Chat file and audio part by its path and type", () => {
    const chat = chatSettings({
      messages: [
        { role: "system", content: "be brief" },
        {
          role: "user",
          content: [
            { type: "text", text: "Summarise" },
            { type: "file", file: { file_id: "file-1" } },
            { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
          ],
        },
      ],
    });
    assert.deepEqual(chat.unsupported, ["messages[1].content[1] (file)", "messages[1].content[2] (input_audio)"]);
  });
});

describe("target settings: writing each target API", () => {
  it("writes a Chat Completions body: tool choice only beside tools, JSON schema, strict where pi-ai left the field", () => {
    const settings = responsesSettings({
      tool_choice: { type: "function", name: "f" },
      parallel_tool_calls: false,
      text: { format: { type: "json_schema", name: "r", schema: SCHEMA } },
      tools: [{ type: "function", name: "f", strict: true }],
    });
    const { payload, ignored } = writeSettings("openai-completions", { tools: [chatTool(false)] }, settings);
    assert.deepEqual(payload, {
      tools: [chatTool(true)],
      tool_choice: { type: "function", function: { name: "f" } },
      parallel_tool_calls: false,
      response_format: { type: "json_schema", json_schema: { name: "r", schema: SCHEMA } },
    });
    assert.deepEqual(ignored, []);
    const noTools = writeSettings("openai-completions", {}, settings).payload as Record<string, unknown>;
    assert.equal(noTools.tool_choice, undefined);
    // A provider pi-ai sends no `strict` to (it rejects unknown fields) cannot make a tool strict.
    const noStrict = writeSettings("openai-completions", { tools: [{ function: { name: "f" } }] }, settings);
    assert.deepEqual(noStrict.ignored, ["tools[].strict"]);
  });

  it("takes a Responses function tool that leaves `strict` out as strict where its schema is strict-ready, naming none lost", () => {
    const closed = {
      type: "object",
      properties: { a: { type: "string" } },
      required: ["a"],
      additionalProperties: false,
    };
    const settings = responsesSettings({
      tools: [
        { type: "function", name: "f", parameters: closed },
        { type: "function", name: "g", strict: null, parameters: SCHEMA },
        { type: "function", name: "h", strict: false },
      ],
    });
    assert.deepEqual(settings.values, { strictByDefault: ["f", "g"] });
    const tool = (name: string, parameters: unknown) => ({ type: "function", name, parameters, strict: false });
    const { payload, ignored } = writeSettings(
      "openai-responses",
      { tools: [tool("f", closed), tool("g", SCHEMA), tool("h", {})] },
      settings,
    );
    // `g`'s schema is open: strict as it is, api.openai.com would refuse it.
    assert.deepEqual(
      (payload as { tools: { strict: boolean }[] }).tools.map((each) => each.strict),
      [true, false, false],
    );
    assert.deepEqual(ignored, []);
    // A target whose tools have no `strict`, or whose API has no strict tools, is not said to have dropped a default.
    assert.deepEqual(
      writeSettings("openai-completions", { tools: [{ function: { name: "f" } }] }, settings).ignored,
      [],
    );
    assert.deepEqual(writeSettings("anthropic-messages", { tools: [{ name: "f" }] }, settings).ignored, []);
    assert.deepEqual(writeSettings("google-generative-ai", { tools: [] }, settings).ignored, []);
  });

  it("finds a schema strict-ready only when every object in it is closed and requires all its properties", () => {
    const object = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      type: "object",
      properties,
      required: Object.keys(properties),
      additionalProperties: false,
      ...extra,
    });
    assert.equal(strictReady(object({})), true);
    assert.equal(strictReady(object({ list: { type: "array", items: object({ n: { type: "number" } }) } })), true);
    assert.equal(strictReady(object({ a: { anyOf: [{ type: "string" }, { type: "null" }] } })), true);
    assert.equal(strictReady(object({ a: { $ref: "#/$defs/x" } }, { $defs: { x: object({ b: {} }) } })), true);
    assert.equal(strictReady({ type: "object", properties: {} }), false);
    assert.equal(strictReady({ ...object({ a: {} }), required: [] }), false);
    assert.equal(strictReady(object({ list: { type: "array", items: { type: "object", properties: {} } } })), false);
    assert.equal(strictReady(object({}, { $defs: { x: { type: "object" } } })), false);
    assert.equal(strictReady(object({ a: { anyOf: [{ type: "object", properties: { b: {} } }] } })), false);
    assert.equal(strictReady({ type: "string" }), false);
    assert.equal(strictReady(undefined), false);
  });

  it("writes a Responses body, merging the format into pi-ai's own `text`, and names stop and seed", () => {
    const settings = chatSettings({
      tool_choice: "required",
      response_format: { type: "json_object" },
      stop: ["X"],
      seed: 1,
    });
    const { payload, ignored } = writeSettings(
      "openai-responses",
      { tools: [{}], text: { verbosity: "low" } },
      settings,
    );
    assert.deepEqual(payload, {
      tools: [{}],
      tool_choice: "required",
      text: { verbosity: "low", format: { type: "json_object" } },
    });
    assert.deepEqual(ignored, ["stop", "seed"]);
  });

  it("writes an Anthropic body and names JSON mode and strict tools, which it has not", () => {
    const settings = chatSettings({
      tool_choice: "required",
      parallel_tool_calls: false,
      response_format: { type: "json_object" },
      tools: [chatTool(true)],
      top_p: 0.3,
      user: "u",
    });
    const { payload, ignored } = writeSettings(
      "anthropic-messages",
      { tools: [{ name: "f" }], metadata: {} },
      settings,
    );
    assert.deepEqual(payload, {
      tools: [{ name: "f" }],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      top_p: 0.3,
      metadata: { user_id: "u" },
    });
    assert.deepEqual(ignored, ["response_format", "tools[].function.strict"]);
    const onlyParallel = writeSettings(
      "anthropic-messages",
      { tools: [{}] },
      chatSettings({ parallel_tool_calls: false }),
    );
    assert.deepEqual((onlyParallel.payload as { tool_choice: unknown }).tool_choice, {
      type: "auto",
      disable_parallel_tool_use: true,
    });
  });

  it("leaves a forced tool choice out of a thinking Anthropic body and names it; none stays", () => {
    const thinking = { tools: [{ name: "f" }], thinking: { type: "adaptive" } };
    const forced = writeSettings("anthropic-messages", { ...thinking }, chatSettings({ tool_choice: "required" }));
    assert.equal((forced.payload as { tool_choice?: unknown }).tool_choice, undefined);
    assert.deepEqual(forced.ignored, ["tool_choice"]);
    const free = writeSettings("anthropic-messages", { ...thinking }, chatSettings({ tool_choice: "none" }));
    assert.deepEqual((free.payload as { tool_choice?: unknown }).tool_choice, { type: "none" });
    const disabled = { tools: [{ name: "f" }], thinking: { type: "disabled" } };
    const named = writeSettings(
      "anthropic-messages",
      disabled,
      anthropicSettings({ tool_choice: { type: "tool", name: "f" } }),
    );
    assert.deepEqual((named.payload as { tool_choice?: unknown }).tool_choice, { type: "tool", name: "f" });
  });

  it("names a choice of an Anthropic server tool the translation left out, and sends no choice of it", () => {
    const request = {
      tool_choice: { type: "tool", name: "web_search" },
      ignoredTools: [{ type: "web_search_20250305", name: "web_search" }],
    };
    const tools = { tools: [{ type: "function", function: { name: "read" } }] };
    const left = writeSettings("openai-completions", tools, anthropicSettings(request));
    assert.equal((left.payload as { tool_choice?: unknown }).tool_choice, undefined);
    assert.deepEqual(left.ignored, ["tool_choice"]);
    // A choice of a tool the target is sent stays.
    const kept = writeSettings(
      "openai-completions",
      tools,
      anthropicSettings({ ...request, tool_choice: { type: "tool", name: "read" } }),
    );
    assert.deepEqual((kept.payload as { tool_choice?: unknown }).tool_choice, {
      type: "function",
      function: { name: "read" },
    });
  });

  it("carries Chat's penalties to Chat targets only, and names n > 1 and logprobs for every translated answer", () => {
    const settings = chatSettings({ frequency_penalty: 0.5, presence_penalty: 0, n: 2, logprobs: true });
    assert.deepEqual(writeSettings("openai-completions", {}, settings), {
      payload: { frequency_penalty: 0.5, presence_penalty: 0 },
      ignored: ["n", "logprobs"],
    });
    assert.deepEqual(writeSettings("openai-responses", {}, settings).ignored, [
      "n",
      "logprobs",
      "frequency_penalty",
      "presence_penalty",
    ]);
    assert.deepEqual(chatSettings({ n: 1, logprobs: false }).unsupported, []);
  });

  it("writes Codex's Responses body but for the parameters its backend refuses, and Azure's as Responses", () => {
    const settings = chatSettings({
      tool_choice: "required",
      top_p: 0.5,
      user: "u",
      response_format: { type: "json_object" },
    });
    const codexBody = { tools: [{}], tool_choice: "auto", text: { verbosity: "low" } };
    assert.deepEqual(writeSettings("openai-codex-responses", codexBody, settings), {
      payload: { tools: [{}], tool_choice: "required", text: { verbosity: "low", format: { type: "json_object" } } },
      ignored: ["top_p", "user"],
    });
    assert.deepEqual(writeSettings("azure-openai-responses", { tools: [{}] }, settings).ignored, []);
  });

  it("puts an Anthropic body's max_tokens back at the client's cap and fits the thinking budget under it", () => {
    const thinking = (budget: number) => ({ type: "enabled", budget_tokens: budget });
    const write = (settings: ReturnType<typeof chatSettings>, maxTokens: number, budget: number) =>
      writeSettings("anthropic-messages", { max_tokens: maxTokens, thinking: thinking(budget) }, settings);
    // A Messages client's own budget is kept when it fits under its cap.
    const messages = anthropicSettings({ max_tokens: 8000, thinking: { type: "enabled", budget_tokens: 4000 } });
    assert.deepEqual(write(messages, 10_048, 2048).payload, { max_tokens: 8000, thinking: thinking(4000) });
    // pi-ai's budget for the level, with room left to answer when the cap is small.
    const chat = (maxTokens: number) => chatSettings({ max_tokens: maxTokens, reasoning_effort: "high" });
    assert.deepEqual(write(chat(20_000), 36_384, 16_384).payload, { max_tokens: 20_000, thinking: thinking(16_384) });
    assert.deepEqual(write(chat(3000), 19_384, 16_384).payload, { max_tokens: 3000, thinking: thinking(1976) });
    assert.deepEqual(write(chat(1500), 17_884, 16_384).payload, { max_tokens: 1500, thinking: thinking(1024) });
    // No room for Anthropic's least budget: thinking off, named in the client's words.
    assert.deepEqual(write(chat(333), 16_717, 16_384), { payload: { max_tokens: 333 }, ignored: ["reasoning_effort"] });
    // No reasoning asked, or no cap given: nothing to keep, the payload as pi-ai made it.
    for (const settings of [chatSettings({ max_tokens: 100 }), responsesSettings({ reasoning: { effort: "low" } })]) {
      const carrier = settingsCarrier(settings)!;
      const made = { max_tokens: 17_384, thinking: thinking(16_384) };
      assert.deepEqual(
        carrier.onPayload({ ...made }, { api: "anthropic-messages", provider: "c", id: "m" } as never),
        made,
      );
      assert.deepEqual(carrier.headers("c/m"), {});
    }
    assert.deepEqual(writeSettings("google-generative-ai", {}, chat(333)).ignored, []);
  });

  it("names a reasoning level pi-ai lowers for the model (xhigh without a mapping for it)", () => {
    const xhigh = responsesSettings({ reasoning: { effort: "xhigh" } });
    const asked = { reasoning: { effort: "xhigh" } };
    const model = (thinkingLevelMap?: Record<string, string | null>) =>
      ({ api: "openai-responses", provider: "r", id: "m", reasoning: true, thinkingLevelMap }) as never;
    assert.deepEqual(writeSettings("openai-responses", { reasoning: { effort: "high" } }, xhigh, model()).ignored, [
      "reasoning.effort",
    ]);
    assert.deepEqual(writeSettings("openai-responses", asked, xhigh, model({ xhigh: "xhigh" })).ignored, []);
    const minimal = responsesSettings({ reasoning: { effort: "minimal" } });
    assert.deepEqual(writeSettings("openai-responses", asked, minimal, model({ minimal: null })).ignored, [
      "reasoning.effort",
    ]);
    assert.deepEqual(writeSettings("openai-responses", asked, minimal, model()).ignored, []);
  });

  it("names every setting for a target API it does not write", () => {
    const settings = chatSettings({ tool_choice: "none", top_p: 1 });
    assert.deepEqual(writeSettings("google-generative-ai", { a: 1 }, settings), {
      payload: { a: 1 },
      ignored: ["tool_choice", "top_p"],
    });
  });

  it("heads the answer with what the target that served could not take, per target", () => {
    const carrier = settingsCarrier(chatSettings({ response_format: { type: "json_object" } }))!;
    carrier.onPayload({}, { api: "anthropic-messages", provider: "c", id: "m" } as never);
    carrier.onPayload({}, { api: "openai-completions", provider: "a", id: "m" } as never);
    assert.deepEqual(carrier.headers("c/m"), { "x-auto-router-ignored": "response_format" });
    assert.deepEqual(carrier.headers("a/m"), {});
    assert.deepEqual(carrier.headers(undefined), {});
    // A request without settings of its own still gets the hook: an Anthropic target's history may need fitting.
    assert.ok(settingsCarrier(chatSettings({})));
    assert.equal(settingsCarrier(undefined), undefined);
  });
});
