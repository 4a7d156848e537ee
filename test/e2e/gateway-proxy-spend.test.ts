// What a proxied request costs, through the real `pi-auto-router serve` and the official OpenAI client against local
// upstream servers: a whole JSON answer's usage record (OpenAI embeddings' `prompt_tokens`) is priced with the target
// model's prices and booked once, as a chat answer is (the ledger, the `usage` and `result` events, the final's cost,
// the routing-stats report), and a hard budget it exhausts refuses the next proxied request with 402. An answer whose
// usage cannot be read (an invalid record, an event stream) is forwarded untouched and books nothing.
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

  before(async () => {
    upstream = await startUpstream("S");
    const model = (id: string) => ({ id, cost: PRICE });
    fx = await startGatewayFixture({
      emulators: {},
      providers: {
        "embed-p": {
          baseUrl: upstream.url,
          api: "openai-completions",
          apiKey: "sk-embed-p-0001",
          models: [model("ep")],
        },
        "embed-h": {
          baseUrl: upstream.url,
          api: "openai-completions",
          apiKey: "sk-embed-h-0002",
          models: [model("eh")],
        },
        "files-f": {
          baseUrl: upstream.url,
          api: "openai-completions",
          apiKey: "sk-files-f-0003",
          models: [model("ff")],
        },
      },
      routes: {
        routes: {
          spend: { targets: routeInOrder("embed-p/ep").targets.map((target) => ({ ...target, probe: false })) },
          capped: { targets: routeInOrder("embed-h/eh").targets.map((target) => ({ ...target, probe: false })) },
          // files-f has no budget, but serves /v1/files only: for embeddings this route is embed-h's alone.
          mixed: {
            targets: routeInOrder("files-f/ff", "embed-h/eh").targets.map((target) => ({ ...target, probe: false })),
          },
        },
        providers: {
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
    const sse = 'data: {"usage":{"prompt_tokens":999}}\n\n';
    upstream.replies.push({ status: 200, body: sse, headers: { "content-type": "text/event-stream" } });
    for (const expected of [JSON.stringify(invalid), JSON.stringify(sse)]) {
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
      assert.equal(eventsOf("usage", final.requestId).length, 0);
      assert.equal(eventsOf("result", final.requestId)[0].data.usage, undefined);
    }
    assert.equal(readLoggedEvents(fx.agentDir).filter((event) => event.type === "usage").length, 2);

    // The spend ledger: two requests at that cost each, written within the store's flush delay.
    const ledgerFile = join(fx.agentDir, "extensions", "auto-router.usage.json");
    const spent = () =>
      existsSync(ledgerFile)
        ? providerSpend(
            parseLedger(JSON.parse(readFileSync(ledgerFile, "utf8"))),
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
