// The Responses API translation, both ways, on hand-written requests and pi-ai event sequences.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AssistantMessage, AssistantMessageEvent } from "@mariozechner/pi-ai";
import { GatewayError } from "../../src/gateway/errors.ts";
import { parseResponsesRequest, responsesToContext } from "../../src/gateway/responses-request.ts";

const translate = (body: unknown, now = 0) => {
  const request = parseResponsesRequest(body);
  return { request, ...responsesToContext(request, now) };
};
import { isGatewayItemId, itemId, responseMeta } from "../../src/gateway/responses-response.ts";
import { itemEndEvents } from "../../src/gateway/responses-item-end.ts";
import { ResponsesStreamWriter } from "../../src/gateway/responses-stream.ts";

const usage = {
  input: 10,
  output: 4,
  cacheRead: 2,
  cacheWrite: 0,
  totalTokens: 16,
  cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
};
const message = (
  content: AssistantMessage["content"],
  stopReason: AssistantMessage["stopReason"] = "stop",
): AssistantMessage => ({
  role: "assistant",
  content,
  api: "faux",
  provider: "mock",
  model: "m",
  usage,
  stopReason,
  timestamp: 0,
});
const meta = { id: "resp_abc", model: "auto-router/swe", createdAtSeconds: 1_700_000_000, summary: false };

describe("Responses requests", () => {
  it("turns a string input and instructions into one user message and a system prompt", () => {
    const parsed = translate(
      { model: "swe", input: "hi", instructions: "be brief", max_output_tokens: 50, stream: true },
      5,
    );
    assert.equal(parsed.request.model, "swe");
    assert.equal(parsed.request.stream, true);
    assert.equal(parsed.options.maxTokens, 50);
    assert.equal(parsed.context.systemPrompt, "be brief");
    assert.deepEqual(parsed.context.messages, [{ role: "user", content: "hi", timestamp: 5 }]);
  });

  it("replays a function call round trip as an assistant tool call and a tool result with the tool's name", () => {
    const parsed = translate({
      model: "swe",
      input: [
        { role: "developer", content: "use tools" },
        { role: "user", content: [{ type: "input_text", text: "weather?" }] },
        { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Oslo"}' },
        { type: "function_call_output", call_id: "call_1", output: "sunny" },
      ],
      tools: [
        {
          type: "function",
          name: "get_weather",
          description: "weather",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      ],
    });
    assert.equal(parsed.context.systemPrompt, "use tools");
    assert.deepEqual(
      parsed.context.messages.map((m) => m.role),
      ["user", "assistant", "toolResult"],
    );
    const assistant = parsed.context.messages[1] as AssistantMessage;
    assert.deepEqual(assistant.content, [
      { type: "toolCall", id: "call_1", name: "get_weather", arguments: { city: "Oslo" } },
    ]);
    const result = parsed.context.messages[2] as Extract<
      (typeof parsed.context.messages)[number],
      { role: "toolResult" }
    >;
    assert.equal(result.toolName, "get_weather");
    assert.deepEqual(result.content, [{ type: "text", text: "sunny" }]);
    assert.equal(parsed.context.tools?.[0].name, "get_weather");
  });

  it("keeps a function call's item id beside its call_id as pi-ai's composite id, its result tied to it", () => {
    const parsed = translate({
      model: "swe",
      input: [
        { role: "user", content: "read" },
        { type: "function_call", id: "fc_7", call_id: "call_7", name: "read", arguments: "{}" },
        { type: "function_call_output", call_id: "call_7", output: "text" },
      ],
    });
    assert.equal(((parsed.context.messages[1] as AssistantMessage).content[0] as { id: string }).id, "call_7|fc_7");
    assert.equal((parsed.context.messages[2] as { toolCallId: string }).toolCallId, "call_7|fc_7");
  });

  it("takes reasoning effort `none` as asking for no reasoning, and any other effort as pi-ai's level", () => {
    assert.equal(translate({ model: "m", input: "hi", reasoning: { effort: "none" } }).options.reasoning, undefined);
    assert.equal(translate({ model: "m", input: "hi", reasoning: { effort: "xhigh" } }).options.reasoning, "xhigh");
    assert.equal(translate({ model: "m", input: "hi" }).options.reasoning, undefined);
  });

  it("takes a reasoning summary asked without an effort as the model's default reasoning, medium", () => {
    const level = (reasoning: unknown) => translate({ model: "m", input: "hi", reasoning }).options.reasoning;
    assert.equal(level({ summary: "auto" }), "medium");
    assert.equal(level({ summary: "detailed", effort: null }), "medium");
    assert.equal(level({ summary: "auto", effort: "low" }), "low");
    assert.equal(level({ summary: "auto", effort: "none" }), undefined);
    assert.equal(level({ summary: null }), undefined);
  });

  it("accepts a data-URL image, names a remote one as untranslatable, and refuses any other, naming the field", () => {
    const ok = translate({
      model: "m",
      input: [{ role: "user", content: [{ type: "input_image", image_url: "data:image/png;base64,AAAA" }] }],
    });
    assert.deepEqual(ok.context.messages[0].content, [{ type: "image", mimeType: "image/png", data: "AAAA" }]);
    const remote = translate({
      model: "m",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "What is this?" },
            { type: "input_image", image_url: "https://x/y.png" },
          ],
        },
      ],
    });
    assert.deepEqual(remote.context.messages[0].content, [{ type: "text", text: "What is this?" }]);
    assert.deepEqual(remote.request.untranslatable, ["body.input[0].content[1] (an input_image by URL)"]);
    assert.throws(
      () =>
        translate({
          model: "m",
          input: [{ role: "user", content: [{ type: "input_image", image_url: "ftp://x/y.png" }] }],
        }),
      (error: unknown) =>
        error instanceof GatewayError &&
        error.status === 400 &&
        error.message.startsWith("body.input[0].content[0].image_url: only data: URLs"),
    );
  });

  it("keeps valid input it has no form for out of the context and names it, by path and type, as untranslatable", () => {
    const parsed = translate({
      model: "m",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "Summarise" },
            { type: "input_file", file_id: "file_1" },
            { type: "input_image", file_id: "file_2" },
          ],
        },
        { type: "item_reference", id: "msg_1" },
        { type: "web_search_call", id: "ws_1", status: "completed" },
      ],
    });
    assert.deepEqual(parsed.context.messages[0]!.content, [{ type: "text", text: "Summarise" }]);
    assert.equal(parsed.context.messages.length, 1);
    assert.deepEqual(parsed.request.untranslatable, [
      'body.input[0].content[1] (type "input_file")',
      "body.input[0].content[2] (an input_image by file_id)",
      'body.input[1] (type "item_reference")',
      'body.input[2] (type "web_search_call")',
    ]);
  });

  it("names an image in a system, developer or assistant message as untranslatable: the system prompt and a turn's text have none", () => {
    const image = { type: "input_image", image_url: "data:image/png;base64,AAAA" };
    const parsed = translate({
      model: "m",
      input: [
        { role: "developer", content: [{ type: "input_text", text: "Follow the style of" }, image] },
        { role: "user", content: [{ type: "input_text", text: "Draw" }, image] },
        { role: "assistant", content: [image] },
        { role: "system", content: [image] },
      ],
    });
    assert.deepEqual(parsed.request.untranslatable, [
      "body.input[0].content[1] (an input_image in a developer message)",
      "body.input[2].content[0] (an input_image in an assistant message)",
      "body.input[3].content[0] (an input_image in a system message)",
    ]);
    assert.equal(parsed.context.systemPrompt, "Follow the style of");
    assert.deepEqual(parsed.context.messages[0].content, [
      { type: "text", text: "Draw" },
      { type: "image", mimeType: "image/png", data: "AAAA" },
    ]);
  });

  it("takes a reasoning item's reasoning_text content as it is, not as message parts", () => {
    const request = parseResponsesRequest({
      model: "m",
      input: [
        { role: "user", content: "Hi" },
        { type: "reasoning", id: "rs_1", summary: [], content: [{ type: "reasoning_text", text: "thinking" }] },
        { role: "user", content: "Again" },
      ],
    });
    assert.deepEqual(request.untranslatable, []);
    assert.equal((request.input as unknown[]).length, 3);
  });

  it("names the path and the accepted types of a misspelt part or item, and the field an item lacks", () => {
    const messageOf = (input: unknown[]) => {
      try {
        translate({ model: "m", input });
      } catch (error) {
        assert.ok(error instanceof GatewayError && error.status === 400);
        return error.message;
      }
      return "accepted";
    };
    assert.match(
      messageOf([{ role: "user", content: [{ type: "input_txt", text: "hi" }] }]),
      /^body\.input\[0\]\.content\[0\]\.type: expected one of "input_text", .*"input_file".*, got "input_txt"; did you mean "input_text"\?$/,
    );
    assert.match(
      messageOf([{ type: "function_calls", call_id: "c" }]),
      /^body\.input\[0\]\.type: expected a message \(with a role\) or one of "message", "function_call", .*"item_reference".*, got "function_calls"; did you mean "function_call"\?$/,
    );
    assert.match(
      messageOf([
        { role: "user", content: "hi" },
        { type: "function_call_output", output: "done" },
      ]),
      /^body\.input\[1\]\.call_id: /,
    );
    assert.match(
      messageOf([{ role: "user", content: [{ type: "input_text" }] }]),
      /^body\.input\[0\]\.content\[0\]\.text: /,
    );
    assert.equal(
      messageOf([{ role: "user", content: [{ type: "input_image", detail: "auto" }] }]),
      "body.input[0].content[0]: an input_image needs image_url (a data: or https: URL) or file_id",
    );
  });

  it("leaves hosted tools out and names them, keeping the function tools", () => {
    const parsed = translate({
      model: "m",
      input: "x",
      tools: [
        { type: "web_search", external_web_access: false },
        { type: "function", name: "exec", parameters: { type: "object" } },
        { type: "namespace", name: "multi_agent_v1", tools: [] },
      ],
    });
    assert.deepEqual(
      parsed.context.tools?.map((tool) => tool.name),
      ["exec"],
    );
    assert.deepEqual(parsed.request.ignoredTools, [
      { type: "web_search" },
      { type: "namespace", name: "multi_agent_v1" },
    ]);
  });

  it("refuses stored conversations, hosted tools, bad arguments and a body that is no object with the field's path", () => {
    const pathOf = (body: unknown) => {
      try {
        translate(body);
      } catch (error) {
        assert.ok(error instanceof GatewayError && error.status === 400);
        return error.message.split(":")[0];
      }
      return "accepted";
    };
    assert.equal(pathOf({ model: "m", input: "x", previous_response_id: "resp_1" }), "body.previous_response_id");
    assert.equal(pathOf({ model: "m", input: "x", conversation: "conv_1" }), "body.conversation");
    assert.equal(
      pathOf({ model: "m", input: [{ type: "function_call", call_id: "c", name: "f", arguments: "{oops" }] }),
      "body.input[0].arguments",
    );
    assert.equal(pathOf([1, 2]), "request body");
    // The X-Model header may name the model instead: a request naming neither is refused by requestedModel.
    assert.equal(pathOf({ input: "x" }), "accepted");
  });
});

describe("Responses output", () => {
  it("tells the item ids it makes from a target's own", () => {
    const made = itemId(responseMeta("m", 0), "rs", 3);
    assert.equal(isGatewayItemId(made, "rs"), true);
    assert.equal(isGatewayItemId(made, "fc"), false);
    assert.equal(isGatewayItemId("rs_68af0c1e2b", "rs"), false);
    assert.equal(isGatewayItemId(undefined, "rs"), false);
  });

  it("streams text as created, item, part, deltas, done events and a completed response with usage", () => {
    const writer = new ResponsesStreamWriter(meta);
    const partial = message([]);
    const events: AssistantMessageEvent[] = [
      { type: "start", partial },
      { type: "text_start", contentIndex: 0, partial },
      { type: "text_delta", contentIndex: 0, delta: "Hel", partial },
      { type: "text_delta", contentIndex: 0, delta: "lo", partial },
      { type: "text_end", contentIndex: 0, content: "Hello", partial },
      { type: "done", reason: "stop", message: message([{ type: "text", text: "Hello" }]) },
    ];
    const out = [...writer.open(), ...events.flatMap((event) => writer.push(event))];
    assert.deepEqual(
      out.map((event) => event.type),
      [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
      ],
    );
    assert.deepEqual(
      out.map((event) => event.sequence_number),
      out.map((_, index) => index),
    );
    const completed = out.at(-1)?.response as Record<string, any>;
    assert.equal(completed.status, "completed");
    assert.equal(completed.output_text, "Hello");
    assert.deepEqual(completed.usage, {
      input_tokens: 12,
      input_tokens_details: { cached_tokens: 2 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 16,
    });
    assert.equal((out[2].item as Record<string, unknown>).status, "in_progress");
  });

  it("closes each item before the next one is added, when pi-ai ends its blocks only at the answer's end", () => {
    const run = (summary: boolean) => {
      const writer = new ResponsesStreamWriter({ ...meta, summary });
      const partial = message([]);
      const final = message([
        { type: "thinking", thinking: "Think." },
        { type: "text", text: "Hi" },
      ]);
      const events: AssistantMessageEvent[] = [
        { type: "thinking_start", contentIndex: 0, partial },
        { type: "thinking_delta", contentIndex: 0, delta: "Think.", partial },
        { type: "text_start", contentIndex: 1, partial },
        { type: "text_delta", contentIndex: 1, delta: "Hi", partial },
        // The Chat Completions provider ends both blocks here, after the text.
        { type: "thinking_end", contentIndex: 0, content: "Think.", partial },
        { type: "text_end", contentIndex: 1, content: "Hi", partial },
        { type: "done", reason: "stop", message: final },
      ];
      return events.flatMap((event) => writer.push(event));
    };
    const text = run(false);
    assert.deepEqual(
      text.map((event) => `${event.type}${event.output_index === undefined ? "" : `#${event.output_index}`}`),
      [
        "response.output_item.added#0",
        "response.content_part.added#0",
        "response.reasoning_text.delta#0",
        "response.reasoning_text.done#0",
        "response.content_part.done#0",
        "response.output_item.done#0",
        "response.output_item.added#1",
        "response.content_part.added#1",
        "response.output_text.delta#1",
        "response.output_text.done#1",
        "response.content_part.done#1",
        "response.output_item.done#1",
        "response.completed",
      ],
    );
    // A client that asked for a reasoning summary (`reasoning.summary`) gets the thinking as one: what it reads.
    const summary = run(true);
    assert.deepEqual(
      summary.slice(0, 6).map((event) => event.type),
      [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
      ],
    );
    assert.deepEqual(summary[5].item, {
      id: "rs_abc_0",
      type: "reasoning",
      summary: [{ type: "summary_text", text: "Think." }],
    });
    assert.deepEqual((summary.at(-1)!.response as Record<string, any>).output[0].summary, [
      { type: "summary_text", text: "Think." },
    ]);
  });

  it("streams a tool call as a function_call item with argument deltas and final arguments", () => {
    const writer = new ResponsesStreamWriter(meta);
    const call = { type: "toolCall" as const, id: "call_9", name: "read", arguments: { path: "a.ts" } };
    const partial = message([call]);
    const out = [
      { type: "toolcall_start", contentIndex: 0, partial },
      { type: "toolcall_delta", contentIndex: 0, delta: '{"path":', partial },
      { type: "toolcall_delta", contentIndex: 0, delta: '"a.ts"}', partial },
      { type: "toolcall_end", contentIndex: 0, toolCall: call, partial },
      { type: "done", reason: "toolUse", message: message([call], "toolUse") },
    ].flatMap((event) => writer.push(event as AssistantMessageEvent));
    assert.deepEqual(
      out.map((event) => event.type),
      [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
      ],
    );
    assert.deepEqual((out[0].item as Record<string, unknown>).call_id, "call_9");
    const final = (out.at(-1)!.response as Record<string, any>).output[0];
    assert.deepEqual(final, {
      id: final.id,
      type: "function_call",
      status: "completed",
      call_id: "call_9",
      name: "read",
      arguments: '{"path":"a.ts"}',
    });
  });

  it("gives a Responses target's composite tool call id to the client as its call_id and item id", () => {
    const writer = new ResponsesStreamWriter(meta);
    const call = { type: "toolCall" as const, id: "call_9|fc_up_9", name: "read", arguments: {} };
    const partial = message([call]);
    const out = [
      { type: "toolcall_start", contentIndex: 0, partial },
      { type: "toolcall_end", contentIndex: 0, toolCall: call, partial },
    ].flatMap((event) => writer.push(event as AssistantMessageEvent));
    const item = out.at(-1)!.item as Record<string, unknown>;
    assert.deepEqual([item.id, item.call_id], ["fc_up_9", "call_9"]);
    const body = writer.final(message([call], "toolUse")) as Record<string, any>;
    assert.deepEqual([body.output[0].id, body.output[0].call_id], ["fc_up_9", "call_9"]);
    assert.doesNotMatch(JSON.stringify(out), /call_9\|/);
  });

  it("ends a stream that fails after the commit point with response.failed carrying the message", () => {
    const writer = new ResponsesStreamWriter(meta);
    const failed = { ...message([]), stopReason: "error" as const, errorMessage: "upstream dropped" };
    const [event] = writer.push({ type: "error", reason: "error", error: failed });
    assert.equal(event.type, "response.failed");
    assert.deepEqual((event.response as Record<string, any>).error, {
      code: "server_error",
      message: "upstream dropped",
    });
  });

  it("ends the items a failure after the commit point left open as incomplete, each done before response.failed", () => {
    const writer = new ResponsesStreamWriter(meta);
    const call = { type: "toolCall" as const, id: "call_1", name: "read", arguments: {} };
    const partial = message([{ type: "text", text: "Reading" }, call]);
    const failed = { ...partial, stopReason: "error" as const, errorMessage: "upstream dropped" };
    const events = [
      { type: "text_start", contentIndex: 0, partial },
      { type: "text_delta", contentIndex: 0, delta: "Reading", partial },
      { type: "toolcall_start", contentIndex: 1, partial },
      { type: "toolcall_delta", contentIndex: 1, delta: '{"pa', partial },
      { type: "error", reason: "error", error: failed },
    ].flatMap((event) => writer.push(event as AssistantMessageEvent));
    const types = events.map((event) => event.type);
    assert.deepEqual(types.slice(types.indexOf("response.function_call_arguments.delta") + 1), [
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.failed",
    ]);
    const done = events.filter((event) => event.type === "response.output_item.done").map((event) => event.item);
    // The call keeps the arguments it had streamed: pi-ai's partial parse of them is no finished call.
    assert.deepEqual(
      done.map((item: any) => [item.type, item.status, item.content?.[0]?.text ?? item.arguments]),
      [
        ["message", "completed", "Reading"],
        ["function_call", "incomplete", '{"pa'],
      ],
    );
    const response = events.at(-1)!.response as Record<string, any>;
    assert.deepEqual(
      response.output.map((item: any) => [item.type, item.status]),
      [
        ["message", "completed"],
        ["function_call", "incomplete"],
      ],
    );

    // A message being written when the answer broke off is incomplete, its text and part done first.
    const cut = new ResponsesStreamWriter(meta);
    const text = message([{ type: "text", text: "Hel" }]);
    const cutEvents = [
      { type: "text_start", contentIndex: 0, partial: text },
      { type: "text_delta", contentIndex: 0, delta: "Hel", partial: text },
      { type: "error", reason: "error", error: { ...text, stopReason: "error", errorMessage: "dropped" } },
    ].flatMap((event) => cut.push(event as AssistantMessageEvent));
    assert.deepEqual(
      cutEvents.slice(-4).map((event) => [event.type, (event.item as any)?.status]),
      [
        ["response.output_text.done", undefined],
        ["response.content_part.done", undefined],
        ["response.output_item.done", "incomplete"],
        ["response.failed", undefined],
      ],
    );
    assert.equal((cutEvents.at(-1)!.response as any).output[0].status, "incomplete");
    assert.equal((cutEvents.at(-1)!.response as any).output[0].content[0].text, "Hel");
  });

  it("ends a reasoning item a failure cut as incomplete in its done event and the failed response; a whole one has no status", () => {
    const streamed = (summary: boolean, ended: boolean) => {
      const writer = new ResponsesStreamWriter({ ...meta, summary });
      const partial = message([{ type: "thinking", thinking: "Think" }]);
      const failed = { ...partial, stopReason: "error" as const, errorMessage: "upstream dropped" };
      return [
        { type: "thinking_start", contentIndex: 0, partial },
        { type: "thinking_delta", contentIndex: 0, delta: "Think", partial },
        ...(ended ? [{ type: "thinking_end", contentIndex: 0, content: "Think", partial }] : []),
        { type: "error", reason: "error", error: failed },
      ].flatMap((event) => writer.push(event as AssistantMessageEvent));
    };
    const statuses = (events: Record<string, unknown>[]) => {
      const done = events.find((event) => event.type === "response.output_item.done")?.item as Record<string, any>;
      const failed = events.at(-1)!;
      assert.equal(failed.type, "response.failed");
      const listed = (failed.response as Record<string, any>).output[0];
      assert.deepEqual(listed, done);
      return [done.status, listed.status, done.summary[0]?.text ?? done.content[0].text];
    };
    for (const summary of [false, true]) {
      assert.deepEqual(statuses(streamed(summary, false)), ["incomplete", "incomplete", "Think"]);
      // Reasoning that ended before the failure is whole: no status, as api.openai.com's reasoning items.
      assert.deepEqual(statuses(streamed(summary, true)), [undefined, undefined, "Think"]);
    }
  });

  it("does a Responses target's held reasoning the answer ended in before the terminal event that lists it", () => {
    const ended = (end: "error" | "length" | "refusal") => {
      const writer = new ResponsesStreamWriter(meta);
      const partial = { ...message([{ type: "thinking", thinking: "Think" }]), api: "openai-responses" as const };
      const last =
        end === "error"
          ? { type: "error", reason: "error", error: { ...partial, stopReason: "error", errorMessage: "dropped" } }
          : end === "length"
            ? { type: "done", reason: "length", message: { ...partial, stopReason: "length" } }
            : { type: "refusal", message: partial };
      const events = [
        { type: "thinking_start", contentIndex: 0, partial },
        { type: "thinking_delta", contentIndex: 0, delta: "Think", partial },
        last,
      ].flatMap((event) => writer.push(event as AssistantMessageEvent));
      const done = events.find((event) => event.type === "response.output_item.done")?.item as Record<string, any>;
      const listed = (events.at(-1)!.response as Record<string, any>).output;
      assert.deepEqual(listed, [done]);
      return [events.at(-1)!.type, done.status, done.content[0].text];
    };
    assert.deepEqual(ended("error"), ["response.failed", "incomplete", "Think"]);
    assert.deepEqual(ended("length"), ["response.incomplete", undefined, "Think"]);
    assert.deepEqual(ended("refusal"), ["response.incomplete", undefined, "Think"]);
  });

  it("ends the last message a length stop cut as incomplete in its done event, as the terminal response lists it", () => {
    const streamed = (stop: "length" | "stop" | "error") => {
      const writer = new ResponsesStreamWriter(meta);
      const text = message([{ type: "text", text: "cut here" }], stop === "error" ? "stop" : stop);
      const end =
        stop === "error"
          ? { type: "error", reason: "error", error: { ...text, stopReason: "error", errorMessage: "dropped" } }
          : { type: "done", reason: stop, message: text };
      return [
        ...writer.open(),
        ...[
          { type: "text_start", contentIndex: 0, partial: text },
          { type: "text_delta", contentIndex: 0, delta: "cut here", partial: text },
          { type: "text_end", contentIndex: 0, content: "cut here", partial: text },
          end,
        ].flatMap((event) => writer.push(event as AssistantMessageEvent)),
      ];
    };
    const statuses = (events: Record<string, unknown>[]) =>
      [
        events.find((event) => event.type === "response.output_item.done")?.item as Record<string, unknown>,
        (events.at(-1)!.response as Record<string, any>).output[0],
      ].map((item) => item.status);
    const cut = streamed("length");
    assert.equal(cut.at(-1)!.type, "response.incomplete");
    assert.deepEqual(statuses(cut), ["incomplete", "incomplete"]);
    // The text done events still come in order, before the item's and the response's.
    assert.deepEqual(
      cut.slice(-4).map((event) => event.type),
      ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.incomplete"],
    );
    assert.deepEqual(statuses(streamed("stop")), ["completed", "completed"]);
    // A message whose text ended before the answer broke off is whole.
    assert.deepEqual(statuses(streamed("error")), ["completed", "completed"]);
  });

  it("builds a non-streaming response from the final message, marking a length stop incomplete", () => {
    const writer = new ResponsesStreamWriter(meta);
    const response = writer.final(
      message(
        [
          { type: "thinking", thinking: "hmm" },
          { type: "text", text: "cut" },
        ],
        "length",
      ),
    );
    assert.equal(response.status, "incomplete");
    assert.deepEqual(response.incomplete_details, { reason: "max_output_tokens" });
    assert.deepEqual(
      (response.output as Record<string, unknown>[]).map((item) => item.type),
      ["reasoning", "message"],
    );
    assert.equal(response.output_text, "cut");
  });
});

describe("Responses item end events", () => {
  it("ends a message with its text and part, a call with its name and arguments, a custom call with its input", () => {
    const part = { type: "output_text", text: "Hi", annotations: [] };
    const msg = { id: "msg_1", type: "message", status: "incomplete", role: "assistant", content: [part] };
    const where = { item_id: "msg_1", output_index: 2, content_index: 0 };
    assert.deepEqual(itemEndEvents(msg, 2), [
      { type: "response.output_text.done", ...where, text: "Hi", logprobs: [] },
      { type: "response.content_part.done", ...where, part },
      { type: "response.output_item.done", output_index: 2, item: msg },
    ]);
    const refused = { ...msg, content: [{ type: "refusal", refusal: "No." }] };
    assert.deepEqual(itemEndEvents(refused, 2).slice(0, 2), [
      { type: "response.refusal.done", ...where, refusal: "No." },
      { type: "response.content_part.done", ...where, part: { type: "refusal", refusal: "No." } },
    ]);
    const call = { id: "fc_1", type: "function_call", call_id: "c1", name: "get_weather", arguments: '{"ci' };
    assert.deepEqual(itemEndEvents(call, 0), [
      {
        type: "response.function_call_arguments.done",
        item_id: "fc_1",
        output_index: 0,
        name: "get_weather",
        arguments: '{"ci',
      },
      { type: "response.output_item.done", output_index: 0, item: call },
    ]);
    const custom = { id: "ct_1", type: "custom_tool_call", call_id: "c2", name: "apply_patch", input: "" };
    assert.deepEqual(itemEndEvents(custom, 1), [
      { type: "response.custom_tool_call_input.done", item_id: "ct_1", output_index: 1, input: "" },
      { type: "response.output_item.done", output_index: 1, item: custom },
    ]);
    const search = { id: "ws_1", type: "web_search_call", status: "incomplete" };
    assert.deepEqual(itemEndEvents(search, 2), [{ type: "response.output_item.done", output_index: 2, item: search }]);
  });

  it("ends each reasoning part its events had not done, summary parts before reasoning text, by index", () => {
    const item = { id: "rs_1", type: "reasoning", summary: [], status: "incomplete" };
    const events = itemEndEvents(item, 0, {
      summary: [{ text: "a", textDone: true, partDone: true }, { text: "b", textDone: true }, { text: "c" }],
      content: [{ text: "d" }],
    });
    const summary = (index: number) => ({ item_id: "rs_1", output_index: 0, summary_index: index });
    const content = { item_id: "rs_1", output_index: 0, content_index: 0 };
    assert.deepEqual(events, [
      { type: "response.reasoning_summary_part.done", ...summary(1), part: { type: "summary_text", text: "b" } },
      { type: "response.reasoning_summary_text.done", ...summary(2), text: "c" },
      { type: "response.reasoning_summary_part.done", ...summary(2), part: { type: "summary_text", text: "c" } },
      { type: "response.reasoning_text.done", ...content, text: "d" },
      { type: "response.content_part.done", ...content, part: { type: "reasoning_text", text: "d" } },
      { type: "response.output_item.done", output_index: 0, item },
    ]);
  });
});
