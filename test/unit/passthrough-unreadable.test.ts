// An upstream event the passthrough's scanner cannot read is the target's failure, reported as the attempt's outcome
// (and failed over from), never an exception out of the socket's data handler, which would end the gateway.
import type { Api, Model } from "@mariozechner/pi-ai";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { gatewayPassthrough } from "../../src/gateway/passthrough.ts";
import { OPENAI_CHAT_PASSTHROUGH } from "../../src/gateway/passthrough-openai.ts";
import type { PassthroughDialect } from "../../src/gateway/passthrough-scan.ts";
import type { Candidate } from "../../src/routing/types.ts";

let server: http.Server;
let baseUrl: string;
before(async () => {
  server = http.createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/event-stream" });
    response.end('data: {"id":"c1","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The Chat Completions dialect with a scanner that cannot read any event. */
const unreadableDialect: PassthroughDialect = {
  ...OPENAI_CHAT_PASSTHROUGH,
  scanner: (...args) => {
    const scanner = OPENAI_CHAT_PASSTHROUGH.scanner(...args);
    scanner.block = () => {
      throw new TypeError("Cannot read properties of null (reading 'index')");
    };
    return scanner;
  },
};

describe("a passthrough attempt whose upstream sends an event the scanner cannot read", () => {
  it("fails the attempt with a message naming the target and what went wrong", async () => {
    const body = { model: "auto-router/x", stream: true, messages: [{ role: "user", content: "hi" }] };
    const passthrough = gatewayPassthrough({
      dialect: unreadableDialect,
      registry: undefined,
      body,
      context: { messages: [] },
      jsonBytes: Buffer.from(JSON.stringify(body)),
      query: "",
      clientHeaders: {},
      clientModel: "auto-router/x",
      reply: {} as never, // nothing reaches the client before the commit point
      headers: () => ({}),
      now: Date.now,
    });
    const cost = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    const target = { id: "m", provider: "p", api: "openai-completions", baseUrl, input: ["text"], cost };
    let committed = false;
    const outcome = await passthrough.attempt({
      target: target as unknown as Model<Api>,
      auth: { ok: true, apiKey: "sk-unit-test-key-0001" },
      candidate: { key: "p/m", provider: "p", modelId: "m" } as Candidate,
      timeouts: { firstTokenMs: 5_000, stallMs: 5_000, thinkingStallMs: 5_000 },
      onCommit: () => void (committed = true),
      onResponse: () => {},
    });
    assert.equal(committed, false);
    assert.equal(outcome.status, "failed");
    assert.ok(outcome.status === "failed");
    assert.equal(outcome.failure.kind, "unknown");
    assert.equal(
      outcome.failure.message,
      "p/m: the target sent an event the gateway could not read (Cannot read properties of null (reading 'index'))",
    );
  });
});
