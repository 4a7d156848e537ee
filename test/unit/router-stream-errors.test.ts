// Whatever goes wrong inside the router, pi gets a stream that ends with exactly one error event: it never hangs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Api, AssistantMessageEvent, Model } from "@mariozechner/pi-ai";
import { createRouterStream } from "../../src/runtime/failover-stream.ts";
import { CooldownBook, emptyCooldowns } from "../../src/runtime/cooldown-book.ts";
import type { RequestEnvironment } from "../../src/runtime/request-environment.ts";
import { Stickiness } from "../../src/runtime/stickiness.ts";
import { createMemoryStore } from "../../src/state/memory-store.ts";

const model = { id: "main", name: "main", api: "auto-router", provider: "auto-router" } as unknown as Model<Api>;

function brokenEnvironment(failure: Error, recorded: Array<[string, unknown]> = []): RequestEnvironment {
  return {
    books: { cooldowns: new CooldownBook(createMemoryStore(emptyCooldowns())), sticky: new Stickiness() },
    routing: {
      registry: () => ({
        find: () => undefined,
        hasConfiguredAuth: () => false,
        getApiKeyAndHeaders: async () => ({ ok: false, error: "none" }),
      }),
      config: () => ({ routes: { main: { targets: [{ provider: "x", modelId: "y" }] } } }),
      decide: () => {
        throw failure;
      },
      modelFacts: () => undefined,
    },
    hooks: { claimProbe: () => true, onAttemptResult: () => undefined, onMissingCredentials: () => undefined },
    report: {
      record: (_requestId: string, _routeId: string, type: string, data: unknown) => {
        recorded.push([type, data]);
      },
      status: {
        onAttempt: () => undefined,
        onCommitted: () => undefined,
        onWaiting: () => undefined,
        onFinished: () => undefined,
      },
      warn: () => undefined,
    },
    clock: { now: Date.now, sleep: async () => true, piRetryDelayMs: 2000 },
  };
}

describe("router stream", () => {
  it("ends with one error event naming the internal error when the decision throws", async () => {
    const stream = createRouterStream(brokenEnvironment(new Error("boom in decide")))(model, { messages: [] });
    const events: AssistantMessageEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, "error");
    const message = events[0]!.type === "error" ? events[0]!.error : undefined;
    assert.equal(message?.stopReason, "error");
    assert.equal(message?.errorMessage, "auto-router: internal error: boom in decide");
    assert.equal((await stream.result()).stopReason, "error");
  });

  it("still records the request's final event when the router throws mid-request (the event log writes it then)", async () => {
    const recorded: Array<[string, unknown]> = [];
    const stream = createRouterStream(brokenEnvironment(new Error("boom in decide"), recorded))(model, {
      messages: [],
    });
    for await (const _event of stream);
    assert.deepEqual(
      recorded.map(([type, data]) => [type, (data as { outcome?: string }).outcome]),
      [["final", "failed"]],
    );
  });
});
