// Pinning OpenRouter's upstream on the gateway's wildcard proxy, as the chat path pins it: a proxied embeddings answer
// from an OpenRouter target is looked up by its `id` with the target's own key, a `pin` event is logged and the next
// proxied request carries `provider.order` in its JSON body (merged with the client's own preferences); a JSON array
// body is sent as it came, a target that is not OpenRouter gets no pin, and after a pin break the next answer pins
// again. Through the real `pi-auto-router serve` with the official openai client's `embeddings.create`; the generation
// lookups go to the OpenRouter emulator, behind a stand-in for OpenRouter's embeddings endpoint.
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type OpenAI from "openai";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { startUpstream, type Upstream } from "../helpers/endpoint-upstream.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { type OpenRouterEmulator, startOpenRouterEmulator } from "../helpers/openrouter-emulator.ts";

const OPENROUTER_KEY = "sk-or-v1-proxy-pin-key-0123456789";
const TARGET = "openrouter/openai/text-embedding-3-small";
const PINNED = { order: ["Anthropic"], allow_fallbacks: false };

/** OpenRouter's embeddings endpoint: answers with an id (`gen-emb-<n>`) and usage, or a queued failure status. */
interface EmbeddingsFront {
  url: string;
  /** The JSON bodies (or raw text, when not JSON) of the embeddings requests, in order. */
  bodies: unknown[];
  ids: string[];
  failNext(status: number): void;
  close(): Promise<void>;
}

async function startEmbeddingsFront(openrouter: OpenRouterEmulator): Promise<EmbeddingsFront> {
  const bodies: unknown[] = [];
  const ids: string[] = [];
  const failures: number[] = [];
  const lookups = new URL(openrouter.url);
  const server: Server = createServer((req, res) => {
    if (req.method === "POST" && req.url === "/api/v1/embeddings") {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          bodies.push(JSON.parse(text));
        } catch {
          bodies.push(text);
        }
        res.setHeader("content-type", "application/json");
        const failure = failures.shift();
        if (failure !== undefined) {
          res.statusCode = failure;
          res.end(JSON.stringify({ error: { message: "No endpoints found", code: failure } }));
          return;
        }
        const id = `gen-emb-${ids.length + 1}`;
        ids.push(id);
        res.end(
          JSON.stringify({
            id,
            object: "list",
            data: [{ object: "embedding", index: 0, embedding: [0.25, 0.5] }],
            model: "openai/text-embedding-3-small",
            usage: { prompt_tokens: 3, total_tokens: 3 },
          }),
        );
      });
      return;
    }
    // The generation lookups: OpenRouter's emulator answers them.
    const forward = httpRequest(
      { host: lookups.hostname, port: lookups.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`,
    bodies,
    ids,
    failNext: (status) => void failures.push(status),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("gateway wildcard proxy: an OpenRouter target's proxied answers pin its upstream", () => {
  let openrouter: OpenRouterEmulator;
  let front: EmbeddingsFront;
  let spare: Upstream;
  let fx: GatewayFixture<never>;

  before(async () => {
    openrouter = await startOpenRouterEmulator();
    front = await startEmbeddingsFront(openrouter);
    spare = await startUpstream("S");
    fx = await startGatewayFixture({
      emulators: {},
      providers: {
        openrouter: {
          baseUrl: front.url,
          api: "openai-completions",
          apiKey: OPENROUTER_KEY,
          models: [{ id: "openai/text-embedding-3-small" }],
        },
        "embed-s": { baseUrl: spare.url, api: "openai-completions", apiKey: "sk-embed-s-0001", models: [{ id: "es" }] },
      },
      routes: {
        breaker: { enabled: false },
        routes: {
          embed: {
            sortBy: "config",
            targets: routeInOrder(TARGET, "embed-s/es").targets.map((target) => ({ ...target, probe: false })),
          },
        },
        providers: {
          openrouter: { endpointPrefixes: ["/v1/embeddings"] },
          "embed-s": { endpointPrefixes: ["/v1/embeddings"] },
        },
        // The OpenRouter target that failed for the pin break serves the next request at once.
        failover: { cooldownWaitMs: 0, kinds: { server: { cooldownMs: 0 } } },
      },
    });
  });
  after(async () => {
    await fx?.stop();
    await front?.close();
    await spare?.close();
    await openrouter?.close();
  });

  const pinEvents = () => readLoggedEvents(fx.agentDir).filter((event) => event.type === "pin");
  const lastBody = () => front.bodies.at(-1) as Record<string, unknown>;
  const embed = (input: string, extra: Record<string, unknown> = {}) =>
    fx.openai.embeddings.create({ model: "embed", input, ...extra } as OpenAI.EmbeddingCreateParams);

  it("looks a proxied answer up by its id with the target's key, logs the pin, and sends the next request pinned", async () => {
    const first = await embed("first");
    assert.equal(first.data.length, 1);
    assert.equal(front.bodies.length, 1);
    assert.equal(lastBody().provider, undefined, "the first request goes out unpinned");

    await until(() => pinEvents().length === 1, "the pin event");
    assert.deepEqual(openrouter.lookups, [{ id: "gen-emb-1", authorization: `Bearer ${OPENROUTER_KEY}` }]);
    assert.deepEqual(pinEvents()[0].data, { action: "pinned", target: TARGET, upstream: "Anthropic" });

    await embed("second");
    assert.deepEqual(lastBody().provider, PINNED);
    assert.equal(lastBody().input, "second");
    assert.equal(openrouter.lookups.length, 1, "a pinned target is not looked up again");
  });

  it("merges the pin into the client's own provider preferences, and sends a JSON array body as it came", async () => {
    await embed("third", { provider: { data_collection: "deny", order: ["OpenAI"] } });
    assert.deepEqual(lastBody().provider, { data_collection: "deny", ...PINNED });

    const batch = JSON.stringify([{ model: "embed", input: "batch" }]);
    const response = await fetch(`${fx.gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${fx.gateway.token}`, "content-type": "application/json", "x-model": "embed" },
      body: batch,
    });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    assert.deepEqual(lastBody(), JSON.parse(batch), "an array body has no fields of the router's: no pin in it");
  });

  it("breaks the pin when the pinned upstream fails, gives no other target the pin, and pins again", async () => {
    front.failNext(503);
    await embed("fourth");
    assert.deepEqual(lastBody().provider, PINNED, "the pinned attempt failed");
    assert.equal(spare.calls.length, 1, "the spare took over");
    assert.equal(JSON.parse(spare.calls[0]!.body).provider, undefined, "the pin is the OpenRouter target's alone");
    await until(() => pinEvents().length === 2, "the pin break");
    assert.deepEqual(pinEvents()[1].data, {
      action: "broken",
      target: TARGET,
      upstream: "Anthropic",
      reason: "server",
    });

    openrouter.setUpstream("Google Vertex");
    await embed("fifth");
    assert.equal(lastBody().provider, undefined, "unpinned after the break");
    await until(() => pinEvents().length === 3, "the new pin");
    assert.deepEqual(openrouter.lookups.at(-1), { id: front.ids.at(-1), authorization: `Bearer ${OPENROUTER_KEY}` });
    assert.deepEqual(pinEvents()[2].data, { action: "pinned", target: TARGET, upstream: "Google Vertex" });

    await embed("sixth");
    assert.deepEqual(lastBody().provider, { order: ["Google Vertex"], allow_fallbacks: false });
  });
});
