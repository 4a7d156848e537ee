// pi's own compaction through a route (real pi, SDK in-process, faux targets): the summary request is no prompt of
// the user's (no intent, no intent rule, none of the prompt's shortcuts), and the prompt pi retries after compacting
// keeps the shortcuts it was typed with.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { eventually } from "../helpers/temp-and-workers.ts";

const TARGETS = [
  { provider: "mock-big", models: [{ id: "model-big", contextWindow: 400_000, reasoning: true }] },
  { provider: "mock-small", models: [{ id: "model-small", contextWindow: 4_000, reasoning: true }] },
];
const target = (key: string) => ({ provider: key.split("/")[0], modelId: key.split("/")[1] });

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

const answered = (h: SdkHarness) =>
  h.events.filter((event) => event.type === "message_end" && event.message.role === "assistant");

describe("pi's compaction on a route", () => {
  it("keeps @reasoning for the prompt pi retries after compacting, and the summary is no prompt of the user's", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: {
        routes: {
          main: { targets: [target("mock-big/model-big")] },
          small: { targets: [target("mock-small/model-small")] },
        },
        tiers: { reasoning: { route: "small" } },
        // A rule for the user's coding prompts: pi's summary of a coding conversation must not fall under it.
        policyRules: [
          { id: "code-to-small", type: "require-provider", providers: ["mock-small"], when: { intent: "code" } },
        ],
      },
      settings: { compaction: { enabled: true, keepRecentTokens: 1 } },
    });
    const h = harness;
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    // The answer, then pi's summaries (the newer pi lines summarise the history and the cut turn's prefix apart).
    h.faux("mock-big").setResponses([
      fauxAssistantMessage("A long answer."),
      fauxAssistantMessage("summary of the conversation"),
      fauxAssistantMessage("summary of the turn's prefix"),
    ]);
    h.faux("mock-small").setResponses([fauxAssistantMessage("from the reasoning tier")]);
    // A coding prompt too long for the reasoning tier's 4k window once it is history: the tier's route refuses it.
    await h.prompt(
      `Fix this TypeScript function: ${"function add(a: number, b: number) { return a - b; } ".repeat(400)}`,
    );
    await h.prompt("@reasoning hi");
    await eventually(
      () => answered(h).some((event) => event.message.stopReason === "stop" && event.message.provider === "mock-small"),
      "the retried prompt answered",
    );
    const compaction = h.events.find((event) => event.type === "compaction_end");
    assert.equal(compaction?.reason, "overflow");
    assert.equal(compaction?.willRetry, true);
    // The retry is the @reasoning prompt: its tier's route served it.
    assert.equal(h.lastAssistant().provider, "mock-small");
    const logged = () => readLoggedEvents(h.agentDir).filter((event) => event.type === "decision");
    const shape = (event: any) => [event.data.routeId ?? event.routeId, event.data.intent, event.data.tier ?? "-"];
    const retried = () => logged().length >= 4 && shape(logged().at(-1))[2] === "reasoning";
    await until(retried, "the retry's decision in the event log");
    const decisions = logged();
    // The coding prompt (its intent hints the swe tier, which has no route here), then @reasoning hi, too long for
    // the tier.
    assert.deepEqual(decisions.slice(0, 2).map(shape), [
      ["main", "code", "swe"],
      ["small", "general", "reasoning"],
    ]);
    // pi's summaries (one, or two on the newer pi lines) went by the route pi runs, unclassified: no intent rule.
    const summaries = decisions.slice(2, -1);
    assert.ok(summaries.length >= 1, `${summaries.length} summary decisions`);
    for (const summary of summaries) {
      assert.deepEqual(shape(summary), ["main", "general", "-"]);
      assert.equal(summary.data.intentConfidence, 0);
      assert.ok(
        !JSON.stringify(summary.data.rules ?? []).includes('"matched":true'),
        `no rule matched the summary: ${JSON.stringify(summary.data.rules)}`,
      );
    }
    // The retry keeps @reasoning.
    assert.deepEqual(shape(decisions.at(-1)), ["small", "general", "reasoning"]);
  });

  it("shows no intent on the status line for pi's summary after /compact, which is no ask of the user's", async () => {
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { main: { targets: [target("mock-big/model-big")] } } },
      settings: { compaction: { enabled: true, keepRecentTokens: 1 } },
    });
    const h = harness;
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    // Two answers, then pi's summaries (the newer pi lines summarise the history and the kept turn's prefix apart).
    h.faux("mock-big").setResponses(
      ["Hello.", "Fixed.", "summary", "summary of the prefix"].map((text) => fauxAssistantMessage(text)),
    );
    await h.prompt("hello");
    await h.prompt("Fix this TypeScript function: function add(a, b) { return a - b; }");
    assert.match(h.ui!.statuses.get("auto-router") ?? "", /· code \d\.\d\d$/);
    await h.session.compact();
    assert.equal(h.ui!.statuses.get("auto-router"), "⇄ main · → mock-big/model-big");
  });
});
