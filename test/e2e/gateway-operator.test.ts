// What an operator of `pi-auto-router serve` sees and does, through the real process and the official clients: the
// help and version, edits of the routes file picked up while the gateway runs (and a broken edit keeping the last
// good routes), /v1/models listing routes only, one access line per request however it ended (a translated stream
// as a passed-through one), and error texts that say what was wrong (the token's header, the body's content type,
// the body limit, a model named nowhere).
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { ROUTES_FILE_NAME } from "../helpers/agent-dir.ts";
import { until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { runGatewayCommand, startGatewayProcess } from "../helpers/gateway-process.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const KEY_A = "sk-mock-a-key-0000000001";
const SLOW_TEXT = Array.from({ length: 8 }, (_, index) => `word${index} `);

describe("gateway operator", () => {
  let fx: GatewayFixture<"A">;
  let target: Emulator;
  const routes = (extra: Record<string, unknown> = {}) => ({
    routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] }, ...extra },
    gateway: { bodyLimitBytes: 50_000 },
    // The route's one target is served again at once after a stream that broke on purpose (no 30 s rest).
    failover: { kinds: { server: { cooldownMs: 0 } } },
  });
  const routesFile = () => join(fx.agentDir, "extensions", ROUTES_FILE_NAME);
  const modelIds = async () => (await fx.openai.models.list()).data.map((model) => model.id);
  const accessLines = () => fx.gateway.stderr().split("\n");

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai" },
      providers: { "mock-a": { emulator: "A", apiKey: KEY_A, models: ["model-a", "model-b"] } },
      routes: routes(),
    });
    target = fx.emulators.A;
  });
  after(() => fx?.stop());

  it("prints its help and version and exits 0", async () => {
    for (const args of [["--help"], ["serve", "--help"], ["-h"]]) {
      const help = await runGatewayCommand(fx.agentDir, args);
      assert.equal(help.code, 0, args.join(" "));
      assert.match(help.stdout, /^usage: pi-auto-router serve \[--port N\]/);
      assert.match(help.stdout, /--agent-dir D +pi's agent dir/);
      assert.match(help.stdout, /AUTO_ROUTER_TOKEN/);
    }
    // A typo gets the word meant, and exit code 2.
    for (const [args, said] of [
      [["serve", "--prot", "1"], /^pi-auto-router serve: unknown argument --prot; did you mean --port\?\nusage:/],
      [["srve"], /^unknown command srve; did you mean serve\?\nusage:/],
      // An unset variable (`--port "$PORT"`) or a padded number is no port: it would listen on a random one.
      [
        ["serve", "--port", ""],
        /^pi-auto-router serve: --port: expected an integer 0-65535 \(0 = any free port\), got ""\n/,
      ],
      [
        ["serve", "--port", " 0"],
        /^pi-auto-router serve: --port: expected an integer 0-65535 \(0 = any free port\), got " 0"\n/,
      ],
      // `--port=N` is read as `--port N` (here an invalid N, so the run stops before it listens).
      [
        ["serve", "--port=80a"],
        /^pi-auto-router serve: --port: expected an integer 0-65535 \(0 = any free port\), got "80a"\n/,
      ],
      [["serve", "--port", "0", "--port", "1"], /^pi-auto-router serve: --port is given twice\nusage:/],
      [["serve", "--allow-remote=yes"], /^pi-auto-router serve: --allow-remote takes no value \(got "yes"\)\nusage:/],
    ] as const) {
      const typo = await runGatewayCommand(fx.agentDir, [...args]);
      assert.equal(typo.code, 2, args.join(" "));
      assert.match(typo.stderr, said);
    }
    const version = await runGatewayCommand(fx.agentDir, ["--version"]);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^pi-auto-router \d+\.\d+\.\d+\n$/);
  });

  it("refuses a --agent-dir that does not exist or is a file, creating nothing; warns when PI_CODING_AGENT_DIR does not exist", async () => {
    const parent = freshDir("pi-auto-router-gateway-agent-typo");
    const mistyped = join(parent, "agnet");
    const refused = await runGatewayCommand(fx.agentDir, ["serve", "--port", "0", "--agent-dir", mistyped]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /^pi-auto-router serve: --agent-dir .*agnet: no such directory; give pi's agent dir \(where pi keeps auth\.json, models\.json and extensions\/; .* unless PI_CODING_AGENT_DIR says otherwise\), or leave --agent-dir out\n$/,
    );
    assert.equal(existsSync(mistyped), false, "nothing is created for a mistyped path");
    const file = join(parent, "a-file");
    writeFileSync(file, "");
    const notDirectory = await runGatewayCommand(fx.agentDir, ["serve", "--port", "0", "--agent-dir", file]);
    assert.equal(notDirectory.code, 2);
    assert.match(
      notDirectory.stderr,
      /^pi-auto-router serve: pi's agent dir .*a-file \(--agent-dir\) is not a directory\n$/,
    );
    // PI_CODING_AGENT_DIR (or the default) is created, as pi creates it, with a warning saying nothing was read from it.
    const fresh = join(parent, "fresh-agent");
    const gateway = await startGatewayProcess({ agentDir: fresh });
    try {
      // stderr and stdout are two pipes: the warning, written before the listening line, may be read after it.
      await until(() => gateway.stderr().includes("gateway token"), "the gateway's start lines");
      assert.match(
        gateway.stderr(),
        /^auto-router: warning: pi's agent dir .*fresh-agent \(PI_CODING_AGENT_DIR\) did not exist: no login, models\.json or routes file was read from it/m,
      );
    } finally {
      assert.equal(await gateway.stop(), 0, gateway.stderr());
      rmSync(parent, { recursive: true, force: true });
    }
    assert.doesNotMatch(fx.gateway.stderr(), /did not exist/);
  });

  it("lists routes only in /v1/models, not the provider/model names clients used; retrieves any name it serves", async () => {
    target.enqueue({ text: "direct" });
    await fx.openai.chat.completions.create({ model: "mock-a/model-b", messages: [{ role: "user", content: "hi" }] });
    assert.equal(target.calls.at(-1)?.body.model, "model-b");
    assert.deepEqual(await modelIds(), ["auto-router/main"]);
    assert.equal((await fx.openai.models.retrieve("auto-router/main")).id, "auto-router/main");
    // A client that checks a name before using it: every name a request may use is there, listed or not.
    for (const name of ["mock-a/model-b", "main"]) assert.equal((await fx.openai.models.retrieve(name)).id, name);
    // The Anthropic SDK reads the same endpoints as its own page and models (the typed-language SDKs refuse a list
    // without `has_more` and a model without `display_name` and `created_at`).
    const page = await fx.anthropic.models.list();
    assert.deepEqual(
      page.data.map((model) => [model.id, model.type, model.display_name, model.created_at]),
      [["auto-router/main", "model", "auto-router/main", "1970-01-01T00:00:00Z"]],
    );
    assert.deepEqual([page.has_more, page.first_id, page.last_id], [false, "auto-router/main", "auto-router/main"]);
    const retrieved = await fx.anthropic.models.retrieve("mock-a/model-b");
    assert.deepEqual([retrieved.type, retrieved.display_name], ["model", "mock-a/model-b"]);
    await assert.rejects(
      fx.openai.models.retrieve("mock-a/model-zzz"),
      (error: unknown) => error instanceof OpenAI.NotFoundError && /is not served here/.test(error.message),
    );
    // The Anthropic SDK gets its own error shape on these shared endpoints too (it sends anthropic-version).
    await assert.rejects(fx.anthropic.models.retrieve("mock-a/model-zzz"), (error: unknown) => {
      assert.ok(error instanceof Anthropic.NotFoundError, String(error));
      const body = error.error as { type?: string; error?: { type?: string; message?: string } };
      assert.equal(body.type, "error");
      assert.equal(body.error?.type, "not_found_error");
      assert.match(body.error?.message ?? "", /is not served here/);
      return true;
    });
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError && /known routes: auto-router\/main$/.test(error.message),
    );
  });

  it("follows edits of the routes file while it runs, and keeps the last good routes through a broken edit", async () => {
    writeFileSync(
      routesFile(),
      JSON.stringify({
        ...routes({ added: { targets: [{ provider: "mock-a", modelId: "model-b" }] } }),
        gateway: { bodyLimitBytes: 50_000, models: { "gpt-4o": "auto-router/added" } },
      }),
    );
    await until(() => fx.gateway.stderr().includes("routes file reloaded"), "the reload line", 15_000);
    assert.match(fx.gateway.stderr(), /auto-router: routes file reloaded: .*auto-router\.routes\.json \(2 routes\)/);
    assert.deepEqual(await modelIds(), ["auto-router/main", "auto-router/added"]);
    target.enqueue({ text: "from the new route" });
    const mapped = await fx.openai.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(mapped.choices[0]!.message.content, "from the new route");
    // A gateway.models name is retrieved too (it used to be a 404 saying the mapping pointed at no route).
    assert.equal((await fx.openai.models.retrieve("gpt-4o")).id, "gpt-4o");
    assert.equal(target.calls.at(-1)?.body.model, "model-b");

    const before = fx.gateway.stderr().length;
    writeFileSync(routesFile(), '{ "routes": { "main": ');
    await until(() => fx.gateway.stderr().slice(before).includes("not valid JSON"), "the broken edit's report", 15_000);
    const report = fx.gateway.stderr().slice(before);
    assert.match(report, /auto-router\.routes\.json/);
    assert.match(report, /is invalid; keeping the last good config/);
    // A monitor sees it too: /health/providers names the problem beside the providers the last good routes serve.
    const health = async () =>
      (await fetch(`${fx.gateway.url}/health/providers`, { headers: { "x-api-key": fx.gateway.token } })).json() as any;
    const broken = (await health()).routesFile;
    assert.equal(broken.ok, false);
    assert.match(broken.problem, /auto-router\.routes\.json.*not valid JSON.*keeping the last good config/);
    target.enqueue({ text: "still served" });
    const kept = await fx.openai.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(kept.choices[0]!.message.content, "still served");
    const restored = fx.gateway.stderr().length;
    writeFileSync(routesFile(), JSON.stringify(routes()));
    await until(() => fx.gateway.stderr().slice(restored).includes("(1 route)"), "the routes file restored", 15_000);
    assert.deepEqual((await health()).routesFile, { ok: true });
    assert.deepEqual(await modelIds(), ["auto-router/main"]);
  });

  it("writes one access line per request: path, route, status, target, and how an answer that did not finish ended", async () => {
    target.enqueue({ text: "ok" });
    await fx.openai.chat.completions.create({ model: "main", messages: [{ role: "user", content: "hi" }] });
    await until(
      () =>
        accessLines().some((line) =>
          /^POST \/v1\/chat\/completions route=main 200 served-by=mock-a\/model-a \d+ms$/.test(line),
        ),
      "the served request's access line",
    );

    const wrongToken = new OpenAI({ baseURL: `${fx.gateway.url}/v1`, apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(wrongToken.models.list(), (error: unknown) => error instanceof OpenAI.AuthenticationError);
    await until(() => accessLines().some((line) => /^GET \/v1\/models 401 \d+ms$/.test(line)), "the 401's access line");

    // The target fails after the answer started: the client gets the protocol's error record, the log says so.
    target.enqueue({
      text: ["one ", "two ", "three"],
      streamError: { message: "boom", type: "server_error", afterChunks: 1 },
    });
    const broken = await fx.openai.chat.completions.create({
      model: "main",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    });
    await assert.rejects(async () => {
      for await (const _chunk of broken);
    });
    await until(
      () =>
        accessLines().some((line) => / route=main 200 served-by=mock-a\/model-a failed-after-start \d+ms$/.test(line)),
      `the failed stream's access line in\n${fx.gateway.stderr()}`,
    );

    // The client leaves mid-stream: the line is still written, marked cut off.
    target.enqueue({ text: SLOW_TEXT, chunkDelayMs: 300 });
    const controller = new AbortController();
    const slow = await fx.openai.chat.completions.create(
      { model: "main", stream: true, messages: [{ role: "user", content: "count" }] },
      { signal: controller.signal },
    );
    for await (const _chunk of slow) {
      controller.abort();
      break;
    }
    await until(
      () => accessLines().some((line) => / route=main 200 served-by=mock-a\/model-a cut-off \d+ms$/.test(line)),
      "the abandoned stream's access line",
    );

    // The same for a translated stream (an Anthropic client on an OpenAI target): the line says cut off too.
    target.enqueue({ text: SLOW_TEXT, chunkDelayMs: 300 });
    const translated = new AbortController();
    const anthropicStream = await fx.anthropic.messages.create(
      { model: "main", max_tokens: 50, stream: true, messages: [{ role: "user", content: "count" }] },
      { signal: translated.signal },
    );
    for await (const event of anthropicStream) {
      if (event.type !== "content_block_delta") continue;
      translated.abort();
      break;
    }
    await until(
      () =>
        accessLines().some((line) =>
          /^POST \/v1\/messages route=main 200 served-by=mock-a\/model-a cut-off \d+ms$/.test(line),
        ),
      `the abandoned translated stream's access line in\n${fx.gateway.stderr()}`,
    );

    // A proxied path is logged as the client sent it, without its query string.
    await fetch(`${fx.gateway.url}/v1/rerank?key=secret-in-query`, {
      method: "POST",
      headers: { authorization: `Bearer ${fx.gateway.token}`, "content-type": "application/json" },
      body: "{}",
    });
    await until(() => accessLines().some((line) => /^POST \/v1\/rerank 404 \d+ms$/.test(line)), "the proxy's line");
    assert.equal(fx.gateway.stderr().includes("secret-in-query"), false);
  });

  it("takes the model from X-Model when the body has none, on every chat endpoint, and names both when neither is sent", async () => {
    const viaHeader = { headers: { "X-Model": "main" } };
    target.enqueue({ text: "chat" }, { text: "messages" }, { text: "responses" });
    const chat = await fx.openai.chat.completions.create(
      { messages: [{ role: "user", content: "hi" }] } as never,
      viaHeader,
    );
    assert.equal(chat.choices[0]!.message.content, "chat");
    assert.equal(target.calls.at(-1)?.body.model, "model-a");
    const message = await fx.anthropic.messages.create(
      { max_tokens: 20, messages: [{ role: "user", content: "hi" }] } as never,
      viaHeader,
    );
    assert.equal(message.content[0]!.type === "text" && message.content[0]!.text, "messages");
    const response = await fx.openai.responses.create({ input: "hi" } as never, viaHeader);
    assert.equal(response.output_text, "responses");

    const noModel = [
      () => fx.openai.chat.completions.create({ messages: [{ role: "user", content: "hi" }] } as never),
      () => fx.anthropic.messages.create({ max_tokens: 20, messages: [{ role: "user", content: "hi" }] } as never),
      () => fx.openai.responses.create({ input: "hi" } as never),
    ];
    for (const send of noModel)
      await assert.rejects(send(), (error: any) => {
        assert.equal(error.status, 400);
        assert.match(error.message, /body\.model.*`X-Model` header/);
        assert.doesNotMatch(error.message, /received undefined/);
        return true;
      });

    // A name from the header that no route has: the answer says where it came from and which route is near.
    await assert.rejects(
      fx.openai.chat.completions.create({ messages: [{ role: "user", content: "hi" }] } as never, {
        headers: { "X-Model": "mian" },
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.NotFoundError);
        assert.match(
          error.message,
          /model "mian" \(from the `X-Model` header\) is not served here; did you mean "main"\?/,
        );
        return true;
      },
    );
    // `auto-router/<route>` is compared by its route: a typo of it is named, an unrelated route is not offered for
    // another just because both share the prefix (README's `auto-router/embed` on a gateway without that route).
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "auto-router/mian", messages: [{ role: "user", content: "hi" }] }),
      /model "auto-router\/mian" is not served here; did you mean "auto-router\/main"\?/,
    );
    await assert.rejects(
      fx.openai.embeddings.create({ model: "auto-router/embed", input: "hello" }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.NotFoundError);
        assert.match(error.message, /model "auto-router\/embed" is not served here; known routes: .*auto-router\/main/);
        assert.doesNotMatch(error.message, /did you mean/);
        return true;
      },
    );
    // A mistyped provider/model gets the one meant: from pi's own catalogue (no route names an openai model here),
    // and a models.json model with its provider mistyped (the whole name compared) through the Anthropic client.
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "openai/gpt-4.1-mnii", messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.NotFoundError);
        assert.match(
          error.message,
          /model "openai\/gpt-4\.1-mnii" is not served here; did you mean "openai\/gpt-4\.1-mini"\? known routes: auto-router\/main$/,
        );
        return true;
      },
    );
    await assert.rejects(
      fx.anthropic.messages.create({
        model: "mokc-a/model-b",
        max_tokens: 20,
        messages: [{ role: "user", content: "hi" }],
      }),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.NotFoundError);
        assert.equal((error.error as any).error.type, "not_found_error");
        assert.match(
          (error.error as any).error.message,
          /^model "mokc-a\/model-b" is not served here; did you mean "mock-a\/model-b"\? known routes: auto-router\/main$/,
        );
        return true;
      },
    );
  });

  it("names its own endpoint when a client's base URL lacks /v1 or repeats it, or a path is a letter off", async () => {
    const messages = [{ role: "user" as const, content: "hi" }];
    const before = target.calls.length;
    // The OpenAI client given the Anthropic-style base URL (no /v1): POST /chat/completions.
    const noV1 = new OpenAI({ baseURL: fx.gateway.url, apiKey: fx.gateway.token, maxRetries: 0 });
    await assert.rejects(noV1.chat.completions.create({ model: "main", messages }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.match(
        error.message,
        /^404 no endpoint POST \/chat\/completions: .*\. The gateway serves POST \/v1\/chat\/completions itself: the client's base URL probably lacks \/v1/,
      );
      return true;
    });
    // The Anthropic client given the OpenAI-style one (with /v1): POST /v1/v1/messages.
    const doubled = new Anthropic({ baseURL: `${fx.gateway.url}/v1`, apiKey: fx.gateway.token, maxRetries: 0 });
    await assert.rejects(doubled.messages.create({ model: "main", max_tokens: 20, messages }), (error: unknown) => {
      assert.ok(error instanceof Anthropic.NotFoundError);
      assert.match(
        error.message,
        /no endpoint POST \/v1\/v1\/messages: .*\. The gateway serves POST \/v1\/messages itself: the client's base URL probably ends in \/v1 already/,
      );
      return true;
    });
    await assert.rejects(
      fx.openai.post("/chat/completion", { body: { model: "main", messages } }),
      /no endpoint POST \/v1\/chat\/completion: .*\. Did you mean POST \/v1\/chat\/completions, the gateway's own endpoint\?/,
    );
    // A path far from every endpoint of the gateway's own gets the 404 as it was.
    await assert.rejects(fx.openai.post("/rerank", { body: { model: "main" } }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.match(error.message, /^404 no endpoint POST \/v1\/rerank: no provider of route main advertises it; /);
      assert.doesNotMatch(error.message, /gateway serves|Did you mean/);
      return true;
    });
    assert.equal(target.calls.length, before, "no request reached a target");
  });

  it("says how to send the token, that a body must be JSON, and what the body limit is", async () => {
    const wrongToken = new OpenAI({ baseURL: `${fx.gateway.url}/v1`, apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(
      wrongToken.chat.completions.create({ model: "main", messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.AuthenticationError);
        assert.match(
          error.message,
          /send it in the `Authorization` header with the Bearer scheme, or in the `x-api-key` header$/,
        );
        return true;
      },
    );
    // A JSON body sent as text/plain: the answer names the content type, not a field of the body.
    await assert.rejects(
      fx.openai.post("/chat/completions", {
        body: JSON.stringify({ model: "main", messages: [{ role: "user", content: "hi" }] }),
        headers: { "content-type": "text/plain" },
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.match(
          error.message,
          /expected a JSON object sent with `Content-Type: application\/json`, got `text\/plain`/,
        );
        return true;
      },
    );
    // JSON that is no object, and a field's place written as a client writes it.
    for (const [body, expected] of [
      [[1, 2], /request body: expected an object, got an array/],
      ["hello", /request body: expected a JSON object, got a JSON string/],
      [
        {
          model: "main",
          messages: [
            { role: "user", content: "hi" },
            { role: "user", content: 5 },
          ],
        },
        /body\.messages\[1\]/,
      ],
    ] as const)
      await assert.rejects(fx.openai.post("/chat/completions", { body }), (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        assert.match(error.message, expected);
        return true;
      });
    // Also far over the limit (MiBs the client is still sending when the gateway has decided): the gateway reads the
    // rest before it answers, so the client gets the 413 on a connection that stays open, never a broken connection
    // ("Connection error.", after which the SDKs upload the whole body again).
    for (const size of [60_000, 16 * 1024 * 1024, 16 * 1024 * 1024, 16 * 1024 * 1024])
      await assert.rejects(
        fx.openai.chat.completions.create(
          { model: "main", messages: [{ role: "user", content: "x".repeat(size) }] },
          { maxRetries: 0 },
        ),
        (error: unknown) => {
          assert.ok(error instanceof OpenAI.APIError && error.status === 413, `${size} bytes: ${error}`);
          assert.match(error.message, /larger than the gateway's limit of 50000 bytes \(gateway\.bodyLimitBytes/);
          assert.notEqual(error.headers?.get("connection"), "close", `${size} bytes: connection kept`);
          return true;
        },
      );
  });
});
