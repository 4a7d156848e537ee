// A provider that cannot serve however its checks went (no credentials, no model pi knows): `/auto-router health`
// says it is not ok for the same reports the gateway's /health/providers is not ok for.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { healthLine } from "../../src/gateway/health-endpoint.ts";
import {
  type CredentialKind,
  type ProviderHealth,
  providerTargets,
  setupProblem,
  withRestingDirectRoutes,
} from "../../src/health/health-check.ts";
import { formatHealth } from "../../src/health/health-command.ts";

const NOW = Date.UTC(2026, 4, 10, 12, 0, 0);

function report(credentials: CredentialKind, resolvable = true): ProviderHealth {
  return {
    provider: "mock-a",
    credentials,
    consecutiveFailures: 0,
    targets: [{ key: "mock-a/model-a", resolvable, credentials, cooldowns: [], breaker: "closed" }],
  };
}

describe("a provider's setup problem", () => {
  it("is the missing credentials or models, not ok for the gateway either", () => {
    const cases: Array<[ProviderHealth, string | undefined]> = [
      [report("api-key"), undefined],
      [report("oauth"), undefined],
      [report("none"), "no credentials: /login or an API key"],
      [report("none", false), "none of its models is in pi's registry"],
    ];
    for (const [health, problem] of cases) {
      assert.equal(setupProblem(health), problem);
      assert.equal(healthLine(health, NOW).ok, problem === undefined, JSON.stringify(health));
    }
  });

  it("is what the health command shows in place of healthy", () => {
    assert.match(formatHealth([report("api-key")], NOW), /^mock-a: healthy; credentials api-key$/m);
    assert.match(
      formatHealth([report("none")], NOW),
      /^mock-a: NOT OK \(no credentials: \/login or an API key\); credentials none$/m,
    );
    assert.match(
      formatHealth([{ ...report("none"), unhealthy: "3 failed checks in a row" }], NOW),
      /^mock-a: UNHEALTHY \(3 failed checks in a row\); credentials none$/m,
    );
  });
});

describe("health of the gateway's direct provider/model routes", () => {
  it("adds a one-target route for each direct route a target rests on, and nothing for a configured route's rest", () => {
    const config = { routes: { main: { sortBy: "config", targets: [{ provider: "a", modelId: "m" }] } } } as any;
    const rests = {
      "main::a/m": { until: NOW + 1000, kind: "server" },
      "b/vendor/x::b/vendor/x": { until: NOW + 1000, kind: "rate_limit" },
      "(no-model: a/m)::a/m": { until: NOW + 1000, kind: "server" },
    };
    const withDirect = withRestingDirectRoutes(config, rests);
    assert.deepEqual(Object.keys(withDirect.routes), ["main", "b/vendor/x"]);
    assert.deepEqual(withDirect.routes["b/vendor/x"]!.targets, [{ provider: "b", modelId: "vendor/x" }]);
    assert.deepEqual([...providerTargets(withDirect).keys()], ["a", "b"]);
    assert.equal(withRestingDirectRoutes(config, { "main::a/m": rests["main::a/m"] }), config);
  });
});
