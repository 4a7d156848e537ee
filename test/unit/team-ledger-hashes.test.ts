// The spend ledger's Redis layout (pure): what an attempt adds to the day and month hashes, and a hash read back
// into the file ledger's format.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LocalSpendLedger } from "../../src/budget/spend-ledger.ts";
import { emptyLedger, emptyTotals, recordUsageOperation, type UsageLedger } from "../../src/budget/usage-ledger.ts";
import { createMemoryStore } from "../../src/state/memory-store.ts";
import {
  applyChanges,
  bucketOfHash,
  changesBetween,
  incrementsOf,
  parsePeriodHashName,
} from "../../src/team/ledger-hashes.ts";

const calendar = { day: "2026-11-29", month: "2026-11" };
const totals = (costUsd: number) => ({
  requests: 1,
  estimated: 0,
  input: 10,
  output: 5,
  cacheRead: 0,
  cacheWrite: 0,
  costUsd,
});

describe("team ledger hashes", () => {
  it("adds each attempt to its model's fields and its provider's total fields, per period hash", () => {
    const increments = incrementsOf([
      { period: "days", key: calendar.day, provider: "p", modelId: "m:free", totals: totals(0.25) },
      { period: "months", key: calendar.month, provider: "p", modelId: "m:free", totals: totals(0.25) },
    ]);
    assert.deepEqual(
      increments.map((entry) => entry.name),
      ["usage:day:2026-11-29", "usage:month:2026-11"],
    );
    assert.equal(increments[0]!.fields["p|m:free|costUsd"], "0.25");
    assert.equal(increments[0]!.fields["p|*|costUsd"], "0.25");
    assert.equal(increments[0]!.fields["p|*|requests"], "1");
    assert.equal(increments[0]!.fields["p|m:free|cacheRead"], undefined, "zero amounts are not sent");
    assert.deepEqual(parsePeriodHashName("par:x:usage:month:2026-11"), { period: "months", key: "2026-11" });
  });

  it("reads a hash back into the ledger's bucket, without the provider totals", () => {
    const bucket = bucketOfHash({
      "p|m|costUsd": "0.30000000000000004",
      "p|m|requests": "3",
      "p|*|costUsd": "0.3",
      "p|a|b|requests": "1",
    });
    assert.deepEqual(Object.keys(bucket.p!).sort(), ["a|b", "m"]);
    assert.equal(bucket.p!.m!.costUsd, 0.3);
    assert.equal(bucket.p!.m!.requests, 3);
  });

  it("reads providers and models named __proto__ or constructor as names, changing no other object", () => {
    // Before, `bucket["__proto__"] ??= {}` was Object.prototype: a field of Redis set `Object.prototype.m`.
    const bucket = bucketOfHash({
      "__proto__|m|costUsd": "0.25",
      "constructor|toString|requests": "2",
      "p|__proto__|requests": "1",
    });
    assert.deepEqual(Object.keys(bucket).sort(), ["__proto__", "constructor", "p"]);
    assert.equal(Object.getOwnPropertyDescriptor(bucket, "__proto__")?.value.m.costUsd, 0.25);
    assert.equal(Object.getOwnPropertyDescriptor(bucket, "constructor")?.value.toString.requests, 2);
    assert.equal(Object.getOwnPropertyDescriptor(bucket.p, "__proto__")?.value.requests, 1);
    assert.equal(({} as Record<string, unknown>).m, undefined);
    assert.equal(typeof Object.prototype.toString, "function");
    const written = JSON.parse(JSON.stringify(bucket));
    assert.equal(Object.getOwnPropertyDescriptor(written, "__proto__")?.value.m.costUsd, 0.25, "written as a name");
  });

  it("reads a field out of any real range as none and says so, the largest one as it is", () => {
    const unread: string[] = [];
    const bucket = bucketOfHash(
      { "p|m|costUsd": "9e15", "p|m|requests": "-1", "p|m|input": "1e15", "p|m|output": "inf" },
      (field, value) => unread.push(`${field}=${value}`),
    );
    assert.deepEqual(bucket.p!.m, { ...emptyTotals(), input: 1e15 });
    assert.deepEqual(unread.sort(), ["p|m|costUsd=9e15", "p|m|output=inf", "p|m|requests=-1"]);
  });

  it("keeps a model's field of a metric a newer version counts, read from its hash, through this version's additions", () => {
    const bucket = bucketOfHash({
      "p|m|costUsd": "0.5",
      "p|m|reasoning": "40",
      "p|*|reasoning": "40",
      "p|m|note": "not a number",
    });
    assert.deepEqual(bucket.p!.m, { ...emptyTotals(), costUsd: 0.5, reasoning: 40 });
    const ledger: UsageLedger = { ...emptyLedger(), days: { [calendar.day]: bucket } };
    const next = applyChanges(ledger, [
      { period: "days", key: calendar.day, provider: "p", modelId: "m", totals: totals(0.25) },
    ]);
    assert.deepEqual(next.days[calendar.day]!.p!.m, { ...totals(0.75), reasoning: 40 });
  });

  it("turns any other update of the ledger into the changes it made (the legacy import)", () => {
    const before = recordUsageOperation(calendar, "p", "m", totals(1))(emptyLedger());
    const after = recordUsageOperation(
      calendar,
      "p",
      "m",
      totals(0.5),
    )(recordUsageOperation(calendar, "q", "n", totals(2))(before));
    const changes = changesBetween(before, after);
    assert.equal(changes.length, 4);
    const replayed: UsageLedger = applyChanges(before, changes);
    assert.deepEqual(replayed.days, after.days);
    assert.deepEqual(replayed.months, after.months);
  });

  it("checks a hard budget against the spend plus the reservations open in the ledger (file store)", async () => {
    const store = createMemoryStore(recordUsageOperation(calendar, "p", "m", totals(0.5))(emptyLedger()));
    const ledger = new LocalSpendLedger(store);
    const ask = (id: string, now = 0) =>
      ledger.reserve({ id, provider: "p", calendar, amountUsd: 0.4, dailyUsd: 1, ttlMs: 1_000, now });
    assert.equal(await ask("a"), undefined);
    assert.match(
      (await ask("b"))?.reason ?? "",
      /spent \$0\.50 \+ in flight \$0\.40 \+ this request ~\$0\.40 exceeds \$1\.00/,
    );
    assert.match((await ask("c", 999))?.reason ?? "", /in flight \$0\.40 /);
    assert.equal(await ask("d", 1_000), undefined, "the first reservation expired");
    ledger.release("d");
    ledger.record({ id: "a", calendar, provider: "p", modelId: "m", totals: totals(0.1) });
    assert.equal(await ask("e", 1_000), undefined, "$0.60 spent, nothing in flight");
  });
});
