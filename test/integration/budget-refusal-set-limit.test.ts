// A hard budget's refusal against a limit set by command says so, as the audit's texts do: the routes file holds no
// limit, so whoever reads the refusal must learn where the limit comes from. Through real pi (SDK in-process, faux
// targets that report usage priced by their model cost).
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const PRICED = { input: 100, output: 100, cacheRead: 100, cacheWrite: 100 };

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

describe("a hard budget refusing against a limit set by command, through pi", () => {
  it("names the command in the budget table's BLOCKED line, the status warning and the status line", async () => {
    harness = await createSdkHarness({
      targets: [
        { provider: "mock-a", models: [{ id: "model-a", cost: PRICED }] },
        { provider: "mock-b", models: [{ id: "model-b", cost: PRICED }] },
      ],
      routes: {
        routes: {
          main: {
            sortBy: "config",
            targets: [
              { provider: "mock-a", modelId: "model-a" },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
        },
        budgets: { policy: "hard" },
      },
    });
    const h = harness;
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("first answer"), fauxAssistantMessage("second answer")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B serves")]);
    await h.prompt("one");
    await h.prompt("two");
    // The spend as the ledger prices it (faux targets report tokens, not cost).
    const before = await h.command("/auto-router budget");
    const spent = Number(/^mock-a +today +\$([\d.]+) /m.exec(before)?.[1]);
    assert.ok(spent > 0, before);
    // Half a request's average cost left: the spend is under the limit, the next request's estimate does not fit.
    await h.command(`/auto-router budget set mock-a ${spent * 1.25}`);
    await h.prompt("three");
    assert.equal(h.lastAssistant().provider, "mock-b", "mock-a's hard budget refused the request");
    // The attempt's own refusal (explain's refused target, the final error when nothing else serves) names it too.
    const explained = await h.command("/auto-router explain");
    assert.match(
      explained,
      /hard daily budget: spent \$[\d.]+ \+ in flight \$[\d.]+ \+ this request ~\$[\d.]+ exceeds \$[\d.]+ set with \/auto-router budget set/,
      explained,
    );

    const budget = await h.command("/auto-router budget");
    assert.match(
      budget,
      /^mock-a: BLOCKED: a request's estimate ~\$[\d.]+ does not fit the \$[\d.]+ left of its hard daily limit \$[\d.]+ set with \/auto-router budget set \(spent \$[\d.]+, in flight \$0\.00; last refused \d+s ago\)$/m,
      budget,
    );
    const status = await h.command("/auto-router status");
    assert.match(
      status,
      /^warnings: (?:.*, )?budget mock-a blocked: a request's estimate ~\$[\d.]+ does not fit the \$[\d.]+ left of its daily limit set with \/auto-router budget set(?:, |$)/m,
      status,
    );
    // The one warning is too long for the line: counted, in the singular.
    const line = h.ui!.statuses.get("auto-router") ?? "";
    assert.match(line, /⚠ 1 warning(?: · |$)/, line);
  });
});
