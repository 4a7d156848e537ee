// Credentials of the router's own that an upstream sends back through the wildcard proxy, through the real gateway
// process: a models.json header whose NAME says nothing of a credential (`X-Custom-Bearer: Bearer ...`) echoed in a
// 200 body, and a redirect's Location that quotes the target's key (as it is, or percent-encoded in its query). A
// pre-signed URL's own signature is no credential of the router's and reaches the client as it was sent.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { startUpstream, type Upstream } from "../helpers/endpoint-upstream.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";

// Shapes no key pattern knows, built at run time: a self-hosted key with characters a URL query percent-encodes, and a
// token sent in a header whose name is no credential's.
const KEY = ["selfHosted", "Key+0123456789", "abcdefXYZ="].join("/");
const HEADER_TOKEN = ["hdrTESTSECRET", "0123456789", "abcdef"].join("");

describe("gateway wildcard proxy: the router's credentials never reach the client", () => {
  let upstream: Upstream;
  let fx: GatewayFixture<never>;

  before(async () => {
    upstream = await startUpstream("U");
    fx = await startGatewayFixture({
      emulators: {},
      providers: {
        custom: {
          baseUrl: upstream.url,
          api: "openai-completions",
          apiKey: KEY,
          models: [{ id: "files-model" }],
        },
      },
      routes: {
        // A files model: a chat probe of its could only fail, so health probes leave it out.
        routes: {
          files: { sortBy: "config", targets: [{ ...routeInOrder("custom/files-model").targets[0], probe: false }] },
        },
        providers: { custom: { endpointPrefixes: ["/v1/files"] } },
      },
    });
    // The provider's own header, as an operator writes it in models.json: pi sends it with every request.
    const modelsFile = join(fx.agentDir, "models.json");
    const models = JSON.parse(readFileSync(modelsFile, "utf8"));
    models.providers.custom.headers = { "X-Custom-Bearer": `Bearer ${HEADER_TOKEN}`, "X-Team": "platform" };
    writeFileSync(modelsFile, JSON.stringify(models, null, 2));
    await fx.restartGateway();
  });
  after(async () => {
    await fx?.stop();
    await upstream?.close();
  });
  beforeEach(() => {
    upstream.calls.length = 0;
    upstream.replies.length = 0;
  });

  const proxied = (path: string, init: RequestInit = {}) =>
    fetch(`${fx.gateway.url}${path}`, {
      ...init,
      redirect: "manual",
      headers: { authorization: `Bearer ${fx.gateway.token}`, "x-model": "custom/files-model", ...init.headers },
    });

  it("redacts a custom-named header's bearer token that an upstream echoes in a 200 answer", async () => {
    const response = await proxied("/v1/files/echo");
    assert.equal(response.status, 200);
    const text = await response.text();
    const echoed = JSON.parse(text) as { headers: Record<string, string> };
    assert.equal(echoed.headers["x-custom-bearer"], "[REDACTED]");
    assert.equal(echoed.headers["x-team"], "platform", "an ordinary header value stays");
    assert.ok(!text.includes(HEADER_TOKEN), text);
    assert.ok(!text.includes(KEY) && !text.includes(JSON.stringify(KEY).slice(1, -1)), text);
  });

  it("takes the router's credentials out of a redirect's Location, as they are or percent-encoded, and keeps its signature", async () => {
    const signed = "sig=presigned0123456789abcdefXYZ&se=2026-12-01&token=storageGrant0123456789abc";
    const locations = [
      `https://files.example/cb?token=${encodeURIComponent(KEY)}&${signed}`,
      `https://files.example/cb?key=${HEADER_TOKEN}&${signed}`,
      `https://files.example/cb?${signed}`,
    ];
    for (const location of locations) upstream.replies.push({ status: 302, body: {}, headers: { location } });
    const passed: string[] = [];
    for (const _ of locations) {
      const response = await proxied("/v1/files", { method: "POST", body: JSON.stringify({ purpose: "batch" }) });
      assert.equal(response.status, 302);
      passed.push(response.headers.get("location") ?? "");
      await response.arrayBuffer();
    }
    assert.equal(upstream.calls.length, 3, "each redirect is the target's answer, not a failure");
    assert.equal(upstream.calls[0]!.headers.authorization, `Bearer ${KEY}`, "the target gets its key");
    assert.deepEqual(passed, [
      `https://files.example/cb?token=[REDACTED]&${signed}`,
      `https://files.example/cb?key=[REDACTED]&${signed}`,
      `https://files.example/cb?${signed}`,
    ]);
  });
});
