// The gateway's wildcard proxy, driven by the official OpenAI npm client against two upstream servers that serve
// /v1/embeddings and /v1/files: the first answers 429, the second serves, and the engine's failover, retry headers
// and cooldowns apply as they do for chat.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { request as httpRequest } from "node:http";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { startUpstream, type Upstream } from "../helpers/endpoint-upstream.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";

describe("gateway wildcard proxy with the official OpenAI client", () => {
  let first: Upstream;
  let second: Upstream;
  let third: Upstream;
  /** Serves an Anthropic-style provider (x-api-key) and an Ollama one; `elsewhere` is another host it redirects to. */
  let fourth: Upstream;
  let elsewhere: Upstream;
  let fx: GatewayFixture<never>;

  before(async () => {
    [first, second, third, fourth, elsewhere] = await Promise.all(
      ["A", "B", "C", "D", "E"].map((name) => startUpstream(name)),
    );
    // Whole provider entries: the upstreams are this file's own servers, not the fixture's emulators.
    fx = await startGatewayFixture({
      emulators: {},
      providers: {
        "embed-a": {
          baseUrl: first.url,
          api: "openai-completions",
          apiKey: "sk-embed-a-key-0000000001",
          models: [{ id: "embed-small" }],
        },
        "embed-b": {
          baseUrl: second.url,
          api: "openai-completions",
          apiKey: "sk-embed-b-key-0000000002",
          // embed-keyless: the model the tests whose key is refused (401) use, resting it for 30 minutes.
          models: [{ id: "embed-large" }, { id: "embed-keyless" }],
        },
        "embed-c": {
          baseUrl: third.url,
          api: "openai-completions",
          apiKey: "sk-embed-c-key-0000000003",
          models: [{ id: "uploader" }],
        },
        anth: {
          baseUrl: fourth.url.replace(/\/v1$/, ""), // as Anthropic's own: no version in the base URL
          api: "anthropic-messages",
          apiKey: "sk-ant-anth-key-0000000004",
          models: [{ id: "claude-batch" }],
        },
        // Nothing listens on port 9 of the loopback: every attempt is a network error.
        "embed-dead": {
          baseUrl: "http://127.0.0.1:9/v1",
          api: "openai-completions",
          apiKey: "sk-embed-dead-key-0000000006",
          models: [{ id: "embed-x" }],
        },
        // Two speech-to-text providers on the upstreams C and B, for form uploads (audio transcriptions).
        "speech-a": {
          baseUrl: third.url,
          api: "openai-completions",
          apiKey: "sk-speech-a-key-0000000007",
          models: [{ id: "whisper-a" }],
        },
        "speech-b": {
          baseUrl: second.url,
          api: "openai-completions",
          apiKey: "sk-speech-b-key-0000000008",
          models: [{ id: "whisper-b" }],
        },
        // pi's usual Ollama entry: its OpenAI-compatible API under /v1, its own API (/api/chat) beside it.
        ollama: {
          baseUrl: fourth.url,
          api: "openai-completions",
          apiKey: "ollama-local-key-0000000005",
          models: [{ id: "llama3" }],
        },
      },
      routes: {
        routes: {
          // Embeddings models: a chat probe of theirs could only fail, so health probes leave them out.
          embed: {
            sortBy: "config",
            targets: routeInOrder("embed-a/embed-small", "embed-b/embed-large").targets.map((target) => ({
              ...target,
              probe: false,
            })),
          },
          uploads: routeInOrder("embed-c/uploader", "embed-b/embed-large"),
          // Both advertise /v1/files; a server error rests nothing here, so no other test meets a resting target.
          files: {
            ...routeInOrder("embed-c/uploader", "embed-b/embed-large"),
            failover: { kinds: { server: { cooldownMs: 0 } } },
          },
          mis: routeInOrder("embed-b/embed-large", "embed-dead/embed-x"),
          stalled: { ...routeInOrder("embed-b/embed-large"), timeouts: { stallMs: 1_000 } },
          // A server error rests nothing: the next test's upload goes to speech-a again.
          audio: {
            sortBy: "config",
            targets: routeInOrder("speech-a/whisper-a", "speech-b/whisper-b").targets.map((target) => ({
              ...target,
              probe: false,
            })),
            failover: { kinds: { server: { cooldownMs: 0 } } },
          },
        },
        // Longer than the router waits for a cooling target: a dead target's error comes back at once.
        failover: { kinds: { network: { cooldownMs: 120_000 } } },
        // A client's own model name for the audio route, which is its first target's model id too.
        gateway: { bodyLimitBytes: 100_000, models: { "whisper-a": "audio" } },
        providers: {
          "embed-a": { endpointPrefixes: ["/v1/embeddings"] },
          "embed-b": { endpointPrefixes: ["/v1/embeddings", "/v1/files"] },
          "embed-c": { endpointPrefixes: ["/v1/files"] },
          anth: { endpointPrefixes: ["/v1/messages/batches"] },
          ollama: { endpointPrefixes: ["/api/chat"] },
          "embed-dead": { endpointPrefixes: ["/v1/embeddings"] },
          "speech-a": { endpointPrefixes: ["/v1/audio/transcriptions"] },
          "speech-b": { endpointPrefixes: ["/v1/audio/transcriptions"] },
        },
      },
    });
  });
  after(async () => {
    await fx?.stop();
    await Promise.all([first, second, third, fourth, elsewhere].map((upstream) => upstream?.close()));
  });
  beforeEach(() => {
    for (const upstream of [first, second, third, fourth, elsewhere]) {
      upstream.calls.length = 0;
      upstream.downloads.length = 0;
      upstream.replies.length = 0;
    }
  });

  it("proxies embeddings to the second provider after the first answers 429, with its own key and model id", async () => {
    // The body's generic `server_error` type (as proxies wrap every upstream error) does not make a 429 a server
    // fault: it is a rate limit, and cools the target down as one (the next test).
    first.replies.push({ status: 429, body: { error: { message: "Slow down", type: "server_error" } } });
    const { data, response } = await fx.openai.embeddings
      .create({ model: "auto-router/embed", input: "hello" })
      .withResponse();
    assert.deepEqual(data.data[0]!.embedding, [0.25, 0.5]);
    assert.equal(data.model, "embed-large");
    assert.equal(response.headers.get("x-auto-router-served-by"), "embed-b/embed-large");
    assert.deepEqual(
      JSON.parse(response.headers.get("x-auto-router-attempts")!).map((a: { kind?: string; status?: number }) => [
        a.kind,
        a.status,
      ]),
      [
        ["rate_limit", 429],
        [undefined, 200],
      ],
    );
    assert.equal(first.calls.length, 1);
    assert.equal(second.calls[0]!.path, "/v1/embeddings");
    assert.equal(second.calls[0]!.headers.authorization, "Bearer sk-embed-b-key-0000000002");
    assert.equal(JSON.parse(second.calls[0]!.body).model, "embed-large");
    assert.equal(JSON.parse(second.calls[0]!.body).input, "hello");
    // The router's own request, in the event log like a chat request's: two attempts, their results, the final.
    const finalOf = () =>
      readLoggedEvents(fx.agentDir).find(
        (event) => event.type === "final" && event.data.notes?.includes("proxied POST /v1/embeddings"),
      );
    await until(() => finalOf() !== undefined, "the proxied request's final event");
    const final = finalOf();
    assert.equal(final.data.outcome, "success");
    assert.equal(final.data.servedTarget, "embed-b/embed-large");
    assert.equal(final.data.attempts, 2);
    assert.deepEqual(final.data.failureKinds, ["rate_limit"]);
    const results = readLoggedEvents(fx.agentDir).filter(
      (event) => event.type === "result" && event.requestId === final.requestId,
    );
    assert.deepEqual(
      results.map((event) => [event.data.target, event.data.outcome]),
      [
        ["embed-a/embed-small", "failed"],
        ["embed-b/embed-large", "success"],
      ],
    );
  });

  it("skips the first provider while its 429 cooldown lasts", async () => {
    await fx.openai.embeddings.create({ model: "embed", input: "again" });
    assert.equal(first.calls.length, 0);
    assert.equal(second.calls.length, 1);
  });

  it("tries only the route's targets whose provider advertises the path", async () => {
    // Route `uploads` lists embed-c first, which serves /v1/files only. The body's `provider` preferences (OpenRouter
    // grammar, as for chat) are the router's: they choose among its targets and are not sent on.
    const body = { model: "uploads", input: "hi", provider: { order: ["embed-b"] } };
    const { response } = await fx.openai.embeddings.create(body as never).withResponse();
    assert.equal(response.headers.get("x-auto-router-served-by"), "embed-b/embed-large");
    assert.equal(JSON.parse(response.headers.get("x-auto-router-attempts")!).length, 1);
    assert.equal(third.calls.length, 0);
    assert.equal(second.calls.length, 1);
    const sent = JSON.parse(second.calls[0]!.body);
    assert.equal("provider" in sent, false, "no provider field upstream");
    assert.equal(sent.model, "embed-large");
  });

  it("logs the decision it acts on: the planned target and candidates are only targets that advertise the path", async () => {
    // Route `uploads` lists embed-c first, which serves /v1/files only: it was never an option for embeddings.
    const { response } = await fx.openai.embeddings.create({ model: "uploads", input: "planned" }).withResponse();
    assert.equal(response.headers.get("x-auto-router-served-by"), "embed-b/embed-large");
    const finalOf = () =>
      [...readLoggedEvents(fx.agentDir)]
        .reverse()
        .find(
          (event) =>
            event.type === "final" &&
            event.routeId === "uploads" &&
            event.data.notes?.includes("proxied POST /v1/embeddings"),
        );
    await until(() => finalOf() !== undefined, "the proxied request's final event");
    const final = finalOf();
    const ofRequest = (type: string) =>
      readLoggedEvents(fx.agentDir).find((event) => event.type === type && event.requestId === final.requestId);
    assert.equal(ofRequest("decision").data.plannedTarget, "embed-b/embed-large");
    assert.equal(final.data.plannedTarget, "embed-b/embed-large");
    const listed = ofRequest("candidates").data;
    assert.deepEqual(
      [...listed.candidates, ...listed.skipped].map((entry: { key: string }) => entry.key),
      ["embed-b/embed-large"],
    );
  });

  it("says in a 404 for the body's model that an X-Model sent beside it was not read", async () => {
    // The official client's embeddings.create always sends a model: the body's comes first on a proxied path.
    await assert.rejects(
      fx.openai.embeddings.create(
        { model: "text-embedding-3-small", input: "hi" },
        { headers: { "X-Model": "embed-b/embed-large" } },
      ),
      (error: any) => {
        assert.equal(error.status, 404);
        assert.match(error.message, /model "text-embedding-3-small" is not served here/);
        assert.match(
          error.message,
          /the `X-Model` header "embed-b\/embed-large" was not read: on a proxied path the body's model comes first/,
        );
        return true;
      },
    );
    assert.equal(first.calls.length + second.calls.length, 0);
  });

  it("sends a JSON array body on as it came (its route named by X-Model)", async () => {
    await fx.openai.post("/embeddings", { body: ["first", "second"], headers: { "X-Model": "embed-b/embed-large" } });
    assert.equal(second.calls.length, 1);
    assert.equal(second.calls[0]!.body, '["first","second"]');
  });

  it("sends a JSON body that is a string, a number or a boolean on as its own bytes", async () => {
    const bodies = ["str", 'a"b', 42, true];
    for (const body of bodies)
      await fx.openai.post("/embeddings", { body, headers: { "X-Model": "embed-b/embed-large" } });
    assert.deepEqual(
      second.calls.map((call) => [call.body, call.headers["content-type"]]),
      bodies.map((body) => [JSON.stringify(body), "application/json"]),
    );
  });

  it("gives up on a target that sends no status within the route's stall timeout, and the client's retry is served at once", async () => {
    second.replies.push({ status: 200, body: {}, hang: true });
    // The route's only target does not rest for the timeout: the 503 names no Retry-After, and the client's own retry
    // (sent here at once) reaches the target again.
    await assert.rejects(fx.openai.embeddings.create({ model: "stalled", input: "hi" }), (error: any) => {
      assert.equal(error.status, 503);
      assert.match(
        error.message,
        /every target of route stalled failed \(embed-b\/embed-large: timeout\); retrying later may succeed/,
      );
      assert.equal(error.headers.get("retry-after"), null);
      return true;
    });
    const answer = await fx.openai.embeddings.create({ model: "stalled", input: "hi" });
    assert.equal(answer.model, "embed-large");
    assert.equal(second.calls.length, 2, "the silent attempt was given up and the target asked again");
    await until(
      () =>
        readLoggedEvents(fx.agentDir).some(
          (event) =>
            event.type === "result" &&
            event.data.failureKind === "timeout" &&
            /no response from embed-b\/embed-large within 1000 ms/.test(event.data.message ?? ""),
        ),
      "the timed-out attempt in the event log",
    );
  });

  it("sends a request without a model to the first provider advertising the path, keeping the query string", async () => {
    // The client's cookies and other providers' key headers never go upstream; its other headers do.
    const file = await fx.openai.files.retrieve("file-abc", {
      query: { include: "meta" },
      headers: {
        cookie: "session=local-app",
        "x-goog-api-key": "client-own-key",
        "api-key": "azure-key",
        "x-auth-token": "client-private-token-1234",
        "x-trace": "t1",
      },
    } as never);
    assert.equal(file.filename, "B.txt");
    assert.equal(second.calls[0]!.method, "GET");
    assert.equal(second.calls[0]!.path, "/v1/files/file-abc?include=meta");
    assert.equal(second.calls[0]!.headers.authorization, "Bearer sk-embed-b-key-0000000002");
    const sent = second.calls[0]!.headers;
    assert.deepEqual(
      [sent.cookie, sent["x-goog-api-key"], sent["api-key"], sent["x-auth-token"], sent["x-trace"]],
      [undefined, undefined, undefined, undefined, "t1"],
    );
  });

  it("sends a GET naming a route to its first target advertising the path alone, never failed over to another provider", async () => {
    // The file is embed-c's: embed-b's answer would be its own 404 (or another account's file), not a failover.
    third.replies.push({ status: 500, body: { error: { message: "The server had an error" } } });
    await assert.rejects(
      fx.openai.files.retrieve("file-abc", { headers: { "X-Model": "files" } }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError && error.status === 500, String(error));
        assert.match(error.message, /The server had an error/);
        assert.deepEqual(
          JSON.parse(error.headers!.get("x-auto-router-attempts")!).map((a: { target: string }) => a.target),
          ["embed-c/uploader"],
        );
        return true;
      },
    );
    assert.equal(third.calls.length, 1);
    assert.equal(second.calls.length, 0);
    // Once it answers, it serves the route's GET; the other provider is never asked.
    const file = await fx.openai.files.retrieve("file-abc", { headers: { "X-Model": "files" } });
    assert.equal(file.filename, "C.txt");
    assert.equal(second.calls.length, 0);
    // Provider preferences that leave embed-c out: the first target they allow holds it (not a 400 for embed-c).
    const allowed = await fx.openai.files.retrieve("file-abc", {
      headers: { "X-Model": "files", "X-Provider": JSON.stringify({ ignore: ["embed-c"] }) },
    });
    assert.equal(allowed.filename, "B.txt");
    assert.equal(third.calls.length, 2);
  });

  it("leaves a target with probe: false out of health probes, so an embeddings-only provider is not reported failing", async () => {
    const response = await fetch(`${fx.gateway.url}/health/providers?probe=1`, {
      headers: { authorization: `Bearer ${fx.gateway.token}` },
    });
    const health = (await response.json()) as { providers: Array<{ provider: string; ok: boolean; targets: any[] }> };
    const embedA = health.providers.find((line) => line.provider === "embed-a")!;
    assert.deepEqual(
      embedA.targets.map((target) => [target.key, target.probeOff, target.probe]),
      [["embed-a/embed-small", true, undefined]],
    );
    assert.equal(embedA.ok, true);
    assert.deepEqual(first.calls, [], "no chat request reached the embeddings provider");
    // A target without it is probed as before.
    const uploads = health.providers.find((line) => line.provider === "embed-c")!;
    assert.notEqual(uploads.targets[0].probe, undefined);
  });

  it("answers a path no provider advertises with a 404 naming the path and the proxied prefixes", async () => {
    await assert.rejects(
      fx.openai.post("/rerank", { body: { query: "q", documents: ["a"] } }),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError &&
        error.code === "unknown_url" && // OpenAI's code for an unknown URL, not model_not_found
        /no endpoint POST \/v1\/rerank: no provider advertises it/.test(error.message) &&
        /embed-b: \/v1\/embeddings, \/v1\/files/.test(error.message),
    );
    // The client's model is the problem: the answer says so (embed-c, which serves /v1/files, is not it).
    await assert.rejects(
      fx.openai.files.list({}, { headers: { "X-Model": "embed-a/embed-small" } }),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError &&
        /no endpoint GET \/v1\/files: the provider of model embed-a\/embed-small does not advertise it/.test(
          error.message,
        ),
    );
    assert.equal(first.calls.length + second.calls.length + third.calls.length, 0);
  });

  it("logs a long path cut at 200 characters after redacting it, so no start of a key the cut went through remains", async () => {
    const key = `sk-or-v1-${"0123456789abcdef".repeat(4)}`;
    // With /v1 before it, the key starts 20 characters before the cut: too few to be told a key after it.
    const path = `/rerank/${"p".repeat(168)}/${key}`;
    await assert.rejects(
      fx.openai.get(path),
      (error: unknown) => error instanceof OpenAI.NotFoundError && /no provider advertises it/.test(error.message),
    );
    await until(() => /GET \/v1\/rerank\/p+.* 404 /.test(fx.gateway.stderr()), "the access line");
    assert.match(fx.gateway.stderr(), /GET \/v1\/rerank\/p{168}\/\[REDACTED\]/);
    assert.equal(fx.gateway.stderr().includes(key.slice(0, 10)), false, "no start of the key in the log");
  });

  it("rests a target whose key is refused (401) with a warning, failing over, and redacts the key it quotes", async () => {
    second.replies.push({
      status: 401,
      body: {
        error: { message: "Incorrect API key provided: sk-embed-b-key-0000000002", type: "invalid_request_error" },
      },
    });
    await assert.rejects(
      fx.openai.embeddings.create({ model: "embed-b/embed-keyless", input: "hi" }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.AuthenticationError, String(error));
        // Its only target failed: the target's own answer is passed back, redacted.
        assert.equal(error.message, "401 Incorrect API key provided: [REDACTED]");
        assert.deepEqual(
          JSON.parse(error.headers!.get("x-auto-router-attempts")!).map((attempt: any) => [
            attempt.target,
            attempt.kind,
          ]),
          [["embed-b/embed-keyless", "auth"]],
        );
        return true;
      },
    );
    assert.equal(second.calls.length, 1);
    // The router's own key was refused: the target rests (30 minutes) and the operator is told, as on the chat paths.
    const resultOf = () =>
      [...readLoggedEvents(fx.agentDir)]
        .reverse()
        .find(
          (event) =>
            event.type === "result" &&
            event.data.target === "embed-b/embed-keyless" &&
            event.data.outcome === "failed" &&
            event.data.failureKind === "auth",
        );
    await until(() => resultOf() !== undefined, "the refused key's result event");
    assert.equal(resultOf().data.cooldownMs, 30 * 60_000);
    await until(
      () =>
        /embed-b\/embed-keyless rejected its credentials or access \(Incorrect API key provided: \[REDACTED\]\)/.test(
          fx.gateway.stderr(),
        ),
      "the warning on the gateway's log",
    );
    await assert.rejects(
      fx.openai.embeddings.create({ model: "embed-b/embed-keyless", input: "again" }),
      (error: unknown) => error instanceof OpenAI.APIError && /resting \(credentials rejected\)/.test(error.message),
    );
    assert.equal(second.calls.length, 1, "not asked again while it rests");
  });

  it("refuses an upload over gateway.bodyLimitBytes with 413, whether its length is declared or not", async () => {
    const big = Buffer.alloc(150_000, "a");
    await assert.rejects(
      fx.openai.files.create(
        { file: await toFile(big, "big.jsonl"), purpose: "batch" },
        { headers: { "X-Model": "uploads" } },
      ),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError && error.status === 413, `declared: ${error}`);
        assert.match(error.message, /larger than the gateway's limit of 100000 bytes \(gateway\.bodyLimitBytes/);
        return true;
      },
    );
    // A body streamed without a length: cut where it passes the limit, and answered 413 all the same.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let index = 0; index < 15; index++) controller.enqueue(new Uint8Array(10_000).fill(98));
        controller.close();
      },
    });
    await assert.rejects(
      fx.openai.post("/files", {
        body: chunks,
        headers: { "X-Model": "uploads", "content-type": "application/octet-stream" },
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError && error.status === 413, String(error));
        return true;
      },
    );
    for (const call of third.calls) assert.ok(call.body.length <= 100_000, "no more than the limit reached the target");
    // The client's oversized upload is no failure of the target: no cooldown, the next upload goes to it.
    const calls = third.calls.length;
    const small = await fx.openai.files.create(
      { file: await toFile(Buffer.from("{}\n"), "small.jsonl"), purpose: "batch" },
      { headers: { "X-Model": "uploads" } },
    );
    assert.equal(small.filename, "C.txt");
    assert.equal(third.calls.length, calls + 1);
  });

  it("forwards an upload whose client sends Expect: 100-continue, as curl does with large bodies", async () => {
    // curl, a real client operators use: the gateway answers the 100 Continue itself and sends the body on.
    const { stdout } = await promisify(execFile)("curl", [
      "-sS",
      "-w",
      "\n%{http_code}",
      `${fx.gateway.url}/v1/files`,
      "-H",
      `Authorization: Bearer ${fx.gateway.token}`,
      "-H",
      "X-Model: uploads",
      "-H",
      "Content-Type: application/octet-stream",
      "-H",
      "Expect: 100-continue",
      "--data-binary",
      "upload-body",
    ]);
    assert.equal(stdout.split("\n").at(-1), "200", stdout);
    const call = third.calls.at(-1)!;
    assert.equal(call.body, "upload-body");
    assert.equal(call.headers.expect, undefined);
  });

  it("never passes back the key it sent the target, even in a 200 body that echoes the request", async () => {
    // A debug endpoint of the upstream host, reached through the proxy: its answer quotes the Authorization header
    // the gateway sent, split across two writes in the middle of the key.
    const echoed = (await fx.openai.get("/files/echo", { headers: { "X-Model": "embed-b/embed-large" } })) as {
      headers: Record<string, string>;
    };
    assert.equal(second.calls.length, 0, "the echo path answers without a recorded call");
    assert.equal(echoed.headers.authorization, "Bearer [REDACTED]");
    assert.doesNotMatch(JSON.stringify(echoed), /sk-embed-b-key|0000000002/);
  });

  it("passes a non-retryable upstream 400 through unchanged, without failing over", async () => {
    second.replies.push({
      status: 400,
      body: { error: { message: "input is too long", type: "invalid_request_error" } },
    });
    // Route `mis` has embed-dead after embed-b: a failover would end in its network error, not the 400.
    await assert.rejects(
      fx.openai.embeddings.create({ model: "mis", input: "x".repeat(10) }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && /input is too long/.test(error.message),
    );
    assert.equal(second.calls.length, 1);
  });
  it("passes a refusal of encrypted reasoning back as the target's answer, without the part of it OpenAI quotes", async () => {
    second.replies.push({
      status: 400,
      body: {
        error: {
          message: "The encrypted content gAAA...DQ== could not be verified.",
          type: "invalid_request_error",
          param: null,
          code: "invalid_encrypted_content",
        },
      },
    });
    await assert.rejects(fx.openai.embeddings.create({ model: "mis", input: "x" }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal(error.message, "400 The encrypted content [REDACTED] could not be verified.");
      return true;
    });
    assert.equal(second.calls.length, 1);
  });

  it("aborts the upstream download when the client disconnects from a proxied stream, and counts it as no failure", async () => {
    const controller = new AbortController();
    const response = await fx.openai.files.content("file-big", { signal: controller.signal });
    const reader = response.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /^chunk 0/);
    controller.abort();
    await reader.cancel().catch(() => {});
    // The gateway notices the closed client connection and aborts its upstream request.
    while (second.downloads[0]?.ended === "open") await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(
      second.downloads.map((download) => download.ended),
      ["closed-by-client"],
    );
    // No cooldown or breaker entry for the provider: the next request is still proxied to it.
    const file = await fx.openai.files.retrieve("file-abc");
    assert.equal(file.filename, "B.txt");
    assert.equal(second.calls.length, 1);
  });

  it("streams a file upload through once: a 429 from the target is passed back, never resent to another", async () => {
    // retry-after 0: no rest for embed-c, which a later test needs (a cooling target is waited for, up to 30 s).
    third.replies.push({
      status: 429,
      body: { error: { message: "Too many uploads", type: "rate_limit_error" } },
      headers: { "retry-after": "0" },
    });
    const bytes = Buffer.from('{"custom_id":"1"}\n'.repeat(2_000));
    await assert.rejects(
      fx.openai.files.create(
        { file: await toFile(bytes, "batch.jsonl"), purpose: "batch" },
        { headers: { "X-Model": "uploads" } },
      ),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.RateLimitError && /Too many uploads/.test(error.message));
        // One attempt, no other target tried: the body was streamed to the first and cannot be replayed.
        assert.deepEqual(
          JSON.parse(error.headers!.get("x-auto-router-attempts")!).map((a: { target: string }) => a.target),
          ["embed-c/uploader"],
        );
        return true;
      },
    );
    assert.equal(third.calls.length, 1);
    assert.equal(second.calls.length, 0); // the next target of the route: the body cannot be replayed
    // Sent on as it came (multipart, streamed: chunked upstream, not buffered into one length-framed body).
    assert.match(String(third.calls[0]!.headers["content-type"]), /^multipart\/form-data; boundary=/);
    assert.equal(third.calls[0]!.headers["transfer-encoding"], "chunked");
    assert.ok(third.calls[0]!.body.includes(bytes.toString()), "the file's bytes reach the target whole");
    assert.equal(third.calls[0]!.headers.authorization, "Bearer sk-embed-c-key-0000000003");
  });

  /** The form field `name`'s value in a multipart body the upstream got, or undefined when it has none. */
  const formField = (body: string, name: string) =>
    new RegExp(`name="${name}"\\r\\n\\r\\n([^\\r]*)\\r\\n--`).exec(body)?.[1];
  const transcribed = { status: 200, body: { text: "hello" } };
  const wav = () => toFile(Buffer.from("RIFF....WAVEfmt "), "hello.wav", { type: "audio/wav" });

  it("routes a form upload without X-Model by its own model field, sent after the file as the openai client sends it", async () => {
    // The route's name in the field: the first target gets its own model id there, the file whole.
    third.replies.push(transcribed);
    const { data, response } = await fx.openai.audio.transcriptions
      .create({ file: await wav(), model: "auto-router/audio" })
      .withResponse();
    assert.equal(data.text, "hello");
    assert.equal(response.headers.get("x-auto-router-route"), "audio");
    assert.equal(third.calls.length, 1);
    const [sent] = third.calls;
    assert.equal(sent!.path, "/v1/audio/transcriptions");
    assert.equal(sent!.headers.authorization, "Bearer sk-speech-a-key-0000000007");
    assert.equal(formField(sent!.body, "model"), "whisper-a");
    assert.ok(sent!.body.indexOf("RIFF....WAVEfmt ") < sent!.body.indexOf('name="model"'), "the file first, as sent");
    assert.doesNotMatch(sent!.body, /auto-router\/audio/);
    // Read whole (only the form's end follows its model field), it is resent by a failover: the target that answers
    // 500 is followed by the route's next, with its own model id in the field.
    third.replies.push({ status: 500, body: { error: { message: "internal error", type: "server_error" } } });
    second.replies.push(transcribed);
    const failedOver = await fx.openai.audio.transcriptions.create({ file: await wav(), model: "audio" });
    assert.equal(failedOver.text, "hello");
    assert.equal(third.calls.length, 2);
    assert.equal(second.calls.length, 1);
    assert.equal(formField(second.calls[0]!.body, "model"), "whisper-b");
    assert.match(second.calls[0]!.body, /RIFF\.\.\.\.WAVEfmt /);
    assert.equal(second.calls[0]!.headers.authorization, "Bearer sk-speech-b-key-0000000008");
    // A `provider/model` in the field goes to that target, and a form whose model comes before its file is not held
    // past the field: the rest streams on (chunked), the other fields as they came.
    second.replies.push(transcribed);
    await fx.openai.audio.transcriptions.create({
      model: "speech-b/whisper-b",
      file: await wav(),
      response_format: "json",
    });
    const streamed = second.calls[1]!;
    assert.equal(formField(streamed.body, "model"), "whisper-b");
    assert.equal(formField(streamed.body, "response_format"), "json");
    assert.equal(streamed.headers["transfer-encoding"], "chunked");
    assert.equal(second.calls[0]!.headers["content-length"], String(Buffer.byteLength(second.calls[0]!.body)));
  });

  it("routes a form upload sent gzip-compressed without X-Model by its model field, sent on decoded with the target's model id", async () => {
    // The openai client compresses no request body itself: its `fetch` option gzips the form it built, as a
    // compressing proxy in front of the gateway would.
    const gzipped = new OpenAI({
      baseURL: fx.openai.baseURL,
      apiKey: fx.gateway.token,
      maxRetries: 0,
      fetch: async (url: string | URL | Request, init?: RequestInit) => {
        const request = new Request(url, { ...init, duplex: "half" } as RequestInit);
        const headers = new Headers(request.headers);
        headers.set("content-encoding", "gzip");
        headers.delete("content-length");
        const body = gzipSync(Buffer.from(await request.arrayBuffer()));
        return fetch(request.url, { method: request.method, headers, body });
      },
    });
    third.replies.push({ status: 500, body: { error: { message: "internal error", type: "server_error" } } });
    second.replies.push(transcribed);
    const { data, response } = await gzipped.audio.transcriptions
      .create({ file: await wav(), model: "auto-router/audio" })
      .withResponse();
    assert.equal(data.text, "hello");
    assert.equal(response.headers.get("x-auto-router-route"), "audio");
    // Read whole, it is resent by the failover; each target gets it decoded, without the Content-Encoding, with its
    // own model id in the field and the file as it was.
    assert.equal(third.calls.length, 1);
    assert.equal(second.calls.length, 1);
    for (const [call, modelId] of [
      [third.calls[0]!, "whisper-a"],
      [second.calls[0]!, "whisper-b"],
    ] as const) {
      assert.equal(call.headers["content-encoding"], undefined);
      assert.equal(formField(call.body, "model"), modelId);
      assert.match(call.body, /RIFF\.\.\.\.WAVEfmt /);
      assert.doesNotMatch(call.body, /auto-router\/audio/);
    }
    // Its model field before the file: the rest of the upload is decoded as it streams on (chunked), the other
    // fields as they came.
    second.replies.push(transcribed);
    await gzipped.audio.transcriptions.create({
      model: "speech-b/whisper-b",
      file: await wav(),
      response_format: "json",
    });
    const streamed = second.calls[1]!;
    assert.equal(streamed.headers["content-encoding"], undefined);
    assert.equal(formField(streamed.body, "model"), "whisper-b");
    assert.equal(formField(streamed.body, "response_format"), "json");
    assert.match(streamed.body, /RIFF\.\.\.\.WAVEfmt /);
    // Without a model field it is no route's: sent on as it came, compressed, to the first provider of its path.
    third.replies.push(transcribed);
    await gzipped.audio.transcriptions.create({ file: await wav() } as never);
    assert.equal(third.calls[1]!.headers["content-encoding"], "gzip");
    // A field that already holds the target's model id (a name of the client's own for the route) goes as it came
    // too, compressed.
    third.replies.push(transcribed);
    const { response: asItCame } = await gzipped.audio.transcriptions
      .create({ file: await wav(), model: "whisper-a" })
      .withResponse();
    assert.equal(asItCame.headers.get("x-auto-router-route"), "audio");
    assert.equal(third.calls[2]!.headers["content-encoding"], "gzip");
    assert.equal(formField(third.calls[2]!.body, "model"), undefined, "compressed: no field to read");
  });

  it("refuses a form upload whose model field names nothing served with a 404 naming the field, sending nothing", async () => {
    // The field after the file (the form read whole), and before a file the gateway has not read yet (its rest read
    // and dropped, so that the client still sending it reads the 404, not a broken connection).
    const big = Buffer.alloc(90_000, "a");
    for (const params of [
      { file: await wav(), model: "auto-router/audoi" },
      { model: "auto-router/audoi", file: await toFile(big, "big.wav") },
    ])
      await assert.rejects(fx.openai.audio.transcriptions.create(params), (error: unknown) => {
        assert.ok(error instanceof OpenAI.NotFoundError, String(error));
        assert.match(
          error.message,
          /model "auto-router\/audoi" \(from the form's `model` field\) is not served here; did you mean "auto-router\/audio"\?/,
        );
        return true;
      });
    // A field too long to be a model's name: not read to its end, it routes nothing.
    await assert.rejects(
      fx.openai.audio.transcriptions.create({ file: await wav(), model: "m".repeat(20_000) }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        error.message ===
          "400 request body: form field `model` could not be read to choose a target: its value is longer than 16384 bytes; name the route in the `X-Model` header",
    );
    // A file over gateway.bodyLimitBytes before the field: the body limit's 413, as for any upload.
    await assert.rejects(
      fx.openai.audio.transcriptions.create({ file: await toFile(Buffer.alloc(150_000), "long.wav"), model: "audio" }),
      (error: unknown) =>
        error instanceof OpenAI.APIError &&
        error.status === 413 &&
        /larger than the gateway's limit of 100000 bytes/.test(error.message),
    );
    assert.equal(third.calls.length + second.calls.length, 0);
  });

  it("sends a form upload without a model field or X-Model on as it came, to the providers advertising its path", async () => {
    // As a request without a model: the first provider advertising the path, then (the form held whole) the next.
    third.replies.push({ status: 500, body: { error: { message: "internal error", type: "server_error" } } });
    second.replies.push(transcribed);
    const done = await fx.openai.audio.transcriptions.create({ file: await wav() } as never);
    assert.equal((done as { text: string }).text, "hello");
    assert.equal(third.calls.length, 1);
    assert.equal(second.calls.length, 1);
    for (const call of [third.calls[0]!, second.calls[0]!]) {
      assert.equal(formField(call.body, "model"), undefined, "no model field added");
      assert.match(call.body, /RIFF\.\.\.\.WAVEfmt /);
    }
  });

  /** A request sent exactly as written: for what no official client (nor fetch, which it uses) can send. */
  const rawRequest = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      // Host and path apart: a URL string would be parsed, and its dot segments resolved, before sending.
      const { hostname, port } = new URL(fx.gateway.url);
      const request = httpRequest({
        hostname,
        port,
        path,
        method,
        headers: { authorization: `Bearer ${fx.gateway.token}`, ...headers },
      });
      request.on("error", reject);
      request.on("response", (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      });
      request.end(body);
    });

  it("refuses a path with dot segments or encoded separators with 400, before anything reaches an upstream", async () => {
    // The openai client (fetch) resolves `..` and `%2e%2e` itself before sending: node:http sends the path as written,
    // as `curl --path-as-is` does. embed-a advertises /v1/embeddings only.
    for (const path of [
      "/v1/embeddings/../models",
      "/v1/embeddings/%2e%2e/organization/api_keys",
      "/v1/embeddings/%2E%2e/models",
      "/v1/embeddings%2F..%2Fmodels",
    ]) {
      const answer = await rawRequest("GET", path, { "x-model": "embed-a/embed-small" });
      assert.equal(answer.status, 400, path);
      assert.match(
        JSON.parse(answer.body).error.message,
        /^path refused: GET \/v1\/embeddings.* holds (a dot segment|an encoded slash)/,
      );
    }
    for (const upstream of [first, second, third, fourth]) assert.equal(upstream.calls.length, 0);
  });

  it("drops the headers the client's Connection header names, keeping its other headers", async () => {
    // Fetch (so the openai client) may not set a Connection header: node:http sends it.
    const answer = await rawRequest(
      "POST",
      "/v1/embeddings",
      {
        connection: "X-Hop-Secret",
        "x-hop-secret": "s3",
        "x-trace": "t2",
        "x-model": "embed-b/embed-large",
        "content-type": "application/json",
      },
      JSON.stringify({ input: "hop" }),
    );
    assert.equal(answer.status, 200);
    const sent = second.calls[0]!.headers;
    assert.deepEqual([sent["x-hop-secret"], sent["x-trace"]], [undefined, "t2"]);
  });

  it("gives a body without a model the model id of the target that X-Model chose", async () => {
    await fx.openai.embeddings.create({ input: "x" } as never, { headers: { "X-Model": "embed-b/embed-large" } });
    const sent = JSON.parse(second.calls[0]!.body);
    assert.deepEqual([sent.model, sent.input], ["embed-large", "x"]);
  });

  it("sends Ollama's own API to the host beside its /v1 base URL", async () => {
    const root = new OpenAI({ baseURL: fx.gateway.url, apiKey: fx.gateway.token, maxRetries: 0 });
    await root.post("/api/chat", { body: { model: "ollama/llama3", messages: [{ role: "user", content: "hi" }] } });
    assert.equal(fourth.calls[0]!.path, "/api/chat");
    assert.equal(JSON.parse(fourth.calls[0]!.body).model, "llama3");
  });

  it("lets the provider preferences choose among the providers advertising a path when there is no model", async () => {
    const { data, response } = await fx.openai.files
      .retrieve("file-abc", { headers: { "X-Provider": '{"only":["embed-c"]}' } })
      .withResponse();
    assert.equal(data.filename, "C.txt");
    assert.equal(second.calls.length, 0);
    assert.equal(response.headers.get("x-auto-router-route"), "(no-model)");
    assert.equal(response.headers.get("x-auto-router-served-by"), "embed-c/uploader");
    await assert.rejects(
      fx.openai.files.retrieve("file-abc", { headers: { "X-Provider": '{"only":["nobody"]}' } }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        assert.match(
          error.message,
          /no provider advertising GET \/v1\/files\/file-abc matches the provider preferences \(only: nobody\): embed-b: not in only: nobody; embed-c: not in only: nobody$/,
        );
        return true;
      },
    );
    assert.equal(second.calls.length + third.calls.length, 1);
  });

  it("redacts the target's key in every header it passes back, error or success", async () => {
    const key = "sk-embed-b-key-0000000002";
    second.replies.push(
      {
        status: 403,
        body: { error: { message: "invalid token", type: "invalid_request_error" } },
        headers: { "www-authenticate": `Bearer realm="x", error="invalid_token", key="${key}"` },
      },
      { status: 200, body: { id: "file-abc", object: "file", filename: "B.txt" }, headers: { "x-debug": key } },
    );
    const headers = { "X-Model": "embed-b/embed-large" };
    // A 403 is the target's answer on a proxied path (the resource's, not the key's): passed back, nothing rests.
    await assert.rejects(fx.openai.files.retrieve("file-abc", { headers }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.PermissionDeniedError, String(error));
      const challenge = error.headers?.get("www-authenticate") ?? "";
      assert.match(challenge, /^Bearer realm="x"/);
      assert.ok(!challenge.includes(key), challenge);
      return true;
    });
    const { response } = await fx.openai.files.retrieve("file-abc", { headers }).withResponse();
    assert.equal(response.headers.get("x-debug"), "[REDACTED]");
  });

  it("passes a redirect back as the target's answer, never following it with the target's key", async () => {
    // The official client with a fetch that shows a redirect instead of following it: the gateway's own answer.
    const shown = new OpenAI({
      baseURL: `${fx.gateway.url}/v1`,
      apiKey: fx.gateway.token,
      maxRetries: 0,
      fetch: (url, init) => fetch(url, { ...init, redirect: "manual" }),
    });
    // A pre-signed URL (storage hosts sign it in the query): meant for the client, so not redacted as a secret.
    const location = `${elsewhere.url}/messages/batches?sig=presigned0123456789abcdefXYZ&se=2026-12-01`;
    const moved = { status: 307, body: { moved: true }, headers: { location } };
    fourth.replies.push(moved);
    const headers = { "X-Model": "anth/claude-batch" };
    await assert.rejects(shown.post("/messages/batches", { body: { requests: [] }, headers }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError && error.status === 307, String(error));
      assert.equal(error.headers?.get("location"), location);
      assert.deepEqual(JSON.parse(error.headers!.get("x-auto-router-attempts")!)[0].status, 307);
      return true;
    });
    assert.equal(fourth.calls[0]!.headers["x-api-key"], "sk-ant-anth-key-0000000004");
    assert.equal(elsewhere.calls.length, 0, "the gateway followed no redirect");
    // An answer, not a failure: no cooldown, the target gets the next request; a client that follows redirects
    // follows this one itself, without the target's key.
    fourth.replies.push(moved);
    await fx.openai.post("/messages/batches", { body: { requests: [] }, headers });
    assert.equal(fourth.calls.length, 2);
    assert.equal(elsewhere.calls.length, 1);
    assert.equal(elsewhere.calls[0]!.headers["x-api-key"], undefined);
  });

  // Last: the target's 429 cools it down.
  it("passes a 429's retry-after and retry-after-ms back when no target could do better", async () => {
    fourth.replies.push({
      status: 429,
      body: { error: { message: "Rate limited", type: "rate_limit_error" } },
      // Longer than the router waits for a cooling target (cooldownWaitMs, 30 s by default): it answers at once.
      headers: { "retry-after": "120", "retry-after-ms": "120000" },
    });
    await assert.rejects(
      fx.openai.post("/messages/batches", { body: { requests: [] }, headers: { "X-Model": "anth/claude-batch" } }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.RateLimitError, String(error));
        assert.equal(error.headers?.get("retry-after"), "120");
        assert.equal(error.headers?.get("retry-after-ms"), "120000");
        return true;
      },
    );
    assert.equal(fourth.calls.length, 1);
  });

  it("writes an error line for a 404 or a 5xx a target answered", async () => {
    second.replies.push({ status: 404, body: { error: { message: "No such file: file-gone" } } });
    await assert.rejects(
      fx.openai.files.retrieve("file-gone", { headers: { "X-Model": "embed-b/embed-large" } }),
      OpenAI.NotFoundError,
    );
    // Longer than the router waits for a cooling target: the 500 is passed back at once.
    fourth.replies.push({
      status: 500,
      body: { error: { message: "model crashed" } },
      headers: { "retry-after": "120" },
    });
    const root = new OpenAI({ baseURL: fx.gateway.url, apiKey: fx.gateway.token, maxRetries: 0 });
    await assert.rejects(root.post("/api/chat", { body: { model: "ollama/llama3" } }), OpenAI.InternalServerError);
    await until(() => /error POST \/api\/chat: every target failed/.test(fx.gateway.stderr()), "the 500's error line");
    assert.match(fx.gateway.stderr(), /error GET \/v1\/files\/file-gone: the target embed-b\/embed-large answered 404/);
    assert.match(
      fx.gateway.stderr(),
      /error POST \/api\/chat: every target failed; passed back: ollama\/llama3's 500 .*model crashed/,
    );
    // The answer passed back is the last one a target gave, not the last attempt's (a network error here).
    second.replies.push({
      status: 500,
      body: { error: { message: "upstream B exploded" } },
      headers: { "retry-after": "120" },
    });
    await assert.rejects(fx.openai.embeddings.create({ model: "mis", input: "x" }), OpenAI.InternalServerError);
    await until(() => /error POST \/v1\/embeddings: every target failed/.test(fx.gateway.stderr()), "the error line");
    assert.match(
      fx.gateway.stderr(),
      /error POST \/v1\/embeddings: every target failed; passed back: embed-b\/embed-large's 500 .*upstream B exploded/,
    );
  });

  it("ends a download the target cuts off mid-way as a failure after the commit point, and rests the target", async () => {
    const response = await fx.openai.files.content("file-broken");
    await assert.rejects(response.text()); // the client sees the body end early, never a complete answer
    const finalOf = () =>
      readLoggedEvents(fx.agentDir).find(
        (event) => event.type === "final" && event.data.notes?.includes("proxied GET /v1/files/file-broken/content"),
      );
    await until(() => finalOf() !== undefined, "the cut-off download's final event");
    assert.equal(finalOf().data.outcome, "failed");
    const result = readLoggedEvents(fx.agentDir).find(
      (event) => event.type === "result" && event.requestId === finalOf().requestId,
    );
    assert.equal(result.data.outcome, "failed-after-commit");
    // Not failed over (the client had the first bytes), but the target rests as for a network failure before the
    // commit point: the client's retry is not sent into the same broken download, nor to the other provider
    // advertising the path (a GET names a file the first one holds). (Last in this file for that.)
    const reached = second.calls.length;
    const toUploader = third.calls.length;
    await assert.rejects(fx.openai.files.retrieve("file-abc"), /embed-b\/embed-large: resting \(unreachable\)/);
    assert.equal(second.calls.length, reached, "the retry never reached the target");
    assert.equal(third.calls.length, toUploader, "nor the other provider");
  });
  // After the download above: a cut-off answer rests its target (embed-a here, which no test asks after this one).
  it("passes a client error's body cut off by the target on as cut off, never as a complete empty answer", async () => {
    // A long one (an error page rather than an error) is streamed on, not held whole, and without the target's key.
    const key = "sk-embed-a-key-0000000001";
    const page = `<html>${"x".repeat(400_000)} sent ${key}</html>`;
    first.replies.push({ status: 404, body: null, bytes: Buffer.from(page), headers: { "content-type": "text/html" } });
    const create = () => fx.openai.embeddings.create({ model: "embed-a/embed-small", input: "hi" });
    await assert.rejects(create(), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError, String(error));
      assert.ok(error.message.endsWith(`${"x".repeat(400_000)} sent [REDACTED]</html>`), error.message.slice(-200));
      return true;
    });
    first.replies.push({ status: 400, body: { error: { message: "Unsupported input" } }, dropBody: true });
    await assert.rejects(create(), (error: unknown) => {
      // The client's read of the body fails (the SDK puts the read's error in the message): it got no whole answer.
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.match(error.message, /terminated/);
      return true;
    });
  });
});
