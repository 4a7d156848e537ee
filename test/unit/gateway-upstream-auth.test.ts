// Each API's key header (as pi-ai's own clients send it) and the model field a proxied JSON body gets per API.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Api, Model } from "@mariozechner/pi-ai";
import { modelFieldSet } from "../../src/gateway/proxy-forward.ts";
import { authHeaders, keyHeaderName } from "../../src/gateway/upstream-headers.ts";

const model = (api: string) => ({ id: "m", api }) as unknown as Model<Api>;

describe("the target's key header", () => {
  it("puts the key where each API's own client sends it", () => {
    assert.deepEqual(authHeaders(model("anthropic-messages"), { apiKey: "k1" }), { "x-api-key": "k1" });
    assert.deepEqual(authHeaders(model("google-generative-ai"), { apiKey: "k2" }), { "x-goog-api-key": "k2" });
    assert.deepEqual(authHeaders(model("google-vertex"), { apiKey: "k3" }), { "x-goog-api-key": "k3" });
    assert.deepEqual(authHeaders(model("azure-openai-responses"), { apiKey: "k4" }), { "api-key": "k4" });
    for (const api of ["openai-completions", "openai-responses", "mistral-conversations"])
      assert.deepEqual(authHeaders(model(api), { apiKey: "k5" }), { authorization: "Bearer k5" }, api);
    assert.equal(keyHeaderName("azure-openai-chat" as Api), "api-key");
  });

  it("adds the provider's own headers, lower-cased, and none without a key", () => {
    assert.deepEqual(authHeaders(model("google-generative-ai"), { headers: { "X-Team": "t", "X-Null": null } }), {
      "x-team": "t",
    });
  });
});

describe("the model field of a proxied JSON body", () => {
  it("is the target's model id where the client named a model, added if absent", () => {
    assert.deepEqual(modelFieldSet({ input: "x" }, true, "openai-completions", "e-1"), { model: "e-1" });
    assert.deepEqual(modelFieldSet({ model: "route" }, true, "openai-completions", "e-1"), { model: "e-1" });
    assert.deepEqual(modelFieldSet({ input: "x" }, false, "openai-completions", "e-1"), {});
  });

  it("is never added for an API that names the model in the path, only replaced", () => {
    for (const api of ["google-generative-ai", "google-vertex"]) {
      assert.deepEqual(modelFieldSet({ content: {} }, true, api, "text-embedding-004"), {}, api);
      assert.deepEqual(modelFieldSet({ model: "gem" }, true, api, "text-embedding-004"), {
        model: "text-embedding-004",
      });
    }
  });
});
