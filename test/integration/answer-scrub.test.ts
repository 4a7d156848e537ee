// An answer that quotes the key its target was sent (an upstream that echoes its request) never shows it through pi:
// not in a streamed delta, not in any event's message (serialised after the answer ended, as pi's JSON and RPC
// output may), not in the saved conversation, not in a tool call pi runs. Through real pi (SDK in-process, a faux
// target streaming four characters per delta, so the key comes split across several). The pi CLI against an HTTP
// emulator: test/e2e/cli-provider-surprises.test.ts; the gateway's clients: test/e2e/gateway-security.test.ts.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const PROVIDER = "echoing-provider";
/** The key faux-targets.ts gives the provider, which the router resolves and remembers as a credential. */
const KEY = `faux-key-${PROVIDER}`;

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

async function start(): Promise<SdkHarness> {
  const h = (harness = await createSdkHarness({
    targets: [{ provider: PROVIDER, models: [{ id: "model" }], tokenSize: { min: 1, max: 1 } }],
    routes: { routes: { main: routeInOrder(`${PROVIDER}/model`) } },
    tools: ["echo"],
  }));
  await h.setModel("auto-router", "main");
  return h;
}

const textDeltas = (h: SdkHarness): string[] =>
  h.events
    .filter((event) => event.type === "message_update" && event.assistantMessageEvent.type === "text_delta")
    .map((event) => event.assistantMessageEvent.delta);

describe("an answer that quotes its target's key, through pi", () => {
  it("streams, shows and keeps it with the key replaced, the text around it as it came", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux(PROVIDER).setResponses([fauxAssistantMessage(`you sent ${KEY} and nothing else`)]);
    await h.prompt("Repeat what you were sent");

    assert.equal(h.lastAssistant().content[0].text, "you sent [REDACTED] and nothing else");
    const deltas = textDeltas(h);
    assert.ok(deltas.length > 5, `the answer came in many deltas: ${JSON.stringify(deltas)}`);
    assert.equal(deltas.join(""), "you sent [REDACTED] and nothing else");
    assert.equal(JSON.stringify(h.events).includes(KEY.slice(0, 12)), false, "no event pi emitted holds the key");
    assert.equal(JSON.stringify(h.chat()).includes(KEY.slice(0, 12)), false, "the conversation holds no key");
    // Each message pi was shown while the answer streamed is the text that had gone out by then.
    const shown = h.events
      .filter((event) => event.type === "message_update")
      .map((event) => event.message.content[0]?.text ?? "");
    for (const text of shown) assert.ok("you sent [REDACTED] and nothing else".startsWith(text), text);
  });

  it("replaces the start of the key an answer stopped inside, or quoted with its end changed", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    const cut = KEY.slice(0, 20);
    h.faux(PROVIDER).setResponses([
      fauxAssistantMessage(`you sent ${cut}`, { stopReason: "length" }),
      fauxAssistantMessage(`you sent ${cut}xyz and more`),
      fauxAssistantMessage("keys begin faux-key-e"),
    ]);
    await h.prompt("Repeat what you were sent");
    assert.equal(h.lastAssistant().content[0].text, "you sent [REDACTED]");
    assert.equal(textDeltas(h).join(""), "you sent [REDACTED]");
    await h.prompt("Again");
    assert.equal(h.lastAssistant().content[0].text, "you sent [REDACTED]xyz and more");
    assert.equal(JSON.stringify(h.events).includes(cut), false, "no event pi emitted holds the key's start");
    assert.equal(JSON.stringify(h.chat()).includes(cut), false, "the conversation holds no key's start");
    // Fewer characters than the shortest credential the router takes: text like any other.
    await h.prompt("How do keys begin?");
    assert.equal(h.lastAssistant().content[0].text, "keys begin faux-key-e");
  });

  it("runs a tool call that quotes the key with the key replaced in its arguments", async () => {
    const h = await start();
    const { fauxAssistantMessage, fauxToolCall } = h.fauxHelpers;
    h.faux(PROVIDER).setResponses([
      fauxAssistantMessage([fauxToolCall("echo", { text: `key=${KEY}` })], { stopReason: "toolUse" }),
      fauxAssistantMessage("done"),
    ]);
    await h.prompt("Echo what you were sent");

    const ran = h.events.filter((event) => event.type === "tool_execution_start");
    assert.deepEqual(
      ran.map((event) => event.args),
      [{ text: "key=[REDACTED]" }],
    );
    assert.equal(JSON.stringify(h.events).includes(KEY.slice(0, 12)), false, "no event pi emitted holds the key");
    assert.equal(JSON.stringify(h.chat()).includes(KEY.slice(0, 12)), false, "the conversation holds no key");
  });
});
