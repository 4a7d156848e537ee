// The gateway's routing headers (X-Model, X-Provider) and a body's `provider` object, through the real
// `pi-auto-router serve` with the official OpenAI and Anthropic clients, on the chat endpoints and the wildcard proxy:
// a preference the router cannot apply as written (a provider/model where a provider is meant, an empty `only`, a
// mistyped sort, a negative price) is refused before any target is tried, as is a header sent twice or empty, the
// same way at both front doors.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, beforeEach, describe, it } from "node:test";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { startUpstream, type Upstream } from "../helpers/endpoint-upstream.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const HI = [{ role: "user" as const, content: "hi" }];

/** The 400 an OpenAI client gets, its message matched. */
const refusedWith = (expected: RegExp) => (error: any) => {
  assert.equal(error.status, 400, error.message);
  assert.equal(error.error?.type, "invalid_request_error");
  assert.match(error.error?.message, expected);
  return true;
};

describe("gateway routing headers and body provider preferences", () => {
  let fx: GatewayFixture<"A" | "B">;
  let alpha: Emulator, beta: Emulator;
  let embeddings: Upstream;

  before(async () => {
    embeddings = await startUpstream("E");
    fx = await startGatewayFixture({
      emulators: { A: "openai", B: "openai" },
      providers: {
        alpha: { emulator: "A", apiKey: "sk-alpha-key-000000000001", models: ["alpha-large"] },
        beta: { emulator: "B", apiKey: "sk-beta-key-0000000000002", models: ["b-small"] },
        embed: {
          baseUrl: embeddings.url,
          api: "openai-completions",
          apiKey: "sk-embed-key-00000000003",
          models: [{ id: "embed-small" }],
        },
      },
      routes: {
        routes: {
          main: routeInOrder("alpha/alpha-large", "beta/b-small"),
          // An embeddings model: a chat probe of it could only fail.
          embed: { sortBy: "config", targets: [{ provider: "embed", modelId: "embed-small", probe: false }] },
        },
        providers: { embed: { endpointPrefixes: ["/v1/embeddings"] } },
        failover: { cooldownWaitMs: 0 },
      },
    });
    ({ A: alpha, B: beta } = fx.emulators);
  });
  after(async () => {
    await fx?.stop();
    await embeddings?.close();
  });
  beforeEach(() => {
    fx.reset();
    embeddings.calls.length = 0;
  });

  const chat = (headers: Record<string, string> | Headers, body: Record<string, unknown> = {}) =>
    fx.openai.chat.completions.create({ model: "main", messages: HI, ...body } as never, { headers });

  const noTargetTried = () => {
    assert.equal(alpha.calls.length + beta.calls.length, 0, "no chat target was tried");
    assert.equal(embeddings.calls.length, 0, "no proxied target was tried");
  };

  /** One request through node:http, so that a header can be sent as two lines: its status and parsed body. */
  const rawPost = (path: string, headers: Array<[string, string]>, body: unknown) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const text = JSON.stringify(body);
      const url = new URL(path, fx.gateway.url);
      const request = httpRequest(url, {
        method: "POST",
        // Given as a list, the headers are sent as they are: Node adds no Host of its own.
        headers: [
          ["host", url.host],
          ["authorization", `Bearer ${fx.gateway.token}`],
          ["content-type", "application/json"],
          ["content-length", String(Buffer.byteLength(text))],
          ...headers,
        ].flat(),
      });
      request.on("error", reject);
      request.on("response", (response) => {
        let data = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => (data += chunk));
        response.on("end", () => resolve({ status: response.statusCode!, body: JSON.parse(data) }));
      });
      request.end(text);
    });

  it("refuses a provider/model in only, ignore or order, naming the entry and the provider meant", async () => {
    await assert.rejects(
      chat({ "X-Provider": JSON.stringify({ ignore: ["alpha/alpha-large"] }) }),
      refusedWith(
        /^X-Provider header\.ignore\[0\]: "alpha\/alpha-large" names a model; expected a provider name, not provider\/model; did you mean "alpha"\?$/,
      ),
    );
    await assert.rejects(
      chat({}, { provider: { only: ["beta", "alpha/alpha-large"] } }),
      refusedWith(/^body\.provider\.only\[1\]: "alpha\/alpha-large" names a model; .*did you mean "alpha"\?$/),
    );
    // The Anthropic client gets the same refusal in its own protocol's shape.
    await assert.rejects(
      fx.anthropic.messages.create(
        { model: "main", max_tokens: 10, messages: HI },
        { headers: { "X-Provider": JSON.stringify({ order: ["beta/b-small"] }) } },
      ),
      (error: any) => {
        assert.equal(error.status, 400);
        assert.equal(error.error?.type, "error");
        assert.equal(error.error?.error?.type, "invalid_request_error");
        assert.match(error.error?.error?.message, /^X-Provider header\.order\[0\]: .*did you mean "beta"\?$/);
        return true;
      },
    );
    // The wildcard proxy reads the same preferences.
    await assert.rejects(
      fx.openai.embeddings.create({
        model: "embed",
        input: "hi",
        provider: { ignore: ["embed/embed-small"] },
      } as never),
      refusedWith(/^body\.provider\.ignore\[0\]: "embed\/embed-small" names a model; .*did you mean "embed"\?$/),
    );
    noTargetTried();
    // Written as a provider, the same preference is applied: the ignored provider is never asked.
    beta.enqueue({ text: "From beta." });
    const served = await chat({ "X-Provider": JSON.stringify({ ignore: ["alpha"] }) });
    assert.equal(served.choices[0]!.message.content, "From beta.");
    assert.equal(alpha.calls.length, 0);
  });

  it("refuses an empty only or order, and takes an empty ignore", async () => {
    await assert.rejects(
      chat({ "X-Provider": JSON.stringify({ only: [] }) }),
      refusedWith(
        /^X-Provider header\.only: expected a non-empty array of provider names, got \[\]; leave "only" out to allow every provider$/,
      ),
    );
    await assert.rejects(
      chat({}, { provider: { order: [], allow_fallbacks: false } }),
      refusedWith(/^body\.provider\.order: expected a non-empty array of provider names, got \[\]/),
    );
    noTargetTried();
    alpha.enqueue({ text: "From alpha." });
    const served = await chat({ "X-Provider": JSON.stringify({ ignore: [] }) });
    assert.equal(served.choices[0]!.message.content, "From alpha.");
  });

  it("says a provider left out by allow_fallbacks: false in words that name no routes-file key", async () => {
    beta.enqueue({ status: 500, errorMessage: "Internal server error" });
    await assert.rejects(chat({}, { provider: { order: ["beta"], allow_fallbacks: false } }), (error: any) => {
      assert.match(error.message, /alpha is not in order \(beta\) and fallbacks beyond it are off/);
      assert.doesNotMatch(error.message, /allowFallbacks/);
      return true;
    });
    assert.equal(alpha.calls.length, 0);
  });

  it("names the accepted sort values and price form, and the sort meant", async () => {
    for (const [provider, expected] of [
      [
        { sort: "latncy" },
        /^X-Provider header\.sort: expected one of "price", "latency", "throughput", or \{"by": one of them\}, got a string \("latncy"\); did you mean "latency"\?$/,
      ],
      [{ sort: "price " }, /^X-Provider header\.sort: expected one of .*; did you mean "price"\?$/],
      [
        { sort: { by: "thruput" } },
        /^X-Provider header\.sort\.by: expected one of "price", "latency", "throughput", got/,
      ],
      [
        { max_price: -1 },
        /^X-Provider header\.max_price: expected a number >= 0 \(USD per 1M output tokens, e\.g\. 15\), or \{"completion": such a number\}, got a number \(-1\)$/,
      ],
      [{ max_price: "cheap" }, /^X-Provider header\.max_price: expected a number >= 0 .*, got a string \("cheap"\)$/],
      [{ max_price: { completion: -2 } }, /^X-Provider header\.max_price\.completion: expected a number >= 0 /],
    ] as const)
      await assert.rejects(chat({ "X-Provider": JSON.stringify(provider) }), refusedWith(expected));
    noTargetTried();
  });

  it("refuses X-Model or X-Provider sent twice, joined by the client or as two lines, at both front doors", async () => {
    // The official clients send two appended values as one line, joined by ", ".
    const twice = (name: string, first: string, second: string) => {
      const headers = new Headers();
      headers.append(name, first);
      headers.append(name, second);
      return headers;
    };
    await assert.rejects(
      chat(twice("X-Model", "main", "embed")),
      refusedWith(/^X-Model header sent twice; send it once$/),
    );
    const preferences = [JSON.stringify({ only: ["alpha"] }), JSON.stringify({ ignore: ["alpha"] })] as const;
    await assert.rejects(
      chat(twice("X-Provider", ...preferences)),
      refusedWith(/^X-Provider header sent twice; send it once$/),
    );
    await assert.rejects(
      fx.openai.embeddings.create({ model: "embed", input: "hi" }, { headers: twice("X-Model", "embed", "main") }),
      refusedWith(/^X-Model header sent twice; send it once$/),
    );
    // Two header lines (curl -H twice): Node joins them too, however their values look.
    for (const [path, body] of [
      ["/v1/chat/completions", { messages: HI }],
      ["/v1/embeddings", { input: "hi" }],
    ] as const) {
      const models = await rawPost(
        path,
        [
          ["X-Model", "main"],
          ["X-Model", "main"],
        ],
        body,
      );
      assert.deepEqual([models.status, models.body.error?.message], [400, "X-Model header sent twice; send it once"]);
      const providers = await rawPost(
        path,
        [
          ["X-Model", path === "/v1/embeddings" ? "embed" : "main"],
          ["X-Provider", preferences[0]],
          ["X-Provider", "[]"],
        ],
        body,
      );
      assert.deepEqual(
        [providers.status, providers.body.error?.message],
        [400, "X-Provider header sent twice; send it once"],
      );
    }
    noTargetTried();
  });

  it("refuses an empty X-Model or X-Provider alike on the chat endpoints and the proxy, even beside a body's model", async () => {
    const doors: Array<(headers: Record<string, string>) => Promise<unknown>> = [
      (headers) => chat(headers),
      (headers) => fx.anthropic.messages.create({ model: "main", max_tokens: 10, messages: HI }, { headers }),
      (headers) => fx.openai.embeddings.create({ model: "embed", input: "hi" }, { headers }),
    ];
    for (const door of doors) {
      await assert.rejects(door({ "X-Model": "" }), (error: any) => {
        assert.equal(error.status, 400);
        assert.match(
          error.message,
          /X-Model header: empty; expected a route or a provider\/model, or leave the header out/,
        );
        return true;
      });
      await assert.rejects(door({ "X-Provider": "" }), (error: any) => {
        assert.equal(error.status, 400);
        assert.match(error.message, /X-Provider header: empty; expected a JSON object of provider preferences/);
        return true;
      });
    }
    noTargetTried();
  });
});
