import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isOpenRouter, lookupUpstream, pinnedPatch, UpstreamPins } from "../../src/runtime/upstream-pin.ts";

const noSleep = async () => undefined;
const answer = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

function scriptedFetch(replies: Response[]) {
  const urls: string[] = [];
  const fetcher = (async (url: string | URL | Request) => {
    urls.push(String(url));
    const reply = replies.shift();
    if (!reply) throw new Error("no more replies");
    return reply;
  }) as typeof fetch;
  return { fetcher, urls };
}

describe("upstream pin", () => {
  it("recognises OpenRouter by provider or base URL, as pi-ai does, and only on the chat-completions API", () => {
    assert.equal(
      isOpenRouter({ provider: "openrouter", baseUrl: "http://127.0.0.1:1/api/v1", api: "openai-completions" }),
      true,
    );
    assert.equal(
      isOpenRouter({ provider: "my-or", baseUrl: "https://openrouter.ai/api/v1", api: "openai-completions" }),
      true,
    );
    assert.equal(
      isOpenRouter({ provider: "openai", baseUrl: "https://api.openai.com/v1", api: "openai-completions" }),
      false,
    );
    assert.equal(
      isOpenRouter({ provider: "openrouter", baseUrl: "https://openrouter.ai/api/v1", api: "anthropic-messages" }),
      false,
    );
  });

  it("merges the pin into the target's own body patch and keeps its headers", () => {
    const patch = pinnedPatch(
      { headers: { "x-a": "1" }, body: { provider: { sort: "price" }, metadata: { team: "core" } } },
      "DeepInfra",
    );
    assert.deepEqual(patch, {
      headers: { "x-a": "1" },
      body: { provider: { sort: "price", order: ["DeepInfra"], allow_fallbacks: false }, metadata: { team: "core" } },
    });
  });

  it("asks again while the generation is not filed (404), and gives up on other errors without throwing", async () => {
    const filed = scriptedFetch([answer(404, {}), answer(200, { data: { provider_name: "Fireworks" } })]);
    assert.equal(
      await lookupUpstream({
        baseUrl: "http://x/api/v1/",
        apiKey: "k",
        generationId: "gen 1",
        fetch: filed.fetcher,
        sleep: noSleep,
      }),
      "Fireworks",
    );
    assert.deepEqual(filed.urls, ["http://x/api/v1/generation?id=gen%201", "http://x/api/v1/generation?id=gen%201"]);

    const denied = scriptedFetch([answer(401, { error: "no" })]);
    assert.equal(
      await lookupUpstream({
        baseUrl: "http://x",
        apiKey: "k",
        generationId: "g",
        fetch: denied.fetcher,
        sleep: noSleep,
      }),
      undefined,
    );
    assert.equal(denied.urls.length, 1);

    const odd = scriptedFetch([answer(200, { data: { provider: "no name field" } })]);
    assert.equal(
      await lookupUpstream({ baseUrl: "http://x", apiKey: "k", generationId: "g", fetch: odd.fetcher, sleep: noSleep }),
      undefined,
    );

    const broken = scriptedFetch([]);
    assert.equal(
      await lookupUpstream({
        baseUrl: "http://x",
        apiKey: "k",
        generationId: "g",
        fetch: broken.fetcher,
        sleep: noSleep,
      }),
      undefined,
    );
  });

  it("keeps pins per session: a lookup that ends after the session changed pins nothing", () => {
    let session = "s1";
    const pins = new UpstreamPins(() => session);
    assert.equal(pins.claimLookup("or/m"), true);
    assert.equal(pins.claimLookup("or/m"), false, "one lookup at a time");
    assert.equal(pins.settleLookup("s1", "or/m", "Anthropic"), true);
    assert.equal(pins.get("or/m"), "Anthropic");
    assert.equal(pins.claimLookup("or/m"), false, "pinned: nothing to look up");

    assert.equal(pins.claimLookup("or/other"), true);
    session = "s2";
    assert.equal(pins.get("or/m"), undefined, "a new session starts unpinned");
    assert.equal(pins.settleLookup("s1", "or/other", "Google"), false);
    assert.equal(pins.get("or/other"), undefined);

    assert.equal(pins.claimLookup("or/m"), true);
    pins.settleLookup("s2", "or/m", "Groq");
    assert.equal(pins.drop("or/m"), "Groq");
    assert.equal(pins.get("or/m"), undefined);
  });
});
