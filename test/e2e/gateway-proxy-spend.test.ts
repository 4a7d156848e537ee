// What a proxied request costs, through the real `pi-auto-router serve` and the official OpenAI client against local
// upstream servers: a JSON answer's usage record (OpenAI embeddings' `prompt_tokens`, also at the end or the start of
// an answer over 4 MiB), units that are no tokens (a Cohere rerank's search units, a transcription's seconds: counted
// as requests and logged, unpriced, or priced by the routes file's unitPrices), an event stream's last usage (a legacy Completions stream, also one whose usage event spreads its JSON
// over several `data:` lines) and an Ollama NDJSON stream's counts are priced with the target model's prices and
// booked once, as a chat answer is (the ledger, the `usage` and `result` events, the final's cost, the routing-stats
// report), and a hard budget it exhausts refuses the next proxied request with 402. An answer whose usage cannot be
// read (an invalid record, a type not read) is forwarded untouched and books nothing.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, beforeEach, describe, it } from "node:test";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { parseLedger, providerSpend } from "../../src/budget/usage-ledger.ts";
import { REPO_ROOT, routeInOrder } from "../helpers/agent-dir.ts";
import { startUpstream, type Upstream } from "../helpers/endpoint-upstream.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";

const run = promisify(execFile);
/** USD per 1M tokens: an embeddings model bills its input only. */
const PRICE = { input: 100, output: 0, cacheRead: 0, cacheWrite: 0 };
const PROMPT_TOKENS = 1234;
const COST_USD = (PROMPT_TOKENS * PRICE.input) / 1_000_000; // $0.1234
const rounded = (usd: number) => Number(usd.toFixed(9));
/** USD per 1M tokens for the streamed chat-like answers: input and output. */
const CHAT_PRICE = { input: 1, output: 2, cacheRead: 0, cacheWrite: 0 };
const chatCost = (input: number, output: number) => (input * CHAT_PRICE.input + output * CHAT_PRICE.output) / 1e6;
/** USD per search unit, the routes file's price for one rerank provider's units. */
const SEARCH_UNIT_USD = 0.002;

/** An OpenAI embeddings answer (float vectors) with the given usage record. */
const embeddings = (model: string, usage: unknown) => ({
  object: "list",
  data: [{ object: "embedding", index: 0, embedding: [0.25, 0.5] }],
  model,
  usage,
});

describe("gateway wildcard proxy: the spend of proxied requests", () => {
  let upstream: Upstream;
  let fx: GatewayFixture<never>;

  const finalsOf = (routeId: string) =>
    readLoggedEvents(fx.agentDir).filter((event) => event.type === "final" && event.routeId === routeId);
  const eventsOf = (type: string, requestId: string) =>
    readLoggedEvents(fx.agentDir).filter((event) => event.type === type && event.requestId === requestId);

  const ledgerFile = () => join(fx.agentDir, "extensions", "auto-router.usage.json");
  /** A provider's spend today in the ledger file, once it is there. */
  const spentToday = (provider: string) =>
    existsSync(ledgerFile())
      ? providerSpend(
          parseLedger(JSON.parse(readFileSync(ledgerFile(), "utf8"))),
          calendarKeys(Date.now(), undefined),
          provider,
        ).day
      : undefined;

  /**
   * The route's one request: its `usage` event's tokens and cost, its `result`'s and its final's cost, and the
   * provider's ledger row.
   */
  async function assertBookedOnce(
    routeId: string,
    target: string,
    tokens: { input: number; output: number },
    costUsd: number,
  ) {
    await until(() => finalsOf(routeId).length === 1, `the ${routeId} request's final event`);
    const [final] = finalsOf(routeId);
    assert.equal(final.data.outcome, "success");
    const usage = eventsOf("usage", final.requestId);
    assert.equal(usage.length, 1);
    const { input, output, cacheRead, cacheWrite } = usage[0].data;
    assert.deepEqual({ input, output, cacheRead, cacheWrite }, { ...tokens, cacheRead: 0, cacheWrite: 0 });
    assert.equal(usage[0].data.target, target);
    assert.equal(rounded(usage[0].data.costUsd), rounded(costUsd));
    assert.equal(rounded(final.data.costUsd), rounded(costUsd));
    const [result] = eventsOf("result", final.requestId);
    assert.equal(rounded(result.data.usage.costUsd), rounded(costUsd), "the result's cost is the one booked");
    const provider = target.split("/")[0]!;
    await until(() => (spentToday(provider)?.requests ?? 0) >= 1, `${provider}'s spend in the ledger file`);
    assert.equal(spentToday(provider)!.requests, 1);
    assert.equal(rounded(spentToday(provider)!.costUsd), rounded(costUsd));
  }

  before(async () => {
    upstream = await startUpstream("S");
    const unprobed = (key: string) => routeInOrder(key).targets.map((target) => ({ ...target, probe: false }));
    /** A provider of one model on the upstream emulator, with its own key. */
    const upstreamProvider = (apiKey: string, id: string, cost = PRICE) => ({
      baseUrl: upstream.url,
      api: "openai-completions" as const,
      apiKey,
      models: [{ id, cost }],
    });
    fx = await startGatewayFixture({
      emulators: {},
      providers: {
        "embed-p": upstreamProvider("sk-embed-p-0001", "ep"),
        "embed-h": upstreamProvider("sk-embed-h-0002", "eh"),
        "files-f": upstreamProvider("sk-files-f-0003", "ff"),
        "big-b": upstreamProvider("sk-big-b-0004", "bb"),
        "big-f": upstreamProvider("sk-big-f-0008", "bf"),
        "rerank-r": upstreamProvider("sk-rerank-r-0009", "rr"),
        "rerank-p": upstreamProvider("sk-rerank-p-0011", "rp"),
        "audio-a": upstreamProvider("sk-audio-a-0010", "aa"),
        "complete-c": upstreamProvider("sk-complete-c-0005", "cc", CHAT_PRICE),
        "complete-m": upstreamProvider("sk-complete-m-0007", "cm", CHAT_PRICE),
        "ollama-o": upstreamProvider("sk-ollama-o-0006", "llama", CHAT_PRICE),
      },
      routes: {
        routes: {
          spend: { targets: routeInOrder("embed-p/ep").targets.map((target) => ({ ...target, probe: false })) },
          capped: { targets: routeInOrder("embed-h/eh").targets.map((target) => ({ ...target, probe: false })) },
          // files-f has no budget, but serves /v1/files only: for embeddings this route is embed-h's alone.
          mixed: {
            targets: routeInOrder("files-f/ff", "embed-h/eh").targets.map((target) => ({ ...target, probe: false })),
          },
          big: { targets: unprobed("big-b/bb") },
          bigfirst: { targets: unprobed("big-f/bf") },
          rerank: { targets: unprobed("rerank-r/rr") },
          rerankpriced: { targets: unprobed("rerank-p/rp") },
          audio: { targets: unprobed("audio-a/aa") },
          complete: { targets: unprobed("complete-c/cc") },
          multiline: { targets: unprobed("complete-m/cm") },
          ollama: { targets: unprobed("ollama-o/llama") },
        },
        providers: {
          "big-b": { endpointPrefixes: ["/v1/embeddings"] },
          "big-f": { endpointPrefixes: ["/v1/embeddings"] },
          "rerank-r": { endpointPrefixes: ["/v1/rerank"] },
          "rerank-p": { endpointPrefixes: ["/v1/rerank"], unitPrices: { search_units: SEARCH_UNIT_USD } },
          "audio-a": { endpointPrefixes: ["/v1/audio"] },
          "complete-c": { endpointPrefixes: ["/v1/completions"] },
          "complete-m": { endpointPrefixes: ["/v1/completions"] },
          "ollama-o": { endpointPrefixes: ["/api/chat"] },
          "embed-p": { endpointPrefixes: ["/v1/embeddings"] },
          "embed-h": { endpointPrefixes: ["/v1/embeddings"] },
          "files-f": { endpointPrefixes: ["/v1/files"] },
        },
        // Under the cost of one answer: the first proxied request passes (nothing spent yet), and exhausts it.
        budgets: { policy: "hard", providers: { "embed-h": { daily: 0.1 } } },
      },
    });
  });
  after(async () => {
    await fx?.stop();
    await upstream?.close();
  });
  beforeEach(() => {
    upstream.calls.length = 0;
    upstream.replies.length = 0;
  });

  it("books each proxied embeddings answer's usage once, priced from the target model, in the ledger, the log and the report", async () => {
    upstream.replies.push({
      status: 200,
      body: embeddings("ep", { prompt_tokens: PROMPT_TOKENS, total_tokens: PROMPT_TOKENS }),
    });
    const { data, response } = await fx.openai.embeddings
      .create({ model: "spend", input: "hello", encoding_format: "float" })
      .withResponse();
    assert.deepEqual(data.data[0]!.embedding, [0.25, 0.5]);
    assert.equal(data.usage.prompt_tokens, PROMPT_TOKENS, "the answer reaches the client as it came");
    assert.equal(response.headers.get("x-auto-router-served-by"), "embed-p/ep");
    // The same answer without a declared length, in two chunks: streamed through as it comes, and booked as well.
    upstream.replies.push({
      status: 200,
      body: embeddings("ep", { prompt_tokens: PROMPT_TOKENS, total_tokens: PROMPT_TOKENS }),
      split: true,
    });
    const streamed = await fx.openai.embeddings.create({ model: "spend", input: "streamed", encoding_format: "float" });
    assert.equal(streamed.usage.prompt_tokens, PROMPT_TOKENS);

    // Two answers whose usage cannot be read are forwarded untouched and book nothing.
    const invalid = embeddings("ep", { prompt_tokens: "lots", total_tokens: -3 });
    upstream.replies.push({ status: 200, body: invalid });
    const plain = { usage: { prompt_tokens: 999 } };
    upstream.replies.push({ status: 200, body: plain, headers: { "content-type": "text/plain" } });
    for (const expected of [JSON.stringify(invalid), JSON.stringify(plain)]) {
      const raw = await fetch(`${fx.gateway.url}/v1/embeddings`, {
        method: "POST",
        headers: { authorization: `Bearer ${fx.gateway.token}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "spend", input: "again" }),
      });
      assert.equal(raw.status, 200);
      assert.equal(await raw.text(), expected);
    }

    await until(() => finalsOf("spend").length === 4, "the four proxied requests' final events");
    const [whole, chunked, ...unread] = finalsOf("spend");
    // The event log: one usage event each, the result's usage and the final's cost, as for a chat answer.
    for (const booked of [whole, chunked]) {
      const usage = eventsOf("usage", booked.requestId);
      assert.equal(usage.length, 1);
      assert.deepEqual(
        { ...usage[0].data, costUsd: rounded(usage[0].data.costUsd) },
        {
          ...usage[0].data,
          target: "embed-p/ep",
          provider: "embed-p",
          outcome: "committed",
          input: PROMPT_TOKENS,
          output: 0,
          cacheRead: 0,
          cacheWrite: 0,
          costUsd: COST_USD,
          estimated: false,
        },
      );
      const [result] = eventsOf("result", booked.requestId);
      assert.equal(result.data.usage.input, PROMPT_TOKENS);
      assert.equal(rounded(result.data.usage.costUsd), COST_USD);
      assert.equal(rounded(booked.data.costUsd), COST_USD);
    }
    for (const final of unread) {
      assert.equal(final.data.outcome, "success");
      assert.equal(final.data.costUsd, undefined, "no cost on the final, not $0: the answer was not free");
      assert.equal(eventsOf("usage", final.requestId).length, 0);
      assert.equal(eventsOf("result", final.requestId)[0].data.usage, undefined);
    }
    assert.equal(readLoggedEvents(fx.agentDir).filter((event) => event.type === "usage").length, 2);

    // The spend ledger: two requests at that cost each, written within the store's flush delay.
    const spent = () =>
      existsSync(ledgerFile())
        ? providerSpend(
            parseLedger(JSON.parse(readFileSync(ledgerFile(), "utf8"))),
            calendarKeys(Date.now(), undefined),
            "embed-p",
          )
        : undefined;
    await until(() => (spent()?.day.requests ?? 0) >= 2, "the proxied spend in the ledger file");
    assert.equal(spent()!.day.requests, 2);
    assert.equal(rounded(spent()!.day.costUsd), 2 * COST_USD);
    assert.equal(rounded(spent()!.month.costUsd), 2 * COST_USD);

    // The routing-stats report over the same log: the route's cost.
    const logFile = join(fx.agentDir, "extensions", "auto-router.events.jsonl");
    const { stdout } = await run(
      process.execPath,
      [join(REPO_ROOT, "scripts", "routing-stats.mjs"), "--file", logFile, "--json"],
      { cwd: REPO_ROOT },
    );
    const route = JSON.parse(stdout).stats.byRoute.find((row: { key: string }) => row.key === "spend");
    assert.equal(route.requests, 4);
    assert.equal(rounded(route.costUsd), 2 * COST_USD);
  });

  it("books the usage at the end or the start of an embeddings answer over 4 MiB, read as it passes", async () => {
    const vector = Array.from({ length: 1536 }, (_, index) => 0.123456789 + index / 1e9);
    const data = Array.from({ length: 250 }, (_, index) => ({ object: "embedding", index, embedding: vector }));
    const tokens = 98_765;
    const body = { object: "list", data, model: "bb", usage: { prompt_tokens: tokens, total_tokens: tokens } };
    assert.ok(JSON.stringify(body).length > 4 * 1024 * 1024, "the answer is over the whole-read bound");
    upstream.replies.push({ status: 200, body });
    const answer = await fx.openai.embeddings.create({ model: "big", input: "many", encoding_format: "float" });
    assert.equal(answer.data.length, 250, "the answer reaches the client whole");
    assert.deepEqual(answer.data[249]!.embedding, vector);
    assert.equal(answer.usage.prompt_tokens, tokens);
    await assertBookedOnce("big", "big-b/bb", { input: tokens, output: 0 }, (tokens * PRICE.input) / 1e6);

    // The same answer with its usage first, more than 4 MiB from its end.
    const first = { usage: { prompt_tokens: tokens + 1, total_tokens: tokens + 1 }, object: "list", data, model: "bf" };
    upstream.replies.push({ status: 200, body: first });
    const read = await fx.openai.embeddings.create({ model: "bigfirst", input: "many", encoding_format: "float" });
    assert.equal(read.data.length, 250, "the answer reaches the client whole");
    assert.equal(read.usage.prompt_tokens, tokens + 1);
    await assertBookedOnce(
      "bigfirst",
      "big-f/bf",
      { input: tokens + 1, output: 0 },
      ((tokens + 1) * PRICE.input) / 1e6,
    );
  });

  it("counts a rerank's search units and a transcription's seconds as requests beside zero tokens, priced where the routes file says", async () => {
    // Cohere's rerank, as its clients post it: the answer's billed units are search units, no tokens.
    const rerank = {
      id: "r1",
      results: [{ index: 0, relevance_score: 0.9 }],
      meta: { api_version: { version: "2" }, billed_units: { search_units: 1 } },
    };
    upstream.replies.push({ status: 200, body: rerank });
    const response = await fetch(`${fx.gateway.url}/v1/rerank`, {
      method: "POST",
      headers: { authorization: `Bearer ${fx.gateway.token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "rerank", query: "q", documents: ["a"] }),
    });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), JSON.stringify(rerank), "the answer reaches the client as it came");
    // OpenAI's transcription, through its official client: a multipart upload, the route named by X-Model.
    upstream.replies.push({ status: 200, body: { text: "hello", usage: { type: "duration", seconds: 3.5 } } });
    const transcription = await fx.openai.audio.transcriptions.create(
      { file: new File([Buffer.from("RIFF....WAVE")], "hello.wav", { type: "audio/wav" }), model: "audio" },
      { headers: { "x-model": "audio" } },
    );
    assert.equal(transcription.text, "hello");
    assert.equal(upstream.calls.at(-1)!.path, "/v1/audio/transcriptions");
    // The form's model field, streamed through, names the target's model, not the route.
    assert.match(upstream.calls.at(-1)!.body, /name="model"\r\n\r\naa\r\n--/);
    assert.match(upstream.calls.at(-1)!.body, /RIFF\.\.\.\.WAVE/);

    for (const [routeId, target, units] of [
      ["rerank", "rerank-r/rr", { search_units: 1 }],
      ["audio", "audio-a/aa", { seconds: 3.5 }],
    ] as const) {
      await until(() => finalsOf(routeId).length === 1, `the ${routeId} request's final event`);
      const [final] = finalsOf(routeId);
      assert.equal(final.data.outcome, "success");
      assert.equal(final.data.costUsd, undefined, "no cost on the final, not $0: units have no price");
      const usage = eventsOf("usage", final.requestId);
      assert.equal(usage.length, 1);
      const { input, output, cacheRead, cacheWrite, costUsd } = usage[0].data;
      assert.deepEqual(
        { input, output, cacheRead, cacheWrite, costUsd },
        { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, costUsd: 0 },
      );
      assert.deepEqual(usage[0].data.units, units);
      assert.equal(usage[0].data.target, target);
      assert.deepEqual(eventsOf("result", final.requestId)[0].data.usage.units, units);
      const provider = target.split("/")[0]!;
      await until(() => (spentToday(provider)?.requests ?? 0) >= 1, `${provider}'s request in the ledger file`);
      assert.deepEqual([spentToday(provider)!.requests, spentToday(provider)!.costUsd], [1, 0]);
    }

    // The same rerank from a provider whose search units have a price in the routes file: costed and booked.
    const priced = { ...rerank, meta: { ...rerank.meta, billed_units: { search_units: 3 } } };
    upstream.replies.push({ status: 200, body: priced });
    const pricedResponse = await fetch(`${fx.gateway.url}/v1/rerank`, {
      method: "POST",
      headers: { authorization: `Bearer ${fx.gateway.token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "rerankpriced", query: "q", documents: ["a"] }),
    });
    assert.equal(await pricedResponse.text(), JSON.stringify(priced));
    await assertBookedOnce("rerankpriced", "rerank-p/rp", { input: 0, output: 0 }, 3 * SEARCH_UNIT_USD);
    const [pricedFinal] = finalsOf("rerankpriced");
    assert.deepEqual(eventsOf("usage", pricedFinal.requestId)[0].data.units, { search_units: 3 });
  });

  it("books a streamed Completions answer's usage from its last event", async () => {
    const chunk = (text: string, usage: unknown) =>
      `data: ${JSON.stringify({ id: "c1", object: "text_completion", created: 1, model: "cc", choices: text ? [{ index: 0, text, finish_reason: null, logprobs: null }] : [], usage })}\n\n`;
    upstream.replies.push({
      status: 200,
      body: undefined,
      headers: { "content-type": "text/event-stream" },
      chunks: [
        chunk("Hello", null),
        chunk(" world", null),
        chunk("", { prompt_tokens: 321, completion_tokens: 45, total_tokens: 366 }),
        "data: [DONE]\n\n",
      ],
    });
    const stream = await fx.openai.completions.create({
      model: "complete",
      prompt: "Say hello",
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: unknown;
    for await (const event of stream) {
      text += event.choices[0]?.text ?? "";
      usage = event.usage ?? usage;
    }
    assert.equal(text, "Hello world", "the stream reaches the client as it came");
    assert.deepEqual(usage, { prompt_tokens: 321, completion_tokens: 45, total_tokens: 366 });
    await assertBookedOnce("complete", "complete-c/cc", { input: 321, output: 45 }, chatCost(321, 45));
  });

  it("books a streamed Completions answer whose usage event spreads its JSON over several data lines", async () => {
    const event = (fields: object, eol = "\n") =>
      `${JSON.stringify({ id: "m1", object: "text_completion", created: 1, model: "cm", ...fields }, null, 2)
        .split("\n")
        .map((line) => `data: ${line}${eol}`)
        .join("")}${eol}`;
    const choice = (text: string) => [{ index: 0, text, finish_reason: null, logprobs: null }];
    const usage = { prompt_tokens: 210, completion_tokens: 34, total_tokens: 244 };
    const chunks = [
      event({ choices: choice("Multi"), usage: null }),
      `: keep-alive\r\n${event({ choices: choice(" line"), usage: null }, "\r\n")}`,
      // The usage event, in CRLF, cut mid-line across two writes.
      ...((text) => [text.slice(0, 40), text.slice(40)])(event({ choices: [], usage }, "\r\n")),
      "data: [DONE]\n\n",
    ];
    upstream.replies.push({ status: 200, body: undefined, headers: { "content-type": "text/event-stream" }, chunks });
    const stream = await fx.openai.completions.create({
      model: "multiline",
      prompt: "Say it over several lines",
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let read: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? "";
      read = chunk.usage ?? read;
    }
    assert.equal(text, "Multi line", "the client reads the several-line events as they came");
    assert.deepEqual(read, usage);
    await assertBookedOnce("multiline", "complete-m/cm", { input: 210, output: 34 }, chatCost(210, 34));
  });

  it("books an Ollama /api/chat NDJSON stream's prompt_eval_count and eval_count from its done line", async () => {
    const line = (fields: object) =>
      `${JSON.stringify({ model: "llama", created_at: "2026-12-02T00:00:00Z", ...fields })}\n`;
    const lines = [
      line({ message: { role: "assistant", content: "Hi" }, done: false }),
      line({ message: { role: "assistant", content: " there" }, done: false }),
      line({
        message: { role: "assistant", content: "" },
        done: true,
        done_reason: "stop",
        total_duration: 5_000_000,
        prompt_eval_count: 26,
        eval_count: 298,
      }),
    ];
    upstream.replies.push({
      status: 200,
      body: undefined,
      headers: { "content-type": "application/x-ndjson" },
      chunks: lines,
    });
    // Ollama's own clients post to /api/chat and read the lines as they come.
    const response = await fetch(`${fx.gateway.url}/api/chat`, {
      method: "POST",
      headers: { authorization: `Bearer ${fx.gateway.token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "ollama", messages: [{ role: "user", content: "hello" }], stream: true }),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/x-ndjson");
    assert.equal(await response.text(), lines.join(""), "the lines reach the client as they came");
    assert.equal(JSON.parse(upstream.calls[0]!.body).model, "llama", "the target's model id was sent");
    assert.equal(upstream.calls[0]!.path, "/api/chat");
    await assertBookedOnce("ollama", "ollama-o/llama", { input: 26, output: 298 }, chatCost(26, 298));
  });

  it("refuses the next proxied request with 402 once a hard budget is spent by a proxied one", async () => {
    upstream.replies.push({
      status: 200,
      body: embeddings("eh", { prompt_tokens: PROMPT_TOKENS, total_tokens: PROMPT_TOKENS }),
    });
    await fx.openai.embeddings.create({ model: "capped", input: "first" });
    await assert.rejects(fx.openai.embeddings.create({ model: "capped", input: "second" }), (error: any) => {
      assert.equal(error.status, 402);
      assert.equal(error.headers.get("x-should-retry"), "false");
      assert.match(error.message, /every target of route capped is over budget.*embed-h \(.*daily.*\)/);
      return true;
    });
    assert.equal(upstream.calls.length, 1, "the refused request never reached the upstream");
  });

  it("refuses with 402 on a route whose only target advertising the path is over a hard budget", async () => {
    // The route's other target is within budget but was never an option for this path: the budget refuses, as it
    // does a chat request on a route whose every target is over budget.
    await assert.rejects(fx.openai.embeddings.create({ model: "mixed", input: "third" }), (error: any) => {
      assert.equal(error.status, 402);
      assert.match(error.message, /every target of route mixed is over budget.*embed-h \(.*daily.*\)/);
      assert.doesNotMatch(error.message, /files-f/);
      return true;
    });
    assert.equal(upstream.calls.length, 0);
  });
});
