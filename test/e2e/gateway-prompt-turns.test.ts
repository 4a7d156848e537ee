// The turns of one client prompt through the real gateway, as in pi: a prompt's follow-up turns (its tool results)
// stay on the target that served its first turn, even after the first choice is back; the next prompt (or the same
// first turn sent again) is decided afresh; shortcuts typed at the prompt's start apply to all its turns. Driven by
// the official Anthropic and OpenAI clients; every failure cools its target for 0 ms, so only stickiness keeps a
// follow-up turn off the first choice.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { startUpstream, type Upstream } from "../helpers/endpoint-upstream.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { REMEMBERED_PROMPTS } from "../../src/runtime/stickiness.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";

const SERVER_ERROR = { status: 500, errorMessage: "Internal server error" };
const TOOLS = [
  {
    name: "get_weather",
    description: "Weather for a city",
    input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
  },
];
// Claude Code's tool-result turns carry reminders as text blocks next to the results.
const REMINDER = { type: "text" as const, text: "<system-reminder>Keep the answer short.</system-reminder>" };

describe("a client prompt's turns through the gateway", () => {
  let fx: GatewayFixture<"A" | "B" | "D">;
  let openaiA: Emulator, openaiB: Emulator, anthropicD: Emulator;
  let embeddings: Upstream;

  before(async () => {
    embeddings = await startUpstream("E");
    fx = await startGatewayFixture({
      emulators: { A: "openai", B: "openai", D: "anthropic" },
      providers: {
        "mock-a": { emulator: "A", apiKey: "sk-mock-a-key-0000000001", models: ["model-a"] },
        "mock-b": { emulator: "B", apiKey: "sk-mock-b-key-0000000002", models: ["model-b"] },
        "mock-d": { emulator: "D", apiKey: "sk-ant-mock-d-key-000003", models: ["model-d"] },
        embed: {
          baseUrl: embeddings.url,
          api: "openai-completions",
          apiKey: "sk-embed-key-0000000004",
          models: [{ id: "embed-small" }],
        },
      },
      routes: {
        routes: {
          // An Anthropic client: the first choice is translated, the second gets the client's own request.
          mixed: routeInOrder("mock-a/model-a", "mock-d/model-d"),
          chat: routeInOrder("mock-a/model-a", "mock-b/model-b"),
          embed: { targets: [{ provider: "embed", modelId: "embed-small" }] },
        },
        failover: { cooldownWaitMs: 0, kinds: { server: { cooldownMs: 0 } } },
        // mock-a fails once in several tests here; the breaker would then take it out of the route, and these tests
        // need it back as the first choice so that only stickiness keeps a follow-up turn off it.
        breaker: { enabled: false },
        // Another client's embeddings go through the wildcard proxy to their own route.
        providers: { embed: { endpointPrefixes: ["/v1/embeddings"] } },
      },
    });
    ({ A: openaiA, B: openaiB, D: anthropicD } = fx.emulators);
  });
  after(async () => {
    await fx?.stop();
    await embeddings?.close();
  });
  beforeEach(() => fx.reset());

  it("keeps an Anthropic prompt's tool-result turn on the target that served it, then decides the next prompt afresh", async () => {
    const system = "You check the weather.";
    const prompt = { role: "user" as const, content: "Weather in Oslo?" };
    openaiA.enqueue(SERVER_ERROR);
    anthropicD.enqueue({ toolCall: { id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } } });
    const first = await fx.anthropic.messages
      .create({ model: "auto-router/mixed", max_tokens: 200, system, tools: TOOLS, messages: [prompt] })
      .withResponse();
    assert.equal(first.response.headers.get("x-auto-router-served-by"), "mock-d/model-d");
    const toolUse = first.data.content.find((block) => block.type === "tool_use");
    assert.ok(toolUse?.type === "tool_use");

    // mock-a is healthy again (0 ms cooldown) and first in the route: only the prompt's own target keeps the turn.
    anthropicD.enqueue({ text: "Cold, 3 C." });
    const history = [
      prompt,
      { role: "assistant" as const, content: first.data.content },
      {
        role: "user" as const,
        content: [{ type: "tool_result" as const, tool_use_id: toolUse.id, content: "cold, 3 C" }, REMINDER],
      },
    ];
    const second = await fx.anthropic.messages
      .create({ model: "auto-router/mixed", max_tokens: 200, system, tools: TOOLS, messages: history })
      .withResponse();
    assert.deepEqual(second.data.content, [{ type: "text", text: "Cold, 3 C." }]);
    assert.equal(second.response.headers.get("x-auto-router-served-by"), "mock-d/model-d");
    assert.equal(JSON.parse(second.response.headers.get("x-auto-router-attempts")!).length, 1);
    // The event log says why the turn went to the second choice.
    const stickyFinal = () =>
      readLoggedEvents(fx.agentDir).find(
        (event) =>
          event.type === "final" &&
          event.data.notes?.includes(
            "sticky: mock-d/model-d served this prompt's earlier turns (the decision put mock-a/model-a first)",
          ),
      );
    await until(() => stickyFinal() !== undefined, "the follow-up turn's final event with its sticky note");
    assert.equal(stickyFinal().data.servedTarget, "mock-d/model-d");
    assert.equal(openaiA.calls.length, 1);
    assert.equal(anthropicD.calls.length, 2);

    // The user's next prompt in the same conversation: the route's first choice again (translated for it).
    const next = await fx.anthropic.messages
      .create({
        model: "auto-router/mixed",
        max_tokens: 200,
        system,
        tools: TOOLS,
        messages: [
          ...history,
          { role: "assistant", content: second.data.content },
          { role: "user", content: "And in Bergen?" },
        ],
      })
      .withResponse();
    assert.equal(next.response.headers.get("x-auto-router-served-by"), "mock-a/model-a");
    assert.equal(openaiA.calls.length, 2);
    assert.match(JSON.stringify(openaiA.calls[1]!.body.messages.at(-1).content), /And in Bergen\?/);
  });

  const openaiTools = [{ type: "function" as const, function: { ...TOOLS[0]!, parameters: TOOLS[0]!.input_schema } }];

  /** An OpenAI prompt whose first turn fails on mock-a and asks for the weather tool on mock-b. */
  async function openaiToolCallOnB(city: string, callId: string) {
    const ask = { role: "user" as const, content: `Weather in ${city}?` };
    openaiA.enqueue(SERVER_ERROR);
    openaiB.enqueue({ toolCall: { id: callId, name: "get_weather", arguments: { city } } });
    const first = await fx.openai.chat.completions.create({
      model: "auto-router/chat",
      messages: [ask],
      tools: openaiTools,
    });
    /** The prompt's tool-result turn, answered with `text` (queued on mock-b, where it should stay). */
    const toolResult = (result: string, text: string) => {
      openaiB.enqueue({ text });
      const call = first.choices[0]!.message.tool_calls![0]!;
      return fx.openai.chat.completions
        .create({
          model: "auto-router/chat",
          tools: openaiTools,
          messages: [ask, first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: result }],
        })
        .withResponse();
    };
    return { ask, toolResult };
  }

  it("keeps an OpenAI tool round trip on its target, and decides the same first turn sent again afresh", async () => {
    const { ask, toolResult } = await openaiToolCallOnB("Paris", "call_1");
    assert.equal(openaiB.calls.length, 1);

    const answer = await toolResult("sunny, 21 C", "Sunny, 21 C.");
    assert.equal(answer.data.choices[0]!.message.content, "Sunny, 21 C.");
    assert.equal(answer.response.headers.get("x-auto-router-served-by"), "mock-b/model-b");
    assert.deepEqual([openaiA.calls.length, openaiB.calls.length], [1, 2]);

    // A script sending the very same first request again gets the route's first choice, not the prompt's target.
    const again = await fx.openai.chat.completions
      .create({ model: "auto-router/chat", messages: [ask], tools: openaiTools })
      .withResponse();
    assert.equal(again.response.headers.get("x-auto-router-served-by"), "mock-a/model-a");
    assert.deepEqual([openaiA.calls.length, openaiB.calls.length], [2, 2]);
  });

  it("keeps a prompt on its target while thousands of proxied calls pass through the router", async () => {
    const { toolResult } = await openaiToolCallOnB("Lima", "call_9");

    // Another client's embeddings, one after another (a millisecond or more apart, as the router would tell them
    // apart as prompts), more than the router remembers (its last REMEMBERED_PROMPTS to twice as many): none may count.
    const proxied = 2 * REMEMBERED_PROMPTS + 100;
    const before = embeddings.calls.length;
    for (let index = 0; index < proxied; index++) {
      const result = await fx.openai.embeddings.create({ model: "auto-router/embed", input: "hello" });
      assert.equal(result.data.length, 1);
    }
    assert.equal(embeddings.calls.length - before, proxied);

    const answer = await toolResult("mild", "Mild, 18 C.");
    assert.equal(answer.data.choices[0]!.message.content, "Mild, 18 C.");
    assert.equal(answer.response.headers.get("x-auto-router-served-by"), "mock-b/model-b");
    assert.equal(openaiA.calls.length, 1);
  });

  it("applies shortcuts typed at the prompt's start to its tool-result turns, and never sends them on", async () => {
    const prompt = { role: "user" as const, content: "@only=mock-d Weather in Rome?" };
    anthropicD.enqueue({ toolCall: { id: "toolu_2", name: "get_weather", arguments: { city: "Rome" } } });
    const first = await fx.anthropic.messages.create({
      model: "auto-router/mixed",
      max_tokens: 200,
      tools: TOOLS,
      messages: [prompt],
    });
    const toolUse = first.content.find((block) => block.type === "tool_use");
    assert.ok(toolUse?.type === "tool_use");
    anthropicD.enqueue({ text: "Warm, 25 C." });
    const second = await fx.anthropic.messages
      .create({
        model: "auto-router/mixed",
        max_tokens: 200,
        tools: TOOLS,
        messages: [
          prompt,
          { role: "assistant", content: first.content },
          { role: "user", content: [{ type: "tool_result", tool_use_id: toolUse.id, content: "warm" }, REMINDER] },
        ],
      })
      .withResponse();
    assert.equal(second.response.headers.get("x-auto-router-served-by"), "mock-d/model-d");
    assert.equal(openaiA.calls.length, 0);
    // Both turns reached mock-d with the prompt's text and without the shortcut.
    for (const sent of anthropicD.calls)
      assert.equal(JSON.stringify(sent.body.messages[0].content).includes("@only"), false);
    assert.match(JSON.stringify(anthropicD.calls[1]!.body.messages[0].content), /Weather in Rome\?/);
  });
});
