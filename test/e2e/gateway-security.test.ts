// The gateway's security model through the real process: the token on every request, loopback-only binding, the
// body limit, the generated token file, and secrets that never reach a client or a log.
import Anthropic from "@anthropic-ai/sdk";
import assert from "node:assert/strict";
import { once } from "node:events";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { makeAgentDir } from "../helpers/agent-dir.ts";
import { type GatewayFixture, startGatewayFixture, startThreeApiGateway } from "../helpers/gateway-fixture.ts";
import { runGatewayCommand, startGatewayProcess } from "../helpers/gateway-process.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const TARGET_KEY = "sk-proj-TargetSecretKey0123456789abcdef";
const ECHOED_KEY = "sk-proj-EchoedSecretKey9876543210fedcba";

describe("gateway security", () => {
  let fx: GatewayFixture<"T">;
  let target: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { T: "openai" },
      providers: { "mock-t": { emulator: "T", apiKey: TARGET_KEY, models: ["model-t"] } },
      routes: {
        routes: { main: { targets: [{ provider: "mock-t", modelId: "model-t" }] } },
        gateway: { bodyLimitBytes: 65_536, headersTimeoutMs: 500 },
      },
    });
    target = fx.emulators.T;
  });
  after(() => fx?.stop());

  it("answers 401 to a missing or wrong token in either header, and nothing reaches a target", async () => {
    target.reset();
    const wrongBearer = new OpenAI({ baseURL: `${fx.gateway.url}/v1`, apiKey: "wrong-token", maxRetries: 0 });
    await assert.rejects(
      wrongBearer.chat.completions.create({ model: "main", messages: [{ role: "user", content: "hi" }] }),
      (error: any) => error.status === 401,
    );
    const wrongApiKey = new Anthropic({ baseURL: fx.gateway.url, apiKey: "wrong-token", maxRetries: 0 });
    await assert.rejects(
      wrongApiKey.messages.create({ model: "main", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 401);
        assert.equal(error.error?.error?.type, "authentication_error");
        return true;
      },
    );
    const none = await fetch(`${fx.gateway.url}/v1/models`);
    assert.equal(none.status, 401);
    const health = await fetch(`${fx.gateway.url}/health/providers`);
    assert.equal(health.status, 401);
    assert.equal(target.calls.length, 0);
  });

  it("accepts the token in either header when the other holds another key, and forwards neither", async () => {
    // Claude Code with ANTHROPIC_AUTH_TOKEN=<gateway token> and a personal ANTHROPIC_API_KEY sends both headers.
    const personal = "sk-ant-api03-PersonalKeyOfTheUser0123456789";
    const clients = [
      new Anthropic({ baseURL: fx.gateway.url, apiKey: personal, authToken: fx.gateway.token, maxRetries: 0 }),
      new Anthropic({ baseURL: fx.gateway.url, apiKey: fx.gateway.token, authToken: personal, maxRetries: 0 }),
    ];
    for (const [index, client] of clients.entries()) {
      target.reset();
      target.enqueue({ text: `served ${index}` });
      const message = await client.messages.create({
        model: "main",
        max_tokens: 5,
        messages: [{ role: "user", content: "hi" }],
      });
      assert.equal(message.content[0]!.type === "text" && message.content[0]!.text, `served ${index}`);
      const sent = target.calls[0]!.headers;
      assert.equal(sent.authorization, `Bearer ${TARGET_KEY}`, "the target got its own key");
      assert.equal(sent["x-api-key"], undefined, "the client's x-api-key was not forwarded");
      assert.ok(!JSON.stringify(sent).includes(personal) && !JSON.stringify(sent).includes(fx.gateway.token));
    }
    // The same through a passthrough (an OpenAI client on an OpenAI target), whose upstream request carries the
    // client's own headers minus its credentials.
    target.reset();
    target.enqueue({ text: "passed through" });
    // Its account scope too (the client sends OpenAI-Organization and OpenAI-Project from these options, or from
    // OPENAI_ORG_ID / OPENAI_PROJECT_ID), and any header whose name says it is a credential.
    const openai = new OpenAI({
      baseURL: `${fx.gateway.url}/v1`,
      apiKey: fx.gateway.token,
      organization: "org-ClientOrg123",
      project: "proj_Client456",
      defaultHeaders: {
        "x-api-key": personal,
        "x-auth-token": "client-private-token-1234",
        "anthropic-api-key": "client-anthropic-key-5678",
        "x-custom-secret": "client-secret-value-789",
        "x-trace": "t1",
      },
      maxRetries: 0,
    });
    const completion = await openai.chat.completions.create({
      model: "main",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(completion.choices[0]!.message.content, "passed through");
    const passed = target.calls[0]!.headers;
    assert.equal(passed.authorization, `Bearer ${TARGET_KEY}`);
    assert.equal(passed["x-api-key"], undefined);
    for (const name of [
      "openai-organization",
      "openai-project",
      "x-auth-token",
      "anthropic-api-key",
      "x-custom-secret",
    ])
      assert.equal(passed[name], undefined, `the client's ${name} was not forwarded`);
    assert.equal(passed["x-trace"], "t1", "the client's other headers are");
    // Both headers wrong is still a 401.
    target.reset();
    const neither = new Anthropic({ baseURL: fx.gateway.url, apiKey: personal, authToken: "wrong", maxRetries: 0 });
    await assert.rejects(
      neither.messages.create({ model: "main", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) => error instanceof Anthropic.AuthenticationError,
    );
    assert.equal(target.calls.length, 0);
  });

  it("refuses a request body over the limit with 413 before routing it", async () => {
    target.reset();
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "main", messages: [{ role: "user", content: "x".repeat(100_000) }] }),
      (error: any) => {
        assert.equal(error.status, 413);
        return true;
      },
    );
    assert.equal(target.calls.length, 0);
  });

  it("cuts a client that does not finish its headers within gateway.headersTimeoutMs with 408", async () => {
    // A slow client (slowloris) is a TCP connection that never ends its headers: no SDK can be one.
    target.reset();
    const socket = connect(Number(new URL(fx.gateway.url).port), "127.0.0.1");
    await once(socket, "connect");
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk));
    socket.write("POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    // Node checks the timeout only every connectionsCheckingInterval, 30 s unless the gateway sets it.
    const cutOff = setTimeout(() => socket.destroy(), 10_000);
    await once(socket, "close");
    clearTimeout(cutOff);
    assert.match(answer, /^HTTP\/1\.1 408 /, "the gateway answered 408 and closed the connection");
    assert.equal(target.calls.length, 0);
  });

  it("never lets a key echoed in an upstream error reach the client, the gateway's output or the event log", async () => {
    target.reset();
    target.enqueue({
      status: 400,
      errorMessage: `Invalid request: key ${ECHOED_KEY} (also ${TARGET_KEY}) cannot use this model`,
    });
    let seen = "";
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "main", messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 400);
        seen = `${error.message} ${JSON.stringify(error.error)} ${JSON.stringify([...error.headers])}`;
        return true;
      },
    );
    assert.match(seen, /cannot use this model/);
    assert.equal(target.calls.length, 1);
    await fx.gateway.stop();
    const logs = readdirSync(join(fx.agentDir, "extensions"))
      .filter((name) => name.endsWith(".jsonl"))
      .map((name) => readFileSync(join(fx.agentDir, "extensions", name), "utf8"))
      .join("\n");
    assert.match(logs, /"type":"result"/, "the event log recorded the attempt");
    for (const secret of [ECHOED_KEY, TARGET_KEY, fx.gateway.token]) {
      assert.ok(!seen.includes(secret), "client saw a secret");
      assert.ok(
        !fx.gateway.stderr().includes(secret) && !fx.gateway.stdout().includes(secret),
        "gateway output holds a secret",
      );
      assert.ok(!logs.includes(secret), "event log holds a secret");
    }
    await fx.restartGateway();
  });

  it("prints an upstream event the openai SDK cannot parse as its message alone: no key, no prompt text", async () => {
    target.reset();
    // A Chat Completions stream whose event is no JSON: pi-ai's openai SDK prints it with console.error, whole.
    target.enqueue({ body: `data: {oops key=${TARGET_KEY} user text: my password is hunter2\n\n` });
    const before = fx.gateway.stderr().length;
    // An Anthropic client on an OpenAI target: the translated path, which reads the stream with the openai SDK.
    await fx.anthropic.messages
      .create({ model: "main", max_tokens: 20, messages: [{ role: "user", content: "hi" }] })
      .catch(() => undefined);
    assert.ok(target.calls.length >= 1, "the target answered the request");
    const deadline = Date.now() + 5_000;
    while (!fx.gateway.stderr().slice(before).includes("Could not parse") && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const printed = fx.gateway.stderr().slice(before);
    assert.match(printed, /^Could not parse message into JSON: \(its data not logged\)$/m, printed);
    assert.match(printed, /^From chunk: \(its data not logged\)$/m, printed);
    for (const secret of [TARGET_KEY, "hunter2", "oops"])
      assert.ok(!printed.includes(secret), `${secret}:\n${printed}`);
  });

  it("never lets the gateway token, quoted in an upstream error, reach the client, the gateway's output or the event log", async () => {
    // An upstream that quotes a value it refused (an upstream proxy that saw the gateway token, say).
    target.reset();
    target.enqueue({ status: 400, errorMessage: `Invalid value '${fx.gateway.token}' is not allowed here` });
    let seen = "";
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "main", messages: [{ role: "user", content: "hi" }] }),
      (error: any) => {
        assert.equal(error.status, 400);
        seen = `${error.message} ${JSON.stringify(error.error)} ${JSON.stringify([...error.headers])}`;
        return true;
      },
    );
    assert.match(seen, /is not allowed here/);
    await fx.gateway.stop();
    const logs = readdirSync(join(fx.agentDir, "extensions"))
      .filter((name) => name.endsWith(".jsonl"))
      .map((name) => readFileSync(join(fx.agentDir, "extensions", name), "utf8"))
      .join("\n");
    assert.match(logs, /is not allowed here/, "the event log recorded the upstream's message");
    assert.ok(!seen.includes(fx.gateway.token), `the client saw the token: ${seen}`);
    assert.ok(!fx.gateway.stderr().includes(fx.gateway.token), "the gateway's stderr holds the token");
    assert.ok(!logs.includes(fx.gateway.token), "the event log holds the token");
    await fx.restartGateway();
  });

  it("refuses a non-loopback --host unless --allow-remote is given", async () => {
    const run = await runGatewayCommand(fx.agentDir, ["serve", "--host", "0.0.0.0", "--port", "0"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--host 0\.0\.0\.0 is not a loopback address.*--allow-remote/);
    assert.equal(run.stdout, "");
  });

  it("generates a 0600 token file on first start when AUTO_ROUTER_TOKEN is unset, prints its path, and reuses it", async () => {
    const own = makeAgentDir({
      routes: { routes: { main: { targets: [{ provider: "mock-t", modelId: "model-t" }] } } },
    });
    try {
      const started = await startGatewayProcess({ agentDir: own.agentDir, env: { AUTO_ROUTER_TOKEN: undefined } });
      const file = join(own.agentDir, "extensions", "auto-router.gateway-token");
      await started.stop();
      assert.ok(existsSync(file));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.match(started.stderr(), new RegExp(`gateway token created in ${file.replace(/[.]/g, "\\.")}`));
      const token = readFileSync(file, "utf8").trim();
      assert.ok(token.length >= 32);
      assert.ok(!started.stderr().includes(token) && !started.stdout().includes(token));
      const again = await startGatewayProcess({ agentDir: own.agentDir, env: { AUTO_ROUTER_TOKEN: undefined } });
      try {
        assert.equal(
          (await fetch(`${again.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } })).status,
          200,
        );
        assert.match(again.stderr(), /gateway token read from/);
        assert.doesNotMatch(again.stderr(), /AUTO_ROUTER_TOKEN is/);
      } finally {
        await again.stop();
      }
      // A short AUTO_ROUTER_TOKEN serves, with a warning: it is easy to guess and cannot be redacted.
      const short = await startGatewayProcess({ agentDir: own.agentDir, env: { AUTO_ROUTER_TOKEN: "hunter2" } });
      try {
        assert.equal(
          (await fetch(`${short.url}/v1/models`, { headers: { authorization: "Bearer hunter2" } })).status,
          200,
        );
        assert.match(
          short.stderr(),
          /^auto-router: warning: AUTO_ROUTER_TOKEN is 7 characters: a token shorter than 12 is easy to guess and too short to be told from ordinary text, so it is not redacted/m,
        );
      } finally {
        await short.stop();
      }
    } finally {
      own.cleanup();
    }
  });

  it("never takes or writes its token through a symbolic link in the token file's place", async () => {
    const own = makeAgentDir({
      routes: { routes: { main: { targets: [{ provider: "mock-t", modelId: "model-t" }] } } },
    });
    try {
      const extensions = join(own.agentDir, "extensions");
      mkdirSync(extensions, { recursive: true });
      const file = join(extensions, "auto-router.gateway-token");
      // A token someone else knows, behind a link: the gateway must not accept it.
      const planted = join(own.agentDir, "planted-token");
      writeFileSync(planted, "ar-planted-token-someone-else-knows\n", { mode: 0o644 });
      symlinkSync(planted, file);
      const started = await startGatewayProcess({ agentDir: own.agentDir, env: { AUTO_ROUTER_TOKEN: undefined } });
      try {
        const list = (token: string) =>
          fetch(`${started.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal((await list("ar-planted-token-someone-else-knows")).status, 401);
        assert.ok(!lstatSync(file).isSymbolicLink(), "the token is a file of its own");
        assert.equal(statSync(file).mode & 0o777, 0o600);
        assert.equal((await list(readFileSync(file, "utf8").trim())).status, 200);
      } finally {
        await started.stop();
      }
      assert.equal(readFileSync(planted, "utf8"), "ar-planted-token-someone-else-knows\n");
      assert.match(
        started.stderr(),
        /^auto-router: warning: the gateway token file \S+\/extensions\/auto-router\.gateway-token was a symbolic link \(to .*planted-token\); it was moved aside as .*auto-router\.gateway-token\.corrupt-.*, and a new token was written to a file of its own$/m,
      );
      assert.match(started.stderr(), /gateway token created in /);
      // A dangling link: the new token is not written where it pointed.
      const nowhere = join(own.agentDir, "nowhere", "token");
      for (const name of readdirSync(extensions))
        if (name.startsWith("auto-router.gateway-token")) rmSync(join(extensions, name));
      symlinkSync(nowhere, file);
      const again = await startGatewayProcess({ agentDir: own.agentDir, env: { AUTO_ROUTER_TOKEN: undefined } });
      await again.stop();
      assert.ok(!existsSync(nowhere), "nothing was written where the dangling link pointed");
      assert.ok(!lstatSync(file).isSymbolicLink());
    } finally {
      own.cleanup();
    }
  });
});

describe("gateway answers that quote the target's credentials", () => {
  // The keys startThreeApiGateway gives its targets, each echoed back by its upstream as the answer's text.
  const KEYS = ["sk-ant-mock-0000000001", "sk-mock-chat-0000000002", "sk-mock-resp-0000000003"];
  let fx: GatewayFixture<"C" | "A" | "R">;

  const echo = (header: string) => (call: { headers: Record<string, unknown> }) => ({
    text: [`you sent ${call.headers[header]}`, " and nothing else"],
  });

  before(async () => {
    fx = await startThreeApiGateway();
    fx.emulators.C.setDefault(echo("x-api-key"));
    fx.emulators.A.setDefault(echo("authorization"));
    fx.emulators.R.setDefault(echo("authorization"));
  });
  after(() => fx?.stop());

  const ask = "repeat what you were sent";
  /** Everything a client got, streamed or whole, through each endpoint: `route` decides passthrough or translated. */
  const answers: Record<string, (route: string) => Promise<string>> = {
    "chat completions": async (route) =>
      JSON.stringify(
        await fx.openai.chat.completions.create({ model: route, messages: [{ role: "user", content: ask }] }),
      ),
    "chat completions, streamed": async (route) => {
      const stream = await fx.openai.chat.completions.create({
        model: route,
        stream: true,
        messages: [{ role: "user", content: ask }],
      });
      let seen = "";
      for await (const chunk of stream) seen += JSON.stringify(chunk);
      return seen;
    },
    messages: async (route) =>
      JSON.stringify(
        await fx.anthropic.messages.create({
          model: route,
          max_tokens: 50,
          messages: [{ role: "user", content: ask }],
        }),
      ),
    "messages, streamed": async (route) => {
      const stream = fx.anthropic.messages.stream({
        model: route,
        max_tokens: 50,
        messages: [{ role: "user", content: ask }],
      });
      let seen = "";
      stream.on("streamEvent", (event) => void (seen += JSON.stringify(event)));
      return seen + JSON.stringify(await stream.finalMessage());
    },
    responses: async (route) => JSON.stringify(await fx.openai.responses.create({ model: route, input: ask })),
    "responses, streamed": async (route) => {
      const stream = await fx.openai.responses.create({ model: route, input: ask, stream: true });
      let seen = "";
      for await (const event of stream) seen += JSON.stringify(event);
      return seen;
    },
  };
  // Each endpoint's own API is passed through; `claude` (or `chat` for Messages) is translated.
  const routes: Record<string, { passthrough: string; translated: string }> = {
    "chat completions": { passthrough: "chat", translated: "claude" },
    messages: { passthrough: "claude", translated: "chat" },
    responses: { passthrough: "resp", translated: "chat" },
  };

  it("never hands the client a key an upstream echoed split across two chunks of a Chat Completions passthrough", async () => {
    fx.emulators.A.setDefault((call: { headers: Record<string, unknown> }) => {
      const sent = String(call.headers.authorization);
      return { text: [`you sent ${sent.slice(0, 12)}`, `${sent.slice(12, 20)}`, `${sent.slice(20)} and nothing else`] };
    });
    try {
      const stream = await fx.openai.chat.completions.create({
        model: routes["chat completions"]!.passthrough,
        stream: true,
        messages: [{ role: "user", content: ask }],
      });
      let seen = "";
      let text = "";
      for await (const chunk of stream) {
        seen += JSON.stringify(chunk);
        text += chunk.choices[0]?.delta.content ?? "";
      }
      assert.equal(text, "you sent Bearer [REDACTED] and nothing else");
      // No piece of the key in any chunk the client got: its start, middle or end.
      for (const piece of ["sk-mo", "ck-chat-", "0000000002"])
        assert.ok(!seen.includes(piece), `the client saw ${piece}`);
    } finally {
      fx.emulators.A.setDefault(echo("authorization"));
    }
  });

  it("never hands the client a key an upstream echoed split across three deltas of a Messages or Responses passthrough", async () => {
    // Each delta as its own read (a pause between them) or all in one; the key cut after its first character too.
    const split = (header: string, cut: number, apart: boolean) => (call: { headers: Record<string, unknown> }) => {
      const sent = String(call.headers[header]);
      const at = sent.indexOf("sk-") + cut;
      return {
        text: [`you sent ${sent.slice(0, at)}`, sent.slice(at, at + 6), `${sent.slice(at + 6)} and nothing else`],
        ...(apart ? { chunkDelayMs: 5 } : { burstAfterChunks: 0 }),
      };
    };
    try {
      for (const [cut, apart] of [
        [1, true],
        [10, false],
      ] as const) {
        fx.emulators.C.setDefault(split("x-api-key", cut, apart));
        fx.emulators.R.setDefault(split("authorization", cut, apart));
        const stream = fx.anthropic.messages.stream({
          model: routes.messages!.passthrough,
          max_tokens: 50,
          messages: [{ role: "user", content: ask }],
        });
        let seen = "";
        let text = "";
        stream.on("streamEvent", (event) => void (seen += JSON.stringify(event)));
        stream.on("text", (delta) => void (text += delta));
        seen += JSON.stringify(await stream.finalMessage());
        assert.equal(text, "you sent [REDACTED] and nothing else", `messages, cut ${cut}`);
        const events = await fx.openai.responses.create({
          model: routes.responses!.passthrough,
          input: ask,
          stream: true,
        });
        let responsesText = "";
        for await (const event of events) {
          seen += JSON.stringify(event);
          if (event.type === "response.output_text.delta") responsesText += event.delta;
        }
        assert.equal(responsesText, "you sent Bearer [REDACTED] and nothing else", `responses, cut ${cut}`);
        for (const key of KEYS) {
          for (const piece of [key.slice(0, cut + 6), key.slice(cut, cut + 6), key.slice(cut + 6)])
            assert.ok(!seen.includes(piece), `cut ${cut}: the client saw ${piece}`);
        }
      }
    } finally {
      fx.emulators.C.setDefault(echo("x-api-key"));
      fx.emulators.R.setDefault(echo("authorization"));
    }
  });

  it("never hands the client a key an upstream echoed split across two deltas of a translated stream", async () => {
    const split = (header: string) => (call: { headers: Record<string, unknown> }) => {
      const sent = String(call.headers[header]);
      return { text: [`you sent ${sent.slice(0, 12)}`, `${sent.slice(12)} and nothing else`] };
    };
    fx.emulators.C.setDefault(split("x-api-key"));
    fx.emulators.A.setDefault(split("authorization"));
    try {
      for (const endpoint of ["chat completions, streamed", "messages, streamed", "responses, streamed"]) {
        const seen = await answers[endpoint]!(routes[endpoint.replace(", streamed", "")]!.translated);
        assert.match(seen, /you sent /, endpoint);
        assert.match(seen, /\[REDACTED\]/, endpoint);
        assert.match(seen, /nothing else/, `${endpoint}: the text after the key still came`);
        for (const key of KEYS)
          assert.ok(!seen.includes(key.slice(4)), `${endpoint}: the client saw ${key.slice(0, 8)}...`);
      }
    } finally {
      fx.emulators.C.setDefault(echo("x-api-key"));
      fx.emulators.A.setDefault(echo("authorization"));
    }
  });

  it("never hands the client the start of a key an answer stopped inside (16 of its characters), on any endpoint or path", async () => {
    // The answer's last delta ends inside the key, as when the model's output limit cut it.
    const cut = (header: string) => (call: { headers: Record<string, unknown> }) => {
      const sent = String(call.headers[header]);
      return { text: ["you sent ", sent.slice(0, sent.indexOf("sk-") + 16)] };
    };
    fx.emulators.C.setDefault(cut("x-api-key"));
    fx.emulators.A.setDefault(cut("authorization"));
    fx.emulators.R.setDefault(cut("authorization"));
    try {
      for (const [endpoint, answer] of Object.entries(answers))
        for (const path of ["passthrough", "translated"] as const) {
          const seen = await answer(routes[endpoint.replace(", streamed", "")]![path]);
          assert.match(seen, /you sent /, `${endpoint}, ${path}: the answer reached the client`);
          assert.match(seen, /\[REDACTED\]/, `${endpoint}, ${path}`);
          for (const key of KEYS)
            assert.ok(!seen.includes(key.slice(0, 16)), `${endpoint}, ${path}: the client saw ${key.slice(0, 16)}`);
        }
    } finally {
      fx.emulators.C.setDefault(echo("x-api-key"));
      fx.emulators.A.setDefault(echo("authorization"));
      fx.emulators.R.setDefault(echo("authorization"));
    }
  });

  for (const [endpoint, answer] of Object.entries(answers)) {
    for (const path of ["passthrough", "translated"] as const) {
      it(`never hands the client the target's key an upstream echoed: ${endpoint}, ${path}`, async () => {
        const route = routes[endpoint.replace(", streamed", "")]![path];
        const seen = await answer(route);
        assert.match(seen, /you sent /, "the echoed answer reached the client");
        assert.match(seen, /\[REDACTED\]/);
        for (const key of KEYS) assert.ok(!seen.includes(key), `the client saw ${key.slice(0, 8)}...`);
      });
    }
  }
});
