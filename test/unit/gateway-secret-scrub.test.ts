import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, it } from "node:test";
import type { AssistantMessageEvent } from "@mariozechner/pi-ai";
import type { AnswerEvent } from "../../src/gateway/refusal.ts";
import { DeltaScrub, SecretScrub, TextScrub } from "../../src/gateway/secret-scrub.ts";
import { forgetRememberedCredentials, rememberCredentials } from "../../src/state/redact.ts";

const KEY = "sk-test-key-000000000001";
const scrubbed = async (chunks: Array<string | Buffer>, secrets = [KEY]) =>
  buffer(Readable.from(chunks.map((chunk) => Buffer.from(chunk))).pipe(new SecretScrub(secrets)));

describe("SecretScrub", () => {
  it("scrubs a whole body at once, its end included, and hands back the body itself when it holds none", () => {
    const body = Buffer.from(`{"a":"${KEY}","é":"ends in sk-te"}`);
    assert.equal(SecretScrub.all(body, [KEY]).toString(), '{"a":"[REDACTED]","é":"ends in sk-te"}');
    const clean = Buffer.from("no secret, ends in sk-test");
    assert.equal(SecretScrub.all(clean, [KEY]), clean);
    assert.equal(SecretScrub.all(body, []), body);
  });
  it("replaces a secret wherever the chunks split it", async () => {
    const text = `{"authorization":"Bearer ${KEY}","again":"${KEY}"}`;
    for (let cut = 0; cut <= text.length; cut++) {
      const out = await scrubbed([text.slice(0, cut), text.slice(cut)]);
      assert.equal(out.toString(), '{"authorization":"Bearer [REDACTED]","again":"[REDACTED]"}', `cut at ${cut}`);
    }
    const bytes = await scrubbed([...text]);
    assert.equal(bytes.toString(), '{"authorization":"Bearer [REDACTED]","again":"[REDACTED]"}');
  });
  it("passes a chunk on at once unless its end could begin a secret", async () => {
    const scrub = new SecretScrub([KEY]);
    const out: string[] = [];
    scrub.on("data", (chunk: Buffer) => out.push(chunk.toString()));
    scrub.write(Buffer.from("chunk 0\n"));
    scrub.write(Buffer.from("then sk-te"));
    assert.deepEqual(out, ["chunk 0\n", "then "], "the possible start of the key waits");
    scrub.end(Buffer.from("a is no key"));
    await new Promise((resolve) => scrub.on("end", resolve));
    assert.equal(out.join(""), "chunk 0\nthen sk-tea is no key");
  });
  it("prefers the longer of two secrets that start at the same byte, and leaves other bytes as they are", async () => {
    const out = await scrubbed([`a ${KEY}-suffix-000000 b ${KEY}`], [`${KEY}-suffix-000000`, KEY]);
    assert.equal(out.toString(), "a [REDACTED] b [REDACTED]");
    const binary = Buffer.from(Array.from({ length: 4096 }, (_, index) => index % 256));
    assert.deepEqual(await scrubbed([binary.subarray(0, 1000), binary.subarray(1000)]), binary);
  });
});

describe("TextScrub", () => {
  it("replaces a secret wherever two writes split it, holding back only a possible start of one", () => {
    const text = `data: {"text":"you sent Bearer ${KEY}"}\n\ndata: {"again":"${KEY}"}\n\n`;
    const expected = 'data: {"text":"you sent Bearer [REDACTED]"}\n\ndata: {"again":"[REDACTED]"}\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const scrub = new TextScrub([KEY]);
      const first = scrub.take(text.slice(0, cut));
      if (cut <= text.indexOf(KEY)) {
        const held = text.slice(first.length, cut);
        assert.ok(text.startsWith(first) && KEY.startsWith(held), `cut at ${cut}: only a start of the key waits`);
      }
      assert.equal(first + scrub.take(text.slice(cut)) + scrub.end(), expected, `cut at ${cut}`);
    }
  });
  it("passes text that holds no secret on unchanged, and a held start that was no secret at the end", () => {
    const scrub = new TextScrub([KEY]);
    assert.equal(scrub.take('data: {"done":true}\n\n'), 'data: {"done":true}\n\n');
    assert.equal(scrub.take("a cut sk-te"), "a cut ");
    assert.equal(scrub.end(), "sk-te");
    assert.equal(new TextScrub([]).take(`${KEY}`), KEY, "no credential known: nothing to scrub");
  });
  it("scrubs the credentials the router resolved, also as JSON text spells them", () => {
    forgetRememberedCredentials();
    const quoted = 'self-hosted"key\\0001';
    try {
      rememberCredentials(quoted);
      const body = JSON.stringify({ text: `key ${quoted} and sk-te` });
      assert.equal(TextScrub.all(body), '{"text":"key [REDACTED] and sk-te"}');
    } finally {
      forgetRememberedCredentials();
    }
  });
});

describe("DeltaScrub", () => {
  const partial = { role: "assistant", content: [] } as never;
  const delta = (type: "text_delta" | "toolcall_delta", contentIndex: number, text: string) =>
    ({ type, contentIndex, delta: text, partial }) as const;
  const passed = (scrub: DeltaScrub, event: AnswerEvent) => {
    const events: AnswerEvent[] = [];
    scrub.pass(event, (out) => events.push(out));
    return events;
  };
  const texts = (events: AnswerEvent[]) =>
    events.map((event) => ("delta" in event ? `${event.type}:${event.contentIndex}:${event.delta}` : event.type));

  it("finds a secret split across two deltas of a block, and sends what waited before the block's end", () => {
    const scrub = new DeltaScrub([KEY]);
    assert.deepEqual(texts(passed(scrub, delta("text_delta", 0, `you sent ${KEY.slice(0, 9)}`))), [
      "text_delta:0:you sent ",
    ]);
    assert.deepEqual(texts(passed(scrub, delta("text_delta", 0, `${KEY.slice(9)} then sk-t`))), [
      "text_delta:0:[REDACTED] then ",
    ]);
    // Another block's deltas are their own text: its "sk-t" does not complete the first block's.
    assert.deepEqual(texts(passed(scrub, delta("toolcall_delta", 1, "est"))), ["toolcall_delta:1:est"]);
    assert.deepEqual(texts(passed(scrub, { type: "text_end", contentIndex: 0, content: "", partial })), [
      "text_delta:0:sk-t",
      "text_end",
    ]);
  });

  it("sends what still waits before the answer's error when it breaks off mid-block", () => {
    const scrub = new DeltaScrub([KEY]);
    assert.deepEqual(texts(passed(scrub, delta("text_delta", 0, "almost sk-test"))), ["text_delta:0:almost "]);
    const error = { type: "error", reason: "error", error: partial } as AssistantMessageEvent;
    assert.deepEqual(texts(passed(scrub, error)), ["text_delta:0:sk-test", "error"]);
  });

  it("passes every event on as it is when the router knows no credential", () => {
    const event = delta("text_delta", 0, "sk-test");
    assert.equal(passed(new DeltaScrub([]), event)[0], event);
  });
});
