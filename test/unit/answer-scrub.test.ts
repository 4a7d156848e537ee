import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AssistantMessage, AssistantMessageEvent, ToolCall } from "@mariozechner/pi-ai";
import { AnswerScrub } from "../../src/runtime/answer-scrub.ts";

const KEY = "sk-test-key-000000000001";

/** A target's stream as pi-ai makes it: one message object, changed in place, is every event's `partial`. */
function target() {
  const message = { role: "assistant", content: [], stopReason: "stop" } as unknown as AssistantMessage;
  const text = (contentIndex: number, delta: string): AssistantMessageEvent => {
    const block = (message.content[contentIndex] ??= { type: "text", text: "" }) as { text: string };
    block.text += delta;
    return { type: "text_delta", contentIndex, delta, partial: message };
  };
  const textEnd = (contentIndex: number): AssistantMessageEvent => ({
    type: "text_end",
    contentIndex,
    content: (message.content[contentIndex] as { text: string }).text,
    partial: message,
  });
  return { message, text, textEnd };
}

/** Passes events through the scrub as attempt-target.ts does: each partial shown as `content()` says. */
function through(scrub: AnswerScrub, events: AssistantMessageEvent[]) {
  const out: Array<{ event: AssistantMessageEvent; shown?: string }> = [];
  for (const event of events)
    scrub.pass(event, (passed) => {
      const shown =
        "partial" in passed && passed.partial
          ? scrub
              .content(passed.partial.content)
              .map((block) => (block.type === "text" ? block.text : JSON.stringify(block)))
              .join("|")
          : undefined;
      out.push({ event: passed, shown });
    });
  return out;
}

const deltas = (out: ReturnType<typeof through>) =>
  out.map(({ event }) => ("delta" in event ? `${event.type}:${event.contentIndex}:${event.delta}` : event.type));

describe("AnswerScrub", () => {
  it("finds a key split across two deltas, and shows each partial as its deltas went out", () => {
    const t = target();
    const scrub = new AnswerScrub([KEY]);
    const out = through(scrub, [
      t.text(0, `you sent ${KEY.slice(0, 9)}`),
      t.text(0, `${KEY.slice(9)} then sk-t`),
      t.textEnd(0),
    ]);
    assert.deepEqual(deltas(out), [
      "text_delta:0:you sent ",
      "text_delta:0:[REDACTED] then ",
      "text_delta:0:sk-t",
      "text_end",
    ]);
    assert.deepEqual(
      out.map(({ shown }) => shown),
      ["you sent ", "you sent [REDACTED] then ", "you sent [REDACTED] then sk-t", "you sent [REDACTED] then sk-t"],
    );
    assert.equal((out[3]!.event as { content: string }).content, "you sent [REDACTED] then sk-t");
    assert.ok(
      t.message.content.some((block) => block.type === "text" && block.text.includes(KEY)),
      "the target's own",
    );
  });

  it("scrubs the final message whole, and leaves the target's message object as it was", () => {
    const t = target();
    const scrub = new AnswerScrub([KEY]);
    const events = [t.text(0, `key ${KEY}`), t.textEnd(0)];
    const call: ToolCall = { type: "toolCall", id: "c1", name: "bash", arguments: { command: `echo ${KEY}` } };
    t.message.content.push(call);
    const out = through(scrub, [...events, { type: "done", reason: "stop", message: t.message }]);
    const done = out.at(-1)!.event as Extract<AssistantMessageEvent, { type: "done" }>;
    assert.notEqual(done.message, t.message);
    assert.deepEqual(done.message.content, [
      { type: "text", text: "key [REDACTED]" },
      { type: "toolCall", id: "c1", name: "bash", arguments: { command: "echo [REDACTED]" } },
    ]);
    assert.equal(call.arguments.command, `echo ${KEY}`, "the target's message is not changed");
  });

  it("hands the final message the tool call its end scrubbed, without scanning it again", () => {
    const scrub = new AnswerScrub([KEY]);
    const call: ToolCall = { type: "toolCall", id: "c1", name: "bash", arguments: { command: `echo ${KEY}` } };
    const message = { role: "assistant", content: [call], stopReason: "toolUse" } as unknown as AssistantMessage;
    const out: AssistantMessageEvent[] = [];
    scrub.pass({ type: "toolcall_end", contentIndex: 0, toolCall: call, partial: message }, (event) => out.push(event));
    scrub.pass({ type: "done", reason: "toolUse", message }, (event) => out.push(event));
    const ended = (out[0] as Extract<AssistantMessageEvent, { type: "toolcall_end" }>).toolCall;
    const done = (out[1] as Extract<AssistantMessageEvent, { type: "done" }>).message;
    assert.deepEqual(ended.arguments, { command: "echo [REDACTED]" });
    assert.equal(done.content[0], ended, "the one scrubbed copy");
  });

  it("sends what still waits before the answer's error when it breaks off mid-block", () => {
    const t = target();
    const scrub = new AnswerScrub([KEY]);
    const out = through(scrub, [
      t.text(0, "almost sk-test"),
      { type: "error", reason: "error", error: { ...t.message, stopReason: "error", errorMessage: "cut" } },
    ]);
    assert.deepEqual(deltas(out), ["text_delta:0:almost ", "text_delta:0:sk-test", "error"]);
    assert.equal(out[1]!.shown, "almost sk-test", "a start that was no key is shown whole at the end");
  });

  it("passes events on as they are when nothing in them could be a key, each partial a copy of what went out", () => {
    const t = target();
    const scrub = new AnswerScrub([KEY]);
    const events = [t.text(0, "hello "), t.text(0, "world"), t.textEnd(0)];
    const done: AssistantMessageEvent = { type: "done", reason: "stop", message: t.message };
    const out = through(scrub, [...events, done]);
    assert.deepEqual(
      out.map(({ event }) => event),
      [...events, done],
    );
    const shown = scrub.content(t.message.content);
    assert.deepEqual(shown, t.message.content);
    assert.notEqual(shown[0], t.message.content[0], "a copy: pi-ai goes on changing its own");
  });

  it("shows a partial its target has read ahead of as far as the deltas went out, the key not yet scanned left out", () => {
    const t = target();
    const scrub = new AnswerScrub([KEY]);
    const first = t.text(0, "you sent ");
    t.text(0, `${KEY} and more`); // read by the target, not yet passed on
    const out = through(scrub, [first]);
    assert.equal(out[0]!.shown, "you sent ");
  });

  it("shows a streaming tool call's arguments as its deltas went out, with the key replaced", () => {
    const scrub = new AnswerScrub([KEY]);
    const message = { role: "assistant", content: [] } as unknown as AssistantMessage;
    const call = { type: "toolCall", id: "c1", name: "bash", arguments: {}, partialJson: "" };
    message.content.push(call as ToolCall);
    const delta = (text: string): AssistantMessageEvent => {
      call.partialJson += text;
      call.arguments = JSON.parse(`${call.partialJson}"}`);
      return { type: "toolcall_delta", contentIndex: 0, delta: text, partial: message };
    };
    const shown: unknown[] = [];
    // Each delta passed on as the target reads it (the arguments are then the target's own), the key's start held:
    // the partial shows no part of it meanwhile.
    for (const text of ['{"command":"echo ', KEY.slice(0, 8), KEY.slice(8)])
      scrub.pass(delta(text), (passed) => "partial" in passed && shown.push(scrub.content(passed.partial.content)[0]));
    assert.deepEqual(shown, [
      { type: "toolCall", id: "c1", name: "bash", arguments: { command: "echo " } },
      { type: "toolCall", id: "c1", name: "bash", arguments: { command: "echo [REDACTED]" } },
    ]);
  });

  it("shows no part of a key's start that waits at the end of a tool call's delta", () => {
    const scrub = new AnswerScrub([KEY]);
    const call = { type: "toolCall", id: "c1", name: "bash", arguments: {}, partialJson: "" };
    const message = { role: "assistant", content: [call] } as unknown as AssistantMessage;
    call.partialJson = `{"command":"echo ${KEY.slice(0, 7)}`;
    call.arguments = { command: `echo ${KEY.slice(0, 7)}` };
    const shown: unknown[] = [];
    scrub.pass({ type: "toolcall_delta", contentIndex: 0, delta: call.partialJson, partial: message }, (passed) =>
      shown.push("partial" in passed ? scrub.content(passed.partial.content)[0] : undefined),
    );
    assert.equal(JSON.stringify(shown).includes(KEY.slice(0, 7)), false, JSON.stringify(shown));
    assert.equal(shown.length, 1);
  });
});
