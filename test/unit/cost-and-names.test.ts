import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { agentDirectory } from "../../src/analytics/cli-runner.ts";
import { resolveRouteFilter } from "../../src/analytics/route-names.ts";
import { reconcileUsage } from "../../src/budget/reconcile-usage.ts";
import { parseConfigText } from "../../src/config/parse-config.ts";
import { expandTilde } from "../../src/tilde-path.ts";

const answer = (text: string, usage: Record<string, number>) => ({
  role: "assistant",
  content: [{ type: "text", text }],
  usage: { ...usage, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 } },
  stopReason: "stop",
});

describe("usage not reported", () => {
  it("tells pi-ai's usage of zeros (no report) from a reported zero output", () => {
    const none = reconcileUsage({
      message: answer("x".repeat(400), { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }) as any,
      pricing: { input: 1, output: 2 },
    })!;
    assert.equal(none.output, 100);
    assert.equal(
      none.reason,
      "usage missing (all zero tokens: the provider reported none): output estimated from the text length",
    );
    const zeroOutput = reconcileUsage({
      message: answer("x".repeat(400), { input: 50, output: 0, cacheRead: 0, cacheWrite: 0 }) as any,
      pricing: { input: 1, output: 2 },
    })!;
    assert.match(zeroOutput.reason!, /^zero output tokens for a non-empty answer/);
  });
});

describe("the scripts' names", () => {
  it("expands a leading ~ of PI_CODING_AGENT_DIR as pi does", () => {
    assert.equal(agentDirectory({ PI_CODING_AGENT_DIR: "~/agent" }, "/home/u"), "/home/u/agent");
    assert.equal(agentDirectory({ PI_CODING_AGENT_DIR: "~" }, "/home/u"), "/home/u");
    assert.equal(agentDirectory({ PI_CODING_AGENT_DIR: "~other/agent" }, "/home/u"), "~other/agent");
    assert.equal(agentDirectory({}, "/home/u"), "/home/u/.pi/agent");
    assert.equal(expandTilde("/abs/~/x", "/home/u"), "/abs/~/x");
  });

  it("reads --route auto-router/<alias> as the alias", () => {
    const config = parseConfigText(
      JSON.stringify({
        aliases: { cheap: "main" },
        routes: { main: { targets: [{ provider: "p", modelId: "m" }] } },
      }),
    ).config!;
    const view = { file: "routes.json", config };
    assert.deepEqual(resolveRouteFilter("auto-router/cheap", view), {
      asked: "auto-router/cheap",
      routeId: "main",
      via: "alias",
    });
    assert.deepEqual(resolveRouteFilter("auto-router/main", view), {
      asked: "auto-router/main",
      routeId: "main",
      via: "model-name",
    });
    assert.deepEqual(resolveRouteFilter("auto-router/gone", view), {
      asked: "auto-router/gone",
      routeId: "gone",
      via: "model-name",
    });
  });
});
