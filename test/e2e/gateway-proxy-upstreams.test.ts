// The wildcard proxy's fidelity to what the client sent and what the upstream answered, through the real gateway
// process and the official OpenAI client against local upstream servers: the query string kept whole, each API's
// key in the header its own clients send it in, the upstream's headers passed back as it sent them (each Set-Cookie,
// the Content-Length wherever the body the client gets has that length), one API version between base URL and path, a prefix's trailing slash of no
// matter.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { startUpstream, type Upstream } from "../helpers/endpoint-upstream.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";

describe("gateway wildcard proxy: requests and answers passed on intact", () => {
  let plain: Upstream;
  let google: Upstream;
  let azure: Upstream;
  let fx: GatewayFixture<never>;
  /** For paths outside /v1 (Google's /v1beta). */
  let root: OpenAI;
  const upstreams = () => [plain, google, azure];

  before(async () => {
    [plain, google, azure] = await Promise.all(["P", "G", "Z"].map((name) => startUpstream(name)));
    const host = (upstream: Upstream) => upstream.url.replace(/\/v1$/, "");
    fx = await startGatewayFixture({
      emulators: {},
      providers: {
        plain: {
          baseUrl: plain.url,
          api: "openai-completions",
          apiKey: "sk-plain-key-0000000001",
          models: [{ id: "embed-plain" }],
        },
        // The plain upstream again, for a route with a short stall timeout (a target of its own, its own breaker).
        slow: {
          baseUrl: plain.url,
          api: "openai-completions",
          apiKey: "sk-slow-key-0000000005",
          models: [{ id: "embed-slow" }],
        },
        // Gemini's own API: the model in the path, the key in x-goog-api-key.
        gem: {
          baseUrl: `${host(google)}/v1beta`,
          api: "google-generative-ai",
          apiKey: "AIza-gem-key-0000000002",
          models: [{ id: "text-embedding-004" }],
        },
        // Gemini's OpenAI-compatible API: its version segment is not the last of its base URL.
        "gem-openai": {
          baseUrl: `${host(google)}/v1beta/openai`,
          api: "openai-completions",
          apiKey: "AIza-gem-openai-key-0000000004",
          models: [{ id: "gemini-embedding-001" }],
        },
        // Azure OpenAI's v1 API, as pi's azure-openai-responses entries name it: the key in api-key.
        azure: {
          baseUrl: `${host(azure)}/openai/v1`,
          api: "azure-openai-responses",
          apiKey: "azure-key-00000000000000000003",
          models: [{ id: "text-embedding-3-large" }],
        },
      },
      routes: {
        routes: {
          plain: routeInOrder("plain/embed-plain"),
          gem: routeInOrder("gem/text-embedding-004"),
          azure: routeInOrder("azure/text-embedding-3-large"),
          "gem-openai": routeInOrder("gem-openai/gemini-embedding-001"),
          // A 503 rests nothing here: the next request asks the target again.
          slow: {
            ...routeInOrder("slow/embed-slow"),
            timeouts: { stallMs: 1_000 },
            failover: { kinds: { server: { cooldownMs: 0 } } },
          },
        },
        providers: {
          plain: { endpointPrefixes: ["/v1/embeddings", "/v1/files"] },
          slow: { endpointPrefixes: ["/v1/embeddings"] },
          gem: { endpointPrefixes: ["/v1beta/models"] },
          "gem-openai": { endpointPrefixes: ["/v1/embeddings"] },
          // Written with a trailing slash: the same prefix as /v1/files.
          azure: { endpointPrefixes: ["/v1/embeddings", "/v1/files/"] },
        },
      },
    });
    root = new OpenAI({ baseURL: fx.gateway.url, apiKey: fx.gateway.token, maxRetries: 0 });
  });
  after(async () => {
    await fx?.stop();
    await Promise.all(upstreams().map((upstream) => upstream?.close()));
  });
  beforeEach(() => {
    for (const upstream of upstreams()) {
      upstream.calls.length = 0;
      upstream.replies.length = 0;
    }
  });

  it("keeps the whole query string, a `?` inside a parameter's value included", async () => {
    // The client's own URL (the openai client's `query` option would percent-encode the inner `?`).
    await fx.openai.post("/embeddings?next=https://x.example/cb?a=1&keep=yes", {
      body: { model: "plain", input: "hi" },
    });
    assert.equal(plain.calls[0]!.path, "/v1/embeddings?next=https://x.example/cb?a=1&keep=yes");
  });

  it("sends a Google target its key as x-goog-api-key, and adds no model to a body whose model is in the path", async () => {
    // Gemini's native embedContent: no openai client method for it, so its generic post.
    const path = "/v1beta/models/text-embedding-004:embedContent";
    await root.post(path, { body: { content: { parts: [{ text: "hi" }] } }, headers: { "X-Model": "gem" } });
    const call = google.calls[0]!;
    assert.equal(call.path, path);
    assert.equal(call.headers["x-goog-api-key"], "AIza-gem-key-0000000002");
    assert.equal(call.headers.authorization, undefined);
    assert.deepEqual(JSON.parse(call.body), { content: { parts: [{ text: "hi" }] } });
    // A model field the body has is still the target's model id.
    await root.post(path, { body: { model: "gem", content: { parts: [{ text: "x" }] } } });
    assert.equal(JSON.parse(google.calls[1]!.body).model, "text-embedding-004");
  });

  it("sends an Azure OpenAI target its key as api-key", async () => {
    const answer = await fx.openai.embeddings.create({ model: "azure", input: "hi" });
    assert.equal(answer.model, "text-embedding-3-large");
    const call = azure.calls[0]!;
    assert.equal(call.path, "/openai/v1/embeddings");
    assert.equal(call.headers["api-key"], "azure-key-00000000000000000003");
    assert.equal(call.headers.authorization, undefined);
  });

  it("sends /v1/embeddings to a base URL with its version before its end without a second version", async () => {
    const answer = await fx.openai.embeddings.create({ model: "gem-openai", input: "hi" });
    assert.equal(answer.model, "gemini-embedding-001");
    assert.equal(google.calls[0]!.path, "/v1beta/openai/embeddings");
    assert.equal(google.calls[0]!.headers.authorization, "Bearer AIza-gem-openai-key-0000000004");
  });

  it("sends an OpenAI-style target its key as Authorization: Bearer", async () => {
    await fx.openai.embeddings.create({ model: "plain", input: "hi" });
    assert.equal(plain.calls[0]!.headers.authorization, "Bearer sk-plain-key-0000000001");
    assert.equal(plain.calls[0]!.headers["x-goog-api-key"], undefined);
  });

  /** A file object as the upstream's /v1/files answers it, and the exact bytes it sends. */
  const fileObject = (extra: Record<string, unknown> = {}) => {
    const body = {
      id: "file-abc",
      object: "file",
      bytes: 3,
      created_at: 0,
      filename: "P.txt",
      purpose: "batch",
      ...extra,
    };
    return { body, length: Buffer.byteLength(JSON.stringify(body)) };
  };
  const asPlain = { headers: { "X-Model": "plain" } };

  it("passes back each Set-Cookie the upstream sent as a header of its own", async () => {
    plain.replies.push({
      status: 200,
      body: fileObject().body,
      headers: { "set-cookie": ["a=1; Path=/", "b=2; Path=/; HttpOnly"] },
    });
    const { response } = await fx.openai.files.retrieve("file-abc", asPlain).withResponse();
    assert.deepEqual(response.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
  });

  it("drops the upstream's hop-by-hop headers, those its Connection names included, and keeps the others", async () => {
    plain.replies.push({
      status: 200,
      body: fileObject().body,
      headers: {
        connection: "keep-alive, X-Upstream-Hop",
        "x-upstream-hop": "this connection only",
        "proxy-authenticate": 'Basic realm="upstream"',
        trailer: "x-checksum",
        "x-request-id": "req-1",
      },
    });
    const { response } = await fx.openai.files.retrieve("file-abc", asPlain).withResponse();
    for (const name of ["x-upstream-hop", "proxy-authenticate", "trailer"])
      assert.equal(response.headers.get(name), null, name);
    assert.equal(response.headers.get("x-request-id"), "req-1");
  });

  it("keeps the upstream's Content-Length for a body passed on as it came", async () => {
    const { body, length } = fileObject();
    plain.replies.push({ status: 200, body, headers: { "content-length": String(length) } });
    const { data, response } = await fx.openai.files.retrieve("file-abc", asPlain).withResponse();
    assert.equal(data.filename, "P.txt");
    assert.equal(response.headers.get("content-length"), String(length));
    assert.equal(response.headers.get("transfer-encoding"), null);
  });

  it("sends a scrubbed body with the length it has after the scrub, never the upstream's", async () => {
    // The upstream echoes the key it was sent: [REDACTED] is shorter than the key, so the declared length is wrong.
    const { body, length } = fileObject({ echoed: "Bearer sk-plain-key-0000000001" });
    plain.replies.push({ status: 200, body, headers: { "content-length": String(length) } });
    const { data, response } = await fx.openai.files.retrieve("file-abc", asPlain).withResponse();
    assert.equal((data as unknown as { echoed: string }).echoed, "Bearer [REDACTED]");
    assert.equal(response.headers.get("content-length"), String(Buffer.byteLength(JSON.stringify(data))));
  });

  it("streams a body longer than the gateway reads whole without a length, scrubbed as it comes", async () => {
    const { body, length } = fileObject({ pad: "x".repeat(1_100_000), echoed: "sk-plain-key-0000000001" });
    plain.replies.push({ status: 200, body, headers: { "content-length": String(length) } });
    const { data, response } = await fx.openai.files.retrieve("file-abc", asPlain).withResponse();
    assert.equal(response.headers.get("content-length"), null);
    assert.equal((data as unknown as { echoed: string }).echoed, "[REDACTED]");
    assert.equal((data as unknown as { pad: string }).pad.length, 1_100_000);
  });

  it("gives up on a 503 whose body stalls, or a short answer's, within the stall timeout instead of waiting on it", async () => {
    const post = () =>
      fetch(`${fx.gateway.url}/v1/embeddings`, {
        method: "POST",
        headers: { authorization: `Bearer ${fx.gateway.token}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "slow", input: "hi" }),
      });
    // The status came, then half the body and silence: read under the same deadline as the status, it is given up and
    // the 503 passed back with the words it had (the route's one target), not waited on.
    plain.replies.push({ status: 503, body: { error: { message: "overloaded, try later" } }, stallBody: true });
    let started = Date.now();
    const stalled = await post();
    assert.equal(stalled.status, 503);
    // The words it had sent before the stall reach the client: half the JSON error the emulator meant to send.
    const whole = JSON.stringify({ error: { message: "overloaded, try later" } });
    assert.equal(await stalled.text(), whole.slice(0, whole.length >> 1));
    assert.ok(Date.now() - started < 5_000, "the stalled 503 given up at the stall timeout, not held");
    // A 200 with a declared length is read whole before it is sent (to scrub it): its stall cuts the answer.
    plain.replies.push({ status: 200, body: { data: [] }, headers: { "content-length": "13" }, stallBody: true });
    started = Date.now();
    await assert.rejects(
      post().then((response) => response.text()),
      /terminated/,
    );
    assert.ok(Date.now() - started < 5_000, "cut at the stall timeout, not held");
  });

  it("passes back the Content-Length of an answer to HEAD", async () => {
    // No official client method sends a HEAD: plain fetch.
    plain.replies.push({ status: 200, body: {}, headers: { "content-length": "4242" } });
    const response = await fetch(`${fx.gateway.url}/v1/files/file-abc/meta`, {
      method: "HEAD",
      headers: { authorization: `Bearer ${fx.gateway.token}`, "x-model": "plain" },
    });
    assert.equal(response.status, 200);
    assert.equal(plain.calls[0]!.method, "HEAD");
    assert.equal(response.headers.get("content-length"), "4242");
  });

  it("serves GET /v1/files for a provider whose prefix is written /v1/files/", async () => {
    azure.replies.push({ status: 200, body: { object: "list", data: [], has_more: false } });
    const page = await fx.openai.files.list({}, { headers: { "X-Model": "azure" } });
    assert.deepEqual(page.data, []);
    assert.equal(azure.calls[0]!.method, "GET");
    assert.equal(azure.calls[0]!.path, "/openai/v1/files");
  });
});
