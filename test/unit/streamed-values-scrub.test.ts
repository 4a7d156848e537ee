// A credential split across the string values of a passthrough stream's events (Anthropic text deltas, Responses
// deltas) is found: each event stays valid JSON and the text the client puts together holds [REDACTED] in its place.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ANTHROPIC_PASSTHROUGH } from "../../src/gateway/passthrough-anthropic.ts";
import { RESPONSES_PASSTHROUGH } from "../../src/gateway/passthrough-responses.ts";
import { StreamedValuesScrub } from "../../src/gateway/streamed-values-scrub.ts";

const KEY = "sk-test-key-000000000001";
const ANTHROPIC = ANTHROPIC_PASSTHROUGH.streamedValues!;
const RESPONSES = RESPONSES_PASSTHROUGH.streamedValues!;

const textDelta = (text: string) =>
  `event: content_block_delta\ndata: ${JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } })}\n\n`;
const responsesDelta = (delta: string) =>
  `event: response.output_text.delta\ndata: ${JSON.stringify({ type: "response.output_text.delta", item_id: "msg_1", delta, logprobs: [], obfuscation: "sk-te" })}\n\n`;

/** Every block's JSON read back (each must parse) and the streamed text put together as a client would. */
function readBack(stream: string): string {
  let text = "";
  for (const block of stream.split("\n\n").filter((block) => block !== "")) {
    const data = JSON.parse(block.slice(block.indexOf("data: ") + 6));
    text += data.delta?.text ?? (typeof data.delta === "string" ? data.delta : "");
  }
  return text;
}

/** The events through a scrub, each given on its own (`apart`) or all at once. */
function through(events: string[], valueKey: RegExp, apart: boolean): string {
  const scrub = new StreamedValuesScrub([KEY], valueKey);
  const out = apart ? events.map((event) => scrub.take(event)).join("") : scrub.take(events.join(""));
  return out + scrub.end();
}

describe("StreamedValuesScrub", () => {
  for (const [name, event, valueKey] of [
    ["Anthropic text deltas", textDelta, ANTHROPIC],
    ["Responses deltas", responsesDelta, RESPONSES],
  ] as const) {
    it(`replaces a credential split across two or three ${name}, wherever it is cut`, () => {
      const text = `you sent ${KEY} and more`;
      const start = text.indexOf(KEY);
      for (let cut = start + 1; cut < start + KEY.length; cut++) {
        for (const apart of [true, false]) {
          const two = through([event(text.slice(0, cut)), event(text.slice(cut))], valueKey, apart);
          assert.equal(readBack(two), "you sent [REDACTED] and more", `cut at ${cut}`);
          assert.ok(!two.includes(KEY.slice(0, 8)) && !two.includes(KEY.slice(-8)), `cut at ${cut}: ${two}`);
          const three = [text.slice(0, cut - 1), text.slice(cut - 1, cut + 1), text.slice(cut + 1)].map(event);
          assert.equal(readBack(through(three, valueKey, apart)), "you sent [REDACTED] and more", `cut at ${cut}`);
        }
      }
    });
  }

  it("finds every credential in answers cut into random deltas that arrive in random groups, among other events", () => {
    let seed = 7;
    const random = (below: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % below;
    };
    const OTHER = "sk-test-key-other-000000002";
    const words = ["s", "sk", "the ", "key: ", KEY, OTHER, "k-", "\n", '"quoted"', "é ", "sk-test-", "tools"];
    const stop = 'event: ping\ndata: {"type":"ping"}\n\n';
    for (let round = 0; round < 400; round++) {
      let text = "";
      for (let i = random(12) + 1; i > 0; i--) text += words[random(words.length)];
      const events: string[] = [];
      for (let at = 0; at < text.length; ) {
        const length = 1 + random(8);
        events.push(textDelta(text.slice(at, at + length)));
        if (random(4) === 0) events.push(stop);
        at += length;
      }
      const scrub = new StreamedValuesScrub([OTHER, KEY], ANTHROPIC);
      let out = "";
      for (let at = 0; at < events.length; ) {
        const count = 1 + random(3);
        out += scrub.take(events.slice(at, at + count).join(""));
        at += count;
      }
      out += scrub.end();
      const expected = text.replaceAll(OTHER, "[REDACTED]").replaceAll(KEY, "[REDACTED]");
      // What the written text's scrub still replaces: a credential inside one value.
      assert.equal(readBack(out).replaceAll(KEY, "[REDACTED]").replaceAll(OTHER, "[REDACTED]"), expected, text);
      assert.equal(out.split(stop).length, events.filter((event) => event === stop).length + 1, "no event lost");
    }
  });

  it("replaces a key the stream ends inside, split across values, and keeps every event", () => {
    const stop = 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    const events = [
      textDelta(`you sent ${KEY.slice(0, 5)}`),
      textDelta(KEY.slice(5, 9)),
      textDelta(KEY.slice(9, 16)),
      stop,
    ];
    for (const apart of [true, false]) {
      const out = through(events, ANTHROPIC, apart);
      assert.equal(readBack(out), "you sent [REDACTED]");
      assert.ok(out.endsWith(stop), "the events after the values still come");
      assert.ok(!out.includes(KEY.slice(5, 9)) && !out.includes(KEY.slice(9, 16)), out);
    }
  });

  it("passes a stream without a credential through unchanged, holding only an end that could begin one", () => {
    const scrub = new StreamedValuesScrub([KEY], ANTHROPIC);
    const first = textDelta("models and tools.");
    assert.equal(scrub.take(first), first, "an end that cannot begin the key goes out at once");
    const held = textDelta("the sk");
    const out = scrub.take(held);
    assert.ok(held.startsWith(out) && out.endsWith('"the '), `the possible start waits: ${out}`);
    const stop = 'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n';
    assert.equal(scrub.take(stop), "", "what follows a held start waits with it");
    const next = textDelta("y is blue");
    assert.equal(out + scrub.take(next), held + stop + next, "the next value told: all of it as it came");
    const last = textDelta("a last s");
    const rest = scrub.take(last);
    assert.equal(rest + scrub.end(), last, "the stream's end sends what waited");
  });

  it("reads only the streamed values: the same text elsewhere in an event is left to the written text's scrub", () => {
    const other = `event: message_start\ndata: {"message":{"id":"sk-test-"}}\n\n`;
    const scrub = new StreamedValuesScrub([KEY], ANTHROPIC);
    assert.equal(scrub.take(other + textDelta("key-000000000001 ok")), other + textDelta("key-000000000001 ok"));
  });
});
