// A plugin whose hook throws: the request goes on, and the warning says its level (stderr shows nothing else).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SILENT_STATUS } from "../../src/engine.ts";
import { CooldownBook, emptyCooldowns } from "../../src/runtime/cooldown-book.ts";
import { emptyLatency, LatencyBook } from "../../src/runtime/latency-book.ts";
import type { RouterCollaborators, RouterPlugin } from "../../src/runtime/plugin.ts";
import { RouterRuntime } from "../../src/runtime/router-runtime.ts";
import { createMemoryStore } from "../../src/state/memory-store.ts";
import type { Candidate } from "../../src/routing/types.ts";
import type { AttemptOutcome } from "../../src/runtime/attempt.ts";
import { makeFailure } from "../../src/runtime/classify-failure.ts";

const candidate = {
  key: "mock-a/model-a",
  provider: "mock-a",
  modelId: "model-a",
  label: "mock-a/model-a",
  declaredIndex: 0,
  bucket: "primary",
  billing: "per-token",
  reasons: [],
  warnings: [],
  account: "mock-a",
} as unknown as Candidate;
const request = { requestId: "r1", routeId: "main", attempts: 1 };

function runtime(options: { plugins?: RouterPlugin[]; collaborators?: RouterCollaborators }) {
  const warnings: string[] = [];
  const router = new RouterRuntime({
    config: () => ({ routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } }),
    cooldowns: new CooldownBook(createMemoryStore(emptyCooldowns())),
    latency: new LatencyBook(createMemoryStore(emptyLatency())),
    status: SILENT_STATUS,
    warn: (text) => warnings.push(text),
    ...options,
  });
  return { router, warnings };
}

describe("a plugin's failure", () => {
  it("is a warning naming the plugin when its attempt-result hook throws", () => {
    const { router, warnings } = runtime({
      plugins: [
        {
          name: "ratings",
          onAttemptResult: () => {
            throw new Error("disk full");
          },
        },
      ],
    });
    const failure = makeFailure("server", "503 Service Unavailable");
    const outcome = { status: "failed", failure, latencyMs: 5 } as unknown as AttemptOutcome;
    router.onAttemptResult(request, candidate, outcome);
    assert.deepEqual(warnings, [
      "auto-router: warning: the ratings plugin failed (disk full); it did not record mock-a/model-a's attempt",
    ]);
  });

  it("is a warning naming the plugin when the budget's check throws, and the attempt goes ahead", async () => {
    const { router, warnings } = runtime({
      collaborators: {
        budget: {
          name: "budget",
          reserveAttempt: () => Promise.reject(new Error("team store gone")),
        },
      },
    });
    assert.equal(await router.reserveAttempt(request, candidate), undefined);
    assert.deepEqual(warnings, [
      "auto-router: warning: the budget plugin failed (team store gone); mock-a/model-a is tried without a budget check",
    ]);
  });

  it("is a warning naming the plugin when the shadow history cannot take a decision, and the decision stands", () => {
    const { router, warnings } = runtime({
      collaborators: {
        shadow: {
          name: "shadow",
          shadowMode: () => true,
          onDecision: () => {
            throw new Error("store closed");
          },
        },
      },
    });
    const decision = router.decide("r1", "main", { messages: [] }, undefined, Date.now());
    assert.equal(decision.routeId, "main");
    assert.deepEqual(warnings, [
      "auto-router: warning: the shadow plugin failed (store closed); this decision is left out of its history",
    ]);
  });
});
