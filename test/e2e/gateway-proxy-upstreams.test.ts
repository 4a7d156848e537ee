// The wildcard proxy's fidelity to what the client sent and what the upstream answered, through the real gateway
// process and the official OpenAI client against local upstream servers: the query string kept whole.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { startUpstream, type Upstream } from "../helpers/endpoint-upstream.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";

describe("gateway wildcard proxy: requests and answers passed on intact", () => {
  let plain: Upstream;
  let fx: GatewayFixture<never>;

  before(async () => {
    plain = await startUpstream("P");
    fx = await startGatewayFixture({
      emulators: {},
      providers: {
        plain: {
          baseUrl: plain.url,
          api: "openai-completions",
          apiKey: "sk-plain-key-0000000001",
          models: [{ id: "embed-plain" }],
        },
      },
      routes: {
        routes: { plain: routeInOrder("plain/embed-plain") },
        providers: { plain: { endpointPrefixes: ["/v1/embeddings"] } },
      },
    });
  });
  after(async () => {
    await fx?.stop();
    await plain?.close();
  });
  beforeEach(() => {
    for (const upstream of [plain]) {
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
});
