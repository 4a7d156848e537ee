// An upstream whose stream breaks its own protocol (a chunk cut short) reaches a client of the gateway as the
// protocol's error naming the target, through the official openai client: never as JSON the client's SDK cannot parse.
// And a reduced fuzz: upstreams of the three APIs answering with randomly broken streams (events dropped, cut short,
// fields of the wrong type, garbage lines, connections reset), through every client and endpoint, streamed and not:
// every request settles, the gateway keeps running and no credential reaches a client. FUZZ_SEED=<n> runs other
// answers (a longer run by hand, with a larger count, found the numeric tool-call id that left a stream open).
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { makeAgentDir, routeInOrder } from "../helpers/agent-dir.ts";
import { type GatewayProcess, startGatewayProcess } from "../helpers/gateway-process.ts";

/**
 * A local upstream answering each request with `answer` (its path, the response), and the real gateway on an agent
 * dir whose providers `agent` points at it (given the upstream's origin); both stopped after the suite.
 */
function upstreamAndGateway(
  answer: (url: string, response: http.ServerResponse) => void,
  agent: (origin: string) => Parameters<typeof makeAgentDir>[0],
): { gateway(): GatewayProcess } {
  let upstream: http.Server | undefined;
  let gateway: GatewayProcess | undefined;
  let dir: ReturnType<typeof makeAgentDir> | undefined;
  before(async () => {
    upstream = http.createServer((request, response) => {
      request.resume();
      request.on("end", () => answer(request.url ?? "", response));
    });
    await new Promise<void>((resolve) => upstream!.listen(0, "127.0.0.1", resolve));
    dir = makeAgentDir(agent(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`));
    gateway = await startGatewayProcess({ agentDir: dir.agentDir });
  });
  after(async () => {
    await gateway?.stop();
    await new Promise<void>((resolve) => upstream?.close(() => resolve()));
    dir?.cleanup();
  });
  return { gateway: () => gateway! };
}

const KEYS = { an: "sk-ant-fuzz-upstream-0001", ch: "sk-chat-fuzz-upstream-002", rs: "sk-resp-fuzz-upstream-003" };
const WEIRD: unknown[] = [null, 7, "x", [], {}, [null], -1, true, KEYS.an];

type Events = Array<[string | undefined, Record<string, unknown>]>;
const ANTHROPIC: Events = [
  [
    "message_start",
    {
      type: "message_start",
      message: {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "m",
        content: [],
        stop_reason: null,
        usage: { input_tokens: 5, output_tokens: 1 },
      },
    },
  ],
  ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
  ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello " } }],
  ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "world" } }],
  ["content_block_stop", { type: "content_block_stop", index: 0 }],
  [
    "content_block_start",
    { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "t1", name: "f", input: {} } },
  ],
  [
    "content_block_delta",
    { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"a":1}' } },
  ],
  ["content_block_stop", { type: "content_block_stop", index: 1 }],
  ["message_delta", { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 7 } }],
  ["message_stop", { type: "message_stop" }],
];
const CHAT: Events = [
  [
    undefined,
    {
      id: "c1",
      object: "chat.completion.chunk",
      model: "m",
      choices: [{ index: 0, delta: { role: "assistant", content: "Hello " } }],
    },
  ],
  [
    undefined,
    { id: "c1", object: "chat.completion.chunk", model: "m", choices: [{ index: 0, delta: { content: "world" } }] },
  ],
  [
    undefined,
    {
      id: "c1",
      object: "chat.completion.chunk",
      model: "m",
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [{ index: 0, id: "t", type: "function", function: { name: "f", arguments: '{"a":1}' } }],
          },
        },
      ],
    },
  ],
  [
    undefined,
    {
      id: "c1",
      object: "chat.completion.chunk",
      model: "m",
      choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }],
      usage: { prompt_tokens: 5, completion_tokens: 3 },
    },
  ],
];
const item = {
  id: "i1",
  type: "message",
  role: "assistant",
  status: "completed",
  content: [{ type: "output_text", text: "Hello world" }],
};
const RESPONSES: Events = [
  [
    "response.created",
    {
      type: "response.created",
      sequence_number: 0,
      response: { id: "r1", object: "response", status: "in_progress", model: "m", output: [] },
    },
  ],
  [
    "response.output_item.added",
    {
      type: "response.output_item.added",
      sequence_number: 1,
      output_index: 0,
      item: { ...item, status: "in_progress", content: [] },
    },
  ],
  [
    "response.content_part.added",
    {
      type: "response.content_part.added",
      sequence_number: 2,
      item_id: "i1",
      output_index: 0,
      content_index: 0,
      part: { type: "output_text", text: "" },
    },
  ],
  [
    "response.output_text.delta",
    {
      type: "response.output_text.delta",
      sequence_number: 3,
      item_id: "i1",
      output_index: 0,
      content_index: 0,
      delta: "Hello world",
    },
  ],
  [
    "response.output_text.done",
    {
      type: "response.output_text.done",
      sequence_number: 4,
      item_id: "i1",
      output_index: 0,
      content_index: 0,
      text: "Hello world",
    },
  ],
  ["response.output_item.done", { type: "response.output_item.done", sequence_number: 5, output_index: 0, item }],
  [
    "response.completed",
    {
      type: "response.completed",
      sequence_number: 6,
      response: {
        id: "r1",
        object: "response",
        status: "completed",
        model: "m",
        output: [item],
        usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
      },
    },
  ],
];

/** SSE text of events. */
const sse = (events: Events) =>
  events.map(([name, data]) => `${name ? `event: ${name}\n` : ""}data: ${JSON.stringify(data)}\n\n`).join("");

/** An Anthropic answer's start (its text "Hello " streamed) and the rest of it. */
const ANTHROPIC_START = sse(ANTHROPIC.slice(0, 3));
const ANTHROPIC_END = sse(ANTHROPIC.slice(4));
/** A Responses answer's start (its text "Hello world" streamed) and the end of it. */
const RESPONSES_START = sse(RESPONSES.slice(0, 4));
const RESPONSES_END = sse(RESPONSES.slice(5));
/** A Responses text delta without its text (`"delta"` left out): pi-ai hands it on as a delta of undefined. */
const RESPONSES_DELTA_WITHOUT_TEXT = sse([
  [
    "response.output_text.delta",
    {
      type: "response.output_text.delta",
      sequence_number: 4,
      item_id: "i1",
      output_index: 0,
      content_index: 0,
    },
  ],
]);

/**
 * Streams `model` to the official Anthropic client and expects the stream to end in an error: the error's message
 * (matched by the caller) and the text that came before it.
 */
async function cutOffAnthropicStream(
  gateway: GatewayProcess,
  model: string,
): Promise<{ message: string; text: string }> {
  const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: gateway.token, maxRetries: 0 });
  const stream = anthropic.messages.stream({ model, max_tokens: 20, messages: [{ role: "user", content: "hi" }] });
  let text = "";
  stream.on("text", (delta) => void (text += delta));
  let message = "";
  await assert.rejects(stream.finalMessage(), (error: Error) => {
    message = error.message;
    return true;
  });
  return { message, text };
}

describe("gateway: an upstream stream that is not valid JSON", () => {
  // Each broken part comes 30 ms after the answer's start: the answer is committed by then, and the Anthropic and
  // Responses passthroughs forward such text deltas unread.
  const broken: Record<string, [string, string]> = {
    "/v1/messages": [
      ANTHROPIC_START,
      `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_de\n\n${ANTHROPIC_END}`,
    ],
    "/null/v1/messages": [
      ANTHROPIC_START,
      `${sse([["content_block_delta", { type: "content_block_delta", index: 0, delta: null }]])}${ANTHROPIC_END}`,
    ],
    "/first/v1/messages": [sse([["message_start", { type: "message_start", message: null }]]), ""],
    "/v1/responses": [
      RESPONSES_START,
      `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":4,"item_id":"i1","output_index":0,"content_index":0,"delta":" wor\n\n${RESPONSES_END}`,
    ],
    "/gap/v1/responses": [sse(RESPONSES.slice(0, 3)), `${RESPONSES_DELTA_WITHOUT_TEXT}${RESPONSES_END}`],
    "/gapmid/v1/responses": [RESPONSES_START, `${RESPONSES_DELTA_WITHOUT_TEXT}${RESPONSES_END}`],
    "/whole/v1/messages": [ANTHROPIC_START, sse(ANTHROPIC.slice(3))],
    "/null/v1/responses": [
      RESPONSES_START,
      `${sse([["response.output_item.added", { type: "response.output_item.added", sequence_number: 4, output_index: 1, item: null }]])}${RESPONSES_END}`,
    ],
  };
  const fx = upstreamAndGateway(
    (url, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      const parts = broken[url];
      if (!parts)
        return response.end(
          'data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Hello"}}]}\n\ndata: {"id":"c1","object":"chat.comp\n\n',
        );
      response.write(parts[0]);
      setTimeout(() => response.end(parts[1]), 30);
    },
    (origin) => {
      /** A provider whose one model `m` the upstream answers at `path` (its broken answers are keyed by it). */
      const upstream = (
        path: string,
        api: "openai-completions" | "anthropic-messages" | "openai-responses",
        apiKey: string,
      ) => ({
        baseUrl: `${origin}${path}`,
        api,
        apiKey,
        models: [{ id: "m" }],
      });
      return {
        providers: {
          cut: upstream("/v1", "openai-completions", "sk-cut-upstream-key-0001"),
          an: upstream("", "anthropic-messages", "sk-ant-cut-upstream-0002"),
          annull: upstream("/null", "anthropic-messages", "sk-ant-null-upstream-0005"),
          anfirst: upstream("/first", "anthropic-messages", "sk-ant-first-upstream-0006"),
          rs: upstream("/v1", "openai-responses", "sk-resp-cut-upstream-03"),
          rsgap: upstream("/gap/v1", "openai-responses", "sk-resp-gap-upstream-07"),
          rsgapmid: upstream("/gapmid/v1", "openai-responses", "sk-resp-gapmid-upstream-8"),
          whole: upstream("/whole", "anthropic-messages", "sk-ant-whole-upstream-009"),
          rsnull: upstream("/null/v1", "openai-responses", "sk-resp-null-upstream-4"),
        },
        routes: {
          routes: {
            chat: routeInOrder("cut/m"),
            an: routeInOrder("an/m"),
            annull: routeInOrder("annull/m"),
            anfirst: routeInOrder("anfirst/m"),
            rs: routeInOrder("rs/m"),
            rsnull: routeInOrder("rsnull/m"),
            rsgap: routeInOrder("rsgap/m", "whole/m"),
            rsgapmid: routeInOrder("rsgapmid/m", "whole/m"),
          },
        },
      };
    },
  );

  it("ends a Chat Completions passthrough stream cut short with an error naming the target", async () => {
    const gateway = fx.gateway();
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
          /cut\/m: the target sent an event the gateway could not read \(an event that is not valid JSON/,
        );
        return true;
      },
    );
    assert.equal(text, "Hello", "the answer's start came through");
    assert.equal(gateway.child.exitCode, null, "the gateway still runs");
  });

  for (const [route, what, why] of [
    ["an", "a text delta cut short", /an event that is not valid JSON/],
    ["annull", "a text delta whose delta is null", /a content_block_delta event whose `delta` is no object/],
  ] as const)
    it(`ends an Anthropic passthrough stream with ${what} with an error naming the target`, async () => {
      const gateway = fx.gateway();
      const { message, text } = await cutOffAnthropicStream(gateway, route);
      assert.match(message, new RegExp(`${route}/m: the target sent an event the gateway could not read`));
      assert.match(message, why);
      assert.equal(text, "Hello ", "the answer's start came through");
      assert.equal(gateway.child.exitCode, null, "the gateway still runs");
    });

  it("says why a target whose first event it could not read failed, when that was the route's last", async () => {
    // Before the answer started: the request fails (no other target), and the error quotes the failure, which has no
    // kind of its own ("failed" alone said nothing to the client).
    const gateway = fx.gateway();
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: gateway.token, maxRetries: 0 });
    await assert.rejects(
      anthropic.messages.create({ model: "anfirst", max_tokens: 20, messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.APIError && error.status === 502, String(error));
        const message = (error.error as { error: { message: string } }).error.message;
        assert.match(
          message,
          /^auto-router: no target of route anfirst could serve this request \(anfirst\/m: failed \(the target sent an event the gateway could not read \(a message_start event whose `message` is no object\)\)\)\. GET \/health\/providers shows each target's state$/,
        );
        return true;
      },
    );
    assert.doesNotMatch(gateway.stderr(), /sk-ant-first-upstream/);
  });

  for (const [route, what, why] of [
    ["rs", "a text delta cut short", /an event that is not valid JSON/],
    ["rsnull", "an output item that is null", /a response\.output_item\.added event whose `item` is no object/],
  ] as const)
    it(`ends a Responses passthrough stream with ${what} with response.failed naming the target`, async () => {
      const gateway = fx.gateway();
      const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.token, maxRetries: 0 });
      const events = [];
      for await (const event of await openai.responses.create({ model: route, input: "hi", stream: true }))
        events.push(event);
      const text = events
        .flatMap((event) => (event.type === "response.output_text.delta" ? [event.delta] : []))
        .join("");
      assert.equal(text, "Hello world", "the answer's start came through");
      const last = events.at(-1)!;
      assert.equal(last.type, "response.failed");
      assert.ok(last.type === "response.failed");
      assert.match(
        last.response.error?.message ?? "",
        new RegExp(`${route}/m: the target sent an event the gateway could not read`),
      );
      assert.match(last.response.error?.message ?? "", why);
      assert.ok(!events.some((event) => event.type === "response.completed"), "nothing after the broken event");
      assert.equal(gateway.child.exitCode, null, "the gateway still runs");
    });
  // Translated, the target's events are read by pi-ai, whose own code throws on a field it needs that is missing: the
  // error names the target and says so, quoting JavaScript's words (alone they read as the gateway's bug).
  it("says that pi-ai could not read a translated answer, naming the target, before and after the answer started", async () => {
    const gateway = fx.gateway();
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.token, maxRetries: 0 });
    await assert.rejects(
      openai.chat.completions.create({ model: "anfirst", messages: [{ role: "user", content: "hi" }] }),
      (error: Error) => {
        assert.ok(error instanceof OpenAI.APIError && error.status === 502, String(error));
        assert.match(
          error.message,
          /anfirst\/m: failed \(the target sent an answer pi-ai could not read \(Cannot read properties of null \(reading '\w+'\)\)\)/,
        );
        return true;
      },
    );
    const { message, text } = await cutOffAnthropicStream(gateway, "rsnull");
    assert.match(
      message,
      /auto-router: rsnull\/m failed after it had started answering \(the target sent an answer pi-ai could not read \(Cannot read properties of null \(reading '\w+'\)\)\); the answer so far stands/,
    );
    assert.equal(text, "Hello world", "the answer's start came through");
  });

  // Translated (an Anthropic client, a Responses target): pi-ai hands the delta on without its text, which the router's
  // reading of the answer cannot take. Before the answer started, the next target answers alone; after, the answer is
  // cut off with the reason, never continued by the next target (a second message the client's SDK refuses).
  it("fails over from a Responses target whose first text delta comes without its text, before anything went out", async () => {
    const gateway = fx.gateway();
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: gateway.token, maxRetries: 0 });
    const message = await anthropic.messages
      .stream({ model: "rsgap", max_tokens: 20, messages: [{ role: "user", content: "hi" }] })
      .finalMessage();
    assert.deepEqual(
      message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])),
      ["Hello world"],
      "the next target's answer, alone",
    );
    assert.equal(gateway.child.exitCode, null, "the gateway still runs");
  });

  it("cuts off a Responses target's answer at a text delta without its text, naming the target and why", async () => {
    const gateway = fx.gateway();
    const { message, text } = await cutOffAnthropicStream(gateway, "rsgapmid");
    assert.match(
      message,
      /rsgapmid\/m: the target sent an event the router could not read \(a text_delta event without its delta\); the answer was cut off/,
    );
    assert.equal(text, "Hello world", "the answer's start, and nothing of the next target's");
    assert.equal(gateway.child.exitCode, null, "the gateway still runs");
  });
});

/** A seeded generator: the same run every time. */
function generator(seed: number) {
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor((seed / 2147483648) * below);
  };
  const pick = <T>(items: readonly T[]): T => items[random(items.length)]!;
  return { random, pick };
}

describe("gateway: upstream streams broken at random", () => {
  // The clients' choices from one generator, each upstream answer from its own (seeded by its number): the run is the
  // same whatever the timing of the streams' chunks.
  const { pick } = generator(11);
  let answers = 0;
  const fx = upstreamAndGateway(
    (url, response) => {
      const { random, pick: pickWeird } = generator(Number(process.env.FUZZ_SEED ?? 1_000) + answers++);
      const chance = (below: number) => random(below) === 0;
      const mutate = (value: unknown): unknown => {
        if (chance(6)) return pickWeird(WEIRD);
        if (Array.isArray(value)) return value.map(mutate);
        if (value && typeof value === "object")
          return Object.fromEntries(
            Object.entries(value)
              .filter(() => !chance(10))
              .map(([k, v]) => [k, mutate(v)]),
          );
        return value;
      };
      const events = url.includes("messages") ? ANTHROPIC : url.includes("responses") ? RESPONSES : CHAT;
      let text = "";
      for (const [name, data] of events) {
        if (chance(8)) continue;
        const body = JSON.stringify(chance(5) ? mutate(data) : data);
        text += `${name ? `event: ${name}\n` : ""}data: ${chance(12) ? body.slice(0, random(body.length)) : body}\n\n`;
        if (chance(30)) text += "garbage line without colon\n\n";
      }
      if (events === CHAT && !chance(3)) text += "data: [DONE]\n\n";
      response.writeHead(200, { "content-type": "text/event-stream" });
      const reset = chance(10);
      let at = 0;
      const next = () => {
        if (at >= text.length) return reset ? response.destroy() : response.end();
        const size = 1 + random(60);
        response.write(text.slice(at, at + size));
        at += size;
        if (chance(4)) setTimeout(next, 1);
        else next();
      };
      next();
    },
    (origin) => {
      // No wait for a resting target: a request every target of which failed ends at once.
      const route = (...targets: string[]) => ({ ...routeInOrder(...targets), failover: { cooldownWaitMs: 0 } });
      return {
        providers: {
          an: { baseUrl: origin, api: "anthropic-messages", apiKey: KEYS.an, models: [{ id: "a1" }] },
          ch: { baseUrl: `${origin}/v1`, api: "openai-completions", apiKey: KEYS.ch, models: [{ id: "c1" }] },
          annull: {
            baseUrl: `${origin}/null`,
            api: "anthropic-messages",
            apiKey: "sk-ant-null-upstream-0005",
            models: [{ id: "m" }],
          },
          rs: { baseUrl: `${origin}/v1`, api: "openai-responses", apiKey: KEYS.rs, models: [{ id: "r1" }] },
        },
        routes: { routes: { an: route("an/a1", "ch/c1"), ch: route("ch/c1", "rs/r1"), rs: route("rs/r1", "an/a1") } },
      };
    },
  );

  it("settles every request, keeps running and hands no client a credential", async () => {
    const gateway = fx.gateway();
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.token, maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: gateway.token, maxRetries: 0 });
    const input = [{ role: "user" as const, content: "hi" }];
    const clients: Record<string, (route: string, signal: AbortSignal) => Promise<string>> = {
      chat: async (model, signal) =>
        JSON.stringify(await openai.chat.completions.create({ model, messages: input }, { signal })),
      "chat, streamed": async (model, signal) => {
        let seen = "";
        for await (const chunk of await openai.chat.completions.create(
          { model, messages: input, stream: true },
          { signal },
        ))
          seen += JSON.stringify(chunk);
        return seen;
      },
      messages: async (model, signal) =>
        JSON.stringify(await anthropic.messages.create({ model, max_tokens: 20, messages: input }, { signal })),
      "messages, streamed": async (model, signal) => {
        let seen = "";
        const stream = anthropic.messages.stream({ model, max_tokens: 20, messages: input }, { signal });
        stream.on("streamEvent", (event) => void (seen += JSON.stringify(event)));
        await stream.finalMessage();
        return seen;
      },
      responses: async (model, signal) =>
        JSON.stringify(await openai.responses.create({ model, input: "hi" }, { signal })),
      "responses, streamed": async (model, signal) => {
        let seen = "";
        for await (const event of await openai.responses.create({ model, input: "hi", stream: true }, { signal }))
          seen += JSON.stringify(event);
        return seen;
      },
    };
    let served = 0;
    for (let request = 0; request < 36; request++) {
      const client = pick(Object.keys(clients));
      const route = pick(["an", "ch", "rs"]);
      const signal = AbortSignal.timeout(20_000);
      let seen: string;
      try {
        seen = await clients[client]!(route, signal);
        served++;
      } catch (error) {
        assert.ok(!signal.aborted, `request ${request} (${client}, route ${route}) did not settle within 20 s`);
        seen = String(error instanceof Error ? error.message : error);
      }
      for (const key of Object.values(KEYS)) assert.ok(!seen.includes(key), `request ${request} (${client}): a key`);
      assert.equal(gateway.child.exitCode, null, `the gateway ended at request ${request}`);
    }
    assert.ok(served > 0, "some answers came whole");
    assert.doesNotMatch(gateway.stderr(), /Uncaught|TypeError|RangeError|ReferenceError/);
  });
});
