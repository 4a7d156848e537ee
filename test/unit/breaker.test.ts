// The circuit breaker reducer and its book over a store: when it opens, the one probe, and persistence.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { RecentSuccesses } from "../../src/breaker/recent-successes.ts";
import {
  closedBreaker,
  MAX_WINDOW_SAMPLES,
  reduceBreaker,
  viewBreaker,
  withSuccesses,
  type BreakerEvent,
  type BreakerRecord,
  type BreakerSettings,
} from "../../src/breaker/breaker.ts";
import {
  BreakerBook,
  breakerEventOf,
  breakerSettings,
  breakerStateSchema,
  type BreakerStoreState,
  emptyBreakers,
  SUCCESS_FLUSH_MS,
} from "../../src/breaker/breaker-book.ts";
import { openJsonStore } from "../../src/state/json-store.ts";
import { createMemoryStore } from "../../src/state/memory-store.ts";
import { makeFailure } from "../../src/runtime/classify-failure.ts";
import type { AttemptObservation } from "../../src/runtime/plugin.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const SETTINGS: BreakerSettings = {
  ratio: 0.5,
  minimumCalls: 4,
  windowMs: 60_000,
  breakMs: 10_000,
  maxBreakMs: 35_000,
  probeTimeoutMs: 120_000,
};

function run(events: BreakerEvent[], start: BreakerRecord | undefined = undefined): BreakerRecord {
  return events.reduce<BreakerRecord>(
    (record, event) => reduceBreaker(record, event, SETTINGS),
    start ?? closedBreaker(),
  );
}
const failure = (at: number, probe = false): BreakerEvent => ({ type: "failure", at, probe, kind: "server" });
const success = (at: number, probe = false): BreakerEvent => ({ type: "success", at, probe });

/** Opened at t=4: four failures in a row with minimumCalls 4. */
const openedAtFour = () => run([failure(1), failure(2), failure(3), failure(4)]);

describe("circuit breaker reducer", () => {
  it("stays closed below the minimum number of calls even when every call failed", () => {
    const record = run([failure(1), failure(2), failure(3)]);
    assert.equal(record.state, "closed");
  });

  it("opens once the minimum number of calls is reached and the failure ratio is met", () => {
    const record = openedAtFour();
    assert.equal(record.state, "open");
    assert.equal(record.until, 4 + SETTINGS.breakMs);
  });

  it("stays closed when failures are below the ratio", () => {
    const record = run([success(1), success(2), failure(3), success(4), failure(5), success(6)]);
    assert.equal(record.state, "closed");
  });

  it("forgets calls that slid out of the window", () => {
    const record = run([failure(1), failure(2), failure(3), failure(1 + SETTINGS.windowMs + 10)]);
    assert.equal(record.state, "closed");
    assert.equal(record.samples.length, 1);
  });

  it("ignores neutral results (auth, bad request, abort) entirely", () => {
    const record = run([failure(1), failure(2), failure(3), { type: "neutral", at: 4 }, { type: "neutral", at: 5 }]);
    assert.equal(record.state, "closed");
    assert.equal(record.samples.length, 3);
  });

  it("does not extend the open period when late failures arrive while open", () => {
    const record = run([failure(5_000), failure(9_000)], openedAtFour());
    assert.equal(record.state, "open");
    assert.equal(record.until, 4 + SETTINGS.breakMs);
  });

  it("becomes half-open lazily once the break is over, without any event", () => {
    const record = openedAtFour();
    assert.equal(viewBreaker(record, 4 + SETTINGS.breakMs - 1, SETTINGS).state, "open");
    assert.equal(viewBreaker(record, 4 + SETTINGS.breakMs, SETTINGS).state, "half-open");
  });

  it("admits exactly one probe in half-open: the second claim is refused", () => {
    const due = 4 + SETTINGS.breakMs;
    const first = reduceBreaker(openedAtFour(), { type: "claim-probe", at: due }, SETTINGS);
    assert.equal(first.probeClaimedAt, due);
    const second = reduceBreaker(first, { type: "claim-probe", at: due + 1 }, SETTINGS);
    assert.equal(second.probeClaimedAt, due);
    assert.equal(viewBreaker(second, due + 1, SETTINGS).probeInFlight, true);
  });

  it("keeps half-open when a result of a non-probe request arrives: only the probe decides", () => {
    const due = 4 + SETTINGS.breakMs;
    const claimed = reduceBreaker(openedAtFour(), { type: "claim-probe", at: due }, SETTINGS);
    const afterLate = run([failure(due + 1), success(due + 2)], claimed);
    assert.equal(afterLate.state, "half-open");
    assert.equal(afterLate.probeClaimedAt, due);
  });

  it("closes when the probe succeeds", () => {
    const due = 4 + SETTINGS.breakMs;
    const record = run([{ type: "claim-probe", at: due }, success(due + 5, true)], openedAtFour());
    assert.equal(record.state, "closed");
    assert.deepEqual(record.samples, []);
  });

  it("re-opens with a doubled break when the probe fails, capped at the maximum", () => {
    let record = openedAtFour();
    let at = 4;
    const breaks: number[] = [];
    for (let round = 0; round < 3; round++) {
      at = record.until!;
      record = run([{ type: "claim-probe", at }, failure(at + 1, true)], record);
      assert.equal(record.state, "open");
      breaks.push(record.until! - (at + 1));
    }
    assert.deepEqual(breaks, [20_000, 35_000, 35_000]);
  });

  it("frees the probe slot when the probe ends with a neutral result", () => {
    const due = 4 + SETTINGS.breakMs;
    const record = run(
      [
        { type: "claim-probe", at: due },
        { type: "neutral", at: due + 1, probe: true },
      ],
      openedAtFour(),
    );
    assert.equal(record.state, "half-open");
    assert.equal(viewBreaker(record, due + 2, SETTINGS).probeInFlight, undefined);
  });

  it("frees a probe that never reported back after the probe timeout, so a crashed request cannot wedge it", () => {
    const due = 4 + SETTINGS.breakMs;
    const claimed = reduceBreaker(openedAtFour(), { type: "claim-probe", at: due }, SETTINGS);
    assert.equal(viewBreaker(claimed, due + SETTINGS.probeTimeoutMs - 1, SETTINGS).probeInFlight, true);
    assert.equal(viewBreaker(claimed, due + SETTINGS.probeTimeoutMs, SETTINGS).probeInFlight, undefined);
    const reclaimed = reduceBreaker(claimed, { type: "claim-probe", at: due + SETTINGS.probeTimeoutMs }, SETTINGS);
    assert.equal(reclaimed.probeClaimedAt, due + SETTINGS.probeTimeoutMs);
  });
});

const observation = (outcome: AttemptObservation["outcome"], probe = false): AttemptObservation => ({
  requestId: "r",
  routeId: "main",
  attempt: 1,
  now: 100,
  outcome,
  candidate: {
    key: "p/m",
    provider: "p",
    modelId: "m",
    account: "p",
    label: "p/m",
    declaredIndex: 0,
    bucket: "normal",
    billing: "per-token",
    reasons: [],
    warnings: [],
    probe,
  },
});

describe("what an attempt tells the breaker", () => {
  for (const kind of ["server", "overloaded", "network", "timeout"] as const) {
    it(`counts a ${kind} failure`, () => {
      assert.equal(
        breakerEventOf(observation({ status: "failed", failure: makeFailure(kind, "x"), latencyMs: 1 })).type,
        "failure",
      );
    });
  }
  for (const kind of ["auth", "invalid_request", "context_overflow", "rate_limit", "aborted"] as const) {
    it(`never counts a ${kind} failure`, () => {
      assert.equal(
        breakerEventOf(observation({ status: "failed", failure: makeFailure(kind, "x"), latencyMs: 1 })).type,
        "neutral",
      );
    });
  }
  it("never counts an abort", () => {
    assert.equal(breakerEventOf(observation({ status: "aborted", latencyMs: 1 })).type, "neutral");
  });
  it("counts a finished answer as a success and carries the probe flag", () => {
    const event = breakerEventOf(observation({ status: "committed", final: "done", latencyMs: 1 }, true));
    assert.deepEqual(event, { type: "success", at: 100, probe: true });
  });
});

describe("breaker book", () => {
  const settings = () => SETTINGS;
  it("lets only one of two concurrent requests claim the half-open probe", () => {
    const book = new BreakerBook(createMemoryStore(emptyBreakers()), settings);
    for (let at = 1; at <= 4; at++) book.apply("p/m", failure(at));
    const due = 4 + SETTINGS.breakMs;
    assert.equal(book.claimProbe("p/m", due), true);
    assert.equal(book.claimProbe("p/m", due), false);
    assert.deepEqual(book.targetStatus(due)["p/m"], {
      breaker: { state: "half-open", until: 4 + SETTINGS.breakMs, probeInFlight: true },
    });
  });

  it("ends an open breaker written by a clock that ran ahead after its own break from now, and keeps it so bounded", () => {
    const store = createMemoryStore(emptyBreakers());
    const now = 1_000_000;
    // Another machine's clock was an hour ahead (or the file was edited): its breaker would keep the target out for an
    // hour and ten seconds.
    const ahead = {
      state: "open" as const,
      samples: [],
      until: now + 3_600_000 + 10_000,
      breakMs: 10_000,
      openedAt: now + 3_600_000,
    };
    store.update(() => ({
      v: 1,
      breakers: { "p/m": ahead, "q/m": { ...ahead, breakMs: undefined, until: now + 1e12 } },
    }));
    const book = new BreakerBook(store, settings);
    assert.deepEqual(book.targetStatus(now)["p/m"]?.breaker, { state: "open", until: now + 10_000 });
    assert.equal(store.read().breakers["p/m"]!.until, now + 10_000, "written back bounded, so it runs out from here");
    // Without its own break, the longest the settings allow.
    assert.equal(store.read().breakers["q/m"]!.until, now + SETTINGS.maxBreakMs);
    assert.equal(book.targetStatus(now + 5_000)["p/m"]?.breaker?.until, now + 10_000, "not bounded anew at each read");
    assert.equal(book.targetStatus(now + 10_000)["p/m"]?.breaker?.state, "half-open");
    assert.equal(book.claimProbe("p/m", now + 10_000), true);
  });

  it("keeps a quiet breaker's successes in memory and counts them when a failure comes", () => {
    const store = createMemoryStore(emptyBreakers());
    const book = new BreakerBook(store, settings);
    for (let at = 1; at <= 3; at++) book.apply("p/m", success(at));
    assert.deepEqual(store.read().breakers, {}, "a success on a quiet closed breaker writes nothing");
    assert.deepEqual(
      book.rows(3).map((row) => [row.key, row.calls, row.failures]),
      [["p/m", 3, 0]],
    );
    book.apply("p/m", failure(4));
    assert.deepEqual(store.read().breakers["p/m"]?.samples, [
      { at: 1, failed: false },
      { at: 2, failed: false },
      { at: 3, failed: false },
      { at: 4, failed: true },
    ]);
    assert.equal(book.rows(4)[0]?.state, "closed", "1 failure in 4 calls stays under the ratio");
    // Without the three successes, four failures open it; with them, it takes four failures in seven calls.
    for (let at = 5; at <= 7; at++) book.apply("p/m", failure(at));
    assert.equal(book.rows(7)[0]?.state, "open");
  });

  it("writes the successes it kept for the other processes when closing, and while they keep coming", () => {
    const store = createMemoryStore(emptyBreakers());
    const book = new BreakerBook(store, settings);
    // Another process's failure is in the store already; this one's successes are not judged against it yet.
    store.update(() => ({ v: 1, breakers: { "p/m": run([failure(5)]) } }));
    const quiet = new BreakerBook(store, settings);
    quiet.apply("q/m", success(1));
    quiet.apply("q/m", success(2));
    assert.equal(store.read().breakers["q/m"], undefined, "nothing written per request");
    quiet.flushSuccesses(3);
    assert.deepEqual(store.read().breakers["q/m"]?.samples, [
      { at: 1, failed: false },
      { at: 2, failed: false },
    ]);
    // Merged in time order with what the store holds.
    assert.deepEqual(withSuccesses(store.read().breakers["p/m"], [{ at: 2, failed: false }], 6, SETTINGS)?.samples, [
      { at: 2, failed: false },
      { at: 5, failed: true },
    ]);
    // An open breaker takes none (as late results change nothing).
    const opened = run([failure(1), failure(2), failure(3), failure(4)]);
    assert.equal(withSuccesses(opened, [{ at: 5, failed: false }], 6, SETTINGS), opened);
    // While successes keep coming they are written at most every SUCCESS_FLUSH_MS (here a quarter of the window).
    const every = Math.min(SUCCESS_FLUSH_MS, SETTINGS.windowMs / 4);
    book.apply("r/m", success(1_000));
    book.apply("r/m", success(1_000 + every - 1));
    assert.equal(store.read().breakers["r/m"], undefined);
    book.apply("r/m", success(1_000 + every));
    assert.equal(store.read().breakers["r/m"]?.samples.length, 3);
  });

  it("forgets unwritten successes that left the window or exceed the sample cap", () => {
    const book = new BreakerBook(createMemoryStore(emptyBreakers()), settings);
    for (let at = 1; at <= MAX_WINDOW_SAMPLES + 50; at++) book.apply("p/m", success(at));
    assert.equal(book.rows(MAX_WINDOW_SAMPLES + 50)[0]?.calls, MAX_WINDOW_SAMPLES);
    book.apply("p/m", success(SETTINGS.windowMs + 100));
    // Kept were the successes at 51..250; at windowMs + 100 those at or before 100 left the window.
    assert.equal(book.rows(SETTINGS.windowMs + 100)[0]?.calls, 151);
  });

  it("keeps the newest successes of a ring, oldest first", () => {
    const ring = new RecentSuccesses(3);
    for (const at of [10, 20, 30, 40]) ring.add(at, 1_000);
    assert.deepEqual(
      ring.samples().map((sample) => sample.at),
      [20, 30, 40],
    );
    ring.add(1_025, 1_000);
    assert.deepEqual(
      ring.samples().map((sample) => sample.at),
      [30, 40, 1_025],
      "20 is out of the window (<= 25)",
    );
    ring.add(2_100, 1_000);
    assert.deepEqual(ring.samples(), [{ at: 2_100, failed: false }]);
    assert.equal(ring.size, 1);
  });

  it("refuses a probe while open and allows any request on a closed breaker", () => {
    const book = new BreakerBook(createMemoryStore(emptyBreakers()), settings);
    assert.equal(book.claimProbe("p/m", 1), true);
    for (let at = 1; at <= 4; at++) book.apply("p/m", failure(at));
    assert.equal(book.claimProbe("p/m", 5), false);
  });

  it("keeps an open breaker across a restart of the process", async () => {
    const dir = freshDir("breaker");
    try {
      const file = join(dir, "auto-router.breakers.json");
      const open = () =>
        openJsonStore({ file, defaults: emptyBreakers, parse: (raw) => breakerStateSchema.parse(raw) });
      const first = open();
      const book = new BreakerBook(first, settings);
      for (let at = 1; at <= 4; at++) book.apply("p/m", failure(at));
      await first.close();
      const second = open();
      const reopened = new BreakerBook(second, settings);
      assert.equal(reopened.targetStatus(5)["p/m"]?.breaker?.state, "open");
      assert.equal(reopened.targetStatus(5)["p/m"]?.breaker?.until, 4 + SETTINGS.breakMs);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lets one of two processes on one breakers file take the half-open probe, though both read it free", async () => {
    const dir = freshDir("breaker");
    const stores: ReturnType<typeof openJsonStore<BreakerStoreState>>[] = [];
    try {
      const file = join(dir, "auto-router.breakers.json");
      // Two pi windows (or a window and the gateway): each its own store on the file, no background refresh.
      const open = () => {
        const store = openJsonStore({
          file,
          defaults: emptyBreakers,
          parse: (raw) => breakerStateSchema.parse(raw),
          refreshIntervalMs: 0,
        });
        stores.push(store);
        return new BreakerBook(store, settings);
      };
      const gateway = open();
      for (let at = 1; at <= 4; at++) gateway.apply("p/m", failure(at));
      await stores[0]!.flush();
      const window = open();
      const due = 4 + SETTINGS.breakMs;
      for (const book of [gateway, window])
        assert.equal(book.targetStatus(due)["p/m"]?.breaker?.probeInFlight, undefined, "both see the slot free");
      const claims = await Promise.all([gateway.claimProbeShared("p/m", due), window.claimProbeShared("p/m", due)]);
      // Whichever takes the file's lock first gets the slot (on a busy machine, not always the first asked).
      assert.equal(claims.filter(Boolean).length, 1, `exactly one claim granted: ${claims}`);
      const refused = claims[0] ? window : gateway;
      assert.equal(
        refused.targetStatus(due)["p/m"]?.breaker?.probeInFlight,
        true,
        "the refused one now sees the claim",
      );
      assert.equal(await refused.claimProbeShared("p/m", due + 1), false);
    } finally {
      for (const store of stores) await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes settings from the config block and lets AUTO_ROUTER_BREAKER_* variables override them", () => {
    const merged = breakerSettings(
      { breaker: { breakMs: 5_000, minimumCalls: 2 } },
      { AUTO_ROUTER_BREAKER_BREAK_MS: "250" },
    );
    assert.equal(merged.breakMs, 250);
    assert.equal(merged.minimumCalls, 2);
    assert.equal(merged.ratio, 0.5);
    assert.equal(merged.enabled, true);
    assert.deepEqual(merged.problems, []);
  });

  it("leaves out a variable that breaks the routes file's rule for its setting, and says why", () => {
    const merged = breakerSettings(
      { breaker: { breakMs: 5_000 } },
      {
        AUTO_ROUTER_BREAKER_RATIO: "1.5",
        AUTO_ROUTER_BREAKER_MINIMUM_CALLS: "2.5",
        AUTO_ROUTER_BREAKER_WINDOW_MS: "2m",
        AUTO_ROUTER_BREAKER_PROBE_TIMEOUT_MS: "0",
        AUTO_ROUTER_BREAKER_MAX_BREAK_MS: "1000",
        AUTO_ROUTER_BREAKER: "false",
      },
    );
    assert.equal(merged.ratio, 0.5);
    assert.equal(merged.minimumCalls, 5);
    assert.equal(merged.windowMs, 120_000);
    assert.equal(merged.probeTimeoutMs, 0);
    assert.equal(merged.breakMs, 5_000);
    assert.equal(merged.maxBreakMs, 600_000);
    assert.equal(merged.enabled, false);
    assert.deepEqual(merged.problems, [
      'AUTO_ROUTER_BREAKER_RATIO="1.5" is not used: expected a number above 0 and at most 1',
      'AUTO_ROUTER_BREAKER_MINIMUM_CALLS="2.5" is not used: expected a whole number above 0',
      'AUTO_ROUTER_BREAKER_WINDOW_MS="2m" is not used: expected a whole number of milliseconds above 0',
      "AUTO_ROUTER_BREAKER_BREAK_MS / _MAX_BREAK_MS are not used: they would put breakMs (5000) above maxBreakMs (1000)",
    ]);
  });
});
