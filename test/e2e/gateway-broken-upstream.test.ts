// An upstream whose stream breaks its own protocol (a chunk cut short) reaches a client of the gateway as the
// protocol's error naming the target, through the official openai client: never as JSON the client's SDK cannot parse.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { makeAgentDir, routeInOrder } from "../helpers/agent-dir.ts";
import { type GatewayProcess, startGatewayProcess } from "../helpers/gateway-process.ts";

describe("gateway: an upstream stream that is not valid JSON", () => {
  let upstream: http.Server;
  let gateway: GatewayProcess;
  let dir: ReturnType<typeof makeAgentDir>;

  before(async () => {
    upstream = http.createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        response.writeHead(200, { "content-type": "text/event-stream" });
        response.end(
          'data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Hello"}}]}\n\ndata: {"id":"c1","object":"chat.comp\n\n',
        );
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    dir = makeAgentDir({
      providers: {
        cut: { baseUrl, api: "openai-completions", apiKey: "sk-cut-upstream-key-0001", models: [{ id: "m" }] },
      },
      routes: { routes: { chat: routeInOrder("cut/m") } },
    });
    gateway = await startGatewayProcess({ agentDir: dir.agentDir });
  });
  after(async () => {
    await gateway?.stop();
    await new Promise<void>((resolve) => upstream?.close(() => resolve()));
    dir?.cleanup();
  });

  it("ends a Chat Completions passthrough stream cut short with an error naming the target", async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.token, maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: "chat",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    });
    let text = "";
    await assert.rejects(
      async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      },
      (error: Error) => {
        assert.match(
          error.message,
          /cut\/m: the target sent an event the gateway could not read \(a chunk that is not valid JSON/,
        );
        return true;
      },
    );
    assert.equal(text, "Hello", "the answer's start came through");
    assert.equal(gateway.child.exitCode, null, "the gateway still runs");
  });
});
