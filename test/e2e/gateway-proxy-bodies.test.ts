// The wildcard proxy's reading of request bodies and of the requests around them, through the real gateway process:
// JSON sent with another content-type than application/json, JSON with a `__proto__` key, a body-less DELETE with
// the JSON type, a broken JSON body; a request without a model choosing among priced providers; an upload that cannot
// be resent; a form upload refused by its model field before its file was read; headers over Node's limit;
// endpointPrefixes that could never match; `GET /v1/models/`.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import OpenAI, { toFile } from "openai";
import { ROUTES_FILE_NAME } from "../helpers/agent-dir.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { startUpstream, type Upstream } from "../helpers/endpoint-upstream.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";

describe("gateway wildcard proxy: request bodies, provider choice without a model, client errors", () => {
  let pa: Upstream;
  let pb: Upstream;
  let fx: GatewayFixture<never>;
  const routesFile = () => join(fx.agentDir, "extensions", ROUTES_FILE_NAME);

  before(async () => {
    [pa, pb] = await Promise.all(["A", "B"].map((name) => startUpstream(name)));
    fx = await startGatewayFixture({
      emulators: {},
      providers: {
        // Listed first and priced; pb is free.
        pa: {
          baseUrl: pa.url,
          api: "openai-completions",
          apiKey: "sk-pa-key-0000000001",
          models: [{ id: "emb-a", cost: { input: 1, output: 1, cacheRead: 0, cacheWrite: 0 } }],
        },
        pb: {
          baseUrl: pb.url,
          api: "openai-completions",
          apiKey: "sk-pb-key-0000000002",
          models: [{ id: "emb-b", cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 } }],
        },
        // pa's server under another provider, advertising uploads: its queued answers (a 503) come from pa.
        busy: {
          baseUrl: pa.url,
          api: "openai-completions",
          apiKey: "sk-busy-key-0000000004",
          models: [{ id: "up-busy" }],
        },
        // Nothing listens on port 9 of the loopback: every attempt is a network error.
        dead: {
          baseUrl: "http://127.0.0.1:9/v1",
          api: "openai-completions",
          apiKey: "sk-dead-key-0000000003",
          models: [{ id: "up-x" }],
        },
      },
      routes: {
        routes: {
          embed: {
            sortBy: "config",
            targets: [
              { provider: "pa", modelId: "emb-a", probe: false },
              { provider: "pb", modelId: "emb-b", probe: false },
            ],
          },
          uploads: {
            sortBy: "config",
            targets: [
              { provider: "dead", modelId: "up-x" },
              { provider: "pb", modelId: "emb-b" },
            ],
          },
          "busy-uploads": {
            sortBy: "config",
            targets: [
              { provider: "busy", modelId: "up-busy" },
              { provider: "pb", modelId: "emb-b" },
            ],
          },
        },
        failover: { kinds: { network: { cooldownMs: 120_000 } } },
        providers: {
          pa: { endpointPrefixes: ["/v1/embeddings"] },
          pb: { endpointPrefixes: ["/v1/embeddings", "/v1/files"] },
          dead: { endpointPrefixes: ["/v1/files"] },
          busy: { endpointPrefixes: ["/v1/files"] },
        },
      },
    });
  });
  after(async () => {
    await fx?.stop();
    await Promise.all([pa, pb].map((upstream) => upstream?.close()));
  });
  beforeEach(() => {
    for (const upstream of [pa, pb]) {
      upstream.calls.length = 0;
      upstream.replies.length = 0;
    }
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${fx.gateway.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${fx.gateway.token}`, ...headers },
      body,
    });

  it("routes a JSON body by its model whatever JSON-ish content-type it came with, and rewrites the model", async () => {
    // fetch's own type for a string body (text/plain;charset=UTF-8), curl -d's form type, a +json type.
    for (const headers of [{}, { "content-type": "application/x-www-form-urlencoded" }] as Record<string, string>[]) {
      pb.calls.length = 0;
      const answer = await post("/v1/embeddings", JSON.stringify({ model: "pb/emb-b", input: "x" }), headers);
      assert.equal(answer.status, 200, await answer.clone().text());
      assert.equal(answer.headers.get("x-auto-router-served-by"), "pb/emb-b");
      assert.equal(pa.calls.length, 0);
      assert.deepEqual(JSON.parse(pb.calls[0]!.body), { model: "emb-b", input: "x" });
      assert.equal(pb.calls[0]!.headers["content-type"], "application/json", "read as JSON, sent as JSON");
    }
    const typed = await post("/v1/embeddings", JSON.stringify({ model: "embed", input: "y" }), {
      "content-type": "application/vnd.api+json",
    });
    assert.equal(typed.status, 200);
    assert.equal(typed.headers.get("x-auto-router-route"), "embed");
    assert.equal(JSON.parse(pa.calls[0]!.body).model, "emb-a");
    assert.equal(pa.calls[0]!.headers["content-type"], "application/vnd.api+json", "the client's own JSON type kept");
  });

  it("refuses a body that begins like JSON but was not read as JSON when no X-Model names its route", async () => {
    const streamed = await post("/v1/embeddings", JSON.stringify({ model: "pb/emb-b", input: "x" }), {
      "content-type": "application/octet-stream",
    });
    assert.equal(streamed.status, 400);
    assert.match(
      ((await streamed.json()) as { error: { message: string } }).error.message,
      /^request body: it begins like JSON, but its content-type \(`application\/octet-stream`\) is one the gateway streams through unread, so its model could not be read.*`X-Model`/,
    );
    const broken = await post("/v1/embeddings", '{"model": "pb/emb-b", "input": }');
    assert.equal(broken.status, 400);
    assert.match(
      ((await broken.json()) as { error: { message: string } }).error.message,
      /^request body: it begins like JSON, but it is not valid JSON: Unexpected token .* at line 1, column 32, so its model could not be read/,
    );
    assert.equal(pa.calls.length + pb.calls.length, 0);
  });

  it("accepts valid JSON with a __proto__ key, sending the client's own bytes on", async () => {
    const text = '{"model":"embed","input":"x","schema":{"properties":{"__proto__":{"type":"string"}}}}';
    const answer = await post("/v1/embeddings", text, { "content-type": "application/json" });
    assert.equal(answer.status, 200, await answer.clone().text());
    assert.equal(pa.calls[0]!.body, text.replace('"embed"', '"emb-a"'));
  });

  it("forwards a body-less DELETE sent with the JSON content-type, and says where a broken JSON body breaks", async () => {
    const answer = await fetch(`${fx.gateway.url}/v1/files/file-abc`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${fx.gateway.token}`, "content-type": "application/json" },
    });
    assert.equal(answer.status, 200, await answer.clone().text());
    assert.deepEqual([pb.calls[0]!.method, pb.calls[0]!.path, pb.calls[0]!.body], ["DELETE", "/v1/files/file-abc", ""]);
    const broken = await post("/v1/embeddings", '{\n  "model": "embed",\n  "input": [1, 2,]\n}', {
      "content-type": "application/json",
    });
    assert.equal(broken.status, 400);
    assert.match(
      ((await broken.json()) as { error: { message: string } }).error.message,
      /^request body: not valid JSON: .* at line 3, column 18$/,
    );
  });

  it("lets max_price and sort choose among priced providers for a request without a model", async () => {
    const cheap = await fx.openai.embeddings
      .create({ input: "x" } as never, { headers: { "X-Provider": '{"max_price":0.5}' } })
      .withResponse();
    assert.equal(cheap.response.headers.get("x-auto-router-served-by"), "pb/emb-b");
    assert.equal(cheap.response.headers.get("x-auto-router-route"), "(no-model)");
    const sorted = await fx.openai.embeddings
      .create({ input: "x" } as never, { headers: { "X-Provider": '{"sort":"price"}' } })
      .withResponse();
    assert.equal(sorted.response.headers.get("x-auto-router-served-by"), "pb/emb-b");
    assert.equal(pa.calls.length, 0);
    await assert.rejects(
      fx.openai.embeddings.create({ input: "x" } as never, {
        headers: { "X-Provider": '{"max_price":0.5,"only":["pa"]}' },
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        assert.match(
          error.message,
          /^400 no provider advertising POST \/v1\/embeddings matches the provider preferences \(only: pa; max-price: \$0\.5\/1M output\): pa\/emb-a: output \$1\/1M > max-price \$0\.5\/1M; pb: not in only: pa$/,
        );
        return true;
      },
    );
    await assert.rejects(
      fx.openai.embeddings.create({ input: "x" } as never, { headers: { "X-Provider": '{"only":["pbb"]}' } }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        assert.match(
          error.message,
          /"pbb" \(only\) is no provider advertising POST \/v1\/embeddings; did you mean "pb"\?/,
        );
        return true;
      },
    );
  });

  it("says an upload that failed on its one attempt could not be resent to the route's other targets", async () => {
    await assert.rejects(
      fx.openai.files.create(
        { file: await toFile(Buffer.from("line\n".repeat(100)), "batch.jsonl"), purpose: "batch" },
        { headers: { "X-Model": "uploads" } },
      ),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError, String(error));
        assert.match(
          error.message,
          /auto-router: dead\/up-x failed \(network error\) and the upload could not be resent to pb\/emb-b \(a streamed body is sent once\); retrying may succeed/,
        );
        assert.doesNotMatch(error.message, /every target/);
        return true;
      },
    );
    assert.equal(pb.calls.length, 0);
  });

  it("says an upload its one target answered 503 could not be resent, instead of every target failed", async () => {
    pa.replies.push({ status: 503, body: { error: { message: "The server is overloaded", type: "server_error" } } });
    await assert.rejects(
      fx.openai.files.create(
        { file: await toFile(Buffer.from("line\n".repeat(100)), "batch.jsonl"), purpose: "batch" },
        { headers: { "X-Model": "busy-uploads" } },
      ),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError && error.status === 503, String(error));
        assert.match(
          error.message,
          /auto-router: busy\/up-busy failed \(.*\) and the upload could not be resent to pb\/emb-b \(a streamed body is sent once\).*The server is overloaded/,
        );
        assert.doesNotMatch(error.message, /every target/);
        return true;
      },
    );
    assert.equal(pa.calls.length, 1);
    assert.equal(pb.calls.length, 0, "pb was never sent the upload");
    await until(
      () => /could not be resent to pb\/emb-b/.test(fx.gateway.stderr()),
      "an error line naming the target the upload was not resent to",
    );
    assert.doesNotMatch(fx.gateway.stderr(), /every target failed; passed back: busy/);
    const finalOf = () =>
      readLoggedEvents(fx.agentDir)
        .filter((event) => event.type === "final" && event.routeId === "busy-uploads")
        .at(-1);
    await until(() => finalOf() !== undefined, "the upload's final event");
    const final = finalOf();
    assert.deepEqual(final?.data.failureKinds, ["overloaded"]);
    assert.ok(final?.data.notes?.includes("not tried: pb/emb-b (a streamed body is sent once)"), final?.data.notes);
  });

  // Left unread, the rest of the upload would never end, and the connection's next request would wait for ever: the
  // timeout fails such a regression instead of hanging the run.
  it("reads and drops the rest of an upload refused before it was sent on (its form's model field, X-Model): the client reads the 404", {
    timeout: 60_000,
  }, async () => {
    // The openai client, whose form names the model before the file here: it reads the answer.
    await assert.rejects(
      fx.openai.audio.transcriptions.create({
        model: "auto-router/nowhere",
        file: await toFile(Buffer.alloc(1024 * 1024), "long.wav"),
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.NotFoundError, String(error));
        assert.match(
          error.message,
          /model "auto-router\/nowhere" \(from the form's `model` field\) is not served here/,
        );
        return true;
      },
    );
    // A kept-alive connection whose upload is larger than the socket buffers hold: the rest of the refused body is
    // read, so the connection serves its next request (left unread, the upload never ends and the next request waits).
    const { hostname, port } = new URL(fx.gateway.url);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const boundary = "form-boundary-1";
    const upload = (headers: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        const request = httpRequest({
          hostname,
          port,
          agent,
          path: "/v1/audio/transcriptions",
          method: "POST",
          headers: {
            authorization: `Bearer ${fx.gateway.token}`,
            "content-type": `multipart/form-data; boundary=${boundary}`,
            ...headers,
          },
        });
        request.on("error", reject);
        request.on("response", (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
        });
        request.write(`--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nnowhere\r\n`);
        request.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n`);
        request.write(Buffer.alloc(16 * 1024 * 1024));
        request.end(`\r\n--${boundary}--\r\n`);
      });
    try {
      assert.deepEqual(await Promise.all([upload(), upload()]), [404, 404]);
      // The same for an upload streamed as it comes, refused before it was sent on: X-Model names nothing served.
      assert.deepEqual(
        await Promise.all([upload({ "x-model": "nowhere" }), upload({ "x-model": "nowhere" })]),
        [404, 404],
      );
    } finally {
      agent.destroy();
    }
    assert.equal(pa.calls.length + pb.calls.length, 0);
  });

  it("answers headers over Node's size limit with 431 in the gateway's error shape, and logs it", async () => {
    // Node's parser refuses these before any route: no client library sends them, so node:http does.
    const { hostname, port } = new URL(fx.gateway.url);
    const oversized = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest({
          hostname,
          port,
          path,
          method: "POST",
          headers: { authorization: `Bearer ${fx.gateway.token}`, "x-big": "a".repeat(20_000) },
        });
        request.on("error", reject);
        request.on("response", (response) => {
          let text = "";
          response.on("data", (chunk) => (text += chunk));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
        });
        request.end("{}");
      });
    const answer = await oversized("/v1/embeddings");
    assert.equal(answer.status, 431);
    const error = JSON.parse(answer.body).error;
    assert.equal(error.type, "invalid_request_error");
    assert.match(error.message, /^request headers are larger than the gateway accepts/);
    await until(() => /^POST \/v1\/embeddings 431 /m.test(fx.gateway.stderr()), "the 431's access line");
    // A long path is redacted whole, then cut at 200 characters: a key 20 characters before the cut leaves no start.
    const key = `sk-or-v1-${"0123456789abcdef".repeat(4)}`;
    assert.equal((await oversized(`/v1/files/${"p".repeat(169)}/${key}`)).status, 431);
    await until(() => /^POST \/v1\/files\/p{169}\/\[REDACTED\]/m.test(fx.gateway.stderr()), "the second 431's line");
    assert.equal(fx.gateway.stderr().includes(key.slice(0, 10)), false, "no start of the key in the log");
  });

  it("logs an upload its client cancels mid-body as its request without an answer, not as a malformed request", async () => {
    const { hostname, port } = new URL(fx.gateway.url);
    const upload = httpRequest({
      hostname,
      port,
      path: "/v1/files",
      method: "POST",
      headers: {
        authorization: `Bearer ${fx.gateway.token}`,
        "content-type": "application/octet-stream",
        "x-model": "pb/emb-b",
        "transfer-encoding": "chunked",
      },
    });
    upload.on("error", () => {});
    upload.write(Buffer.alloc(10_000));
    await new Promise((resolve) => setTimeout(resolve, 200));
    upload.destroy(); // the client gives up before the body's end
    await until(() => /^POST \/v1\/files route=pb\/emb-b - no-answer/m.test(fx.gateway.stderr()), "the upload's line");
    assert.doesNotMatch(fx.gateway.stderr(), /malformed HTTP request/);
  });

  it("passes a body fetch could not decode on with its Content-Encoding, and one it decoded without it", async () => {
    const text = JSON.stringify({ id: "file-z", object: "file", bytes: 3, created_at: 0, filename: "z.txt" });
    // `compress` (LZW) is no coding fetch decodes: the bytes reach the client as sent, and must keep their header.
    const lzw = Buffer.from([0x1f, 0x9d, 0x90, 0x7b, 0x44, 0x88, 0x00]);
    pb.replies.push({ status: 200, body: null, bytes: lzw, headers: { "content-encoding": "compress" } });
    const raw = await fx.openai.files.content("file-z", { headers: { "X-Model": "pb/emb-b" } });
    assert.equal(raw.headers.get("content-encoding"), "compress");
    assert.deepEqual(Buffer.from(await raw.arrayBuffer()), lzw);
    // gzip is decoded on the way in: the client gets the JSON, and no header claiming it is still compressed.
    pb.replies.push({ status: 200, body: null, bytes: gzipSync(text), headers: { "content-encoding": "gzip" } });
    const decoded = await fx.openai.files.content("file-z", { headers: { "X-Model": "pb/emb-b" } });
    assert.equal(decoded.headers.get("content-encoding"), null);
    assert.equal(await decoded.text(), text);
    assert.deepEqual(
      pb.calls.map((call) => [call.method, call.path]),
      [
        ["GET", "/v1/files/file-z/content"],
        ["GET", "/v1/files/file-z/content"],
      ],
    );
  });

  it("answers GET /v1/models/ with the models list", async () => {
    const answer = await fetch(`${fx.gateway.url}/v1/models/`, {
      headers: { authorization: `Bearer ${fx.gateway.token}` },
    });
    assert.equal(answer.status, 200);
    const list = (await answer.json()) as { data: Array<{ id: string }> };
    assert.ok(list.data.some((model) => model.id === "auto-router/embed"));
  });

  it("refuses endpointPrefixes with a glob or a query as config errors naming their place", async () => {
    const good = readFileSync(routesFile(), "utf8");
    const edited = JSON.parse(good);
    edited.providers.pa.endpointPrefixes = ["/v1/embeddings", "/v1/*"];
    edited.providers.pb.endpointPrefixes = ["/v1/files?x=1"];
    const before = fx.gateway.stderr().length;
    writeFileSync(routesFile(), JSON.stringify(edited, null, 2));
    try {
      await until(
        () => fx.gateway.stderr().slice(before).includes("keeping the last good config"),
        "the invalid edit's report",
        15_000,
      );
      const report = fx.gateway.stderr().slice(before);
      assert.match(report, /providers\.pa\.endpointPrefixes\[1\]: expected a path prefix without `\*`, `\?` or `#`/);
      assert.match(report, /providers\.pb\.endpointPrefixes\[0\]: expected a path prefix without `\*`, `\?` or `#`/);
      assert.match(report, /auto-router\.routes\.json/);
    } finally {
      const restored = fx.gateway.stderr().length;
      writeFileSync(routesFile(), good);
      await until(() => fx.gateway.stderr().slice(restored).includes("routes file reloaded"), "the restore", 15_000);
    }
  });
});
