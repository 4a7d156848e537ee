// Two OpenAI accounts on one route, through the real `pi-auto-router serve` with the official OpenAI client: a
// Responses client (the Codex CLI, `store: false`) sends each reasoning item back with its encrypted_content, which
// only the account that issued it can decrypt. After a failover from account A to account B mid-conversation, B
// refuses A's reasoning with a 400 `invalid_encrypted_content` (the emulators check it as api.openai.com does); the
// gateway tries B again at once without the reasoning, and the client gets its answer, passed through or translated,
// streamed or not. The gateway learns from the refusal: a later turn leaves A's reasoning out of B's first try. It
// remembers that per pair of providers, so each test has its own pair (both on the same two emulated accounts).
// Reasoning the gateway never handed out (made by account A straight, before the client came to the gateway, as after
// a gateway restart) is refused by B once: later turns leave those very items out of B's first try.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

type InputItem = OpenAI.Responses.ResponseInputItem;

const REASONING_ID = "rs_0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071";
const ENCRYPTED_BY_A = "gAAAAABo-reasoning-state-only-account-a-can-read==";
const SUMMARY = "The weather tool answers this.";
const KEY_A = "sk-acct-a-0000000000000001";
const KEY_B = "sk-acct-b-0000000000000002";
const REASONING_ID_B = "rs_b0b1b2b3b4b5b6b7b8b9babbbcbdbebfb0b1b2b3b4b5b6b7";
const ENCRYPTED_BY_B = "gAAAAABo-reasoning-state-only-account-b-can-read==";
/** One pair of providers per test: route `accounts<n>` tries `acct-a<n>` (on account A), then `acct-b<n>` (B). */
const PAIRS = 12;
let pair = 0;
let route = "";
let targetA = "";
let targetB = "";
// Without a retry hint: A rests for the route's 0 ms, so each test starts on A again.
const RATE_LIMITED = { status: 429, errorMessage: "Rate limit reached for requests" };
const WEATHER_TOOL: OpenAI.Responses.Tool = {
  type: "function",
  name: "get_weather",
  strict: false,
  parameters: { type: "object", properties: { city: { type: "string" } } },
};
/** A hosted tool keeps the request off the passthrough: it is translated through pi-ai. */
const TOOLS = { passthrough: [WEATHER_TOOL], translated: [{ type: "web_search" }, WEATHER_TOOL] } as const;
const REASONED_CALL = {
  thinking: SUMMARY,
  reasoningItem: { id: REASONING_ID, encryptedContent: ENCRYPTED_BY_A },
  toolCall: { id: "call_1", name: "get_weather", arguments: { city: "Paris" } },
};
const REFUSED_AGAIN = {
  status: 400,
  body: JSON.stringify({
    error: {
      message: "The encrypted content gAAA...ad== could not be verified.",
      type: "invalid_request_error",
      param: null,
      code: "invalid_encrypted_content",
    },
  }),
};

/** Each test's own prompt: the router keeps a prompt on the target that served its earlier turns. */
let prompts = 0;
let prompt = "";
/**
 * Requests sent to the gateway by this file so far: the event log is the whole file's and is written a moment after
 * each answer, so a request's final line is the last one only once there are as many as requests sent.
 */
let sent = 0;
/** The gateway's Responses endpoint, counting the request. */
const responses = (fx: GatewayFixture<"A" | "B">) => {
  sent += 1;
  return fx.openai.responses;
};

/** The next request of a tool loop: the first answer's items back, then the tool's output. */
const followUp = (answer: InputItem[]): InputItem[] => [
  { role: "user", content: prompt },
  ...answer,
  { type: "function_call_output", call_id: "call_1", output: "sunny, 21 C" },
];

type Path = keyof typeof TOOLS;

describe("gateway /v1/responses: two OpenAI accounts on one route and the client's encrypted reasoning", () => {
  let fx: GatewayFixture<"A" | "B">;
  let accountA: Emulator, accountB: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "responses-account", B: "responses-account" },
      providers: Object.fromEntries(
        Array.from({ length: PAIRS }, (_, index) => [
          [`acct-a${index + 1}`, { emulator: "A", apiKey: KEY_A, models: [{ id: "gpt-test", reasoning: true }] }],
          [`acct-b${index + 1}`, { emulator: "B", apiKey: KEY_B, models: [{ id: "gpt-test", reasoning: true }] }],
        ]).flat(),
      ),
      routes: {
        routes: Object.fromEntries(
          Array.from({ length: PAIRS }, (_, index) => [
            `accounts${index + 1}`,
            routeInOrder(`acct-a${index + 1}/gpt-test`, `acct-b${index + 1}/gpt-test`),
          ]),
        ),
        failover: { cooldownWaitMs: 0, kinds: { rate_limit: { cooldownMs: 0 } } },
      },
    });
    ({ A: accountA, B: accountB } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => {
    fx.reset();
    prompt = `Weather in Paris? (${++prompts})`;
    pair += 1;
    assert.ok(pair <= PAIRS, "one more pair of providers for this test");
    route = `accounts${pair}`;
    targetA = `acct-a${pair}/gpt-test`;
    targetB = `acct-b${pair}/gpt-test`;
  });

  /** Account A's answer to the first request: its reasoning item (encrypted by A) and a function call. */
  async function firstAnswer(path: Path): Promise<InputItem[]> {
    accountA.enqueue(REASONED_CALL);
    const { data, response } = await responses(fx)
      .create({ model: route, input: prompt, tools: [...TOOLS[path]], store: false })
      .withResponse();
    assert.equal(response.headers.get("x-auto-router-served-by"), targetA);
    const reasoning = data.output[0] as OpenAI.Responses.ResponseReasoningItem;
    assert.equal(reasoning.encrypted_content, ENCRYPTED_BY_A, "the client keeps A's reasoning to send back");
    return data.output as InputItem[];
  }

  /** The follow-up, which A cannot take (rate limited) and B is sent: its text and response headers. */
  async function followUpOnB(path: Path, stream: boolean): Promise<{ text: string; headers: Headers }> {
    const answer = await firstAnswer(path);
    accountA.enqueue(RATE_LIMITED);
    accountB.enqueue({ text: "Sunny, 21 C." });
    const body = { model: route, tools: [...TOOLS[path]], input: followUp(answer), store: false };
    if (!stream) {
      const { data, response } = await responses(fx).create(body).withResponse();
      return { text: data.output_text, headers: response.headers };
    }
    const { data, response } = await responses(fx)
      .create({ ...body, stream: true })
      .withResponse();
    let text = "";
    for await (const event of data) if (event.type === "response.output_text.delta") text += event.delta;
    return { text, headers: response.headers };
  }

  /** What B was sent: first the client's input with A's reasoning (refused), then the same without any reasoning. */
  function assertBRetriedWithoutReasoning(path: Path): void {
    assert.equal(accountB.calls.length, 2, "B refused once and was tried again");
    const refused = accountB.calls[0]!.body.input.find((item: { type?: string }) => item.type === "reasoning");
    assert.equal(refused?.encrypted_content, ENCRYPTED_BY_A, "B was offered A's reasoning first");
    const retried = accountB.calls[1]!;
    for (const secret of [ENCRYPTED_BY_A, REASONING_ID, SUMMARY])
      assert.equal(retried.rawBody.includes(secret), false, `${path}: ${secret} left out`);
    const input: Array<Record<string, unknown>> = retried.body.input;
    const call = input.find((item) => item.type === "function_call")!;
    assert.equal(call.call_id, "call_1");
    assert.equal(call.id, undefined, "the call goes without the item id paired with the reasoning left out");
    const output = input.find((item) => item.type === "function_call_output")!;
    assert.equal(output.call_id, "call_1");
    assert.equal(retried.headers.authorization, `Bearer ${KEY_B}`);
  }

  /** The event log of the follow-up: A rate limited, B refused the reasoning, B served; nothing secret written. */
  async function assertLogged(): Promise<void> {
    const finals = () => readLoggedEvents(fx.agentDir).filter((event) => event.type === "final");
    await until(() => finals().length >= sent, "the follow-up's final event");
    const final = finals().at(-1)!;
    assert.equal(final.data.outcome, "success");
    assert.equal(final.data.servedTarget, targetB);
    assert.equal(final.data.attempts, 2, "B's try without the reasoning is part of its attempt");
    assert.ok(
      final.data.notes?.some((note: string) => note.startsWith(`retried ${targetB} without the replayed reasoning`)),
      JSON.stringify(final.data.notes),
    );
    const results = readLoggedEvents(fx.agentDir)
      .filter((event) => event.type === "result" && event.requestId === final.requestId)
      .map((event) => [event.data.target, event.data.outcome, event.data.failureKind]);
    assert.deepEqual(results, [
      [targetA, "failed", "rate_limit"],
      [targetB, "failed", "invalid_request"],
      [targetB, "success", undefined],
    ]);
    const log = readFileSync(join(fx.agentDir, "extensions", "auto-router.events.jsonl"), "utf8");
    for (const secret of [ENCRYPTED_BY_A, KEY_A, KEY_B]) assert.equal(log.includes(secret), false, secret);
  }

  for (const path of ["passthrough", "translated"] as const)
    for (const stream of [false, true])
      it(`answers from account B without A's reasoning (${path}, ${stream ? "streamed" : "not streamed"})`, async () => {
        const { text, headers } = await followUpOnB(path, stream);
        assert.equal(text, "Sunny, 21 C.");
        assert.equal(headers.get("x-auto-router-served-by"), targetB);
        assert.equal(headers.get("x-auto-router-ignored-reasoning"), "encrypted_content");
        if (path === "translated") assert.equal(headers.get("x-auto-router-ignored-tools"), "web_search");
        assertBRetriedWithoutReasoning(path);
        await assertLogged();
      });

  /** The final event of the request sent last, and its result events as `[target, outcome, failure kind]`. */
  async function lastLogged(): Promise<{ notes: string[]; results: unknown[][] }> {
    const finals = () => readLoggedEvents(fx.agentDir).filter((event) => event.type === "final");
    await until(() => finals().length >= sent, "the last request's final event");
    const final = finals().at(-1)!;
    const results = readLoggedEvents(fx.agentDir)
      .filter((event) => event.type === "result" && event.requestId === final.requestId)
      .map((event) => [event.data.target, event.data.outcome, event.data.failureKind]);
    return { notes: final.data.notes ?? [], results };
  }

  /** The encrypted content of each reasoning item in a list of input or output items. */
  const reasoningOf = (items: Array<{ type?: string; encrypted_content?: unknown }>) =>
    items.filter((item) => item.type === "reasoning").map((item) => item.encrypted_content);

  /** The Codex CLI sends every item back without its id: items are known by their encrypted content. */
  const withoutIds = (items: InputItem[]): InputItem[] =>
    items.map((item) => {
      if (!("id" in item)) return item;
      const { id: _id, ...rest } = item;
      return rest as InputItem;
    });

  /**
   * The follow-up of `answer`, which A cannot take (rate limited): B refuses the reasoning it cannot read, is tried
   * again without it and answers with its own. The next turn's input, the client sending items back as `sentBack`.
   */
  async function secondTurnOnB(
    tools: OpenAI.Responses.Tool[],
    answer: InputItem[],
    sentBack: (items: InputItem[]) => InputItem[] = (items) => items,
  ): Promise<InputItem[]> {
    accountA.enqueue(RATE_LIMITED);
    accountB.enqueue({
      thinking: "Answer from the tool's output.",
      reasoningItem: { id: REASONING_ID_B, encryptedContent: ENCRYPTED_BY_B },
      text: "Sunny, 21 C.",
    });
    const second = await responses(fx).create({ model: route, tools, input: followUp(answer), store: false });
    assert.equal(accountB.calls.length, 2, "B refused the reasoning once and was tried again without it");
    assert.deepEqual(reasoningOf(second.output), [ENCRYPTED_BY_B], "the client keeps B's own reasoning");
    return [...followUp(answer), ...sentBack(second.output as InputItem[]), { role: "user", content: "And tomorrow?" }];
  }

  /** The next turn, which A cannot take either: B is asked once, with its own reasoning. What B was sent. */
  async function thirdTurnOnB(tools: OpenAI.Responses.Tool[], history: InputItem[]) {
    accountA.enqueue(RATE_LIMITED);
    accountB.enqueue({ text: "Rain." });
    const third = await responses(fx).create({ model: route, tools, input: history, store: false }).withResponse();
    assert.equal(third.data.output_text, "Rain.");
    assert.equal(third.response.headers.get("x-auto-router-served-by"), targetB);
    assert.equal(third.response.headers.get("x-auto-router-ignored-reasoning"), "encrypted_content");
    assert.equal(accountB.calls.length, 3, "no refused round trip: B was asked once");
    const toB = accountB.calls[2]!;
    assert.deepEqual(reasoningOf(toB.body.input), [ENCRYPTED_BY_B], "B's own reasoning is kept");
    return toB;
  }

  /** The same turn on A, which refused B's reasoning on the turn before: asked once, with its own reasoning alone. */
  async function sameTurnOnA(tools: OpenAI.Responses.Tool[], history: InputItem[], own: string): Promise<void> {
    accountA.reset();
    accountA.enqueue({ text: "Rain, says A." });
    const back = await responses(fx).create({ model: route, tools, input: history, store: false }).withResponse();
    assert.equal(back.data.output_text, "Rain, says A.");
    assert.equal(back.response.headers.get("x-auto-router-served-by"), targetA);
    assert.equal(back.response.headers.get("x-auto-router-ignored-reasoning"), "encrypted_content");
    assert.equal(accountA.calls.length, 1, "no refused round trip: A was asked once");
    assert.deepEqual(reasoningOf(accountA.calls[0]!.body.input), [own], "A was sent its own reasoning");
    assert.equal(accountB.calls.length, 3);
  }

  for (const path of ["passthrough", "translated"] as const)
    for (const client of ["openai", "codex"] as const)
      it(`learns from B's refusal: later turns leave A's reasoning out of B's first try, not A's (${path}, ${client} client)`, async () => {
        const tools = [...TOOLS[path]];
        const sentBack = client === "codex" ? withoutIds : (items: InputItem[]) => items;
        const answer = sentBack(await firstAnswer(path));
        const history = await secondTurnOnB(tools, answer, sentBack);
        // The next turn, which A cannot take either (it refuses B's reasoning first, which it never refused before, and
        // is tried again without any): B is asked once, without A's items but with its own.
        const toB = await thirdTurnOnB(tools, history);
        for (const secret of [ENCRYPTED_BY_A, REASONING_ID])
          assert.equal(toB.rawBody.includes(secret), false, `${path}: ${secret} left out`);
        const call = toB.body.input.find((item: { type?: string }) => item.type === "function_call");
        assert.equal(call.call_id, "call_1");
        assert.equal(call.id, undefined, "the call goes without the item id paired with A's reasoning");
        const logged = await lastLogged();
        assert.deepEqual(logged.results, [
          [targetA, "failed", "invalid_request"],
          [targetA, "failed", "rate_limit"],
          [targetB, "success", undefined],
        ]);
        const leftOut = `left out acct-a${pair}'s encrypted reasoning for ${targetB} before its first try: it refused acct-a${pair}'s reasoning before`;
        assert.ok(
          logged.notes.some((note) => note.startsWith(leftOut)),
          JSON.stringify(logged.notes),
        );

        // The same turn on A, which has learnt too: asked once, with its own reasoning and without B's.
        await sameTurnOnA(tools, history, ENCRYPTED_BY_A);
      });

  for (const path of ["passthrough", "translated"] as const)
    it(`learns which items of an issuer it never knew B refused: later turns leave just those out (${path})`, async () => {
      const tools = [...TOOLS[path]];
      // The client's first turn went to account A straight: the gateway never saw A's reasoning item.
      const straightToA = new OpenAI({ baseURL: accountA.url, apiKey: KEY_A, maxRetries: 0 });
      // Content the gateway never handed out (the other tests' items are known to it as their pair's A's).
      const madeByA = `gAAAAABo-made-by-account-a-before-the-gateway-${pair}==`;
      accountA.enqueue({ ...REASONED_CALL, reasoningItem: { id: REASONING_ID, encryptedContent: madeByA } });
      const first = await straightToA.responses
        .stream({ model: "gpt-test", input: prompt, tools: [WEATHER_TOOL], store: false })
        .finalResponse();
      assert.deepEqual(reasoningOf(first.output), [madeByA]);
      const answer = first.output as InputItem[];

      const history = await secondTurnOnB(tools, answer);
      // The next turn on B: asked once, without A's item (its issuer still unknown here) but with its own.
      const toB = await thirdTurnOnB(tools, history);
      assert.equal(toB.rawBody.includes(madeByA), false);
      const logged = await lastLogged();
      assert.deepEqual(logged.results.at(-1), [targetB, "success", undefined]);
      assert.equal(logged.results.filter(([target]) => target === targetB).length, 1);
      const leftOut = `left out 1 encrypted reasoning item of an issuer not known here for ${targetB} before its first try: it refused it before`;
      assert.ok(
        logged.notes.some((note) => note === leftOut),
        JSON.stringify(logged.notes),
      );

      // A refused B's item (known as B's) on that turn, before its rate limit, and not its own item, which the gateway
      // does not know as A's either: the same turn on A is asked once, with its own reasoning and without B's.
      assert.deepEqual(logged.results.slice(0, 2), [
        [targetA, "failed", "invalid_request"],
        [targetA, "failed", "rate_limit"],
      ]);
      await sameTurnOnA(tools, history, madeByA);
    });

  it("does not rest account B for it: the next request A cannot take goes to B at once", async () => {
    await followUpOnB("passthrough", false);
    accountA.enqueue(RATE_LIMITED);
    accountB.enqueue({ text: "Still here." });
    const { data, response } = await responses(fx)
      .create({ model: route, input: "Anything else?", store: false })
      .withResponse();
    assert.equal(data.output_text, "Still here.");
    assert.equal(response.headers.get("x-auto-router-served-by"), targetB);
    assert.equal(response.headers.get("x-auto-router-ignored-reasoning"), null, "nothing left out of this one");
  });

  it("tries B without the reasoning once: a second refusal reaches the client as B's 400", async () => {
    const answer = await firstAnswer("passthrough");
    accountA.enqueue(RATE_LIMITED);
    accountB.enqueue(REFUSED_AGAIN);
    await assert.rejects(
      responses(fx).create({
        model: route,
        tools: [WEATHER_TOOL],
        input: followUp(answer),
        store: false,
      }),
      (error: { status?: number; code?: string; message?: string }) => {
        assert.equal(error.status, 400);
        assert.equal(error.code, "invalid_encrypted_content");
        // OpenAI quotes four characters of each end of the encrypted content: they do not reach the client.
        assert.equal(error.message, "400 The encrypted content [REDACTED] could not be verified.");
        return true;
      },
    );
    assert.equal(accountB.calls.length, 2);
  });
});
