// One attempt's commit point and timeouts, on hand-made event streams (real timers, short and bounded).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createAssistantMessageEventStream, type AssistantMessageEvent } from "@mariozechner/pi-ai";
import { runAttempt } from "../../src/runtime/attempt.ts";
import { mockAnswer } from "../helpers/assistant-message.ts";

const message = mockAnswer;

/** A stream that emits text deltas at the given delays (ms after start), then optionally ends with done. */
function scripted(deltaDelaysMs: number[], options: { finish?: boolean; controller: AbortController }) {
  const stream = createAssistantMessageEventStream();
  const partial = message("");
  let text = "";
  stream.push({ type: "start", partial });
  stream.push({ type: "text_start", contentIndex: 0, partial });
  const timers: NodeJS.Timeout[] = [];
  deltaDelaysMs.forEach((delay, index) => {
    timers.push(
      setTimeout(() => {
        text += `w${index} `;
        stream.push({ type: "text_delta", contentIndex: 0, delta: `w${index} `, partial: message(text) });
        if (index === deltaDelaysMs.length - 1 && options.finish) {
          stream.push({ type: "done", reason: "stop", message: message(text) });
          stream.end(message(text));
        }
      }, delay),
    );
  });
  options.controller.signal.addEventListener("abort", () => {
    timers.forEach(clearTimeout);
    const aborted = { ...message(text, "aborted"), errorMessage: "Request was aborted" };
    stream.push({ type: "error", reason: "aborted", error: aborted });
    stream.end(aborted);
  });
  return stream;
}

async function attempt(
  deltaDelaysMs: number[],
  timeouts: { firstTokenMs?: number; stallMs?: number },
  finish = true,
  holdsAnswer = false,
) {
  const controller = new AbortController();
  const pushed: AssistantMessageEvent[] = [];
  let commits = 0;
  const outcome = await runAttempt({
    stream: scripted(deltaDelaysMs, { finish, controller }),
    push: (e) => pushed.push(e),
    controller,
    timeouts,
    now: Date.now,
    label: "mock/m",
    onCommit: () => commits++,
    holdsAnswer,
  });
  return { outcome, pushed, commits };
}

describe("runAttempt", () => {
  it("keeps a stream that sends events more often than the stall timeout, however long it runs", async () => {
    // Gaps of 40 ms against a stall timeout of 250 (room for a loaded machine's late timers), over twice as long.
    const every40 = Array.from({ length: 14 }, (_, index) => 20 + 40 * index);
    const { outcome, pushed } = await attempt(every40, { stallMs: 250 });
    assert.equal(outcome.status, "committed");
    assert.equal(outcome.status === "committed" && outcome.final, "done");
    assert.equal(pushed.at(-1)?.type, "done");
  });

  it("fails an attempt that sends nothing within the first-token timeout, before any output reached pi", async () => {
    const { outcome, pushed } = await attempt([400], { firstTokenMs: 80 });
    assert.equal(outcome.status, "failed");
    assert.equal(outcome.status === "failed" && outcome.failure.kind, "timeout");
    assert.deepEqual(pushed, []);
  });

  it("holds an answer its client takes only whole: a stall mid-answer is a failure to fail over from", async () => {
    // Timers far enough apart for a loaded machine: the first word well inside the first-token timeout, the gaps of the
    // whole answer 100 ms inside the stall timeout.
    const stalled = await attempt([10, 1_000], { firstTokenMs: 200, stallMs: 250 }, true, true);
    assert.equal(stalled.outcome.status, "failed");
    assert.equal(stalled.outcome.status === "failed" && stalled.outcome.failure.kind, "timeout");
    assert.match(
      stalled.outcome.message?.content.map((block) => (block.type === "text" ? block.text : "")).join("") ?? "",
      /^w0 $/,
      "the partial answer, for its cost",
    );
    assert.deepEqual(stalled.pushed, [], "nothing reached the client");
    assert.equal(stalled.commits, 0);
    // Past the commit point the first-token deadline is gone: a slow but steady answer is kept, and forwarded whole.
    const whole = await attempt([10, 160, 310, 460], { firstTokenMs: 200, stallMs: 250 }, true, true);
    assert.equal(whole.outcome.status === "committed" && whole.outcome.final, "done");
    assert.equal(whole.commits, 1);
    assert.deepEqual(
      whole.pushed.map((event) => event.type),
      ["start", "text_start", "text_delta", "text_delta", "text_delta", "text_delta", "done"],
    );
  });

  it("ends a committed answer that stalls with a clear error instead of hanging or failing over", async () => {
    const { outcome, pushed } = await attempt([10, 400], { stallMs: 80 }, true);
    assert.equal(outcome.status, "committed");
    assert.equal(outcome.status === "committed" && outcome.final, "error");
    const last = pushed.at(-1)!;
    assert.equal(last.type, "error");
    assert.match(
      last.type === "error" ? (last.error.errorMessage ?? "") : "",
      /no data for 80 ms \(stream stalled\).*cut off/,
    );
    assert.ok(
      pushed.some((e) => e.type === "text_delta"),
      "the text already shown stays",
    );
  });

  it("abandons a target that ignores the abort after the grace time, before and after the commit point", async () => {
    // Neither stream ends when aborted: the first sends nothing, the second one word and then nothing.
    for (const [events, expected] of [
      [[], "failed"],
      [["w0 "], "committed"],
    ] as const) {
      const stream = createAssistantMessageEventStream();
      stream.push({ type: "start", partial: message("") });
      for (const delta of events) stream.push({ type: "text_delta", contentIndex: 0, delta, partial: message(delta) });
      const controller = new AbortController();
      const pushed: AssistantMessageEvent[] = [];
      const outcome = await runAttempt({
        stream,
        push: (event) => pushed.push(event),
        controller,
        timeouts: { firstTokenMs: 40, stallMs: 40 },
        now: Date.now,
        label: "mock/m",
        abandonGraceMs: 30,
      });
      assert.equal(controller.signal.aborted, true, "the target was told to stop first");
      assert.equal(outcome.status, expected);
      if (outcome.status === "failed") assert.equal(outcome.failure.kind, "timeout");
      if (outcome.status === "committed") {
        assert.equal(outcome.final, "error");
        const last = pushed.at(-1)!;
        assert.match(last.type === "error" ? (last.error.errorMessage ?? "") : "", /timed out/);
      }
    }
  });

  it("classifies an error after the commit point once, on the outcome, for the breaker and health to read", async () => {
    const stream = createAssistantMessageEventStream();
    const cut = { ...message("half an ans", "error"), errorMessage: "500 Internal Server Error" };
    stream.push({ type: "start", partial: message("") });
    stream.push({ type: "text_delta", contentIndex: 0, delta: "half an ans", partial: message("half an ans") });
    stream.push({ type: "error", reason: "error", error: cut });
    stream.end(cut);
    const pushed: AssistantMessageEvent[] = [];
    const outcome = await runAttempt({
      stream,
      push: (e) => pushed.push(e),
      controller: new AbortController(),
      timeouts: {},
      now: Date.now,
      label: "mock/m",
    });
    assert.equal(outcome.status === "committed" && outcome.final, "error");
    assert.equal(outcome.status === "committed" && outcome.final === "error" && outcome.failure.kind, "server");
    assert.equal(pushed.at(-1)?.type, "error", "pi sees the target's own error event");
  });

  /** A stream of `deltas` (a text_delta each, whatever their type), never ended: the attempt must stop it itself. */
  function unreadableDeltas(deltas: unknown[]) {
    const stream = createAssistantMessageEventStream();
    stream.push({ type: "start", partial: message("") });
    stream.push({ type: "text_start", contentIndex: 0, partial: message("") });
    for (const delta of deltas)
      stream.push({ type: "text_delta", contentIndex: 0, delta: delta as string, partial: message("") });
    return stream;
  }

  for (const [delta, what] of [
    [undefined, "a text_delta event without its delta"],
    [null, "a text_delta event whose delta is null, not text"],
    [7, "a text_delta event whose delta is a number, not text"],
  ] as const)
    it(`fails over before the commit point from ${what}, and stops the target`, async () => {
      const controller = new AbortController();
      const pushed: AssistantMessageEvent[] = [];
      const outcome = await runAttempt({
        stream: unreadableDeltas([delta]),
        push: (e) => pushed.push(e),
        controller,
        timeouts: { stallMs: 60_000 },
        now: Date.now,
        label: "mock/m",
      });
      assert.equal(outcome.status, "failed");
      assert.equal(outcome.status === "failed" && outcome.failure.kind, "unknown");
      assert.equal(
        outcome.status === "failed" && outcome.failure.message,
        `mock/m: the target sent an event the router could not read (${what})`,
      );
      assert.deepEqual(pushed, [], "nothing reached pi or a client");
      assert.equal(controller.signal.aborted, true, "the target's request is aborted");
    });

  it("cuts off a committed answer at a delta without its text: an error event, never another target's answer", async () => {
    const controller = new AbortController();
    const pushed: AssistantMessageEvent[] = [];
    const outcome = await runAttempt({
      stream: unreadableDeltas(["Hel", undefined]),
      push: (e) => pushed.push(e),
      controller,
      timeouts: { stallMs: 60_000 },
      now: Date.now,
      label: "mock/m",
    });
    assert.equal(outcome.status === "committed" && outcome.final, "error");
    assert.deepEqual(
      pushed.map((event) => event.type),
      ["start", "text_start", "text_delta", "error"],
    );
    const last = pushed.at(-1)!;
    assert.equal(
      last.type === "error" && last.error.errorMessage,
      "auto-router: mock/m: the target sent an event the router could not read (a text_delta event without its delta); the answer was cut off",
    );
    assert.equal(controller.signal.aborted, true);
  });

  it("cuts off a committed answer when passing an event on throws, instead of failing over after output went out", async () => {
    const stream = createAssistantMessageEventStream();
    stream.push({ type: "start", partial: message("") });
    stream.push({ type: "text_delta", contentIndex: 0, delta: "Hel", partial: message("Hel") });
    stream.push({ type: "text_delta", contentIndex: 0, delta: "lo", partial: message("Hello") });
    const pushed: AssistantMessageEvent[] = [];
    const outcome = await runAttempt({
      stream,
      push: (e) => {
        if (e.type === "text_delta" && e.delta === "lo") throw new Error("the reader broke");
        pushed.push(e);
      },
      controller: new AbortController(),
      timeouts: { stallMs: 60_000 },
      now: Date.now,
      label: "mock/m",
    });
    assert.equal(outcome.status === "committed" && outcome.final, "error");
    const last = pushed.at(-1)!;
    assert.equal(
      last.type === "error" && last.error.errorMessage,
      "auto-router: mock/m: the reader broke; the answer was cut off",
    );
  });

  it("names the target where pi-ai reports its own exception reading an answer that arrived, and only then", async () => {
    const run = async (answered: boolean) => {
      const stream = createAssistantMessageEventStream();
      const error = { ...message("", "error"), errorMessage: "Cannot read properties of undefined (reading 'type')" };
      stream.push({ type: "start", partial: message("") });
      stream.push({ type: "error", reason: "error", error });
      stream.end(error);
      return runAttempt({
        stream,
        push: () => {},
        timeouts: {},
        now: Date.now,
        label: "mock/m",
        answered: () => answered,
      });
    };
    const read = await run(true);
    assert.equal(
      read.status === "failed" && read.failure.message,
      "mock/m: the target sent an answer pi-ai could not read (Cannot read properties of undefined (reading 'type'))",
    );
    // Before any response (building the request, say), the words stay as pi-ai gave them.
    const unsent = await run(false);
    assert.equal(
      unsent.status === "failed" && unsent.failure.message,
      "Cannot read properties of undefined (reading 'type')",
    );
  });
});
