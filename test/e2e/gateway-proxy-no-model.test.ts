// A wildcard-proxy request without a model (no body `model`, no X-Model) shares the target's rests with the routed
// requests: it skips a target a routed request found rate-limited, and a rate limit it meets is known to the routed
// requests after it. Through the real gateway process with the official OpenAI client, against local upstreams.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { startUpstream, type Upstream } from "../helpers/endpoint-upstream.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";

describe("gateway wildcard proxy: a request without a model shares the targets' rests with routed requests", () => {
  let pa: Upstream;
  let pb: Upstream;
  let pc: Upstream;
  let pd: Upstream;
  let fx: GatewayFixture<never>;

  before(async () => {
    [pa, pb, pc, pd] = await Promise.all(["A", "B", "C", "D"].map((name) => startUpstream(name)));
    const provider = (upstream: Upstream, id: string, key: string) => ({
      baseUrl: upstream.url,
      api: "openai-completions" as const,
      apiKey: key,
      models: [{ id }],
    });
    fx = await startGatewayFixture({
      emulators: {},
      providers: {
        pa: provider(pa, "emb-a", "sk-pa-key-0000000001"),
        pb: provider(pb, "emb-b", "sk-pb-key-0000000002"),
        pc: provider(pc, "rr-c", "sk-pc-key-0000000003"),
        pd: provider(pd, "rr-d", "sk-pd-key-0000000004"),
      },
      routes: {
        routes: {
          embed: {
            sortBy: "config",
            targets: [
              { provider: "pa", modelId: "emb-a", probe: false },
              { provider: "pb", modelId: "emb-b", probe: false },
            ],
          },
          rerank: {
            sortBy: "config",
            targets: [
              { provider: "pc", modelId: "rr-c", probe: false },
              { provider: "pd", modelId: "rr-d", probe: false },
            ],
          },
        },
        // No request here waits for a resting target: one that did would be served by it, not by the idle one.
        failover: { cooldownWaitMs: 0 },
        providers: {
          pa: { endpointPrefixes: ["/v1/embeddings"] },
          pb: { endpointPrefixes: ["/v1/embeddings"] },
          pc: { endpointPrefixes: ["/v1/rerank"] },
          pd: { endpointPrefixes: ["/v1/rerank"] },
        },
      },
    });
  });
  after(async () => {
    await fx?.stop();
    await Promise.all([pa, pb, pc, pd].map((upstream) => upstream?.close()));
  });
  beforeEach(() => {
    for (const upstream of [pa, pb, pc, pd]) {
      upstream.calls.length = 0;
      upstream.replies.length = 0;
    }
  });

  it("sends a request without a model past a target a routed request found rate-limited, to the idle one", async () => {
    // The routed request meets pa's 429 (Retry-After 30) and fails over to pb.
    pa.replies.push({ status: 429, body: { error: { message: "Rate limit reached", type: "rate_limit" } } });
    const routed = await fx.openai.embeddings.create({ model: "embed", input: "x" }).withResponse();
    assert.equal(routed.response.headers.get("x-auto-router-served-by"), "pb/emb-b");
    // pa is the first provider advertising the path, but it rests: the request without a model goes to pb at once.
    const modelless = await fx.openai.embeddings.create({ input: "y" } as never).withResponse();
    assert.equal(modelless.response.headers.get("x-auto-router-served-by"), "pb/emb-b");
    assert.equal(modelless.response.headers.get("x-auto-router-route"), "(no-model)");
    assert.equal(pa.calls.length, 1, "pa, resting, got no second call");
    assert.equal(pb.calls.length, 2);
    assert.equal(JSON.parse(pb.calls[1]!.body).model, undefined, "no model added to a body that named none");
  });

  it("lets a routed request know of a rate limit a request without a model met, and fails the latter over", async () => {
    pc.replies.push({ status: 429, body: { error: { message: "Rate limit reached", type: "rate_limit" } } });
    const modelless = await fx.openai.post("/rerank", { body: { query: "q", documents: ["a"] } }).withResponse();
    assert.equal(modelless.response.headers.get("x-auto-router-served-by"), "pd/rr-d", "failed over to pd");
    const routed = await fx.openai.post("/rerank", { body: { model: "rerank", query: "q" } }).withResponse();
    assert.equal(routed.response.headers.get("x-auto-router-served-by"), "pd/rr-d");
    assert.equal(pc.calls.length, 1, "pc, resting, got no second call");
    assert.equal(pd.calls.length, 2);
  });

  it("still answers a 404 naming the path when no provider advertises it", async () => {
    await assert.rejects(fx.openai.post("/audio/speech", { body: { input: "x" } }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError, String(error));
      assert.match(error.message, /no endpoint POST \/v1\/audio\/speech: no provider advertises it/);
      return true;
    });
  });
});
