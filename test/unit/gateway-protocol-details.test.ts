// Protocol details of the gateway's pure code: bodies each client's own API refuses (a Messages request without
// max_tokens, sampling settings outside the API's range, Chat's n, a Messages tool whose schema is no object), the
// Anthropic page of /v1/models, a surfaced target error's message without its status, and a Responses target's
// reasoning summary streamed as its answer has it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AssistantMessage } from "@mariozechner/pi-ai";
import type { RouterConfig } from "../../src/config/schema.ts";
import {
  anthropicCountTokensSchema,
  anthropicToContext,
  parseAnthropicRequest,
} from "../../src/gateway/anthropic-request.ts";
import { GatewayError } from "../../src/gateway/errors.ts";
import { modelList } from "../../src/gateway/model-names.ts";
import { parseOpenAIRequest } from "../../src/gateway/openai-request.ts";
import type { AnswerEvent } from "../../src/gateway/refusal.ts";
import { parseResponsesRequest } from "../../src/gateway/responses-request.ts";
import { SummarySeparators } from "../../src/gateway/summary-separators.ts";

const user = [{ role: "user", content: "hi" }];

/** The 400's message of `parse`, or undefined when it accepts the body. */
function refusal(parse: () => unknown): string | undefined {
  try {
    parse();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof GatewayError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.category, "invalid_request");
    return error.message;
  }
}

describe("gateway request bodies: what each client's own API refuses", () => {
  it("refuses a Messages request without max_tokens, which count_tokens does not need", () => {
    assert.equal(
      refusal(() => parseAnthropicRequest({ model: "m", messages: user })),
      "body.max_tokens: required (the most tokens to generate, an integer above 0)",
    );
    assert.equal(
      refusal(() => parseAnthropicRequest({ model: "m", max_tokens: "many", messages: user })),
      'body.max_tokens: expected a number, got the text "many"',
    );
    const counted = parseAnthropicRequest({ model: "m", messages: user }, anthropicCountTokensSchema);
    assert.equal(anthropicToContext(counted, 1).options.maxTokens, undefined);
    assert.equal(
      anthropicToContext(parseAnthropicRequest({ model: "m", max_tokens: 7, messages: user }), 1).options.maxTokens,
      7,
    );
  });

  it("takes Anthropic's temperature and top_p from 0 to 1 only", () => {
    const anthropic = (extra: object) => () =>
      parseAnthropicRequest({ model: "m", max_tokens: 9, messages: user, ...extra });
    assert.equal(refusal(anthropic({ temperature: 5 })), "body.temperature: expected a number from 0 to 1");
    assert.equal(refusal(anthropic({ temperature: 1.5 })), "body.temperature: expected a number from 0 to 1");
    assert.equal(refusal(anthropic({ temperature: -0.1 })), "body.temperature: expected a number from 0 to 1");
    assert.equal(refusal(anthropic({ temperature: "hot" })), "body.temperature: expected a number from 0 to 1");
    assert.equal(refusal(anthropic({ top_p: 1.01 })), "body.top_p: expected a number from 0 to 1");
    for (const extra of [{ temperature: 0 }, { temperature: 1 }, { top_p: 0 }, { top_p: 1 }])
      assert.equal(refusal(anthropic(extra)), undefined, JSON.stringify(extra));
  });

  it("takes OpenAI's temperature from 0 to 2, top_p from 0 to 1 and Chat's n from 1 to 128, each may be null", () => {
    const chat = (extra: object) => () => parseOpenAIRequest({ model: "m", messages: user, ...extra });
    const responses = (extra: object) => () => parseResponsesRequest({ model: "m", input: "hi", ...extra });
    for (const parse of [chat, responses]) {
      assert.equal(refusal(parse({ temperature: 2.5 })), "body.temperature: expected a number from 0 to 2");
      assert.equal(refusal(parse({ temperature: -1 })), "body.temperature: expected a number from 0 to 2");
      assert.equal(refusal(parse({ top_p: 1.5 })), "body.top_p: expected a number from 0 to 1");
      for (const extra of [
        { temperature: 2 },
        { temperature: 0 },
        { temperature: null },
        { top_p: 1 },
        { top_p: null },
      ])
        assert.equal(refusal(parse(extra)), undefined, JSON.stringify(extra));
    }
    for (const n of [0, -1, 1.5, 129, "x", "2"])
      assert.equal(refusal(chat({ n })), "body.n: expected an integer from 1 to 128", JSON.stringify(n));
    for (const n of [1, 3, 128, null]) assert.equal(refusal(chat({ n })), undefined, String(n));
  });

  it("takes a Messages tool's input_schema only with type object; OpenAI's parameters stay any JSON Schema object", () => {
    const tool = (inputSchema: unknown) => () =>
      parseAnthropicRequest({
        model: "m",
        max_tokens: 9,
        messages: user,
        tools: [{ name: "t", input_schema: inputSchema }],
      });
    assert.equal(
      refusal(tool({ type: "string" })),
      'body.tools[0].input_schema.type: expected "object" (got "string"): a JSON Schema object ({"type": "object", ...})',
    );
    assert.equal(
      refusal(tool({ properties: {} })),
      'body.tools[0].input_schema.type: expected "object" (got none): a JSON Schema object ({"type": "object", ...})',
    );
    assert.equal(
      refusal(tool("not a schema")),
      'body.tools[0].input_schema: expected a JSON Schema object ({"type": "object", ...})',
    );
    assert.equal(refusal(tool({ type: "object", properties: { path: { type: "string" } } })), undefined);
    // A server tool (any type but custom) has no input_schema of its own: the translation leaves it out.
    assert.equal(
      refusal(() =>
        parseAnthropicRequest({
          model: "m",
          max_tokens: 9,
          messages: user,
          tools: [{ type: "web_search_20250305", name: "web_search" }],
        }),
      ),
      undefined,
    );
  });
});

describe("gateway request bodies of the wrong shape: the field, what it takes and what was sent", () => {
  const messages = (value: unknown) => ({ model: "m", max_tokens: 9, messages: value });

  it("says a field's path, the shape expected and the shape sent, in place of zod's words", () => {
    assert.equal(
      refusal(() => parseAnthropicRequest(messages("hi"))),
      "body.messages: expected an array, got a string",
    );
    assert.equal(
      refusal(() => parseAnthropicRequest(messages([]))),
      "body.messages: expected at least 1 item, got an empty array",
    );
    assert.equal(
      refusal(() => parseAnthropicRequest({ model: "m", max_tokens: 9 })),
      "body.messages: missing: this key is required (an array)",
    );
    assert.equal(
      refusal(() => parseAnthropicRequest([1, 2])),
      "request body: expected an object, got an array",
    );
    assert.equal(
      refusal(() =>
        parseAnthropicRequest({ ...messages(user), tools: [{ name: "", input_schema: { type: "object" } }] }),
      ),
      'body.tools[0].name: expected a non-empty string, got ""',
    );
    assert.equal(
      refusal(() => parseOpenAIRequest({ model: "m", messages: { role: "user", content: "hi" } })),
      "body.messages: expected an array, got an object",
    );
    assert.equal(
      refusal(() => parseOpenAIRequest({ model: 5, messages: user })),
      "body.model: expected a string, got a number",
    );
    assert.equal(
      refusal(() =>
        parseResponsesRequest({
          model: "m",
          input: [{ type: "function_call", call_id: "c", name: "n", arguments: {} }],
        }),
      ),
      "body.input[0].arguments: expected a string, got an object",
    );
  });

  it("names the value meant for one outside a fixed set: a mistyped role, effort, part type, media type or tool choice", () => {
    assert.equal(
      refusal(() => parseAnthropicRequest(messages([...user, { role: "assitant", content: "x" }]))),
      'body.messages[1].role: expected one of "user", "assistant", "system", got "assitant"; did you mean "assistant"?',
    );
    assert.equal(
      refusal(() => parseOpenAIRequest({ model: "m", messages: [{ role: "usr", content: "x" }] })),
      'body.messages[0].role: expected one of "system", "developer", "user", "assistant", "tool", "function", got "usr"; did you mean "user"?',
    );
    assert.equal(
      refusal(() => parseOpenAIRequest({ model: "m", messages: user, reasoning_effort: "hgih" })),
      'body.reasoning_effort: expected one of "none", "minimal", "low", "medium", "high", "xhigh", got "hgih"; did you mean "high"?',
    );
    assert.equal(
      refusal(() => parseResponsesRequest({ model: "m", input: [{ role: "asistant", content: "x" }] })),
      'body.input[0].role: expected one of "user", "assistant", "system", "developer", got "asistant"; did you mean "assistant"?',
    );
    const image = (media_type?: string) => ({
      type: "image",
      source: { type: "base64", media_type, data: "iVBORw0KGgo=" },
    });
    assert.equal(
      refusal(() => parseAnthropicRequest(messages([{ role: "user", content: [image("image/jpg")] }]))),
      'body.messages[0].content[0].source.media_type: expected one of "image/jpeg", "image/png", "image/gif", "image/webp", got "image/jpg"; did you mean "image/jpeg"?',
    );
    assert.equal(
      refusal(() => parseAnthropicRequest(messages([{ role: "user", content: [image()] }]))),
      'body.messages[0].content[0].source.media_type: expected one of "image/jpeg", "image/png", "image/gif", "image/webp", got none',
    );
    assert.equal(
      refusal(() => parseAnthropicRequest({ ...messages(user), tool_choice: { type: "tools" } })),
      'body.tool_choice.type: expected one of "auto", "any", "tool", "none", got "tools"; did you mean "tool"?',
    );
    assert.equal(
      refusal(() => parseOpenAIRequest({ model: "m", messages: user, tool_choice: "requried" })),
      'body.tool_choice: expected one of "none", "auto", "required" or an object such as {"type": "function", "function": {"name": ...}}, got "requried"; did you mean "required"?',
    );
    assert.equal(
      refusal(() => parseOpenAIRequest({ model: "m", messages: user, tool_choice: 5 })),
      'body.tool_choice: expected one of "none", "auto", "required" or an object such as {"type": "function", "function": {"name": ...}}, got 5',
    );
    assert.match(
      refusal(() => parseResponsesRequest({ model: "m", input: [{ role: "user", content: [{ text: "x" }] }] }))!,
      /^body\.input\[0\]\.content\[0\]\.type: expected one of "input_text", .*, got none$/,
    );
    // Far from every value: the list and the value, no guess.
    assert.equal(
      refusal(() => parseOpenAIRequest({ model: "m", messages: [{ role: "robot", content: "x" }] })),
      'body.messages[0].role: expected one of "system", "developer", "user", "assistant", "tool", "function", got "robot"',
    );
    // A schema's own message is kept.
    assert.equal(
      refusal(() => parseAnthropicRequest({ ...messages(user), temperature: "hot" })),
      "body.temperature: expected a number from 0 to 1",
    );
  });
});

describe("gateway Messages content blocks: the types Anthropic's API has", () => {
  const turn = (...content: object[]) => ({ model: "m", max_tokens: 9, messages: [{ role: "user", content }] });

  it("refuses a block of a type the API does not have, naming its path, the types it takes and the one meant", () => {
    const imgae = refusal(() => parseAnthropicRequest(turn({ type: "text", text: "a" }, { type: "imgae" })));
    assert.match(
      imgae!,
      /^body\.messages\[0\]\.content\[1\]\.type: expected one of "text", "image", "document", .*"container_upload".*, got "imgae"; did you mean "image"\?$/,
    );
    assert.match(
      refusal(() => parseAnthropicRequest(turn({ type: "tool_reslut", tool_use_id: "t" })))!,
      /, got "tool_reslut"; did you mean "tool_result"\?$/,
    );
    // Inside a tool result, the types a tool result's content takes.
    assert.equal(
      refusal(() =>
        parseAnthropicRequest(turn({ type: "tool_result", tool_use_id: "t", content: [{ type: "txt", text: "a" }] })),
      ),
      'body.messages[0].content[0].content[0].type: expected one of "text", "image", "search_result", "document", "tool_reference", "browser_state", got "txt"; did you mean "text"?',
    );
  });

  it("takes every block type of Anthropic's SDK, server tools' results, documents, containers and MCP blocks among them", () => {
    for (const type of [
      "document",
      "search_result",
      "redacted_thinking",
      "server_tool_use",
      "web_search_tool_result",
      "web_fetch_tool_result",
      "code_execution_tool_result",
      "bash_code_execution_tool_result",
      "text_editor_code_execution_tool_result",
      "tool_search_tool_result",
      "advisor_tool_result",
      "mcp_tool_use",
      "mcp_tool_result",
      "mcp_tool_listing",
      "container_upload",
      "compaction",
      "fallback",
      "tool_addition",
      "tool_removal",
    ])
      assert.equal(
        refusal(() => parseAnthropicRequest(turn({ type }))),
        undefined,
        type,
      );
    const call = { role: "assistant", content: [{ type: "tool_use", id: "t", name: "read", input: {} }] };
    for (const type of ["search_result", "document", "tool_reference", "browser_state"]) {
      const result = turn({ type: "tool_result", tool_use_id: "t", content: [{ type }] });
      assert.equal(
        refusal(() => parseAnthropicRequest({ ...result, messages: [call, ...result.messages] })),
        undefined,
        type,
      );
    }
  });
});

describe("gateway Chat content parts: the types OpenAI's API takes in each role's message", () => {
  const turn = (role: string, ...content: object[]) => ({ model: "m", messages: [{ role, content }] });

  it("refuses a part of a type the API does not have, naming its path, the types the role takes and the one meant", () => {
    assert.equal(
      refusal(() => parseOpenAIRequest(turn("user", { type: "text", text: "a" }, { type: "txt", text: "hi" }))),
      'body.messages[0].content[1].type: expected one of "text", "image_url", "input_audio", "file", got "txt"; did you mean "text"?',
    );
    assert.equal(
      refusal(() => parseOpenAIRequest(turn("assistant", { type: "refusl", refusal: "no" }))),
      'body.messages[0].content[0].type: expected one of "text", "refusal", got "refusl"; did you mean "refusal"?',
    );
    assert.equal(
      refusal(() => parseOpenAIRequest(turn("developer", { type: "input_text", text: "be brief" }))),
      'body.messages[0].content[0].type: expected "text", got "input_text"',
    );
  });

  it("refuses a part of another role's type, which a translation would leave out of a system or assistant turn", () => {
    const image = { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } };
    assert.equal(
      refusal(() => parseOpenAIRequest(turn("system", image))),
      'body.messages[0].content[0].type: expected "text", got "image_url": a system message takes no image_url parts',
    );
    assert.equal(
      refusal(() => parseOpenAIRequest(turn("assistant", image))),
      'body.messages[0].content[0].type: expected one of "text", "refusal", got "image_url": an assistant message takes no image_url parts',
    );
    assert.equal(
      refusal(() => parseOpenAIRequest(turn("user", { type: "refusal", refusal: "no" }))),
      'body.messages[0].content[0].type: expected one of "text", "image_url", "input_audio", "file", got "refusal": a user message takes no refusal parts',
    );
  });

  it("takes each role's part types, and an image in a tool result (translated as the result's image)", () => {
    const image = { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } };
    const user = [
      { type: "text", text: "a" },
      image,
      { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
      { type: "file", file: { file_id: "file-1" } },
    ];
    assert.equal(
      refusal(() =>
        parseOpenAIRequest({
          model: "m",
          messages: [
            { role: "system", content: [{ type: "text", text: "s" }] },
            { role: "developer", content: [{ type: "text", text: "d" }] },
            { role: "user", content: user },
            {
              role: "assistant",
              content: [
                { type: "text", text: "t" },
                { type: "refusal", refusal: "r" },
              ],
              tool_calls: [{ id: "c1", type: "function", function: { name: "read", arguments: "{}" } }],
            },
            { role: "tool", tool_call_id: "c1", content: [{ type: "text", text: "r" }, image] },
          ],
        }),
      ),
      undefined,
    );
  });
});

describe("gateway /v1/models: Anthropic's page", () => {
  const config = { routes: { a: {}, b: {}, c: {} }, aliases: { fast: "a" } } as unknown as RouterConfig;
  const page = (query: object) => {
    const list = modelList(config, query);
    return [list.data.map((model) => model.id), list.has_more, list.first_id, list.last_id];
  };
  const all = ["auto-router/a", "auto-router/b", "auto-router/c", "fast"];

  it("puts every name on one page without a limit (OpenAI's list), and at most limit names with one", () => {
    assert.deepEqual(page({}), [all, false, "auto-router/a", "fast"]);
    assert.deepEqual(page({ limit: "1" }), [["auto-router/a"], true, "auto-router/a", "auto-router/a"]);
    assert.deepEqual(page({ limit: "4" }), [all, false, "auto-router/a", "fast"]);
    assert.deepEqual(page({ limit: "1000" }), [all, false, "auto-router/a", "fast"]);
  });

  it("pages forward from after_id and back from before_id, has_more looking the way it pages", () => {
    assert.deepEqual(page({ limit: "2", after_id: "auto-router/a" }), [
      ["auto-router/b", "auto-router/c"],
      true,
      "auto-router/b",
      "auto-router/c",
    ]);
    assert.deepEqual(page({ limit: "2", after_id: "auto-router/c" }), [["fast"], false, "fast", "fast"]);
    assert.deepEqual(page({ after_id: "fast" }), [[], false, null, null]);
    assert.deepEqual(page({ limit: "2", before_id: "fast" }), [
      ["auto-router/b", "auto-router/c"],
      true,
      "auto-router/b",
      "auto-router/c",
    ]);
    assert.deepEqual(page({ limit: "2", before_id: "auto-router/c" }), [
      ["auto-router/a", "auto-router/b"],
      false,
      "auto-router/a",
      "auto-router/b",
    ]);
    assert.deepEqual(page({ before_id: "auto-router/a" }), [[], false, null, null]);
  });

  it("refuses a limit outside 1..1000, an id the list does not have, and both cursors at once", () => {
    for (const [query, message] of [
      [{ limit: "0" }, 'query.limit: expected an integer from 1 to 1000 (got "0")'],
      [{ limit: "1001" }, 'query.limit: expected an integer from 1 to 1000 (got "1001")'],
      [{ limit: "two" }, 'query.limit: expected an integer from 1 to 1000 (got "two")'],
      [{ limit: "1.5" }, 'query.limit: expected an integer from 1 to 1000 (got "1.5")'],
      [{ limit: ["1", "2"] }, "query.limit: expected one value"],
      [{ after_id: "nope" }, 'query.after_id: "nope" is not a model this list has'],
      [{ before_id: "nope" }, 'query.before_id: "nope" is not a model this list has'],
      [{ after_id: "fast", before_id: "fast" }, "query.before_id: send either after_id or before_id, not both"],
    ] as const)
      assert.equal(
        refusal(() => modelList(config, query)),
        message,
        JSON.stringify(query),
      );
  });
});

describe("gateway streams: a Responses target's reasoning summary", () => {
  const partial = { role: "assistant", content: [] } as unknown as AssistantMessage;
  const delta = (text: string, contentIndex = 0): AnswerEvent => ({
    type: "thinking_delta",
    contentIndex,
    delta: text,
    partial,
  });
  const end = (content: string, contentIndex = 0): AnswerEvent => ({
    type: "thinking_end",
    contentIndex,
    content,
    partial,
  });
  /** The thinking deltas a client is sent, joined per block, and the events' types in order. */
  function passed(events: AnswerEvent[]): { text: string; types: string[] } {
    const separators = new SummarySeparators();
    const out: AnswerEvent[] = [];
    for (const event of events) separators.pass(event, (event) => out.push(event));
    return {
      text: out.map((event) => (event.type === "thinking_delta" ? event.delta : "")).join(""),
      types: out.map((event) => event.type),
    };
  }

  it("streams the parts joined as the block ends them: no separator after the last part", () => {
    // pi-ai: each summary part's deltas, then "\n\n" at its end; the block ends with the parts joined by "\n\n".
    const one = passed([delta("Let me "), delta("think."), delta("\n\n"), end("Let me think.")]);
    assert.deepEqual(one, {
      text: "Let me think.",
      types: ["thinking_delta", "thinking_delta", "thinking_end"],
    });
    const two = passed([delta("First."), delta("\n\n"), delta("Second."), delta("\n\n"), end("First.\n\nSecond.")]);
    assert.equal(two.text, "First.\n\nSecond.");
  });

  it("keeps a separator the block's thinking has, and one of an answer that breaks off", () => {
    assert.equal(
      passed([delta("Ends with a gap."), delta("\n\n"), end("Ends with a gap.\n\n")]).text,
      "Ends with a gap.\n\n",
    );
    const broken = passed([
      delta("Cut."),
      delta("\n\n"),
      { type: "error", reason: "error", error: partial } as AnswerEvent,
    ]);
    assert.deepEqual(broken, { text: "Cut.\n\n", types: ["thinking_delta", "thinking_delta", "error"] });
  });

  it("passes every other event as it comes, each block on its own", () => {
    const events: AnswerEvent[] = [
      { type: "text_delta", contentIndex: 1, delta: "\n\n", partial },
      delta("A", 0),
      delta("\n\n", 0),
      delta("B", 2),
      delta("\n\n", 2),
      end("A", 0),
      end("B\n\n", 2),
    ];
    const separators = new SummarySeparators();
    const out: AnswerEvent[] = [];
    for (const event of events) separators.pass(event, (event) => out.push(event));
    assert.deepEqual(
      out.map((event) => [
        event.type,
        "contentIndex" in event ? event.contentIndex : -1,
        "delta" in event ? event.delta : "",
      ]),
      [
        ["text_delta", 1, "\n\n"],
        ["thinking_delta", 0, "A"],
        ["thinking_delta", 2, "B"],
        ["thinking_end", 0, ""],
        ["thinking_delta", 2, "\n\n"],
        ["thinking_end", 2, ""],
      ],
    );
  });
});
