// What a passthrough attempt reads of an upstream's own stream: SSE blocks across chunk boundaries, the commit point,
// usage in pi-ai's terms, the model name the client sees, and which bodies fit a target's compat flags.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ANTHROPIC_PASSTHROUGH } from "../../src/gateway/passthrough-anthropic.ts";
import { bodyFitsCompat, OPENAI_CHAT_PASSTHROUGH } from "../../src/gateway/passthrough-openai.ts";
import { RESPONSES_PASSTHROUGH } from "../../src/gateway/passthrough-responses.ts";
import { editJson } from "../../src/gateway/json-edit.ts";
import { isObject } from "../../src/is-object.ts";
import { reasoningKey } from "../../src/runtime/reasoning-key.ts";
import { forgetRememberedCredentials, rememberCredentials } from "../../src/state/redact.ts";
import {
  brokenEvent,
  openAITokens,
  parseBlock,
  SseBlocks,
  zeroTokens,
  type PassthroughDialect,
} from "../../src/gateway/passthrough-scan.ts";

const anthropicBlock = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}`;
const openAIBlock = (data: unknown) => `data: ${JSON.stringify(data)}`;
const KEY = "sk-test-key-000000000001";

/** What a passthrough sends a target: the client's own bytes with the dialect's edits and the target's model id. */
function sentBody(dialect: PassthroughDialect, client: Record<string, unknown>, modelId: string): string {
  const edits = dialect.edits(client);
  return editJson(Buffer.from(JSON.stringify(client)), client, {
    set: { ...edits.set, model: modelId },
    remove: edits.remove,
  }).toString();
}

describe("SSE blocks", () => {
  it("keeps a block cut by a chunk boundary until its end arrives, and reads CRLF framing", () => {
    const blocks = new SseBlocks();
    assert.deepEqual(SseBlocks.split(blocks.take('event: a\ndata: {"x"')), []);
    assert.deepEqual(SseBlocks.split(blocks.take(":1}\n\nevent: b\r\ndata: 2\r\n\r\ndata: 3")), [
      'event: a\ndata: {"x":1}',
      "event: b\ndata: 2",
    ]);
    assert.deepEqual(blocks.flush(), ["data: 3"]);
    assert.deepEqual(blocks.flush(), []);
  });

  it("takes the text of the complete blocks so far, a CR cut from its LF by a chunk boundary included", () => {
    const blocks = new SseBlocks();
    assert.equal(blocks.take("event: a\ndata: 1\n"), "");
    assert.equal(blocks.take("\nevent: b\ndata: 2\r"), "event: a\ndata: 1\n\n");
    assert.equal(blocks.take("\n\r\nevent: c"), "event: b\ndata: 2\n\n");
    assert.deepEqual(SseBlocks.split("event: a\n\n\n\nevent: b\n\n"), ["event: a", "event: b"]);
    assert.deepEqual(blocks.flush(), ["event: c"]);
  });

  it("joins a data field that spans lines and reads the event name with or without a space", () => {
    assert.deepEqual(parseBlock("event:ping\ndata: one\ndata:two"), { event: "ping", data: "one\ntwo" });
    assert.deepEqual(parseBlock(": comment\ndata: [DONE]"), { event: undefined, data: "[DONE]" });
  });
});

describe("events forwarded unread", () => {
  it("finds the first block whose data is not valid JSON, and where it starts", () => {
    const whole = 'event: a\ndata: {"x":1}\n\n: comment\n\nevent: ping\n\ndata:  \n\ndata: {"y":\ndata: 2}\n\n';
    assert.equal(brokenEvent(whole), undefined);
    const cut = 'event: c\ndata: {"type":"content_block_delta","delta":{"text":"wor\n\n';
    const found = brokenEvent(`${whole}${cut}event: d\ndata: {}\n\n`);
    assert.equal(found?.at, whole.length);
    assert.match(found!.why, /^an event that is not valid JSON: /);
    assert.equal(brokenEvent(`data: {"a":tru}\n\n${whole}`)?.at, 0);
    // And one without the object its type holds, where the dialect names one.
    const holds = new Map([["content_block_delta", "delta"]]);
    const empty = 'data: {"type":"content_block_delta","index":0,"delta":null}\n\n';
    assert.equal(brokenEvent(empty), undefined);
    assert.deepEqual(brokenEvent(`${whole}${empty}`, holds), {
      at: whole.length,
      why: "a content_block_delta event whose `delta` is no object",
    });
    assert.equal(brokenEvent('data: {"type":"content_block_delta","delta":{}}\n\n', holds), undefined);
  });
});

describe("the patterns of events checked without a parse", () => {
  it("match only valid JSON of their shape, whatever a target cut or changed in it", () => {
    const anthropic = ANTHROPIC_PASSTHROUGH.plainEvent!;
    const responses = RESPONSES_PASSTHROUGH.plainEvent!;
    const texts = ['word "quoted" \\ back é', "line\nbreak\ttab \u0001", "{}[],:"];
    const events = texts.flatMap((text) => [
      JSON.stringify({ type: "content_block_delta", index: 12, delta: { type: "text_delta", text } }),
      JSON.stringify({
        type: "content_block_delta",
        index: 0,
        delta: { type: "input_json_delta", partial_json: text },
      }),
      JSON.stringify({
        type: "response.output_text.delta",
        sequence_number: 4,
        item_id: "msg_1",
        output_index: 0,
        content_index: 0,
        delta: text,
        logprobs: [],
        obfuscation: "x9",
      }),
    ]);
    for (const event of events) assert.ok(anthropic.test(event) || responses.test(event), event);
    let seed = 5;
    const random = (below: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % below;
    };
    const pieces = ['"', "\\", "\\x", "\\u12", "}", "{", "01", ",", ":", "null", "\u0000", "[1]", " "];
    for (let round = 0; round < 5000; round++) {
      const event = events[random(events.length)]!;
      const at = random(event.length);
      const changed =
        random(2) === 0
          ? event.slice(0, at)
          : event.slice(0, at) + pieces[random(pieces.length)] + event.slice(at + random(3));
      for (const pattern of [anthropic, responses]) {
        if (!pattern.test(changed)) continue;
        const parsed = JSON.parse(changed); // throws for one that is not valid JSON: the test fails
        if (pattern === anthropic) assert.ok(isObject(parsed.delta), changed);
      }
    }
    // A cut one in a run is found all the same (the pattern fails, the parse says why).
    const run = `${events.map((event) => `data: ${event}\n\n`).join("")}data: ${events[0]!.slice(0, 40)}\n\n`;
    assert.match(brokenEvent(run, undefined, anthropic)!.why, /not valid JSON/);
    assert.equal(brokenEvent(run.slice(0, run.lastIndexOf("data: ")), undefined, anthropic), undefined);
  });
});

describe("Anthropic stream scanner", () => {
  it("forwards a streaming client's blocks unread only after the commit point and only up to the first that may hold usage, the end or an error", () => {
    const deltas = `${anthropicBlock("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "more" } })}\n\n`;
    const end = `${anthropicBlock("message_delta", { type: "message_delta" })}\n\n${anthropicBlock("message_stop", { type: "message_stop" })}\n\n`;
    const scanner = ANTHROPIC_PASSTHROUGH.scanner({}, "auto-router/claude", false);
    assert.equal(scanner.unreadLength?.(deltas), 0, "before the commit point every block is read");
    scanner.block(deltas.trim());
    assert.equal(scanner.unreadLength?.(deltas), deltas.length);
    assert.equal(scanner.unreadLength?.(deltas.repeat(3)), deltas.length * 3);
    assert.equal(scanner.unreadLength?.(`${deltas.repeat(3)}${end}`), deltas.length * 3, "the deltas before the end");
    assert.equal(
      scanner.unreadLength?.(`${deltas}${end}${deltas}`),
      deltas.length,
      "read from the first such block on",
    );
    assert.equal(scanner.unreadLength?.(end), 0);
    assert.equal(scanner.unreadLength?.(`${anthropicBlock("error", { type: "error" })}\n\n`), 0);
    const doubtful = deltas.replace("more", "an error here");
    assert.equal(scanner.unreadLength?.(doubtful), 0, "read when in doubt");
    assert.equal(scanner.unreadLength?.(`${deltas}${doubtful}${deltas}`), deltas.length, "read when in doubt");
    assert.equal(scanner.unreadLength?.(""), 0);
    const assembling = ANTHROPIC_PASSTHROUGH.scanner({}, "auto-router/claude", true);
    assembling.block(deltas.trim());
    assert.equal(assembling.unreadLength?.(deltas), 0, "a non-streaming client's answer is put together");
  });

  it("commits at the first real text, renames the model, and reads usage and the stop reason", () => {
    const scanner = ANTHROPIC_PASSTHROUGH.scanner({}, "auto-router/claude", false);
    const start = scanner.block(
      anthropicBlock("message_start", {
        type: "message_start",
        message: {
          id: "msg_1",
          model: "claude-sonnet-4-5-20250929",
          usage: { input_tokens: 30, cache_read_input_tokens: 200, output_tokens: 1 },
        },
      }),
    );
    assert.equal(JSON.parse(parseBlock(start.text.trim()).data).message.model, "auto-router/claude");
    assert.equal(start.substantive, undefined);
    assert.equal(scanner.block(anthropicBlock("ping", { type: "ping" })).substantive, undefined);
    const emptyText = { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "" } };
    assert.equal(scanner.block(anthropicBlock("content_block_delta", emptyText)).substantive, undefined);
    const thinking = { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "hmm..." } };
    assert.equal(scanner.block(anthropicBlock("content_block_delta", thinking)).thinkingChars, 6);
    const text = { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Hi" } };
    const block = anthropicBlock("content_block_delta", text);
    assert.deepEqual(scanner.block(block), { text: `${block}\n\n`, substantive: true });
    scanner.block(
      anthropicBlock("message_delta", {
        type: "message_delta",
        delta: { stop_reason: "max_tokens" },
        usage: { output_tokens: 9 },
      }),
    );
    assert.equal(scanner.block(anthropicBlock("message_stop", { type: "message_stop" })).end, "done");
    assert.deepEqual(scanner.tokens, { input: 30, output: 9, cacheRead: 200, cacheWrite: 0 });
    assert.equal(scanner.stopReason, "length");
    assert.equal(scanner.completeAtEnd(), false, "an Anthropic stream is complete only with message_stop");
  });

  it("commits at a tool call's start and reports an error event with its own JSON", () => {
    const scanner = ANTHROPIC_PASSTHROUGH.scanner({}, "m", false);
    const tool = {
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", id: "t", name: "f", input: {} },
    };
    assert.equal(scanner.block(anthropicBlock("content_block_start", tool)).substantive, true);
    const error = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } };
    assert.deepEqual(scanner.block(anthropicBlock("error", error)), {
      text: `${anthropicBlock("error", error)}\n\n`,
      end: "error",
      errorText: JSON.stringify(error),
    });
    assert.match(
      scanner.errorBlock("cut off"),
      /^event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"cut off"\}\}\n\n$/,
    );
  });

  it("sends the client's body with the target's model id and without the router's provider field", () => {
    const client = { model: "auto-router/x", provider: { only: ["a"] }, stream: true, top_k: 3 };
    assert.equal(sentBody(ANTHROPIC_PASSTHROUGH, client, "claude-d"), '{"model":"claude-d","stream":true,"top_k":3}');
  });
});

describe("OpenAI stream scanner", () => {
  const chunk = (delta: unknown, extra: Record<string, unknown> = {}) =>
    openAIBlock({
      id: "c1",
      object: "chat.completion.chunk",
      model: "gpt-4o-2024-08-06",
      choices: [{ index: 0, delta, finish_reason: null }],
      ...extra,
    });

  it("renames the model the upstream writes, keeps the content, and drops a usage record the client did not ask for", () => {
    const scanner = OPENAI_CHAT_PASSTHROUGH.scanner({ stream: true }, "chat", false);
    const role = scanner.block(chunk({ role: "assistant", content: "" }));
    assert.match(role.text, /"model":"chat"/);
    assert.doesNotMatch(role.text, /gpt-4o/);
    assert.equal(role.substantive, false);
    assert.equal(scanner.block(chunk({ reasoning_content: "think" })).thinkingChars, 5);
    assert.equal(scanner.block(chunk({ content: "Hel" })).substantive, true);
    scanner.block(chunk({ tool_calls: [{ index: 0, id: "call_1", function: { name: "get", arguments: '{"a":' } }] }));
    scanner.block(chunk({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] }));
    scanner.block(
      openAIBlock({
        id: "c1",
        model: "gpt-4o-2024-08-06",
        choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }],
      }),
    );
    const usage = openAIBlock({
      id: "c1",
      model: "gpt-4o-2024-08-06",
      choices: [],
      usage: { prompt_tokens: 50, completion_tokens: 8 },
    });
    assert.deepEqual(scanner.block(usage), { text: "" });
    assert.deepEqual(scanner.block("data: [DONE]"), { text: "data: [DONE]\n\n", end: "done" });
    assert.deepEqual(scanner.tokens, { input: 50, output: 8, cacheRead: 0, cacheWrite: 0 });
    assert.equal(scanner.stopReason, "toolUse");
    assert.deepEqual(scanner.content, [
      { type: "text", text: "Hel" },
      { type: "toolCall", id: "call_1", name: "get", arguments: { a: 1 } },
    ]);
    assert.equal(scanner.completeAtEnd(), true, "a finish reason makes a stream without [DONE] complete");
  });

  it("reads the tool calls back in index order without gaps, whatever indexes the target gives them", () => {
    const call = (index: number, id: string) =>
      chunk({ tool_calls: [{ index, id, function: { name: "get", arguments: "{}" } }] });
    const ids = (blocks: string[]) => {
      const scanner = OPENAI_CHAT_PASSTHROUGH.scanner({ stream: true }, "chat", false);
      for (const block of blocks) scanner.block(block);
      return scanner.content.map((part) => (part.type === "toolCall" ? part.id : part.type));
    };
    // Before, index 2 left two undefined parts in front of it, and a far index a four-billion-long array to walk.
    assert.deepEqual(ids([call(2, "near")]), ["near"]);
    assert.deepEqual(ids([call(4294967294, "far"), call(2, "near")]), ["near", "far"]);
  });

  it("reads a finish or stop reason named like a member of every object as an unknown one (a stop), not as Object's", () => {
    const chat = OPENAI_CHAT_PASSTHROUGH.scanner({ stream: true }, "chat", false);
    chat.block(chunk({ content: "Hi" }));
    chat.block(openAIBlock({ id: "c1", model: "m", choices: [{ index: 0, delta: {}, finish_reason: "constructor" }] }));
    assert.equal(chat.stopReason, "stop");
    const messages = ANTHROPIC_PASSTHROUGH.scanner({}, "auto-router/claude", false);
    const end = { type: "message_delta", delta: { stop_reason: "toString" }, usage: { output_tokens: 1 } };
    messages.block(anthropicBlock("message_delta", end));
    assert.equal(messages.stopReason, "stop");
  });

  it("scrubs a key the router knows from a streaming client's text and tool-call arguments, also split across chunks", () => {
    forgetRememberedCredentials();
    rememberCredentials(KEY);
    try {
      const scanner = OPENAI_CHAT_PASSTHROUGH.scanner({ stream: true }, "chat", false);
      const sent = (block: string) => scanner.block(block).text;
      const deltas = (text: string) =>
        [...text.matchAll(/^data: (.*)$/gm)]
          .filter(([, data]) => data !== "[DONE]")
          .map(([, data]) => JSON.parse(data!).choices[0]?.delta);
      assert.deepEqual(deltas(sent(chunk({ content: `key ${KEY.slice(0, 6)}` }))), [{ content: "key " }]);
      assert.deepEqual(deltas(sent(chunk({ content: `${KEY.slice(6)} ok sk-t` }))), [{ content: "[REDACTED] ok " }]);
      const call = { index: 0, id: "call_1", function: { name: "run", arguments: `{"k":"${KEY.slice(0, 9)}` } };
      assert.deepEqual(deltas(sent(chunk({ tool_calls: [call] }))), [
        { tool_calls: [{ ...call, function: { name: "run", arguments: '{"k":"' } }] },
      ]);
      const rest = { index: 0, function: { arguments: `${KEY.slice(9)}"}` } };
      assert.deepEqual(deltas(sent(chunk({ tool_calls: [rest] }))), [
        { tool_calls: [{ index: 0, function: { arguments: '[REDACTED]"}' } }] },
      ]);
      // The stream ends without a finish reason: what waited ("sk-t", no key after all) goes out before [DONE].
      const end = sent("data: [DONE]");
      assert.deepEqual(deltas(end), [{ content: "sk-t" }]);
      assert.match(end, /"model":"chat".*\n\ndata: \[DONE\]\n\n$/s);
      assert.deepEqual(
        scanner.content[0],
        { type: "text", text: `key ${KEY} ok sk-t` },
        "the usage check reads it all",
      );
    } finally {
      forgetRememberedCredentials();
    }
  });

  it("scrubs each choice's text as its own when a request asked for several", () => {
    forgetRememberedCredentials();
    rememberCredentials(KEY);
    try {
      const scanner = OPENAI_CHAT_PASSTHROUGH.scanner({ stream: true, n: 2 }, "chat", false);
      const choice = (index: number, content: string, finish: string | null = null) =>
        openAIBlock({ id: "c1", model: "m", choices: [{ index, delta: { content }, finish_reason: finish }] });
      const sent = (block: string) =>
        [...scanner.block(block).text.matchAll(/^data: (.*)$/gm)]
          .filter(([, data]) => data !== "[DONE]")
          .flatMap(([, data]) => JSON.parse(data!).choices.map((c: any) => `${c.index}:${c.delta.content ?? ""}`));
      assert.deepEqual(sent(choice(0, `a ${KEY.slice(0, 5)}`)), ["0:a "]);
      assert.deepEqual(sent(choice(1, "b sk")), ["1:b "], "the other choice's held start is not this one's");
      assert.deepEqual(sent(choice(1, " done", "stop")), ["1:sk done"]);
      assert.deepEqual(sent(choice(0, KEY.slice(5), "stop")), ["0:[REDACTED]"]);
      assert.deepEqual(sent("data: [DONE]"), [], "nothing waits");
      // Odd shapes pass on as they came (the model renamed).
      const odd = openAIBlock({ id: "c1", model: "m", choices: [{ index: 0, delta: { tool_calls: [null] } }, null] });
      assert.equal(scanner.block(odd).text, `${odd.replace('"model":"m"', '"model":"chat"')}\n\n`);
    } finally {
      forgetRememberedCredentials();
    }
  });

  it("keeps the usage record a client asked for, and reports an error record", () => {
    const scanner = OPENAI_CHAT_PASSTHROUGH.scanner(
      { stream: true, stream_options: { include_usage: true } },
      "chat",
      false,
    );
    const usage = openAIBlock({ id: "c1", model: "m", choices: [], usage: { prompt_tokens: 5, completion_tokens: 1 } });
    assert.equal(scanner.block(usage).text, `${usage.replace('"model":"m"', '"model":"chat"')}\n\n`);
    const error = { error: { message: "upstream broke", type: "server_error" } };
    assert.equal(scanner.block(openAIBlock(error)).end, "error");
    assert.equal(scanner.completeAtEnd(), false);
  });

  it("asks the target for usage in the body it sends", () => {
    const client = { model: "chat", stream: true, stream_options: { foo: 1 }, provider: { sort: "price" } };
    assert.deepEqual(JSON.parse(sentBody(OPENAI_CHAT_PASSTHROUGH, client, "gpt-b")), {
      model: "gpt-b",
      stream: true,
      stream_options: { foo: 1, include_usage: true },
    });
  });

  it("reads usage in pi-ai's terms: cached and cache-write tokens apart from the prompt", () => {
    const tokens = zeroTokens();
    openAITokens(tokens, {
      prompt_tokens: 100,
      completion_tokens: 5,
      prompt_tokens_details: { cached_tokens: 60, cache_write_tokens: 20 },
    });
    assert.deepEqual(tokens, { input: 40, output: 5, cacheRead: 40, cacheWrite: 20 });
  });
});

describe("which bodies fit a target's compat flags", () => {
  const body = { model: "x", stream: true, messages: [{ role: "user", content: "hi" }] };

  it("takes a body that uses none of the features the provider lacks", () => {
    assert.equal(bodyFitsCompat(undefined, body), true);
    assert.equal(
      bodyFitsCompat({ supportsDeveloperRole: false, supportsStore: false, supportsReasoningEffort: false }, body),
      true,
    );
    assert.equal(bodyFitsCompat({ maxTokensField: "max_tokens" }, { ...body, max_tokens: 10 }), true);
  });

  it("translates a body using a feature the provider lacks, and any flag that reshapes requests", () => {
    const developer = { ...body, messages: [{ role: "developer", content: "be brief" }, ...body.messages] };
    assert.equal(bodyFitsCompat({ supportsDeveloperRole: false }, developer), false);
    assert.equal(bodyFitsCompat({ supportsStore: false }, { ...body, store: true }), false);
    assert.equal(bodyFitsCompat({ supportsReasoningEffort: false }, { ...body, reasoning_effort: "low" }), false);
    assert.equal(bodyFitsCompat({ maxTokensField: "max_tokens" }, { ...body, max_completion_tokens: 10 }), false);
    assert.equal(bodyFitsCompat({ maxTokensField: "max_completion_tokens" }, { ...body, max_tokens: 10 }), false);
    const strictTool = { ...body, tools: [{ type: "function", function: { name: "f", strict: true } }] };
    assert.equal(bodyFitsCompat({ supportsStrictMode: false }, strictTool), false);
    assert.equal(bodyFitsCompat({ supportsUsageInStreaming: false }, body), false);
    assert.equal(bodyFitsCompat({ thinkingFormat: "qwen" }, body), false);
    assert.equal(bodyFitsCompat({ requiresToolResultName: true }, body), false);
  });
});

describe("a non-streaming answer put together from the target's stream", () => {
  it("builds the Anthropic message: thinking with its signature, text, a tool call's input, citations, stop and usage", () => {
    const scanner = ANTHROPIC_PASSTHROUGH.scanner({}, "auto-router/claude", true);
    const events: [string, unknown][] = [
      [
        "message_start",
        {
          type: "message_start",
          message: {
            id: "msg_1",
            type: "message",
            role: "assistant",
            model: "claude-x",
            content: [],
            stop_reason: null,
            usage: { input_tokens: 10, output_tokens: 1 },
          },
        },
      ],
      [
        "content_block_start",
        { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
      ],
      [
        "content_block_delta",
        { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Hm." } },
      ],
      [
        "content_block_delta",
        { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "sig" } },
      ],
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      ["content_block_start", { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }],
      ["content_block_delta", { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "See " } }],
      [
        "content_block_delta",
        {
          type: "content_block_delta",
          index: 1,
          delta: { type: "citations_delta", citation: { type: "char_location", cited_text: "x" } },
        },
      ],
      ["content_block_delta", { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "this." } }],
      ["content_block_stop", { type: "content_block_stop", index: 1 }],
      [
        "content_block_start",
        { type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "t1", name: "f", input: {} } },
      ],
      [
        "content_block_delta",
        { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '{"a":' } },
      ],
      [
        "content_block_delta",
        { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: "[1]}" } },
      ],
      ["content_block_stop", { type: "content_block_stop", index: 2 }],
      [
        "message_delta",
        {
          type: "message_delta",
          delta: { stop_reason: "tool_use", stop_sequence: null },
          usage: { output_tokens: 20 },
        },
      ],
      ["message_stop", { type: "message_stop" }],
    ];
    for (const [event, data] of events) scanner.block(anthropicBlock(event, data));
    assert.deepEqual(JSON.parse(scanner.body()), {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "auto-router/claude",
      content: [
        { type: "thinking", thinking: "Hm.", signature: "sig" },
        { type: "text", text: "See this.", citations: [{ type: "char_location", cited_text: "x" }] },
        { type: "tool_use", id: "t1", name: "f", input: { a: [1] } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 20 },
    });
  });

  it("builds the OpenAI chat.completion: content, tool calls by index, finish reason and usage", () => {
    const scanner = OPENAI_CHAT_PASSTHROUGH.scanner({}, "chat", true);
    const head = { id: "c1", object: "chat.completion.chunk", created: 5, model: "gpt-x", system_fingerprint: "fp" };
    const chunks = [
      { ...head, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
      { ...head, choices: [{ index: 0, delta: { content: "Let me " }, finish_reason: null }] },
      { ...head, choices: [{ index: 0, delta: { content: "check." }, finish_reason: null }] },
      {
        ...head,
        choices: [
          {
            index: 0,
            delta: {
              tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get", arguments: "" } }],
            },
            finish_reason: null,
          },
        ],
      },
      {
        ...head,
        choices: [
          { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"q":1}' } }] }, finish_reason: null },
        ],
      },
      { ...head, choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
      { ...head, choices: [], usage: { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 } },
    ];
    for (const chunk of chunks) scanner.block(openAIBlock(chunk));
    assert.deepEqual(JSON.parse(scanner.body()), {
      id: "c1",
      object: "chat.completion",
      created: 5,
      model: "chat",
      system_fingerprint: "fp",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Let me check.",
            tool_calls: [{ id: "call_1", type: "function", function: { name: "get", arguments: '{"q":1}' } }],
          },
          finish_reason: "tool_calls",
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 },
    });
  });
});

describe("Responses stream scanner", () => {
  const response = (status: string, extra: Record<string, unknown> = {}) => ({
    id: "resp_1",
    object: "response",
    status,
    model: "gpt-5-2025",
    output: [],
    ...extra,
  });

  it("forwards text unread only after the commit point and only up to the first block that may hold a response object or an error", () => {
    const delta = { type: "response.output_text.delta", item_id: "msg_1", delta: "more" };
    const deltas = `${anthropicBlock(delta.type, delta)}\n\n`;
    const scanner = RESPONSES_PASSTHROUGH.scanner({}, "gpt", false);
    assert.equal(scanner.unreadLength?.(deltas), 0, "before the commit point every block is read");
    scanner.block(deltas.trim());
    assert.equal(scanner.unreadLength?.(deltas), deltas.length);
    for (const event of [
      "response.completed",
      "response.incomplete",
      "response.failed",
      "response.in_progress",
      "response.output_item.added",
      "response.output_item.done",
      "error",
    ]) {
      const read = `${anthropicBlock(event, { type: event })}\n\n`;
      assert.equal(scanner.unreadLength?.(`${deltas}${deltas}${read}`), deltas.length * 2, event);
      assert.equal(scanner.unreadLength?.(`${read}${deltas}`), 0, event);
    }
    assert.equal(scanner.unreadLength?.(deltas.replace("more", "an error here")), 0, "read when in doubt");
  });

  it("renames the model, commits at the first text, and reads a length stop with its usage", () => {
    const scanner = RESPONSES_PASSTHROUGH.scanner({}, "gpt", false);
    const created = scanner.block(
      anthropicBlock("response.created", { type: "response.created", response: response("in_progress") }),
    );
    assert.match(created.text, /"model":"gpt"/);
    const reasoning = { type: "response.reasoning_summary_text.delta", delta: "thinking" };
    assert.equal(scanner.block(anthropicBlock(reasoning.type, reasoning)).thinkingChars, 8);
    const delta = { type: "response.output_text.delta", delta: "Hi" };
    assert.equal(scanner.block(anthropicBlock(delta.type, delta)).substantive, true);
    const usage = { input_tokens: 50, input_tokens_details: { cached_tokens: 20 }, output_tokens: 9 };
    const end = scanner.block(
      anthropicBlock("response.incomplete", {
        type: "response.incomplete",
        response: response("incomplete", { usage }),
      }),
    );
    assert.equal(end.end, "done");
    assert.deepEqual(scanner.tokens, { input: 30, output: 9, cacheRead: 20, cacheWrite: 0 });
    assert.equal(scanner.stopReason, "length");
    assert.equal(JSON.parse(scanner.body()).model, "gpt");
  });

  it("reports response.failed as an error, and ends a cut-off answer with response.failed", () => {
    const scanner = RESPONSES_PASSTHROUGH.scanner({}, "gpt", false);
    scanner.block(anthropicBlock("response.created", { type: "response.created", response: response("in_progress") }));
    const failed = response("failed", { error: { code: "server_error", message: "boom" } });
    assert.deepEqual(
      scanner.block(anthropicBlock("response.failed", { type: "response.failed", response: failed })).end,
      "error",
    );
    const block = parseBlock(scanner.errorBlock("cut off").trim());
    assert.equal(block.event, "response.failed");
    assert.deepEqual(JSON.parse(block.data).response.error, { code: "server_error", message: "cut off" });
  });

  it("ends a cut-off answer with the items streamed so far: those finished, and the one under way done first with its text, incomplete", () => {
    const scanner = RESPONSES_PASSTHROUGH.scanner({}, "gpt", false);
    const event = (type: string, fields: Record<string, unknown>) =>
      scanner.block(anthropicBlock(type, { type, ...fields }));
    event("response.created", { response: response("in_progress") });
    const reasoning = { id: "rs_1", type: "reasoning", summary: [{ type: "summary_text", text: "Think." }] };
    event("response.output_item.added", { output_index: 0, item: { ...reasoning, summary: [] } });
    event("response.reasoning_summary_text.delta", { output_index: 0, delta: "Think." });
    event("response.output_item.done", { output_index: 0, item: reasoning });
    const message = { id: "msg_1", type: "message", status: "in_progress", role: "assistant", content: [] };
    event("response.output_item.added", { output_index: 1, item: message });
    event("response.output_text.delta", { output_index: 1, delta: "Say " });
    // After the commit point the deltas go out unread, and are still counted.
    const unread = `${anthropicBlock("response.output_text.delta", { type: "response.output_text.delta", delta: '"hi"' })}\n\n`;
    assert.equal(scanner.unreadLength?.(unread), unread.length);
    scanner.forwardedUnread?.(unread);
    const blocks = scanner
      .errorBlock("cut off")
      .trim()
      .split("\n\n")
      .map((block) => parseBlock(block));
    const failed = JSON.parse(blocks.at(-1)!.data).response;
    // The one under way is incomplete, as api.openai.com ends an item of a response it could not finish.
    const cut = {
      ...message,
      status: "incomplete",
      content: [{ type: "output_text", text: 'Say "hi"', annotations: [] }],
    };
    assert.deepEqual(failed.output, [reasoning, cut]);
    // It is done (its text, its part, the item) before the response fails.
    assert.deepEqual(
      blocks.map((block) => block.event),
      ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.failed"],
    );
    assert.deepEqual(JSON.parse(blocks[2]!.data).item, cut);
  });

  it("ends a reasoning item cut off after the commit point as the translating path does: its summary so far, done first, incomplete", () => {
    const scanner = RESPONSES_PASSTHROUGH.scanner({}, "gpt", false);
    const event = (type: string, fields: Record<string, unknown>) =>
      scanner.block(anthropicBlock(type, { type, ...fields }));
    event("response.created", { response: response("in_progress") });
    const at = { item_id: "rs_1", output_index: 0, summary_index: 0 };
    event("response.output_item.added", { output_index: 0, item: { id: "rs_1", type: "reasoning", summary: [] } });
    event("response.reasoning_summary_part.added", { ...at, part: { type: "summary_text", text: "" } });
    event("response.reasoning_summary_text.delta", { ...at, delta: "Weighing sources." });
    const blocks = scanner
      .errorBlock("cut off")
      .trim()
      .split("\n\n")
      .map((block) => parseBlock(block));
    const cut = {
      id: "rs_1",
      type: "reasoning",
      summary: [{ type: "summary_text", text: "Weighing sources." }],
      status: "incomplete",
    };
    assert.deepEqual(
      blocks.map((block) => block.event),
      [
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.failed",
      ],
    );
    const [textDone, partDone, itemDone, failed] = blocks.map((block) => JSON.parse(block.data));
    assert.deepEqual(textDone, {
      type: "response.reasoning_summary_text.done",
      sequence_number: 4,
      ...at,
      text: "Weighing sources.",
    });
    assert.deepEqual(partDone.part, { type: "summary_text", text: "Weighing sources." });
    assert.equal(partDone.summary_index, 0);
    assert.deepEqual(itemDone.item, cut);
    assert.deepEqual(failed.response.output, [cut]);
  });

  it("reads every event of a reasoning item after the commit point, and ends it with each summary and reasoning text part so far, done where the target had not", () => {
    const scanner = RESPONSES_PASSTHROUGH.scanner({}, "gpt", false);
    const block = (type: string, fields: Record<string, unknown>) => `${anthropicBlock(type, { type, ...fields })}\n\n`;
    const event = (type: string, fields: Record<string, unknown>) => scanner.block(block(type, fields).trim());
    event("response.created", { response: response("in_progress") });
    const message = { id: "msg_1", type: "message", status: "completed", role: "assistant", content: [] };
    event("response.output_item.added", { output_index: 0, item: { ...message, status: "in_progress" } });
    event("response.output_text.delta", { output_index: 0, delta: "Let me look." });
    event("response.output_item.done", { output_index: 0, item: message });
    event("response.output_item.added", { output_index: 1, item: { id: "rs_2", type: "reasoning", summary: [] } });
    const at = (summary_index: number) => ({ item_id: "rs_2", output_index: 1, summary_index });
    const first = { type: "summary_text", text: "First part." };
    const reasoningEvents = [
      block("response.reasoning_summary_part.added", { ...at(0), part: { type: "summary_text", text: "" } }),
      block("response.reasoning_summary_text.delta", { ...at(0), delta: "First " }),
      block("response.reasoning_summary_text.delta", { ...at(0), delta: "part." }),
      block("response.reasoning_summary_text.done", { ...at(0), text: "First part." }),
      block("response.reasoning_summary_part.done", { ...at(0), part: first }),
      block("response.reasoning_summary_part.added", { ...at(1), part: { type: "summary_text", text: "" } }),
      block("response.reasoning_summary_text.delta", { ...at(1), delta: 'Then "the' }),
      block("response.reasoning_summary_text.delta", { ...at(1), delta: ' second".' }),
      block("response.reasoning_text.delta", { item_id: "rs_2", output_index: 1, content_index: 0, delta: "raw " }),
      block("response.reasoning_text.delta", { item_id: "rs_2", output_index: 1, content_index: 0, delta: "text" }),
    ].join("");
    // A message's deltas go out unread after the commit point; a reasoning item's are all read.
    assert.equal(scanner.unreadLength?.(reasoningEvents), 0);
    for (const text of reasoningEvents.trim().split("\n\n")) scanner.block(text);
    const blocks = scanner
      .errorBlock("cut off")
      .trim()
      .split("\n\n")
      .map((text) => parseBlock(text));
    const second = { type: "summary_text", text: 'Then "the second".' };
    const raw = { type: "reasoning_text", text: "raw text" };
    const cut = { id: "rs_2", type: "reasoning", summary: [first, second], content: [raw], status: "incomplete" };
    // The first summary part was done by the target: only the second and the reasoning text are done now.
    assert.deepEqual(
      blocks.map((text) => [text.event, JSON.parse(text.data).summary_index ?? JSON.parse(text.data).content_index]),
      [
        ["response.reasoning_summary_text.done", 1],
        ["response.reasoning_summary_part.done", 1],
        ["response.reasoning_text.done", 0],
        ["response.content_part.done", 0],
        ["response.output_item.done", undefined],
        ["response.failed", undefined],
      ],
    );
    const [summaryText, summaryPart, rawText, rawPart, itemDone, failed] = blocks.map((text) => JSON.parse(text.data));
    assert.equal(summaryText.text, second.text);
    assert.deepEqual(summaryPart.part, second);
    assert.equal(rawText.text, raw.text);
    assert.deepEqual(rawPart.part, raw);
    assert.deepEqual(itemDone.item, cut);
    assert.deepEqual(failed.response.output, [message, cut]);
  });

  it("names the encrypted content of the reasoning items it handed the client: finished ones, then the terminal response's", () => {
    const scanner = RESPONSES_PASSTHROUGH.scanner({}, "gpt", false);
    const event = (type: string, fields: Record<string, unknown>) =>
      scanner.block(anthropicBlock(type, { type, ...fields }));
    const own = { id: "rs_1", type: "reasoning", summary: [], encrypted_content: "gAAA-1" };
    event("response.created", { response: response("in_progress") });
    event("response.output_item.done", { output_index: 0, item: own });
    event("response.output_item.done", { output_index: 1, item: { id: "rs_2", type: "reasoning", summary: [] } });
    assert.deepEqual(scanner.issuedReasoning?.(), ["gAAA-1"], "one without encrypted content cannot come back");
    const second = { ...own, id: "rs_3", encrypted_content: "gAAA-3" };
    event("response.completed", { response: { ...response("completed"), output: [own, second] } });
    assert.deepEqual(scanner.issuedReasoning?.(), ["gAAA-1", "gAAA-3"]);
  });

  it("leaves out the reasoning items of the keys given, and the item ids of the function calls after each up to one kept", () => {
    const reasoning = (id: string) => ({ type: "reasoning", id, summary: [], encrypted_content: `gAAA-${id}` });
    const call = (id: string) => ({ type: "function_call", id: `fc_${id}`, call_id: id, name: "f", arguments: "{}" });
    const output = (id: string) => ({ type: "function_call_output", call_id: id, output: "ok" });
    const input = [
      { role: "user", content: "go" },
      reasoning("rs_a"),
      call("call_1"),
      output("call_1"),
      reasoning("rs_b"),
      call("call_2"),
      output("call_2"),
    ];
    const sent = RESPONSES_PASSTHROUGH.edits({ model: "gpt", input }, new Set([reasoningKey("gAAA-rs_a")])).set.input;
    const { id: _id, ...unpaired } = call("call_1");
    assert.deepEqual(sent, [input[0], unpaired, input[3], input[4], input[5], input[6]]);
    const none = RESPONSES_PASSTHROUGH.edits({ model: "gpt", input }, "all").set.input as Array<{ id?: string }>;
    assert.deepEqual(
      none.map((item) => item.id),
      [undefined, undefined, undefined, undefined, undefined],
    );
  });

  it("takes function tools only: a hosted tool sends the request through the translating path", () => {
    const fits = RESPONSES_PASSTHROUGH.fits!;
    const target = {} as never;
    assert.equal(fits(target, { tools: [{ type: "function", name: "f" }] }), true);
    assert.equal(fits(target, { tools: [{ type: "function", name: "f" }, { type: "web_search" }] }), false);
    assert.equal(fits(target, { input: "hi" }), true);
  });
});
