// Which usage records of proxied JSON answers the wildcard proxy reads (embeddings, rerank, whole chat answers of
// several APIs), and what it leaves alone: invalid counts, records without tokens, non-JSON, answers past the bound.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { proxiedTokens, UsageTap, usageReadable } from "../../src/gateway/proxy-usage.ts";

const read = (body: unknown) => proxiedTokens(Buffer.from(typeof body === "string" ? body : JSON.stringify(body)));
const tokens = (input: number, output = 0, cacheRead = 0, cacheWrite = 0) => ({ input, output, cacheRead, cacheWrite });

describe("proxied answers' usage", () => {
  it("reads OpenAI embeddings' prompt_tokens as input", () => {
    assert.deepEqual(read({ object: "list", data: [], usage: { prompt_tokens: 12, total_tokens: 12 } }), tokens(12));
  });

  it("reads a Chat Completions answer's prompt, completion and cached tokens", () => {
    const usage = { prompt_tokens: 100, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 40 } };
    assert.deepEqual(read({ choices: [], usage }), tokens(60, 7, 40));
  });

  it("reads a total_tokens-only record (Voyage embeddings and rerank) as input", () => {
    assert.deepEqual(read({ data: [], usage: { total_tokens: 321 } }), tokens(321));
  });

  it("reads Anthropic's cache fields and Responses' cached tokens, which its input_tokens include", () => {
    const anthropic = {
      input_tokens: 10,
      output_tokens: 5,
      cache_read_input_tokens: 30,
      cache_creation_input_tokens: 2,
    };
    assert.deepEqual(read({ type: "message", usage: anthropic }), tokens(10, 5, 30, 2));
    const responses = { input_tokens: 50, output_tokens: 9, input_tokens_details: { cached_tokens: 20 } };
    assert.deepEqual(read({ object: "response", usage: responses }), tokens(30, 9, 20));
  });

  it("reads Gemini's usageMetadata and Cohere's billed input and output tokens", () => {
    const metadata = {
      promptTokenCount: 40,
      candidatesTokenCount: 6,
      thoughtsTokenCount: 4,
      cachedContentTokenCount: 10,
    };
    assert.deepEqual(read({ usageMetadata: metadata }), tokens(30, 10, 10));
    assert.deepEqual(read({ meta: { billed_units: { input_tokens: 8 } } }), tokens(8));
  });

  it("reads nothing from a record without token counts, invalid counts, no record, non-JSON or a JSON array", () => {
    for (const body of [
      { results: [], meta: { billed_units: { search_units: 1 } } },
      { text: "hi", usage: { type: "duration", seconds: 3 } },
      { usage: { prompt_tokens: "lots", total_tokens: -3 } },
      { usage: null },
      { data: [] },
      [{ usage: { prompt_tokens: 1 } }],
      "not json {",
      "42",
    ])
      assert.equal(read(body), undefined, JSON.stringify(body));
  });
});

describe("which proxied answers are read", () => {
  const headers = (fields: Record<string, string>) => new Headers(fields);

  it("reads a 2xx JSON answer with a body, not declared longer than the bound", () => {
    assert.equal(usageReadable("POST", 200, headers({ "content-type": "application/json; charset=utf-8" })), true);
    assert.equal(usageReadable("POST", 201, headers({ "content-type": "application/vnd.api+json" })), true);
    assert.equal(
      usageReadable("POST", 200, headers({ "content-type": "application/json", "content-length": "5000000" })),
      false,
    );
  });

  it("leaves streams, NDJSON, other types, errors, redirects and bodyless answers alone", () => {
    for (const type of ["text/event-stream", "application/x-ndjson", "application/octet-stream", "text/plain"])
      assert.equal(usageReadable("POST", 200, headers({ "content-type": type })), false, type);
    const json = headers({ "content-type": "application/json" });
    assert.equal(usageReadable("POST", 400, json), false);
    assert.equal(usageReadable("GET", 302, json), false);
    assert.equal(usageReadable("DELETE", 204, json), false);
    assert.equal(usageReadable("HEAD", 200, json), false);
  });

  it("keeps the bytes up to the bound, and none of them past it", () => {
    const tap = new UsageTap(10);
    tap.add(Buffer.from("12345"));
    tap.add(Buffer.from("67890"));
    assert.equal(tap.bytes()?.toString(), "1234567890");
    tap.add(Buffer.from("!"));
    assert.equal(tap.bytes(), undefined);
    tap.add(Buffer.from("x"));
    assert.equal(tap.bytes(), undefined);
  });
});
