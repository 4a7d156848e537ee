// A hard budget's reservations in the shared usage file (file store): two ledgers over two store instances on one
// file stand for two pi processes on one agent dir (each its own memory and lock round trip).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { renewOperation } from "../../src/budget/ledger-reservations.ts";
import { LocalSpendLedger, type SpendReservation } from "../../src/budget/spend-ledger.ts";
import {
  emptyLedger,
  parseLedger,
  providerSpend,
  recordUsageOperation,
  salvageLedger,
  type UsageLedger,
} from "../../src/budget/usage-ledger.ts";
import { openJsonStore, type StateStore, type StoreWarning } from "../../src/state/json-store.ts";
import { freshDir } from "../helpers/temp-and-workers.ts";

const calendar = { day: "2026-11-29", month: "2026-11" };
const TTL_MS = 1_000;
const totals = (costUsd: number) => ({
  requests: 1,
  estimated: 0,
  input: 12,
  output: 7,
  cacheRead: 0,
  cacheWrite: 0,
  costUsd,
});

function openUsage(file: string, warnings: StoreWarning[] = []): StateStore<UsageLedger> {
  return openJsonStore({
    file,
    defaults: emptyLedger,
    parse: parseLedger,
    salvage: salvageLedger,
    onWarning: (warning) => warnings.push(warning),
    // Only the reservations' transactions and explicit flushes write; no background refresh.
    flushDelayMs: 60_000,
    refreshIntervalMs: 0,
  });
}

/** A usage file with $0.50 spent today: a $1.00 daily limit fits one more $0.40 request, not two. */
function usageFile(): string {
  const file = join(freshDir("auto-router-reservations"), "auto-router.usage.json");
  writeFileSync(file, JSON.stringify(recordUsageOperation(calendar, "p", "m", totals(0.5))(emptyLedger())));
  return file;
}

const ask = (id: string, now = 0): SpendReservation => ({
  id,
  provider: "p",
  calendar,
  amountUsd: 0.4,
  dailyUsd: 1,
  ttlMs: TTL_MS,
  now,
});

const onDisk = (file: string): UsageLedger => parseLedger(JSON.parse(readFileSync(file, "utf8")));

describe("hard budget reservations in the usage file", () => {
  it("lets one of two processes' ledgers take the last room; the other counts it as in flight until it is recorded", async () => {
    const file = usageFile();
    const [storeA, storeB] = [openUsage(file), openUsage(file)];
    const [a, b] = [new LocalSpendLedger(storeA), new LocalSpendLedger(storeB)];
    try {
      assert.equal(await a.reserve(ask("a:1")), undefined);
      assert.deepEqual(onDisk(file).reservations, { "a:1": { provider: "p", amountUsd: 0.4, expiresAt: TTL_MS } });
      const refused = await b.reserve(ask("b:1"));
      assert.match(
        refused?.reason ?? "",
        /spent \$0\.50 \+ in flight \$0\.40 \+ this request ~\$0\.40 exceeds \$1\.00/,
      );
      assert.deepEqual(Object.keys(onDisk(file).reservations), ["a:1"], "a refused request reserves nothing");

      a.record({ id: "a:1", calendar, provider: "p", modelId: "m", totals: totals(0.3) });
      await storeA.flush();
      const written = onDisk(file);
      assert.deepEqual(written.reservations, {}, "the usage ended the reservation in the same write");
      assert.equal(providerSpend(written, calendar, "p").day.costUsd, 0.8);
      assert.match((await b.reserve(ask("b:2")))?.reason ?? "", /spent \$0\.80 \+ in flight \$0\.00 \+/);
    } finally {
      await Promise.all([storeA.close(), storeB.close()]);
    }
  });

  it("stops counting a reservation whose process never reported once it expires, and drops it from the file", async () => {
    const file = usageFile();
    const [storeA, storeB] = [openUsage(file), openUsage(file)];
    const [a, b] = [new LocalSpendLedger(storeA), new LocalSpendLedger(storeB)];
    try {
      assert.equal(await a.reserve(ask("crashed:1", 0)), undefined);
      assert.match((await b.reserve(ask("b:1", TTL_MS - 1)))?.reason ?? "", /in flight \$0\.40 /);
      assert.equal(await b.reserve(ask("b:2", TTL_MS)), undefined, "expired at its expiresAt");
      assert.deepEqual(Object.keys(onDisk(file).reservations), ["b:2"]);
    } finally {
      await Promise.all([storeA.close(), storeB.close()]);
    }
  });

  it("renews an open reservation in the file, so another process counts it past its first expiry; an ended or expired one stays ended", async () => {
    const file = usageFile();
    const [storeA, storeB] = [openUsage(file), openUsage(file)];
    const [a, b] = [new LocalSpendLedger(storeA), new LocalSpendLedger(storeB)];
    const renewal = (id: string, now: number) => ({ id, provider: "p", ttlMs: TTL_MS, now });
    try {
      assert.equal(await a.reserve(ask("long:1", 0)), undefined);
      a.renew(renewal("long:1", TTL_MS / 2));
      await storeA.flush();
      assert.equal(onDisk(file).reservations["long:1"]?.expiresAt, TTL_MS / 2 + TTL_MS);
      assert.match((await b.reserve(ask("b:1", TTL_MS + 1)))?.reason ?? "", /in flight \$0\.40 /, "still held");

      a.release("long:1");
      await storeA.flush();
      a.renew(renewal("long:1", TTL_MS));
      await storeA.flush();
      assert.deepEqual(onDisk(file).reservations, {}, "an ended reservation is not opened again");

      assert.equal(await a.reserve(ask("late:1", 2 * TTL_MS)), undefined);
      a.renew(renewal("late:1", 3 * TTL_MS)); // its process slept past its expiry: another may have taken its room
      await storeA.flush();
      assert.equal(onDisk(file).reservations["late:1"]?.expiresAt, 3 * TTL_MS);
      assert.equal(await b.reserve(ask("b:2", 3 * TTL_MS)), undefined, "expired, so not renewed");
    } finally {
      await Promise.all([storeA.close(), storeB.close()]);
    }
  });

  it("ends a released reservation in the file", async () => {
    const file = usageFile();
    const store = openUsage(file);
    const ledger = new LocalSpendLedger(store);
    try {
      assert.equal(await ledger.reserve(ask("a:1")), undefined);
      ledger.release("a:1");
      await store.flush();
      assert.deepEqual(onDisk(file).reservations, {});
      const other = openUsage(file);
      assert.equal(await new LocalSpendLedger(other).reserve(ask("other:1")), undefined);
      await other.close();
    } finally {
      await store.close();
    }
  });

  it("keeps the reservations in the process, with the store's warning, when the usage file cannot be written", async () => {
    const dir = freshDir("auto-router-reservations");
    writeFileSync(join(dir, "not-a-directory"), "");
    const warnings: StoreWarning[] = [];
    const store = openUsage(join(dir, "not-a-directory", "auto-router.usage.json"), warnings);
    const ledger = new LocalSpendLedger(store);
    try {
      store.update(recordUsageOperation(calendar, "p", "m", totals(0.5)));
      assert.equal(await ledger.reserve(ask("a:1")), undefined);
      assert.match((await ledger.reserve(ask("a:2")))?.reason ?? "", /in flight \$0\.40 /);
      ledger.renew({ id: "a:1", provider: "p", ttlMs: TTL_MS, now: TTL_MS / 2 });
      assert.match(
        (await ledger.reserve(ask("a:2", TTL_MS)))?.reason ?? "",
        /in flight \$0\.40 /,
        "renewed in the book",
      );
      ledger.release("a:1");
      assert.equal(await ledger.reserve(ask("a:3", TTL_MS)), undefined, "a released reservation leaves the book");
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
    } finally {
      await store.close();
    }
  });

  it("renews only a reservation open at the time, only later, and leaves the very ledger when there is nothing to renew", () => {
    const open = { provider: "p", amountUsd: 0.4, expiresAt: 1_000 };
    const ledger: UsageLedger = { ...emptyLedger(), reservations: { "a:1": open } };
    assert.deepEqual(renewOperation(500, "a:1", 1_000)(ledger).reservations, { "a:1": { ...open, expiresAt: 1_500 } });
    assert.equal(renewOperation(1_000, "a:1", 1_000)(ledger), ledger, "expired at its expiresAt");
    assert.equal(renewOperation(500, "b:1", 1_000)(ledger), ledger, "ended");
    assert.equal(renewOperation(0, "a:1", 500)(ledger), ledger, "already open longer");
  });

  it("reads a ledger written before reservations as one with none open, and salvages a damaged one as none", () => {
    const older = { version: 1, days: {}, months: {}, migratedFrom: [] };
    assert.deepEqual(parseLedger(older).reservations, {});
    assert.throws(() => parseLedger({ ...older, reservations: { x: { provider: "p", amountUsd: "?" } } }));
    assert.deepEqual(salvageLedger({ ...older, reservations: "damaged" }).reservations, {});
  });
});
