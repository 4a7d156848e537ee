// Which paths the wildcard proxy serves, where a request without a model goes, and the upstream URL it is sent to.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouterConfig } from "../../src/config/schema.ts";
import { advertisedPrefixes, advertises } from "../../src/gateway/endpoint-prefixes.ts";
import { noModelTargets } from "../../src/gateway/proxy-target.ts";
import { upstreamUrl } from "../../src/gateway/proxy-forward.ts";
import { ownEndpointMeant } from "../../src/gateway/proxy.ts";

const config = {
  providers: {
    chat: {},
    "embed-a": { endpointPrefixes: ["/v1/embeddings"] },
    anything: { endpointPrefixes: [] },
  },
  routes: {
    swe: {
      targets: [
        { provider: "chat", modelId: "c1" },
        { provider: "embed-a", modelId: "e-small" },
      ],
    },
    other: { targets: [{ provider: "anything", modelId: "any-1" }] },
  },
} as unknown as RouterConfig;

describe("proxied paths", () => {
  it("lists only the providers that advertise prefixes, an empty list meaning every path", () => {
    assert.deepEqual(
      [...advertisedPrefixes(config)],
      [
        ["embed-a", ["/v1/embeddings"]],
        ["anything", []],
      ],
    );
    assert.equal(advertises([], "/api/chat"), true);
    assert.equal(advertises(undefined, "/v1/embeddings"), false);
  });

  it("matches a prefix as a whole path segment, never as the start of a longer name", () => {
    assert.equal(advertises(["/v1/embeddings"], "/v1/embeddings"), true);
    assert.equal(advertises(["/v1/embeddings"], "/v1/embeddings/batch"), true);
    assert.equal(advertises(["/v1/embeddings"], "/v1/embeddings?x=1"), true);
    assert.equal(advertises(["/v1/embeddings"], "/v1/embeddingsfoo"), false);
    assert.equal(advertises(["/v1/files/"], "/v1/files/abc"), true);
  });

  it("reads a prefix with a trailing slash as the same prefix without it", () => {
    assert.equal(advertises(["/v1/files/"], "/v1/files"), true);
    assert.equal(advertises(["/v1/files//"], "/v1/files?limit=2"), true);
    assert.equal(advertises(["/v1/files/"], "/v1/filesystem"), false);
    assert.equal(advertises(["/"], "/anything/at/all"), true);
  });

  it("sends a request without a model to the route targets of the providers advertising the path, in their order", () => {
    const target = (cfg: RouterConfig, path: string) => noModelTargets(cfg, "POST", path, {});
    assert.deepEqual(target(config, "/v1/embeddings"), [
      { provider: "embed-a", modelId: "e-small" },
      { provider: "anything", modelId: "any-1" },
    ]);
    assert.deepEqual(target(config, "/v1/rerank"), [{ provider: "anything", modelId: "any-1" }]);
    const noCatchAll = {
      ...config,
      providers: { "embed-a": { endpointPrefixes: ["/v1/embeddings"] } },
    } as unknown as RouterConfig;
    assert.equal(target(noCatchAll, "/v1/rerank"), undefined);
  });

  it("joins the target's base URL and the client's path without a doubled /v1, keeping the query", () => {
    assert.equal(upstreamUrl("http://h:1/v1/", "/v1/embeddings", "?a=1"), "http://h:1/v1/embeddings?a=1");
    assert.equal(upstreamUrl("http://h:1", "/v1/embeddings", ""), "http://h:1/v1/embeddings");
    assert.equal(upstreamUrl("http://h:1/v1", "/api/chat", ""), "http://h:1/api/chat");
  });
});

describe("the hint after a 404 for one of the gateway's own endpoints with a /v1 too few", () => {
  it("names the OpenAI clients for a Chat path and a client appending /messages for a Messages path", () => {
    assert.match(
      ownEndpointMeant("POST", "/chat/completions"),
      /lacks \/v1 \(http:\/\/<host>:<port>\/v1 for the OpenAI clients\)$/,
    );
    const messages = ownEndpointMeant("POST", "/messages");
    assert.match(messages, /serves POST \/v1\/messages itself: the client's base URL probably lacks \/v1/);
    assert.match(
      messages,
      /for a client that appends \/messages to it; the Anthropic SDKs and ANTHROPIC_BASE_URL take/,
    );
    assert.doesNotMatch(messages, /OpenAI/);
  });

  it("names the two health endpoints for GET /health, and the liveness probe for a letter off it", () => {
    assert.equal(
      ownEndpointMeant("GET", "/health"),
      ". The gateway's health endpoints are GET /healthz (liveness, no token) and GET /health/providers (whether the providers can serve)",
    );
    assert.equal(ownEndpointMeant("GET", "/healtz"), ". Did you mean GET /healthz, the gateway's own endpoint?");
    assert.equal(
      ownEndpointMeant("POST", "/responses/input_tokens"),
      ". The gateway serves POST /v1/responses/input_tokens itself: the client's base URL probably lacks /v1 (http://<host>:<port>/v1 for the OpenAI clients)",
    );
  });
});
