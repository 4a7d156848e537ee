// A spend ledger cut short under several processes: the one that repairs it rewrites it from its own view, marked as
// a repair; every other process puts back what its earlier view held beyond that repair (keepViewedSpend), once.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  emptyLedger,
  emptyTotals,
  KEEP_DAYS,
  keepViewedSpend,
  parseLedger,
  providerSpend,
  recordUsageOperation,
  salvageLedger,
  type UsageLedger,
} from "../../src/budget/usage-ledger.ts";
import { openJsonStore, type JsonStoreOptions, type StoreWarning } from "../../src/state/json-store.ts";
import { freshDir } from "../helpers/temp-and-workers.ts";

const KEYS = { day: "2026-12-05", month: "2026-12" };
const ZONE = "Europe/Berlin";
const answer = { ...emptyTotals(), requests: 1, input: 12, output: 7, costUsd: 0.026 };

/** A ledger on ZONE's calendar holding `count` answers of provider p's model m today. */
function ledgerOf(count: number, extra: Partial<UsageLedger> = {}): UsageLedger {
  let ledger: UsageLedger = { ...emptyLedger(), timeZone: ZONE, ...extra };
  for (let index = 0; index < count; index++) ledger = recordUsageOperation(KEYS, "p", "m", answer)(ledger);
  return ledger;
}

const requests = (ledger: UsageLedger): [number, number] => {
  const spend = providerSpend(ledger, KEYS, "p");
  return [spend.day.requests, spend.month.requests];
};
const repaired = (ledger: UsageLedger, id: string): UsageLedger =>
  parseLedger.growing!.repaired(ledger, id) as UsageLedger;

describe("keepViewedSpend", () => {
  it("takes a file that no repair marked as it is, whatever the view holds", () => {
    const disk = ledgerOf(2);
    assert.equal(keepViewedSpend(disk, ledgerOf(5)), disk);
  });

  it("adds what a view from before the repair held beyond the repair's baseline, to spend written since", () => {
    // Repaired from a view of 3 answers; the repairing window then answered 3 more. The view held 6.
    const base = repaired(ledgerOf(3), "r1");
    let disk = base;
    for (let index = 0; index < 3; index++) disk = recordUsageOperation(KEYS, "p", "m", answer)(disk);
    const merged = keepViewedSpend(disk, ledgerOf(6));
    assert.deepEqual(requests(merged), [9, 9]);
    assert.equal(merged.days[KEYS.day]!.p!.m!.costUsd, 0.234);
    assert.equal(merged.repair?.id, "r1", "still the same repair");
    assert.equal(merged.repair!.days[KEYS.day]!.p!.m!.requests, 6, "the baseline raised to the view");
    // A third window whose view held the same 6: nothing more. One that held a seventh answer of its own: that one.
    assert.equal(keepViewedSpend(merged, ledgerOf(6)), merged);
    assert.deepEqual(requests(keepViewedSpend(merged, ledgerOf(7))), [10, 10]);
  });

  it("takes the file as it is for a view from after the repair, or on another calendar", () => {
    const disk = repaired(ledgerOf(3), "r1");
    assert.equal(keepViewedSpend(disk, { ...ledgerOf(6), repair: disk.repair }), disk);
    assert.equal(keepViewedSpend(disk, { ...ledgerOf(6), timeZone: "Asia/Tokyo" }), disk);
    const teamMirror = repaired({ ...ledgerOf(3), timeZone: undefined }, "r1");
    assert.equal(keepViewedSpend(teamMirror, { ...ledgerOf(6), timeZone: undefined }), teamMirror);
  });

  it("keeps the file's reservations, adds the view's imports and leaves days older than those kept pruned", () => {
    const open = { provider: "p", amountUsd: 1, expiresAt: 10 };
    const disk = repaired(ledgerOf(1, { reservations: { mine: open } }), "r1");
    const old = Object.fromEntries(
      Array.from({ length: KEEP_DAYS }, (_, day) => [`2026-09-${String(day + 1).padStart(2, "0")}`, {}]),
    );
    const fullDisk = { ...disk, days: { ...old, ...disk.days } };
    delete (fullDisk.days as Record<string, unknown>)["2026-09-01"];
    const view = ledgerOf(2, { reservations: { ended: open }, migratedFrom: ["auto-router.stats.json"] });
    const merged = keepViewedSpend(fullDisk, { ...view, days: { "2026-09-01": { p: { m: answer } }, ...view.days } });
    assert.deepEqual(merged.reservations, { mine: open });
    assert.deepEqual(merged.migratedFrom, ["auto-router.stats.json"]);
    assert.deepEqual(requests(merged), [2, 2]);
    assert.equal(Object.hasOwn(merged.days, "2026-09-01"), false, "a pruned day stays pruned");
    assert.equal(Object.keys(merged.days).length, KEEP_DAYS);
  });

  it("reads a marked ledger back, and salvage drops a damaged mark alone", () => {
    const disk = repaired(ledgerOf(2), "r1");
    assert.deepEqual(parseLedger(JSON.parse(JSON.stringify(disk))), disk);
    const salvaged = salvageLedger({ ...JSON.parse(JSON.stringify(disk)), repair: { id: 7 } });
    assert.equal(salvaged.repair, undefined);
    assert.deepEqual(requests(salvaged), [2, 2]);
  });
});

describe("the spend ledger's file store cut short under two processes", () => {
  const options = (file: string, warnings: StoreWarning[]): JsonStoreOptions<UsageLedger> => ({
    file,
    defaults: emptyLedger,
    parse: parseLedger,
    salvage: salvageLedger,
    onWarning: (warning) => warnings.push(warning),
    flushDelayMs: 60_000,
    refreshIntervalMs: 0,
  });
  const record = recordUsageOperation(KEYS, "p", "m", answer);
  const onDisk = (file: string) => parseLedger(JSON.parse(readFileSync(file, "utf8")));

  it("keeps every answer: the repair from an older view is marked, and the other process puts its spend back", async () => {
    const dir = freshDir("auto-router-ledger-repair");
    const file = join(dir, "auto-router.usage.json");
    const firstWarnings: StoreWarning[] = [];
    const secondWarnings: StoreWarning[] = [];
    const first = openJsonStore(options(file, firstWarnings));
    const second = openJsonStore(options(file, secondWarnings));
    first.update((ledger) => ({ ...ledger, timeZone: ZONE }));
    for (let index = 0; index < 3; index++) first.update(record);
    await first.flush();
    for (let index = 0; index < 3; index++) second.update(record);
    await second.flush(); // the file: 6 answers; the first's view: its own 3
    writeFileSync(file, readFileSync(file).subarray(0, 200));
    first.update(record);
    await first.flush(); // repairs from its view: 3, plus its fourth
    assert.deepEqual(requests(onDisk(file)), [4, 4]);
    assert.ok(onDisk(file).repair, "the rewrite is marked as a repair");
    await second.refresh(); // writes back its 3 at once
    assert.deepEqual(requests(onDisk(file)), [7, 7]);
    assert.deepEqual(requests(second.read()), [7, 7]);
    second.update(record);
    await second.flush();
    await first.refresh();
    assert.deepEqual(requests(first.read()), [8, 8], "the repairing process adopts the merged file, nothing twice");
    assert.deepEqual(requests(onDisk(file)), [8, 8]);
    assert.equal(firstWarnings.length, 1, "the repair's one warning");
    assert.match(firstWarnings[0]!.message, /moved aside to .*corrupt-.* and rewritten from this process's last view/);
    assert.deepEqual(secondWarnings, []);
    assert.equal(readdirSync(dir).filter((name) => name.includes(".corrupt-")).length, 1);
    await Promise.all([first.close(), second.close()]);
  });

  it("leaves a store without a merge as today: the repairing process's view wins", async () => {
    const dir = freshDir("auto-router-plain-repair");
    const file = join(dir, "auto-router.tally.json");
    type Tally = { count: number };
    const plain = (): JsonStoreOptions<Tally> => ({
      file,
      defaults: () => ({ count: 0 }),
      parse: (raw) => ({ count: Number((raw as Tally).count) }),
      flushDelayMs: 60_000,
      refreshIntervalMs: 0,
      onWarning: () => undefined,
    });
    const first = openJsonStore(plain());
    const second = openJsonStore(plain());
    first.update((state) => ({ count: state.count + 1 }));
    await first.flush();
    second.update((state) => ({ count: state.count + 1 }));
    await second.flush();
    writeFileSync(file, "{");
    first.update((state) => ({ count: state.count + 1 }));
    await first.flush();
    await second.refresh();
    assert.deepEqual(second.read(), { count: 2 });
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { count: 2 });
    await Promise.all([first.close(), second.close()]);
  });
});
