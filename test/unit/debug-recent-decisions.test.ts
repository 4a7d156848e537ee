// /auto-router debug's last decisions per route, read from the event log: an answer that broke off or was stopped after
// it started is named as status and explain name it, not "failed by <target>" / "aborted by <target>".
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { recentDecisions } from "../../src/commands/debug-command.ts";

const decision = (id: string) =>
  JSON.stringify({
    v: 3,
    type: "decision",
    ts: "2026-12-05T19:43:59.061Z",
    requestId: id,
    routeId: "chain",
    data: { routeId: "chain", intent: "general", plannedTarget: "mock-a/model-a" },
  });

describe("debug report: recent decisions", () => {
  it("says an answer was cut off (with its failure kind) or stopped, from a v3 final line's steps", () => {
    const cut = JSON.stringify({
      v: 3,
      type: "final",
      ts: "2026-12-05T19:43:59.138Z",
      requestId: "aaaaaaaa-1",
      data: { outcome: "failed", servedTarget: "mock-a/model-a", attempts: 1, failovers: 0 },
      steps: [
        { type: "attempt", data: { attempt: 1, target: "mock-a/model-a" }, ms: -76 },
        {
          type: "result",
          data: { outcome: "failed-after-commit", attempt: 1, target: "mock-a/model-a", failureKind: "network" },
          ms: -1,
        },
      ],
    });
    const stopped = JSON.stringify({
      v: 3,
      type: "final",
      ts: "2026-12-05T19:44:59.138Z",
      requestId: "bbbbbbbb-2",
      data: { outcome: "aborted", servedTarget: "mock-a/model-a", attempts: 1, failovers: 0 },
      steps: [{ type: "result", data: { outcome: "aborted", attempt: 1, target: "mock-a/model-a" }, ms: -1 }],
    });
    const lines = recentDecisions([decision("aaaaaaaa-1"), cut, decision("bbbbbbbb-2"), stopped]).get("chain");
    assert.deepEqual(
      lines?.map((line) => line.slice(line.indexOf("): ") + 3)),
      [
        "cut off: the answer from mock-a/model-a broke off after it started (network)",
        "aborted: the answer from mock-a/model-a was stopped after it started",
      ],
    );
  });

  it("reads the served target's result from a line of its own (v1) and keeps `success by` for an answer", () => {
    const result = JSON.stringify({
      v: 1,
      type: "result",
      ts: "2026-12-05T19:43:59.100Z",
      requestId: "cccccccc-3",
      data: { outcome: "failed-after-commit", attempt: 1, target: "mock-a/model-a", failureKind: "timeout" },
    });
    const final = JSON.stringify({
      v: 1,
      type: "final",
      ts: "2026-12-05T19:43:59.138Z",
      requestId: "cccccccc-3",
      data: { outcome: "failed", servedTarget: "mock-a/model-a", attempts: 1, failovers: 0, failureKinds: [] },
    });
    const served = JSON.stringify({
      v: 3,
      type: "final",
      ts: "2026-12-05T19:45:59.138Z",
      requestId: "dddddddd-4",
      data: { outcome: "success", servedTarget: "mock-a/model-a", attempts: 1, failovers: 0 },
      steps: [{ type: "result", data: { outcome: "success", attempt: 1, target: "mock-a/model-a" }, ms: -1 }],
    });
    const lines = recentDecisions([decision("cccccccc-3"), result, final, decision("dddddddd-4"), served]).get("chain");
    assert.match(lines![0]!, /\): cut off: the answer from mock-a\/model-a broke off after it started \(timeout\)$/);
    assert.match(lines![1]!, /\): success by mock-a\/model-a$/);
  });
});
