// The wildcard proxy's upstream URL (one join rule for every base URL) and the paths it refuses to forward.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { upstreamUrl } from "../../src/gateway/proxy-forward.ts";
import { pathProblem, splitUrl } from "../../src/gateway/proxy-path.ts";

describe("the wildcard proxy's upstream URL", () => {
  it("replaces the base URL's trailing API-version segment by the client's path", () => {
    // Ollama: pi's models.json entry names its OpenAI-compatible /v1; its own API lives beside it.
    assert.equal(upstreamUrl("http://h:11434/v1", "/api/chat", ""), "http://h:11434/api/chat");
    assert.equal(
      upstreamUrl("https://api.groq.com/openai/v1", "/v1/embeddings", ""),
      "https://api.groq.com/openai/v1/embeddings",
    );
    assert.equal(
      upstreamUrl("https://api.anthropic.com", "/v1/messages/batches", ""),
      "https://api.anthropic.com/v1/messages/batches",
    );
    assert.equal(
      upstreamUrl("https://generativelanguage.googleapis.com/v1beta", "/v1beta/models/x", ""),
      "https://generativelanguage.googleapis.com/v1beta/models/x",
    );
    assert.equal(upstreamUrl("http://h:1/v1/", "/v1/embeddings", "?a=1"), "http://h:1/v1/embeddings?a=1");
  });

  it("drops the client's leading version segment when the base URL has a version segment before its end", () => {
    // Gemini's OpenAI-compatible base URL: its version is not the last segment.
    assert.equal(
      upstreamUrl("https://generativelanguage.googleapis.com/v1beta/openai", "/v1/embeddings", "?a=1"),
      "https://generativelanguage.googleapis.com/v1beta/openai/embeddings?a=1",
    );
    assert.equal(upstreamUrl("http://h:1/v1beta/openai/", "/v1", ""), "http://h:1/v1beta/openai");
    assert.equal(upstreamUrl("http://h:1/api/v2/proxy", "/v1/files/f", ""), "http://h:1/api/v2/proxy/files/f");
    // A client path without a version, or a segment that only starts like one, is kept whole.
    assert.equal(upstreamUrl("http://h:1/v1beta/openai", "/api/chat", ""), "http://h:1/v1beta/openai/api/chat");
    assert.equal(upstreamUrl("http://h:1/v1beta/openai", "/v1-files/x", ""), "http://h:1/v1beta/openai/v1-files/x");
    // A segment that only starts like a version in the base URL is none.
    assert.equal(upstreamUrl("http://h:1/v1x-/openai", "/v1/embeddings", ""), "http://h:1/v1x-/openai/v1/embeddings");
  });

  it("never takes a host that looks like a version for one", () => {
    assert.equal(upstreamUrl("http://v1", "/v1/files", ""), "http://v1/v1/files");
  });
});

describe("a proxied request's path and query string", () => {
  it("splits at the first `?` and keeps the whole query string, its own `?`s included", () => {
    assert.deepEqual(splitUrl("/v1/embeddings?next=https://x.example/cb?a=1&keep=yes"), {
      path: "/v1/embeddings",
      query: "?next=https://x.example/cb?a=1&keep=yes",
    });
    assert.deepEqual(splitUrl("/v1/files/abc"), { path: "/v1/files/abc", query: "" });
    assert.deepEqual(splitUrl("/v1/files?"), { path: "/v1/files", query: "?" });
  });
});

describe("the paths the wildcard proxy refuses", () => {
  it("refuses dot segments, literal or percent-encoded in any case", () => {
    for (const path of [
      "/v1/embeddings/../models",
      "/v1/embeddings/./x",
      "/v1/embeddings/%2e%2e/organization/api_keys",
      "/v1/embeddings/%2E%2e/x",
      "/v1/embeddings/.%2E",
      "/v1/embeddings/%2e",
    ])
      assert.match(pathProblem(path) ?? "", /dot segment/, path);
  });

  it("refuses encoded slashes and backslashes, which could move segment boundaries", () => {
    for (const path of ["/v1/embeddings%2f..%2fmodels", "/v1/embeddings/..%5Cmodels", "/v1/embeddings\\..\\models"])
      assert.match(pathProblem(path) ?? "", /encoded slash or a backslash/, path);
  });

  it("lets ordinary paths through, dots inside a name included", () => {
    for (const path of ["/v1/embeddings", "/v1/files/file-abc/content", "/v1/files/a.jsonl", "/api/chat", "/v1/x..y"])
      assert.equal(pathProblem(path), undefined, path);
  });
});
