// Which targets a gateway request is passed through to: the client's own API, no per-target request patch, plain
// API-key credentials (a subscription login is translated by pi-ai), and a body that fits the target's compat flags.
import type { Api, Context, Model } from "@mariozechner/pi-ai";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gatewayPassthrough } from "../../src/gateway/passthrough.ts";
import { ANTHROPIC_PASSTHROUGH } from "../../src/gateway/passthrough-anthropic.ts";
import { OPENAI_CHAT_PASSTHROUGH } from "../../src/gateway/passthrough-openai.ts";
import type { RegistryLike } from "../../src/runtime/start-target.ts";

const model = (api: string, extra: Record<string, unknown> = {}) =>
  ({ id: "m", provider: "p", api, baseUrl: "http://127.0.0.1:1", input: ["text"], ...extra }) as unknown as Model<Api>;

function passthrough(
  dialect = ANTHROPIC_PASSTHROUGH,
  oauth = false,
  body: Record<string, unknown> = {},
  messages: Context["messages"] = [],
) {
  const registry = { isUsingOAuth: () => oauth } as unknown as RegistryLike;
  return gatewayPassthrough({
    dialect,
    registry,
    body: { model: "auto-router/x", messages: [], ...body },
    context: { messages },
    jsonBytes: undefined,
    query: "",
    clientHeaders: {},
    clientModel: "auto-router/x",
    reply: {} as never,
    headers: () => ({}),
    now: Date.now,
  });
}

describe("which targets take a request as it is", () => {
  const key = { ok: true as const, apiKey: "sk-ant-api-key" };

  it("takes a target of the client's own API with an API key and no request patch", () => {
    assert.equal(passthrough().accepts(model("anthropic-messages"), key, undefined), true);
    assert.equal(passthrough().accepts(model("anthropic-messages"), key, {}), true);
  });

  it("translates a conversation holding an image for a target without image input, so pi-ai leaves the image out", () => {
    const image = { type: "image" as const, data: "iVBORw0KGgo=", mimeType: "image/png" };
    const earlier: Context["messages"] = [
      { role: "user", content: [image, { type: "text", text: "what is this?" }], timestamp: 0 },
      { role: "user", content: "and now?", timestamp: 1 },
    ];
    const withImage = passthrough(ANTHROPIC_PASSTHROUGH, false, {}, earlier);
    assert.equal(withImage.accepts(model("anthropic-messages"), key, undefined), false);
    assert.equal(withImage.accepts(model("anthropic-messages", { input: ["text", "image"] }), key, undefined), true);
    const textOnly = passthrough(ANTHROPIC_PASSTHROUGH, false, {}, [earlier[1]!]);
    assert.equal(textOnly.accepts(model("anthropic-messages"), key, undefined), true);
  });

  it("translates for another API, a request patch, a subscription login or environment credentials", () => {
    assert.equal(passthrough().accepts(model("openai-completions"), key, undefined), false);
    assert.equal(passthrough().accepts(model("anthropic-messages"), key, { headers: { "x-beta": "1" } }), false);
    assert.equal(passthrough().accepts(model("anthropic-messages"), key, { body: { top_k: 1 } }), false);
    assert.equal(passthrough(ANTHROPIC_PASSTHROUGH, true).accepts(model("anthropic-messages"), key, undefined), false);
    const oauthKey = { ok: true as const, apiKey: "sk-ant-oat01-abc" };
    assert.equal(passthrough().accepts(model("anthropic-messages"), oauthKey, undefined), false);
    const envAuth = { ok: true as const, env: { AWS_REGION: "us-east-1" } };
    assert.equal(passthrough().accepts(model("anthropic-messages"), envAuth, undefined), false);
  });

  it("asks the dialect whether the body fits the target's compat flags", () => {
    const strict = model("openai-completions", { compat: { supportsDeveloperRole: false } });
    const developer = { messages: [{ role: "developer", content: "x" }] };
    assert.equal(passthrough(OPENAI_CHAT_PASSTHROUGH).accepts(strict, key, undefined), true);
    assert.equal(passthrough(OPENAI_CHAT_PASSTHROUGH, false, developer).accepts(strict, key, undefined), false);
  });

  it("translates for a target whose output limit leaves no room for the client's thinking budget (the answer names it)", () => {
    const thinking = { max_tokens: 64_000, thinking: { type: "enabled", budget_tokens: 2000 } };
    const small = model("anthropic-messages", { maxTokens: 1024 });
    assert.equal(passthrough(ANTHROPIC_PASSTHROUGH, false, thinking).accepts(small, key, undefined), false);
    assert.equal(passthrough().accepts(small, key, undefined), true, "without thinking it is capped instead");
  });
});
