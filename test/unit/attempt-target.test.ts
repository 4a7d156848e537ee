// What one attempt hands its target: the target's own credentials instead of the router's, the caller's other
// options, and an abort signal of the router's own only when a timeout can abort the attempt.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  createAssistantMessageEventStream,
  type Api,
  type AssistantMessage,
  type Model,
  type SimpleStreamOptions,
} from "@mariozechner/pi-ai";
import { attemptTarget, type TargetAttempt } from "../../src/runtime/attempt-target.ts";
import type { StreamFunction } from "../../src/runtime/start-target.ts";
import type { Candidate } from "../../src/routing/types.ts";
import { mockAnswer } from "../helpers/assistant-message.ts";

const model = { id: "m", provider: "mock", api: "faux", contextWindow: 1000 } as unknown as Model<Api>;
const candidate = { key: "mock/m", provider: "mock", modelId: "m", account: "mock" } as Candidate;

const answer = (): AssistantMessage => mockAnswer("hi");

/** Runs one attempt against a target that answers at once, and returns the options the target was started with. */
async function optionsSeenByTarget(
  options: SimpleStreamOptions,
  timeouts: { firstTokenMs: number; stallMs: number },
  isLast: boolean,
): Promise<{ seen: SimpleStreamOptions; status: string }> {
  let seen: SimpleStreamOptions | undefined;
  const stream = ((_model, _context, given) => {
    seen = given;
    const out = createAssistantMessageEventStream();
    out.push({ type: "done", reason: "stop", message: answer() });
    out.end(answer());
    return out;
  }) as StreamFunction;
  const attempt: TargetAttempt = {
    registry: {} as TargetAttempt["registry"],
    target: model,
    auth: { ok: true, apiKey: "target-key", headers: { "x-target": "1", dropped: null } },
    candidate,
    context: { messages: [] },
    options,
    routeId: "auto",
    patch: undefined,
    timeouts: { thinkingStallMs: 0, ...timeouts, requestMs: 0 },
    isLast,
    out: createAssistantMessageEventStream(),
  };
  const outcome = await attemptTarget(
    { routing: { stream }, hooks: {}, clock: { now: Date.now } },
    attempt,
    () => undefined,
  );
  assert.ok(seen, "the target was started");
  return { seen, status: outcome.status };
}

describe("attemptTarget", () => {
  it("starts the target with its own key and headers, the caller's other options, and no SDK retries", async () => {
    const { seen, status } = await optionsSeenByTarget(
      {
        apiKey: "router-virtual-key",
        headers: { authorization: "router" },
        temperature: 0.5,
        maxTokens: 7,
        maxRetries: 3,
      },
      { firstTokenMs: 1000, stallMs: 1000 },
      false,
    );
    assert.equal(status, "committed");
    assert.equal(seen.apiKey, "target-key");
    assert.deepEqual(seen.headers, { "x-target": "1" });
    assert.equal(seen.temperature, 0.5);
    assert.equal(seen.maxTokens, 7);
    assert.equal(seen.maxRetries, 0);
  });

  it("hands the caller's own signal to the target when no timeout can abort the attempt", async () => {
    const user = new AbortController();
    const { seen } = await optionsSeenByTarget({ signal: user.signal }, { firstTokenMs: 1000, stallMs: 0 }, true);
    assert.equal(seen.signal, user.signal);
  });

  it("hands no signal at all when neither the caller nor a timeout has one", async () => {
    const { seen } = await optionsSeenByTarget({}, { firstTokenMs: 0, stallMs: 0 }, false);
    assert.equal(seen.signal, undefined);
  });

  it("hands a signal of its own under a timeout, which the caller's abort still reaches", async () => {
    const user = new AbortController();
    const { seen } = await optionsSeenByTarget({ signal: user.signal }, { firstTokenMs: 0, stallMs: 1000 }, true);
    const targetSignal = seen.signal;
    assert.ok(targetSignal);
    assert.notEqual(targetSignal, user.signal);
    // The relay is removed once the attempt ended: an abort after that no longer reaches the finished target.
    user.abort(new Error("user stop"));
    assert.equal(targetSignal.aborted, false);

    const live = new AbortController();
    let during: AbortSignal | undefined;
    const stream = ((_model, _context, given) => {
      during = given?.signal;
      live.abort(new Error("user stop"));
      const out = createAssistantMessageEventStream();
      out.push({ type: "done", reason: "stop", message: answer() });
      out.end(answer());
      return out;
    }) as StreamFunction;
    await attemptTarget(
      { routing: { stream }, hooks: {}, clock: { now: Date.now } },
      {
        registry: {} as TargetAttempt["registry"],
        target: model,
        auth: { ok: true, apiKey: "k" },
        candidate,
        context: { messages: [] },
        options: { signal: live.signal },
        routeId: "auto",
        patch: undefined,
        timeouts: { firstTokenMs: 1000, stallMs: 1000, thinkingStallMs: 0, requestMs: 0 },
        isLast: false,
        out: createAssistantMessageEventStream(),
      },
      () => undefined,
    );
    assert.ok(during);
    assert.notEqual(during, live.signal);
    assert.equal(during.aborted, true, "the caller's abort reached the target's signal while the attempt ran");
  });

  it("tells the request's hooks of the target's response as a method of theirs, and the caller's own hook too", async () => {
    // The hooks are the runtime's object (router-runtime.ts), whose method reads its own fields.
    class Hooks {
      readonly seen: Array<[string, string, number]> = [];
      onTargetResponse(routeId: string, target: Candidate, response: { status: number }): void {
        this.seen.push([routeId, target.key, response.status]);
      }
    }
    const hooks = new Hooks();
    const callerSaw: number[] = [];
    const stream = ((_model, _context, given) => {
      const out = createAssistantMessageEventStream();
      void (async () => {
        await given?.onResponse?.({ status: 200, headers: {} }, model);
        out.push({ type: "done", reason: "stop", message: answer() });
        out.end(answer());
      })();
      return out;
    }) as StreamFunction;
    const outcome = await attemptTarget(
      { routing: { stream }, hooks, clock: { now: Date.now } },
      {
        registry: {} as TargetAttempt["registry"],
        target: model,
        auth: { ok: true, apiKey: "target-key", headers: {} },
        candidate,
        context: { messages: [] },
        options: { onResponse: (response) => void callerSaw.push(response.status) },
        routeId: "auto",
        patch: undefined,
        timeouts: { thinkingStallMs: 0, firstTokenMs: 0, stallMs: 0, requestMs: 0 },
        isLast: true,
        out: createAssistantMessageEventStream(),
      },
      () => undefined,
    );
    assert.equal(outcome.status, "committed");
    assert.deepEqual(hooks.seen, [["auto", "mock/m", 200]]);
    assert.deepEqual(callerSaw, [200]);
  });
});
