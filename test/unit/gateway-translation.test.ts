// The gateway's pure pieces: protocol requests as pi-ai contexts, pi-ai events as protocol frames, provider
// preferences in OpenRouter's grammar, model names, the token check, and the HTTP status of a request's end.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AssistantMessage, AssistantMessageEvent } from "@mariozechner/pi-ai";
import { AnthropicStreamEncoder, anthropicMessage } from "../../src/gateway/anthropic-response.ts";
import {
  anthropicToContext,
  anthropicUntranslatable,
  parseAnthropicRequest,
} from "../../src/gateway/anthropic-request.ts";
import { takeShortcuts } from "../../src/gateway/client-prompt.ts";
import { endToError, errorBody, GatewayError, upstreamErrorSummary } from "../../src/gateway/errors.ts";
import { DirectRoutes, resolveModelName, unknownModelText } from "../../src/gateway/model-names.ts";
import { OpenAIStreamEncoder } from "../../src/gateway/openai-response.ts";
import { openAIToContext, openAIUntranslatable, parseOpenAIRequest } from "../../src/gateway/openai-request.ts";
import { parseProviderPreferences, requestShortcuts } from "../../src/gateway/provider-preferences.ts";
import { presentedTokens, tokenMatcher, tokenMatches } from "../../src/gateway/token.ts";
import { makeFailure } from "../../src/runtime/classify-failure.ts";
import type { RouterConfig } from "../../src/config/schema.ts";
import type { RegistryLike } from "../../src/runtime/start-target.ts";

const NOW = 1_800_000_000_000;
const PNG = "iVBORw0KGgo=";

function message(
  content: AssistantMessage["content"],
  stopReason: AssistantMessage["stopReason"] = "stop",
): AssistantMessage {
  return {
    role: "assistant",
    content,
    api: "openai-completions",
    provider: "p",
    model: "m",
    usage: {
      input: 10,
      output: 5,
      cacheRead: 2,
      cacheWrite: 0,
      totalTokens: 17,
      cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
    },
    stopReason,
    timestamp: NOW,
  };
}

describe("Anthropic requests as pi-ai contexts", () => {
  it("turns system blocks, mid-conversation system turns, images, thinking, tool_use and tool_result into pi-ai messages", () => {
    const request = parseAnthropicRequest({
      model: "m",
      max_tokens: 4096,
      system: [{ type: "text", text: "Be terse." }],
      thinking: { type: "enabled", budget_tokens: 2048 },
      tools: [
        {
          name: "read",
          description: "Read a file",
          input_schema: { type: "object", properties: { path: { type: "string" } } },
        },
      ],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Look" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "sig" },
            { type: "tool_use", id: "t1", name: "read", input: { path: "a" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t1", content: "file text" },
            { type: "text", text: "and?" },
          ],
        },
        { role: "system", content: "Mid-conversation note." },
      ],
    });
    const { context, options } = anthropicToContext(request, NOW);
    assert.equal(context.systemPrompt, "Be terse.\n\nMid-conversation note.");
    assert.deepEqual(
      context.tools?.map((tool) => tool.name),
      ["read"],
    );
    assert.deepEqual(
      context.messages.map((m) => m.role),
      ["user", "assistant", "toolResult", "user"],
    );
    assert.deepEqual((context.messages[0] as any).content[1], { type: "image", mimeType: "image/png", data: PNG });
    assert.deepEqual(
      (context.messages[1] as any).content.map((b: any) => b.type),
      ["thinking", "toolCall"],
    );
    assert.equal((context.messages[2] as any).toolName, "read");
    assert.deepEqual((context.messages[2] as any).content, [{ type: "text", text: "file text" }]);
    assert.deepEqual(options, { maxTokens: 4096, reasoning: "low" });
  });

  it("leaves server tools out of the context and names them, keeping the client's own tools", () => {
    const raw = {
      model: "m",
      max_tokens: 100,
      tools: [
        { name: "read", input_schema: { type: "object", properties: { path: { type: "string" } } } },
        { type: "web_search_20250305", name: "web_search", max_uses: 3 },
        { type: "bash_20250124", name: "bash" },
        { type: "custom", name: "grep", input_schema: { type: "object", properties: {} } },
      ],
      messages: [{ role: "user", content: "Search" }],
    };
    const request = parseAnthropicRequest(raw);
    assert.deepEqual(request.ignoredTools, [
      { type: "web_search_20250305", name: "web_search" },
      { type: "bash_20250124", name: "bash" },
    ]);
    const { context } = anthropicToContext(request, NOW);
    assert.deepEqual(
      context.tools?.map((tool) => tool.name),
      ["read", "grep"],
    );
    assert.equal(raw.tools.length, 4, "the client's body, which a passthrough sends, keeps them");
  });

  it("names the field of an invalid request", () => {
    assert.throws(
      () => parseAnthropicRequest({ model: "m", max_tokens: 100, messages: [] }),
      (error: any) => error instanceof GatewayError && error.status === 400 && /body\.messages/.test(error.message),
    );
  });

  it("says what a message's content and the system prompt take, and which item is wrong, not zod's \"Invalid input\"", () => {
    const refused = (body: Record<string, unknown>) => {
      try {
        parseAnthropicRequest({ model: "m", max_tokens: 100, messages: [{ role: "user", content: "hi" }], ...body });
      } catch (error) {
        return error instanceof GatewayError && error.status === 400 ? error.message : `not a 400: ${error}`;
      }
      return "accepted";
    };
    assert.equal(
      refused({ messages: [{ role: "user", content: 5 }] }),
      "body.messages[0].content: expected a string or an array of content blocks, got a number",
    );
    assert.equal(
      refused({ messages: [{ role: "user" }] }),
      "body.messages[0].content: missing: this key is required (a string or an array of content blocks)",
    );
    assert.equal(
      refused({ messages: [{ role: "user", content: [{ type: "text", text: "a" }, "b"] }] }),
      'body.messages[0].content: expected a string or an array of content blocks (objects with a string "type"): item 1 is a string',
    );
    assert.equal(
      refused({ system: { text: "be brief" } }),
      "body.system: expected a string or an array of text blocks, got an object",
    );
    assert.equal(
      refused({ system: [{ text: "be brief" }] }),
      'body.system: expected a string or an array of text blocks (objects with a string "type"): item 0 is an object without a string "type"',
    );
    assert.throws(
      () => parseOpenAIRequest({ model: "m", messages: [{ role: "user", content: { text: "hi" } }] }),
      (error: any) =>
        error instanceof GatewayError &&
        error.message ===
          "body.messages[0].content: expected a string, null or an array of content parts, got an object",
    );
    assert.throws(
      () => parseOpenAIRequest({ model: "m", messages: [{ role: "tool", tool_call_id: "t" }] }),
      (error: any) =>
        error instanceof GatewayError &&
        error.message ===
          "body.messages[0].content: missing: this key is required (a string or an array of content parts)",
    );
  });

  it("leaves an image by URL out of the translation and names it, for a target sent the client's body to fetch", () => {
    const request = parseAnthropicRequest({
      model: "m",
      max_tokens: 100,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is this" },
            { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
          ],
        },
      ],
    });
    assert.deepEqual(anthropicUntranslatable(request), ["body.messages[0].content[1] (an image by URL)"]);
    const { context } = anthropicToContext(request, NOW);
    assert.deepEqual(
      (context.messages[0]!.content as Array<{ type: string }>).map((block) => block.type),
      ["text"],
    );
    // An image by a Files API id is read by an Anthropic target alone, as one by URL.
    const byFile = parseAnthropicRequest({
      model: "m",
      max_tokens: 100,
      messages: [
        { role: "user", content: "read it" },
        { role: "assistant", content: [{ type: "tool_use", id: "t", name: "read", input: {} }] },
        {
          role: "user",
          content: [
            { type: "image", source: { type: "file", file_id: "file_011CNha8iCJcU1wXNR6q4V8w" } },
            {
              type: "tool_result",
              tool_use_id: "t",
              content: [{ type: "image", source: { type: "file", file_id: "file_2" } }],
            },
            { type: "text", text: "and these?" },
          ],
        },
      ],
    });
    assert.deepEqual(anthropicUntranslatable(byFile), [
      "body.messages[2].content[0] (an image by file id)",
      "body.messages[2].content[1].content[0] (an image by file id)",
    ]);
    assert.deepEqual(
      (anthropicToContext(byFile, NOW).context.messages.at(-1)!.content as Array<{ type: string }>).map(
        (block) => block.type,
      ),
      ["text"],
    );
    const ftp = parseAnthropicRequest({
      model: "m",
      max_tokens: 100,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "ftp", path: "f" } }] }],
    });
    assert.throws(
      () => anthropicToContext(ftp, NOW),
      (error: any) =>
        error instanceof GatewayError &&
        error.message ===
          'body.messages[0].content[0].source: got type "ftp"; send a base64 source, {"type":"base64","media_type":"image/png","data":"..."}, an https URL or a file id',
    );
    // The field at fault, not "got type undefined" for every shape.
    const sources =
      'send a base64 source, {"type":"base64","media_type":"image/png","data":"..."}, an https URL or a file id';
    for (const [source, message] of [
      [5, `body.messages[0].content[0].source: expected an object, got 5; ${sources}`],
      [
        {},
        `body.messages[0].content[0].source.type: missing: this key is required ("base64", "url" or "file"); ${sources}`,
      ],
      [
        { type: "file", file_id: "" },
        'body.messages[0].content[0].source.file_id: expected the id of a file uploaded with the Files API, got ""',
      ],
      [
        { type: "base64", media_type: "image/png", data: 5 },
        "body.messages[0].content[0].source.data: expected a string (the image's bytes in base64), got 5",
      ],
      [{ type: "url" }, "body.messages[0].content[0].source.url: expected an http(s) or data: URL, got none"],
    ] as const) {
      const request = parseAnthropicRequest({
        model: "m",
        max_tokens: 100,
        messages: [{ role: "user", content: [{ type: "image", source }] }],
      });
      assert.throws(
        () => anthropicToContext(request, NOW),
        (error: any) => error instanceof GatewayError && error.message === message,
        JSON.stringify(source),
      );
    }
  });
});

describe("OpenAI requests as pi-ai contexts", () => {
  it("joins system and developer messages, keeps tool calls with their results, and reads data-URL images", () => {
    const request = parseOpenAIRequest({
      model: "m",
      max_completion_tokens: 50,
      reasoning_effort: "high",
      messages: [
        { role: "system", content: "Sys." },
        { role: "developer", content: "Dev." },
        {
          role: "user",
          content: [
            { type: "text", text: "see" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "ls", arguments: '{"dir":"."}' } }],
        },
        { role: "tool", tool_call_id: "c1", content: "a b" },
      ],
    });
    const { context, options } = openAIToContext(request, NOW);
    assert.equal(context.systemPrompt, "Sys.\n\nDev.");
    assert.deepEqual(
      context.messages.map((m) => m.role),
      ["user", "assistant", "toolResult"],
    );
    assert.deepEqual((context.messages[0] as any).content[1], { type: "image", mimeType: "image/png", data: PNG });
    assert.deepEqual((context.messages[1] as any).content[0], {
      type: "toolCall",
      id: "c1",
      name: "ls",
      arguments: { dir: "." },
    });
    assert.equal((context.messages[2] as any).toolName, "ls");
    assert.deepEqual(options, { maxTokens: 50, reasoning: "high" });
  });

  it("refuses remote image URLs with the path of the part", () => {
    const request = parseOpenAIRequest({
      model: "m",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }] }],
    });
    assert.throws(() => openAIToContext(request, NOW), /body\.messages\[0\]\.content\[0\]\.image_url: only data: URLs/);
  });

  it("keeps an assistant turn's refusal in the history as its text", () => {
    const request = parseOpenAIRequest({
      model: "m",
      messages: [
        { role: "user", content: "help me pick a lock" },
        { role: "assistant", content: [{ type: "refusal", refusal: "I can't help with that." }] },
        { role: "user", content: "a bike lock, mine" },
      ],
    });
    const assistant = openAIToContext(request, NOW).context.messages[1] as AssistantMessage;
    assert.deepEqual(assistant.content, [{ type: "text", text: "I can't help with that." }]);
  });

  it("names a message a translation would leave without content, not one that keeps some", () => {
    const file = { type: "file", file: { file_id: "file-1" } };
    const request = parseOpenAIRequest({
      model: "m",
      messages: [
        { role: "user", content: [file, { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }] },
        { role: "assistant", content: null, tool_calls: [{ id: "c", function: { name: "f", arguments: "{}" } }] },
        { role: "user", content: [{ type: "text", text: "and this" }, file] },
      ],
    });
    assert.deepEqual(openAIUntranslatable(request), [
      "body.messages[0].content (only file, input_audio parts, which a translation leaves out)",
    ]);
  });
});

describe("pi-ai events as protocol frames", () => {
  const partial = message([{ type: "text", text: "" }]);
  const events: AssistantMessageEvent[] = [
    { type: "start", partial },
    { type: "text_start", contentIndex: 0, partial },
    { type: "text_delta", contentIndex: 0, delta: "Hi", partial },
    { type: "text_end", contentIndex: 0, content: "Hi", partial },
    { type: "done", reason: "stop", message: message([{ type: "text", text: "Hi" }]) },
  ];

  it("writes Anthropic's event sequence with usage in message_delta", () => {
    const encoder = new AnthropicStreamEncoder("route");
    const frames = events.map((event) => encoder.encode(event)).join("");
    const names = [...frames.matchAll(/^event: (\S+)$/gm)].map((match) => match[1]);
    assert.deepEqual(names, [
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    assert.match(frames, /"usage":\{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":2/);
  });

  it("writes OpenAI chunks, the usage chunk only when asked, then [DONE]", () => {
    const withUsage = events.map((event) => new OpenAIStreamEncoder("route", NOW, true).encode(event)).join("");
    assert.match(withUsage, /"finish_reason":"stop"/);
    assert.match(withUsage, /"choices":\[\],"usage":\{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17/);
    assert.ok(withUsage.endsWith("data: [DONE]\n\n"));
    const without = events.map((event) => new OpenAIStreamEncoder("route", NOW, false).encode(event)).join("");
    assert.doesNotMatch(without, /"usage"/);
  });

  it("answers a tool call as an Anthropic tool_use block with stop_reason tool_use", () => {
    const body = anthropicMessage(
      message([{ type: "toolCall", id: "t", name: "ls", arguments: { a: 1 } }], "toolUse"),
      "route",
      "msg_1",
    );
    assert.deepEqual(body.content, [{ type: "tool_use", id: "t", name: "ls", input: { a: 1 } }]);
    assert.equal(body.stop_reason, "tool_use");
  });

  it("signs an Anthropic client's thinking only with an Anthropic target's signature", () => {
    const reasoning: AssistantMessage["content"] = [
      { type: "thinking", thinking: "plan", thinkingSignature: "reasoning_content" },
      { type: "thinking", thinking: "", thinkingSignature: "opaque", redacted: true },
    ];
    assert.deepEqual(anthropicMessage(message(reasoning), "route", "msg_1").content, [
      { type: "thinking", thinking: "plan", signature: "" },
    ]);
    const fromClaude = { ...message(reasoning), api: "anthropic-messages" as const };
    assert.deepEqual(anthropicMessage(fromClaude, "route", "msg_1").content, [
      { type: "thinking", thinking: "plan", signature: "reasoning_content" },
      { type: "redacted_thinking", data: "opaque" },
    ]);
    const partial = message(reasoning);
    const encoder = new AnthropicStreamEncoder("route");
    assert.match(encoder.encode({ type: "thinking_start", contentIndex: 0, partial }), /content_block_start/);
    const end = encoder.encode({ type: "thinking_end", contentIndex: 0, content: "plan", partial });
    assert.match(end, /content_block_stop/);
    assert.doesNotMatch(end, /signature_delta/);
  });

  it("counts cache reads alone as OpenAI cached tokens; prompt tokens include the cache writes", () => {
    const usage = { ...message([]).usage, input: 5, cacheRead: 20, cacheWrite: 3 };
    const encoded = new OpenAIStreamEncoder("route", NOW, true).encode({
      type: "done",
      reason: "stop",
      message: { ...message([]), usage },
    });
    assert.match(encoded, /"prompt_tokens":28,.*"prompt_tokens_details":\{"cached_tokens":20\}/);
  });
});

describe("request routing inputs", () => {
  const config = {
    routes: { main: { targets: [{ provider: "a", modelId: "x" }] } },
    aliases: { quick: "main" },
    gateway: { models: { "claude-x": "auto-router/main" } },
  } as unknown as RouterConfig;
  const registry = {
    find: (provider: string, modelId: string) =>
      provider === "a" && modelId === "x" ? ({ id: "x" } as any) : undefined,
    hasConfiguredAuth: () => true,
    getApiKeyAndHeaders: async () => ({ ok: true as const }),
  };

  it("resolves mapped names, aliases, route ids and real provider/model targets; unknown names resolve to nothing", () => {
    assert.deepEqual(resolveModelName("claude-x", config, registry), { kind: "route", routeId: "main" });
    assert.deepEqual(resolveModelName("quick", config, registry), { kind: "route", routeId: "main" });
    assert.deepEqual(resolveModelName("auto-router/main", config, registry), { kind: "route", routeId: "main" });
    assert.deepEqual(resolveModelName("a/x", config, registry), { kind: "target", provider: "a", modelId: "x" });
    assert.equal(resolveModelName("a/unknown", config, registry), undefined);
    assert.equal(resolveModelName("gpt-9", config, registry), undefined);
  });

  it("names the alias, mapped name or provider/model written behind auto-router/, which names routes only", () => {
    const said = (name: string) => /did you mean "([^"]+)"\?/.exec(unknownModelText(name, config, registry))?.[1];
    assert.equal(said("auto-router/quick"), "quick");
    assert.equal(said("auto-router/claude-x"), "claude-x");
    assert.equal(said("auto-router/a/x"), "a/x");
    assert.equal(said("auto-router/mian"), "auto-router/main");
    assert.equal(said("auto-router/"), undefined);
  });

  it("names the provider/model a mistyped one probably meant: the config's targets and the registry's models", () => {
    const said = (name: string, registryUsed: RegistryLike | undefined, configUsed = config) =>
      /did you mean "([^"]+)"\?/.exec(unknownModelText(name, configUsed, registryUsed))?.[1];
    // The config's targets (a route's, an alias's, a gateway.models value), each only when pi's registry finds it.
    const wide = {
      ...config,
      aliases: { quick: "main", fast: ["b/gpt-4.1-mini", "main"] },
      gateway: { models: { "claude-x": "auto-router/main", "claude-y": "c/sonnet-4-5" } },
    } as unknown as RouterConfig;
    const finds = (...known: string[]) => ({
      ...registry,
      find: (provider: string, modelId: string) =>
        known.includes(`${provider}/${modelId}`) ? ({ id: modelId } as any) : undefined,
    });
    const findsAll = finds("a/x", "b/gpt-4.1-mini", "c/sonnet-4-5");
    assert.equal(said("b/gpt-4.1-mnii", findsAll, wide), "b/gpt-4.1-mini");
    assert.equal(said("bb/gpt-4.1-mini", findsAll, wide), "b/gpt-4.1-mini", "a mistyped provider: the whole name");
    assert.equal(said("c/sonet-4-5", findsAll, wide), "c/sonnet-4-5");
    assert.equal(said("a/y", findsAll, wide), "a/x");
    assert.equal(said("b/gpt-4.1-mnii", finds("a/x"), wide), undefined, "a target pi does not know would 404 too");
    assert.equal(said("b/gpt-4.1-mnii", undefined, wide), undefined);
    // A registry that lists its models adds them; one whose listing or lookup throws adds nothing and throws nothing.
    const catalogue = ["openai/gpt-4.1-mini", "openai/gpt-4.1-nano", "anthropic/claude-sonnet-4-5"];
    const listing = {
      ...finds(...catalogue),
      getAll: () =>
        [...catalogue, "auto-router/main"].map((name) => ({ provider: name.split("/")[0], id: name.split("/")[1] })),
    } as unknown as RegistryLike;
    assert.equal(said("openai/gpt-4.1-mnii", listing), "openai/gpt-4.1-mini");
    assert.equal(said("opnai/gpt-4.1-mini", listing), "openai/gpt-4.1-mini");
    assert.equal(said("OpenAI/gpt-4.1-nano", listing), "openai/gpt-4.1-nano");
    assert.equal(said("anthropic/claude-sonet-4-5", listing), "anthropic/claude-sonnet-4-5");
    assert.match(
      unknownModelText("openai/gpt-4.1-mnii", config, listing),
      /^model "openai\/gpt-4\.1-mnii" is not served here; did you mean "openai\/gpt-4\.1-mini"\? known routes: auto-router\/main, quick$/,
    );
    // Nothing far off: the provider's own models by their model part, another provider's by the whole name.
    for (const far of ["openai/o3", "openai/gpt-5-codex", "mistral/gpt-4.1-mini", "auto-router/gpt-4.1-mini"])
      assert.equal(said(far, listing), undefined, far);
    const throwing = {
      find: () => {
        throw new Error("not loaded");
      },
      getAll: () => {
        throw new Error("not loaded");
      },
    } as unknown as RegistryLike;
    assert.match(unknownModelText("a/y", config, throwing), /^model "a\/y" is not served here; known routes: /);
  });

  it("adds one-target routes for provider/model without touching configured routes", () => {
    const direct = new DirectRoutes();
    const id = direct.add("a", "x");
    const derived = direct.apply(config);
    assert.deepEqual(derived.routes[id]!.targets, [{ provider: "a", modelId: "x" }]);
    assert.equal(derived.routes.main, config.routes.main);
    assert.equal(direct.apply(config), derived, "derived once per config");
  });

  it("maps OpenRouter's provider grammar and names the header of invalid JSON", () => {
    assert.deepEqual(
      parseProviderPreferences(
        {
          order: ["a"],
          ignore: ["b"],
          allow_fallbacks: false,
          sort: { by: "price" },
          max_price: { completion: 3 },
          data_collection: "deny",
          zdr: true,
          quantizations: ["fp8"],
        },
        "body.provider",
      ),
      {
        preferences: { order: ["a"], ignore: ["b"], allowFallbacks: false, sort: "price", maxPrice: 3 },
        openRouter: { data_collection: "deny", zdr: true, quantizations: ["fp8"] },
      },
    );
    assert.throws(
      () => parseProviderPreferences({ data_collection: "never" }, "body.provider"),
      /body\.provider\.data_collection: expected one of "allow", "deny", got "never" \(OpenRouter's own key, sent to OpenRouter targets\)$/,
    );
    assert.throws(
      () => parseProviderPreferences('{"zdr": "yes"}', "X-Provider header", true),
      /X-Provider header\.zdr: expected true or false, got a string/,
    );
    assert.throws(() => parseProviderPreferences("{", "X-Provider header", true), /X-Provider header: not valid JSON/);
    assert.throws(
      () => parseProviderPreferences({ max_price: { completon: 3 } }, "body.provider"),
      /body\.provider\.max_price: unknown key "completon"; did you mean "completion"\?/,
    );
    assert.throws(
      () => parseProviderPreferences('{"only": "a"}', "X-Provider header", true),
      /X-Provider header\.only: .*expected/,
    );
    // A body's provider is the object itself: a string there is the wrong type, not JSON text.
    assert.throws(
      () => requestShortcuts(undefined, "openai", undefined),
      /body\.provider: expected a JSON object in OpenRouter's provider grammar.*, got a string \("openai"\)$/,
    );
    assert.throws(() => requestShortcuts(undefined, '{"only":["a"]}', undefined), /body\.provider: .*got a string/);
    const merged = requestShortcuts(
      { tiers: ["reasoning"], preferences: { only: ["c"] }, tokens: ["@reasoning"] },
      { sort: "latency", zdr: false, data_collection: "deny" },
      '{"only":["d"], "zdr": true}',
    );
    assert.deepEqual(merged.shortcuts.preferences, { only: ["d"], sort: "latency" });
    assert.deepEqual(merged.shortcuts.tiers, ["reasoning"]);
    assert.deepEqual(merged.openRouter, { zdr: true, data_collection: "deny" }, "key by key, the header wins");
    assert.equal(requestShortcuts(undefined, { only: ["a"] }, undefined).openRouter, undefined);
  });

  it("strips shortcuts from the start of the prompt", () => {
    const context = {
      messages: [
        { role: "user" as const, content: [{ type: "text" as const, text: "@only=a fix it" }], timestamp: NOW },
      ],
    };
    assert.deepEqual(takeShortcuts(context, 0)?.preferences, { only: ["a"] });
    assert.deepEqual((context.messages[0] as any).content, [{ type: "text", text: "fix it" }]);
  });
});

describe("gateway token and error status", () => {
  it("reads the token from x-api-key and a Bearer header, both when both are sent, and compares it exactly", () => {
    assert.deepEqual(presentedTokens({ "x-api-key": "t1" }), ["t1"]);
    assert.deepEqual(presentedTokens({ authorization: "Bearer t2" }), ["t2"]);
    assert.deepEqual(presentedTokens({ authorization: "Basic t3" }), []);
    assert.deepEqual(presentedTokens({ "x-api-key": "personal", authorization: "Bearer t4" }), ["personal", "t4"]);
    assert.ok(tokenMatches("secret", "secret"));
    assert.ok(!tokenMatches("secret", "secreT"));
    assert.ok(!tokenMatches("secret", undefined));
    assert.ok(!tokenMatches("", undefined));
    // Compared in a fixed-size padded buffer: neither padding nor truncation can make a wrong token pass.
    assert.ok(!tokenMatches("secret", "secret\u0000"), "trailing NUL (equal after zero padding)");
    assert.ok(!tokenMatches("secret", "secre"));
    assert.ok(!tokenMatches("secret", `secret${"x".repeat(300)}`), "longer than the compared buffer");
    const long = `ar-${"k".repeat(400)}`;
    assert.ok(tokenMatches(long, long), "a token longer than the compared buffer");
    assert.ok(!tokenMatches(long, `${long.slice(0, -1)}K`), "differs only in its last byte, past 256");
    assert.ok(tokenMatches("sécret-ü", "sécret-ü"));
    assert.ok(!tokenMatches("sécret-ü", "secret-u"));
    const matcher = tokenMatcher("ar-reused");
    assert.deepEqual(
      ["ar-reused-and-longer", "ar-reused", "ar-reuse", "ar-reused"].map((token) => matcher(token)),
      [false, true, false, true],
      "one matcher, several requests: nothing of an earlier token is left in its buffer",
    );
  });

  it("maps a request's end to 429 + Retry-After, a passed-through status, or 503", () => {
    const cooling = endToError({ outcome: "refused", failures: [], coolingUntil: NOW + 42_000 }, "cooling", NOW);
    assert.deepEqual([cooling.status, cooling.headers["retry-after"]], [429, "42"]);
    const surfaced = endToError(
      {
        outcome: "failed",
        failures: [{ key: "a/x", kind: "invalid_request" }],
        surfaced: { ...makeFailure("invalid_request", "400 bad"), status: 400 },
      },
      "bad",
      NOW,
    );
    assert.deepEqual([surfaced.status, surfaced.headers["x-should-retry"]], [400, "false"]);
    const allFailed = endToError(
      { outcome: "failed", failures: [{ key: "a/x", kind: "rate_limit" }] },
      "all failed",
      NOW,
    );
    assert.deepEqual([allFailed.status, allFailed.headers["x-should-retry"]], [503, "true"]);
    // Failures none of which passes with time (every target refused the gateway's key): not "overloaded", which
    // Claude Code retries whatever x-should-retry says.
    const lasting = endToError(
      {
        outcome: "failed",
        failures: [
          { key: "a/x", kind: "auth" },
          { key: "b/y", kind: "auth" },
        ],
      },
      "auth everywhere",
      NOW,
    );
    assert.deepEqual(
      [lasting.status, lasting.category, lasting.headers["x-should-retry"]],
      [502, "api_error", "false"],
    );
    // Every target resting (a breaker open, unhealthy) without a cooldown to name: it passes, retry.
    const resting = endToError({ outcome: "refused", failures: [] }, "resting", NOW);
    assert.deepEqual(
      [resting.status, resting.category, resting.headers["x-should-retry"]],
      [503, "overloaded", "true"],
    );
  });

  it("maps a refused request by why: spent budget 402 (billing), unknown spend 503 to retry, unknown route 404", () => {
    const answer = (end: Parameters<typeof endToError>[0]) => {
      const error = endToError(end, "refused", NOW);
      return [error.status, error.category, error.headers["x-should-retry"]];
    };
    assert.deepEqual(answer({ outcome: "refused", failures: [], refusal: "over-budget" }), [402, "billing", "false"]);
    // Every target that was left refused by its hard budget right before its attempt.
    assert.deepEqual(answer({ outcome: "refused", failures: [], refusal: "over-budget" }), [402, "billing", "false"]);
    assert.deepEqual(answer({ outcome: "refused", failures: [], refusal: "spend-unknown" }), [
      503,
      "overloaded",
      "true",
    ]);
    // Every target left out for a reason a retry meets again (no credentials, not in pi's registry).
    assert.deepEqual(answer({ outcome: "refused", failures: [], refusal: "unservable" }), [500, "api_error", "false"]);
    // ...or by the request itself (its provider filter, images no target accepts).
    assert.deepEqual(answer({ outcome: "refused", failures: [], refusal: "no-match" }), [
      400,
      "invalid_request",
      "false",
    ]);
    assert.deepEqual(answer({ outcome: "refused", failures: [], refusal: "unknown-route" }), [
      404,
      "not_found",
      undefined,
    ]);
    // A target refused by its budget while another is cooling down: the cooling one comes back, so 429.
    assert.deepEqual(answer({ outcome: "refused", failures: [], refusal: "over-budget", coolingUntil: NOW + 5_000 }), [
      429,
      "rate_limit",
      "true",
    ]);
    assert.deepEqual(
      [errorBody("anthropic", "billing", "x"), errorBody("openai", "billing", "x")].map((body: any) => [
        body.error.type,
        body.error.code,
      ]),
      [
        ["billing_error", undefined],
        ["insufficient_quota", "insufficient_quota"],
      ],
    );
  });

  it("redacts keys in every error body", () => {
    const body = JSON.stringify(errorBody("openai", "api_error", "upstream said sk-proj-AbCdEfGhIjKlMnOpQrStUv123"));
    assert.doesNotMatch(body, /AbCdEfGhIjKlMnOpQrStUv123/);
  });

  it("reads a target's own error record as 'type: message' for the router's cut-off text", () => {
    const anthropic = '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}';
    assert.equal(upstreamErrorSummary(anthropic), "overloaded_error: Overloaded");
    assert.equal(
      upstreamErrorSummary('{"error":{"message":"Server busy","type":"server_error"}}'),
      "server_error: Server busy",
    );
    // Responses' response.failed error: a code, no type.
    assert.equal(
      upstreamErrorSummary('{"code":"rate_limit_exceeded","message":"Slow down"}'),
      "rate_limit_exceeded: Slow down",
    );
    assert.equal(upstreamErrorSummary('{"error":{"message":"plain"}}'), "plain");
    assert.equal(upstreamErrorSummary("not json at all"), "not json at all");
    assert.equal(upstreamErrorSummary('{"unexpected":true}'), '{"unexpected":true}');
  });
});
