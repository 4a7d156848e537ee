// A target of the client's own OpenAI API that refuses streams a refusal-only answer (Chat `delta.refusal` chunks,
// Responses a `refusal` content part with its response.refusal.delta events). On the passthrough that refusal is the
// target's answer, as it is: the client gets it, streaming and not, through the real `pi-auto-router serve` and the
// official openai client, and the route neither fails over nor rests the target as it would for an empty answer.
// And a Responses answer an upstream `error` event cuts off ends with the cut-off item's end (incomplete) and the
// gateway's response.failed, numbered right after the last event the client got, whether the error event had a number
// of its own or not.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { type Emulator, sseEvent } from "../helpers/sse-emulator-core.ts";

const REFUSAL = "I'm sorry, I can't help with that.";

const attemptsOf = (response: Response) =>
  JSON.parse(response.headers.get("x-auto-router-attempts")!).map((a: { target: string; kind?: string }) => [
    a.target,
    a.kind,
  ]);

describe("gateway passthrough: an OpenAI target's refusal is its answer", () => {
  let fx: GatewayFixture<"A" | "B" | "R1" | "R2" | "R3">;
  let a: Emulator, b: Emulator, r1: Emulator, r2: Emulator, r3: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai", B: "openai", R1: "responses", R2: "responses", R3: "responses" },
      providers: {
        "oa-a": { emulator: "A", apiKey: "sk-oa-a-key-00000001", models: ["gpt-a"] },
        "oa-b": { emulator: "B", apiKey: "sk-oa-b-key-00000002", models: ["gpt-b"] },
        "resp-1": { emulator: "R1", apiKey: "sk-resp-1-key-0001", models: ["gpt-r1"] },
        "resp-2": { emulator: "R2", apiKey: "sk-resp-2-key-0002", models: ["gpt-r2"] },
        "resp-3": { emulator: "R3", apiKey: "sk-resp-3-key-0003", models: ["gpt-r3"] },
      },
      // The default cooldowns: an empty answer would fail over and rest its target 30 s (a request does not wait for
      // it). The one target of `cut`, whose answers break off on purpose, is not rested for the next test.
      routes: {
        routes: {
          chat: routeInOrder("oa-a/gpt-a", "oa-b/gpt-b"),
          resp: routeInOrder("resp-1/gpt-r1", "resp-2/gpt-r2"),
          cut: {
            ...routeInOrder("resp-3/gpt-r3"),
            failover: { kinds: { server: { cooldownMs: 0 }, unknown: { cooldownMs: 0 } } },
          },
        },
        failover: { cooldownWaitMs: 0 },
      },
    });
    ({ A: a, B: b, R1: r1, R2: r2, R3: r3 } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  /** A request right after the refusal goes to the same first target: the refusal did not rest it. */
  async function servedAgainBy(first: Emulator, second: Emulator, api: "chat" | "responses", target: string) {
    const { response } =
      api === "chat"
        ? await fx.openai.chat.completions
            .create({ model: "chat", messages: [{ role: "user", content: "Hello" }] })
            .withResponse()
        : await fx.openai.responses.create({ model: "resp", input: "Hello" }).withResponse();
    assert.equal(response.headers.get("x-auto-router-served-by"), target, "the next request goes to the same target");
    assert.equal(first.calls.length, 2);
    assert.equal(second.calls.length, 0, "the second target is never called");
  }

  it("streams a Chat target's refusal chunks to the client as they came, one attempt, no failover", async () => {
    a.enqueue({ refusal: REFUSAL, usage: { input: 9, output: 8 } });
    const { data: stream, response } = await fx.openai.chat.completions
      .create({ model: "chat", stream: true, messages: [{ role: "user", content: "Something bad" }] })
      .withResponse();
    const chunks: any[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta?.refusal ?? "").join(""), REFUSAL);
    assert.ok(
      chunks.every((chunk) => !chunk.choices[0]?.delta?.content),
      "no text content",
    );
    assert.equal(chunks.at(-1).choices[0].finish_reason, "stop");
    assert.equal(response.headers.get("x-auto-router-served-by"), "oa-a/gpt-a");
    assert.deepEqual(attemptsOf(response), [["oa-a/gpt-a", undefined]]);
    assert.equal(b.calls.length, 0);
    await servedAgainBy(a, b, "chat", "oa-a/gpt-a");
  });

  it("answers a non-streaming Chat request with the target's refusal put together as message.refusal", async () => {
    a.enqueue({ refusal: REFUSAL });
    const { data: completion, response } = await fx.openai.chat.completions
      .create({ model: "chat", messages: [{ role: "user", content: "Something bad" }] })
      .withResponse();
    const message = completion.choices[0]!.message;
    assert.equal(message.refusal, REFUSAL);
    assert.equal(message.content, null);
    assert.equal(completion.choices[0]!.finish_reason, "stop");
    assert.deepEqual(attemptsOf(response), [["oa-a/gpt-a", undefined]]);
    assert.equal(b.calls.length, 0);
    await servedAgainBy(a, b, "chat", "oa-a/gpt-a");
  });

  it("streams a Responses target's refusal part and its response.refusal.delta events, one attempt, no failover", async () => {
    r1.enqueue({ refusal: REFUSAL, usage: { input: 9, output: 8 } });
    const { data: stream, response } = await fx.openai.responses
      .create({ model: "resp", stream: true, input: "Something bad" })
      .withResponse();
    const types: string[] = [];
    let refusal = "";
    let part: any;
    let completed: any;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.refusal.delta") refusal += event.delta;
      if (event.type === "response.content_part.added") part = event.part;
      if (event.type === "response.completed") completed = event.response;
    }
    assert.equal(refusal, REFUSAL);
    assert.deepEqual(part, { type: "refusal", refusal: "" });
    assert.deepEqual(completed.output[0].content, [{ type: "refusal", refusal: REFUSAL }]);
    assert.ok(types.includes("response.refusal.done"));
    assert.ok(!types.includes("response.failed"));
    assert.equal(response.headers.get("x-auto-router-served-by"), "resp-1/gpt-r1");
    assert.deepEqual(attemptsOf(response), [["resp-1/gpt-r1", undefined]]);
    assert.equal(r2.calls.length, 0);
    await servedAgainBy(r1, r2, "responses", "resp-1/gpt-r1");
  });

  it("answers a non-streaming Responses request with the target's refusal content part", async () => {
    r1.enqueue({ refusal: REFUSAL });
    const { data: answer, response } = await fx.openai.responses
      .create({ model: "resp", input: "Something bad" })
      .withResponse();
    assert.equal(answer.status, "completed");
    assert.equal(answer.model, "resp");
    assert.deepEqual(
      answer.output.map((item: any) => [item.type, item.content]),
      [["message", [{ type: "refusal", refusal: REFUSAL }]]],
    );
    assert.deepEqual(attemptsOf(response), [["resp-1/gpt-r1", undefined]]);
    assert.equal(r2.calls.length, 0);
    await servedAgainBy(r1, r2, "responses", "resp-1/gpt-r1");
  });

  /** The sequence numbers and types of every event of a Responses stream the client reads. */
  async function responsesEvents() {
    const stream = await fx.openai.responses.create({ model: "cut", stream: true, input: "Count" });
    const events: { type: string; sequence?: number }[] = [];
    for await (const event of stream) events.push({ type: event.type, sequence: (event as any).sequence_number });
    return events;
  }

  for (const numbered of [true, false])
    it(`numbers response.failed right after the last event forwarded, on an upstream error event ${numbered ? "with" : "without"} its own sequence_number`, async () => {
      r3.enqueue({
        text: ["One ", "two ", "three ", "four."],
        // The error's own number is the one api.openai.com gives it: after the six events it sent before it.
        streamError: {
          message: "The server had an error",
          type: "server_error",
          afterChunks: 2,
          ...(numbered ? { sequenceNumber: 6 } : {}),
        },
      });
      const events = await responsesEvents();
      assert.equal(events.at(-1)?.type, "response.failed");
      assert.equal(events.filter((event) => event.type === "response.output_text.delta").length, 2);
      assert.deepEqual(
        events.map((event) => event.sequence),
        events.map((_, index) => index),
        `consecutive numbers: ${JSON.stringify(events)}`,
      );
    });

  it("numbers the cut-off item's end and response.failed after the events forwarded when the target numbers none of them", async () => {
    const item = { id: "msg_1", type: "message", status: "in_progress", role: "assistant", content: [] };
    const response = { id: "resp_1", object: "response", status: "in_progress", model: "gpt-r3", output: [] };
    const at = { item_id: "msg_1", output_index: 0, content_index: 0 };
    r3.enqueue({
      body: [
        sseEvent("response.created", { type: "response.created", response }),
        sseEvent("response.output_item.added", { type: "response.output_item.added", output_index: 0, item }),
        sseEvent("response.output_text.delta", { type: "response.output_text.delta", ...at, delta: "One " }),
        sseEvent("response.output_text.delta", { type: "response.output_text.delta", ...at, delta: "two." }),
        sseEvent("error", { type: "error", code: "server_error", message: "The server had an error", param: null }),
      ].join(""),
    });
    const events = await responsesEvents();
    assert.deepEqual(
      events.map((event) => [event.type, event.sequence]),
      [
        ["response.created", undefined],
        ["response.output_item.added", undefined],
        ["response.output_text.delta", undefined],
        ["response.output_text.delta", undefined],
        // The message the error cut off ends (incomplete) before the response fails.
        ["response.output_text.done", 4],
        ["response.content_part.done", 5],
        ["response.output_item.done", 6],
        ["response.failed", 7],
      ],
    );
  });
});
