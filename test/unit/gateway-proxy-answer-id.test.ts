// The id of a proxied answer, read beside its usage record (an OpenRouter target's answer is looked up by it to pin
// its upstream): a JSON document's top-level `id` wherever it sits (also in a document scanned as it passes), the first
// id an event stream's or NDJSON stream's usage-bearing values carry; and the pin's provider block for a body sent as
// the client's own.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { proxiedAnswerMessage } from "../../src/gateway/proxy-usage.ts";
import { usageReader } from "../../src/gateway/proxy-usage-stream.ts";
import { patchPin, pinnedPatch, pinnedProvider } from "../../src/runtime/upstream-pin.ts";

/** An answer read as the proxy reads it: its usage, then the id read beside it. */
const read = (type: string, chunks: readonly string[]) => {
  const reader = usageReader("POST", 200, new Headers({ "content-type": type }))!;
  for (const chunk of chunks) reader.add(Buffer.from(chunk));
  return { usage: reader.usage(), responseId: reader.responseId() };
};
const usage = { prompt_tokens: 3, total_tokens: 3 };

describe("a proxied answer's id", () => {
  it("reads a JSON document's top-level id, before or after its usage, split anywhere", () => {
    const vectors = Array.from({ length: 50 }, (_, index) => ({ object: "embedding", index, embedding: [0.25, 0.5] }));
    for (const document of [
      { id: "gen-emb-1", object: "list", data: vectors, usage },
      { object: "list", data: vectors, usage, id: "gen-emb-1" },
    ]) {
      const text = JSON.stringify(document);
      for (const at of [1, 10, text.length - 5])
        assert.equal(read("application/json", [text.slice(0, at), text.slice(at)]).responseId, "gen-emb-1");
    }
  });

  it("does not take an id below the top level, one that is no string, or one without a usage record", () => {
    assert.equal(read("application/json", [JSON.stringify({ data: [{ id: "inner" }], usage })]).responseId, undefined);
    assert.equal(read("application/json", [JSON.stringify({ id: 7, usage })]).responseId, undefined);
    assert.deepEqual(read("application/json", [JSON.stringify({ id: "gen-1" })]), {
      usage: undefined,
      responseId: undefined,
    });
  });

  it("reads the first id an event stream's usage-bearing events carry", () => {
    const chunk = (id: string, fields: object) =>
      `data: ${JSON.stringify({ id, object: "text_completion", ...fields })}\n\n`;
    const events = [
      chunk("gen-c-1", { choices: [{ text: "a" }], usage: null }),
      chunk("gen-c-1", { choices: [], usage: { prompt_tokens: 4, completion_tokens: 1 } }),
      chunk("gen-c-2", { choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } }),
      "data: [DONE]\n\n",
    ];
    const stream = read("text/event-stream", events);
    assert.equal(stream.responseId, "gen-c-1");
    assert.deepEqual(stream.usage?.tokens, { input: 5, output: 2, cacheRead: 0, cacheWrite: 0 });
  });

  it("reads an NDJSON stream's id, and none from a stream whose records have none", () => {
    const lines = [
      { id: "gen-n-1", done: false },
      { id: "gen-n-1", done: true, prompt_eval_count: 3, eval_count: 2 },
    ];
    assert.equal(
      read(
        "application/x-ndjson",
        lines.map((line) => `${JSON.stringify(line)}\n`),
      ).responseId,
      "gen-n-1",
    );
    assert.equal(read("text/event-stream", [`data: ${JSON.stringify({ usage })}\n\n`]).responseId, undefined);
  });

  it("gives the id to the message the runtime books (and pins by)", () => {
    const reader = usageReader("POST", 200, new Headers({ "content-type": "application/json" }))!;
    reader.add(Buffer.from(JSON.stringify({ id: "gen-emb-9", data: [], usage })));
    const target = { api: "openai-completions", provider: "openrouter", id: "m", cost: {} } as never;
    assert.equal(proxiedAnswerMessage(target, reader, 0)?.responseId, "gen-emb-9");
  });
});

describe("the pin of a body sent as the client's own", () => {
  it("is known from the patch pinnedPatch made, and from no other", () => {
    assert.equal(patchPin(pinnedPatch({ body: { transforms: [] } }, "Anthropic")), "Anthropic");
    assert.equal(patchPin({ body: { provider: { order: ["Anthropic"], allow_fallbacks: false } } }), undefined);
    assert.equal(patchPin(undefined), undefined);
  });

  it("merges into the client's own provider preferences, over its order and fallbacks", () => {
    assert.deepEqual(pinnedProvider({ data_collection: "deny", order: ["OpenAI"], allow_fallbacks: true }, "Groq"), {
      data_collection: "deny",
      order: ["Groq"],
      allow_fallbacks: false,
    });
    assert.deepEqual(pinnedProvider(undefined, "Groq"), { order: ["Groq"], allow_fallbacks: false });
  });
});
