// The items of a translated Responses answer (a hosted tool such as the Codex CLI's `web_search` keeps the request off
// the passthrough) as the official OpenAI client reads them through the real `pi-auto-router serve`: however a
// Responses target streams its calls (two interleaved, one never said to be done), the answer ends with every item
// done, and a length stop leaves its message incomplete.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type OpenAI from "openai";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const TOOLS: OpenAI.Responses.Tool[] = [
  { type: "web_search" },
  {
    type: "function",
    name: "read",
    strict: false,
    parameters: { type: "object", properties: { path: { type: "string" } } },
  },
];

/** A Responses target's SSE body: the events given, numbered, after response.created. */
function responsesBody(events: [string, Record<string, unknown>][]): string {
  const response = (status: string, output: unknown[] = []) => ({
    id: "resp_target",
    object: "response",
    created_at: 1,
    status,
    model: "model-resp",
    output,
    usage: status === "in_progress" ? null : { input_tokens: 10, output_tokens: 5, total_tokens: 15 },
  });
  const all: [string, Record<string, unknown>][] = [["response.created", { response: response("in_progress") }]];
  for (const [type, fields] of events) all.push([type, fields]);
  return all
    .map(([type, fields], sequence) => {
      const data =
        type === "response.completed" ? { response: response("completed", fields.output as unknown[]) } : fields;
      return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...data })}\n\n`;
    })
    .join("");
}

const call = (id: string, path?: string) => ({
  id: `fc_${id}`,
  type: "function_call",
  status: path === undefined ? "in_progress" : "completed",
  call_id: `call_${id}`,
  name: "read",
  arguments: path === undefined ? "" : JSON.stringify({ path }),
});
const delta = (id: string, index: number, text: string): [string, Record<string, unknown>] => [
  "response.function_call_arguments.delta",
  { item_id: `fc_${id}`, output_index: index, delta: text },
];

/** Two parallel calls whose events interleave, as some Responses servers stream them. */
const INTERLEAVED = responsesBody([
  ["response.output_item.added", { output_index: 0, item: call("a") }],
  ["response.output_item.added", { output_index: 1, item: call("b") }],
  delta("a", 0, '{"path":'),
  delta("b", 1, '{"path":'),
  delta("a", 0, '"a.txt"}'),
  delta("b", 1, '"b.txt"}'),
  ["response.function_call_arguments.done", { item_id: "fc_a", output_index: 0, arguments: '{"path":"a.txt"}' }],
  ["response.function_call_arguments.done", { item_id: "fc_b", output_index: 1, arguments: '{"path":"b.txt"}' }],
  ["response.output_item.done", { output_index: 0, item: call("a", "a.txt") }],
  ["response.output_item.done", { output_index: 1, item: call("b", "b.txt") }],
  ["response.completed", { output: [call("a", "a.txt"), call("b", "b.txt")] }],
]);

/** A call the target never says is done (no output_item.done) before the response completes. */
const NEVER_DONE = responsesBody([
  ["response.output_item.added", { output_index: 0, item: call("a") }],
  delta("a", 0, '{"path":"a.txt"}'),
  ["response.function_call_arguments.done", { item_id: "fc_a", output_index: 0, arguments: '{"path":"a.txt"}' }],
  ["response.completed", { output: [call("a", "a.txt")] }],
]);

type StreamEvent = OpenAI.Responses.ResponseStreamEvent;
type FunctionCall = OpenAI.Responses.ResponseFunctionToolCall;
/** An output item's status (a custom tool call's type has none). */
const statusOf = (item: OpenAI.Responses.ResponseOutputItem) => ("status" in item ? item.status : undefined);

describe("gateway /v1/responses: a translated answer's items all end", () => {
  let fx: GatewayFixture<"R" | "C">;
  let target: Emulator, chat: Emulator;

  before(async () => {
    fx = await startGatewayFixture({
      emulators: { R: "responses", C: "openai" },
      providers: {
        "mock-resp": { emulator: "R", apiKey: "sk-mock-resp-0000000003", models: ["model-resp"] },
        "mock-chat": { emulator: "C", apiKey: "sk-mock-chat-0000000002", models: ["model-chat"] },
      },
      routes: {
        routes: { resp: routeInOrder("mock-resp/model-resp"), chat: routeInOrder("mock-chat/model-chat") },
      },
    });
    ({ R: target, C: chat } = fx.emulators);
  });
  after(() => fx?.stop());
  beforeEach(() => fx.reset());

  async function streamed(): Promise<{ events: StreamEvent[]; final: OpenAI.Responses.Response }> {
    const stream = fx.openai.responses.stream({ model: "resp", input: "Read a.txt and b.txt", tools: TOOLS });
    const events: StreamEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.equal(target.calls.length, 1);
    assert.equal(
      target.calls[0]!.body.tools.some((tool: { type: string }) => tool.type === "web_search"),
      false,
      "translated: the hosted tool is left out",
    );
    return { events, final: await stream.finalResponse() };
  }

  /** Each item added is done, in order, before the next is added; the terminal response lists none in progress. */
  function assertWhole(events: StreamEvent[], final: OpenAI.Responses.Response) {
    const steps = events.flatMap((event) =>
      event.type === "response.output_item.added" || event.type === "response.output_item.done"
        ? [`${event.type.slice("response.output_item.".length)} ${event.output_index} ${statusOf(event.item)}`]
        : [],
    );
    assert.deepEqual(
      steps,
      final.output.flatMap((_, index) => [`added ${index} in_progress`, `done ${index} completed`]),
    );
    assert.equal(events.at(-1)?.type, "response.completed");
    assert.deepEqual(
      final.output.map(statusOf),
      final.output.map(() => "completed"),
    );
  }

  it("streams two interleaved parallel calls each whole, the second with its arguments", async () => {
    target.enqueue({ body: INTERLEAVED });
    const { events, final } = await streamed();
    assertWhole(events, final);
    const calls = final.output as FunctionCall[];
    assert.deepEqual(
      calls.map((item) => [item.type, item.call_id, item.name]),
      [
        ["function_call", "call_a", "read"],
        ["function_call", "call_b", "read"],
      ],
    );
    assert.equal(calls[1]!.arguments, '{"path":"b.txt"}');
    // pi 0.73.1's pi-ai gives the first call's argument events to the second (it follows one current item): the
    // gateway never sees fc_a's arguments and sends what the finished message holds for it. pi 0.87.1 and 1.6.0
    // follow each item by its output_index.
    assert.ok(["{}", '{"path":"a.txt"}'].includes(calls[0]!.arguments), calls[0]!.arguments);
    const argumentsDone = events.filter((event) => event.type === "response.function_call_arguments.done");
    assert.deepEqual(
      argumentsDone.map((event) => [event.item_id, event.arguments]),
      calls.map((item) => [item.id, item.arguments]),
    );
  });

  it("ends a call its target never said was done, with its arguments", async () => {
    target.enqueue({ body: NEVER_DONE });
    const { events, final } = await streamed();
    assertWhole(events, final);
    const [only] = final.output as FunctionCall[];
    assert.deepEqual([only?.id, only?.call_id, only?.arguments], ["fc_a", "call_a", '{"path":"a.txt"}']);
    const done = events.find((event) => event.type === "response.output_item.done");
    assert.deepEqual(done?.type === "response.output_item.done" && done.item, {
      id: "fc_a",
      type: "function_call",
      status: "completed",
      call_id: "call_a",
      name: "read",
      arguments: '{"path":"a.txt"}',
    });
  });

  // A Chat target: on pi 0.73.1 and 0.87.1 pi-ai reads no response.incomplete from a Responses target (README).
  it("marks the message a length stop cut incomplete, streamed and not", async () => {
    chat.enqueue({ text: "The first lines of a.txt", finishReason: "length" });
    const stream = fx.openai.responses.stream({ model: "chat", input: "Read a.txt", tools: TOOLS });
    const events: StreamEvent[] = [];
    for await (const event of stream) events.push(event);
    // The client's own snapshot takes the terminal response only from response.completed: read the event.
    const last = events.at(-1);
    assert.equal(last?.type, "response.incomplete");
    const final = (last as OpenAI.Responses.ResponseIncompleteEvent).response;
    assert.deepEqual(
      final.output.map((item) => [item.type, statusOf(item)]),
      [["message", "incomplete"]],
    );

    chat.enqueue({ text: "The first lines of a.txt", finishReason: "length" });
    const whole = await fx.openai.responses.create({ model: "chat", input: "Read a.txt", tools: TOOLS });
    assert.equal(whole.status, "incomplete");
    assert.deepEqual(
      whole.output.map((item) => [item.type, statusOf(item)]),
      [["message", "incomplete"]],
    );
  });
});
