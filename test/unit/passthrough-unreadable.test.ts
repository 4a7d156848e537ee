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
let origin: string;
before(async () => {
  server = http.createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/event-stream" });
    // /cut: a chunk cut short after the answer began (its text committed the attempt).
    // /end-cut: the stream ends inside its last chunk (no blank line after it).
    if (request.url?.startsWith("/end-cut/"))
      response.end('data: {"id":"c1","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: {"id":"c1","choi');
    else if (request.url?.startsWith("/cut/"))
      response.end('data: {"id":"c1","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: {"id":"c1","choi\n\n');
    else response.end('data: {"id":"c1","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  baseUrl = `${origin}/v1`;
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

/** One passthrough attempt of `dialect` on a target at `baseUrl`, its client's side on `reply`. */
function attemptOn(dialect: PassthroughDialect, baseUrl: string, reply: unknown, onCommit = () => {}) {
  const body = { model: "auto-router/x", stream: true, messages: [{ role: "user", content: "hi" }] };
  const passthrough = gatewayPassthrough({
    dialect,
    registry: undefined,
    body,
    context: { messages: [] },
    jsonBytes: Buffer.from(JSON.stringify(body)),
    query: "",
    clientHeaders: {},
    clientModel: "auto-router/x",
    reply: reply as never,
    headers: () => ({}),
    now: Date.now,
  });
  const cost = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  const target = { id: "m", provider: "p", api: "openai-completions", baseUrl, input: ["text"], cost };
  return passthrough.attempt({
    target: target as unknown as Model<Api>,
    auth: { ok: true, apiKey: "sk-unit-test-key-0001" },
    candidate: { key: "p/m", provider: "p", modelId: "m" } as Candidate,
    timeouts: { firstTokenMs: 5_000, stallMs: 5_000, thinkingStallMs: 5_000 },
    onCommit,
    onResponse: () => {},
  });
}

describe("a passthrough attempt whose upstream sends an event the scanner cannot read", () => {
  it("fails the attempt with a message naming the target and what went wrong", async () => {
    let committed = false;
    // Nothing reaches the client before the commit point.
    const outcome = await attemptOn(unreadableDialect, baseUrl, {}, () => void (committed = true));
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

/** A streaming client's side of the reply, and what it was sent. */
function clientSide() {
  let text = "";
  const raw = {
    setHeader: () => {},
    writeHead: () => {},
    write: (more: string) => {
      text += more;
      return true;
    },
    end: (more?: string) => void (text += more ?? ""),
    destroyed: false,
    writableEnded: false,
  };
  return { raw, sent: () => text };
}

describe("a Chat Completions passthrough whose upstream sends an event that is not valid JSON", () => {
  it("cuts the answer off with the protocol's error after the commit point, naming the target, not the chunk as it came", async () => {
    const { raw, sent } = clientSide();
    const outcome = await attemptOn(OPENAI_CHAT_PASSTHROUGH, `${origin}/cut/v1`, { hijack: () => {}, raw });
    assert.equal(outcome.status, "committed");
    assert.ok(outcome.status === "committed" && outcome.final === "error");
    assert.match(
      outcome.failure!.message,
      /p\/m: the target sent an event the gateway could not read \(an event that is not valid JSON: /,
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.doesNotMatch(sent(), /"choi\n/, "the cut chunk did not reach the client");
    const blocks = sent().trim().split("\n\n");
    assert.equal(blocks.at(-1), "data: [DONE]");
    assert.match(blocks.at(-2)!, /^data: \{"error":\{"message":"[^"]*could not read/, sent());
  });
});

describe("a passthrough stream that ends inside its last event", () => {
  it("drops the cut event and ends the answer as a stream cut off by its end, not as an event it could not read", async () => {
    const { raw, sent } = clientSide();
    const outcome = await attemptOn(OPENAI_CHAT_PASSTHROUGH, `${origin}/end-cut/v1`, { hijack: () => {}, raw });
    assert.ok(outcome.status === "committed" && outcome.final === "error");
    assert.equal(outcome.failure!.message, "auto-router: p/m ended its stream without a result (terminated)");
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sent().split('"id":"c1"').length, 2, "only the whole chunk reached the client");
    assert.match(sent(), /"content":"hi"/);
  });
});
