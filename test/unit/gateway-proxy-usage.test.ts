// Which usage records of proxied answers the wildcard proxy reads (embeddings, rerank, whole chat answers of several
// APIs, Ollama's counts, units that are no tokens, a long document's record wherever it sits, SSE and NDJSON streams),
// and what it leaves alone: invalid counts, records below the top, non-JSON, other types.
import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { BoundedText, mayHoldUsage, usageReader } from "../../src/gateway/proxy-usage-stream.ts";

/** A whole JSON answer's usage, read as the proxy reads them (its reader for application/json), in the given chunks. */
const readChunks = (chunks: readonly (string | Buffer)[]) => {
  const reader = usageReader("POST", 200, new Headers({ "content-type": "application/json" }))!;
  for (const chunk of chunks) reader.add(Buffer.from(chunk));
  return reader.usage();
};
const read = (body: unknown) => readChunks([typeof body === "string" ? body : JSON.stringify(body)]);
/** The usage of an answer that reports these tokens and no units. */
const tokens = (input: number, output = 0, cacheRead = 0, cacheWrite = 0) => ({
  tokens: { input, output, cacheRead, cacheWrite },
});

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

  it("reads Ollama's prompt_eval_count and eval_count (native /api/chat, /api/generate, /api/embed)", () => {
    assert.deepEqual(read({ model: "m", done: true, prompt_eval_count: 26, eval_count: 298 }), tokens(26, 298));
    assert.deepEqual(read({ embeddings: [[0.1]], prompt_eval_count: 8 }), tokens(8));
  });

  it("reads units that are no tokens: Cohere rerank's search units, an audio answer's seconds, beside tokens too", () => {
    assert.deepEqual(read({ results: [], meta: { api_version: {}, billed_units: { search_units: 1 } } }), {
      units: { search_units: 1 },
    });
    assert.deepEqual(read({ text: "hi", usage: { type: "duration", seconds: 3.5 } }), { units: { seconds: 3.5 } });
    assert.deepEqual(read({ meta: { billed_units: { input_tokens: 8, images: 2, classifications: -1 } } }), {
      ...tokens(8),
      units: { images: 2 },
    });
  });

  it("reads nothing from a record with neither tokens nor units, invalid counts, no record, non-JSON or a JSON array", () => {
    for (const body of [
      { results: [], meta: { billed_units: { search_units: "one" } } },
      { text: "hi", usage: { type: "duration", seconds: -3 } },
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

describe("a JSON document's usage record, scanned as it passes", () => {
  const usage = { prompt_tokens: 5000, total_tokens: 5000 };
  /** Each split of the text in two, and in three around its middle: every chunk boundary the scan must carry. */
  function* splits(text: string): Generator<string[]> {
    for (let at = 0; at <= text.length; at++) yield [text.slice(0, at), text.slice(at)];
    const middle = text.length >> 1;
    for (let at = 0; at < middle; at++) yield [text.slice(0, at), text.slice(at, middle), text.slice(middle)];
  }
  const readEverySplit = (text: string, expected: unknown) => {
    for (const chunks of splits(text))
      assert.deepEqual(readChunks(chunks), expected, `split at ${chunks.map((chunk) => chunk.length).join("+")}`);
  };

  it("finds the record first, in the middle or last, split across chunks at every position", () => {
    const data = [{ object: "embedding", index: 0, embedding: [0.5, -1e-3] }];
    for (const body of [
      { usage, object: "list", data },
      { object: "list", usage, data, model: "m" },
      { object: "list", data, model: "m {x}", usage },
    ])
      readEverySplit(JSON.stringify(body, null, body.usage === usage ? 1 : 0), tokens(5000));
  });

  it("reads across strings with escaped quotes and backslashes, braces and usage-like text in them", () => {
    const text = String.raw`{"a":"\"usage\":{\"prompt_tokens\":1}}","b\\":"\\","c":"x\\\"}]{[","d":["\\\\",{"e":"\u0022"}],"usage":{"prompt_tokens":7,"note":"}\"{"},"f":"\\"}`;
    assert.deepEqual(JSON.parse(text).usage.prompt_tokens, 7, "the text is one JSON document");
    readEverySplit(text, tokens(7));
  });

  it("finds Gemini's usageMetadata, Cohere's meta.billed_units and Ollama's counts at any place", () => {
    readEverySplit('{"usageMetadata":{"promptTokenCount":7},"candidates":[{"content":{}}]}', tokens(7));
    readEverySplit(
      '{"id":"x","meta":{"api_version":{"version":"2"},"billed_units":{"input_tokens":8}},"embeddings":[[1]]}',
      tokens(8),
    );
    readEverySplit('{"prompt_eval_count":26,"context":[1,2,3],"eval_count":298,"done":true}', tokens(26, 298));
  });

  it("does not count a member of a usage record's name below the top level", () => {
    for (const body of [
      { data: [{ usage: { prompt_tokens: 9 } }] },
      { choices: [{ message: { usage: { prompt_tokens: 9 } } }] },
      { result: { usage: { prompt_tokens: 9 }, usageMetadata: { promptTokenCount: 9 } } },
      { other: { billed_units: { input_tokens: 9 } } },
      { meta: { inner: { billed_units: { input_tokens: 9 } } } },
      { meta: [{ billed_units: { input_tokens: 9 } }] },
      { stats: { prompt_eval_count: 9, eval_count: 9 } },
    ])
      readEverySplit(JSON.stringify(body), undefined);
    readEverySplit(JSON.stringify({ data: [{ usage: { prompt_tokens: 9 } }], usage: { prompt_tokens: 4 } }), tokens(4));
  });

  it("takes the last of a repeated member, as JSON.parse does", () => {
    readEverySplit('{"usage":{"prompt_tokens":1},"data":[],"usage":{"prompt_tokens":2}}', tokens(2));
  });

  it("reads nothing from a document that is no object, is cut off, has text after it, or a value over the bound", () => {
    for (const text of [
      '[{"usage":{"prompt_tokens":1}}]',
      '"usage"',
      '{"usage":{"prompt_tokens":1}',
      '{"usage":{"prompt_tokens":1}} {}',
      '{"usage":{"prompt_tokens":1},"data":"unterminated}',
      '{"usage":{"prompt_tokens" 1}}',
      `{"usage":{"prompt_tokens":1,"pad":"${"x".repeat(64 * 1024)}"}}`,
    ])
      assert.equal(read(text), undefined, text.slice(0, 60));
  });

  it("finds the record of a document of several MiB fed in 64 KiB chunks, at its start or end", () => {
    const vector = Array.from({ length: 1536 }, (_, index) => 0.123456789 + index / 1e9);
    const data = Array.from({ length: 250 }, (_, index) => ({ object: "embedding", index, embedding: vector }));
    for (const body of [
      { usage, object: "list", data },
      { object: "list", data, usage },
    ]) {
      const bytes = Buffer.from(JSON.stringify(body));
      assert.ok(bytes.length > 4 * 1024 * 1024);
      const chunks = [];
      for (let at = 0; at < bytes.length; at += 65536) chunks.push(bytes.subarray(at, at + 65536));
      assert.deepEqual(readChunks(chunks), tokens(5000));
    }
  });
});

describe("proxied streams' usage", () => {
  const readStream = (type: string, chunks: string[]) => {
    const reader = usageReader("POST", 200, new Headers({ "content-type": type }))!;
    for (const chunk of chunks) reader.add(Buffer.from(chunk));
    return reader.usage();
  };

  it("reads the last usage of an SSE stream, lines split across chunks anywhere", () => {
    const text = [
      'data: {"choices":[{"text":"a"}],"usage":null}\n\n',
      ": comment\n\nevent: x\r\n",
      'data: {"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":4}}\r\n\r\n',
      "data: [DONE]\n\n",
    ].join("");
    for (const at of [0, 3, 20, 60, text.length - 5])
      assert.deepEqual(readStream("text/event-stream", [text.slice(0, at), text.slice(at)]), tokens(11, 4), `${at}`);
  });

  it("merges Anthropic's message_start input with its message_delta output", () => {
    const start = { type: "message_start", message: { usage: { input_tokens: 25, output_tokens: 1 } } };
    const delta = { type: "message_delta", usage: { output_tokens: 15, input_tokens: null } };
    const sse = [start, delta].map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    assert.deepEqual(readStream("text/event-stream; charset=utf-8", sse), tokens(25, 15));
  });

  it("reads an event whose JSON spans several data lines, its lines ended by LF, CRLF or CR, split anywhere", () => {
    const usage = { prompt_tokens: 11, completion_tokens: 4 };
    const pretty = JSON.stringify({ choices: [], usage }, null, 2).split("\n");
    for (const eol of ["\n", "\r\n", "\r"]) {
      const text = [
        'data: {"choices":[{"delta":{"content":"a"}}],"usage":null}',
        "",
        ": a comment",
        "event: chunk",
        ...pretty.map((line, index) => (index % 2 ? `data: ${line}` : `data:${line}`)),
        "id: 7",
        "",
        "data: [DONE]",
        "",
        "",
      ].join(eol);
      for (let at = 0; at <= text.length; at++)
        assert.deepEqual(
          readStream("text/event-stream", [text.slice(0, at), text.slice(at)]),
          tokens(11, 4),
          `${JSON.stringify(eol)} split at ${at}`,
        );
    }
  });

  it("reads a several-line event the stream ends without a blank line after, and empty data lines in one", () => {
    const lines = ['data: {"usage":', "data", "data:", 'data: {"prompt_tokens":3,"completion_tokens":2}}'];
    assert.deepEqual(readStream("text/event-stream", [lines.join("\n")]), tokens(3, 2));
    assert.deepEqual(readStream("text/event-stream", [`${lines.join("\n")}\n`]), tokens(3, 2));
  });

  it("merges Anthropic's message_start and message_delta usage, each spread over several data lines", () => {
    const start = { type: "message_start", message: { usage: { input_tokens: 25, output_tokens: 1 } } };
    const delta = { type: "message_delta", usage: { output_tokens: 15, input_tokens: null } };
    const sse = [start, delta].map((event) => {
      const data = JSON.stringify(event, null, 1).split("\n");
      return `event: ${event.type}\r\n${data.map((line) => `data: ${line}\r\n`).join("")}\r\n`;
    });
    assert.deepEqual(readStream("text/event-stream", sse), tokens(25, 15));
  });

  it("reads a several-line event longer than the whole-read bound by scanning it", () => {
    const context = Array.from({ length: 60_000 }, (_, index) => index).join(",");
    const data = [
      '{"object":"chunk",',
      ...Array.from({ length: 14 }, (_, index) => `"field${index}":[${context}],`),
      '"usage":{"prompt_tokens":5,"completion_tokens":6}}',
    ];
    const event = `${data.map((line) => `data: ${line}\n`).join("")}\n`;
    assert.ok(event.length > 4 * 1024 * 1024);
    assert.deepEqual(readStream("text/event-stream", [event.slice(0, 1000), event.slice(1000)]), tokens(5, 6));
  });

  it("parses only the usage-bearing event of a 1,000-chunk Chat Completions stream with include_usage", () => {
    const chunk = (fields: object) =>
      `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", model: "m", ...fields })}\n\n`;
    const chunks = Array.from({ length: 1000 }, (_, index) =>
      chunk({ choices: [{ index: 0, delta: { content: index % 2 ? "the usage: " : `${index}` } }], usage: null }),
    );
    chunks.push(chunk({ choices: [], usage: { prompt_tokens: 900, completion_tokens: 1000 } }), "data: [DONE]\n\n");
    const parse = mock.method(JSON, "parse");
    try {
      assert.deepEqual(readStream("text/event-stream", chunks), tokens(900, 1000));
      assert.equal(parse.mock.callCount(), 1);
      assert.match(String(parse.mock.calls[0]!.arguments[0]), /"prompt_tokens":900/);
    } finally {
      parse.mock.restore();
    }
  });

  it("parses a text only when it names a usage field as a key with a value other than null", () => {
    const cases: Array<[string, boolean]> = [
      ['{"usage":null}', false],
      ['{"usage" :\n  null, "choices":[]}', false],
      ['{"content":"usage: high"}', false],
      ['{"content":"usage"}', false],
      ['{"usage":{"prompt_tokens":1}}', true],
      ['{"usage": {}}', true],
      ['{"content":"usage","usage":{"total_tokens":1}}', true],
      ['{"usageMetadata":{"promptTokenCount":7}}', true],
      ['{"meta":{"billed_units":{"input_tokens":8}}}', true],
      ['{"done":true,"prompt_eval_count":26}', true],
      ['{"choices":[]}', false],
    ];
    for (const [text, expected] of cases) assert.equal(mayHoldUsage(Buffer.from(text)), expected, text);
  });

  it("reads an Ollama NDJSON stream's done line, its last line without a newline too", () => {
    const lines = [
      '{"message":{"content":"hi"},"done":false}\n',
      '{"done":true,"prompt_eval_count":26,"eval_count":298}',
    ];
    assert.deepEqual(readStream("application/x-ndjson", lines), tokens(26, 298));
  });

  it("reads a line longer than the whole-read bound by scanning it, its record first or last", () => {
    const context = Array.from({ length: 800_000 }, (_, index) => index).join(",");
    for (const line of [
      `{"done":true,"context":[${context}],"prompt_eval_count":3,"eval_count":4}\n`,
      `{"prompt_eval_count":3,"eval_count":4,"done":true,"context":[${context}]}\n`,
    ]) {
      assert.ok(line.length > 4 * 1024 * 1024);
      assert.deepEqual(readStream("application/x-ndjson", [line.slice(0, 1000), line.slice(1000)]), tokens(3, 4));
    }
  });

  it("reads nothing from a stream without a usage record or with a broken one", () => {
    assert.equal(readStream("text/event-stream", ['data: {"choices":[]}\n\n']), undefined);
    assert.equal(readStream("text/event-stream", ['data: {"usage":{"prompt_tokens":1\n\n']), undefined);
    assert.equal(readStream("text/event-stream", ['{"usage":{"prompt_tokens":1}}\n\n']), undefined, "not a data line");
  });
});

describe("which proxied answers are read", () => {
  const reads = (method: string, status: number, fields: Record<string, string>) =>
    usageReader(method, status, new Headers(fields)) !== undefined;

  it("reads a 2xx JSON document, event stream or NDJSON, whatever its declared length", () => {
    for (const type of [
      "application/json; charset=utf-8",
      "application/vnd.api+json",
      "text/event-stream",
      "application/x-ndjson",
    ])
      assert.equal(reads("POST", 200, { "content-type": type }), true, type);
    assert.equal(reads("POST", 201, { "content-type": "application/json", "content-length": "50000000" }), true);
  });

  it("leaves other types, errors, redirects and bodyless answers alone", () => {
    for (const type of ["application/octet-stream", "text/plain"])
      assert.equal(reads("POST", 200, { "content-type": type }), false, type);
    const json = { "content-type": "application/json" };
    assert.equal(reads("POST", 400, json), false);
    assert.equal(reads("GET", 302, json), false);
    assert.equal(reads("DELETE", 204, json), false);
    assert.equal(reads("HEAD", 200, json), false);
  });

  it("keeps the text whole up to the bound, then scans it, the bytes held first included", () => {
    const text = new BoundedText(10);
    text.add(Buffer.from("12345"));
    text.add(Buffer.from("67890"));
    assert.deepEqual(text.take(), { text: Buffer.from("1234567890") });
    for (const chunk of ['{"usage":', '{"total_', 'tokens":3}', ',"x":1}']) text.add(Buffer.from(chunk));
    const taken = text.take();
    assert.ok("scan" in taken);
    assert.deepEqual(taken.scan.record(), { shape: "usage", fields: { total_tokens: 3 } });
    text.add(Buffer.from("{}"));
    assert.deepEqual(text.take(), { text: Buffer.from("{}") }, "each take starts over");
  });
});
