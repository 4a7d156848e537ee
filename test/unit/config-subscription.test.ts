import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfigText } from "../../src/config/parse-config.ts";

const parse = (value: unknown) => parseConfigText(JSON.stringify(value));
const withTarget = (extra: Record<string, unknown>) => ({
  routes: { a: { targets: [{ provider: "anthropic", modelId: "m", ...extra }] } },
});

describe("config: per-target patches and retries", () => {
  it("accepts headers, body fields and retryBeforeFailover on a target", () => {
    const result = parse(
      withTarget({
        headers: { "anthropic-beta": "context-1m-2025-08-07" },
        body: { provider: { order: ["anthropic"] } },
        retryBeforeFailover: { times: 2, kinds: ["rate_limit", "server", "overloaded"], maxDelayMs: 5000 },
      }),
    );
    assert.deepEqual(result.issues, []);
    assert.equal(result.config!.routes.a!.targets[0]!.retryBeforeFailover?.times, 2);
  });

  it("refuses a credential header in the routes file and names where it is", () => {
    const result = parse(withTarget({ headers: { Authorization: "Bearer sk-secret-value" } }));
    const issue = result.issues.find((i) => i.path.startsWith("routes.a.targets[0].headers"));
    assert.ok(issue, JSON.stringify(result.issues));
    assert.match(issue.message, /credentials come from pi's login/);
    assert.doesNotMatch(JSON.stringify(result.issues), /sk-secret-value/);
  });

  it("refuses retrying on a quota failure: it never resets within a blip", () => {
    const result = parse(withTarget({ retryBeforeFailover: { times: 1, kinds: ["quota_exhausted"] } }));
    const issue = result.issues.find((i) => i.path.startsWith("routes.a.targets[0].retryBeforeFailover.kinds"));
    assert.ok(issue, JSON.stringify(result.issues));
    assert.match(issue.message, /rate_limit/);
  });
});
