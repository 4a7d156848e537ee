// What an Anthropic client gets from the gateway in Anthropic's own terms: a body Anthropic's API would refuse is a 400
// naming the field before any target is asked (and what it takes is still answered); a wrong base URL or token gets
// Anthropic's error shape; tool call ids of other APIs reach it valid and distinct. Through the real
// `pi-auto-router serve` and the official @anthropic-ai/sdk client.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { type GatewayFixture, READ_TOOL, threeApiGatewayPerSuite } from "../helpers/gateway-fixture.ts";

const hi = [{ role: "user" as const, content: "hi" }];
/** The content block types Anthropic's API takes in a message, as a refusal lists them. */
const BLOCK_TYPES =
  '"text", "image", "document", "search_result", "thinking", "redacted_thinking", "tool_use", "tool_result", ' +
  '"server_tool_use", "web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result", ' +
  '"bash_code_execution_tool_result", "text_editor_code_execution_tool_result", "tool_search_tool_result", ' +
  '"advisor_tool_result", "mcp_tool_use", "mcp_tool_result", "mcp_tool_listing", "container_upload", "compaction", ' +
  '"fallback", "tool_addition", "tool_removal"';
const PNG = "iVBORw0KGgo=";

/** The error a request gets, as the SDK reports it: its class, status and body. */
async function failed(request: Promise<unknown>): Promise<{ status: number; body: any }> {
  try {
    await request;
  } catch (error) {
    assert.ok(error instanceof Anthropic.APIError, String(error));
    return { status: error.status!, body: error.error };
  }
  assert.fail("the request was answered");
}

describe("gateway: Anthropic requests its API would refuse, wrong URLs, and tool ids", () => {
  const { fx: started, targetCalls } = threeApiGatewayPerSuite();
  let fx: GatewayFixture<"C" | "A" | "R">;
  before(() => {
    fx = started();
  });

  it("refuses what Anthropic's API refuses with a 400 in its shape naming the field, asking no target, and takes the rest", async () => {
    const base = { max_tokens: 2048, messages: hi };
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { tools: [{ name: "read" }] },
        'body.tools[0].input_schema: required for a tool without a server tool\'s type: a JSON Schema object ({"type": "object", ...})',
      ],
      [
        // The index is the client's own, server tools counted.
        {
          tools: [
            { type: "web_search_20250305", name: "web_search" },
            { type: "custom", name: "grep" },
          ],
        },
        'body.tools[1].input_schema: required for a tool without a server tool\'s type: a JSON Schema object ({"type": "object", ...})',
      ],
      [
        { tools: [READ_TOOL, { ...READ_TOOL, description: "again" }] },
        'body.tools[1].name: "read" is also the name of body.tools[0]: tool names must be unique',
      ],
      [
        { system: [{ type: "image", source: { type: "base64", media_type: "image/png", data: PNG } }] },
        'body.system[0].type: expected "text" (got "image"): the system prompt takes text blocks only',
      ],
      [
        { tools: [READ_TOOL], tool_choice: { type: "tool", name: "nosuch" } },
        'body.tool_choice.name: names the tool "nosuch", which body.tools does not hold (read)',
      ],
      [
        { max_tokens: 2048, thinking: { type: "enabled", budget_tokens: 2048 } },
        "body.thinking.budget_tokens: expected less than max_tokens (2048), got 2048: the budget is part of the output cap (with the interleaved-thinking beta it may pass it)",
      ],
      [
        { thinking: { type: "enabled", budget_tokens: 500 } },
        "body.thinking.budget_tokens: expected an integer of 1024 or more, below max_tokens",
      ],
      [
        {
          messages: [
            {
              role: "user",
              content: [{ type: "image", source: { type: "base64", media_type: "image/jpg", data: PNG } }],
            },
          ],
        },
        'body.messages[0].content[0].source.media_type: expected one of "image/jpeg", "image/png", "image/gif", "image/webp", got "image/jpg"; did you mean "image/jpeg"?',
      ],
      [
        {
          messages: [
            { role: "user", content: "read it" },
            { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "read", input: {} }] },
            {
              role: "user",
              content: [
                {
                  type: "tool_result",
                  tool_use_id: "t1",
                  content: [{ type: "image", source: { type: "base64", media_type: "text/plain", data: PNG } }],
                },
              ],
            },
          ],
          tools: [READ_TOOL],
        },
        'body.messages[2].content[0].content[0].source.media_type: expected one of "image/jpeg", "image/png", "image/gif", "image/webp", got "text/plain"',
      ],
      // A tool result's content is checked as a message's is (a null block in it was a 500 from the translation).
      [
        {
          messages: [
            { role: "user", content: "read it" },
            { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "read", input: {} }] },
            { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: [null] }] },
          ],
          tools: [READ_TOOL],
        },
        'body.messages[2].content[0].content: expected a string or an array of content blocks (objects with a string "type"): item 0 is null',
      ],
      // A message without its content is a key left out, as any other (it said "got a undefined").
      [
        { messages: [{ role: "user", content: "hi" }, { role: "assistant" }] },
        "body.messages[1].content: missing: this key is required (a string or an array of content blocks)",
      ],
      [{ top_k: -1 }, "body.top_k: expected an integer of 0 or more"],
      [
        { messages: [{ role: "user", content: [] }] },
        "body.messages[0].content: expected at least one content block (only the final assistant turn may be empty)",
      ],
      // A translation took these (as empty text, or named as not carried); Anthropic's API refuses them.
      [
        { messages: [{ role: "user", content: [{ type: "text" }] }] },
        "body.messages[0].content[0].text: expected a string (a text block needs its text)",
      ],
      [
        { tool_choice: { type: "bogus" } },
        'body.tool_choice.type: expected one of "auto", "any", "tool", "none", got "bogus"',
      ],
      [
        { tool_choice: { type: "tools" } },
        'body.tool_choice.type: expected one of "auto", "any", "tool", "none", got "tools"; did you mean "tool"?',
      ],
      [{ stop_sequences: "END" }, "body.stop_sequences: expected a list of strings"],
      // A null for an optional field, as a client writes an absent value: Anthropic's API takes no null for one.
      ...(
        [
          ["system", "a string or an array of text blocks"],
          ["tools", "an array"],
          ["thinking", "an object"],
          ["stream", "true or false"],
          ["temperature", "a number from 0 to 1"],
        ] as const
      ).map(([field, expected]): [Record<string, unknown>, string] => [
        { [field]: null },
        `body.${field}: expected ${expected}, or the field left out: null is not accepted (Anthropic's API takes none either)`,
      ]),
      [{ max_tokens: null }, "body.max_tokens: expected a number, got null"],
      // A field of the wrong shape: what it takes and what was sent, a mistyped role with the one meant.
      [{ messages: "hi" }, "body.messages: expected an array, got a string"],
      [
        { messages: [...hi, { role: "assistant", content: "yes" }, { role: "assitant", content: "no" }] },
        'body.messages[2].role: expected one of "user", "assistant", "system", got "assitant"; did you mean "assistant"?',
      ],
      // A block of a type Anthropic's API does not have: refused here, not sent on for the target to refuse.
      [
        {
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "look" },
                { type: "imgae", source: { type: "base64", media_type: "image/png", data: PNG } },
              ],
            },
          ],
        },
        `body.messages[0].content[1].type: expected one of ${BLOCK_TYPES}, got "imgae"; did you mean "image"?`,
      ],
      [
        { messages: [{ role: "user", content: [{ type: "bogus", text: "x" }] }] },
        `body.messages[0].content[0].type: expected one of ${BLOCK_TYPES}, got "bogus"`,
      ],
      // A tool result answers a tool_use of an earlier turn (a Chat target was sent an orphan tool message).
      [
        {
          messages: [
            { role: "user", content: "read it" },
            { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "read", input: {} }] },
            {
              role: "user",
              content: [
                { type: "tool_result", tool_use_id: "t1", content: "a" },
                { type: "tool_result", tool_use_id: "t2", content: "b" },
              ],
            },
          ],
          tools: [READ_TOOL],
        },
        'body.messages[2].content[1].tool_use_id: "t2" answers no tool call made earlier in the conversation',
      ],
      [
        { messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "", content: "a" }] }] },
        "body.messages[0].content[0].tool_use_id: a tool_result block needs the id of the call it answers",
      ],
    ];
    for (const model of ["claude", "chat"])
      for (const [extra, message] of cases) {
        const body = { model, ...base, ...extra } as Anthropic.MessageCreateParamsNonStreaming;
        const { status, body: error } = await failed(fx.anthropic.messages.create(body));
        assert.equal(status, 400, message);
        assert.deepEqual(error, { type: "error", error: { type: "invalid_request_error", message } });
      }
    // An image whose source a translation cannot read names the field at fault (it said "got type undefined").
    const badImage = await failed(
      fx.anthropic.messages.create({
        model: "chat",
        ...base,
        messages: [
          { role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: 5 } }] },
        ],
      } as never),
    );
    assert.equal(badImage.status, 400);
    assert.equal(
      badImage.body.error.message,
      "body.messages[0].content[0].source.data: expected a string (the image's bytes in base64), got 5",
    );
    // count_tokens takes the same bodies.
    const counted = await failed(
      fx.anthropic.messages.countTokens({ model: "claude", messages: hi, top_k: -1 } as never),
    );
    assert.equal(counted.body.error.message, "body.top_k: expected an integer of 0 or more");
    assert.equal(targetCalls(), 0);

    // What Anthropic's API takes is answered: server tools, cached system text, thinking off, system turns, a prefill.
    const bodies: Record<string, unknown>[] = [
      {
        tools: [{ type: "web_search_20250305", name: "web_search" }, READ_TOOL],
        tool_choice: { type: "tool", name: "web_search" },
      },
      { system: [{ type: "text", text: "Be terse.", cache_control: { type: "ephemeral" } }] },
      { thinking: { type: "disabled" }, top_k: 0 },
      { thinking: { type: "adaptive" } },
      {
        messages: [
          {
            role: "user",
            content: [{ type: "image", source: { type: "base64", media_type: "image/webp", data: PNG } }],
          },
          { role: "system", content: [] },
          { role: "assistant", content: [] },
        ],
      },
      // Blocks of Anthropic's other types: a document, a search result, a container upload, a server tool's call and
      // result, an MCP tool's, and a tool reference in a tool result.
      {
        tools: [READ_TOOL],
        messages: [
          {
            role: "user",
            content: [
              { type: "document", source: { type: "text", media_type: "text/plain", data: "notes" } },
              {
                type: "search_result",
                source: "https://docs.x/a",
                title: "Doc A",
                content: [{ type: "text", text: "a" }],
              },
              { type: "container_upload", file_id: "file_1" },
              { type: "text", text: "look it up" },
            ],
          },
          {
            role: "assistant",
            content: [
              { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "x" } },
              { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [] },
              { type: "mcp_tool_use", id: "mcptoolu_1", name: "fetch", server_name: "docs", input: {} },
              { type: "mcp_tool_result", tool_use_id: "mcptoolu_1", content: "fetched" },
              { type: "tool_use", id: "toolu_1", name: "read", input: { path: "a" } },
            ],
          },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "tool_reference", tool_name: "read" }] },
            ],
          },
        ],
      },
    ];
    for (const extra of bodies) {
      fx.emulators.C.enqueue({ text: "ok" });
      const answer = await fx.anthropic.messages.create({
        model: "claude",
        max_tokens: 2048,
        messages: hi,
        ...extra,
      } as never);
      assert.deepEqual(answer.content, [{ type: "text", text: "ok" }], JSON.stringify(extra));
    }
    // A whole turn's thinking budget above max_tokens, with the interleaved-thinking beta.
    fx.emulators.C.enqueue({ text: "ok" });
    const interleaved = await fx.anthropic.messages.create(
      { model: "claude", max_tokens: 2048, messages: hi, thinking: { type: "enabled", budget_tokens: 8000 } },
      { headers: { "anthropic-beta": "interleaved-thinking-2025-05-14" } },
    );
    assert.deepEqual(interleaved.content, [{ type: "text", text: "ok" }]);
    assert.equal(fx.emulators.C.calls.length, bodies.length + 1);
  });

  it("answers a wrong base URL and a wrong token in Anthropic's shape when the client sends anthropic-version", async () => {
    const { url, token } = fx.gateway;
    const doubled = new Anthropic({ baseURL: `${url}/v1`, apiKey: token, maxRetries: 0 });
    const notFound = await failed(doubled.messages.create({ model: "claude", max_tokens: 10, messages: hi }));
    assert.equal(notFound.status, 404);
    assert.equal(notFound.body.type, "error");
    assert.equal(notFound.body.error.type, "not_found_error");
    assert.match(notFound.body.error.message, /^no endpoint POST \/v1\/v1\/messages/);

    const wrongToken = new Anthropic({ baseURL: `${url}/v1`, apiKey: "not-the-token", maxRetries: 0 });
    const refused = await failed(wrongToken.messages.create({ model: "claude", max_tokens: 10, messages: hi }));
    assert.equal(refused.status, 401);
    assert.equal(refused.body.type, "error");
    assert.equal(refused.body.error.type, "authentication_error");

    const typo = await fetch(`${url}/v1/message`, {
      method: "POST",
      headers: { "x-api-key": token, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude", max_tokens: 10, messages: hi }),
    });
    assert.equal(typo.status, 404);
    assert.equal(((await typo.json()) as any).error.type, "not_found_error");

    // An OpenAI client's wrong URL stays in OpenAI's shape.
    const openai = await fetch(`${url}/v1/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "chat", messages: hi }),
    });
    assert.equal(openai.status, 404);
    assert.equal(((await openai.json()) as any).error.code, "unknown_url");
    assert.equal(targetCalls(), 0);
  });

  it("reads a gzip-compressed body, sending its target the decoded bytes, and names an encoding it cannot decode (415)", async () => {
    const { url, token } = fx.gateway;
    const body = JSON.stringify({ model: "claude", max_tokens: 10, messages: hi });
    const post = (encoding: string) =>
      fetch(`${url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": token, "content-type": "application/json", "content-encoding": encoding },
        body: gzipSync(body),
      });
    const answered = await post("gzip");
    assert.equal(answered.status, 200, await answered.clone().text());
    assert.match(((await answered.json()) as any).content[0].text, /Hello from C/);
    // The passthrough sends the client's bytes on: decoded, and without the header that said they were not.
    const [call] = fx.emulators.C.calls;
    assert.deepEqual(JSON.parse(call!.rawBody).messages, hi);
    assert.equal(call!.headers["content-encoding"], undefined);

    const refused = await post("compress");
    assert.equal(refused.status, 415);
    const error = ((await refused.json()) as any).error;
    assert.equal(error.type, "invalid_request_error");
    // zstd where this Node's zlib has it (22.15 on)
    assert.match(
      error.message,
      /^Content-Encoding: compress: the gateway decodes gzip, x-gzip, deflate, br(, zstd)? \(or no encoding\); send the body in one of them or uncompressed$/,
    );
    // A coding named like a member of every object is one the gateway does not decode (it was called as a decoder).
    const odd = await post("constructor");
    assert.equal(odd.status, 415);
    assert.match(
      ((await odd.json()) as any).error.message,
      /^Content-Encoding: constructor: the gateway decodes gzip,/,
    );
    assert.equal(targetCalls(), 1);
  });

  it("gives an Anthropic client distinct valid tool_use ids for distinct long or odd ids, the same for the same id", async () => {
    const long = `call_${"x".repeat(70)}`;
    const upstream = [`${long}1`, `${long}2`, "a.b", "a:b", `${long}1`];
    const ids: string[] = [];
    for (const id of upstream) {
      fx.emulators.A.enqueue({ toolCall: { id, name: "read", arguments: { path: "a" } } });
      const answer = await fx.anthropic.messages.create({
        model: "chat",
        max_tokens: 100,
        tools: [READ_TOOL],
        messages: [{ role: "user", content: "read a" }],
      });
      const use = answer.content.find((block) => block.type === "tool_use");
      assert.ok(use?.type === "tool_use");
      assert.match(use.id, /^[a-zA-Z0-9_-]{1,64}$/);
      ids.push(use.id);
    }
    assert.equal(new Set(ids.slice(0, 4)).size, 4, JSON.stringify(ids));
    assert.equal(ids[4], ids[0], "the same upstream id, the same id in a later request");

    // Sent back, each id pairs its result with its call at the target.
    fx.emulators.A.enqueue({ text: "done" });
    const answer = await fx.anthropic.messages.create({
      model: "chat",
      max_tokens: 100,
      tools: [READ_TOOL],
      messages: [
        { role: "user", content: "read a twice" },
        {
          role: "assistant",
          content: ids.slice(0, 2).map((id) => ({ type: "tool_use" as const, id, name: "read", input: { path: "a" } })),
        },
        {
          role: "user",
          content: ids
            .slice(0, 2)
            .map((id, n) => ({ type: "tool_result" as const, tool_use_id: id, content: `r${n}` })),
        },
      ],
    });
    assert.deepEqual(answer.content, [{ type: "text", text: "done" }]);
    const sent = fx.emulators.A.calls.at(-1)!.body.messages;
    const calls = sent.find((message: any) => message.role === "assistant").tool_calls.map((call: any) => call.id);
    const results = sent.filter((message: any) => message.role === "tool").map((message: any) => message.tool_call_id);
    assert.deepEqual(calls, ids.slice(0, 2));
    assert.deepEqual(results, ids.slice(0, 2));
  });
  it("sends a Chat target an empty tool result as having no output and a search result's text, not an attached image", async () => {
    const turns = (content: unknown) => [
      { role: "user" as const, content: "find it" },
      { role: "assistant" as const, content: [{ type: "tool_use" as const, id: "toolu_1", name: "read", input: {} }] },
      { role: "user" as const, content: [{ type: "tool_result" as const, tool_use_id: "toolu_1", content }] },
    ];
    const searched = [
      {
        type: "search_result",
        source: "https://docs.x/a",
        title: "Doc A",
        content: [{ type: "text", text: "THE IMPORTANT FACT" }],
      },
    ];
    for (const content of ["", [], searched]) {
      fx.emulators.A.enqueue({ text: "Done." });
      await fx.anthropic.messages.create({
        model: "chat",
        max_tokens: 50,
        tools: [READ_TOOL],
        messages: turns(content) as never,
      });
    }
    const results = fx.emulators.A.calls.map(
      (call) => call.body.messages.find((message: any) => message.role === "tool").content,
    );
    assert.deepEqual(results, ["(no output)", "(no output)", "Doc A (https://docs.x/a)\nTHE IMPORTANT FACT"]);
  });
});
