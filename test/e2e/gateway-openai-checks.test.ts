// What OpenAI's APIs refuse about tools and reasoning is a 400 naming the client's own field before any target is asked
// (a target of another API would refuse it in its own words, or answer without the forced tool), and an assistant
// turn's refusal in the SDK's own form (`refusal` beside `content: null`) stays in a translated conversation. Through
// the real `pi-auto-router serve` and the official openai client.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import OpenAI from "openai";
import { type GatewayFixture, READ_TOOL, threeApiGatewayPerSuite } from "../helpers/gateway-fixture.ts";

const CHAT_READ = {
  type: "function" as const,
  function: { name: READ_TOOL.name, parameters: READ_TOOL.input_schema },
};
const RESP_READ = {
  type: "function" as const,
  name: READ_TOOL.name,
  parameters: READ_TOOL.input_schema,
  strict: false,
};

/** The 400 a request gets, as the SDK reports it. */
async function refused(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (error) {
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    return (error.error as { message: string }).message;
  }
  assert.fail("the request was answered");
}

describe("gateway: OpenAI requests its API would refuse, and an assistant's refusal in history", () => {
  const { fx: started, targetCalls } = threeApiGatewayPerSuite();
  let fx: GatewayFixture<"C" | "A" | "R">;
  before(() => {
    fx = started();
  });

  it("refuses a forced tool choice without its tool, on Chat and Responses, naming tool_choice", async () => {
    const hi = [{ role: "user" as const, content: "hi" }];
    for (const model of ["chat", "claude"]) {
      assert.equal(
        await refused(fx.openai.chat.completions.create({ model, messages: hi, tool_choice: "required" })),
        'body.tool_choice: "required" needs tools, and the body has none',
      );
      assert.equal(
        await refused(
          fx.openai.chat.completions.create({
            model,
            messages: hi,
            tools: [CHAT_READ],
            tool_choice: { type: "function", function: { name: "write" } },
          }),
        ),
        'body.tool_choice: names the function "write", which body.tools does not hold (read)',
      );
    }
    assert.match(
      await refused(
        fx.openai.responses.create({
          model: "claude",
          input: "hi",
          tools: [RESP_READ],
          tool_choice: { type: "function", name: "write" },
        }),
      ),
      /^body\.tool_choice: names the function "write"/,
    );
    assert.equal(targetCalls(), 0);
  });

  it("refuses a tool result that answers no earlier call, and one without its call's id", async () => {
    const noId = await refused(
      fx.openai.chat.completions.create({
        model: "claude",
        messages: [{ role: "user", content: "x" }, { role: "tool", content: "r" } as never],
      }),
    );
    assert.equal(noId, "body.messages[1].tool_call_id: a tool message needs the id of the call it answers");
    const unmatched = await refused(
      fx.openai.chat.completions.create({
        model: "chat",
        messages: [
          { role: "user", content: "x" },
          { role: "tool", content: "r", tool_call_id: "nope" },
        ],
      }),
    );
    assert.equal(
      unmatched,
      'body.messages[1].tool_call_id: "nope" answers no tool call made earlier in the conversation',
    );
    const output = await refused(
      fx.openai.responses.create({
        model: "claude",
        input: [
          { role: "user", content: "x" },
          { type: "function_call_output", call_id: "zz", output: "r" },
        ],
      }),
    );
    assert.equal(output, 'body.input[1].call_id: "zz" answers no tool call made earlier in the conversation');
    // A result after its call is served.
    fx.emulators.C.enqueue({ text: "Read it." });
    const answered = await fx.openai.responses.create({
      model: "claude",
      max_output_tokens: 77,
      temperature: 0.3,
      input: [
        { role: "user", content: "x" },
        { type: "function_call", call_id: "c1", name: "read", arguments: '{"path":"a"}' },
        { type: "function_call_output", call_id: "c1", output: "r" },
      ],
    });
    assert.equal(answered.output_text, "Read it.");
    // A translated answer carries the settings api.openai.com's always does: those sent, else its defaults.
    assert.deepEqual(
      [answered.max_output_tokens, answered.temperature, answered.top_p, answered.text, answered.instructions],
      [77, 0.3, 1, { format: { type: "text" } }, null],
    );
    assert.equal(targetCalls(), 1);
  });

  it("refuses a function whose parameters are not an object schema, and an unknown reasoning effort", async () => {
    const stringTool = { type: "function" as const, function: { name: "a", parameters: { type: "string" } } };
    assert.match(
      await refused(
        fx.openai.chat.completions.create({
          model: "claude",
          messages: [{ role: "user", content: "x" }],
          tools: [stringTool],
        }),
      ),
      /^body\.tools\[0\]\.function\.parameters\.type: expected "object" \(got "string"\)/,
    );
    assert.match(
      await refused(
        fx.openai.responses.create({
          model: "claude",
          input: "x",
          tools: [{ type: "function", name: "a", parameters: { type: "string" }, strict: false }],
        }),
      ),
      /^body\.tools\[0\]\.parameters\.type: expected "object" \(got "string"\)/,
    );
    assert.match(
      await refused(
        fx.openai.chat.completions.create({
          model: "claude",
          messages: [{ role: "user", content: "x" }],
          reasoning_effort: "turbo" as never,
        }),
      ),
      /^body\.reasoning_effort: .*"low"/,
    );
    // A translation took these (a choice named as not carried, a number as no stop); OpenAI's API refuses them.
    const hi = { model: "claude", messages: [{ role: "user" as const, content: "x" }] };
    assert.equal(
      await refused(fx.openai.chat.completions.create({ ...hi, tool_choice: "bogus" as never })),
      'body.tool_choice: expected one of "none", "auto", "required" or an object such as {"type": "function", "function": {"name": ...}}, got "bogus"',
    );
    assert.equal(
      await refused(fx.openai.chat.completions.create({ ...hi, tool_choice: "requried" as never })),
      'body.tool_choice: expected one of "none", "auto", "required" or an object such as {"type": "function", "function": {"name": ...}}, got "requried"; did you mean "required"?',
    );
    assert.equal(
      await refused(fx.openai.chat.completions.create({ ...hi, stop: 5 as never })),
      "body.stop: expected a string or a list of strings",
    );
    assert.equal(targetCalls(), 0);
  });

  it("says which field has the wrong shape and what was sent, and the role or part type a mistyped one meant, on Chat and Responses", async () => {
    assert.equal(
      await refused(fx.openai.chat.completions.create({ model: "chat", messages: "hi" as never })),
      "body.messages: expected an array, got a string",
    );
    assert.equal(
      await refused(
        fx.openai.chat.completions.create({
          model: "chat",
          messages: [{ role: "user", content: "hi" }, { role: "assitant", content: "yes" } as never],
        }),
      ),
      'body.messages[1].role: expected one of "system", "developer", "user", "assistant", "tool", "function", got "assitant"; did you mean "assistant"?',
    );
    // A user, system or tool message without content, as OpenAI's API refuses it: a translation sent an empty turn.
    assert.equal(
      await refused(fx.openai.chat.completions.create({ model: "claude", messages: [{ role: "user" } as never] })),
      "body.messages[0].content: missing: this key is required (a string or an array of content parts)",
    );
    assert.equal(
      await refused(
        fx.openai.chat.completions.create({
          model: "claude",
          messages: [{ role: "system", content: null } as never, { role: "user", content: "hi" }],
        }),
      ),
      "body.messages[0].content: expected a string or an array of content parts, got null: only an assistant message may have none",
    );
    // A part of a type Chat's API does not have: refused here, not dropped by a translation (its text lost) nor sent
    // on for a Chat target to refuse.
    for (const model of ["chat", "claude"])
      assert.equal(
        await refused(
          fx.openai.chat.completions.create({
            model,
            messages: [{ role: "user", content: [{ type: "txt", text: "hi" } as never] }],
          }),
        ),
        'body.messages[0].content[0].type: expected one of "text", "image_url", "input_audio", "file", got "txt"; did you mean "text"?',
      );
    // A part without what it carries: a translation sent "[object Object]" as the text, or said the image's URL was
    // "[object Object]...".
    for (const [part, message] of [
      [{ type: "text", text: { value: "hi" } }, "body.messages[0].content[0].text: expected a string"],
      [{ type: "text" }, "body.messages[0].content[0].text: expected a string (a text part needs its text)"],
      [
        { type: "image_url", image_url: { detail: "low" } },
        "body.messages[0].content[0].image_url.url: expected a string: the image's URL (a data: URL with base64 data)",
      ],
      [
        { type: "image_url", image_url: 5 },
        'body.messages[0].content[0].image_url: expected an object: {"url": "data:image/png;base64,..."}',
      ],
    ] as const)
      for (const model of ["chat", "claude"])
        assert.equal(
          await refused(
            fx.openai.chat.completions.create({ model, messages: [{ role: "user", content: [part as never] }] }),
          ),
          message,
          `${model}: ${JSON.stringify(part)}`,
        );
    // A type named like a member of every object is a type the API does not have, not a 500 (a schema looked up by
    // it was Object's).
    for (const type of ["constructor", "__proto__"]) {
      assert.match(
        await refused(
          fx.openai.responses.create({ model: "resp", input: [{ type, role: "user", content: "hi" } as never] }),
        ),
        new RegExp(
          `^body\\.input\\[0\\]\\.type: expected a message \\(with a role\\) or one of "message", .*, got "${type}"$`,
        ),
      );
      assert.equal(
        await refused(
          fx.openai.responses.create({
            model: "resp",
            input: [{ role: "user", content: [{ type, text: "hi" }] } as never],
          }),
        ),
        `body.input[0].content[0].type: expected one of "input_text", "output_text", "text", "input_image", "refusal", "input_file", "input_audio", got "${type}"`,
      );
    }
    assert.equal(
      await refused(fx.openai.responses.create({ model: "resp", input: "hi", max_output_tokens: 1e300 })),
      "body.max_output_tokens: expected a whole number of at most 9007199254740991, got 1e+300",
    );
    // A message item's content missing or of another shape says so, as every other field does.
    assert.equal(
      await refused(fx.openai.responses.create({ model: "resp", input: [{ role: "user" } as never] })),
      "body.input[0].content: missing: this key is required (a string or an array of content parts)",
    );
    assert.equal(
      await refused(fx.openai.responses.create({ model: "resp", input: [{ role: "user", content: 5 } as never] })),
      "body.input[0].content: expected a string or an array of content parts, got a number",
    );
    assert.equal(
      await refused(fx.openai.responses.create({ model: "resp", input: [{ role: "usr", content: "hi" } as never] })),
      'body.input[0].role: expected one of "user", "assistant", "system", "developer", got "usr"; did you mean "user"?',
    );
    assert.equal(targetCalls(), 0);
  });

  it("keeps an assistant turn's refusal given beside content: null as its text in a translated conversation", async () => {
    fx.emulators.C.enqueue({ text: "Because." });
    const answer = await fx.openai.chat.completions.create({
      model: "claude",
      messages: [
        { role: "user", content: "x" },
        { role: "assistant", content: null, refusal: "I cannot help with that." },
        { role: "user", content: "why?" },
      ],
    });
    assert.equal(answer.choices[0]?.message.content, "Because.");
    const sent = fx.emulators.C.calls[0]!.body.messages;
    assert.deepEqual(
      sent.map((message: any) => message.role),
      ["user", "assistant", "user"],
    );
    assert.match(JSON.stringify(sent[1].content), /I cannot help with that\./);
  });

  it("takes null for tools, stream, a call's fields and other optional fields, as OpenAI does (Python's tools=None sends it)", async () => {
    const messages = [
      { role: "user", content: "x" },
      // An assistant message as a client that serialises every field sends it back.
      { role: "assistant", content: "a", tool_calls: null, function_call: null, refusal: null },
      { role: "user", content: "y", tool_call_id: null },
    ];
    // Translated for an Anthropic target, and passed through to a Chat one.
    for (const model of ["claude", "chat"]) {
      const answer = await fx.openai.chat.completions.create({
        model,
        messages,
        tools: null,
        stream: null,
      } as never as OpenAI.ChatCompletionCreateParamsNonStreaming);
      assert.match(answer.choices[0]!.message.content!, /^Hello from/, model);
      // A tool's description, a call's arguments and stream_options.include_usage as null too.
      const stream = await fx.openai.chat.completions.create({
        model,
        messages: [
          { role: "user", content: "x" },
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "call_1", type: "function", function: { name: "read", arguments: null } }],
          },
          { role: "tool", tool_call_id: "call_1", content: "r" },
        ],
        tools: [{ ...CHAT_READ, function: { ...CHAT_READ.function, description: null } }],
        stream: true,
        stream_options: { include_usage: null },
      } as never as OpenAI.ChatCompletionCreateParamsStreaming);
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      assert.match(text, /^Hello from/, model);
    }
    const response = await fx.openai.responses.create({ model: "claude", input: "x", tools: null } as never);
    assert.match((response as OpenAI.Responses.Response).output_text, /^Hello from/);
    assert.deepEqual((response as OpenAI.Responses.Response).tools, []);
    assert.equal(targetCalls(), 5);
  });
});
