// Thinking on pi's own requests (pi-ai streams) counts as the gateway's passthrough counts it: from its block's start,
// whether or not any of its text has come (a redacted block, or one whose text comes only at its end). That start ends
// the first-token wait, and thinking that goes on 1.5 s commits the answer even when no event comes meanwhile; an
// answer its output limit stopped while the model thought is the target's answer, not an empty one. Real pi (SDK).
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { createAssistantMessageEventStream, type AssistantMessage } from "@mariozechner/pi-ai";
import { zeroUsage } from "../../src/runtime/zero-usage.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a", reasoning: true }] },
  { provider: "mock-b", models: [{ id: "model-b", reasoning: true }] },
];

const routes = (extra: Record<string, unknown> = {}) => ({
  routes: {
    main: {
      sortBy: "config",
      targets: [
        { provider: "mock-a", modelId: "model-a" },
        { provider: "mock-b", modelId: "model-b" },
      ],
      ...extra,
    },
  },
});

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

async function start(extra: Record<string, unknown> = {}) {
  harness = await createSdkHarness({ targets: TARGETS, routes: routes(extra) });
  await harness.setModel("auto-router", "main");
  return harness;
}

/**
 * mock-a's next answers think in silence: a thinking block starts, no event comes for `silentMs` (as pi-ai streams a
 * redacted block, or one whose text comes at its end), then the block ends and the answer's text comes, or the
 * target fails mid-thinking.
 */
function thinkSilently(h: SdkHarness, silentMs: number, then: "answer" | "fail") {
  const faux = h.fauxHelpers.getApiProvider("faux-mock-a");
  const stream = (model: any, _context: unknown, options?: { signal?: AbortSignal }) => {
    const out = createAssistantMessageEventStream();
    const message = (content: AssistantMessage["content"], stopReason: AssistantMessage["stopReason"]) =>
      ({
        role: "assistant",
        content,
        api: model.api,
        provider: model.provider,
        model: model.id,
        usage: zeroUsage(),
        stopReason,
        timestamp: Date.now(),
      }) as AssistantMessage;
    const thinking = { type: "thinking" as const, thinking: "" };
    out.push({ type: "start", partial: message([], "stop") });
    out.push({ type: "thinking_start", contentIndex: 0, partial: message([thinking], "stop") });
    const timer = setTimeout(() => {
      if (then === "fail") {
        const failed = { ...message([thinking], "error"), errorMessage: "529 overloaded_error: Overloaded" };
        out.push({ type: "error", reason: "error", error: failed });
        return out.end(failed);
      }
      const text = { type: "text" as const, text: "Done planning." };
      out.push({ type: "thinking_end", contentIndex: 0, content: "", partial: message([thinking], "stop") });
      out.push({ type: "text_start", contentIndex: 1, partial: message([thinking, { ...text, text: "" }], "stop") });
      out.push({ type: "text_delta", contentIndex: 1, delta: text.text, partial: message([thinking, text], "stop") });
      out.push({ type: "text_end", contentIndex: 1, content: text.text, partial: message([thinking, text], "stop") });
      const done = message([thinking, text], "stop");
      out.push({ type: "done", reason: "stop", message: done });
      out.end(done);
    }, silentMs);
    options?.signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      const aborted = { ...message([thinking], "aborted"), errorMessage: "Request was aborted" };
      out.push({ type: "error", reason: "aborted", error: aborted });
      out.end(aborted);
    });
    return out;
  };
  h.fauxHelpers.registerApiProvider({ ...faux, stream, streamSimple: stream });
}

const textOf = (message: any) =>
  (message?.content ?? [])
    .filter((block: any) => block.type === "text")
    .map((block: any) => block.text)
    .join("");

describe("thinking and the commit point on pi's requests", () => {
  it("ends the first-token wait when a thinking block starts, even before any of its text", async () => {
    const h = await start({ timeouts: { firstTokenMs: 300 } });
    thinkSilently(h, 900, "answer");
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("from B")]);
    await h.prompt("Plan the refactor");
    const answer = h.lastAssistant();
    assert.equal(answer.provider, "mock-a", answer.errorMessage);
    assert.equal(textOf(answer), "Done planning.");
    assert.equal(h.faux("mock-b").state.callCount, 0, "the answer was not paid for twice");
  });

  it("commits thinking 1.5 s after its block started, though no event came: a failure after that is not replayed", async () => {
    const h = await start();
    thinkSilently(h, 1_900, "fail");
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("from B")]);
    await h.prompt("Plan the refactor");
    const answer = h.lastAssistant();
    assert.equal(answer.provider, "mock-a");
    assert.equal(answer.stopReason, "error");
    assert.match(answer.errorMessage, /overloaded/i);
    assert.equal(h.faux("mock-b").state.callCount, 0, "nothing replayed after the commit point");
  });

  it("serves an answer its output limit stopped inside thinking, and still fails over from an empty one", async () => {
    const h = await start();
    const { fauxAssistantMessage, fauxThinking } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([fauxThinking("Let me")], { stopReason: "length" }),
      fauxAssistantMessage([], { stopReason: "length" }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("from B")]);

    await h.prompt("Plan the refactor");
    const stopped = h.lastAssistant();
    assert.equal(stopped.provider, "mock-a");
    assert.equal(stopped.stopReason, "length");
    assert.deepEqual(
      stopped.content.map((block: any) => [block.type, block.thinking]),
      [["thinking", "Let me"]],
    );
    assert.equal(h.faux("mock-b").state.callCount, 0);

    // No block at all is an empty answer, whatever the stop reason says.
    await h.prompt("Again");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(textOf(h.lastAssistant()), "from B");
  });
});
