// A hard budget reserves an attempt's expected cost before it starts, through real pi (SDK in-process, faux targets
// that report usage priced by their model cost). With the file store the reservations live in the usage file (shared
// by the processes on the machine: test/unit/budget-reservations.test.ts, test/e2e/budget-cli.test.ts); the team
// store's atomic version is tested in team-ledger.test.ts and test/e2e/team-mode.test.ts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it, mock } from "node:test";
import { RESERVATION_RENEW_MS, RESERVATION_TTL_MS } from "../../src/budget/budget-plugin.ts";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { LocalSpendLedger, type SpendReservation } from "../../src/budget/spend-ledger.ts";
import { emptyLedger, parseLedger, salvageLedger, type UsageLedger } from "../../src/budget/usage-ledger.ts";
import { openJsonStore } from "../../src/state/json-store.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { until } from "../helpers/event-log.ts";

// $100 per 1M tokens: every token costs exactly $0.0001.
const PRICED = { input: 100, output: 100, cacheRead: 100, cacheWrite: 100 };
const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a", cost: PRICED }] },
  { provider: "mock-b", models: [{ id: "model-b", cost: PRICED }] },
];

/**
 * Sets mock-a's daily limit to 1.5 times what the answer just served cost: its spend stays within the limit, and the next
 * request's reservation (expected to cost about the same again) goes beyond it.
 */
async function limitMockAToOneAndAHalfAnswers(h: SdkHarness): Promise<void> {
  const first = h.lastAssistant().usage;
  const tokens = first.input + first.output + first.cacheRead + first.cacheWrite;
  const limit = Math.round(tokens * 0.0001 * 1.5 * 10_000) / 10_000;
  await h.command(`/auto-router budget set mock-a ${limit} daily`);
}

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

describe("hard budget reservation through pi", () => {
  it("skips a target whose next request is expected to overshoot the hard limit, though the spend alone is within it", async () => {
    const h = (harness = await createSdkHarness({
      targets: TARGETS,
      routes: {
        routes: {
          main: routeInOrder("mock-a/model-a", "mock-b/model-b"),
        },
        budgets: { policy: "hard" },
      },
    }));
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage("first answer from a"),
      fauxAssistantMessage("must not be called"),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("second answer from b")]);
    await h.prompt("first");
    assert.equal(h.lastAssistant().provider, "mock-a");
    const first = h.lastAssistant().usage;
    const firstCost = (first.input + first.output + first.cacheRead + first.cacheWrite) * 0.0001;
    // 1.5 requests' worth: the spend (one request, 67%) is under every warning, two requests are not.
    const limit = Math.round(firstCost * 1.5 * 10_000) / 10_000;
    assert.match(await h.command(`/auto-router budget set mock-a ${limit} daily`), /daily budget for mock-a set/);
    await h.prompt("second");
    const second = h.lastAssistant();
    assert.equal(second.provider, "mock-b", JSON.stringify(second));
    assert.equal(h.faux("mock-a").state.callCount, 1, "mock-a was not called a second time");
    const explain = await h.command("/auto-router explain main");
    assert.match(
      explain,
      /skipped mock-a\/model-a: hard daily budget: spent \$\d\.\d{2,4} \+ in flight \$0\.00 \+ this request ~\$\d\.\d{2,4} exceeds/,
    );
  });

  it("reserves a first request's output too: the prompt alone fits the hard limit, the answer it asks for does not", async () => {
    const h = (harness = await createSdkHarness({
      targets: TARGETS,
      routes: {
        routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") },
        // A short prompt is a few dozen tokens ($0.00x); with the assumed 1,000 output tokens it is over $0.10.
        budgets: { policy: "hard", providers: { "mock-a": { daily: 0.05 } } },
      },
    }));
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("not called")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("from b")]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 0);
    assert.match(
      await h.command("/auto-router explain main"),
      /skipped mock-a\/model-a: hard daily budget: spent \$0\.00 \+ in flight \$0\.00 \+ this request ~\$0\.1\d* exceeds \$0\.05/,
    );
  });

  it("reserves last month's average on the first requests of a month, not the first-request estimate", async () => {
    const h = (harness = await createSdkHarness({
      targets: TARGETS,
      routes: {
        routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") },
        budgets: { policy: "hard", timeZone: "UTC" },
      },
      clock: true,
    }));
    mock.timers.setTime(Date.parse("2026-11-30T12:00:00Z"));
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("november from a"), fauxAssistantMessage("december from a")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("from b")]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().provider, "mock-a");
    const { input, output, cacheRead, cacheWrite } = h.lastAssistant().usage;
    const novemberCost = (input + output + cacheRead + cacheWrite) * 0.0001;
    // A hard daily limit of 1.2 November requests: below a first request's estimate, which adds the 1,000 output
    // tokens it is assumed to ask for ($0.10 at these prices) to its prompt.
    const limit = Math.round(novemberCost * 1.2 * 10_000) / 10_000;
    assert.ok(limit < novemberCost + 0.09, `limit ${limit}`);
    assert.match(await h.command(`/auto-router budget set mock-a ${limit} daily`), /daily budget for mock-a set/);

    h.advanceClock(24 * 3_600_000); // 2026-12-01, 12:00 UTC: nothing spent in December yet
    await h.prompt("hello again");
    assert.equal(h.lastAssistant().provider, "mock-a", await h.command("/auto-router explain main"));
    assert.equal(h.faux("mock-b").state.callCount, 0);
  });

  it("says what to do when the route's only target is refused by its reservation", async () => {
    const h = (harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { solo: routeInOrder("mock-a/model-a") }, budgets: { policy: "hard" } },
    }));
    await h.setModel("auto-router", "solo");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("first answer from a"), fauxAssistantMessage("not called")]);
    await h.prompt("first");
    await limitMockAToOneAndAHalfAnswers(h);
    await h.prompt("second");
    const refused = h.lastAssistant();
    assert.equal(refused.stopReason, "error");
    // Worded as a refusal whose limit is already reached: the hard budget is why, not that nothing is "available now".
    assert.match(
      refused.errorMessage ?? "",
      /^auto-router: every target of route solo is over budget and the budget policy is hard: mock-a\/model-a \(hard daily budget: spent .* exceeds [^)]*\)\. Raise the budget or set budgets\.policy to "soft"\.$/,
    );
    assert.equal(h.faux("mock-a").state.callCount, 1);
  });

  it("explains a request refused at the reservation as refused, its target skipped for budget, with no winner", async () => {
    const h = (harness = await createSdkHarness({
      targets: TARGETS,
      routes: { routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") }, budgets: { policy: "hard" } },
    }));
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("first answer from a"), fauxAssistantMessage("not called")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("not called: ignored by the prompt")]);
    await h.prompt("first");
    await limitMockAToOneAndAHalfAnswers(h);
    await h.prompt("@ignore=mock-b second");
    const refused = h.lastAssistant();
    assert.equal(refused.stopReason, "error");
    assert.match(
      refused.errorMessage ?? "",
      /^auto-router: the targets of route main left for this request are over budget and the budget policy is hard: mock-a\/model-a \(hard daily budget: spent .* exceeds [^)]*\); the others were left out for other reasons: mock-b\/model-b: ignored: mock-b\. Raise the budget/,
    );
    const explain = await h.command("/auto-router explain main");
    assert.match(explain, /^request \w+ on main, .* ago, outcome: refused$/m);
    assert.match(explain, /^Candidates: none$/m);
    assert.match(
      explain,
      /^Skipped:\n(?: {2}- .*\n)* {2}- mock-a\/model-a: budget - hard daily budget: spent .* exceeds /m,
    );
    assert.doesNotMatch(explain, /^(Winner|Ranked first|Attempts):/m);
    // The refusal is shown once, as the skipped target's reason, not again as a note.
    assert.equal(explain.split("hard daily budget").length - 1, 1, explain);
    assert.equal(h.faux("mock-a").state.callCount, 1);
    assert.equal(h.faux("mock-b").state.callCount, 0);
  });

  it("names a target refused at its reservation among those not tried when the route's other target failed", async () => {
    const h = (harness = await createSdkHarness({
      targets: TARGETS,
      routes: {
        routes: { main: routeInOrder("mock-b/model-b", "mock-a/model-a"), solo: routeInOrder("mock-a/model-a") },
        budgets: { policy: "hard" },
      },
    }));
    const { fauxAssistantMessage } = h.fauxHelpers;
    await h.setModel("auto-router", "solo");
    h.faux("mock-a").setResponses([fauxAssistantMessage("first answer from a"), fauxAssistantMessage("not called")]);
    await h.prompt("first");
    await limitMockAToOneAndAHalfAnswers(h);
    await h.setModel("auto-router", "main");
    h.faux("mock-b").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "401 Unauthorized" }),
    ]);
    await h.prompt("second");
    // Before, the text named mock-b's failure alone: mock-a, let through by the decision and refused at its
    // reservation, was not named at all.
    assert.match(
      (h.lastAssistant().errorMessage ?? "").replaceAll("\u2060", ""),
      /^auto-router: no target of route main could serve this request \(mock-b\/model-b: credentials rejected; not tried: mock-a\/model-a: hard daily budget: spent \$[\d.]+ \+ in flight \$0\.00 \+ this request ~\$[\d.]+ exceeds \$[\d.]+ set with \/auto-router budget set\)\. See \/auto-router explain main$/,
    );
    assert.equal(h.faux("mock-a").state.callCount, 1);
  });

  it("keeps a long attempt's reservation past its lifetime, so another process is refused until the attempt ends", async () => {
    const h = (harness = await createSdkHarness({
      targets: TARGETS,
      routes: {
        routes: { solo: routeInOrder("mock-a/model-a") },
        // A first request is expected at its prompt plus an assumed 1,000 output tokens (~$0.10): one fits, two do not.
        budgets: { policy: "hard", timeZone: "UTC", providers: { "mock-a": { daily: 0.15 } } },
      },
      clock: true,
      intervals: true,
    }));
    await h.setModel("auto-router", "solo");
    const { fauxAssistantMessage } = h.fauxHelpers;
    let started!: () => void;
    let finish!: () => void;
    const streaming = new Promise<void>((resolve) => (started = resolve));
    const finished = new Promise<void>((resolve) => (finish = resolve));
    h.faux("mock-a").setResponses([
      async () => {
        started();
        await finished;
        return fauxAssistantMessage("a long answer");
      },
    ]);
    const file = join(h.agentDir, "extensions", "auto-router.usage.json");
    const reservations = (): UsageLedger["reservations"] =>
      parseLedger(JSON.parse(readFileSync(file, "utf8"))).reservations;
    // Another process on the same agent dir (a second pi window, the gateway): its own store and ledger on the file.
    const otherStore = openJsonStore({
      file,
      defaults: emptyLedger,
      parse: parseLedger,
      salvage: salvageLedger,
      flushDelayMs: 60_000,
      refreshIntervalMs: 0,
    });
    const other = new LocalSpendLedger(otherStore);
    let amountUsd = 0;
    const ask = (id: string): SpendReservation => ({
      id,
      provider: "mock-a",
      calendar: calendarKeys(Date.now(), "UTC"),
      amountUsd,
      dailyUsd: 0.15,
      ttlMs: RESERVATION_TTL_MS,
      now: Date.now(),
    });
    try {
      const running = h.prompt("think for a long time");
      await streaming;
      const [id, opened] = Object.entries(reservations())[0] ?? [];
      assert.ok(id && opened, "the attempt holds a reservation while it streams");
      // The other process's request fits the limit beside the answer (a few hundred tokens), not beside the reservation.
      amountUsd = Math.round((0.15 - opened.amountUsd + 0.001) * 10_000) / 10_000;
      // Past the reservation's first lifetime, the attempt still streaming: each renewal keeps it open.
      const start = Date.now();
      h.advanceClock(RESERVATION_RENEW_MS + 1);
      h.advanceClock(RESERVATION_RENEW_MS + 1);
      assert.ok(Date.now() > opened.expiresAt);
      await until(() => (reservations()[id]?.expiresAt ?? 0) > Date.now(), "the renewed reservation in the file");
      const renewedUntil = reservations()[id]!.expiresAt;
      assert.ok(renewedUntil >= start + 2 * RESERVATION_RENEW_MS + RESERVATION_TTL_MS, `${renewedUntil - start}`);
      assert.match(
        (await other.reserve(ask("other:1")))?.reason ?? "",
        /^hard daily budget: spent \$0\.00 \+ in flight \$0\.1\d* \+ this request ~\$0\.0\d+ exceeds \$0\.15$/,
      );

      finish();
      await running;
      assert.equal(h.lastAssistant().provider, "mock-a");
      assert.equal(h.lastAssistant().stopReason, "stop");
      await until(() => !Object.hasOwn(reservations(), id), "the ended attempt's reservation gone from the file");
      h.advanceClock(RESERVATION_RENEW_MS + 1); // no renewal opens it again
      assert.equal(
        await other.reserve(ask("other:2")),
        undefined,
        "its answer cost less than it reserved: the other request fits",
      );
      assert.deepEqual(Object.keys(reservations()), ["other:2"]);
    } finally {
      finish();
      await otherStore.close();
    }
  });
});
