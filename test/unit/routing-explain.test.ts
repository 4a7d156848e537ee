import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatDecision, withRefusedCandidates } from "../../src/routing/explain.ts";
import { route } from "../../src/routing/route.ts";
import { routeTargetKey, type Decision, type RoutingSnapshot } from "../../src/routing/types.ts";

const NOW = Date.parse("2026-03-04T12:00:00Z");

function decide(): Decision {
  const snapshot: RoutingSnapshot = {
    config: {
      routes: {
        swe: {
          targets: [
            { provider: "a", modelId: "1", label: "Model A" },
            { provider: "b", modelId: "2", label: "Model B" },
            { provider: "d", modelId: "4" },
          ],
          policyRules: [{ id: "no-c", type: "exclude-provider", providers: ["c"], when: { intent: "creative" } }],
        },
        fast: {
          targets: [
            { provider: "f", modelId: "3", label: "Fast F" },
            { provider: "a", modelId: "1", label: "Model A" },
          ],
        },
      },
      tiers: { fast: { route: "fast" } },
    },
    models: {
      "a/1": { resolvable: true, hasCredentials: true },
      "b/2": { resolvable: true, hasCredentials: true },
      "f/3": { resolvable: true, hasCredentials: true },
    },
    cooldowns: { [routeTargetKey("swe", "a/1")]: { until: NOW + 42_000, kind: "rate_limit", message: "429" } },
    targets: {},
    providers: {},
    budgetPolicy: "soft",
    quotaHard: false,
    timeZone: "UTC",
  };
  return route(
    {
      routeId: "swe",
      features: {
        estimatedTokens: 1_234,
        contextClass: "short",
        hasImages: false,
        hasTools: true,
        intent: "code",
        intentConfidence: 0.8,
      },
    },
    snapshot,
    NOW,
  );
}

describe("formatDecision", () => {
  it("shows the request, the rules with why, the candidates, skipped targets with time left, and the winner", () => {
    const lines = formatDecision(decide(), { now: NOW });
    const text = lines.join("\n");
    assert.match(text, /^Route swe$/m);
    assert.match(text, /~1234 tokens \(short\), intent code \(confidence 0.8\)/);
    assert.match(text, /- no-c \(route\): intent code not in creative/);
    assert.match(text, /1\. Model B \[b\/2\]/);
    assert.match(text, /^ {2}- d\/4: missing-model/m, "a target without a label is named once, not as d/4 [d/4]");
    assert.match(text, /Model A \[a\/1\]: cooldown for 42s - rate_limit: 429/);
    assert.match(text, /^Winner: Model B/m);
  });

  it("says a long time left in the words uvi and status use (50h00m, not 3000 min)", () => {
    const decision = decide();
    const skipped = decision.skipped.map((entry) =>
      entry.until === undefined ? entry : { ...entry, until: NOW + 3000 * 60_000 },
    );
    const text = formatDecision({ ...decision, skipped }, { now: NOW }).join("\n");
    assert.match(text, /Model A \[a\/1\]: cooldown for 50h00m - rate_limit/);
    const minutes = decision.skipped.map((entry) =>
      entry.until === undefined ? entry : { ...entry, until: NOW + 12 * 60_000 - 500 },
    );
    assert.match(formatDecision({ ...decision, skipped: minutes }, { now: NOW }).join("\n"), /cooldown for 12m - /);
  });

  it("gives a skipped target's cooldown as it stood at the decision, and what is left of it now", () => {
    const decision = decide();
    const later = (seconds: number) =>
      formatDecision(decision, { now: NOW + seconds * 1000, decidedAt: NOW }).join("\n");
    assert.match(later(0), /Model A \[a\/1\]: cooldown for 42s - rate_limit/);
    assert.match(later(30), /Model A \[a\/1\]: cooldown for 42s then, 12s left now - rate_limit/);
    assert.match(later(60), /Model A \[a\/1\]: cooldown for 42s then, ended since - rate_limit/);
  });

  it("shows a route switch and the shortcuts used", () => {
    const snapshotDecision = decide();
    assert.equal(snapshotDecision.routeId, "swe");
    const switched: Decision = {
      ...snapshotDecision,
      routeId: "fast",
      trace: { ...snapshotDecision.trace, tokens: ["@fast"], tier: "fast", tierSource: "shortcut" },
    };
    const lines = formatDecision(switched);
    assert.equal(lines[0], "Route swe -> fast");
    assert.ok(lines.includes("Shortcuts: @fast"));
    assert.ok(lines.includes("Tier: fast from shortcut"));
  });

  it("hides unmatched rules on request", () => {
    const lines = formatDecision(decide(), { showUnmatchedRules: false });
    assert.ok(!lines.some((line) => line.includes("no-c")));
  });

  it("says a demoted candidate's stressed quota once, not again as a warning", () => {
    const decision = decide();
    const candidate = decision.candidates[0]!;
    candidate.reasons.push("quota stressed: 5h window 95% used at 60% elapsed, UVI 1.58");
    candidate.warnings.push(
      "quota stressed: 5h window 95% used at 60% elapsed, UVI 1.58",
      "budget: daily $1 of $2 (50%)",
    );
    const line = formatDecision(decision).find((text) => text.includes(candidate.key))!;
    assert.equal(line.split("quota stressed").length - 1, 1, line);
    assert.match(
      line,
      /quota stressed: 5h window 95% used at 60% elapsed, UVI 1\.58; warning: budget: daily \$1 of \$2/,
    );
  });

  it("shows candidates a hard budget refused before any attempt as skipped for budget, with no winner", () => {
    const decision = decide();
    const first = decision.candidates[0]!;
    const shown = withRefusedCandidates(decision, [
      { key: first.key, reason: "hard daily budget: $1 + ~$2 exceeds $2" },
    ]);
    const lines = formatDecision(shown, { now: NOW });
    assert.ok(!lines.some((line) => line.startsWith("Winner:")), lines.join("\n"));
    assert.ok(lines.includes(`  - Model B [b/2]: budget - hard daily budget: $1 + ~$2 exceeds $2`), lines.join("\n"));
    assert.ok(!shown.candidates.some((candidate) => candidate.key === first.key));
    assert.equal(decision.candidates[0], first, "the recorded decision is left as it was");
    assert.equal(withRefusedCandidates(decision, [{ key: "x/9", reason: "never a candidate" }]), decision);
  });
});
