// The gateway's behaviour over a request's and a process's life: a client that goes away aborts the upstream
// attempt, SIGTERM lets a stream in flight finish (a request arriving meanwhile gets the shutdown error), every
// target cooling down is a 429 with Retry-After, the concurrency cap, the health endpoint, and pi and the gateway
// sharing one state dir.
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { Client } from "undici";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { parseLedger, providerSpend } from "../../src/budget/usage-ledger.ts";
import { makeAgentDir, routeInOrder } from "../helpers/agent-dir.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture, streamUntilFirstText } from "../helpers/gateway-fixture.ts";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const COST = { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 };
const COST_PER_ANSWER_USD = 0.026; // 12 input + 7 output tokens at $1000/$2000 per 1M
const SLOW_TEXT = Array.from({ length: 8 }, (_, index) => `word${index} `);

describe("gateway lifecycle", () => {
  let fx: GatewayFixture<"A" | "B">;
  let openaiTarget: Emulator, anthropicTarget: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai", B: "anthropic" },
      providers: {
        "mock-a": { emulator: "A", apiKey: "sk-mock-a-key-0000000001", models: [{ id: "model-a", cost: COST }] },
        "mock-b": { emulator: "B", apiKey: "sk-ant-mock-b-key-000001", models: [{ id: "model-b", cost: COST }] },
        // On no route, and its key has no known shape: only models.json says it is a key.
        "mock-idle": { emulator: "A", apiKey: "idlekey-2222SECRET2222", models: ["model-idle"] },
      },
      routes: {
        routes: {
          main: routeInOrder("mock-a/model-a", "mock-b/model-b"),
          solo: { targets: [{ provider: "mock-b", modelId: "model-b" }] },
          "solo-a": { targets: [{ provider: "mock-a", modelId: "model-a" }] },
        },
        gateway: { maxConcurrentRequests: 1 },
      },
    });
    ({ A: openaiTarget, B: anthropicTarget } = fx.emulators);
  });
  after(() => fx?.stop());

  it("aborts the upstream attempt at once when the client disconnects mid-stream, without failover or cooldown", async () => {
    openaiTarget.reset();
    anthropicTarget.reset();
    openaiTarget.enqueue({ text: SLOW_TEXT, chunkDelayMs: 300 });
    const controller = new AbortController();
    const response = await fetch(`${fx.gateway.url}/v1/chat/completions`, {
      method: "POST",
      signal: controller.signal,
      headers: { authorization: `Bearer ${fx.gateway.token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "main", stream: true, messages: [{ role: "user", content: "count slowly" }] }),
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /chat\.completion\.chunk/);
    controller.abort();
    await until(() => openaiTarget.calls[0]?.closedBeforeEnd === true, "the upstream request to be closed");
    assert.equal(anthropicTarget.calls.length, 0, "no failover after a disconnect");
    await until(
      () => readLoggedEvents(fx.agentDir).some((event) => event.type === "final" && event.data.outcome === "aborted"),
      "the aborted request's final event",
    );
    const result = readLoggedEvents(fx.agentDir)
      .filter((event) => event.type === "result")
      .at(-1);
    assert.equal(result.data.outcome, "aborted");
    // Not a failure: the same target serves the next request (no cooldown, no breaker).
    openaiTarget.enqueue({ text: "again" });
    const next = await fx.openai.chat.completions
      .create({ model: "main", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(next.response.headers.get("x-auto-router-served-by"), "mock-a/model-a");
  });

  it("redacts a key from models.json that an upstream error quotes before its provider was ever called", async () => {
    openaiTarget.reset();
    openaiTarget.enqueue({ status: 400, errorMessage: "bad request; keys seen: idlekey-2222SECRET2222" });
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "solo-a", messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 400);
        assert.match(error.message, /keys seen: \[REDACTED\]/);
        assert.doesNotMatch(error.message, /2222SECRET2222/);
        return true;
      },
    );
    assert.doesNotMatch(fx.gateway.stderr(), /2222SECRET2222/);
  });

  it("answers 503 when the concurrency cap is reached, and serves again once a slot is free", async () => {
    openaiTarget.reset();
    openaiTarget.enqueue({ text: SLOW_TEXT, chunkDelayMs: 100 });
    const slow = await fx.openai.chat.completions.create({
      model: "main",
      stream: true,
      messages: [{ role: "user", content: "slow" }],
    });
    const iterator = slow[Symbol.asyncIterator]();
    await iterator.next();
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "main", messages: [{ role: "user", content: "second" }] }),
      (error: any) => {
        assert.equal(error.status, 503);
        assert.match(error.message, /the gateway is serving its maximum of 1 request; retry shortly/);
        return true;
      },
    );
    let text = "";
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      text += next.value.choices[0]?.delta.content ?? "";
    assert.match(text, /word7/);
    openaiTarget.enqueue({ text: "free again" });
    const answer = await fx.openai.chat.completions.create({
      model: "main",
      messages: [{ role: "user", content: "third" }],
    });
    assert.equal(answer.choices[0]!.message.content, "free again");
  });

  it("answers 503 with Retry-After when every target failed, and 429 when every target is cooling down", async () => {
    anthropicTarget.reset();
    anthropicTarget.enqueue({
      status: 429,
      errorMessage: "Number of request tokens has exceeded your per-minute rate limit",
      retryAfterSeconds: 90,
    });
    await assert.rejects(
      fx.anthropic.messages.create({ model: "solo", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 503);
        // Its target failed and now rests 90 s: the 503 says when a retry may pass.
        const retryAfter = Number(error.headers.get("retry-after"));
        assert.ok(retryAfter > 30 && retryAfter <= 90, `retry-after ${retryAfter}`);
        return true;
      },
    );
    await assert.rejects(
      fx.anthropic.messages.create({ model: "solo", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 429);
        assert.equal(error.error?.error?.type, "rate_limit_error");
        assert.match(error.message, /is available now .*GET \/health\/providers shows each target's state/);
        assert.doesNotMatch(error.message, /\/auto-router/);
        const retryAfter = Number(error.headers.get("retry-after"));
        assert.ok(retryAfter > 30 && retryAfter <= 90, `retry-after ${retryAfter}`);
        return true;
      },
    );
    assert.equal(anthropicTarget.calls.length, 1, "the cooling target was not called again");
  });

  it("times each attempt from its own start in x-auto-router-attempts, not from the wait before it", async () => {
    openaiTarget.reset();
    openaiTarget.enqueue({ status: 429, errorMessage: "Rate limit reached", retryAfterSeconds: 2 });
    openaiTarget.enqueue({ text: "After the wait." });
    const { data, response } = await fx.openai.chat.completions
      .create({ model: "solo-a", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(data.choices[0]!.message.content, "After the wait.");
    const attempts = JSON.parse(response.headers.get("x-auto-router-attempts")!);
    assert.deepEqual(
      attempts.map((attempt: { status: number }) => attempt.status),
      [429, 200],
    );
    // The 2 s wait for the resting target is nobody's attempt time: counted in, the served attempt would read at least
    // the wait (it did: 2,017 ms), whatever the machine's speed.
    assert.ok(attempts[1].ms < 2_000, `the served attempt took ${attempts[1].ms} ms`);
    assert.equal(openaiTarget.calls.length, 2);
  });

  it("reports provider health, 503 when a provider is not ok", async () => {
    const response = await fetch(`${fx.gateway.url}/health/providers`, { headers: { "x-api-key": fx.gateway.token } });
    const body = (await response.json()) as any;
    assert.deepEqual(
      body.providers.map((p: any) => p.provider),
      ["mock-a", "mock-b"],
    );
    assert.equal(body.providers[0].ok, true);
    assert.equal(
      body.ok,
      body.providers.every((p: any) => p.ok),
    );
    assert.equal(response.status, body.ok ? 200 : 503);
    assert.equal(body.stateBackend.backend, "file");
    assert.equal(body.stateBackend.connection, "local");
    openaiTarget.reset();
    anthropicTarget.reset();
    openaiTarget.setDefault({ status: 401, errorMessage: "Incorrect API key provided" });
    const probed = await fetch(`${fx.gateway.url}/health/providers?probe=1`, {
      headers: { "x-api-key": fx.gateway.token },
    });
    const probedBody = (await probed.json()) as any;
    assert.equal(probed.status, 503);
    assert.equal(probedBody.ok, false);
    const a = probedBody.providers.find((p: any) => p.provider === "mock-a");
    assert.equal(a.ok, false);
    assert.equal(a.statusCode, 401);
    assert.equal(typeof a.latencyMs, "number");
    assert.equal(probedBody.providers.find((p: any) => p.provider === "mock-b").ok, true);
    assert.equal(openaiTarget.calls.length, 1);
    openaiTarget.reset();
  });

  it("answers a liveness probe at /healthz without a token, and HEAD as GET", async () => {
    // A load balancer's or Kubernetes' HTTP probe: a plain GET, no credentials.
    const live = await fetch(`${fx.gateway.url}/healthz`);
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { status: "ok" });
    // Nothing else opens without the token; the probe says nothing of the providers.
    assert.equal((await fetch(`${fx.gateway.url}/health/providers`)).status, 401);
    assert.equal((await fetch(`${fx.gateway.url}/healthz`, { method: "POST" })).status, 401);
    // An uptime checker's HEAD (curl -I) is the same probe without the body.
    assert.equal((await fetch(`${fx.gateway.url}/healthz`, { method: "HEAD" })).status, 200);
  });

  it("lets a stream in flight finish on SIGTERM, then exits 0", async () => {
    openaiTarget.reset();
    openaiTarget.enqueue({ text: SLOW_TEXT, chunkDelayMs: 150 });
    const { stream, types } = await streamUntilFirstText(fx.anthropic, "main");
    // A connection a client's pool opened ahead of use and never sent on: the drain must not wait for it either.
    const spare = connect(Number(new URL(fx.gateway.url).port), "127.0.0.1");
    await once(spare, "connect");
    const spareClosed = once(spare, "close");
    fx.gateway.child.kill("SIGTERM");
    // Draining: the liveness probe says so (or finds the listener closed), so a load balancer sends no more.
    await until(() => /SIGTERM: draining in-flight requests/.test(fx.gateway.stderr()), "the drain");
    const probe = await fetch(`${fx.gateway.url}/healthz`).then(
      (response) => response.status,
      (error: unknown) => `refused: ${error}`,
    );
    assert.ok(probe === 503 || String(probe).startsWith("refused"), `draining: ${probe}`);
    const final = await stream.finalMessage().catch(async (error) => {
      throw new Error(`${error}: ${await fx.gateway.exited} ${fx.gateway.stderr()} ${JSON.stringify(types)}`);
    });
    assert.equal(types.at(-1), "message_stop");
    assert.equal(final.content[0]!.type === "text" && final.content[0]!.text, SLOW_TEXT.join(""));
    assert.equal(await fx.gateway.exited, 0, fx.gateway.stderr());
    // The client keeps its connection alive after the answer, and the spare one was never used: the drain closes both
    // once nothing runs on them, not at the deadline.
    assert.doesNotMatch(fx.gateway.stderr(), /drain deadline/);
    await spareClosed;
    await assert.rejects(fetch(`${fx.gateway.url}/v1/models`, { headers: { "x-api-key": fx.gateway.token } }));
    await fx.restartGateway();
  });

  it("shares spend with pi in one state dir: gateway, pi, gateway requests all add up in the ledger", async () => {
    const shared = makeAgentDir({
      providers: { "mock-a": fx.providers["mock-a"]! },
      routes: { routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } },
    });
    const own = await startGatewayProcess({ agentDir: shared.agentDir });
    try {
      openaiTarget.reset();
      const client = new OpenAI({ baseURL: `${own.url}/v1`, apiKey: own.token, maxRetries: 0 });
      await client.chat.completions.create({
        model: "main",
        messages: [{ role: "user", content: "from the gateway" }],
      });
      const run = await runPi({ agentDir: shared.agentDir, args: ["--model", "auto-router/main", "-p", "from pi"] });
      assert.equal(run.code, 0, run.stderr);
      await client.chat.completions.create({
        model: "main",
        messages: [{ role: "user", content: "from the gateway again" }],
      });
    } finally {
      assert.equal(await own.stop(), 0);
    }
    try {
      assert.equal(openaiTarget.calls.length, 3);
      const ledger = parseLedger(
        JSON.parse(readFileSync(join(shared.agentDir, "extensions", "auto-router.usage.json"), "utf8")),
      );
      const spend = providerSpend(ledger, calendarKeys(Date.now(), undefined), "mock-a");
      assert.equal(spend.day.requests, 3);
      assert.ok(Math.abs(spend.day.costUsd - 3 * COST_PER_ANSWER_USD) < 1e-9, String(spend.day.costUsd));
      const sessions = new Set(
        readLoggedEvents(shared.agentDir)
          .filter((event) => event.type === "final")
          .map((event) => event.sessionId),
      );
      assert.equal(sessions.size, 2, "one session for the gateway, one for pi");
    } finally {
      shared.cleanup();
    }
  });
});

describe("gateway lifecycle, short limits (gateway.idleTimeoutMs, gateway.drainTimeoutMs)", () => {
  let fx: GatewayFixture<"A">;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "anthropic" },
      providers: { "mock-a": { emulator: "A", apiKey: "sk-ant-mock-a-key-000002", models: ["model-a"] } },
      routes: {
        routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } },
        // 2 s idle: short against the 120 s default, long enough that a gateway starved of CPU on a busy machine
        // still answers the streaming test's request before its socket counts as idle.
        gateway: { idleTimeoutMs: 2_000, drainTimeoutMs: 300 },
      },
    });
  });
  after(() => fx?.stop());

  it("closes a connection that sends nothing within idleTimeoutMs", async () => {
    // An idle TCP connection is what no SDK client leaves behind on purpose: a raw socket stands for it.
    const socket = connect(Number(new URL(fx.gateway.url).port), "127.0.0.1");
    await once(socket, "connect");
    let cutByTest = false;
    const cutOff = setTimeout(() => {
      cutByTest = true;
      socket.destroy();
    }, 10_000);
    await once(socket, "close");
    clearTimeout(cutOff);
    assert.equal(cutByTest, false, "the gateway closed the idle connection (the default would wait 120 s)");
  });

  it("closes a kept-alive connection that sends nothing within idleTimeoutMs after its answer", async () => {
    const socket = connect(Number(new URL(fx.gateway.url).port), "127.0.0.1");
    await once(socket, "connect");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n");
    let cutByTest = false;
    // Node's keep-alive default is 72 s: far beyond this.
    const cutOff = setTimeout(() => {
      cutByTest = true;
      socket.destroy();
    }, 15_000);
    await once(socket, "close");
    clearTimeout(cutOff);
    assert.match(received, /^HTTP\/1\.1 200 OK\r\n[\s\S]*Keep-Alive: timeout=2\r\n/i, received);
    assert.equal(cutByTest, false, "the gateway closed the idle kept-alive connection");
  });

  it("waits longer than idleTimeoutMs for a target's answer to a request sent whole, streamed or not", async () => {
    // 8 deltas 0.5 s apart: the gateway is silent towards a non-streaming client for 4 s, twice the idle timeout.
    const slow = { text: Array.from({ length: 8 }, (_, index) => `word${index} `), chunkDelayMs: 500 };
    fx.emulators.A.enqueue(slow);
    fx.emulators.A.enqueue(slow);
    const messages = [{ role: "user" as const, content: "take your time" }];
    const [anthropic, openai] = await Promise.all([
      fx.anthropic.messages.create({ model: "main", max_tokens: 100, messages }),
      fx.openai.chat.completions.create({ model: "main", messages }),
    ]);
    const expected = slow.text.join("");
    assert.equal(anthropic.content[0]?.type === "text" ? anthropic.content[0].text : "", expected);
    assert.equal(openai.choices[0]?.message.content, expected);
  });

  it("still closes a connection whose answer started and then stayed silent for idleTimeoutMs", async () => {
    // The second delta comes 5 s after the first: the answer under way is silent for longer than the 2 s.
    fx.emulators.A.enqueue({ text: ["first ", "second "], chunkDelayMs: 5_000 });
    let text = "";
    const ended = await (async () => {
      const stream = await fx.openai.chat.completions.create({
        model: "main",
        stream: true,
        messages: [{ role: "user", content: "pause midway" }],
      });
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    })().then(
      () => "complete",
      (error: unknown) => String(error),
    );
    assert.equal(text, "first ");
    assert.notEqual(ended, "complete", "the stream was cut, not waited for");
  });

  it("on SIGTERM, ends what still runs after drainTimeoutMs with an error its client may retry, and exits 0", async () => {
    // 200 deltas 0.1 s apart (each gap shorter than the idle timeout): 20 s of answer, far longer than the 0.3 s the
    // gateway may drain. Three requests: an Anthropic stream (passed through), a Chat Completions stream (translated)
    // and a Chat Completions request without streaming (translated, its answer not started for the client).
    const slow = { text: Array.from({ length: 200 }, (_, index) => `word${index} `), chunkDelayMs: 100 };
    fx.reset(); // the calls of the tests before
    for (let index = 0; index < 3; index++) fx.emulators.A.enqueue(slow);
    const messages = [{ role: "user" as const, content: "count slowly" }];
    const { stream, types } = await streamUntilFirstText(fx.anthropic, "main", {
      content: "count slowly",
      expectCut: true,
    });
    const chat = await fx.openai.chat.completions.create({ model: "main", stream: true, messages });
    let chatText = "";
    const chatEnd = (async () => {
      for await (const chunk of chat) chatText += chunk.choices[0]?.delta?.content ?? "";
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    const plain = fx.openai.chat.completions.create({ model: "main", messages }).then(
      () => undefined,
      (error: unknown) => error,
    );
    await until(() => chatText !== "" && fx.emulators.A.calls.length === 3, "every request under way");
    fx.gateway.child.kill("SIGTERM");
    const anthropicEnd = await stream.finalMessage().then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(!types.includes("message_stop"), `the stream was cut, not drained to its end (${types.join(", ")})`);
    assert.match(String(anthropicEnd), /the gateway is shutting down: retry the request/);
    assert.match(String(await chatEnd), /the gateway is shutting down: retry the request/);
    const unstreamed = await plain;
    assert.ok(unstreamed instanceof OpenAI.APIError && unstreamed.status === 503, String(unstreamed));
    assert.match(unstreamed.message, /the gateway is shutting down: retry the request/);
    assert.equal(await fx.gateway.exited, 0, fx.gateway.stderr());
    assert.match(
      fx.gateway.stderr(),
      /drain deadline \(gateway\.drainTimeoutMs 300 ms\) reached: ending 3 requests still in flight/,
    );
    // The access lines of the two streams the deadline cut say so: their 200 was no whole answer.
    const streamed = fx.gateway
      .stderr()
      .split("\n")
      .filter((line) => /^POST \/v1\/(messages|chat\/completions) route=main 200 /.test(line))
      .slice(-2);
    assert.equal(streamed.length, 2, fx.gateway.stderr());
    for (const line of streamed) assert.match(line, / cut-off \d+ms$/);
  });
});

/**
 * A client's fetch over one kept-alive connection that sends its next request while the answer before it still
 * streams (HTTP/1.1 pipelining): a request that reaches the gateway during its drain without racing the listener's
 * close. undici pipelines only requests with a body in hand that it may send again: each is marked so (no client
 * here retries), and undici's own fetch would hand its body over as a stream.
 */
function pipelinedConnection(origin: string): { fetch: typeof fetch; close(): Promise<void> } {
  const client = new Client(origin, { pipelining: 2 });
  const pipelined = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const answer = await client.request({
      method: (init.method ?? "GET") as "GET",
      path: `${url.pathname}${url.search}`,
      headers: Object.fromEntries(new Headers(init.headers)),
      body: init.body as string | undefined,
      signal: init.signal ?? undefined,
      idempotent: true,
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers))
      for (const one of [value ?? []].flat()) headers.append(name, one);
    return new Response(Readable.toWeb(answer.body) as ReadableStream, { status: answer.statusCode, headers });
  };
  return { fetch: pipelined as typeof fetch, close: () => client.destroy() };
}

describe("gateway lifecycle: a request that arrives during the drain", () => {
  let fx: GatewayFixture<"A">;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai" },
      providers: { "mock-a": { emulator: "A", apiKey: "sk-mock-a-key-000000000003", models: ["model-a"] } },
      routes: { routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } },
    });
  });
  after(() => fx?.stop());

  it("gets the shutdown error in its client's format, with Retry-After, x-should-retry and its access line", async () => {
    const messages = [{ role: "user" as const, content: "hi" }];
    // One connection per client, each holding a stream whose target stalls after its first word: the drain waits for
    // them, and the next request on each connection reaches the gateway while it drains.
    const connections = Array.from({ length: 4 }, () => pipelinedConnection(fx.gateway.url));
    const openai = (index: number) =>
      new OpenAI({
        baseURL: `${fx.gateway.url}/v1`,
        apiKey: fx.gateway.token,
        maxRetries: 0,
        fetch: connections[index]!.fetch,
      });
    try {
      const held: Array<Promise<unknown>> = [];
      for (let index = 0; index < connections.length; index++) {
        fx.emulators.A.enqueue({ text: ["first ", "never "], stallAfterChunks: 1 });
        const stream = await openai(index).chat.completions.create({ model: "main", stream: true, messages });
        const chunks = stream[Symbol.asyncIterator]();
        await chunks.next();
        held.push(
          (async () => {
            while (!(await chunks.next()).done);
          })().catch(() => undefined),
        );
      }
      fx.gateway.child.kill("SIGTERM");
      await until(() => /SIGTERM: draining/.test(fx.gateway.stderr()), "the drain");
      const anthropic = new Anthropic({
        baseURL: fx.gateway.url,
        apiKey: fx.gateway.token,
        maxRetries: 0,
        fetch: connections[0]!.fetch,
      });
      const refused = [
        anthropic.messages.create({ model: "main", max_tokens: 10, messages }),
        openai(1).chat.completions.create({ model: "main", messages }),
        openai(2).responses.create({ model: "main", input: "hi" }),
        openai(3).embeddings.create({ model: "main", input: "hi" }), // the wildcard proxy's path
      ].map((request) =>
        request.then(
          () => assert.fail("answered during the drain"),
          (error: unknown) => error,
        ),
      );
      // Each is answered at once (its error line says so); the answer goes out after the stream before it.
      const shutdownLines = () =>
        fx.gateway.stderr().match(/^error POST \S+: the gateway is shutting down: retry the request$/gm) ?? [];
      await until(() => shutdownLines().length === 4, "the four requests refused");
      await fx.emulators.A.close(); // the stalled targets go away: the held streams end
      const [fromAnthropic, ...fromOpenAI] = await Promise.all(refused);
      for (const error of [fromAnthropic, ...fromOpenAI] as any[]) {
        assert.equal(error.status, 503, String(error));
        assert.equal(error.headers.get("retry-after"), "1");
        assert.equal(error.headers.get("x-should-retry"), "true");
      }
      assert.ok(fromAnthropic instanceof Anthropic.APIError);
      assert.equal((fromAnthropic.error as any).error.type, "overloaded_error");
      assert.equal((fromAnthropic.error as any).error.message, "the gateway is shutting down: retry the request");
      for (const error of fromOpenAI) {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal((error.error as any).type, "server_error");
        assert.equal((error.error as any).message, "the gateway is shutting down: retry the request");
      }
      await Promise.all(held);
      assert.equal(await fx.gateway.exited, 0, fx.gateway.stderr());
      for (const path of ["/v1/messages", "/v1/chat/completions", "/v1/responses", "/v1/embeddings"])
        assert.match(fx.gateway.stderr(), new RegExp(`^POST ${path} 503 \\d+ms$`, "m"), fx.gateway.stderr());
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
    }
  });
});

describe("gateway lifecycle: requests waiting for a resting target when the drain begins", () => {
  let fx: GatewayFixture<"A">;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai" },
      providers: { "mock-a": { emulator: "A", apiKey: "sk-mock-a-key-000000000004", models: ["model-a"] } },
      routes: {
        routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } },
        providers: { "mock-a": { endpointPrefixes: ["/v1/embeddings"] } },
        // The wait (20 s) is within cooldownWaitMs and the drain deadline (30 s each, the defaults): without ending the
        // waits at once, the drain would hold both requests until their target is back and then serve them.
      },
    });
  });
  after(() => fx?.stop());

  it("end at once with the shutdown error, and the gateway exits without reaching the drain deadline", async () => {
    fx.emulators.A.enqueue({ status: 429, errorMessage: "Rate limit reached", retryAfterSeconds: 20 });
    const chat = fx.openai.chat.completions.create({ model: "main", messages: [{ role: "user", content: "hi" }] }).then(
      () => assert.fail("served after the wait"),
      (error: unknown) => error,
    );
    const waits = () => readLoggedEvents(fx.agentDir).filter((event) => event.type === "wait");
    await until(() => waits().length === 1, "the chat request's wait");
    // Its target now rests: a proxied request on the same route waits for it too, without an attempt.
    const proxied = fx.openai.embeddings.create({ model: "main", input: "hi" }).then(
      () => assert.fail("served after the wait"),
      (error: unknown) => error,
    );
    await until(() => waits().length === 2, "the proxied request's wait");
    fx.gateway.child.kill("SIGTERM");
    for (const error of (await Promise.all([chat, proxied])) as any[]) {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.equal(error.status, 503);
      assert.equal(error.headers.get("retry-after"), "1");
      assert.equal(error.headers.get("x-should-retry"), "true");
      assert.equal(error.headers.get("x-auto-router-route"), "main");
      assert.equal((error.error as any).message, "the gateway is shutting down: retry the request");
    }
    assert.equal(await fx.gateway.exited, 0, fx.gateway.stderr());
    assert.doesNotMatch(fx.gateway.stderr(), /drain deadline/);
    assert.equal(fx.emulators.A.calls.length, 1, "the resting target was not called again");
  });
});
